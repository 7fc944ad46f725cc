/* SPDX-License-Identifier: MIT */
/*
 * The ruleset compiler: turns runs of first-match policy rules into verdict
 * maps over (source prefix, [destination prefix,] protocol, destination
 * port interval), so that the kernel does one set lookup where it did one
 * comparison per rule.
 *
 * Meaning is kept exactly. A run is a maximal sequence of consecutive
 * "plain" rules: rules that always decide the packets they match (allow,
 * deny, reject, with or without a log), matching only source and
 * destination addresses, interfaces, protocols with ports and destination
 * ports. The destination is in a map's key only when a rule of the run
 * names one (issue 15); then the others' elements hold any destination of
 * the family. The interface is in the key when the rules of the run name
 * one (`on IF`, exact names): a rule with an interface and one without are
 * not in the same run, since an element cannot say "any interface" (see
 * same_key()).
 *
 * Rules of every shape in one map (issue 15). A rule is a union of boxes
 * (interface x source prefix x destination interval x protocol x port or
 * ICMP type interval); a rule without a source is the prefix /0 of the
 * family, without a destination the whole interval of the family, without
 * ports 0-65535. So rules with and without destinations, of either verdict,
 * logged or not, fold into one map whose key is the widest the run needs.
 * build_boxes() makes the elements of rules R1..Rn in order; for each box b
 * of Rk it subtracts every element already made that overlaps b
 * (subtract(): b minus a as disjoint boxes, cutting b's ports around a's,
 * then its source prefix around a's, then its destination interval). By
 * induction on the boxes added, with E the elements made so far:
 *  (I1) the elements of E are pairwise disjoint;
 *  (I2) the union of E is the union of the boxes added so far;
 *  (I3) an element of E lies in a box of the rule it carries, and in no
 *       box of an earlier rule of the run.
 * Adding b: its pieces are b minus the union of E, which is (I2) the union
 * of the earlier boxes; they are disjoint from E and from each other (I1),
 * lie in b and in no earlier rule's box (I3; boxes of Rk itself that came
 * first take the overlap, and carry Rk as well), and E with them covers
 * the boxes so far (I2). Hence a packet lies in at most one element, and
 * that element carries the first rule of the run that matches the packet:
 * its verdict, its log and its line, as the rules in order would decide.
 * A packet in no element is matched by no rule of the run and goes on to
 * the rule after the run, as before. The kernel rejects overlapping
 * intervals in one set ("File exists"); disjoint boxes never overlap.
 *
 * A rule that logs or rejects is an element whose action is that rule's
 * (pc_map_elem.action): the backend jumps to a chain that logs and
 * accepts, drops or rejects, and never returns, so the element decides
 * the packet as an accept or a drop would. A limit does not always decide
 * (over its rate the packet goes on to the next rule, which a map element
 * cannot say): a limited rule splits the run where it sits, or is moved
 * past as below.
 *
 * The bound on the elements: subtracting cuts a box into at most a few
 * pieces per dimension, but many earlier rules can cut one box many
 * times (a rule from any source after rules to many single
 * destinations). A run's elements stay at most MAX_GROWTH times the boxes
 * of its rules plus GROWTH_SLACK: the rule whose boxes would break that is
 * cut off, and the run folded so far stands; the cut rule begins the next
 * run, where it splits nothing before it. So every map holds at most
 * MAX_GROWTH x its rules' boxes + GROWTH_SLACK elements, and a run too
 * short to fold keeps one rule per line, as before.
 *
 * What ends a run, and why it cannot be keyed exactly:
 *  - a limit: over its rate the rule does not decide (above);
 *  - connection state: not a field the key can hold next to the others
 *    (ct state is a bit mask, a rule matches any of several bits);
 *  - an interface wildcard (eth*) or `on not`: not one key value;
 *  - the output interface of a forward rule (out on IF) other than the
 *    run's: it is one exact name, compared before the map's lookup, so a
 *    run's rules all leave on the same interface or name none (a list
 *    or a wildcard is no such name);
 *  - `from not` / `to not` and dynamic sets: the complement of a set, or a
 *    set the kernel changes at run time, is no fixed list of elements;
 *  - a source port: not in the key (issue 14);
 *  - protocols without ports other than ICMP: no field to key;
 *  - ICMP of any type (`proto icmp`): it matches a packet whose type is
 *    not known (explain without `type`), which no element of types can.
 * ICMP and ICMPv6 rules fold (issue 15): their types are the last field of
 * a map of their own per family (`ip saddr . icmp type`), since a packet
 * has either a port or an ICMP type; an ICMP element never meets a port
 * element, so the two maps of a run may come in either order. ICMP is
 * IPv4's and ICMPv6 IPv6's, as for explain and the nft rules.
 * Such a rule is moved past when every later rule of the run is disjoint
 * from it (optimize_reorder.c), else the run ends there.
 *
 * Nothing is moved across a rule outside the run.
 */
#include <stdlib.h>
#include <string.h>

#include <portcullis/backend.h>

#include "ir/optimize.h"
#include "ir/optimize_internal.h"
#include "ir/addrset.h"
#include "ir/srcindex.h"
#include "ir/ir_owned.h"
#include "common/util.h"

/* A run shorter than this stays as it is: a few rules cost the kernel little
 * and read better one per line in a review. */
#define MIN_RUN PC_OPT_MIN_RUN
/* Give up on a run whose splitting explodes (pathological overlaps). */
#define MAX_ELEMS 200000
/*
 * The elements of a run are at most MAX_GROWTH times its rules' boxes plus
 * GROWTH_SLACK (the proof above). On the Capirca shape, 4 and 256 fold the
 * IPv4 class chain of udp/443 (41 rules of every shape) into two maps of
 * 363 and 576 elements where it was 13 rules (unbounded: one map of 1,329);
 * the kernel's lookup in a concatenation grows with its elements, so the
 * bound also bounds the lookup (bench/README.md, branch busy).
 */
#define MAX_GROWTH 4
#define GROWTH_SLACK 256
/*
 * A rule with destinations joins a run only when its sources times its
 * destinations times its port intervals (of one family) are at most this:
 * an element holds one of each, and a group of 70 sources to a group of 5
 * servers would be 350 elements where the rule is one lookup of two sets.
 */
#define MAX_DST_BOXES 256

/* The interfaces @r names: @iface alone, or the list. */
static size_t n_iface(const struct pc_rule *r)
{
	return r->n_ifaces > 1 ? r->n_ifaces : 1;
}

static const char *iface_at(const struct pc_rule *r, size_t i)
{
	return r->n_ifaces > 1 ? r->ifaces[i] : r->iface;
}

/*
 * Whether @a and @b can be in one map: both name interfaces (the key holds
 * one) or neither does. A map element holds one exact interface name; "any
 * interface" would be the interval of all 16-byte names, which nft's text
 * has no way to write, so a run keeps one key form.
 */
static bool same_key(const struct pc_rule *a, const struct pc_rule *b)
{
	/* out on IF (forward rules, issue 15): one comparison before the
	 * map, so the run's rules leave on the same one interface, or none
	 * of them names one */
	if (a->n_oifaces != b->n_oifaces ||
	    (a->n_oifaces && strcmp(a->oifaces[0], b->oifaces[0]) != 0))
		return false;
	return (a->iface != NULL) == (b->iface != NULL);
}

static bool is_icmp(uint8_t proto)
{
	return proto == PC_PROTO_ICMP || proto == PC_PROTO_ICMPV6;
}

/* The family whose packets can be of ICMP protocol @proto. */
static unsigned icmp_family(uint8_t proto)
{
	return proto == PC_PROTO_ICMP ? PC_FAM_IPV4 : PC_FAM_IPV6;
}

/* The intervals of the last key field of @l: its ports or ICMP types. */
static size_t l4_values(const struct pc_l4 *l)
{
	if (is_icmp(l->proto))
		return l->n_types;
	return l->dports.n ? l->dports.n : 1;
}

/* Interval @k of l4_values(): ports, or one ICMP type (pc_optimize_foldable() takes
 * ICMP rules with types only). */
static void l4_value(const struct pc_l4 *l, size_t k, uint16_t *lo, uint16_t *hi)
{
	if (is_icmp(l->proto)) {
		*lo = *hi = l->types[k];
	} else {
		*lo = l->dports.n ? l->dports.v[k].lo : 0;
		*hi = l->dports.n ? l->dports.v[k].hi : 65535;
	}
}

/* The boxes of @r in family @fam (interfaces x source prefixes x
 * destinations x ports or ICMP types). */
static size_t fam_boxes(const struct pc_rule *r, unsigned fam)
{
	size_t s = 0, d = 0, p = 0;

	for (size_t i = 0; i < r->saddr.n; i++)
		s += r->saddr.v[i].family == fam;
	for (size_t i = 0; i < r->daddr.n; i++)
		d += r->daddr.v[i].family == fam;
	for (size_t i = 0; i < r->n_l4; i++)
		p += l4_values(&r->l4[i]);
	/* each interface of a list is an element of its own (issue 15) */
	return (s ? s : 1) * (d ? d : 1) * p * (r->iface ? n_iface(r) : 1);
}

struct box {
	struct pc_addr src;
	/* an interval, not a prefix: what is left of a destination after
	 * another is cut out is two intervals, where it would be one prefix
	 * per level between the two */
	struct pc_addr_range dst;
	const char *iface;   /* NULL: the key has no interface */
	uint8_t proto;
	uint16_t lo, hi;
	enum pc_verdict verdict;
	const struct pc_rule *from;
};

struct boxes {
	struct box *v;
	size_t n, cap;
};

static void box_push(struct boxes *b, const struct box *x)
{
	if (b->n == b->cap)
		b->v = xgrow(b->v, &b->cap, b->n + 1, sizeof(*b->v));
	b->v[b->n++] = *x;
}


bool pc_optimize_foldable(const struct pc_rule *r, unsigned keys)
{
	if (r->origin != PC_ORIGIN_POLICY || r->n_map || r->dispatch)
		return false;
	/* a log or a reject is the action of an element (issue 15), where
	 * the backend can express it; a limit is not: over its rate the
	 * rule does not decide, and a map element always does */
	if ((r->log || r->verdict == PC_VERDICT_REJECT) && !(keys & PC_OPT_KEY_ACTION))
		return false;
	if (r->iface) {
		if (!(keys & PC_OPT_KEY_IFACE) || r->iface_not)
			return false;
		for (size_t i = 0; i < n_iface(r); i++)
			if (strchr(iface_at(r, i), '*'))
				return false;
	}
	/* one exact output interface: a comparison before the map */
	if (r->n_oifaces > 1 || (r->n_oifaces && (!(keys & PC_OPT_KEY_IFACE) ||
						 strchr(r->oifaces[0], '*'))))
		return false;
	if (r->limit.rate ||
	    (r->daddr.n && !(keys & PC_OPT_KEY_DADDR)) ||
	    r->ct_state || !r->n_l4 ||
	    pc_addr_set_is_dynamic(&r->saddr) || pc_addr_set_is_dynamic(&r->daddr) ||
	    r->saddr_not || r->daddr_not || r->iface_not ||
	    /* a map key has no source port (issue 14) */
	    r->sports.n)
		return false;
	for (size_t i = 0; i < r->n_l4; i++)
		if (!pc_proto_has_ports(r->l4[i].proto) &&
		    !(is_icmp(r->l4[i].proto) && r->l4[i].n_types && (keys & PC_OPT_KEY_ICMP)))
			return false;
	if (r->daddr.n && (fam_boxes(r, PC_FAM_IPV4) > MAX_DST_BOXES ||
			   fam_boxes(r, PC_FAM_IPV6) > MAX_DST_BOXES))
		return false;
	return true;
}

/* One contains the other: they agree on the bits of the shorter. */
static bool prefixes_overlap(const struct pc_addr *a, const struct pc_addr *b)
{
	unsigned plen = a->plen < b->plen ? a->plen : b->plen;
	uint64_t hi = pc_be64_load(a->a) ^ pc_be64_load(b->a);
	uint64_t lo = pc_be64_load(a->a + 8) ^ pc_be64_load(b->a + 8);

	if (a->family != b->family)
		return false;
	if (plen <= 64)
		return plen == 0 || hi >> (64 - plen) == 0;
	return hi == 0 && lo >> (128 - plen) == 0;
}

/* Addresses of 16 bytes in order: below 0, equal 0, above 0 (memcmp()). */
static int addr16_cmp(const uint8_t *a, const uint8_t *b)
{
	uint64_t x = pc_be64_load(a), y = pc_be64_load(b);

	if (x == y) {
		x = pc_be64_load(a + 8);
		y = pc_be64_load(b + 8);
	}
	return x < y ? -1 : x > y;
}

static bool ranges_overlap(const struct pc_addr_range *a, const struct pc_addr_range *b)
{
	return addr16_cmp(a->lo, b->hi) <= 0 && addr16_cmp(b->lo, a->hi) <= 0;
}

static bool range_contains(const struct pc_addr_range *a, const struct pc_addr_range *b)
{
	return addr16_cmp(a->lo, b->lo) <= 0 && addr16_cmp(b->hi, a->hi) <= 0;
}

static unsigned addr_len(unsigned family)
{
	return family == PC_FAM_IPV4 ? 4 : 16;
}

/* @a one up (@d 1) or down (@d -1) within its family's @len bytes. */
static void addr_step(uint8_t *a, unsigned len, int d)
{
	for (int i = (int)len - 1; i >= 0; i--) {
		a[i] = (uint8_t)(a[i] + d);
		if (a[i] != (d > 0 ? 0 : 0xff))
			break;
	}
}

static void range_of(const struct pc_addr *p, struct pc_addr_range *r)
{
	unsigned len = addr_len(p->family);

	memset(r, 0, sizeof(*r));
	r->family = p->family;
	memcpy(r->lo, p->a, len);
	memcpy(r->hi, p->a, len);
	/* the host bits: the rest of the prefix's last byte, then whole bytes */
	if (p->plen % 8)
		r->hi[p->plen / 8] |= (uint8_t)(0xffu >> p->plen % 8);
	for (unsigned i = (p->plen + 7) / 8; i < len; i++)
		r->hi[i] = 0xff;
}

static bool range_is_all(const struct pc_addr_range *r)
{
	unsigned len = addr_len(r->family);

	for (unsigned i = 0; i < len; i++)
		if (r->lo[i] != 0 || r->hi[i] != 0xff)
			return false;
	return true;
}

static bool boxes_overlap(const struct box *a, const struct box *b)
{
	if (a->proto != b->proto || a->lo > b->hi || b->lo > a->hi ||
	    !prefixes_overlap(&a->src, &b->src) || !ranges_overlap(&a->dst, &b->dst))
		return false;
	return (a->iface == NULL) == (b->iface == NULL) &&
	       (!a->iface || strcmp(a->iface, b->iface) == 0);
}

/* The prefix @p with bit @i (0 = most significant) set to @v, length i+1. */
static struct pc_addr child(const struct pc_addr *p, unsigned i, bool v)
{
	struct pc_addr c = *p;
	unsigned byte = i / 8, bit = 7 - i % 8;

	if (v)
		c.a[byte] |= (uint8_t)(1u << bit);
	else
		c.a[byte] &= (uint8_t)~(1u << bit);
	c.plen = (uint8_t)(i + 1);
	return c;
}

static bool bit_of(const struct pc_addr *p, unsigned i)
{
	return p->a[i / 8] >> (7 - i % 8) & 1;
}

/* Appends @b minus @a (which overlaps it) to @out. */
static void subtract(const struct box *b, const struct box *a, struct boxes *out)
{
	struct box piece = *b;
	uint16_t mlo = a->lo > b->lo ? a->lo : b->lo;
	uint16_t mhi = a->hi < b->hi ? a->hi : b->hi;

	if (b->lo < mlo) {
		piece.lo = b->lo;
		piece.hi = (uint16_t)(mlo - 1);
		box_push(out, &piece);
	}
	if (b->hi > mhi) {
		piece.lo = (uint16_t)(mhi + 1);
		piece.hi = b->hi;
		box_push(out, &piece);
	}
	piece.lo = mlo;
	piece.hi = mhi;
	if (!pc_prefix_contains(&a->src, &b->src)) {
		/* b's source prefix strictly contains a's: the middle ports, for
		 * the sources of b outside a: one sibling prefix per level
		 * between the two */
		for (unsigned i = b->src.plen; i < a->src.plen; i++) {
			struct pc_addr path = a->src;

			path.plen = (uint8_t)i;
			piece.src = child(&path, i, !bit_of(&a->src, i));
			pc_prefix_mask(&piece.src);
			box_push(out, &piece);
		}
		piece.src = a->src;
	}
	if (range_contains(&a->dst, &b->dst))
		return; /* the rest (middle ports, sources in both) is a's */
	/* the destinations of b below and above a's, with the sources in both */
	if (addr16_cmp(b->dst.lo, a->dst.lo) < 0) {
		piece.dst = b->dst;
		memcpy(piece.dst.hi, a->dst.lo, 16);
		addr_step(piece.dst.hi, addr_len(b->dst.family), -1);
		box_push(out, &piece);
	}
	if (addr16_cmp(a->dst.hi, b->dst.hi) < 0) {
		piece.dst = b->dst;
		memcpy(piece.dst.lo, a->dst.hi, 16);
		addr_step(piece.dst.lo, addr_len(b->dst.family), 1);
		box_push(out, &piece);
	}
}

/* Interfaces in order: none first, then by name. */
static int box_cmp_iface(const struct box *a, const struct box *b)
{
	if (a->iface == b->iface)
		return 0;
	if (!a->iface || !b->iface)
		return a->iface ? 1 : -1;
	return strcmp(a->iface, b->iface);
}

static int box_cmp(const void *pa, const void *pb)
{
	const struct box *a = pa, *b = pb;
	int c = box_cmp_iface(a, b);

	if (c)
		return c;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	c = addr16_cmp(a->src.a, b->src.a);
	if (c)
		return c;
	if (a->src.plen != b->src.plen)
		return a->src.plen < b->src.plen ? -1 : 1;
	c = addr16_cmp(a->dst.lo, b->dst.lo);
	if (c)
		return c;
	c = addr16_cmp(a->dst.hi, b->dst.hi);
	if (c)
		return c;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/*
 * The boxes of a run in box_cmp()'s order. The order is total on disjoint
 * boxes (two boxes equal in every field box_cmp() reads share the port
 * lo, so they overlap): any correct sort gives the same array. A merge
 * sort of indices, comparing first a copy of the fields that decide most
 * comparisons (interface, protocol, source prefix, the destination's first
 * address, as numbers), then, between boxes equal in those, box_cmp()
 * itself; the boxes themselves (88 bytes) move once.
 */
struct sort_key {
	const char *iface;
	uint64_t hi, lo;          /* the source address */
	uint64_t dhi, dlo;        /* the destination interval's first address */
	uint8_t proto, plen;
};

static bool key_before(const struct box *v, const struct sort_key *k, uint32_t a, uint32_t b)
{
	const struct sort_key *x = &k[a], *y = &k[b];

	if (x->iface != y->iface) {
		int c = box_cmp_iface(&v[a], &v[b]);

		if (c)
			return c < 0;
	}
	if (x->proto != y->proto)
		return x->proto < y->proto;
	if (x->hi != y->hi)
		return x->hi < y->hi;
	if (x->lo != y->lo)
		return x->lo < y->lo;
	if (x->plen != y->plen)
		return x->plen < y->plen;
	if (x->dhi != y->dhi)
		return x->dhi < y->dhi;
	if (x->dlo != y->dlo)
		return x->dlo < y->dlo;
	return box_cmp(&v[a], &v[b]) < 0;
}

static void order_rec(const struct box *v, const struct sort_key *k, uint32_t *ix,
		      uint32_t *tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, m = 0;

	if (n < 2)
		return;
	order_rec(v, k, ix, tmp, h);
	order_rec(v, k, ix + h, tmp, n - h);
	if (!key_before(v, k, ix[h], ix[h - 1]))
		return;         /* already in order */
	while (i < h && j < n)
		tmp[m++] = key_before(v, k, ix[j], ix[i]) ? ix[j++] : ix[i++];
	while (i < h)
		tmp[m++] = ix[i++];
	/* what is left of the right half is already in place */
	memcpy(ix, tmp, m * sizeof(*ix));
}

static void box_sort(struct boxes *b)
{
	struct sort_key *k;
	uint32_t *ix, *tmp;
	struct box *sorted;

	if (b->n < 2)
		return;
	k = xmalloc(b->n * sizeof(*k));
	ix = xmalloc(b->n * sizeof(*ix));
	tmp = xmalloc(b->n * sizeof(*tmp));
	for (size_t i = 0; i < b->n; i++) {
		k[i].iface = b->v[i].iface;
		k[i].hi = pc_be64_load(b->v[i].src.a);
		k[i].lo = pc_be64_load(b->v[i].src.a + 8);
		k[i].dhi = pc_be64_load(b->v[i].dst.lo);
		k[i].dlo = pc_be64_load(b->v[i].dst.lo + 8);
		k[i].proto = b->v[i].proto;
		k[i].plen = b->v[i].src.plen;
		ix[i] = (uint32_t)i;
	}
	order_rec(b->v, k, ix, tmp, b->n);
	sorted = xmalloc(b->cap * sizeof(*sorted));
	for (size_t i = 0; i < b->n; i++)
		sorted[i] = b->v[ix[i]];
	free(b->v);
	b->v = sorted;
	free(k);
	free(ix);
	free(tmp);
}

/*
 * Which earlier boxes can overlap a new one: per protocol, buckets of 16
 * ports list the boxes whose port interval meets them, so a new box is
 * compared with the few boxes near its ports instead of all of them. Boxes
 * wider than WIDE buckets (filing them in hundreds of buckets would cost
 * more) go in an index by source prefix (srcindex.h): a query meets the
 * boxes whose source lies in its own or contains it, by one binary search
 * and one hash probe per shorter prefix length present. In a class chain
 * of the dispatch every box has every port: reading every wide box for
 * each new box made the fold quadratic in the class's rules.
 *
 * The candidates come out in the order an index of 256-port buckets gave
 * (by the first such bucket both share, then by age): subtracting the same
 * boxes in another order can cut the new box into other (equivalent)
 * pieces, and the output must not change with the index.
 */
#define FINE_SHIFT 4
#define N_FINE (65536 >> FINE_SHIFT)
#define WIDE 64
#define ORDER_SHIFT 8

struct bucket {
	uint32_t *v;
	size_t n, cap;
};

struct box_index {
	struct bucket *b[4];      /* N_FINE buckets per protocol, when used */
	struct pc_src_index wide[4];
	uint32_t *stamp;          /* per box: the query that saw it last */
	size_t stamp_cap;
	uint32_t query;
	/* the candidates of the current query, in order: 256-port bucket
	 * << 32 | box id (cand_id()) */
	uint64_t *keys;
	size_t n_cand, cap_keys;
	const struct box *boxes;  /* the boxes the ids refer to */
	const struct box *q;      /* the box of the current query */
};

static int proto_slot(uint8_t proto)
{
	switch (proto) {
	case PC_PROTO_TCP: return 0;
	case PC_PROTO_UDP: return 1;
	case PC_PROTO_SCTP: return 2;
	default: return 3; /* dccp, and ICMP (types 0-255; boxes_overlap() tells them apart) */
	}
}

static void bucket_push(struct bucket *b, uint32_t id)
{
	b->v = xgrow(b->v, &b->cap, b->n + 1, sizeof(*b->v));
	b->v[b->n++] = id;
}

/*
 * The first 8 bytes of @b's destination range: truncating both ends keeps
 * their order, so two ranges that overlap have spans that meet, and the
 * source index may leave out the boxes whose spans do not (boxes_overlap()
 * still decides for the others).
 */
static struct pc_src_span dst_span(const struct box *b)
{
	return (struct pc_src_span){ pc_be64_load(b->dst.lo), pc_be64_load(b->dst.hi) };
}

/* ix->boxes must be the boxes @id refers to. */
static void index_add(struct box_index *ix, const struct box *b, uint32_t id)
{
	int p = proto_slot(b->proto);
	unsigned lo = b->lo >> FINE_SHIFT, hi = b->hi >> FINE_SHIFT;

	if (hi - lo + 1 > WIDE) {
		pc_src_index_add(&ix->wide[p], &b->src, dst_span(b), id);
	} else {
		if (!ix->b[p])
			ix->b[p] = xcalloc(N_FINE, sizeof(*ix->b[p]));
		for (unsigned k = lo; k <= hi; k++)
			bucket_push(&ix->b[p][k], id);
	}
	if (id >= ix->stamp_cap) {
		size_t old = ix->stamp_cap;

		ix->stamp = xgrow(ix->stamp, &ix->stamp_cap, (size_t)id + 1, sizeof(*ix->stamp));
		memset(ix->stamp + old, 0, (ix->stamp_cap - old) * sizeof(*ix->stamp));
	}
}

static void cand_add(struct box_index *ix, uint32_t id)
{
	const struct box *b = ix->q, *e = &ix->boxes[id];
	uint64_t first;

	/* a box that does not meet @b meets none of its pieces: leaving it
	 * out changes nothing but the work (in a class chain every box has
	 * every port, and only the addresses tell them apart) */
	if (ix->stamp[id] == ix->query || !boxes_overlap(e, b))
		return;
	ix->stamp[id] = ix->query;
	first = (e->lo > b->lo ? e->lo : b->lo) >> ORDER_SHIFT;
	ix->keys = xgrow(ix->keys, &ix->cap_keys, ix->n_cand + 1, sizeof(*ix->keys));
	ix->keys[ix->n_cand++] = first << 32 | id;
}

static void cand_found(void *arg, uint32_t id)
{
	cand_add(arg, id);
}

/* The box id of candidate @c of the current query. */
static inline uint32_t cand_id(const struct box_index *ix, size_t c)
{
	return (uint32_t)ix->keys[c];
}

static int key_cmp(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a < b ? -1 : a > b;
}

/* Candidates often come in order already (from one bucket, or one
 * source): no sort then. */
static bool keys_sorted(const uint64_t *k, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (k[i - 1] > k[i])
			return false;
	return true;
}

/* The boxes that overlap @b, in order. */
static void index_query(struct box_index *ix, const struct box *b)
{
	int p = proto_slot(b->proto);
	const struct bucket *row = ix->b[p];


	ix->query++;
	ix->n_cand = 0;
	ix->q = b;
	/* the wide boxes whose source contains @b's or lies in it, and
	 * whose destination may meet @b's */
	pc_src_index_query(&ix->wide[p], &b->src, dst_span(b), cand_found, ix);
	if (row)
		for (unsigned k = b->lo >> FINE_SHIFT; k <= (unsigned)(b->hi >> FINE_SHIFT); k++)
			for (size_t i = 0; i < row[k].n; i++)
				cand_add(ix, row[k].v[i]);
	if (ix->n_cand > 1 && !keys_sorted(ix->keys, ix->n_cand)) {
		if (ix->n_cand <= 16) {
			for (size_t i = 1; i < ix->n_cand; i++) {
				uint64_t x = ix->keys[i];
				size_t j = i;

				for (; j > 0 && ix->keys[j - 1] > x; j--)
					ix->keys[j] = ix->keys[j - 1];
				ix->keys[j] = x;
			}
		} else {
			qsort(ix->keys, ix->n_cand, sizeof(*ix->keys), key_cmp);
		}
	}
}

static void index_finish(struct box_index *ix)
{
	for (int p = 0; p < 4; p++) {
		if (ix->b[p])
			for (int k = 0; k < N_FINE; k++)
				free(ix->b[p][k].v);
		free(ix->b[p]);
		pc_src_index_finish(&ix->wide[p]);
	}
	free(ix->stamp);
	free(ix->keys);
	free(ix);
}

/*
 * The pieces a new box is cut into, in order: a list through @next over
 * the boxes of @pool, so that cutting one piece leaves the others where
 * they are (in a long class chain a box is cut by hundreds of earlier
 * ones into as many pieces, and copying the list at every cut made that
 * quadratic). Pieces cut away stay in @pool, unlinked, until the next box.
 */
#define NO_PIECE UINT32_MAX

/*
 * What boxes_overlap() reads of a box, as numbers: the test of a piece
 * against a cut is most of the fold's time on long class chains (a box
 * with a wide source is cut by hundreds of narrower ones, and every cut
 * reads every piece), and this one takes half the instructions. The
 * source prefixes overlap when the addresses agree under both masks
 * (the shorter prefix's mask is the two masks' AND).
 */
struct piece_key {
	uint64_t src_hi, src_lo, mask_hi, mask_lo;
	uint64_t dlo_hi, dlo_lo, dhi_hi, dhi_lo;   /* destination first, last */
	const char *iface;
	uint16_t lo, hi;
	uint16_t tag;             /* family and protocol */
};

static void piece_key_of(const struct box *b, struct piece_key *k)
{
	unsigned plen = b->src.plen;

	k->src_hi = pc_be64_load(b->src.a);
	k->src_lo = pc_be64_load(b->src.a + 8);
	k->mask_hi = plen >= 64 ? ~0ull : plen ? ~0ull << (64 - plen) : 0;
	k->mask_lo = plen >= 128 ? ~0ull : plen > 64 ? ~0ull << (128 - plen) : 0;
	k->dlo_hi = pc_be64_load(b->dst.lo);
	k->dlo_lo = pc_be64_load(b->dst.lo + 8);
	k->dhi_hi = pc_be64_load(b->dst.hi);
	k->dhi_lo = pc_be64_load(b->dst.hi + 8);
	k->iface = b->iface;
	k->lo = b->lo;
	k->hi = b->hi;
	k->tag = (uint16_t)(b->src.family << 8 | b->proto);
}

/* boxes_overlap() of the boxes of @a and @b. */
static bool keys_meet(const struct piece_key *a, const struct piece_key *b)
{
	if (a->tag != b->tag || a->lo > b->hi || b->lo > a->hi ||
	    ((a->src_hi ^ b->src_hi) & a->mask_hi & b->mask_hi) ||
	    ((a->src_lo ^ b->src_lo) & a->mask_lo & b->mask_lo))
		return false;
	/* the destination intervals: neither starts after the other ends */
	if (a->dlo_hi > b->dhi_hi || (a->dlo_hi == b->dhi_hi && a->dlo_lo > b->dhi_lo) ||
	    b->dlo_hi > a->dhi_hi || (b->dlo_hi == a->dhi_hi && b->dlo_lo > a->dhi_lo))
		return false;
	return a->iface == b->iface || (a->iface && b->iface && strcmp(a->iface, b->iface) == 0);
}

struct pieces {
	struct boxes pool;
	struct piece_key *key;    /* per box of @pool */
	uint32_t *next;
	size_t cap_next, cap_key;
	uint32_t head;
	size_t n;                 /* the pieces on the list */
};

static void pieces_start(struct pieces *p, const struct box *b)
{
	p->pool.n = 0;
	box_push(&p->pool, b);
	p->next = xgrow(p->next, &p->cap_next, 1, sizeof(*p->next));
	p->key = xgrow(p->key, &p->cap_key, 1, sizeof(*p->key));
	p->next[0] = NO_PIECE;
	piece_key_of(b, &p->key[0]);
	p->head = 0;
	p->n = 1;
}

/* Replaces every piece that @e meets by its pieces outside @e, in its
 * place; returns whether @e met one. */
static bool pieces_cut(struct pieces *p, const struct box *e)
{
	uint32_t prev = NO_PIECE, i = p->head;
	struct piece_key ek;
	bool hit = false;

	piece_key_of(e, &ek);
	while (i != NO_PIECE) {
		uint32_t after = p->next[i], repl = after;
		size_t from = p->pool.n;
		struct box old;

		if (!keys_meet(&p->key[i], &ek)) {
			prev = i;
			i = after;
			continue;
		}
		hit = true;
		/* a copy: the pool may move as the pieces go in */
		old = p->pool.v[i];
		subtract(&old, e, &p->pool);
		p->next = xgrow(p->next, &p->cap_next, p->pool.n, sizeof(*p->next));
		p->key = xgrow(p->key, &p->cap_key, p->pool.n, sizeof(*p->key));
		for (size_t k = from; k < p->pool.n; k++) {
			p->next[k] = k + 1 < p->pool.n ? (uint32_t)(k + 1) : after;
			piece_key_of(&p->pool.v[k], &p->key[k]);
		}
		if (p->pool.n > from)
			repl = (uint32_t)from;
		if (prev == NO_PIECE)
			p->head = repl;
		else
			p->next[prev] = repl;
		if (p->pool.n > from)
			prev = (uint32_t)(p->pool.n - 1);
		p->n = p->n - 1 + (p->pool.n - from);
		i = after;
	}
	return hit;
}

/*
 * Builds the disjoint boxes of one family for rules [first, *last). A rule
 * whose boxes the earlier ones would split into many pieces (a broad deny
 * after narrow allows) ends the run instead: *last is set to it, and it
 * starts the next run, where it splits nothing. Returns false when the run
 * is too large to fold.
 */
static bool build_boxes(const struct pc_rule *const *rules, size_t first, size_t *last,
			unsigned fam, struct boxes *out)
{
	struct pieces work = { 0 };
	struct box_index *ix = xzalloc(sizeof(*ix));
	size_t base_total = 0;
	bool ok = true, over = false;

	for (size_t r = first; r < *last && ok; r++) {
		const struct pc_rule *rule = rules[r];
		struct pc_addr any;
		size_t n_src, n_dst, before = out->n, base = 0;

		if (!(rule->families & fam))
			continue;
		memset(&any, 0, sizeof(any));
		any.family = (uint8_t)fam;
		n_src = 0;
		for (size_t s = 0; s < rule->saddr.n; s++)
			n_src += rule->saddr.v[s].family == fam;
		n_dst = 0;
		for (size_t s = 0; s < rule->daddr.n; s++)
			n_dst += rule->daddr.v[s].family == fam;
		for (size_t k = 0; k < rule->n_l4 && ok && !over; k++) {
			const struct pc_l4 *l = &rule->l4[k];
			size_t n_ports = l4_values(l);

			if (is_icmp(l->proto) && icmp_family(l->proto) != fam)
				continue;   /* no packet of @fam has it */

			for (size_t p = 0; p < n_ports && ok && !over; p++) {
				for (size_t f = 0; f < n_iface(rule) && ok && !over; f++)
				for (size_t s = 0; s < (n_src ? rule->saddr.n : 1) && ok && !over; s++)
				for (size_t di = 0; di < (n_dst ? rule->daddr.n : 1) && ok && !over; di++) {
					struct box b;

					if (n_src && rule->saddr.v[s].family != fam)
						continue;
					if (n_dst && rule->daddr.v[di].family != fam)
						continue;
					b.src = n_src ? rule->saddr.v[s] : any;
					range_of(n_dst ? &rule->daddr.v[di] : &any, &b.dst);
					b.iface = iface_at(rule, f);
					b.proto = l->proto;
					l4_value(l, p, &b.lo, &b.hi);
					b.verdict = rule->verdict;
					b.from = rule;
					/* subtract what earlier rules of the run decide already */
					pieces_start(&work, &b);
					ix->boxes = out->v;
					index_query(ix, &b);
					for (size_t c = 0; c < ix->n_cand && work.n; c++) {
						if (!pieces_cut(&work, &out->v[cand_id(ix, c)]))
							continue;
						/* this rule breaks the bound already: stop
						 * cutting it (the run is cut before it) */
						if (r > first && out->n + work.n >
						    MAX_GROWTH * (base_total + base + 1) + GROWTH_SLACK) {
							over = true;
							break;
						}
					}
					if (over)
						continue;
					for (uint32_t w = work.head; w != NO_PIECE; w = work.next[w]) {
						box_push(out, &work.pool.v[w]);
						ix->boxes = out->v;
						index_add(ix, &work.pool.v[w], (uint32_t)(out->n - 1));
					}
					base++;
					if (out->n > MAX_ELEMS)
						ok = false;
				}
			}
		}
		base_total += base;
		if (ok && r > first && (over || out->n > MAX_GROWTH * base_total + GROWTH_SLACK)) {
			out->n = before;
			*last = r;
			break;
		}
	}
	free(work.pool.v);
	free(work.key);
	free(work.next);
	index_finish(ix);
	if (!ok)
		return false;
	/* sort, then join neighbours that only split a port interval */
	box_sort(out);
	{
		size_t k = 0;

		for (size_t i = 0; i < out->n; i++) {
			struct box *prev = k ? &out->v[k - 1] : NULL;

			if (prev && prev->proto == out->v[i].proto &&
			    box_cmp_iface(prev, &out->v[i]) == 0 &&
			    prev->verdict == out->v[i].verdict &&
			    prev->from == out->v[i].from &&
			    prev->src.plen == out->v[i].src.plen &&
			    memcmp(prev->src.a, out->v[i].src.a, 16) == 0 &&
			    memcmp(&prev->dst, &out->v[i].dst, sizeof(prev->dst)) == 0 &&
			    (uint32_t)prev->hi + 1 == out->v[i].lo) {
				prev->hi = out->v[i].hi;
				continue;
			}
			out->v[k++] = out->v[i];
		}
		out->n = k;
	}
	return true;
}

/*
 * The destinations of a map's elements, one copy of each distinct
 * interval: a map holds few destinations (the groups of its rules) and
 * many elements, and a 33-byte interval per element was a third of
 * generate's peak memory on the Capirca shape (issue 15). @slot is an
 * open-addressing hash table of @cap (a power of two) slots, scratch.
 */
struct dst_intern {
	const struct pc_addr_range **slot;
	size_t cap;
};

static const struct pc_addr_range *dst_intern(struct pc_arena *arena, struct dst_intern *t,
					      const struct pc_addr_range *d)
{
	/* the interval as four 64-bit words and the family, mixed */
	uint64_t h = d->family;
	size_t i;

	h = (h ^ pc_be64_load(d->lo)) * 0x9e3779b97f4a7c15u;
	h = (h ^ pc_be64_load(d->lo + 8)) * 0x9e3779b97f4a7c15u;
	h = (h ^ pc_be64_load(d->hi)) * 0x9e3779b97f4a7c15u;
	h = (h ^ pc_be64_load(d->hi + 8)) * 0x9e3779b97f4a7c15u;
	h ^= h >> 29;
	for (i = (size_t)h & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1))
		if (memcmp(t->slot[i], d, sizeof(*d)) == 0)
			return t->slot[i];
	t->slot[i] = pc_arena_memdup(arena, d, sizeof(*d));
	return t->slot[i];
}

/*
 * The map rule of boxes @b of family @fam, at the place of the run's
 * first rule @first.
 */
static struct pc_rule map_rule(struct pc_arena *arena, const struct boxes *b, unsigned fam,
			       const struct pc_rule *first)
{
	struct pc_map_elem *m = pc_arena_alloc(arena, b->n * sizeof(*m));
	const struct pc_addr_range **dst = NULL;
	struct dst_intern dt = { NULL, 0 };
	const char **iface = NULL;
	struct pc_rule r;

	/* the destination is in the key only when a rule of the run names one */
	for (size_t i = 0; i < b->n && !dst; i++)
		if (!range_is_all(&b->v[i].dst))
			dst = pc_arena_alloc(arena, b->n * sizeof(*dst));
	if (dst) {
		/* at most half full: every element could have its own */
		for (dt.cap = 16; dt.cap < 2 * b->n; dt.cap *= 2)
			;
		dt.slot = xcalloc(dt.cap, sizeof(*dt.slot));
	}
	/*
	 * The interface is in the key when the run's rules name one (all do)
	 * and they name more than one: when every element would hold the same
	 * name, one comparison before the lookup says it, and the key stays
	 * 16 bytes shorter (the kernel's interval lookup costs by the key's
	 * width: 2.3 times the packets per second, bench/README.md).
	 */
	const char *one = b->n ? b->v[0].iface : NULL;

	for (size_t i = 1; i < b->n && one; i++)
		if (strcmp(b->v[i].iface, one) != 0)
			one = NULL;
	if (b->n && b->v[0].iface && !one)
		iface = pc_arena_alloc(arena, b->n * sizeof(*iface));
	for (size_t i = 0; i < b->n; i++) {
		/* the elements of one rule follow each other, mostly with one
		 * destination: the previous one's first */
		if (dst)
			dst[i] = i && memcmp(dst[i - 1], &b->v[i].dst, sizeof(b->v[i].dst)) == 0 ?
				 dst[i - 1] : dst_intern(arena, &dt, &b->v[i].dst);
		if (iface)
			iface[i] = b->v[i].iface;
		m[i].saddr = b->v[i].src;
		m[i].proto = b->v[i].proto;
		m[i].dport.lo = b->v[i].lo;
		m[i].dport.hi = b->v[i].hi;
		m[i].verdict = b->v[i].verdict;
		/* the chain's rule (the run points at the chain's rules) */
		m[i].rule = b->v[i].from;
		m[i].action = b->v[i].from->log || b->v[i].verdict == PC_VERDICT_REJECT;
	}
	memset(&r, 0, sizeof(r));
	r.origin = PC_ORIGIN_POLICY;
	r.loc = first->loc;
	r.verdict = PC_VERDICT_ALLOW;
	r.families = fam;
	r.n_map = b->n;
	r.map = m;
	free(dt.slot);
	r.map_daddr = dst;
	r.map_iface = iface;
	r.iface = one;
	/* the run's one output interface (same_key()), if any */
	r.n_oifaces = first->n_oifaces;
	r.oifaces = first->oifaces;
	return r;
}

/*
 * Folds @n rules (a run, in order) into at most two maps (one per family)
 * in @maps. Returns how many rules of the run went in (the run ends where
 * a rule's boxes would explode), or 0 when none could be folded.
 */
/* Per family, a map of port protocols and one of ICMP (issue 15). */
#define MAX_MAPS 4

static size_t fold_run(struct pc_arena *arena, const struct pc_rule *const *rules, size_t n,
		       size_t min_run, struct pc_rule maps[MAX_MAPS], size_t *n_maps,
		       struct pc_optimize_stats *st)
{
	struct boxes b[2] = { { 0 }, { 0 } };
	size_t cut = n;
	bool ok = true;

	*n_maps = 0;
	/*
	 * The run ends where either family's boxes would explode; after a cut
	 * both families are built again up to it.
	 */
	for (unsigned f = 0; f < 2 && ok; f++) {
		size_t c_f = cut;

		b[f].n = 0;
		ok = build_boxes(rules, 0, &c_f, f ? PC_FAM_IPV6 : PC_FAM_IPV4, &b[f]);
		if (c_f < cut) {
			cut = c_f;
			f = (unsigned)-1;
		}
	}
	if (!ok)
		cut = 0;
	if (cut >= min_run) {
		for (unsigned f = 0; f < 2; f++) {
			/* the ports' map, then the ICMP types' (the key's last
			 * field is one or the other) */
			struct boxes part = { 0 };

			part.v = xmalloc((b[f].n ? b[f].n : 1) * sizeof(*part.v));
			for (int icmp = 0; icmp < 2; icmp++) {
				part.n = 0;
				for (size_t i = 0; i < b[f].n; i++)
					if (is_icmp(b[f].v[i].proto) == icmp)
						part.v[part.n++] = b[f].v[i];
				if (part.n)
					maps[(*n_maps)++] = map_rule(arena, &part,
								     f ? PC_FAM_IPV6 : PC_FAM_IPV4,
								     rules[0]);
			}
			free(part.v);
			if (st)
				st->elements += b[f].n;
		}
		if (st) {
			st->folded_rules += cut;
			st->maps += *n_maps;
		}
	}
	free(b[0].v);
	free(b[1].v);
	return cut;
}

/* Rules deferred past a run at most (bounds the disjointness tests). */
#define MAX_DEFER 16

/*
 * The folded chain as it is made: pointers to the rules it keeps (a rule
 * is 304 bytes, and most of a chain is kept as it is) and to its maps.
 */
struct out_rules {
	const struct pc_rule **v;
	size_t n, cap;
};

static void emit(struct out_rules *o, const struct pc_rule *r)
{
	o->v = xgrow(o->v, &o->cap, o->n + 1, sizeof(*o->v));
	o->v[o->n++] = r;
}

void pc_optimize_chain(struct pc_arena *arena, struct pc_chain *c, bool daddr,
		       struct pc_optimize_stats *st)
{
	pc_optimize_chain_runs(arena, c, daddr, MIN_RUN, st);
}

void pc_optimize_chain_runs(struct pc_arena *arena, struct pc_chain *c, bool daddr,
			    size_t min_run, struct pc_optimize_stats *st)
{
	pc_optimize_chain_keys(arena, c, daddr ? PC_OPT_KEY_DADDR : 0, min_run, st);
}

void pc_optimize_chain_keys(struct pc_arena *arena, struct pc_chain *c, unsigned keys,
			    size_t min_run, struct pc_optimize_stats *st)
{
	const struct pc_rule **run = xcalloc(c->n + 1, sizeof(*run));
	size_t *idx = xcalloc(c->n + 1, sizeof(*idx));
	size_t deferred[MAX_DEFER];
	struct out_rules out = { 0 };
	bool folded = false;

	for (size_t i = 0; i < c->n;) {
		size_t n_run = 0, n_def = 0, k = i, end, j = i, cut = 0, n_maps = 0;
		struct pc_rule maps[MAX_MAPS];

		/*
		 * The run from @i: its plain rules, and the rules that are not
		 * plain but that every later plain rule of the run can be moved
		 * before (optimize_reorder.c has the proof obligation).
		 */
		while (k < c->n) {
			const struct pc_rule *r = &c->rules[k];
			bool moves = true;

			if (pc_optimize_foldable(r, keys) && same_key(r, &c->rules[i])) {
				for (size_t d = 0; d < n_def && moves; d++)
					moves = pc_rules_disjoint(&c->rules[deferred[d]], r);
				if (!moves)
					break;
				run[n_run] = r;
				idx[n_run++] = k++;
			} else if (n_run && r->origin == PC_ORIGIN_POLICY && !r->dispatch &&
				   n_def < MAX_DEFER) {
				deferred[n_def++] = k++;
			} else {
				break;
			}
		}
		while (j < c->n && pc_optimize_foldable(&c->rules[j], keys) &&
		       same_key(&c->rules[j], &c->rules[i]))
			j++;
		if (n_run >= min_run)
			cut = fold_run(arena, run, n_run, min_run, maps, &n_maps, st);
		if (cut >= min_run) {
			/* the maps, then the rules of [i, end) that are not in them,
			 * in their order; after a cut, the next run starts at the
			 * rule that was cut */
			end = cut < n_run ? idx[cut] : idx[n_run - 1] + 1;
			for (size_t m = 0; m < n_maps; m++)
				emit(&out, pc_arena_memdup(arena, &maps[m], sizeof(maps[m])));
			for (size_t r = i, q = 0; r < end; r++) {
				if (q < cut && idx[q] == r) {
					q++;
					continue;
				}
				emit(&out, &c->rules[r]);
			}
			folded = true;
			i = end;
			continue;
		}
		/* no run here: the plain rules stay as they are */
		if (n_run >= min_run && cut && cut < j - i)
			j = i + cut + 1; /* too short before the cut: keep these plain */
		if (j == i)
			j = i + 1;
		for (; i < j; i++)
			emit(&out, &c->rules[i]);
	}
	/* nothing folded: the chain is the same, and keeps its array */
	if (folded) {
		struct pc_rule *v = pc_arena_alloc(arena, (out.n ? out.n : 1) * sizeof(*v));

		for (size_t i = 0; i < out.n; i++)
			v[i] = *out.v[i];
		c->rules = v;
		c->n = out.n;
	}
	free(out.v);
	free(run);
	free(idx);
}

static void optimize(struct pc_ir *ir, struct pc_arena *arena, unsigned keys, bool dispatch,
		     struct pc_optimize_stats *st)
{
	if (st)
		memset(st, 0, sizeof(*st));
	for (unsigned d = 0; d < __PC_DIR_MAX; d++) {
		if (st)
			st->rules_before += ir->chains[d].n;
		if (dispatch)
			pc_optimize_dispatch_chain(arena, &ir->chains[d], keys, st);
		pc_optimize_chain_keys(arena, &ir->chains[d], keys, MIN_RUN, st);
		if (st)
			st->rules_after += ir->chains[d].n;
	}
}

void pc_ir_optimize(struct pc_ir *ir, struct pc_optimize_stats *st)
{
	optimize(ir, pc_ir_arena(ir), PC_OPT_KEYS_ALL, false, st);
}

void pc_ir_optimize_dispatch(struct pc_ir *ir, struct pc_optimize_stats *st)
{
	optimize(ir, pc_ir_arena(ir), PC_OPT_KEYS_ALL, true, st);
}

unsigned pc_optimize_keys(uint32_t caps)
{
	return (caps & PC_CAP_VMAP_DADDR ? PC_OPT_KEY_DADDR : 0) |
	       (caps & PC_CAP_VMAP_IFACE ? PC_OPT_KEY_IFACE : 0) |
	       (caps & PC_CAP_VMAP_ICMP ? PC_OPT_KEY_ICMP : 0) |
	       (caps & PC_CAP_VMAP_ACTION ? PC_OPT_KEY_ACTION : 0);
}

static struct pc_ir *view_in(struct pc_arena *arena, bool spooled, const struct pc_ir *ir,
			     unsigned keys, bool dispatch, struct pc_optimize_stats *st)
{
	struct pc_ir *view = pc_ir_create(arena);

	if (spooled)
		pc_ir_set_spooled(view);
	*view = *ir;
	optimize(view, pc_ir_arena(view), keys, dispatch, st);
	return view;
}

struct pc_ir *pc_ir_optimize_view_keys(const struct pc_ir *ir, unsigned keys, bool dispatch,
				       struct pc_optimize_stats *st)
{
	return view_in(pc_arena_create(), false, ir, keys, dispatch, st);
}

struct pc_ir *pc_ir_optimize_view_spool(const struct pc_ir *ir, unsigned keys, bool dispatch,
					struct pc_optimize_stats *st)
{
	return view_in(pc_arena_create_spool(), true, ir, keys, dispatch, st);
}

struct pc_ir *pc_ir_optimize_view_opts(const struct pc_ir *ir, bool daddr, bool dispatch,
				       struct pc_optimize_stats *st)
{
	return pc_ir_optimize_view_keys(ir, daddr ? PC_OPT_KEY_DADDR : 0, dispatch, st);
}

struct pc_ir *pc_ir_optimize_view_for(const struct pc_ir *ir, bool daddr,
				      struct pc_optimize_stats *st)
{
	return pc_ir_optimize_view_opts(ir, daddr, false, st);
}

struct pc_ir *pc_ir_optimize_view(const struct pc_ir *ir, struct pc_optimize_stats *st)
{
	return pc_ir_optimize_view_keys(ir, PC_OPT_KEYS_ALL, false, st);
}
