/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * file:GLOB for reads: when the program opens a file whose path matches a
 * glob for reading (open/openat through agent.c, and fopen/fopen64/freopen
 * here, since glibc's fopen calls its internal open, not the exported one),
 * the file's page cache is brought in under the file's policy and checked.
 *
 * The kernel allocates page cache with the task policy of the thread that
 * causes the read (range policies do not apply to shared file pages), so the
 * file is mapped, its pages faulted in with MADV_POPULATE_READ while this
 * thread's task policy is the file's, and the previous task policy restored
 * exactly (mode, mode flags and nodes as get_mempolicy returned them).  Then
 * each page is asked for its node with move_pages: pages that were already
 * cached elsewhere (by another process, or before) are reported through
 * agent_problem(), or moved when the policy says 'migrate'.
 *
 * Invariants:
 *   - at most AGENT_FILE_READ_MAX bytes of a file are brought in per open
 *     (the rest is left to the kernel and reported once per open), so an
 *     open never stalls on a huge file;
 *   - signals are blocked while the task policy is the file's, so a handler
 *     (including the agent's own `mplace set` handler) never runs under it;
 *   - no allocation, no lock: raw syscalls and stack buffers only; the
 *     mapping is the agent's own (syscall, not the interposed mmap).
 */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "basic/util.h"
#include "kernel/place.h"

#define EXPORT __attribute__((visibility("default")))

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif

/* The policy of the first glob matching path (as given, or the descriptor's
 * absolute path when the given one is relative), or -1. */
static int match_file(int fd, const char *path, char *abs, size_t abs_size)
{
	char link[64];
	ssize_t n;

	abs[0] = '\0';
	for (unsigned i = 0; i < agent.n_files; i++)
		if (fnmatch(agent.files[i].glob, path, 0) == 0) {
			snprintf(abs, abs_size, "%s", path);
			return (int)i;
		}
	if (path[0] == '/')
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, abs, abs_size - 1);
	if (n <= 0)
		return -1;
	abs[n] = '\0';
	for (unsigned i = 0; i < agent.n_files; i++)
		if (fnmatch(agent.files[i].glob, abs, 0) == 0)
			return (int)i;
	return -1;
}

struct fault_in {
	void *p;
	size_t len;
};

/* Fault a file mapping in (run under the file's policy by mp_place_under). */
static int fault_in(void *arg)
{
	struct fault_in *f = arg;

	if (madvise(f->p, f->len, MADV_POPULATE_READ) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	/* before Linux 5.14: fault each page in by reading it */
	for (size_t o = 0; o < f->len; o += (size_t)getpagesize())
		(void)*(volatile const char *)((const char *)f->p + o);
	return 0;
}

int agent_file_read_place(int fd, const char *path, const struct mp_compiled *c)
{
	size_t ps = (size_t)getpagesize(), len, maplen;
	uint64_t present = 0;
	long mis, after;
	struct fault_in f;
	struct stat st;
	void *p;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size <= 0)
		return 0;
	len = (size_t)st.st_size;
	if (len > AGENT_FILE_READ_MAX) {
		agent_problem("file: %s: only the first %d MiB of %lld MiB brought in under the policy (the per-open "
			      "limit); the rest is cached wherever the reader's task policy says",
			      path, AGENT_FILE_READ_MAX >> 20, (long long)(st.st_size >> 20));
		len = AGENT_FILE_READ_MAX;
	}
	maplen = (len + ps - 1) & ~(ps - 1);
	p = (void *)syscall(SYS_mmap, NULL, maplen, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	f.p = p;
	f.len = maplen;
	r = mp_place_under(c, fault_in, &f);
	if (r < 0) {
		agent_problem("file: %s: bringing %zu KiB in under the policy: %s", path, len >> 10,
			      agent_strerror(-r));
		goto out;
	}
	mis = mp_place_misplaced(p, maplen, c, &present);
	if (mis <= 0)
		goto out;
	if (!c->migrate) {
		agent_problem("file: %s: %ld of %ld pages were already in the page cache on other nodes (add "
			      "'migrate' to move them)",
			      path, mis, (long)present);
		goto out;
	}
	{
		struct mp_place_report rep;

		/* mbind with MPOL_MF_MOVE on our own mapping: a page cache page
		 * that other processes also map stays (MOVE_ALL needs privilege
		 * and would pull pages from under them) */
		r = mp_place_range(p, maplen, c, MP_PLACE_MIGRATE | MP_PLACE_NO_CHECK_FREE, &rep);
		after = mp_place_misplaced(p, maplen, c, &present);
		if (r < 0)
			agent_problem("file: %s: moving %ld cached pages: %s%s%s", path, mis, agent_strerror(-r),
				      rep.reason[0] ? ": " : "", rep.reason);
		else if (after > 0)
			agent_problem("file: %s: %ld of %ld cached pages moved, %ld stayed on other nodes (mapped "
				      "by other processes, or busy)",
				      path, mis - after, mis, after);
	}
out:
	syscall(SYS_munmap, p, maplen);
	return r < 0 ? r : 0;
}

void agent_file_opened(int fd, const char *path)
{
	char abs[4096];
	int flags, i;

	if (fd < 0 || !path || !agent.active || !agent.n_files)
		return;
	i = match_file(fd, path, abs, sizeof(abs));
	if (i < 0)
		return;
	flags = fcntl(fd, F_GETFL);
	/* a read goes through the page cache: not O_WRONLY, O_PATH, O_DIRECT */
	if (flags < 0 || (flags & O_ACCMODE) == O_WRONLY || (flags & (O_PATH | O_DIRECT)))
		return;
	agent_file_read_place(fd, abs, &agent.files[i].k.c);
}

/* ---- glibc's stdio opens: fopen calls the internal open, not ours -------- */

typedef FILE *(*fopen_fn)(const char *, const char *);
typedef FILE *(*freopen_fn)(const char *, const char *, FILE *);

static FILE *after_fopen(FILE *f, const char *path)
{
	if (f && agent.active && agent.n_files) {
		int e = errno;

		agent_file_opened(fileno(f), path);
		errno = e;
	}
	return f;
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	static fopen_fn real;

	if (!real)
		real = (fopen_fn)dlsym(RTLD_NEXT, "fopen");
	if (!real) {
		errno = ENOSYS;
		return NULL;
	}
	return after_fopen(real(path, mode), path);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	static fopen_fn real;

	if (!real)
		real = (fopen_fn)dlsym(RTLD_NEXT, "fopen64");
	if (!real) {
		errno = ENOSYS;
		return NULL;
	}
	return after_fopen(real(path, mode), path);
}

EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
	static freopen_fn real;

	if (!real)
		real = (freopen_fn)dlsym(RTLD_NEXT, "freopen");
	if (!real) {
		errno = ENOSYS;
		return NULL;
	}
	/* a NULL path reopens the same file with another mode: not a new file */
	return path ? after_fopen(real(path, mode, stream), path) : real(path, mode, stream);
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
	static freopen_fn real;

	if (!real)
		real = (freopen_fn)dlsym(RTLD_NEXT, "freopen64");
	if (!real) {
		errno = ENOSYS;
		return NULL;
	}
	return path ? after_fopen(real(path, mode, stream), path) : real(path, mode, stream);
}

/* A mapping of a file under a file:GLOB policy: the kernel ignores a range
 * policy for the page cache, so its pages are faulted in under the file's
 * policy as the task policy, then checked. */
void agent_file_populate(void *p, size_t len, const struct mp_compiled *c)
{
	struct fault_in f = {p, len};
	long mis;
	int r = mp_place_under(c, fault_in, &f);

	if (r < 0) {
		agent_problem("file: bringing a mapping of %zu KiB in under the file's policy: %s", len >> 10,
			      agent_strerror(-r));
		return;
	}
	mis = agent_count_misplaced(p, (size_t)page_up(len), c);
	if (mis)
		agent_problem("file: %ld pages of a mapping were already in the page cache elsewhere", mis);
}

/* ---- descriptors: which name a file a policy covers ------------------------ */

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

const struct mp_compiled *agent_file_of_fd(int fd)
{
	if (fd >= FD_TABLE && agent.n_files) {
		char target[PATH_MAX];
		int i = file_policy_of(fd, UINT32_MAX, target, sizeof(target));

		if (i >= 0) {
			return &agent.files[i].k.c;
		}
	} else if (fd >= 0 && fd < FD_TABLE && atomic_load_explicit(&fd_file[fd], memory_order_relaxed)) {
		char target[PATH_MAX];
		/* close is not interposed: the number may have been reused since */
		int i = file_policy_of(fd, fd_file[fd] - 1u, target, sizeof(target));

		if (i >= 0) {
			return &agent.files[i].k.c;
		}
		atomic_store(&fd_file[fd], 0);
	}
	return NULL;
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
