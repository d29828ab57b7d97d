/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace check: validate configuration files and report every error with its
 * file, line and column, and what would be right.
 *
 * Invariants: nothing goes to stdout when a file is invalid (unless --json,
 * whose output is the result); errors go to stderr as they are found; exit 0
 * when every file is valid, 1 when any is not or cannot be read, 2 on a usage
 * error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "core/config.h"
#include "tool.h"

static const char usage_text[] = "Usage: mplace check [OPTIONS] [FILE]...\n"
				 "\n"
				 "Validate mplace configuration files and report every error with its file,\n"
				 "line and column.  With no FILE, check the default configuration:\n"
				 "/etc/mplace/mplace.conf, then /etc/mplace/conf.d/*.conf in name order.\n"
				 "\n"
				 "Options:\n"
				 "      --json       print one JSON object per file, in an array, on stdout\n"
				 "  -q, --quiet      print nothing for valid files\n"
				 "      --root DIR   look for the default configuration under DIR instead of /\n"
				 "  -h, --help       show this help\n";

enum {
	OPT_JSON = 0x100,
	OPT_ROOT,
};

static const struct option options[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{"quiet", no_argument, NULL, 'q'},
	{"root", required_argument, NULL, OPT_ROOT},
	{"help", no_argument, NULL, 'h'},
	{},
};

/* Enough for any file a person wrote; more are counted and summarised. */
#define MAX_ERRORS 1000

struct check {
	bool json, quiet;
	bool failed;
	struct json_object *results; /* --json */
	struct mp_sb ok_lines;	     /* printed at the end, only if every file is valid */
};

static struct json_object *error_json(const struct mp_config_error *e)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "line", json_object_new_int((int)e->line));
	json_object_object_add(o, "col", json_object_new_int((int)e->col));
	json_object_object_add(o, "message", json_object_new_string(e->msg));
	json_object_object_add(o, "hint", e->hint[0] ? json_object_new_string(e->hint) : NULL);
	return o;
}

static void print_error(const char *file, const struct mp_config_error *e)
{
	if (e->line)
		tool_error("%s:%u:%u: %s", file, e->line, e->col, e->msg);
	else
		tool_error("%s: %s", file, e->msg);
	if (e->hint[0])
		tool_hint("%s", e->hint);
}

/*
 * Reports the files c->files[first..] just loaded: their scopes and rules, and
 * the errors (n_stored of them in errs, total counted) that name them.
 */
static void report(struct check *ck, const struct mp_config *c, unsigned first, const struct mp_config_error *errs,
		   unsigned n_stored, unsigned total)
{
	unsigned shown = 0;

	for (unsigned f = first; f < c->n_files; f++) {
		const char *file = c->files[f];
		struct json_object *o = NULL, *earr = NULL;
		unsigned scopes = 0, rules = 0, n_err = 0;

		for (unsigned i = 0; i < c->n_scopes; i++) {
			if (c->scopes[i].file != file)
				continue;
			scopes++;
			rules += c->scopes[i].n_rules;
		}
		if (ck->json)
			earr = json_object_new_array();
		for (unsigned i = 0; i < n_stored; i++) {
			if (errs[i].file != file)
				continue;
			n_err++;
			shown++;
			if (ck->json)
				json_object_array_add(earr, error_json(&errs[i]));
			else
				print_error(file, &errs[i]);
		}
		/* errors beyond the buffer belong to the last file that had room */
		if (f == c->n_files - 1 && total > shown) {
			n_err += total - shown;
			if (!ck->json)
				tool_error("%s: %u more errors not shown", file, total - shown);
		}
		if (n_err)
			ck->failed = true;
		if (ck->json) {
			o = json_object_new_object();
			json_object_object_add(o, "file", json_object_new_string(file));
			json_object_object_add(o, "valid", json_object_new_boolean(!n_err));
			json_object_object_add(o, "scopes", json_object_new_int((int)scopes));
			json_object_object_add(o, "rules", json_object_new_int((int)rules));
			json_object_object_add(o, "errors", earr);
			json_object_array_add(ck->results, o);
		} else if (!n_err && !ck->quiet) {
			mp_sb_printf(&ck->ok_lines, "%s: ok (%u scope%s, %u rule%s)\n", file, scopes,
				     scopes == 1 ? "" : "s", rules, rules == 1 ? "" : "s");
		}
	}
}

/* Loads one named file (or, with path NULL, the default set) and reports it. */
static int check_one(struct check *ck, struct mp_config *c, const char *path, const char *root,
		     struct mp_config_error *errs)
{
	unsigned first = c->n_files, stored;
	int r;

	if (path)
		r = mp_config_load_file(c, path, errs, MAX_ERRORS);
	else
		r = mp_config_load_default(c, root, errs, MAX_ERRORS);
	if (r == -ENOMEM) {
		tool_error("out of memory while reading %s", path ? path : "the configuration");
		return r;
	}
	if (r < 0)
		r = 1; /* unreadable: errs[0] says why and names the file */
	stored = (unsigned)r < MAX_ERRORS ? (unsigned)r : MAX_ERRORS;
	report(ck, c, first, errs, stored, (unsigned)r);
	return 0;
}

int cmd_check(int argc, char **argv)
{
	struct mp_config_error *errs = NULL;
	const char *root = NULL;
	struct check ck = {0};
	struct mp_config c;
	int opt, ret = EXIT_FAIL;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hq", options, NULL)) >= 0) {
		switch (opt) {
		case OPT_JSON:
			ck.json = true;
			break;
		case 'q':
			ck.quiet = true;
			break;
		case OPT_ROOT:
			root = optarg;
			break;
		case 'h':
			tool_usage(usage_text, false);
			return EXIT_OK;
		case ':':
			tool_error("option '%s' needs an argument", argv[optind - 1]);
			tool_hint("run 'mplace check --help' for the options");
			return EXIT_USAGE;
		default:
			tool_error("unknown option '%s'", argv[optind - 1]);
			tool_hint("run 'mplace check --help' for the options");
			return EXIT_USAGE;
		}
	}
	if (root && optind < argc) {
		tool_error("--root applies to the default configuration, not to named files");
		tool_hint("name the files under the root instead, e.g. mplace check %s/etc/mplace/mplace.conf", root);
		return EXIT_USAGE;
	}

	errs = calloc(MAX_ERRORS, sizeof(*errs));
	if (!errs) {
		tool_error("out of memory");
		return EXIT_FAIL;
	}
	mp_config_init(&c);
	mp_sb_init(&ck.ok_lines);
	if (ck.json)
		ck.results = json_object_new_array();

	if (optind == argc) {
		if (check_one(&ck, &c, NULL, root, errs) < 0)
			goto out;
		if (!c.n_files && !ck.json && !ck.quiet)
			printf("no configuration files in %s/etc/mplace (nothing to check)\n",
			       root && strcmp(root, "/") ? root : "");
	}
	for (int i = optind; i < argc; i++)
		if (check_one(&ck, &c, argv[i], NULL, errs) < 0)
			goto out;

	if (ck.json) {
		tool_print_json(ck.results);
		ck.results = NULL;
	} else if (!ck.failed && ck.ok_lines.len) {
		if (!mp_sb_ok(&ck.ok_lines)) {
			tool_error("out of memory");
			goto out;
		}
		fputs(ck.ok_lines.s, stdout);
	}
	ret = ck.failed ? EXIT_FAIL : EXIT_OK;
out:
	if (ck.results)
		json_object_put(ck.results);
	mp_sb_free(&ck.ok_lines);
	mp_config_free(&c);
	free(errs);
	return ret;
}
