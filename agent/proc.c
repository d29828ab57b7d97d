/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /proc/self/maps and /proc/self/smaps, read without allocating: a
 * hand-written line parser over a stack buffer (sscanf cost ~2,000
 * instructions a line at every program's start).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"

/* ---- /proc/self/maps without allocating --------------------------------- */

static const char *hex_field(const char *s, uintptr_t *ret)
{
	uintptr_t v = 0;
	const char *b = s;

	for (;; s++) {
		unsigned x = (unsigned char)*s;

		if (x - '0' < 10)
			x -= '0';
		else if ((x | 0x20) - 'a' < 6)
			x = (x | 0x20) - 'a' + 10;
		else
			break;
		v = v << 4 | x;
	}
	*ret = v;
	return s > b ? s : NULL;
}

/* "lo-hi perms offset dev inode   name": a hand parser, because sscanf
 * costs ~2,000 instructions a line and runs at every program's start. */
static int maps_line(const char *s, uintptr_t *lo, uintptr_t *hi, char perms[8], const char **name)
{
	size_t n = 0;

	if (!(s = hex_field(s, lo)) || *s++ != '-' || !(s = hex_field(s, hi)) || *s++ != ' ')
		return -EINVAL;
	while (*s && *s != ' ' && n < 7)
		perms[n++] = *s++;
	perms[n] = '\0';
	for (int field = 0; field < 3; field++) {
		while (*s == ' ')
			s++;
		if (!*s)
			return -EINVAL;
		while (*s && *s != ' ')
			s++;
	}
	while (*s == ' ')
		s++;
	*name = s;
	return 0;
}

/* Calls fn with each line of a /proc file, NUL-terminated, without
 * allocating; a line longer than the buffer is cut (only names can be).
 * Stops at fn's first non-zero return and returns it if negative. */
static int proc_lines(const char *path, int (*fn)(char *line, void *d), void *d)
{
	char buf[8192], line[512];
	size_t ll = 0;
	ssize_t n;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	while (r == 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && r == 0; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			r = fn(line, d);
		}
	}
	close(fd);
	return r < 0 ? r : 0;
}

struct maps_ctx {
	int (*fn)(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d);
	void *d;
};

static int maps_cb(char *line, void *d)
{
	struct maps_ctx *m = d;
	uintptr_t lo, hi;
	char perms[8];
	const char *name;

	return maps_line(line, &lo, &hi, perms, &name) == 0 ? m->fn(lo, hi, perms, name, m->d) : 0;
}

/* Calls fn for each line of /proc/self/maps: lo, hi, perms, name ("" for anonymous). */
int agent_maps_foreach(int (*fn)(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d), void *d)
{
	struct maps_ctx m = {fn, d};

	return proc_lines("/proc/self/maps", maps_cb, &m);
}

struct find_ctx {
	const char *name;
	uintptr_t lo, hi;
};

static int find_cb(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d)
{
	struct find_ctx *f = d;

	if (strcmp(name, f->name))
		return 0;
	f->lo = lo;
	f->hi = hi;
	return 1;
}

int agent_maps_find(const char *name, void **ret_lo, size_t *ret_len)
{
	struct find_ctx f = {.name = name};
	int r = agent_maps_foreach(find_cb, &f);

	if (r < 0)
		return r;
	if (!f.hi)
		return -ENOENT;
	*ret_lo = (void *)f.lo;
	*ret_len = f.hi - f.lo;
	return 0;
}

struct smaps_ctx {
	uintptr_t lo, hi;
	const char *key;
	size_t kl;
	bool in, found;
	unsigned long sum, max;
};

static int smaps_cb(char *line, void *d)
{
	struct smaps_ctx *x = d;
	unsigned long v;
	uintptr_t a, b;
	char perms[8];
	const char *name;

	if (!strncmp(line, x->key, x->kl)) {
		if (x->in && sscanf(line + x->kl, "%lu", &v) == 1) {
			x->sum += v;
			x->max = v > x->max ? v : x->max;
			x->found = true;
		}
	} else if (maps_line(line, &a, &b, perms, &name) == 0) {
		/* field names never read as "hex-hex ": a header */
		x->in = a < x->hi && b > x->lo;
	}
	return 0;
}

/* smaps: a header line per mapping ("lo-hi perms ..."), then "Key: value kB"
 * lines. */
int agent_smaps(uintptr_t lo, uintptr_t hi, const char *key, unsigned long *ret_sum_kb, unsigned long *ret_max_kb)
{
	struct smaps_ctx x = {.lo = lo, .hi = hi, .key = key, .kl = strlen(key)};
	int r = proc_lines("/proc/self/smaps", smaps_cb, &x);

	if (r < 0)
		return r;
	if (!x.found)
		return -ENOENT;
	*ret_sum_kb = x.sum;
	*ret_max_kb = x.max;
	return 0;
}
