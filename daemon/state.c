/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration mplaced holds in force: the administrator's files
 * (CONFIG_DIR/mplace.conf, then CONFIG_DIR/conf.d/ *.conf in name order),
 * then the changes `mplace set --persist` made, kept in STATE_DIR/
 * runtime.conf in the same syntax, so that they fold after the files.
 *
 * Invariants:
 *   - all or nothing: a configuration with any error never replaces the one
 *     in force; the error (file:line:col) is kept for status and logged;
 *   - a persisted change is acknowledged only once it is on disk: the whole
 *     file is written to a temporary, fsync'ed, renamed over the old one and
 *     the directory fsync'ed, so a kill -9 at any moment leaves either the old
 *     or the new file, never a torn one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

#define STATE_NAME "runtime.conf"

const char *state_file(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/" STATE_NAME, d.p.state_dir);
	return path;
}

struct entry {
	char *scope, *arg, *key, *value;
};
static void entries_text(const struct entry *e, unsigned n, struct mp_sb *b);
/* `mplace set` without --persist: folded after the persisted ones, gone
 * with the daemon. */
static struct entry *vol;
static unsigned n_vol;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One file into c; on error its first error, as file:line:col: msg, into
 * *ret_err (malloc'ed).  A file that is not there is no error. */
static int load_one(struct mp_config *c, const char *path, char **ret_err)
{
	struct mp_config_error e = {0};
	struct stat st;
	int r;

	if (stat(path, &st) < 0 && errno == ENOENT)
		return 0;
	r = mp_config_load_file(c, path, &e, 1);
	if (r == 0)
		return 0;
	if (e.line) {
		if (asprintf(ret_err, "%s:%u:%u: %s", e.file ? e.file : path, e.line, e.col, e.msg) < 0)
			*ret_err = NULL;
	} else if (asprintf(ret_err, "%s: %s", path, e.msg[0] ? e.msg : strerror(r < 0 ? -r : EINVAL)) < 0) {
		*ret_err = NULL;
	}
	return r < 0 ? r : -EINVAL;
}

int state_load(void)
{
	struct mp_config c, set;
	char path[4096], *err = NULL;
	struct dirent **ents = NULL;
	int n, r;

	mp_config_init(&c);
	snprintf(path, sizeof(path), "%s/mplace.conf", d.p.config_dir);
	r = load_one(&c, path, &err);
	if (r < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/conf.d", d.p.config_dir);
	n = scandir(path, &ents, NULL, NULL);
	if (n > 0) {
		char **names = calloc((size_t)n, sizeof(*names));
		unsigned k = 0;

		for (int i = 0; i < n; i++) {
			size_t l = strlen(ents[i]->d_name);

			/* as mplace's own loader: hidden files are editors' leftovers */
			if (names && ents[i]->d_name[0] != '.' && l > 5 && !strcmp(ents[i]->d_name + l - 5, ".conf"))
				names[k++] = ents[i]->d_name;
		}
		if (names)
			qsort(names, k, sizeof(*names), cmp_str);
		for (unsigned i = 0; names && i < k && r == 0; i++) {
			snprintf(path, sizeof(path), "%s/conf.d/%s", d.p.config_dir, names[i]);
			r = load_one(&c, path, &err);
		}
		free(names);
		for (int i = 0; i < n; i++)
			free(ents[i]);
		free(ents);
		if (r < 0)
			goto fail;
	}
	/* mplace set's changes, the persisted then the others: each key
	 * replaces that key of its scope */
	mp_config_init(&set);
	r = load_one(&set, state_file(), &err);
	if (r == 0)
		r = mp_config_override(&c, &set);
	if (r == 0 && n_vol) {
		struct mp_config_error e = {0};
		struct mp_sb t;

		mp_sb_init(&t);
		entries_text(vol, n_vol, &t);
		r = mp_sb_ok(&t) ? mp_config_parse(&set, "mplace set", t.s, t.len, &e, 1) : -ENOMEM;
		mp_sb_free(&t);
		if (r > 0) {
			if (asprintf(&err, "mplace set: %s", e.msg) < 0)
				err = NULL;
			r = -EINVAL;
		}
		if (r == 0)
			r = mp_config_override(&c, &set);
	}
	mp_config_free(&set);
	if (r < 0)
		goto fail;
	mp_config_free(&d.cfg);
	d.cfg = c;
	d.generation++;
	free(d.config_error);
	d.config_error = NULL;
	return 0;
fail:
	mp_config_free(&c);
	free(d.config_error);
	d.config_error = err ? err : strdup("the configuration cannot be read");
	say(LOG_ERR, "configuration not applied, generation %lu stays in force: %s", d.generation,
	    d.config_error ? d.config_error : "?");
	return r;
}

/* ---- persisted changes ------------------------------------------------------ */

static void entries_free(struct entry *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(e[i].scope);
		free(e[i].arg);
		free(e[i].key);
		free(e[i].value);
	}
	free(e);
}

/* The persisted changes now on disk, in their order. */
static int entries_load(struct entry **ret, unsigned *ret_n)
{
	struct mp_config c;
	struct entry *e = NULL;
	unsigned n = 0;
	int r;

	mp_config_init(&c);
	r = load_one(&c, state_file(), &(char *){NULL});
	if (r < 0) {
		mp_config_free(&c);
		return r;
	}
	for (unsigned s = 0; s < c.n_scopes; s++)
		for (unsigned q = 0; q < c.scopes[s].n_rules; q++) {
			struct entry *ne = realloc(e, (n + 1) * sizeof(*e));

			if (!ne) {
				entries_free(e, n);
				mp_config_free(&c);
				return -ENOMEM;
			}
			e = ne;
			e[n].scope = strdup(mp_scope_kind_name(c.scopes[s].kind));
			e[n].arg = c.scopes[s].arg ? strdup(c.scopes[s].arg) : NULL;
			e[n].key = strdup(c.scopes[s].rules[q].key);
			e[n].value = strdup(c.scopes[s].rules[q].text);
			n++;
		}
	mp_config_free(&c);
	*ret = e;
	*ret_n = n;
	return 0;
}

/* The entries as configuration text, a section each run of one scope. */
static void entries_text(const struct entry *e, unsigned n, struct mp_sb *b)
{
	for (unsigned i = 0; i < n; i++) {
		bool same =
			i && !strcmp(e[i].scope, e[i - 1].scope) &&
			((!e[i].arg && !e[i - 1].arg) || (e[i].arg && e[i - 1].arg && !strcmp(e[i].arg, e[i - 1].arg)));

		if (!same)
			mp_sb_printf(b, "\n[%s%s%s]\n", e[i].scope, e[i].arg ? " " : "", e[i].arg ? e[i].arg : "");
		mp_sb_printf(b, "%s = %s\n", e[i].key, e[i].value);
	}
}

/* The whole file anew, atomically, and on disk before it is acknowledged. */
static int entries_write(const struct entry *e, unsigned n)
{
	struct mp_sb b;
	int r;

	mp_sb_init(&b);
	mp_sb_puts(&b, "# written by mplaced: `mplace set --persist` changes; `mplace reset` forgets them\n");
	entries_text(e, n, &b);
	if (!mp_sb_ok(&b)) {
		mp_sb_free(&b);
		return -ENOMEM;
	}
	if (mkdir(d.p.state_dir, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	r = mp_write_file_atomic(state_file(), "tmp", b.s, b.len, 0644, true);
out:
	mp_sb_free(&b);
	return r;
}

/* Set KEY = VALUE of [SCOPE ARG] in the list: in place where that key of
 * that scope is there, else at the end. */
static int entries_put(struct entry **e, unsigned *n, const char *scope, const char *arg, const char *key,
		       const char *value)
{
	unsigned i;
	char *v;

	for (i = 0; i < *n; i++)
		if (!strcmp((*e)[i].scope, scope) && !strcmp((*e)[i].key, key) &&
		    ((!arg && !(*e)[i].arg) || (arg && (*e)[i].arg && !strcmp(arg, (*e)[i].arg))))
			break;
	if (i == *n) {
		struct entry *ne = realloc(*e, (*n + 1) * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		*e = ne;
		ne[i].scope = strdup(scope);
		ne[i].arg = arg ? strdup(arg) : NULL;
		ne[i].key = strdup(key);
		ne[i].value = NULL;
		(*n)++;
		if (!ne[i].scope || (arg && !ne[i].arg) || !ne[i].key)
			return -ENOMEM;
	}
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	free((*e)[i].value);
	(*e)[i].value = v;
	return 0;
}

/* Remove KEY of [SCOPE ARG] from the list, where it is there. */
static void entries_remove(struct entry *e, unsigned *n, const char *scope, const char *arg, const char *key)
{
	for (unsigned i = 0; i < *n;) {
		if (strcmp(e[i].scope, scope) || strcmp(e[i].key, key) ||
		    !((!arg && !e[i].arg) || (arg && e[i].arg && !strcmp(arg, e[i].arg)))) {
			i++;
			continue;
		}
		free(e[i].scope);
		free(e[i].arg);
		free(e[i].key);
		free(e[i].value);
		memmove(&e[i], &e[i + 1], (*n - i - 1) * sizeof(*e));
		(*n)--;
	}
}

int state_persist(const char *scope, const char *arg, const char *key, const char *value, char *err, size_t errsize)
{
	struct entry *e = NULL;
	unsigned n = 0;
	int r = entries_load(&e, &n);

	if (r < 0) {
		snprintf(err, errsize, "%s: %s", state_file(), strerror(-r));
		return r;
	}
	r = entries_put(&e, &n, scope, arg, key, value);
	if (r == 0) {
		r = entries_write(e, n);
		/* the latest change of a key wins: a change not persisted before
		 * must not hide this one */
		if (r == 0)
			entries_remove(vol, &n_vol, scope, arg, key);
		if (r < 0)
			snprintf(err, errsize, "writing %s: %s", state_file(), strerror(-r));
	} else {
		snprintf(err, errsize, "%s", strerror(-r));
	}
	entries_free(e, n);
	return r;
}

int state_set_volatile(const char *scope, const char *arg, const char *key, const char *value, char *err,
		       size_t errsize)
{
	int r = entries_put(&vol, &n_vol, scope, arg, key, value);

	if (r < 0)
		snprintf(err, errsize, "%s", strerror(-r));
	return r;
}

int state_forget(void)
{
	int dfd;

	entries_free(vol, n_vol);
	vol = NULL;
	n_vol = 0;
	if (unlink(state_file()) < 0 && errno != ENOENT)
		return -errno;
	dfd = open(d.p.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* ---- the actions in place ---------------------------------------------------- */

static const char *const action_names[] = {
	[ACT_CPUSET] = "cpuset",
	[ACT_PROPERTY] = "property",
	[ACT_DROPIN] = "dropin",
	[ACT_PRELOAD] = "preload",
};

static const char *actions_file(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/actions", d.p.run_dir);
	return path;
}

/* One line an action, TAB-separated: kind, target, value, old, cgroup path
 * ("-" none, "=" empty).  A field with a TAB or a newline cannot be kept: such an
 * action is said to be lost on a restart. */
int actions_save(void)
{
	struct mp_sb b;
	int r = 0;

	if (!d.n_actions) {
		/* nothing in place: nothing left behind either */
		if (unlink(actions_file()) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	mp_sb_init(&b);
	mp_sb_puts(&b, "# mplaced: what it put in place, to take back (doc/daemon.md)\n");
	for (unsigned i = 0; i < d.n_actions; i++) {
		const struct action *a = &d.actions[i];
		const char *f[4] = {a->target, a->value ? a->value : "-",
				    !a->old   ? "-"
				    : *a->old ? a->old
					      : "=",
				    a->path ? a->path : "-"};
		bool ok = true;

		for (int k = 0; k < 4; k++)
			ok &= !strpbrk(f[k], "\t\n");
		if (!ok) {
			say(LOG_WARNING, "%s: not kept across a restart (a TAB or newline in it)", a->target);
			continue;
		}
		mp_sb_printf(&b, "%s\t%s\t%s\t%s\t%s\n", action_names[a->kind], f[0], f[1], f[2], f[3]);
	}
	if (!mp_sb_ok(&b)) {
		mp_sb_free(&b);
		return -ENOMEM;
	}
	r = mp_write_file_atomic(actions_file(), "tmp", b.s, b.len, 0600, false);
	if (r < 0)
		say(LOG_WARNING, "cannot keep %s: %s; a restart would not know what to take back", actions_file(),
		    strerror(-r));
	mp_sb_free(&b);
	return r;
}

int actions_load(void)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len;
	int r = mp_read_file(actions_file(), 1 << 24, &buf, &len);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[5] = {0}, *s = line;
		struct action *na;
		int kind = -1;

		if (*line == '#')
			continue;
		for (int k = 0; k < 5; k++)
			f[k] = strsep(&s, "\t");
		if (!f[4])
			continue;
		for (size_t k = 0; k < sizeof(action_names) / sizeof(action_names[0]); k++)
			if (!strcmp(f[0], action_names[k]))
				kind = (int)k;
		if (kind < 0)
			continue;
		na = realloc(d.actions, (d.n_actions + 1) * sizeof(*na));
		if (!na) {
			r = -ENOMEM;
			break;
		}
		d.actions = na;
		na += d.n_actions++;
		memset(na, 0, sizeof(*na));
		na->kind = (enum action_kind)kind;
		na->target = strdup(f[1]);
		na->value = strcmp(f[2], "-") ? strdup(f[2]) : NULL;
		na->old = !strcmp(f[3], "-") ? NULL : strdup(!strcmp(f[3], "=") ? "" : f[3]);
		na->path = strcmp(f[4], "-") ? strdup(f[4]) : NULL;
		na->means = strdup("from before a restart");
	}
	free(buf);
	return r;
}
