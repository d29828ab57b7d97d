/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SVG output for mplace plot (svg.h).  Plain SVG 1.1 with one small style
 * sheet: no script, no external font or image, so any browser or viewer
 * shows it and it can be committed as documentation.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

void svg_esc(struct mp_sb *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			mp_sb_puts(b, "&lt;");
			break;
		case '>':
			mp_sb_puts(b, "&gt;");
			break;
		case '&':
			mp_sb_puts(b, "&amp;");
			break;
		case '"':
			mp_sb_puts(b, "&quot;");
			break;
		default:
			/* control characters are not allowed in XML 1.0 */
			if ((unsigned char)*s < 0x20 && *s != '\t')
				mp_sb_puts(b, "?");
			else
				mp_sb_putn(b, s, 1);
		}
	}
}

void svg_text(struct mp_sb *b, double x, double y, const char *cls, bool end, const char *fmt, ...)
{
	struct mp_sb t;
	va_list ap;

	mp_sb_init(&t);
	va_start(ap, fmt);
	mp_sb_vprintf(&t, fmt, ap);
	va_end(ap);
	mp_sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\"%s>", x, y, cls, end ? " text-anchor=\"end\"" : "");
	svg_esc(b, t.s);
	mp_sb_puts(b, "</text>\n");
	mp_sb_free(&t);
}

void svg_rect(struct mp_sb *b, double x, double y, double w, double h, const char *fill, const char *stroke,
	      const char *title, const char *attrs)
{
	mp_sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"", x, y, w, h, fill);
	if (stroke)
		mp_sb_printf(b, " stroke=\"%s\" stroke-width=\"1.5\"", stroke);
	if (attrs && *attrs)
		mp_sb_printf(b, " %s", attrs);
	if (!title) {
		mp_sb_puts(b, "/>\n");
		return;
	}
	mp_sb_puts(b, "><title>");
	svg_esc(b, title);
	mp_sb_puts(b, "</title></rect>\n");
}

/* Twelve colours far enough apart to tell nodes by, also for the common
 * colour blindnesses; a node keeps its colour across pictures. */
static const char *const node_colours[] = {
	"#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377",
	"#332288", "#117733", "#999933", "#882255", "#44aa99", "#dd7700",
};

const char *svg_node_colour(int node)
{
	return node_colours[(unsigned)node % (sizeof(node_colours) / sizeof(node_colours[0]))];
}

const char *svg_kind_colour(int kind)
{
	static const char *const by_kind[] = {
		"#88ccee", "#cc6677", "#ddcc77", "#117733", "#332288", "#aa4499",
		"#44aa99", "#999933", "#882255", "#661100", "#6699cc", "#888888",
	};

	return by_kind[(unsigned)kind % (sizeof(by_kind) / sizeof(by_kind[0]))];
}

int svg_write(const char *out, double width, double height, const char *title, const struct mp_sb *body)
{
	FILE *f = out ? fopen(out, "w") : stdout;
	struct mp_sb h;
	int r = 0;

	if (!f)
		return -errno;
	mp_sb_init(&h);
	mp_sb_printf(&h,
		     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		     "viewBox=\"0 0 %.0f %.0f\">\n<title>",
		     width, height, width, height);
	svg_esc(&h, title);
	mp_sb_puts(&h, "</title>\n<style>\n"
		       "text { font-family: 'DejaVu Sans', sans-serif; font-size: 12px; fill: #222; }\n"
		       "text.mono { font-family: 'DejaVu Sans Mono', monospace; font-size: 11px; }\n"
		       "text.head { font-size: 16px; font-weight: bold; }\n"
		       "text.label { font-weight: bold; }\n"
		       "text.small { font-size: 10px; fill: #555; }\n"
		       "text.bad { fill: #b00020; font-weight: bold; }\n"
		       "</style>\n");
	mp_sb_printf(&h, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", width, height);
	if (!mp_sb_ok(&h) || !mp_sb_ok(body)) {
		r = -ENOMEM;
		goto out;
	}
	if (fwrite(h.s, 1, h.len, f) != h.len || (body->len && fwrite(body->s, 1, body->len, f) != body->len) ||
	    fputs("</svg>\n", f) < 0 || fflush(f) != 0)
		r = -(errno ? errno : EIO);
out:
	mp_sb_free(&h);
	if (out && fclose(f) != 0 && !r)
		r = -errno;
	return r;
}
