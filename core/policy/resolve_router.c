/* SPDX-License-Identifier: MIT */
/*
 * The router half of the language (issue 13): interface lists of `on` and
 * `out on`.
 */
#include "policy/resolve_internal.h"

#include "ir/addrset.h"
#include "ir/eval.h"

/* One interface of a list: reports and returns false when it is not one. */
static bool iface_ok(struct resolver *rs, const struct pc_ast_item *it)
{
	const char *name = it->text;
	size_t n = strlen(name);

	if (it->kind == PC_AST_VAR) {
		pc_diag_error(rs->diag, &it->loc,
			      "an interface list takes names, not $groups: write the interfaces in { }");
		return false;
	}
	if (it->suffix) {
		pc_diag_error(rs->diag, &it->suffix_loc,
			      "bad interface name '%s/%s'", name, it->suffix);
		return false;
	}
	if (strcmp(name, "+") == 0) {
		pc_diag_error(rs->diag, &it->loc,
			      "interface name '+' is iptables' spelling of every interface: leave out 'on'");
		return false;
	}
	if (n > 1 && name[n - 1] == '+') {
		/* iptables reads a trailing '+' as a wildcard, nft and pf as a
		 * letter of the name: one meaning, spelt one way */
		pc_diag_error(rs->diag, &it->loc,
			      "interface name '%s' ends in '+', which only iptables reads as a wildcard: write '%.*s*' for every interface whose name starts with '%.*s'",
			      name, (int)(n - 1), name, (int)(n - 1), name);
		return false;
	}
	if (!pc_iface_name_valid(name)) {
		pc_diag_error(rs->diag, &it->loc,
			      "bad interface name '%s' (1-15 characters: letters, digits, . _ - + @, or a prefix and '*')",
			      name);
		return false;
	}
	return true;
}

bool resolve_ifaces(struct resolver *rs, const struct pc_ast_list *l,
		    size_t *n_out, const char *const **out)
{
	const char **v;
	size_t n = 0;
	bool ok = true;

	*n_out = 0;
	*out = NULL;
	if (!l || l->n == 0)
		return true;
	if (l->suffix) {
		pc_diag_error(rs->diag, &l->suffix_loc,
			      "an interface list takes no '/%s'", l->suffix);
		return false;
	}
	v = pc_arena_alloc(rs->arena, l->n * sizeof(*v));
	for (size_t i = 0; i < l->n; i++) {
		bool dup = false;

		if (!iface_ok(rs, &l->v[i])) {
			ok = false;
			continue;
		}
		for (size_t j = 0; j < n; j++)
			if (strcmp(v[j], l->v[i].text) == 0)
				dup = true;
		if (dup) {
			lint_warning(rs, &l->v[i].loc, "duplicate-interface",
				     "interface '%s' is listed twice", l->v[i].text);
			continue;
		}
		v[n++] = l->v[i].text;
	}
	*n_out = n;
	*out = v;
	return ok;
}

/*
 * The target of snat and dnat: ADDR, and for dnat ADDR:PORT (IPv4) or
 * [IPv6]:PORT; a bare IPv6 address takes no port.
 */
static bool nat_target(struct resolver *rs, const struct pc_ast_stmt *s,
		       struct pc_nat_rule *n)
{
	const char *t = s->nat_to, *port = NULL;
	char addr[64], err[128];
	size_t len = strlen(t);

	if (t[0] == '[') {
		const char *rb = strchr(t, ']');

		if (!rb || (rb[1] && rb[1] != ':') || (size_t)(rb - t - 1) >= sizeof(addr))
			goto bad;
		memcpy(addr, t + 1, (size_t)(rb - t - 1));
		addr[rb - t - 1] = 0;
		if (rb[1] == ':')
			port = rb + 2;
		if (!strchr(addr, ':'))
			goto bad;
	} else {
		const char *c = strchr(t, ':');

		if (len >= sizeof(addr))
			goto bad;
		if (c && !strchr(c + 1, ':')) {
			/* IPv4:PORT */
			memcpy(addr, t, (size_t)(c - t));
			addr[c - t] = 0;
			port = c + 1;
		} else {
			memcpy(addr, t, len + 1);
		}
	}
	if (!pc_addr_parse(addr, NULL, &n->to, err, sizeof(err))) {
		pc_diag_error(rs->diag, &s->nat_to_loc, "bad NAT address '%s': %s", addr, err);
		return false;
	}
	if (port) {
		char *end;
		unsigned long v = strtoul(port, &end, 10);

		if (!*port || *end || v == 0 || v > 65535 || !isdigit((unsigned char)*port)) {
			pc_diag_error(rs->diag, &s->nat_to_loc,
				      "bad port '%s' in the NAT target (1-65535)", port);
			return false;
		}
		if (s->nat != PC_NAT_DNAT) {
			pc_diag_error(rs->diag, &s->nat_to_loc,
				      "snat takes an address, not a port: '-> %s'", addr);
			return false;
		}
		n->to_port = (uint16_t)v;
	}
	return true;
bad:
	pc_diag_error(rs->diag, &s->nat_to_loc,
		      "bad NAT target '%s': write ADDR, ADDR:PORT or [IPv6]:PORT", t);
	return false;
}

/* Drops the prefixes of @set that are not of @family. */
static void addr_keep_family(struct resolver *rs, struct pc_addr_set *set,
			     unsigned family)
{
	struct pc_addr *v;
	size_t n = 0;

	if (!set->n)
		return;
	v = pc_arena_alloc(rs->arena, set->n * sizeof(*v));
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].family == family)
			v[n++] = set->v[i];
	if (n != set->n)
		set->name = NULL;
	set->n = n;
	set->v = v;
}

void resolve_nat(struct resolver *rs, const struct pc_ast_stmt *s,
		 struct natbuf *out)
{
	const struct pc_ast_rule *ar = &s->rule;
	struct rulebuf rb = { 0 };
	struct pc_nat_rule n;
	const struct pc_rule *r;
	bool ok = true;

	memset(&n, 0, sizeof(n));
	n.kind = s->nat;
	n.loc = s->loc;
	if (ar->log || ar->limit.rate) {
		pc_diag_error(rs->diag, ar->log ? &ar->log_loc : &ar->limit_loc,
			      "%s translates only: '%s' belongs to the filter rule that lets the packet through",
			      pc_nat_kind_name(s->nat), ar->log ? "log" : "limit");
		ok = false;
	}
	if (s->nat_to && !nat_target(rs, s, &n))
		ok = false;
	resolve_rule(rs, s, &rb);
	if (!ok || rb.n != 1)
		goto out;
	r = &rb.v[0];
	/* struct pc_nat_rule holds neither negation nor a dynamic set:
	 * dropping them would translate more packets than written */
	if (r->saddr_not || r->daddr_not || pc_addr_set_is_dynamic(&r->saddr) ||
	    pc_addr_set_is_dynamic(&r->daddr)) {
		pc_diag_error(rs->diag, &s->loc, "%s cannot match %s",
			      pc_nat_kind_name(s->nat),
			      r->saddr_not || r->daddr_not ? "'from not' or 'to not'" :
							     "a dynamic set");
		goto out;
	}
	/* nor a source port (issue 14) */
	if (r->sports.n) {
		pc_diag_error(rs->diag, &s->loc, "%s cannot match 'source-port'",
			      pc_nat_kind_name(s->nat));
		goto out;
	}
	n.families = r->families;
	if (n.kind != PC_NAT_MASQUERADE) {
		if (!(n.families & n.to.family)) {
			pc_diag_error(rs->diag, &s->nat_to_loc,
				      "the %s target is %s, the packets the rule matches are %s only",
				      pc_nat_kind_name(n.kind), fam_text(n.to.family), fam_text(n.families));
			goto out;
		}
		/* a translation keeps the family: the rule is the target's */
		n.families = n.to.family;
	}
	if (n.to_port) {
		for (size_t i = 0; i < r->n_l4; i++)
			if (!pc_proto_has_ports(r->l4[i].proto))
				ok = false;
		if (!ok || !r->n_l4) {
			pc_diag_error(rs->diag, &s->nat_to_loc,
				      "a port in the dnat target needs a match of protocols with ports (port 8080/tcp, service http)");
			goto out;
		}
	}
	n.iface = r->iface;
	n.n_ifaces = r->n_ifaces;
	n.ifaces = r->ifaces;
	n.saddr = r->saddr;
	n.daddr = r->daddr;
	/* addresses of the other family than the target's are never matched */
	if (n.families != PC_FAM_ALL) {
		addr_keep_family(rs, &n.saddr, n.families);
		addr_keep_family(rs, &n.daddr, n.families);
	}
	n.n_l4 = r->n_l4;
	n.l4 = r->l4;
	n.comment = r->comment;
	out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
	out->v[out->n++] = n;
out:
	free(rb.v);
}

/* ---- lint of NAT: a translation the filter never lets through -------- */

/* Could interfaces @a and @b (names or prefixes and '*') be the same one? */
static bool ifaces_meet(const char *a, const char *b)
{
	return pc_iface_match(a, b) || pc_iface_match(b, a) ||
	       (a[strlen(a) - 1] == '*' && b[strlen(b) - 1] == '*' &&
		(strncmp(a, b, strlen(a) - 1) == 0 || strncmp(a, b, strlen(b) - 1) == 0));
}

/* Could a packet arriving on one of the dnat's interfaces meet rule @r's `on`? */
static bool arrives_for(const struct pc_rule *r, const struct pc_nat_rule *n)
{
	size_t nr = r->n_ifaces > 1 ? r->n_ifaces : r->iface ? 1 : 0;
	size_t nn = n->n_ifaces > 1 ? n->n_ifaces : n->iface ? 1 : 0;

	if (!nr || !nn)
		return true;
	for (size_t i = 0; i < nr; i++)
		for (size_t k = 0; k < nn; k++)
			if (ifaces_meet(nr > 1 ? r->ifaces[i] : r->iface,
					nn > 1 ? n->ifaces[k] : n->iface))
				return true;
	return false;
}

/* Could allow rule @r of the forward chain let a packet to @to[:@port] through? */
static bool forwards_to(const struct pc_rule *r, const struct pc_nat_rule *n)
{
	if (r->verdict != PC_VERDICT_ALLOW || r->origin != PC_ORIGIN_POLICY ||
	    !(r->families & n->to.family) || !arrives_for(r, n) ||
	    !pc_addr_set_contains(&r->daddr, n->to.family, n->to.a))
		return false;
	if (!r->n_l4 || !n->n_l4)
		return true;
	for (size_t i = 0; i < r->n_l4; i++)
		for (size_t k = 0; k < n->n_l4; k++) {
			if (r->l4[i].proto != n->l4[k].proto)
				continue;
			if (!n->to_port || pc_port_set_contains(&r->l4[i].dports, n->to_port))
				return true;
		}
	return false;
}

/* Could allow rule @r of the forward chain let packets out of @iface? */
static bool forwards_out_of(const struct pc_rule *r, const char *iface)
{
	if (r->verdict != PC_VERDICT_ALLOW || r->origin != PC_ORIGIN_POLICY)
		return false;
	if (!r->n_oifaces)
		return true;
	for (size_t i = 0; i < r->n_oifaces; i++)
		if (ifaces_meet(r->oifaces[i], iface))
			return true;
	return false;
}

void lint_nat(struct resolver *rs, const struct pc_ir *ir)
{
	const struct pc_chain *fwd = &ir->chains[PC_DIR_FORWARD];

	/* with a forward default allow, everything is let through */
	if (fwd->policy == PC_VERDICT_ALLOW)
		return;
	for (size_t i = 0; i < ir->n_nat; i++) {
		const struct pc_nat_rule *n = &ir->nat[i];
		bool ok = false;

		if (n->kind == PC_NAT_DNAT) {
			for (size_t k = 0; k < fwd->n && !ok; k++)
				ok = forwards_to(&fwd->rules[k], n);
			if (!ok) {
				char addr[INET6_ADDRSTRLEN], port[16] = "";

				inet_ntop(n->to.family == PC_FAM_IPV4 ? AF_INET : AF_INET6,
					  n->to.a, addr, sizeof(addr));
				if (n->to_port)
					snprintf(port, sizeof(port), " port %u", n->to_port);
				lint_warning(rs, &n->loc, "dnat-not-forwarded",
					     "the dnat target %s%s can never be reached: the forward default is %s and no forward rule allows it (the filter decides on the translated destination)",
					     addr, port, pc_verdict_name(fwd->policy));
			}
		} else {
			size_t ni = n->n_ifaces > 1 ? n->n_ifaces : n->iface ? 1 : 0;

			for (size_t j = 0; j < ni; j++) {
				const char *name = n->n_ifaces > 1 ? n->ifaces[j] : n->iface;

				ok = false;
				for (size_t k = 0; k < fwd->n && !ok; k++)
					ok = forwards_out_of(&fwd->rules[k], name);
				if (!ok)
					lint_warning(rs, &n->loc, "masquerade-not-forwarded",
						     "%s on '%s': no forward rule lets traffic out of '%s' (forward default %s): only the host's own packets would be translated",
						     pc_nat_kind_name(n->kind), name, name,
						     pc_verdict_name(fwd->policy));
			}
		}
	}
}
