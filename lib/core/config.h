/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Configuration: INI-style files, one section per scope.
 *
 *     [system]                 [cgroup /db.slice]      [exe /usr/bin/postgres]
 *     policy = local           allow = 0-1             heap = interleave:cpuset
 *
 * Scope kinds: system, cgroup PATH, exe GLOB, comm NAME, unit NAME, device NAME.
 * Keys: "policy" (all kinds of memory), a kind of memory (heap stack text data
 * anon file:GLOB shm shm:GLOB hugetlb mlocked kernel), or a policy option that
 * stands alone ("allow", "phys", "order.2M", "strict", ...), which is added to
 * the scope's generic policy.
 *
 * Every error carries file:line:col (1-based) and what would be right.
 */
#include <stdbool.h>

#include "kind.h"
#include "policy.h"

enum mp_scope_kind {
	MP_SCOPE_SYSTEM,
	MP_SCOPE_CGROUP,
	MP_SCOPE_UNIT,
	MP_SCOPE_EXE,
	MP_SCOPE_COMM,
	MP_SCOPE_PID, /* only from the command line */
	MP_SCOPE_DEVICE,
	MP_SCOPE_RANGE, /* an address range set at run time */
	MP_SCOPE_CALL,	/* the policy argument of one call, or the command line */
};

struct mp_rule {
	enum mp_kind kind;
	char *glob;	      /* MP_KIND_FILE / MP_KIND_SHM pattern, or NULL */
	char *key;	      /* the key as written, for traces */
	char *text;	      /* the value as written */
	struct mp_policy pol; /* parsed, canonical */
	const char *file;     /* owned by the config's file table */
	unsigned line, col;   /* of the value */
};

struct mp_scope {
	enum mp_scope_kind kind;
	char *arg; /* path / glob / name; NULL for system */
	const char *file;
	unsigned line;
	unsigned n_rules;
	struct mp_rule *rules; /* file order */
};

/* The daemon's own settings (doc/daemon.md), written in [system] only.  They
 * are not policies and stay out of the fold; the last file that sets one
 * wins.  -1: not set. */
struct mp_config_settings {
	signed char system_agent; /* system-agent = yes: the agent in /etc/ld.so.preload */
	signed char keep;	  /* keep = yes: stopping mplaced leaves what it put in place */
};

struct mp_config {
	struct mp_config_settings settings;
	unsigned n_scopes;
	struct mp_scope *scopes; /* load order: files in order, sections in file order */
	unsigned n_files;
	char **files;
};

/* One error found while loading. */
struct mp_config_error {
	const char *file;
	unsigned line, col;
	char msg[256];
	char hint[256];
};

void mp_config_init(struct mp_config *c);
void mp_config_free(struct mp_config *c);

/*
 * Parse text (as the contents of file 'name') and append its scopes to c.
 * Returns the number of errors found (0 = valid).  Up to max_err errors are
 * stored in errs (which may be NULL); parsing continues past an error so all
 * are reported.  Returns -ENOMEM on allocation failure.  Nothing from a file
 * with errors is added to c.
 */
int mp_config_parse(struct mp_config *c, const char *name, const char *text, size_t len, struct mp_config_error *errs,
		    unsigned max_err);
/* Read a file and parse it.  -errno when it cannot be read (errs[0] says why). */
int mp_config_load_file(struct mp_config *c, const char *path, struct mp_config_error *errs, unsigned max_err);
/* /etc/mplace/mplace.conf then /etc/mplace/conf.d/ *.conf in name order, under root;
 * missing files are not errors. */
int mp_config_load_default(struct mp_config *c, const char *root, struct mp_config_error *errs, unsigned max_err);

/*
 * Append over's scopes (and files) to c, after removing from c every rule
 * that over sets again in the same scope (kind and argument) with the same
 * key: a key of the later layer replaces that key, as a systemd drop-in
 * does, instead of folding with it (two allow= of one scope would
 * intersect).  mplaced layers `mplace set`'s changes over the files so.
 * over is left empty.  Returns 0, or -ENOMEM with c and over unchanged.
 */
int mp_config_override(struct mp_config *c, struct mp_config *over);

const char *mp_scope_kind_name(enum mp_scope_kind k);
