/* SPDX-License-Identifier: MIT */
/*
 * Canonical text of sets and rules, and the drift between a plan and the
 * live table (portcullis diff).
 */
#include "backends/netlink/nl_internal.h"

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

	if (type == NFT_TYPE_IFNAME) {
		/* a name padded with NULs: "eth0" */
		pc_buf_putc(out, '"');
		for (uint32_t i = 0; i < len && k[i]; i++)
			pc_buf_putc(out, (char)k[i]);
		pc_buf_putc(out, '"');
	} else if (type == NFT_TYPE_IPADDR && len == 4)
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

/* The length of a field of nft type @t in a concatenated key; 0: not one
 * of the types portcullis puts in a concatenation. */
static uint32_t field_len(uint32_t t)
{
	switch (t) {
	case NFT_TYPE_IFNAME: return NFT_IFNAME_LEN;
	case NFT_TYPE_IPADDR: return 4;
	case NFT_TYPE_IP6ADDR: return 16;
	case NFT_TYPE_INET_PROTOCOL: return 1;
	case NFT_TYPE_INET_SERVICE: return 2;
	case NFT_TYPE_ICMP_TYPE: return 1;
	case NFT_TYPE_ICMP6_TYPE: return 1;
	default: return 0;
	}
}

/*
 * The fields of the concatenated key types portcullis makes (verdict maps:
 * [ifname .] address [. address] . (inet_proto . inet_service | icmp
 * type)): their types and lengths, each padded to 4 bytes in the key. 0
 * for another type (one field, or a field not of these).
 */
#define MAX_FIELDS 5
static size_t concat_fields(uint32_t type, uint32_t ftype[MAX_FIELDS],
			    uint32_t flen[MAX_FIELDS])
{
	uint32_t rev[MAX_FIELDS];
	size_t n = 0;

	if (type >> NFT_TYPE_BITS == 0)
		return 0;   /* one field: no concatenation */
	for (; type; type >>= NFT_TYPE_BITS) {
		if (n == MAX_FIELDS || !field_len(type & ((1u << NFT_TYPE_BITS) - 1)))
			return 0;
		rev[n++] = type & ((1u << NFT_TYPE_BITS) - 1);
	}
	for (size_t i = 0; i < n; i++) {
		ftype[i] = rev[n - 1 - i];
		flen[i] = field_len(ftype[i]);
	}
	return n;
}

/* A map element's verdict and comment: " : accept comment "..."". */
static void verdict_print(struct pc_buf *out, const struct nl_elem *e)
{
	if (e->has_verdict && e->verdict == (uint32_t)NFT_JUMP)
		pc_buf_printf(out, " : jump %s", e->chain ? e->chain : "?");
	else if (e->has_verdict)
		pc_buf_puts(out, e->verdict == NF_ACCEPT ? " : accept" :
				 e->verdict == NF_DROP ? " : drop" : " : (verdict)");
	if (e->comment)
		pc_buf_printf(out, " comment \"%s\"", e->comment);
}

/*
 * A map element or an element with an end key (a concatenation's box):
 * "192.0.2.0/24 . tcp . 80-90 : accept comment "..."", each field as its
 * range.
 */
static void elem_print_box(struct pc_buf *out, uint32_t type, const struct nl_elem *e)
{
	uint32_t ftype[MAX_FIELDS], flen[MAX_FIELDS], off = 0;
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
	verdict_print(out, e);
}

/* The elements of a set as nft would list them, one string each. */
char **set_values(const struct nl_set *ns, size_t *n)
{
	size_t count = ns->n;
	struct nl_elem *e;
	uint32_t type = nftnl_set_get_u32(ns->s, NFTNL_SET_KEY_TYPE);
	bool interval = nftnl_set_is_set(ns->s, NFTNL_SET_FLAGS) &&
			(nftnl_set_get_u32(ns->s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL);
	char **v;

	*n = 0;
	/* a plan's set is walked from the plan (nl_internal.h) */
	if (ns->plan) {
		e = plan_set_elem_array(ns->plan, &count);
	} else {
		e = xcalloc(count + 1, sizeof(*e));
		memcpy(e, ns->e, count * sizeof(*e));
	}
	v = xcalloc(count + 1, sizeof(*v));
	qsort(e, count, sizeof(*e), nl_elem_cmp);
	for (size_t i = 0; i < count; i++) {
		struct pc_buf b;
		uint8_t hi[16];
		int k;

		if (interval && (e[i].flags & NFT_SET_ELEM_INTERVAL_END))
			continue;
		pc_buf_init(&b);
		if (e[i].has_end || (e[i].has_verdict && !interval) || e[i].len > 16) {
			elem_print_box(&b, type, &e[i]);
		} else if (!interval) {
			key_print(&b, type, e[i].key, e[i].len);
		} else {
			if (i + 1 < count) {
				memcpy(hi, e[i + 1].key, e[i].len);
				for (k = (int)e[i].len - 1; k >= 0; k--)
					if (hi[k]-- != 0)
						break;
			} else {
				memset(hi, 0xff, e[i].len);
			}
			range_print(&b, type, e[i].key, hi, e[i].len);
			/* a port map of a dispatch (issue 15) */
			verdict_print(&b, &e[i]);
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

void values_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A set by content: key type, flags, elements as nft lists them. */
char *set_canon(const struct nl_set *ns)
{
	struct pc_buf out;
	uint32_t flags = nftnl_set_is_set(ns->s, NFTNL_SET_FLAGS) ?
			 nftnl_set_get_u32(ns->s, NFTNL_SET_FLAGS) : 0;
	size_t n;
	char **v;

	/* sets (issue 14): a dynamic set's elements are other tools' business;
	 * its kind and default timeout are the policy's */
	if (flags & NFT_SET_EVAL) {
		pc_buf_init(&out);
		pc_buf_printf(&out, "dynamic (type %u, flags 0x%x, timeout %llu ms)",
			      nftnl_set_get_u32(ns->s, NFTNL_SET_KEY_TYPE),
			      flags & (NFT_SET_INTERVAL | NFT_SET_TIMEOUT | NFT_SET_EVAL),
			      nftnl_set_is_set(ns->s, NFTNL_SET_TIMEOUT) ?
			      (unsigned long long)nftnl_set_get_u64(ns->s, NFTNL_SET_TIMEOUT) : 0ull);
		return out.data;
	}
	v = set_values(ns, &n);
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
	/* counters (issue 14): what a counter has counted is no drift */
	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
		pc_buf_puts(cc->out, "[ counter ] ");
		return 0;
	}
	nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
	pc_buf_printf(cc->out, "[ %s ] ", buf);
	return 0;
}

char *rule_canon(const struct pc_nl_objs *o, const struct nl_rule *nr)
{
	struct pc_buf out;
	struct canon_ctx cc = { o, nr, &out };

	pc_buf_init(&out);
	nftnl_expr_foreach(nr->r, expr_canon, &cc);
	pc_buf_printf(&out, "comment \"%s\"", nr->comment ? nr->comment : "");
	return out.data;
}

char *chain_canon(const struct nftnl_chain *c)
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
