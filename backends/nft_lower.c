/* SPDX-License-Identifier: MIT */
#include "nft_lower.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <string.h>

#include "util.h"

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
	for (size_t c = 0; c < 3; c++) {
		struct pc_nft_chain *ch = &plan->chains[c];

		for (size_t i = 0; i < ch->n; i++) {
			free(ch->rules[i].comment);
			for (size_t k = 0; k < ch->rules[i].n_sets; k++)
				set_destroy(ch->rules[i].sets[k]);
		}
		free(ch->rules);
	}
	for (size_t i = 0; i < plan->n_sets; i++)
		set_destroy(plan->sets[i]);
	free(plan->sets);
	free(plan);
}

size_t pc_nft_plan_rule_count(const struct pc_nft_plan *plan)
{
	size_t n = 0;

	for (size_t c = 0; c < 3; c++)
		n += plan->chains[c].n;
	return n;
}

/* nft's identifier syntax, which set and table names must follow. */
static bool nft_identifier_ok(const char *s)
{
	if (!s || !*s || strlen(s) > PC_NFT_NAME_MAX)
		return false;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (const char *p = s + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		      *p == '-'))
			return false;
	return true;
}

/*
 * nft's quoted strings have no escapes: a '"' ends them and nft reads
 * control characters literally into the ruleset. Such strings are refused.
 */
static bool check_string(const char *s, size_t max, const char *what,
			 const struct pc_location *loc, struct pc_diag *diag)
{
	size_t len = strlen(s);

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p < 0x20 || *p == 0x7f) {
			pc_diag_error(diag, loc,
				      "nft: a %s cannot contain %s",
				      what, *p == '"' ? "a double quote" :
				      "a control character");
			return false;
		}
	}
	if (len > max) {
		pc_diag_error(diag, loc,
			      "nft: the %s \"%.20s...\" is %zu bytes long, nftables allows at most %zu",
			      what, s, len, max);
		return false;
	}
	return true;
}

static const char *origin_label(enum pc_rule_origin o)
{
	switch (o) {
	case PC_ORIGIN_CONNTRACK:
		return "built-in conntrack";
	case PC_ORIGIN_LOOPBACK:
		return "built-in loopback";
	case PC_ORIGIN_ESSENTIAL_ICMP:
		return "built-in essential-icmp";
	case PC_ORIGIN_DEFAULT:
		return "default reject";
	case PC_ORIGIN_POLICY:
	case __PC_ORIGIN_MAX:
		break;
	}
	return NULL;
}

static char *rule_comment(const struct pc_rule *r)
{
	struct pc_buf b;
	const char *label = origin_label(r->origin);

	pc_buf_init(&b);
	if (r->loc.file) {
		pc_buf_puts(&b, r->loc.file);
		if (r->loc.line)
			pc_buf_printf(&b, ":%u", r->loc.line);
	}
	if (label)
		pc_buf_printf(&b, "%s%s", b.len ? " " : "", label);
	if (r->comment && *r->comment)
		pc_buf_printf(&b, "%s%s", b.len ? " " : "", r->comment);
	return b.data ? b.data : xstrdup("");
}

static void addr_range(const struct pc_addr *a, struct pc_nft_elem *e)
{
	unsigned len = a->family == PC_FAM_IPV4 ? 4 : 16;

	memset(e, 0, sizeof(*e));
	memcpy(e->lo, a->a, len);
	memcpy(e->hi, a->a, len);
	for (unsigned bit = a->plen; bit < len * 8; bit++)
		e->hi[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
}

static void be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
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

/* nft merges adjacent intervals of anonymous interval sets. */
static void set_merge(struct pc_nft_set *s)
{
	unsigned len = pc_nft_key_len(s->key);
	size_t out = 0;

	if (!s->interval || s->name)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (out && elem_adjacent(s->v[out - 1].hi, s->v[i].lo, len)) {
			memcpy(s->v[out - 1].hi, s->v[i].hi, len);
			continue;
		}
		s->v[out++] = s->v[i];
	}
	s->n = out;
}

static struct pc_nft_set *addr_set_create(const char *name, unsigned family,
					  const struct pc_addr *v, size_t n)
{
	struct pc_nft_set *s = xzalloc(sizeof(*s));
	unsigned full = family == PC_FAM_IPV4 ? 32 : 128;

	s->name = name ? xstrdup(name) : NULL;
	s->key = family == PC_FAM_IPV4 ? PC_NFT_KEY_IPV4 : PC_NFT_KEY_IPV6;
	s->addrs = v;
	s->n_addrs = n;
	s->n = n;
	s->v = xcalloc(n, sizeof(*s->v));
	s->interval = name != NULL;
	for (size_t i = 0; i < n; i++) {
		addr_range(&v[i], &s->v[i]);
		if (v[i].plen != full)
			s->interval = true;
	}
	set_merge(s);
	return s;
}

struct lower {
	const struct pc_ir *ir;
	struct pc_diag *diag;
	struct pc_nft_plan *plan;
	size_t sets_cap;
};

static const struct pc_nft_set *named_set_get(struct lower *lw, const char *group,
					      unsigned family,
					      const struct pc_addr *v, size_t n)
{
	char *name = xasprintf("%s_%s", group, family == PC_FAM_IPV4 ? "v4" : "v6");
	struct pc_nft_plan *plan = lw->plan;
	struct pc_nft_set *s;
	size_t pos = 0;

	while (pos < plan->n_sets) {
		int c = strcmp(plan->sets[pos]->name, name);

		if (c == 0) {
			free(name);
			return plan->sets[pos];
		}
		if (c > 0)
			break;
		pos++;
	}
	s = addr_set_create(name, family, v, n);
	free(name);
	plan->sets = xgrow(plan->sets, &lw->sets_cap, plan->n_sets + 1,
			   sizeof(*plan->sets));
	memmove(&plan->sets[pos + 1], &plan->sets[pos],
		(plan->n_sets - pos) * sizeof(*plan->sets));
	plan->sets[pos] = s;
	plan->n_sets++;
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

static void addr_match(struct lower *lw, struct pc_nft_rule *nr,
		       const struct pc_addr_set *as, unsigned family,
		       struct pc_nft_match *m)
{
	size_t n;
	const struct pc_addr *v;

	memset(m, 0, sizeof(*m));
	if (as->n == 0)
		return;
	v = addrs_of(as, family, &n);
	if (as->name && nft_identifier_ok(as->name) &&
	    strlen(as->name) + 3 <= PC_NFT_NAME_MAX) {
		m->kind = PC_NFT_MATCH_SET;
		m->set = named_set_get(lw, as->name, family, v, n);
		return;
	}
	if (n == 1) {
		m->kind = PC_NFT_MATCH_VALUE;
		m->addr = v;
		return;
	}
	m->kind = PC_NFT_MATCH_SET;
	m->set = nr->sets[nr->n_sets++] = addr_set_create(NULL, family, v, n);
}

static void port_match(struct pc_nft_rule *nr, const struct pc_port_set *ps,
		       uint8_t proto)
{
	struct pc_nft_match *m = &nr->dport;
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

static struct pc_nft_rule *rule_push(struct rule_vec *rv)
{
	rv->v = xgrow(rv->v, &rv->cap, rv->n + 1, sizeof(*rv->v));
	memset(&rv->v[rv->n], 0, sizeof(rv->v[0]));
	return &rv->v[rv->n++];
}

/*
 * One nft rule for family @family (0: both) and protocol alternative @l4
 * (NULL: any protocol, or @force_proto when >= 0).
 */
static void lower_one(struct lower *lw, struct rule_vec *rv, enum pc_direction dir,
		      const struct pc_rule *r, unsigned family,
		      const struct pc_l4 *l4, int force_proto,
		      enum pc_nft_verdict verdict, const char *comment)
{
	struct pc_nft_rule *nr = rule_push(rv);
	bool implied = false;

	nr->src = r;
	nr->family = family;
	nr->ifname = r->iface;
	nr->oif = dir == PC_DIR_OUT;
	addr_match(lw, nr, &r->saddr, family, &nr->saddr);
	addr_match(lw, nr, &r->daddr, family, &nr->daddr);
	if (nr->saddr.kind != PC_NFT_MATCH_NONE || nr->daddr.kind != PC_NFT_MATCH_NONE)
		implied = true;
	nr->proto = -1;
	if (l4) {
		nr->proto = l4->proto;
		if (pc_proto_has_ports(l4->proto))
			port_match(nr, &l4->dports, l4->proto);
		else if (l4->proto == PC_PROTO_ICMP || l4->proto == PC_PROTO_ICMPV6)
			type_match(nr, l4);
		if (nr->icmp_type.kind != PC_NFT_MATCH_NONE)
			implied = true;
	} else if (force_proto >= 0) {
		nr->proto = force_proto;
	}
	nr->nfproto = family != 0 && !implied;
	nr->ct_state = r->ct_state;
	nr->limit = r->limit;
	nr->log = r->log;
	nr->log_prefix = r->log_prefix;
	nr->verdict = verdict;
	nr->comment = xstrdup(comment);
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
	if (r->saddr.n || r->daddr.n || fams != PC_FAM_ALL ||
	    (l4 && (l4->proto == PC_PROTO_ICMP || l4->proto == PC_PROTO_ICMPV6))) {
		static const unsigned each[2] = { PC_FAM_IPV4, PC_FAM_IPV6 };

		for (size_t i = 0; i < 2; i++) {
			size_t k;

			if (!(fams & each[i]))
				continue;
			if (r->saddr.n && (addrs_of(&r->saddr, each[i], &k), k == 0))
				continue;
			if (r->daddr.n && (addrs_of(&r->daddr, each[i], &k), k == 0))
				continue;
			out[n++] = each[i];
		}
		return n;
	}
	out[0] = 0;
	return 1;
}

static void lower_rule(struct lower *lw, struct rule_vec *rv,
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

static bool check_rule(const struct pc_rule *r, const char *comment,
		       struct pc_diag *diag)
{
	bool ok = true;

	if (r->iface) {
		if (!check_string(r->iface, PC_NFT_IFNAME_MAX, "interface name",
				  &r->loc, diag))
			ok = false;
	}
	if (r->log_prefix &&
	    !check_string(r->log_prefix, PC_NFT_LOG_PREFIX_MAX, "log prefix",
			  &r->loc, diag))
		ok = false;
	if (!check_string(comment, PC_NFT_COMMENT_MAX, "rule comment (location and comment text)",
			  &r->loc, diag))
		ok = false;
	return ok;
}

struct pc_nft_plan *pc_nft_plan_create(const struct pc_ir *ir,
				       struct pc_diag *diag)
{
	struct lower lw = { .ir = ir, .diag = diag };
	bool ok = true;

	lw.plan = xzalloc(sizeof(*lw.plan));
	lw.plan->table = ir->table;
	if (!nft_identifier_ok(ir->table)) {
		struct pc_location loc = { .file = ir->policy_file };

		pc_diag_error(diag, &loc,
			      "nft: table name '%s' is not an nft identifier (a letter or '_', then letters, digits, '_', '.', '-'; at most %d bytes)",
			      ir->table ? ir->table : "", PC_NFT_NAME_MAX);
		ok = false;
	}
	for (size_t c = 0; c < 3; c++) {
		enum pc_direction dir = chain_order[c];
		const struct pc_chain *ch = &ir->chains[dir];
		struct pc_nft_chain *nc = &lw.plan->chains[c];
		struct rule_vec rv = { 0 };

		nc->name = chain_names[dir];
		nc->hook = chain_hooks[dir];
		nc->policy = ch->policy == PC_VERDICT_ALLOW ? PC_VERDICT_ALLOW :
							      PC_VERDICT_DENY;
		for (size_t i = 0; i < ch->n; i++) {
			const struct pc_rule *r = &ch->rules[i];
			char *comment = rule_comment(r);

			if (check_rule(r, comment, diag))
				lower_rule(&lw, &rv, dir, r, comment);
			else
				ok = false;
			free(comment);
		}
		nc->rules = rv.v;
		nc->n = rv.n;
	}
	if (!ok) {
		pc_nft_plan_destroy(lw.plan);
		return NULL;
	}
	return lw.plan;
}

/* Text. */

static const char *const icmp_names[256] = {
	[0] = "echo-reply",
	[3] = "destination-unreachable",
	[4] = "source-quench",
	[5] = "redirect",
	[8] = "echo-request",
	[9] = "router-advertisement",
	[10] = "router-solicitation",
	[11] = "time-exceeded",
	[12] = "parameter-problem",
	[13] = "timestamp-request",
	[14] = "timestamp-reply",
	[15] = "info-request",
	[16] = "info-reply",
	[17] = "address-mask-request",
	[18] = "address-mask-reply",
};

static const char *const icmpv6_names[256] = {
	[1] = "destination-unreachable",
	[2] = "packet-too-big",
	[3] = "time-exceeded",
	[4] = "parameter-problem",
	[128] = "echo-request",
	[129] = "echo-reply",
	[130] = "mld-listener-query",
	[131] = "mld-listener-report",
	[132] = "mld-listener-done",
	[133] = "nd-router-solicit",
	[134] = "nd-router-advert",
	[135] = "nd-neighbor-solicit",
	[136] = "nd-neighbor-advert",
	[137] = "nd-redirect",
	[138] = "router-renumbering",
	[141] = "ind-neighbor-solicit",
	[142] = "ind-neighbor-advert",
	[143] = "mld2-listener-report",
};

static void type_print(FILE *out, bool v6, unsigned t)
{
	const char *name = (v6 ? icmpv6_names : icmp_names)[t & 0xff];

	if (name)
		fputs(name, out);
	else
		fprintf(out, "%u", t);
}

static void addr_print(FILE *out, const struct pc_addr *a)
{
	char buf[INET6_ADDRSTRLEN];
	bool v4 = a->family == PC_FAM_IPV4;

	inet_ntop(v4 ? AF_INET : AF_INET6, a->a, buf, sizeof(buf));
	fputs(buf, out);
	if (a->plen != (v4 ? 32 : 128))
		fprintf(out, "/%u", a->plen);
}

static unsigned be16_get(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Prints set elements separated by @sep. */
static void set_elems_print(FILE *out, const struct pc_nft_set *s, const char *sep)
{
	if (s->key == PC_NFT_KEY_IPV4 || s->key == PC_NFT_KEY_IPV6) {
		for (size_t i = 0; i < s->n_addrs; i++) {
			if (i)
				fputs(sep, out);
			addr_print(out, &s->addrs[i]);
		}
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			fputs(sep, out);
		if (s->key == PC_NFT_KEY_PORT) {
			unsigned lo = be16_get(s->v[i].lo), hi = be16_get(s->v[i].hi);

			if (lo == hi)
				fprintf(out, "%u", lo);
			else
				fprintf(out, "%u-%u", lo, hi);
		} else {
			type_print(out, s->key == PC_NFT_KEY_ICMPV6, s->v[i].lo[0]);
		}
	}
}

static void match_print(FILE *out, const struct pc_nft_match *m)
{
	switch (m->kind) {
	case PC_NFT_MATCH_NONE:
		break;
	case PC_NFT_MATCH_VALUE:
		if (m->addr)
			addr_print(out, m->addr);
		else
			fprintf(out, "%u", m->lo);
		break;
	case PC_NFT_MATCH_RANGE:
		fprintf(out, "%u-%u", m->lo, m->hi);
		break;
	case PC_NFT_MATCH_SET:
		if (m->set->name) {
			fprintf(out, "@%s", m->set->name);
		} else {
			fputs("{ ", out);
			set_elems_print(out, m->set, ", ");
			fputs(" }", out);
		}
		break;
	}
}

static const char *l4proto_name(int proto)
{
	switch (proto) {
	case PC_PROTO_TCP:
		return "tcp";
	case PC_PROTO_UDP:
		return "udp";
	case PC_PROTO_SCTP:
		return "sctp";
	case PC_PROTO_DCCP:
		return "dccp";
	case PC_PROTO_ICMP:
		return "icmp";
	case PC_PROTO_ICMPV6:
		return "ipv6-icmp";
	}
	return NULL;
}

static const char *const limit_units[__PC_LIMIT_MAX] = {
	[PC_LIMIT_SECOND] = "second",
	[PC_LIMIT_MINUTE] = "minute",
	[PC_LIMIT_HOUR] = "hour",
	[PC_LIMIT_DAY] = "day",
};

void pc_nft_rule_format(const struct pc_nft_rule *r, FILE *out)
{
	const char *ip = r->family == PC_FAM_IPV6 ? "ip6" : "ip";

	if (r->ifname)
		fprintf(out, "%s \"%s\" ", r->oif ? "oifname" : "iifname", r->ifname);
	if (r->nfproto)
		fprintf(out, "meta nfproto %s ",
			r->family == PC_FAM_IPV4 ? "ipv4" : "ipv6");
	if (r->saddr.kind != PC_NFT_MATCH_NONE) {
		fprintf(out, "%s saddr ", ip);
		match_print(out, &r->saddr);
		fputc(' ', out);
	}
	if (r->daddr.kind != PC_NFT_MATCH_NONE) {
		fprintf(out, "%s daddr ", ip);
		match_print(out, &r->daddr);
		fputc(' ', out);
	}
	if (r->proto >= 0) {
		if (r->dport.kind != PC_NFT_MATCH_NONE) {
			fprintf(out, "%s dport ", l4proto_name(r->proto));
			match_print(out, &r->dport);
		} else if (r->icmp_type.kind != PC_NFT_MATCH_NONE) {
			bool v6 = r->proto == PC_PROTO_ICMPV6;

			fprintf(out, "%s type ", v6 ? "icmpv6" : "icmp");
			if (r->icmp_type.kind == PC_NFT_MATCH_VALUE)
				type_print(out, v6, r->icmp_type.lo);
			else
				match_print(out, &r->icmp_type);
		} else if (l4proto_name(r->proto)) {
			fprintf(out, "meta l4proto %s", l4proto_name(r->proto));
		} else {
			fprintf(out, "meta l4proto %d", r->proto);
		}
		fputc(' ', out);
	}
	if (r->ct_state) {
		static const struct {
			unsigned bit;
			const char *name;
		} states[] = {
			{ PC_CT_INVALID, "invalid" },
			{ PC_CT_ESTABLISHED, "established" },
			{ PC_CT_RELATED, "related" },
			{ PC_CT_NEW, "new" },
		};
		const char *sep = "ct state ";

		for (size_t i = 0; i < PC_ARRAY_SIZE(states); i++) {
			if (r->ct_state & states[i].bit) {
				fprintf(out, "%s%s", sep, states[i].name);
				sep = ",";
			}
		}
		fputc(' ', out);
	}
	if (r->limit.rate)
		fprintf(out, "limit rate %u/%s ", r->limit.rate,
			limit_units[r->limit.unit]);
	if (r->log) {
		fputs("log ", out);
		if (r->log_prefix)
			fprintf(out, "prefix \"%s\" ", r->log_prefix);
	}
	switch (r->verdict) {
	case PC_NFT_ACCEPT:
		fputs("accept", out);
		break;
	case PC_NFT_DROP:
		fputs("drop", out);
		break;
	case PC_NFT_REJECT_TCP:
		fputs("reject with tcp reset", out);
		break;
	case PC_NFT_REJECT:
		if (r->family == PC_FAM_IPV4)
			fputs("reject with icmp port-unreachable", out);
		else if (r->family == PC_FAM_IPV6)
			fputs("reject with icmpv6 port-unreachable", out);
		else
			fputs("reject", out);
		break;
	}
	if (r->comment[0])
		fprintf(out, " comment \"%s\"", r->comment);
}

void pc_nft_plan_format_body(const struct pc_nft_plan *plan, FILE *out)
{
	for (size_t i = 0; i < plan->n_sets; i++) {
		const struct pc_nft_set *s = plan->sets[i];

		fprintf(out, "\tset %s {\n", s->name);
		fprintf(out, "\t\ttype %s\n",
			s->key == PC_NFT_KEY_IPV4 ? "ipv4_addr" : "ipv6_addr");
		fputs("\t\tflags interval\n", out);
		if (s->n_addrs) {
			fputs("\t\telements = {\n\t\t\t", out);
			set_elems_print(out, s, ",\n\t\t\t");
			fputs("\n\t\t}\n", out);
		}
		fputs("\t}\n\n", out);
	}
	for (size_t c = 0; c < 3; c++) {
		const struct pc_nft_chain *ch = &plan->chains[c];

		if (c)
			fputc('\n', out);
		fprintf(out, "\tchain %s {\n", ch->name);
		fprintf(out, "\t\ttype filter hook %s priority filter; policy %s;\n",
			ch->name, ch->policy == PC_VERDICT_ALLOW ? "accept" : "drop");
		for (size_t i = 0; i < ch->n; i++) {
			fputs("\t\t", out);
			pc_nft_rule_format(&ch->rules[i], out);
			fputc('\n', out);
		}
		fputs("\t}\n", out);
	}
}
