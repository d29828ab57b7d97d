/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Enforcement: each scope of the configuration in force by the strongest
 * means the kernel and systemd offer, and each means said (doc/daemon.md).
 *
 *   [cgroup PATH] allow=   cpuset.mems of PATH: through systemd
 *                          (AllowedMemoryNodes=, run time) when systemd
 *                          manages PATH, written directly otherwise.  Cgroup
 *                          v2 moves the pages of the cgroup's tasks when the
 *                          set changes.
 *   [system] allow=        the same on every top-level slice (cgroup v2 has
 *                          no limit on the root itself).
 *   [unit NAME]            a runtime drop-in, /run/systemd/system/NAME.d/
 *                          50-mplace.conf: NUMAPolicy=/NUMAMask= for the
 *                          generic policy where systemd can say it,
 *                          AllowedMemoryNodes= for constraints, the agent's
 *                          environment for the kinds of memory; then one
 *                          daemon reload.  Applied at the unit's next start.
 *
 * Every change is recorded as an action with what was there before, so
 * that a new configuration takes back what it no longer asks for and
 * stopping takes back everything (unless [system] keep = yes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/forms.h"
#include "core/kind.h"
#include "daemon.h"
#include "wire/wire.h"

/* ---- records ----------------------------------------------------------------- */

static void action_free(struct action *a)
{
	free(a->target);
	free(a->value);
	free(a->old);
	free(a->means);
	free(a->path);
}

void actions_clear(void)
{
	for (unsigned i = 0; i < d.n_actions; i++)
		action_free(&d.actions[i]);
	free(d.actions);
	d.actions = NULL;
	d.n_actions = 0;
}

struct action *action_find(enum action_kind kind, const char *target)
{
	for (unsigned i = 0; i < d.n_actions; i++)
		if (d.actions[i].kind == kind && !strcmp(d.actions[i].target, target))
			return &d.actions[i];
	return NULL;
}

struct action *action_add(enum action_kind kind, const char *target)
{
	struct action *na = realloc(d.actions, (d.n_actions + 1) * sizeof(*na));

	if (!na)
		return NULL;
	d.actions = na;
	na += d.n_actions;
	memset(na, 0, sizeof(*na));
	na->kind = kind;
	na->target = strdup(target);
	if (!na->target)
		return NULL;
	d.n_actions++;
	return na;
}

void action_drop(struct action *a)
{
	unsigned i = (unsigned)(a - d.actions);

	action_free(a);
	memmove(a, a + 1, (d.n_actions - i - 1) * sizeof(*a));
	d.n_actions--;
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? strdup(s) : NULL;
}

void problems_clear(void)
{
	for (unsigned i = 0; i < d.n_problems; i++) {
		free(d.problems[i].scope);
		free(d.problems[i].what);
	}
	free(d.problems);
	d.problems = NULL;
	d.n_problems = 0;
}

void problem_add(const char *scope, const char *fmt, ...)
{
	struct problem *np = realloc(d.problems, (d.n_problems + 1) * sizeof(*np));
	va_list ap;
	char *what;

	if (!np)
		return;
	d.problems = np;
	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	np[d.n_problems].scope = strdup(scope);
	np[d.n_problems].what = what;
	d.n_problems++;
	say(LOG_WARNING, "%s: %s", scope, what ? what : "?");
}

void scopes_clear(void)
{
	for (unsigned i = 0; i < d.n_scopes; i++) {
		free(d.scopes[i].label);
		free(d.scopes[i].origin);
		free(d.scopes[i].means);
	}
	free(d.scopes);
	d.scopes = NULL;
	d.n_scopes = 0;
}

/* The state of one scope, for status; adds means to it when it is there. */
static struct scope_state *scope_note(const struct mp_scope *sc, const char *fmt, ...)
{
	char label[4200], origin[4200];
	struct scope_state *s = NULL;
	va_list ap;
	char *means;

	snprintf(label, sizeof(label), "%s%s%s", mp_scope_kind_name(sc->kind), sc->arg ? " " : "",
		 sc->arg ? sc->arg : "");
	snprintf(origin, sizeof(origin), "%s:%u", sc->file ? sc->file : "?", sc->line);
	for (unsigned i = 0; i < d.n_scopes && !s; i++)
		if (!strcmp(d.scopes[i].label, label))
			s = &d.scopes[i];
	if (!s) {
		struct scope_state *ns = realloc(d.scopes, (d.n_scopes + 1) * sizeof(*ns));

		if (!ns)
			return NULL;
		d.scopes = ns;
		s = &ns[d.n_scopes++];
		memset(s, 0, sizeof(*s));
		s->label = strdup(label);
		s->origin = strdup(origin);
	}
	if (!fmt)
		return s;
	va_start(ap, fmt);
	if (vasprintf(&means, fmt, ap) < 0)
		means = NULL;
	va_end(ap);
	if (means && s->means) {
		char *both;

		if (asprintf(&both, "%s; %s", s->means, means) >= 0) {
			free(s->means);
			s->means = both;
		}
		free(means);
	} else if (means) {
		s->means = means;
	}
	return s;
}

/* ---- files -------------------------------------------------------------------- */

static int write_text(const char *path, const char *text)
{
	size_t n = strlen(text);
	/* O_TRUNC: cgroup files ignore it; a fixture's plain file needs it */
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t w;

	if (fd < 0)
		return -errno;
	w = write(fd, text, n);
	if (w < 0)
		w = -errno;
	close(fd);
	return w < 0 ? (int)w : (size_t)w == n ? 0 : -EIO;
}

static int read_line(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

/* Write a whole file anew: a temporary renamed over it. */
static int write_file_atomic(const char *path, const char *text)
{
	return mp_write_file_atomic(path, "tmp", text, strlen(text), 0644, false);
}

/* ---- cpuset.mems -------------------------------------------------------------- */

/* Enable the cpuset controller on every cgroup from the root down to
 * path's parent, as the kernel requires before path has cpuset.mems. */
static int enable_cpuset(const char *path, char *err, size_t errsize)
{
	char dir[4200], ctl[4300], buf[512];
	size_t at = 0;
	int r;

	for (;;) {
		const char *slash = strchr(path + at + 1, '/');

		snprintf(dir, sizeof(dir), "%s%.*s", d.p.cgroup_root, (int)at, path);
		snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control", dir);
		r = read_line(ctl, buf, sizeof(buf));
		if (r < 0) {
			snprintf(err, errsize, "%s: %s", ctl, strerror(-r));
			return r;
		}
		if (!strstr(buf, "cpuset")) {
			r = write_text(ctl, "+cpuset");
			if (r < 0) {
				snprintf(err, errsize, "cannot enable the cpuset controller in %s: %s%s", ctl,
					 strerror(-r),
					 r == -EBUSY ? " (cgroup v2 enables controllers only where no task is)" : "");
				return r;
			}
		}
		if (!slash)
			return 0;
		at = (size_t)(slash - path);
	}
}

static int cpuset_write(const char *path, const char *mems, char *err, size_t errsize)
{
	char file[4300];
	int r;

	snprintf(file, sizeof(file), "%s%s/cpuset.mems", d.p.cgroup_root, path);
	r = write_text(file, *mems ? mems : "\n");
	if (r < 0)
		snprintf(err, errsize, "writing %s to %s: %s", *mems ? mems : "(empty)", file, strerror(-r));
	return r;
}

static void set_means(struct action *a, bool via_systemd, const char *text, const char *origin)
{
	free(a->means);
	if (asprintf(&a->means,
		     via_systemd ? "AllowedMemoryNodes=%s on %s through systemd (%s)"
				 : "cpuset.mems = %s written to %s (%s)",
		     text, a->target, origin) < 0)
		a->means = NULL;
}

/* Put mems on cgroup path: through systemd where it manages path, directly
 * otherwise.  2 when done through systemd, 1 when written directly, 0 when
 * waiting for the cgroup to exist, -errno on error (err says why). */
static int mems_apply(const char *path, const struct mp_nodemask *m, const char *origin, char *err, size_t errsize)
{
	char unit[256], text[4096], dir[4200];
	bool via_systemd = sysd_present() && sysd_unit_of_cgroup(path, unit, sizeof(unit));
	enum action_kind kind = via_systemd ? ACT_PROPERTY : ACT_CPUSET;
	struct action *a = action_find(kind, via_systemd ? unit : path);
	struct stat st;
	int r;

	mp_mask_format(m, text, sizeof(text));
	if (a && a->value && !strcmp(a->value, text) && a->path) {
		char now[4096] = "", file[4300];

		/* written directly: what is there is checked, and put right
		 * when someone changed it since (systemd keeps its own) */
		snprintf(file, sizeof(file), "%s%s/cpuset.mems", d.p.cgroup_root, path);
		if (via_systemd || (read_line(file, now, sizeof(now)) == 0 && !strcmp(now, text))) {
			set_means(a, via_systemd, text, origin);
			return via_systemd ? 2 : 1;
		}
		say(LOG_NOTICE, "%s: cpuset.mems is '%s', changed behind mplaced's back: %s again", path, now, text);
	}
	if (via_systemd) {
		r = sysd_set_memory_nodes(unit, m, err, errsize);
		if (r < 0)
			return r;
	} else {
		char old[4096] = "", file[4300];

		snprintf(dir, sizeof(dir), "%s%s", d.p.cgroup_root, path);
		if (stat(dir, &st) < 0) {
			snprintf(err, errsize, "%s does not exist (yet): applied when it does", dir);
			return 0;
		}
		r = enable_cpuset(path, err, errsize);
		if (r < 0)
			return r;
		if (!a) {
			snprintf(file, sizeof(file), "%s/cpuset.mems", dir);
			r = read_line(file, old, sizeof(old));
			if (r < 0) {
				snprintf(err, errsize, "%s: %s", file, strerror(-r));
				return r;
			}
		}
		r = cpuset_write(path, text, err, errsize);
		if (r < 0)
			return r;
		if (!a && (a = action_add(kind, path)))
			set_str(&a->old, old);
	}
	if (!a)
		a = action_add(kind, via_systemd ? unit : path);
	if (a) {
		set_str(&a->value, text);
		set_str(&a->path, path);
		set_means(a, via_systemd, text, origin);
	}
	say(LOG_INFO, "%s: memory nodes %s (%s)", path, text, via_systemd ? "through systemd" : "cpuset.mems");
	return via_systemd ? 2 : 1;
}

/* Take back one cgroup action. */
static void mems_undo(struct action *a)
{
	char err[512];
	int r;

	if (a->kind == ACT_PROPERTY) {
		/* systemd's own value before us is the unit's configuration:
		 * empty at run time, and the control drop-in it wrote removed */
		char path[4200];

		r = sysd_set_memory_nodes(a->target, NULL, err, sizeof(err));
		snprintf(path, sizeof(path), "%s.control/%s.d/50-AllowedMemoryNodes.conf", d.p.systemd_dir, a->target);
		if (unlink(path) == 0)
			d.need_reload = true;
	} else {
		r = cpuset_write(a->target, a->old ? a->old : "", err, sizeof(err));
	}
	if (r < 0)
		say(LOG_WARNING, "%s: cannot take back %s: %s", a->target, a->value ? a->value : "", err);
	else
		say(LOG_INFO, "%s: memory nodes taken back", a->target);
}

/* ---- resolving a scope --------------------------------------------------------- */

/* The nodes a cgroup's constraints allow, when it has any: 1, 0 when none,
 * -errno (err says why). */
static int allowed_of(const struct mp_selector *sel, struct mp_nodemask *ret, char *err, size_t errsize)
{
	struct mp_resolve_ctx rctx = {0};
	struct mp_compiled c;
	struct mp_policy folded;
	struct mp_trace trace;
	struct mp_diag diag = {0};
	int r;

	r = mp_fold(&d.cfg, sel, NULL, &folded, &trace);
	if (r < 0) {
		snprintf(err, errsize, "%s", strerror(-r));
		return r;
	}
	if (!folded.n_allow) {
		r = 0;
		goto out;
	}
	/* against the whole machine, not the cgroup's present set: a set
	 * widened by a new configuration must not be narrowed by the old */
	mp_live_resolve_ctx(&d.live, &rctx);
	rctx.cgroup = NULL;
	r = mp_resolve(&folded, &trace, &rctx, &c, &diag);
	if (r < 0) {
		snprintf(err, errsize, "%s", diag.msg[0] ? diag.msg : strerror(-r));
		goto out;
	}
	*ret = c.allowed;
	mp_compiled_free(&c);
	r = mp_mask_empty(ret) ? -EXDEV : 1;
	if (r < 0)
		snprintf(err, errsize, "its constraints leave no node with memory");
out:
	mp_policy_free(&folded);
	mp_trace_free(&trace);
	return r;
}

/* Does the scope hold more than constraints (a placement or a kind)? */
static bool scope_places(const struct mp_scope *sc)
{
	for (unsigned q = 0; q < sc->n_rules; q++) {
		const struct mp_policy *p = &sc->rules[q].pol;

		if (sc->rules[q].kind != MP_KIND_ALL || p->mode != MP_MODE_UNSET || p->automigrate || p->order ||
		    p->migrate == MP_YES || p->replicate == MP_YES)
			return true;
	}
	return false;
}

/* One desired cgroup limit. */
struct want_mems {
	char *path;
	struct mp_nodemask mems;
};

static void enforce_cgroups(struct want_mems **wants, unsigned *n_wants)
{
	char err[1024];

	for (unsigned s = 0; s < d.cfg.n_scopes; s++) {
		const struct mp_scope *sc = &d.cfg.scopes[s];
		struct mp_selector sel = {.kind = MP_KIND_ALL};
		struct mp_nodemask m;
		char label[4200], origin[4200];
		bool dup = false;
		int r;

		if (sc->kind != MP_SCOPE_CGROUP)
			continue;
		for (unsigned i = 0; i < *n_wants; i++)
			dup |= !strcmp((*wants)[i].path, sc->arg);
		if (dup)
			continue;
		snprintf(label, sizeof(label), "cgroup %s", sc->arg);
		snprintf(origin, sizeof(origin), "%s:%u", sc->file, sc->line);
		if (scope_places(sc))
			scope_note(sc, "%s",
				   d.cfg.settings.system_agent == 1
					   ? "placement: the agent of each process in the cgroup"
					   : "placement: only processes with an agent (mplace run, [unit] scopes); "
					     "system-agent = yes reaches the others");
		sel.cgroup = sc->arg;
		r = allowed_of(&sel, &m, err, sizeof(err));
		if (r < 0) {
			problem_add(label, "%s", err);
			continue;
		}
		if (r == 0)
			continue;
		{
			struct want_mems *nw = realloc(*wants, (*n_wants + 1) * sizeof(*nw));

			if (!nw)
				continue;
			*wants = nw;
			nw[*n_wants].path = strdup(sc->arg);
			nw[*n_wants].mems = m;
			(*n_wants)++;
		}
		r = mems_apply(sc->arg, &m, origin, err, sizeof(err));
		if (r < 0) {
			problem_add(label, "%s", err);
			scope_note(sc, "cpuset.mems: failed");
		} else if (r == 0) {
			d.pending = true;
			scope_note(sc, "cpuset.mems: waiting: %s", err);
		} else {
			char text[4096];

			mp_mask_format(&m, text, sizeof(text));
			scope_note(sc, "cpuset.mems = %s (%s)", text,
				   r == 2 ? "systemd AllowedMemoryNodes=, at run time" : "written directly");
		}
	}
}

/* [system] allow=: every top-level slice. */
static void enforce_system(struct want_mems **wants, unsigned *n_wants)
{
	const struct mp_scope *sys = NULL;
	struct mp_selector sel = {.kind = MP_KIND_ALL};
	struct mp_nodemask m;
	struct dirent *e;
	char err[1024], text[4096];
	DIR *dir;
	int r;

	for (unsigned s = 0; s < d.cfg.n_scopes; s++)
		if (d.cfg.scopes[s].kind == MP_SCOPE_SYSTEM)
			sys = &d.cfg.scopes[s];
	if (!sys)
		return;
	r = allowed_of(&sel, &m, err, sizeof(err));
	if (r < 0)
		problem_add("system", "%s", err);
	if (r <= 0)
		return;
	mp_mask_format(&m, text, sizeof(text));
	dir = opendir(d.p.cgroup_root);
	if (!dir) {
		problem_add("system", "%s: %s", d.p.cgroup_root, strerror(errno));
		return;
	}
	while ((e = readdir(dir))) {
		size_t n = strlen(e->d_name);
		char path[300];
		bool dup = false;

		if (e->d_type != DT_DIR || n <= 6 || strcmp(e->d_name + n - 6, ".slice"))
			continue;
		snprintf(path, sizeof(path), "/%s", e->d_name);
		for (unsigned i = 0; i < *n_wants; i++)
			dup |= !strcmp((*wants)[i].path, path);
		if (dup)
			continue; /* a cgroup scope of its own folds [system] in */
		{
			struct want_mems *nw = realloc(*wants, (*n_wants + 1) * sizeof(*nw));

			if (!nw)
				break;
			*wants = nw;
			nw[*n_wants].path = strdup(path);
			nw[*n_wants].mems = m;
			(*n_wants)++;
		}
		r = mems_apply(path, &m, "system", err, sizeof(err));
		if (r < 0)
			problem_add("system", "%s: %s", path, err);
		else if (r > 0)
			scope_note(sys, "cpuset.mems = %s on %s", text, path);
	}
	closedir(dir);
}

/* ---- units: drop-ins ------------------------------------------------------------- */

/* A value for Environment=, quoted as systemd unquotes it. */
static void env_quote(struct mp_sb *b, const char *name, const char *value)
{
	mp_sb_printf(b, " \"%s=", name);
	for (const unsigned char *s = (const unsigned char *)value; *s; s++) {
		if (*s == '"' || *s == '\\')
			mp_sb_printf(b, "\\%c", *s);
		else if (*s == '%')
			mp_sb_puts(b, "%%");
		else if (*s == '\t')
			mp_sb_puts(b, "\\t");
		else if (*s < 0x20 || *s == 0x7f)
			mp_sb_printf(b, "\\x%02x", *s);
		else
			mp_sb_putn(b, (const char *)s, 1);
	}
	mp_sb_puts(b, "\"");
}

/* The canonical policy of a source text "CANONICAL (scope at origin, ...)". */
static int canon_len(const char *src)
{
	const char *paren = strstr(src, " (");

	return (int)(paren ? (size_t)(paren - src) : strlen(src));
}

/* The section that takes a unit type's exec settings, or NULL. */
static const char *exec_section(const char *unit)
{
	static const char *const types[][2] = {
		{".service", "Service"}, {".socket", "Socket"}, {".mount", "Mount"}, {".swap", "Swap"}};
	size_t n = strlen(unit);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t k = strlen(types[i][0]);

		if (n > k && !strcmp(unit + n - k, types[i][0]))
			return types[i][1];
	}
	return NULL;
}

static const char *cgroup_section(const char *unit)
{
	const char *dot = strrchr(unit, '.');

	if (dot && !strcmp(dot, ".slice"))
		return "Slice";
	if (dot && !strcmp(dot, ".scope"))
		return "Scope";
	return exec_section(unit);
}

/*
 * The drop-in for unit, into b; its means into means.  Returns 1 when there
 * is something to write, 0 when the scopes ask nothing of the unit, -1 on
 * a problem (recorded).
 */
static int dropin_text(const struct mp_scope *sc, const char *unit, struct mp_sb *b, struct mp_sb *means)
{
	struct mp_selector sel = {.unit = unit};
	struct mp_resolve_ctx rctx = {0};
	struct mp_sb env, body;
	struct mp_nodemask allow;
	char label[512], err[1024], line[MP_WIRE_TEXT_MAX], var[64];
	const char *exec = exec_section(unit), *cgsec = cgroup_section(unit);
	bool agent = false, numa = false;
	unsigned n_files = 0;
	int r, status = 0;

	snprintf(label, sizeof(label), "unit %s", unit);
	mp_sb_init(&env);
	mp_sb_init(&body);
	mp_live_resolve_ctx(&d.live, &rctx);
	rctx.cgroup = NULL;

	/* constraints: AllowedMemoryNodes= */
	sel.kind = MP_KIND_ALL;
	r = allowed_of(&sel, &allow, err, sizeof(err));
	if (r < 0) {
		problem_add(label, "%s", err);
		status = -1;
		goto out;
	}
	if (r > 0) {
		char text[4096];

		if (!cgsec) {
			problem_add(label, "allow=: a %s unit has no cgroup of its own", strrchr(unit, '.'));
		} else {
			mp_mask_format(&allow, text, sizeof(text));
			mp_sb_printf(&body, "AllowedMemoryNodes=%s\n", text);
			mp_sb_printf(means, "AllowedMemoryNodes=%s", text);
		}
	}

	/* every kind, as mplace run gives them to the agent */
	for (unsigned i = 0; i < MP_WIRE_N_KINDS; i++) {
		const struct mp_wire_kind *k = &mp_wire_kinds[i];
		struct mp_compiled c;
		struct mp_diag diag = {0};
		char *src = NULL, *sysd = NULL, *lost = NULL;

		sel.kind = k->kind;
		sel.path = NULL;
		r = mp_resolve_kind(&d.cfg, &sel, NULL, false, &rctx, &c, &src, &diag);
		if (r == 0)
			continue;
		if (r < 0) {
			problem_add(label, "%s: %s", mp_kind_name(k->kind), diag.msg[0] ? diag.msg : strerror(-r));
			status = -1;
			goto out;
		}
		if (!exec) {
			problem_add(label,
				    "%s: a %s unit runs no program of its own; its policies reach processes "
				    "through [cgroup] scopes",
				    mp_kind_name(k->kind), strrchr(unit, '.'));
			mp_compiled_free(&c);
			free(src);
			continue;
		}
		if (k->kind == MP_KIND_ALL && mp_compiled_format_as(&c, MP_FORM_SYSTEMD, &sysd, &lost) == 0 && !*lost) {
			/* systemd sets it before exec: nothing to load for it */
			mp_sb_printf(&body, "%s\n", sysd);
			mp_sb_printf(means, "%sNUMAPolicy= (%.*s)", means->len ? ", " : "", canon_len(src), src);
			numa = true;
		} else if (k->kind == MP_KIND_ALL) {
			mp_sb_printf(means, "%spolicy through the agent (systemd's NUMAPolicy= cannot say %s)",
				     means->len ? ", " : "", lost && *lost ? lost : "it");
		}
		free(sysd);
		free(lost);
		if (mp_compiled_serialize(&c, line, sizeof(line)) >= (int)sizeof(line) ||
		    strlen(src) >= MP_WIRE_TEXT_MAX) {
			problem_add(label, "%s: the compiled policy is longer than the agent takes (%d bytes)",
				    mp_kind_name(k->kind), MP_WIRE_TEXT_MAX - 1);
		} else {
			snprintf(var, sizeof(var), "MPLACE_AGENT_%s", k->var);
			env_quote(&env, var, line);
			snprintf(var, sizeof(var), "MPLACE_AGENT_SOURCE_%s", k->var);
			env_quote(&env, var, src);
			if (k->kind != MP_KIND_ALL) {
				agent = true;
				mp_sb_printf(means, "%s%s through the agent (%.*s)", means->len ? ", " : "",
					     mp_kind_name(k->kind), canon_len(src), src);
			} else if (!numa) {
				agent = true;
			}
		}
		mp_compiled_free(&c);
		free(src);
	}
	/* file:GLOB rules of the scopes that name this unit */
	for (unsigned s = 0; exec && s < d.cfg.n_scopes; s++)
		for (unsigned q = 0; q < d.cfg.scopes[s].n_rules; q++) {
			const struct mp_rule *rule = &d.cfg.scopes[s].rules[q];
			struct mp_compiled c;
			struct mp_diag diag = {0};
			char *src = NULL;

			if (rule->kind != MP_KIND_FILE || !rule->glob)
				continue;
			sel.kind = MP_KIND_FILE;
			sel.path = rule->glob;
			r = mp_resolve_kind(&d.cfg, &sel, NULL, false, &rctx, &c, &src, &diag);
			if (r <= 0) {
				if (r < 0)
					problem_add(label, "file:%s: %s", rule->glob,
						    diag.msg[0] ? diag.msg : strerror(-r));
				continue;
			}
			if (n_files < MP_WIRE_MAX_FILES && strlen(rule->glob) < MP_WIRE_GLOB_MAX &&
			    mp_compiled_serialize(&c, line, sizeof(line)) < (int)sizeof(line)) {
				char *v;

				if (asprintf(&v, "%s\t%s", rule->glob, line) >= 0) {
					snprintf(var, sizeof(var), "MPLACE_AGENT_FILE_%u", n_files++);
					env_quote(&env, var, v);
					free(v);
					agent = true;
					mp_sb_printf(means, "%sfile:%s through the agent", means->len ? ", " : "",
						     rule->glob);
				}
			} else {
				problem_add(label, "file:%s: beyond what the agent takes (%d globs of %d bytes)",
					    rule->glob, MP_WIRE_MAX_FILES, MP_WIRE_GLOB_MAX - 1);
			}
			mp_compiled_free(&c);
			free(src);
		}

	if (!body.len && !agent) {
		status = 0;
		goto out;
	}
	/* no generation number: an unchanged drop-in is not rewritten, and
	 * systemd not reloaded for it */
	mp_sb_printf(b,
		     "# Written by mplaced for [unit %s] (%s:%u).\n"
		     "# Removed when mplaced stops or the scope goes; `mplace status` says more.\n",
		     sc->arg, sc->file, sc->line);
	if (body.len || agent) {
		mp_sb_printf(b, "[%s]\n", (body.len && !exec) || !exec ? cgsec : exec);
		mp_sb_puts(b, body.s ? body.s : "");
	}
	if (agent && exec) {
		/* the agent's policies travel in its variables, as `mplace run` sets them */
		mp_sb_puts(b, "Environment=");
		env_quote(b, "LD_PRELOAD", d.p.agent);
		mp_sb_puts(b, env.s);
		mp_sb_puts(b, "\n");
	}
	status = mp_sb_ok(b) ? 1 : -1;
out:
	mp_sb_free(&env);
	mp_sb_free(&body);
	return status;
}

static void dropin_path(const char *unit, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s.d/50-mplace.conf", d.p.systemd_dir, unit);
}

static void want_unit(char ***units, unsigned *n, const char *unit)
{
	char **nu;

	for (unsigned i = 0; i < *n; i++)
		if (!strcmp((*units)[i], unit))
			return;
	nu = realloc(*units, (*n + 1) * sizeof(*nu));
	if (!nu)
		return;
	*units = nu;
	nu[(*n)++] = strdup(unit);
}

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void enforce_units(char ***units, unsigned *n_units)
{
	for (unsigned s = 0; s < d.cfg.n_scopes; s++) {
		const struct mp_scope *sc = &d.cfg.scopes[s];
		char **names = NULL, label[4200];
		unsigned n = 0;

		if (sc->kind != MP_SCOPE_UNIT)
			continue;
		snprintf(label, sizeof(label), "unit %s", sc->arg);
		if (is_glob(sc->arg)) {
			/* systemd has no drop-in for a glob: one for every unit it names now */
			int r = sysd_present() ? sysd_units_matching(sc->arg, &names, &n) : -ENOSYS;

			if (r < 0) {
				problem_add(label, "cannot list the units it names: %s", strerror(-r));
				continue;
			}
			scope_note(sc, "names %u unit%s now; units added later get it at the next reload", n,
				   n == 1 ? "" : "s");
		} else {
			names = calloc(1, sizeof(*names));
			if (names && (names[0] = strdup(sc->arg)))
				n = 1;
		}
		for (unsigned i = 0; i < n; i++) {
			struct mp_sb b, means;
			char path[4200], dir[4200], *old = NULL;
			size_t old_len;
			int r;

			want_unit(units, n_units, names[i]);
			mp_sb_init(&b);
			mp_sb_init(&means);
			r = dropin_text(sc, names[i], &b, &means);
			if (r > 0) {
				dropin_path(names[i], path, sizeof(path));
				snprintf(dir, sizeof(dir), "%s/%s.d", d.p.systemd_dir, names[i]);
				if (mp_read_file(path, 1 << 20, &old, &old_len) == 0 && old_len == b.len &&
				    !memcmp(old, b.s, b.len)) {
					r = 0; /* unchanged */
				} else if ((mkdir(d.p.systemd_dir, 0755) < 0 && errno != EEXIST) ||
					   (mkdir(dir, 0755) < 0 && errno != EEXIST) ||
					   (r = write_file_atomic(path, b.s)) < 0) {
					problem_add(label, "cannot write %s: %s", path, strerror(r < 0 ? -r : errno));
				} else {
					d.need_reload = true;
					say(LOG_INFO, "%s: drop-in %s written", names[i], path);
				}
				free(old);
				if (!action_find(ACT_DROPIN, names[i])) {
					struct action *a = action_add(ACT_DROPIN, names[i]);

					if (a)
						set_str(&a->value, path);
				}
				{
					struct action *a = action_find(ACT_DROPIN, names[i]);

					if (a) {
						free(a->means);
						if (asprintf(&a->means, "drop-in %s (at the unit's next start)", path) <
						    0)
							a->means = NULL;
					}
				}
				scope_note(sc, "%s%s%s: drop-in %s (at its next start)",
					   is_glob(sc->arg) ? names[i] : "", is_glob(sc->arg) ? ": " : "",
					   means.s ? means.s : "", path);
			}
			mp_sb_free(&b);
			mp_sb_free(&means);
			free(names[i]);
		}
		free(names);
	}
}

static void dropin_remove(struct action *a)
{
	char dir[4200];

	if (unlink(a->value) < 0 && errno != ENOENT) {
		say(LOG_WARNING, "%s: cannot remove %s: %s", a->target, a->value, strerror(errno));
		return;
	}
	snprintf(dir, sizeof(dir), "%s/%s.d", d.p.systemd_dir, a->target);
	rmdir(dir); /* only when empty: another's drop-ins stay */
	d.need_reload = true;
	say(LOG_INFO, "%s: drop-in %s removed", a->target, a->value);
}

/* ---- the whole --------------------------------------------------------------------- */

static void reload_systemd(void)
{
	char err[512];

	if (!d.need_reload)
		return;
	d.need_reload = false;
	if (!sysd_present()) {
		say(LOG_NOTICE, "drop-ins changed; systemd is not running here, so nothing is reloaded");
		return;
	}
	if (sysd_reload(err, sizeof(err)) < 0)
		problem_add("systemd", "daemon reload failed: %s; the drop-ins apply after the next one", err);
}

void enforce_all(void)
{
	struct want_mems *wants = NULL;
	unsigned n_wants = 0, n_units = 0;
	char **units = NULL;
	int r;

	problems_clear();
	scopes_clear();
	d.pending = false;
	mp_live_free(&d.live);
	r = mp_live_load(d.p.sysfs_root, 0, NULL, &d.live);
	if (r < 0) {
		problem_add("system", "cannot read the machine's topology: %s; nothing is enforced", strerror(-r));
		return;
	}
	for (unsigned s = 0; s < d.cfg.n_scopes; s++)
		scope_note(&d.cfg.scopes[s], NULL);

	enforce_cgroups(&wants, &n_wants);
	enforce_system(&wants, &n_wants);
	enforce_units(&units, &n_units);
	system_agent_enforce();
	for (unsigned s = 0; s < d.cfg.n_scopes; s++) {
		const struct mp_scope *sc = &d.cfg.scopes[s];

		if ((sc->kind == MP_SCOPE_EXE || sc->kind == MP_SCOPE_COMM) && scope_places(sc))
			scope_note(sc, "%s",
				   d.cfg.settings.system_agent == 1
					   ? "placement: the system agent, in each process it selects that starts from "
					     "now on; processes with an agent listening, at once"
					   : "placement: only processes with an agent (mplace run, [unit] scopes); "
					     "system-agent = yes reaches the others");
	}

	/* take back what this configuration no longer asks for */
	for (unsigned i = 0; i < d.n_actions;) {
		struct action *a = &d.actions[i];
		bool keep = false;

		if (a->kind == ACT_DROPIN) {
			for (unsigned k = 0; k < n_units; k++)
				keep |= !strcmp(units[k], a->target);
			if (!keep)
				dropin_remove(a);
		} else if (a->kind == ACT_CPUSET || a->kind == ACT_PROPERTY) {
			for (unsigned k = 0; k < n_wants; k++) {
				char unit[256];
				const char *t = a->kind == ACT_CPUSET
							? wants[k].path
							: sysd_unit_of_cgroup(wants[k].path, unit, sizeof(unit));

				keep |= t && !strcmp(t, a->target);
			}
			if (!keep)
				mems_undo(a);
		} else {
			keep = true;
		}
		if (keep)
			i++;
		else
			action_drop(a);
	}
	reload_systemd();
	for (unsigned i = 0; i < n_wants; i++)
		free(wants[i].path);
	free(wants);
	for (unsigned i = 0; i < n_units; i++)
		free(units[i]);
	free(units);
}

void enforce_undo(void)
{
	while (d.n_actions) {
		struct action *a = &d.actions[d.n_actions - 1];

		if (a->kind == ACT_DROPIN)
			dropin_remove(a);
		else if (a->kind == ACT_CPUSET || a->kind == ACT_PROPERTY)
			mems_undo(a);
		else if (a->kind == ACT_PRELOAD)
			preload_remove(a);
		action_drop(a);
	}
	{
		char snap[4200];

		snprintf(snap, sizeof(snap), "%s/snapshot", d.p.run_dir);
		unlink(snap);
	}
	reload_systemd();
}
