/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace top: where memory is, live.  Per node and per memory tier: total,
 * free and available memory, how much of it the listed processes hold, and
 * the pages promoted into and demoted out of it per second; the machine's
 * migrations per second; per process (or per cgroup) its pages on each node,
 * what its agent says was requested against the kernel policies in force,
 * and the pages outside their policy, judged as mplace show judges them.
 *
 * It has to keep up with thousands of processes at a few percent of a CPU,
 * so a process's map is read again only when it may have changed: its
 * /proc/PID/stat stamp (faults, CPU time, resident size) moved, or pages
 * were migrated somewhere on the machine (pgmigrate_success moved), in
 * which case the processes that did not run are read again a slice per
 * refresh.  Pages come from numa_maps' per-node counts (the kernel's walk
 * of the page tables), not from a move_pages query of every page.
 *
 * Nothing is changed; processes that may not be read (another user's,
 * without ptrace rights) are counted and left out.
 */
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/util.h"
#include "machine/topo.h"
#include "procview.h"
#include "tool.h"

static const char usage_text[] = "Usage: mplace top [OPTIONS]\n"
				 "\n"
				 "Show, live and full-screen, the memory of each NUMA node and memory tier\n"
				 "(total, free, available, held by the listed processes, promotions and\n"
				 "demotions per second) and of each process or cgroup: its pages on each\n"
				 "node, the policies requested against those in force, and the pages\n"
				 "outside their policy.  Press h in it for the keys.\n"
				 "\n"
				 "Options:\n"
				 "  --interval SECONDS  time between refreshes (default 2)\n"
				 "  --pid PID           list this process only (may be repeated)\n"
				 "  --cgroup            list cgroups rather than processes\n"
				 "  --once              print one screen (or --json) and exit\n"
				 "  --json              with --once: print a JSON object\n"
				 "  --sysfs-root DIR    read the machine under DIR instead of /\n"
				 "  -h, --help          show this help\n";

enum { OPT_INTERVAL = 0x100, OPT_PID, OPT_CGROUP, OPT_ONCE, OPT_JSON, OPT_SYSFS_ROOT };

static const struct option options[] = {
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"pid", required_argument, NULL, OPT_PID},
	{"cgroup", no_argument, NULL, OPT_CGROUP},
	{"once", no_argument, NULL, OPT_ONCE},
	{"json", no_argument, NULL, OPT_JSON},
	{"sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT},
	{"help", no_argument, NULL, 'h'},
	{},
};

/* A process not run since it was read is read again at the latest after
 * this many refreshes in which pages were migrated on the machine. */
#define STALE_SLICES 8
#define AGENT_MS     200

enum pstate { P_OK, P_NO_MEMORY, P_DENIED };

struct proc {
	int pid;
	struct mp_pm_stamp stamp;
	enum pstate state;
	unsigned long read_at; /* the refresh it was last read at */
	char comm[32];
	char *cgroup;
	uint64_t pages[MP_PM_NODES]; /* as show counts them: in each range's page size */
	uint64_t bytes[MP_PM_NODES];
	uint64_t present, outside;
	unsigned ranges_outside;
	char requested[160]; /* "heap=bind:0 stack=bind:0", "-", "unknown" */
	char in_force[160];  /* "default", "bind:0, default" */
	const char *agent;   /* pv_agent_state_name */
};

/* A row of the list: a process, or a cgroup's processes summed. */
struct row {
	const struct proc *p; /* NULL for a cgroup */
	const char *name;     /* the cgroup */
	unsigned n_procs;
	uint64_t pages[MP_PM_NODES], bytes[MP_PM_NODES], present, outside;
	unsigned ranges_outside;
};

enum sort_key { SORT_PAGES, SORT_NODE, SORT_TIER, SORT_OUTSIDE, SORT_PID, SORT__N };
enum filter { FILTER_NONE, FILTER_NODE, FILTER_TIER, FILTER_OUTSIDE, FILTER__N };

struct top {
	const char *root;
	struct mp_topo *topo;
	double interval;
	int *only; /* --pid */
	unsigned n_only;
	bool cgroups;
	/* the processes, by pid */
	struct proc *procs;
	unsigned n_procs;
	unsigned long tick;
	unsigned denied, no_memory, reads; /* reads: maps read at the last refresh */
	/* the machine's counters at the last two refreshes */
	struct mp_node_stat *stat, *prev;
	bool have_prev;
	struct mp_vm_stat vm, vm_prev;
	bool have_vm, have_vm_prev;
	double at, prev_at;
	struct mp_vm_stat live; /* this machine's, for the processes */
	bool have_live;
	bool migrated; /* pages moved on the machine since the last refresh */
	/* the view */
	enum sort_key sort;
	enum filter filter;
	int node_sel; /* index into topo->nodes */
	int tier_sel;
	bool help;
	unsigned scroll;
	struct row *rows;
	unsigned n_rows;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- reading ---------------------------------------------------------------- */

static void proc_clear(struct proc *p)
{
	free(p->cgroup);
	p->cgroup = NULL;
}

/* The agent's requested policies, "kind=policy" each. */
static void requested_text(const struct pview *v, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	if (!v->agent) {
		snprintf(buf, size, "%s", v->state == AGENT_NONE ? "-" : "unknown");
		return;
	}
	if (v->generic.have && v->generic.requested)
		off += (size_t)snprintf(buf + off, size - off, "policy=%s", v->generic.requested);
	for (int k = 1; k < N_KINDS && off < size; k++)
		if (v->kinds[k].have && v->kinds[k].requested)
			off += (size_t)snprintf(buf + off, size - off, "%s%s=%s", off ? " " : "", mp_pm_kind_name(k),
						v->kinds[k].requested);
	if (!buf[0])
		snprintf(buf, size, "-");
}

/* The kernel policies of the ranges with pages, the most pages first. */
static void in_force_text(const struct mp_procmem *pm, char *buf, size_t size)
{
	struct {
		const char *pol;
		uint64_t pages;
	} seen[8];
	unsigned n = 0, more = 0;
	size_t off = 0;

	for (unsigned i = 0; i < pm->n; i++) {
		const struct mp_pm_range *r = &pm->r[i];
		unsigned j;

		if (!r->present || !r->in_numa_maps)
			continue;
		for (j = 0; j < n && strcmp(seen[j].pol, r->kpolicy); j++)
			;
		if (j < n) {
			seen[j].pages += r->present;
		} else if (n < MP_ARRAY_SIZE(seen)) {
			seen[n].pol = r->kpolicy;
			seen[n++].pages = r->present;
		} else {
			more++;
		}
	}
	buf[0] = '\0';
	for (unsigned k = 0; k < n; k++) {
		unsigned best = k;

		for (unsigned j = k + 1; j < n; j++)
			if (seen[j].pages > seen[best].pages)
				best = j;
		if (best != k) {
			__typeof__(seen[0]) t = seen[k];

			seen[k] = seen[best];
			seen[best] = t;
		}
		if (off < size)
			off += (size_t)snprintf(buf + off, size - off, "%s%s", k ? ", " : "", seen[k].pol);
	}
	if (more && off < size)
		snprintf(buf + off, size - off, " and %u more", more);
	if (!n)
		snprintf(buf, size, "-");
}

/* Read p's memory: 0, or -ESRCH when it is gone. */
static int proc_read(struct top *t, struct proc *p)
{
	struct pview v;
	struct mp_cgroup cg;
	int r = pv_load(&v, p->pid, AGENT_MS, PV_NUMA_MAPS);

	proc_clear(p);
	p->read_at = t->tick;
	t->reads++;
	memset(p->pages, 0, sizeof(p->pages));
	memset(p->bytes, 0, sizeof(p->bytes));
	p->present = p->outside = 0;
	p->ranges_outside = 0;
	if (r == -ESRCH)
		return r;
	if (r == -EACCES || r == -EPERM) {
		p->state = P_DENIED;
		return 0;
	}
	if (r < 0) {
		p->state = P_NO_MEMORY; /* a kernel thread, a zombie */
		return 0;
	}
	p->state = P_OK;
	snprintf(p->comm, sizeof(p->comm), "%s", v.pm.comm ? v.pm.comm : "?");
	for (unsigned i = 0; i < v.pm.n; i++) {
		const struct mp_pm_range *rg = &v.pm.r[i];
		struct pv_judged j;

		for (unsigned n = 0; n < MP_PM_NODES; n++) {
			p->pages[n] += rg->per_node[n];
			p->bytes[n] += rg->per_node[n] * rg->page_size;
		}
		p->present += rg->present;
		pv_judge(&v, i, &j);
		if (!j.matches) {
			p->ranges_outside++;
			p->outside += j.outside;
		}
	}
	requested_text(&v, p->requested, sizeof(p->requested));
	in_force_text(&v.pm, p->in_force, sizeof(p->in_force));
	p->agent = pv_agent_state_name(v.state);
	if (mp_cgroup_load(NULL, p->pid, &cg) == 0) {
		p->cgroup = cg.path;
		cg.path = NULL;
		mp_cgroup_free(&cg);
	}
	pv_free(&v);
	return 0;
}

static bool listed(const struct top *t, int pid)
{
	if (!t->n_only)
		return true;
	for (unsigned i = 0; i < t->n_only; i++)
		if (t->only[i] == pid)
			return true;
	return false;
}

/* The machine's counters, then every process: kept when its stamp says it
 * has not changed, read again otherwise. */
static int top_refresh(struct top *t)
{
	struct mp_node_stat *swap = t->prev;
	struct proc *next = NULL;
	unsigned n_next = 0, old = 0, slice;
	int *pids = NULL;
	unsigned n_pids = 0;
	int r;

	t->prev = t->stat;
	t->stat = swap;
	t->have_prev = t->tick > 0;
	t->prev_at = t->at;
	t->at = now_s();
	for (unsigned i = 0; i < t->topo->n_nodes; i++)
		if (mp_node_stat_load(t->root, t->topo->nodes[i].id, &t->stat[i]) < 0)
			memset(&t->stat[i], 0, sizeof(t->stat[i]));
	t->vm_prev = t->vm;
	t->have_vm_prev = t->have_vm;
	t->have_vm = mp_vm_stat_load(t->root, &t->vm) == 0;
	/* the processes are this machine's, whatever the root: whether their
	 * pages moved is the live kernel's count (the same as vm without a root) */
	{
		struct mp_vm_stat before = t->live;
		bool had = t->have_live;

		t->have_live = t->root ? mp_vm_stat_load(NULL, &t->live) == 0 : t->have_vm;
		if (!t->root)
			t->live = t->vm;
		t->migrated = !had || !t->have_live || t->live.migrate_success != before.migrate_success;
	}

	r = mp_proc_pids(NULL, &pids, &n_pids);
	if (r < 0)
		return r;
	next = calloc(n_pids ? n_pids : 1, sizeof(*next));
	if (!next) {
		free(pids);
		return -ENOMEM;
	}
	t->reads = 0;
	t->denied = t->no_memory = 0;
	/* processes that did not run are read again a slice at a time */
	slice = (unsigned)(t->tick % STALE_SLICES);
	for (unsigned i = 0; i < n_pids; i++) {
		struct mp_pm_stamp st;
		struct proc *p = &next[n_next];
		bool again;

		if (!listed(t, pids[i]) || mp_procmem_stamp(NULL, pids[i], &st) < 0)
			continue;
		while (old < t->n_procs && t->procs[old].pid < pids[i])
			proc_clear(&t->procs[old++]);
		if (old < t->n_procs && t->procs[old].pid == pids[i] && t->procs[old].stamp.start == st.start) {
			*p = t->procs[old];
			t->procs[old++].cgroup = NULL; /* moved */
			/* another user's stays unreadable; a kernel thread stays
			 * without memory */
			again = p->state == P_OK &&
				(st.faults != p->stamp.faults || st.cpu != p->stamp.cpu || st.rss != p->stamp.rss ||
				 (t->migrated && (unsigned)p->pid % STALE_SLICES == slice));
		} else {
			memset(p, 0, sizeof(*p));
			p->pid = pids[i];
			again = true;
		}
		p->stamp = st;
		if (again && proc_read(t, p) < 0) {
			proc_clear(p);
			continue;
		}
		t->denied += p->state == P_DENIED;
		t->no_memory += p->state == P_NO_MEMORY;
		n_next++;
	}
	while (old < t->n_procs)
		proc_clear(&t->procs[old++]);
	free(t->procs);
	free(pids);
	t->procs = next;
	t->n_procs = n_next;
	t->tick++;
	return 0;
}

/* ---- the view ---------------------------------------------------------------- */

/* Pages per second between the last two refreshes, or -1 unknown. */
static double rate(const struct top *t, uint64_t now, uint64_t before, bool known)
{
	double dt = t->at - t->prev_at;

	if (!known || !t->have_prev || dt <= 0 || now < before)
		return -1;
	return (double)(now - before) / dt;
}

static uint64_t available(const struct mp_node_stat *s)
{
	/* the kernel's MemAvailable, per node, without its watermark reserve
	 * (which it does not publish per node): free memory, the page cache
	 * on the LRU lists, and reclaimable kernel memory */
	return s->free + s->active_file + s->inactive_file + s->kreclaimable;
}

static uint64_t row_tier_bytes(const struct top *t, const struct row *r, int tier)
{
	uint64_t b = 0;

	for (unsigned i = 0; i < t->topo->n_nodes; i++)
		if (t->topo->nodes[i].tier == tier && t->topo->nodes[i].id < MP_PM_NODES)
			b += r->bytes[t->topo->nodes[i].id];
	return b;
}

static uint64_t row_total(const struct row *r)
{
	uint64_t b = 0;

	for (unsigned n = 0; n < MP_PM_NODES; n++)
		b += r->bytes[n];
	return b;
}

static const struct top *sort_top;

static int cmp_rows(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	const struct top *t = sort_top;
	int node = t->topo->nodes[t->node_sel].id;
	uint64_t ka = 0, kb = 0;

	switch (t->sort) {
	case SORT_PAGES:
		ka = row_total(a);
		kb = row_total(b);
		break;
	case SORT_NODE:
		ka = node < MP_PM_NODES ? a->bytes[node] : 0;
		kb = node < MP_PM_NODES ? b->bytes[node] : 0;
		break;
	case SORT_TIER:
		ka = row_tier_bytes(t, a, t->tier_sel);
		kb = row_tier_bytes(t, b, t->tier_sel);
		break;
	case SORT_OUTSIDE:
		ka = a->outside;
		kb = b->outside;
		break;
	case SORT_PID:
		if (a->p && b->p)
			return (a->p->pid > b->p->pid) - (a->p->pid < b->p->pid);
		return strcmp(a->name ? a->name : "", b->name ? b->name : "");
	default:
		break;
	}
	if (ka != kb)
		return ka < kb ? 1 : -1;
	if (a->p && b->p)
		return (a->p->pid > b->p->pid) - (a->p->pid < b->p->pid);
	return strcmp(a->name ? a->name : "", b->name ? b->name : "");
}

static bool row_passes(const struct top *t, const struct row *r)
{
	int node = t->topo->nodes[t->node_sel].id;

	switch (t->filter) {
	case FILTER_NODE:
		return node < MP_PM_NODES && r->bytes[node];
	case FILTER_TIER:
		return row_tier_bytes(t, r, t->tier_sel) > 0;
	case FILTER_OUTSIDE:
		return r->outside > 0;
	default:
		return true;
	}
}

static void row_add(struct row *r, const struct proc *p)
{
	for (unsigned n = 0; n < MP_PM_NODES; n++) {
		r->pages[n] += p->pages[n];
		r->bytes[n] += p->bytes[n];
	}
	r->present += p->present;
	r->outside += p->outside;
	r->ranges_outside += p->ranges_outside;
	r->n_procs++;
}

/* The rows to show: processes (or cgroups) that pass the filter, sorted. */
static int build_rows(struct top *t)
{
	struct row *rows = calloc(t->n_procs ? t->n_procs : 1, sizeof(*rows));
	unsigned n = 0;

	if (!rows)
		return -ENOMEM;
	for (unsigned i = 0; i < t->n_procs; i++) {
		const struct proc *p = &t->procs[i];

		if (p->state != P_OK)
			continue;
		if (t->cgroups) {
			const char *cg = p->cgroup ? p->cgroup : "?";
			unsigned j;

			for (j = 0; j < n && strcmp(rows[j].name, cg); j++)
				;
			if (j == n)
				rows[n++].name = cg;
			row_add(&rows[j], p);
		} else {
			rows[n].p = p;
			row_add(&rows[n++], p);
		}
	}
	/* filter, then sort */
	{
		unsigned k = 0;

		for (unsigned i = 0; i < n; i++)
			if (row_passes(t, &rows[i]))
				rows[k++] = rows[i];
		n = k;
	}
	sort_top = t;
	qsort(rows, n, sizeof(*rows), cmp_rows);
	free(t->rows);
	t->rows = rows;
	t->n_rows = n;
	return 0;
}

/* "12.3G", "512K": four characters or so. */
static void short_size(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "BKMGTP";
	double d = (double)v;
	unsigned u = 0;

	while (d >= 1024 && u + 1 < sizeof(units) - 1) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64, v);
	else if (d < 10)
		snprintf(buf, size, "%.1f%c", d, units[u]);
	else
		snprintf(buf, size, "%.0f%c", d, units[u]);
}

static void rate_text(double r, char *buf, size_t size)
{
	if (r < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.0f", r);
}

/* ---- drawing: the same lines to the terminal or to stdout ------------------------ */

enum line_kind { L_TEXT, L_HEAD, L_TITLE, L_BAD };

struct out {
	bool curses;
	int y, rows, cols; /* curses: the next line, the screen's size */
	FILE *f;
};

__attribute__((format(printf, 3, 4))) static void line(struct out *o, enum line_kind k, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!o->curses) {
		/* trailing blanks are not part of the text */
		size_t len = strlen(buf);

		while (len && buf[len - 1] == ' ')
			buf[--len] = '\0';
		fprintf(o->f, "%s\n", buf);
		return;
	}
	if (o->y >= o->rows)
		return;
	if (k == L_HEAD || k == L_TITLE)
		attron(A_REVERSE);
	if (k == L_BAD)
		attron(has_colors() ? COLOR_PAIR(1) | A_BOLD : A_BOLD);
	mvaddnstr(o->y, 0, buf, o->cols);
	if (k == L_HEAD || k == L_TITLE) {
		/* the bar across the whole width */
		for (int x = (int)strlen(buf); x < o->cols; x++)
			mvaddch(o->y, x, ' ');
		attroff(A_REVERSE);
	}
	if (k == L_BAD)
		attroff(has_colors() ? COLOR_PAIR(1) | A_BOLD : A_BOLD);
	o->y++;
}

static void draw_machine(const struct top *t, struct out *o)
{
	char tot[16], fre[16], ava[16], lis[16], pro[16], dem[16], mig[32];
	uint64_t listed[MP_PM_NODES] = {0};
	double m =
		t->have_vm && t->have_vm_prev ? rate(t, t->vm.migrate_success, t->vm_prev.migrate_success, true) : -1;

	for (unsigned i = 0; i < t->n_procs; i++)
		if (t->procs[i].state == P_OK)
			for (unsigned n = 0; n < MP_PM_NODES; n++)
				listed[n] += t->procs[i].bytes[n];
	rate_text(m, mig, sizeof(mig));
	line(o, L_TITLE,
	     "mplace top - %u nodes, %u tiers - %u processes (%u not readable) - every %.1f s - migrations %s/s - "
	     "h: help",
	     t->topo->n_nodes, t->topo->n_tiers, t->n_procs - t->denied - t->no_memory, t->denied, t->interval, mig);
	line(o, L_HEAD, "%-5s %-5s %8s %8s %8s %8s %10s %10s", "NODE", "TIER", "TOTAL", "FREE", "AVAIL", "LISTED",
	     "PROMOTE/s", "DEMOTE/s");
	for (unsigned i = 0; i < t->topo->n_nodes; i++) {
		const struct mp_node *n = &t->topo->nodes[i];
		const struct mp_node_stat *s = &t->stat[i], *p = &t->prev[i];
		char tier[16] = "-";

		if (n->tier >= 0)
			snprintf(tier, sizeof(tier), "%d", n->tier);
		short_size(s->total, tot, sizeof(tot));
		short_size(s->free, fre, sizeof(fre));
		short_size(available(s), ava, sizeof(ava));
		short_size(n->id < MP_PM_NODES ? listed[n->id] : 0, lis, sizeof(lis));
		rate_text(rate(t, s->promote, p->promote, s->have_vmstat && p->have_vmstat), pro, sizeof(pro));
		rate_text(rate(t, s->demote, p->demote, s->have_vmstat && p->have_vmstat), dem, sizeof(dem));
		line(o, L_TEXT, "%-5d %-5s %8s %8s %8s %8s %10s %10s", n->id, tier, s->total ? tot : "-",
		     s->total ? fre : "-", s->total ? ava : "-", lis, pro, dem);
	}
	line(o, L_HEAD, "%-5s %-11s %8s %8s %8s %8s %10s %10s", "TIER", "NODES", "TOTAL", "FREE", "AVAIL", "LISTED",
	     "PROMOTE/s", "DEMOTE/s");
	for (unsigned r = 0; r < t->topo->n_tiers; r++) {
		struct mp_node_stat sum = {0}, psum = {0};
		uint64_t lb = 0;
		struct mp_nodemask mask;
		char nodes[64];
		bool known = true;

		mp_mask_zero(&mask);
		for (unsigned i = 0; i < t->topo->n_nodes; i++) {
			if (t->topo->nodes[i].tier != (int)r)
				continue;
			mp_mask_set(&mask, t->topo->nodes[i].id);
			sum.total += t->stat[i].total;
			sum.free += t->stat[i].free;
			sum.active_file += t->stat[i].active_file;
			sum.inactive_file += t->stat[i].inactive_file;
			sum.kreclaimable += t->stat[i].kreclaimable;
			sum.promote += t->stat[i].promote;
			sum.demote += t->stat[i].demote;
			psum.promote += t->prev[i].promote;
			psum.demote += t->prev[i].demote;
			known &= t->stat[i].have_vmstat && t->prev[i].have_vmstat;
			if (t->topo->nodes[i].id < MP_PM_NODES)
				lb += listed[t->topo->nodes[i].id];
		}
		mp_mask_format(&mask, nodes, sizeof(nodes));
		short_size(sum.total, tot, sizeof(tot));
		short_size(sum.free, fre, sizeof(fre));
		short_size(available(&sum), ava, sizeof(ava));
		short_size(lb, lis, sizeof(lis));
		rate_text(rate(t, sum.promote, psum.promote, known), pro, sizeof(pro));
		rate_text(rate(t, sum.demote, psum.demote, known), dem, sizeof(dem));
		line(o, L_TEXT, "%-5u %-11s %8s %8s %8s %8s %10s %10s", r, nodes, tot, fre, ava, lis, pro, dem);
	}
}

static const char *const sort_names[] = {"pages", "node", "tier", "outside", "pid"};

static void draw_list(const struct top *t, struct out *o)
{
	char head[512], sel[64] = "";
	size_t off;
	int node = t->topo->nodes[t->node_sel].id;

	if (t->filter == FILTER_NODE)
		snprintf(sel, sizeof(sel), "pages on node %d", node);
	else if (t->filter == FILTER_TIER)
		snprintf(sel, sizeof(sel), "pages in tier %d", t->tier_sel);
	else if (t->filter == FILTER_OUTSIDE)
		snprintf(sel, sizeof(sel), "pages outside their policy");
	line(o, L_TEXT, "%s", "");
	line(o, L_TEXT, "%s: %u   sort: %s%s   filter: %s", t->cgroups ? "cgroups" : "processes", t->n_rows,
	     sort_names[t->sort],
	     t->sort == SORT_NODE   ? (snprintf(head, sizeof(head), " %d", node), head)
	     : t->sort == SORT_TIER ? (snprintf(head, sizeof(head), " %d", t->tier_sel), head)
				    : "",
	     sel[0] ? sel : "none");
	off = (size_t)snprintf(head, sizeof(head), t->cgroups ? "%-32s %5s" : "%7s %-15s",
			       t->cgroups ? "CGROUP" : "PID", t->cgroups ? "PROCS" : "COMM");
	for (unsigned i = 0; i < t->topo->n_nodes && off < sizeof(head); i++) {
		char name[16];

		snprintf(name, sizeof(name), "N%d", t->topo->nodes[i].id);
		off += (size_t)snprintf(head + off, sizeof(head) - off, " %6s", name);
	}
	if (off < sizeof(head))
		snprintf(head + off, sizeof(head) - off, " %8s %7s  %-28s %s", "OUTSIDE", "RANGES",
			 t->cgroups ? "" : "REQUESTED", t->cgroups ? "" : "IN FORCE");
	line(o, L_HEAD, "%s", head);
	for (unsigned k = t->scroll; k < t->n_rows; k++) {
		const struct row *r = &t->rows[k];
		char buf[1024], sz[16];

		if (o->curses && o->y >= o->rows)
			break;
		if (r->p)
			off = (size_t)snprintf(buf, sizeof(buf), "%7d %-15.15s", r->p->pid, r->p->comm);
		else
			off = (size_t)snprintf(buf, sizeof(buf), "%-32.32s %5u", r->name, r->n_procs);
		for (unsigned i = 0; i < t->topo->n_nodes && off < sizeof(buf); i++) {
			int id = t->topo->nodes[i].id;

			short_size(id < MP_PM_NODES ? r->bytes[id] : 0, sz, sizeof(sz));
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %6s",
						id < MP_PM_NODES && r->bytes[id] ? sz : "-");
		}
		if (off < sizeof(buf))
			snprintf(buf + off, sizeof(buf) - off, " %8" PRIu64 " %7u  %-28s %s", r->outside,
				 r->ranges_outside, r->p ? r->p->requested : "", r->p ? r->p->in_force : "");
		line(o, r->outside ? L_BAD : L_TEXT, "%s", buf);
	}
}

static void draw_help(struct out *o)
{
	static const char *const text[] = {
		"mplace top: keys",
		"",
		"  s       sort by: pages, pages on the chosen node, in the chosen tier, outside policy, pid",
		"  n / t   choose the next node / tier (for sorting and filtering)",
		"  f       filter: none, pages on the chosen node, in the chosen tier, outside their policy",
		"  v       only what has pages outside its policy, the most first",
		"  c       processes or cgroups",
		"  + / -   refresh half as often / twice as often",
		"  up, down, page up, page down, home: scroll the list",
		"  ^L      draw the whole screen again",
		"  h, ?    this help (any key leaves it)",
		"  q       quit",
		"",
		"Pages are numa_maps' counts per node; OUTSIDE: pages on a node their policy does not allow",
		"(the requested one where the agent answers, else the kernel's), as mplace show judges them.",
		"AVAIL: free memory, page cache and reclaimable kernel memory, per node.",
		"A process's map is read again when it ran or faulted, or, when pages were migrated on the",
		"machine, within a few refreshes.",
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(text); i++)
		line(o, i ? L_TEXT : L_TITLE, "%s", text[i]);
}

static void draw(struct top *t, struct out *o)
{
	if (t->help) {
		draw_help(o);
		return;
	}
	draw_machine(t, o);
	draw_list(t, o);
}

/* ---- JSON ------------------------------------------------------------------------ */

static struct json_object *rate_json(double r)
{
	return r < 0 ? NULL : json_object_new_double(r);
}

static struct json_object *per_node_json(const uint64_t *v)
{
	struct json_object *o = json_object_new_object();
	char key[16];

	for (unsigned n = 0; n < MP_PM_NODES; n++)
		if (v[n]) {
			snprintf(key, sizeof(key), "%u", n);
			json_object_object_add(o, key, json_object_new_uint64(v[n]));
		}
	return o;
}

static struct json_object *top_json(struct top *t)
{
	struct json_object *root = json_object_new_object(), *nodes = json_object_new_array();
	struct json_object *tiers = json_object_new_array(), *list = json_object_new_array();
	uint64_t listed[MP_PM_NODES] = {0};

	for (unsigned i = 0; i < t->n_procs; i++)
		if (t->procs[i].state == P_OK)
			for (unsigned n = 0; n < MP_PM_NODES; n++)
				listed[n] += t->procs[i].bytes[n];
	json_object_object_add(root, "interval", json_object_new_double(t->interval));
	json_object_object_add(root, "migrations_per_second",
			       rate_json(t->have_vm && t->have_vm_prev
						 ? rate(t, t->vm.migrate_success, t->vm_prev.migrate_success, true)
						 : -1));
	for (unsigned i = 0; i < t->topo->n_nodes; i++) {
		const struct mp_node *n = &t->topo->nodes[i];
		const struct mp_node_stat *s = &t->stat[i], *p = &t->prev[i];
		struct json_object *o = json_object_new_object();
		bool known = s->have_vmstat && p->have_vmstat;

		json_object_object_add(o, "id", json_object_new_int(n->id));
		json_object_object_add(o, "tier", n->tier >= 0 ? json_object_new_int(n->tier) : NULL);
		json_object_object_add(o, "memory_total", s->total ? json_object_new_uint64(s->total) : NULL);
		json_object_object_add(o, "memory_free", s->total ? json_object_new_uint64(s->free) : NULL);
		json_object_object_add(o, "memory_available", s->total ? json_object_new_uint64(available(s)) : NULL);
		json_object_object_add(o, "listed_bytes",
				       json_object_new_uint64(n->id < MP_PM_NODES ? listed[n->id] : 0));
		json_object_object_add(o, "promotions_per_second", rate_json(rate(t, s->promote, p->promote, known)));
		json_object_object_add(o, "demotions_per_second", rate_json(rate(t, s->demote, p->demote, known)));
		json_object_array_add(nodes, o);
	}
	json_object_object_add(root, "nodes", nodes);
	for (unsigned r = 0; r < t->topo->n_tiers; r++) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		uint64_t tot = 0, fre = 0, ava = 0, lb = 0;

		for (unsigned i = 0; i < t->topo->n_nodes; i++) {
			if (t->topo->nodes[i].tier != (int)r)
				continue;
			json_object_array_add(a, json_object_new_int(t->topo->nodes[i].id));
			tot += t->stat[i].total;
			fre += t->stat[i].free;
			ava += available(&t->stat[i]);
			lb += t->topo->nodes[i].id < MP_PM_NODES ? listed[t->topo->nodes[i].id] : 0;
		}
		json_object_object_add(o, "rank", json_object_new_int((int)r));
		json_object_object_add(o, "nodes", a);
		json_object_object_add(o, "memory_total", json_object_new_uint64(tot));
		json_object_object_add(o, "memory_free", json_object_new_uint64(fre));
		json_object_object_add(o, "memory_available", json_object_new_uint64(ava));
		json_object_object_add(o, "listed_bytes", json_object_new_uint64(lb));
		json_object_array_add(tiers, o);
	}
	json_object_object_add(root, "tiers", tiers);
	for (unsigned k = 0; k < t->n_rows; k++) {
		const struct row *r = &t->rows[k];
		struct json_object *o = json_object_new_object();

		if (r->p) {
			json_object_object_add(o, "pid", json_object_new_int(r->p->pid));
			json_object_object_add(o, "comm", json_object_new_string(r->p->comm));
			json_object_object_add(o, "cgroup", r->p->cgroup ? json_object_new_string(r->p->cgroup) : NULL);
			json_object_object_add(o, "agent_state", json_object_new_string(r->p->agent));
			json_object_object_add(o, "requested", json_object_new_string(r->p->requested));
			json_object_object_add(o, "in_force", json_object_new_string(r->p->in_force));
		} else {
			json_object_object_add(o, "cgroup", json_object_new_string(r->name));
			json_object_object_add(o, "processes", json_object_new_int((int)r->n_procs));
		}
		json_object_object_add(o, "pages", per_node_json(r->pages));
		json_object_object_add(o, "bytes", per_node_json(r->bytes));
		json_object_object_add(o, "present", json_object_new_uint64(r->present));
		json_object_object_add(o, "ranges_outside", json_object_new_int((int)r->ranges_outside));
		json_object_object_add(o, "pages_outside", json_object_new_uint64(r->outside));
		json_object_array_add(list, o);
	}
	json_object_object_add(root, t->cgroups ? "cgroups" : "processes", list);
	json_object_object_add(root, "not_readable", json_object_new_int((int)t->denied));
	return root;
}

/* ---- the loop -------------------------------------------------------------------- */

static void key(struct top *t, int ch, bool *quit)
{
	unsigned page = LINES > 12 ? (unsigned)LINES - 12 : 1;

	if (t->help) {
		t->help = false;
		return;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		*quit = true;
		break;
	case 'h':
	case '?':
		t->help = true;
		break;
	case 's':
		t->sort = (enum sort_key)((t->sort + 1) % SORT__N);
		break;
	case 'n':
		t->node_sel = (t->node_sel + 1) % (int)t->topo->n_nodes;
		break;
	case 't':
		if (t->topo->n_tiers)
			t->tier_sel = (t->tier_sel + 1) % (int)t->topo->n_tiers;
		break;
	case 'f':
		t->filter = (enum filter)((t->filter + 1) % FILTER__N);
		break;
	case 'v':
		t->filter = t->filter == FILTER_OUTSIDE ? FILTER_NONE : FILTER_OUTSIDE;
		t->sort = t->filter == FILTER_OUTSIDE ? SORT_OUTSIDE : SORT_PAGES;
		break;
	case 'c':
		t->cgroups = !t->cgroups;
		t->scroll = 0;
		break;
	case '+':
		t->interval = t->interval * 2 > 60 ? 60 : t->interval * 2;
		break;
	case '-':
		t->interval = t->interval / 2 < 0.5 ? 0.5 : t->interval / 2;
		break;
	case KEY_DOWN:
		t->scroll += t->scroll + 1 < t->n_rows;
		break;
	case KEY_UP:
		t->scroll -= t->scroll > 0;
		break;
	case KEY_NPAGE:
		t->scroll = t->scroll + page < t->n_rows ? t->scroll + page : (t->n_rows ? t->n_rows - 1 : 0);
		break;
	case KEY_PPAGE:
		t->scroll = t->scroll > page ? t->scroll - page : 0;
		break;
	case KEY_HOME:
		t->scroll = 0;
		break;
	case 'L' & 0x1f: /* ^L: the whole screen again, as other full-screen tools */
		clearok(curscr, TRUE);
		break;
	default:
		break;
	}
}

static int run_screen(struct top *t)
{
	bool quit = false;
	double next = 0;

	if (!initscr()) {
		tool_error("top: cannot use this terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
		return EXIT_FAIL;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_RED, -1);
	}
	while (!quit) {
		struct out o = {.curses = true, .rows = LINES, .cols = COLS};
		double wait;
		int ch;

		if (now_s() >= next) {
			int r = top_refresh(t);

			if (r < 0) {
				endwin();
				tool_error("top: cannot list the processes: %s", strerror(-r));
				return EXIT_FAIL;
			}
			next = now_s() + t->interval;
		}
		build_rows(t);
		if (t->scroll >= t->n_rows)
			t->scroll = t->n_rows ? t->n_rows - 1 : 0;
		erase();
		draw(t, &o);
		refresh();
		wait = next - now_s();
		timeout(wait > 0 ? (int)(wait * 1000) + 1 : 0);
		ch = getch();
		if (ch == KEY_RESIZE) {
			/* ncurses has the new LINES and COLS: draw again at once */
			continue;
		}
		if (ch != ERR)
			key(t, ch, &quit);
	}
	endwin();
	return EXIT_OK;
}

int cmd_top(int argc, char **argv)
{
	struct top t = {.interval = 2};
	bool once = false, json = false;
	const char *opt_root = NULL;
	int c, r, ret = EXIT_FAIL;
	uint64_t v;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_INTERVAL:
			if (tool_parse_seconds(optarg, 0.1, 3600, &t.interval) < 0) {
				tool_error("--interval takes seconds from 0.1 to 3600, not '%s'", optarg);
				goto usage;
			}
			break;
		case OPT_PID: {
			int *np;

			if (mp_parse_uint(optarg, strlen(optarg), INT_MAX, &v) < 0 || v == 0) {
				tool_error("--pid takes a process id, not '%s'", optarg);
				goto usage;
			}
			np = realloc(t.only, sizeof(*np) * (t.n_only + 1));
			if (!np)
				goto out;
			t.only = np;
			t.only[t.n_only++] = (int)v;
			break;
		}
		case OPT_CGROUP:
			t.cgroups = true;
			break;
		case OPT_ONCE:
			once = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_SYSFS_ROOT:
			opt_root = optarg;
			break;
		case 'h':
			tool_usage(usage_text, false);
			free(t.only);
			return EXIT_OK;
		default:
			goto usage;
		}
	}
	if (optind < argc) {
		tool_error("top: unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (json && !once) {
		tool_error("top: --json goes with --once (a live screen is not JSON)");
		goto usage;
	}
	if (!once && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		tool_error("top: the live view needs a terminal");
		tool_hint("use 'mplace top --once' (or --once --json) from scripts");
		goto usage;
	}
	t.root = tool_sysfs_root(opt_root);
	if (tool_topo_load(t.root, MP_TOPO_DEVICES | MP_TOPO_PHYS | MP_TOPO_HUGEPAGES | MP_TOPO_HMAT, &t.topo) < 0)
		goto out;
	t.stat = calloc(t.topo->n_nodes, sizeof(*t.stat));
	t.prev = calloc(t.topo->n_nodes, sizeof(*t.prev));
	if (!t.stat || !t.prev) {
		tool_error("out of memory");
		goto out;
	}
	if (!once) {
		ret = run_screen(&t);
		goto out;
	}
	/* once: two refreshes an interval apart, so rates have a span */
	r = top_refresh(&t);
	if (r < 0)
		goto fail;
	{
		struct timespec ts = {.tv_sec = (time_t)t.interval,
				      .tv_nsec = (long)((t.interval - (double)(time_t)t.interval) * 1e9)};

		nanosleep(&ts, NULL);
	}
	r = top_refresh(&t);
	r = r < 0 ? r : build_rows(&t);
	if (r < 0)
		goto fail;
	if (json) {
		tool_print_json(top_json(&t));
	} else {
		struct out o = {.f = stdout};

		draw(&t, &o);
	}
	ret = EXIT_OK;
	goto out;
fail:
	tool_error("top: cannot list the processes: %s", strerror(-r));
out:
	for (unsigned i = 0; i < t.n_procs; i++)
		proc_clear(&t.procs[i]);
	free(t.procs);
	free(t.rows);
	free(t.stat);
	free(t.prev);
	free(t.only);
	mp_topo_free(t.topo);
	return ret;
usage:
	tool_usage(usage_text, true);
	free(t.only);
	return EXIT_USAGE;
}
