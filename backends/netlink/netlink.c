/* SPDX-License-Identifier: MIT */
#include "backends/netlink/netlink.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <endian.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "common/util.h"

/* nft's datatype numbers (the set key types `nft list` shows). */
enum {
	NFT_TYPE_IPADDR = 7,
	NFT_TYPE_IP6ADDR = 8,
	NFT_TYPE_INET_SERVICE = 13,
	NFT_TYPE_INET_PROTOCOL = 12,
	NFT_TYPE_ICMP_TYPE = 14,
	NFT_TYPE_ICMP6_TYPE = 29,
};

/* nft's type of a concatenation: the field types, 6 bits each. */
#define NFT_TYPE_BITS 6
#define NFT_TYPE_CONCAT3(a, b, c) \
	((((uint32_t)(a) << NFT_TYPE_BITS | (b)) << NFT_TYPE_BITS) | (c))
#define NFT_TYPE_VMAP_V4 \
	NFT_TYPE_CONCAT3(NFT_TYPE_IPADDR, NFT_TYPE_INET_PROTOCOL, NFT_TYPE_INET_SERVICE)
#define NFT_TYPE_VMAP_V6 \
	NFT_TYPE_CONCAT3(NFT_TYPE_IP6ADDR, NFT_TYPE_INET_PROTOCOL, NFT_TYPE_INET_SERVICE)

/* nft's expression type number of a concatenation (set key "typeof" udata). */
#define NFT_EXPR_CONCAT 13

/* The kernel's default log level (syslog's LOG_WARNING). */
#define NFT_LOG_LEVEL_WARNING 4

/* nft's byteorder numbers in set user data. */
enum { NFT_BYTEORDER_BIG = 2 };

/*
 * Elements per NEWSETELEM message: a message must stay below 64 KiB. A map
 * element (two keys, a verdict, a comment) takes up to some 240 bytes.
 */
#define ELEMS_PER_MSG 512
#define MAP_ELEMS_PER_MSG 128

/* The longest key: a verdict map's ipv6_addr . inet_proto . inet_service. */
#define KEY_MAX 32

struct nl_elem {
	uint8_t key[KEY_MAX];
	uint8_t key_end[KEY_MAX]; /* when @has_end: a concatenation's range */
	uint32_t len;
	uint32_t flags;      /* NFT_SET_ELEM_INTERVAL_END */
	bool open;           /* interval open to the end of the key space */
	bool has_end;
	bool has_verdict;
	uint32_t verdict;    /* NF_ACCEPT, NF_DROP (a verdict map's data) */
	char *comment;       /* owned, may be NULL */
};

struct nl_set {
	struct nftnl_set *s; /* attributes only; elements are in @e */
	char *name;          /* as the objects know it (kernel name when read) */
	bool anon;
	struct nl_elem *e;
	size_t n, cap;
	/*
	 * Read from the kernel: the elements as libnftnl parsed them, one
	 * holder per dump message, every attribute kept (data, timeouts,
	 * expiry, expressions, object references), for the rollback.
	 */
	struct nftnl_set **raw;
	size_t n_raw;
	/*
	 * Built from a plan: where a kernel refusal of the set or its
	 * elements is reported. A map: its rule; a group's named set: the
	 * first rule that uses the group; an anonymous set: its rule.
	 */
	const struct pc_location *loc;
};

struct nl_lookup {
	struct nftnl_expr *expr;
	size_t set;          /* index into pc_nl_objs.sets */
};

struct nl_rule {
	struct nftnl_rule *r;
	char *chain;
	char *comment;                  /* may be NULL */
	const struct pc_nft_rule *plan; /* NULL when read from the kernel */
	struct nl_lookup *lk;
	size_t n_lk;
};

struct pc_nl_objs {
	char *table;
	uint32_t table_flags;
	char *table_comment;     /* the table's comment (ownership marker), or NULL */
	void *table_udata;       /* read from the kernel: its user data as it was */
	uint32_t table_udata_len;
	struct nl_set *sets;
	size_t n_sets, sets_cap;
	struct nftnl_chain **chains;
	size_t n_chains, chains_cap;
	struct nl_rule *rules;
	size_t n_rules, rules_cap;
	/* Named objects (the plan's limit objects, or all read back) and flowtables (read back only). */
	struct nftnl_obj **objs;       /* named objects of every type */
	size_t n_objs, objs_cap;
	struct nftnl_flowtable **fts;
	size_t n_fts, fts_cap;
	bool from_kernel;
	struct timespec read_at;       /* CLOCK_MONOTONIC: ages element expiry */
};

/* Objects. */

static struct nl_set *objs_add_set(struct pc_nl_objs *o)
{
	o->sets = xgrow(o->sets, &o->sets_cap, o->n_sets + 1, sizeof(*o->sets));
	memset(&o->sets[o->n_sets], 0, sizeof(o->sets[0]));
	return &o->sets[o->n_sets++];
}

static struct nl_rule *objs_add_rule(struct pc_nl_objs *o)
{
	o->rules = xgrow(o->rules, &o->rules_cap, o->n_rules + 1, sizeof(*o->rules));
	memset(&o->rules[o->n_rules], 0, sizeof(o->rules[0]));
	return &o->rules[o->n_rules++];
}

static void objs_add_chain(struct pc_nl_objs *o, struct nftnl_chain *c)
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

static struct nl_elem *set_add_elem(struct nl_set *s, const uint8_t *key,
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

/* "map" for a map (verdict maps), else "set". */
static const char *set_kind(const struct nl_set *ns)
{
	return nftnl_set_is_set(ns->s, NFTNL_SET_FLAGS) &&
	       (nftnl_set_get_u32(ns->s, NFTNL_SET_FLAGS) & NFT_SET_MAP) ? "map" : "set";
}

static void set_free_elems(struct nl_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].comment);
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

/* The element list nft sends for a set: interval sets as start/end marks. */
static void set_fill_elems(struct nl_set *ns, const struct pc_nft_set *ps)
{
	unsigned len = pc_nft_key_len(ps->key);
	uint8_t zero[16] = { 0 };

	if (!ps->interval) {
		for (size_t i = 0; i < ps->n; i++)
			set_add_elem(ns, ps->v[i].lo, len, 0, false);
		return;
	}
	if (ps->n && memcmp(ps->v[0].lo, zero, len) != 0)
		set_add_elem(ns, zero, len, NFT_SET_ELEM_INTERVAL_END, false);
	for (size_t i = 0; i < ps->n; i++) {
		uint8_t end[16];
		int b;

		memcpy(end, ps->v[i].hi, len);
		for (b = (int)len - 1; b >= 0; b--)
			if (++end[b] != 0)
				break;
		set_add_elem(ns, ps->v[i].lo, len, 0, b < 0);
		if (b < 0)
			continue;
		if (i + 1 < ps->n && memcmp(ps->v[i + 1].lo, end, len) == 0)
			continue;
		set_add_elem(ns, end, len, NFT_SET_ELEM_INTERVAL_END, false);
	}
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
	if (ns->anon)
		flags |= NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, o->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type(ps->key));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, pc_nft_key_len(ps->key));
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, NFT_BYTEORDER_BIG);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
			   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	set_fill_elems(ns, ps);
	if (ns->anon)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, (uint32_t)ns->n);
	return (size_t)(ns - o->sets);
}

static size_t named_set_index(const struct pc_nl_objs *o, const char *name)
{
	for (size_t i = 0; i < o->n_sets; i++)
		if (!o->sets[i].anon && strcmp(o->sets[i].name, name) == 0)
			return i;
	PC_BUG("named set %s missing", name);
}

static size_t anon_set_index(struct pc_nl_objs *o, const struct pc_nft_set *ps)
{
	return set_from_plan(o, ps, "__set%d");
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

static uint32_t vmap_key_len(const struct pc_nft_map *m)
{
	return vmap_addr_len(m) + 4 + 4;
}

/* The start and end keys of element @e (vmap_key_len() bytes each). */
static void vmap_elem_keys(const struct pc_nft_map *m, const struct pc_map_elem *e,
			   uint8_t *lo, uint8_t *hi)
{
	unsigned alen = vmap_addr_len(m);

	memset(lo, 0, vmap_key_len(m));
	memset(hi, 0, vmap_key_len(m));
	memcpy(lo, e->saddr.a, alen);
	memcpy(hi, e->saddr.a, alen);
	for (unsigned b = e->saddr.plen; b < alen * 8; b++)
		hi[b / 8] |= (uint8_t)(0x80u >> (b % 8));
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
	fields[0] = (uint8_t)vmap_addr_len(m);
	fields[1] = 1;   /* inet_proto */
	fields[2] = 2;   /* inet_service */
	nftnl_set_set_str(s, NFTNL_SET_TABLE, o->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, m->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, m->family == PC_FAM_IPV6 ?
			  NFT_TYPE_VMAP_V6 : NFT_TYPE_VMAP_V4);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, klen);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
	vmap_udata(s);
	for (size_t i = 0; i < m->n; i++) {
		uint8_t lo[KEY_MAX], hi[KEY_MAX];
		struct nl_elem *e;

		vmap_elem_keys(m, &m->v[i], lo, hi);
		e = set_add_elem(ns, lo, klen, 0, false);
		memcpy(e->key_end, hi, klen);
		e->has_end = true;
		e->has_verdict = true;
		e->verdict = m->v[i].verdict == PC_VERDICT_ALLOW ? NF_ACCEPT : NF_DROP;
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

/* The registers of the three key fields of a verdict map lookup. */
static void vmap_regs(const struct pc_nft_map *m, uint32_t reg[3])
{
	unsigned words = vmap_addr_len(m) / 4;

	reg[0] = nft_reg32(0);
	reg[1] = nft_reg32(words);
	reg[2] = nft_reg32(words + 1);
}

/* `ip[6] saddr . meta l4proto . th dport vmap @NAME` (after meta nfproto). */
static void rule_vmap(struct nftnl_rule *r, const struct pc_nft_map *m)
{
	uint32_t reg[3];
	struct nftnl_expr *e;

	vmap_regs(m, reg);
	add_payload_reg(r, NFT_PAYLOAD_NETWORK_HEADER,
			m->family == PC_FAM_IPV6 ? 8 : 12, vmap_addr_len(m), reg[0]);
	add_meta_reg(r, NFT_META_L4PROTO, reg[1]);
	/* nft's conversion of the 1-byte protocol in its 4-byte field */
	e = expr_new(r, "byteorder");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, reg[1]);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, reg[1]);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 2);
	add_payload_reg(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg[2]);
	e = expr_new(r, "lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, reg[0]);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, m->name);
}

static void match_addr(struct pc_nl_objs *o, struct nl_rule *nr,
		       const struct pc_nft_match *m, bool v6, bool src)
{
	uint32_t off = v6 ? (src ? 8 : 24) : (src ? 12 : 16);
	uint32_t full = v6 ? 16 : 4;

	switch (m->kind) {
	case PC_NFT_MATCH_NONE:
	case PC_NFT_MATCH_RANGE:
		return;
	case PC_NFT_MATCH_SET:
		add_payload(nr->r, NFT_PAYLOAD_NETWORK_HEADER, off, full);
		add_lookup(o, nr, m->set->name ? named_set_index(o, m->set->name) :
						 anon_set_index(o, m->set));
		return;
	case PC_NFT_MATCH_VALUE:
		break;
	}
	if (m->addr->plen == full * 8) {
		add_payload(nr->r, NFT_PAYLOAD_NETWORK_HEADER, off, full);
		add_cmp(nr->r, NFT_CMP_EQ, m->addr->a, full);
	} else if (m->addr->plen % 8 == 0 && m->addr->plen) {
		add_payload(nr->r, NFT_PAYLOAD_NETWORK_HEADER, off, m->addr->plen / 8u);
		add_cmp(nr->r, NFT_CMP_EQ, m->addr->a, m->addr->plen / 8u);
	} else {
		uint8_t mask[16] = { 0 };

		for (unsigned b = 0; b < m->addr->plen; b++)
			mask[b / 8] |= (uint8_t)(0x80u >> (b % 8));
		add_payload(nr->r, NFT_PAYLOAD_NETWORK_HEADER, off, full);
		add_bitwise(nr->r, mask, full);
		add_cmp(nr->r, NFT_CMP_EQ, m->addr->a, full);
	}
}

static void match_l4(struct pc_nl_objs *o, struct nl_rule *nr,
		     const struct pc_nft_rule *pr)
{
	uint8_t proto = (uint8_t)pr->proto;

	add_meta(nr->r, NFT_META_L4PROTO);
	add_cmp(nr->r, NFT_CMP_EQ, &proto, 1);
	if (pr->dport.kind != PC_NFT_MATCH_NONE) {
		const struct pc_nft_match *m = &pr->dport;
		uint8_t lo[2] = { (uint8_t)(m->lo >> 8), (uint8_t)m->lo };
		uint8_t hi[2] = { (uint8_t)(m->hi >> 8), (uint8_t)m->hi };

		add_payload(nr->r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		if (m->kind == PC_NFT_MATCH_VALUE) {
			add_cmp(nr->r, NFT_CMP_EQ, lo, 2);
		} else if (m->kind == PC_NFT_MATCH_RANGE) {
			add_cmp(nr->r, NFT_CMP_GTE, lo, 2);
			add_cmp(nr->r, NFT_CMP_LTE, hi, 2);
		} else {
			add_lookup(o, nr, anon_set_index(o, m->set));
		}
	} else if (pr->icmp_type.kind != PC_NFT_MATCH_NONE) {
		const struct pc_nft_match *m = &pr->icmp_type;
		uint8_t t = (uint8_t)m->lo;

		add_payload(nr->r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		if (m->kind == PC_NFT_MATCH_VALUE)
			add_cmp(nr->r, NFT_CMP_EQ, &t, 1);
		else
			add_lookup(o, nr, anon_set_index(o, m->set));
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
	nftnl_obj_set_u32(obj, NFTNL_OBJ_LIMIT_BURST, NFT_LIMIT_BURST);
	nftnl_obj_set_u32(obj, NFTNL_OBJ_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_obj_set_u32(obj, NFTNL_OBJ_LIMIT_FLAGS, 0);
	return obj;
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
		add_cmp(r, NFT_CMP_EQ, name, ifname_cmp_len(pr->ifname));
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
	match_addr(o, nr, &pr->saddr, pr->family == PC_FAM_IPV6, true);
	match_addr(o, nr, &pr->daddr, pr->family == PC_FAM_IPV6, false);
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
	if (pr->log) {
		e = expr_new(r, "log");
		/*
		 * nft sends no level and the kernel then stores and reports
		 * its default, warning: say it, so that diff compares equal.
		 */
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

static struct nftnl_chain *chain_new(const char *table, const char *name,
				     uint32_t hook, uint32_t policy)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		PC_BUG("out of memory");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	return c;
}

/* Where a map's elements come from: its rule (the first rule folded into it). */
static const struct pc_location *map_loc(const struct pc_nft_plan *plan, size_t i)
{
	for (size_t c = 0; c < 3; c++)
		for (size_t k = 0; k < plan->chains[c].n; k++)
			if (plan->chains[c].rules[k].vmap == plan->maps[i])
				return &plan->chains[c].rules[k].src->loc;
	return NULL;
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
	for (size_t c = 0; c < 3; c++) {
		const struct pc_nft_chain *ch = &plan->chains[c];

		objs_add_chain(o, chain_new(o->table, ch->name, ch->hook,
					    ch->policy == PC_VERDICT_ALLOW ?
					    NF_ACCEPT : NF_DROP));
	}
	for (size_t c = 0; c < 3; c++) {
		const struct pc_nft_chain *ch = &plan->chains[c];

		for (size_t i = 0; i < ch->n; i++)
			rule_from_plan(o, ch->name, &ch->rules[i]);
	}
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

/* Sockets. */

static struct mnl_socket *nl_open(int *err)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int one = 1;

	if (!nl) {
		*err = -errno;
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		*err = -errno;
		mnl_socket_close(nl);
		return NULL;
	}
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	return nl;
}

/* Sends one request and runs @cb on each answer until the dump is done. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *data)
{
	size_t bufsz = MNL_SOCKET_BUFFER_SIZE * 4;
	char *buf = xmalloc(bufsz);
	uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, bufsz);

		if (n < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (ret < 0) {
			ret = -errno;
			goto out;
		}
		if (ret == MNL_CB_STOP) {
			ret = 0;
			goto out;
		}
	}
out:
	free(buf);
	return ret;
}

/* Reading. */

struct read_ctx {
	struct pc_nl_objs *o;
	struct nl_set *set; /* GETSETELEM target */
};

/* A NUL-terminated comment attribute of type @type: a copy in *out. */
static void udata_comment(const struct nftnl_udata *attr, uint8_t type, char **out)
{
	uint32_t len = nftnl_udata_len(attr);
	const char *v = nftnl_udata_get(attr);

	if (nftnl_udata_type(attr) == type && len > 0 && v[len - 1] == '\0') {
		free(*out);
		*out = xstrdup(v);
	}
}

static int table_udata_cb(const struct nftnl_udata *attr, void *data)
{
	udata_comment(attr, NFTNL_UDATA_TABLE_COMMENT, data);
	return 0;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		PC_BUG("out of memory");
	if (nftnl_table_nlmsg_parse(nlh, t) == 0) {
		if (nftnl_table_is_set(t, NFTNL_TABLE_FLAGS))
			rc->o->table_flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
		if (nftnl_table_is_set(t, NFTNL_TABLE_USERDATA)) {
			uint32_t len;
			const void *u = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);

			rc->o->table_udata = xmalloc(len ? len : 1);
			memcpy(rc->o->table_udata, u, len);
			rc->o->table_udata_len = len;
			nftnl_udata_parse(u, len, table_udata_cb, &rc->o->table_comment);
		}
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nl_set *ns;
	const char *table;

	if (!s)
		PC_BUG("out of memory");
	if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
	if (!table || strcmp(table, rc->o->table) != 0) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	ns = objs_add_set(rc->o);
	ns->s = s;
	ns->name = xstrdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
	ns->anon = nftnl_set_is_set(s, NFTNL_SET_FLAGS) &&
		   (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS);
	nftnl_set_unset(s, NFTNL_SET_HANDLE);
	return MNL_CB_OK;
}

struct elem_udata {
	bool open;
	char *comment;
};

static int elem_udata_cb(const struct nftnl_udata *attr, void *data)
{
	struct elem_udata *eu = data;
	uint32_t len = nftnl_udata_len(attr);
	const char *v = nftnl_udata_get(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_ELEM_FLAGS && len == 4) {
		uint32_t f;

		memcpy(&f, v, 4);
		if (f & 1)   /* NFTNL_SET_ELEM_F_INTERVAL_OPEN */
			eu->open = true;
	}
	udata_comment(attr, NFTNL_UDATA_SET_ELEM_COMMENT, &eu->comment);
	return 0;
}

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_set *tmp = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	if (!tmp)
		PC_BUG("out of memory");
	if (nftnl_set_elems_nlmsg_parse(nlh, tmp) < 0) {
		nftnl_set_free(tmp);
		return MNL_CB_ERROR;
	}
	it = nftnl_set_elems_iter_create(tmp);
	for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e;
	     e = nftnl_set_elems_iter_next(it)) {
		uint32_t len = 0, end_len = 0, flags = 0;
		const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		const void *end = NULL;
		struct elem_udata eu = { false, NULL };
		struct nl_elem *ne;

		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
			flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
			uint32_t ulen;
			const void *u = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &ulen);

			nftnl_udata_parse(u, ulen, elem_udata_cb, &eu);
		}
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END))
			end = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &end_len);
		if (!key || len > KEY_MAX || (end && end_len != len)) {
			free(eu.comment);
			continue;
		}
		ne = set_add_elem(rc->set, key, len, flags, eu.open);
		ne->comment = eu.comment;
		if (end) {
			memcpy(ne->key_end, end, len);
			ne->has_end = true;
		}
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT)) {
			ne->has_verdict = true;
			ne->verdict = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT);
		}
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	rc->set->raw = xrealloc(rc->set->raw, (rc->set->n_raw + 1) * sizeof(*rc->set->raw));
	rc->set->raw[rc->set->n_raw++] = tmp;
	return MNL_CB_OK;
}

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_obj *ob = nftnl_obj_alloc();
	const char *table;

	if (!ob)
		PC_BUG("out of memory");
	if (nftnl_obj_nlmsg_parse(nlh, ob) < 0) {
		nftnl_obj_free(ob);
		return MNL_CB_ERROR;
	}
	table = nftnl_obj_get_str(ob, NFTNL_OBJ_TABLE);
	if (!table || strcmp(table, rc->o->table) != 0) {
		nftnl_obj_free(ob);
		return MNL_CB_OK;
	}
	/* (libnftnl exports no unset for objects: NEWOBJ ignores the handle) */
	rc->o->objs = xgrow(rc->o->objs, &rc->o->objs_cap, rc->o->n_objs + 1,
			    sizeof(*rc->o->objs));
	rc->o->objs[rc->o->n_objs++] = ob;
	return MNL_CB_OK;
}

static int flowtable_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_flowtable *ft = nftnl_flowtable_alloc();
	const char *table;

	if (!ft)
		PC_BUG("out of memory");
	if (nftnl_flowtable_nlmsg_parse(nlh, ft) < 0) {
		nftnl_flowtable_free(ft);
		return MNL_CB_ERROR;
	}
	table = nftnl_flowtable_get_str(ft, NFTNL_FLOWTABLE_TABLE);
	if (!table || strcmp(table, rc->o->table) != 0) {
		nftnl_flowtable_free(ft);
		return MNL_CB_OK;
	}
	nftnl_flowtable_unset(ft, NFTNL_FLOWTABLE_HANDLE);
	nftnl_flowtable_unset(ft, NFTNL_FLOWTABLE_USE);
	rc->o->fts = xgrow(rc->o->fts, &rc->o->fts_cap, rc->o->n_fts + 1,
			   sizeof(*rc->o->fts));
	rc->o->fts[rc->o->n_fts++] = ft;
	return MNL_CB_OK;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	const char *table;

	if (!c)
		PC_BUG("out of memory");
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0) {
		nftnl_chain_free(c);
		return MNL_CB_ERROR;
	}
	table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	if (!table || strcmp(table, rc->o->table) != 0) {
		nftnl_chain_free(c);
		return MNL_CB_OK;
	}
	nftnl_chain_unset(c, NFTNL_CHAIN_HANDLE);
	nftnl_chain_unset(c, NFTNL_CHAIN_USE);
	nftnl_chain_unset(c, NFTNL_CHAIN_BYTES);
	nftnl_chain_unset(c, NFTNL_CHAIN_PACKETS);
	objs_add_chain(rc->o, c);
	return MNL_CB_OK;
}

static int rule_udata_cb(const struct nftnl_udata *attr, void *data)
{
	udata_comment(attr, NFTNL_UDATA_RULE_COMMENT, data);
	return 0;
}

struct lookup_bind {
	struct pc_nl_objs *o;
	struct nl_rule *nr;
};

static int bind_lookup(struct nftnl_expr *e, void *data)
{
	struct lookup_bind *lb = data;
	const char *name;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "lookup") != 0)
		return 0;
	name = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	for (size_t i = 0; name && i < lb->o->n_sets; i++) {
		if (lb->o->sets[i].anon && strcmp(lb->o->sets[i].name, name) == 0) {
			struct nl_rule *nr = lb->nr;

			nr->lk = xrealloc(nr->lk, (nr->n_lk + 1) * sizeof(*nr->lk));
			nr->lk[nr->n_lk].expr = e;
			nr->lk[nr->n_lk].set = i;
			nr->n_lk++;
			break;
		}
	}
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct lookup_bind lb;
	struct nl_rule *nr;
	const char *table;

	if (!r)
		PC_BUG("out of memory");
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		nftnl_rule_free(r);
		return MNL_CB_ERROR;
	}
	table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
	if (!table || strcmp(table, rc->o->table) != 0) {
		nftnl_rule_free(r);
		return MNL_CB_OK;
	}
	nftnl_rule_unset(r, NFTNL_RULE_HANDLE);
	nftnl_rule_unset(r, NFTNL_RULE_POSITION);
	nr = objs_add_rule(rc->o);
	nr->r = r;
	nr->chain = xstrdup(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	if (nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) {
		uint32_t len;
		const void *u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);

		nftnl_udata_parse(u, len, rule_udata_cb, &nr->comment);
	}
	lb.o = rc->o;
	lb.nr = nr;
	nftnl_expr_foreach(r, bind_lookup, &lb);
	return MNL_CB_OK;
}

static uint32_t nl_seq;

static uint32_t seq_next(void)
{
	if (nl_seq == 0)
		nl_seq = (uint32_t)time(NULL);
	return ++nl_seq;
}

int pc_nl_objs_read(const char *table, struct pc_nl_objs **out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct read_ctx rc;
	struct nlmsghdr *nlh;
	struct nftnl_table *t;
	struct nftnl_set *s;
	struct nftnl_rule *r;
	struct nftnl_obj *ob;
	struct nftnl_flowtable *ft;
	int ret = 0;

	*out = NULL;
	nl = nl_open(&ret);
	if (!nl)
		return ret;
	rc.o = xzalloc(sizeof(*rc.o));
	rc.o->table = xstrdup(table);
	rc.set = NULL;

	t = nftnl_table_alloc();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK,
				    seq_next());
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	ret = nl_talk(nl, nlh, table_cb, &rc);
	if (ret == -ENOENT) {
		ret = 0;
		goto fail;
	}
	if (ret < 0)
		goto fail;
	rc.o->from_kernel = true;
	clock_gettime(CLOCK_MONOTONIC, &rc.o->read_at);

	ob = nftnl_obj_alloc();
	nftnl_obj_set_str(ob, NFTNL_OBJ_TABLE, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_INET,
				    NLM_F_DUMP | NLM_F_ACK, seq_next());
	nftnl_obj_nlmsg_build_payload(nlh, ob);
	nftnl_obj_free(ob);
	ret = nl_talk(nl, nlh, obj_cb, &rc);
	if (ret < 0)
		goto fail;

	ft = nftnl_flowtable_alloc();
	nftnl_flowtable_set_str(ft, NFTNL_FLOWTABLE_TABLE, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETFLOWTABLE, NFPROTO_INET,
				    NLM_F_DUMP | NLM_F_ACK, seq_next());
	nftnl_flowtable_nlmsg_build_payload(nlh, ft);
	nftnl_flowtable_free(ft);
	ret = nl_talk(nl, nlh, flowtable_cb, &rc);
	/* a kernel without flowtables has none to lose */
	if (ret == -EOPNOTSUPP || ret == -ENOENT)
		ret = 0;
	if (ret < 0)
		goto fail;

	s = nftnl_set_alloc();
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET,
				    NLM_F_DUMP | NLM_F_ACK, seq_next());
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	ret = nl_talk(nl, nlh, set_cb, &rc);
	if (ret < 0)
		goto fail;
	for (size_t i = 0; i < rc.o->n_sets; i++) {
		s = nftnl_set_alloc();
		nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, rc.o->sets[i].name);
		memset(buf, 0, sizeof(buf));
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
					    NLM_F_DUMP | NLM_F_ACK, seq_next());
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		rc.set = &rc.o->sets[i];
		ret = nl_talk(nl, nlh, elem_cb, &rc);
		if (ret < 0)
			goto fail;
	}

	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET,
				    NLM_F_DUMP | NLM_F_ACK, seq_next());
	ret = nl_talk(nl, nlh, chain_cb, &rc);
	if (ret < 0)
		goto fail;

	r = nftnl_rule_alloc();
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP | NLM_F_ACK, seq_next());
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	ret = nl_talk(nl, nlh, rule_cb, &rc);
	if (ret < 0)
		goto fail;
	mnl_socket_close(nl);
	*out = rc.o;
	return 0;
fail:
	mnl_socket_close(nl);
	pc_nl_objs_destroy(rc.o);
	return ret;
}

int pc_nl_table_owner(const char *table, enum pc_nl_owner *owner)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct read_ctx rc;
	struct nlmsghdr *nlh;
	struct nftnl_table *t;
	int ret = 0;

	*owner = PC_NL_TABLE_NONE;
	nl = nl_open(&ret);
	if (!nl)
		return ret;
	rc.o = xzalloc(sizeof(*rc.o));
	rc.o->table = xstrdup(table);
	rc.set = NULL;
	t = nftnl_table_alloc();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK,
				    seq_next());
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	ret = nl_talk(nl, nlh, table_cb, &rc);
	if (ret == 0)
		*owner = pc_nl_objs_owner(rc.o);
	else if (ret == -ENOENT)
		ret = 0;
	mnl_socket_close(nl);
	pc_nl_objs_destroy(rc.o);
	return ret;
}

enum pc_nl_owner pc_nl_objs_owner(const struct pc_nl_objs *o)
{
	if (!o)
		return PC_NL_TABLE_NONE;
	return o->table_comment && strcmp(o->table_comment, PC_NL_OWNER_COMMENT) == 0 ?
	       PC_NL_TABLE_OURS : PC_NL_TABLE_FOREIGN;
}

bool pc_nl_objs_process_owned(const struct pc_nl_objs *o)
{
	return o && (o->table_flags & NFT_TABLE_F_OWNER);
}

/* Batches. */

struct seq_loc {
	uint32_t seq;
	const struct pc_location *loc; /* may be NULL */
	char *what;                    /* owned; NULL for a rule of a plan */
	const char *chain;             /* a plan's rule: its chain, comment */
	const char *comment;
};

struct pc_nl_batch {
	struct pc_buf buf;
	struct seq_loc *map;
	size_t n_map, map_cap;
	uint32_t set_id;
};

/*
 * The batch lives in an anonymous mapping: its pages come zeroed (the
 * padding libmnl leaves after attributes is sent as zeros, not garbage)
 * and, advised for transparent huge pages, a 2,000-rule batch costs a
 * couple of page faults instead of hundreds.
 */
#define BATCH_RESERVE (64u << 20)

static void batch_grow(struct pc_nl_batch *b, size_t need)
{
	size_t cap = b->buf.cap ? b->buf.cap : BATCH_RESERVE;
	void *p;

	while (cap < need)
		cap *= 2;
	if (!b->buf.data) {
		p = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	} else {
		p = mremap(b->buf.data, b->buf.cap, cap, MREMAP_MAYMOVE);
	}
	if (p == MAP_FAILED)
		PC_BUG("cannot map %zu bytes for the netlink batch", cap);
	madvise(p, cap, MADV_HUGEPAGE);
	b->buf.data = p;
	b->buf.cap = cap;
}

static struct nlmsghdr *batch_msg(struct pc_nl_batch *b, uint16_t type,
				  uint16_t flags, const struct pc_location *loc,
				  char *what)
{
	/* Room for the largest message; trimmed to its length after. */
	size_t room = 1u << 17;
	struct nlmsghdr *nlh;
	uint32_t seq = seq_next();

	if (b->buf.cap - b->buf.len < room)
		batch_grow(b, b->buf.len + room);
	nlh = nftnl_nlmsg_build_hdr(b->buf.data + b->buf.len, type, NFPROTO_INET,
				    flags, seq);
	b->map = xgrow(b->map, &b->map_cap, b->n_map + 1, sizeof(*b->map));
	b->map[b->n_map].seq = seq;
	b->map[b->n_map].loc = loc;
	b->map[b->n_map].what = what;
	b->map[b->n_map].chain = NULL;
	b->map[b->n_map].comment = NULL;
	b->n_map++;
	return nlh;
}

static void batch_done(struct pc_nl_batch *b, struct nlmsghdr *nlh)
{
	b->buf.len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/*
 * A table message. The last NEWTABLE of a batch (@o not NULL) carries the
 * contents' flags and user data: as read back when it is a saved table,
 * else the ownership comment.
 */
static void batch_table(struct pc_nl_batch *b, const char *table, uint16_t type,
			const struct pc_nl_objs *o)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	/*
	 * Not the owner flag of a table read back: the process sending the
	 * rollback would own the table, and it would go when that process
	 * exits.
	 */
	if (type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS,
				    o ? o->table_flags & ~(uint32_t)NFT_TABLE_F_OWNER : 0);
	if (type == NFT_MSG_NEWTABLE && o && o->table_udata) {
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, o->table_udata,
				     o->table_udata_len);
	} else if (type == NFT_MSG_NEWTABLE && o && o->table_comment) {
		struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

		if (!ud)
			PC_BUG("out of memory");
		nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT, o->table_comment);
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(ud),
				     nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	nlh = batch_msg(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0, NULL,
			xasprintf("table inet %s", table));
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	batch_done(b, nlh);
}

static const struct pc_location *rule_loc(const struct nl_rule *nr)
{
	return nr->plan ? &nr->plan->src->loc : NULL;
}

static void batch_set(struct pc_nl_batch *b, struct nl_set *ns, const char *name,
		      uint32_t id, const struct pc_location *loc)
{
	struct nlmsghdr *nlh;
	size_t i = 0;

	nftnl_set_set_u32(ns->s, NFTNL_SET_ID, id);
	nlh = batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE, loc,
			xasprintf("%s %s", set_kind(ns), ns->anon ? "(anonymous)" : ns->name));
	nftnl_set_nlmsg_build_payload(nlh, ns->s);
	batch_done(b, nlh);
	while (i < ns->n) {
		struct nftnl_set *tmp = nftnl_set_alloc();
		size_t per = strcmp(set_kind(ns), "map") == 0 ? MAP_ELEMS_PER_MSG :
				ELEMS_PER_MSG;
		size_t end = i + per < ns->n ? i + per : ns->n;

		nftnl_set_set_str(tmp, NFTNL_SET_TABLE,
				  nftnl_set_get_str(ns->s, NFTNL_SET_TABLE));
		nftnl_set_set_str(tmp, NFTNL_SET_NAME, name);
		nftnl_set_set_u32(tmp, NFTNL_SET_ID, id);
		nftnl_set_set_u32(tmp, NFTNL_SET_FAMILY, NFPROTO_INET);
		for (; i < end; i++) {
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();
			const struct nl_elem *ne = &ns->e[i];

			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, ne->key, ne->len);
			if (ne->has_end)
				nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, ne->key_end,
						   ne->len);
			if (ne->flags)
				nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, ne->flags);
			if (ne->has_verdict)
				nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, ne->verdict);
			if (ne->open || ne->comment) {
				struct nftnl_udata_buf *ud =
					nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

				if (!ud)
					PC_BUG("out of memory");
				/* in nft's order: the comment, then the flags */
				if (ne->comment)
					nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT,
							     ne->comment);
				if (ne->open)
					nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_ELEM_FLAGS,
							    1 /* NFTNL_SET_ELEM_F_INTERVAL_OPEN */);
				nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA,
						   nftnl_udata_buf_data(ud),
						   nftnl_udata_buf_len(ud));
				nftnl_udata_buf_free(ud);
			}
			nftnl_set_elem_add(tmp, e);
		}
		nlh = batch_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, loc,
				xasprintf("elements of %s %s", set_kind(ns),
					  ns->anon ? "(anonymous)" : ns->name));
		nftnl_set_elems_nlmsg_build_payload(nlh, tmp);
		nftnl_set_free(tmp);
		batch_done(b, nlh);
	}
}

static void batch_obj(struct pc_nl_batch *b, struct nftnl_obj *obj,
		      const struct pc_location *loc)
{
	struct nlmsghdr *nlh;

	nlh = batch_msg(b, NFT_MSG_NEWOBJ, NLM_F_CREATE, loc,
			xasprintf("object %s", nftnl_obj_get_str(obj, NFTNL_OBJ_NAME)));
	nftnl_obj_nlmsg_build_payload(nlh, obj);
	batch_done(b, nlh);
}

static char *rule_what(const struct nl_rule *nr)
{
	return xasprintf("rule in chain %s%s%s%s", nr->chain,
			 nr->comment ? " (comment \"" : "",
			 nr->comment ? nr->comment : "", nr->comment ? "\")" : "");
}

/*
 * The elements of a set read back, as read: every attribute libnftnl
 * parsed goes back (the data, flags, timeout, user data, expressions,
 * object reference), except that the remaining expiry is aged by
 * @elapsed_ms, the time since the read, and an element that has expired
 * since is left out, as the kernel would have removed it.
 */
static void batch_saved_elems(struct pc_nl_batch *b, const struct nl_set *ns,
			      uint64_t elapsed_ms)
{
	for (size_t r = 0; r < ns->n_raw; r++) {
		struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(ns->raw[r]);
		struct nftnl_set_elem *e;
		struct nlmsghdr *nlh = NULL;
		struct nlattr *list = NULL;
		uint16_t i = 0;

		for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e;
		     e = nftnl_set_elems_iter_next(it)) {
			struct nlattr *elem;

			if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION)) {
				uint64_t left = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);

				if (left <= elapsed_ms)
					continue;
				nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION,
						       left - elapsed_ms);
			}
			if (!nlh) {
				nlh = batch_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, NULL,
						xasprintf("elements of %s %s", set_kind(ns),
							  ns->name));
				mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE,
						  nftnl_set_get_str(ns->s, NFTNL_SET_TABLE));
				mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, ns->name);
				list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
				i = 0;
			}
			elem = mnl_attr_nest_start(nlh, ++i);
			nftnl_set_elem_nlmsg_build_payload(nlh, e);
			mnl_attr_nest_end(nlh, elem);
			/* an attribute (the element list) stays below 64 KiB */
			if (nlh->nlmsg_len > 32768) {
				mnl_attr_nest_end(nlh, list);
				batch_done(b, nlh);
				nlh = NULL;
			}
		}
		if (nlh) {
			mnl_attr_nest_end(nlh, list);
			batch_done(b, nlh);
		}
		if (it)
			nftnl_set_elems_iter_destroy(it);
	}
}

/* The attribute of @type inside @nest, or NULL. */
static struct nlattr *attr_find(struct nlattr *nest, uint16_t type)
{
	struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

/*
 * The kernel lists every `add @set { ... }` (dynset) with a timeout, 0
 * when it has none, but refuses a timeout, even 0, for a set without the
 * timeout flag. 0 means the set's default, as no timeout does: the
 * attribute is taken out of the built rule message (and of the nests
 * around it).
 */
static void rule_drop_zero_dynset_timeout(struct nlmsghdr *nlh)
{
	struct nlattr *exprs = NULL, *a, *elem;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_RULE_EXPRESSIONS)
			exprs = a;
	if (!exprs)
		return;
	mnl_attr_for_each_nested(elem, exprs) {
		struct nlattr *name = attr_find(elem, NFTA_EXPR_NAME);
		struct nlattr *data = attr_find(elem, NFTA_EXPR_DATA);
		struct nlattr *t;
		size_t cut;
		char *end;

		if (!name || !data || strcmp(mnl_attr_get_str(name), "dynset") != 0)
			continue;
		t = attr_find(data, NFTA_DYNSET_TIMEOUT);
		if (!t || mnl_attr_get_payload_len(t) != 8 || mnl_attr_get_u64(t) != 0)
			continue;
		cut = NLMSG_ALIGN(t->nla_len);
		end = (char *)nlh + nlh->nlmsg_len;
		memmove(t, (char *)t + cut, (size_t)(end - ((char *)t + cut)));
		data->nla_len -= cut;
		elem->nla_len -= cut;
		exprs->nla_len -= cut;
		nlh->nlmsg_len -= cut;
	}
}

static bool chain_is_binding(const struct nftnl_chain *c)
{
	return nftnl_chain_is_set(c, NFTNL_CHAIN_FLAGS) &&
	       (nftnl_chain_get_u32(c, NFTNL_CHAIN_FLAGS) & NFT_CHAIN_BINDING);
}

static bool rule_in_binding_chain(const struct pc_nl_objs *o, const struct nl_rule *nr)
{
	for (size_t i = 0; i < o->n_chains; i++)
		if (strcmp(nftnl_chain_get_str(o->chains[i], NFTNL_CHAIN_NAME), nr->chain) == 0)
			return chain_is_binding(o->chains[i]);
	return false;
}

/*
 * A table read back from the kernel, rebuilt generically through
 * libnftnl's parse and build of each object, so that no attribute or
 * expression type is forgotten. Everything is referred to by the name the
 * kernel gave it (anonymous sets and bound chains included: the names are
 * free again once the old table is deleted), in an order in which each
 * object exists before what refers to it: named objects (set elements and
 * rules refer to them), flowtables, chains (verdicts jump to them), sets
 * with their elements, then the rules: those of bound (anonymous) chains
 * first, since the rule that binds such a chain closes it to more rules.
 */
static void batch_saved(struct pc_nl_batch *b, struct pc_nl_objs *o)
{
	struct timespec now;
	uint64_t elapsed_ms;
	struct nlmsghdr *nlh;

	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed_ms = (uint64_t)(now.tv_sec - o->read_at.tv_sec) * 1000 +
		     (uint64_t)((now.tv_nsec - o->read_at.tv_nsec) / 1000000);
	for (size_t i = 0; i < o->n_objs; i++) {
		nlh = batch_msg(b, NFT_MSG_NEWOBJ, NLM_F_CREATE, NULL,
				xasprintf("object %s", nftnl_obj_get_str(o->objs[i],
									 NFTNL_OBJ_NAME)));
		nftnl_obj_nlmsg_build_payload(nlh, o->objs[i]);
		batch_done(b, nlh);
	}
	for (size_t i = 0; i < o->n_fts; i++) {
		nlh = batch_msg(b, NFT_MSG_NEWFLOWTABLE, NLM_F_CREATE, NULL,
				xasprintf("flowtable %s",
					  nftnl_flowtable_get_str(o->fts[i],
								  NFTNL_FLOWTABLE_NAME)));
		nftnl_flowtable_nlmsg_build_payload(nlh, o->fts[i]);
		batch_done(b, nlh);
	}
	for (size_t i = 0; i < o->n_chains; i++) {
		nlh = batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, NULL,
				xasprintf("chain %s", nftnl_chain_get_str(o->chains[i],
									  NFTNL_CHAIN_NAME)));
		nftnl_chain_nlmsg_build_payload(nlh, o->chains[i]);
		batch_done(b, nlh);
	}
	for (size_t i = 0; i < o->n_sets; i++) {
		struct nl_set *ns = &o->sets[i];

		nlh = batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE, NULL,
				xasprintf("%s %s", set_kind(ns), ns->name));
		/* the kernel wants an id for every new set (unused here) */
		nftnl_set_set_u32(ns->s, NFTNL_SET_ID, ++b->set_id);
		nftnl_set_nlmsg_build_payload(nlh, ns->s);
		batch_done(b, nlh);
		batch_saved_elems(b, ns, elapsed_ms);
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < o->n_rules; i++) {
			struct nl_rule *nr = &o->rules[i];

			if (rule_in_binding_chain(o, nr) != (pass == 0))
				continue;
			nlh = batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
					NULL, rule_what(nr));
			nftnl_rule_nlmsg_build_payload(nlh, nr->r);
			rule_drop_zero_dynset_timeout(nlh);
			batch_done(b, nlh);
		}
	}
}

struct pc_nl_batch *pc_nl_batch_create(const char *table, struct pc_nl_objs *o,
				       bool commit)
{
	struct pc_nl_batch *b = xzalloc(sizeof(*b));
	struct nlmsghdr *nlh;

	memset(&b->buf, 0, sizeof(b->buf));
	nlh = batch_msg(b, 0, 0, NULL, xstrdup("batch"));
	nftnl_batch_begin((char *)nlh, nlh->nlmsg_seq);
	batch_done(b, nlh);

	batch_table(b, table, NFT_MSG_NEWTABLE, NULL);
	batch_table(b, table, NFT_MSG_DELTABLE, NULL);
	if (o && o->from_kernel) {
		batch_table(b, table, NFT_MSG_NEWTABLE, o);
		batch_saved(b, o);
	} else if (o) {
		batch_table(b, table, NFT_MSG_NEWTABLE, o);
		for (size_t i = 0; i < o->n_objs; i++)
			batch_obj(b, o->objs[i], NULL);
		for (size_t i = 0; i < o->n_sets; i++)
			if (!o->sets[i].anon)
				batch_set(b, &o->sets[i], o->sets[i].name, ++b->set_id,
					  o->sets[i].loc);
		for (size_t i = 0; i < o->n_chains; i++) {
			nlh = batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, NULL,
					xasprintf("chain %s",
						  nftnl_chain_get_str(o->chains[i],
								      NFTNL_CHAIN_NAME)));
			nftnl_chain_nlmsg_build_payload(nlh, o->chains[i]);
			batch_done(b, nlh);
		}
		for (size_t i = 0; i < o->n_rules; i++) {
			struct nl_rule *nr = &o->rules[i];

			/*
			 * Each rule's anonymous sets just before it. Built sets
			 * are called "__set%d" (the kernel picks the number) and
			 * found by id; sets read back keep the name the kernel
			 * gave them, which is free again once the table is gone.
			 * (Setting a lookup's set name twice leaks in libnftnl.)
			 */
			for (size_t k = 0; k < nr->n_lk; k++) {
				struct nl_set *ns = &o->sets[nr->lk[k].set];
				uint32_t id;

				if (!ns->anon)
					continue;
				id = ++b->set_id;
				batch_set(b, ns, ns->name, id, rule_loc(nr));
				nftnl_expr_set_u32(nr->lk[k].expr,
						   NFTNL_EXPR_LOOKUP_SET_ID, id);
			}
			nlh = batch_msg(b, NFT_MSG_NEWRULE,
					NLM_F_CREATE | NLM_F_APPEND, rule_loc(nr),
					rule_what(nr));
			nftnl_rule_nlmsg_build_payload(nlh, nr->r);
			batch_done(b, nlh);
		}
	}
	if (commit) {
		nlh = batch_msg(b, 0, 0, NULL, xstrdup("batch end"));
		nftnl_batch_end((char *)nlh, nlh->nlmsg_seq);
		batch_done(b, nlh);
	}
	return b;
}

struct pc_nl_batch *pc_nl_batch_from_plan(const struct pc_nft_plan *plan, bool commit)
{
	struct pc_nl_objs *o = pc_nl_objs_from_plan(plan);
	struct pc_nl_batch *b = pc_nl_batch_create(plan->table, o, commit);

	pc_nl_objs_destroy(o);
	return b;
}

void pc_nl_batch_destroy(struct pc_nl_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_map; i++)
		free(b->map[i].what);
	free(b->map);
	if (b->buf.data)
		munmap(b->buf.data, b->buf.cap);
	free(b);
}

size_t pc_nl_batch_size(const struct pc_nl_batch *b)
{
	return b->buf.len;
}

static const struct seq_loc *map_find(const struct pc_nl_batch *b, uint32_t seq)
{
	for (size_t i = 0; i < b->n_map; i++)
		if (b->map[i].seq == seq)
			return &b->map[i];
	return NULL;
}

/* One error answer: report it at the location of the message it is about. */
static void report_error(const struct pc_nl_batch *b, const struct nlmsghdr *nlh,
			 struct pc_diag *diag)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	const struct seq_loc *sl = map_find(b, err->msg.nlmsg_seq);
	const char *ext = NULL;
	char *what = NULL;

	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		size_t off = sizeof(*err);
		const struct nlattr *attr;

		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += err->msg.nlmsg_len - sizeof(err->msg);
		mnl_attr_for_each(attr, nlh, off) {
			if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG)
				ext = mnl_attr_get_str(attr);
		}
	}
	if (sl && !sl->what && sl->chain)
		what = xasprintf("rule in chain %s%s%s%s", sl->chain,
				 sl->comment ? " (comment \"" : "",
				 sl->comment ? sl->comment : "",
				 sl->comment ? "\")" : "");
	pc_diag_error(diag, sl ? sl->loc : NULL,
		      "the kernel refused the %s: %s%s%s%s",
		      what ? what : sl && sl->what ? sl->what : "batch",
		      strerror(-err->error),
		      ext ? ": " : "", ext ? ext : "",
		      err->error == -EPERM ? " (another program owns this table)" : "");
	free(what);
}

const void *pc_nl_batch_data(const struct pc_nl_batch *b, size_t *len)
{
	*len = b->buf.len;
	return b->buf.data;
}

void pc_nl_batch_report(const struct pc_nl_batch *b, const void *err_msg,
			struct pc_diag *diag)
{
	report_error(b, err_msg, diag);
}

int pc_nl_batch_send(struct pc_nl_batch *b, struct pc_diag *diag)
{
	struct mnl_socket *nl;
	size_t bufsz = MNL_SOCKET_BUFFER_SIZE * 4;
	char *buf = NULL;
	int ret = 0, fd, sz;
	size_t more = 0;
	bool refused = false, permission = false;

	nl = nl_open(&ret);
	if (!nl)
		return ret;
	fd = mnl_socket_get_fd(nl);
	sz = b->buf.len + 65536 > INT_MAX ? INT_MAX : (int)(b->buf.len + 65536);
	/* The whole batch goes in one sendmsg() and the kernel runs it there. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	sz = 1 << 22;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (mnl_socket_sendto(nl, b->buf.data, b->buf.len) < 0) {
		ret = -errno;
		goto out;
	}
	/*
	 * nfnetlink processes the batch inside sendmsg(): whatever it has to
	 * say (errors; no acks were asked for) is queued by now.
	 */
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		ret = -errno;
		goto out;
	}
	buf = xmalloc(bufsz);
	for (;;) {
		ssize_t n = recv(fd, buf, bufsz, 0);
		const struct nlmsghdr *nlh;
		int left;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *err;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			err = mnl_nlmsg_get_payload(nlh);
			if (err->error == 0)
				continue;
			/*
			 * Without CAP_NET_ADMIN nfnetlink refuses the batch as a
			 * whole, answering its first message; an EPERM about one
			 * object (a table another process owns) is a refusal.
			 */
			if (err->error == -EPERM && b->n_map &&
			    err->msg.nlmsg_seq == b->map[0].seq) {
				permission = true;
				continue;
			}
			/*
			 * Later messages usually fail because of the first
			 * (the objects they refer to were refused): report the
			 * first, count the others.
			 */
			if (!refused)
				report_error(b, nlh, diag);
			else
				more++;
			refused = true;
		}
	}
	if (permission) {
		ret = -EPERM;
	} else if (refused) {
		if (more)
			pc_diag_note(diag, NULL,
				     "%zu later message%s of the transaction %s refused as well",
				     more, more == 1 ? "" : "s", more == 1 ? "was" : "were");
		ret = 1;
	}
out:
	free(buf);
	mnl_socket_close(nl);
	return ret;
}

/* Canonical text, for diff. */

static void hex_put(struct pc_buf *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pc_buf_printf(out, "%02x", p[i]);
}

static int nl_elem_cmp(const void *a, const void *b)
{
	const struct nl_elem *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	if (c)
		return c;
	return (int)(x->flags & NFT_SET_ELEM_INTERVAL_END) -
	       (int)(y->flags & NFT_SET_ELEM_INTERVAL_END);
}

static void key_print(struct pc_buf *out, uint32_t type, const uint8_t *k,
		      uint32_t len)
{
	char buf[INET6_ADDRSTRLEN];

	if (type == NFT_TYPE_IPADDR && len == 4)
		pc_buf_puts(out, inet_ntop(AF_INET, k, buf, sizeof(buf)));
	else if (type == NFT_TYPE_IP6ADDR && len == 16)
		pc_buf_puts(out, inet_ntop(AF_INET6, k, buf, sizeof(buf)));
	else if (len == 2)
		pc_buf_printf(out, "%u", (unsigned)k[0] << 8 | k[1]);
	else if (len == 1)
		pc_buf_printf(out, "%u", k[0]);
	else
		hex_put(out, k, len);
}

/* "lo-hi", "lo" or an address prefix "a/len" when [lo, hi] is one. */
static void range_print(struct pc_buf *out, uint32_t type, const uint8_t *lo,
			const uint8_t *hi, uint32_t len)
{
	unsigned plen = 0;
	bool prefix = type == NFT_TYPE_IPADDR || type == NFT_TYPE_IP6ADDR;

	if (memcmp(lo, hi, len) == 0) {
		key_print(out, type, lo, len);
		return;
	}
	/* A prefix: lo and hi agree on plen bits, lo has 0s and hi 1s after. */
	while (plen < len * 8 && ((lo[plen / 8] ^ hi[plen / 8]) & (0x80u >> (plen % 8))) == 0)
		plen++;
	for (unsigned bit = plen; prefix && bit < len * 8; bit++) {
		unsigned m = 0x80u >> (bit % 8);

		if ((lo[bit / 8] & m) || !(hi[bit / 8] & m))
			prefix = false;
	}
	key_print(out, type, lo, len);
	if (prefix) {
		pc_buf_printf(out, "/%u", plen);
	} else {
		pc_buf_putc(out, '-');
		key_print(out, type, hi, len);
	}
}

/*
 * The fields of the concatenated key types portcullis makes (verdict maps):
 * their types and lengths, each padded to 4 bytes. 0 for another type.
 */
static size_t concat_fields(uint32_t type, uint32_t ftype[3], uint32_t flen[3])
{
	if (type != NFT_TYPE_VMAP_V4 && type != NFT_TYPE_VMAP_V6)
		return 0;
	ftype[0] = type == NFT_TYPE_VMAP_V6 ? NFT_TYPE_IP6ADDR : NFT_TYPE_IPADDR;
	flen[0] = type == NFT_TYPE_VMAP_V6 ? 16 : 4;
	ftype[1] = NFT_TYPE_INET_PROTOCOL;
	flen[1] = 1;
	ftype[2] = NFT_TYPE_INET_SERVICE;
	flen[2] = 2;
	return 3;
}

/*
 * A map element or an element with an end key (a concatenation's box):
 * "192.0.2.0/24 . tcp . 80-90 : accept comment "..."", each field as its
 * range.
 */
static void elem_print_box(struct pc_buf *out, uint32_t type, const struct nl_elem *e)
{
	uint32_t ftype[3], flen[3], off = 0;
	size_t nf = concat_fields(type, ftype, flen);
	const uint8_t *hi = e->has_end ? e->key_end : e->key;

	for (size_t f = 0; f < nf; f++)
		off += (flen[f] + 3) / 4 * 4;
	if (nf == 0 || off != e->len) {
		hex_put(out, e->key, e->len);
		if (e->has_end) {
			pc_buf_putc(out, '-');
			hex_put(out, e->key_end, e->len);
		}
	} else {
		off = 0;
		for (size_t f = 0; f < nf; f++) {
			if (f)
				pc_buf_puts(out, " . ");
			if (ftype[f] == NFT_TYPE_INET_PROTOCOL && e->key[off] == hi[off] &&
			    pc_proto_name(e->key[off]))
				pc_buf_puts(out, pc_proto_name(e->key[off]));
			else
				range_print(out, ftype[f], e->key + off, hi + off, flen[f]);
			off += (flen[f] + 3) / 4 * 4;
		}
	}
	if (e->has_verdict)
		pc_buf_puts(out, e->verdict == NF_ACCEPT ? " : accept" :
				 e->verdict == NF_DROP ? " : drop" : " : (verdict)");
	if (e->comment)
		pc_buf_printf(out, " comment \"%s\"", e->comment);
}

/* The elements of a set as nft would list them, one string each. */
static char **set_values(const struct nl_set *ns, size_t *n)
{
	struct nl_elem *e = xcalloc(ns->n, sizeof(*e));
	uint32_t type = nftnl_set_get_u32(ns->s, NFTNL_SET_KEY_TYPE);
	bool interval = nftnl_set_is_set(ns->s, NFTNL_SET_FLAGS) &&
			(nftnl_set_get_u32(ns->s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL);
	char **v = xcalloc(ns->n + 1, sizeof(*v));

	*n = 0;
	memcpy(e, ns->e, ns->n * sizeof(*e));
	qsort(e, ns->n, sizeof(*e), nl_elem_cmp);
	for (size_t i = 0; i < ns->n; i++) {
		struct pc_buf b;
		uint8_t hi[16];
		int k;

		if (interval && (e[i].flags & NFT_SET_ELEM_INTERVAL_END))
			continue;
		pc_buf_init(&b);
		if (e[i].has_end || e[i].has_verdict || e[i].len > 16) {
			elem_print_box(&b, type, &e[i]);
		} else if (!interval) {
			key_print(&b, type, e[i].key, e[i].len);
		} else {
			if (i + 1 < ns->n) {
				memcpy(hi, e[i + 1].key, e[i].len);
				for (k = (int)e[i].len - 1; k >= 0; k--)
					if (hi[k]-- != 0)
						break;
			} else {
				memset(hi, 0xff, e[i].len);
			}
			range_print(&b, type, e[i].key, hi, e[i].len);
		}
		v[(*n)++] = b.data;
	}
	free(e);
	return v;
}

static bool values_has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Elements of @a missing from @b, comma separated ("" if none). */
static char *values_minus(char **a, size_t na, char **b, size_t nb)
{
	struct pc_buf out;

	pc_buf_init(&out);
	for (size_t i = 0; i < na; i++)
		if (!values_has(b, nb, a[i]))
			pc_buf_printf(&out, "%s%s", out.len ? ", " : "", a[i]);
	return out.data ? out.data : xstrdup("");
}

static void values_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A set by content: key type, flags, elements as nft lists them. */
static char *set_canon(const struct nl_set *ns)
{
	struct pc_buf out;
	uint32_t flags = nftnl_set_is_set(ns->s, NFTNL_SET_FLAGS) ?
			 nftnl_set_get_u32(ns->s, NFTNL_SET_FLAGS) : 0;
	size_t n;
	char **v = set_values(ns, &n);

	pc_buf_init(&out);
	pc_buf_printf(&out, "{ ");
	for (size_t i = 0; i < n; i++)
		pc_buf_printf(&out, "%s%s", i ? ", " : "", v[i]);
	pc_buf_printf(&out, " } (type %u, flags 0x%x",
		      nftnl_set_get_u32(ns->s, NFTNL_SET_KEY_TYPE),
		      flags & (NFT_SET_INTERVAL | NFT_SET_ANONYMOUS | NFT_SET_CONSTANT |
			       NFT_SET_MAP | NFT_SET_CONCAT));
	if ((flags & NFT_SET_MAP) && nftnl_set_is_set(ns->s, NFTNL_SET_DATA_TYPE))
		pc_buf_printf(&out, ", data type 0x%x",
			      nftnl_set_get_u32(ns->s, NFTNL_SET_DATA_TYPE));
	pc_buf_putc(&out, ')');
	values_free(v, n);
	return out.data;
}

struct canon_ctx {
	const struct pc_nl_objs *o;
	const struct nl_rule *nr;
	struct pc_buf *out;
};

static int expr_canon(struct nftnl_expr *e, void *data)
{
	struct canon_ctx *cc = data;
	char buf[1024];

	for (size_t k = 0; k < cc->nr->n_lk; k++) {
		if (cc->nr->lk[k].expr == e) {
			const struct nl_set *ns = &cc->o->sets[cc->nr->lk[k].set];

			if (ns->anon) {
				char *s = set_canon(ns);

				pc_buf_printf(cc->out, "[ lookup reg %u set %s ] ",
					      nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG), s);
				free(s);
				return 0;
			}
		}
	}
	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "lookup") == 0) {
		/*
		 * A named set or map: by name (its id is the batch's, not the
		 * kernel's); kernel and nft differ in unset flags.
		 */
		pc_buf_printf(cc->out, "[ lookup reg %u set @%s",
			      nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG),
			      nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
			pc_buf_printf(cc->out, " dreg %u",
				      nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG));
		pc_buf_printf(cc->out, " flags 0x%x ] ",
			      nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) ?
			      nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) : 0);
		return 0;
	}
	nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
	pc_buf_printf(cc->out, "[ %s ] ", buf);
	return 0;
}

static char *rule_canon(const struct pc_nl_objs *o, const struct nl_rule *nr)
{
	struct pc_buf out;
	struct canon_ctx cc = { o, nr, &out };

	pc_buf_init(&out);
	nftnl_expr_foreach(nr->r, expr_canon, &cc);
	pc_buf_printf(&out, "comment \"%s\"", nr->comment ? nr->comment : "");
	return out.data;
}

static char *chain_canon(const struct nftnl_chain *c)
{
	const char *type = nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE) ?
			   nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE) : "";

	if (!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
		return xstrdup("regular chain");
	return xasprintf("type %s hook %u priority %d policy %s", type,
			 nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
			 nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO),
			 nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_ACCEPT ?
			 "accept" : "drop");
}

static const struct nftnl_chain *find_chain(const struct pc_nl_objs *o,
					    const char *name)
{
	for (size_t i = 0; i < o->n_chains; i++)
		if (strcmp(nftnl_chain_get_str(o->chains[i], NFTNL_CHAIN_NAME), name) == 0)
			return o->chains[i];
	return NULL;
}

static const struct nl_set *find_named_set(const struct pc_nl_objs *o,
					   const char *name)
{
	for (size_t i = 0; i < o->n_sets; i++)
		if (!o->sets[i].anon && strcmp(o->sets[i].name, name) == 0)
			return &o->sets[i];
	return NULL;
}

/* Rules of one chain with their canonical text. */
struct chain_rules {
	const struct nl_rule **r;
	char **canon;
	size_t n;
};

static void chain_rules_get(const struct pc_nl_objs *o, const char *chain,
			    struct chain_rules *cr)
{
	memset(cr, 0, sizeof(*cr));
	cr->r = xcalloc(o->n_rules, sizeof(*cr->r));
	cr->canon = xcalloc(o->n_rules, sizeof(*cr->canon));
	for (size_t i = 0; i < o->n_rules; i++) {
		if (strcmp(o->rules[i].chain, chain) != 0)
			continue;
		cr->r[cr->n] = &o->rules[i];
		cr->canon[cr->n] = rule_canon(o, &o->rules[i]);
		cr->n++;
	}
}

static void chain_rules_free(struct chain_rules *cr)
{
	for (size_t i = 0; i < cr->n; i++)
		free(cr->canon[i]);
	free(cr->canon);
	free(cr->r);
}

struct diff_out {
	FILE *f;
	const char *table;
	bool header;
};

/* The first difference prints what '-' and '+' mean. */
static FILE *dout(struct diff_out *d)
{
	if (!d->header) {
		fprintf(d->f, "--- policy (what apply would install)\n"
			      "+++ kernel (table inet %s)\n", d->table);
		d->header = true;
	}
	return d->f;
}

static void print_want(FILE *out, const char *chain, const struct nl_rule *nr,
		       const char *tag)
{
	fprintf(out, "%s%s: ", tag, chain);
	if (nr->plan)
		pc_nft_rule_format(nr->plan, out);
	fputc('\n', out);
}

/* A kernel rule: as nft text when the policy has the same rule elsewhere. */
static void print_live(FILE *out, const char *chain, const struct chain_rules *w,
		       const char *canon, const char *tag)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->r[i]->plan && strcmp(w->canon[i], canon) == 0) {
			print_want(out, chain, w->r[i], tag);
			return;
		}
	}
	fprintf(out, "%s%s: %s\n", tag, chain, canon);
}

/* A longest-common-subsequence diff of the rules of one chain. */
static bool diff_chain(const char *chain, const struct chain_rules *w,
		       const struct chain_rules *l, struct diff_out *d)
{
	size_t n = w->n, m = l->n;
	uint32_t *t;
	size_t i = 0, j = 0;
	bool same = true;

	t = xcalloc((n + 1) * (m + 1), sizeof(*t));
#define T(a, b) t[(a) * (m + 1) + (b)]
	for (size_t a = n; a-- > 0;)
		for (size_t b = m; b-- > 0;)
			T(a, b) = strcmp(w->canon[a], l->canon[b]) == 0 ?
				  T(a + 1, b + 1) + 1 :
				  (T(a + 1, b) > T(a, b + 1) ? T(a + 1, b) : T(a, b + 1));
	while (i < n || j < m) {
		if (i < n && j < m && strcmp(w->canon[i], l->canon[j]) == 0) {
			i++;
			j++;
			continue;
		}
		same = false;
		/* Same comment on both sides: one rule changed in place. */
		if (i < n && j < m && w->r[i]->comment && l->r[j]->comment &&
		    strcmp(w->r[i]->comment, l->r[j]->comment) == 0 &&
		    T(i + 1, j + 1) == T(i, j)) {
			fprintf(dout(d), "~ %s: the rule \"%s\" differs\n", chain,
				w->r[i]->comment);
			print_want(d->f, chain, w->r[i], "  - ");
			fprintf(d->f, "  + %s: %s\n", chain, l->canon[j]);
			i++;
			j++;
			continue;
		}
		if (j < m && (i == n || T(i, j + 1) >= T(i + 1, j))) {
			print_live(dout(d), chain, w, l->canon[j], "+ ");
			j++;
		} else {
			print_want(dout(d), chain, w->r[i], "- ");
			i++;
		}
	}
#undef T
	free(t);
	return same;
}

/* nft's words for table flags: "dormant, owner", or "none". */
static char *table_flags_text(uint32_t flags)
{
	static const char *const names[] = { "dormant", "owner", "persist" };
	struct pc_buf out;

	pc_buf_init(&out);
	for (unsigned i = 0; i < 32; i++) {
		if (!(flags & (1u << i)))
			continue;
		if (out.len)
			pc_buf_puts(&out, ", ");
		if (i < sizeof(names) / sizeof(names[0]))
			pc_buf_puts(&out, names[i]);
		else
			pc_buf_printf(&out, "0x%x", 1u << i);
	}
	return out.data ? out.data : xstrdup("none");
}

static const char *obj_type_name(uint32_t type)
{
	switch (type) {
	case NFT_OBJECT_COUNTER: return "counter";
	case NFT_OBJECT_QUOTA: return "quota";
	case NFT_OBJECT_CT_HELPER: return "ct helper";
	case NFT_OBJECT_LIMIT: return "limit";
	case NFT_OBJECT_CONNLIMIT: return "connlimit";
	case NFT_OBJECT_TUNNEL: return "tunnel";
	case NFT_OBJECT_CT_TIMEOUT: return "ct timeout";
	case NFT_OBJECT_SECMARK: return "secmark";
	case NFT_OBJECT_CT_EXPECT: return "ct expectation";
	case NFT_OBJECT_SYNPROXY: return "synproxy";
	}
	return "object";
}

static bool has_obj(const struct pc_nl_objs *o, struct nftnl_obj *ob)
{
	for (size_t i = 0; i < o->n_objs; i++)
		if (nftnl_obj_get_u32(o->objs[i], NFTNL_OBJ_TYPE) ==
		    nftnl_obj_get_u32(ob, NFTNL_OBJ_TYPE) &&
		    strcmp(nftnl_obj_get_str(o->objs[i], NFTNL_OBJ_NAME),
			   nftnl_obj_get_str(ob, NFTNL_OBJ_NAME)) == 0)
			return true;
	return false;
}

static bool has_flowtable(const struct pc_nl_objs *o, const char *name)
{
	for (size_t i = 0; i < o->n_fts; i++)
		if (strcmp(nftnl_flowtable_get_str(o->fts[i], NFTNL_FLOWTABLE_NAME), name) == 0)
			return true;
	return false;
}

/*
 * What the table as a whole holds besides chains and sets: its flags (a
 * dormant table filters nothing), its comment (the ownership marker),
 * named objects and flowtables by name.
 */
static bool diff_table_extras(const struct pc_nl_objs *want, const struct pc_nl_objs *live,
			      struct diff_out *d)
{
	bool same = true;

	if (want->table_flags != live->table_flags) {
		char *a = table_flags_text(want->table_flags);
		char *b = table_flags_text(live->table_flags);

		fprintf(dout(d), "~ table flags differ%s\n  - flags %s\n  + flags %s\n",
			live->table_flags & NFT_TABLE_F_DORMANT ?
			" (dormant: the table filters nothing)" : "", a, b);
		free(a);
		free(b);
		same = false;
	}
	if (!want->table_comment != !live->table_comment ||
	    (want->table_comment && strcmp(want->table_comment, live->table_comment) != 0)) {
		fprintf(dout(d), "~ table comment differs\n");
		fprintf(d->f, want->table_comment ? "  - comment \"%s\"\n" : "  - %s\n",
			want->table_comment ? want->table_comment : "(no comment)");
		fprintf(d->f, live->table_comment ? "  + comment \"%s\"\n" : "  + %s\n",
			live->table_comment ? live->table_comment : "(no comment)");
		same = false;
	}
	for (size_t i = 0; i < want->n_objs; i++) {
		if (!has_obj(live, want->objs[i])) {
			fprintf(dout(d), "- %s %s (missing from the kernel)\n",
				obj_type_name(nftnl_obj_get_u32(want->objs[i], NFTNL_OBJ_TYPE)),
				nftnl_obj_get_str(want->objs[i], NFTNL_OBJ_NAME));
			same = false;
		}
	}
	for (size_t i = 0; i < live->n_objs; i++) {
		if (!has_obj(want, live->objs[i])) {
			fprintf(dout(d), "+ %s %s (not in the policy)\n",
				obj_type_name(nftnl_obj_get_u32(live->objs[i], NFTNL_OBJ_TYPE)),
				nftnl_obj_get_str(live->objs[i], NFTNL_OBJ_NAME));
			same = false;
		}
	}
	for (size_t i = 0; i < live->n_fts; i++) {
		const char *name = nftnl_flowtable_get_str(live->fts[i], NFTNL_FLOWTABLE_NAME);

		if (!has_flowtable(want, name)) {
			fprintf(dout(d), "+ flowtable %s (not in the policy)\n", name);
			same = false;
		}
	}
	return same;
}

bool pc_nl_diff(const struct pc_nl_objs *want, const struct pc_nl_objs *live,
		const char *table, FILE *out)
{
	struct diff_out d = { out, table, false };
	bool same = true;

	if (!live) {
		fprintf(out, "table inet %s does not exist (the policy has %zu rules)\n",
			table, want->n_rules);
		return false;
	}
	if (!diff_table_extras(want, live, &d))
		same = false;
	for (size_t i = 0; i < want->n_sets; i++) {
		const struct nl_set *ws = &want->sets[i], *ls;
		char *a, *b;

		if (ws->anon)
			continue;
		ls = find_named_set(live, ws->name);
		if (!ls) {
			fprintf(dout(&d), "- %s %s (missing from the kernel)\n", set_kind(ws),
				ws->name);
			same = false;
			continue;
		}
		a = set_canon(ws);
		b = set_canon(ls);
		if (strcmp(a, b) != 0) {
			size_t nw, nl;
			char **vw = set_values(ws, &nw), **vl = set_values(ls, &nl);
			char *only_w = values_minus(vw, nw, vl, nl);
			char *only_l = values_minus(vl, nl, vw, nw);

			fprintf(dout(&d), "~ %s %s differs\n", set_kind(ws), ws->name);
			if (*only_w)
				fprintf(d.f, "  - elements missing from the kernel: %s\n", only_w);
			if (*only_l)
				fprintf(d.f, "  + elements not in the policy: %s\n", only_l);
			if (!*only_w && !*only_l)
				fprintf(d.f, "  - %s\n  + %s\n", a, b);
			free(only_w);
			free(only_l);
			values_free(vw, nw);
			values_free(vl, nl);
			same = false;
		}
		free(a);
		free(b);
	}
	for (size_t i = 0; i < live->n_sets; i++) {
		if (!live->sets[i].anon && !find_named_set(want, live->sets[i].name)) {
			fprintf(dout(&d), "+ %s %s (not in the policy)\n",
				set_kind(&live->sets[i]), live->sets[i].name);
			same = false;
		}
	}
	for (size_t i = 0; i < want->n_chains; i++) {
		const char *name = nftnl_chain_get_str(want->chains[i], NFTNL_CHAIN_NAME);
		const struct nftnl_chain *lc = find_chain(live, name);
		struct chain_rules w, l;
		char *a, *b;

		if (!lc) {
			fprintf(dout(&d), "- chain %s (missing from the kernel)\n", name);
			same = false;
			continue;
		}
		a = chain_canon(want->chains[i]);
		b = chain_canon(lc);
		if (strcmp(a, b) != 0) {
			fprintf(dout(&d), "~ chain %s differs\n  - %s\n  + %s\n",
				name, a, b);
			same = false;
		}
		free(a);
		free(b);
		chain_rules_get(want, name, &w);
		chain_rules_get(live, name, &l);
		if (!diff_chain(name, &w, &l, &d))
			same = false;
		chain_rules_free(&w);
		chain_rules_free(&l);
	}
	for (size_t i = 0; i < live->n_chains; i++) {
		const char *name = nftnl_chain_get_str(live->chains[i], NFTNL_CHAIN_NAME);

		if (!find_chain(want, name)) {
			fprintf(dout(&d), "+ chain %s (not in the policy)\n", name);
			same = false;
		}
	}
	return same;
}
