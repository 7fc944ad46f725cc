/* SPDX-License-Identifier: MIT */
/*
 * Longer runs for the ruleset compiler (issue 15): a rule that cannot go
 * into a verdict map (a log, a limit, a reject, an interface, ICMP) no
 * longer ends a run when the plain rules after it can be moved before it.
 *
 * Proof obligation. Two neighbouring rules X (first) and P may swap when
 * no packet matches both: a packet matching X does not match P, so it
 * meets X, with X's side effects (log, rate-limit bucket) and verdict,
 * whichever comes first; a packet matching P does not match X, likewise;
 * a packet matching neither passes both. So only rules whose match spaces
 * are provably disjoint (pc_rules_disjoint()) are swapped, and the rules
 * moved keep their order among themselves (the deferred ones too). A rule
 * that may share a packet with X stays after it: "may" is enough to keep
 * the order, so the test is allowed to answer "not disjoint" wrongly but
 * never "disjoint" wrongly. tests/unit/test_optimize.c checks the verdict
 * and deciding line of every packet against the unoptimised IR; a mutation
 * of this proof (calling rules disjoint that are not) makes it fail.
 */
#include <string.h>

#include "ir/optimize.h"
#include "ir/addrset.h"

/* Do two address sets (empty: any) provably share no address? */
static bool addrs_disjoint(const struct pc_addr_set *a, const struct pc_addr_set *b)
{
	if (a->n == 0 || b->n == 0)
		return false;
	/* a bound on the work: beyond it, not proven */
	if (a->n * b->n > 4096)
		return false;
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++)
			if (a->v[i].family == b->v[j].family &&
			    (pc_prefix_contains(&a->v[i], &b->v[j]) ||
			     pc_prefix_contains(&b->v[j], &a->v[i])))
				return false;
	return true;
}

static bool ports_disjoint(const struct pc_port_set *a, const struct pc_port_set *b)
{
	size_t i = 0, j = 0;

	if (a->n == 0 || b->n == 0)
		return false;
	/* both sorted and merged: walk them together */
	while (i < a->n && j < b->n) {
		if (a->v[i].hi < b->v[j].lo)
			i++;
		else if (b->v[j].hi < a->v[i].lo)
			j++;
		else
			return false;
	}
	return true;
}

static bool types_disjoint(const struct pc_l4 *a, const struct pc_l4 *b)
{
	if (a->n_types == 0 || b->n_types == 0)
		return false;
	for (size_t i = 0; i < a->n_types; i++)
		for (size_t j = 0; j < b->n_types; j++)
			if (a->types[i] == b->types[j])
				return false;
	return true;
}

/* Do the protocol alternatives provably share no packet? */
static bool l4_disjoint(const struct pc_rule *a, const struct pc_rule *b)
{
	if (a->n_l4 == 0 || b->n_l4 == 0)
		return false;
	for (size_t i = 0; i < a->n_l4; i++)
		for (size_t j = 0; j < b->n_l4; j++) {
			const struct pc_l4 *x = &a->l4[i], *y = &b->l4[j];

			if (x->proto != y->proto)
				continue;
			if (pc_proto_has_ports(x->proto) && ports_disjoint(&x->dports, &y->dports))
				continue;
			if ((x->proto == PC_PROTO_ICMP || x->proto == PC_PROTO_ICMPV6) &&
			    types_disjoint(x, y))
				continue;
			return false;
		}
	return true;
}

/* The interface list of @r: @iface alone when n_ifaces <= 1. */
static const char *iface_at(const struct pc_rule *r, size_t i)
{
	return r->n_ifaces > 1 ? r->ifaces[i] : r->iface;
}

/*
 * Do the `on` lists provably name no interface in common? Only lists of
 * exact names (a wildcard may meet anything) and no `on not`, whose
 * packets are every other interface.
 */
static bool ifaces_disjoint(const struct pc_rule *a, const struct pc_rule *b)
{
	size_t na = a->n_ifaces > 1 ? a->n_ifaces : 1;
	size_t nb = b->n_ifaces > 1 ? b->n_ifaces : 1;

	if (!a->iface || !b->iface || a->iface_not || b->iface_not)
		return false;
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			if (strchr(iface_at(a, i), '*') || strchr(iface_at(b, j), '*') ||
			    strcmp(iface_at(a, i), iface_at(b, j)) == 0)
				return false;
	return true;
}

bool pc_rules_disjoint(const struct pc_rule *a, const struct pc_rule *b)
{
	if (!(a->families & b->families))
		return true;
	if (ifaces_disjoint(a, b))
		return true;
	if (a->ct_state && b->ct_state && !(a->ct_state & b->ct_state))
		return true;
	/* a negated list matches what lies outside it: not proven here */
	return l4_disjoint(a, b) ||
	       (!a->saddr_not && !b->saddr_not && addrs_disjoint(&a->saddr, &b->saddr)) ||
	       (!a->daddr_not && !b->daddr_not && addrs_disjoint(&a->daddr, &b->daddr));
}
