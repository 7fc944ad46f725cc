/* SPDX-License-Identifier: MIT */
/*
 * iptables-restore / ip6tables-restore input (backends "iptables", IPv4,
 * and "ip6tables", IPv6: one implementation, the family as a parameter).
 *
 * Coexistence: the rules live in the chains TABLE-in, TABLE-out and
 * TABLE-fwd (plus helper chains TABLE-iN / TABLE-iNv for rules whose limit
 * must gate several kernel rules, or LOG and the verdict). Each
 * ends with the policy's default as an ordinary rule, so the built-in
 * chains keep their own policies and other tools' chains are untouched.
 * Declaring a chain under --noflush empties it (legacy and nft variants),
 * and the file says -F as well; the jumps from INPUT, OUTPUT and FORWARD
 * are appended at the end. iptables-restore cannot add a rule only when it
 * is missing, so the template's header tells how to reload without
 * adding the jumps again.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "backends/builtin.h"
#include "backends/iptables.h"
#include "backends/text.h"
#include "common/template.h"
#include "common/util.h"
#include "ir/names.h"

static const char *const dir_suffix[__PC_DIR_MAX] = {
	[PC_DIR_IN] = "in",
	[PC_DIR_OUT] = "out",
	[PC_DIR_FORWARD] = "fwd",
};
static const char *const dir_letter[__PC_DIR_MAX] = {
	[PC_DIR_IN] = "i",
	[PC_DIR_OUT] = "o",
	[PC_DIR_FORWARD] = "f",
};
static const char *const builtin_chain[__PC_DIR_MAX] = {
	[PC_DIR_IN] = "INPUT",
	[PC_DIR_OUT] = "OUTPUT",
	[PC_DIR_FORWARD] = "FORWARD",
};

static void put_quoted(struct pc_buf *b, const char *s)
{
	pc_buf_putc(b, '"');
	while (*s) {
		size_t n = strcspn(s, "\"\\");

		pc_buf_add(b, s, n);
		s += n;
		if (*s) {
			pc_buf_putc(b, '\\');
			pc_buf_putc(b, *s++);
		}
	}
	pc_buf_putc(b, '"');
}

static void put_port(struct pc_buf *b, const struct pc_port_range *p)
{
	pc_text_uint(b, p->lo);
	if (p->lo != p->hi) {
		pc_buf_putc(b, ':');
		pc_text_uint(b, p->hi);
	}
}

static void put_proto(const struct ipt *t, struct pc_buf *b, unsigned proto)
{
	const char *name = pc_proto_name(proto);

	if (proto == PC_PROTO_ICMPV6)
		name = "ipv6-icmp";
	pc_buf_puts(b, " -p ");
	if (name)
		pc_buf_puts(b, name);
	else
		pc_text_uint(b, proto);
}

/* Writes the rules made so far to t->out once they fill a stdio buffer or two. */
static void ipt_flush(struct ipt *t, bool all)
{
	if (!t->out || (!all && t->rules.len < 65536))
		return;
	fwrite(t->rules.data, 1, t->rules.len, t->out);
	ipt_buf_reset(&t->rules);
}

/* The match of one kernel rule, without the target. */
struct alt {
	const struct pc_l4 *l4;     /* NULL: any protocol */
	size_t port_first, port_count;
	int icmp_type;              /* -1: none */
};

/* A new (empty) chunk at the end of @c. */
static struct pc_buf *chunk_add(struct addr_chunks *c)
{
	if (c->n == c->cap) {
		size_t old = c->cap;

		c->v = xgrow(c->v, &c->cap, c->n + 1, sizeof(*c->v));
		memset(c->v + old, 0, (c->cap - old) * sizeof(*c->v));
	}
	ipt_buf_reset(&c->v[c->n]);
	return &c->v[c->n++];
}

/*
 * Writes the prefixes @first..@first+@count of @set as " OPT a,b,..."
 * chunks that iptables-restore takes as one parameter each; no prefix
 * gives one empty chunk (no OPT at all).
 */
static void fill_chunks(struct addr_chunks *c, const char *opt,
			const struct pc_addr_set *set, size_t first, size_t count)
{
	struct pc_buf *b = NULL;

	c->n = 0;
	if (count == 0) {
		chunk_add(c);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		/* 44: room for one more IPv6 prefix and its comma */
		if (!b || b->len > IPT_PARAM_MAX - 44) {
			b = chunk_add(c);
			pc_buf_putc(b, ' ');
			pc_buf_puts(b, opt);
			pc_buf_putc(b, ' ');
		} else {
			pc_buf_putc(b, ',');
		}
		pc_text_addr(b, &set->v[first + i], true);
	}
}

/*
 * matches (issue 14): the source ports as multiport chunks of at most
 * IPT_MULTIPORT_MAX slots (a range takes two); no source port gives one
 * empty chunk. multiport takes every protocol with ports, so one text
 * serves all of a rule's protocols.
 */
static void fill_sports(struct addr_chunks *c, const struct pc_port_set *ps)
{
	struct pc_buf *b = NULL;
	unsigned slots = 0;

	c->n = 0;
	if (ps->n == 0) {
		chunk_add(c);
		return;
	}
	for (size_t i = 0; i < ps->n; i++) {
		unsigned w = ps->v[i].lo == ps->v[i].hi ? 1 : 2;

		if (!b || slots + w > IPT_MULTIPORT_MAX) {
			b = chunk_add(c);
			pc_buf_puts(b, " -m multiport --sports ");
			slots = 0;
		} else {
			pc_buf_putc(b, ',');
		}
		put_port(b, &ps->v[i]);
		slots += w;
	}
}

/*
 * matches (issue 14): a negated list: " ! -s P" for its one prefix of this
 * family; nothing when it has none (every packet of the family is outside
 * it) or several (emit_negated() returns them in a sub-chain: `! -s a,b`
 * is not "neither a nor b" to iptables, which expands the list into one
 * rule per prefix).
 */
static void fill_not_chunk(struct addr_chunks *c, const char *opt,
			   const struct pc_addr_set *set, size_t first, size_t count)
{
	struct pc_buf *b;

	c->n = 0;
	b = chunk_add(c);
	if (count != 1)
		return;
	pc_buf_putc(b, ' ');
	pc_buf_puts(b, opt);
	pc_buf_putc(b, ' ');
	pc_text_addr(b, &set->v[first], true);
}

/* sets (issue 14): a dynamic set is the ipset NAME_v4 / NAME_v6. */
static void set_chunk(const struct ipt *t, struct addr_chunks *c, const char *name,
		      const char *dir)
{
	struct pc_buf *b;

	c->n = 0;
	b = chunk_add(c);
	pc_buf_printf(b, " -m set --match-set %s_%s %s", name, ipt_fam_v6(t) ? "v6" : "v4", dir);
}

/* How the ipsets of the dynamic sets are made: before the first load. */
static void dynsets_comment(const struct ipt *t, struct pc_buf *body)
{
	if (!t->ir->n_dynsets)
		return;
	pc_buf_puts(body, "# dynamic sets (hosts NAME = dynamic) are ipsets that must exist before\n"
		    "# this file is loaded; create them once (-exist: again is harmless):\n");
	for (size_t i = 0; i < t->ir->n_dynsets; i++) {
		const struct pc_dynset *d = &t->ir->dynsets[i];

		pc_buf_printf(body, "#   ipset create -exist %s_%s hash:ip family %s timeout %u\n",
			      d->name, ipt_fam_v6(t) ? "v6" : "v4", ipt_fam_v6(t) ? "inet6" : "inet",
			      (unsigned)d->timeout);
	}
	pc_buf_puts(body, "# and fill them with `ipset add NAME ADDR`; reloading this file keeps them.\n");
}

/* " OPT NAME", the IR's prefix wildcard eth* spelt as iptables' eth+. */
static void put_iface(struct pc_buf *b, const char *opt, const char *name)
{
	size_t n = strlen(name);

	pc_buf_puts(b, opt);
	if (name[n - 1] == '*') {
		pc_buf_add(b, name, n - 1);
		pc_buf_puts(b, "+");
	} else {
		pc_buf_puts(b, name);
	}
}

/*
 * The interface part of the kernel rules: one chunk per pair of the `on`
 * and `out on` lists (iptables takes one name per -i / -o), one empty
 * chunk when the rule names none.
 */
static void fill_ifaces(struct rule_text *x, enum pc_direction dir,
			const struct pc_rule *r)
{
	size_t ni = r->n_ifaces > 1 ? r->n_ifaces : 1;
	size_t no = r->n_oifaces ? r->n_oifaces : 1;

	x->ifc.n = 0;
	for (size_t i = 0; i < ni; i++)
		for (size_t o = 0; o < no; o++) {
			struct pc_buf *b = chunk_add(&x->ifc);
			const char *in = r->n_ifaces > 1 ? r->ifaces[i] : r->iface;

			/* matches (issue 14): on not IF, one interface */
			if (in && r->iface_not)
				put_iface(b, dir == PC_DIR_OUT ? " ! -o " : " ! -i ", in);
			else if (in)
				put_iface(b, dir == PC_DIR_OUT ? " -o " : " -i ", in);
			if (r->n_oifaces)
				put_iface(b, " -o ", r->oifaces[o]);
		}
}

/* Fills @x for @r; its buffers are reused from rule to rule. */
static void rule_text_fill(struct ipt *t, struct rule_text *x,
			   enum pc_direction dir, const struct pc_rule *r)
{
	size_t s0, sn, d0, dn;

	ipt_buf_reset(&x->state);
	ipt_buf_reset(&x->comment);
	x->s = x->d = 0;
	ipt_addr_range(t, &r->saddr, &s0, &sn);
	ipt_addr_range(t, &r->daddr, &d0, &dn);
	x->i = 0;
	x->p = 0;
	fill_ifaces(x, dir, r);
	fill_sports(&x->spt, &r->sports);
	if (pc_addr_set_is_dynamic(&r->saddr))
		set_chunk(t, &x->src, r->saddr.name, "src");
	else if (r->saddr_not)
		fill_not_chunk(&x->src, "! -s", &r->saddr, s0, sn);
	else
		fill_chunks(&x->src, "-s", &r->saddr, s0, sn);
	if (pc_addr_set_is_dynamic(&r->daddr))
		set_chunk(t, &x->dst, r->daddr.name, "dst");
	else if (r->daddr_not)
		fill_not_chunk(&x->dst, "! -d", &r->daddr, d0, dn);
	else
		fill_chunks(&x->dst, "-d", &r->daddr, d0, dn);
	if (r->ct_state) {
		static const struct { unsigned bit; const char *name; } st[] = {
			{ PC_CT_INVALID, "INVALID" },
			{ PC_CT_NEW, "NEW" },
			{ PC_CT_RELATED, "RELATED" },
			{ PC_CT_ESTABLISHED, "ESTABLISHED" },
		};
		const char *sep = " -m conntrack --ctstate ";

		for (size_t i = 0; i < PC_ARRAY_SIZE(st); i++) {
			if (!(r->ct_state & st[i].bit))
				continue;
			pc_buf_puts(&x->state, sep);
			pc_buf_puts(&x->state, st[i].name);
			sep = ",";
		}
	}
	ipt_buf_reset(&t->scratch);
	ipt_rule_comment(&t->scratch, dir, r);
	pc_buf_puts(&x->comment, " -m comment --comment ");
	put_quoted(&x->comment, t->scratch.data);
}

static void chunks_finish(struct addr_chunks *c)
{
	for (size_t i = 0; i < c->cap; i++)
		pc_buf_finish(&c->v[i]);
	free(c->v);
}

static void rule_text_finish(struct rule_text *x)
{
	chunks_finish(&x->ifc);
	chunks_finish(&x->src);
	chunks_finish(&x->dst);
	chunks_finish(&x->spt);
	pc_buf_finish(&x->state);
	pc_buf_finish(&x->comment);
}

/* "-A CHAIN" and the whole match of one kernel rule, with the comment. */
static void put_match(struct ipt *t, const char *chain, const struct rule_text *x,
		      const struct pc_rule *r, const struct alt *a, bool with_limit)
{
	struct pc_buf *b = &t->rules;

	pc_buf_puts(b, "-A ");
	pc_buf_puts(b, chain);
	pc_buf_add(b, x->ifc.v[x->i].data, x->ifc.v[x->i].len);
	pc_buf_add(b, x->src.v[x->s].data, x->src.v[x->s].len);
	pc_buf_add(b, x->dst.v[x->d].data, x->dst.v[x->d].len);
	if (a->l4) {
		unsigned proto = a->l4->proto;

		put_proto(t, b, proto);
		if (pc_proto_has_ports(proto))
			pc_buf_add(b, x->spt.v[x->p].data, x->spt.v[x->p].len);
		if (pc_proto_has_ports(proto) && a->port_count == 1) {
			pc_buf_puts(b, " -m ");
			pc_buf_puts(b, pc_proto_name(proto));
			pc_buf_puts(b, " --dport ");
			put_port(b, &a->l4->dports.v[a->port_first]);
		} else if (pc_proto_has_ports(proto) && a->port_count > 1) {
			pc_buf_puts(b, " -m multiport --dports ");
			for (size_t i = 0; i < a->port_count; i++) {
				if (i)
					pc_buf_putc(b, ',');
				put_port(b, &a->l4->dports.v[a->port_first + i]);
			}
		} else if (a->icmp_type >= 0 && proto == PC_PROTO_ICMP) {
			pc_buf_puts(b, " -m icmp --icmp-type ");
			pc_text_uint(b, (unsigned)a->icmp_type);
		} else if (a->icmp_type >= 0) {
			pc_buf_puts(b, " -m icmp6 --icmpv6-type ");
			pc_text_uint(b, (unsigned)a->icmp_type);
		}
	}
	pc_buf_add(b, x->state.data, x->state.len);
	if (with_limit && r->limit.rate && r->limit_per_source) {
		/* matches (issue 14): a bucket per source address; entries
		 * live as long as nft's (nft_lower.c), at most 65535 */
		uint64_t expire = ipt_refill_seconds(r);

		pc_buf_puts(b, " -m hashlimit --hashlimit-upto ");
		pc_text_uint(b, r->limit.rate);
		pc_buf_putc(b, '/');
		pc_buf_puts(b, pc_limit_unit_name(r->limit.unit));
		if (r->limit_burst) {
			pc_buf_puts(b, " --hashlimit-burst ");
			pc_text_uint(b, r->limit_burst);
		}
		pc_buf_printf(b, " --hashlimit-mode srcip --hashlimit-name %s"
			      " --hashlimit-htable-max 65535 --hashlimit-htable-expire %llu",
			      t->hashlimit, (unsigned long long)(expire < 60 ? 60 : expire) * 1000);
	} else if (with_limit && r->limit.rate) {
		pc_buf_puts(b, " -m limit --limit ");
		pc_text_uint(b, r->limit.rate);
		pc_buf_putc(b, '/');
		pc_buf_puts(b, pc_limit_unit_name(r->limit.unit));
		if (r->limit_burst) {
			pc_buf_puts(b, " --limit-burst ");
			pc_text_uint(b, r->limit_burst);
		}
	}
	pc_buf_add(b, x->comment.data, x->comment.len);
}

/* -j VERDICT for one kernel rule: REJECT depends on the protocol. */
static void put_verdict(const struct ipt *t, struct pc_buf *b,
			enum pc_verdict v, bool tcp)
{
	switch (v) {
	case PC_VERDICT_ALLOW:
		pc_buf_puts(b, " -j ACCEPT");
		break;
	case PC_VERDICT_DENY:
		pc_buf_puts(b, " -j DROP");
		break;
	case PC_VERDICT_REJECT:
		if (tcp)
			pc_buf_puts(b, " -j REJECT --reject-with tcp-reset");
		else if (ipt_fam_v6(t))
			pc_buf_puts(b, " -j REJECT --reject-with icmp6-port-unreachable");
		else
			pc_buf_puts(b, " -j REJECT --reject-with icmp-port-unreachable");
		break;
	default:
		PC_BUG("verdict %d", (int)v);
	}
}

static void put_log(const struct ipt *t, struct pc_buf *b, const struct pc_rule *r)
{
	if (r->log_nflog) {
		/* matches (issue 14): log group N is the NFLOG target */
		pc_buf_printf(b, " -j NFLOG --nflog-group %u", (unsigned)r->log_group);
		if (r->log_prefix) {
			pc_buf_puts(b, " --nflog-prefix ");
			put_quoted(b, r->log_prefix);
		}
		return;
	}
	pc_buf_puts(b, " -j LOG");
	if (r->log_prefix) {
		pc_buf_puts(b, " --log-prefix ");
		put_quoted(b, r->log_prefix);
	}
}

/*
 * The action part of a rule: where the kernel rules of a rule's match go.
 * Either a verdict (possibly after LOG, written as two rules with the same
 * match) or a jump to a helper chain.
 */
struct action {
	const char *jump;           /* helper chain, or NULL */
	const char *nat;            /* NAT (routers): " -j DNAT ..." instead of a verdict */
	bool log;                   /* LOG rule before the verdict */
	bool limit;                 /* -m limit on the kernel rule itself */
};

/* One kernel rule (two with LOG); a REJECT of any protocol is split so
 * that TCP gets a reset. */
static void emit_one(struct ipt *t, const char *chain,
		     struct rule_text *x, const struct pc_rule *r,
		     const struct alt *a, const struct action *act)
{
	struct pc_buf *b = &t->rules;
	bool any_proto_reject = !act->jump && !a->l4 && r->verdict == PC_VERDICT_REJECT;
	bool tcp = a->l4 && a->l4->proto == PC_PROTO_TCP;

	if (act->jump) {
		put_match(t, chain, x, r, a, act->limit);
		pc_buf_puts(b, " -j ");
		pc_buf_puts(b, act->jump);
		pc_buf_putc(b, '\n');
		return;
	}
	if (act->nat) {
		put_match(t, chain, x, r, a, false);
		pc_buf_puts(b, act->nat);
		pc_buf_putc(b, '\n');
		return;
	}
	if (act->log) {
		put_match(t, chain, x, r, a, act->limit);
		put_log(t, b, r);
		pc_buf_putc(b, '\n');
	}
	if (any_proto_reject) {
		struct alt tcp_alt = *a;
		struct pc_l4 tcp_l4 = { .proto = PC_PROTO_TCP };

		tcp_alt.l4 = &tcp_l4;
		put_match(t, chain, x, r, &tcp_alt, act->limit);
		put_verdict(t, b, r->verdict, true);
		pc_buf_putc(b, '\n');
	}
	put_match(t, chain, x, r, a, act->limit);
	put_verdict(t, b, r->verdict, tcp);
	pc_buf_putc(b, '\n');
}

/* emit_one() for every chunk of the address lists. */
static void emit_kernel_rule(struct ipt *t, const char *chain,
			     struct rule_text *x, const struct pc_rule *r,
			     const struct alt *a, const struct action *act)
{
	for (x->i = 0; x->i < x->ifc.n; x->i++)
		for (x->s = 0; x->s < x->src.n; x->s++)
			for (x->d = 0; x->d < x->dst.n; x->d++)
				for (x->p = 0; x->p < x->spt.n; x->p++) {
					emit_one(t, chain, x, r, a, act);
					/* one policy rule may make millions of these */
					ipt_flush(t, false);
				}
}

/* Every kernel rule of the rule's match, in order. */
static void emit_alternatives(struct ipt *t, const char *chain,
			      struct rule_text *x, const struct pc_rule *r,
			      const struct action *act)
{
	if (!r->n_l4) {
		struct alt a = { .icmp_type = -1 };

		emit_kernel_rule(t, chain, x, r, &a, act);
		return;
	}
	for (size_t i = 0; i < r->n_l4; i++) {
		const struct pc_l4 *l4 = &r->l4[i];
		struct alt a = { .l4 = l4, .icmp_type = -1 };

		if (!ipt_l4_in_family(t, l4))
			continue;
		if (pc_proto_has_ports(l4->proto) && l4->dports.n) {
			size_t k = 0;

			while (k < l4->dports.n) {
				unsigned slots = 0;

				a.port_first = k;
				while (k < l4->dports.n) {
					unsigned w = l4->dports.v[k].lo == l4->dports.v[k].hi ? 1 : 2;

					if (slots + w > IPT_MULTIPORT_MAX)
						break;
					slots += w;
					k++;
				}
				a.port_count = k - a.port_first;
				emit_kernel_rule(t, chain, x, r, &a, act);
			}
		} else if ((l4->proto == PC_PROTO_ICMP || l4->proto == PC_PROTO_ICMPV6) &&
			   l4->n_types) {
			for (size_t k = 0; k < l4->n_types; k++) {
				a.icmp_type = l4->types[k];
				emit_kernel_rule(t, chain, x, r, &a, act);
			}
		} else {
			emit_kernel_rule(t, chain, x, r, &a, act);
		}
	}
}

/* Only in the declaring pass: the declarations come before every rule. */
static void declare_chain(struct ipt *t, const char *chain)
{
	pc_buf_printf(&t->decl, ":%s - [0:0]\n", chain);
}


/* A copy of @r without its match: for the rules of helper chains. */
static struct pc_rule bare_rule(const struct pc_rule *r)
{
	struct pc_rule b = *r;

	memset(&b.saddr, 0, sizeof(b.saddr));
	memset(&b.daddr, 0, sizeof(b.daddr));
	b.iface = NULL;
	b.n_ifaces = b.n_oifaces = 0;
	b.ct_state = 0;
	b.n_l4 = 0;
	b.l4 = NULL;
	memset(&b.sports, 0, sizeof(b.sports));
	b.saddr_not = b.daddr_not = b.iface_not = false;
	return b;
}

/*
 * A rule with a rate limit must count every packet of its match in one
 * token bucket, and LOG and the verdict must both be gated by it. When
 * the match is one kernel rule and there is no LOG, the limit sits on that
 * rule. Otherwise:
 *  - the kernel rules of the match jump to TABLE-dN (d: i, o or f; N: the
 *    rule's index in its chain), whose one rule carries the limit; with
 *    a single kernel rule the limit sits on it and TABLE-dN is skipped;
 *  - the verdict, after LOG, is in TABLE-dNv when there is a LOG or a
 *    REJECT (which needs a TCP and a non-TCP rule).
 * Packets over the limit return to the next rule of the main chain.
 */
/* Whether @set is negated with several prefixes of this family (issue 14). */
static bool not_group(const struct ipt *t, const struct pc_addr_set *set, bool neg)
{
	size_t first, count;

	if (!neg)
		return false;
	ipt_addr_range(t, set, &first, &count);
	return count > 1;
}

static void emit_rule(struct ipt *t, const char *chain, enum pc_direction dir,
		      size_t idx, const struct pc_rule *r);

/* `-A CHAIN [-s|-d PREFIX] -m comment --comment "..." -j TARGET`. */
static void put_plain(struct ipt *t, const char *chain, const char *opt,
		      const struct pc_addr *a, const char *comment, const char *target)
{
	pc_buf_printf(&t->rules, "-A %s", chain);
	if (opt) {
		pc_buf_printf(&t->rules, " %s ", opt);
		pc_text_addr(&t->rules, a, true);
	}
	pc_buf_puts(&t->rules, " -m comment --comment ");
	put_quoted(&t->rules, comment);
	pc_buf_printf(&t->rules, " -j %s\n", target);
}

/*
 * matches (issue 14): `from not { a, b }` (or `to not`) with several
 * prefixes of this family. The rule jumps to TABLE-dNn, where a packet
 * from a or b returns to the next rule and any other meets the rest of
 * the rule, written there as if the negated list were not; a packet
 * that matches nothing there falls off its end and returns as well.
 */
static void emit_negated(struct ipt *t, const char *chain, enum pc_direction dir,
			 size_t idx, const struct pc_rule *r)
{
	char *sub = xasprintf("%s-%s%zun", t->ir->table, dir_letter[dir], idx + 1);
	struct pc_rule rest = *r;
	struct pc_buf cm;
	size_t first, count;
	bool write = !t->declaring;

	pc_buf_init(&cm);
	ipt_rule_comment(&cm, dir, r);
	if (t->declaring)
		declare_chain(t, sub);
	else
		put_plain(t, chain, NULL, NULL, cm.data, sub);
	if (not_group(t, &r->saddr, r->saddr_not)) {
		ipt_addr_range(t, &r->saddr, &first, &count);
		for (size_t i = 0; i < count && write; i++)
			put_plain(t, sub, "-s", &r->saddr.v[first + i], cm.data, "RETURN");
		memset(&rest.saddr, 0, sizeof(rest.saddr));
		rest.saddr_not = false;
	}
	if (not_group(t, &r->daddr, r->daddr_not)) {
		ipt_addr_range(t, &r->daddr, &first, &count);
		for (size_t i = 0; i < count && write; i++)
			put_plain(t, sub, "-d", &r->daddr.v[first + i], cm.data, "RETURN");
		memset(&rest.daddr, 0, sizeof(rest.daddr));
		rest.daddr_not = false;
	}
	emit_rule(t, sub, dir, idx, &rest);
	pc_buf_finish(&cm);
	free(sub);
}

static void emit_rule(struct ipt *t, const char *chain, enum pc_direction dir,
		      size_t idx, const struct pc_rule *r)
{
	struct action act = { .log = r->log, .limit = true };
	struct alt any = { .icmp_type = -1 };
	struct pc_rule bare = bare_rule(r);
	struct rule_text *x = &t->text, *bx = &t->bare_text;
	size_t kernel_rules;
	char *limit_chain = NULL, *verdict_chain = NULL;

	if (!ipt_rule_in_scope(t, r, &kernel_rules))
		return;
	/* only a per-source limit names its table (rule_text_fill()): the
	 * hash's snprintf per rule was 4 % of generate (issue 15) */
	if (r->limit.rate && r->limit_per_source &&
	    !ipt_hashlimit_name(t, dir, idx, t->hashlimit, sizeof(t->hashlimit)))
		PC_BUG("hashlimit name");
	if (not_group(t, &r->saddr, r->saddr_not) || not_group(t, &r->daddr, r->daddr_not)) {
		emit_negated(t, chain, dir, idx, r);
		return;
	}
	if (!r->n_l4 && r->verdict == PC_VERDICT_REJECT)
		kernel_rules++;
	if (!r->limit.rate || (kernel_rules == 1 && !r->log)) {
		if (t->declaring)
			return;
		rule_text_fill(t, x, dir, r);
		emit_alternatives(t, chain, x, r, &act);
		return;
	}
	if (r->log || r->verdict == PC_VERDICT_REJECT)
		verdict_chain = xasprintf("%s-%s%zuv", t->ir->table, dir_letter[dir], idx + 1);
	if (kernel_rules > 1)
		limit_chain = xasprintf("%s-%s%zu", t->ir->table, dir_letter[dir], idx + 1);
	if (t->declaring) {
		/* in this order: the file declared them so before the rules were streamed */
		if (limit_chain)
			declare_chain(t, limit_chain);
		if (verdict_chain)
			declare_chain(t, verdict_chain);
		goto out;
	}
	rule_text_fill(t, x, dir, r);
	rule_text_fill(t, bx, dir, &bare);
	if (limit_chain) {
		act = (struct action){ .jump = limit_chain };
		emit_alternatives(t, chain, x, r, &act);
		act = (struct action){ .jump = verdict_chain, .limit = true };
		emit_kernel_rule(t, limit_chain, bx, &bare, &any, &act);
	} else {
		act = (struct action){ .jump = verdict_chain, .limit = true };
		emit_alternatives(t, chain, x, r, &act);
	}
	if (verdict_chain) {
		bare.limit.rate = 0;
		act = (struct action){ .log = r->log };
		emit_kernel_rule(t, verdict_chain, bx, &bare, &any, &act);
	}
out:
	free(limit_chain);
	free(verdict_chain);
}

static void emit_chain(struct ipt *t, enum pc_direction dir)
{
	const struct pc_chain *c = &t->ir->chains[dir];
	char *chain = xasprintf("%s-%s", t->ir->table, dir_suffix[dir]);
	struct pc_buf cm;

	if (!t->declaring)
		pc_buf_printf(&t->rules, "# %s: default %s\n", dir_suffix[dir],
			      pc_verdict_name(c->policy));
	for (size_t i = 0; i < c->n; i++) {
		emit_rule(t, chain, (enum pc_direction)dir, i, &c->rules[i]);
		ipt_flush(t, false);
	}
	if (pc_text_chain_closed(c) || t->declaring)
		goto out;
	pc_buf_init(&cm);
	pc_text_location(&cm, &c->policy_loc);
	pc_buf_printf(&cm, " default %s %s", pc_direction_name(dir),
		      pc_verdict_name(c->policy));
	pc_buf_printf(&t->rules, "-A %s -m comment --comment ", chain);
	put_quoted(&t->rules, cm.data);
	put_verdict(t, &t->rules, c->policy, false);
	pc_buf_putc(&t->rules, '\n');
	pc_buf_finish(&cm);
out:
	free(chain);
}

static void ipt_finish(struct ipt *t)
{
	pc_buf_finish(&t->decl);
	pc_buf_finish(&t->rules);
	pc_buf_finish(&t->scratch);
	rule_text_finish(&t->text);
	rule_text_finish(&t->bare_text);
}

/*
 * NAT (routers): the *nat table of the same restore file, in the policy's
 * own chains TABLE-pre (dnat) and TABLE-post (masquerade, snat), one jump
 * each from PREROUTING and POSTROUTING. Appended to @body after the filter
 * table's jumps: "COMMIT" ends *filter here and the template's own COMMIT
 * ends *nat. Nothing when the policy has no NAT of this family.
 */
static void emit_nat(struct ipt *t, struct pc_buf *body)
{
	const struct pc_ir *ir = t->ir;
	char *pre = xasprintf("%s-pre", ir->table), *post = xasprintf("%s-post", ir->table);
	bool any = false;

	ipt_buf_reset(&t->rules);
	for (size_t i = 0; i < ir->n_nat; i++) {
		const struct pc_nat_rule *n = &ir->nat[i];
		bool dnat = n->kind == PC_NAT_DNAT;
		struct action act = { 0 };
		struct pc_rule r;
		char addr[INET6_ADDRSTRLEN];

		memset(&r, 0, sizeof(r));
		r.origin = PC_ORIGIN_POLICY;
		r.loc = n->loc;
		r.families = n->families;
		r.iface = n->iface;
		r.n_ifaces = n->n_ifaces;
		r.ifaces = n->ifaces;
		r.saddr = n->saddr;
		r.daddr = n->daddr;
		r.n_l4 = n->n_l4;
		r.l4 = (struct pc_l4 *)n->l4;
		r.comment = n->comment;
		if (!ipt_rule_in_scope(t, &r, NULL))
			continue;
		any = true;
		ipt_buf_reset(&t->scratch);
		if (n->kind == PC_NAT_MASQUERADE) {
			pc_buf_puts(&t->scratch, " -j MASQUERADE");
		} else {
			inet_ntop(ipt_fam_v6(t) ? AF_INET6 : AF_INET, n->to.a, addr, sizeof(addr));
			pc_buf_puts(&t->scratch, dnat ? " -j DNAT --to-destination " :
							" -j SNAT --to-source ");
			if (n->to_port && ipt_fam_v6(t))
				pc_buf_printf(&t->scratch, "[%s]:%u", addr, n->to_port);
			else if (n->to_port)
				pc_buf_printf(&t->scratch, "%s:%u", addr, n->to_port);
			else
				pc_buf_puts(&t->scratch, addr);
		}
		act.nat = xstrdup(t->scratch.data);
		/* the `on` of dnat is -i (prerouting), of the others -o */
		rule_text_fill(t, &t->text, dnat ? PC_DIR_IN : PC_DIR_OUT, &r);
		emit_alternatives(t, dnat ? pre : post, &t->text, &r, &act);
		free((char *)act.nat);
	}
	if (any) {
		pc_buf_puts(body, "COMMIT\n*nat\n");
		pc_buf_printf(body, ":%s - [0:0]\n:%s - [0:0]\n-F %s\n-F %s\n", pre, post, pre, post);
		pc_buf_add(body, t->rules.data, t->rules.len);
		pc_buf_puts(body, "# jumps into the NAT chains above\n");
		pc_buf_printf(body, "-A PREROUTING -j %s\n-A POSTROUTING -j %s\n", pre, post);
	}
	free(pre);
	free(post);
}

static const enum pc_direction chain_order[] = { PC_DIR_IN, PC_DIR_FORWARD, PC_DIR_OUT };

/*
 * {{body}}: the declarations, then the rules written to @out as they are
 * made (the bulk of the file: 50 MB for a 1,000,000-rule policy, never
 * held whole), then the jumps and NAT.
 */
static bool write_body(void *ctx, FILE *out)
{
	struct ipt *t = ctx;
	const struct pc_ir *ir = t->ir;
	struct pc_buf head, tail;

	pc_buf_init(&head);
	pc_buf_init(&tail);
	dynsets_comment(t, &head);
	pc_buf_add(&head, t->decl.data, t->decl.len);
	/* the declarations above already empty existing chains; say it */
	for (const char *p = t->decl.data; *p; p = strchr(p, '\n') + 1) {
		const char *sp = strchr(p, ' ');

		pc_buf_printf(&head, "-F %.*s\n", (int)(sp - p - 1), p + 1);
	}
	fwrite(head.data, 1, head.len, out);
	t->out = out;
	for (size_t i = 0; i < PC_ARRAY_SIZE(chain_order); i++)
		emit_chain(t, chain_order[i]);
	ipt_flush(t, true);
	/* emit_nat() keeps its rules in t->rules to wrap them */
	t->out = NULL;
	pc_buf_puts(&tail, "# jumps into the chains above (see the header before reloading)\n");
	for (size_t i = 0; i < PC_ARRAY_SIZE(chain_order); i++)
		pc_buf_printf(&tail, "-A %s -j %s-%s\n", builtin_chain[chain_order[i]],
			      ir->table, dir_suffix[chain_order[i]]);
	emit_nat(t, &tail);
	fwrite(tail.data, 1, tail.len, out);
	pc_buf_finish(&head);
	pc_buf_finish(&tail);
	/* the jumps end the body with a newline */
	return true;
}

static int ipt_run(const struct pc_ir *ir, const struct pc_emit_options *opts,
		   FILE *out, struct pc_diag *diag, unsigned family,
		   const char *name)
{
	struct ipt t = { .ir = ir, .family = family, .name = name, .diag = diag };
	const char *tmpl;
	int ret = -1;

	pc_buf_init(&t.decl);
	pc_buf_init(&t.rules);
	ipt_run_checks(&t);
	if (t.errors)
		goto out;
	for (size_t i = 0; i < PC_ARRAY_SIZE(chain_order); i++)
		pc_buf_printf(&t.decl, ":%s-%s - [0:0]\n", ir->table, dir_suffix[chain_order[i]]);
	/*
	 * The helper chains a rule needs are declared at the top of the
	 * file, before any rule: a first pass over the rules, writing none,
	 * collects them, so that the rules can then go straight to @out.
	 */
	t.declaring = true;
	for (size_t i = 0; i < PC_ARRAY_SIZE(chain_order); i++)
		emit_chain(&t, chain_order[i]);
	t.declaring = false;
	tmpl = opts->template_text ? opts->template_text : pc_template_builtin(name);
	if (!tmpl)
		PC_BUG("no built-in template for %s", name);
	ret = pc_template_render_with(tmpl, ir, opts, name, write_body, &t, out, diag);
out:
	ipt_finish(&t);
	return ret;
}

static int ipt_check(const struct pc_ir *ir, const struct pc_emit_options *opts,
		     struct pc_diag *diag, unsigned family, const char *name)
{
	struct ipt t = { .ir = ir, .family = family, .name = name, .diag = diag };
	int ret;

	ipt_run_checks(&t);
	ret = t.errors ? -1 : 0;
	ipt_finish(&t);
	return ret;
}

static int ipt4_check(const struct pc_ir *ir, const struct pc_emit_options *opts,
		      struct pc_diag *diag)
{
	return ipt_check(ir, opts, diag, PC_FAM_IPV4, "iptables");
}

static int ipt6_check(const struct pc_ir *ir, const struct pc_emit_options *opts,
		      struct pc_diag *diag)
{
	return ipt_check(ir, opts, diag, PC_FAM_IPV6, "ip6tables");
}

static int ipt4_emit(const struct pc_ir *ir, const struct pc_emit_options *opts,
		     FILE *out, struct pc_diag *diag)
{
	return ipt_run(ir, opts, out, diag, PC_FAM_IPV4, "iptables");
}

static int ipt6_emit(const struct pc_ir *ir, const struct pc_emit_options *opts,
		     FILE *out, struct pc_diag *diag)
{
	return ipt_run(ir, opts, out, diag, PC_FAM_IPV6, "ip6tables");
}

#define IPT_CAPS (PC_CAP_DIR_IN | PC_CAP_DIR_OUT | PC_CAP_DIR_FORWARD | \
		  PC_CAP_IFACE | PC_CAP_LOG | PC_CAP_LOG_PREFIX | PC_CAP_LIMIT | \
		  PC_CAP_REJECT | PC_CAP_CONNTRACK | PC_CAP_ICMP_TYPE | \
		  PC_CAP_ICMPV6_TYPE | PC_CAP_TCP_UDP | PC_CAP_SCTP | \
		  PC_CAP_DCCP | PC_CAP_PROTO | PC_CAP_COMMENT)

const struct pc_backend pc_backend_iptables = {
	.abi = PC_BACKEND_ABI,
	.size = sizeof(struct pc_backend),
	.name = "iptables",
	.summary = "iptables-restore input (IPv4): own chains, one jump each from INPUT/FORWARD/OUTPUT",
	.caps = IPT_CAPS | PC_CAP_IPV4 | PC_CAP_IFACE_LIST | PC_CAP_OIFACE | PC_CAP_NAT |
		PC_CAP_DYNSET | PC_CAP_LOG_GROUP | PC_CAP_LIMIT_BURST | PC_CAP_SPORT |
		PC_CAP_NEGATION | PC_CAP_LIMIT_PER_SOURCE,
	.families = PC_FAM_IPV4,
	.check = ipt4_check,
	.emit = ipt4_emit,
};

const struct pc_backend pc_backend_ip6tables = {
	.abi = PC_BACKEND_ABI,
	.size = sizeof(struct pc_backend),
	.name = "ip6tables",
	.summary = "ip6tables-restore input (IPv6): own chains, one jump each from INPUT/FORWARD/OUTPUT",
	.caps = IPT_CAPS | PC_CAP_IPV6 | PC_CAP_IFACE_LIST | PC_CAP_OIFACE | PC_CAP_NAT |
		PC_CAP_DYNSET | PC_CAP_LOG_GROUP | PC_CAP_LIMIT_BURST | PC_CAP_SPORT |
		PC_CAP_NEGATION | PC_CAP_LIMIT_PER_SOURCE,
	.families = PC_FAM_IPV6,
	.check = ipt6_check,
	.emit = ipt6_emit,
};
