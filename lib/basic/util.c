/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * String buffer, checked number parsing and whole-file reads.  libc only;
 * never prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void mp_sb_init(struct mp_sb *b)
{
	b->s = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

void mp_sb_free(struct mp_sb *b)
{
	free(b->s);
	mp_sb_init(b);
}

static bool sb_reserve(struct mp_sb *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	char *n;

	if (b->oom)
		return false;
	if (need <= b->cap)
		return true;
	if (need < 64)
		need = 64;
	if (need < b->cap * 2)
		need = b->cap * 2;
	n = realloc(b->s, need);
	if (!n) {
		b->oom = true;
		return false;
	}
	b->s = n;
	b->cap = need;
	return true;
}

void mp_sb_putn(struct mp_sb *b, const char *s, size_t n)
{
	if (!sb_reserve(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void mp_sb_puts(struct mp_sb *b, const char *s)
{
	mp_sb_putn(b, s, strlen(s));
}

void mp_sb_vprintf(struct mp_sb *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || !sb_reserve(b, (size_t)n))
		return;
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void mp_sb_printf(struct mp_sb *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mp_sb_vprintf(b, fmt, ap);
	va_end(ap);
}

char *mp_sb_steal(struct mp_sb *b)
{
	char *s;

	if (b->oom) {
		mp_sb_free(b);
		return NULL;
	}
	if (!b->s) {
		if (!sb_reserve(b, 0))
			return NULL;
		b->s[0] = '\0'; /* nothing was ever written: the empty string */
	}
	s = b->s;
	mp_sb_init(b);
	return s;
}

int mp_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int mp_parse_size(const char *s, size_t len, uint64_t *ret)
{
	static const char units[] = "KMGTPE";
	size_t digits = 0;
	uint64_t v;
	unsigned shift = 0;
	int r;

	while (digits < len && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	r = mp_parse_uint(s, digits, UINT64_MAX, &v);
	if (r < 0)
		return r;
	if (digits < len) {
		const char *u = strchr(units, s[digits] & ~0x20);
		size_t rest;

		if (!u || s[digits] == '\0')
			return -EINVAL;
		shift = 10 * (unsigned)(u - units + 1);
		rest = len - digits - 1;
		if (!(rest == 0 || mp_streqn(s + digits + 1, rest, "B") || mp_streqn(s + digits + 1, rest, "iB")))
			return -EINVAL;
		if (v > (UINT64_MAX >> shift))
			return -ERANGE;
		v <<= shift;
	}
	*ret = v;
	return 0;
}

int mp_format_size(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	int u = -1;

	while (v && (v & 1023) == 0 && u < 5) {
		v >>= 10;
		u++;
	}
	if (u < 0)
		return snprintf(buf, size, "%llu", (unsigned long long)v);
	return snprintf(buf, size, "%llu%c", (unsigned long long)v, units[u]);
}

char *mp_strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

bool mp_streqn(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

unsigned mp_edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b);
	unsigned row[40];

	if (la >= MP_ARRAY_SIZE(row) || lb >= MP_ARRAY_SIZE(row))
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

char *mp_cgroup_v2_path(char *text)
{
	char *v2 = !strncmp(text, "0::", 3) ? text : strstr(text, "\n0::"), *nl;

	if (!v2)
		return NULL;
	v2 += *v2 == '\n' ? 4 : 3;
	if ((nl = strchr(v2, '\n')))
		*nl = '\0';
	return v2;
}

void mp_cgroup_unit(const char *cg, char *buf, size_t size)
{
	buf[0] = '\0';
	for (const char *c = cg; c && *c;) {
		const char *s = c + (*c == '/'), *e = strchrnul(s, '/');
		size_t k = (size_t)(e - s);

		if (k < size && ((k > 8 && !memcmp(e - 8, ".service", 8)) || (k > 6 && !memcmp(e - 6, ".scope", 6)))) {
			memcpy(buf, s, k);
			buf[k] = '\0';
		}
		c = e;
	}
}

int mp_write_file_atomic(const char *path, const char *suffix, const void *data, size_t len, unsigned mode,
			 bool durable)
{
	const char *p = data, *slash;
	char *tmp;
	int fd, r = 0;

	if (asprintf(&tmp, "%s.%s", path, suffix) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	while (len && !r) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			r = w < 0 ? -errno : -EIO;
		else
			p += w, len -= (size_t)w;
	}
	if (!r && durable && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	free(tmp);
	/* the rename itself, on disk */
	if (!r && durable && (slash = strrchr(path, '/'))) {
		char *dir = strndup(path, (size_t)(slash - path));
		int dfd = dir ? open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

		if (dfd >= 0) {
			if (fsync(dfd) < 0)
				r = -errno;
			close(dfd);
		}
		free(dir);
	}
	return r;
}

int mp_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap), *nb;
	int fd, r;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	for (;;) {
		ssize_t got;

		if (cap - len < 4096) {
			nb = realloc(buf, cap * 2);
			if (!nb) {
				r = -ENOMEM;
				goto fail_fd;
			}
			buf = nb;
			cap *= 2;
		}
		got = read(fd, buf + len, cap - len - 1);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail_fd;
		}
		if (!got)
			break;
		len += (size_t)got;
		if (max && len > max) {
			r = -EFBIG;
			goto fail_fd;
		}
	}
	close(fd);
	buf[len] = '\0';
	*ret_buf = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
fail_fd:
	close(fd);
fail:
	free(buf);
	return r;
}
