/* SPDX-License-Identifier: MIT */
/*
 * The spooled arena (issue 15): what it holds survives the pages it gives
 * back, and it does give them back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/util.h"

#define BLOCK (1u << 20)
#define N_BLOCKS 96

/* Resident pages of this process, in bytes. */
static size_t resident(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu %lu", &size, &res), 2);
	fclose(f);
	return res * (size_t)sysconf(_SC_PAGESIZE);
}

static unsigned char pattern(size_t block, size_t i)
{
	return (unsigned char)(block * 31 + i * 7 + (i >> 12));
}

static void test_spool_keeps(void **state)
{
	struct pc_arena *a = pc_arena_create_spool();
	unsigned char *v[N_BLOCKS];
	size_t before = resident();

	(void)state;
	/* the first 4 MB are memory: nothing to spool in a small view */
	assert_false(pc_arena_spooled(a));
	for (size_t b = 0; b < N_BLOCKS; b++) {
		v[b] = pc_arena_alloc(a, BLOCK);
		for (size_t i = 0; i < BLOCK; i++)
			v[b][i] = pattern(b, i);
	}
	/* 96 MB written: 4 MB in memory, then at most 16 MB (and the block
	 * being written) between releases: the pages went back to the file */
	assert_true(pc_arena_spooled(a));
	assert_true(pc_arena_resident_max(a) <= (16u << 20) + BLOCK);
	assert_true(resident() < before + (48u << 20));
	/* read back from the file, told as the nft text tells it */
	for (size_t b = 0; b < N_BLOCKS; b++) {
		for (size_t i = 0; i < BLOCK; i++)
			if (v[b][i] != pattern(b, i))
				fail_msg("block %zu byte %zu changed", b, i);
		pc_arena_release(a, BLOCK);
	}
	assert_true(resident() < before + (48u << 20));
	/* small allocations among the big ones are zeroed and kept too */
	for (unsigned k = 0; k < 1000; k++) {
		unsigned *p = pc_arena_alloc(a, sizeof(*p));

		assert_int_equal(*p, 0);
		*p = k;
		pc_arena_release(a, 64 << 10);
		assert_int_equal(*p, k);
	}
	pc_arena_destroy(a);
}

/* No place for the spool: an ordinary arena, which never gives pages back. */
static void test_spool_fallback(void **state)
{
	const char *old = getenv("TMPDIR");
	char *saved = old ? xstrdup(old) : NULL;
	struct pc_arena *a, *plain = pc_arena_create();
	char *s;

	(void)state;
	setenv("TMPDIR", "/nonexistent/portcullis-test", 1);
	a = pc_arena_create_spool();
	/* past the first 4 MB it looks for its file, and finds no place */
	for (unsigned k = 0; k < 24; k++)
		memset(pc_arena_alloc(a, BLOCK), 1, BLOCK);
	if (saved)
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
	free(saved);
	assert_false(pc_arena_spooled(a));
	assert_false(pc_arena_spooled(plain));
	s = pc_arena_strdup(a, "kept");
	pc_arena_release(a, 64u << 20);
	pc_arena_release(plain, 64u << 20);
	pc_arena_release(NULL, 1);
	assert_string_equal(s, "kept");
	assert_int_equal(pc_arena_resident_max(a), 0);
	pc_arena_destroy(a);
	pc_arena_destroy(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool_keeps),
		cmocka_unit_test(test_spool_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
