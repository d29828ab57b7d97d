/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The preload agent's shared state: one compiled policy per kind, read from
 * the environment once at start (doc/agent-protocol.md), the fixed-size
 * problems table, and the entry points its parts give each other.
 *
 * Invariants: nothing here allocates or takes a lock that fork can leave
 * held; every table is fixed-size and static.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/combine.h"
#include "core/config.h"
#include "wire/wire.h"

struct jw;

#define EXPORT __attribute__((visibility("default")))

#define AGENT_VERSION	   "0.2.0"
#define AGENT_MAX_PROBLEMS 32
#define AGENT_PROBLEM_LEN  240

struct agent_kind {
	struct mp_compiled c;		 /* valid when agent_has(its kind) */
	char compiled[MP_WIRE_TEXT_MAX]; /* the serialised form, as received or set */
	char source[MP_WIRE_TEXT_MAX];	 /* MPLACE_AGENT_SOURCE_*, or "mplace set" */
};

struct agent_file {
	bool set;
	char glob[MP_WIRE_GLOB_MAX];
	struct agent_kind k;
};

struct agent {
	bool active; /* environment read, not secure execution */
	bool log;
	/* which kinds have a policy, one bit each: asked at every start and in
	 * every thread, so kept apart from the kinds' texts (8 KiB each), which
	 * a process without policies then never touches */
	_Atomic unsigned has;
	struct agent_kind kind[MP_KIND__COUNT]; /* MP_KIND_ALL is POLICY; FILE unused */
	unsigned n_files;
	struct agent_file files[MP_WIRE_MAX_FILES];
};

extern struct agent agent;

static inline bool agent_has(enum mp_kind k)
{
	return atomic_load_explicit(&agent.has, memory_order_relaxed) & (1u << k);
}

static inline void agent_mark(enum mp_kind k)
{
	atomic_fetch_or(&agent.has, 1u << k);
}

/* snapshot.c: where the policies come from, decided once (before main):
 * none, the environment (mplace run, a unit's drop-in), or mplaced's
 * snapshot (the system agent, for a process a scope selects). */
enum agent_source { AGENT_SRC_NONE, AGENT_SRC_ENV, AGENT_SRC_SNAPSHOT };
enum agent_source agent_source(void);
/* The snapshot's policy for kind, into the buffers: 1, or 0 none. */
int agent_snapshot_kind(enum mp_kind kind, char *compiled, size_t csize, char *src, size_t ssize);
/* Its i-th file policy: 1, 0 no more, -EINVAL malformed. */
int agent_snapshot_file(unsigned i, char *glob, size_t gsize, char *compiled, size_t csize);

/* The environment's policy for kind, read into agent.kind[kind] once
 * (whoever asks first: the constructor, or the heap's first malloc): 1 set,
 * 0 none.  No allocation. */
int agent_env_kind(enum mp_kind kind);

/* The kind's own policy, else the generic one when the task policy is not it
 * (KERNEL set), else NULL (the task policy already covers the kind). */
const struct mp_compiled *agent_policy(enum mp_kind k);

__attribute__((format(printf, 1, 2))) void agent_problem(const char *fmt, ...);

/* strerror without gettext: glibc's translates the message, which may call
 * malloc and free, and the agent's own reports run where the agent is still
 * deciding what its malloc does (before main, from its first malloc). */
static inline const char *agent_strerror(int e)
{
	const char *s = strerrordesc_np(e);

	return s ? s : "unknown error";
}
/* The problems so far, as a JSON array of strings. */
void agent_problems_json(struct jw *w);

/* heap.c */
int agent_heap_init(void); /* decides the allocator, once */
int agent_heap_set(const struct mp_compiled *c, bool migrate, long *ret_moved, long *ret_misplaced);
bool agent_heap_active(void);
/* The address ranges the heap owns, as JSON objects {"start", "end", "kind":
 * "heap"} separated by commas (doc/agent-protocol.md, `show`). */
void agent_heap_ranges_json(struct jw *w);

/* task.c: the task policy, the thread's own, and every thread's on `set` */
void agent_task_init(const struct mp_compiled *c); /* at start, in the main thread */
bool agent_task_active(void);
int agent_task_apply(void);
int agent_task_set_all(const struct mp_compiled *c);

/* thread.c: the program's threads, counted (the main thread at start, the
 * forking one in a child) */
void agent_threads_init(void);
void agent_threads_forked(void);

/* mlock.c: the MCL_FUTURE | MCL_ONFAULT flags of the last mlockall in
 * force (0 after munlockall): whether new mappings are pinned, and when */
int agent_mlock_future(void);

/* The page size is the kernel's, never assumed: getpagesize() is glibc's
 * copy of AT_PAGESZ. */
static inline uintptr_t page_down(uintptr_t a)
{
	return a & ~((uintptr_t)getpagesize() - 1);
}

static inline uintptr_t page_up(uintptr_t a)
{
	return page_down(a + (uintptr_t)getpagesize() - 1);
}

/* range.c: the main stack, data, text, anon mappings */
int agent_maps_find(const char *name, void **ret_lo, size_t *ret_len);
int agent_place_existing(enum mp_kind k, const struct mp_compiled *c, bool migrate, long *ret_moved,
			 long *ret_misplaced);
long agent_count_misplaced(void *addr, size_t len, const struct mp_compiled *c);
/* Place [addr, addr+len) by c (flags MP_PLACE_*), counting what moved and
 * what stayed elsewhere when migrating; problems recorded under 'what'. */
int agent_place(const char *what, void *addr, size_t len, const struct mp_compiled *c, unsigned flags, long *ret_moved,
		long *ret_misplaced);
/* An existing range's pages are moved, never released: a strict policy is
 * applied the non-strict way there, and what stays elsewhere reported. */
int agent_place_moving(const char *what, void *addr, size_t len, const struct mp_compiled *c, long *ret_misplaced);
/* agent.c: the agent's own code (its jemalloc included): its mmaps are not
 * the program's */
bool agent_is_own_caller(const void *ret_addr);

/* ctl.c: the control socket and its thread (made at start where there is
 * something to serve); after fork in the child; when the program makes a
 * thread (a forked child listens from then on). */
void agent_ctl_start(void);
void agent_ctl_forked(void);
void agent_ctl_thread_made(void);
/* Whether the control thread runs in this process or will (a forked child's,
 * at its first thread): the program's threads are then counted. */
bool agent_ctl_wanted(void);
/* The program's last counted thread is ending: stop the control thread and
 * wait until it is gone, so that the ending thread is the process's last. */
void agent_ctl_stop(void);
/* A thread of the agent's own: the real pthread_create, no trampoline. */
int agent_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *), void *arg);

/* file.c: file:GLOB for reads.  A file opened for reading whose path matches
 * has its page cache brought in under the file's policy (at most
 * AGENT_FILE_READ_MAX bytes per open) and checked. */
#define AGENT_FILE_READ_MAX (64 << 20)
void agent_file_opened(int fd, const char *path);
int agent_file_read_place(int fd, const char *path, const struct mp_compiled *c);
/* The file policy of the file descriptor fd names, or NULL. */
const struct mp_compiled *agent_file_of_fd(int fd);
/* Fault a new mapping of a file in under its policy, and check it. */
void agent_file_populate(void *p, size_t len, const struct mp_compiled *c);

/* proc.c: /proc/self/maps and /proc/self/smaps without allocating.  fn is
 * called per mapping (name "" when anonymous) and stops the walk by
 * returning non-zero (< 0 is returned). */
int agent_maps_foreach(int (*fn)(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d), void *d);
/* For the mappings overlapping [lo, hi): the sum and the largest value of
 * the smaps field key ("AnonHugePages:", "KernelPageSize:"), in kB. */
int agent_smaps(uintptr_t lo, uintptr_t hi, const char *key, unsigned long *ret_sum_kb, unsigned long *ret_max_kb);

/* text.c: text `replicate`, a private copy of the program's executable
 * segments placed by c (doc/agent.md).  0 or -errno (reported). */
int agent_text_replicate(const struct mp_compiled *c);

/* exec.c: a child's own rules.  When this program is not the one `mplace
 * run` resolved for and an [exe GLOB] scope of its configuration matches
 * it, the kinds those scopes set are resolved anew and replace the
 * inherited ones (here and in the environment).  Returns the mask of
 * kinds replaced (1 << enum mp_kind); problems are recorded. */
unsigned agent_exec_rules(void);
