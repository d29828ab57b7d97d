/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace plot: pictures (SVG) of what mplace topo and mplace show print.
 *
 *   machine          the nodes by memory tier: CPUs, memory, bandwidth and
 *                    latency, the devices near each; the distance matrix
 *   process PID      each range of the address space, coloured by the nodes
 *                    its pages are on, with its kind and policies, and the
 *                    ranges whose pages are outside their policy marked
 *   record           pages per node and per kind over time, while a command
 *                    runs or for a while of a running process
 *
 * Everything drawn is read through the library as topo and show read it
 * (tool_topo_load, procview.c), and every element that stands for a node,
 * a range or a sample carries data-* attributes with the values it was
 * drawn from, so a test can hold the picture against topo's and show's
 * JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/util.h"
#include "machine/topo.h"
#include "procview.h"
#include "svg.h"
#include "tool.h"
#include "wire/wire.h"

static const char usage_text[] =
	"Usage: mplace plot machine [--sysfs-root DIR] [-o FILE]\n"
	"       mplace plot process PID [--sysfs-root DIR] [--all] [-o FILE]\n"
	"       mplace plot record [--interval SECONDS] [--seconds N] [-o FILE] (--pid PID | -- COMMAND [ARG]...)\n"
	"\n"
	"Draw, as SVG: the machine's nodes by memory tier with their CPUs, memory,\n"
	"bandwidth, latency and nearby devices, and the distances between them; a\n"
	"process's address space range by range, coloured by the nodes its pages are\n"
	"on, with each range's kind and policies and the pages outside them marked;\n"
	"or a process's pages per node and per kind over time, while a command runs\n"
	"or for a while of a running process.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE     write the picture to FILE (default: standard output)\n"
	"  --sysfs-root DIR      read the machine under DIR instead of /\n"
	"  --all                 process: draw ranges without present pages too\n"
	"  --pid PID             record: the running process to record\n"
	"  --seconds N           record: stop after N seconds\n"
	"  --interval SECONDS    record: time between samples (default 0.5)\n"
	"  -h, --help            show this help\n";

enum { OPT_SYSFS_ROOT = 0x100, OPT_ALL, OPT_PID, OPT_SECONDS, OPT_INTERVAL };

static const struct option options[] = {
	{"output", required_argument, NULL, 'o'},
	{"sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT},
	{"all", no_argument, NULL, OPT_ALL},
	{"pid", required_argument, NULL, OPT_PID},
	{"seconds", required_argument, NULL, OPT_SECONDS},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"help", no_argument, NULL, 'h'},
	{},
};

struct plot_opts {
	const char *out, *root;
	bool all;
	int pid;
	double seconds, interval;
};

/* The picture to -o's file or standard output: EXIT_OK, or EXIT_FAIL said. */
static int write_picture(const struct plot_opts *o, double width, double height, const char *title,
			 const struct mp_sb *b)
{
	int r = svg_write(o->out, width, height, title, b);

	if (r < 0) {
		tool_error("writing %s: %s", o->out ? o->out : "standard output", strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ---- machine ----------------------------------------------------------------- */

#define NODE_W	 270.0
#define NODE_H	 170.0
#define GAP	 16.0
#define MARGIN	 20.0
#define LABEL_W	 130.0
#define CELL_W	 44.0
#define CELL_H	 24.0
#define DEV_ROWS 4

static const char *const dev_type_names[] = {[MP_DEV_PCI] = "pci", [MP_DEV_NET] = "net", [MP_DEV_BLOCK] = "block"};

/* "pci:0000:3b:00.0 net:eth0" of the devices near node (by firmware). */
static unsigned node_devices(const struct mp_topo *t, int node, struct mp_sb *b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->n_devices; i++) {
		if (t->devices[i].node != node)
			continue;
		mp_sb_printf(b, "%s%s:%s", n ? " " : "", dev_type_names[t->devices[i].type], t->devices[i].name);
		n++;
	}
	return n;
}

/* An attribute with a number, or empty when it is unknown (0). */
static void attr_u64(struct mp_sb *b, const char *name, uint64_t v)
{
	if (v)
		mp_sb_printf(b, " %s=\"%" PRIu64 "\"", name, v);
	else
		mp_sb_printf(b, " %s=\"\"", name);
}

static void draw_node(struct mp_sb *b, const struct mp_topo *t, const struct mp_node *n, double x, double y)
{
	const char *colour = svg_node_colour(n->id);
	struct mp_sb cpus, devs;
	char total[32], free_[32];
	unsigned n_devs;
	double ty = y + 42;

	mp_sb_init(&cpus);
	mp_sb_init(&devs);
	tool_cpu_list(n->cpus, n->n_cpus, &cpus);
	n_devs = node_devices(t, n->id, &devs);

	mp_sb_printf(b, "<g class=\"node\" data-node=\"%d\" data-tier=\"", n->id);
	if (n->tier >= 0)
		mp_sb_printf(b, "%d", n->tier);
	mp_sb_puts(b, "\" data-cpus=\"");
	svg_esc(b, cpus.s ? cpus.s : "");
	mp_sb_puts(b, "\"");
	attr_u64(b, "data-memory-total", n->mem_total);
	attr_u64(b, "data-memory-free", n->mem_total ? n->mem_free : 0);
	attr_u64(b, "data-read-bandwidth", n->read_bw);
	attr_u64(b, "data-read-latency", n->read_lat);
	attr_u64(b, "data-write-bandwidth", n->write_bw);
	attr_u64(b, "data-write-latency", n->write_lat);
	mp_sb_puts(b, " data-devices=\"");
	svg_esc(b, devs.s ? devs.s : "");
	mp_sb_puts(b, "\">\n");

	svg_rect(b, x, y, NODE_W, NODE_H, "#f7f7f7", colour, NULL, "rx=\"6\"");
	svg_rect(b, x, y, NODE_W, 24, colour, NULL, NULL, "rx=\"6\"");
	mp_sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" style=\"fill:#fff\">node %d%s</text>\n", x + 8,
		     y + 17, n->id, n->gpu_memory ? " (GPU memory)" : "");

	svg_text(b, x + 8, ty, "", false, "CPUs %s", cpus.len ? cpus.s : "none");
	ty += 18;
	if (n->mem_total) {
		double used = n->mem_total > n->mem_free ? (double)(n->mem_total - n->mem_free) / n->mem_total : 0;

		tool_human_size(n->mem_total, total, sizeof(total));
		tool_human_size(n->mem_free, free_, sizeof(free_));
		svg_text(b, x + 8, ty, "", false, "memory %s, %s free", total, free_);
		ty += 6;
		svg_rect(b, x + 8, ty, NODE_W - 16, 8, "#dddddd", NULL, NULL, "");
		svg_rect(b, x + 8, ty, (NODE_W - 16) * used, 8, colour, NULL, "memory in use", "");
		ty += 22;
	} else {
		svg_text(b, x + 8, ty, "", false, "memory %s", n->has_memory ? "unknown" : "none");
		ty += 18;
	}
	if (n->read_bw || n->read_lat)
		svg_text(b, x + 8, ty, "", false, "read %" PRIu32 " MB/s, %" PRIu32 " ns", n->read_bw, n->read_lat);
	else
		svg_text(b, x + 8, ty, "small", false, "bandwidth and latency unknown (no HMAT)");
	ty += 18;
	if (n->write_bw || n->write_lat) {
		svg_text(b, x + 8, ty, "", false, "write %" PRIu32 " MB/s, %" PRIu32 " ns", n->write_bw, n->write_lat);
		ty += 18;
	}
	/* the devices near the node, a few by name */
	if (n_devs) {
		char *save = NULL, *tok;
		unsigned shown = 0;

		for (tok = strtok_r(devs.s, " ", &save); tok && shown < DEV_ROWS; tok = strtok_r(NULL, " ", &save))
			svg_text(b, x + 8, ty + 14.0 * shown++, "small", false, "%s", tok);
		if (n_devs > shown)
			svg_text(b, x + 8, ty + 14.0 * shown, "small", false, "and %u more devices", n_devs - shown);
	}
	mp_sb_puts(b, "</g>\n");
	mp_sb_free(&cpus);
	mp_sb_free(&devs);
}

/* The label of a band, in two lines: the tier rank, and its sysfs id or
 * "derived"; or the nodes without a tier. */
static void band_label(struct mp_sb *b, const struct mp_topo *t, int rank, double x, double y)
{
	int id = -1;

	for (unsigned i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].tier == rank)
			id = t->nodes[i].tier_id;
	if (rank < 0) {
		svg_text(b, x, y, "label", false, "no tier");
		svg_text(b, x, y + 16, "small", false, "no memory, or a GPU's");
		return;
	}
	svg_text(b, x, y, "label", false, "tier %d", rank);
	if (id >= 0)
		svg_text(b, x, y + 16, "small", false, "memory_tier%d", id);
	else
		svg_text(b, x, y + 16, "small", false, "derived");
}

static int plot_machine(const struct plot_opts *o)
{
	struct mp_topo *t = NULL;
	struct mp_sb b;
	double y = MARGIN + 40, width = 600;
	unsigned per_band_max = 0;
	int r;

	r = tool_topo_load(o->root, 0, &t);
	if (r < 0)
		return EXIT_FAIL;
	mp_sb_init(&b);
	svg_text(&b, MARGIN, MARGIN + 10, "head", false, "Machine: %u node%s, %u memory tier%s (%s)", t->n_nodes,
		 t->n_nodes == 1 ? "" : "s", t->n_tiers, t->n_tiers == 1 ? "" : "s",
		 t->tiers_from_sysfs ? "from memory_tiering" : "derived: the kernel exposes none");
	svg_text(&b, MARGIN, MARGIN + 28, "small", false,
		 "fastest tier on top; each box one node: its online CPUs, memory (bar: in use), HMAT bandwidth "
		 "and latency, devices near it");

	/* one band per tier rank, fastest first, then the nodes with none */
	for (int rank = 0; rank <= (int)t->n_tiers; rank++) {
		int want = rank < (int)t->n_tiers ? rank : -1;
		unsigned k = 0;

		for (unsigned i = 0; i < t->n_nodes; i++)
			if (t->nodes[i].tier == want)
				k++;
		if (!k)
			continue;
		mp_sb_printf(&b, "<g class=\"tier\" data-rank=\"%d\">\n", want);
		svg_rect(&b, MARGIN, y, LABEL_W + k * (NODE_W + GAP), NODE_H + 2 * GAP, "#eef2f7", NULL, NULL,
			 "rx=\"8\"");
		band_label(&b, t, want, MARGIN + 10, y + GAP + 16);
		k = 0;
		for (unsigned i = 0; i < t->n_nodes; i++)
			if (t->nodes[i].tier == want)
				draw_node(&b, t, &t->nodes[i], MARGIN + LABEL_W + k++ * (NODE_W + GAP), y + GAP);
		mp_sb_puts(&b, "</g>\n");
		if (k > per_band_max)
			per_band_max = k;
		y += NODE_H + 3 * GAP;
	}

	/* the distance matrix, shaded by distance */
	svg_text(&b, MARGIN, y + 14, "label", false, "Distances (node to node, 10 = local)");
	y += 24;
	{
		int dmin = INT_MAX, dmax = 0;

		for (size_t i = 0; i < (size_t)t->n_nodes * t->n_nodes; i++)
			if (t->distance[i] > 0) {
				dmin = t->distance[i] < dmin ? t->distance[i] : dmin;
				dmax = t->distance[i] > dmax ? t->distance[i] : dmax;
			}
		for (unsigned j = 0; j < t->n_nodes; j++)
			svg_text(&b, MARGIN + CELL_W * (j + 1) + CELL_W / 2, y + 16, "label", false, "%d",
				 t->nodes[j].id);
		for (unsigned i = 0; i < t->n_nodes; i++) {
			double cy = y + CELL_H * (i + 1);

			svg_text(&b, MARGIN + 6, cy + 16, "label", false, "%d", t->nodes[i].id);
			for (unsigned j = 0; j < t->n_nodes; j++) {
				int d = t->distance[(size_t)i * t->n_nodes + j];
				double cx = MARGIN + CELL_W * (j + 1);
				char fill[16], attrs[96];
				int shade = 235;

				if (d > 0 && dmax > dmin)
					shade = 235 - (int)(140.0 * (d - dmin) / (dmax - dmin));
				snprintf(fill, sizeof(fill), "#%02x%02xff", shade, shade);
				snprintf(attrs, sizeof(attrs),
					 "class=\"distance\" data-from=\"%d\" data-to=\"%d\" "
					 "data-distance=\"%d\"",
					 t->nodes[i].id, t->nodes[j].id, d > 0 ? d : 0);
				svg_rect(&b, cx, cy, CELL_W - 2, CELL_H - 2, fill, NULL, NULL, attrs);
				if (d > 0)
					svg_text(&b, cx + 8, cy + 16, "", false, "%d", d);
				else
					svg_text(&b, cx + 8, cy + 16, "", false, "-");
			}
		}
		y += CELL_H * (t->n_nodes + 1) + GAP;
	}
	width = MARGIN * 2 + LABEL_W + per_band_max * (NODE_W + GAP);
	if (width < MARGIN * 2 + CELL_W * (t->n_nodes + 1))
		width = MARGIN * 2 + CELL_W * (t->n_nodes + 1);
	if (width < 760)
		width = 760;
	r = write_picture(o, width, y + MARGIN, "mplace plot machine", &b);
	mp_sb_free(&b);
	mp_topo_free(t);
	return r;
}

/* ---- process ----------------------------------------------------------------- */

#define ROW_H	 18.0
#define COL_KIND 205.0
#define COL_KPOL 265.0
#define COL_REQ	 430.0
#define COL_BAR	 595.0
#define BAR_MAX	 300.0
#define COL_PAGE 905.0
#define COL_NOTE 1065.0

/* "0:12 1:3": the pages on each node, as data-pages. */
static void pages_attr(struct mp_sb *b, const uint64_t *per_node)
{
	bool first = true;

	for (unsigned n = 0; n < MP_PM_NODES; n++)
		if (per_node[n]) {
			mp_sb_printf(b, "%s%u:%" PRIu64, first ? "" : " ", n, per_node[n]);
			first = false;
		}
}

/* "N0=12 N1=3", or "-". */
static void pages_text(struct mp_sb *b, const uint64_t *per_node)
{
	size_t len = b->len;

	for (unsigned n = 0; n < MP_PM_NODES; n++)
		if (per_node[n])
			mp_sb_printf(b, "%sN%u=%" PRIu64, b->len > len ? " " : "", n, per_node[n]);
	if (b->len == len)
		mp_sb_puts(b, "-");
}

/* Text cut to at most max characters, with "..." when cut. */
static void clipped(char *buf, size_t size, const char *s, size_t max)
{
	if (strlen(s) <= max || max < 4)
		snprintf(buf, size, "%s", s);
	else
		snprintf(buf, size, "%.*s...", (int)(max - 3), s);
}

/*
 * One range: the bar's width grows with the log of the range's size (a
 * 4 KiB page and a 1 GiB reservation both show; integer bits, so no
 * libm is loaded for it), and is filled, from the
 * left, by the share of its pages on each node in that node's colour; grey
 * is not present.
 */
static void draw_range(struct mp_sb *b, struct pview *v, unsigned i, double y)
{
	const struct mp_pm_range *r = &v->pm.r[i];
	uint64_t npages = r->page_size ? (r->end - r->start) / r->page_size : 0;
	double w = 8 + 12 * (64 - __builtin_clzll(npages + 1)), x = COL_BAR;
	struct pv_judged j;
	struct mp_sb t;
	char size[32], cut[64], nodes[128];

	pv_judge(v, i, &j);
	if (w > BAR_MAX)
		w = BAR_MAX;
	mp_sb_printf(b, "<g class=\"range\" data-start=\"0x%" PRIx64 "\" data-end=\"0x%" PRIx64 "\" data-kind=\"%s\"",
		     r->start, r->end, mp_pm_kind_name(r->kind));
	mp_sb_puts(b, " data-path=\"");
	svg_esc(b, r->path);
	mp_sb_puts(b, "\" data-kernel-policy=\"");
	svg_esc(b, r->in_numa_maps ? r->kpolicy : "");
	mp_sb_puts(b, "\" data-requested=\"");
	svg_esc(b, j.q && j.q->requested ? j.q->requested : "");
	mp_sb_puts(b, "\" data-pages=\"");
	pages_attr(b, r->per_node);
	mp_sb_printf(b, "\" data-present=\"%" PRIu64 "\" data-matches=\"%s\" data-outside=\"%" PRIu64 "\">\n",
		     r->present, j.matches ? "true" : "false", j.outside);
	if (i % 2)
		svg_rect(b, MARGIN - 4, y - 13, COL_NOTE + 330 - MARGIN, ROW_H, "#f4f4f4", NULL, NULL, "");
	svg_text(b, MARGIN, y, "mono", false, "%" PRIx64 "-%" PRIx64, r->start, r->end);
	svg_text(b, COL_KIND, y, "", false, "%s", mp_pm_kind_name(r->kind));
	clipped(cut, sizeof(cut), r->in_numa_maps ? r->kpolicy : "?", 24);
	svg_text(b, COL_KPOL, y, "mono", false, "%s", cut);
	clipped(cut, sizeof(cut), j.q ? (j.q->requested ? j.q->requested : "?") : v->agent ? "-" : "unknown", 24);
	svg_text(b, COL_REQ, y, "mono", false, "%s", cut);

	mp_format_size(r->end - r->start, size, sizeof(size));
	mp_sb_init(&t);
	mp_sb_printf(&t, "%s, %" PRIu64 " of %" PRIu64 " pages present%s%s", size, r->present, npages,
		     r->path ? ": " : "", r->path ? r->path : "");
	svg_rect(b, x, y - 11, w, 12, "#e0e0e0", j.matches ? NULL : "#b00020", t.s, "");
	mp_sb_free(&t);
	for (unsigned n = 0; n < MP_PM_NODES && npages; n++) {
		double sw;

		if (!r->per_node[n])
			continue;
		sw = w * (double)r->per_node[n] / (double)npages;
		if (sw < 1)
			sw = 1;
		mp_sb_init(&t);
		mp_sb_printf(&t, "node %u: %" PRIu64 " pages", n, r->per_node[n]);
		svg_rect(b, x, y - 11, sw, 12, svg_node_colour((int)n), NULL, t.s, "");
		mp_sb_free(&t);
		x += sw;
	}
	mp_sb_init(&t);
	pages_text(&t, r->per_node);
	svg_text(b, COL_PAGE, y, "mono", false, "%s", t.s);
	mp_sb_free(&t);
	if (!j.matches) {
		mp_mask_format(&j.allowed, nodes, sizeof(nodes));
		mp_sb_printf(b, "<g class=\"violation\" data-start=\"0x%" PRIx64 "\">", r->start);
		svg_text(b, COL_NOTE, y, "bad", false, "\u2717 %" PRIu64 " outside nodes %s (%s)", j.outside, nodes,
			 j.against);
		mp_sb_puts(b, "</g>\n");
	} else if (r->path) {
		clipped(cut, sizeof(cut), r->path, 48);
		svg_text(b, COL_NOTE, y, "small", false, "%s", cut);
	}
	mp_sb_puts(b, "</g>\n");
}

static int plot_process(const struct plot_opts *o, int pid)
{
	struct mp_topo *t = NULL;
	struct pview v;
	struct mp_sb b;
	uint64_t total[MP_PM_NODES] = {0}, all = 0;
	unsigned rows = 0, n_viol = 0;
	char line[512];
	double y, x;
	int r;

	r = tool_topo_load(o->root, MP_TOPO_DEVICES | MP_TOPO_PHYS | MP_TOPO_HUGEPAGES | MP_TOPO_HMAT, &t);
	if (r < 0)
		return EXIT_FAIL;
	r = pv_load(&v, pid, MP_WIRE_TIMEOUT_MS, PV_MOVE_PAGES);
	if (r < 0) {
		pv_say_error(pid, r);
		mp_topo_free(t);
		return EXIT_FAIL;
	}
	for (unsigned i = 0; i < v.pm.n; i++) {
		for (unsigned n = 0; n < MP_PM_NODES; n++)
			total[n] += v.pm.r[i].per_node[n];
		all += v.pm.r[i].present;
	}

	mp_sb_init(&b);
	mp_sb_printf(&b, "<g class=\"process\" data-pid=\"%d\" data-method=\"%s\" data-pages=\"", pid,
		     v.pm.method == MP_PM_MOVE_PAGES ? "move_pages" : "numa_maps");
	pages_attr(&b, total);
	mp_sb_puts(&b, "\">\n");
	svg_text(&b, MARGIN, MARGIN + 10, "head", false, "Process %d (%s) %s", pid, v.pm.comm ? v.pm.comm : "?",
		 v.pm.exe ? v.pm.exe : "");
	pv_agent_line(&v, line, sizeof(line));
	svg_text(&b, MARGIN, MARGIN + 30, "small", false, "agent: %s", line);
	svg_text(&b, MARGIN, MARGIN + 44, "small", false,
		 "pages: %s; bar width: the range's size (log scale), "
		 "colour: the share of its pages on each node, grey: not present",
		 v.pm.method == MP_PM_MOVE_PAGES ? "each present page asked with move_pages"
						 : "numa_maps' counts (move_pages was refused)");
	/* the legend: every node of the machine, with the pages on it */
	x = MARGIN;
	y = MARGIN + 66;
	for (unsigned i = 0; i < t->n_nodes; i++) {
		int id = t->nodes[i].id;
		uint64_t p = id < MP_PM_NODES ? total[id] : 0;

		svg_rect(&b, x, y - 11, 12, 12, svg_node_colour(id), NULL, NULL, "");
		svg_text(&b, x + 16, y, "", false, "node %d: %" PRIu64 " pages (%.1f%%)", id, p,
			 all ? 100.0 * (double)p / (double)all : 0.0);
		x += 200;
	}
	mp_sb_puts(&b, "</g>\n");

	y += 30;
	svg_text(&b, MARGIN, y, "label", false, "RANGE");
	svg_text(&b, COL_KIND, y, "label", false, "KIND");
	svg_text(&b, COL_KPOL, y, "label", false, "KERNEL");
	svg_text(&b, COL_REQ, y, "label", false, "REQUESTED");
	svg_text(&b, COL_BAR, y, "label", false, "PAGES BY NODE");
	svg_text(&b, COL_PAGE, y, "label", false, "PAGES");
	y += ROW_H + 4;
	for (unsigned i = 0; i < v.pm.n; i++) {
		struct pv_judged j;

		pv_judge(&v, i, &j);
		/* as mplace show's table: ranges with pages, and every violation */
		if (!o->all && !v.pm.r[i].present && j.matches)
			continue;
		n_viol += !j.matches;
		draw_range(&b, &v, i, y + ROW_H * rows++);
	}
	y += ROW_H * rows + 10;
	if (n_viol)
		svg_text(&b, MARGIN, y, "bad", false, "%u range%s with pages outside their policy", n_viol,
			 n_viol == 1 ? "" : "s");
	else
		svg_text(&b, MARGIN, y, "", false, "violations: none");
	r = write_picture(o, COL_NOTE + 340, y + MARGIN, "mplace plot process", &b);
	mp_sb_free(&b);
	pv_free(&v);
	mp_topo_free(t);
	return r;
}

/* ---- record ------------------------------------------------------------------ */

#define CHART_W 900.0
#define CHART_H 200.0

struct sample {
	double t; /* seconds since the start */
	uint64_t present;
	uint64_t node[MP_PM_NODES];
	uint64_t kind[N_KINDS];
};

static volatile sig_atomic_t record_stop;

static void on_stop(int sig)
{
	(void)sig;
	record_stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * One sample: the process read as show reads it, the pages taken from
 * numa_maps' per-node counts (the kernel's own walk of the page tables):
 * asking each page with move_pages at every sample would cost as much as
 * the program's memory is large.  The agent is asked too, so its heap is
 * called heap.
 */
static int take_sample(int pid, double t, struct sample *ret, char **comm)
{
	struct pview v;
	int r = pv_load(&v, pid, 500, PV_NUMA_MAPS);

	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->t = t;
	for (unsigned i = 0; i < v.pm.n; i++) {
		const struct mp_pm_range *rg = &v.pm.r[i];
		uint64_t on_nodes = 0;

		for (unsigned n = 0; n < MP_PM_NODES; n++) {
			ret->node[n] += rg->per_node[n];
			on_nodes += rg->per_node[n];
		}
		/* pages on nodes past MP_PM_NODES are counted in present, not drawn */
		ret->kind[rg->kind] += on_nodes;
		ret->present += on_nodes;
	}
	if (!*comm && v.pm.comm)
		*comm = strdup(v.pm.comm);
	pv_free(&v);
	return 0;
}

/* Start argv with a pipe closed on exec: EOF means it runs, an errno that
 * it could not be started.  Returns the pid or -errno. */
static int start_command(char **argv)
{
	int fds[2], err = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		close(fds[0]);
		execvp(argv[0], argv);
		err = errno;
		if (write(fds[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(fds[1]);
	do
		n = read(fds[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n == (ssize_t)sizeof(err)) {
		waitpid(pid, NULL, 0);
		return -err;
	}
	return pid;
}

static void draw_chart(struct mp_sb *b, const struct sample *s, unsigned n, bool by_node, double y0, uint64_t max)
{
	double bw = CHART_W / n, top = y0 + 20;

	svg_text(b, MARGIN, y0 + 10, "label", false, "%s", by_node ? "Pages per node" : "Pages per kind");
	svg_rect(b, MARGIN + 60, top, CHART_W, CHART_H, "#fafafa", "#cccccc", NULL, "");
	svg_text(b, MARGIN + 56, top + 10, "small", true, "%" PRIu64, max);
	svg_text(b, MARGIN + 56, top + CHART_H, "small", true, "0");
	for (unsigned i = 0; i < n; i++) {
		double x = MARGIN + 60 + bw * i, y = top + CHART_H;
		unsigned parts = by_node ? MP_PM_NODES : N_KINDS;

		for (unsigned k = 0; k < parts; k++) {
			uint64_t p = by_node ? s[i].node[k] : s[i].kind[k];
			double h = max ? CHART_H * (double)p / (double)max : 0;
			char title[96];

			if (!p)
				continue;
			snprintf(title, sizeof(title), "%.2f s: %" PRIu64 " pages %s %s", s[i].t, p,
				 by_node ? "on node" : "of", by_node ? "" : mp_pm_kind_name((int)k));
			if (by_node)
				snprintf(title + strlen(title), sizeof(title) - strlen(title), "%u", k);
			y -= h;
			svg_rect(b, x, y, bw > 1.5 ? bw - 0.5 : bw, h,
				 by_node ? svg_node_colour((int)k) : svg_kind_colour((int)k), NULL, title, "");
		}
	}
	/* the time axis: start, middle, end */
	for (int q = 0; q <= 2; q++) {
		unsigned i = q == 0 ? 0 : q == 1 ? n / 2 : n - 1;

		svg_text(b, MARGIN + 60 + bw * i + bw / 2, top + CHART_H + 14, "small", false, "%.1f s", s[i].t);
	}
}

static void draw_legend(struct mp_sb *b, const struct sample *s, unsigned n, bool by_node, double y)
{
	double x = MARGIN + 60;
	unsigned parts = by_node ? MP_PM_NODES : N_KINDS;

	for (unsigned k = 0; k < parts; k++) {
		bool any = false;

		for (unsigned i = 0; i < n && !any; i++)
			any = (by_node ? s[i].node[k] : s[i].kind[k]) != 0;
		if (!any)
			continue;
		svg_rect(b, x, y - 10, 12, 12, by_node ? svg_node_colour((int)k) : svg_kind_colour((int)k), NULL, NULL,
			 "");
		if (by_node)
			svg_text(b, x + 16, y, "", false, "node %u", k);
		else
			svg_text(b, x + 16, y, "", false, "%s", mp_pm_kind_name((int)k));
		x += 90;
	}
}

static int plot_record(const struct plot_opts *o, char **cmd)
{
	struct sigaction sa = {.sa_handler = on_stop}, old_int, old_term;
	struct sample *s = NULL;
	unsigned n = 0, cap = 0;
	uint64_t max = 0;
	char *comm = NULL;
	double start, next;
	int pid = o->pid, child = 0, status = 0, r, ret = EXIT_FAIL;
	struct mp_sb b;

	/* a ^C ends the recording, and the picture is still written */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (cmd) {
		child = start_command(cmd);
		if (child < 0) {
			tool_error("cannot run '%s': %s", cmd[0], strerror(-child));
			goto out;
		}
		pid = child;
	}
	start = next = now_s();
	while (!record_stop) {
		double t = now_s() - start;
		struct timespec ts;

		if (child && waitpid(child, &status, WNOHANG) == child) {
			child = 0;
			break;
		}
		if (n == cap) {
			struct sample *ns = realloc(s, sizeof(*s) * (cap = cap ? 2 * cap : 64));

			if (!ns) {
				tool_error("out of memory after %u samples", n);
				goto out;
			}
			s = ns;
		}
		r = take_sample(pid, t, &s[n], &comm);
		if (r == -ESRCH || r == -ENODATA)
			break; /* it ended */
		if (r < 0) {
			pv_say_error(pid, r);
			goto out;
		}
		max = s[n].present > max ? s[n].present : max;
		n++;
		if (o->seconds > 0 && t >= o->seconds)
			break;
		next += o->interval;
		t = next - now_s();
		if (t > 0) {
			ts.tv_sec = (time_t)t;
			ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);
		}
	}
	if (child)
		waitpid(child, &status, 0);
	if (cmd && WIFEXITED(status) && WEXITSTATUS(status))
		tool_warning("'%s' exited with status %d", cmd[0], WEXITSTATUS(status));
	if (!n) {
		tool_error("no sample of process %d: it ended before it could be read", pid);
		goto out;
	}

	mp_sb_init(&b);
	mp_sb_printf(&b, "<g class=\"record\" data-pid=\"%d\" data-samples=\"%u\" data-interval=\"%.3f\">\n", pid, n,
		     o->interval);
	svg_text(&b, MARGIN, MARGIN + 10, "head", false, "Process %d (%s): %u samples over %.1f s", pid,
		 comm ? comm : "?", n, s[n - 1].t);
	svg_text(&b, MARGIN, MARGIN + 28, "small", false,
		 "present pages from numa_maps' per-node counts every %.2f s; kinds as mplace show names them",
		 o->interval);
	for (unsigned i = 0; i < n; i++) {
		mp_sb_printf(&b, "<g class=\"sample\" data-t=\"%.3f\" data-present=\"%" PRIu64 "\" data-pages=\"",
			     s[i].t, s[i].present);
		pages_attr(&b, s[i].node);
		mp_sb_puts(&b, "\" data-kinds=\"");
		for (unsigned k = 0, first = 1; k < N_KINDS; k++)
			if (s[i].kind[k]) {
				mp_sb_printf(&b, "%s%s:%" PRIu64, first ? "" : " ", mp_pm_kind_name((int)k),
					     s[i].kind[k]);
				first = 0;
			}
		mp_sb_puts(&b, "\"/>\n");
	}
	draw_chart(&b, s, n, true, MARGIN + 44, max);
	draw_legend(&b, s, n, true, MARGIN + 44 + CHART_H + 56);
	draw_chart(&b, s, n, false, MARGIN + 44 + CHART_H + 80, max);
	draw_legend(&b, s, n, false, MARGIN + 44 + 2 * CHART_H + 136);
	mp_sb_puts(&b, "</g>\n");
	ret = write_picture(o, CHART_W + 60 + 2 * MARGIN, MARGIN + 2 * CHART_H + 200, "mplace plot record", &b);
	mp_sb_free(&b);
out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(s);
	free(comm);
	return ret;
}

/* ---- the command line ---------------------------------------------------------- */

int cmd_plot(int argc, char **argv)
{
	struct plot_opts o = {.interval = 0.5};
	const char *what;
	uint64_t v;
	int c;

	/* the picture first: "mplace plot machine --sysfs-root DIR" */
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		tool_usage(usage_text, false);
		return EXIT_OK;
	}
	if (argc < 2 || argv[1][0] == '-') {
		tool_error("plot: which picture? machine, process PID or record");
		tool_usage(usage_text, true);
		return EXIT_USAGE;
	}
	what = argv[1];
	argc--;
	argv++;
	optind = 0;
	/* options anywhere; a recorded command comes after "--", which ends them */
	while ((c = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.out = optarg;
			break;
		case OPT_SYSFS_ROOT:
			o.root = optarg;
			break;
		case OPT_ALL:
			o.all = true;
			break;
		case OPT_PID:
			if (mp_parse_uint(optarg, strlen(optarg), INT_MAX, &v) < 0 || v == 0) {
				tool_error("--pid takes a process id, not '%s'", optarg);
				return EXIT_USAGE;
			}
			o.pid = (int)v;
			break;
		case OPT_SECONDS:
		case OPT_INTERVAL:
			if (tool_parse_seconds(optarg, 0.001, 86400, c == OPT_SECONDS ? &o.seconds : &o.interval) < 0) {
				tool_error("--%s takes a number of seconds above zero, not '%s'",
					   c == OPT_SECONDS ? "seconds" : "interval", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			tool_usage(usage_text, false);
			return EXIT_OK;
		default:
			tool_usage(usage_text, true);
			return EXIT_USAGE;
		}
	}
	o.root = tool_sysfs_root(o.root);
	if (!strcmp(what, "machine")) {
		if (optind < argc) {
			tool_error("plot machine: unexpected argument '%s'", argv[optind]);
			return EXIT_USAGE;
		}
		return plot_machine(&o);
	}
	if (!strcmp(what, "process")) {
		uint64_t pid;

		if (optind + 1 != argc || mp_parse_uint(argv[optind], strlen(argv[optind]), INT_MAX, &pid) < 0 ||
		    pid == 0) {
			tool_error("plot process takes one process id");
			tool_usage(usage_text, true);
			return EXIT_USAGE;
		}
		return plot_process(&o, (int)pid);
	}
	if (!strcmp(what, "record")) {
		bool has_cmd = optind < argc;

		if (has_cmd == (o.pid != 0)) {
			tool_error("plot record: give --pid PID or -- COMMAND, one of them");
			tool_usage(usage_text, true);
			return EXIT_USAGE;
		}
		if (has_cmd && strcmp(argv[optind - 1], "--")) {
			tool_error("plot record: the command comes after '--'");
			tool_usage(usage_text, true);
			return EXIT_USAGE;
		}
		return plot_record(&o, has_cmd ? argv + optind : NULL);
	}
	tool_error("plot: unknown picture '%s' (machine, process PID or record)", what);
	return EXIT_USAGE;
}
