/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace status: what mplaced holds in force and how (doc/daemon.md);
 * mplace reset: forget `mplace set`'s changes and take back what the daemon
 * put in place.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "basic/util.h"
#include "tool.h"

#define EXIT_NOT_RUNNING 3

static const char status_usage[] = "Usage: mplace status [--json | --prometheus]\n"
				   "\n"
				   "Show what mplaced holds in force: the configuration's generation and any\n"
				   "error, every scope and what enforces it, what the daemon put in place, the\n"
				   "processes the scopes select, and what could not be applied and why.\n"
				   "\n"
				   "Options:\n"
				   "  --json             the daemon's whole answer as JSON\n"
				   "  --prometheus       the figures in Prometheus' text format (for a node\n"
				   "                     exporter's textfile collector)\n"
				   "  -h, --help         show this help\n"
				   "\n"
				   "Exit status: 0, or 3 when mplaced is not running.\n";

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && !json_object_is_type(v, json_type_null)
		       ? json_object_get_string(v)
		       : NULL;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static int64_t num(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v ? json_object_get_int64(v) : 0;
}

static size_t len(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

static json_object *at(json_object *o, const char *key, size_t i)
{
	return json_object_array_get_idx(get(o, key), i);
}

static void size_text(uint64_t v, char *buf, size_t size)
{
	mp_format_size(v, buf, size);
}

static void print_text(json_object *a)
{
	json_object *dj = get(a, "daemon");
	char b1[32], b2[32];

	printf("mplaced %s, pid %" PRId64 ": generation %" PRId64 " in force%s\n", str(dj, "version"), num(dj, "pid"),
	       num(dj, "generation"), json_object_get_boolean(get(dj, "suspended")) ? " (suspended)" : "");
	for (size_t i = 0; i < len(dj, "files"); i++)
		printf("  %s %s\n", i ? "     " : "files:", json_object_get_string(at(dj, "files", i)));
	if (str(dj, "config_error"))
		printf("  the last load failed, the generation above stays: %s\n", str(dj, "config_error"));
	printf("  persisted changes: %s\n", str(dj, "persisted"));
	printf("  system agent: %s; on stop: %s\n", json_object_get_boolean(get(dj, "system_agent")) ? "on" : "off",
	       json_object_get_boolean(get(dj, "keep")) ? "keep what is in place" : "take back what is in place");

	printf("\nScopes:\n");
	if (!len(a, "scopes"))
		printf("  (none)\n");
	for (size_t i = 0; i < len(a, "scopes"); i++) {
		json_object *s = at(a, "scopes", i);

		printf("  [%s] (%s): %s\n", str(s, "scope"), str(s, "origin"),
		       str(s, "means") ? str(s, "means") : "nothing for the daemon to do");
	}
	printf("\nIn place:\n");
	if (!len(a, "actions"))
		printf("  (nothing)\n");
	for (size_t i = 0; i < len(a, "actions"); i++) {
		json_object *s = at(a, "actions", i);

		printf("  %s\n", str(s, "means") ? str(s, "means") : str(s, "target"));
	}
	printf("\nProcesses:\n");
	if (!len(a, "processes"))
		printf("  (none selected)\n");
	for (size_t i = 0; i < len(a, "processes"); i++) {
		json_object *p = at(a, "processes", i), *sc = get(p, "scopes");

		printf("  %" PRId64 " %s (%s", num(p, "pid"), str(p, "comm"), str(p, "cgroup"));
		printf("): ");
		for (size_t k = 0; k < json_object_array_length(sc); k++)
			printf("%s[%s]", k ? " " : "", json_object_get_string(json_object_array_get_idx(sc, k)));
		printf(" through %s", str(p, "means"));
		if (str(p, "last_action"))
			printf("; last: %s", str(p, "last_action"));
		printf("\n");
	}
	if (len(a, "problems")) {
		printf("\nNot applied:\n");
		for (size_t i = 0; i < len(a, "problems"); i++) {
			json_object *p = at(a, "problems", i);

			printf("  [%s] %s\n", str(p, "scope"), str(p, "what"));
		}
	}
	printf("\nMemory:\n");
	for (size_t i = 0; i < len(a, "nodes"); i++) {
		json_object *n = at(a, "nodes", i);

		size_text((uint64_t)num(n, "mem_free"), b1, sizeof(b1));
		size_text((uint64_t)num(n, "mem_total"), b2, sizeof(b2));
		printf("  node %" PRId64 ": %s free of %s\n", num(n, "node"), b1, b2);
	}
	for (size_t i = 0; i < len(a, "cgroups"); i++) {
		json_object *c = at(a, "cgroups", i), *bn = get(c, "bytes_by_node");
		uint64_t total = 0;

		json_object_object_foreach(bn, k, v)
		{
			(void)k;
			total += (uint64_t)json_object_get_int64(v);
		}
		size_text(total, b1, sizeof(b1));
		printf("  %s (nodes %s): %s", str(c, "cgroup"), str(c, "allowed"), b1);
		json_object_object_foreach(bn, k2, v2)
		{
			size_text((uint64_t)json_object_get_int64(v2), b2, sizeof(b2));
			printf(", node %s: %s", k2, b2);
		}
		printf("; %" PRId64 " pages outside, %" PRId64 " migrated\n", num(c, "pages_outside"),
		       num(c, "pages_migrated"));
	}
}

/* A label value as Prometheus' text format escapes it. */
static void label(const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			printf("\\n");
		else
			putchar(*s);
	}
}

static void metric(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void print_prometheus(json_object *a)
{
	json_object *dj = get(a, "daemon");

	metric("mplace_daemon_up", "gauge", "1 when mplaced answered.");
	printf("mplace_daemon_up 1\n");
	metric("mplace_config_generation", "gauge", "The configuration generation in force.");
	printf("mplace_config_generation %" PRId64 "\n", num(dj, "generation"));
	metric("mplace_config_error", "gauge", "1 when the last load of the configuration failed.");
	printf("mplace_config_error %d\n", str(dj, "config_error") ? 1 : 0);
	metric("mplace_actions", "gauge", "Changes mplaced holds in place (cpuset.mems, properties, drop-ins).");
	printf("mplace_actions %zu\n", len(a, "actions"));
	metric("mplace_problems", "gauge", "What the configuration asks that could not be applied.");
	printf("mplace_problems %zu\n", len(a, "problems"));
	metric("mplace_processes_tracked", "gauge", "Processes a cgroup, unit, exe or comm scope selects.");
	printf("mplace_processes_tracked %zu\n", len(a, "processes"));
	metric("mplace_node_memory_total_bytes", "gauge", "Memory of a NUMA node.");
	for (size_t i = 0; i < len(a, "nodes"); i++)
		printf("mplace_node_memory_total_bytes{node=\"%" PRId64 "\"} %" PRId64 "\n",
		       num(at(a, "nodes", i), "node"), num(at(a, "nodes", i), "mem_total"));
	metric("mplace_node_memory_free_bytes", "gauge", "Free memory of a NUMA node.");
	for (size_t i = 0; i < len(a, "nodes"); i++)
		printf("mplace_node_memory_free_bytes{node=\"%" PRId64 "\"} %" PRId64 "\n",
		       num(at(a, "nodes", i), "node"), num(at(a, "nodes", i), "mem_free"));
	metric("mplace_pages_migrated_total", "counter", "Pages the kernel migrated (pgmigrate_success).");
	printf("mplace_pages_migrated_total %" PRId64 "\n", num(a, "pages_migrated"));
	metric("mplace_cgroup_memory_bytes", "gauge", "Anonymous and file memory of a cgroup scope, by node.");
	for (size_t i = 0; i < len(a, "cgroups"); i++) {
		json_object *c = at(a, "cgroups", i);

		json_object_object_foreach(get(c, "bytes_by_node"), k, v)
		{
			printf("mplace_cgroup_memory_bytes{cgroup=\"");
			label(str(c, "cgroup"));
			printf("\",node=\"%s\"} %" PRId64 "\n", k, json_object_get_int64(v));
		}
	}
	metric("mplace_cgroup_pages_outside", "gauge", "Pages of a cgroup scope on nodes its policy does not allow.");
	for (size_t i = 0; i < len(a, "cgroups"); i++) {
		printf("mplace_cgroup_pages_outside{cgroup=\"");
		label(str(at(a, "cgroups", i), "cgroup"));
		printf("\"} %" PRId64 "\n", num(at(a, "cgroups", i), "pages_outside"));
	}
	metric("mplace_cgroup_anon_pages_outside", "gauge",
	       "Anonymous pages of a cgroup scope on nodes its policy does not allow (the rest is page cache, which "
	       "a change of cpuset.mems does not move).");
	for (size_t i = 0; i < len(a, "cgroups"); i++) {
		printf("mplace_cgroup_anon_pages_outside{cgroup=\"");
		label(str(at(a, "cgroups", i), "cgroup"));
		printf("\"} %" PRId64 "\n", num(at(a, "cgroups", i), "anon_pages_outside"));
	}
	metric("mplace_cgroup_pages_migrated_total", "counter",
	       "Pages of a cgroup scope migrated by NUMA balancing, demotion and promotion.");
	for (size_t i = 0; i < len(a, "cgroups"); i++) {
		printf("mplace_cgroup_pages_migrated_total{cgroup=\"");
		label(str(at(a, "cgroups", i), "cgroup"));
		printf("\"} %" PRId64 "\n", num(at(a, "cgroups", i), "pages_migrated"));
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{"json", no_argument, NULL, 'j'},
		{"prometheus", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	json_object *a = NULL;
	bool json = false, prom = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'p':
			prom = true;
			break;
		case 'h':
			tool_usage(status_usage, false);
			return EXIT_OK;
		default:
			tool_usage(status_usage, true);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || (json && prom)) {
		tool_error(optind < argc ? "unexpected argument '%s'" : "--json and --prometheus: choose one%s",
			   optind < argc ? argv[optind] : "");
		return EXIT_USAGE;
	}
	r = tool_daemon_ask("status", &a);
	if (r < 0) {
		if (prom) {
			/* the collector keeps a file that says so, not a stale one */
			metric("mplace_daemon_up", "gauge", "1 when mplaced answered.");
			printf("mplace_daemon_up 0\n");
		}
		tool_daemon_error(r);
		return EXIT_NOT_RUNNING;
	}
	if (json)
		tool_print_json(json_object_get(a));
	else if (prom)
		print_prometheus(a);
	else
		print_text(a);
	json_object_put(a);
	return EXIT_OK;
}

/* ---- reset ------------------------------------------------------------------------------ */

static const char reset_usage[] = "Usage: mplace reset [--suspend] [--json]\n"
				  "\n"
				  "Forget every change 'mplace set' made through mplaced (persisted or not), take\n"
				  "back everything the daemon put in place, and enforce the configuration files\n"
				  "anew.\n"
				  "\n"
				  "Options:\n"
				  "  --suspend          enforce nothing afterwards, until the next reload\n"
				  "  --json             print the daemon's answer as JSON\n"
				  "  -h, --help         show this help\n";

/* Prints an answer's error (and hint); EXIT_OK when it says ok. */
int tool_daemon_answer(json_object *a, const char *what)
{
	json_object *v;

	if (json_object_object_get_ex(a, "ok", &v) && json_object_get_boolean(v))
		return EXIT_OK;
	tool_error("%s%s%s", what ? what : "", what ? ": " : "", str(a, "error") ? str(a, "error") : "failed");
	if (str(a, "hint"))
		tool_hint("%s", str(a, "hint"));
	return EXIT_FAIL;
}

int cmd_reset(int argc, char **argv)
{
	static const struct option options[] = {
		{"suspend", no_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	json_object *a = NULL;
	bool suspend = false, json = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 's':
			suspend = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			tool_usage(reset_usage, false);
			return EXIT_OK;
		default:
			tool_usage(reset_usage, true);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		tool_error("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	r = tool_daemon_ask(suspend ? "reset\nsuspend" : "reset\n", &a);
	if (r < 0) {
		tool_daemon_error(r);
		return EXIT_NOT_RUNNING;
	}
	if (json)
		tool_print_json(json_object_get(a));
	r = tool_daemon_answer(a, "reset");
	if (r == EXIT_OK && !json)
		printf("reset: generation %" PRId64 "%s\n", num(a, "generation"),
		       suspend ? "; nothing is enforced until the next reload" : " in force");
	json_object_put(a);
	return r;
}
