/* SPDX-License-Identifier: MIT */
#include "backends/nft/nft_lower.h"
#include "backends/nft/nft_check.h"

#include <arpa/inet.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <string.h>

#include "ir/ir_owned.h"
#include "ir/names.h"
#include "common/util.h"

static const char *const chain_names[__PC_DIR_MAX] = {
	[PC_DIR_IN] = "input",
	[PC_DIR_FORWARD] = "forward",
	[PC_DIR_OUT] = "output",
};

static const unsigned chain_hooks[__PC_DIR_MAX] = {
	[PC_DIR_IN] = NF_INET_LOCAL_IN,
	[PC_DIR_FORWARD] = NF_INET_FORWARD,
	[PC_DIR_OUT] = NF_INET_LOCAL_OUT,
};

/* The plan lists chains in this order (nft lists them as written). */
static const enum pc_direction chain_order[3] = {
	PC_DIR_IN, PC_DIR_FORWARD, PC_DIR_OUT,
};

unsigned pc_nft_key_len(enum pc_nft_key key)
{
	switch (key) {
	case PC_NFT_KEY_IPV4:
		return 4;
	case PC_NFT_KEY_IPV6:
		return 16;
	case PC_NFT_KEY_PORT:
		return 2;
	case PC_NFT_KEY_ICMP:
	case PC_NFT_KEY_ICMPV6:
		return 1;
	case __PC_NFT_KEY_MAX:
		break;
	}
	PC_BUG("bad set key %d", (int)key);
}

static void set_destroy(struct pc_nft_set *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->v);
	free(s);
}

void pc_nft_plan_destroy(struct pc_nft_plan *plan)
{
	if (!plan)
		return;
	for (size_t c = 0; c < plan->n_chains; c++) {
		struct pc_nft_chain *ch = &plan->chains[c];

		for (size_t i = 0; i < ch->n; i++) {
			free(ch->rules[i].comment);
			free(ch->rules[i].dispatch_chains);
			for (size_t k = 0; k < ch->rules[i].n_sets; k++)
				set_destroy(ch->rules[i].sets[k]);
		}
		free(ch->rules);
	}
	for (size_t c = 0; c < plan->n_sub; c++) {
		struct pc_nft_chain *ch = &plan->sub[c];

		for (size_t i = 0; i < ch->n; i++) {
			free(ch->rules[i].comment);
			free(ch->rules[i].dispatch_chains);
			for (size_t k = 0; k < ch->rules[i].n_sets; k++)
				set_destroy(ch->rules[i].sets[k]);
		}
		free(ch->rules);
		free((char *)ch->name);
	}
	free(plan->sub);
	for (size_t i = 0; i < plan->n_sets; i++)
		set_destroy(plan->sets[i]);
	free(plan->sets);
	for (size_t i = 0; i < plan->n_maps; i++) {
		struct pc_nft_map *m = plan->maps[i];

		for (size_t k = 0; m->comments && k < m->n; k++)
			if (k == 0 || m->comments[k] != m->comments[k - 1])
				free(m->comments[k]);
		free(m->comments);
		if (!plan->spool)
			free(m->jump);
		free(m->name);
		free(m);
	}
	free(plan->maps);
	for (size_t i = 0; i < plan->n_limits; i++) {
		free(plan->limits[i]->name);
		free(plan->limits[i]);
	}
	free(plan->limits);
	free(plan->nat_rules);
	free(plan);
}

size_t pc_nft_plan_rule_count(const struct pc_nft_plan *plan)
{
	size_t n = 0;

	for (size_t c = 0; c < plan->n_chains; c++)
		n += plan->chains[c].n;
	for (size_t c = 0; c < plan->n_sub; c++)
		n += plan->sub[c].n;
	return n;
}

static void addr_range(const struct pc_addr *a, struct pc_nft_elem *e)
{
	unsigned len = a->family == PC_FAM_IPV4 ? 4 : 16;

	memset(e, 0, sizeof(*e));
	memcpy(e->lo, a->a, len);
	memcpy(e->hi, a->a, len);
	/* the host bits set a byte at a time, not a bit at a time: 100,000
	 * IPv6 /48s cost 9 % of apply's instructions bit by bit */
	if (a->plen < len * 8) {
		unsigned byte = a->plen / 8;

		e->hi[byte] |= (uint8_t)(0xffu >> (a->plen % 8));
		memset(e->hi + byte + 1, 0xff, len - byte - 1);
	}
}

static void be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

unsigned pc_nft_be16_get(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* True when @b starts right after @a ends (keys of @len bytes). */
static bool elem_adjacent(const uint8_t *a_hi, const uint8_t *b_lo, unsigned len)
{
	uint8_t next[16];
	int i;

	memcpy(next, a_hi, len);
	for (i = (int)len - 1; i >= 0; i--)
		if (++next[i] != 0)
			break;
	if (i < 0)
		return false;
	return memcmp(next, b_lo, len) == 0;
}

/*
 * Adjacent or overlapping intervals become one. nft does this itself for
 * the anonymous sets of `nft -f`; for named sets the kernel refuses two
 * intervals where one ends right before the next starts ("File exists")
 * when they are sent as apply sends them, so every interval set of the
 * plan is merged here, once, and the text and netlink both write the
 * merged elements. The elements are sorted by their first key.
 */
/* Whether @e, the next element, joins @last (then extended); keys of @len bytes. */
static bool merge_into(struct pc_nft_elem *last, const struct pc_nft_elem *e, unsigned len)
{
	if (memcmp(e->lo, last->hi, len) > 0 && !elem_adjacent(last->hi, e->lo, len))
		return false;
	if (memcmp(e->hi, last->hi, len) > 0)
		memcpy(last->hi, e->hi, len);
	return true;
}

static void set_merge(struct pc_nft_set *s)
{
	unsigned len = pc_nft_key_len(s->key);
	size_t out = 0;

	if (!s->interval)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (out && merge_into(&s->v[out - 1], &s->v[i], len))
			continue;
		s->v[out++] = s->v[i];
	}
	s->n = out;
}

/* Which prefixes of a group a set takes: all, or one part of a split group. */
enum addr_part { PART_ALL, PART_HOSTS, PART_NETS };

/* Whether prefix @a belongs to the part @part of its group. */
static bool in_part(const struct pc_addr *a, unsigned part)
{
	unsigned full = a->family == PC_FAM_IPV4 ? 32 : 128;

	return !((part == PART_HOSTS && a->plen != full) || (part == PART_NETS && a->plen == full));
}

void pc_nft_set_each(const struct pc_nft_set *s,
		     void (*fn)(const struct pc_nft_elem *e, void *ctx), void *ctx)
{
	unsigned len = pc_nft_key_len(s->key);
	struct pc_nft_elem last, e;
	bool any = false;

	if (s->v || !s->name || (s->key != PC_NFT_KEY_IPV4 && s->key != PC_NFT_KEY_IPV6)) {
		for (size_t i = 0; i < s->n; i++)
			fn(&s->v[i], ctx);
		return;
	}
	/* what addr_set_create() and set_merge() would have made */
	for (size_t i = 0; i < s->n_addrs; i++) {
		if (!in_part(&s->addrs[i], s->part))
			continue;
		addr_range(&s->addrs[i], &e);
		if (any && s->interval && merge_into(&last, &e, len))
			continue;
		if (any)
			fn(&last, ctx);
		last = e;
		any = true;
	}
	if (any)
		fn(&last, ctx);
}

static void count_elem(const struct pc_nft_elem *e, void *ctx)
{
	(void)e;
	(*(size_t *)ctx)++;
}

/*
 * The set of the prefixes @v[0..n) of @part (@count of them); @lazy: a
 * named set of the text's plan, without elements (pc_nft_set_each()).
 */
static struct pc_nft_set *addr_set_create(const char *name, unsigned family,
					  const struct pc_addr *v, size_t n,
					  enum addr_part part, size_t count, bool lazy)
{
	struct pc_nft_set *s = xzalloc(sizeof(*s));
	unsigned full = family == PC_FAM_IPV4 ? 32 : 128;

	s->name = name ? xstrdup(name) : NULL;
	s->key = family == PC_FAM_IPV4 ? PC_NFT_KEY_IPV4 : PC_NFT_KEY_IPV6;
	s->addrs = v;
	s->n_addrs = n;
	s->part = (uint8_t)part;
	if (lazy && name) {
		for (size_t i = 0; i < n; i++)
			if (in_part(&v[i], part) && v[i].plen != full)
				s->interval = true;
		pc_nft_set_each(s, count_elem, &s->n);
		return s;
	}
	s->v = xcalloc(count, sizeof(*s->v));
	/*
	 * A set of single addresses is a hash set, with or without a name
	 * (issue 14): the kernel inserts into a hash several times faster
	 * than into an interval set (rbtree), which is what makes a
	 * blocklist of a million hosts apply in well under a second (bench/
	 * README.md). One prefix or range makes the whole set an interval
	 * set: a hash cannot hold a prefix.
	 */
	s->interval = false;
	for (size_t i = 0; i < n; i++) {
		if ((part == PART_HOSTS && v[i].plen != full) ||
		    (part == PART_NETS && v[i].plen == full))
			continue;
		addr_range(&v[i], &s->v[s->n++]);
		if (v[i].plen != full)
			s->interval = true;
	}
	set_merge(s);
	return s;
}

/*
 * A map from a policy location (and a small tag) to a pointer: open
 * addressing, linear probing, grown at half full. Locations compare by
 * their file name's pointer, as everywhere in lowering (the IR shares one
 * string per file).
 */
struct loc_slot {
	const char *file;       /* NULL: a free slot */
	unsigned line, col, tag;
	const void *value;
};

struct loc_map {
	struct loc_slot *slots;
	size_t cap, n;          /* cap: 0 or a power of two */
};

static size_t loc_hash(const struct pc_location *loc, unsigned tag)
{
	uint64_t h = (uint64_t)(uintptr_t)loc->file;

	h = (h ^ loc->line) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ loc->col) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ tag) * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h ^ (h >> 29));
}

static struct loc_slot *loc_slot_find(const struct loc_map *m, const struct pc_location *loc,
				      unsigned tag)
{
	size_t i = loc_hash(loc, tag) & (m->cap - 1);

	for (;; i = (i + 1) & (m->cap - 1)) {
		struct loc_slot *sl = &m->slots[i];

		if (!sl->file || (sl->file == loc->file && sl->line == loc->line &&
				  sl->col == loc->col && sl->tag == tag))
			return sl;
	}
}

static const void *loc_map_get(const struct loc_map *m, const struct pc_location *loc, unsigned tag)
{
	return m->cap ? loc_slot_find(m, loc, tag)->value : NULL;
}

/* @loc's value becomes @value (a later one replaces an earlier) */
static void loc_map_put(struct loc_map *m, const struct pc_location *loc, unsigned tag,
			const void *value)
{
	struct loc_slot *sl;

	if (2 * (m->n + 1) > m->cap) {
		struct loc_map g = { xcalloc(m->cap ? 2 * m->cap : 64, sizeof(*g.slots)),
				     m->cap ? 2 * m->cap : 64, m->n };

		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].file)
				*loc_slot_find(&g, &(struct pc_location){ m->slots[i].file,
					m->slots[i].line, m->slots[i].col, 0 },
					m->slots[i].tag) = m->slots[i];
		free(m->slots);
		*m = g;
	}
	sl = loc_slot_find(m, loc, tag);
	if (!sl->file) {
		m->n++;
		sl->file = loc->file;
		sl->line = loc->line;
		sl->col = loc->col;
		sl->tag = tag;
	}
	sl->value = value;
}

static void loc_map_clear(struct loc_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}


struct lower {
	const struct pc_ir *ir;
	struct pc_diag *diag;
	struct pc_nft_plan *plan;
	size_t sets_cap;
	size_t maps_cap;
	size_t limits_cap;
	unsigned chain_maps;      /* maps made in the current chain */
	unsigned chain_limits;    /* limit objects made in the current chain */
	unsigned chain_meters;    /* per-source limits in the current chain */
	unsigned chain_subs;      /* class chains made for the current chain */
	unsigned chain_dispatches; /* dispatches made in the current chain */
	size_t sub_cap;
	bool in_class;            /* lowering a class chain of a dispatch */
	/* in a class chain: the one protocol of every packet that enters it
	 * (its dispatch's elements leading to it are all of that protocol),
	 * else -1 */
	int class_proto;
	const struct pc_nft_limit *limit; /* the current rule's, or NULL */
	/* matches (issue 14): the current rule's per-source buckets, IPv4
	 * and IPv6, or NULL */
	const struct pc_nft_set *meter[2];
	/* the interfaces of the nft rules being made (routers): one copy of
	 * the rule per pair of its `on` and `out on` lists */
	const char *ifname;
	const char *oifname;
	/* NAT (routers): the NAT statement being lowered, or NULL */
	const struct pc_nat_rule *nat;
	/* pc_nft_plan_create_text(): groups' sets without elements */
	bool text;
	/* Actions in map elements (issue 15): the action chains of the
	 * current base chain, one per policy rule, family and kind of reject */
	struct action_chain *actions;
	size_t n_actions, actions_cap;
	unsigned chain_actions;
	/* the action chains above, and the plan's limit objects, by policy
	 * location: a policy rule is copied into many class chains and maps,
	 * and a walk of every earlier one per copy made lowering quadratic in
	 * the policy (24 % of generate's CPU at 100,000 Capirca terms) */
	struct loc_map action_at;
	struct loc_map limit_at;
};

struct action_chain {
	struct pc_location loc;
	unsigned family;
	bool tcp;
	const char *name;     /* the chain's, in the plan */
};

static void sub_push(struct lower *lw, const struct pc_nft_chain *nc);

/*
 * The chain an element of policy rule @r (family @fam, protocol @proto)
 * jumps to: one rule with @r's log and verdict, and no counter (the
 * element has it: `stats` sums per line). A reject is a TCP reset for
 * TCP, else ICMP port unreachable, as lower_alternatives() writes it; the
 * ICMP reject names the family. The rule always decides, so the jump
 * never returns: the element decides like an accept or drop. A rule
 * copied into several class chains (or maps) shares one action chain.
 */
static const char *action_chain(struct lower *lw, enum pc_direction dir,
				const struct pc_rule *r, unsigned fam, uint8_t proto)
{
	bool tcp = r->verdict == PC_VERDICT_REJECT && proto == PC_PROTO_TCP;
	struct pc_nft_chain nc = { 0 };
	struct pc_nft_rule *nr;
	struct action_chain *a;
	const char *name;
	char comment[PC_NFT_COMMENT_BUF];

	name = loc_map_get(&lw->action_at, &r->loc, fam << 1 | tcp);
	if (name)
		return name;
	nc.name = xasprintf("%s_a%u", chain_names[dir], ++lw->chain_actions);
	nc.hook = chain_hooks[dir];
	nc.n = 1;
	nc.rules = xcalloc(1, sizeof(*nc.rules));
	nr = &nc.rules[0];
	nr->src = r;
	/* no family match but for the ICMP reject, which names the family */
	nr->family = r->verdict == PC_VERDICT_REJECT && !tcp ? fam : 0;
	nr->proto = tcp ? PC_PROTO_TCP : -1;
	nr->log = r->log;
	nr->log_prefix = r->log_prefix;
	nr->log_nflog = r->log_nflog;
	nr->log_group = r->log_group;
	switch (r->verdict) {
	case PC_VERDICT_ALLOW:
		nr->verdict = PC_NFT_ACCEPT;
		break;
	case PC_VERDICT_DENY:
		nr->verdict = PC_NFT_DROP;
		break;
	default:
		nr->verdict = tcp ? PC_NFT_REJECT_TCP : PC_NFT_REJECT;
		nr->nfproto = !tcp;
		break;
	}
	pc_nft_rule_comment(r, dir, comment, sizeof(comment));
	nr->comment = xstrdup(comment);
	sub_push(lw, &nc);
	lw->actions = xgrow(lw->actions, &lw->actions_cap, lw->n_actions + 1,
			    sizeof(*lw->actions));
	a = &lw->actions[lw->n_actions++];
	a->loc = r->loc;
	a->family = fam;
	a->tcp = tcp;
	a->name = nc.name;
	loc_map_put(&lw->action_at, &r->loc, fam << 1 | tcp, a->name);
	return a->name;
}

/*
 * Narrow keys (issue 15, branch narrow). In a class chain the dispatch has
 * decided the packet's protocol and port: a packet enters the chain only
 * through `PROTO dport vmap { PORTS : jump CLASS }`, so its protocol is
 * one of the protocols whose ports lead there and its port lies in the
 * class's intervals. When that protocol is one (@class_proto) and every
 * element of a map of the chain holds it and all ports 0-65535 (a rule of
 * a class keeps no ports), `meta l4proto . th dport` matches every packet
 * that reaches the map: the key without them gives each packet the same
 * element, hence the same verdict. The lookup in a concatenation (the
 * kernel's pipapo set) costs per byte of key (bench/README.md, branch
 * narrow). A port-level chain shared by two protocols (tcp and udp 53)
 * keeps the whole key.
 *
 * The key keeps at least two fields (a concatenation): a map of sources
 * only stays as it is, since a one-field interval map is another kind of
 * set in the kernel (rbtree), with other elements over netlink.
 */
static bool key_narrow(const struct lower *lw, const struct pc_nft_map *m)
{
	if (!lw->in_class || lw->class_proto < 0 || m->icmp || (!m->daddr && !m->iface))
		return false;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].proto != lw->class_proto || m->v[i].dport.lo != 0 ||
		    m->v[i].dport.hi != 65535)
			return false;
	return m->n > 0;
}

/* A verdict-map rule of the optimiser: one named map and one rule. */
static void lower_map(struct lower *lw, struct pc_nft_rule *nr, enum pc_direction dir,
		      const struct pc_rule *r, const char *comment)
{
	struct pc_nft_map *m = xzalloc(sizeof(*m));
	struct pc_nft_plan *plan = lw->plan;

	m->name = xasprintf("%s_%s_%u", dir == PC_DIR_IN ? "input" :
				       dir == PC_DIR_OUT ? "output" : "forward",
			    r->families == PC_FAM_IPV4 ? "v4" : "v6", ++lw->chain_maps);
	m->family = r->families;
	m->counter = (lw->ir->options & PC_OPT_COUNTERS) != 0;
	m->n = r->n_map;
	m->v = r->map;
	m->daddr = r->map_daddr;
	m->iface = r->map_iface;
	m->oif = dir == PC_DIR_OUT;
	m->icmp = r->n_map && !pc_proto_has_ports(r->map[0].proto);
	m->noport = key_narrow(lw, m);
	/* the text makes each comment as it writes it (19 MB at 100,000 terms) */
	if (!lw->text)
		m->comments = xcalloc(r->n_map, sizeof(*m->comments));
	/*
	 * The elements of one policy rule follow each other and share one
	 * comment string (freed once): a rule of a group of 20 sources to 5
	 * servers has 100 elements (issue 15: 46 MB of copies at 100,000 terms).
	 */
	for (size_t i = 0; m->comments && i < r->n_map; i++)
		m->comments[i] = i && pc_nft_elem_same_comment(&r->map[i - 1], &r->map[i]) ?
				 m->comments[i - 1] : pc_nft_elem_comment(&r->map[i]);
	for (size_t i = 0; i < r->n_map; i++) {
		if (!r->map[i].action)
			continue;
		/* a pointer per element: in a spooled view's arena, which
		 * the text gives back as it writes (issue 15) */
		if (!m->jump)
			m->jump = plan->spool ?
				  pc_arena_alloc(plan->spool, r->n_map * sizeof(*m->jump)) :
				  xcalloc(r->n_map, sizeof(*m->jump));
		m->jump[i] = action_chain(lw, dir, pc_map_elem_action(&r->map[i]), r->families,
					  r->map[i].proto);
	}
	plan->maps = xgrow(plan->maps, &lw->maps_cap, plan->n_maps + 1, sizeof(*plan->maps));
	plan->maps[plan->n_maps++] = m;
	nr->src = r;
	nr->family = r->families;
	nr->proto = -1;
	nr->vmap = m;
	/* one interface for the whole map (issue 15): a match before it */
	nr->ifname = r->iface;
	nr->oif = dir == PC_DIR_OUT;
	/* forward rules: the run's output interface (issue 15), likewise */
	nr->oifname = r->n_oifaces ? r->oifaces[0] : NULL;
	nr->comment = xstrdup(comment);
}

/* The index of the named set @name in the plan's sorted sets, or where it goes. */
static size_t named_set_find(const struct pc_nft_plan *plan, const char *name, bool *found)
{
	size_t lo = 0, hi = plan->n_sets;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(plan->sets[mid]->name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void named_set_insert(struct lower *lw, struct pc_nft_set *s)
{
	struct pc_nft_plan *plan = lw->plan;
	bool found;
	size_t at = named_set_find(plan, s->name, &found);

	plan->sets = xgrow(plan->sets, &lw->sets_cap, plan->n_sets + 1,
			   sizeof(*plan->sets));
	memmove(&plan->sets[at + 1], &plan->sets[at],
		(plan->n_sets - at) * sizeof(*plan->sets));
	plan->sets[at] = s;
	plan->n_sets++;
}

/* True when a rule matches on `not $group` (negation, issue 14). */
static bool group_negated(const struct lower *lw, const char *group)
{
	for (size_t c = 0; c < PC_ARRAY_SIZE(lw->ir->chains); c++)
		for (size_t i = 0; i < lw->ir->chains[c].n; i++) {
			const struct pc_rule *r = &lw->ir->chains[c].rules[i];

			if ((r->saddr_not && r->saddr.name && strcmp(r->saddr.name, group) == 0) ||
			    (r->daddr_not && r->daddr.name && strcmp(r->daddr.name, group) == 0))
				return true;
		}
	return false;
}

/*
 * A group of at least this many single addresses that also holds a
 * prefix or range is split in two sets (issue 14): the addresses in the
 * hash set NAME_v4 and the prefixes and ranges in the interval set
 * NAME_v4_nets, and every rule matching the group becomes one nft rule per
 * set. A threat feed is mostly single addresses with some prefixes; as one
 * interval set its million entries take the kernel about 3.3 s to insert,
 * split about 0.8 s (bench/README.md). Below this size the kernel inserts
 * either form in well under a millisecond, and one rule and one set are
 * simpler to read.
 */
#define SPLIT_MIN_HOSTS 1024

/* The named set GROUP_v4 / GROUP_v6, made on first use; @loc: its definition or NULL. */
static const struct pc_nft_set *named_set_get(struct lower *lw, const char *group,
					      const struct pc_location *loc,
					      unsigned family,
					      const struct pc_addr *v, size_t n)
{
	char name[PC_NFT_NAME_MAX + 1];
	unsigned full = family == PC_FAM_IPV4 ? 32 : 128;
	struct pc_nft_set *s;
	size_t at, len = strlen(group), hosts = 0;
	bool found;

	/* the caller checked that the name fits */
	memcpy(name, group, len);
	memcpy(name + len, family == PC_FAM_IPV4 ? "_v4" : "_v6", 4);
	at = named_set_find(lw->plan, name, &found);
	if (found)
		return lw->plan->sets[at];
	for (size_t i = 0; i < n; i++)
		hosts += v[i].plen == full;
	/* the interval part's name: no group's set ends in _nets */
	if (hosts >= SPLIT_MIN_HOSTS && hosts < n && len + 8 <= PC_NFT_NAME_MAX &&
	    !group_negated(lw, group)) {
		s = addr_set_create(name, family, v, n, PART_HOSTS, hosts, lw->text);
		memcpy(name + len + 3, "_nets", 6);
		s->nets = addr_set_create(name, family, v, n, PART_NETS, n - hosts, lw->text);
		s->nets->loc = loc;
		named_set_insert(lw, s->nets);
	} else {
		s = addr_set_create(name, family, v, n, PART_ALL, n, lw->text);
	}
	s->loc = loc;
	named_set_insert(lw, s);
	return s;
}

/* The prefixes of @family in @as (the IR keeps IPv4 first, then IPv6). */
static const struct pc_addr *addrs_of(const struct pc_addr_set *as,
				      unsigned family, size_t *n)
{
	size_t i = 0, j;

	while (i < as->n && as->v[i].family != family)
		i++;
	j = i;
	while (j < as->n && as->v[j].family == family)
		j++;
	*n = j - i;
	return i < as->n ? &as->v[i] : NULL;
}

/* @part: 1 for the interval part of a split group (see SPLIT_MIN_HOSTS). */
static void addr_match(struct lower *lw, struct pc_nft_rule *nr,
		       const struct pc_addr_set *as, unsigned family,
		       struct pc_nft_match *m, size_t part)
{
	size_t n;
	const struct pc_addr *v;

	memset(m, 0, sizeof(*m));
	if (pc_addr_set_is_dynamic(as)) {
		/* declared by dynsets_declare(), found by name */
		m->kind = PC_NFT_MATCH_SET;
		m->set = named_set_get(lw, as->name, NULL, family, NULL, 0);
		return;
	}
	if (as->n == 0)
		return;
	v = addrs_of(as, family, &n);
	/* a negated list with no prefix of this family: no match (issue 14) */
	if (n == 0)
		return;
	if (as->name && pc_nft_identifier_ok(as->name) &&
	    strlen(as->name) + 3 <= PC_NFT_NAME_MAX) {
		m->kind = PC_NFT_MATCH_SET;
		m->set = named_set_get(lw, as->name, as->loc.line ? &as->loc : NULL,
				       family, v, n);
		if (part == 1)
			m->set = m->set->nets;
		return;
	}
	if (n == 1) {
		m->kind = PC_NFT_MATCH_VALUE;
		m->addr = v;
		return;
	}
	m->kind = PC_NFT_MATCH_SET;
	m->set = nr->sets[nr->n_sets++] = addr_set_create(NULL, family, v, n, PART_ALL, n, false);
}

static void port_match(struct pc_nft_rule *nr, struct pc_nft_match *m,
		       const struct pc_port_set *ps, uint8_t proto)
{
	struct pc_nft_set *s;

	memset(m, 0, sizeof(*m));
	if (ps->n == 0)
		return;
	if (ps->n == 1) {
		m->kind = ps->v[0].lo == ps->v[0].hi ? PC_NFT_MATCH_VALUE :
						       PC_NFT_MATCH_RANGE;
		m->lo = ps->v[0].lo;
		m->hi = ps->v[0].hi;
		return;
	}
	s = xzalloc(sizeof(*s));
	s->key = PC_NFT_KEY_PORT;
	s->l4proto = proto;
	s->n = ps->n;
	s->v = xcalloc(ps->n, sizeof(*s->v));
	for (size_t i = 0; i < ps->n; i++) {
		be16_put(s->v[i].lo, ps->v[i].lo);
		be16_put(s->v[i].hi, ps->v[i].hi);
		if (ps->v[i].lo != ps->v[i].hi)
			s->interval = true;
	}
	set_merge(s);
	if (s->n == 1) {
		/* merged into one interval: what nft makes of a one-element set */
		m->lo = (uint16_t)pc_nft_be16_get(s->v[0].lo);
		m->hi = (uint16_t)pc_nft_be16_get(s->v[0].hi);
		m->kind = m->lo == m->hi ? PC_NFT_MATCH_VALUE : PC_NFT_MATCH_RANGE;
		set_destroy(s);
		return;
	}
	m->kind = PC_NFT_MATCH_SET;
	m->set = nr->sets[nr->n_sets++] = s;
}

static void type_match(struct pc_nft_rule *nr, const struct pc_l4 *l4)
{
	struct pc_nft_match *m = &nr->icmp_type;
	struct pc_nft_set *s;

	memset(m, 0, sizeof(*m));
	if (l4->n_types == 0)
		return;
	if (l4->n_types == 1) {
		m->kind = PC_NFT_MATCH_VALUE;
		m->lo = m->hi = l4->types[0];
		return;
	}
	s = xzalloc(sizeof(*s));
	s->key = l4->proto == PC_PROTO_ICMP ? PC_NFT_KEY_ICMP : PC_NFT_KEY_ICMPV6;
	s->l4proto = l4->proto;
	s->n = l4->n_types;
	s->v = xcalloc(s->n, sizeof(*s->v));
	for (size_t i = 0; i < s->n; i++)
		s->v[i].lo[0] = s->v[i].hi[0] = l4->types[i];
	m->kind = PC_NFT_MATCH_SET;
	m->set = nr->sets[nr->n_sets++] = s;
}

struct rule_vec {
	struct pc_nft_rule *v;
	size_t n;
	size_t cap;
};

/* The vector is sized for the worst case up front (zeroed by calloc). */
static struct pc_nft_rule *rule_push(struct rule_vec *rv)
{
	if (rv->n >= rv->cap)
		PC_BUG("nft rule vector undersized (%zu)", rv->cap);
	return &rv->v[rv->n++];
}

/* Copies of a rule for its groups that may be split (SPLIT_MIN_HOSTS): 1, 2 or 4. */
static size_t split_factor(const struct pc_rule *r)
{
	return (r->saddr.n > SPLIT_MIN_HOSTS ? 2 : 1) * (r->daddr.n > SPLIT_MIN_HOSTS ? 2 : 1);
}

/*
 * At most: one per protocol alternative, per family, twice for a reject,
 * times split_factor().
 */
static size_t chain_rules_max(const struct pc_chain *ch)
{
	size_t n = 0;

	for (size_t i = 0; i < ch->n; i++) {
		const struct pc_rule *r = &ch->rules[i];

		n += (r->n_l4 ? r->n_l4 : 1) * 2 *
		     (r->verdict == PC_VERDICT_REJECT ? 2 : 1) *
		     (r->n_ifaces > 1 ? r->n_ifaces : 1) *
		     (r->n_oifaces ? r->n_oifaces : 1) * split_factor(r);
	}
	return n;
}

/* How many sets match @as for @family: 2 for a split group, else 1. */
static size_t addr_parts(struct lower *lw, const struct pc_addr_set *as, unsigned family)
{
	struct pc_nft_rule probe = { 0 };
	struct pc_nft_match m;

	if (!as->name || pc_addr_set_is_dynamic(as) || family == 0 || as->n == 0 ||
	    !pc_nft_identifier_ok(as->name) || strlen(as->name) + 3 > PC_NFT_NAME_MAX)
		return 1;
	/* a named group's set, made here if first used; never anonymous */
	addr_match(lw, &probe, as, family, &m, 0);
	return m.kind == PC_NFT_MATCH_SET && m.set->name && m.set->nets ? 2 : 1;
}

/*
 * One nft rule for family @family (0: both) and protocol alternative @l4
 * (NULL: any protocol, or @force_proto when >= 0), for the set parts
 * @sp and @dp of split source and destination groups.
 */
static void lower_one_part(struct lower *lw, struct rule_vec *rv, enum pc_direction dir,
			   const struct pc_rule *r, unsigned family,
			   const struct pc_l4 *l4, int force_proto,
			   enum pc_nft_verdict verdict, const char *comment,
			   size_t sp, size_t dp)
{
	struct pc_nft_rule *nr = rule_push(rv);
	bool implied = false;

	nr->src = r;
	nr->family = family;
	nr->ifname = lw->ifname;
	nr->oifname = lw->oifname;
	nr->oif = dir == PC_DIR_OUT;
	addr_match(lw, nr, &r->saddr, family, &nr->saddr, sp);
	addr_match(lw, nr, &r->daddr, family, &nr->daddr, dp);
	if (nr->saddr.kind != PC_NFT_MATCH_NONE || nr->daddr.kind != PC_NFT_MATCH_NONE)
		implied = true;
	nr->proto = -1;
	if (l4) {
		nr->proto = l4->proto;
		if (pc_proto_has_ports(l4->proto)) {
			port_match(nr, &nr->dport, &l4->dports, l4->proto);
			port_match(nr, &nr->sport, &r->sports, l4->proto);
		}
		else if (l4->proto == PC_PROTO_ICMP || l4->proto == PC_PROTO_ICMPV6)
			type_match(nr, l4);
		if (nr->icmp_type.kind != PC_NFT_MATCH_NONE)
			implied = true;
	} else if (force_proto >= 0) {
		nr->proto = force_proto;
	}
	nr->nfproto = family != 0 && !implied;
	nr->ct_state = r->ct_state;
	nr->limit = lw->limit;
	if (r->limit.rate && r->limit_per_source)
		nr->meter = lw->meter[family == PC_FAM_IPV6];
	nr->log = r->log;
	nr->log_prefix = r->log_prefix;
	nr->log_nflog = r->log_nflog;
	nr->log_group = r->log_group;
	nr->ifname_not = r->iface_not;
	/* a negated list without a prefix of this family matches every
	 * packet of it: no match at all (addr_match() left it NONE) */
	nr->saddr_not = r->saddr_not && nr->saddr.kind != PC_NFT_MATCH_NONE;
	nr->daddr_not = r->daddr_not && nr->daddr.kind != PC_NFT_MATCH_NONE;
	nr->verdict = verdict;
	nr->comment = xstrdup(comment);
	if (lw->nat) {
		static const enum pc_nft_verdict nat_verdicts[__PC_NAT_MAX] = {
			[PC_NAT_MASQUERADE] = PC_NFT_MASQUERADE,
			[PC_NAT_SNAT] = PC_NFT_SNAT,
			[PC_NAT_DNAT] = PC_NFT_DNAT,
		};

		nr->verdict = nat_verdicts[lw->nat->kind];
		if (lw->nat->kind != PC_NAT_MASQUERADE)
			nr->nat_addr = &lw->nat->to;
		nr->nat_port = lw->nat->to_port;
	}
}

/*
 * The nft rules of one alternative: one, or one per set of a split group
 * (two, four with split groups on both sides). The sets of a split group
 * are disjoint (its addresses and its prefixes; a group holds no address
 * inside one of its prefixes), so a packet meets at most one of these
 * rules, and the rules keep the line's meaning, verdict, log and limit.
 */
static void lower_one(struct lower *lw, struct rule_vec *rv, enum pc_direction dir,
		      const struct pc_rule *r, unsigned family,
		      const struct pc_l4 *l4, int force_proto,
		      enum pc_nft_verdict verdict, const char *comment)
{
	size_t ns = addr_parts(lw, &r->saddr, family), nd = addr_parts(lw, &r->daddr, family);

	for (size_t sp = 0; sp < ns; sp++)
		for (size_t dp = 0; dp < nd; dp++)
			lower_one_part(lw, rv, dir, r, family, l4, force_proto, verdict,
				       comment, sp, dp);
}

/* The families the rule needs one nft rule each for (0 = one for both). */
static size_t rule_families(const struct pc_rule *r, const struct pc_l4 *l4,
			    unsigned out[2])
{
	unsigned fams = r->families;
	size_t n = 0;

	if (l4 && l4->proto == PC_PROTO_ICMP)
		fams &= PC_FAM_IPV4;
	else if (l4 && l4->proto == PC_PROTO_ICMPV6)
		fams &= PC_FAM_IPV6;
	/* a per-source limit keys on `ip saddr` or `ip6 saddr`: one rule
	 * per family (issue 14) */
	if (r->saddr.n || r->daddr.n || fams != PC_FAM_ALL ||
	    (r->limit.rate && r->limit_per_source) ||
	    pc_addr_set_is_dynamic(&r->saddr) || pc_addr_set_is_dynamic(&r->daddr) ||
	    (l4 && (l4->proto == PC_PROTO_ICMP || l4->proto == PC_PROTO_ICMPV6))) {
		static const unsigned each[2] = { PC_FAM_IPV4, PC_FAM_IPV6 };

		for (size_t i = 0; i < 2; i++) {
			size_t k;

			if (!(fams & each[i]))
				continue;
			if (r->saddr.n && !r->saddr_not &&
			    (addrs_of(&r->saddr, each[i], &k), k == 0))
				continue;
			if (r->daddr.n && !r->daddr_not &&
			    (addrs_of(&r->daddr, each[i], &k), k == 0))
				continue;
			out[n++] = each[i];
		}
		return n;
	}
	out[0] = 0;
	return 1;
}

/* The nft rules of @r for the interfaces in @lw: per protocol and family. */
static void lower_alternatives(struct lower *lw, struct rule_vec *rv,
			       enum pc_direction dir, const struct pc_rule *r,
			       const char *comment)
{
	size_t n_alt = r->n_l4 ? r->n_l4 : 1;

	for (size_t a = 0; a < n_alt; a++) {
		const struct pc_l4 *l4 = r->n_l4 ? &r->l4[a] : NULL;
		unsigned fams[2];
		size_t nf = rule_families(r, l4, fams);

		for (size_t f = 0; f < nf; f++) {
			switch (r->verdict) {
			case PC_VERDICT_ALLOW:
				lower_one(lw, rv, dir, r, fams[f], l4, -1,
					  PC_NFT_ACCEPT, comment);
				break;
			case PC_VERDICT_DENY:
				lower_one(lw, rv, dir, r, fams[f], l4, -1,
					  PC_NFT_DROP, comment);
				break;
			case PC_VERDICT_REJECT:
				if (!l4) {
					/* TCP gets a reset, everything else ICMP. */
					lower_one(lw, rv, dir, r, fams[f], NULL,
						  PC_PROTO_TCP, PC_NFT_REJECT_TCP,
						  comment);
					lower_one(lw, rv, dir, r, fams[f], NULL, -1,
						  PC_NFT_REJECT, comment);
				} else {
					lower_one(lw, rv, dir, r, fams[f], l4, -1,
						  l4->proto == PC_PROTO_TCP ?
						  PC_NFT_REJECT_TCP : PC_NFT_REJECT,
						  comment);
				}
				break;
			case __PC_VERDICT_MAX:
				PC_BUG("bad verdict %d", (int)r->verdict);
			}
		}
	}
}

/* Seconds a bucket takes to fill up from empty: burst / rate. */
static uint32_t refill_seconds(const struct pc_rule *r)
{
	static const uint64_t unit[__PC_LIMIT_MAX] = { 1, 60, 3600, 86400 };
	uint64_t burst = r->limit_burst ? r->limit_burst : 5;

	return (uint32_t)((burst * unit[r->limit.unit] + r->limit.rate - 1) / r->limit.rate);
}

/*
 * matches (issue 14): the sets of a `limit ... per source`, one per
 * family the rule has: _meter_CHAIN_N_v4 / _v6 (no policy group name
 * starts with '_'). A source's element lives until it has sent nothing
 * for the timeout: at least a minute, and never less than its bucket
 * takes to fill up, so that forgetting a source never lets it send more
 * than its bucket would have. At most PC_NFT_METER_SIZE sources at once:
 * when the set is full, a new source is treated as over the rate (the
 * kernel cannot add its element and the rule does not match).
 */
static void meters_make(struct lower *lw, enum pc_direction dir, const struct pc_rule *r)
{
	static const unsigned fams[2] = { PC_FAM_IPV4, PC_FAM_IPV6 };
	uint32_t timeout = refill_seconds(r);
	char *base = xasprintf("_meter_%s_%u", chain_names[dir], ++lw->chain_meters);

	if (timeout < 60)
		timeout = 60;
	for (size_t f = 0; f < 2; f++) {
		struct pc_nft_set *s;

		if (!(r->families & fams[f]))
			continue;
		s = (struct pc_nft_set *)named_set_get(lw, base, NULL, fams[f], NULL, 0);
		s->meter = true;
		s->interval = false;
		s->timeout = timeout;
		s->size = PC_NFT_METER_SIZE;
		lw->meter[f] = s;
	}
	free(base);
}

static void lower_rule(struct lower *lw, struct rule_vec *rv,
		       enum pc_direction dir, const struct pc_rule *r,
		       const char *comment);

/* The @n @rules of one chain into @nc; false after reporting errors. */
static bool lower_rules(struct lower *lw, struct pc_nft_chain *nc, enum pc_direction dir,
			const struct pc_chain *ch)
{
	struct rule_vec rv = { 0 };
	bool ok = true;

	rv.cap = chain_rules_max(ch);
	rv.v = xcalloc(rv.cap + 1, sizeof(*rv.v));
	for (size_t i = 0; i < ch->n; i++) {
		const struct pc_rule *r = &ch->rules[i];
		char comment[PC_NFT_COMMENT_BUF];

		pc_nft_rule_comment(r, dir, comment, sizeof(comment));
		if (pc_nft_check_rule(r, comment, lw->diag))
			lower_rule(lw, &rv, dir, r, comment);
		else
			ok = false;
		/* a spooled view's pages go back as they are read (issue 15) */
		pc_arena_release(lw->plan->spool, sizeof(*r) + r->n_map * PC_NFT_ELEM_READ);
	}
	/* counters (issue 14): every rule, and every element of a map */
	if (lw->ir->options & PC_OPT_COUNTERS)
		for (size_t i = 0; i < rv.n; i++)
			rv.v[i].counter = !rv.v[i].vmap && !rv.v[i].dispatch;
	/* the worst case is far above what the optimiser's folds leave (a
	 * 1,000,000-rule policy): the plan keeps only the rules made */
	rv.v = xrealloc(rv.v, (rv.n + 1) * sizeof(*rv.v));
	nc->rules = rv.v;
	nc->n = rv.n;
	return ok;
}

static void sub_push(struct lower *lw, const struct pc_nft_chain *nc)
{
	struct pc_nft_plan *plan = lw->plan;

	plan->sub = xgrow(plan->sub, &lw->sub_cap, plan->n_sub + 1, sizeof(*plan->sub));
	plan->sub[plan->n_sub++] = *nc;
}

/*
 * A dispatch, in two levels: `meta nfproto . meta l4proto vmap { ipv4 .
 * tcp : jump input_d1_ipv4_tcp, ... }` (a few elements), then in that
 * chain `tcp dport vmap { 22 : jump input_c1, ... }`, then the class
 * chains. One lookup in a concatenation with thousands of port intervals
 * (the kernel's pipapo set, whose lookup grows with its elements) cost
 * the packet path more than these two small or single-field lookups
 * (bench/README.md, the dispatch).
 */
/* The one protocol of the packets that enter class chain @c of @d, or -1. */
static int class_proto(const struct pc_dispatch *d, size_t c)
{
	int proto = -1;

	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].cls != c)
			continue;
		if (proto >= 0 && proto != d->v[i].proto)
			return -1;
		proto = d->v[i].proto;
	}
	return proto;
}

static void lower_dispatch(struct lower *lw, struct pc_nft_rule *nr, enum pc_direction dir,
			   const struct pc_rule *r, const char *comment)
{
	const struct pc_dispatch *d = r->dispatch;
	const char **classes = xcalloc(d->n_classes + 1, sizeof(*classes));
	size_t n_levels = 0;
	unsigned number = ++lw->chain_dispatches;

	nr->src = r;
	nr->proto = -1;
	nr->dispatch = d;
	nr->comment = xstrdup(comment);
	for (size_t c = 0; c < d->n_classes; c++) {
		struct pc_nft_chain nc = { 0 };

		nc.name = xasprintf("%s_c%u", chain_names[dir], ++lw->chain_subs);
		nc.hook = chain_hooks[dir];
		/* the errors are reported; the plan is dropped at the end */
		lw->in_class = true;
		lw->class_proto = class_proto(d, c);
		lower_rules(lw, &nc, dir, &d->classes[c]);
		lw->in_class = false;
		lw->class_proto = -1;
		classes[c] = nc.name;
		sub_push(lw, &nc);
	}
	/* one port-level chain per (family, protocol), in element order */
	nr->dispatch_chains = xcalloc(d->n + 1, sizeof(*nr->dispatch_chains));
	for (size_t i = 0; i < d->n; i++) {
		const struct pc_dispatch_elem *e = &d->v[i];
		struct pc_nft_chain nc = { 0 };
		struct pc_nft_rule *lr;

		if (i && e->family == d->v[i - 1].family && e->proto == d->v[i - 1].proto)
			continue;
		nc.name = xasprintf("%s_d%u_%s_%s", chain_names[dir], number,
				    e->family == PC_FAM_IPV6 ? "ipv6" : "ipv4",
				    pc_proto_name(e->proto));
		nc.hook = chain_hooks[dir];
		nc.n = 1;
		nc.rules = xcalloc(1, sizeof(*nc.rules));
		lr = &nc.rules[0];
		lr->src = r;
		lr->proto = -1;
		lr->dispatch = d;
		lr->dispatch_family = e->family;
		lr->dispatch_proto = e->proto;
		lr->dispatch_chains = xcalloc(d->n_classes + 1, sizeof(*classes));
		memcpy(lr->dispatch_chains, classes, d->n_classes * sizeof(*classes));
		lr->comment = xstrdup(comment);
		nr->dispatch_chains[n_levels++] = nc.name;
		sub_push(lw, &nc);
	}
	free(classes);
}

static void lower_rule(struct lower *lw, struct rule_vec *rv,
		       enum pc_direction dir, const struct pc_rule *r,
		       const char *comment)
{
	if (r->n_map) {
		lower_map(lw, rule_push(rv), dir, r, comment);
		return;
	}
	if (r->dispatch) {
		lower_dispatch(lw, rule_push(rv), dir, r, comment);
		return;
	}
	lw->limit = NULL;
	/* a rule copied into several class chains of a dispatch keeps one
	 * bucket: the limit object of the policy line */
	if (lw->in_class && r->limit.rate)
		lw->limit = loc_map_get(&lw->limit_at, &r->loc, 0);
	lw->meter[0] = lw->meter[1] = NULL;
	if (r->limit.rate && r->limit_per_source) {
		meters_make(lw, dir, r);
	} else if (r->limit.rate && !lw->limit) {
		struct pc_nft_limit *l = xzalloc(sizeof(*l));
		struct pc_nft_plan *plan = lw->plan;

		l->name = xasprintf("%s_limit_%u", chain_names[dir], ++lw->chain_limits);
		l->limit = r->limit;
		l->src = r;
		plan->limits = xgrow(plan->limits, &lw->limits_cap, plan->n_limits + 1,
				     sizeof(*plan->limits));
		plan->limits[plan->n_limits++] = l;
		loc_map_put(&lw->limit_at, &r->loc, 0, l);
		lw->limit = l;
	}
	/* one copy per pair of interfaces, all sharing the limit object above */
	for (size_t i = 0; i < (r->n_ifaces > 1 ? r->n_ifaces : 1); i++)
		for (size_t o = 0; o < (r->n_oifaces ? r->n_oifaces : 1); o++) {
			lw->ifname = r->n_ifaces > 1 ? r->ifaces[i] : r->iface;
			lw->oifname = r->n_oifaces ? r->oifaces[o] : NULL;
			lower_alternatives(lw, rv, dir, r, comment);
		}
}

/*
 * sets (issue 14): every dynamic set, used or not, as NAME_v4 and
 * NAME_v6 (one key type per nft set), so that the tools meant to fill
 * them find them. Single addresses, no intervals: the kernel updates only
 * such sets from the packet path (flags dynamic).
 */
static bool dynsets_declare(struct lower *lw)
{
	static const unsigned fams[2] = { PC_FAM_IPV4, PC_FAM_IPV6 };
	bool ok = true;

	for (size_t i = 0; i < lw->ir->n_dynsets; i++) {
		const struct pc_dynset *d = &lw->ir->dynsets[i];

		if (!pc_nft_identifier_ok(d->name) || strlen(d->name) + 3 > PC_NFT_NAME_MAX) {
			pc_diag_error(lw->diag, &d->loc,
				      "backend 'nft' cannot name a set '%s_v4' (a letter, then letters, digits, '_' and '.')",
				      d->name);
			ok = false;
			continue;
		}
		for (size_t f = 0; f < 2; f++) {
			struct pc_nft_set *s = (struct pc_nft_set *)
				named_set_get(lw, d->name, &d->loc, fams[f], NULL, 0);

			s->dynamic = true;
			s->interval = false;
			s->timeout = d->timeout;
		}
	}
	return ok;
}

/*
 * NAT (routers): the statements in two `type nat` chains of the same
 * table, prerouting (dnat) and postrouting (masquerade, snat), so that
 * replacing the table replaces them too. A NAT statement is lowered as a
 * filter rule of its match whose verdict is the translation.
 */
static bool lower_nat(struct lower *lw)
{
	static const struct {
		const char *name;
		unsigned hook;
		int prio;
	} nat_chains[2] = {
		{ "prerouting", NF_INET_PRE_ROUTING, -100 },
		{ "postrouting", NF_INET_POST_ROUTING, 100 },
	};
	const struct pc_ir *ir = lw->ir;
	bool ok = true;

	lw->plan->nat_rules = xcalloc(ir->n_nat, sizeof(*lw->plan->nat_rules));
	for (size_t c = 0; c < 2; c++) {
		struct pc_nft_chain *nc = &lw->plan->chains[3 + c];
		struct rule_vec rv = { 0 };

		nc->name = nat_chains[c].name;
		nc->hook = nat_chains[c].hook;
		nc->prio = nat_chains[c].prio;
		nc->nat = true;
		nc->policy = PC_VERDICT_ALLOW;
		for (size_t i = 0; i < ir->n_nat; i++) {
			const struct pc_nat_rule *n = &ir->nat[i];
			size_t ni = n->n_ifaces > 1 ? n->n_ifaces : 1;
			/* the nft rules point at it: kept by the plan */
			struct pc_rule *r = &lw->plan->nat_rules[i];
			char comment[PC_NFT_COMMENT_BUF];

			if ((n->kind == PC_NAT_DNAT) != (c == 0))
				continue;
			r->origin = PC_ORIGIN_POLICY;
			r->loc = n->loc;
			r->verdict = PC_VERDICT_ALLOW;
			r->families = n->families;
			r->iface = n->iface;
			r->n_ifaces = n->n_ifaces;
			r->ifaces = n->ifaces;
			r->saddr = n->saddr;
			r->daddr = n->daddr;
			r->n_l4 = n->n_l4;
			r->l4 = (struct pc_l4 *)n->l4;
			r->comment = n->comment;
			pc_nft_rule_comment(r, PC_DIR_IN, comment, sizeof(comment));
			if (!pc_nft_check_rule(r, comment, lw->diag)) {
				ok = false;
				continue;
			}
			/* room for every copy: interfaces x protocols x families x split sets */
			rv.cap += ni * (n->n_l4 ? n->n_l4 : 1) * 2 * split_factor(r);
			rv.v = xrealloc(rv.v, rv.cap * sizeof(*rv.v));
			memset(rv.v + rv.n, 0, (rv.cap - rv.n) * sizeof(*rv.v));
			lw->nat = n;
			lw->limit = NULL;
			for (size_t k = 0; k < ni; k++) {
				lw->ifname = n->n_ifaces > 1 ? n->ifaces[k] : n->iface;
				lw->oifname = NULL;
				/* postrouting: `on` is the leaving interface */
				lower_alternatives(lw, &rv, c == 0 ? PC_DIR_IN : PC_DIR_OUT,
						   r, comment);
			}
			lw->nat = NULL;
		}
		nc->rules = rv.v;
		nc->n = rv.n;
	}
	lw->plan->n_chains = 5;
	return ok;
}

static struct pc_nft_plan *plan_create(const struct pc_ir *ir, struct pc_diag *diag,
				       bool text)
{
	struct lower lw = { .ir = ir, .diag = diag, .text = text, .class_proto = -1 };
	bool ok = true;

	lw.plan = xzalloc(sizeof(*lw.plan));
	lw.plan->table = ir->table;
	lw.plan->spool = pc_ir_spool(ir);
	if (!pc_nft_check_table(ir, diag))
		ok = false;
	if (!dynsets_declare(&lw))
		ok = false;
	for (size_t c = 0; c < 3; c++) {
		enum pc_direction dir = chain_order[c];
		const struct pc_chain *ch = &ir->chains[dir];
		struct pc_nft_chain *nc = &lw.plan->chains[c];

		nc->name = chain_names[dir];
		nc->hook = chain_hooks[dir];
		nc->policy = ch->policy == PC_VERDICT_ALLOW ? PC_VERDICT_ALLOW :
							      PC_VERDICT_DENY;
		lw.chain_maps = 0;
		lw.chain_limits = 0;
		lw.chain_meters = 0;
		lw.chain_subs = 0;
		lw.chain_dispatches = 0;
		lw.chain_actions = 0;
		lw.n_actions = 0;
		loc_map_clear(&lw.action_at);
		if (!lower_rules(&lw, nc, dir, ch))
			ok = false;
	}
	lw.plan->n_chains = 3;
	free(lw.actions);
	loc_map_clear(&lw.action_at);
	loc_map_clear(&lw.limit_at);
	if (ir->n_nat && !lower_nat(&lw))
		ok = false;
	if (!ok) {
		pc_nft_plan_destroy(lw.plan);
		return NULL;
	}
	pc_nft_share_sets(lw.plan);
	return lw.plan;
}

struct pc_nft_plan *pc_nft_plan_create(const struct pc_ir *ir, struct pc_diag *diag)
{
	return plan_create(ir, diag, false);
}

struct pc_nft_plan *pc_nft_plan_create_text(const struct pc_ir *ir, struct pc_diag *diag)
{
	return plan_create(ir, diag, true);
}

/*
 * Given a size, the kernel picks its fixed-size hash for a set of single
 * addresses instead of the resizable one: a million inserts then take
 * about 0.7 s instead of 1.7 s (bench/README.md). The size is also the
 * most the set may hold, which costs nothing here: apply and nft -f
 * replace a group's set whole, and the sets other tools add to are the
 * dynamic ones, which have none.
 */
uint32_t pc_nft_set_size(const struct pc_nft_set *s)
{
	if (!s->name || s->interval || s->dynamic || s->n == 0 || s->n > UINT32_MAX ||
	    (s->key != PC_NFT_KEY_IPV4 && s->key != PC_NFT_KEY_IPV6))
		return 0;
	return (uint32_t)s->n;
}

void pc_nft_set_merge(struct pc_nft_set *s)
{
	set_merge(s);
}
