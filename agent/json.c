/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's JSON writer (json.h): appends into a fixed buffer and says
 * when something did not fit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->over || n >= w->size - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void jw_raw(struct jw *w, const char *s)
{
	put(w, s, strlen(s));
}

void jw_printf(struct jw *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, w->size - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->size - w->len) {
		w->buf[w->len] = '\0';
		w->over = true;
		return;
	}
	w->len += (size_t)n;
}

void jw_str(struct jw *w, const char *s)
{
	put(w, "\"", 1);
	for (; *s && !w->over; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(w, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(w, esc, 6);
		} else {
			put(w, (const char *)&c, 1);
		}
	}
	put(w, "\"", 1);
}
