/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Noreturn void pc_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "portcullis: BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static _Noreturn void oom(void)
{
	fputs("portcullis: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xzalloc(size_t n)
{
	return xcalloc(1, n);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xgrow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap;

	if (need <= c)
		return p;
	if (c < 8)
		c = 8;
	while (c < need) {
		if (c > SIZE_MAX / 2 / size)
			oom();
		c *= 2;
	}
	*cap = c;
	return xrealloc(p, c * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	return s;
}

/* Arena: a list of chunks; big requests get a chunk of their own. */
struct pc_arena_chunk {
	struct pc_arena_chunk *next;
	size_t used;
	size_t size;
	_Alignas(16) unsigned char data[];
};

struct pc_arena {
	struct pc_arena_chunk *head;
	size_t next_size;   /* chunks double up to ARENA_CHUNK_MAX */
};

#define ARENA_CHUNK (64 * 1024)
#define ARENA_CHUNK_MAX (4 * 1024 * 1024)

struct pc_arena *pc_arena_create(void)
{
	return xzalloc(sizeof(struct pc_arena));
}

void pc_arena_destroy(struct pc_arena *a)
{
	struct pc_arena_chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *pc_arena_alloc(struct pc_arena *a, size_t n)
{
	struct pc_arena_chunk *c = a->head;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!n)
		n = 16;
	if (!c || c->size - c->used < n) {
		size_t size;

		if (a->next_size < ARENA_CHUNK)
			a->next_size = ARENA_CHUNK;
		size = n > a->next_size / 4 ? n : a->next_size;
		if (size == a->next_size && a->next_size < ARENA_CHUNK_MAX)
			a->next_size *= 2;

		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		if (size == n && a->head) {
			/* keep the current chunk in front: it still has room */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *pc_arena_strndup(struct pc_arena *a, const char *s, size_t n)
{
	char *p = pc_arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *pc_arena_strdup(struct pc_arena *a, const char *s)
{
	return s ? pc_arena_strndup(a, s, strlen(s)) : NULL;
}

void *pc_arena_memdup(struct pc_arena *a, const void *p, size_t n)
{
	void *q = pc_arena_alloc(a, n);

	if (n)
		memcpy(q, p, n);
	return q;
}

void pc_buf_init(struct pc_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void pc_buf_finish(struct pc_buf *b)
{
	free(b->data);
	pc_buf_init(b);
}

void pc_buf_add(struct pc_buf *b, const void *p, size_t n)
{
	b->data = xgrow(b->data, &b->cap, b->len + n + 1, 1);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void pc_buf_puts(struct pc_buf *b, const char *s)
{
	pc_buf_add(b, s, strlen(s));
}

void pc_buf_putc(struct pc_buf *b, char c)
{
	pc_buf_add(b, &c, 1);
}

void pc_buf_printf(struct pc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		PC_BUG("vsnprintf failed");
	b->data = xgrow(b->data, &b->cap, b->len + (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *pc_read_file(const char *path, size_t *len)
{
	struct pc_buf b;
	char tmp[65536];
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	pc_buf_init(&b);
	pc_buf_add(&b, "", 0);
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			pc_buf_finish(&b);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > PC_MAX_FILE) {
			close(fd);
			pc_buf_finish(&b);
			errno = EFBIG;
			return NULL;
		}
		pc_buf_add(&b, tmp, (size_t)n);
	}
	close(fd);
	if (len)
		*len = b.len;
	return b.data;
}

ssize_t pc_read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int pc_write_file_atomic(const char *path, const void *data, size_t len)
{
	char *dup = xstrdup(path), *tmp;
	const char *dir = dirname(dup);
	const unsigned char *p = data;
	int fd, dfd, e;
	struct stat st;
	mode_t mode = 0644;

	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	tmp = xasprintf("%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		goto fail;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail_fd;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
		goto fail_fd;
	if (close(fd) < 0) {
		fd = -1;
		goto fail_unlink;
	}
	if (rename(tmp, path) < 0) {
		fd = -1;
		goto fail_unlink;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(tmp);
	free(dup);
	return 0;

fail_fd:
	e = errno;
	close(fd);
	errno = e;
fail_unlink:
	e = errno;
	unlink(tmp);
	errno = e;
fail:
	e = errno;
	free(tmp);
	free(dup);
	errno = e;
	return -1;
}
