/* SPDX-License-Identifier: MIT */
/*
 * sets (issue 14): the nft text of a policy with dynamic sets reloads
 * without `delete table`, which would wipe what fail2ban or crowdsec put
 * in them. Instead, in one transaction: declare the table and every
 * object of this plan (a declaration of an existing object is accepted,
 * so each delete below finds its object), flush every rule of the table,
 * delete the chains, maps, limits and static sets, then create them
 * anew. The dynamic sets are only declared: they keep their elements.
 */
#include "backends/nft/nft_lower.h"

/* Every key a set of the plan may have: the shared sets (issue 15) hold
 * ports and ICMP types too. */
static const char *set_type(const struct pc_nft_set *s)
{
	switch (s->key) {
	case PC_NFT_KEY_IPV4: return "ipv4_addr";
	case PC_NFT_KEY_IPV6: return "ipv6_addr";
	case PC_NFT_KEY_PORT: return "inet_service";
	case PC_NFT_KEY_ICMP: return "icmp_type";
	default: return "icmpv6_type";
	}
}

static void dynset_decl(FILE *out, const struct pc_nft_set *s)
{
	fprintf(out, "\tset %s {\n\t\ttype %s\n\t\tflags dynamic,timeout\n", s->name, set_type(s));
	if (s->timeout)
		fprintf(out, "\t\ttimeout %us\n", (unsigned)s->timeout);
	fputs("\t}\n", out);
}

void pc_nft_plan_format_reload(const struct pc_nft_plan *plan, FILE *out)
{
	const char *t = plan->table;

	fprintf(out, "table inet %s {\n\tcomment \"managed by portcullis\"\n", t);
	for (size_t i = 0; i < plan->n_limits; i++)
		fprintf(out, "\tlimit %s { rate 1/second; }\n", plan->limits[i]->name);
	for (size_t i = 0; i < plan->n_sets; i++) {
		const struct pc_nft_set *s = plan->sets[i];

		/* a meter (issue 14) is declared as its body does, and
		 * deleted below: its elements hold the old rate */
		if (s->dynamic || s->meter)
			dynset_decl(out, s);
		else
			fprintf(out, "\tset %s { type %s;%s }\n", s->name, set_type(s),
				s->interval ? " flags interval;" : "");
	}
	for (size_t i = 0; i < plan->n_maps; i++) {
		const struct pc_nft_map *m = plan->maps[i];
		const char *a = m->family == PC_FAM_IPV6 ? "ipv6_addr" : "ipv4_addr";

		/* the key as the body declares it: with the destination (issue 15),
		 * without protocol and port when narrowed (branch narrow) */
		fprintf(out, "\tmap %s { type %s%s%s%s : verdict; flags interval; }\n",
			m->name, a, m->daddr ? " . " : "", m->daddr ? a : "",
			m->noport ? "" : " . inet_proto . inet_service");
	}
	/* the NAT chains too (issue 13): plan->n_chains is 5 with NAT */
	/* and the class chains of a dispatch (issue 15) */
	for (size_t c = 0; c < plan->n_chains + plan->n_sub; c++)
		fprintf(out, "\tchain %s { }\n", pc_nft_plan_chain(plan, c)->name);
	fprintf(out, "}\nflush table inet %s\n", t);
	for (size_t c = 0; c < plan->n_chains + plan->n_sub; c++)
		fprintf(out, "delete chain inet %s %s\n", t, pc_nft_plan_chain(plan, c)->name);
	for (size_t i = 0; i < plan->n_maps; i++)
		fprintf(out, "delete map inet %s %s\n", t, plan->maps[i]->name);
	for (size_t i = 0; i < plan->n_sets; i++)
		if (!plan->sets[i]->dynamic)
			fprintf(out, "delete set inet %s %s\n", t, plan->sets[i]->name);
	for (size_t i = 0; i < plan->n_limits; i++)
		fprintf(out, "delete limit inet %s %s\n", t, plan->limits[i]->name);
	fprintf(out, "table inet %s {\n\tcomment \"managed by portcullis\"\n", t);
	pc_nft_plan_format_body(plan, out);
	fputs("}", out);
}
