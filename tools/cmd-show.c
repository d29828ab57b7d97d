/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace show: where a running process's memory is, range by range, against
 * what was asked for it.  For each range of /proc/PID/maps: its kind of
 * memory, the policy requested for that kind (from the process's agent when
 * one answers on its control socket, else unknown), the kernel policy in
 * force (numa_maps), the pages on each node (move_pages per page, or
 * numa_maps' counts when the kernel refuses: the output says which), and
 * whether every present page is on a node the policy allows.
 *
 * Reading only: nothing here changes the process.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "basic/util.h"
#include "procview.h"
#include "tool.h"
#include "wire/wire.h"

static const char usage_text[] = "Usage: mplace show (--pid PID | --self) [OPTIONS]\n"
				 "\n"
				 "Show each memory range of a process: its kind, the policy requested for\n"
				 "it and from which scope (when the process runs under the mplace agent),\n"
				 "the kernel policy in force, the pages on each node and whether they are\n"
				 "where the policy allows; then a summary per kind and the violations.\n"
				 "\n"
				 "Options:\n"
				 "  --pid PID    the process to show\n"
				 "  --self       show this mplace process (for tests)\n"
				 "  --all        list ranges without present pages too\n"
				 "  --json       print a JSON object\n"
				 "  -h, --help   show this help\n";

enum { OPT_PID = 0x100, OPT_SELF, OPT_ALL, OPT_JSON };

static const struct option options[] = {
	{"pid", required_argument, NULL, OPT_PID}, {"self", no_argument, NULL, OPT_SELF},
	{"all", no_argument, NULL, OPT_ALL},	   {"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},	   {},
};

/* ---- output ------------------------------------------------------------------ */

static void fmt_pages(char *buf, size_t size, const uint64_t *per_node, uint64_t elsewhere)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned n = 0; n < MP_PM_NODES; n++) {
		if (!per_node[n])
			continue;
		off += (size_t)snprintf(buf + off, off < size ? size - off : 0, "%sN%u=%" PRIu64, off ? " " : "", n,
					per_node[n]);
		if (off >= size)
			return;
	}
	if (elsewhere && off < size)
		off += (size_t)snprintf(buf + off, size - off, "%sN64+=%" PRIu64, off ? " " : "", elsewhere);
	if (!off)
		snprintf(buf, size, "-");
}

static struct json_object *json_pages(const uint64_t *per_node)
{
	struct json_object *o = json_object_new_object();
	char key[16];

	for (unsigned n = 0; n < MP_PM_NODES; n++) {
		if (!per_node[n])
			continue;
		snprintf(key, sizeof(key), "%u", n);
		json_object_object_add(o, key, json_object_new_uint64(per_node[n]));
	}
	return o;
}

static struct json_object *json_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

struct kind_sum {
	unsigned ranges, violations;
	uint64_t present, elsewhere;
	uint64_t per_node[MP_PM_NODES];
};

static int report(struct pview *s, bool all, bool json)
{
	struct mp_procmem *pm = &s->pm;
	struct kind_sum sum[N_KINDS] = {0};
	struct json_object *root = NULL, *ranges = NULL, *viol = NULL;
	struct mp_sb vtext;
	unsigned n_viol = 0;

	mp_sb_init(&vtext);
	if (json) {
		root = json_object_new_object();
		ranges = json_object_new_array();
		viol = json_object_new_array();
		json_object_object_add(root, "pid", json_object_new_int(pm->pid ? pm->pid : (int)getpid()));
		json_object_object_add(root, "comm", pm->comm ? json_object_new_string(pm->comm) : NULL);
		json_object_object_add(root, "exe", pm->exe ? json_object_new_string(pm->exe) : NULL);
		json_object_object_add(root, "agent", json_object_new_boolean(s->agent));
		json_object_object_add(root, "agent_state", json_object_new_string(pv_agent_state_name(s->state)));
		if (s->state_detail)
			json_object_object_add(root, "agent_detail", json_object_new_string(s->state_detail));
		json_object_object_add(
			root, "method",
			json_object_new_string(pm->method == MP_PM_MOVE_PAGES ? "move_pages" : "numa_maps"));
		if (pm->method == MP_PM_NUMA_MAPS)
			json_object_object_add(root, "method_reason", json_object_new_string(strerror(-pm->refused)));
	} else {
		printf("pid %d (%s) %s\n", pm->pid ? pm->pid : (int)getpid(), pm->comm ? pm->comm : "?",
		       pm->exe ? pm->exe : "?");
		char line[512];

		pv_agent_line(s, line, sizeof(line));
		printf("agent: %s\n", line);
		if (pm->method == MP_PM_MOVE_PAGES)
			printf("pages: each present page asked with move_pages\n");
		else
			printf("pages: from numa_maps counts; move_pages was refused: %s\n", strerror(-pm->refused));
		printf("\n%-33s %-8s %-22s %-28s %-18s %s\n", "RANGE", "KIND", "KERNEL", "REQUESTED", "PAGES", "MATCH");
	}

	for (unsigned i = 0; i < pm->n; i++) {
		const struct mp_pm_range *r = &pm->r[i];
		struct pv_judged j;
		char pages[256], range[40];

		pv_judge(s, i, &j);
		const struct pv_req *q = j.q;
		const struct mp_nodemask allowed = j.allowed;
		const char *against = j.against;
		bool matches = j.matches;
		uint64_t out = j.outside;

		sum[r->kind].ranges++;
		sum[r->kind].present += r->present;
		sum[r->kind].elsewhere += r->elsewhere;
		for (unsigned n = 0; n < MP_PM_NODES; n++)
			sum[r->kind].per_node[n] += r->per_node[n];
		if (!matches) {
			char nodes[128];

			sum[r->kind].violations++;
			n_viol++;
			mp_mask_format(&allowed, nodes, sizeof(nodes));
			if (json) {
				struct json_object *v = json_object_new_object();

				json_object_object_add(v, "start", json_hex(r->start));
				json_object_object_add(v, "end", json_hex(r->end));
				json_object_object_add(v, "kind", json_object_new_string(mp_pm_kind_name(r->kind)));
				json_object_object_add(v, "path", r->path ? json_object_new_string(r->path) : NULL);
				json_object_object_add(v, "pages_outside", json_object_new_uint64(out));
				json_object_object_add(v, "allowed", json_object_new_string(nodes));
				json_object_object_add(v, "against", json_object_new_string(against));
				json_object_array_add(viol, v);
			} else {
				mp_sb_printf(&vtext,
					     "  %" PRIx64 "-%" PRIx64 " %s%s%s: %" PRIu64
					     " page(s) outside nodes %s (%s policy %s)\n",
					     r->start, r->end, mp_pm_kind_name(r->kind), r->path ? " " : "",
					     r->path ? r->path : "", out, nodes, against,
					     q && q->requested ? q->requested : r->kpolicy);
			}
		}

		if (json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "start", json_hex(r->start));
			json_object_object_add(o, "end", json_hex(r->end));
			json_object_object_add(o, "perms", json_object_new_string(r->perms));
			json_object_object_add(o, "kind", json_object_new_string(mp_pm_kind_name(r->kind)));
			json_object_object_add(o, "path", r->path ? json_object_new_string(r->path) : NULL);
			json_object_object_add(o, "kernel_policy",
					       r->in_numa_maps ? json_object_new_string(r->kpolicy) : NULL);
			json_object_object_add(o, "requested",
					       q && q->requested ? json_object_new_string(q->requested) : NULL);
			json_object_object_add(o, "source", q && q->source ? json_object_new_string(q->source) : NULL);
			json_object_object_add(o, "page_size", json_object_new_uint64(r->page_size));
			json_object_object_add(o, "pages", json_pages(r->per_node));
			if (r->elsewhere)
				json_object_object_add(o, "pages_elsewhere", json_object_new_uint64(r->elsewhere));
			json_object_object_add(o, "present", json_object_new_uint64(r->present));
			if (r->nm_counted)
				json_object_object_add(o, "method", json_object_new_string("numa_maps"));
			json_object_object_add(o, "locked", json_object_new_boolean(r->locked));
			json_object_object_add(o, "matches", json_object_new_boolean(matches));
			json_object_array_add(ranges, o);
			continue;
		}
		if (!all && !r->present && matches)
			continue;
		fmt_pages(pages, sizeof(pages), r->per_node, r->elsewhere);
		snprintf(range, sizeof(range), "%" PRIx64 "-%" PRIx64, r->start, r->end);
		{
			char reqtext[160];

			if (!q)
				snprintf(reqtext, sizeof(reqtext), "%s", s->agent ? "-" : "unknown");
			else
				snprintf(reqtext, sizeof(reqtext), "%s", q->requested ? q->requested : "?");
			printf("%-33s %-8s %-22s %-28s %-18s %s%s%s\n", range, mp_pm_kind_name(r->kind),
			       r->in_numa_maps ? r->kpolicy : "?", reqtext, pages, matches ? "yes" : "NO",
			       r->path ? "  " : "", r->path ? r->path : "");
			if (q && q->source)
				printf("%-33s   source: %s\n", "", q->source);
		}
	}

	if (json) {
		struct json_object *kinds = json_object_new_object(), *problems;

		for (int k = 1; k < N_KINDS; k++) {
			struct json_object *o;

			if (!sum[k].ranges)
				continue;
			o = json_object_new_object();
			json_object_object_add(o, "ranges", json_object_new_int((int)sum[k].ranges));
			json_object_object_add(o, "present", json_object_new_uint64(sum[k].present));
			json_object_object_add(o, "pages", json_pages(sum[k].per_node));
			json_object_object_add(o, "violations", json_object_new_int((int)sum[k].violations));
			json_object_object_add(kinds, mp_pm_kind_name(k), o);
		}
		json_object_object_add(root, "ranges", ranges);
		json_object_object_add(root, "kinds", kinds);
		json_object_object_add(root, "violations", viol);
		if (s->agent && json_object_object_get_ex(s->agent_reply, "problems", &problems))
			json_object_object_add(root, "agent_problems", json_object_get(problems));
		tool_print_json(root);
		mp_sb_free(&vtext);
		return EXIT_OK;
	}

	printf("\n%-8s %7s %10s %10s  %s\n", "KIND", "RANGES", "PAGES", "VIOLATIONS", "PER NODE");
	for (int k = 1; k < N_KINDS; k++) {
		char pages[256];

		if (!sum[k].ranges)
			continue;
		fmt_pages(pages, sizeof(pages), sum[k].per_node, sum[k].elsewhere);
		printf("%-8s %7u %10" PRIu64 " %10u  %s\n", mp_pm_kind_name(k), sum[k].ranges, sum[k].present,
		       sum[k].violations, pages);
	}
	if (s->agent) {
		struct json_object *problems;

		if (json_object_object_get_ex(s->agent_reply, "problems", &problems) &&
		    json_object_is_type(problems, json_type_array) && json_object_array_length(problems)) {
			printf("\nthe agent could not:\n");
			for (size_t i = 0; i < json_object_array_length(problems); i++)
				printf("  %s\n", json_object_get_string(json_object_array_get_idx(problems, i)));
		}
	}
	if (n_viol) {
		char *t = mp_sb_steal(&vtext);

		printf("\nviolations (%u):\n%s", n_viol, t ? t : "");
		free(t);
	} else {
		printf("\nviolations: none\n");
	}
	mp_sb_free(&vtext);
	return EXIT_OK;
}

/* ---- errors ------------------------------------------------------------------- */

int cmd_show(int argc, char **argv)
{
	struct pview s;
	bool self = false, all = false, json = false;
	int pid = 0, c, r, ret = EXIT_FAIL;
	uint64_t v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case OPT_PID:
			if (mp_parse_uint(optarg, strlen(optarg), INT_MAX, &v) < 0 || v == 0) {
				tool_error("--pid takes a process id, not '%s'", optarg);
				return EXIT_USAGE;
			}
			pid = (int)v;
			break;
		case OPT_SELF:
			self = true;
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			tool_usage(usage_text, false);
			return EXIT_OK;
		default:
			tool_usage(usage_text, true);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		tool_error("unexpected argument '%s'", argv[optind]);
		tool_hint("name the process with --pid PID");
		return EXIT_USAGE;
	}
	if (self && pid) {
		tool_error("--pid and --self name two processes; choose one");
		return EXIT_USAGE;
	}
	if (!self && !pid) {
		tool_error("which process? give --pid PID (or --self for this one)");
		return EXIT_USAGE;
	}
	if (self)
		pid = (int)getpid();

	r = pv_load(&s, pid, MP_WIRE_TIMEOUT_MS, PV_MOVE_PAGES);
	if (r < 0) {
		pv_say_error(pid, r);
		return EXIT_FAIL;
	}
	ret = report(&s, all, json);
	pv_free(&s);
	return ret;
}
