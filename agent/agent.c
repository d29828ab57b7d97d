/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The preload agent (libmplace-preload.so): reads the compiled policy of
 * each kind of memory from the environment `mplace run` set
 * (doc/agent-protocol.md) and applies it inside the program.  This file:
 * the agent's state, reading the environment, and the start; the parts are
 *
 *   problems.c  what could not be done      proc.c    /proc/self/maps, smaps
 *   range.c     ranges that exist           task.c    the task policy
 *   thread.c    the program's threads       map.c     new mappings (mmap)
 *   shm.c       System V segments           mlock.c   memory to be pinned
 *   file.c      file:GLOB (open, read)      heap.c    malloc
 *   text.c      text replicate              exec.c    a child's own rules
 *   ctl.c       the control socket          json.c    its answers
 *
 * Invariants:
 *   - safe before main and after fork: no allocation on these paths (fixed
 *     tables, stack buffers, raw syscalls), no lock;
 *   - in secure execution (AT_SECURE) nothing is read from the environment
 *     and nothing is done: agent.active stays false;
 *   - what cannot be done is recorded in the problems table (and said on
 *     stderr with MPLACE_LOG=1), never dropped.
 */
/* the interposers define both mmap and mmap64 (open, open64...): no
 * redirection of one name to the other */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "alloc/alloc.h"
#include "basic/util.h"
#include "core/compiled.h"
#include "json.h"
#include "kernel/place.h"

struct agent agent;

/* For tests and `mplace show`: 0 not loaded or inactive, 1 applying
 * policies, 2 secure execution (the environment was ignored). */
EXPORT int mplace_agent_state;

const struct mp_compiled *agent_policy(enum mp_kind k)
{
	if (agent_has(k))
		return &agent.kind[k].c;
	if (k != MP_KIND_ALL && agent_has(MP_KIND_KERNEL) && agent_has(MP_KIND_ALL))
		return &agent.kind[MP_KIND_ALL].c;
	return NULL;
}

/* ---- the agent's own code (its jemalloc included): its mmaps are not the
 * program's */

static struct {
	uintptr_t lo, hi;
} own[4];
static unsigned n_own;

bool agent_is_own_caller(const void *ret_addr)
{
	uintptr_t a = (uintptr_t)ret_addr;

	for (unsigned i = 0; i < n_own; i++)
		if (a >= own[i].lo && a < own[i].hi)
			return true;
	return false;
}

static int own_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	Dl_info *self = data;
	bool mine = (uintptr_t)self->dli_fbase == info->dlpi_addr;

	if (!mine)
		return 0;
	for (unsigned i = 0; i < info->dlpi_phnum && n_own < 4; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			own[n_own].lo = info->dlpi_addr + ph->p_vaddr;
			own[n_own].hi = own[n_own].lo + ph->p_memsz;
			n_own++;
		}
	}
	return 0;
}

/* ---- start -------------------------------------------------------------- */

/* MPLACE_AGENT_<VAR> and its source into agent.kind[], once: the heap's
 * first malloc can ask before the constructor does (heap.c).  1 when the
 * kind has a policy, 0 when not. */
int agent_env_kind(enum mp_kind kind)
{
	static _Atomic uint8_t state[MP_KIND__COUNT]; /* 0 unread, 1 reading, 2 read */
	const struct mp_wire_kind *wk = mp_wire_kind_of(kind);
	struct agent_kind *k = &agent.kind[kind];
	uint8_t expect = 0;
	char name[64];
	const char *v;

	if (!wk)
		return 0;
	if (!atomic_compare_exchange_strong(&state[kind], &expect, 1)) {
		/* another thread reads it: before main, and only at the very first
		 * mallocs of two threads at once */
		while (atomic_load(&state[kind]) != 2)
			;
		return agent_has(kind);
	}
	if (agent_source() == AGENT_SRC_SNAPSHOT) {
		/* the system agent: the record mplaced compiled for this process */
		if (agent_snapshot_kind(kind, k->compiled, sizeof(k->compiled), k->source, sizeof(k->source)) <= 0)
			goto out;
		if (mp_compiled_deserialize(k->compiled, &k->c) < 0) {
			agent_problem("the snapshot's %s: not a compiled policy this agent understands; ignored",
				      mp_kind_name(kind));
			goto out;
		}
		agent_mark(kind);
		goto out;
	}
	snprintf(name, sizeof(name), "MPLACE_AGENT_%s", wk->var);
	v = agent_source() != AGENT_SRC_ENV ? NULL : getenv(name);
	if (!v || !*v)
		goto out;
	/* mplace run refuses longer ones: this one was made by hand */
	if (strlen(v) >= sizeof(k->compiled)) {
		agent_problem("%s: %zu bytes, longer than the %d an agent keeps; ignored", name, strlen(v),
			      MP_WIRE_TEXT_MAX - 1);
		goto out;
	}
	if (mp_compiled_deserialize(v, &k->c) < 0) {
		agent_problem("%s: not a compiled policy this agent understands; ignored", name);
		goto out;
	}
	snprintf(k->compiled, sizeof(k->compiled), "%s", v);
	snprintf(name, sizeof(name), "MPLACE_AGENT_SOURCE_%s", wk->var);
	v = getenv(name);
	if (v && strlen(v) >= sizeof(k->source))
		agent_problem("%s: %zu bytes, longer than the %d an agent keeps; cut", name, strlen(v),
			      MP_WIRE_TEXT_MAX - 1);
	snprintf(k->source, sizeof(k->source), "%s", v ? v : "");
	agent_mark(kind);
out:
	atomic_store(&state[kind], 2);
	return agent_has(kind);
}

static void read_env(void)
{
	char name[64];
	const char *v;

	agent.log = (v = getenv("MPLACE_LOG")) && !strcmp(v, "1");
	for (size_t i = 0; i < MP_WIRE_N_KINDS; i++)
		agent_env_kind(mp_wire_kinds[i].kind);
	for (unsigned i = 0; agent_source() == AGENT_SRC_SNAPSHOT; i++) {
		struct agent_file *f = &agent.files[agent.n_files];
		int r;

		if (agent.n_files == MP_WIRE_MAX_FILES)
			break;
		r = agent_snapshot_file(i, f->glob, sizeof(f->glob), f->k.compiled, sizeof(f->k.compiled));
		if (r == 0)
			break;
		if (r < 0 || mp_compiled_deserialize(f->k.compiled, &f->k.c) < 0) {
			agent_problem("the snapshot's file policy %u is malformed; ignored", i);
			continue;
		}
		f->set = true;
		agent.n_files++;
	}
	for (unsigned i = 0; agent_source() == AGENT_SRC_ENV; i++) {
		struct agent_file *f = &agent.files[agent.n_files];
		const char *tab;

		snprintf(name, sizeof(name), "MPLACE_AGENT_FILE_%u", i);
		v = getenv(name);
		if (!v)
			break;
		if (agent.n_files == MP_WIRE_MAX_FILES) {
			agent_problem("%s: more than %d file policies; the rest are ignored", name, MP_WIRE_MAX_FILES);
			break;
		}
		tab = strchr(v, '\t');
		if (!tab || (size_t)(tab - v) >= sizeof(f->glob) || strlen(tab + 1) >= sizeof(f->k.compiled) ||
		    mp_compiled_deserialize(tab + 1, &f->k.c) < 0) {
			agent_problem("%s: expected GLOB<TAB>compiled policy; ignored", name);
			continue;
		}
		memcpy(f->glob, v, tab - v);
		f->glob[tab - v] = '\0';
		f->set = true;
		snprintf(f->k.compiled, sizeof(f->k.compiled), "%s", tab + 1);
		agent.n_files++;
	}
}

static void apply_start(void)
{
	const struct mp_compiled *c;

	/* the task policy: kernel when given (it steers what the kernel
	 * allocates for the thread), else the generic policy */
	c = agent_has(MP_KIND_KERNEL) ? &agent.kind[MP_KIND_KERNEL].c
	    : agent_has(MP_KIND_ALL)  ? &agent.kind[MP_KIND_ALL].c
				      : NULL;
	if (c) {
		agent_task_init(c);
	}
	if ((c = agent_policy(MP_KIND_STACK)))
		agent_place_existing(MP_KIND_STACK, c, true, NULL, NULL);
	if ((c = agent_policy(MP_KIND_DATA)))
		agent_place_existing(MP_KIND_DATA, c, true, NULL, NULL);
	if ((c = agent_policy(MP_KIND_TEXT))) {
		/* a private placed copy; when it cannot be made, the shared
		 * pages are moved instead (said by agent_text_replicate) */
		if (!c->replicate || agent_text_replicate(c) < 0)
			agent_place_existing(MP_KIND_TEXT, c, true, NULL, NULL);
	}
}

/* Nothing runs in a child between fork and exec that the program did not
 * start: the child only lets go of its parent's socket (ctl.c). */
static void after_fork_child(void)
{
	agent_threads_forked();
	agent_ctl_forked();
}

__attribute__((constructor(101))) static void agent_init(void)
{
	Dl_info self;
	unsigned replaced;
	bool had_heap;

	if (getauxval(AT_SECURE)) {
		mplace_agent_state = 2;
		return;
	}
	/* no MPLACE_AGENT_* at all and no scope of mplaced's snapshot for it
	 * (a program the agent is preloaded into with nothing for it): nothing
	 * to read, apply or listen for; every interposer passes straight
	 * through (doc/agent.md, "Cost") */
	if (agent_source() == AGENT_SRC_NONE)
		return;
	read_env();
	agent.active = true;
	mplace_agent_state = 1;
	agent_threads_init();
	if (dladdr((void *)agent_init, &self))
		dl_iterate_phdr(own_cb, &self);
	agent_heap_init();
	had_heap = agent_has(MP_KIND_HEAP);
	/* a program with rules of its own (an exe scope) replaces what it
	 * inherited; still single-threaded, so it may rewrite the environment */
	replaced = agent_exec_rules();
	if ((replaced & (1u << MP_KIND_HEAP)) && agent_heap_active()) {
		long moved, misplaced;
		int r = agent_heap_set(&agent.kind[MP_KIND_HEAP].c, false, &moved, &misplaced);

		if (r < 0)
			agent_problem("heap: the program's own heap policy: %s", agent_strerror(-r));
	} else if ((replaced & (1u << MP_KIND_HEAP)) && !had_heap) {
		/* the first malloc chose glibc's allocator, and reading the
		 * configuration needs malloc: its children get the heap */
		agent_problem("heap: the program's own heap policy came from its exe scope, after the allocator was "
			      "chosen; heap not placed in this process (its children get it)");
	} else if (agent_has(MP_KIND_HEAP) && !agent_heap_active()) {
		agent_problem("heap: the allocator was chosen before the policy could be read; heap not placed");
	}
	apply_start();
	pthread_atfork(NULL, NULL, after_fork_child);
	agent_ctl_start();
}
