/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Configuration files: a small INI reader made for mplace, and the scopes and
 * rules it produces.
 *
 * Why not an existing INI library: keys such as "file:GLOB"
 * hold ':' and glob characters, values are whole policy lines with spaces, and every
 * error must name its exact line and column, including columns inside a
 * value (the policy parser's offset is added to the value's column).
 *
 * Invariants:
 *  - columns are 1-based byte columns; a tab counts as one;
 *  - parsing continues after an error so that a file reports all of them;
 *  - nothing from a file with errors reaches the config's scopes: scopes are
 *    built aside and appended only when the file had no error;
 *  - c->files names every file that was parsed or that could not be read, so
 *    the file names in errors, scopes and rules live as long as the config;
 *  - the input need not be NUL-terminated; a NUL byte inside it is an error.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "config.h"
#include "options.h"

/* Larger files are surely not configuration; refuse rather than exhaust memory. */
#define CONFIG_MAX_BYTES (16u << 20)
/* The kernel's TASK_COMM_LEN is 16 including the NUL. */
#define COMM_MAX 15
/* IFNAMSIZ is 16 including the NUL. */
#define IFNAME_MAX 15

static const char *const scope_kind_names[] = {
	[MP_SCOPE_SYSTEM] = "system", [MP_SCOPE_CGROUP] = "cgroup", [MP_SCOPE_UNIT] = "unit",
	[MP_SCOPE_EXE] = "exe",	      [MP_SCOPE_COMM] = "comm",	    [MP_SCOPE_PID] = "pid",
	[MP_SCOPE_DEVICE] = "device", [MP_SCOPE_RANGE] = "range",   [MP_SCOPE_CALL] = "call",
};

const char *mp_scope_kind_name(enum mp_scope_kind k)
{
	if ((unsigned)k < MP_ARRAY_SIZE(scope_kind_names) && scope_kind_names[k])
		return scope_kind_names[k];
	return "unknown";
}

void mp_config_init(struct mp_config *c)
{
	c->settings.system_agent = -1;
	c->settings.keep = -1;
	c->n_scopes = 0;
	c->scopes = NULL;
	c->n_files = 0;
	c->files = NULL;
}

static void rule_free(struct mp_rule *r)
{
	free(r->glob);
	free(r->key);
	free(r->text);
	mp_policy_free(&r->pol);
}

static void scopes_free(struct mp_scope *scopes, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		for (unsigned j = 0; j < scopes[i].n_rules; j++)
			rule_free(&scopes[i].rules[j]);
		free(scopes[i].rules);
		free(scopes[i].arg);
	}
	free(scopes);
}

void mp_config_free(struct mp_config *c)
{
	scopes_free(c->scopes, c->n_scopes);
	for (unsigned i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	mp_config_init(c);
}

/* ---- the parser's state and its error reporting ---------------------------------- */

struct seen_key {
	char *key;
	unsigned line, col;
};

struct cparser {
	const char *file; /* owned by the config's file table */
	struct mp_config_error *errs;
	unsigned max_err, n_err;
	bool oom;

	struct mp_scope *scopes; /* built aside; handed over only when n_err == 0 */
	unsigned n_scopes, cap_scopes;

	/* the current section */
	bool in_section;     /* a header was seen, valid or not */
	bool sec_valid;	     /* ... and it made scopes[n_scopes - 1] */
	bool sec_kind_known; /* sec_kind is meaningful (even if the argument was bad) */
	enum mp_scope_kind sec_kind;
	unsigned sec_line;
	struct seen_key *seen; /* keys of the current section, for duplicates */
	unsigned n_seen, cap_seen;

	struct mp_config_settings settings; /* handed over with the scopes */
};

__attribute__((format(printf, 4, 5))) static struct mp_config_error *perr(struct cparser *p, unsigned line,
									  unsigned col, const char *fmt, ...)
{
	struct mp_config_error *e;
	va_list ap;

	p->n_err++;
	if (!p->errs || p->n_err > p->max_err)
		return NULL;
	e = &p->errs[p->n_err - 1];
	e->file = p->file;
	e->line = line;
	e->col = col;
	e->hint[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return e;
}

__attribute__((format(printf, 2, 3))) static void phint(struct mp_config_error *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
	va_end(ap);
}

static void seen_reset(struct cparser *p)
{
	for (unsigned i = 0; i < p->n_seen; i++)
		free(p->seen[i].key);
	p->n_seen = 0;
}

static bool is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* The nearest candidate within two edits (and closer than rewriting it whole), or NULL. */
static const char *nearest(const char *s, size_t len, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned bd = 3;

	for (size_t i = 0; i < n; i++) {
		unsigned d = mp_edit_distance(s, len, cands[i]);

		if (d < bd && d < strlen(cands[i])) {
			bd = d;
			best = cands[i];
		}
	}
	if (best || len < 3)
		return best;
	/* an abbreviation ("repl") names the one candidate it begins */
	for (size_t i = 0; i < n; i++) {
		if (strlen(cands[i]) > len && !memcmp(cands[i], s, len)) {
			if (best)
				return NULL;
			best = cands[i];
		}
	}
	return best;
}

/* ---- section headers --------------------------------------------------------------- */

static const struct {
	const char *name;
	enum mp_scope_kind kind;
	const char *arg; /* what the argument is, or NULL when there is none */
	const char *example;
} section_kinds[] = {
	{"system", MP_SCOPE_SYSTEM, NULL, "[system]"},
	{"cgroup", MP_SCOPE_CGROUP, "PATH", "[cgroup /db.slice]"},
	{"exe", MP_SCOPE_EXE, "GLOB", "[exe /usr/lib/postgresql/*/bin/postgres]"},
	{"comm", MP_SCOPE_COMM, "NAME", "[comm postgres]"},
	{"unit", MP_SCOPE_UNIT, "NAME", "[unit postgresql.service]"},
	{"device", MP_SCOPE_DEVICE, "NAME", "[device pci:0000:3b:00.0]"},
};

#define SECTIONS_HINT "sections are [system], [cgroup PATH], [exe GLOB], [comm NAME], [unit NAME] and [device NAME]"
#define DEVICE_HINT   "device names are pci:DDDD:BB:DD.F, net:IFNAME or block:DEVNAME, as in [device pci:0000:3b:00.0]"

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* "DDDD:BB:DD.F" as sysfs spells a PCI function.  Returns the offset of the first bad byte, or -1. */
static int bdf_bad_offset(const char *s, size_t n)
{
	static const char pattern[] = "hhhh:hh:hh.f";
	size_t i;

	for (i = 0; i < n && i < sizeof(pattern) - 1; i++) {
		char want = pattern[i];

		if (want == 'h' && !is_hex(s[i]))
			return (int)i;
		if (want == 'f' && (s[i] < '0' || s[i] > '7'))
			return (int)i;
		if ((want == ':' || want == '.') && s[i] != want)
			return (int)i;
	}
	return i == n && n == sizeof(pattern) - 1 ? -1 : (int)i;
}

/* Validates a device name; on a problem reports it at col + offset and returns false. */
static bool check_device(struct cparser *p, unsigned line, unsigned col, const char *s, size_t n)
{
	struct mp_config_error *e;
	const char *rest;
	size_t rn;
	int bad;

	for (size_t i = 0; i < n; i++) {
		if (is_ws(s[i])) {
			e = perr(p, line, col + (unsigned)i, "device name '%.*s' contains a space", (int)n, s);
			phint(e, DEVICE_HINT);
			return false;
		}
	}
	if (n > 4 && !memcmp(s, "pci:", 4)) {
		rest = s + 4;
		rn = n - 4;
		bad = bdf_bad_offset(rest, rn);
		if (bad >= 0) {
			e = perr(p, line, col + 4 + (unsigned)bad, "'%.*s' is not a PCI address", (int)rn, rest);
			phint(e, "write the full address as in /sys/bus/pci/devices, e.g. pci:0000:3b:00.0");
			return false;
		}
		return true;
	}
	if (n > 4 && !memcmp(s, "net:", 4)) {
		rn = n - 4;
		if (rn > IFNAME_MAX || memchr(s + 4, '/', rn)) {
			e = perr(p, line, col + 4, "'%.*s' is not a network interface name", (int)rn, s + 4);
			phint(e, "interface names have at most %d bytes and no '/', e.g. net:eth0", IFNAME_MAX);
			return false;
		}
		return true;
	}
	if (n > 6 && !memcmp(s, "block:", 6)) {
		if (memchr(s + 6, '/', n - 6)) {
			e = perr(p, line, col + 6, "'%.*s' is not a block device name", (int)(n - 6), s + 6);
			phint(e, "write the kernel's name without /dev/, e.g. block:nvme0n1");
			return false;
		}
		return true;
	}
	e = perr(p, line, col, "unknown device name '%.*s'", (int)n, s);
	phint(e, DEVICE_HINT);
	return false;
}

/* Validates the argument of a known section kind; reports and returns false on a problem. */
static bool check_arg(struct cparser *p, enum mp_scope_kind kind, unsigned line, unsigned col, const char *s, size_t n)
{
	struct mp_config_error *e;

	switch (kind) {
	case MP_SCOPE_CGROUP:
		if (s[0] != '/') {
			e = perr(p, line, col, "cgroup path '%.*s' does not start with '/'", (int)n, s);
			phint(e, "cgroup paths start at the cgroup root, e.g. [cgroup /%.*s]", (int)n, s);
			return false;
		}
		return true;
	case MP_SCOPE_COMM:
		if (n > COMM_MAX) {
			e = perr(p, line, col + COMM_MAX, "comm name '%.*s' is %zu bytes; the kernel keeps only %d",
				 (int)n, s, n, COMM_MAX);
			phint(e, "use [comm %.*s] or match the full path with [exe GLOB]", COMM_MAX, s);
			return false;
		}
		return true;
	case MP_SCOPE_DEVICE:
		return check_device(p, line, col, s, n);
	default:
		return true;
	}
}

static int push_scope(struct cparser *p, enum mp_scope_kind kind, const char *arg, size_t n, unsigned line)
{
	struct mp_scope *sc;

	if (p->n_scopes == p->cap_scopes) {
		unsigned cap = p->cap_scopes ? p->cap_scopes * 2 : 8;
		struct mp_scope *ns = realloc(p->scopes, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		p->scopes = ns;
		p->cap_scopes = cap;
	}
	sc = &p->scopes[p->n_scopes];
	sc->kind = kind;
	sc->arg = NULL;
	if (arg) {
		sc->arg = mp_strndup(arg, n);
		if (!sc->arg)
			return -ENOMEM;
	}
	sc->file = p->file;
	sc->line = line;
	sc->n_rules = 0;
	sc->rules = NULL;
	p->n_scopes++;
	return 0;
}

/* s[0] == '['; n is the length of the line without comment and trailing blanks. */
static int parse_header(struct cparser *p, unsigned line, const char *s, size_t n, unsigned col0)
{
	struct mp_config_error *e;
	const char *close, *kw, *arg;
	size_t kn, an, i, j, end;
	int k = -1;

	p->in_section = true;
	p->sec_valid = false;
	p->sec_kind_known = false;
	p->sec_line = line;
	seen_reset(p);

	/*
	 * The header ends at the line's last ']' so that globs may hold
	 * brackets ([exe /usr/bin/python3.[0-9]*]); otherwise at the first one,
	 * and only a comment may follow it.
	 */
	close = s[n - 1] == ']' && n > 1 ? s + n - 1 : memchr(s, ']', n);
	if (!close) {
		e = perr(p, line, col0, "unterminated '[': no ']' on this line");
		phint(e, "close the section header, e.g. [system] or [exe /usr/bin/postgres]");
		return 0;
	}
	end = (size_t)(close - s);
	/* after ']' only a comment may follow */
	for (j = end + 1; j < n && is_ws(s[j]); j++)
		;
	if (j < n && s[j] != '#' && s[j] != ';') {
		e = perr(p, line, col0 + (unsigned)j, "unexpected text after the section header");
		phint(e, "put keys on their own lines below the header; comments start with '#' or ';'");
		return 0;
	}
	for (i = 1; i < end && is_ws(s[i]); i++)
		;
	if (i == end) {
		e = perr(p, line, col0 + (unsigned)end, "empty section header");
		phint(e, SECTIONS_HINT);
		return 0;
	}
	kw = s + i;
	for (kn = 0; i + kn < end && !is_ws(kw[kn]); kn++)
		;
	for (j = i + kn; j < end && is_ws(s[j]); j++)
		;
	arg = s + j;
	an = end - j;
	while (an && is_ws(arg[an - 1]))
		an--;

	for (size_t x = 0; x < MP_ARRAY_SIZE(section_kinds); x++)
		if (mp_streqn(kw, kn, section_kinds[x].name))
			k = (int)x;
	if (k < 0) {
		static const char *const names[] = {"system", "cgroup", "exe", "comm", "unit", "device"};
		const char *near = nearest(kw, kn, names, MP_ARRAY_SIZE(names));

		e = perr(p, line, col0 + (unsigned)i, "unknown section kind '%.*s'", (int)kn, kw);
		if (mp_streqn(kw, kn, "pid") || mp_streqn(kw, kn, "range") || mp_streqn(kw, kn, "call"))
			phint(e, "'%.*s' scopes exist only at run time; %s", (int)kn, kw, SECTIONS_HINT);
		else if (near)
			phint(e, "did you mean '%s'? %s", near, SECTIONS_HINT);
		else
			phint(e, SECTIONS_HINT);
		return 0;
	}
	p->sec_kind = section_kinds[k].kind;
	p->sec_kind_known = true;
	if (!section_kinds[k].arg && an) {
		e = perr(p, line, col0 + (unsigned)j, "[%s] takes no argument", section_kinds[k].name);
		phint(e, "write [system] alone; narrow with [cgroup PATH], [exe GLOB], [comm NAME] or [unit NAME]");
		return 0;
	}
	if (section_kinds[k].arg && !an) {
		e = perr(p, line, col0 + (unsigned)end, "[%s] needs a %s", section_kinds[k].name, section_kinds[k].arg);
		phint(e, "write it as %s", section_kinds[k].example);
		return 0;
	}
	if (an && !check_arg(p, p->sec_kind, line, col0 + (unsigned)j, arg, an))
		return 0;
	if (push_scope(p, p->sec_kind, an ? arg : NULL, an, line) < 0)
		return -ENOMEM;
	p->sec_valid = true;
	return 0;
}

/* ---- keys and values ----------------------------------------------------------------- */

enum opt_type {
	OPT_VALUE, /* key=value */
	OPT_BOOL,  /* yes -> "key", no -> "key=no" */
	OPT_PHYS,  /* "<4G" -> "phys<4G", "0-4G" -> "phys=0-4G" */
	OPT_AUTOMIGRATE,
};

/* A stand-alone option as a configuration key (options.h): how its value is
 * written into policy text. */
static bool option_key(const char *key, enum opt_type *ret)
{
	int o = mp_option_lookup(key, strlen(key));

	if (o < 0 || !mp_options[o].config)
		return false;
	switch (mp_options[o].value) {
	case MP_OV_PHYS:
		*ret = OPT_PHYS;
		break;
	case MP_OV_YESNO:
		*ret = OPT_BOOL;
		break;
	case MP_OV_MIGRATOR:
		*ret = OPT_AUTOMIGRATE;
		break;
	default:
		*ret = OPT_VALUE;
		break;
	}
	return true;
}

#define KEYS_HINT                                                                                                        \
	"valid keys: policy, heap, stack, text, data, anon, file:GLOB, shm[:GLOB], hugetlb, mlocked, kernel" MP_OPTIONS( \
		MP_OPTION_KEY)

/* yes/no spellings people write in configuration files */
static int parse_bool(const char *s, size_t n)
{
	static const char *const yes[] = {"yes", "true", "1", "on"};
	static const char *const no[] = {"no", "false", "0", "off"};

	for (size_t i = 0; i < MP_ARRAY_SIZE(yes); i++)
		if (mp_streqn(s, n, yes[i]))
			return 1;
	for (size_t i = 0; i < MP_ARRAY_SIZE(no); i++)
		if (mp_streqn(s, n, no[i]))
			return 0;
	return -1;
}

struct keyinfo {
	bool option; /* a stand-alone option, turned into "key=value" */
	enum opt_type type;
	enum mp_kind kind;
	const char *glob; /* into the key copy */
};

/*
 * Classifies key (NUL-terminated copy of the key as written).  Reports an
 * unknown key at col and returns false.
 */
static bool classify_key(struct cparser *p, unsigned line, unsigned col, const char *key, struct keyinfo *ki)
{
	struct mp_config_error *e;
	const char *colon, *near;
	size_t kn = strlen(key);

	ki->option = false;
	ki->kind = MP_KIND_ALL;
	ki->glob = NULL;
	if (!strcmp(key, "policy"))
		return true;
	if (mp_kind_parse(key, &ki->kind, &ki->glob) == 0)
		return true;
	if (option_key(key, &ki->type)) {
		ki->option = true;
		return true;
	}
	if (!strncmp(key, "order.", 6)) {
		uint64_t size;

		if (mp_parse_size(key + 6, kn - 6, &size) == 0 && size) {
			ki->option = true;
			ki->type = OPT_VALUE;
			return true;
		}
		e = perr(p, line, col + 6, "'%s' is not a page size in key '%s'", key + 6, key);
		phint(e, "write order.SIZE with a page size, e.g. order.2M = 0-1");
		return false;
	}
	colon = strchr(key, ':');
	if (colon && (mp_streqn(key, (size_t)(colon - key), "file") || mp_streqn(key, (size_t)(colon - key), "shm"))) {
		e = perr(p, line, col + (unsigned)(colon - key) + 1, "'%s' has an empty pattern", key);
		phint(e, "write %.*s:GLOB, e.g. file:/var/lib/pgsql/**", (int)(colon - key), key);
		return false;
	}
	if (!strcmp(key, "file")) {
		e = perr(p, line, col, "'file' needs a pattern");
		phint(e, "write file:GLOB, e.g. file:/var/lib/pgsql/** = prefer:0");
		return false;
	}
	if (colon) {
		static const char *const globbed[] = {"file", "shm"};

		near = nearest(key, (size_t)(colon - key), globbed, MP_ARRAY_SIZE(globbed));
		e = perr(p, line, col, "unknown key '%s'", key);
		if (near)
			phint(e, "did you mean '%s%s'? " KEYS_HINT, near, colon);
		else
			phint(e, KEYS_HINT);
		return false;
	}
	{
		/* every key: the kinds, the options a scope may hold, the daemon's settings */
		const char *key_names[MP_KIND__COUNT + MP_OPT__COUNT + 2];
		size_t n = 0;

		for (unsigned k = 0; k < MP_KIND__COUNT; k++)
			key_names[n++] = mp_kind_names[k];
		for (unsigned o = 0; o < MP_OPT__COUNT; o++)
			if (mp_options[o].config && mp_options[o].value != MP_OV_SIZED)
				key_names[n++] = mp_options[o].name;
		/* last: a tie goes to a kind or an option ("heep" is a heap) */
		key_names[n++] = "system-agent";
		key_names[n++] = "keep";
		near = nearest(key, kn, key_names, n);
	}
	e = perr(p, line, col, "unknown key '%s'", key);
	if (near && !strcmp(near, "file"))
		phint(e, "did you mean 'file:GLOB'? " KEYS_HINT);
	else if (near)
		phint(e, "did you mean '%s'? " KEYS_HINT, near);
	else
		phint(e, KEYS_HINT);
	return false;
}

static int seen_add(struct cparser *p, const char *key, unsigned line, unsigned col)
{
	if (p->n_seen == p->cap_seen) {
		unsigned cap = p->cap_seen ? p->cap_seen * 2 : 8;
		struct seen_key *ns = realloc(p->seen, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		p->seen = ns;
		p->cap_seen = cap;
	}
	p->seen[p->n_seen].key = strdup(key);
	if (!p->seen[p->n_seen].key)
		return -ENOMEM;
	p->seen[p->n_seen].line = line;
	p->seen[p->n_seen].col = col;
	p->n_seen++;
	return 0;
}

static const char *section_label(struct cparser *p, char *buf, size_t size)
{
	const struct mp_scope *sc;

	if (!p->in_section)
		return "(no section)";
	if (!p->sec_valid) {
		snprintf(buf, size, "the section at line %u", p->sec_line);
		return buf;
	}
	sc = &p->scopes[p->n_scopes - 1];
	if (sc->arg)
		snprintf(buf, size, "[%s %s]", mp_scope_kind_name(sc->kind), sc->arg);
	else
		snprintf(buf, size, "[%s]", mp_scope_kind_name(sc->kind));
	return buf;
}

static int add_rule(struct cparser *p, const struct keyinfo *ki, const char *key, const char *val, size_t vn,
		    unsigned line, unsigned col, struct mp_policy *pol)
{
	struct mp_scope *sc = &p->scopes[p->n_scopes - 1];
	struct mp_rule *rules, *r;

	rules = realloc(sc->rules, (sc->n_rules + 1) * sizeof(*rules));
	if (!rules)
		return -ENOMEM;
	sc->rules = rules;
	r = &rules[sc->n_rules];
	r->kind = ki->kind;
	r->glob = ki->glob ? strdup(ki->glob) : NULL;
	r->key = strdup(key);
	r->text = mp_strndup(val, vn);
	r->file = p->file;
	r->line = line;
	r->col = col;
	if ((ki->glob && !r->glob) || !r->key || !r->text) {
		free(r->glob);
		free(r->key);
		free(r->text);
		return -ENOMEM;
	}
	r->pol = *pol; /* moved: the caller no longer owns it */
	mp_policy_init(pol);
	sc->n_rules++;
	return 0;
}

/*
 * The text handed to the policy parser for a value, and how many bytes of it
 * come before the value as written (so an error offset maps onto a column).
 * A stand-alone option becomes the option token "key=value".
 */
static int value_text(struct cparser *p, const struct keyinfo *ki, const char *key, const char *val, size_t vn,
		      unsigned line, unsigned col, struct mp_sb *sb, size_t *prefix, bool *mapped)
{
	struct mp_config_error *e;
	int b;

	*prefix = 0;
	*mapped = false;
	if (!ki->option) {
		mp_sb_putn(sb, val, vn);
		return 0;
	}
	for (size_t i = 0; i < vn; i++) {
		if (is_ws(val[i])) {
			e = perr(p, line, col + (unsigned)i, "'%s' takes one value; found a space", key);
			phint(e, "put several options on one line as 'policy = MODE:NODES OPTION...', or one per key");
			return -EINVAL;
		}
	}
	switch (ki->type) {
	case OPT_BOOL:
	case OPT_AUTOMIGRATE:
		b = parse_bool(val, vn);
		if (b < 0 && ki->type == OPT_BOOL) {
			e = perr(p, line, col, "'%s' is a yes/no option, not '%.*s'", key, (int)vn, val);
			phint(e, "write %s = yes or %s = no (also true/false, on/off, 1/0)", key, key);
			return -EINVAL;
		}
		if (b == 1) {
			mp_sb_puts(sb, key);
			*mapped = true;
		} else if (b == 0) {
			mp_sb_printf(sb, "%s=%s", key, ki->type == OPT_BOOL ? "no" : "off");
			*mapped = true;
		} else {
			mp_sb_printf(sb, "%s=", key);
			*prefix = sb->len;
			mp_sb_putn(sb, val, vn);
		}
		return 0;
	case OPT_PHYS:
		/* "phys = <4G" is the option "phys<4G"; "phys = 0-4G" is "phys=0-4G" */
		mp_sb_puts(sb, key);
		if (val[0] != '<')
			mp_sb_puts(sb, "=");
		*prefix = sb->len;
		mp_sb_putn(sb, val, vn);
		return 0;
	case OPT_VALUE:
	default:
		mp_sb_printf(sb, "%s=", key);
		*prefix = sb->len;
		mp_sb_putn(sb, val, vn);
		return 0;
	}
}

/* ---- the daemon's settings ------------------------------------------------------------ */

static signed char *setting_slot(struct mp_config_settings *st, const char *key)
{
	if (!strcmp(key, "system-agent"))
		return &st->system_agent;
	if (!strcmp(key, "keep"))
		return &st->keep;
	return NULL;
}

static bool setting_key(const char *key)
{
	struct mp_config_settings st;

	return setting_slot(&st, key) != NULL;
}

/* "system-agent = yes" and "keep = yes": [system] only, yes or no. */
static int parse_setting(struct cparser *p, unsigned line, unsigned col0, const char *key, const char *val, size_t vn,
			 unsigned vcol, bool outside)
{
	struct mp_config_error *e;
	char label[300];
	int v;

	if (outside)
		return 0;
	if (!p->sec_kind_known || p->sec_kind != MP_SCOPE_SYSTEM) {
		e = perr(p, line, col0, "'%s' is a setting of the daemon; %s takes no such key", key,
			 section_label(p, label, sizeof(label)));
		phint(e, "put '%s = yes' in the [system] section", key);
		return 0;
	}
	for (unsigned i = 0; i < p->n_seen; i++) {
		if (strcmp(p->seen[i].key, key))
			continue;
		e = perr(p, line, col0, "duplicate key '%s' in %s", key, section_label(p, label, sizeof(label)));
		phint(e, "'%s' was first set at line %u, column %u; keep one of them", key, p->seen[i].line,
		      p->seen[i].col);
		return 0;
	}
	if (seen_add(p, key, line, col0) < 0)
		return -ENOMEM;
	v = parse_bool(val, vn);
	if (v < 0) {
		e = perr(p, line, vcol, "'%s' is a yes/no setting, not '%.*s'", key, (int)vn, val);
		phint(e, "write %s = yes or %s = no", key, key);
		return 0;
	}
	*setting_slot(&p->settings, key) = (signed char)v;
	return 0;
}

/* A "key = value" line; s starts at the key's first byte (column col0). */
static int parse_keyline(struct cparser *p, unsigned line, const char *s, size_t n, unsigned col0)
{
	struct mp_config_error *e;
	struct mp_policy pol;
	struct mp_diag diag;
	struct keyinfo ki;
	struct mp_sb sb;
	const char *eq, *val;
	char *key = NULL, label[300];
	size_t kn, vi, vn, prefix;
	unsigned vcol;
	bool bad = false, outside = false, mapped;
	int r = 0;

	eq = memchr(s, '=', n);
	if (!eq) {
		for (kn = 0; kn < n && !is_ws(s[kn]); kn++)
			;
		e = perr(p, line, col0 + (unsigned)kn, "expected '=' after '%.*s'", (int)kn, s);
		phint(e, "write KEY = VALUE, e.g. policy = bind:0-1");
		return 0;
	}
	kn = (size_t)(eq - s);
	while (kn && is_ws(s[kn - 1]))
		kn--;
	if (!kn) {
		e = perr(p, line, col0, "missing key before '='");
		phint(e, KEYS_HINT);
		return 0;
	}
	for (vi = (size_t)(eq - s) + 1; vi < n && is_ws(s[vi]); vi++)
		;
	val = s + vi;
	vn = n - vi;
	vcol = col0 + (unsigned)vi;

	key = mp_strndup(s, kn);
	if (!key)
		return -ENOMEM;

	if (!p->in_section) {
		e = perr(p, line, col0, "key '%s' outside any section", key);
		phint(e, "put it below a section header such as [system] or [exe /usr/bin/postgres]");
		outside = true;
	}
	if (setting_key(key)) {
		r = parse_setting(p, line, col0, key, val, vn, vcol, outside);
		goto out;
	}
	if (!classify_key(p, line, col0, key, &ki)) {
		bad = true;
	} else if (p->in_section && p->sec_kind_known && p->sec_kind == MP_SCOPE_DEVICE && !ki.option &&
		   ki.kind != MP_KIND_ALL) {
		e = perr(p, line, col0, "'%s' is a kind of memory inside a process; [device ...] takes no such key",
			 key);
		phint(e,
		      "devices take only 'policy' and option keys such as allow and phys; "
		      "put '%s' in an [exe GLOB], [comm NAME] or [unit NAME] section",
		      key);
		bad = true;
	} else if (!outside) {
		for (unsigned i = 0; i < p->n_seen; i++) {
			if (strcmp(p->seen[i].key, key))
				continue;
			e = perr(p, line, col0, "duplicate key '%s' in %s", key,
				 section_label(p, label, sizeof(label)));
			phint(e, "'%s' was first set at line %u, column %u; keep one of them", key, p->seen[i].line,
			      p->seen[i].col);
			bad = true;
			break;
		}
		if (!bad && seen_add(p, key, line, col0) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}

	if (!vn) {
		e = perr(p, line, col0 + (unsigned)(eq - s) + 1, "empty value for '%s'", key);
		phint(e, "give a value, e.g. %s = %s, or delete the line to inherit it", key,
		      ki.option ? "yes" : "bind:0-1");
		goto out;
	}
	if (bad)
		goto out; /* the value of an unknown key cannot be judged */

	mp_sb_init(&sb);
	if (value_text(p, &ki, key, val, vn, line, vcol, &sb, &prefix, &mapped) < 0) {
		mp_sb_free(&sb);
		goto out;
	}
	if (!mp_sb_ok(&sb)) {
		mp_sb_free(&sb);
		r = -ENOMEM;
		goto out;
	}
	memset(&diag, 0, sizeof(diag));
	mp_policy_init(&pol);
	r = mp_policy_parse(sb.s, &pol, &diag);
	if (r == -ENOMEM) {
		mp_sb_free(&sb);
		goto out;
	}
	if (r < 0) {
		unsigned off = 0;

		if (!mapped && diag.pos > prefix)
			off = (unsigned)(diag.pos - prefix);
		if (off > vn)
			off = (unsigned)vn;
		e = perr(p, line, vcol + off, "%s", diag.msg[0] ? diag.msg : "invalid policy");
		if (diag.hint[0])
			phint(e, "%s", diag.hint);
		mp_sb_free(&sb);
		r = 0;
		goto out;
	}
	mp_sb_free(&sb);
	if (p->sec_valid)
		r = add_rule(p, &ki, key, val, vn, line, vcol, &pol);
	mp_policy_free(&pol);
out:
	free(key);
	return r;
}

static int parse_text(struct cparser *p, const char *text, size_t len)
{
	unsigned line = 0;
	size_t pos = 0;
	int r;

	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos), *nul;
		size_t n = nl ? (size_t)(nl - s) : len - pos, i;

		pos += n + (nl ? 1 : 0);
		line++;
		nul = memchr(s, '\0', n);
		if (nul) {
			struct mp_config_error *e = perr(p, line, (unsigned)(nul - s) + 1, "NUL byte in the file");

			phint(e, "configuration files are text; is this the right file?");
			continue;
		}
		/* '#' after a blank starts a trailing comment anywhere on the line */
		for (i = 1; i < n; i++)
			if (s[i] == '#' && is_ws(s[i - 1]))
				n = i;
		while (n && is_ws(s[n - 1]))
			n--;
		for (i = 0; i < n && is_ws(s[i]); i++)
			;
		if (i == n || s[i] == '#' || s[i] == ';')
			continue;
		if (s[i] == '[')
			r = parse_header(p, line, s + i, n - i, (unsigned)i + 1);
		else
			r = parse_keyline(p, line, s + i, n - i, (unsigned)i + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Adds name to the file table; returns its index or -ENOMEM. */
static int add_file(struct mp_config *c, const char *name)
{
	char **nf = realloc(c->files, (c->n_files + 1) * sizeof(*nf));

	if (!nf)
		return -ENOMEM;
	c->files = nf;
	nf[c->n_files] = strdup(name ? name : "<input>");
	if (!nf[c->n_files])
		return -ENOMEM;
	return (int)c->n_files++;
}

static void drop_last_file(struct mp_config *c)
{
	free(c->files[--c->n_files]);
}

int mp_config_parse(struct mp_config *c, const char *name, const char *text, size_t len, struct mp_config_error *errs,
		    unsigned max_err)
{
	struct cparser p;
	struct mp_scope *ns;
	int fi, r;

	if (!c || (!text && len))
		return -EINVAL;
	fi = add_file(c, name);
	if (fi < 0)
		return fi;
	memset(&p, 0, sizeof(p));
	p.settings.system_agent = -1;
	p.settings.keep = -1;
	p.file = c->files[fi];
	p.errs = errs;
	p.max_err = max_err;

	r = parse_text(&p, text, len);
	if (r < 0)
		goto fail;
	if (p.n_err) {
		r = p.n_err > (unsigned)INT32_MAX ? INT32_MAX : (int)p.n_err;
		goto out; /* the file name stays: the errors point at it */
	}
	if (p.n_scopes) {
		ns = realloc(c->scopes, (c->n_scopes + p.n_scopes) * sizeof(*ns));
		if (!ns) {
			r = -ENOMEM;
			goto fail;
		}
		c->scopes = ns;
		memcpy(ns + c->n_scopes, p.scopes, p.n_scopes * sizeof(*ns));
		c->n_scopes += p.n_scopes;
		free(p.scopes);
		p.scopes = NULL;
		p.n_scopes = 0;
	}
	if (p.settings.system_agent >= 0)
		c->settings.system_agent = p.settings.system_agent;
	if (p.settings.keep >= 0)
		c->settings.keep = p.settings.keep;
	r = 0;
	goto out;
fail:
	drop_last_file(c);
out:
	scopes_free(p.scopes, p.n_scopes);
	seen_reset(&p);
	free(p.seen);
	return r;
}

int mp_config_load_file(struct mp_config *c, const char *path, struct mp_config_error *errs, unsigned max_err)
{
	char *buf = NULL, ebuf[128];
	size_t len = 0;
	int r, fi;

	if (!c || !path)
		return -EINVAL;
	r = mp_read_file(path, CONFIG_MAX_BYTES, &buf, &len);
	if (r < 0) {
		if (r == -ENOMEM)
			return r;
		fi = add_file(c, path);
		if (fi < 0)
			return fi;
		if (errs && max_err) {
			errs[0].file = c->files[fi];
			errs[0].line = 0;
			errs[0].col = 0;
			snprintf(errs[0].msg, sizeof(errs[0].msg), "cannot read: %s",
				 strerror_r(-r, ebuf, sizeof(ebuf)));
			if (r == -EACCES)
				snprintf(errs[0].hint, sizeof(errs[0].hint), "run as root or make the file readable");
			else if (r == -EFBIG)
				snprintf(errs[0].hint, sizeof(errs[0].hint),
					 "configuration files are at most %u MiB; is this the right file?",
					 CONFIG_MAX_BYTES >> 20);
			else
				errs[0].hint[0] = '\0';
		}
		return r;
	}
	r = mp_config_parse(c, path, buf, len, errs, max_err);
	free(buf);
	return r;
}

static int conf_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	/* hidden files are editors' and package managers' leftovers */
	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".conf");
}

/* Byte order, so the order does not depend on the locale. */
static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * Loads one file of the default set; a missing file is no error, an
 * unreadable one counts as one error.  Advances *stored past the errors it
 * wrote.  Returns the number of errors or -ENOMEM.
 */
static int load_one(struct mp_config *c, const char *path, struct mp_config_error *errs, unsigned max_err,
		    unsigned *stored)
{
	unsigned room = max_err > *stored ? max_err - *stored : 0;
	int r;

	r = mp_config_load_file(c, path, errs ? errs + *stored : NULL, room);
	if (r == -ENOENT || r == -ENOTDIR) {
		/* mp_config_load_file recorded the name; a missing file is not one that was read */
		if (c->n_files && !strcmp(c->files[c->n_files - 1], path))
			drop_last_file(c);
		return 0;
	}
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		r = 1;
	*stored += (unsigned)r < room ? (unsigned)r : room;
	return r;
}

int mp_config_load_default(struct mp_config *c, const char *root, struct mp_config_error *errs, unsigned max_err)
{
	struct dirent **ents = NULL;
	struct mp_sb path, dir;
	unsigned stored = 0;
	int total = 0, r = 0, n = 0;

	if (!c)
		return -EINVAL;
	if (!root || !*root || !strcmp(root, "/"))
		root = "";
	mp_sb_init(&path);
	mp_sb_init(&dir);
	mp_sb_printf(&path, "%s/etc/mplace/mplace.conf", root);
	mp_sb_printf(&dir, "%s/etc/mplace/conf.d", root);
	if (!mp_sb_ok(&path) || !mp_sb_ok(&dir)) {
		r = -ENOMEM;
		goto out;
	}
	r = load_one(c, path.s, errs, max_err, &stored);
	if (r < 0)
		goto out;
	total += r;

	n = scandir(dir.s, &ents, conf_filter, name_cmp);
	if (n < 0) {
		/* no conf.d is the common case; anything else is an unreadable directory */
		if (errno == ENOMEM) {
			r = -ENOMEM;
			goto out;
		}
		if (errno != ENOENT && errno != ENOTDIR) {
			r = load_one(c, dir.s, errs, max_err, &stored);
			if (r < 0)
				goto out;
			total += r;
		}
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		struct mp_sb f;

		mp_sb_init(&f);
		mp_sb_printf(&f, "%s/%s", dir.s, ents[i]->d_name);
		r = mp_sb_ok(&f) ? load_one(c, f.s, errs, max_err, &stored) : -ENOMEM;
		mp_sb_free(&f);
		if (r < 0)
			goto out;
		total += r;
	}
	r = total;
out:
	if (ents) {
		for (int i = 0; i < n; i++)
			free(ents[i]);
		free(ents);
	}
	mp_sb_free(&path);
	mp_sb_free(&dir);
	return r;
}

static bool same_scope(const struct mp_scope *a, const struct mp_scope *b)
{
	return a->kind == b->kind && ((!a->arg && !b->arg) || (a->arg && b->arg && !strcmp(a->arg, b->arg)));
}

int mp_config_override(struct mp_config *c, struct mp_config *over)
{
	struct mp_scope *ns;
	char **nf;

	if (!c || !over)
		return -EINVAL;
	/* room first, so that nothing is removed from c when this fails */
	ns = realloc(c->scopes, (c->n_scopes + over->n_scopes + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	c->scopes = ns;
	nf = realloc(c->files, (c->n_files + over->n_files + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	c->files = nf;
	for (unsigned o = 0; o < over->n_scopes; o++)
		for (unsigned q = 0; q < over->scopes[o].n_rules; q++)
			for (unsigned s = 0; s < c->n_scopes; s++) {
				struct mp_scope *sc = &c->scopes[s];

				if (!same_scope(sc, &over->scopes[o]))
					continue;
				for (unsigned k = 0; k < sc->n_rules;) {
					if (strcmp(sc->rules[k].key, over->scopes[o].rules[q].key)) {
						k++;
						continue;
					}
					rule_free(&sc->rules[k]);
					memmove(&sc->rules[k], &sc->rules[k + 1],
						(sc->n_rules - k - 1) * sizeof(sc->rules[0]));
					sc->n_rules--;
				}
			}
	/* memcpy's source may not be NULL even for zero bytes */
	if (over->n_scopes)
		memcpy(c->scopes + c->n_scopes, over->scopes, over->n_scopes * sizeof(*ns));
	c->n_scopes += over->n_scopes;
	if (over->n_files)
		memcpy(c->files + c->n_files, over->files, over->n_files * sizeof(*nf));
	c->n_files += over->n_files;
	free(over->scopes);
	free(over->files);
	if (over->settings.system_agent >= 0)
		c->settings.system_agent = over->settings.system_agent;
	if (over->settings.keep >= 0)
		c->settings.keep = over->settings.keep;
	mp_config_init(over);
	return 0;
}
