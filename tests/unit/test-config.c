/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Configuration files: scopes, rules, kinds and globs from good files, and
 * every kind of error at its exact line and column, with nothing added from a
 * file that has one.  Also the default file set under an injected root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/util.h"
#include "check.h"
#include "core/config.h"

#define MAX_ERR 16

static unsigned count_rules(const struct mp_config *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->n_scopes; i++)
		n += c->scopes[i].n_rules;
	return n;
}

/* ---- names and kinds ----------------------------------------------------- */

static void test_kind_parse(void)
{
	static const struct {
		const char *s;
		int r;
		enum mp_kind kind;
		const char *glob;
	} cases[] = {
		{"heap", 0, MP_KIND_HEAP, NULL},
		{"stack", 0, MP_KIND_STACK, NULL},
		{"text", 0, MP_KIND_TEXT, NULL},
		{"data", 0, MP_KIND_DATA, NULL},
		{"anon", 0, MP_KIND_ANON, NULL},
		{"file:/var/lib/pgsql/**", 0, MP_KIND_FILE, "/var/lib/pgsql/**"},
		{"file:*.db", 0, MP_KIND_FILE, "*.db"},
		{"shm", 0, MP_KIND_SHM, NULL},
		{"shm:/dev/shm/pg*", 0, MP_KIND_SHM, "/dev/shm/pg*"},
		{"hugetlb", 0, MP_KIND_HUGETLB, NULL},
		{"mlocked", 0, MP_KIND_MLOCKED, NULL},
		{"kernel", 0, MP_KIND_KERNEL, NULL},
		{"policy", 0, MP_KIND_ALL, NULL},
		{"file", -EINVAL, 0, NULL},
		{"file:", -EINVAL, 0, NULL},
		{"shm:", -EINVAL, 0, NULL},
		{"heap:x", -EINVAL, 0, NULL},
		{"Heap", -EINVAL, 0, NULL},
		{"", -EINVAL, 0, NULL},
		{"heaps", -EINVAL, 0, NULL},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		enum mp_kind k = (enum mp_kind)77;
		const char *g = "untouched";
		int r = mp_kind_parse(cases[i].s, &k, &g);

		CHECK_MSG(r == cases[i].r, "'%s': %d", cases[i].s, r);
		if (r < 0) {
			CHECK_MSG(k == (enum mp_kind)77 && !strcmp(g, "untouched"), "'%s' touched outputs", cases[i].s);
			continue;
		}
		CHECK(k == cases[i].kind);
		if (cases[i].glob)
			CHECK_STR(g, cases[i].glob);
		else
			CHECK_MSG(g == NULL, "'%s'", cases[i].s);
		/* every kind's name parses back to it */
		if (!cases[i].glob)
			CHECK_STR(mp_kind_name(k), cases[i].s);
	}
	CHECK_STR(mp_kind_name(MP_KIND_FILE), "file");
	CHECK_STR(mp_kind_name(MP_KIND__COUNT), "unknown");
	CHECK_STR(mp_scope_kind_name(MP_SCOPE_SYSTEM), "system");
	CHECK_STR(mp_scope_kind_name(MP_SCOPE_CGROUP), "cgroup");
	CHECK_STR(mp_scope_kind_name(MP_SCOPE_EXE), "exe");
	CHECK_STR(mp_scope_kind_name(MP_SCOPE_COMM), "comm");
	CHECK_STR(mp_scope_kind_name(MP_SCOPE_UNIT), "unit");
	CHECK_STR(mp_scope_kind_name(MP_SCOPE_DEVICE), "device");
	CHECK_STR(mp_scope_kind_name(MP_SCOPE_PID), "pid");
}

/* ---- good files ------------------------------------------------------------ */

static void test_good_counts(void)
{
	static const struct {
		const char *text;
		unsigned scopes, rules;
	} cases[] = {
		{"", 0, 0},
		{"\n\n   \n\t\n", 0, 0},
		{"# comment\n; comment\n   # indented comment\n", 0, 0},
		{"[system]", 1, 0},
		{"[system]\npolicy = local", 1, 1},
		{"[system]\r\npolicy = local\r\n", 1, 1},
		{"[ system ]\n  policy   =   local   \n", 1, 1},
		{"[system] # the whole machine\npolicy = local\n", 1, 1},
		{"[system] ; the whole machine\npolicy = local\n", 1, 1},
		{"[exe /usr/bin/python3.[0-9]*]\nheap = local\n", 1, 1},
		{"[cgroup /]\nallow = 0-1\nphys = <4G\n", 1, 2},
		{"[cgroup /db.slice]\nphys = 0-4G\norder.2M = 0-1\norder.1G = 0\n", 1, 3},
		{"[unit postgresql.service]\nstrict = yes\nreplicate = no\nmigrate = true\n", 1, 3},
		{"[comm postgres]\nautomigrate = damon\nhome = 0\n", 1, 2},
		{"[comm 123456789012345]\npolicy = local\n", 1, 1},
		{"[device pci:0000:3b:00.0]\npolicy = prefer:0\nallow = 0-1\nphys = <4G\n", 1, 3},
		{"[device net:eth0]\n[device block:nvme0n1]\n", 2, 0},
		{"[system]\n[system]\npolicy = local\n", 2, 1},
		{"[exe /a]\nfile:/x/** = bind:0\nfile:/y/** = bind:0\nshm = local\nshm:pg* = local\n", 1, 4},
		{"[exe /a]\nheap = bind:0\nstack = local\ntext = interleave:all\ndata = local\n"
		 "anon = local\nhugetlb = bind:0\nmlocked = bind:0\nkernel = local\n",
		 1, 8},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		struct mp_config_error errs[MAX_ERR];
		struct mp_config c;
		int r;

		mp_config_init(&c);
		r = mp_config_parse(&c, "good.conf", cases[i].text, strlen(cases[i].text), errs, MAX_ERR);
		CHECK_MSG(r == 0, "case %zu: %d errors, first %u:%u %s", i, r, r > 0 ? errs[0].line : 0,
			  r > 0 ? errs[0].col : 0, r > 0 ? errs[0].msg : "");
		CHECK_MSG(c.n_scopes == cases[i].scopes, "case %zu: %u scopes", i, c.n_scopes);
		CHECK_MSG(count_rules(&c) == cases[i].rules, "case %zu: %u rules", i, count_rules(&c));
		CHECK(c.n_files == 1);
		mp_config_free(&c);
		CHECK(c.n_scopes == 0 && c.scopes == NULL && c.n_files == 0);
	}
}

static const char good_detail[] = "# a database host\n"				    /* 1 */
				  "[system]\n"					    /* 2 */
				  "policy = local\n"				    /* 3 */
				  "\n"						    /* 4 */
				  "[cgroup /db.slice]\n"			    /* 5 */
				  "allow    = 0-1\n"				    /* 6 */
				  "\n"						    /* 7 */
				  "[exe /usr/lib/postgresql/*/bin/postgres]\n"	    /* 8 */
				  "heap = interleave:0-1 weights=auto   # spread\n" /* 9 */
				  "\tfile:/var/lib/pgsql/** = prefer:0\n"	    /* 10 */
				  "shm:/dev/shm/PostgreSQL.* = interleave:0-1\n"    /* 11 */
				  "file:/data#1/** = bind:1\n"			    /* 12 */
				  "strict = yes\n"				    /* 13 */
				  "[device pci:0000:3b:00.0]\n"			    /* 14 */
				  "policy = prefer:0";				    /* 15, no newline */

static void test_good_detail(void)
{
	struct mp_config_error errs[MAX_ERR];
	const struct mp_scope *sc;
	const struct mp_rule *ru;
	struct mp_config c;
	int r;

	mp_config_init(&c);
	r = mp_config_parse(&c, "db.conf", good_detail, strlen(good_detail), errs, MAX_ERR);
	CHECK_MSG(r == 0, "%d errors, first %u:%u %s", r, r > 0 ? errs[0].line : 0, r > 0 ? errs[0].col : 0,
		  r > 0 ? errs[0].msg : "");
	if (r != 0 || c.n_scopes != 4) {
		CHECK_MSG(0, "%u scopes", c.n_scopes);
		mp_config_free(&c);
		return;
	}
	CHECK(c.n_files == 1);
	CHECK_STR(c.files[0], "db.conf");

	sc = &c.scopes[0];
	CHECK(sc->kind == MP_SCOPE_SYSTEM && sc->arg == NULL && sc->line == 2 && sc->n_rules == 1);
	CHECK(sc->file == c.files[0]);
	ru = &sc->rules[0];
	CHECK(ru->kind == MP_KIND_ALL && ru->glob == NULL && ru->line == 3 && ru->col == 10);
	CHECK_STR(ru->key, "policy");
	CHECK_STR(ru->text, "local");
	CHECK(ru->file == c.files[0]);

	sc = &c.scopes[1];
	CHECK(sc->kind == MP_SCOPE_CGROUP && sc->line == 5 && sc->n_rules == 1);
	CHECK_STR(sc->arg, "/db.slice");
	ru = &sc->rules[0];
	CHECK(ru->kind == MP_KIND_ALL && ru->line == 6 && ru->col == 12);
	CHECK_STR(ru->key, "allow");
	CHECK_STR(ru->text, "0-1");

	sc = &c.scopes[2];
	CHECK(sc->kind == MP_SCOPE_EXE && sc->line == 8 && sc->n_rules == 5);
	CHECK_STR(sc->arg, "/usr/lib/postgresql/*/bin/postgres");
	if (sc->n_rules == 5) {
		ru = &sc->rules[0];
		CHECK(ru->kind == MP_KIND_HEAP && ru->glob == NULL && ru->line == 9 && ru->col == 8);
		CHECK_STR(ru->key, "heap");
		CHECK_STR(ru->text, "interleave:0-1 weights=auto");
		ru = &sc->rules[1];
		CHECK(ru->kind == MP_KIND_FILE && ru->line == 10 && ru->col == 27);
		CHECK_STR(ru->glob, "/var/lib/pgsql/**");
		CHECK_STR(ru->key, "file:/var/lib/pgsql/**");
		CHECK_STR(ru->text, "prefer:0");
		ru = &sc->rules[2];
		CHECK(ru->kind == MP_KIND_SHM && ru->line == 11 && ru->col == 29);
		CHECK_STR(ru->glob, "/dev/shm/PostgreSQL.*");
		ru = &sc->rules[3];
		/* '#' not after a blank is part of the text */
		CHECK(ru->kind == MP_KIND_FILE && ru->line == 12);
		CHECK_STR(ru->glob, "/data#1/**");
		ru = &sc->rules[4];
		CHECK(ru->kind == MP_KIND_ALL && ru->line == 13 && ru->col == 10);
		CHECK_STR(ru->key, "strict");
		CHECK_STR(ru->text, "yes");
	}

	sc = &c.scopes[3];
	CHECK(sc->kind == MP_SCOPE_DEVICE && sc->line == 14 && sc->n_rules == 1);
	CHECK_STR(sc->arg, "pci:0000:3b:00.0");
	CHECK(sc->n_rules == 1 && sc->rules[0].line == 15 && sc->rules[0].col == 10);
	mp_config_free(&c);
}

/* The input is counted, not NUL-terminated: bytes after len are never read. */
static void test_counted_input(void)
{
	static const char full[] = "[system]\npolicy = localXX\n[bogus kind here";
	struct mp_config_error errs[MAX_ERR];
	size_t len = strlen("[system]\npolicy = local");
	struct mp_config c;
	char *exact;
	int r;

	/* an exact-size heap copy lets ASan catch any read past len */
	exact = malloc(len);
	if (!exact) {
		CHECK(0);
		return;
	}
	memcpy(exact, full, len);
	mp_config_init(&c);
	r = mp_config_parse(&c, "cut.conf", exact, len, errs, MAX_ERR);
	CHECK(r == 0);
	CHECK(c.n_scopes == 1 && count_rules(&c) == 1);
	if (c.n_scopes == 1 && c.scopes[0].n_rules == 1)
		CHECK_STR(c.scopes[0].rules[0].text, "local");
	mp_config_free(&c);
	free(exact);
}

/* ---- errors ------------------------------------------------------------------ */

static const struct {
	const char *text;
	unsigned line, col;
	const char *msg;  /* a piece of the message */
	const char *hint; /* a piece of the hint, or NULL */
} error_cases[] = {
	/* unknown section kind, with the list and a suggestion */
	{"[system]\npolicy = local\n[sistem]\n", 3, 2, "unknown section kind 'sistem'", "did you mean 'system'?"},
	{"[process /x]\n", 1, 2, "unknown section kind 'process'", "[exe GLOB]"},
	{"[pid 12]\n", 1, 2, "unknown section kind 'pid'", "run time"},
	{"[]\n", 1, 2, "empty section header", "[system]"},
	/* missing and extra section arguments */
	{"[exe]\n", 1, 5, "[exe] needs a GLOB", "[exe /usr/lib/postgresql/*/bin/postgres]"},
	{"[cgroup ]\n", 1, 9, "[cgroup] needs a PATH", "[cgroup /db.slice]"},
	{"[device]\n", 1, 8, "[device] needs a NAME", "pci:0000:3b:00.0"},
	{"[system /x]\n", 1, 9, "[system] takes no argument", NULL},
	{"[cgroup db.slice]\n", 1, 9, "does not start with '/'", "[cgroup /db.slice]"},
	{"[comm postgres-checkpointer]\n", 1, 22, "is 21 bytes; the kernel keeps only 15", "[comm postgres-checkp]"},
	{"[device pci:0000:3b:00]\n", 1, 23, "not a PCI address", "pci:0000:3b:00.0"},
	{"[device pci:0000:3g:00.0]\n", 1, 19, "not a PCI address", NULL},
	{"[device usb:1-2]\n", 1, 9, "unknown device name 'usb:1-2'", "net:IFNAME"},
	{"[device net:averyveryverylongname]\n", 1, 13, "not a network interface name", NULL},
	{"[device block:/dev/sda]\n", 1, 15, "not a block device name", "block:nvme0n1"},
	/* header syntax */
	{"[system\npolicy = local\n", 1, 1, "unterminated '['", NULL},
	{"  [exe /usr/bin/x\n", 1, 3, "unterminated '['", NULL},
	{"[system] policy = local\n", 1, 10, "unexpected text after the section header", NULL},
	/* keys */
	{"policy = local\n[system]\n", 1, 1, "key 'policy' outside any section", "[system]"},
	{"[system]\nheep = local\n", 2, 1, "unknown key 'heep'", "did you mean 'heap'?"},
	{"[system]\nstict = yes\n", 2, 1, "unknown key 'stict'", "did you mean 'strict'?"},
	{"[system]\nfiel:/x/** = bind:0\n", 2, 1, "unknown key 'fiel:/x/**'", "did you mean 'file:/x/**'?"},
	{"[system]\nzzzzzzzz = local\n", 2, 1, "unknown key", "valid keys: policy, heap"},
	{"[system]\nrepl = yes\n", 2, 1, "unknown key 'repl'", "did you mean 'replicate'?"},
	{"[system]\nautomigrat = yes\n", 2, 1, "unknown key", "did you mean 'automigrate'?"},
	{"[cgroup /x]\nphys = <4G\nphys = 0-4G\n", 3, 1, "duplicate key 'phys' in [cgroup /x]", "line 2, column 1"},
	{"[system]\nfile = bind:0\n", 2, 1, "'file' needs a pattern", "file:GLOB"},
	{"[system]\nfile: = bind:0\n", 2, 6, "empty pattern", NULL},
	{"[system]\norder.xyz = 0\n", 2, 7, "'xyz' is not a page size", "order.2M"},
	{"[system]\npolicy = local\nheap = bind:0\npolicy = bind:1\n", 4, 1, "duplicate key 'policy' in [system]",
	 "first set at line 2, column 1"},
	{"[exe /x]\n  heap = bind:0\nheap = bind:1\n", 3, 1, "duplicate key 'heap' in [exe /x]", "line 2, column 3"},
	{"[device pci:0000:3b:00.0]\nheap = bind:0\n", 2, 1, "kind of memory", "only 'policy'"},
	{"[device net:eth0]\nfile:/x = bind:0\n", 2, 1, "kind of memory", NULL},
	/* '=' and values */
	{"[system]\npolicy local\n", 2, 7, "expected '=' after 'policy'", "KEY = VALUE"},
	{"[system]\n = local\n", 2, 2, "missing key before '='", NULL},
	{"[system]\nheap =\n", 2, 7, "empty value for 'heap'", NULL},
	{"[system]\nheap =    # nothing\n", 2, 7, "empty value for 'heap'", NULL},
	{"[system]\nstrict = maybe\n", 2, 10, "yes/no option", "strict = yes"},
	{"[system]\nallow = 0-1 strict\n", 2, 12, "'allow' takes one value", NULL},
	/* bad policy values: the parser's offset lands on the value's column */
	{"[system]\nheap = bindd:0\n", 2, 8, "", NULL},
	{"[system]\n\theap\t=\tbindd:0\n", 2, 9, "", NULL},
	{"[system]\nheap     = bindd:0 # comment\n", 2, 12, "", NULL},
};

static void test_errors(void)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(error_cases); i++) {
		struct mp_config_error errs[MAX_ERR];
		struct mp_config c;
		int r;

		mp_config_init(&c);
		memset(errs, 0, sizeof(errs));
		r = mp_config_parse(&c, "bad.conf", error_cases[i].text, strlen(error_cases[i].text), errs, MAX_ERR);
		CHECK_MSG(r == 1, "case %zu (%u:%u): %d errors, first %u:%u %s", i, error_cases[i].line,
			  error_cases[i].col, r, errs[0].line, errs[0].col, errs[0].msg);
		if (r < 1)
			goto next;
		CHECK_MSG(errs[0].line == error_cases[i].line && errs[0].col == error_cases[i].col,
			  "case %zu: at %u:%u, expected %u:%u (%s)", i, errs[0].line, errs[0].col, error_cases[i].line,
			  error_cases[i].col, errs[0].msg);
		CHECK_MSG(strstr(errs[0].msg, error_cases[i].msg), "case %zu: message '%s' lacks '%s'", i, errs[0].msg,
			  error_cases[i].msg);
		CHECK_MSG(errs[0].msg[0], "case %zu: empty message", i);
		if (error_cases[i].hint)
			CHECK_MSG(strstr(errs[0].hint, error_cases[i].hint), "case %zu: hint '%s' lacks '%s'", i,
				  errs[0].hint, error_cases[i].hint);
		CHECK(errs[0].file && !strcmp(errs[0].file, "bad.conf"));
		/* a file with an error contributes nothing */
		CHECK_MSG(c.n_scopes == 0 && c.scopes == NULL, "case %zu: %u scopes added", i, c.n_scopes);
	next:
		mp_config_free(&c);
	}
}

/* A NUL byte is not text: reported where it is, and the line is skipped. */
static void test_nul(void)
{
	static const char text[] = "[system]\npol\0icy = local\n";
	struct mp_config_error errs[MAX_ERR];
	struct mp_config c;
	int r;

	mp_config_init(&c);
	r = mp_config_parse(&c, "nul.conf", text, sizeof(text) - 1, errs, MAX_ERR);
	CHECK(r == 1);
	CHECK(r == 1 && errs[0].line == 2 && errs[0].col == 4 && strstr(errs[0].msg, "NUL byte"));
	CHECK(c.n_scopes == 0);
	mp_config_free(&c);
}

/* All errors are reported, in order, and a bad file adds nothing to a config that already has scopes. */
static void test_many_errors(void)
{
	static const char text[] = "[system]\n"	      /* 1 */
				   "policy = local\n" /* 2 */
				   "heep = local\n"   /* 3: unknown key */
				   "[exe]\n"	      /* 4: missing argument */
				   "heap = bindd\n"   /* 5: bad value */
				   "heap = local\n"   /* 6: duplicate */
				   "[sistem\n"	      /* 7: unterminated */
				   "stack =\n";	      /* 8: empty value */
	static const unsigned want[][2] = {{3, 1}, {4, 5}, {5, 8}, {6, 1}, {7, 1}, {8, 8}};
	struct mp_config_error errs[MAX_ERR], few[2];
	struct mp_config c;
	int r;

	mp_config_init(&c);
	r = mp_config_parse(&c, "first.conf", "[system]\npolicy = local\n", 24, errs, MAX_ERR);
	CHECK(r == 0 && c.n_scopes == 1);

	r = mp_config_parse(&c, "bad.conf", text, strlen(text), errs, MAX_ERR);
	CHECK_MSG(r == (int)MP_ARRAY_SIZE(want), "%d errors", r);
	for (unsigned i = 0; i < MP_ARRAY_SIZE(want) && i < (unsigned)r; i++)
		CHECK_MSG(errs[i].line == want[i][0] && errs[i].col == want[i][1], "error %u at %u:%u (%s)", i,
			  errs[i].line, errs[i].col, errs[i].msg);
	CHECK(c.n_scopes == 1 && count_rules(&c) == 1);
	/* the bad file's name stays, since its errors point at it */
	CHECK(c.n_files == 2 && errs[0].file == c.files[1]);

	/* more errors than room: all counted, only max_err stored */
	memset(few, 0, sizeof(few));
	r = mp_config_parse(&c, "bad2.conf", text, strlen(text), few, 2);
	CHECK(r == (int)MP_ARRAY_SIZE(want));
	CHECK(few[0].line == 3 && few[1].line == 4);
	r = mp_config_parse(&c, "bad3.conf", text, strlen(text), NULL, 0);
	CHECK(r == (int)MP_ARRAY_SIZE(want));
	CHECK(c.n_scopes == 1);

	/* a good file after bad ones still appends */
	r = mp_config_parse(&c, "last.conf", "[comm x]\nheap = local\n", 22, errs, MAX_ERR);
	CHECK(r == 0 && c.n_scopes == 2);
	CHECK(c.n_scopes == 2 && c.scopes[1].file == c.files[c.n_files - 1]);
	mp_config_free(&c);
}

/* The daemon's settings: [system] only, yes/no, the last file wins, none from a bad file. */
static void test_settings(void)
{
	static const struct {
		const char *text;
		unsigned line, col; /* of the error; 0: none */
		const char *msg;
	} bad[] = {
		{"[exe /x]\nkeep = yes\n", 2, 1, "setting of the daemon"},
		{"[system]\nsystem-agent = maybe\n", 2, 16, "yes/no setting"},
		{"[system]\nkeep = yes\nkeep = no\n", 3, 1, "duplicate key 'keep'"},
		{"[system]\nkeep =\n", 2, 7, "yes/no setting"},
		{"[system]\nsystem_agent = yes\n", 2, 1, "unknown key"},
	};
	struct mp_config_error errs[MAX_ERR];
	struct mp_config c;
	int r;

	mp_config_init(&c);
	CHECK(c.settings.system_agent == -1 && c.settings.keep == -1);
	r = mp_config_parse(&c, "a.conf", "[system]\npolicy = local\nsystem-agent = yes\n",
			    strlen("[system]\npolicy = local\nsystem-agent = yes\n"), errs, MAX_ERR);
	CHECK_MSG(r == 0, "%d: %s", r, r > 0 ? errs[0].msg : "");
	CHECK(c.settings.system_agent == 1 && c.settings.keep == -1);
	/* settings are not rules */
	CHECK(c.n_scopes == 1 && count_rules(&c) == 1);
	r = mp_config_parse(&c, "b.conf", "[system]\nsystem-agent = off\nkeep = true\n",
			    strlen("[system]\nsystem-agent = off\nkeep = true\n"), errs, MAX_ERR);
	CHECK(r == 0 && c.settings.system_agent == 0 && c.settings.keep == 1);
	for (unsigned i = 0; i < MP_ARRAY_SIZE(bad); i++) {
		r = mp_config_parse(&c, "bad.conf", bad[i].text, strlen(bad[i].text), errs, MAX_ERR);
		CHECK_MSG(r == 1 && errs[0].line == bad[i].line && errs[0].col == bad[i].col &&
				  strstr(errs[0].msg, bad[i].msg),
			  "case %u: %d error(s), %u:%u %s", i, r, r > 0 ? errs[0].line : 0, r > 0 ? errs[0].col : 0,
			  r > 0 ? errs[0].msg : "");
		/* nothing taken from a file with an error */
		CHECK(c.settings.system_agent == 0 && c.settings.keep == 1);
	}
	r = mp_config_parse(&c, "near.conf", bad[4].text, strlen(bad[4].text), errs, MAX_ERR);
	CHECK(r == 1 && strstr(errs[0].hint, "did you mean 'system-agent'"));
	mp_config_free(&c);
}

/* A later layer's key replaces the same key of the same scope; other keys
 * and other scopes stay; the settings follow the later layer. */
static void test_override(void)
{
	static const char base[] = "[cgroup /a.slice]\nallow = 2-3\nheap = bind:2\n"
				   "[cgroup /b.slice]\nallow = 1\n[system]\nkeep = no\n";
	static const char over[] = "[cgroup /a.slice]\nallow = 3\n[system]\nkeep = yes\n";
	struct mp_config_error errs[MAX_ERR];
	struct mp_config c, o;
	unsigned allows = 0;

	mp_config_init(&c);
	mp_config_init(&o);
	CHECK(mp_config_parse(&c, "base.conf", base, strlen(base), errs, MAX_ERR) == 0);
	CHECK(mp_config_parse(&o, "over.conf", over, strlen(over), errs, MAX_ERR) == 0);
	CHECK(mp_config_override(&c, &o) == 0);
	CHECK(o.n_scopes == 0 && o.n_files == 0);
	CHECK(c.n_scopes == 5 && c.n_files == 2);
	for (unsigned s = 0; s < c.n_scopes; s++)
		for (unsigned q = 0; q < c.scopes[s].n_rules; q++)
			if (c.scopes[s].arg && !strcmp(c.scopes[s].arg, "/a.slice") &&
			    !strcmp(c.scopes[s].rules[q].key, "allow")) {
				allows++;
				CHECK(!strcmp(c.scopes[s].rules[q].text, "3"));
				CHECK(c.scopes[s].rules[q].file == c.files[1]);
			}
	CHECK_MSG(allows == 1, "%u allow rules of /a.slice", allows);
	/* heap of /a.slice and allow of /b.slice stay */
	CHECK(count_rules(&c) == 3);
	CHECK(c.settings.keep == 1);
	mp_config_free(&c);
	mp_config_free(&o);
}

/* ---- files on disk ---------------------------------------------------------- */

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void test_load_default(void)
{
	char root[] = "/tmp/mplace-test-config-XXXXXX", p[512];
	struct mp_config_error errs[MAX_ERR];
	struct mp_config c;
	int r;

	if (!mkdtemp(root)) {
		CHECK_MSG(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	/* nothing there: no error, no files */
	mp_config_init(&c);
	r = mp_config_load_default(&c, root, errs, MAX_ERR);
	CHECK(r == 0 && c.n_files == 0 && c.n_scopes == 0);
	mp_config_free(&c);

	snprintf(p, sizeof(p), "%s/etc", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/mplace", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/mplace/conf.d", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/mplace/mplace.conf", root);
	CHECK(write_file(p, "[system]\npolicy = local\n") == 0);
	snprintf(p, sizeof(p), "%s/etc/mplace/conf.d/20-b.conf", root);
	CHECK(write_file(p, "[comm b]\nheap = local\n") == 0);
	snprintf(p, sizeof(p), "%s/etc/mplace/conf.d/10-a.conf", root);
	CHECK(write_file(p, "[comm a]\nheap = local\n") == 0);
	snprintf(p, sizeof(p), "%s/etc/mplace/conf.d/30-c.conf.bak", root);
	CHECK(write_file(p, "not read\n") == 0);
	snprintf(p, sizeof(p), "%s/etc/mplace/conf.d/.40-hidden.conf", root);
	CHECK(write_file(p, "not read\n") == 0);

	mp_config_init(&c);
	r = mp_config_load_default(&c, root, errs, MAX_ERR);
	CHECK_MSG(r == 0, "%d errors: %s", r, r > 0 ? errs[0].msg : "");
	CHECK_MSG(c.n_files == 3, "%u files", c.n_files);
	CHECK(c.n_scopes == 3);
	if (c.n_scopes == 3) {
		CHECK(c.scopes[0].kind == MP_SCOPE_SYSTEM);
		CHECK_STR(c.scopes[1].arg, "a");
		CHECK_STR(c.scopes[2].arg, "b");
		CHECK(strstr(c.scopes[1].file, "/etc/mplace/conf.d/10-a.conf") != NULL);
	}
	mp_config_free(&c);

	/* an error in one file: counted with its position, the other files still load */
	snprintf(p, sizeof(p), "%s/etc/mplace/conf.d/15-bad.conf", root);
	CHECK(write_file(p, "[comm bad]\n\nheap = bogus-mode\n") == 0);
	mp_config_init(&c);
	r = mp_config_load_default(&c, root, errs, MAX_ERR);
	CHECK(r == 1);
	CHECK(r == 1 && errs[0].line == 3 && errs[0].col == 8 && strstr(errs[0].file, "15-bad.conf"));
	CHECK(c.n_scopes == 3 && c.n_files == 4);
	mp_config_free(&c);
	unlink(p);

	/* load_file: a missing file is -ENOENT and says why */
	snprintf(p, sizeof(p), "%s/etc/mplace/none.conf", root);
	mp_config_init(&c);
	memset(errs, 0, sizeof(errs));
	r = mp_config_load_file(&c, p, errs, MAX_ERR);
	CHECK(r == -ENOENT);
	CHECK(strstr(errs[0].msg, "No such file") != NULL && errs[0].line == 0);
	CHECK(c.n_scopes == 0);
	snprintf(p, sizeof(p), "%s/etc/mplace", root);
	r = mp_config_load_file(&c, p, errs, MAX_ERR);
	CHECK(r == -EISDIR);
	mp_config_free(&c);

	snprintf(p, sizeof(p), "%s/etc/mplace/conf.d/10-a.conf", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc/mplace/conf.d/20-b.conf", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc/mplace/conf.d/30-c.conf.bak", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc/mplace/conf.d/.40-hidden.conf", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc/mplace/mplace.conf", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc/mplace/conf.d", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/etc/mplace", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/etc", root);
	rmdir(p);
	rmdir(root);
}

/* The shipped sample and the test data: good ones are valid, the 7:12 sample fails exactly there. */
static void test_data_files(void)
{
	static const struct {
		const char *path;
		int errors;
		unsigned line, col;
	} files[] = {
		{"etc/mplace.conf.example", 0, 0, 0},	       {"tests/data/conf/good-db.conf", 0, 0, 0},
		{"tests/data/conf/good-hpc.conf", 0, 0, 0},    {"tests/data/conf/good-device.conf", 0, 0, 0},
		{"tests/data/conf/error-7-12.conf", 1, 7, 12}, {"tests/data/conf/bad-many.conf", -1, 0, 0},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(files); i++) {
		struct mp_config_error errs[MAX_ERR];
		struct mp_config c;
		char path[1024];
		int r;

		snprintf(path, sizeof(path), "%s/%s", MPLACE_SOURCE_DIR, files[i].path);
		mp_config_init(&c);
		r = mp_config_load_file(&c, path, errs, MAX_ERR);
		if (files[i].errors < 0) {
			CHECK_MSG(r > 1, "%s: %d errors", files[i].path, r);
		} else {
			CHECK_MSG(r == files[i].errors, "%s: %d errors, first %u:%u %s", files[i].path, r,
				  r > 0 ? errs[0].line : 0, r > 0 ? errs[0].col : 0, r > 0 ? errs[0].msg : "");
		}
		if (r == 0)
			CHECK_MSG(c.n_scopes > 0, "%s has no scopes", files[i].path);
		else
			CHECK(c.n_scopes == 0);
		if (files[i].line && r > 0)
			CHECK_MSG(errs[0].line == files[i].line && errs[0].col == files[i].col, "%s: at %u:%u",
				  files[i].path, errs[0].line, errs[0].col);
		mp_config_free(&c);
	}
}

int main(void)
{
	test_kind_parse();
	test_good_counts();
	test_good_detail();
	test_counted_input();
	test_errors();
	test_nul();
	test_many_errors();
	test_settings();
	test_override();
	test_load_default();
	test_data_files();
	return check_status();
}
