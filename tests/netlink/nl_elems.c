/* SPDX-License-Identifier: MIT */
/*
 * The elements `apply` sends for an address list, decoded back: a
 * `hosts NAME = file` list of a few thousand random entries (hosts,
 * duplicates, nested, overlapping and adjacent prefixes, ranges, IPv4 and
 * IPv6), its batch built as apply builds it, every NEWSETELEM message
 * parsed with libnftnl, and the addresses the list's sets hold (hash
 * elements, interval start and end marks; the hash and interval parts of
 * a split group together) compared with the addresses the list names,
 * worked out here from the entries as written. Checks too that each
 * element list stays below 64 KiB, that a hash set is declared with room
 * for its elements, and that a hash set holds each address once.
 * No kernel, no root (suite unit).
 *
 *   nl_elems [SEED]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <portcullis/diag.h>

#include "backends/netlink/netlink.h"
#include "backends/nft/nft_lower.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

__extension__ typedef unsigned __int128 u128;

/* A closed interval of addresses of one family (4: IPv4, 6: IPv6). */
struct iv {
	int fam;
	u128 lo, hi;
};

struct ivs {
	struct iv *v;
	size_t n, cap;
};

static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL: " __VA_ARGS__); \
	fputc('\n', stderr); failures++; } } while (0)

static void ivs_add(struct ivs *s, int fam, u128 lo, u128 hi)
{
	s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = (struct iv){ fam, lo, hi };
}

static int iv_cmp(const void *pa, const void *pb)
{
	const struct iv *a = pa, *b = pb;

	if (a->fam != b->fam)
		return a->fam - b->fam;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Sorted, with touching and overlapping intervals merged. */
static void ivs_merge(struct ivs *s)
{
	size_t k = 0;

	qsort(s->v, s->n, sizeof(*s->v), iv_cmp);
	for (size_t i = 0; i < s->n; i++) {
		struct iv *last = k ? &s->v[k - 1] : NULL;

		if (last && last->fam == s->v[i].fam && s->v[i].lo <= last->hi + 1) {
			if (s->v[i].hi > last->hi)
				last->hi = s->v[i].hi;
			continue;
		}
		s->v[k++] = s->v[i];
	}
	s->n = k;
}

static u128 key_get(const uint8_t *p, uint32_t len)
{
	u128 x = 0;

	for (uint32_t i = 0; i < len; i++)
		x = x << 8 | p[i];
	return x;
}

static void addr_text(char *out, size_t size, int fam, u128 x)
{
	if (fam == 4) {
		snprintf(out, size, "%u.%u.%u.%u", (unsigned)(x >> 24 & 255),
			 (unsigned)(x >> 16 & 255), (unsigned)(x >> 8 & 255), (unsigned)(x & 255));
		return;
	}
	/* 2001:db8:G:H::L, the shape the generator uses */
	snprintf(out, size, "2001:db8:%x:%x:%x:%x:%x:%x", (unsigned)(x >> 80 & 0xffff),
		 (unsigned)(x >> 64 & 0xffff), (unsigned)(x >> 48 & 0xffff),
		 (unsigned)(x >> 32 & 0xffff), (unsigned)(x >> 16 & 0xffff), (unsigned)(x & 0xffff));
}

/* One random entry: written to @f, what it covers added to @want. */
static void entry(FILE *f, struct ivs *want, unsigned *seed)
{
	unsigned r = (unsigned)rand_r(seed) % 100;
	char a[64], b[64];

	if (r < 80) {
		/* IPv4 hosts in 240.0.0.0/14 (reserved: never a real source),
		 * close enough together to meet prefixes and each other */
		u128 x = (u128)0xf0000000u | ((unsigned)rand_r(seed) & 0x3ffff);

		addr_text(a, sizeof(a), 4, x);
		fprintf(f, "%s\n", a);
		ivs_add(want, 4, x, x);
	} else if (r < 90) {
		unsigned plen = 22 + (unsigned)rand_r(seed) % 10;
		u128 size = (u128)1 << (32 - plen);
		u128 x = ((u128)0xf0000000u | ((unsigned)rand_r(seed) & 0xfffff)) & ~(size - 1);

		addr_text(a, sizeof(a), 4, x);
		fprintf(f, "%s/%u   # a prefix\n", a, plen);
		ivs_add(want, 4, x, x + size - 1);
	} else if (r < 93) {
		u128 x = (u128)0xf0000000u | ((unsigned)rand_r(seed) & 0x3ffff);
		u128 y = x + (unsigned)rand_r(seed) % 300;

		addr_text(a, sizeof(a), 4, x);
		addr_text(b, sizeof(b), 4, y);
		fprintf(f, "%s-%s\n", a, b);
		ivs_add(want, 4, x, y);
	} else if (r < 97) {
		u128 x = (u128)0x20010db8u << 96 | (u128)((unsigned)rand_r(seed) % 64) << 80 |
			 ((unsigned)rand_r(seed) % 512);

		addr_text(a, sizeof(a), 6, x);
		fprintf(f, "%s\n", a);
		ivs_add(want, 6, x, x);
	} else {
		u128 x = (u128)0x20010db8u << 96 | (u128)((unsigned)rand_r(seed) % 64) << 80 |
			 (u128)((unsigned)rand_r(seed) % 4) << 64;

		addr_text(a, sizeof(a), 6, x);
		fprintf(f, "%s/64\n", a);
		ivs_add(want, 6, x, x + (((u128)1 << 64) - 1));
	}
}

struct set_info {
	char name[64];
	bool interval;
	uint32_t size;
	size_t hash_elems;
	size_t messages;    /* NEWSETELEM messages */
	struct ivs hosts;   /* hash elements, to find duplicates */
};

static struct set_info sets[16];
static size_t n_sets;

static struct set_info *set_find(const char *name, bool add)
{
	for (size_t i = 0; i < n_sets; i++)
		if (strcmp(sets[i].name, name) == 0)
			return &sets[i];
	if (!add || n_sets == sizeof(sets) / sizeof(sets[0]))
		return NULL;
	snprintf(sets[n_sets].name, sizeof(sets[0].name), "%s", name);
	return &sets[n_sets++];
}

/* The sets of the list ("list_v4", "list_v4_nets", "list_v6", ...). */
static bool of_list(const char *name)
{
	return strncmp(name, "list_", 5) == 0;
}

/* An interval set's open start mark (kept across its messages). */
static bool in_range;
static u128 range_lo;

static void elems_message(const struct nlmsghdr *nlh, struct ivs *got)
{
	struct nlmsghdr *copy = xmalloc(nlh->nlmsg_len);
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	struct set_info *si;
	struct nlattr *a, *el;
	int fam, lists = 0;

	/* libnftnl's parser wants each element typed NFTA_LIST_ELEM, as the
	 * kernel writes them (libnftnl's builder numbers them) */
	memcpy(copy, nlh, nlh->nlmsg_len);
	mnl_attr_for_each(a, copy, sizeof(struct nfgenmsg)) {
		/* the element list is the message's last attribute; one longer
		 * than its 16-bit length can say would leave elements after it */
		bool last = (char *)a + MNL_ALIGN(a->nla_len) == (char *)copy + copy->nlmsg_len;

		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS) {
			CHECK(last, "an element list that does not end its message (over 64 KiB?)");
			lists++;
			mnl_attr_for_each_nested(el, a)
				el->nla_type = NFTA_LIST_ELEM | (el->nla_type & NLA_F_NESTED);
		}
	}
	CHECK(lists == 1, "a NEWSETELEM message with %d element lists", lists);
	CHECK(nftnl_set_elems_nlmsg_parse(copy, s) >= 0, "a NEWSETELEM libnftnl cannot parse");
	si = set_find(nftnl_set_get_str(s, NFTNL_SET_NAME), false);
	if (!si || !of_list(si->name))
		goto out;
	si->messages++;
	it = nftnl_set_elems_iter_create(s);
	while ((e = nftnl_set_elems_iter_next(it))) {
		uint32_t len = 0, flags = 0;
		const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		u128 k = key_get(key, len);

		fam = len == 4 ? 4 : 6;
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
			flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
		CHECK(!nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA),
		      "%s: an element open to the end of the address space", si->name);
		if (!si->interval) {
			CHECK(flags == 0, "%s: a hash element with flags %u", si->name, flags);
			ivs_add(got, fam, k, k);
			ivs_add(&si->hosts, fam, k, k);
			si->hash_elems++;
		} else if (flags & NFT_SET_ELEM_INTERVAL_END) {
			/* the end mark (exclusive) of the open start, or the
			 * mark at 0 before the first start */
			if (in_range) {
				CHECK(k > range_lo, "%s: an interval ends before it starts", si->name);
				ivs_add(got, fam, range_lo, k - 1);
			} else {
				CHECK(k == 0, "%s: an end mark without a start", si->name);
			}
			in_range = false;
		} else {
			CHECK(!in_range, "%s: two start marks in a row", si->name);
			in_range = true;
			range_lo = k;
		}
	}
	nftnl_set_elems_iter_destroy(it);
out:
	nftnl_set_free(s);
	free(copy);
}

static void set_message(const struct nlmsghdr *nlh)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct set_info *si;

	CHECK(nftnl_set_nlmsg_parse(nlh, s) >= 0, "a NEWSET libnftnl cannot parse");
	si = set_find(nftnl_set_get_str(s, NFTNL_SET_NAME), true);
	if (si) {
		si->interval = nftnl_set_is_set(s, NFTNL_SET_FLAGS) &&
			       (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL);
		si->size = nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE) ?
			   nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE) : 0;
	}
	in_range = false;
	nftnl_set_free(s);
}

int main(int argc, char **argv)
{
	unsigned seed = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 14;
	char dir[] = "/tmp/pc-nl-elems-XXXXXX", *list, *policy;
	struct pc_registry *reg = pc_registry_create();
	struct pc_diag *diag = pc_diag_create();
	struct ivs want = { 0 }, got = { 0 };
	struct pc_nft_plan *plan;
	struct pc_nl_batch *b;
	struct pc_ir *ir;
	bool sys_error = false;
	const uint8_t *data;
	size_t len, off = 0, hash_sets = 0;
	FILE *f;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	list = xasprintf("%s/list.txt", dir);
	policy = xasprintf("%s/list.policy", dir);
	f = fopen(list, "w");
	fputs("# a feed: hosts, prefixes, ranges, both families\n", f);
	for (int i = 0; i < 20000; i++)
		entry(f, &want, &seed);
	fclose(f);
	f = fopen(policy, "w");
	fputs("table t\nhosts list = file \"list.txt\"\ndefault in allow\n"
	      "deny in from $list\n", f);
	fclose(f);

	if (pc_registry_load(reg, pc_registry_default_path(), false, diag) != 0)
		goto fail;
	pc_registry_finish(reg);
	ir = pc_policy_load(policy, reg, 0, diag, &sys_error);
	if (!ir)
		goto fail;
	plan = pc_nft_plan_create(ir, diag);
	if (!plan)
		goto fail;
	b = pc_nl_batch_from_plan(plan, true);
	data = pc_nl_batch_data(b, &len);
	while (off + sizeof(struct nlmsghdr) <= len) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(data + off);
		uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);

		if (nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN &&
		    nlh->nlmsg_type != NFNL_MSG_BATCH_END) {
			if (type == NFT_MSG_NEWSET)
				set_message(nlh);
			else if (type == NFT_MSG_NEWSETELEM)
				elems_message(nlh, &got);
		}
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}

	for (size_t i = 0; i < n_sets; i++) {
		struct set_info *si = &sets[i];

		if (!of_list(si->name) || si->interval)
			continue;
		hash_sets++;
		CHECK(si->size >= si->hash_elems, "%s: size %u for %zu elements", si->name,
		      si->size, si->hash_elems);
		qsort(si->hosts.v, si->hosts.n, sizeof(*si->hosts.v), iv_cmp);
		for (size_t j = 1; j < si->hosts.n; j++)
			CHECK(si->hosts.v[j].lo != si->hosts.v[j - 1].lo,
			      "%s: an address twice", si->name);
		free(si->hosts.v);
	}
	CHECK(hash_sets > 0, "no hash set for the list's hosts");
	/* the test is of a list whose elements take more than one message */
	{
		size_t most = 0;

		for (size_t i = 0; i < n_sets; i++)
			if (sets[i].messages > most)
				most = sets[i].messages;
		CHECK(most > 1, "every set's elements fit one message: the list is too short");
	}
	ivs_merge(&want);
	ivs_merge(&got);
	CHECK(want.n == got.n, "the list holds %zu intervals of addresses, its sets %zu",
	      want.n, got.n);
	for (size_t i = 0; i < want.n && i < got.n; i++) {
		char w1[64], w2[64], g1[64], g2[64];

		if (want.v[i].fam == got.v[i].fam && want.v[i].lo == got.v[i].lo &&
		    want.v[i].hi == got.v[i].hi)
			continue;
		addr_text(w1, sizeof(w1), want.v[i].fam, want.v[i].lo);
		addr_text(w2, sizeof(w2), want.v[i].fam, want.v[i].hi);
		addr_text(g1, sizeof(g1), got.v[i].fam, got.v[i].lo);
		addr_text(g2, sizeof(g2), got.v[i].fam, got.v[i].hi);
		CHECK(false, "interval %zu: the list %s-%s, the sets %s-%s", i, w1, w2, g1, g2);
		break;
	}
	printf("%zu intervals of addresses in %zu sets, %zu bytes of batch\n", got.n, n_sets, len);

	pc_nl_batch_destroy(b);
	pc_nft_plan_destroy(plan);
	pc_ir_destroy(ir);
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	unlink(list);
	unlink(policy);
	rmdir(dir);
	free(list);
	free(policy);
	free(want.v);
	free(got.v);
	return failures ? 1 : 0;
fail:
	pc_diag_print(diag, stderr, false);
	unlink(list);
	unlink(policy);
	rmdir(dir);
	return 1;
}
