/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * mplaced (doc/daemon.md): holds the configuration's system, cgroup and unit
 * scopes live on a running machine, enforces each with the strongest means
 * the kernel and systemd offer, says which it used, keeps what `mplace set
 * --persist` changed across restarts, and takes back what it put in place
 * when it stops.
 *
 *   main.c     the loop: signals, the configuration's directories watched,
 *              the control socket, readiness for systemd
 *   state.c    the configuration: loading it whole or not at all, the
 *              persisted changes, the generation
 *   enforce.c  cgroups (cpuset.mems), units (runtime drop-ins), undo
 *   ctl.c      the control socket: status, set, reset, reload
 */
#include <stdbool.h>
#include <stddef.h>

#include "basic/util.h"
#include "core/combine.h"
#include "core/config.h"
#include "machine/live.h"

/* Where everything is; each is an option, so that the tests run a daemon
 * on a fixture tree. */
struct paths {
	const char *config_dir;	  /* /etc/mplace: mplace.conf, conf.d/ */
	const char *state_dir;	  /* /var/lib/mplace: persisted changes */
	const char *run_dir;	  /* /run/mplace: the control socket */
	const char *systemd_dir;  /* /run/systemd/system: runtime drop-ins */
	const char *cgroup_root;  /* /sys/fs/cgroup */
	const char *sysfs_root;	  /* NULL: the machine's own /sys (topology) */
	const char *agent;	  /* the preload agent, for units' environment */
	const char *preload_file; /* /etc/ld.so.preload */
	bool systemd;		  /* run systemctl (daemon-reload, set-property) */
};

/* One thing the daemon did, to say in status and to undo. */
enum action_kind {
	ACT_CPUSET,   /* wrote a cgroup's cpuset.mems: old value kept */
	ACT_PROPERTY, /* set a unit's AllowedMemoryNodes= through systemd */
	ACT_DROPIN,   /* wrote a unit's runtime drop-in */
	ACT_PRELOAD,  /* put the agent in /etc/ld.so.preload (old: "present"/"absent") */
};

struct action {
	enum action_kind kind;
	char *target; /* cgroup path, unit name */
	char *value;  /* what was set (text) */
	char *old;    /* ACT_CPUSET: what was there */
	char *path;   /* ACT_CPUSET, ACT_PROPERTY: the cgroup's path */
	char *means;  /* how, in words */
};

/* What enforces one scope of the configuration, for status. */
struct scope_state {
	char *label;  /* "cgroup /bar.slice" */
	char *origin; /* file:line of its header */
	char *means;  /* how, in words; NULL: nothing the daemon does */
};

/* Something a scope asked that could not be done, and why. */
struct problem {
	char *scope; /* "cgroup /bar.slice" */
	char *what;
};

struct daemon {
	struct paths p;
	unsigned long generation; /* of the configuration in force */
	struct mp_config cfg;	  /* in force: files, then persisted changes */
	char *config_error;	  /* the last load that failed (file:line:col: msg), or NULL */
	unsigned n_actions;
	struct action *actions;
	unsigned n_problems;
	struct problem *problems;
	unsigned n_scopes;
	struct scope_state *scopes;
	struct mp_live live;	  /* the machine, as of the last enforcement */
	bool need_reload;	  /* drop-ins changed: systemd must reload */
	bool pending;		  /* something waits (a cgroup not there yet): retry */
	bool suspended;		  /* mplace reset --suspend: nothing enforced until a reload */
	bool config_changed;	  /* inotify saw the configuration change: reload when quiet */
	unsigned long n_resolved; /* resolve requests served (agents of several scopes) */
};

extern struct daemon d;

__attribute__((format(printf, 2, 3))) void say(int prio, const char *fmt, ...);
#define LOG_ERR	    3
#define LOG_WARNING 4
#define LOG_NOTICE  5
#define LOG_INFO    6

/* state.c */
/* Load the configuration and the persisted changes into a new mp_config;
 * on success it replaces the one in force (generation + 1) and 0 is
 * returned; on any error the old one stays, d.config_error says why, and
 * -errno is returned. */
int state_load(void);
/* Persist KEY = VALUE in [SCOPE ARG] (atomically: write, fsync, rename,
 * fsync the directory). */
int state_persist(const char *scope, const char *arg, const char *key, const char *value, char *err, size_t errsize);
/* Forget every change of `mplace set`, persisted or not. */
int state_forget(void);
/* Keep KEY = VALUE of [SCOPE ARG] in force until the daemon stops. */
int state_set_volatile(const char *scope, const char *arg, const char *key, const char *value, char *err,
		       size_t errsize);
/* The persisted changes' file. */
const char *state_file(void);

/* enforce.c */
/* Apply the configuration in force: every cgroup and unit scope.  Undoes
 * what the previous configuration put in place and this one no longer asks
 * for.  Problems are recorded, never fatal. */
void enforce_all(void);
/* Take back everything put in place (stop, reset). */
void enforce_undo(void);
void actions_clear(void);
void problems_clear(void);
void scopes_clear(void);
struct action *action_find(enum action_kind kind, const char *target);
struct action *action_add(enum action_kind kind, const char *target);
void action_drop(struct action *a);

/* snapshot.c: the system agent */
/* /etc/ld.so.preload and RUN_DIR/snapshot as [system] system-agent says */
void system_agent_enforce(void);
void preload_remove(const struct action *a);
/* The agent's records ("kind ID NAME C<TAB>S", "file ID GLOB<TAB>C") of
 * what cfg gives sel: their number, or -1 (err says why). */
int records_of(struct mp_sb *b, const struct mp_config *cfg, struct mp_selector *sel, const struct mp_resolve_ctx *rctx,
	       unsigned id, char *err, size_t errsize);
void problem_add(const char *scope, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The actions in place, kept in RUN_DIR so that a daemon killed and
 * started again can still take them back. */
int actions_save(void);
int actions_load(void);

/* systemd.c */
bool sysd_present(void);
void sysd_close(void);
const char *sysd_unit_of_cgroup(const char *path, char *buf, size_t size);
/* NULL m: reset (no limit of its own) */
int sysd_set_memory_nodes(const char *unit, const struct mp_nodemask *m, char *err, size_t errsize);
int sysd_reload(char *err, size_t errsize);
int sysd_units_matching(const char *glob, char ***ret, unsigned *ret_n);
void sysd_tell(const char *state);

/* ctl.c */
int ctl_open(void);
void ctl_serve(int fd);
void ctl_close(void);
/* The status as JSON into b (mplace status --json). */
struct json_object;
void status_json(struct json_object *a);
/* Load the configuration and enforce it; the answer into a (may be NULL). */
void daemon_reload(struct json_object *a);

/* track.c */
/* Give the agents of the processes the scopes select this generation's policies. */
void track_push(void);
/* What every scope gives process pid, as the records of the snapshot
 * (the resolve request): their number, or -1 (err says why). */
int resolve_records(int pid, struct mp_sb *b, char *err, size_t errsize);
/* Processes, nodes and cgroups into a status answer. */
void status_figures(struct json_object *a);
