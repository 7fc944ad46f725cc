/* SPDX-License-Identifier: MIT */
/*
 * The nft text of a plan: rules, sets and maps as `nft -f` reads them (the
 * nft backend writes it; diff prints kernel rules the same way).
 */
#include "backends/nft/nft_lower.h"
#include "backends/nft/nft_check.h"

#include <arpa/inet.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <string.h>

#include "ir/names.h"
#include "common/util.h"

/*
 * The text is written with fputs and a hand-made number printer: the
 * generate benchmark spends most of the backend's time here otherwise.
 */
static void put(FILE *out, const char *s)
{
	fputs_unlocked(s, out);
}

/* The decimal digits of @v at @p; returns the end. */
static char *uint_text(char *p, unsigned v)
{
	char num[16];
	char *q = num + sizeof(num);
	size_t n;

	do
		*--q = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	n = (size_t)(num + sizeof(num) - q);
	memcpy(p, q, n);
	return p + n;
}

static void put_uint(FILE *out, unsigned v)
{
	char buf[16];

	fwrite_unlocked(buf, 1, (size_t)(uint_text(buf, v) - buf), out);
}

static void put_quoted(FILE *out, const char *s)
{
	fputc_unlocked('"', out);
	fputs_unlocked(s, out);
	fputc_unlocked('"', out);
}

static void type_print(FILE *out, bool v6, unsigned t)
{
	const char *name = pc_icmp_type_name(t & 0xff, v6);

	if (name)
		fputs(name, out);
	else
		put_uint(out, t);
}

/* The most an address element's text takes: "A-B" or "A/N". */
#define ADDR_ELEM_TEXT_MAX (2 * PC_ADDR_TEXT_MAX + 1)

/* A prefix: "A" or "A/N", at @p (ADDR_ELEM_TEXT_MAX bytes); returns its length. */
static size_t addr_text(char *p, const struct pc_addr *a)
{
	bool v4 = a->family == PC_FAM_IPV4;
	char *q = p + pc_addr_ntop(a->a, !v4, p);

	if (a->plen != (v4 ? 32 : 128)) {
		*q++ = '/';
		q = uint_text(q, a->plen);
	}
	return (size_t)(q - p);
}

static void addr_print(FILE *out, const struct pc_addr *a)
{
	char buf[ADDR_ELEM_TEXT_MAX];

	fwrite_unlocked(buf, 1, addr_text(buf, a), out);
}

/*
 * The prefix length of the interval lo..hi of @len bytes, or -1 when it is
 * no prefix (a merged run of neighbours). Byte by byte: the text asks this
 * of every address element (issue 15).
 */
static int range_plen(const unsigned char *lo, const unsigned char *hi, unsigned len)
{
	unsigned i = 0, bits;
	unsigned char diff;

	while (i < len && lo[i] == hi[i])
		i++;
	if (i == len)
		return (int)(len * 8);
	/* the first differing byte: its low bits 0 in lo and 1 in hi, the
	 * bits above equal, and all later bytes 0x00 in lo and 0xff in hi */
	diff = (unsigned char)(lo[i] ^ hi[i]);
	bits = 0;
	while (bits < 8 && (diff & (0x80u >> bits)) == 0)
		bits++;
	{
		unsigned char low = (unsigned char)(0xffu >> bits);

		if ((lo[i] & low) != 0 || (hi[i] & low) != low)
			return -1;
	}
	for (unsigned j = i + 1; j < len; j++)
		if (lo[j] != 0x00 || hi[j] != 0xff)
			return -1;
	return (int)(i * 8 + bits);
}

/* An address interval: "A", "A/N" or "A-B", at @p; returns its length. */
static size_t range_text(char *p, const unsigned char *lo, const unsigned char *hi,
			 bool v6)
{
	unsigned len = v6 ? 16 : 4;
	int plen = range_plen(lo, hi, len);
	char *q = p + pc_addr_ntop(lo, v6, p);

	if (plen < 0) {
		*q++ = '-';
		q += pc_addr_ntop(hi, v6, q);
	} else if ((unsigned)plen != len * 8) {
		*q++ = '/';
		q = uint_text(q, (unsigned)plen);
	}
	return (size_t)(q - p);
}

static void addr_elem_print(FILE *out, const struct pc_nft_elem *e, bool v6)
{
	char buf[ADDR_ELEM_TEXT_MAX];

	fwrite_unlocked(buf, 1, range_text(buf, e->lo, e->hi, v6), out);
}

struct elem_print {
	FILE *out;
	const char *sep;
	bool v6;
	bool first;
};

static void addr_elem_each(const struct pc_nft_elem *e, void *ctx)
{
	struct elem_print *ep = ctx;

	if (!ep->first)
		fputs(ep->sep, ep->out);
	ep->first = false;
	addr_elem_print(ep->out, e, ep->v6);
}

/* Prints set elements separated by @sep. */
static void set_elems_print(FILE *out, const struct pc_nft_set *s, const char *sep)
{
	if (!s->name && (s->key == PC_NFT_KEY_IPV4 || s->key == PC_NFT_KEY_IPV6)) {
		for (size_t i = 0; i < s->n_addrs; i++) {
			if (i)
				fputs(sep, out);
			addr_print(out, &s->addrs[i]);
		}
		return;
	}
	if (s->key == PC_NFT_KEY_IPV4 || s->key == PC_NFT_KEY_IPV6) {
		/* a group's set of the text's plan has its elements made here */
		struct elem_print ep = { out, sep, s->key == PC_NFT_KEY_IPV6, true };

		pc_nft_set_each(s, addr_elem_each, &ep);
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			fputs(sep, out);
		if (s->key == PC_NFT_KEY_PORT) {
			unsigned lo = pc_nft_be16_get(s->v[i].lo), hi = pc_nft_be16_get(s->v[i].hi);

			put_uint(out, lo);
			if (lo != hi) {
				fputc_unlocked('-', out);
				put_uint(out, hi);
			}
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
			put_uint(out, m->lo);
		break;
	case PC_NFT_MATCH_RANGE:
		put_uint(out, m->lo);
		fputc_unlocked('-', out);
		put_uint(out, m->hi);
		break;
	case PC_NFT_MATCH_SET:
		if (m->set->name) {
			fputc_unlocked('@', out);
			put(out, m->set->name);
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

/* The interface comparisons of @r: the one its chain's direction names,
 * then the output interface of a forward rule. */
static void put_ifnames(FILE *out, const struct pc_nft_rule *r)
{
	if (r->ifname) {
		put(out, r->oif ? "oifname " : "iifname ");
		if (r->ifname_not)
			put(out, "!= ");
		put_quoted(out, r->ifname);
		fputc_unlocked(' ', out);
	}
	if (r->oifname) {
		put(out, "oifname ");
		put_quoted(out, r->oifname);
		fputc_unlocked(' ', out);
	}
}

static const char *const limit_units[__PC_LIMIT_MAX] = {
	[PC_LIMIT_SECOND] = "second",
	[PC_LIMIT_MINUTE] = "minute",
	[PC_LIMIT_HOUR] = "hour",
	[PC_LIMIT_DAY] = "day",
};

void pc_nft_rule_format(const struct pc_nft_rule *r, FILE *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} states[] = {
		{ PC_CT_INVALID, "invalid" },
		{ PC_CT_ESTABLISHED, "established" },
		{ PC_CT_RELATED, "related" },
		{ PC_CT_NEW, "new" },
	};
	const char *ip = r->family == PC_FAM_IPV6 ? "ip6" : "ip";

	if (r->dispatch && !r->dispatch_proto) {
		/* Dispatch (issue 15): the port-level chain of the packet's
		 * family and protocol */
		size_t level = 0;

		put(out, "meta nfproto . meta l4proto vmap { ");
		for (size_t i = 0; i < r->dispatch->n; i++) {
			const struct pc_dispatch_elem *e = &r->dispatch->v[i];

			if (i && e->family == r->dispatch->v[i - 1].family &&
			    e->proto == r->dispatch->v[i - 1].proto)
				continue;
			if (level)
				put(out, ", ");
			put(out, e->family == PC_FAM_IPV6 ? "ipv6 . " : "ipv4 . ");
			put(out, l4proto_name(e->proto));
			put(out, " : jump ");
			put(out, r->dispatch_chains[level++]);
		}
		put(out, " }");
		goto comment;
	}
	if (r->dispatch) {
		/* the class chain of the packet's port */
		bool first = true;

		put(out, l4proto_name(r->dispatch_proto));
		put(out, " dport vmap { ");
		for (size_t i = 0; i < r->dispatch->n; i++) {
			const struct pc_dispatch_elem *e = &r->dispatch->v[i];

			if (e->family != r->dispatch_family || e->proto != r->dispatch_proto)
				continue;
			if (!first)
				put(out, ", ");
			first = false;
			put_uint(out, e->dport.lo);
			if (e->dport.hi != e->dport.lo) {
				fputc('-', out);
				put_uint(out, e->dport.hi);
			}
			put(out, " : jump ");
			put(out, r->dispatch_chains[e->cls]);
		}
		put(out, " }");
comment:
		if (r->comment[0]) {
			put(out, " comment ");
			put_quoted(out, r->comment);
		}
		return;
	}
	if (r->vmap) {
		put_ifnames(out, r);
		if (r->vmap->iface)
			put(out, r->vmap->oif ? "oifname . " : "iifname . ");
		put(out, ip);
		put(out, " saddr");
		if (r->vmap->daddr) {
			put(out, " . ");
			put(out, ip);
			put(out, " daddr");
		}
		/* narrowed (noport): the dispatch decided protocol and port */
		if (r->vmap->icmp)
			put(out, r->vmap->family == PC_FAM_IPV6 ? " . icmpv6 type" : " . icmp type");
		else if (!r->vmap->noport)
			put(out, " . meta l4proto . th dport");
		put(out, " vmap @");
		put(out, r->vmap->name);
		if (r->comment[0]) {
			put(out, " comment ");
			put_quoted(out, r->comment);
		}
		return;
	}
	put_ifnames(out, r);
	if (r->nfproto)
		put(out, r->family == PC_FAM_IPV4 ? "meta nfproto ipv4 " :
						    "meta nfproto ipv6 ");
	if (r->saddr.kind != PC_NFT_MATCH_NONE) {
		put(out, ip);
		put(out, " saddr ");
		if (r->saddr_not)
			put(out, "!= ");
		match_print(out, &r->saddr);
		fputc_unlocked(' ', out);
	}
	if (r->daddr.kind != PC_NFT_MATCH_NONE) {
		put(out, ip);
		put(out, " daddr ");
		if (r->daddr_not)
			put(out, "!= ");
		match_print(out, &r->daddr);
		fputc_unlocked(' ', out);
	}
	if (r->proto >= 0 && r->sport.kind != PC_NFT_MATCH_NONE) {
		/* matches (issue 14): `tcp sport` also says the protocol */
		put(out, l4proto_name(r->proto));
		put(out, " sport ");
		match_print(out, &r->sport);
		fputc_unlocked(' ', out);
	}
	if (r->proto >= 0 && !(r->sport.kind != PC_NFT_MATCH_NONE &&
			       r->dport.kind == PC_NFT_MATCH_NONE)) {
		if (r->dport.kind != PC_NFT_MATCH_NONE) {
			put(out, l4proto_name(r->proto));
			put(out, " dport ");
			match_print(out, &r->dport);
		} else if (r->icmp_type.kind != PC_NFT_MATCH_NONE) {
			bool v6 = r->proto == PC_PROTO_ICMPV6;

			put(out, v6 ? "icmpv6 type " : "icmp type ");
			if (r->icmp_type.kind == PC_NFT_MATCH_VALUE)
				type_print(out, v6, r->icmp_type.lo);
			else
				match_print(out, &r->icmp_type);
		} else {
			put(out, "meta l4proto ");
			if (l4proto_name(r->proto))
				put(out, l4proto_name(r->proto));
			else
				put_uint(out, (unsigned)r->proto);
		}
		fputc_unlocked(' ', out);
	}
	if (r->ct_state) {
		const char *sep = "ct state ";

		for (size_t i = 0; i < PC_ARRAY_SIZE(states); i++) {
			if (r->ct_state & states[i].bit) {
				put(out, sep);
				put(out, states[i].name);
				sep = ",";
			}
		}
		fputc_unlocked(' ', out);
	}
	if (r->limit) {
		put(out, "limit name ");
		put_quoted(out, r->limit->name);
		fputc_unlocked(' ', out);
	}
	if (r->meter) {
		/* matches (issue 14): the source's own bucket; over its rate
		 * the rule does not match */
		fprintf(out, "update @%s { %s saddr limit rate %u/%s", r->meter->name,
			r->family == PC_FAM_IPV6 ? "ip6" : "ip", r->src->limit.rate,
			limit_units[r->src->limit.unit]);
		if (r->src->limit_burst)
			fprintf(out, " burst %u packets", (unsigned)r->src->limit_burst);
		put(out, " } ");
	}
	if (r->counter)
		put(out, "counter ");
	if (r->log) {
		put(out, "log ");
		if (r->log_prefix) {
			put(out, "prefix ");
			put_quoted(out, r->log_prefix);
			fputc_unlocked(' ', out);
		}
		if (r->log_nflog)
			fprintf(out, "group %u ", (unsigned)r->log_group);
	}
	switch (r->verdict) {
	case PC_NFT_ACCEPT:
		put(out, "accept");
		break;
	case PC_NFT_DROP:
		put(out, "drop");
		break;
	case PC_NFT_REJECT_TCP:
		put(out, "reject with tcp reset");
		break;
	case PC_NFT_REJECT:
		if (r->family == PC_FAM_IPV4)
			put(out, "reject with icmp port-unreachable");
		else if (r->family == PC_FAM_IPV6)
			put(out, "reject with icmpv6 port-unreachable");
		else
			put(out, "reject");
		break;
	case PC_NFT_MASQUERADE:
		put(out, "masquerade");
		break;
	case PC_NFT_SNAT:
	case PC_NFT_DNAT: {
		bool v6 = r->nat_addr->family == PC_FAM_IPV6;

		put(out, r->verdict == PC_NFT_SNAT ? "snat " : "dnat ");
		/* an inet table's NAT statement names the family it translates */
		put(out, v6 ? "ip6 to " : "ip to ");
		if (v6 && r->nat_port)
			fputc_unlocked('[', out);
		addr_print(out, r->nat_addr);
		if (v6 && r->nat_port)
			fputc_unlocked(']', out);
		if (r->nat_port) {
			fputc_unlocked(':', out);
			put_uint(out, r->nat_port);
		}
		break;
	}
	}
	if (r->comment[0]) {
		put(out, " comment ");
		put_quoted(out, r->comment);
	}
}

/*
 * What a map's text wrote last, for the next element to reuse (issue 15):
 * the elements of one policy rule follow each other and share their
 * comment, and neighbours often share the source or the destination.
 */
struct elem_cache {
	const struct pc_map_elem *prev;	/* whose comment text holds; NULL: none */
	size_t len;
	char text[PC_NFT_COMMENT_BUF];
	bool have_saddr, have_daddr;	/* of this map */
	struct pc_addr saddr;
	struct pc_addr_range daddr;
	size_t saddr_len, daddr_len;
	char saddr_text[ADDR_ELEM_TEXT_MAX], daddr_text[ADDR_ELEM_TEXT_MAX];
};

/*
 * One element's text, gathered here and written with one fwrite (issue 15:
 * a dozen stdio calls per element were 8 % of generate's instructions).
 */
struct line {
	FILE *out;
	size_t len;
	char buf[512];
};

/* What does not fit into the line: the line so far out, then @s. */
static void line_spill(struct line *l, const char *s, size_t n)
{
	fwrite_unlocked(l->buf, 1, l->len, l->out);
	l->len = 0;
	if (n > sizeof(l->buf)) {
		fwrite_unlocked(s, 1, n, l->out);
		return;
	}
	memcpy(l->buf, s, n);
	l->len = n;
}

/* Inline, so that the copy of a constant piece is a move or two. */
static inline void line_add(struct line *l, const char *s, size_t n)
{
	if (l->len + n > sizeof(l->buf)) {
		line_spill(l, s, n);
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void line_puts(struct line *l, const char *s)
{
	line_add(l, s, strlen(s));
}

static void line_uint(struct line *l, unsigned v)
{
	char buf[16];

	line_add(l, buf, (size_t)(uint_text(buf, v) - buf));
}

/* Element @i of @m, between @lead and @end (the map's indent and separator). */
static void map_elem_write(const struct pc_nft_map *m, size_t i, FILE *out,
			   struct elem_cache *c, const char *lead, const char *end)
{
	const struct pc_map_elem *e = &m->v[i];
	struct line l;

	l.out = out;
	l.len = 0;
	line_puts(&l, lead);
	if (m->iface) {
		line_add(&l, "\"", 1);
		line_puts(&l, m->iface[i]);
		line_add(&l, "\" . ", 4);
	}
	if (!c->have_saddr || memcmp(&c->saddr, &e->saddr, sizeof(e->saddr)) != 0) {
		c->saddr = e->saddr;
		c->saddr_len = addr_text(c->saddr_text, &e->saddr);
		c->have_saddr = true;
	}
	line_add(&l, c->saddr_text, c->saddr_len);
	if (m->daddr) {
		if (!c->have_daddr ||
		    memcmp(&c->daddr, m->daddr[i], sizeof(*m->daddr[i])) != 0) {
			c->daddr = *m->daddr[i];
			c->daddr_len = range_text(c->daddr_text, m->daddr[i]->lo,
						  m->daddr[i]->hi, m->family == PC_FAM_IPV6);
			c->have_daddr = true;
		}
		line_add(&l, " . ", 3);
		line_add(&l, c->daddr_text, c->daddr_len);
	}
	if (!m->noport) {
		line_add(&l, " . ", 3);
		if (!m->icmp) {
			line_puts(&l, l4proto_name(e->proto));
			line_add(&l, " . ", 3);
		}
		line_uint(&l, e->dport.lo);
		if (e->dport.hi != e->dport.lo) {
			line_add(&l, "-", 1);
			line_uint(&l, e->dport.hi);
		}
	}
	if (m->comments) {
		if (m->comments[i][0]) {
			line_add(&l, " comment \"", 10);
			line_puts(&l, m->comments[i]);
			line_add(&l, "\"", 1);
		}
	} else {
		if (!c->prev || !pc_nft_elem_same_comment(c->prev, e)) {
			pc_nft_elem_comment_buf(e, c->text, sizeof(c->text));
			c->len = strlen(c->text);
			c->prev = e;
		}
		if (c->len) {
			line_add(&l, " comment \"", 10);
			line_add(&l, c->text, c->len);
			line_add(&l, "\"", 1);
		}
	}
	if (m->jump && m->jump[i]) {
		line_add(&l, " : jump ", 8);
		line_puts(&l, m->jump[i]);
	} else {
		line_puts(&l, e->verdict == PC_VERDICT_ALLOW ? " : accept" : " : drop");
	}
	line_puts(&l, end);
	fwrite_unlocked(l.buf, 1, l.len, out);
}

void pc_nft_map_elem_format(const struct pc_nft_map *m, size_t i, FILE *out)
{
	struct elem_cache *c = xcalloc(1, sizeof(*c));

	map_elem_write(m, i, out, c, "", "");
	free(c);
}

static void map_print(FILE *out, const struct pc_nft_map *m, struct elem_cache *c)
{
	bool v6 = m->family == PC_FAM_IPV6;

	/* a destination's text depends on the map's family */
	c->have_saddr = c->have_daddr = false;
	fprintf(out, "\tmap %s {\n", m->name);
	fprintf(out, "\t\ttype %s%s", m->iface ? "ifname . " : "",
		v6 ? "ipv6_addr" : "ipv4_addr");
	if (m->daddr)
		fprintf(out, " . %s", v6 ? "ipv6_addr" : "ipv4_addr");
	if (m->noport)
		fputs(" : verdict\n", out);
	else if (m->icmp)
		fprintf(out, " . %s : verdict\n", v6 ? "icmpv6_type" : "icmp_type");
	else
		fputs(" . inet_proto . inet_service : verdict\n", out);
	fputs("\t\tflags interval\n", out);
	if (m->counter)
		fputs("\t\tcounter\n", out);
	fputs("\t\telements = {\n", out);
	for (size_t i = 0; i < m->n; i++)
		map_elem_write(m, i, out, c, "\t\t\t", i + 1 < m->n ? ",\n" : "\n");
	fputs("\t\t}\n\t}\n\n", out);
}

void pc_nft_plan_format_body(const struct pc_nft_plan *plan, FILE *out)
{
	for (size_t i = 0; i < plan->n_limits; i++) {
		const struct pc_nft_limit *l = plan->limits[i];

		fprintf(out, "\tlimit %s {\n\t\trate %u/%s", l->name,
			l->limit.rate, limit_units[l->limit.unit]);
		if (l->src->limit_burst)
			fprintf(out, " burst %u packets", (unsigned)l->src->limit_burst);
		fputs("\n\t}\n\n", out);
	}
	for (size_t i = 0; i < plan->n_sets; i++) {
		const struct pc_nft_set *s = plan->sets[i];

		fprintf(out, "\tset %s {\n", s->name);
		fprintf(out, "\t\ttype %s\n",
			s->key == PC_NFT_KEY_IPV4 ? "ipv4_addr" :
			s->key == PC_NFT_KEY_IPV6 ? "ipv6_addr" :
			s->key == PC_NFT_KEY_PORT ? "inet_service" :
			s->key == PC_NFT_KEY_ICMP ? "icmp_type" : "icmpv6_type");
		if (s->meter) {
			/* filled by the rule that updates it (issue 14) */
			fprintf(out, "\t\tsize %u\n", (unsigned)s->size);
			fputs("\t\tflags dynamic,timeout\n", out);
			fprintf(out, "\t\ttimeout %us\n", (unsigned)s->timeout);
		} else if (s->dynamic) {
			/* filled at run time; a reload keeps what it holds */
			fputs("\t\tflags dynamic,timeout\n", out);
			if (s->timeout)
				fprintf(out, "\t\ttimeout %us\n", (unsigned)s->timeout);
		} else if (s->interval) {
			fputs("\t\tflags interval\n", out);
		} else if (pc_nft_set_size(s)) {
			fprintf(out, "\t\tsize %u\n", (unsigned)pc_nft_set_size(s));
		}
		if (s->n) {
			fputs("\t\telements = {\n\t\t\t", out);
			set_elems_print(out, s, ",\n\t\t\t");
			fputs("\n\t\t}\n", out);
		}
		fputs("\t}\n\n", out);
	}
	if (plan->n_maps) {
		struct elem_cache *c = xcalloc(1, sizeof(*c));

		for (size_t i = 0; i < plan->n_maps; i++) {
			map_print(out, plan->maps[i], c);
			/* a spooled view's pages go back as they are read (issue 15) */
			pc_arena_release(plan->spool, plan->maps[i]->n * PC_NFT_ELEM_READ);
		}
		free(c);
	}
	/* Dispatch (issue 15): the class chains, before the rules that jump to them */
	for (size_t c = 0; c < plan->n_sub; c++) {
		const struct pc_nft_chain *ch = &plan->sub[c];

		fprintf(out, "\tchain %s {\n", ch->name);
		for (size_t i = 0; i < ch->n; i++) {
			put(out, "\t\t");
			pc_nft_rule_format(&ch->rules[i], out);
			fputc_unlocked('\n', out);
		}
		fputs("\t}\n\n", out);
	}
	for (size_t c = 0; c < plan->n_chains; c++) {
		const struct pc_nft_chain *ch = &plan->chains[c];

		if (c)
			fputc('\n', out);
		fprintf(out, "\tchain %s {\n", ch->name);
		if (ch->nat)
			fprintf(out, "\t\ttype nat hook %s priority %s; policy accept;\n",
				ch->name, ch->prio < 0 ? "dstnat" : "srcnat");
		else
			fprintf(out, "\t\ttype filter hook %s priority filter; policy %s;\n",
				ch->name, ch->policy == PC_VERDICT_ALLOW ? "accept" : "drop");
		for (size_t i = 0; i < ch->n; i++) {
			put(out, "\t\t");
			pc_nft_rule_format(&ch->rules[i], out);
			fputc_unlocked('\n', out);
		}
		fputs("\t}\n", out);
	}
}
