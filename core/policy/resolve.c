/* SPDX-License-Identifier: MIT */
/*
 * The resolver: walks the statements in order, resolves names through the
 * registry and groups, infers families, and builds the IR, built-in
 * behaviour included, so that every backend emits the same meaning from
 * the same place.
 */
#include "policy/resolve_internal.h"
#include "ir/ir_owned.h"

static int l4_cmp(const void *pa, const void *pb)
{
	const struct pc_l4 *a = pa, *b = pb;

	return (int)a->proto - (int)b->proto;
}

static void set_port_l4(struct resolver *rs, struct pc_l4 *l4, unsigned proto,
			struct pc_port_range *v, size_t n, bool any)
{
	memset(l4, 0, sizeof(*l4));
	l4->proto = (uint8_t)proto;
	if (any || n == 0)
		return;
	l4->dports.v = pc_arena_memdup(rs->arena, v, n * sizeof(*v));
	l4->dports.n = n;
	pc_port_set_normalize(&l4->dports);
	if (l4->dports.n == 1 && l4->dports.v[0].lo == 0 && l4->dports.v[0].hi == 65535)
		l4->dports.n = 0;
}

static void set_icmp_l4(struct resolver *rs, struct pc_l4 *l4, unsigned proto,
			const uint8_t *types, bool any)
{
	uint8_t v[256];
	size_t n = 0;

	memset(l4, 0, sizeof(*l4));
	l4->proto = (uint8_t)proto;
	if (any)
		return;
	for (unsigned t = 0; t < 256; t++)
		if (types[t])
			v[n++] = (uint8_t)t;
	l4->n_types = n;
	l4->types = pc_arena_memdup(rs->arena, v, n);
}

/* A source that is everyone: no `from`, `from any`, or a /0 prefix. */
static bool any_source(bool have_from, const struct addracc *src)
{
	if (!have_from || src->any)
		return true;
	for (size_t i = 0; i < src->n; i++)
		if (src->v[i].plen == 0)
			return true;
	return false;
}

/* The catalogued traps an allowing rule opens; @anyone: from any source. */
static void warn_traps(struct resolver *rs, bool anyone)
{
	for (size_t i = 0; i < rs->n_traps; i++) {
		const struct pc_cat_record *r = rs->traps[i].rec;
		char what[96];

		if (rs->traps[i].port)
			snprintf(what, sizeof(what), "port '%s' (%s)", rs->traps[i].port, r->name);
		else
			snprintf(what, sizeof(what), "service '%s'", r->name);
		if (r->trap == PC_CAT_TRAP_EXPOSED)
			lint_warning(rs, &rs->traps[i].loc, "exposed-service",
				     "%s should not be exposed: %s; safer: %s",
				     what, r->description, r->safer);
		else if (r->trap == PC_CAT_TRAP_PUBLIC && anyone)
			lint_warning(rs, &rs->traps[i].loc, "exposed-service",
				     "%s is open to any source: %s; safer: %s",
				     what, r->description, r->safer);
	}
}

/* matches (issue 14): what `from not` / `to not` can take. */
static bool negation_ok(struct resolver *rs, const struct pc_ast_match *m,
			const struct addracc *aa)
{
	if (aa->dynamic) {
		pc_diag_error(rs->diag, &m->loc, "a dynamic set cannot be negated");
		return false;
	}
	bool everything = aa->any || aa->n == 0;

	for (size_t i = 0; i < aa->n; i++)
		if (aa->v[i].plen == 0)
			everything = true;
	if (everything) {
		pc_diag_error(rs->diag, &m->loc,
			      "'%s not' of every address never matches", m->kind == PC_AST_MATCH_FROM ? "from" : "to");
		return false;
	}
	return true;
}

/* Whether two merged port lists are equal. */
static bool same_ports(const struct pc_port_range *a, size_t na,
		       const struct pc_port_range *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

/*
 * matches (issue 14): `source-port PORTS` (@sp) narrows the rule's
 * transports to those its ports are on, and gives the one source port set
 * (@out) that the IR applies to every protocol of the rule. A rule without
 * ports of its own matches any destination port of those transports.
 */
static bool source_ports(struct resolver *rs, const struct pc_ast_stmt *s,
			 const struct pc_location *loc, struct l4acc *acc,
			 struct portacc *sp, struct pc_port_set *out)
{
	const struct pc_port_range *first = NULL;
	size_t n_first = 0;
	bool have = false, any_port = false;

	if (acc->icmp_given[0] || acc->icmp_given[1]) {
		pc_diag_error(rs->diag, loc, "'source-port' cannot be combined with icmp or icmpv6");
		return false;
	}
	if (acc->proto_given)
		for (unsigned p = 0; p < 256; p++)
			if (acc->protos[p] && !pc_proto_has_ports(p)) {
				pc_diag_error(rs->diag, loc, "'source-port' cannot be combined with 'proto %s'",
					      pc_proto_name(p) ? pc_proto_name(p) : "?");
				return false;
			}
	for (unsigned t = 0; t < N_TRANSPORTS; t++) {
		unsigned proto = pc_transport_proto(t);
		bool in_rule = acc->have_ports ? acc->ports.n[t] > 0 :
			       acc->proto_given ? acc->protos[proto] != 0 : true;

		if (!(sp->n[t] || sp->any[t]) || !in_rule) {
			/* a transport the source ports are not on leaves the rule */
			if (acc->have_ports) {
				acc->ports.n[t] = 0;
				acc->ports.any[t] = false;
			}
			if (acc->proto_given)
				acc->protos[proto] = 0;
			continue;
		}
		{
			struct pc_port_set ps = { sp->n[t], sp->v[t] };

			pc_port_set_normalize(&ps);
			sp->n[t] = ps.n;
		}
		if (have && !same_ports(first, n_first, sp->v[t], sp->n[t])) {
			pc_diag_error(rs->diag, loc,
				      "'source-port' with different ports per transport: write one rule per transport");
			return false;
		}
		if (!acc->have_ports && !acc->proto_given) {
			/* any destination port of this transport */
			acc->protos[proto] = 1;
		}
		first = sp->v[t];
		n_first = sp->n[t];
		any_port = sp->any[t];
		have = true;
	}
	if (!have) {
		pc_diag_error(rs->diag, &s->loc,
			      "rule can never match: its source ports are on none of its transports");
		return false;
	}
	if (!acc->have_ports)
		acc->proto_given = true;
	if (any_port || (n_first == 1 && first[0].lo == 0 && first[0].hi == 65535))
		return true;
	out->v = pc_arena_memdup(rs->arena, first, n_first * sizeof(*first));
	out->n = n_first;
	return true;
}

void resolve_rule(struct resolver *rs, const struct pc_ast_stmt *s,
		  struct rulebuf *out)
{
	const struct pc_ast_rule *ar = &s->rule;
	struct pc_rule r;
	struct l4acc *acc = xzalloc(sizeof(*acc));
	struct addracc src, dst;
	struct pc_l4 l4[260];
	size_t n_l4 = 0;
	unsigned families = PC_FAM_ALL, sf, df;
	bool ok = true, have_icmp;
	const struct pc_location *fam_loc = &s->loc;

	memset(&r, 0, sizeof(r));
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.any = dst.any = false;
	r.origin = PC_ORIGIN_POLICY;
	r.loc = s->loc;
	r.verdict = ar->verdict;
	r.log = ar->log;
	r.log_prefix = ar->log_prefix;
	r.log_nflog = ar->log_nflog;
	r.log_group = ar->log_group;
	r.limit = ar->limit;
	r.limit_burst = ar->limit_burst;
	r.limit_per_source = ar->limit_per_source;
	r.comment = ar->comment;
	if (!resolve_ifaces(rs, ar->ifaces, &r.n_ifaces, &r.ifaces) ||
	    !resolve_ifaces(rs, ar->oifaces, &r.n_oifaces, &r.oifaces))
		ok = false;
	r.iface = r.n_ifaces ? r.ifaces[0] : NULL;
	r.iface_not = r.iface && ar->iface_not;
	/* the backends spell a list as one kernel rule per interface, and
	 * "not a" or "not b" is every interface: one name only */
	if (r.iface_not && r.n_ifaces > 1) {
		pc_diag_error(rs->diag, &ar->iface_loc,
			      "'on not' takes one interface (or a prefix and '*'), not a list");
		ok = false;
	}
	bool have_from = false, have_to = false;
	struct portacc *sp = NULL;           /* source-port, when given */
	const struct pc_location *sp_loc = NULL;

	rs->n_traps = 0;
	for (size_t i = 0; i < ar->n_matches; i++) {
		const struct pc_ast_match *m = &ar->matches[i];

		switch (m->kind) {
		case PC_AST_MATCH_SERVICE:
		case PC_AST_MATCH_PORT:
		case PC_AST_MATCH_CLASS:
			acc->have_ports = true;
			if (!resolve_svc_items(rs, &m->list,
					       m->kind == PC_AST_MATCH_SERVICE ? PC_AST_HINT_SERVICE :
					       m->kind == PC_AST_MATCH_PORT ? PC_AST_HINT_PORT :
					       PC_AST_HINT_CLASS, 0, &acc->ports, 0))
				ok = false;
			break;
		case PC_AST_MATCH_SPORT:
		{
			/* matches (issue 14): ports as `port` takes them,
			 * and service names meaning their ports; what a
			 * source port is, is no exposed service: its traps
			 * are not this rule's */
			size_t traps = rs->n_traps;
			bool quiet = rs->quiet;

			sp = xzalloc(sizeof(*sp));
			sp_loc = &m->loc;
			/* nor are the registry's notes on a port
			 * (Unassigned, several ports) about a source */
			rs->quiet = true;
			if (!resolve_svc_items(rs, &m->list, PC_AST_HINT_SERVICE, 0, sp, 0))
				ok = false;
			rs->quiet = quiet;
			rs->n_traps = traps;
			break;
		}
		case PC_AST_MATCH_PROTO:
			if (!resolve_proto(rs, &m->list, acc))
				ok = false;
			break;
		case PC_AST_MATCH_ICMP:
		case PC_AST_MATCH_ICMPV6:
			if (!resolve_icmp(rs, &m->list, m->kind == PC_AST_MATCH_ICMPV6, acc))
				ok = false;
			break;
		case PC_AST_MATCH_FAMILY: {
			/* matches (issue 14): restricts the rule to one family */
			unsigned f = 0;

			for (size_t k = 0; k < m->list.n; k++) {
				const struct pc_ast_item *it = &m->list.v[k];

				if (it->kind == PC_AST_WORD && !it->suffix && strcmp(it->text, "ipv4") == 0)
					f |= PC_FAM_IPV4;
				else if (it->kind == PC_AST_WORD && !it->suffix && strcmp(it->text, "ipv6") == 0)
					f |= PC_FAM_IPV6;
				else {
					pc_diag_error(rs->diag, &it->loc,
						      "unknown family '%s' (expected ipv4 or ipv6)", it->text);
					ok = false;
				}
			}
			if (m->list.suffix) {
				pc_diag_error(rs->diag, &m->list.suffix_loc, "unexpected '/%s' after family",
					      m->list.suffix);
				ok = false;
			}
			families &= f ? f : PC_FAM_ALL;
			fam_loc = &m->loc;
			break;
		}
		case PC_AST_MATCH_FROM:
			have_from = true;
			if (!resolve_addr_list(rs, &m->list, &src, 0))
				ok = false;
			else if (m->negated && !negation_ok(rs, m, &src))
				ok = false;
			r.saddr_not = m->negated;
			fam_loc = &m->loc;
			break;
		case PC_AST_MATCH_TO:
			have_to = true;
			if (!resolve_addr_list(rs, &m->list, &dst, 0))
				ok = false;
			else if (m->negated && !negation_ok(rs, m, &dst))
				ok = false;
			r.daddr_not = m->negated;
			break;
		default:
			PC_BUG("match kind %d", m->kind);
		}
	}
	if (!ok)
		goto out;
	if (ar->verdict == PC_VERDICT_ALLOW && ar->dir != PC_DIR_OUT && s->kind == PC_AST_RULE)
		warn_traps(rs, r.saddr_not || any_source(have_from, &src));

	/* protocol alternatives */
	have_icmp = acc->icmp_given[0] || acc->icmp_given[1];
	if (acc->proto_given && (acc->have_ports || have_icmp)) {
		/* proto narrows the other matches */
		if (acc->have_ports) {
			bool any_left = false;

			for (unsigned t = 0; t < N_TRANSPORTS; t++) {
				if (!acc->protos[pc_transport_proto(t)]) {
					acc->ports.n[t] = 0;
					acc->ports.any[t] = false;
				} else if (acc->ports.n[t]) {
					any_left = true;
				}
			}
			for (unsigned p = 0; p < 256; p++)
				if (acc->protos[p] && !pc_proto_has_ports(p) &&
				    !(p == PC_PROTO_ICMP && acc->icmp_given[0]) &&
				    !(p == PC_PROTO_ICMPV6 && acc->icmp_given[1])) {
					pc_diag_error(rs->diag, &s->loc,
						      "'proto %s' cannot be combined with ports",
						      pc_proto_name(p) ? pc_proto_name(p) : "?");
					ok = false;
				}
			if (ok && !any_left) {
				pc_diag_error(rs->diag, &s->loc,
					      "rule can never match: 'proto' excludes every transport of its ports");
				ok = false;
			}
		}
		if (acc->icmp_given[0] && !acc->protos[PC_PROTO_ICMP]) {
			pc_diag_error(rs->diag, &s->loc,
				      "rule can never match: 'icmp' with a proto other than icmp");
			ok = false;
		}
		if (acc->icmp_given[1] && !acc->protos[PC_PROTO_ICMPV6]) {
			pc_diag_error(rs->diag, &s->loc,
				      "rule can never match: 'icmpv6' with a proto other than icmpv6");
			ok = false;
		}
		if (!ok)
			goto out;
	}
	if (sp && !source_ports(rs, s, sp_loc, acc, sp, &r.sports)) {
		ok = false;
		goto out;
	}
	if (acc->have_ports) {
		for (unsigned t = 0; t < N_TRANSPORTS; t++)
			if (acc->ports.n[t])
				set_port_l4(rs, &l4[n_l4++], pc_transport_proto(t),
					    acc->ports.v[t], acc->ports.n[t], false);
	}
	if (acc->icmp_given[0])
		set_icmp_l4(rs, &l4[n_l4++], PC_PROTO_ICMP, acc->icmp_types[0], acc->icmp_any[0]);
	if (acc->icmp_given[1])
		set_icmp_l4(rs, &l4[n_l4++], PC_PROTO_ICMPV6, acc->icmp_types[1], acc->icmp_any[1]);
	if (acc->proto_given && !acc->have_ports && !have_icmp) {
		for (unsigned p = 0; p < 256; p++)
			if (acc->protos[p])
				set_port_l4(rs, &l4[n_l4++], p, NULL, 0, true);
	}
	qsort(l4, n_l4, sizeof(l4[0]), l4_cmp);

	/* families: ICMP and ICMPv6 pin one, addresses pin theirs */
	if (n_l4) {
		unsigned f = 0;

		for (size_t i = 0; i < n_l4; i++)
			f |= l4[i].proto == PC_PROTO_ICMP ? PC_FAM_IPV4 :
			     l4[i].proto == PC_PROTO_ICMPV6 ? PC_FAM_IPV6 : PC_FAM_ALL;
		families &= f;
	}
	/* a negated list pins no family: a packet of the other family is
	 * outside it (issue 14) */
	sf = have_from && !r.saddr_not ? addr_families(&src) : PC_FAM_ALL;
	df = have_to && !r.daddr_not ? addr_families(&dst) : PC_FAM_ALL;
	if ((families & sf & df) == 0) {
		pc_diag_error(rs->diag, fam_loc,
			      "rule can never match: its matches are %s, its source addresses %s, its destination addresses %s",
			      fam_text(families), fam_text(sf), fam_text(df));
		ok = false;
		goto out;
	}
	families &= sf & df;
	/* drop ICMP alternatives of a family the rule cannot have */
	{
		size_t k = 0;

		for (size_t i = 0; i < n_l4; i++) {
			unsigned need = l4[i].proto == PC_PROTO_ICMP ? PC_FAM_IPV4 :
					l4[i].proto == PC_PROTO_ICMPV6 ? PC_FAM_IPV6 : 0;

			if (need && !(families & need)) {
				pc_diag_warning(rs->diag, &s->loc,
						"the %s match never applies: the rule's addresses are %s only",
						need == PC_FAM_IPV4 ? "icmp" : "icmpv6",
						fam_text(families));
				continue;
			}
			l4[k++] = l4[i];
		}
		n_l4 = k;
	}
	r.families = families;
	addr_finish(rs, &src, families, &r.saddr);
	addr_finish(rs, &dst, families, &r.daddr);
	r.n_l4 = n_l4;
	r.l4 = pc_arena_memdup(rs->arena, l4, n_l4 * sizeof(l4[0]));
	out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
	out->v[out->n++] = r;
out:
	addracc_free(&src);
	addracc_free(&dst);
	portacc_finish(&acc->ports);
	free(acc);
	if (sp) {
		portacc_finish(sp);
		free(sp);
	}
}

/* ---- built-in behaviour --------------------------------------------- */

static void push(struct rulebuf *b, const struct pc_rule *r)
{
	b->v = xgrow(b->v, &b->cap, b->n + 1, sizeof(*b->v));
	b->v[b->n++] = *r;
}

static struct pc_rule builtin(enum pc_rule_origin origin, const struct pc_location *loc)
{
	struct pc_rule r;

	memset(&r, 0, sizeof(r));
	r.origin = origin;
	r.loc = *loc;
	r.verdict = PC_VERDICT_ALLOW;
	r.families = PC_FAM_ALL;
	return r;
}

static void add_builtins(struct resolver *rs, enum pc_direction dir, unsigned options,
			 const struct pc_location *opt_loc, struct rulebuf *b)
{
	static const uint8_t icmp4_err[] = { 3, 11, 12 };
	static const uint8_t icmp6_err[] = { 1, 2, 3, 4 };
	static const uint8_t icmp6_all[] = { 1, 2, 3, 4, 133, 134, 135, 136 };
	struct pc_location loc = { opt_loc[0].file, 0, 0, 0 };
	struct pc_rule r;

	if (!(options & PC_OPT_STATELESS)) {
		r = builtin(PC_ORIGIN_CONNTRACK, &loc);
		r.ct_state = PC_CT_ESTABLISHED | PC_CT_RELATED;
		push(b, &r);
		r = builtin(PC_ORIGIN_CONNTRACK, &loc);
		r.ct_state = PC_CT_INVALID;
		r.verdict = PC_VERDICT_DENY;
		push(b, &r);
	}
	if (!(options & PC_OPT_FILTER_LOOPBACK) && dir != PC_DIR_FORWARD) {
		r = builtin(PC_ORIGIN_LOOPBACK, &loc);
		r.iface = "lo";
		push(b, &r);
	}
	if (!(options & PC_OPT_NO_ESSENTIAL_ICMP)) {
		struct pc_l4 *l4 = pc_arena_alloc(rs->arena, sizeof(*l4));

		r = builtin(PC_ORIGIN_ESSENTIAL_ICMP, &loc);
		r.families = PC_FAM_IPV4;
		l4->proto = PC_PROTO_ICMP;
		l4->n_types = sizeof(icmp4_err);
		l4->types = pc_arena_memdup(rs->arena, icmp4_err, sizeof(icmp4_err));
		r.n_l4 = 1;
		r.l4 = l4;
		push(b, &r);

		l4 = pc_arena_alloc(rs->arena, sizeof(*l4));
		r = builtin(PC_ORIGIN_ESSENTIAL_ICMP, &loc);
		r.families = PC_FAM_IPV6;
		l4->proto = PC_PROTO_ICMPV6;
		/* neighbour discovery and router adverts are link-local: never forwarded */
		if (dir == PC_DIR_FORWARD) {
			l4->n_types = sizeof(icmp6_err);
			l4->types = pc_arena_memdup(rs->arena, icmp6_err, sizeof(icmp6_err));
		} else {
			l4->n_types = sizeof(icmp6_all);
			l4->types = pc_arena_memdup(rs->arena, icmp6_all, sizeof(icmp6_all));
		}
		r.n_l4 = 1;
		r.l4 = l4;
		push(b, &r);
	}
}

/* ---- statements ----------------------------------------------------- */

/*
 * The words of nftables' scanner (src/scanner.l, v1.0.6) that nft 1.0.6
 * refuses as a table name in `table inet NAME` (each one tried with
 * `nft -c -f` on the generated file; tests/input/table-keywords.sh does it
 * again over the scanner's whole word list). Sorted for bsearch; nft's
 * keywords are case-sensitive, so `Counter` is a fine name.
 */
static const char *const nft_reserved[] = {
	"accept", "add", "ah", "all", "and", "arp",
	"auto-merge", "bridge", "cgroup", "chain", "comment", "comp",
	"constant", "continue", "counter", "cpu", "create", "ct",
	"day", "dccp", "define", "delete", "describe", "device",
	"devices", "dnat", "drop", "dst", "dup", "dynamic",
	"ecn", "element", "elements", "eq", "esp", "ether",
	"exists", "expires", "export", "exthdr", "fib", "flags",
	"flow", "flowtable", "flush", "frag", "fwd", "gc-interval",
	"ge", "get", "goto", "gt", "handle", "hbh",
	"hook", "hour", "ibriport", "ibrname", "icmp", "icmpv6",
	"igmp", "iif", "iifgroup", "iifname", "iiftype", "import",
	"include", "index", "inet", "insert", "interval", "ip",
	"ip6", "ipsec", "jhash", "jump", "le", "limit",
	"list", "log", "lshift", "lt", "map", "mark",
	"masquerade", "meta", "meter", "mh", "missing", "monitor",
	"ne", "netdev", "nftrace", "not", "notrack", "numgen",
	"obriport", "obrname", "offload", "oif", "oifgroup", "oifname",
	"oiftype", "or", "osf", "pkttype", "policy", "position",
	"priority", "queue", "quota", "random", "redefine", "redirect",
	"reject", "rename", "replace", "reset", "return", "rshift",
	"rt", "rt0", "rt2", "rtclassid", "rule", "ruleset",
	"sctp", "secmark", "set", "size", "skgid", "skuid",
	"snat", "socket", "srh", "symhash", "synproxy", "table",
	"tcp", "th", "time", "timeout", "tproxy", "type",
	"typeof", "udp", "udplite", "undefine", "update", "vlan",
	"vmap", "xor", "xt",
};

static int str_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static bool nft_reserved_word(const char *s)
{
	return bsearch(s, nft_reserved, PC_ARRAY_SIZE(nft_reserved), sizeof(nft_reserved[0]),
		       str_cmp) != NULL;
}

static bool valid_table_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 20 || !isalpha((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static void define_group(struct resolver *rs, const struct pc_ast_stmt *s)
{
	struct group *g = find_group(rs, s->name);

	if (g) {
		pc_diag_error(rs->diag, &s->name_loc, "group '%s' defined twice (first at %s:%u)",
			      s->name, g->stmt->name_loc.file, g->stmt->name_loc.line);
		return;
	}
	if (!isalpha((unsigned char)s->name[0]) && s->name[0] != '_') {
		pc_diag_error(rs->diag, &s->name_loc, "bad group name '%s'", s->name);
		return;
	}
	rs->groups = xgrow(rs->groups, &rs->cap_groups, rs->n_groups + 1, sizeof(*rs->groups));
	g = &rs->groups[rs->n_groups++];
	memset(g, 0, sizeof(*g));
	g->name = s->name;
	g->kind = s->kind;
	g->stmt = s;
	index_group(rs);
	/* resolve now, so errors inside a group show even when it is unused */
	if (s->kind == PC_AST_HOSTS) {
		resolve_hosts_group(rs, g, &s->name_loc, 0);
	} else {
		size_t before = pc_diag_count(rs->diag, PC_SEV_ERROR);

		struct portacc pa;
		struct pc_ast_item ref;

		memset(&pa, 0, sizeof(pa));
		memset(&ref, 0, sizeof(ref));
		ref.kind = PC_AST_VAR;
		ref.text = s->name;
		ref.loc = s->name_loc;
		resolve_svc_item(rs, &ref, PC_AST_HINT_SERVICE, 0, &pa, 0);
		portacc_finish(&pa);
		g->bad = pc_diag_count(rs->diag, PC_SEV_ERROR) > before;
	}
	g->used = false;
}

static int dynset_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pc_dynset *)a)->name, ((const struct pc_dynset *)b)->name);
}

/* sets: the dynamic groups, for the backends to declare */
static void ir_dynsets(struct resolver *rs, struct pc_ir *ir)
{
	struct pc_dynset *v;
	size_t n = 0;

	for (size_t i = 0; i < rs->n_groups; i++)
		n += rs->groups[i].dynamic;
	if (!n)
		return;
	v = pc_arena_alloc(rs->arena, n * sizeof(*v));
	n = 0;
	for (size_t i = 0; i < rs->n_groups; i++) {
		const struct group *g = &rs->groups[i];

		if (!g->dynamic)
			continue;
		v[n].name = pc_arena_strdup(rs->arena, g->name);
		v[n].timeout = g->stmt->hosts_timeout;
		v[n].loc = g->stmt->loc;
		n++;
	}
	qsort(v, n, sizeof(*v), dynset_cmp);
	ir->dynsets = v;
	ir->n_dynsets = n;
}

/*
 * The resolver's state between statements: a policy may be resolved a
 * statement at a time, as the parser makes them (pc_resolver_stmt()), so
 * that a rule's syntax tree is freed as soon as its IR rule is made
 * (issue 15: the tree was about 830 bytes a rule, all alive at once).
 */
struct pc_resolver {
	struct resolver rs;
	struct rulebuf rules[__PC_DIR_MAX];
	struct {
		bool set;
		enum pc_verdict v;
		struct pc_location loc;
	} defaults[__PC_DIR_MAX];
	unsigned options;
	struct natbuf nat;
	struct pc_expect *expects;
	size_t n_expects, cap_expects;
	const struct pc_ast_stmt *table_stmt, *transports_stmt;
};

struct pc_resolver *pc_resolver_create(struct pc_arena *arena,
				       const struct pc_registry *reg, bool lint,
				       struct pc_diag *diag)
{
	struct pc_resolver *rv = xzalloc(sizeof(*rv));
	struct resolver *rs = &rv->rs;

	rs->reg = reg;
	rs->cat = pc_registry_catalog(reg);
	rs->diag = diag;
	rs->arena = arena;
	rs->lint = lint;
	rs->transports = 1u << PC_TRANSPORT_TCP | 1u << PC_TRANSPORT_UDP;
	rs->suggestions_left = 10;
	return rv;
}

void pc_resolver_stmt(struct pc_resolver *rv, const struct pc_ast_stmt *s)
{
	struct resolver *rs = &rv->rs;
	struct pc_diag *diag = rs->diag;

	{
		switch (s->kind) {
		case PC_AST_TABLE:
			if (rv->table_stmt) {
				pc_diag_error(diag, &s->loc, "table set twice (first at %s:%u)",
					      rv->table_stmt->loc.file, rv->table_stmt->loc.line);
			} else if (!valid_table_name(s->name)) {
				pc_diag_error(diag, &s->name_loc,
					      "bad table name '%s' (a letter, then letters, digits, _ or -; at most 20)",
					      s->name);
			} else if (nft_reserved_word(s->name)) {
				pc_diag_error(diag, &s->name_loc,
					      "table name '%s' is an nft keyword, which nft refuses as a table name: choose another name",
					      s->name);
			} else {
				rv->table_stmt = s;
			}
			break;
		case PC_AST_TRANSPORTS: {
			unsigned mask = 0;
			bool ok = true;

			if (s->list.suffix)
				ok = false;
			for (size_t j = 0; j < s->list.n; j++) {
				const struct pc_ast_item *it = &s->list.v[j];
				int t = it->kind == PC_AST_WORD && !it->suffix ?
					pc_transport_parse(it->text) : -1;

				if (t < 0) {
					pc_diag_error(diag, &it->loc,
						      "unknown transport '%s' (expected tcp, udp, sctp or dccp)",
						      it->text);
					ok = false;
					continue;
				}
				mask |= 1u << t;
			}
			if (rv->transports_stmt)
				pc_diag_warning(diag, &s->loc,
						"transports set again (was set at %s:%u); applies to the rules below",
						rv->transports_stmt->loc.file, rv->transports_stmt->loc.line);
			rv->transports_stmt = s;
			if (ok && mask) {
				rs->transports = mask;
				rs->transports_set = true;
			}
			break;
		}
		case PC_AST_HOSTS:
		case PC_AST_SERVICES:
			define_group(rs, s);
			break;
		case PC_AST_DEFAULT:
			if (rv->defaults[s->dir].set) {
				pc_diag_error(diag, &s->loc, "default %s set twice (first at %s:%u)",
					      pc_direction_name(s->dir), rv->defaults[s->dir].loc.file,
					      rv->defaults[s->dir].loc.line);
				break;
			}
			rv->defaults[s->dir].set = true;
			rv->defaults[s->dir].v = s->verdict;
			rv->defaults[s->dir].loc = s->loc;
			break;
		case PC_AST_OPTION:
			if (strcmp(s->name, "stateless") == 0)
				rv->options |= PC_OPT_STATELESS;
			else if (strcmp(s->name, "filter-loopback") == 0)
				rv->options |= PC_OPT_FILTER_LOOPBACK;
			else if (strcmp(s->name, "no-essential-icmp") == 0)
				rv->options |= PC_OPT_NO_ESSENTIAL_ICMP;
			else if (strcmp(s->name, "counters") == 0)
				rv->options |= PC_OPT_COUNTERS;
			else
				pc_diag_error(diag, &s->name_loc,
					      "unknown option '%s' (expected stateless, filter-loopback, no-essential-icmp or counters)",
					      s->name);
			break;
		case PC_AST_NAT:
			resolve_nat(rs, s, &rv->nat);
			break;
		case PC_AST_RULE:
			resolve_rule(rs, s, &rv->rules[s->rule.dir]);
			break;
		case PC_AST_EXPECT: {
			/* resolved as a rule would be; proven once the IR stands */
			struct rulebuf one;

			memset(&one, 0, sizeof(one));
			resolve_rule(rs, s, &one);
			if (one.n) {
				rv->expects = xgrow(rv->expects, &rv->cap_expects, rv->n_expects + 1, sizeof(*rv->expects));
				rv->expects[rv->n_expects].dir = s->rule.dir;
				rv->expects[rv->n_expects++].rule = one.v[0];
			}
			free(one.v);
			break;
		}
		default:
			PC_BUG("statement kind %d", s->kind);
		}
	}
}

/*
 * Resolves what is left of @ast (its statements from @ast->done on) and
 * makes the IR; frees @rv. Takes ownership of @ast and @arena as
 * pc_resolve() does.
 */
struct pc_ir *pc_resolver_finish(struct pc_resolver *rv, struct pc_ast *ast)
{
	struct resolver *rs = &rv->rs;
	struct pc_diag *diag = rs->diag;
	struct pc_arena *arena = rs->arena;
	bool lint = rs->lint;
	unsigned options;
	struct rulebuf *rules = rv->rules;
	struct pc_ir *ir;
	struct pc_location opt_loc[1];
	static const enum pc_verdict default_of_defaults[] = {
		[PC_DIR_IN] = PC_VERDICT_DENY,
		[PC_DIR_OUT] = PC_VERDICT_ALLOW,
		[PC_DIR_FORWARD] = PC_VERDICT_DENY,
	};

	if (!ast) {   /* nothing was parsed: nothing was resolved either */
		free(rv);
		return NULL;
	}
	opt_loc[0] = (struct pc_location){ ast->top_file, 0, 0, 0 };
	for (size_t i = ast->done; i < ast->n; i++) {
		if (pc_diag_full(diag))
			break;
		pc_resolver_stmt(rv, ast->stmts[i]);
	}
	options = rv->options;
	if (lint)
		for (size_t i = 0; i < rs->n_groups; i++)
			if (!rs->groups[i].used)
				pc_diag_warning(diag, &rs->groups[i].stmt->name_loc,
						"group '%s' is never used", rs->groups[i].name);

	ir = NULL;
	if (pc_diag_has_errors(diag))
		goto out;

	ir = pc_ir_create(arena);
	ir->table = rv->table_stmt ? rv->table_stmt->name : "portcullis";
	ir->policy_file = ast->top_file;
	ir->options = options;
	/* the file name only: generated output must not depend on where the
	 * registry happens to be installed or checked out */
	{
		const char *src = pc_registry_source(rs->reg), *slash = strrchr(src, '/');

		ir->registry_name = pc_arena_strdup(arena, slash ? slash + 1 : src);
	}
	ir->registry_date = pc_arena_strdup(arena, pc_registry_date(rs->reg));
	ir_dynsets(rs, ir);
	ir->n_nat = rv->nat.n;
	ir->nat = pc_arena_memdup(arena, rv->nat.v, rv->nat.n * sizeof(*rv->nat.v));
	ir->n_expects = rv->n_expects;
	ir->expects = rv->n_expects ? pc_arena_memdup(arena, rv->expects, rv->n_expects * sizeof(*rv->expects)) : NULL;
	/* nothing below reads the tree (about 830 bytes a rule, issue 15):
	 * it goes before the rules are copied into the IR and linted */
	pc_ast_destroy(ast);
	ast = NULL;
	for (unsigned d = 0; d < __PC_DIR_MAX; d++) {
		struct pc_chain *c = &ir->chains[d];
		struct rulebuf b;

		memset(&b, 0, sizeof(b));
		c->dir = (enum pc_direction)d;
		c->policy = rv->defaults[d].set ? rv->defaults[d].v : default_of_defaults[d];
		c->policy_loc = rv->defaults[d].set ? rv->defaults[d].loc : opt_loc[0];
		add_builtins(rs, c->dir, options, opt_loc, &b);
		if (c->policy == PC_VERDICT_REJECT) {
			struct pc_rule r = builtin(PC_ORIGIN_DEFAULT, &c->policy_loc);

			r.verdict = PC_VERDICT_REJECT;
			push(&rules[d], &r);
			c->policy = PC_VERDICT_DENY;
		}
		/* one copy into the IR: built-ins first, then the policy's rules */
		c->n = b.n + rules[d].n;
		c->rules = pc_arena_alloc(arena, c->n * sizeof(*c->rules));
		if (b.n)
			memcpy(c->rules, b.v, b.n * sizeof(*b.v));
		if (rules[d].n)
			memcpy(c->rules + b.n, rules[d].v, rules[d].n * sizeof(*b.v));
		free(b.v);
	}
out:
	free(rv->nat.v);
	free(rv->expects);
	for (unsigned d = 0; d < __PC_DIR_MAX; d++)
		free(rules[d].v);
	for (size_t i = 0; i < rs->n_groups; i++)
		free(rs->groups[i].exp);
	free(rs->groups);
	free(rs->index);
	free(rs->addr_sets);
	pc_ast_destroy(ast);
	if (!ir)
		pc_arena_destroy(arena);
	else if (lint) {
		pc_lint_shadowing(ir, diag);
		lint_nat(rs, ir);
	}
	free(rv);
	return ir;
}

struct pc_ir *pc_resolve(struct pc_ast *ast, struct pc_arena *arena,
			 const struct pc_registry *reg, bool lint,
			 struct pc_diag *diag)
{
	return pc_resolver_finish(pc_resolver_create(arena, reg, lint, diag), ast);
}
