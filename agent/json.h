/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * A JSON writer into a caller's fixed buffer, for the agent's answers: no
 * allocation, no lock (it runs in the agent's control thread, which a fork
 * can interrupt anywhere).  Nothing is ever cut silently: once something
 * does not fit, `over` is set and the caller answers an error instead.
 */
#include <stdbool.h>
#include <stddef.h>

struct jw {
	char *buf;
	size_t size, len;
	bool over; /* something did not fit: the text is not to be sent */
};

static inline void jw_init(struct jw *w, char *buf, size_t size)
{
	w->buf = buf;
	w->size = size;
	w->len = 0;
	w->over = size == 0;
	if (size)
		buf[0] = '\0';
}

/* Appends text as it is. */
void jw_raw(struct jw *w, const char *s);
__attribute__((format(printf, 2, 3))) void jw_printf(struct jw *w, const char *fmt, ...);
/* Appends s as a JSON string: quoted, '"' and '\\' escaped, control
 * characters as \u00XX. */
void jw_str(struct jw *w, const char *s);
