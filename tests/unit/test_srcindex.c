/* SPDX-License-Identifier: MIT */
/*
 * The fold's index of entries by source prefix (core/ir/srcindex.c)
 * against the plain method: every entry whose prefix overlaps the query
 * and whose span meets the query's, found by comparing the query with each
 * entry. Prefixes are random and
 * clustered (a few networks, every length, both families, /0 and full
 * length), so that queries meet prefixes inside them, around them and
 * equal to them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir/addrset.h"
#include "ir/srcindex.h"
#include "common/util.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* A random prefix near one of a few networks of its family. */
static struct pc_addr random_prefix(void)
{
	static const uint8_t nets[4][4] = { { 192, 0, 2, 0 }, { 198, 51, 100, 0 },
					    { 203, 0, 113, 0 }, { 10, 0, 0, 0 } };
	struct pc_addr a;
	unsigned max, r = rnd() % 8;

	memset(&a, 0, sizeof(a));
	a.family = rnd() % 4 ? PC_FAM_IPV4 : PC_FAM_IPV6;
	max = a.family == PC_FAM_IPV4 ? 32 : 128;
	if (a.family == PC_FAM_IPV4) {
		memcpy(a.a, nets[rnd() % 4], 4);
	} else {
		a.a[0] = 0x20;
		a.a[1] = 0x01;
		a.a[2] = 0x0d;
		a.a[3] = 0xb8;
		a.a[7] = (uint8_t)(rnd() % 3);
		a.a[8] = (uint8_t)(rnd() % 2 ? 0x80 | rnd() % 2 : 0);  /* bits 64, 71 */
		a.a[15] = (uint8_t)rnd();
	}
	a.a[max / 8 - 1] = (uint8_t)(rnd() % 4 ? a.a[max / 8 - 1] ^ (rnd() % 16) : rnd());
	a.a[max / 8 - 2] ^= (uint8_t)(rnd() % 4 == 0);
	/* lengths: every one, with /0 and full length often */
	a.plen = (uint8_t)(r == 0 ? 0 : r == 1 ? max : max - rnd() % (max + 1));
	if (a.family == PC_FAM_IPV6 && rnd() % 2)
		a.plen = (uint8_t)(56 + rnd() % 16);    /* across the two words */
	pc_prefix_mask(&a);
	return a;
}

/* The plain method: one contains the other. */
static bool overlap(const struct pc_addr *a, const struct pc_addr *b)
{
	return pc_prefix_contains(a, b) || pc_prefix_contains(b, a);
}

/*
 * A random span: small numbers, so that spans meet, touch at one end and
 * miss each other; sometimes the whole line, as an unfiltered entry has.
 */
static struct pc_src_span random_span(void)
{
	uint64_t a = rnd() % 16, b = rnd() % 16;

	if (rnd() % 8 == 0)
		return (struct pc_src_span){ 0, UINT64_MAX };
	return (struct pc_src_span){ a < b ? a : b, a < b ? b : a };
}

static bool spans_meet(struct pc_src_span a, struct pc_src_span b)
{
	return a.lo <= b.hi && b.lo <= a.hi;
}

struct seen {
	unsigned *count;
};

static void mark(void *arg, uint32_t id)
{
	((struct seen *)arg)->count[id]++;
}

static void test_against_plain(void **state)
{
	(void)state;
	for (int round = 0; round < 40; round++) {
		size_t n = 1 + rnd() % 600;
		struct pc_addr *v = xcalloc(n, sizeof(*v));
		struct pc_src_span *sp = xcalloc(n, sizeof(*sp));
		unsigned *count = xcalloc(n, sizeof(*count));
		struct pc_src_index ix;
		struct seen s = { count };
		size_t found = 0, left_out = 0;

		memset(&ix, 0, sizeof(ix));
		for (size_t i = 0; i < n; i++) {
			/* many entries share a prefix: the chains */
			v[i] = i && rnd() % 4 == 0 ? v[rnd() % i] : random_prefix();
			sp[i] = random_span();
			pc_src_index_add(&ix, &v[i], sp[i], (uint32_t)i);
			/* queries between additions too */
			if (rnd() % 8)
				continue;
			for (int k = 0; k < 20; k++) {
				struct pc_addr q = rnd() % 2 ? v[rnd() % (i + 1)] : random_prefix();
				struct pc_src_span qs = random_span();

				memset(count, 0, n * sizeof(*count));
				pc_src_index_query(&ix, &q, qs, mark, &s);
				for (size_t j = 0; j < n; j++) {
					unsigned want = j <= i && overlap(&q, &v[j]) &&
							spans_meet(qs, sp[j]);

					assert_int_equal(count[j], want);
					found += want;
					left_out += j <= i && overlap(&q, &v[j]) && !want;
				}
			}
		}
		/* the test must have seen overlaps to mean anything */
		assert_true(found > 0);
		/* and entries left out by their spans alone */
		assert_true(n < 50 || left_out > 0);
		pc_src_index_finish(&ix);
		free(sp);
		free(v);
		free(count);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
