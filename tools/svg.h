/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Writing SVG for mplace plot: a picture is built in a string buffer (its
 * size is known only at the end) and written with its header.  Every text
 * and attribute value goes through svg_esc, so paths and names with <, &
 * or quotes stay well-formed XML.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "basic/util.h"

/* Append s escaped for XML text or an attribute value in double quotes. */
void svg_esc(struct mp_sb *b, const char *s);

/* Text at (x, y) in class cls (one of the style sheet's: see svg.c),
 * anchored at its start, or at its end when end is true; printf-style,
 * escaped. */
__attribute__((format(printf, 6, 7))) void svg_text(struct mp_sb *b, double x, double y, const char *cls, bool end,
						    const char *fmt, ...);

/* A rectangle filled with fill, stroked with stroke (NULL: none), with a
 * tooltip (NULL: none) and extra attributes (already escaped, "" none). */
void svg_rect(struct mp_sb *b, double x, double y, double w, double h, const char *fill, const char *stroke,
	      const char *title, const char *attrs);

/* The colour of a node, the same in every picture (by its id), and of a
 * kind of memory. */
const char *svg_node_colour(int node);
const char *svg_kind_colour(int kind);

/*
 * Write the picture: the header with its size and title, the style sheet,
 * a white background, body, the end.  Returns 0 or -errno (the file could
 * not be written); out is NULL for stdout.
 */
int svg_write(const char *out, double width, double height, const char *title, const struct mp_sb *body);
