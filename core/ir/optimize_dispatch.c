/* SPDX-License-Identifier: MIT */
/*
 * The dispatch (issue 15): a packet path whose length does not grow with
 * the policy.
 *
 * Folding runs into verdict maps leaves every rule that cannot be in a map
 * (log, limit, reject) on the path of every packet, and such rules break
 * the runs between them. A region of consecutive policy rules that all
 * name port protocols (tcp, udp, sctp, dccp, with or without ports) is
 * replaced by one dispatch on (family, protocol, destination port):
 *
 * - per family and protocol, the ports the region's rules name cut
 *   0-65535 into elementary intervals: every rule holds all or none of
 *   each;
 * - the rules that hold an interval, in policy order, are its class; two
 *   intervals with the same rules share one class chain;
 * - in a class chain a rule keeps all its matches but the ports, which the
 *   dispatch has decided already: the rule holds every port of the class
 *   (that is what being in the class means), so it matches a packet of the
 *   class exactly when the whole rule does. Without the ports, the runs
 *   inside a class fold into verdict maps of one box per source and
 *   destination.
 *
 * Why it is exact: a packet of a protocol with ports lies in exactly one
 * elementary interval of its family and protocol, and the rules of the
 * region that can match it are exactly those of that interval's class, in
 * the same order (restricted to its family, which is all they can match
 * of it); the first of them that matches decides, as in the region. A
 * packet that no rule of its class decides (or of a protocol no rule of
 * the region names, which no rule of the region can match) goes on to the
 * rule after the region, as it did. The differential test
 * (tests/unit/test_optimize.c) checks verdict and deciding line against
 * the unoptimised IR.
 *
 * Like the verdict maps, the dispatch reads the port (`th dport`), which
 * a non-first IP fragment does not carry: such a fragment meets no class,
 * where a rule without ports (`proto tcp`) would have matched it. The
 * evaluator has no fragments; the folding has always had this edge.
 *
 * Rules without ports land in every class of their protocol. The
 * duplication is bounded: a region whose classes would hold more than
 * MAX_DUP times its rules (plus MAX_DUP_SLACK), in either family, keeps
 * today's lowering.
 */
#include <stdlib.h>
#include <string.h>

#include "ir/optimize.h"
#include "ir/optimize_internal.h"
#include "common/util.h"

/*
 * A region shorter than this is not worth a dispatch and its chains: the
 * run length of the folding (MIN_RUN), below which rules stay one per
 * line. The real-world shape's stretches of service rules between its
 * ESP and ICMP rules are 9 and 10 rules long.
 */
#define MIN_REGION 8
/*
 * The bound on duplication: the class chains of a region hold at most
 * this many times its rules, plus MAX_DUP_SLACK. On the Capirca shape
 * (2,000 terms, 117 groups) the classes hold about 1.6 times the rules;
 * 4 leaves room for some rules without ports and stops a policy of many
 * port-less rules between many single-port rules (n x m copies).
 */
#define MAX_DUP 4
#define MAX_DUP_SLACK 256
/*
 * Inside a class chain a run folds from this many rules on (8 outside):
 * the class chains are read through the dispatch anyway, and their runs
 * are short, cut by the logs, limits and rejects of the class.
 */
#define MIN_CLASS_RUN 4

static const uint8_t protos[] = { PC_PROTO_TCP, PC_PROTO_UDP, PC_PROTO_SCTP, PC_PROTO_DCCP };
#define N_PROTOS (sizeof(protos) / sizeof(protos[0]))
/*
 * The dispatch also decides the family: a slot is (family, protocol),
 * IPv4 slots first, and a class chain holds one family's rules, so that
 * an IPv4 packet does not walk the IPv6 half of every rule.
 */
#define N_SLOTS (2 * N_PROTOS)

static unsigned slot_family(unsigned slot)
{
	return slot < N_PROTOS ? PC_FAM_IPV4 : PC_FAM_IPV6;
}

static bool dispatchable(const struct pc_rule *r)
{
	/* a bucket per source is one meter set per policy rule: copies in
	 * several class chains would each get their own */
	if (r->origin != PC_ORIGIN_POLICY || r->n_map || r->dispatch || !r->n_l4 ||
	    r->limit_per_source)
		return false;
	for (size_t i = 0; i < r->n_l4; i++)
		if (!pc_proto_has_ports(r->l4[i].proto))
			return false;
	return true;
}

struct ivl {
	unsigned slot;          /* family and index into protos[] */
	uint16_t lo, hi;
	uint32_t *rules;        /* region rule indices, ascending */
	size_t n, cap;
	size_t cls;             /* class, (size_t)-1 for none */
};

/*
 * The interval list of one slot from the region's port boundaries. The
 * boundaries (0-65536) are bits of a map, read in order: a sort of one
 * pair per port interval of every rule cost more than the rest of the
 * dispatch's own work.
 */
#define N_BOUND_WORDS (65537 / 64 + 1)

static size_t cut_intervals(const struct pc_rule *rules, size_t n, unsigned slot,
			    struct ivl **out, size_t *n_out, size_t *cap_out)
{
	unsigned pi = slot % N_PROTOS;
	uint64_t bound[N_BOUND_WORDS];
	size_t first = *n_out;
	uint32_t prev = 0;
	bool used = false;

	memset(bound, 0, sizeof(bound));
	for (size_t r = 0; r < n; r++)
		for (size_t k = 0; k < rules[r].n_l4; k++) {
			const struct pc_l4 *l = &rules[r].l4[k];

			if (l->proto != protos[pi] || !(rules[r].families & slot_family(slot)))
				continue;
			used = true;
			for (size_t j = 0; j < l->dports.n; j++) {
				uint32_t lo = l->dports.v[j].lo, end = (uint32_t)l->dports.v[j].hi + 1;

				bound[lo / 64] |= 1ull << lo % 64;
				bound[end / 64] |= 1ull << end % 64;
			}
		}
	if (!used)
		return 0;
	bound[0] |= 1;
	bound[65536 / 64] |= 1ull << 65536 % 64;
	/* each boundary after the first ends the interval from the one before */
	for (uint32_t w = 0; w < N_BOUND_WORDS; w++)
		for (uint64_t bits = bound[w]; bits; bits &= bits - 1) {
			uint32_t at = w * 64 + (uint32_t)__builtin_ctzll(bits);
			struct ivl *v;

			if (at == 0)
				continue;
			*out = xgrow(*out, cap_out, *n_out + 1, sizeof(**out));
			v = &(*out)[(*n_out)++];
			memset(v, 0, sizeof(*v));
			v->slot = slot;
			v->lo = (uint16_t)prev;
			v->hi = (uint16_t)(at - 1);
			prev = at;
		}
	return *n_out - first;
}

/* The first interval of @v[0..n) (one protocol, ascending) that ends at or after @port. */
static size_t ivl_find(const struct ivl *v, size_t n, uint16_t port)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;

		if (v[m].hi < port)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

static void ivl_add(struct ivl *v, uint32_t r)
{
	if (v->n && v->rules[v->n - 1] == r)
		return;         /* the rule names the protocol twice */
	v->rules = xgrow(v->rules, &v->cap, v->n + 1, sizeof(*v->rules));
	v->rules[v->n++] = r;
}

static int ivl_rules_cmp(const void *pa, const void *pb)
{
	const struct ivl *a = *(const struct ivl *const *)pa, *b = *(const struct ivl *const *)pb;
	unsigned fa = slot_family(a->slot), fb = slot_family(b->slot);

	if (fa != fb)
		return fa < fb ? -1 : 1;
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	return a->n ? memcmp(a->rules, b->rules, a->n * sizeof(*a->rules)) : 0;
}

/*
 * The protocol list of a class chain's rule: the protocols of @mask (bits
 * of protos[]) in the IR's order (by number), any port. Every rule of
 * every class of a dispatch with the same protocols shares one list.
 */
static struct pc_l4 *class_l4(struct pc_arena *arena, struct pc_l4 **lists, unsigned mask,
			      size_t *n)
{
	static const uint8_t by_number[] = { PC_PROTO_TCP, PC_PROTO_UDP, PC_PROTO_DCCP,
					     PC_PROTO_SCTP };
	struct pc_l4 *l4;

	*n = 0;
	for (unsigned pi = 0; pi < N_PROTOS; pi++)
		*n += (mask >> pi) & 1;
	if (lists[mask])
		return lists[mask];
	l4 = pc_arena_alloc(arena, (*n ? *n : 1) * sizeof(*l4));
	*n = 0;
	for (unsigned b = 0; b < N_PROTOS; b++)
		for (unsigned pi = 0; pi < N_PROTOS; pi++)
			if (protos[pi] == by_number[b] && (mask >> pi & 1))
				l4[(*n)++].proto = by_number[b];
	lists[mask] = l4;
	return l4;
}

/*
 * The class chain of rules @list of the region (@n of them), for packets
 * of family @fam and the protocols @proto_mask (bits of protos[]): the
 * rules of that family without their ports, then folded. Only the folded
 * chain goes into @arena.
 */
static void class_chain(struct pc_arena *arena, const struct pc_rule *region,
			const uint32_t *list, size_t n, unsigned fam, unsigned proto_mask,
			unsigned keys, struct pc_l4 **lists, struct pc_chain *out,
			struct pc_optimize_stats *st)
{
	struct pc_rule *rules = xmalloc((n ? n : 1) * sizeof(*rules));

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct pc_rule *r = &region[list[i]];
		unsigned mask = 0;

		rules[i] = *r;
		rules[i].families = fam;
		/* the protocols of the class that the rule names (all of them,
		 * as it holds the class's every port), any port */
		for (size_t j = 0; j < r->n_l4; j++)
			for (unsigned pi = 0; pi < N_PROTOS; pi++)
				if (protos[pi] == r->l4[j].proto && (proto_mask & 1u << pi))
					mask |= 1u << pi;
		rules[i].l4 = class_l4(arena, lists, mask, &rules[i].n_l4);
	}
	out->dir = PC_DIR_IN;
	out->rules = rules;
	out->n = n;
	pc_optimize_chain_keys(arena, out, keys, MIN_CLASS_RUN, st);
	/*
	 * A map element names its rule (its location, comment and action):
	 * the region's own, as the copies in @rules are freed below.
	 */
	for (size_t k = 0; out->rules != rules && k < out->n; k++) {
		struct pc_map_elem *m = (struct pc_map_elem *)out->rules[k].map;

		for (size_t e = 0; e < out->rules[k].n_map; e++) {
			uintptr_t a = (uintptr_t)m[e].rule;

			if (a >= (uintptr_t)rules && a < (uintptr_t)(rules + n))
				m[e].rule = &region[list[(a - (uintptr_t)rules) / sizeof(*rules)]];
		}
	}
	if (out->rules == rules)
		out->rules = pc_arena_memdup(arena, rules, (n ? n : 1) * sizeof(*rules));
	free(rules);
	if (st) {
		st->class_rules += out->n;
		if (out->n > st->longest_class)
			st->longest_class = out->n;
	}
}

/*
 * The dispatch of region @rules[0..n), in *@d, or false when its classes
 * would break the bound on duplication.
 */
static bool build_dispatch(struct pc_arena *arena, const struct pc_rule *rules, size_t n,
			   unsigned keys, struct pc_dispatch *d, struct pc_optimize_stats *st)
{
	struct ivl *v = NULL, **order = NULL;
	size_t nv = 0, cap = 0, start[N_SLOTS + 1], total[2] = { 0, 0 }, n_cls = 0;
	size_t n_fam[2] = { 0, 0 };
	struct pc_dispatch_elem *elems;
	struct pc_chain *classes;
	unsigned *masks, *fams;
	size_t n_elems = 0;
	bool ok = true;

	for (unsigned slot = 0; slot < N_SLOTS; slot++) {
		start[slot] = nv;
		cut_intervals(rules, n, slot, &v, &nv, &cap);
	}
	start[N_SLOTS] = nv;
	/* each rule into the intervals its ports hold, in policy order */
	for (size_t r = 0; r < n; r++)
		for (size_t k = 0; k < 2 * rules[r].n_l4; k++) {
			const struct pc_l4 *l = &rules[r].l4[k / 2];
			unsigned slot = k % 2 ? N_PROTOS : 0;
			struct ivl *pv;
			size_t pn;

			if (!(rules[r].families & slot_family(slot)))
				continue;
			while (protos[slot % N_PROTOS] != l->proto)
				slot++;
			pv = v + start[slot];
			pn = start[slot + 1] - start[slot];
			if (!l->dports.n) {
				for (size_t i = 0; i < pn; i++)
					ivl_add(&pv[i], (uint32_t)r);
				continue;
			}
			for (size_t j = 0; j < l->dports.n; j++)
				for (size_t i = ivl_find(pv, pn, l->dports.v[j].lo);
				     i < pn && pv[i].lo <= l->dports.v[j].hi; i++)
					ivl_add(&pv[i], (uint32_t)r);
		}
	/* classes: the distinct non-empty rule lists */
	order = xcalloc(nv + 1, sizeof(*order));
	for (size_t i = 0; i < nv; i++) {
		order[i] = &v[i];
		v[i].cls = (size_t)-1;
	}
	qsort(order, nv, sizeof(*order), ivl_rules_cmp);
	for (size_t i = 0; i < nv; i++) {
		if (!order[i]->n)
			continue;
		if (i && order[i - 1]->n && ivl_rules_cmp(&order[i - 1], &order[i]) == 0) {
			order[i]->cls = order[i - 1]->cls;
			continue;
		}
		order[i]->cls = n_cls++;
		total[order[i]->slot >= N_PROTOS] += order[i]->n;
	}
	/* per family: a rule of both families is in the classes of each,
	 * which is one nft rule per family already, not a copy */
	for (size_t r = 0; r < n; r++) {
		n_fam[0] += (rules[r].families & PC_FAM_IPV4) != 0;
		n_fam[1] += (rules[r].families & PC_FAM_IPV6) != 0;
	}
	if (total[0] > MAX_DUP * n_fam[0] + MAX_DUP_SLACK ||
	    total[1] > MAX_DUP * n_fam[1] + MAX_DUP_SLACK) {
		ok = false;
		goto out;
	}
	/* the classes in the order their first interval comes (stable output) */
	{
		size_t *renum = xcalloc(n_cls + 1, sizeof(*renum)), next = 0;

		for (size_t i = 0; i < n_cls; i++)
			renum[i] = (size_t)-1;
		for (size_t i = 0; i < nv; i++)
			if (v[i].cls != (size_t)-1 && renum[v[i].cls] == (size_t)-1)
				renum[v[i].cls] = next++;
		for (size_t i = 0; i < nv; i++)
			if (v[i].cls != (size_t)-1)
				v[i].cls = renum[v[i].cls];
		free(renum);
	}
	masks = xcalloc(n_cls + 1, sizeof(*masks));
	fams = xcalloc(n_cls + 1, sizeof(*fams));
	elems = pc_arena_alloc(arena, (nv + 1) * sizeof(*elems));
	for (size_t i = 0; i < nv; i++) {
		struct pc_dispatch_elem *prev = n_elems ? &elems[n_elems - 1] : NULL;

		if (v[i].cls == (size_t)-1)
			continue;
		masks[v[i].cls] |= 1u << v[i].slot % N_PROTOS;
		fams[v[i].cls] = slot_family(v[i].slot);
		if (prev && prev->family == slot_family(v[i].slot) &&
		    prev->proto == protos[v[i].slot % N_PROTOS] && prev->cls == v[i].cls &&
		    (uint32_t)prev->dport.hi + 1 == v[i].lo) {
			prev->dport.hi = v[i].hi;
			continue;
		}
		elems[n_elems].family = (uint8_t)slot_family(v[i].slot);
		elems[n_elems].proto = protos[v[i].slot % N_PROTOS];
		elems[n_elems].dport.lo = v[i].lo;
		elems[n_elems].dport.hi = v[i].hi;
		elems[n_elems++].cls = v[i].cls;
	}
	classes = pc_arena_alloc(arena, (n_cls + 1) * sizeof(*classes));
	{
		bool *done = xcalloc(n_cls + 1, sizeof(*done));
		struct pc_l4 *lists[1u << N_PROTOS] = { 0 };

		for (size_t i = 0; i < nv; i++) {
			size_t c = v[i].cls;

			if (c == (size_t)-1 || done[c])
				continue;
			done[c] = true;
			class_chain(arena, rules, v[i].rules, v[i].n, fams[c], masks[c], keys,
				    lists, &classes[c], st);
		}
		free(done);
	}
	free(masks);
	free(fams);
	d->n = n_elems;
	d->v = elems;
	d->n_classes = n_cls;
	d->classes = classes;
	if (st) {
		st->dispatches++;
		st->classes += n_cls;
		st->dispatch_elements += n_elems;
		st->dispatched_rules += n;
	}
out:
	for (size_t i = 0; i < nv; i++)
		free(v[i].rules);
	free(v);
	free(order);
	return ok;
}

/*
 * Builds the dispatch of a region into *@d when it makes the path shorter:
 * a packet meets the dispatch and at most the longest class chain, where
 * without it meets every rule of the folded region (the benchmark's shape,
 * whose runs fold whole into two maps, keeps them).
 *
 * The folded region is at least as long as its rules that cannot fold
 * (each stays one rule, whatever folds around it): when those alone are
 * more than the dispatch's path, the dispatch is shorter, and the region
 * is not folded a second time only to count its rules (on the Capirca
 * shape, 2,000 terms, that fold was a fifth of generate's instructions).
 */
static bool worth_it(struct pc_arena *arena, const struct pc_rule *rules, size_t n,
		     unsigned keys, struct pc_dispatch *d, struct pc_optimize_stats *st)
{
	struct pc_optimize_stats mine;
	size_t plain = 0;

	memset(&mine, 0, sizeof(mine));
	if (!build_dispatch(arena, rules, n, keys, d, &mine))
		return false;
	for (size_t i = 0; i < n; i++)
		plain += !pc_optimize_foldable(&rules[i], keys);
	if (1 + mine.longest_class >= plain) {
		/* too close to tell: fold the region as without the dispatch,
		 * to count its rules; its rules and maps go with their own
		 * arena (a third of the peak memory of generate on the Capirca
		 * shape otherwise, bench/README.md) */
		struct pc_arena *scratch = pc_arena_create();
		struct pc_chain folded;
		size_t folded_n;

		memset(&folded, 0, sizeof(folded));
		folded.rules = pc_arena_memdup(scratch, rules, n * sizeof(*rules));
		folded.n = n;
		pc_optimize_chain_keys(scratch, &folded, keys, PC_OPT_MIN_RUN, NULL);
		folded_n = folded.n;
		pc_arena_destroy(scratch);
		if (1 + mine.longest_class >= folded_n)
			return false;
	}
	if (st) {
		st->dispatches += mine.dispatches;
		st->dispatched_rules += mine.dispatched_rules;
		st->classes += mine.classes;
		st->class_rules += mine.class_rules;
		st->dispatch_elements += mine.dispatch_elements;
		st->folded_rules += mine.folded_rules;
		st->maps += mine.maps;
		st->elements += mine.elements;
		if (mine.longest_class > st->longest_class)
			st->longest_class = mine.longest_class;
	}
	return true;
}

void pc_optimize_dispatch_chain(struct pc_arena *arena, struct pc_chain *c, unsigned keys,
				struct pc_optimize_stats *st)
{
	/* the new chain as pointers to its rules: most are @c's own, and a
	 * chain without a dispatch keeps its array */
	const struct pc_rule **out = xcalloc(c->n + 1, sizeof(*out));
	size_t n = 0;
	bool changed = false;

	for (size_t i = 0; i < c->n;) {
		size_t j = i;
		struct pc_dispatch *d;
		struct pc_rule *r;

		while (j < c->n && dispatchable(&c->rules[j]))
			j++;
		if (j - i < MIN_REGION) {
			out[n++] = &c->rules[i++];
			continue;
		}
		d = pc_arena_alloc(arena, sizeof(*d));
		if (!worth_it(arena, &c->rules[i], j - i, keys, d, st)) {
			/* today's lowering for this region */
			while (i < j)
				out[n++] = &c->rules[i++];
			continue;
		}
		r = pc_arena_alloc(arena, sizeof(*r));
		r->origin = PC_ORIGIN_POLICY;
		r->loc = c->rules[i].loc;
		r->verdict = PC_VERDICT_ALLOW;
		for (size_t k = i; k < j; k++)
			r->families |= c->rules[k].families;
		r->dispatch = d;
		out[n++] = r;
		changed = true;
		i = j;
	}
	if (changed) {
		struct pc_rule *v = pc_arena_alloc(arena, (n ? n : 1) * sizeof(*v));

		for (size_t i = 0; i < n; i++)
			v[i] = *out[i];
		c->rules = v;
		c->n = n;
	}
	free(out);
}
