/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * What every subcommand shares: messages for people in one format, exit
 * codes, and JSON output through json-c.
 *
 *   mplace: error: db.conf:12:7: unknown NUMA node '9' (this machine has nodes 0-3)
 *   hint: run 'mplace topo' to list nodes and memory tiers
 *
 * Errors and warnings go to stderr; stdout carries only results.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXIT_OK	   0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

__attribute__((format(printf, 1, 2))) void tool_error(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void tool_warning(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void tool_hint(const char *fmt, ...);

/* Prints obj pretty to stdout followed by a newline, and drops the reference. */
void tool_print_json(struct json_object *obj);

/* The root for sysfs/procfs reads: --sysfs-root, else $MPLACE_SYSFS_ROOT, else NULL (live). */
const char *tool_sysfs_root(const char *opt);

/* Usage text printing: prints text to stdout (--help) or stderr (usage error). */
void tool_usage(const char *text, bool error);

struct mp_topo;
/* The topology under root (NULL: live) without the parts in skip
 * (MP_TOPO_*); says what went wrong (a root that is no directory, a kernel
 * without nodes) and returns its -errno. */
int tool_topo_load(const char *root, unsigned skip, struct mp_topo **ret);
/* "0-23,48-71" from a sorted CPU array, appended to b. */
struct mp_sb;
void tool_cpu_list(const int *cpus, unsigned n, struct mp_sb *b);
/* One decimal in binary units: "63.0 GiB". */
void tool_human_size(uint64_t v, char *buf, size_t size);

/* "2", "0.5": seconds with at most three decimals, from min to max;
 * -EINVAL or -ERANGE with *ret untouched. */
int tool_parse_seconds(const char *arg, double min, double max, double *ret);

struct mp_config;
/* Loads the configuration a command was given: each of files[0, n) in order,
 * or, when n is 0 and not no_config, the default files.  Prints every error
 * as file:line:col with its hint; returns EXIT_OK or EXIT_FAIL. */
int tool_load_config(struct mp_config *cfg, const char *const *files, unsigned n, bool no_config);

int cmd_topo(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_numactl(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_run_env(int argc, char **argv, const char *cgroup, const char *label);
int cmd_runtime(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_reset(int argc, char **argv);

/* mplaced's control socket (daemon-client.c): $MPLACED_SOCKET or
 * /run/mplace/mplaced.sock.  tool_daemon_ask sends req and returns the
 * answer (-errno when the daemon cannot be asked: tool_daemon_error says
 * it); tool_daemon_answer prints an answer's error and hint. */
const char *tool_daemon_socket(void);
int tool_daemon_ask(const char *req, struct json_object **ret);
void tool_daemon_error(int r);
int tool_daemon_answer(struct json_object *a, const char *what);
