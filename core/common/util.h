/* SPDX-License-Identifier: MIT */
/* Allocation that aborts on failure, an arena, and a growable buffer. */
#ifndef PORTCULLIS_UTIL_H
#define PORTCULLIS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <string.h>

#define PC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A broken invariant: print and abort. Never for user errors. */
#define PC_BUG(...) pc_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void pc_bug(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Allocation failure aborts in one place. */
void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array of @size-byte elements to hold at least @need; *cap updated. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An arena: many allocations, freed at once. */
struct pc_arena;
struct pc_arena *pc_arena_create(void);
void pc_arena_destroy(struct pc_arena *a);
void *pc_arena_alloc(struct pc_arena *a, size_t n);   /* zeroed, 16-aligned */
char *pc_arena_strdup(struct pc_arena *a, const char *s);
char *pc_arena_strndup(struct pc_arena *a, const char *s, size_t n);
void *pc_arena_memdup(struct pc_arena *a, const void *p, size_t n);
/*
 * A spooled arena (issue 15): past its first 4 MB, its chunks are pages
 * of a file without a name in $TMPDIR (or /tmp), mapped shared, and it
 * gives those pages back to the kernel after every 16 MB touched; a page
 * read again is read from the file. What a big arena holds is then mostly
 * on disk, not in memory. Without a temporary file it is an ordinary
 * arena.
 */
struct pc_arena *pc_arena_create_spool(void);
/*
 * Tells a spooled arena that @touched bytes of it were read (allocations
 * count by themselves); it gives its pages back when enough were. A
 * no-op for other arenas and NULL.
 */
void pc_arena_release(struct pc_arena *a, size_t touched);
/* Whether @a has its file; the most bytes it was told of between releases. */
bool pc_arena_spooled(const struct pc_arena *a);
size_t pc_arena_resident_max(const struct pc_arena *a);

/* A growable NUL-terminated byte buffer. */
struct pc_buf {
	char *data;
	size_t len;
	size_t cap;
};
void pc_buf_init(struct pc_buf *b);
void pc_buf_finish(struct pc_buf *b);
void pc_buf_add(struct pc_buf *b, const void *p, size_t n);
void pc_buf_puts(struct pc_buf *b, const char *s);
void pc_buf_putc(struct pc_buf *b, char c);
void pc_buf_printf(struct pc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Largest file pc_read_file() reads (policies, registries, templates). */
#define PC_MAX_FILE (256u << 20)

/*
 * Reads a whole file into a NUL-terminated buffer (*len excludes the NUL).
 * Returns NULL with errno set on failure.
 */
char *pc_read_file(const char *path, size_t *len);
/*
 * Reads from @fd until @n bytes are in @buf or the file ends (interrupted
 * reads are retried). Returns the number of bytes read, or -1 with errno.
 */
ssize_t pc_read_full(int fd, void *buf, size_t n);

/**
 * struct pc_replace - one file replaced atomically, in steps
 * @target: the file replaced: the path given, or with pc_replace_prepare()'s
 *          @follow the file its symbolic links lead to
 * @tmp:    the temporary file beside @target, NULL when there is none
 * @exists: @target exists (then @st is its status)
 * @st:     the status of @target
 *
 * Several files are replaced all or nothing by pc_replace_prepare() and
 * pc_replace_write() of each, then pc_replace_commit() of each (only
 * renames are left by then), and pc_replace_finish() of each, which removes
 * a temporary file that was not renamed.
 */
struct pc_replace {
	char *target;
	char *tmp;
	bool exists;
	struct stat st;
	/*
	 * Set after pc_replace_prepare() when the caller syncs for many files
	 * at once (syncfs() before the renames, each directory after them):
	 * write and commit then leave the syncing to it.
	 */
	bool caller_syncs;
	/*
	 * Set before pc_replace_open() to have the output compared with what
	 * the target holds as it is written (pc_replace_same()).
	 */
	bool compare;
	/* pc_replace_close()'s finding: the output is what the target holds */
	bool same;
	/* pc_replace_open()'s stream: its buffer and descriptors (util.c) */
	struct pc_replace_stream *stream;
};

/**
 * pc_replace_prepare() - resolve @path to the file it replaces
 * @r:      filled in; pc_replace_finish() it whatever this returns
 * @path:   the file to replace (copied)
 * @follow: write through a symbolic link @path (and links it points to) to
 *          the file at the end; false replaces the link itself (for files in
 *          directories others might plant links in)
 *
 * Return: 0, or -1 with errno set: EINVAL when the file (a link's target)
 * exists and is not a regular file (a directory, device node, FIFO or
 * socket), ELOOP for too many links, or what lstat() and readlink() say.
 */
int pc_replace_prepare(struct pc_replace *r, const char *path, bool follow);

/**
 * pc_replace_write() - write @len bytes to a temporary file beside @r->target
 *
 * The temporary file gets the owner, group and mode of an existing target;
 * a new file gets mode 0666 less the umask, as any created file. It is
 * written and synced. Return: 0, or -1 with errno set (nothing left behind).
 */
int pc_replace_write(struct pc_replace *r, const void *data, size_t len);

/**
 * pc_replace_open() - pc_replace_write() in steps, for output too big to
 * hold in memory first: the temporary file as a stream to write to
 *
 * Return: the stream, or NULL with errno set (nothing left behind). Close
 * it with pc_replace_close(), which reports write errors and syncs. The
 * stream is a fopencookie() one: fileno() on it is -1.
 */
FILE *pc_replace_open(struct pc_replace *r);

/* Flushes, syncs and closes @f of pc_replace_open(); 0, or -1 with errno (the temporary file removed). */
int pc_replace_close(struct pc_replace *r, FILE *f);

/*
 * The temporary file written by pc_replace_open()'s stream, with
 * @r->compare set, holds what @r->target already holds, byte for byte:
 * pc_replace_close()'s finding (the target is read as the output is
 * written; such a temporary file is not synced, it is not to be renamed).
 * False on any error, and without @r->compare.
 */
bool pc_replace_same(const struct pc_replace *r);

/* Renames the temporary file over @r->target and syncs the directory. 0 or -1 with errno. */
int pc_replace_commit(struct pc_replace *r);

/* Removes the temporary file if it is still there and frees @r. */
void pc_replace_finish(struct pc_replace *r);

/*
 * Replaces @path atomically with @len bytes (the steps of struct
 * pc_replace for one file; a symbolic link @path is replaced, not followed).
 * On failure @path is untouched, errno is set and -1 returned.
 */
int pc_write_file_atomic(const char *path, const void *data, size_t len);

/* @s is one or more decimal digits and nothing else. */
bool pc_all_digits(const char *s);

/*
 * Optimal string alignment distance (insertions, deletions, substitutions
 * and transpositions of neighbours, each 1), ASCII case-insensitive;
 * @max + 1 when it is more than @max. The one edit distance of the
 * suggestions ("did you mean").
 */
unsigned pc_edit_distance(const char *a, const char *b, unsigned max);

#endif
