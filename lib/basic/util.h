/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * libc-only helpers: a growable string buffer, checked number and size parsing.
 * Nothing here prints or exits.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A growable NUL-terminated buffer.  On allocation failure it sets 'oom' and
 * stops growing; callers check once at the end (mp_sb_ok). */
struct mp_sb {
	char *s;
	size_t len, cap;
	bool oom;
};

void mp_sb_init(struct mp_sb *b);
void mp_sb_free(struct mp_sb *b);
__attribute__((format(printf, 2, 3))) void mp_sb_printf(struct mp_sb *b, const char *fmt, ...);
void mp_sb_vprintf(struct mp_sb *b, const char *fmt, va_list ap);
void mp_sb_putn(struct mp_sb *b, const char *s, size_t n);
void mp_sb_puts(struct mp_sb *b, const char *s);
static inline bool mp_sb_ok(const struct mp_sb *b)
{
	return !b->oom;
}
/* Hands the string to the caller (NULL on earlier allocation failure) and resets b. */
char *mp_sb_steal(struct mp_sb *b);

/* Unsigned decimal in [0, max]; whole string.  -EINVAL, -ERANGE. */
int mp_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *ret);
/* "4096", "4K", "16M", "4G", "1T" (binary units, optional "iB"/"B").  -EINVAL, -ERANGE. */
int mp_parse_size(const char *s, size_t len, uint64_t *ret);
/* Shortest exact spelling of a size: 4G, 16M, 4K, or bytes. */
int mp_format_size(uint64_t v, char *buf, size_t size);

char *mp_strndup(const char *s, size_t n);
/* Levenshtein distance between a[0, la) and b, for "did you mean" hints;
 * 99 when either word is longer than 39 bytes (only near misses matter). */
unsigned mp_edit_distance(const char *a, size_t la, const char *b);
/* Case-sensitive compare of a counted string with a C string. */
bool mp_streqn(const char *s, size_t len, const char *lit);

/* The whole of a file, NUL-terminated, into *ret_buf (malloc'ed) and its
 * length into *ret_len (may be NULL).  max: the most bytes accepted (0: no
 * limit), -EFBIG beyond it.  -errno otherwise (a directory: -EISDIR, from
 * read); outputs untouched on failure. */
int mp_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* In the text of /proc/PID/cgroup, the unified hierarchy's path ("0::/path":
 * the only line on a cgroup v2 machine, the last on a hybrid one), cut at
 * its newline in place; NULL where there is none (cgroup v1). */
char *mp_cgroup_v2_path(char *text);
/* The unit a cgroup path is in: its deepest .service or .scope component,
 * into buf ("" when none, or when it does not fit). */
void mp_cgroup_unit(const char *cg, char *buf, size_t size);

/* Replace path with len bytes of data, whole or not at all: written to
 * "path.SUFFIX" and renamed over it (removed on failure).  durable: fsync
 * the file before the rename and its directory after, so that an
 * acknowledged write survives a crash.  0 or -errno. */
int mp_write_file_atomic(const char *path, const char *suffix, const void *data, size_t len, unsigned mode,
			 bool durable);
