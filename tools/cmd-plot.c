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
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
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

static const char usage_text[] = "Usage: mplace plot machine [--sysfs-root DIR] [-o FILE]\n"
				 "\n"
				 "Draw, as SVG, the machine's nodes by memory tier with their CPUs, memory,\n"
				 "bandwidth, latency and nearby devices, and the distances between them.\n"
				 "\n"
				 "Options:\n"
				 "  -o, --output FILE     write the picture to FILE (default: standard output)\n"
				 "  --sysfs-root DIR      read the machine under DIR instead of /\n"
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
	r = svg_write(o->out, width, y + MARGIN, "mplace plot machine", &b);
	mp_sb_free(&b);
	mp_topo_free(t);
	if (r < 0) {
		tool_error("writing %s: %s", o->out ? o->out : "standard output", strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ---- the command line ---------------------------------------------------------- */

int cmd_plot(int argc, char **argv)
{
	struct plot_opts o = {.interval = 0.5};
	const char *what;
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
	/* '+': stop at the first word, so a recorded command keeps its options */
	while ((c = getopt_long(argc, argv, "+ho:", options, NULL)) != -1) {
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
	tool_error("plot: unknown picture '%s' (machine, process PID or record)", what);
	return EXIT_USAGE;
}
