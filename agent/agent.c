/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The preload agent (libmplace-preload.so): reads the compiled policy of
 * each kind of memory from the environment `mplace run` set
 * (doc/agent-protocol.md) and applies it inside the program: the task
 * policy of every thread, the stacks, .data/.bss and text, the program's
 * anonymous, shared, huge-page and file mappings, and memory about to be
 * pinned.  The heap is heap.c, the control socket ctl.c.
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

#define EXPORT __attribute__((visibility("default")))

struct agent agent;

/* For tests and `mplace show`: 0 not loaded or inactive, 1 applying
 * policies, 2 secure execution (the environment was ignored). */
EXPORT int mplace_agent_state;

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

const struct mp_compiled *agent_policy(enum mp_kind k)
{
	if (agent.kind[k].set)
		return &agent.kind[k].c;
	if (k != MP_KIND_ALL && agent.kind[MP_KIND_KERNEL].set && agent.kind[MP_KIND_ALL].set)
		return &agent.kind[MP_KIND_ALL].c;
	return NULL;
}

/* ---- where pages are ---------------------------------------------------- */

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

long agent_count_misplaced(void *addr, size_t len, const struct mp_compiled *c)
{
	return mp_place_misplaced(addr, len, c, NULL);
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

/* ---- /proc/self/maps without allocating --------------------------------- */

static const char *hex_field(const char *s, uintptr_t *ret)
{
	uintptr_t v = 0;
	const char *b = s;

	for (;; s++) {
		unsigned x = (unsigned char)*s;

		if (x - '0' < 10)
			x -= '0';
		else if ((x | 0x20) - 'a' < 6)
			x = (x | 0x20) - 'a' + 10;
		else
			break;
		v = v << 4 | x;
	}
	*ret = v;
	return s > b ? s : NULL;
}

/* "lo-hi perms offset dev inode   name": a hand parser, because sscanf
 * costs ~2,000 instructions a line and runs at every program's start. */
static int maps_line(const char *s, uintptr_t *lo, uintptr_t *hi, char perms[8], const char **name)
{
	size_t n = 0;

	if (!(s = hex_field(s, lo)) || *s++ != '-' || !(s = hex_field(s, hi)) || *s++ != ' ')
		return -EINVAL;
	while (*s && *s != ' ' && n < 7)
		perms[n++] = *s++;
	perms[n] = '\0';
	for (int field = 0; field < 3; field++) {
		while (*s == ' ')
			s++;
		if (!*s)
			return -EINVAL;
		while (*s && *s != ' ')
			s++;
	}
	while (*s == ' ')
		s++;
	*name = s;
	return 0;
}

/* Calls fn with each line of a /proc file, NUL-terminated, without
 * allocating; a line longer than the buffer is cut (only names can be).
 * Stops at fn's first non-zero return and returns it if negative. */
static int proc_lines(const char *path, int (*fn)(char *line, void *d), void *d)
{
	char buf[8192], line[512];
	size_t ll = 0;
	ssize_t n;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	while (r == 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && r == 0; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			r = fn(line, d);
		}
	}
	close(fd);
	return r < 0 ? r : 0;
}

struct maps_ctx {
	int (*fn)(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d);
	void *d;
};

static int maps_cb(char *line, void *d)
{
	struct maps_ctx *m = d;
	uintptr_t lo, hi;
	char perms[8];
	const char *name;

	return maps_line(line, &lo, &hi, perms, &name) == 0 ? m->fn(lo, hi, perms, name, m->d) : 0;
}

/* Calls fn for each line of /proc/self/maps: lo, hi, perms, name ("" for anonymous). */
int agent_maps_foreach(int (*fn)(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d), void *d)
{
	struct maps_ctx m = {fn, d};

	return proc_lines("/proc/self/maps", maps_cb, &m);
}

struct find_ctx {
	const char *name;
	uintptr_t lo, hi;
};

static int find_cb(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d)
{
	struct find_ctx *f = d;

	if (strcmp(name, f->name))
		return 0;
	f->lo = lo;
	f->hi = hi;
	return 1;
}

int agent_maps_find(const char *name, void **ret_lo, size_t *ret_len)
{
	struct find_ctx f = {.name = name};
	int r = agent_maps_foreach(find_cb, &f);

	if (r < 0)
		return r;
	if (!f.hi)
		return -ENOENT;
	*ret_lo = (void *)f.lo;
	*ret_len = f.hi - f.lo;
	return 0;
}

struct smaps_ctx {
	uintptr_t lo, hi;
	const char *key;
	size_t kl;
	bool in, found;
	unsigned long sum, max;
};

static int smaps_cb(char *line, void *d)
{
	struct smaps_ctx *x = d;
	unsigned long v;
	uintptr_t a, b;
	char perms[8];
	const char *name;

	if (!strncmp(line, x->key, x->kl)) {
		if (x->in && sscanf(line + x->kl, "%lu", &v) == 1) {
			x->sum += v;
			x->max = v > x->max ? v : x->max;
			x->found = true;
		}
	} else if (maps_line(line, &a, &b, perms, &name) == 0) {
		/* field names never read as "hex-hex ": a header */
		x->in = a < x->hi && b > x->lo;
	}
	return 0;
}

/* smaps: a header line per mapping ("lo-hi perms ..."), then "Key: value kB"
 * lines. */
int agent_smaps(uintptr_t lo, uintptr_t hi, const char *key, unsigned long *ret_sum_kb, unsigned long *ret_max_kb)
{
	struct smaps_ctx x = {.lo = lo, .hi = hi, .key = key, .kl = strlen(key)};
	int r = proc_lines("/proc/self/smaps", smaps_cb, &x);

	if (r < 0)
		return r;
	if (!x.found)
		return -ENOENT;
	*ret_sum_kb = x.sum;
	*ret_max_kb = x.max;
	return 0;
}

/* ---- placing ranges that exist ------------------------------------------ */

static int place(const char *what, void *addr, size_t len, const struct mp_compiled *c, unsigned flags, long *ret_moved,
		 long *ret_misplaced)
{
	struct mp_place_report rep;
	long before = 0, after;
	int r;

	if (flags & MP_PLACE_MIGRATE)
		before = agent_count_misplaced(addr, len, c);
	r = mp_place_range(addr, len, c, flags | MP_PLACE_NO_CHECK_FREE, &rep);
	if (r < 0) {
		agent_problem("%s: %s%s%s", what, strerror(-r), rep.reason[0] ? ": " : "", rep.reason);
		return r;
	}
	after = (flags & MP_PLACE_MIGRATE) ? agent_count_misplaced(addr, len, c) : 0;
	if (ret_moved)
		*ret_moved += before - after;
	if (ret_misplaced)
		*ret_misplaced += after;
	if (after)
		agent_problem("%s: %ld pages could not be moved to the policy's nodes", what, after);
	return 0;
}

struct seg_ctx {
	enum mp_kind kind;
	const struct mp_compiled *c;
	unsigned flags;
	long moved, misplaced;
	int err;
};

struct cow_ctx {
	uintptr_t lo, hi;
	int err;
};

static int cow_cb(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d)
{
	struct cow_ctx *x = d;

	if (perms[1] != 'w' || perms[3] != 'p' || hi <= x->lo || lo >= x->hi)
		return 0;
	lo = lo < x->lo ? x->lo : lo;
	hi = hi > x->hi ? x->hi : hi;
	if (madvise((void *)lo, hi - lo, 23 /* MADV_POPULATE_WRITE */) < 0 && !x->err)
		x->err = errno;
	return 0;
}

/*
 * The program's data pages it has not written yet are the file's page cache
 * (copy on write), shared and not to be moved: write-fault them (without
 * writing: MADV_POPULATE_WRITE, 5.14) so that each becomes the program's own
 * page, made under the range policy already set.
 */
static void data_own(uintptr_t lo, uintptr_t hi)
{
	struct cow_ctx x = {.lo = lo, .hi = hi};

	agent_maps_foreach(cow_cb, &x);
	if (x.err)
		agent_problem(
			"data: its pages not yet written stay the file's, where they are: MADV_POPULATE_WRITE: %s",
			strerror(x.err));
}

/* The main program's segments: data is PT_LOAD writable, text executable. */
static int seg_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct seg_ctx *s = data;
	uintptr_t ps = (uintptr_t)getpagesize();

	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		bool want = ph->p_type == PT_LOAD &&
			    (s->kind == MP_KIND_DATA ? (ph->p_flags & PF_W) : (ph->p_flags & PF_X));
		uintptr_t lo, hi;

		if (!want)
			continue;
		lo = (info->dlpi_addr + ph->p_vaddr) & ~(ps - 1);
		hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + ps - 1) & ~(ps - 1);
		if (s->kind == MP_KIND_DATA) {
			struct mp_compiled pc = *s->c;

			/* bound first: the pages data_own makes are made there */
			pc.strict = false;
			mp_place_range((void *)lo, hi - lo, &pc, MP_PLACE_NO_CHECK_FREE, NULL);
			data_own(lo, hi);
		}
		if (place(s->kind == MP_KIND_DATA ? "data" : "text", (void *)lo, hi - lo, s->c, s->flags, &s->moved,
			  &s->misplaced) < 0)
			s->err = -EIO;
	}
	return 1; /* the first object is the program itself */
}

struct anon_ctx {
	const struct mp_compiled *c;
	long moved, misplaced;
};

static int anon_cb(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d)
{
	struct anon_ctx *a = d;

	/* the program's anonymous private memory; the heap's chunks are its own kind */
	if (*name || perms[3] != 'p' || perms[0] != 'r' || mp_alloc_owner_of((void *)lo))
		return 0;
	place("anon", (void *)lo, hi - lo, a->c, MP_PLACE_MIGRATE, &a->moved, &a->misplaced);
	return 0;
}

int agent_place_existing(enum mp_kind k, const struct mp_compiled *c, bool migrate, long *ret_moved,
			 long *ret_misplaced)
{
	unsigned flags = migrate ? MP_PLACE_MIGRATE : 0;
	long moved = 0, mis = 0;
	void *lo;
	size_t len;
	int r = 0;

	switch (k) {
	case MP_KIND_STACK:
		r = agent_maps_find("[stack]", &lo, &len);
		if (r < 0) {
			agent_problem("stack: the main thread's stack is not in /proc/self/maps: %s", strerror(-r));
			return r;
		}
		r = place("stack", lo, len, c, flags, &moved, &mis);
		break;
	case MP_KIND_DATA:
	case MP_KIND_TEXT: {
		struct seg_ctx s = {.kind = k, .c = c, .flags = flags};

		dl_iterate_phdr(seg_cb, &s);
		moved = s.moved;
		mis = s.misplaced;
		r = s.err;
		break;
	}
	case MP_KIND_ANON: {
		struct anon_ctx a = {.c = c};

		if (!migrate)
			return 0; /* new mappings follow; nothing to move */
		r = agent_maps_foreach(anon_cb, &a);
		moved = a.moved;
		mis = a.misplaced;
		break;
	}
	default:
		break;
	}
	if (ret_moved)
		*ret_moved = moved;
	if (ret_misplaced)
		*ret_misplaced = mis;
	return r;
}

/* ---- task policy -------------------------------------------------------- */

/* The task policy every thread of the program gets (task_set false: none,
 * the kernel's default is left alone). */
static struct mp_task_policy task;
static bool task_set;

static int task_apply(void)
{
	return task_set ? mp_place_task(&task) : 0;
}

int agent_task_apply(void)
{
	int r = task_apply();

	if (r < 0)
		agent_problem("task policy of thread %d: %s", (int)gettid(), strerror(-r));
	return r;
}

/* `mplace set policy=`: every thread sets its own policy (set_mempolicy acts
 * on the caller only), asked with a real-time signal the program does not use. */
static _Atomic int task_acks;
static int task_signal;

static void task_handler(int sig)
{
	int e = errno;

	task_apply();
	atomic_fetch_add(&task_acks, 1);
	errno = e;
}

int agent_task_set_all(const struct mp_compiled *c)
{
	struct sigaction sa = {0}, old;
	char buf[4096];
	int fd, sent = 0, self = (int)gettid();
	ssize_t n;

	mp_task_policy_of(c, &task);
	task_set = true;
	if (!task_signal) {
		for (int s = SIGRTMAX; s > SIGRTMIN + 4; s--) {
			if (sigaction(s, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
			    !(old.sa_flags & SA_SIGINFO)) {
				task_signal = s;
				break;
			}
		}
		if (!task_signal)
			return -EBUSY;
		sa.sa_handler = task_handler;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(task_signal, &sa, NULL) < 0)
			return -errno;
	}
	atomic_store(&task_acks, 0);
	fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (ssize_t o = 0; o < n;) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *de = (void *)(buf + o);
			uint64_t tid;

			o += de->reclen;
			if (mp_parse_uint(de->name, strlen(de->name), INT32_MAX, &tid) < 0)
				continue;
			if ((int)tid == self) {
				task_apply();
				continue;
			}
			if (syscall(SYS_tgkill, getpid(), (int)tid, task_signal) == 0)
				sent++;
		}
	}
	close(fd);
	for (int i = 0; i < 200 && atomic_load(&task_acks) < sent; i++)
		usleep(1000);
	if (atomic_load(&task_acks) < sent)
		agent_problem("set policy: %d of %d threads did not answer (blocked the signal %d?)",
			      sent - atomic_load(&task_acks), sent, task_signal);
	return 0;
}

/* ---- threads ------------------------------------------------------------ */

/* The MCL_FUTURE | MCL_ONFAULT flags of the last successful mlockall (0
 * after munlockall): whether new mappings are pinned, and when. */
static _Atomic int mlock_future;

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static pthread_create_fn real_pthread_create;

struct tramp {
	void *(*start)(void *);
	void *arg;
};

static void place_own_stack(void)
{
	const struct mp_compiled *c = agent_policy(MP_KIND_STACK);

	/* pinned since it was made (mlockall(MCL_FUTURE)): the mlocked kind's */
	if ((atomic_load(&mlock_future) & MCL_FUTURE) && agent_policy(MP_KIND_MLOCKED))
		c = agent_policy(MP_KIND_MLOCKED);
	pthread_attr_t a;
	void *lo;
	size_t len, ps = (size_t)sysconf(_SC_PAGESIZE);

	if (!c || pthread_getattr_np(pthread_self(), &a))
		return;
	if (pthread_attr_getstack(&a, &lo, &len) == 0) {
		uintptr_t l = ((uintptr_t)lo + ps - 1) & ~(ps - 1);
		uintptr_t h = ((uintptr_t)lo + len) & ~(ps - 1);

		/* the pages this thread touched so far move too */
		if (h > l)
			place("stack of a new thread", (void *)l, h - l, c, MP_PLACE_MIGRATE, NULL, NULL);
	}
	pthread_attr_destroy(&a);
}

/*
 * The program's threads, counted, so that the agent's control thread never
 * keeps a process alive: a process whose threads all end by pthread_exit
 * (main() calling pthread_exit, a child forked from a thread) ends when the
 * last of them does, and glibc then calls exit(0) in that last thread.
 * When the count reaches 0 the ending thread stops the control thread and
 * joins it first, so the ending thread is still the last, and exit(0) and
 * the program's atexit handlers run in a thread of the program's.
 * Threads made before the agent or without pthread_create (glibc's own)
 * are not counted: the control thread may then stop early, which loses
 * only the socket.
 */
static _Atomic int program_threads = 1; /* the main thread */
static __thread bool counted __attribute__((tls_model("initial-exec")));

static void thread_end(void *unused)
{
	(void)unused;
	if (!counted)
		return;
	counted = false;
	if (atomic_fetch_sub(&program_threads, 1) == 1)
		agent_ctl_stop();
}

static void *trampoline(void *p)
{
	struct tramp t = *(struct tramp *)p;
	void *ret;

	free(p);
	counted = true;
	task_apply();
	place_own_stack();
	/* runs on return, pthread_exit and cancellation alike */
	pthread_cleanup_push(thread_end, NULL);
	ret = t.start(t.arg);
	pthread_cleanup_pop(1);
	return ret;
}

typedef void (*pthread_exit_fn)(void *) __attribute__((noreturn));

EXPORT __attribute__((noreturn)) void pthread_exit(void *ret)
{
	static pthread_exit_fn real;

	if (!real)
		real = (pthread_exit_fn)dlsym(RTLD_NEXT, "pthread_exit");
	thread_end(NULL);
	real(ret);
}

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
	struct tramp *t;
	int r;

	if (!real_pthread_create)
		real_pthread_create = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
	if (!real_pthread_create)
		return EAGAIN;
	/* nothing to do in the thread, and no control thread to stop after it */
	if (!agent.active ||
	    (!task_set && !agent_policy(MP_KIND_STACK) &&
	     !((atomic_load(&mlock_future) & MCL_FUTURE) && agent_policy(MP_KIND_MLOCKED)) && !agent_ctl_wanted()))
		return real_pthread_create(th, attr, start, arg);
	t = malloc(sizeof(*t));
	if (!t)
		return EAGAIN;
	t->start = start;
	t->arg = arg;
	atomic_fetch_add(&program_threads, 1);
	r = real_pthread_create(th, attr, trampoline, t);
	if (r) {
		atomic_fetch_sub(&program_threads, 1);
		free(t);
	} else {
		agent_ctl_thread_made();
	}
	return r;
}

int agent_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
	if (!real_pthread_create)
		real_pthread_create = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
	return real_pthread_create ? real_pthread_create(th, attr, start, arg) : EAGAIN;
}

/* ---- mappings ----------------------------------------------------------- */

/* fd -> file glob index + 1, for file:GLOB policies: what open() saw, for
 * descriptors below FD_TABLE; a mapping of a descriptor beyond it is
 * looked up by its path when it is made */
#define FD_TABLE 4096
static _Atomic unsigned char fd_file[FD_TABLE];

/* The file policy of the file fd names now (first glob that matches). */
static int file_policy_of(int fd, unsigned only, char *target, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, size - 1);
	if (n <= 0)
		return -1;
	target[n] = '\0';
	for (unsigned i = 0; i < agent.n_files; i++)
		if ((only == UINT32_MAX || i == only) && fnmatch(agent.files[i].glob, target, 0) == 0)
			return (int)i;
	return -1;
}

static const struct mp_compiled *mapping_policy(int flags, int fd, const char **ret_what)
{
	if (flags & MAP_HUGETLB) {
		*ret_what = "hugetlb";
		return agent_policy(MP_KIND_HUGETLB);
	}
	if ((flags & MAP_ANONYMOUS) && (flags & MAP_TYPE) == MAP_PRIVATE) {
		*ret_what = "anon";
		return agent_policy(MP_KIND_ANON);
	}
	if (flags & MAP_ANONYMOUS) {
		*ret_what = "shm";
		return agent_policy(MP_KIND_SHM);
	}
	if (fd >= FD_TABLE && agent.n_files) {
		char target[PATH_MAX];
		int i = file_policy_of(fd, UINT32_MAX, target, sizeof(target));

		if (i >= 0) {
			*ret_what = "file";
			return &agent.files[i].k.c;
		}
	} else if (fd >= 0 && fd < FD_TABLE && atomic_load_explicit(&fd_file[fd], memory_order_relaxed)) {
		char target[PATH_MAX];
		/* close is not interposed: the number may have been reused since */
		int i = file_policy_of(fd, fd_file[fd] - 1u, target, sizeof(target));

		if (i >= 0) {
			*ret_what = "file";
			return &agent.files[i].k.c;
		}
		atomic_store(&fd_file[fd], 0);
	}
	if (fd >= 0 && (flags & MAP_TYPE) == MAP_SHARED && agent_policy(MP_KIND_SHM)) {
		char path[64], target[256];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (!strncmp(target, "/dev/shm/", 9) || !strncmp(target, "/memfd:", 7)) {
				*ret_what = "shm";
				return agent_policy(MP_KIND_SHM);
			}
		}
	}
	return NULL;
}

/* A file mapping: the kernel ignores a range policy for the page cache, so
 * its pages are faulted in under the file's policy as the task policy, then
 * checked. */
struct fault_in {
	void *p;
	size_t len;
};

static int fault_in(void *arg)
{
	struct fault_in *f = arg;

	return madvise(f->p, f->len, 22 /* MADV_POPULATE_READ */) < 0 ? -errno : 0;
}

static void populate_file(void *p, size_t len, const struct mp_compiled *c)
{
	struct fault_in f = {p, len};
	long mis;
	int r = mp_place_under(c, fault_in, &f);

	if (r < 0) {
		agent_problem("file: MADV_POPULATE_READ of %zu KiB under the file's policy: %s", len >> 10,
			      strerror(-r));
		return;
	}
	mis = agent_count_misplaced(p, page_up(len), c);
	if (mis)
		agent_problem("file: %ld pages of a mapping were already in the page cache elsewhere", mis);
}

/* Pages a new mapping gets inside the mmap call itself: MAP_POPULATE,
 * MAP_LOCKED, or mlockall(MCL_FUTURE) without MCL_ONFAULT. */
static bool populated_at_map(int flags)
{
	int f = atomic_load_explicit(&mlock_future, memory_order_relaxed);

	return (flags & (MAP_POPULATE | MAP_LOCKED)) || ((f & MCL_FUTURE) && !(f & MCL_ONFAULT));
}

/* An existing range's pages are moved, never released: a strict policy is
 * applied the non-strict way there and what stays elsewhere is reported. */
static int place_existing_range(const char *what, void *addr, size_t len, const struct mp_compiled *c,
				long *ret_misplaced)
{
	struct mp_compiled pc = *c;

	pc.strict = false;
	return place(what, addr, len, &pc, MP_PLACE_MIGRATE, NULL, ret_misplaced);
}

/* after_map's stages: a new mapping, one the kernel already filled, one
 * made PROT_NONE to be placed before it is filled (bound only). */
enum map_stage {
	MAP_NEW,
	MAP_FILLED,
	MAP_UNFILLED,
};

/* Returns the policy applied, or NULL. */
static const struct mp_compiled *after_map(void *p, size_t len, int flags, int fd, const void *caller,
					   enum map_stage stage)
{
	const struct mp_compiled *c;
	const char *what = NULL;
	size_t ps = (size_t)getpagesize();

	if (!agent.active || agent_is_own_caller(caller))
		return NULL;
	c = mapping_policy(flags, fd, &what);
	/* pinned as it is made (MCL_FUTURE): private anonymous memory is the
	 * mlocked kind's (doc/agent.md, "mlockall") */
	if (what && !strcmp(what, "anon") && (atomic_load(&mlock_future) & MCL_FUTURE) &&
	    agent_policy(MP_KIND_MLOCKED)) {
		c = agent_policy(MP_KIND_MLOCKED);
		what = "mlocked";
	}
	if (!c)
		return NULL;
	if (!strcmp(what, "file")) {
		populate_file(p, len, c);
		return c;
	}
	if (!strcmp(what, "hugetlb"))
		ps = c->order > (uint64_t)getpagesize() ? c->order : 2UL << 20;
	len = (len + ps - 1) & ~(ps - 1);
	if (stage == MAP_FILLED) {
		char label[64];

		snprintf(label, sizeof(label), "%s: a mapping filled by mmap", what);
		place_existing_range(label, p, len, c, NULL);
		return c;
	}
	{
		struct mp_place_report rep;
		struct mp_compiled pc = *c;
		int r;

		/* not yet accessible: bound now, filled by the caller, checked then */
		if (stage == MAP_UNFILLED)
			pc.strict = false;
		r = mp_place_range(p, len, &pc, MP_PLACE_NO_CHECK_FREE, &rep);
		if (r < 0)
			agent_problem("%s: a mapping of %zu KiB: %s%s%s", what, len >> 10, strerror(-r),
				      rep.reason[0] ? ": " : "", rep.reason);
	}
	return c;
}

/*
 * A mapping the kernel would fill inside mmap (populated_at_map) is made
 * PROT_NONE first, placed, then given its protection: mprotect of a locked
 * private mapping populates it (under the range policy now set), and
 * MADV_POPULATE_* does the rest, so its pages are placed before they exist
 * and before they are pinned.  Anonymous mappings without MAP_FIXED only: a
 * file's pages are the page cache's, and a fixed mapping replaces memory
 * other threads may use (those are placed after the fact, pages moved).
 */
static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, const void *caller)
{
	bool pop = agent.active && populated_at_map(flags) && !agent_is_own_caller(caller);
	void *p;

	if (pop && prot != PROT_NONE && (flags & MAP_ANONYMOUS) && !(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))) {
		int e;

		const struct mp_compiled *c;

		p = (void *)syscall(SYS_mmap, addr, len, PROT_NONE, flags & ~MAP_POPULATE, fd, off);
		if (p == MAP_FAILED)
			return p;
		c = after_map(p, len, flags, fd, caller, MAP_UNFILLED);
		if (mprotect(p, len, prot) < 0) {
			e = errno;
			munmap(p, len);
			errno = e;
			return MAP_FAILED;
		}
		/* what mprotect did not fill (read-only, shared, MAP_POPULATE
		 * without a lock); a kernel before 5.14 leaves it to faults */
		madvise(p, len, (prot & PROT_WRITE) ? 23 /* MADV_POPULATE_WRITE */ : 22 /* MADV_POPULATE_READ */);
		if (c && c->strict && !(flags & MAP_HUGETLB)) {
			long mis = agent_count_misplaced(p, page_up(len), c);

			if (mis)
				agent_problem("strict: %ld pages of a mapping filled by mmap are not on the policy's "
					      "nodes",
					      mis);
		}
		return p;
	}
	p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		after_map(p, len, flags, fd, caller, pop && (flags & MAP_ANONYMOUS) ? MAP_FILLED : MAP_NEW);
	return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(addr, len, prot, flags, fd, off, __builtin_return_address(0));
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(addr, len, prot, flags, fd, off, __builtin_return_address(0));
}

/* ---- System V shared memory --------------------------------------------- */

/* Segments this process created with SHM_HUGETLB (id + 1; 0 free).  Ids
 * carry a sequence number, so one is not reused for another segment until
 * the counter wraps. */
#define HUGE_SHM_IDS 64
static _Atomic int huge_shm[HUGE_SHM_IDS];

EXPORT int shmget(key_t key, size_t size, int flags)
{
	int id = (int)syscall(SYS_shmget, key, size, flags);

	if (id >= 0 && (flags & SHM_HUGETLB)) {
		for (unsigned i = 0; i < HUGE_SHM_IDS; i++) {
			int z = 0;

			if (atomic_load(&huge_shm[i]) == id + 1 ||
			    atomic_compare_exchange_strong(&huge_shm[i], &z, id + 1))
				break;
		}
	}
	return id;
}

static bool huge_shm_known(int id)
{
	for (unsigned i = 0; i < HUGE_SHM_IDS; i++)
		if (atomic_load(&huge_shm[i]) == id + 1)
			return true;
	return false;
}

/* A segment's page size: 2 MiB for one this process made with SHM_HUGETLB
 * (unless smaps says otherwise), else what smaps says of the mapping at p;
 * segments made by other processes are known only this way. */
static size_t shm_page_size(int id, void *p)
{
	unsigned long sum, kps;

	if (agent_smaps((uintptr_t)p, (uintptr_t)p + 1, "KernelPageSize:", &sum, &kps) == 0 && kps >= 4)
		return (size_t)kps << 10;
	return huge_shm_known(id) ? (size_t)2 << 20 : (size_t)getpagesize();
}

EXPORT void *shmat(int id, const void *addr, int flags)
{
	void *p = (void *)syscall(SYS_shmat, id, addr, flags);
	const struct mp_compiled *c;
	struct mp_compiled pc;
	struct shmid_ds ds;
	struct mp_place_report rep;
	const char *what = "shm";
	size_t ps, len;
	int r;

	if (p == (void *)-1 || !agent.active ||
	    (!agent_policy(MP_KIND_SHM) && !agent_policy(MP_KIND_HUGETLB) && !huge_shm_known(id)))
		return p;
	if (shmctl(id, IPC_STAT, &ds) < 0)
		return p;
	ps = shm_page_size(id, p);
	if (ps > (size_t)getpagesize()) {
		what = "hugetlb";
		c = agent_policy(MP_KIND_HUGETLB);
	} else {
		c = agent_policy(MP_KIND_SHM);
	}
	if (!c)
		return p;
	pc = *c;
	/* the segment's own page size, whatever the policy's order says */
	pc.order = ps > (size_t)getpagesize() ? ps : (c->order == MP_ORDER_THP ? MP_ORDER_THP : 0);
	len = (ds.shm_segsz + ps - 1) & ~(ps - 1);
	/* a segment's policy is the segment's (shared), so it travels with it */
	r = mp_place_range(p, len, &pc, MP_PLACE_NO_CHECK_FREE, &rep);
	if (r < 0)
		agent_problem("%s: segment %d: %s%s%s", what, id, strerror(-r), rep.reason[0] ? ": " : "", rep.reason);
	else if (ps > (size_t)getpagesize() && c->order > MP_ORDER_THP && c->order != ps)
		agent_problem("hugetlb: segment %d has %zu KiB pages, not the %lu KiB the policy's order names", id,
			      ps >> 10, (unsigned long)(c->order >> 10));
	return p;
}

/* ---- mlock, mlockall ---------------------------------------------------- */

/* mlocked: placed (and populated, so the pin takes the placed pages) first. */
EXPORT int mlock(const void *addr, size_t len)
{
	const struct mp_compiled *c = agent.active ? agent_policy(MP_KIND_MLOCKED) : NULL;

	if (c && len) {
		uintptr_t lo = page_down((uintptr_t)addr);
		uintptr_t hi = page_up((uintptr_t)addr + len);

		place_existing_range("mlocked", (void *)lo, hi - lo, c, NULL);
	}
	return (int)syscall(SYS_mlock, addr, len);
}

EXPORT int mlock2(const void *addr, size_t len, unsigned int flags)
{
	const struct mp_compiled *c = agent.active ? agent_policy(MP_KIND_MLOCKED) : NULL;

	if (c && len) {
		uintptr_t lo = page_down((uintptr_t)addr);
		uintptr_t hi = page_up((uintptr_t)addr + len);

		place_existing_range("mlocked", (void *)lo, hi - lo, c, NULL);
	}
	return (int)syscall(SYS_mlock2, addr, len, flags);
}

struct lockall_ctx {
	const struct mp_compiled *c;
	bool move; /* MCL_CURRENT: present pages are pinned now, so moved */
	long misplaced;
	unsigned ranges, heap_chunks;
};

/* What mlockall places: the program's private memory that is its own
 * (anonymous, [heap], [stack], the writable data of every object, and
 * anonymous reservations not yet accessible, which glibc's arenas grow
 * into), not text, not shared or file pages, not huge pages, not the heap's
 * arenas.  With MCL_CURRENT the present pages move; with MCL_FUTURE alone
 * the ranges are only bound: their pages to come are the pinned ones. */
static int lockall_cb(uintptr_t lo, uintptr_t hi, const char *perms, const char *name, void *d)
{
	struct lockall_ctx *l = d;
	bool anon = !*name || !strcmp(name, "[heap]") || !strcmp(name, "[stack]") || !strncmp(name, "[anon:", 6);
	bool none = perms[0] != 'r' && perms[1] != 'w';

	if (perms[3] != 'p' || perms[2] == 'x' || (none && *name))
		return 0;
	if (!anon && (perms[1] != 'w' || name[0] != '/' || !strncmp(name, "/anon_hugepage", 14)))
		return 0;
	if (mp_alloc_owner_of((void *)lo)) {
		l->heap_chunks++; /* the heap set's: its policy stays (doc/agent.md) */
		return 0;
	}
	l->ranges++;
	if (l->move && !none) {
		place_existing_range("mlocked: mlockall", (void *)lo, hi - lo, l->c, &l->misplaced);
	} else {
		struct mp_compiled pc = *l->c;

		pc.strict = false;
		place("mlocked: mlockall", (void *)lo, hi - lo, &pc, 0, NULL, NULL);
	}
	return 0;
}

EXPORT int mlockall(int flags)
{
	const struct mp_compiled *c = agent.active ? agent_policy(MP_KIND_MLOCKED) : NULL;
	int r;

	if (c && (flags & (MCL_CURRENT | MCL_FUTURE))) {
		struct lockall_ctx l = {.c = c, .move = flags & MCL_CURRENT};

		agent_maps_foreach(lockall_cb, &l);
		if (l.heap_chunks)
			agent_problem("mlocked: mlockall: the heap's arenas keep the heap policy (%u ranges)",
				      l.heap_chunks);
	}
	r = (int)syscall(SYS_mlockall, flags);
	if (r == 0) {
		atomic_store(&mlock_future, flags & MCL_FUTURE ? flags & (MCL_FUTURE | MCL_ONFAULT) : 0);
		/* lib/alloc/alloc.c binds a non-strict extent before it makes it
		 * accessible (the moment MCL_FUTURE fills it); a strict one is
		 * verified after, and fails where the fill went elsewhere */
		if (c && (flags & MCL_FUTURE) && !(flags & MCL_ONFAULT) && agent_heap_active() &&
		    agent.kind[MP_KIND_HEAP].set && agent.kind[MP_KIND_HEAP].c.strict)
			agent_problem("mlocked: mlockall(MCL_FUTURE): a strict heap's new extents are filled when "
				      "they are made; where that is not on the heap's nodes, the allocation fails");
		/* brk makes a new mapping next to a [heap] that has a policy
		 * rather than growing it, and glibc's own mmaps are not seen */
		if (c && (flags & MCL_FUTURE) && !agent_heap_active())
			agent_problem("mlocked: mlockall(MCL_FUTURE): glibc's heap growth (brk, its own mmaps) is not "
				      "placed; those pages are where the task policy says");
	}
	return r;
}

EXPORT int munlockall(void)
{
	int r = (int)syscall(SYS_munlockall);

	if (r == 0)
		atomic_store(&mlock_future, 0);
	return r;
}

/* ---- files: open records which descriptors match a file:GLOB ------------ */

static void note_fd(int fd, const char *path)
{
	if (fd < 0 || fd >= FD_TABLE || !agent.n_files || !path)
		return;
	atomic_store(&fd_file[fd], 0);
	for (unsigned i = 0; i < agent.n_files; i++)
		if (fnmatch(agent.files[i].glob, path, 0) == 0) {
			atomic_store(&fd_file[fd], (unsigned char)(i + 1));
			return;
		}
}

static int do_openat(int dirfd, const char *path, int flags, mode_t m)
{
	int fd = (int)syscall(SYS_openat, dirfd, path, flags, m);

	if (agent.active) {
		note_fd(fd, path);
		agent_file_opened(fd, path);
	}
	return fd;
}

#define MODE_ARG(flags, m)                               \
	do {                                             \
		if ((flags) & (O_CREAT | __O_TMPFILE)) { \
			va_list ap;                      \
			va_start(ap, flags);             \
			m = va_arg(ap, mode_t);          \
			va_end(ap);                      \
		}                                        \
	} while (0)

EXPORT int open(const char *path, int flags, ...)
{
	mode_t m = 0;

	MODE_ARG(flags, m);
	return do_openat(AT_FDCWD, path, flags, m);
}

EXPORT int open64(const char *path, int flags, ...)
{
	mode_t m = 0;

	MODE_ARG(flags, m);
	return do_openat(AT_FDCWD, path, flags, m);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t m = 0;

	MODE_ARG(flags, m);
	return do_openat(dirfd, path, flags, m);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t m = 0;

	MODE_ARG(flags, m);
	return do_openat(dirfd, path, flags, m);
}

/* ---- start -------------------------------------------------------------- */

static void read_env(void)
{
	char name[64];
	const char *v;

	agent.log = (v = getenv("MPLACE_LOG")) && !strcmp(v, "1");
	for (size_t i = 0; i < MP_WIRE_N_KINDS; i++) {
		struct agent_kind *k = &agent.kind[mp_wire_kinds[i].kind];

		snprintf(name, sizeof(name), "MPLACE_AGENT_%s", mp_wire_kinds[i].var);
		v = getenv(name);
		if (!v || !*v)
			continue;
		/* mplace run refuses longer ones: this one was made by hand */
		if (strlen(v) >= sizeof(k->compiled)) {
			agent_problem("%s: %zu bytes, longer than the %d an agent keeps; ignored", name, strlen(v),
				      MP_WIRE_TEXT_MAX - 1);
			continue;
		}
		if (mp_compiled_deserialize(v, &k->c) < 0) {
			agent_problem("%s: not a compiled policy this agent understands; ignored", name);
			continue;
		}
		k->set = true;
		snprintf(k->compiled, sizeof(k->compiled), "%s", v);
		snprintf(name, sizeof(name), "MPLACE_AGENT_SOURCE_%s", mp_wire_kinds[i].var);
		v = getenv(name);
		if (v && strlen(v) >= sizeof(k->source))
			agent_problem("%s: %zu bytes, longer than the %d an agent keeps; cut", name, strlen(v),
				      MP_WIRE_TEXT_MAX - 1);
		snprintf(k->source, sizeof(k->source), "%s", v ? v : "");
	}
	for (unsigned i = 0;; i++) {
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
		f->k.set = true;
		snprintf(f->k.compiled, sizeof(f->k.compiled), "%s", tab + 1);
		agent.n_files++;
	}
}

static void apply_start(void)
{
	const struct mp_compiled *c;

	/* the task policy: kernel when given (it steers what the kernel
	 * allocates for the thread), else the generic policy */
	c = agent.kind[MP_KIND_KERNEL].set ? &agent.kind[MP_KIND_KERNEL].c
	    : agent.kind[MP_KIND_ALL].set  ? &agent.kind[MP_KIND_ALL].c
					   : NULL;
	if (c) {
		mp_task_policy_of(c, &task);
		task_set = true;
		agent_task_apply();
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
	/* the forking thread is the child's only one */
	atomic_store(&program_threads, 1);
	counted = true;
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
	read_env();
	agent.active = true;
	mplace_agent_state = 1;
	counted = true; /* the main thread */
	if (dladdr((void *)agent_init, &self))
		dl_iterate_phdr(own_cb, &self);
	agent_heap_init();
	had_heap = agent.kind[MP_KIND_HEAP].set;
	/* a program with rules of its own (an exe scope) replaces what it
	 * inherited; still single-threaded, so it may rewrite the environment */
	replaced = agent_exec_rules();
	if ((replaced & (1u << MP_KIND_HEAP)) && agent_heap_active()) {
		long moved, misplaced;
		int r = agent_heap_set(&agent.kind[MP_KIND_HEAP].c, false, &moved, &misplaced);

		if (r < 0)
			agent_problem("heap: the program's own heap policy: %s", strerror(-r));
	} else if ((replaced & (1u << MP_KIND_HEAP)) && !had_heap) {
		/* the first malloc chose glibc's allocator, and reading the
		 * configuration needs malloc: its children get the heap */
		agent_problem("heap: the program's own heap policy came from its exe scope, after the allocator was "
			      "chosen; heap not placed in this process (its children get it)");
	} else if (agent.kind[MP_KIND_HEAP].set && !agent_heap_active()) {
		agent_problem("heap: the allocator was chosen before the policy could be read; heap not placed");
	}
	apply_start();
	pthread_atfork(NULL, NULL, after_fork_child);
	agent_ctl_start();
}
