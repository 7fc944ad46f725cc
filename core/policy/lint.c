/* SPDX-License-Identifier: MIT */
/*
 * Shadowing: a policy rule that can never match because the rules before it
 * (one of them, or their union) already decide every packet it matches.
 *
 * Rules without addresses, interface, rate limit or state ("wildcard"
 * rules) are folded into per-family bitmaps of covered ports and types, so
 * the common case is linear. Earlier rules with addresses or an interface
 * are grouped into classes of rules with the same families, interface and
 * addresses (a policy's rules use a few groups again and again), and a
 * class keeps the union of its rules' ports and types: a rule is compared
 * with the classes whose addresses may hold its own, not with every earlier
 * rule, so the work grows with the rules and the distinct address sets,
 * not with their product. A budget still bounds the worst case.
 */
#include "policy/lint_internal.h"

int tidx(unsigned proto)
{
	switch (proto) {
	case PC_PROTO_TCP: return T_TCP;
	case PC_PROTO_UDP: return T_UDP;
	case PC_PROTO_DCCP: return T_DCCP;
	case PC_PROTO_SCTP: return T_SCTP;
	default: return -1;
	}
}

bool lint_bit(const uint64_t *b, unsigned i)
{
	return b[i / 64] >> (i % 64) & 1;
}

void lint_set_bits(uint64_t *b, unsigned lo, unsigned hi)
{
	for (unsigned i = lo; i <= hi;) {
		if (i % 64 == 0 && hi - i >= 63) {
			b[i / 64] = ~(uint64_t)0;
			i += 64;
		} else {
			b[i / 64] |= (uint64_t)1 << (i % 64);
			i++;
		}
	}
}

static bool is_wildcard(const struct pc_rule *r)
{
	return !r->iface && !r->n_oifaces && r->saddr.n == 0 && r->daddr.n == 0 &&
	       !pc_addr_set_is_dynamic(&r->saddr) && !pc_addr_set_is_dynamic(&r->daddr) &&
	       !r->saddr_not && !r->daddr_not && !r->sports.n;
}

static bool can_cover(const struct pc_rule *r)
{
	/* what a dynamic set holds is known only at run time */
	return r->limit.rate == 0 && r->ct_state == 0 &&
	       !pc_addr_set_is_dynamic(&r->saddr) && !pc_addr_set_is_dynamic(&r->daddr) &&
	       !r->saddr_not && !r->daddr_not && !r->iface_not &&
	       /* a source port narrows the rule: it covers less than its
		* other matches say (issue 14) */
	       !r->sports.n;
}

unsigned fam_bit(int f)
{
	return f ? PC_FAM_IPV6 : PC_FAM_IPV4;
}

static void add_wildcard(struct cover *c, const struct pc_rule *r)
{
	for (int f = 0; f < 2; f++) {
		struct famcov *fc = &c->fam[f];

		if (!(r->families & fam_bit(f)))
			continue;
		if (r->n_l4 == 0) {
			fc->all = true;
			continue;
		}
		for (size_t i = 0; i < r->n_l4; i++) {
			const struct pc_l4 *l = &r->l4[i];
			int t = tidx(l->proto);
			bool icmp = l->proto == (f ? PC_PROTO_ICMPV6 : PC_PROTO_ICMP);

			if ((t >= 0 && l->dports.n == 0) || (icmp && l->n_types == 0) ||
			    (t < 0 && !icmp)) {
				fc->proto_all[l->proto] = true;
				continue;
			}
			if (t >= 0)
				for (size_t j = 0; j < l->dports.n; j++)
					lint_set_bits(fc->ports[t], l->dports.v[j].lo, l->dports.v[j].hi);
			else
				for (size_t j = 0; j < l->n_types; j++)
					lint_set_bits(fc->types, l->types[j], l->types[j]);
		}
	}
}

void fam_range(const struct pc_addr_set *set, unsigned fam, size_t *lo, size_t *hi)
{
	size_t a = 0, b = set->n;

	/* the first IPv6 prefix: the IPv4 ones come first (ir.h) */
	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (set->v[mid].family == PC_FAM_IPV4)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = fam == PC_FAM_IPV4 ? 0 : a;
	*hi = fam == PC_FAM_IPV4 ? a : set->n;
}

/* @a's address before or at @b's (same family), as the sort orders them. */
static bool addr_le(const struct pc_addr *a, const struct pc_addr *b)
{
	return memcmp(a->a, b->a, sizeof(a->a)) <= 0;
}

/*
 * Does every prefix of @inner (of family @fam) lie in some prefix of @outer?
 * Both are sorted and no prefix of either holds another (ir.h), so their
 * prefixes are disjoint, and the only one of @outer that can hold a
 * prefix is the last one starting at or before it: a binary search each,
 * not a walk of @outer (a list of a million addresses is the outer set of
 * every later rule compared with it).
 */
static bool addrs_cover_search(const struct pc_addr_set *outer,
			       const struct pc_addr_set *inner, unsigned fam)
{
	size_t olo, ohi, ilo, ihi;

	if (outer->n == 0)
		return true;
	fam_range(outer, fam, &olo, &ohi);
	fam_range(inner, fam, &ilo, &ihi);
	/* inner is "any" for this family: only the family's /0 holds it, and
	 * it would be the family's only prefix */
	if (ilo == ihi)
		return olo < ohi && outer->v[olo].plen == 0;
	/* rules of the same group share its list (resolve interns them):
	 * each of its prefixes is in it, without a search */
	if (outer->v == inner->v && outer->n == inner->n)
		return true;
	for (size_t i = ilo; i < ihi; i++) {
		const struct pc_addr *in = &inner->v[i];
		size_t a = olo, b = ohi;

		while (a < b) {
			size_t mid = a + (b - a) / 2;

			if (addr_le(&outer->v[mid], in))
				a = mid + 1;
			else
				b = mid;
		}
		if (a == olo || !pc_prefix_contains(&outer->v[a - 1], in))
			return false;
	}
	return true;
}

/* The same, remembered in @c (the answers of one policy's lists repeat). */
static bool addrs_cover(struct cover *c, const struct pc_addr_set *outer,
			const struct pc_addr_set *inner, unsigned fam)
{
	uint64_t h;
	struct cover_memo *m;

	if (outer->n == 0)
		return true;
	h = ((uint64_t)(uintptr_t)outer->v * 0x9e3779b97f4a7c15ull) ^
	    ((uint64_t)(uintptr_t)inner->v * 0xc2b2ae3d27d4eb4full) ^ fam;
	m = &c->memo[(h >> 32 ^ h) % COVER_MEMO];
	if (m->valid && m->outer == outer->v && m->inner == inner->v &&
	    m->n_outer == outer->n && m->n_inner == inner->n && m->fam == fam)
		return m->result;
	m->outer = outer->v;
	m->inner = inner->v;
	m->n_outer = outer->n;
	m->n_inner = inner->n;
	m->fam = fam;
	m->valid = true;
	m->result = addrs_cover_search(outer, inner, fam);
	return m->result;
}

/*
 * The narrowest prefix holding every prefix of @set, per family (out[0]
 * IPv4, out[1] IPv6; the family's /0 when it has none). The prefixes of a
 * family are sorted and disjoint (ir.h): what they all share is what the
 * first and the last share, as no prefix between them can be shorter
 * than that without holding one of them. Two prefixes per family, not a
 * walk of a million-entry list for every rule and class that uses it.
 */
static void bound_of(const struct pc_addr_set *set, struct pc_addr out[2])
{
	for (int f = 0; f < 2; f++) {
		struct pc_addr *o = &out[f];
		const struct pc_addr *first, *last;
		unsigned common = 0, max;
		size_t lo, hi;

		memset(o, 0, sizeof(*o));
		o->family = (uint8_t)fam_bit(f);
		fam_range(set, fam_bit(f), &lo, &hi);
		if (lo == hi)
			continue;
		first = &set->v[lo];
		last = &set->v[hi - 1];
		max = first->plen < last->plen ? first->plen : last->plen;
		/* whole equal bytes first */
		while (common + 8 <= max && first->a[common / 8] == last->a[common / 8])
			common += 8;
		while (common < max &&
		       ((first->a[common / 8] ^ last->a[common / 8]) >> (7 - common % 8) & 1) == 0)
			common++;
		*o = *first;
		o->plen = (uint8_t)common;
		pc_prefix_mask(o);
	}
}

void bounds_of(const struct pc_rule *r, struct bounds *b)
{
	bound_of(&r->saddr, b->s);
	bound_of(&r->daddr, b->d);
}

/* The interface list of a rule: @one alone when @n <= 1, else @v. */
const char *iface_at(const char *one, size_t n, const char *const *v, size_t i)
{
	return n > 1 ? v[i] : one ? one : n ? v[0] : NULL;
}

/*
 * Does the interface list of an earlier rule (@e...) cover that of @r...?
 * (no list: any interface). By name, as written: "eth*" is not taken to
 * cover "eth0" (a missed warning, never a wrong one).
 */
static bool ifaces_cover(const char *e1, size_t en, const char *const *ev,
			 const char *r1, size_t rn, const char *const *rv)
{
	size_t ecount = en > 1 ? en : (e1 || en) ? 1 : 0;
	size_t rcount = rn > 1 ? rn : (r1 || rn) ? 1 : 0;

	if (!ecount)
		return true;
	if (!rcount)
		return false;
	for (size_t i = 0; i < rcount; i++) {
		const char *name = iface_at(r1, rn, rv, i);
		bool found = false;

		for (size_t j = 0; j < ecount && !found; j++)
			found = strcmp(iface_at(e1, en, ev, j), name) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* Does @e match every packet of family @f that @r matches, ignoring l4? */
static bool covers_outside_l4(struct cover *c, const struct pc_rule *e,
			      const struct pc_rule *r, int f)
{
	unsigned fam = fam_bit(f);

	if (!(e->families & fam))
		return false;
	/* a negated match of @r covers what lies outside its list: only an
	 * earlier rule without that match holds all of it */
	if ((r->saddr_not && e->saddr.n) || (r->daddr_not && e->daddr.n) ||
	    (r->iface_not && e->iface))
		return false;
	if (!ifaces_cover(e->iface, e->n_ifaces, e->ifaces,
			  r->iface, r->n_ifaces, r->ifaces) ||
	    !ifaces_cover(NULL, e->n_oifaces, e->oifaces, NULL, r->n_oifaces, r->oifaces))
		return false;
	return addrs_cover(c, &e->saddr, &r->saddr, fam) &&
	       addrs_cover(c, &e->daddr, &r->daddr, fam);
}

static const struct pc_l4 *find_l4(const struct pc_rule *e, unsigned proto)
{
	for (size_t i = 0; i < e->n_l4; i++)
		if (e->l4[i].proto == proto)
			return &e->l4[i];
	return NULL;
}

/* Is port @p (or ICMP type) of @proto covered by pairwise rule @e? */
static bool l4_has(const struct pc_rule *e, unsigned proto, int value)
{
	const struct pc_l4 *l;

	if (e->n_l4 == 0)
		return true;
	l = find_l4(e, proto);
	if (!l)
		return false;
	if (value < 0)
		return pc_proto_has_ports(proto) ? l->dports.n == 0 :
		       (proto == PC_PROTO_ICMP || proto == PC_PROTO_ICMPV6) ? l->n_types == 0 : true;
	if (pc_proto_has_ports(proto))
		return pc_port_set_contains(&l->dports, (uint16_t)value);
	if (proto == PC_PROTO_ICMP || proto == PC_PROTO_ICMPV6) {
		if (l->n_types == 0)
			return true;
		for (size_t i = 0; i < l->n_types; i++)
			if (l->types[i] == value)
				return true;
		return false;
	}
	return true;
}

/* Do @e's protocols, ports and types hold all of @r's? */
static bool l4_covers(const struct pc_rule *e, const struct pc_rule *r)
{
	bool ok = true;

	if (e->n_l4 == 0)
		return true;
	if (r->n_l4 == 0)
		return false;
	for (size_t k = 0; k < r->n_l4 && ok; k++) {
		const struct pc_l4 *l = &r->l4[k];
		const struct pc_l4 *el = find_l4(e, l->proto);

		if (!el) {
			ok = false;
		} else if (pc_proto_has_ports(l->proto)) {
			if (el->dports.n == 0)
				continue;
			if (l->dports.n == 0) {
				ok = false;
				continue;
			}
			/* each interval inside one of e's (merged) intervals */
			for (size_t j = 0; j < l->dports.n && ok; j++) {
				bool in = false;

				for (size_t m = 0; m < el->dports.n && !in; m++)
					in = el->dports.v[m].lo <= l->dports.v[j].lo &&
					     l->dports.v[j].hi <= el->dports.v[m].hi;
				ok = in;
			}
		} else if (el->n_types) {
			if (l->n_types == 0)
				ok = false;
			for (size_t j = 0; j < l->n_types && ok; j++)
				ok = l4_has(e, l->proto, l->types[j]);
		}
	}
	return ok;
}

/*
 * Do the earlier rules (the wildcard bitmaps and the classes) together
 * match every packet @r matches? Leaves in c->cand the classes of @r's
 * first family that match all of @r's addresses of that family: one rule
 * alone can only cover @r from one of them.
 */
static bool covered(struct cover *c, const struct pc_rule *r)
{
	struct klass **ps = NULL;
	size_t cap = 0;
	bool ok = true;
	struct bounds rb;
	uint64_t rsig = l4_sig(r);

	bounds_of(r, &rb);
	c->n_cand[0] = c->n_cand[1] = 0;

	for (int f = 0; f < 2; f++) {
		const struct famcov *fc = &c->fam[f];
		size_t np = 0;

		if (!(r->families & fam_bit(f)))
			continue;
		/*
		 * Only classes whose bounds are ancestors of ours (or ours) can
		 * cover: those are looked up by their two bounds, at the prefix
		 * lengths where some class has one.
		 */
		for (int sl = rb.s[f].plen; sl >= 0; sl--) {
			struct pc_addr sa = rb.s[f];

			if (!plen_present(c, f, 0, (unsigned)sl))
				continue;
			sa.plen = (uint8_t)sl;
			pc_prefix_mask(&sa);
			for (int dl = rb.d[f].plen; dl >= 0; dl--) {
				struct pc_addr da = rb.d[f];
				const struct bound_entry *be;

				if (!plen_present(c, f, 1, (unsigned)dl))
					continue;
				da.plen = (uint8_t)dl;
				pc_prefix_mask(&da);
				c->work++;
				be = bound_find(c, &sa, &da, false);
				if (!be)
					continue;
				if (c->budget < be->n)
					break;
				c->budget -= be->n;
				c->work += be->n;
				for (size_t j = 0; j < be->n; j++) {
					struct klass *k = c->cls[be->v[j]];

					if (!(k->sig & rsig) || !covers_outside_l4(c, k->rep, r, f))
						continue;
					ps = xgrow(ps, &cap, np + 1, sizeof(*ps));
					ps[np++] = k;
					{
						c->cand[f] = xgrow(c->cand[f], &c->cap_cand[f],
								   c->n_cand[f] + 1, sizeof(*c->cand[f]));
						c->cand[f][c->n_cand[f]++] = k;
					}
				}
			}
		}
		if (!ok || fc->all)
			continue;
		for (size_t i = 0; i < np; i++)
			if (ps[i]->any_l4)
				goto next_family;
		if (r->n_l4 == 0) {
			ok = false;
			continue;
		}
		for (size_t i = 0; i < r->n_l4 && ok; i++) {
			const struct pc_l4 *l = &r->l4[i];
			bool icmp = l->proto == PC_PROTO_ICMP || l->proto == PC_PROTO_ICMPV6;

			if (icmp && l->proto != (f ? PC_PROTO_ICMPV6 : PC_PROTO_ICMP))
				continue; /* never matches in this family */
			if (value_covered(fc, ps, np, l->proto, f, -1))
				continue;
			if (pc_proto_has_ports(l->proto) && l->dports.n) {
				for (size_t j = 0; j < l->dports.n && ok; j++)
					ok = ports_covered(c, fc, ps, np, l->proto, l->dports.v[j].lo,
							   l->dports.v[j].hi);
			} else if (icmp && l->n_types) {
				for (size_t j = 0; j < l->n_types && ok; j++)
					ok = value_covered(fc, ps, np, l->proto, f, l->types[j]);
			} else {
				ok = false;
			}
		}
next_family:;
	}
	free(ps);
	return ok;
}

/*
 * The rules of the classes c->cand[@f] that single_cover() tries for @r:
 * their wide rules, and with @by_port those holding the port of @r where
 * the fewest do. Listed in c->runs when @copy; returns how many.
 */
static size_t cand_rules(struct cover *c, const struct pc_rule *r, bool by_port, int f,
			 bool copy)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_cand[f]; i++) {
		const struct klass *k = c->cand[f][i];
		const struct port_entry *best[2] = { NULL, NULL };
		size_t best_n = SIZE_MAX;

		if (copy && k->n_wide) {
			c->runs = xgrow(c->runs, &c->cap_runs, c->n_runs + 1, sizeof(*c->runs));
			c->runs[c->n_runs++] = (struct run){ k->wide, k->n_wide, 0 };
		}
		n += k->n_wide;
		if (!by_port)
			continue;
		for (size_t m = 0; m < r->n_l4 && best_n; m++) {
			const struct pc_l4 *l = &r->l4[m];

			for (size_t j = 0; j < l->dports.n && best_n; j++) {
				unsigned p = l->dports.v[j].lo;
				const struct port_entry *pe = port_find(c, k, l->proto, p, false);
				const struct port_entry *be = port_find(c, k, l->proto,
									BLOCK + p / 64, false);
				size_t cnt = (pe ? pe->n : 0) + (be ? be->n : 0);

				c->work++;
				if (cnt < best_n) {
					best_n = cnt;
					best[0] = pe;
					best[1] = be;
				}
			}
		}
		for (int b = 0; b < 2; b++) {
			if (best[b] && copy) {
				c->runs = xgrow(c->runs, &c->cap_runs, c->n_runs + 1,
						sizeof(*c->runs));
				c->runs[c->n_runs++] = (struct run){ best[b]->v, best[b]->n, 0 };
			}
			n += best[b] ? best[b]->n : 0;
		}
	}
	return n;
}

/*
 * The first earlier rule that alone covers @r (rule @idx), for the message;
 * NULL if none found. Only the rules of the classes covered() left in
 * c->cand can, as the others miss some of @r's addresses; of those, only
 * the wide ones and those holding @r's first port (see struct port_entry).
 * Those are kept to their first SINGLE_TRIES per class and port: trying
 * every rule of a class of thousands for every shadowed rule would make
 * the lint quadratic; past them, the message says "earlier rules together".
 */
static const struct pc_rule *single_cover(struct cover *c, const struct pc_chain *ch,
					  size_t idx, unsigned long *budget)
{
	const struct pc_rule *r = &ch->rules[idx];
	/* a rule of a protocol's every port or of one without ports is only
	 * covered by a wide one */
	bool by_port = r->n_l4 > 0;
	const struct pc_rule *found = NULL;
	size_t n, count[2] = { SIZE_MAX, SIZE_MAX };
	int f;

	for (size_t i = 0; i < r->n_l4; i++)
		if (!pc_proto_has_ports(r->l4[i].proto) || r->l4[i].dports.n == 0)
			by_port = false;
	/* the cover is in a class of each family of @r: take the family
	 * whose classes offer the fewest rules to try */
	for (f = 0; f < 2; f++)
		if (r->families & fam_bit(f))
			count[f] = cand_rules(c, r, by_port, f, false);
	f = count[1] < count[0];
	c->n_runs = 0;
	cand_rules(c, r, by_port, f, true);
	/* the runs merged, in the order of the chain: the first that covers
	 * is the one to name */
	for (size_t tries = 0, last = SIZE_MAX; !found && tries < SINGLE_TRIES && *budget;) {
		struct run *min = NULL;
		const struct pc_rule *e;
		bool ok;

		for (size_t i = 0; i < c->n_runs; i++)
			if (c->runs[i].at < c->runs[i].n &&
			    (!min || c->runs[i].v[c->runs[i].at] < min->v[min->at]))
				min = &c->runs[i];
		c->work += c->n_runs;
		if (!min)
			break;
		n = min->v[min->at++];
		if (n == last)
			continue;
		last = n;
		tries++;
		(*budget)--;
		e = &ch->rules[n];
		ok = l4_covers(e, r);
		for (int g = 0; g < 2 && ok; g++)
			if (r->families & fam_bit(g))
				ok = covers_outside_l4(c, e, r, g);
		if (ok)
			found = e;
	}
	return found;
}

unsigned long long pc_lint_shadowing(const struct pc_ir *ir, struct pc_diag *diag)
{
	struct cover *c = xzalloc(sizeof(*c));
	size_t longest = 0;
	unsigned long long work;

	for (unsigned d = 0; d < __PC_DIR_MAX; d++)
		if (ir->chains[d].n > longest)
			longest = ir->chains[d].n;
	c->mask = 1024 - 1;
	while (c->mask + 1 < BOUND_HASH_MAX && c->mask + 1 < 2 * longest)
		c->mask = c->mask * 2 + 1;
	c->hash = xcalloc(c->mask + 1, sizeof(*c->hash));
	c->kmask = c->mask;
	c->khash = xcalloc(c->kmask + 1, sizeof(*c->khash));
	/* a rule is filed under a few ports */
	c->pmask = c->mask;
	while (c->pmask + 1 < 8 * BOUND_HASH_MAX && c->pmask + 1 < 8 * longest)
		c->pmask = c->pmask * 2 + 1;
	c->phash = xcalloc(c->pmask + 1, sizeof(*c->phash));

	for (unsigned d = 0; d < __PC_DIR_MAX; d++) {
		const struct pc_chain *ch = &ir->chains[d];
		/* bounds of the worst case, linear in the rules */
		unsigned long single_budget = PAIR_BUDGET / 4 + 64 * ch->n;

		memset(c->fam, 0, sizeof(c->fam));
		class_clear(c);
		bound_clear(c);
		c->budget = PAIR_BUDGET + 256 * ch->n;
		for (size_t i = 0; i < ch->n; i++) {
			const struct pc_rule *r = &ch->rules[i];

			c->work++;
			if (r->origin == PC_ORIGIN_POLICY && covered(c, r)) {
				const struct pc_rule *e = single_cover(c, ch, i, &single_budget);

				if (e && e->origin != PC_ORIGIN_POLICY)
					pc_diag_warning(diag, &r->loc,
							"rule can never match: the built-in %s rule covers it",
							pc_origin_name(e->origin));
				else if (e)
					pc_diag_warning(diag, &r->loc,
							"rule can never match: the rule at %s:%u covers it",
							e->loc.file, e->loc.line);
				else
					pc_diag_warning(diag, &r->loc,
							"rule can never match: earlier rules together cover it");
			}
			if (!can_cover(r))
				continue;
			/* a rule that never matches adds nothing to what the earlier
			 * ones cover, but it may be the one a later rule names */
			if (is_wildcard(r))
				add_wildcard(c, r);
			class_add(c, r, i);
		}
	}
	class_clear(c);
	bound_clear(c);
	work = c->work;
	free(c->used);
	free(c->hash);
	free(c->khash);
	free(c->phash);
	free(c->pused);
	free(c->cls);
	free(c->cand[0]);
	free(c->cand[1]);
	free(c->runs);
	free(c);
	return work;
}
