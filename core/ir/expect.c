/* SPDX-License-Identifier: MIT */
/* `expect` statements proven over the packet space they name (expect.h). */
#include "ir/expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/eval.h"
#include "ir/regions.h"
#include "common/util.h"

/*
 * A concrete packet of a region: its first value in each dimension, a
 * documentation address for "any". A region that its box only bounds
 * (@rest) has a witness box inside it.
 */
static void region_packet(const struct pc_rg_diff *d, const struct pc_rg_ifaces *ifs,
			  struct pc_packet *p, char *ifbuf, size_t iflen)
{
	const struct pc_rg_box *b = d->rest ? &d->witness : &d->box;

	pc_packet_init(p);
	p->dir = d->dir;
	p->family = b->fam & PC_FAM_IPV4 ? PC_FAM_IPV4 : PC_FAM_IPV6;
	p->proto = (uint8_t)b->d[PC_RG_PROTO].lo.lo;
	for (int k = 0; k < 2; k++) {
		const struct pc_rg_iv *iv = &b->d[PC_RG_SADDR + k];
		uint8_t *a = k ? p->daddr : p->saddr;
		bool any = iv->lo.hi == 0 && iv->lo.lo == 0 &&
			   ((iv->hi.hi == UINT64_MAX && iv->hi.lo == UINT64_MAX) ||
			    (p->family == PC_FAM_IPV4 && iv->hi.hi == 0 && iv->hi.lo == UINT32_MAX));

		if (p->family == PC_FAM_IPV4) {
			uint32_t x = any ? 0xc0000201u + (unsigned)k : (uint32_t)iv->lo.lo;

			for (int i = 0; i < 4; i++)
				a[i] = (uint8_t)(x >> (24 - 8 * i));
		} else if (any) {
			static const uint8_t doc[16] = { 0x20, 0x01, 0x0d, 0xb8 };

			memcpy(a, doc, 16);
			a[15] = (uint8_t)(1 + k);
		} else {
			for (int i = 0; i < 8; i++) {
				a[i] = (uint8_t)(iv->lo.hi >> (56 - 8 * i));
				a[8 + i] = (uint8_t)(iv->lo.lo >> (56 - 8 * i));
			}
		}
	}
	if (pc_proto_has_ports(p->proto)) {
		p->dport = (uint16_t)b->d[PC_RG_DPORT].lo.lo;
		p->has_sport = true;
		p->sport = (uint16_t)b->d[PC_RG_SPORT].lo.lo;
	}
	else if (p->proto == PC_PROTO_ICMP || p->proto == PC_PROTO_ICMPV6)
		p->icmp_type = (int)(b->d[PC_RG_DPORT].lo.lo & 0xff);
	/* an interface no policy names, when the region holds one, reads best */
	p->iface = pc_rg_iface_example(ifs, b->d[PC_RG_IFACE].hi.lo == ifs->n ? ifs->n :
				       (size_t)b->d[PC_RG_IFACE].lo.lo, ifbuf, iflen);
	p->ct_state = 1u << b->d[PC_RG_STATE].lo.lo;
	/* a forwarded packet leaves on some interface; so does one coming in
	 * that a dnat sends on (issue 16) */
	if (p->dir == PC_DIR_FORWARD || (p->dir == PC_DIR_IN && d->old.nat >= 0)) {
		char obuf[32];
		const char *o = pc_rg_iface_example(ifs, b->d[PC_RG_OIFACE].hi.lo == ifs->n ? ifs->n :
						    (size_t)b->d[PC_RG_OIFACE].lo.lo, obuf, sizeof(obuf));

		snprintf(p->oiface, sizeof(p->oiface), "%s", o);
	}
}

/*
 * " (source in @dyn, over the rate of p.policy:7)": what the witness of
 * @d depends on beyond the packet (regions.h, struct pc_rg_cond).
 */
static void conds_text(const struct pc_ir *ir, const struct pc_rg_result *res,
		       const struct pc_rg_diff *d, char *buf, size_t len)
{
	const struct pc_rg_box *b = d->rest ? &d->witness : &d->box;
	struct pc_buf out;

	pc_buf_init(&out);
	for (size_t k = 0; k < res->n_conds; k++) {
		const struct pc_rg_iv *cv = &b->d[res->conds[k].dim];
		const struct pc_rg_cond *c = &res->conds[k];
		bool holds = cv->lo.lo == 1;

		if (cv->lo.lo != cv->hi.lo || !pc_rg_cond_in(c, d->dir))
			continue;
		pc_buf_puts(&out, out.len ? ", " : " (");
		if (c->kind == PC_RG_COND_OVER && c->old_rule >= 0) {
			const struct pc_rule *lr = &ir->chains[c->dir].rules[c->old_rule];
			const struct pc_location *l = &lr->loc;

			pc_buf_printf(&out, "%s the %srate of %s:%u", holds ? "over" : "under",
				      lr->limit_per_source ? "per-source " : "",
				      l->file ? l->file : "?", l->line);
		} else if (c->kind == PC_RG_COND_OVER) {
			pc_buf_printf(&out, "%s the rate", holds ? "over" : "under");
		} else {
			pc_buf_printf(&out, "%s %sin @%s",
				      c->kind == PC_RG_COND_SRC_IN ? "source" : "destination",
				      holds ? "" : "not ", c->set);
		}
	}
	if (out.len)
		pc_buf_puts(&out, ")");
	snprintf(buf, len, "%s", out.data ? out.data : "");
	pc_buf_finish(&out);
}

/* What decided a packet in chain @dir of @ir: FILE:LINE, the default or a built-in rule. */
static void decider(const struct pc_ir *ir, enum pc_direction dir, long idx,
		    char *buf, size_t len)
{
	const struct pc_chain *c = &ir->chains[dir];
	const struct pc_location *l;

	if (idx < 0 || c->rules[idx].origin == PC_ORIGIN_DEFAULT) {
		l = idx < 0 ? &c->policy_loc : &c->rules[idx].loc;
		if (l->file && l->line)
			snprintf(buf, len, "the default (%s:%u)", l->file, l->line);
		else
			snprintf(buf, len, "the default");
		return;
	}
	if (c->rules[idx].origin != PC_ORIGIN_POLICY) {
		snprintf(buf, len, "the built-in %s rule", pc_origin_name(c->rules[idx].origin));
		return;
	}
	l = &c->rules[idx].loc;
	snprintf(buf, len, "%s:%u", l->file ? l->file : "?", l->line);
}

static bool prove_one(const struct pc_ir *ir, const struct pc_expect *e,
		      struct pc_diag *diag)
{
	const struct pc_chain *c = &ir->chains[e->dir];
	struct pc_ir mod = *ir;
	struct pc_rule *rules = xcalloc(2 * c->n + 1, sizeof(*rules)), first = e->rule;
	struct pc_rg_result res;
	char err[256];
	size_t n = 0, at;
	bool ok = true;

	/*
	 * Connection tracking and the loopback acceptance (unless the
	 * expectation names an interface) first, in their order:
	 * `expect deny in service telnet` speaks of new packets from the
	 * network.
	 */
	for (size_t i = 0; i < c->n; i++)
		if (c->rules[i].origin == PC_ORIGIN_CONNTRACK ||
		    (c->rules[i].origin == PC_ORIGIN_LOOPBACK && !e->rule.iface))
			rules[n++] = c->rules[i];
	/* new packets: established ones belong to connection tracking */
	if (!first.ct_state)
		first.ct_state = PC_CT_NEW;
	/* nor does it speak of lo where no built-in rule takes it (forward) */
	if (!first.iface) {
		first.iface = "lo";
		first.iface_not = true;
	}
	rules[n++] = first;
	at = n - 1;
	/* then the chain as it is: outside the expectation, nothing changes */
	if (c->n)
		memcpy(rules + n, c->rules, c->n * sizeof(*rules));
	n += c->n;
	mod.chains[e->dir].rules = rules;
	mod.chains[e->dir].n = n;
	/*
	 * The expectation speaks of packets as they arrive: before any dnat
	 * (issue 16), whose packets the forward chain judges as translated
	 */
	if (pc_regions_compare_at(ir, &mod, e->dir, at + 1, &res, err, sizeof(err)) < 0) {
		pc_diag_error(diag, &e->rule.loc, "expect cannot be proven: %s", err);
		free(rules);
		return false;
	}
	for (size_t i = 0; i < res.n && ok; i++) {
		const struct pc_rg_diff *d = &res.v[i];
		struct pc_packet p;
		char ifbuf[32], text[200], by[200], cond[200];
		enum pc_verdict v;
		long idx;

		/* deny is kept by a reject too */
		if (e->rule.verdict == PC_VERDICT_DENY && d->old.verdict != PC_VERDICT_ALLOW)
			continue;
		/*
		 * Only the packets the expectation decides in the modified
		 * policy (its built-in rules, placed before the dnats there,
		 * may decide others differently)
		 */
		if (d->dir != e->dir || d->what != PC_RG_VERDICT || d->new.nat >= 0 ||
		    d->new.rule != (long)at)
			continue;
		region_packet(d, &res.ifaces, &p, ifbuf, sizeof(ifbuf));
		/*
		 * The region's OLD side is what decides the witness: the
		 * evaluator, with no dynamic set members and no rate
		 * exceeded, would not see a region that depends on those
		 */
		idx = d->old.rule;
		v = d->old.verdict;
		/* a source port is said only where the region has not all of
		 * them (every one of them then gets the same) */
		{
			struct pc_packet shown = p;
			const struct pc_rg_iv *sp = &d->box.d[PC_RG_SPORT];

			if (sp->lo.lo == 0 && sp->hi.lo == 65535)
				shown.has_sport = false;
			pc_packet_format(&shown, text, sizeof(text));
		}
		decider(ir, d->old.nat >= 0 ? PC_DIR_FORWARD : p.dir, idx, by, sizeof(by));
		if (d->old.nat >= 0) {
			const struct pc_location *nl = &ir->nat[d->old.nat].loc;
			size_t l = strlen(by);

			snprintf(by + l, sizeof(by) - l, " after dnat %s:%u",
				 nl->file ? nl->file : "?", nl->line);
		}
		conds_text(ir, &res, d, cond, sizeof(cond));
		pc_diag_error(diag, &e->rule.loc,
			      "expectation broken: '%s'%s gets %s from %s, not %s",
			      text, cond, pc_verdict_name(v), by, pc_verdict_name(e->rule.verdict));
		ok = false;
	}
	pc_rg_result_free(&res);
	free(rules);
	return ok;
}

bool pc_ir_prove_expects(const struct pc_ir *ir, struct pc_diag *diag)
{
	bool ok = true;

	for (size_t i = 0; i < ir->n_expects; i++)
		ok &= prove_one(ir, &ir->expects[i], diag);
	return ok;
}
