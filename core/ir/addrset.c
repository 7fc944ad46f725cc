/* SPDX-License-Identifier: MIT */
/*
 * Address, prefix and port-set algebra shared by the resolver, the lint, the
 * optimiser and the evaluator.
 */
#include "ir/addrset.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

bool pc_addr_parse(const char *text, const char *plen_text, struct pc_addr *out,
		   char *err, size_t errlen)
{
	unsigned max;
	unsigned long plen;
	char *end;

	memset(out, 0, sizeof(*out));
	if (strchr(text, ':')) {
		if (inet_pton(AF_INET6, text, out->a) != 1) {
			snprintf(err, errlen, "bad IPv6 address '%s'", text);
			return false;
		}
		out->family = PC_FAM_IPV6;
		max = 128;
	} else {
		if (inet_pton(AF_INET, text, out->a) != 1) {
			bool name = false;

			for (const char *p = text; *p; p++)
				if (isalpha((unsigned char)*p))
					name = true;
			snprintf(err, errlen, name ?
				 "bad address '%s' (host names are not resolved: use an address or a $group)" :
				 "bad IPv4 address '%s'", text);
			return false;
		}
		out->family = PC_FAM_IPV4;
		max = 32;
	}
	plen = max;
	if (plen_text) {
		if (!pc_all_digits(plen_text) || strlen(plen_text) > 3 ||
		    (plen = strtoul(plen_text, &end, 10)) > max) {
			snprintf(err, errlen, "bad prefix length '/%s' (0-%u for %s)",
				 plen_text, max, max == 32 ? "IPv4" : "IPv6");
			return false;
		}
	}
	out->plen = (uint8_t)plen;
	/* host bits must be zero: say which prefix was probably meant */
	{
		struct pc_addr net = *out;

		pc_prefix_mask(&net);
		if (memcmp(net.a, out->a, sizeof(net.a)) != 0) {
			char buf[INET6_ADDRSTRLEN];

			inet_ntop(max == 32 ? AF_INET : AF_INET6, net.a, buf, sizeof(buf));
			snprintf(err, errlen,
				 "host bits set in %s/%lu (did you mean %s/%lu?)",
				 text, plen, buf, plen);
			return false;
		}
	}
	return true;
}

void pc_prefix_mask(struct pc_addr *a)
{
	unsigned full = a->plen / 8, rest = a->plen % 8;

	if (full >= 16)
		return;
	if (rest)
		a->a[full++] &= (uint8_t)(0xff << (8 - rest));
	memset(a->a + full, 0, 16 - full);
}

/* Two 64-bit compares, no memcmp() call: the lint and the optimiser ask
 * this some 100,000 times for a 2,000-rule policy. */
bool pc_prefix_contains(const struct pc_addr *outer, const struct pc_addr *inner)
{
	unsigned plen = outer->plen;

	if (outer->family != inner->family || plen > inner->plen)
		return false;
	for (unsigned w = 0; w < 2 && plen; w++) {
		unsigned bits = plen > 64 ? 64 : plen;
		uint64_t x = pc_be64_load(outer->a + 8 * w) ^ pc_be64_load(inner->a + 8 * w);

		if (x >> (64 - bits))
			return false;
		plen -= bits;
	}
	return true;
}

static int addr_cmp(const void *pa, const void *pb)
{
	const struct pc_addr *a = pa, *b = pb;

	uint64_t x, y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	/* as memcmp() of the 16 bytes, in two loads: sorting a million-entry
	 * address list spent a third of its time in memcmp() calls */
	for (unsigned w = 0; w < 2; w++) {
		x = pc_be64_load(a->a + 8 * w);
		y = pc_be64_load(b->a + 8 * w);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return (int)a->plen - (int)b->plen;
}

/* Byte @d of the sort key of @a: the family, the 16 address bytes, the
 * prefix length; the order addr_cmp() defines. */
static inline uint8_t key_byte(const struct pc_addr *a, unsigned d)
{
	return d == 0 ? a->family : d <= 16 ? a->a[d - 1] : a->plen;
}

#define KEY_BYTES 18

/*
 * LSD radix sort of @v[0..@n) on key bytes @first..@last, least significant
 * (@last) first, through @tmp (@n elements); the result is in @v. Each pass
 * is stable, so the whole orders by all those bytes. A pass whose byte is
 * the same in every element moves nothing and is skipped: the 12 unused
 * bytes of IPv4 addresses, the low half of a list of /64s.
 */
static void radix_pass_sort(struct pc_addr *v, struct pc_addr *tmp, size_t n,
			    unsigned first, unsigned last)
{
	size_t count[KEY_BYTES][256]; /* 36 KB: on the stack, no state kept */
	struct pc_addr *src = v, *dst = tmp, *swap;

	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++)
		for (unsigned d = first; d <= last; d++)
			count[d][key_byte(&v[i], d)]++;
	for (unsigned d = last + 1; d-- > first;) {
		size_t pos = 0;

		if (count[d][key_byte(&v[0], d)] == n)
			continue;
		for (unsigned b = 0; b < 256; b++) {
			size_t c = count[d][b];

			count[d][b] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[d][key_byte(&src[i], d)]++] = src[i];
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

/*
 * Below this many prefixes qsort() is used: the radix sort's tables cost
 * more than the compares of a small set (the groups of a hand-written
 * policy, sorted again for every rule and by the lint).
 */
#define RADIX_MIN 256

void pc_addr_sort(struct pc_addr *v, size_t n)
{
	struct pc_addr *tmp;
	size_t fam_count[256] = { 0 }, start = 0;

	/*
	 * Why not qsort(): a threat feed of a million addresses spent about
	 * half of `apply`'s own time (parse, resolve, lint) in glibc's merge
	 * sort of 18-byte elements. The key is fixed-width, so a radix sort
	 * orders it in a few linear passes, with the same result (the key is
	 * the whole element: equal keys are equal elements).
	 */
	if (n < RADIX_MIN) {
		qsort(v, n, sizeof(*v), addr_cmp);
		return;
	}
	tmp = xmalloc(n * sizeof(*tmp));
	/* the family first (most significant), so that each family is sorted
	 * on its own: an IPv4 list is not walked once per IPv6 byte */
	for (size_t i = 0; i < n; i++)
		fam_count[v[i].family]++;
	if (fam_count[v[0].family] != n) {
		size_t pos[256];

		for (unsigned f = 0; f < 256; f++) {
			pos[f] = start;
			start += fam_count[f];
		}
		for (size_t i = 0; i < n; i++)
			tmp[pos[v[i].family]++] = v[i];
		memcpy(v, tmp, n * sizeof(*v));
	}
	start = 0;
	for (unsigned f = 0; f < 256; f++) {
		size_t m = fam_count[f];

		if (m >= RADIX_MIN)
			radix_pass_sort(v + start, tmp, m, 1, KEY_BYTES - 1);
		else if (m > 1)
			qsort(v + start, m, sizeof(*v), addr_cmp);
		start += m;
	}
	free(tmp);
}

void pc_addr_set_normalize(struct pc_addr_set *s)
{
	size_t k = 0;

	if (s->n < 2)
		return;
	/* a set built from a group is normal already: a million-entry address
	 * list used by a rule must not be sorted again for every use */
	for (k = 1; k < s->n; k++)
		if (addr_cmp(&s->v[k - 1], &s->v[k]) >= 0 ||
		    pc_prefix_contains(&s->v[k - 1], &s->v[k]))
			break;
	if (k == s->n)
		return;
	k = 0;
	pc_addr_sort(s->v, s->n);
	for (size_t i = 0; i < s->n; i++) {
		if (k && pc_prefix_contains(&s->v[k - 1], &s->v[i]))
			continue;
		s->v[k++] = s->v[i];
	}
	s->n = k;
}

static int range_cmp(const void *pa, const void *pb)
{
	const struct pc_port_range *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->hi < b->hi ? -1 : a->hi > b->hi;
}

void pc_port_set_normalize(struct pc_port_set *s)
{
	size_t k = 0;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), range_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (k && (uint32_t)s->v[i].lo <= (uint32_t)s->v[k - 1].hi + 1) {
			if (s->v[i].hi > s->v[k - 1].hi)
				s->v[k - 1].hi = s->v[i].hi;
			continue;
		}
		s->v[k++] = s->v[i];
	}
	s->n = k;
}

static size_t addr_bytes(unsigned family)
{
	return family == PC_FAM_IPV4 ? 4 : 16;
}

bool pc_addr_contains(const struct pc_addr *pfx, unsigned family,
		      const uint8_t *addr)
{
	unsigned full, rest, plen = pfx->plen;

	if (pfx->family != family)
		return false;
	if (plen > addr_bytes(family) * 8)
		plen = (unsigned)addr_bytes(family) * 8;
	full = plen / 8;
	rest = plen % 8;
	if (memcmp(pfx->a, addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00u >> rest);

		if ((pfx->a[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

/*
 * The prefixes of one family are sorted by address and none contains
 * another, so they are disjoint intervals sorted by their first address:
 * only the last one starting at or before @addr can contain it.
 */
bool pc_addr_set_contains(const struct pc_addr_set *s, unsigned family,
			  const uint8_t *addr)
{
	size_t lo = 0, hi = s->n, n = addr_bytes(family), v4end, base;

	/* a dynamic set's elements exist only in the kernel: empty here */
	if (s->n == 0)
		return !pc_addr_set_is_dynamic(s);
	/* IPv4 entries come first: find where they end. */
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;

		if (s->v[m].family == PC_FAM_IPV4)
			lo = m + 1;
		else
			hi = m;
	}
	v4end = lo;
	if (family == PC_FAM_IPV4) {
		lo = 0;
		hi = v4end;
	} else {
		lo = v4end;
		hi = s->n;
	}
	base = lo;
	/* Last entry in [lo, hi) whose address is <= addr. */
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;

		if (memcmp(s->v[m].a, addr, n) <= 0)
			lo = m + 1;
		else
			hi = m;
	}
	if (lo == base)
		return false;
	return pc_addr_contains(&s->v[lo - 1], family, addr);
}

bool pc_port_set_contains(const struct pc_port_set *s, uint16_t port)
{
	size_t lo = 0, hi = s->n;

	if (s->n == 0)
		return true;
	/* First interval whose upper end is >= port. */
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;

		if (s->v[m].hi < port)
			lo = m + 1;
		else
			hi = m;
	}
	return lo < s->n && s->v[lo].lo <= port;
}
