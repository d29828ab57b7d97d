/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's problems: what it could not do, and why, in a fixed table
 * that `show` answers with (and on stderr with MPLACE_LOG=1).  Never
 * dropped silently: what does not fit is counted and said.
 *
 * Invariants: no allocation, no lock (it runs before main, after fork and
 * in the control thread).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "agent.h"
#include "json.h"

/* ---- problems ----------------------------------------------------------- */

static char problems[AGENT_MAX_PROBLEMS][AGENT_PROBLEM_LEN];
static _Atomic unsigned n_problems;
static _Atomic unsigned n_dropped;

void agent_problem(const char *fmt, ...)
{
	unsigned i = atomic_fetch_add(&n_problems, 1);
	char line[AGENT_PROBLEM_LEN + 32];
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (i < AGENT_MAX_PROBLEMS) {
		vsnprintf(problems[i], AGENT_PROBLEM_LEN, fmt, ap);
	} else {
		atomic_fetch_add(&n_dropped, 1);
		atomic_fetch_sub(&n_problems, 1);
	}
	va_end(ap);
	if (agent.log) {
		va_start(ap, fmt);
		n = snprintf(line, sizeof(line), "mplace-agent[%d]: ", (int)getpid());
		n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
		va_end(ap);
		if (n > (int)sizeof(line) - 2)
			n = (int)sizeof(line) - 2;
		line[n++] = '\n';
		if (write(2, line, (size_t)n) < 0) {
			/* stderr closed: the table still has it */
		}
	}
}

void agent_problems_json(struct jw *w)
{
	unsigned n = atomic_load(&n_problems);

	jw_raw(w, "[");
	for (unsigned i = 0; i < n && i < AGENT_MAX_PROBLEMS; i++) {
		if (i)
			jw_raw(w, ", ");
		jw_str(w, problems[i]);
	}
	if (atomic_load(&n_dropped))
		jw_printf(w, "%s\"%u more problems not recorded (the table holds %d)\"", n ? ", " : "",
			  atomic_load(&n_dropped), AGENT_MAX_PROBLEMS);
	jw_raw(w, "]");
}
