/* SPDX-License-Identifier: MIT */
/*
 * Shared sets (issue 15): an anonymous set written again by another nft
 * rule (the same port list in the rules of two policy lines, a policy rule
 * split into IPv4 and IPv6 or tcp and udp rules, an inline address list
 * repeated) becomes one named set that all those rules look up. The kernel
 * then builds each distinct set once: the transaction grows with the
 * distinct sets and their elements, not with the policy lines. A set
 * written once stays anonymous, so that a policy without repetitions keeps
 * the output it had.
 */
#include "backends/nft/nft_lower.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* One distinct anonymous set: the first copy met, how many, its named set. */
struct share {
	const struct pc_nft_set *first;
	size_t count;
	struct pc_nft_set *named;
	unsigned h;
	struct share *next;
};

struct shares {
	struct share **hash;
	unsigned mask;
	struct share **all;         /* in order of first use */
	size_t n, cap;
};

static unsigned set_hash(const struct pc_nft_set *s, unsigned mask)
{
	unsigned len = pc_nft_key_len(s->key);
	uint32_t h = 2166136261u ^ (uint32_t)s->key ^ (uint32_t)s->l4proto << 8 ^
		     (uint32_t)s->interval << 16;

	for (size_t i = 0; i < s->n; i++)
		for (unsigned b = 0; b < len; b++) {
			h = (h ^ s->v[i].lo[b]) * 16777619u;
			h = (h ^ s->v[i].hi[b]) * 16777619u;
		}
	return h & mask;
}

static bool same_set(const struct pc_nft_set *a, const struct pc_nft_set *b)
{
	unsigned len = pc_nft_key_len(a->key);

	if (a->key != b->key || a->l4proto != b->l4proto || a->interval != b->interval ||
	    a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->v[i].lo, b->v[i].lo, len) != 0 ||
		    memcmp(a->v[i].hi, b->v[i].hi, len) != 0)
			return false;
	return true;
}

static struct share *share_find(struct shares *sh, const struct pc_nft_set *s)
{
	unsigned h = set_hash(s, sh->mask);
	struct share *e;

	for (e = sh->hash[h]; e; e = e->next)
		if (same_set(e->first, s))
			return e;
	e = xzalloc(sizeof(*e));
	e->first = s;
	e->h = h;
	e->next = sh->hash[h];
	sh->hash[h] = e;
	sh->all = xgrow(sh->all, &sh->cap, sh->n + 1, sizeof(*sh->all));
	sh->all[sh->n++] = e;
	return e;
}

/* The matches of @nr that may look up an anonymous set. */
static struct pc_nft_match *rule_match(struct pc_nft_rule *nr, int i)
{
	switch (i) {
	case 0: return &nr->saddr;
	case 1: return &nr->daddr;
	case 2: return &nr->dport;
	default: return &nr->icmp_type;
	}
}

static const char *key_word(const struct pc_nft_set *s)
{
	switch (s->key) {
	case PC_NFT_KEY_IPV4: return "v4_addrs";
	case PC_NFT_KEY_IPV6: return "v6_addrs";
	case PC_NFT_KEY_ICMP: return "icmp_types";
	case PC_NFT_KEY_ICMPV6: return "icmpv6_types";
	case PC_NFT_KEY_PORT:
	case __PC_NFT_KEY_MAX: break;
	}
	switch (s->l4proto) {
	case 6: return "tcp_ports";
	case 17: return "udp_ports";
	case 33: return "dccp_ports";
	case 132: return "sctp_ports";
	default: return "ports";
	}
}

/*
 * A named copy of @s. Names end in _addrs, _ports or _types, which the
 * named sets of `hosts` groups (NAME_v4, NAME_v6) never do.
 */
static struct pc_nft_set *named_copy(const struct pc_nft_set *s, size_t number)
{
	struct pc_nft_set *n = xzalloc(sizeof(*n));

	n->name = xasprintf("shared_%zu_%s", number, key_word(s));
	n->key = s->key;
	n->l4proto = s->l4proto;
	/* nft -f makes every named address set an interval set (the text
	 * says flags interval), and port ranges need one */
	n->interval = s->interval || s->key == PC_NFT_KEY_IPV4 || s->key == PC_NFT_KEY_IPV6;
	n->n = s->n;
	n->v = xcalloc(s->n, sizeof(*s->v));
	memcpy(n->v, s->v, s->n * sizeof(*s->v));
	pc_nft_set_merge(n);
	return n;
}

static int cmp_set_name(const void *a, const void *b)
{
	return strcmp((*(struct pc_nft_set *const *)a)->name,
		      (*(struct pc_nft_set *const *)b)->name);
}

static void set_free(struct pc_nft_set *s)
{
	free(s->name);
	free(s->v);
	free(s);
}

/* The filter chains (input, forward, output), then the class chains. */
static struct pc_nft_chain *chain_at(struct pc_nft_plan *plan, size_t c)
{
	return c < 3 ? &plan->chains[c] : &plan->sub[c - 3];
}

void pc_nft_share_sets(struct pc_nft_plan *plan)
{
	struct shares sh = { 0 };
	struct share **of;          /* the entry of each anonymous set, in rule order */
	size_t total = 0, numbered = 0, cap, at = 0;

	for (size_t c = 0; c < 3 + plan->n_sub; c++)
		for (size_t i = 0; i < chain_at(plan, c)->n; i++)
			total += chain_at(plan, c)->rules[i].n_sets;
	sh.mask = 63;
	while (sh.mask + 1 < 2 * total)
		sh.mask = sh.mask * 2 + 1;
	sh.hash = xcalloc(sh.mask + 1, sizeof(*sh.hash));
	of = xcalloc(total + 1, sizeof(*of));

	for (size_t c = 0; c < 3 + plan->n_sub; c++)
		for (size_t i = 0; i < chain_at(plan, c)->n; i++) {
			struct pc_nft_rule *nr = &chain_at(plan, c)->rules[i];

			for (size_t k = 0; k < nr->n_sets; k++) {
				of[at] = share_find(&sh, nr->sets[k]);
				of[at++]->count++;
			}
		}
	cap = plan->n_sets;
	for (size_t i = 0; i < sh.n; i++) {
		if (sh.all[i]->count < 2)
			continue;
		sh.all[i]->named = named_copy(sh.all[i]->first, ++numbered);
		plan->sets = xgrow(plan->sets, &cap, plan->n_sets + 1, sizeof(*plan->sets));
		plan->sets[plan->n_sets++] = sh.all[i]->named;
	}
	at = 0;
	for (size_t c = 0; c < 3 + plan->n_sub && numbered; c++)
		for (size_t i = 0; i < chain_at(plan, c)->n; i++) {
			struct pc_nft_rule *nr = &chain_at(plan, c)->rules[i];
			size_t kept = 0;

			for (size_t k = 0; k < nr->n_sets; k++) {
				struct pc_nft_set *s = nr->sets[k];
				const struct share *e = of[at++];

				if (!e->named) {
					nr->sets[kept++] = s;
					continue;
				}
				for (int m = 0; m < 4; m++)
					if (rule_match(nr, m)->kind == PC_NFT_MATCH_SET &&
					    rule_match(nr, m)->set == s)
						rule_match(nr, m)->set = e->named;
				set_free(s);
			}
			nr->n_sets = kept;
		}
	/* the plan keeps its named sets sorted by name */
	if (numbered)
		qsort(plan->sets, plan->n_sets, sizeof(*plan->sets), cmp_set_name);
	for (size_t i = 0; i < sh.n; i++)
		free(sh.all[i]);
	free(sh.all);
	free(sh.hash);
	free(of);
}
