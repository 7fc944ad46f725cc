/* SPDX-License-Identifier: MIT */
/*
 * Building libnftnl objects from an nft plan: the one encoder of a rule, used by
 * apply, diff and the rollback batch alike.
 */
#include "backends/netlink/nl_internal.h"

#include <linux/netfilter/nf_nat.h>

/* Objects. */

struct nl_set *objs_add_set(struct pc_nl_objs *o)
{
	o->sets = xgrow(o->sets, &o->sets_cap, o->n_sets + 1, sizeof(*o->sets));
	memset(&o->sets[o->n_sets], 0, sizeof(o->sets[0]));
	return &o->sets[o->n_sets++];
}

struct nl_rule *objs_add_rule(struct pc_nl_objs *o)
{
	o->rules = xgrow(o->rules, &o->rules_cap, o->n_rules + 1, sizeof(*o->rules));
	memset(&o->rules[o->n_rules], 0, sizeof(o->rules[0]));
	return &o->rules[o->n_rules++];
}

void objs_add_chain(struct pc_nl_objs *o, struct nftnl_chain *c)
{
	o->chains = xgrow(o->chains, &o->chains_cap, o->n_chains + 1,
			  sizeof(*o->chains));
	o->chains[o->n_chains++] = c;
}

static void objs_add_obj(struct pc_nl_objs *o, struct nftnl_obj *obj)
{
	o->objs = xgrow(o->objs, &o->objs_cap, o->n_objs + 1, sizeof(*o->objs));
	o->objs[o->n_objs++] = obj;
}

struct nl_elem *set_add_elem(struct nl_set *s, const uint8_t *key,
				     uint32_t len, uint32_t flags, bool open)
{
	struct nl_elem *e;

	s->e = xgrow(s->e, &s->cap, s->n + 1, sizeof(*s->e));
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, len);
	e->len = len;
	e->flags = flags;
	e->open = open;
	return e;
}

void elem_set_end(struct nl_elem *e, const uint8_t *end)
{
	e->key_end = xmalloc(e->len);
	memcpy(e->key_end, end, e->len);
	e->has_end = true;
}

/* "map" for a map (verdict maps), else "set". */
const char *set_kind(const struct nl_set *ns)
{
	return nftnl_set_is_set(ns->s, NFTNL_SET_FLAGS) &&
	       (nftnl_set_get_u32(ns->s, NFTNL_SET_FLAGS) & NFT_SET_MAP) ? "map" : "set";
}

static void set_free_elems(struct nl_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->e[i].comment);
		free(s->e[i].key_end);
		free(s->e[i].chain);
	}
	free(s->e);
	for (size_t i = 0; i < s->n_raw; i++)
		nftnl_set_free(s->raw[i]);
	free(s->raw);
}

void pc_nl_objs_destroy(struct pc_nl_objs *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n_sets; i++) {
		nftnl_set_free(o->sets[i].s);
		free(o->sets[i].name);
		set_free_elems(&o->sets[i]);
	}
	for (size_t i = 0; i < o->n_chains; i++)
		nftnl_chain_free(o->chains[i]);
	for (size_t i = 0; i < o->n_rules; i++) {
		nftnl_rule_free(o->rules[i].r);
		free(o->rules[i].chain);
		free(o->rules[i].comment);
		free(o->rules[i].lk);
	}
	for (size_t i = 0; i < o->n_objs; i++)
		nftnl_obj_free(o->objs[i]);
	for (size_t i = 0; i < o->n_fts; i++)
		nftnl_flowtable_free(o->fts[i]);
	free(o->objs);
	free(o->fts);
	free(o->sets);
	free(o->chains);
	free(o->rules);
	free(o->table_comment);
	free(o->table_udata);
	free(o->table);
	free(o);
}

size_t pc_nl_objs_rule_count(const struct pc_nl_objs *o)
{
	return o ? o->n_rules : 0;
}

/* Building from a plan: the expressions nft generates for the same text. */

static struct nftnl_expr *expr_new(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		PC_BUG("nftnl_expr_alloc(%s)", name);
	nftnl_rule_add_expr(r, e);
	return e;
}

/*
 * How many bytes of the interface name nft compares: all 16 (the name and
 * its NUL padding), or for a name ending in an unescaped '*' (nft's
 * wildcard, "eth*") only the bytes before the star.
 */
static uint32_t ifname_cmp_len(const char *name)
{
	size_t len = strlen(name);

	if (len >= 1 && name[len - 1] == '*' && (len < 2 || name[len - 2] != '\\'))
		return (uint32_t)(len - 1);
	return 16;
}

static void add_meta_reg(struct nftnl_rule *r, uint32_t key, uint32_t reg)
{
	struct nftnl_expr *e = expr_new(r, "meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, reg);
}

static void add_meta(struct nftnl_rule *r, uint32_t key)
{
	add_meta_reg(r, key, NFT_REG_1);
}

static void add_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr_new(r, "cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void add_payload_reg(struct nftnl_rule *r, uint32_t base, uint32_t offset,
			    uint32_t len, uint32_t reg)
{
	struct nftnl_expr *e = expr_new(r, "payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

static void add_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset,
			uint32_t len)
{
	struct nftnl_expr *e = expr_new(r, "payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

static void add_bitwise(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	struct nftnl_expr *e = expr_new(r, "bitwise");
	uint8_t zero[16] = { 0 };

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
}

static void add_lookup(struct pc_nl_objs *o, struct nl_rule *nr, size_t set)
{
	struct nftnl_expr *e = expr_new(nr->r, "lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	/* The kernel names an anonymous set; the batch refers to it by id. */
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET,
			   o->sets[set].anon ? "__set%d" : o->sets[set].name);
	nr->lk = xrealloc(nr->lk, (nr->n_lk + 1) * sizeof(*nr->lk));
	nr->lk[nr->n_lk].expr = e;
	nr->lk[nr->n_lk].set = set;
	nr->n_lk++;
}

static uint32_t key_type(enum pc_nft_key k)
{
	switch (k) {
	case PC_NFT_KEY_IPV4:
		return NFT_TYPE_IPADDR;
	case PC_NFT_KEY_IPV6:
		return NFT_TYPE_IP6ADDR;
	case PC_NFT_KEY_PORT:
		return NFT_TYPE_INET_SERVICE;
	case PC_NFT_KEY_ICMP:
		return NFT_TYPE_ICMP_TYPE;
	case PC_NFT_KEY_ICMPV6:
		return NFT_TYPE_ICMP6_TYPE;
	case __PC_NFT_KEY_MAX:
		break;
	}
	PC_BUG("bad key %d", (int)k);
}

static void elem_none(void *ctx, const uint8_t *key, uint32_t len, uint32_t flags,
		      bool open)
{
	(void)ctx;
	(void)key;
	(void)len;
	(void)flags;
	(void)open;
}

size_t plan_set_elems(const struct pc_nft_set *ps, nl_elem_fn *fn, void *ctx)
{
	unsigned len = pc_nft_key_len(ps->key);
	uint8_t zero[16] = { 0 };
	size_t n = 0;

	if (!fn)
		fn = elem_none;
	if (!ps->interval) {
		for (size_t i = 0; i < ps->n; i++)
			fn(ctx, ps->v[i].lo, len, 0, false);
		return ps->n;
	}
	if (ps->n && memcmp(ps->v[0].lo, zero, len) != 0) {
		fn(ctx, zero, len, NFT_SET_ELEM_INTERVAL_END, false);
		n++;
	}
	for (size_t i = 0; i < ps->n; i++) {
		uint8_t end[16];
		int b;

		memcpy(end, ps->v[i].hi, len);
		for (b = (int)len - 1; b >= 0; b--)
			if (++end[b] != 0)
				break;
		fn(ctx, ps->v[i].lo, len, 0, b < 0);
		n++;
		if (b < 0)
			continue;
		if (i + 1 < ps->n && memcmp(ps->v[i + 1].lo, end, len) == 0)
			continue;
		fn(ctx, end, len, NFT_SET_ELEM_INTERVAL_END, false);
		n++;
	}
	return n;
}

struct elem_copy {
	struct nl_elem *e;
	size_t n;
};

static void elem_copy(void *ctx, const uint8_t *key, uint32_t len, uint32_t flags, bool open)
{
	struct elem_copy *c = ctx;
	struct nl_elem *e = &c->e[c->n++];

	memcpy(e->key, key, len);
	e->len = len;
	e->flags = flags;
	e->open = open;
}

struct nl_elem *plan_set_elem_array(const struct pc_nft_set *ps, size_t *n)
{
	size_t count = plan_set_elems(ps, NULL, NULL);
	struct elem_copy c = { xcalloc(count + 1, sizeof(*c.e)), 0 };

	plan_set_elems(ps, elem_copy, &c);
	*n = c.n;
	return c.e;
}

/*
 * A plan's set with its elements copied into @ns->e, as a set read from
 * the kernel has them: for a re-apply, which compares them element by
 * element with the live set's (only then: a first apply walks the plan).
 */
void nl_set_materialize(struct nl_set *ns)
{
	if (!ns->plan)
		return;
	free(ns->e);
	ns->e = plan_set_elem_array(ns->plan, &ns->n);
	ns->cap = ns->n;
	ns->plan = NULL;
}

static size_t set_from_plan(struct pc_nl_objs *o, const struct pc_nft_set *ps,
			    const char *name)
{
	struct nl_set *ns = objs_add_set(o);
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	uint32_t flags = ps->interval ? NFT_SET_INTERVAL : 0;

	if (!s || !ud)
		PC_BUG("out of memory");
	ns->s = s;
	ns->name = xstrdup(name);
	ns->anon = ps->name == NULL;
	ns->plan = ps;
	if (ns->anon)
		flags |= NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, o->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (ps->dynamic || ps->meter) {
		flags |= NFT_SET_TIMEOUT | NFT_SET_EVAL;
		if (ps->timeout)
			nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, (uint64_t)ps->timeout * 1000);
	}
	ns->meter = ps->meter;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type(ps->key));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, pc_nft_key_len(ps->key));
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, NFT_BYTEORDER_BIG);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
			   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	if (ns->anon)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE,
				  (uint32_t)plan_set_elems(ps, NULL, NULL));
	else if (ps->meter)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, ps->size);
	else if (pc_nft_set_size(ps))
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, pc_nft_set_size(ps));
	return (size_t)(ns - o->sets);
}

static size_t named_set_index(const struct pc_nl_objs *o, const char *name)
{
	for (size_t i = 0; i < o->n_sets; i++)
		if (!o->sets[i].anon && strcmp(o->sets[i].name, name) == 0)
			return i;
	PC_BUG("named set %s missing", name);
}

/* A named set of the plan (groups, shared sets), or the rule's own anonymous one. */
static size_t set_index(struct pc_nl_objs *o, const struct pc_nft_set *ps)
{
	return ps->name ? named_set_index(o, ps->name) : set_from_plan(o, ps, "__set%d");
}

/*
 * Verdict maps: `type ipv4_addr . inet_proto . inet_service : verdict;
 * flags interval`, as nft sends it. Each field of a concatenated key
 * takes a whole number of 32-bit registers (nft pads it), and an interval
 * element is one element with a start key and an end key.
 */
static unsigned vmap_addr_len(const struct pc_nft_map *m)
{
	return m->family == PC_FAM_IPV6 ? 16 : 4;
}

/* The address fields of the key: the source, and the destination too. */
static unsigned vmap_addrs(const struct pc_nft_map *m)
{
	return m->daddr ? 2 : 1;
}

/* The bytes of the interface name at the start of the key (issue 15). */
static unsigned vmap_iface_len(const struct pc_nft_map *m)
{
	return m->iface ? NFT_IFNAME_LEN : 0;
}

/* The key's last fields: protocol and port, or the ICMP type (issue 15). */
static uint32_t vmap_tail_len(const struct pc_nft_map *m)
{
	if (m->noport)
		return 0;       /* narrowed: the dispatch decided them */
	return m->icmp ? 4 : 4 + 4;
}

static uint32_t vmap_key_len(const struct pc_nft_map *m)
{
	return vmap_iface_len(m) + vmap_addrs(m) * vmap_addr_len(m) + vmap_tail_len(m);
}

/* nft's type of the key: its fields' types, 6 bits each (nl_internal.h). */
static uint32_t vmap_key_type(const struct pc_nft_map *m)
{
	uint32_t addr = m->family == PC_FAM_IPV6 ? NFT_TYPE_IP6ADDR : NFT_TYPE_IPADDR;
	uint32_t t = m->iface ? NFT_TYPE_IFNAME : 0;

	t = t << NFT_TYPE_BITS | addr;
	if (m->daddr)
		t = t << NFT_TYPE_BITS | addr;
	if (m->noport)
		return t;
	if (m->icmp)
		return t << NFT_TYPE_BITS | (m->family == PC_FAM_IPV6 ? NFT_TYPE_ICMP6_TYPE :
									 NFT_TYPE_ICMP_TYPE);
	t = t << NFT_TYPE_BITS | NFT_TYPE_INET_PROTOCOL;
	return t << NFT_TYPE_BITS | NFT_TYPE_INET_SERVICE;
}

/* The start and end keys of element @e (vmap_key_len() bytes each). */
static void vmap_elem_keys(const struct pc_nft_map *m, size_t i, uint8_t *lo, uint8_t *hi)
{
	const struct pc_map_elem *e = &m->v[i];
	unsigned alen = vmap_addr_len(m);

	memset(lo, 0, vmap_key_len(m));
	memset(hi, 0, vmap_key_len(m));
	if (m->iface) {
		/* one exact name, padded with NULs as the kernel loads it */
		size_t n = strlen(m->iface[i]);

		memcpy(lo, m->iface[i], n < NFT_IFNAME_LEN ? n : NFT_IFNAME_LEN);
		memcpy(hi, lo, NFT_IFNAME_LEN);
		lo += NFT_IFNAME_LEN;
		hi += NFT_IFNAME_LEN;
	}
	memcpy(lo, e->saddr.a, alen);
	memcpy(hi, e->saddr.a, alen);
	for (unsigned b = e->saddr.plen; b < alen * 8; b++)
		hi[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	if (m->daddr) {
		memcpy(lo + alen, m->daddr[i]->lo, alen);
		memcpy(hi + alen, m->daddr[i]->hi, alen);
		lo += alen;
		hi += alen;
	}
	if (m->noport)
		return;
	if (m->icmp) {
		/* the ICMP types, one byte */
		lo[alen] = (uint8_t)e->dport.lo;
		hi[alen] = (uint8_t)e->dport.hi;
		return;
	}
	lo[alen] = hi[alen] = e->proto;
	lo[alen + 4] = (uint8_t)(e->dport.lo >> 8);
	lo[alen + 5] = (uint8_t)e->dport.lo;
	hi[alen + 4] = (uint8_t)(e->dport.hi >> 8);
	hi[alen + 5] = (uint8_t)e->dport.hi;
}

/*
 * The set user data nft writes for a concatenated key given by type: no
 * byte order for key and data (a concatenation has none), the key
 * "typeof" as a concatenation expression with no fields of its own, and
 * the data interval flag (off).
 */
static void vmap_udata(struct nftnl_set *s)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	struct nftnl_udata *key, *data;

	if (!ud)
		PC_BUG("out of memory");
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 0);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER, 0);
	key = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_KEY_TYPEOF);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, NFT_EXPR_CONCAT);
	data = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_TYPEOF_DATA);
	nftnl_udata_nest_end(ud, data);
	nftnl_udata_nest_end(ud, key);
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATA_INTERVAL, 0);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
			   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
}

static size_t map_from_plan(struct pc_nl_objs *o, const struct pc_nft_map *m)
{
	struct nl_set *ns = objs_add_set(o);
	struct nftnl_set *s = nftnl_set_alloc();
	uint8_t fields[16] = { 0 };
	uint32_t klen = vmap_key_len(m);

	if (!s)
		PC_BUG("out of memory");
	ns->s = s;
	ns->name = xstrdup(m->name);
	ns->anon = false;
	{
		/* the interface name (issue 15), then the addresses */
		unsigned f0 = m->iface ? 1 : 0;

		fields[0] = NFT_IFNAME_LEN;
		fields[f0] = (uint8_t)vmap_addr_len(m);
		if (m->daddr)
			fields[f0 + 1] = (uint8_t)vmap_addr_len(m);
		if (m->noport) {
			/* narrowed: the addresses only */
		} else if (m->icmp) {
			fields[f0 + vmap_addrs(m)] = 1;       /* icmp_type */
		} else {
			fields[f0 + vmap_addrs(m)] = 1;       /* inet_proto */
			fields[f0 + vmap_addrs(m) + 1] = 2;   /* inet_service */
		}
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, o->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, m->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, vmap_key_type(m));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, klen);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
	vmap_udata(s);
	/* counters (issue 14): the kernel gives each element a copy */
	if (m->counter) {
		struct nftnl_expr *c = nftnl_expr_alloc("counter");

		if (!c)
			PC_BUG("out of memory");
		nftnl_set_add_expr(s, c);
	}
	for (size_t i = 0; i < m->n; i++) {
		uint8_t lo[KEY_MAX], hi[KEY_MAX];
		struct nl_elem *e;

		vmap_elem_keys(m, i, lo, hi);
		e = set_add_elem(ns, lo, klen, 0, false);
		elem_set_end(e, hi);
		if (m->jump && m->jump[i]) {
			/* an element that logs or rejects (issue 15) */
			e->has_verdict = true;
			e->verdict = NFT_JUMP;
			e->chain = xstrdup(m->jump[i]);
		} else {
			e->has_verdict = true;
			e->verdict = m->v[i].verdict == PC_VERDICT_ALLOW ? NF_ACCEPT : NF_DROP;
		}
		if (m->comments[i][0])
			e->comment = xstrdup(m->comments[i]);
	}
	return (size_t)(ns - o->sets);
}

/*
 * nft's register of the 32-bit register @k: a 128-bit one (NFT_REG_1..4)
 * when it starts one, else NFT_REG32_nn.
 */
static uint32_t nft_reg32(unsigned k)
{
	return k % 4 == 0 ? NFT_REG_1 + k / 4 : NFT_REG32_00 + k;
}

/*
 * The registers of the key fields of a verdict map lookup: source,
 * protocol, port, and the destination after the source when the key has it.
 */
static void vmap_regs(const struct pc_nft_map *m, uint32_t reg[5])
{
	unsigned at = vmap_iface_len(m) / 4;   /* the interface name first */
	unsigned words = vmap_addrs(m) * vmap_addr_len(m) / 4;

	reg[0] = nft_reg32(at);
	reg[1] = nft_reg32(at + words);
	reg[2] = nft_reg32(at + words + 1);
	reg[3] = nft_reg32(at + vmap_addr_len(m) / 4);
	reg[4] = nft_reg32(0);
}

/* `ip[6] saddr . meta l4proto . th dport vmap @NAME` (after meta nfproto). */
static void rule_vmap(struct nftnl_rule *r, const struct pc_nft_map *m)
{
	uint32_t reg[5];
	struct nftnl_expr *e;

	vmap_regs(m, reg);
	if (m->icmp) {
		/* the dependency nft puts before `icmp type` */
		uint8_t proto = m->family == PC_FAM_IPV6 ? PC_PROTO_ICMPV6 : PC_PROTO_ICMP;

		add_meta(r, NFT_META_L4PROTO);
		add_cmp(r, NFT_CMP_EQ, &proto, 1);
	}
	if (m->iface)
		add_meta_reg(r, m->oif ? NFT_META_OIFNAME : NFT_META_IIFNAME, reg[4]);
	add_payload_reg(r, NFT_PAYLOAD_NETWORK_HEADER,
			m->family == PC_FAM_IPV6 ? 8 : 12, vmap_addr_len(m), reg[0]);
	if (m->daddr)
		add_payload_reg(r, NFT_PAYLOAD_NETWORK_HEADER,
				m->family == PC_FAM_IPV6 ? 24 : 16, vmap_addr_len(m), reg[3]);
	if (m->noport)
		goto lookup;
	if (m->icmp) {
		/* the type: the first byte of the ICMP header */
		add_payload_reg(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, reg[1]);
		goto lookup;
	}
	add_meta_reg(r, NFT_META_L4PROTO, reg[1]);
	/* nft's conversion of the 1-byte protocol in its 4-byte field */
	e = expr_new(r, "byteorder");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, reg[1]);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, reg[1]);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 2);
	add_payload_reg(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg[2]);
lookup:
	e = expr_new(r, "lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, m->iface ? reg[4] : reg[0]);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, m->name);
}

/*
 * The dispatch (issue 15): its anonymous verdict maps, as nft sends
 * `meta nfproto . meta l4proto vmap { ipv4 . tcp : jump CHAIN, ... }` and
 * `tcp dport vmap { 22 : jump CLASS, 80-90 : jump CLASS, ... }`.
 */
static size_t dispatch_map_new(struct pc_nl_objs *o, uint32_t flags, uint32_t key_type,
			       uint32_t key_len)
{
	struct nl_set *ns = objs_add_set(o);
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		PC_BUG("out of memory");
	ns->s = s;
	ns->name = xstrdup("__map%d");
	ns->anon = true;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, o->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, ns->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
			  flags | NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
	return (size_t)(ns - o->sets);
}

static void elem_jump(struct nl_elem *e, const char *chain)
{
	e->has_verdict = true;
	e->verdict = NFT_JUMP;
	e->chain = xstrdup(chain);
}

/* The lookup of a dispatch map: its verdict is the rule's. */
static void add_vmap_lookup(struct pc_nl_objs *o, struct nl_rule *nr, size_t set)
{
	struct nftnl_expr *e = expr_new(nr->r, "lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, o->sets[set].name);
	nr->lk = xrealloc(nr->lk, (nr->n_lk + 1) * sizeof(*nr->lk));
	nr->lk[nr->n_lk].expr = e;
	nr->lk[nr->n_lk].set = set;
	nr->n_lk++;
	nftnl_set_set_u32(o->sets[set].s, NFTNL_SET_DESC_SIZE, (uint32_t)o->sets[set].n);
}

/* The top level: the port-level chain of the packet's family and protocol. */
static void rule_dispatch_top(struct pc_nl_objs *o, struct nl_rule *nr,
			      const struct pc_nft_rule *pr)
{
	const struct pc_dispatch *d = pr->dispatch;
	size_t set = dispatch_map_new(o, 0, NFT_TYPE_DISPATCH, 8), level = 0;

	for (size_t i = 0; i < d->n; i++) {
		const struct pc_dispatch_elem *e = &d->v[i];
		/* two fields, each in a 32-bit register of its own */
		uint8_t key[8] = { 0 };

		if (i && e->family == d->v[i - 1].family && e->proto == d->v[i - 1].proto)
			continue;
		key[0] = e->family == PC_FAM_IPV6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
		key[4] = e->proto;
		elem_jump(set_add_elem(&o->sets[set], key, sizeof(key), 0, false),
			  pr->dispatch_chains[level++]);
	}
	add_meta_reg(nr->r, NFT_META_NFPROTO, NFT_REG_1);
	add_meta_reg(nr->r, NFT_META_L4PROTO, nft_reg32(1));
	add_vmap_lookup(o, nr, set);
}

/*
 * The port level: the class chain of the packet's port. As nft sends it:
 * when every element is one port, a hash map of ports; else an interval
 * map, each interval a start element with the verdict, then an end mark
 * at its end + 1 unless the next interval starts there or it reaches
 * 65535, and an end mark at 0 first when the first interval starts later.
 */
static void rule_dispatch_ports(struct pc_nl_objs *o, struct nl_rule *nr,
				const struct pc_nft_rule *pr)
{
	const struct pc_dispatch *d = pr->dispatch;
	uint8_t proto = pr->dispatch_proto;
	bool first = true, ranges = false;
	size_t set;

	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].family == pr->dispatch_family && d->v[i].proto == proto &&
		    d->v[i].dport.lo != d->v[i].dport.hi)
			ranges = true;
	set = dispatch_map_new(o, ranges ? NFT_SET_INTERVAL : 0, NFT_TYPE_INET_SERVICE, 2);
	for (size_t i = 0; ranges && i < d->n; i++) {
		const struct pc_dispatch_elem *e = &d->v[i];
		const struct pc_dispatch_elem *next = i + 1 < d->n ? &d->v[i + 1] : NULL;
		uint8_t key[2] = { (uint8_t)(e->dport.lo >> 8), (uint8_t)e->dport.lo };
		uint8_t end[2] = { (uint8_t)((e->dport.hi + 1) >> 8), (uint8_t)(e->dport.hi + 1) };
		bool open = e->dport.hi == 65535;

		if (e->family != pr->dispatch_family || e->proto != proto)
			continue;
		if (first && e->dport.lo != 0) {
			uint8_t zero[2] = { 0, 0 };

			set_add_elem(&o->sets[set], zero, 2, NFT_SET_ELEM_INTERVAL_END, false);
		}
		first = false;
		elem_jump(set_add_elem(&o->sets[set], key, 2, 0, open), pr->dispatch_chains[e->cls]);
		if (open || (next && next->family == e->family && next->proto == proto &&
			     next->dport.lo == e->dport.hi + 1))
			continue;
		set_add_elem(&o->sets[set], end, 2, NFT_SET_ELEM_INTERVAL_END, false);
	}
	for (size_t i = 0; !ranges && i < d->n; i++) {
		const struct pc_dispatch_elem *e = &d->v[i];
		uint8_t key[2] = { (uint8_t)(e->dport.lo >> 8), (uint8_t)e->dport.lo };

		if (e->family == pr->dispatch_family && e->proto == proto)
			elem_jump(set_add_elem(&o->sets[set], key, 2, 0, false),
				  pr->dispatch_chains[e->cls]);
	}
	add_meta(nr->r, NFT_META_L4PROTO);
	add_cmp(nr->r, NFT_CMP_EQ, &proto, 1);
	add_payload(nr->r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	add_vmap_lookup(o, nr, set);
}

static void match_addr(struct pc_nl_objs *o, struct nl_rule *nr,
		       const struct pc_nft_match *m, bool v6, bool src, bool neg)
{
	uint32_t off = v6 ? (src ? 8 : 24) : (src ? 12 : 16);
	uint32_t full = v6 ? 16 : 4;
	const enum nft_cmp_ops op = neg ? NFT_CMP_NEQ : NFT_CMP_EQ;

	switch (m->kind) {
	case PC_NFT_MATCH_NONE:
	case PC_NFT_MATCH_RANGE:
		return;
	case PC_NFT_MATCH_SET:
		add_payload(nr->r, NFT_PAYLOAD_NETWORK_HEADER, off, full);
		add_lookup(o, nr, set_index(o, m->set));
		if (neg)   /* issue 14: `!= @set` */
			nftnl_expr_set_u32(nr->lk[nr->n_lk - 1].expr, NFTNL_EXPR_LOOKUP_FLAGS,
					   NFT_LOOKUP_F_INV);
		return;
	case PC_NFT_MATCH_VALUE:
		break;
	}
	if (m->addr->plen == full * 8) {
		add_payload(nr->r, NFT_PAYLOAD_NETWORK_HEADER, off, full);
		add_cmp(nr->r, op, m->addr->a, full);
	} else if (m->addr->plen % 8 == 0 && m->addr->plen) {
		add_payload(nr->r, NFT_PAYLOAD_NETWORK_HEADER, off, m->addr->plen / 8u);
		add_cmp(nr->r, op, m->addr->a, m->addr->plen / 8u);
	} else {
		uint8_t mask[16] = { 0 };

		for (unsigned b = 0; b < m->addr->plen; b++)
			mask[b / 8] |= (uint8_t)(0x80u >> (b % 8));
		add_payload(nr->r, NFT_PAYLOAD_NETWORK_HEADER, off, full);
		add_bitwise(nr->r, mask, full);
		add_cmp(nr->r, op, m->addr->a, full);
	}
}

/* A port match at @off in the transport header (0: source, 2: destination). */
static void match_port(struct pc_nl_objs *o, struct nl_rule *nr,
		       const struct pc_nft_match *m, uint32_t off)
{
	uint8_t lo[2] = { (uint8_t)(m->lo >> 8), (uint8_t)m->lo };
	uint8_t hi[2] = { (uint8_t)(m->hi >> 8), (uint8_t)m->hi };

	add_payload(nr->r, NFT_PAYLOAD_TRANSPORT_HEADER, off, 2);
	if (m->kind == PC_NFT_MATCH_VALUE) {
		add_cmp(nr->r, NFT_CMP_EQ, lo, 2);
	} else if (m->kind == PC_NFT_MATCH_RANGE) {
		add_cmp(nr->r, NFT_CMP_GTE, lo, 2);
		add_cmp(nr->r, NFT_CMP_LTE, hi, 2);
	} else {
		add_lookup(o, nr, set_index(o, m->set));
	}
}

static void match_l4(struct pc_nl_objs *o, struct nl_rule *nr,
		     const struct pc_nft_rule *pr)
{
	uint8_t proto = (uint8_t)pr->proto;

	add_meta(nr->r, NFT_META_L4PROTO);
	add_cmp(nr->r, NFT_CMP_EQ, &proto, 1);
	/* matches (issue 14): source-port, before the destination port as
	 * in the text */
	if (pr->sport.kind != PC_NFT_MATCH_NONE)
		match_port(o, nr, &pr->sport, 0);
	if (pr->dport.kind != PC_NFT_MATCH_NONE) {
		match_port(o, nr, &pr->dport, 2);
	} else if (pr->icmp_type.kind != PC_NFT_MATCH_NONE) {
		const struct pc_nft_match *m = &pr->icmp_type;
		uint8_t t = (uint8_t)m->lo;

		add_payload(nr->r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		if (m->kind == PC_NFT_MATCH_VALUE)
			add_cmp(nr->r, NFT_CMP_EQ, &t, 1);
		else
			add_lookup(o, nr, set_index(o, m->set));
	}
}

static const uint64_t limit_secs[__PC_LIMIT_MAX] = {
	[PC_LIMIT_SECOND] = 1,
	[PC_LIMIT_MINUTE] = 60,
	[PC_LIMIT_HOUR] = 3600,
	[PC_LIMIT_DAY] = 86400,
};

/* nft's default burst of `limit rate N/unit` and of a limit object. */
#define NFT_LIMIT_BURST 5

/* The limit object of a limited policy rule, as nft sends `limit NAME { rate N/unit }`. */
static struct nftnl_obj *limit_obj_new(const char *table, const struct pc_nft_limit *l)
{
	struct nftnl_obj *obj = nftnl_obj_alloc();

	if (!obj)
		PC_BUG("out of memory");
	nftnl_obj_set_str(obj, NFTNL_OBJ_TABLE, table);
	nftnl_obj_set_str(obj, NFTNL_OBJ_NAME, l->name);
	nftnl_obj_set_u32(obj, NFTNL_OBJ_FAMILY, NFPROTO_INET);
	nftnl_obj_set_u32(obj, NFTNL_OBJ_TYPE, NFT_OBJECT_LIMIT);
	nftnl_obj_set_u64(obj, NFTNL_OBJ_LIMIT_RATE, l->limit.rate);
	nftnl_obj_set_u64(obj, NFTNL_OBJ_LIMIT_UNIT, limit_secs[l->limit.unit]);
	nftnl_obj_set_u32(obj, NFTNL_OBJ_LIMIT_BURST,
			  l->src->limit_burst ? l->src->limit_burst : NFT_LIMIT_BURST);
	nftnl_obj_set_u32(obj, NFTNL_OBJ_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_obj_set_u32(obj, NFTNL_OBJ_LIMIT_FLAGS, 0);
	return obj;
}

/*
 * matches (issue 14): `update @METER { ip[6] saddr limit rate N/UNIT
 * burst M packets }` as nft sends it: the source address in register 1,
 * a dynset update with the limit as the element's expression (over the
 * rate, the limit breaks the rule). The timeout and flags the kernel
 * reports back are set too, so that diff compares equal.
 */
static void rule_meter(struct nftnl_rule *r, const struct pc_nft_rule *pr)
{
	const struct pc_rule *src = pr->src;
	bool v6 = pr->family == PC_FAM_IPV6;
	struct nftnl_expr *lim = nftnl_expr_alloc("limit"), *e;

	if (!lim)
		PC_BUG("out of memory");
	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_RATE, src->limit.rate);
	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_UNIT, limit_secs[src->limit.unit]);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_BURST,
			   src->limit_burst ? src->limit_burst : NFT_LIMIT_BURST);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_FLAGS, 0);
	add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4);
	e = expr_new(r, "dynset");
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, pr->meter->name);
	nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, 0);
	nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, lim, 0);
}

/*
 * snat / dnat to one address (and port): the address in register 1, the
 * port in register 2, as nft does; the attributes the kernel reports back
 * (max = min, the range flags) are set too, so that diff compares equal.
 */
static void rule_nat(struct nftnl_rule *r, const struct pc_nft_rule *pr)
{
	bool v6 = pr->nat_addr->family == PC_FAM_IPV6;
	uint32_t flags = NF_NAT_RANGE_MAP_IPS;
	struct nftnl_expr *e;

	e = expr_new(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, pr->nat_addr->a, v6 ? 16 : 4);
	if (pr->nat_port) {
		uint16_t port = htons(pr->nat_port);

		e = expr_new(r, "immediate");
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_2);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &port, sizeof(port));
		flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
	}
	e = expr_new(r, "nat");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE,
			   pr->verdict == PC_NFT_SNAT ? NFT_NAT_SNAT : NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG_1);
	if (pr->nat_port) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, NFT_REG_2);
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, flags);
}

static void rule_from_plan(struct pc_nl_objs *o, const char *chain,
			   const struct pc_nft_rule *pr)
{
	struct nl_rule *nr = objs_add_rule(o);
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_udata_buf *ud;
	struct nftnl_expr *e;

	if (!r)
		PC_BUG("out of memory");
	nr->r = r;
	nr->chain = xstrdup(chain);
	nr->plan = pr;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, o->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);

	if (pr->ifname) {
		char name[16] = { 0 };

		strncpy(name, pr->ifname, sizeof(name) - 1);
		add_meta(r, pr->oif ? NFT_META_OIFNAME : NFT_META_IIFNAME);
		add_cmp(r, pr->ifname_not ? NFT_CMP_NEQ : NFT_CMP_EQ, name,
			ifname_cmp_len(pr->ifname));
	}
	if (pr->oifname) {
		char name[16] = { 0 };

		strncpy(name, pr->oifname, sizeof(name) - 1);
		add_meta(r, NFT_META_OIFNAME);
		add_cmp(r, NFT_CMP_EQ, name, ifname_cmp_len(pr->oifname));
	}
	if (pr->family) {
		uint8_t nfp = pr->family == PC_FAM_IPV4 ? NFPROTO_IPV4 : NFPROTO_IPV6;

		add_meta(r, NFT_META_NFPROTO);
		add_cmp(r, NFT_CMP_EQ, &nfp, 1);
	}
	if (pr->vmap) {
		rule_vmap(r, pr->vmap);
		goto comment;
	}
	if (pr->dispatch) {
		if (pr->dispatch_proto)
			rule_dispatch_ports(o, nr, pr);
		else
			rule_dispatch_top(o, nr, pr);
		goto comment;
	}
	match_addr(o, nr, &pr->saddr, pr->family == PC_FAM_IPV6, true, pr->saddr_not);
	match_addr(o, nr, &pr->daddr, pr->family == PC_FAM_IPV6, false, pr->daddr_not);
	if (pr->proto >= 0)
		match_l4(o, nr, pr);
	if (pr->ct_state) {
		uint32_t mask = 0, zero = 0;

		if (pr->ct_state & PC_CT_INVALID)
			mask |= NF_CT_STATE_INVALID_BIT;
		if (pr->ct_state & PC_CT_ESTABLISHED)
			mask |= NF_CT_STATE_BIT(IP_CT_ESTABLISHED);
		if (pr->ct_state & PC_CT_RELATED)
			mask |= NF_CT_STATE_BIT(IP_CT_RELATED);
		if (pr->ct_state & PC_CT_NEW)
			mask |= NF_CT_STATE_BIT(IP_CT_NEW);
		e = expr_new(r, "ct");
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
		add_bitwise(r, &mask, 4);
		add_cmp(r, NFT_CMP_NEQ, &zero, 4);
	}
	if (pr->limit) {
		e = expr_new(r, "objref");
		nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_LIMIT);
		nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, pr->limit->name);
	}
	if (pr->meter)
		rule_meter(r, pr);
	if (pr->counter)
		expr_new(r, "counter");
	if (pr->log) {
		e = expr_new(r, "log");
		/*
		 * nft sends no level and the kernel then stores and reports
		 * its default, warning: say it, so that diff compares equal.
		 */
		if (pr->log_nflog)   /* a group has no level: the kernel refuses both */
			nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, pr->log_group);
		else
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_LEVEL, NFT_LOG_LEVEL_WARNING);
		if (pr->log_prefix)
			nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, pr->log_prefix);
	}
	switch (pr->verdict) {
	case PC_NFT_ACCEPT:
	case PC_NFT_DROP:
		e = expr_new(r, "immediate");
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
				   pr->verdict == PC_NFT_ACCEPT ? NF_ACCEPT : NF_DROP);
		break;
	case PC_NFT_REJECT_TCP:
		e = expr_new(r, "reject");
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
		break;
	case PC_NFT_REJECT:
		e = expr_new(r, "reject");
		if (pr->family == PC_FAM_IPV4) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH);
			nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 3);   /* port unreachable */
		} else if (pr->family == PC_FAM_IPV6) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH);
			nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 4);   /* ICMP6_DST_UNREACH_NOPORT */
		} else {
			nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
			nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, NFT_REJECT_ICMPX_PORT_UNREACH);
		}
		break;
	case PC_NFT_MASQUERADE:
		expr_new(r, "masq");
		break;
	case PC_NFT_SNAT:
	case PC_NFT_DNAT:
		rule_nat(r, pr);
		break;
	}
comment:
	if (pr->comment[0]) {
		ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (!ud)
			PC_BUG("out of memory");
		nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, pr->comment);
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
				    nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
		nr->comment = xstrdup(pr->comment);
	}
}

static struct nftnl_chain *chain_new(const char *table, const struct pc_nft_chain *ch,
				     bool base)
{
	uint32_t policy = ch->policy == PC_VERDICT_ALLOW ? NF_ACCEPT : NF_DROP;
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		PC_BUG("out of memory");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, ch->name);
	/* the chains of a dispatch (issue 15): regular, reached by jumps */
	if (!base)
		return c;
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, ch->hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, ch->nat ? ch->prio : 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, ch->nat ? "nat" : "filter");
	return c;
}

/* Where a map's elements come from: its rule (the first rule folded into it). */
static const struct pc_location *map_loc(const struct pc_nft_plan *plan, size_t i)
{
	for (size_t c = 0; c < plan->n_chains + plan->n_sub; c++) {
		const struct pc_nft_chain *ch = pc_nft_plan_chain(plan, c);

		for (size_t k = 0; k < ch->n; k++)
			if (ch->rules[k].vmap == plan->maps[i])
				return &ch->rules[k].src->loc;
	}
	return NULL;
}

/* Chain @c of @plan in the order of the nft text: class chains, then base chains. */
static const struct pc_nft_chain *text_chain(const struct pc_nft_plan *plan, size_t c)
{
	return c < plan->n_sub ? &plan->sub[c] : &plan->chains[c - plan->n_sub];
}

struct pc_nl_objs *pc_nl_objs_from_plan(const struct pc_nft_plan *plan)
{
	struct pc_nl_objs *o = xzalloc(sizeof(*o));

	o->table = xstrdup(plan->table);
	o->table_comment = xstrdup(PC_NL_OWNER_COMMENT);
	for (size_t i = 0; i < plan->n_limits; i++)
		objs_add_obj(o, limit_obj_new(o->table, plan->limits[i]));
	for (size_t i = 0; i < plan->n_sets; i++)
		set_from_plan(o, plan->sets[i], plan->sets[i]->name);
	for (size_t i = 0; i < plan->n_maps; i++)
		map_from_plan(o, plan->maps[i]);
	/* the chains of a dispatch first, as the nft text declares them:
	 * `nft list` then shows the same order after apply as after nft -f */
	for (size_t c = 0; c < plan->n_chains + plan->n_sub; c++)
		objs_add_chain(o, chain_new(o->table, text_chain(plan, c), c >= plan->n_sub));
	for (size_t c = 0; c < plan->n_chains + plan->n_sub; c++) {
		const struct pc_nft_chain *ch = text_chain(plan, c);

		for (size_t i = 0; i < ch->n; i++)
			rule_from_plan(o, ch->name, &ch->rules[i]);
	}
	for (size_t i = 0; i < plan->n_sets; i++)
		o->sets[i].loc = plan->sets[i]->loc;
	for (size_t i = 0; i < plan->n_maps; i++)
		o->sets[plan->n_sets + i].loc = map_loc(plan, i);
	for (size_t i = 0; i < o->n_rules; i++) {
		const struct nl_rule *nr = &o->rules[i];

		for (size_t k = 0; k < nr->n_lk; k++)
			if (!o->sets[nr->lk[k].set].loc)
				o->sets[nr->lk[k].set].loc = &nr->plan->src->loc;
	}
	return o;
}
