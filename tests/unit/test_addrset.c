/* SPDX-License-Identifier: MIT */
/* The radix sort of prefixes (core/ir/addrset.c, pc_addr_sort()) against a
 * plain qsort() with a byte-by-byte compare, on random and adversarial
 * inputs, on both sides of its qsort() threshold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ir/addrset.h"

/* The order the sort promises, written the slow, obvious way. */
static int ref_cmp(const void *pa, const void *pb)
{
	const struct pc_addr *a = pa, *b = pb;
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->a, b->a, sizeof(a->a));
	if (c)
		return c;
	return (int)a->plen - (int)b->plen;
}

static uint64_t rng = 88172645463325252ull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* @v sorted by pc_addr_sort() equals @v sorted by qsort(), byte for byte. */
static void check_sort(const struct pc_addr *v, size_t n)
{
	struct pc_addr *a = malloc(n * sizeof(*a) + 1), *b = malloc(n * sizeof(*b) + 1);

	memcpy(a, v, n * sizeof(*a));
	memcpy(b, v, n * sizeof(*b));
	pc_addr_sort(a, n);
	qsort(b, n, sizeof(*b), ref_cmp);
	assert_memory_equal(a, b, n * sizeof(*a));
	free(a);
	free(b);
}

/* One random prefix of the kind @kind: 0 IPv4 host, 1 IPv4 prefix, 2 IPv6
 * /64, 3 IPv6 host, 4 any bytes of any family (the sort must not care). */
static void random_addr(struct pc_addr *a, unsigned kind, unsigned narrow)
{
	memset(a, 0, sizeof(*a));
	switch (kind) {
	case 0:
	case 1:
		a->family = PC_FAM_IPV4;
		for (unsigned i = 0; i < 4; i++)
			a->a[i] = (uint8_t)(narrow ? next() % narrow : next());
		a->plen = kind == 0 ? 32 : (uint8_t)(8 + next() % 25);
		pc_prefix_mask(a);
		break;
	case 2:
	case 3:
		a->family = PC_FAM_IPV6;
		for (unsigned i = 0; i < 16; i++)
			a->a[i] = (uint8_t)(narrow ? next() % narrow : next());
		a->plen = kind == 2 ? 64 : 128;
		pc_prefix_mask(a);
		break;
	default:
		a->family = (uint8_t)next();
		for (unsigned i = 0; i < 16; i++)
			a->a[i] = (uint8_t)(narrow ? next() % narrow : next());
		a->plen = (uint8_t)next();
	}
}

static const size_t sizes[] = { 0, 1, 2, 3, 100, 255, 256, 257, 1000, 5000, 40000 };

static void test_random(void **state)
{
	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (unsigned mix = 0; mix < 7; mix++) {
			for (unsigned narrow = 0; narrow <= 3; narrow += 3) {
				size_t n = sizes[s];
				struct pc_addr *v = calloc(n + 1, sizeof(*v));

				/* mix 0-4: one kind; 5: a threat feed's mix;
				 * 6: every kind */
				for (size_t i = 0; i < n; i++) {
					unsigned k = mix < 5 ? mix
						     : mix == 5 ? (next() % 50 == 0 ? 2 + next() % 2
								   : next() % 16 == 0 ? 1 : 0)
						     : next() % 5;

					random_addr(&v[i], k, narrow);
				}
				check_sort(v, n);
				free(v);
			}
		}
	}
}

static void test_adversarial(void **state)
{
	const size_t n = 3000;
	struct pc_addr *v = calloc(n, sizeof(*v));

	(void)state;
	/* all equal */
	for (size_t i = 0; i < n; i++)
		random_addr(&v[i], 0, 0), v[i] = v[0];
	check_sort(v, n);
	/* sorted, reversed, and sorted with the last element first */
	for (size_t i = 0; i < n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].family = PC_FAM_IPV4;
		v[i].a[2] = (uint8_t)(i >> 8);
		v[i].a[3] = (uint8_t)i;
		v[i].plen = 32;
	}
	check_sort(v, n);
	for (size_t i = 0; i < n / 2; i++) {
		struct pc_addr t = v[i];

		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	check_sort(v, n);
	memmove(v + 1, v, (n - 1) * sizeof(*v));
	memset(&v[0], 0xff, sizeof(v[0]));
	check_sort(v, n);
	/* the same bytes in both families, and only the prefix length differs */
	for (size_t i = 0; i < n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].family = i % 2 ? PC_FAM_IPV6 : PC_FAM_IPV4;
		v[i].a[0] = (uint8_t)(n - i);
		v[i].plen = (uint8_t)(i % 129);
	}
	check_sort(v, n);
	/* only the last byte of the address, or only the family, differs */
	for (size_t i = 0; i < n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].family = PC_FAM_IPV6;
		v[i].a[15] = (uint8_t)(i * 7);
		v[i].plen = 128;
	}
	check_sort(v, n);
	for (size_t i = 0; i < n; i++)
		v[i].family = (uint8_t)(255 - i % 3), v[i].a[15] = 1;
	check_sort(v, n);
	/* one element differs from all others in one byte only: no pass may
	 * be skipped for it */
	for (size_t i = 0; i < n; i++) {
		random_addr(&v[i], 0, 0);
		v[i].a[0] = 5;
	}
	v[n - 1].a[0] = 1;
	check_sort(v, n);
	/* one IPv6 element among IPv4 ones (a family too small for radix) */
	for (size_t i = 0; i < n; i++) {
		random_addr(&v[i], 0, 0);
		if (i == n / 2)
			random_addr(&v[i], 3, 0);
	}
	check_sort(v, n);
	free(v);
}

/* The normal form: sorted, nested prefixes dropped. */
static void test_normalize(void **state)
{
	const size_t n = 2000;
	struct pc_addr *v = calloc(n, sizeof(*v));
	struct pc_addr_set s = { NULL, n, v, { 0 } };

	(void)state;
	for (size_t i = 0; i < n; i++)
		random_addr(&v[i], i % 3 ? 0 : 1, 4);
	pc_addr_set_normalize(&s);
	assert_true(s.n < n);
	for (size_t i = 1; i < s.n; i++) {
		assert_true(ref_cmp(&v[i - 1], &v[i]) < 0);
		assert_false(pc_prefix_contains(&v[i - 1], &v[i]));
	}
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_adversarial),
		cmocka_unit_test(test_normalize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
