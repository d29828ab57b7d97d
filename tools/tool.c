/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared message and output helpers for the mplace subcommands.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/util.h"
#include "core/config.h"
#include "machine/topo.h"
#include "tool.h"

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("mplace: error: ", fmt, ap);
	va_end(ap);
}

void tool_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("mplace: warning: ", fmt, ap);
	va_end(ap);
}

void tool_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("hint: ", fmt, ap);
	va_end(ap);
}

void tool_print_json(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

const char *tool_sysfs_root(const char *opt)
{
	const char *env;

	if (opt)
		return opt;
	env = secure_getenv("MPLACE_SYSFS_ROOT");
	return env && *env ? env : NULL;
}

void tool_usage(const char *text, bool error)
{
	fputs(text, error ? stderr : stdout);
}

#define TOOL_MAX_ERRORS 32

static void print_config_errors(const struct mp_config_error *errs, int n)
{
	for (int i = 0; i < n && i < TOOL_MAX_ERRORS; i++) {
		if (errs[i].line)
			tool_error("%s:%u:%u: %s", errs[i].file ? errs[i].file : "?", errs[i].line, errs[i].col,
				   errs[i].msg);
		else
			tool_error("%s: %s", errs[i].file ? errs[i].file : "?", errs[i].msg);
		if (errs[i].hint[0])
			tool_hint("%s", errs[i].hint);
	}
}

int tool_load_config(struct mp_config *cfg, const char *const *files, unsigned n, bool no_config)
{
	struct mp_config_error errs[TOOL_MAX_ERRORS];
	int r;

	for (unsigned i = 0; i < n; i++) {
		r = mp_config_load_file(cfg, files[i], errs, TOOL_MAX_ERRORS);
		if (r != 0) {
			print_config_errors(errs, r < 0 ? 1 : r);
			tool_hint("run 'mplace check %s' to see every error", files[i]);
			return EXIT_FAIL;
		}
	}
	if (n || no_config)
		return EXIT_OK;
	r = mp_config_load_default(cfg, NULL, errs, TOOL_MAX_ERRORS);
	if (r != 0) {
		print_config_errors(errs, r < 0 ? 1 : r);
		tool_hint("run 'mplace check' to see every error, or pass --no-config");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* "0-23,48-71" from a sorted CPU array. */
void tool_cpu_list(const int *cpus, unsigned n, struct mp_sb *b)
{
	for (unsigned i = 0; i < n;) {
		unsigned j = i;

		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		if (i)
			mp_sb_puts(b, ",");
		if (j == i)
			mp_sb_printf(b, "%d", cpus[i]);
		else
			mp_sb_printf(b, "%d-%d", cpus[i], cpus[j]);
		i = j + 1;
	}
}

/* One decimal in binary units: "63.0 GiB". */
void tool_human_size(uint64_t v, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	unsigned u = 0;
	double d = (double)v;

	while (d >= 1024 && u + 1 < MP_ARRAY_SIZE(units)) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", v);
	else
		snprintf(buf, size, "%.1f %s", d, units[u]);
}

int tool_topo_load(const char *root, unsigned skip, struct mp_topo **ret)
{
	struct stat st;
	int r;

	if (root) {
		if (stat(root, &st) < 0) {
			r = -errno;
			tool_error("sysfs root '%s': %s", root, strerror(-r));
			return r;
		}
		if (!S_ISDIR(st.st_mode)) {
			tool_error("sysfs root '%s': not a directory", root);
			return -ENOTDIR;
		}
	}
	r = mp_topo_load_parts(root, skip, ret);
	if (r == -ENOENT) {
		tool_error("no NUMA node directory under '%s/sys/devices/system/node'",
			   root && strcmp(root, "/") ? root : "");
		tool_hint("a kernel built without CONFIG_NUMA has no nodes to place memory on");
	} else if (r < 0) {
		tool_error("reading the topology: %s", strerror(-r));
	}
	return r;
}

int tool_parse_seconds(const char *arg, double min, double max, double *ret)
{
	const char *dot = strchr(arg, '.');
	size_t lw = dot ? (size_t)(dot - arg) : strlen(arg);
	uint64_t whole = 0, frac = 0, scale = 1;
	double v;

	if ((lw && mp_parse_uint(arg, lw, UINT32_MAX, &whole) < 0) || (!lw && !dot))
		return -EINVAL;
	if (dot) {
		size_t lf = strlen(dot + 1);

		if (!lf || lf > 3 || mp_parse_uint(dot + 1, lf, 999, &frac) < 0)
			return -EINVAL;
		while (lf--)
			scale *= 10;
	}
	v = (double)whole + (double)frac / (double)scale;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}
