/* SPDX-License-Identifier: MIT */
/*
 * The reference meaning of NAT (routers, issue 13): which NAT rule
 * translates a packet, and into what. The filter's verdict stays
 * pc_ir_eval()'s; explain puts the two together.
 */
#include "ir/eval.h"

#include <string.h>

struct pc_rule pc_nat_as_rule(const struct pc_nat_rule *n)
{
	struct pc_rule r;

	memset(&r, 0, sizeof(r));
	r.families = n->families;
	r.iface = n->iface;
	r.n_ifaces = n->n_ifaces;
	r.ifaces = n->ifaces;
	r.saddr = n->saddr;
	r.daddr = n->daddr;
	r.n_l4 = n->n_l4;
	r.l4 = (struct pc_l4 *)n->l4;
	return r;
}

long pc_ir_dnat(const struct pc_ir *ir, const struct pc_packet *p,
		struct pc_packet *out)
{
	/* prerouting: packets that arrive; the first of a connection only */
	if ((p->dir != PC_DIR_IN && p->dir != PC_DIR_FORWARD) || p->ct_state != PC_CT_NEW)
		return -1;
	for (size_t i = 0; i < ir->n_nat; i++) {
		const struct pc_nat_rule *n = &ir->nat[i];
		struct pc_rule r;

		if (n->kind != PC_NAT_DNAT)
			continue;
		r = pc_nat_as_rule(n);
		if (!pc_rule_match(&r, p))
			continue;
		*out = *p;
		memcpy(out->daddr, n->to.a, sizeof(out->daddr));
		if (n->to_port)
			out->dport = n->to_port;
		/* the new destination is another host: the packet is routed */
		out->dir = PC_DIR_FORWARD;
		return (long)i;
	}
	return -1;
}

long pc_ir_snat(const struct pc_ir *ir, const struct pc_packet *p)
{
	struct pc_packet q = *p;

	if ((p->dir != PC_DIR_OUT && p->dir != PC_DIR_FORWARD) || p->ct_state != PC_CT_NEW)
		return -1;
	/* postrouting: the `on` of masquerade and snat is the leaving interface */
	if (p->dir == PC_DIR_FORWARD)
		q.iface = p->oiface[0] ? p->oiface : NULL;
	for (size_t i = 0; i < ir->n_nat; i++) {
		const struct pc_nat_rule *n = &ir->nat[i];
		struct pc_rule r;

		if (n->kind == PC_NAT_DNAT)
			continue;
		r = pc_nat_as_rule(n);
		if (pc_rule_match(&r, &q))
			return (long)i;
	}
	return -1;
}
