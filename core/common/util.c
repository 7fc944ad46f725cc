/* SPDX-License-Identifier: MIT */
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
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
	unsigned char *data;   /* after the header, or a mapping of the spool */
};

struct pc_arena {
	struct pc_arena_chunk *head;
	size_t next_size;   /* chunks double up to ARENA_CHUNK_MAX */
	/* a spooled arena (pc_arena_create_spool()): its file once it holds
	 * SPOOL_AFTER bytes, else -1 */
	bool spool;
	int fd;
	off_t file_size;
	size_t total;       /* bytes in chunks */
	size_t touched;     /* bytes written or read since the last release */
	size_t resident_max; /* high-water mark of @touched (tests) */
};

#define ARENA_CHUNK (64 * 1024)
#define ARENA_CHUNK_MAX (4 * 1024 * 1024)
/*
 * A spooled arena's chunks are this big (a big request's own chunk is
 * rounded up to pages), and it gives its pages back to the kernel after
 * this many bytes were touched: what it holds in memory at any time. The
 * first SPOOL_AFTER bytes are ordinary memory: a small policy's view
 * costs no file, no fallocate and no faults of a shared mapping.
 */
#define SPOOL_CHUNK (16u << 20)
#define SPOOL_RELEASE_EVERY (16u << 20)
#define SPOOL_AFTER (4u << 20)

struct pc_arena *pc_arena_create(void)
{
	struct pc_arena *a = xzalloc(sizeof(*a));

	a->fd = -1;
	return a;
}

struct pc_arena *pc_arena_create_spool(void)
{
	struct pc_arena *a = pc_arena_create();

	a->spool = true;
	return a;
}

/*
 * The spool is a file without a name in $TMPDIR (or /tmp): nothing is
 * left behind whatever happens to the process. Without one the arena
 * stays an ordinary one.
 */
static void spool_open(struct pc_arena *a)
{
	const char *dir = getenv("TMPDIR");

	if (!dir || !*dir)
		dir = "/tmp";
	a->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (a->fd < 0)
		a->spool = false;
}

void pc_arena_destroy(struct pc_arena *a)
{
	struct pc_arena_chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		if (c->data != (unsigned char *)(c + 1))
			munmap(c->data, c->size);
		free(c);
	}
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

/*
 * A chunk of @size bytes in the spool file, mapped shared: its pages are
 * the file's, so giving them back (pc_arena_release()) keeps what they
 * hold. The blocks are allocated first, so that a full disk is an
 * ordinary chunk in memory instead of a SIGBUS at the first write.
 */
static struct pc_arena_chunk *spool_chunk(struct pc_arena *a, size_t size)
{
	struct pc_arena_chunk *c;
	void *p;

	if (posix_fallocate(a->fd, a->file_size, (off_t)size) != 0)
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, a->file_size);
	if (p == MAP_FAILED)
		return NULL;
	a->file_size += (off_t)size;
	c = xmalloc(sizeof(*c));
	c->data = p;
	c->size = size;
	return c;
}

static struct pc_arena_chunk *chunk_new(struct pc_arena *a, size_t n)
{
	struct pc_arena_chunk *c = NULL;
	size_t size;

	if (a->spool && a->total >= SPOOL_AFTER && a->fd < 0)
		spool_open(a);
	if (a->fd >= 0) {
		long page = sysconf(_SC_PAGESIZE);

		size = n > SPOOL_CHUNK / 4 ? (n + (size_t)page - 1) & ~((size_t)page - 1) :
		       SPOOL_CHUNK;
		c = spool_chunk(a, size);
		if (!c) {
			/* no room in the spool: memory from now on */
			close(a->fd);
			a->fd = -1;
			a->spool = false;
		}
	}
	if (!c) {
		if (a->next_size < ARENA_CHUNK)
			a->next_size = ARENA_CHUNK;
		size = n > a->next_size / 4 ? n : a->next_size;
		if (size == a->next_size && a->next_size < ARENA_CHUNK_MAX)
			a->next_size *= 2;
		c = xmalloc(sizeof(*c) + size);
		c->data = (unsigned char *)(c + 1);
		c->size = size;
	}
	c->used = 0;
	a->total += c->size;
	return c;
}

void *pc_arena_alloc(struct pc_arena *a, size_t n)
{
	struct pc_arena_chunk *c = a->head;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!n)
		n = 16;
	if (!c || c->size - c->used < n) {
		bool own;

		c = chunk_new(a, n);
		own = c->size < 4 * n;
		if (own && a->head) {
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
	pc_arena_release(a, n);
	return p;
}

void pc_arena_release(struct pc_arena *a, size_t touched)
{
	if (!a || a->fd < 0)
		return;
	a->touched += touched;
	if (a->touched > a->resident_max)
		a->resident_max = a->touched;
	if (a->touched < SPOOL_RELEASE_EVERY)
		return;
	/* the file keeps the data: a page read again comes back from it */
	for (struct pc_arena_chunk *c = a->head; c; c = c->next)
		if (c->data != (unsigned char *)(c + 1))
			madvise(c->data, c->size, MADV_DONTNEED);
	a->touched = 0;
}

size_t pc_arena_resident_max(const struct pc_arena *a)
{
	return a->resident_max;
}

bool pc_arena_spooled(const struct pc_arena *a)
{
	return a->fd >= 0;
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

/* Links followed at most, as the kernel's own limit for a path. */
#define MAX_LINKS 40

int pc_replace_prepare(struct pc_replace *r, const char *path, bool follow)
{
	char *cur = xstrdup(path);

	memset(r, 0, sizeof(*r));
	for (int i = 0;; i++) {
		char link[PATH_MAX];
		const char *slash;
		ssize_t n;

		if (lstat(cur, &r->st) < 0) {
			if (errno != ENOENT)
				goto fail;
			break;  /* a new file (or a link to one) */
		}
		if (S_ISLNK(r->st.st_mode) && !follow)
			break;  /* the link is replaced by a new file */
		if (!S_ISLNK(r->st.st_mode)) {
			if (!S_ISREG(r->st.st_mode)) {
				errno = EINVAL;
				goto fail;
			}
			r->exists = true;
			break;
		}
		if (i == MAX_LINKS) {
			errno = ELOOP;
			goto fail;
		}
		n = readlink(cur, link, sizeof(link) - 1);
		if (n < 0)
			goto fail;
		link[n] = '\0';
		/* a relative link is relative to the directory holding it */
		slash = strrchr(cur, '/');
		if (link[0] == '/' || !slash) {
			free(cur);
			cur = xstrdup(link);
		} else {
			char *next = xasprintf("%.*s/%s", (int)(slash - cur), cur, link);

			free(cur);
			cur = next;
		}
	}
	r->target = cur;
	return 0;
fail:
	free(cur);
	return -1;
}

/* A new temporary file beside @r->target: its fd, or -1 with errno. */
static int replace_create_tmp(struct pc_replace *r, mode_t mode)
{
	for (int tries = 0; tries < 100; tries++) {
		unsigned char rnd[4];
		int fd;

		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -1;
		free(r->tmp);
		r->tmp = xasprintf("%s.tmp.%02x%02x%02x%02x", r->target,
				   rnd[0], rnd[1], rnd[2], rnd[3]);
		fd = open(r->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
	}
	free(r->tmp);
	r->tmp = NULL;
	return -1;
}

/*
 * The temporary file of @r, with the owner, group and mode of an existing
 * target: its fd, or -1 with errno (nothing left behind).
 */
static int replace_open_fd(struct pc_replace *r)
{
	struct stat tst;
	int fd, e;

	/* 0666 for a new file: the umask (or a default ACL) decides, as for any file */
	fd = replace_create_tmp(r, r->exists ? 0600 : 0666);
	if (fd < 0 || !r->exists)
		return fd;
	/* chown first: it clears the set-id bits that the fchmod then sets */
	if (fstat(fd, &tst) == 0 &&
	    ((tst.st_uid == r->st.st_uid && tst.st_gid == r->st.st_gid) ||
	     fchown(fd, r->st.st_uid, r->st.st_gid) == 0) &&
	    fchmod(fd, r->st.st_mode & 07777) == 0)
		return fd;
	e = errno;
	close(fd);
	unlink(r->tmp);
	free(r->tmp);
	r->tmp = NULL;
	errno = e;
	return -1;
}

/* Syncs (unless the caller does) and closes @fd of @r's temporary file; on failure removes it. */
static int replace_close_fd(struct pc_replace *r, int fd)
{
	int e;

	if (!r->caller_syncs && fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(r->tmp);
	free(r->tmp);
	r->tmp = NULL;
	errno = e;
	return -1;
}

int pc_replace_write(struct pc_replace *r, const void *data, size_t len)
{
	const unsigned char *p = data;
	int fd, e;

	fd = replace_open_fd(r);
	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			unlink(r->tmp);
			free(r->tmp);
			r->tmp = NULL;
			errno = e;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return replace_close_fd(r, fd);
}

/* The stdio buffer of pc_replace_open()'s stream, and the piece of the target compared at once. */
#define REPLACE_BUF 65536

struct pc_replace_stream {
	int fd;                 /* the temporary file */
	/* the target while the output so far is what it holds; -1 after (or without @r->compare) */
	int old;
	off_t off;              /* bytes of output so far */
	char buf[REPLACE_BUF];  /* the stream's buffer */
	char cmp[REPLACE_BUF];  /* the target's bytes at @off */
};

/* The target holds the @n bytes at @p at the stream's offset. */
static bool old_holds(struct pc_replace_stream *s, const char *p, size_t n)
{
	for (size_t at = 0; at < n;) {
		size_t k = n - at < sizeof(s->cmp) ? n - at : sizeof(s->cmp);
		ssize_t got = pread(s->old, s->cmp, k, s->off + (off_t)at);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || memcmp(s->cmp, p + at, (size_t)got) != 0)
			return false;
		at += (size_t)got;
	}
	return true;
}

/*
 * The stream's write: into the temporary file, and compared with the
 * target while they agree (generate's outputs are most often unchanged:
 * the target is read once here instead of both files after).
 */
static ssize_t stream_write(void *cookie, const char *p, size_t n)
{
	struct pc_replace_stream *s = cookie;

	if (s->old >= 0 && !old_holds(s, p, n)) {
		close(s->old);
		s->old = -1;
	}
	for (size_t done = 0; done < n;) {
		ssize_t w = write(s->fd, p + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return 0;   /* fopencookie(3): 0 is the error */
		done += (size_t)w;
	}
	s->off += (off_t)n;
	return (ssize_t)n;
}

static int stream_close(void *cookie)
{
	struct pc_replace_stream *s = cookie;

	if (s->old >= 0)
		close(s->old);
	return close(s->fd);
}

FILE *pc_replace_open(struct pc_replace *r)
{
	cookie_io_functions_t io = { .write = stream_write, .close = stream_close };
	struct pc_replace_stream *s;
	int fd = replace_open_fd(r);
	FILE *f;
	int e;

	if (fd < 0)
		return NULL;
	s = xmalloc(sizeof(*s));
	s->fd = fd;
	s->old = r->compare && r->exists ? open(r->target, O_RDONLY | O_CLOEXEC) : -1;
	s->off = 0;
	r->same = false;
	f = fopencookie(s, "w", io);
	if (f) {
		/*
		 * A stdio buffer of the file system's block (4 KB on tmpfs)
		 * made 1,300 write()s of the 5.4 MB of a 2,000-term policy's
		 * four outputs, 64 KB 90 of them. The buffer is given: glibc
		 * ignores the size of setvbuf(f, NULL, ...).
		 */
		setvbuf(f, s->buf, _IOFBF, sizeof(s->buf));
		r->stream = s;
		return f;
	}
	e = errno;
	if (s->old >= 0)
		close(s->old);
	free(s);
	close(fd);
	unlink(r->tmp);
	free(r->tmp);
	r->tmp = NULL;
	errno = e;
	return NULL;
}

int pc_replace_close(struct pc_replace *r, FILE *f)
{
	struct pc_replace_stream *s = r->stream;
	char byte;
	/* a full disk shows at the flush, or as the stream's error flag */
	bool ok = fflush(f) == 0 && !ferror(f);
	int e = errno;

	/* the same bytes, and the target no longer */
	r->same = ok && s->old >= 0 && pread(s->old, &byte, 1, s->off) == 0;
	/* a temporary file as the target is will not be renamed: no sync */
	if (ok && !r->caller_syncs && !r->same && fsync(s->fd) != 0) {
		ok = false;
		e = errno;
	}
	if (fclose(f) != 0 && ok) {
		ok = false;
		e = errno;
	}
	/* only after fclose(): the stream writes its buffer out until then */
	free(s);
	r->stream = NULL;
	if (ok)
		return 0;
	r->same = false;
	unlink(r->tmp);
	free(r->tmp);
	r->tmp = NULL;
	errno = e ? e : EIO;
	return -1;
}

bool pc_replace_same(const struct pc_replace *r)
{
	return r->exists && r->tmp && r->compare && r->same;
}

int pc_replace_commit(struct pc_replace *r)
{
	const char *slash = strrchr(r->target, '/');
	char *dir;
	int dfd;

	if (!r->tmp)
		PC_BUG("commit of %s without a written temporary file", r->target);
	if (rename(r->tmp, r->target) < 0)
		return -1;
	free(r->tmp);
	r->tmp = NULL;
	if (r->caller_syncs)
		return 0;
	/* the rename itself must reach the disk too */
	dir = slash ? xstrndup(r->target, slash == r->target ? 1 : (size_t)(slash - r->target))
		    : xstrdup(".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir);
	return 0;
}

void pc_replace_finish(struct pc_replace *r)
{
	int e = errno;

	if (r->tmp)
		unlink(r->tmp);
	free(r->tmp);
	free(r->target);
	r->tmp = NULL;
	r->target = NULL;
	errno = e;
}

int pc_write_file_atomic(const char *path, const void *data, size_t len)
{
	struct pc_replace r;
	int ret = -1;

	if (pc_replace_prepare(&r, path, false) == 0 && pc_replace_write(&r, data, len) == 0 &&
	    pc_replace_commit(&r) == 0)
		ret = 0;
	pc_replace_finish(&r);
	return ret;
}

bool pc_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

unsigned pc_edit_distance(const char *a, const char *b, unsigned max)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned *mem, *pp, *prev, *cur, res;

	if (la > lb + max || lb > la + max)
		return max + 1;
	/* three rows: the one before the previous is for transpositions */
	mem = xcalloc(3 * (lb + 1), sizeof(*mem));
	pp = mem;
	prev = mem + lb + 1;
	cur = mem + 2 * (lb + 1);
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned char ca = (unsigned char)tolower((unsigned char)a[i - 1]);
		unsigned best, *t;

		cur[0] = (unsigned)i;
		best = cur[0];
		for (size_t j = 1; j <= lb; j++) {
			unsigned char cb = (unsigned char)tolower((unsigned char)b[j - 1]);
			unsigned v = prev[j - 1] + (ca != cb);

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > max) {
			free(mem);
			return max + 1;
		}
		t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	res = prev[lb];
	free(mem);
	return res > max ? max + 1 : res;
}
