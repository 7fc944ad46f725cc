/* SPDX-License-Identifier: MIT */
/*
 * How output reaches the kernel (issue 15, generate's CPU): diagnostics in
 * one piece into an unbuffered stream, the -o FILE stream's stdio buffer.
 * Counted in write calls and bytes, not timed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <portcullis/diag.h>

#include "common/util.h"

/* A stream that counts the writes reaching it and keeps their bytes. */
struct sink {
	size_t writes;
	char text[4096];
	size_t len;
};

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
	struct sink *s = cookie;

	s->writes++;
	if (s->len + n > sizeof(s->text))
		return -1;
	memcpy(s->text + s->len, buf, n);
	s->len += n;
	return (ssize_t)n;
}

/*
 * stderr is unbuffered: every fputc() of a message's caret line was a
 * write() of its own (16,000 for the lint warnings of a 2,000-term
 * policy). The messages must reach such a stream in one write, unchanged.
 */
static void test_diag_print_one_write(void **state)
{
	static const char src[] = "allow in service ssh\n"
				  "deny in port 22/tcp from 192.0.2.1\n";
	static const char want[] =
		"portcullis: error: third\n"
		"t.policy:1:1: warning: first\n"
		"  allow in service ssh\n"
		"  ^~~~~\n"
		"t.policy:2:20: error: second\n"
		"  deny in port 22/tcp from 192.0.2.1\n"
		"                     ^~~~~~~~~\n";
	cookie_io_functions_t io = { .write = sink_write };
	struct sink sink = { 0 };
	struct pc_diag *d = pc_diag_create();
	const char *name = pc_diag_add_source(d, "t.policy", src, sizeof(src) - 1);
	struct pc_location a = { name, 1, 1, 5 }, b = { name, 2, 20, 9 };
	FILE *f = fopencookie(&sink, "w", io);

	(void)state;
	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	pc_diag_warning(d, &a, "first");
	pc_diag_error(d, &b, "second");
	pc_diag_error(d, NULL, "third");
	pc_diag_print(d, f, false);
	assert_int_equal(sink.writes, 1);
	assert_int_equal(sink.len, strlen(want));
	assert_memory_equal(sink.text, want, sink.len);
	/* nothing queued: nothing written */
	pc_diag_print(d, f, false);
	assert_int_equal(sink.writes, 1);
	fclose(f);
	pc_diag_destroy(d);
}

/*
 * pc_replace_open()'s stream holds 64 KB before it writes: glibc ignores
 * the size given to setvbuf() without a buffer and took the file
 * system's block (4 KB on tmpfs), 1,300 write()s for generate's 5 MB.
 */
static void test_replace_stream_buffer(void **state)
{
	char dir[] = "/tmp/pc-test-output-XXXXXX";
	char *path, *back;
	static char data[60000];
	struct pc_replace r;
	struct stat st;
	size_t len;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/out", dir);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	assert_int_equal(pc_replace_prepare(&r, path, true), 0);
	f = pc_replace_open(&r);
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, sizeof(data), f), sizeof(data));
	/* all of it still in the stream's buffer: no write() yet */
	assert_int_equal(stat(r.tmp, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(pc_replace_close(&r, f), 0);
	assert_int_equal(pc_replace_commit(&r), 0);
	pc_replace_finish(&r);
	back = pc_read_file(path, &len);
	assert_non_null(back);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(back, data, len);
	free(back);
	unlink(path);
	rmdir(dir);
	free(path);
}

/* Writes @old (NULL: no file) to @path, then @new through pc_replace_open(): pc_replace_same(). */
static bool replace_same(const char *path, const char *old, size_t old_len,
			 const char *new, size_t new_len, size_t piece)
{
	struct pc_replace r;
	bool same;
	FILE *f;

	unlink(path);
	if (old) {
		/* not pc_write_file_atomic(): no fsync() for each of 300 cases */
		FILE *o = fopen(path, "wb");

		assert_non_null(o);
		assert_int_equal(fwrite(old, 1, old_len, o), old_len);
		assert_int_equal(fclose(o), 0);
	}
	assert_int_equal(pc_replace_prepare(&r, path, true), 0);
	r.compare = true;
	f = pc_replace_open(&r);
	assert_non_null(f);
	/* in pieces of @piece bytes: the stream's writes fall anywhere */
	for (size_t at = 0; at < new_len; at += piece) {
		size_t k = new_len - at < piece ? new_len - at : piece;

		assert_int_equal(fwrite(new + at, 1, k, f), k);
	}
	assert_int_equal(pc_replace_close(&r, f), 0);
	same = pc_replace_same(&r);
	if (!same) {
		/* whatever the finding, the temporary file holds the output */
		size_t len;
		char *back = pc_read_file(r.tmp, &len);

		assert_non_null(back);
		assert_int_equal(len, new_len);
		assert_memory_equal(back, new, len);
		free(back);
	}
	pc_replace_finish(&r);
	return same;
}

/*
 * generate's -o FILE is compared with the output as it is written (not
 * read back after): equal only when every byte and the length are.
 */
static void test_replace_compare(void **state)
{
	char dir[] = "/tmp/pc-test-output-XXXXXX";
	static const size_t sizes[] = { 0, 1, 4095, 65535, 65536, 65537, 200000 };
	static const size_t pieces[] = { 1, 7, 4096, 65536, 300000 };
	size_t big = 200001;
	char *a = xmalloc(big), *b = xmalloc(big), *path;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/out", dir);
	srand(15);
	for (size_t i = 0; i < big; i++)
		a[i] = (char)(rand() % 256);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];

		for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
			size_t piece = pieces[p];

			if (n > 70000 && piece < 4096)
				continue;   /* slow, and nothing new */
			assert_true(replace_same(path, a, n, a, n, piece));
			/* no file, a longer and a shorter one */
			assert_false(replace_same(path, NULL, 0, a, n, piece));
			assert_false(replace_same(path, a, n + 1, a, n, piece));
			if (n > 0) {
				assert_false(replace_same(path, a, n - 1, a, n, piece));
				/* one byte changed: first, last, somewhere */
				for (int k = 0; k < 3; k++) {
					size_t at = k == 0 ? 0 : k == 1 ? n - 1 : (size_t)rand() % n;

					memcpy(b, a, n);
					b[at] ^= 0x20;
					assert_false(replace_same(path, a, n, b, n, piece));
				}
			}
		}
	}
	unlink(path);
	rmdir(dir);
	free(path);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag_print_one_write),
		cmocka_unit_test(test_replace_stream_buffer),
		cmocka_unit_test(test_replace_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
