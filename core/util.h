/* SPDX-License-Identifier: MIT */
/* Allocation that aborts on failure, an arena, and a growable buffer. */
#ifndef PORTCULLIS_UTIL_H
#define PORTCULLIS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * Replaces @path atomically with @len bytes: temporary file in the same
 * directory, fsync, rename, fsync of the directory. On failure @path is
 * untouched, errno is set and -1 returned.
 */
int pc_write_file_atomic(const char *path, const void *data, size_t len);

#endif
