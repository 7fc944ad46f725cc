/* SPDX-License-Identifier: MIT */
/*
 * Address ranges as minimal prefix covers.
 */
#include "ir/addrrange.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

static u128 to_u128(const struct pc_addr *a)
{
	unsigned n = a->family == PC_FAM_IPV4 ? 4 : 16;
	u128 v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | a->a[i];
	return v;
}

static void from_u128(u128 v, unsigned family, unsigned plen, struct pc_addr *a)
{
	unsigned n = family == PC_FAM_IPV4 ? 4 : 16;

	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	a->plen = (uint8_t)plen;
	for (unsigned i = n; i-- > 0;) {
		a->a[i] = (uint8_t)v;
		v >>= 8;
	}
}

void pc_addr_range_cover(const struct pc_addr *lo, const struct pc_addr *hi,
			 void (*emit)(void *ctx, const struct pc_addr *a), void *ctx)
{
	unsigned bits = lo->family == PC_FAM_IPV4 ? 32 : 128;
	u128 cur = to_u128(lo), last = to_u128(hi);

	for (;;) {
		unsigned k = 0;
		struct pc_addr p;

		/* the largest aligned block that starts at cur and ends by last */
		while (k < bits && !((cur >> k) & 1)) {
			u128 end = cur + (((u128)2 << k) - 1);

			if (end > last || end < cur)
				break;
			k++;
		}
		if (k == bits) {       /* the whole address space */
			from_u128(0, lo->family, 0, &p);
			emit(ctx, &p);
			return;
		}
		from_u128(cur, lo->family, bits - k, &p);
		emit(ctx, &p);
		{
			u128 next = cur + ((u128)1 << k);

			if (next - 1 >= last || next == 0 ||
			    (bits == 32 && next >> 32))
				return;
			cur = next;
		}
	}
}

bool pc_addr_range_parse(const char *text, struct pc_addr *lo, struct pc_addr *hi,
			 bool *is_range, char *err, size_t errlen)
{
	const char *dash = strchr(text, '-');
	char a[INET6_ADDRSTRLEN + 1], b[INET6_ADDRSTRLEN + 1];
	size_t la;

	*is_range = false;
	if (!dash || dash == text || !dash[1] || strchr(dash + 1, '-'))
		return false;
	la = (size_t)(dash - text);
	if (la >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
		return false;
	memcpy(a, text, la);
	a[la] = '\0';
	strcpy(b, dash + 1);
	memset(lo, 0, sizeof(*lo));
	memset(hi, 0, sizeof(*hi));
	if (inet_pton(AF_INET, a, lo->a) == 1)
		lo->family = PC_FAM_IPV4;
	else if (inet_pton(AF_INET6, a, lo->a) == 1)
		lo->family = PC_FAM_IPV6;
	else
		return false;
	*is_range = true;
	if (inet_pton(lo->family == PC_FAM_IPV4 ? AF_INET : AF_INET6, b, hi->a) != 1) {
		snprintf(err, errlen, "bad address range '%s': '%s' is not an %s address",
			 text, b, lo->family == PC_FAM_IPV4 ? "IPv4" : "IPv6");
		return false;
	}
	hi->family = lo->family;
	lo->plen = hi->plen = lo->family == PC_FAM_IPV4 ? 32 : 128;
	if (to_u128(lo) > to_u128(hi)) {
		snprintf(err, errlen, "reversed address range '%s' (write %s-%s)", text, b, a);
		return false;
	}
	return true;
}
