/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared message and output helpers for the mplace subcommands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tool.h"

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("mplace: error: ", fmt, ap);
	va_end(ap);
}

void tool_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("mplace: warning: ", fmt, ap);
	va_end(ap);
}

void tool_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("hint: ", fmt, ap);
	va_end(ap);
}

void tool_print_json(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

const char *tool_sysfs_root(const char *opt)
{
	const char *env;

	if (opt)
		return opt;
	env = secure_getenv("MPLACE_SYSFS_ROOT");
	return env && *env ? env : NULL;
}

void tool_usage(const char *text, bool error)
{
	fputs(text, error ? stderr : stdout);
}
