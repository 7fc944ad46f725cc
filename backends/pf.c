/* SPDX-License-Identifier: MIT */
/*
 * pf anchor body (pf.conf(5)), OpenBSD or FreeBSD (14+) dialect.
 *
 * Every rule has `quick`, so the first match decides as in the policy
 * (a quick rule inside an anchor ends the evaluation of the whole
 * ruleset). Each direction ends with its default as a quick rule matching
 * all. Choices where pf differs from netfilter:
 *  - connection tracking: pf keeps state on every pass rule (`keep state`,
 *    `no state` under `option stateless`); packets of a known connection
 *    never reach the rules, which is what the built-in "established,
 *    related accept / invalid drop" rules say, so they are not written;
 *  - loopback: `on lo`, the interface group of all loopback interfaces
 *    (lo0) on OpenBSD and FreeBSD;
 *  - forward: pf has none; a routed packet meets the in rules of its
 *    incoming and the out rules of its outgoing interface. The in rules
 *    pass it (tagged), and the forward rules decide it where it leaves,
 *    as out rules `on` the leaving interface and `received-on` the
 *    arriving one (pf_emit_forward_chain()); FreeBSD has no received-on
 *    (before 15.0): the tag names the arriving interface instead
 *    (pf_emit_forward_tags());
 *  - interface wildcards: interface groups (pf_iface()), the driver
 *    group for a prefix of letters, else -O ifgroup=WILDCARD:GROUP;
 *  - NAT: OpenBSD match rules with nat-to / rdr-to, FreeBSD nat / rdr
 *    rules, before every filter rule (pf_emit_nat());
 *  - rate limits: `max-pkt-rate N/SECONDS` (the rule stops matching over
 *    the rate), OpenBSD only: FreeBSD added it after 14;
 *  - log prefixes: pflog has none; the prefix becomes the rule's label;
 *  - ports: tcp and udp, and sctp on FreeBSD; dccp ports nowhere.
 */
#include <ctype.h>
#include <string.h>

#include "backends/builtin.h"
#include "backends/pf.h"
#include "backends/text.h"
#include "common/template.h"
#include "common/util.h"
#include "ir/names.h"

static const char *dialect(const struct pf *p)
{
	return p->openbsd ? "openbsd" : "freebsd";
}

/* Whether pf evaluates this chain's rule at all (see the top comment). */
bool pf_rule_written(const struct pf *p, enum pc_direction dir,
		     const struct pc_rule *r)
{
	(void)dir;
	if (r->origin == PC_ORIGIN_CONNTRACK)
		return false;
	return true;
}

static bool l4_in_families(unsigned families, const struct pc_l4 *l4)
{
	if (l4->proto == PC_PROTO_ICMP)
		return families & PC_FAM_IPV4;
	if (l4->proto == PC_PROTO_ICMPV6)
		return families & PC_FAM_IPV6;
	return true;
}

static void check_rule(struct pf *p, enum pc_direction dir, const struct pc_rule *r)
{
	if (r->comment && !pc_text_printable(r->comment))
		report(p, &r->loc, "backend 'pf': the comment has control characters");
	for (size_t i = 0; i < (r->n_ifaces > 1 ? r->n_ifaces : r->iface ? 1 : 0); i++) {
		const char *name = r->n_ifaces > 1 ? r->ifaces[i] : r->iface;

		if (!pc_iface_name_valid(name))
			report(p, &r->loc, "backend 'pf': invalid interface name '%s'", name);
		else
			pf_iface(p, &r->loc, name);
	}
	for (size_t i = 0; i < r->n_oifaces; i++) {
		if (!pc_iface_name_valid(r->oifaces[i]))
			report(p, &r->loc, "backend 'pf': invalid interface name '%s'", r->oifaces[i]);
		else
			pf_iface(p, &r->loc, r->oifaces[i]);
	}
	if (r->log && r->log_prefix) {
		if (!pc_text_printable(r->log_prefix) || strpbrk(r->log_prefix, "\"\\$"))
			report(p, &r->loc,
			       "backend 'pf' cannot express log prefix \"%s\": it becomes the rule's label, which cannot hold control characters, '\"', '\\' or '$'",
			       r->log_prefix);
		else if (strlen(r->log_prefix) > PF_LABEL_MAX)
			report(p, &r->loc,
			       "backend 'pf': log prefix \"%s\" is %zu bytes, a pf label holds %d",
			       r->log_prefix, strlen(r->log_prefix), PF_LABEL_MAX);
	}
	if (r->limit.rate && !p->openbsd)
		report(p, &r->loc,
		       "backend 'pf' (freebsd dialect) cannot express rate limits (max-pkt-rate is OpenBSD's, FreeBSD has it from 15.0 only)");
	for (size_t i = 0; i < r->n_l4; i++) {
		const struct pc_l4 *l4 = &r->l4[i];

		if (l4->proto == PC_PROTO_SCTP && (l4->dports.n || r->sports.n) && p->openbsd)
			report(p, &r->loc,
			       "backend 'pf' (openbsd dialect) cannot express SCTP ports (OpenBSD pf matches ports of tcp and udp only; FreeBSD 14+ also sctp: --pf-dialect freebsd)");
		if (l4->proto == PC_PROTO_DCCP && (l4->dports.n || r->sports.n))
			report(p, &r->loc,
			       "backend 'pf' (%s dialect) cannot express DCCP ports", dialect(p));
	}
	/* received-on takes an interface, not its negation */
	if (dir == PC_DIR_FORWARD && r->iface_not)
		report(p, &r->loc,
		       "backend 'pf' cannot express 'on not' in a forward rule (received-on takes one interface, not its negation)");
}

static void run_checks(struct pf *p)
{
	struct pc_location loc = { .file = p->ir->policy_file };

	if (!pc_text_valid_name(p->ir->table))
		report(p, &loc, "backend 'pf': table name '%s' is not a valid anchor name",
		       p->ir->table);
	for (int d = 0; d < __PC_DIR_MAX; d++) {
		const struct pc_chain *c = &p->ir->chains[d];

		for (size_t i = 0; i < c->n; i++)
			if (pf_rule_written(p, (enum pc_direction)d, &c->rules[i]))
				check_rule(p, (enum pc_direction)d, &c->rules[i]);
	}
	if (!p->openbsd)
		pf_check_forward_tags(p);
}

static bool same_set(const struct pc_addr_set *a, const struct pc_addr_set *b)
{
	return a->n == b->n && memcmp(a->v, b->v, a->n * sizeof(*a->v)) == 0;
}

/*
 * pfctl's keywords (OpenBSD parse.y, and the FreeBSD additions): in
 * <NAME> a keyword is not a string, so a group named like one is written
 * inline instead of as a table.
 */
static const char *const pf_keywords[] = {
	"af-to", "all", "allow-opts", "altq", "anchor", "antispoof", "any",
	"bandwidth", "binat", "binat-to", "bitmask", "block", "block-policy",
	"borrow", "burst", "cbq", "code", "codelq", "control", "crop", "debug",
	"default", "delay", "divert-packet", "divert-reply", "divert-to",
	"dnpipe", "dnqueue", "drop", "drop-ovl", "dup-to", "ecn", "ether",
	"fairq", "fastroute", "file", "fingerprints", "flags", "floating",
	"flows", "flush", "for", "fragment", "from", "global", "group", "hfsc",
	"hostid", "icmp-type", "icmp6-type", "if-bound", "in", "include",
	"inet", "inet6", "keep", "keepcounters", "l3", "label", "least-states",
	"limit", "linkshare", "load", "log", "loginterface", "map-e-portset",
	"match", "matches", "max", "max-mss", "max-pkt-rate", "max-pkt-size",
	"max-src-conn", "max-src-conn-rate", "max-src-nodes",
	"max-src-states", "min", "min-ttl", "modulate", "nat", "nat-to", "no",
	"no-df", "no-route", "no-sync", "on", "once", "optimization", "os",
	"out", "overload", "parent", "pass", "pflow", "port", "prio",
	"priority", "priq", "probability", "proto", "qlimit", "quantum",
	"queue", "quick", "random", "random-id", "rdomain", "rdr", "rdr-to",
	"realtime", "reassemble", "received-on", "reply-to", "return",
	"return-icmp", "return-icmp6", "return-rst", "ridentifier",
	"round-robin", "route", "route-to", "rtable", "rule",
	"ruleset-optimization", "scrub", "set", "set-tos", "skip", "sloppy",
	"source-hash", "source-track", "state", "state-defaults",
	"state-policy", "static-port", "sticky-address", "syncookies",
	"synproxy", "table", "tag", "tagged", "tbrsize", "timeout", "to",
	"tos", "ttl", "upperlimit", "urpf-failed", "user", "weight",
};

static bool is_keyword(const char *s)
{
	for (size_t i = 0; i < PC_ARRAY_SIZE(pf_keywords); i++)
		if (strcmp(s, pf_keywords[i]) == 0)
			return true;
	return false;
}

static bool valid_table_name(const char *s)
{
	return strlen(s) <= PF_TABLE_NAME_MAX && pc_text_valid_name(s) && !is_keyword(s);
}

/*
 * Interface wildcards (issue 13). pf has no name prefixes, but interface
 * groups: `on GROUP` matches every interface in it, and OpenBSD and
 * FreeBSD put every interface into the group named after its driver
 * (wg0 in wg, vlan5 in vlan). A BSD interface name is always driver and
 * unit number, so a wildcard of letters (`wg*`) names exactly the driver
 * group; any other is written as the group -O ifgroup=WILDCARD:GROUP
 * names, which the admin keeps (ifconfig IF group GROUP).
 */

/*
 * A name ifconfig takes as a group (IFNAMSIZ, and no digit at the end,
 * which would read as a unit number) that pfctl does not read as a
 * keyword.
 */
static bool valid_group_name(const char *s)
{
	size_t n = strlen(s);

	return n && pc_iface_name_valid(s) && !strchr(s, '*') &&
	       !isdigit((unsigned char)s[n - 1]) && !is_keyword(s);
}

static void add_ifgroup(struct pf_ifgroup **v, size_t *n, size_t *cap,
			const char *wildcard, size_t wlen, const char *group,
			size_t glen, bool mapped)
{
	*v = xgrow(*v, cap, *n + 1, sizeof(**v));
	(*v)[*n].wildcard = xstrndup(wildcard, wlen);
	(*v)[*n].group = xstrndup(group, glen);
	(*v)[*n].mapped = mapped;
	(*n)++;
}

/* -O ifgroup=WILDCARD:GROUP[,WILDCARD:GROUP...], repeatable; a later one wins. */
static void parse_ifgroup_options(struct pf *p)
{
	for (size_t i = 0; i < p->opts->n_options; i++) {
		const char *item = p->opts->options[i].value;

		if (strcmp(p->opts->options[i].name, "ifgroup") != 0)
			continue;
		for (;;) {
			size_t len = strcspn(item, ","), wlen = strcspn(item, ":");
			char *wildcard, *group;

			wildcard = xstrndup(item, wlen < len ? wlen : len);
			group = xstrndup(item + (wlen < len ? wlen + 1 : len),
					 wlen < len ? len - wlen - 1 : 0);
			if (wlen >= len || !pc_iface_name_valid(wildcard) ||
			    wildcard[strlen(wildcard) - 1] != '*') {
				pc_diag_error(p->diag, NULL,
					      "backend 'pf': option ifgroup=%.*s is not WILDCARD:GROUP (an interface wildcard such as br-* and an interface group)",
					      (int)len, item);
				p->errors++;
			} else if (!valid_group_name(group)) {
				pc_diag_error(p->diag, NULL,
					      "backend 'pf': option ifgroup=%.*s: '%s' cannot be an interface group (1-15 letters, digits or ._-@, not ending in a digit, not a pf keyword)",
					      (int)len, item, group);
				p->errors++;
			} else {
				add_ifgroup(&p->maps, &p->n_maps, &p->cap_maps, wildcard,
					    strlen(wildcard), group, strlen(group), true);
			}
			free(wildcard);
			free(group);
			if (!item[len])
				break;
			item += len + 1;
		}
	}
}

const char *pf_iface(struct pf *p, const struct pc_location *loc, const char *name)
{
	size_t n = strlen(name);
	const struct pf_ifgroup *map = NULL;

	if (!n || name[n - 1] != '*')
		return name;
	for (size_t i = 0; i < p->n_used; i++)
		if (strcmp(p->used[i].wildcard, name) == 0)
			return p->used[i].group;
	for (size_t i = 0; i < p->n_maps; i++)
		if (strcmp(p->maps[i].wildcard, name) == 0)
			map = &p->maps[i];
	if (map) {
		add_ifgroup(&p->used, &p->n_used, &p->cap_used, name, n,
			    map->group, strlen(map->group), true);
		return p->used[p->n_used - 1].group;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		if (!isalpha((unsigned char)name[i])) {
			report(p, loc,
			       "backend 'pf': interface wildcard '%s' needs an interface group: use -O ifgroup=%s:GROUP",
			       name, name);
			return NULL;
		}
	}
	add_ifgroup(&p->used, &p->n_used, &p->cap_used, name, n, name, n - 1, false);
	/* egress: OpenBSD's group of the interfaces with a default route */
	if (!valid_group_name(p->used[p->n_used - 1].group) ||
	    strcmp(p->used[p->n_used - 1].group, "egress") == 0) {
		report(p, loc,
		       "backend 'pf': interface wildcard '%s' needs an interface group: '%.*s' is a pf keyword or a group pf fills itself; use -O ifgroup=%s:GROUP",
		       name, (int)(n - 1), name, name);
		p->n_used--;
		free(p->used[p->n_used].wildcard);
		free(p->used[p->n_used].group);
		return NULL;
	}
	return p->used[p->n_used - 1].group;
}

/*
 * The header lines saying what the main ruleset (pf.conf) needs for this
 * anchor. FreeBSD evaluates the nat and rdr rules of an anchor only
 * through a nat-anchor / rdr-anchor of that name, and its pfctl wants
 * translation rules before filter rules.
 */
static void put_main_ruleset(const struct pf *p, struct pc_buf *b)
{
	const char *t = p->ir->table;
	bool nat = false, rdr = false;

	for (size_t i = 0; i < p->ir->n_nat; i++) {
		if (p->ir->nat[i].kind == PC_NAT_DNAT)
			rdr = true;
		else
			nat = true;
	}
	pc_buf_puts(b, "# In pf.conf (the main ruleset)");
	if (!p->openbsd && (nat || rdr)) {
		pc_buf_puts(b, ", among the translation rules (before any\n"
			    "# filter rule):\n");
		if (nat)
			pc_buf_printf(b, "#   nat-anchor \"%s\"\n", t);
		if (rdr)
			pc_buf_printf(b, "#   rdr-anchor \"%s\"\n", t);
		pc_buf_puts(b, "# and among the filter rules:\n");
	} else {
		pc_buf_puts(b, ", among the filter rules:\n");
	}
	pc_buf_printf(b, "#   anchor \"%s\"\n"
		      "#   load anchor \"%s\" from \"/etc/pf.anchors/%s\"\n", t, t, t);
}

/* The header lines naming each interface group the anchor relies on. */
static void put_ifgroups(const struct pf *p, struct pc_buf *b)
{
	if (!p->n_used)
		return;
	pc_buf_puts(b, "# Interface groups (`on GROUP` matches every interface in the group):\n");
	for (size_t i = 0; i < p->n_used; i++) {
		const struct pf_ifgroup *g = &p->used[i];

		if (g->mapped)
			pc_buf_printf(b, "#   %s for \"%s\" (-O ifgroup): add each such interface with\n"
				      "#     ifconfig IF group %s\n", g->group, g->wildcard, g->group);
		else
			pc_buf_printf(b, "#   %s for \"%s\": the group of the driver %s (every %sN is in it);\n"
				      "#     if %s is no driver on this system, add each interface with\n"
				      "#     ifconfig IF group %s\n", g->group, g->wildcard, g->group,
				      g->group, g->group, g->group);
	}
}

static void table_add(struct pf *p, const struct pc_addr_set *set, const char *name,
		      const struct pc_rule *neg, int which)
{
	struct pf_table *t;

	p->tables = xgrow(p->tables, &p->cap_tables, p->n_tables + 1, sizeof(*p->tables));
	t = &p->tables[p->n_tables++];
	t->set = set;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->neg = neg;
	t->which = which;
}

/* Writes the tables to @out, a piece at a time (a group can hold millions). */
static void put_tables(const struct pf *p, FILE *out)
{
	struct pc_buf b;

	pc_buf_init(&b);
	for (size_t k = 0; k < p->n_tables; k++) {
		const struct pf_table *t = &p->tables[k];
		const struct pc_rule *r = t->neg;

		pc_buf_printf(&b, "table <%s> %s{", t->name, r ? "const " : "");
		for (size_t i = 0; i < t->set->n; i++) {
			pc_buf_puts(&b, i ? ", " : " ");
			pc_text_addr(&b, &t->set->v[i], true);
			if (b.len >= 65536) {
				fwrite(b.data, 1, b.len, out);
				b.len = 0;
			}
		}
		if (r)
			pc_buf_printf(&b, " }   # %s:%u %s not\n", r->loc.file ? r->loc.file : "",
				      r->loc.line, t->which ? "to" : "from");
		else
			pc_buf_puts(&b, " }\n");
	}
	fwrite(b.data, 1, b.len, out);
	pc_buf_finish(&b);
}

/* The table a named set is written as, or NULL to write it inline. */
static const char *table_for(struct pf *p, const struct pc_addr_set *set)
{
	struct named_set *e;

	if (!set->name || set->n < 2)
		return NULL;
	/*
	 * A name is entered once (the loop below returns on it), so an entry
	 * holding this very name string is the one of its name: the rules of
	 * a group share the string, and pointers are cheaper to compare than
	 * the names of all the groups before it (issue 15: 2 % of generate
	 * went to strcmp). The second loop finds a copy of the name.
	 */
	for (size_t i = 0; i < p->n_named; i++) {
		e = &p->named[i];
		if (e->set->name == set->name)
			return e->table && same_set(e->set, set) ? set->name : NULL;
	}
	for (size_t i = 0; i < p->n_named; i++) {
		e = &p->named[i];
		if (strcmp(e->set->name, set->name) != 0)
			continue;
		/* a name seen with other members (a family subset): inline */
		return e->table && same_set(e->set, set) ? set->name : NULL;
	}
	p->named = xgrow(p->named, &p->cap_named, p->n_named + 1, sizeof(*p->named));
	e = &p->named[p->n_named++];
	e->set = set;
	e->table = valid_table_name(set->name);
	if (!e->table)
		return NULL;
	table_add(p, set, set->name, NULL, 0);
	return set->name;
}

/* Whether @set (empty: any) has an address of the families @fam. */
bool pf_set_in_families(const struct pc_addr_set *set, unsigned fam)
{
	if (set->n == 0)
		return true;
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].family & fam)
			return true;
	return false;
}

/*
 * The hosts of a from/to: "any", a table, one address or a list; an
 * inline list holds only the addresses of @fam (the rule's `inet` or
 * `inet6`), a table all of them (pf skips the other family's).
 * Returns the number of pf rules pfctl makes of it (a list is expanded
 * into one rule per entry).
 */
size_t pf_put_hosts(struct pf *p, struct pc_buf *b, const struct pc_addr_set *set,
		    unsigned fam)
{
	const char *table;
	size_t n = 0, last = 0;

	if (pc_addr_set_is_dynamic(set)) {
		pc_buf_printf(b, "<%s>", set->name);   /* dynsets_declare() */
		return 1;
	}
	if (set->n == 0) {
		pc_buf_puts(b, "any");
		return 1;
	}
	table = table_for(p, set);
	if (table) {
		pc_buf_putc(b, '<');
		pc_buf_puts(b, table);
		pc_buf_putc(b, '>');
		return 1;
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].family & fam) {
			n++;
			last = i;
		}
	}
	if (n == 1) {
		pc_text_addr(b, &set->v[last], true);
		return 1;
	}
	pc_buf_puts(b, "{");
	for (size_t i = 0, k = 0; i < set->n; i++) {
		if (!(set->v[i].family & fam))
			continue;
		pc_buf_puts(b, k++ ? ", " : " ");
		pc_text_addr(b, &set->v[i], true);
	}
	pc_buf_puts(b, " }");
	return n;
}

/*
 * matches (issue 14): the hosts of `from not` / `to not` (@which: 0
 * source, 1 destination). pf expands a negated inline list { a b } into
 * one rule per entry, each `! a`, which together match everything: a
 * group is a const table instead (`! <name>`), one address is `! a`, and
 * a list with no address of @fam (never empty for a negation) is
 * everything of that family: `any`.
 */
static void put_hosts_not(struct pf *p, struct pc_buf *b, const struct pc_rule *r,
			  const struct pc_addr_set *set, unsigned fam, int which)
{
	size_t n = 0, last = 0;

	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].family & fam) {
			n++;
			last = i;
		}
	if (n == 0) {
		pc_buf_puts(b, "any");
		return;
	}
	if (n == 1) {
		pc_buf_puts(b, "! ");
		pc_text_addr(b, &set->v[last], true);
		return;
	}
	if (p->neg_rule != r) {
		p->neg_rule = r;
		p->neg_name[0][0] = p->neg_name[1][0] = 0;
	}
	if (!p->neg_name[which][0]) {
		/* '_' cannot start a policy's group name: no clash with them */
		snprintf(p->neg_name[which], sizeof(p->neg_name[which]), "_not%u", ++p->n_neg);
		table_add(p, set, p->neg_name[which], r, which);
	}
	pc_buf_printf(b, "! <%s>", p->neg_name[which]);
}

void pf_put_ports(struct pc_buf *b, const struct pc_port_set *ports)
{
	pc_buf_puts(b, " port ");
	if (ports->n > 1)
		pc_buf_puts(b, "{ ");
	for (size_t i = 0; i < ports->n; i++) {
		if (i)
			pc_buf_puts(b, ", ");
		pc_text_uint(b, ports->v[i].lo);
		if (ports->v[i].lo != ports->v[i].hi) {
			pc_buf_putc(b, ':');
			pc_text_uint(b, ports->v[i].hi);
		}
	}
	if (ports->n > 1)
		pc_buf_puts(b, " }");
}

void pf_put_proto(struct pc_buf *b, unsigned proto)
{
	const char *name = pc_proto_name(proto);

	if (proto == PC_PROTO_ICMPV6)
		name = "icmp6";
	if (name)
		pc_buf_puts(b, name);
	else
		pc_text_uint(b, proto);
}

static bool same_ports(const struct pc_port_set *a, const struct pc_port_set *b)
{
	return a->n == b->n && memcmp(a->v, b->v, a->n * sizeof(*a->v)) == 0;
}

void pf_put_comment_line_to(struct pc_buf *b, enum pc_direction dir,
			    const struct pc_rule *r)
{
	pc_buf_puts(b, "# ");
	pc_text_rule_origin(b, dir, r);
	/* quoted: a comment line must not end with '\' (line continuation) */
	if (r->comment) {
		pc_buf_puts(b, " \"");
		pc_buf_puts(b, r->comment);
		pc_buf_putc(b, '"');
	}
	pc_buf_putc(b, '\n');
}

static void put_comment_line(struct pf *p, enum pc_direction dir,
			     const struct pc_rule *r)
{
	pf_put_comment_line_to(&p->rules, dir, r);
}

/*
 * One pf rule for the alternatives @l4[0..n) (several only when they
 * share the port set), or for any protocol when @n is 0. Returns the
 * number of rules pfctl expands it into: one per entry of each list of
 * protocols, addresses, ports and ICMP types.
 */
/*
 * counters (issue 14): pf counts every rule anyway; `pfctl -s labels`
 * reports the counts by label, so the label names the policy line (the
 * file's base name: a label holds 63 bytes), then the log prefix if any.
 */
static void put_counter_label(struct pf *p, struct pc_buf *b, const struct pc_rule *r)
{
	const char *file = r->loc.file ? r->loc.file : "", *slash = strrchr(file, '/');
	char label[256];

	if (slash)
		file = slash + 1;
	if (r->loc.line)
		snprintf(label, sizeof(label), "%s:%u%s%s", file, r->loc.line,
			 r->log && r->log_prefix ? " " : "",
			 r->log && r->log_prefix ? r->log_prefix : "");
	else
		snprintf(label, sizeof(label), "%s %s", file,
			 pc_origin_name(r->origin) ? pc_origin_name(r->origin) : "policy");
	if (strlen(label) > 63 || strpbrk(label, "\"\\$")) {
		report(p, &r->loc, "backend 'pf' cannot express option counters here: the label \"%s\" is longer than 63 bytes or holds '\"', '\\' or '$'",
		       label);
		return;
	}
	pc_buf_printf(b, " label \"%s\"", label);
}

static size_t put_rule(struct pf *p, enum pc_direction dir, const struct pc_rule *r,
		     const struct pc_l4 *const *l4, size_t n, unsigned families)
{
	static const unsigned seconds[__PC_LIMIT_MAX] = { 1, 60, 3600, 86400 };
	struct pc_buf *b = &p->rules;
	bool pass = r->verdict == PC_VERDICT_ALLOW;
	size_t expanded = n > 1 ? n : 1;

	switch (r->verdict) {
	case PC_VERDICT_ALLOW:
		pc_buf_puts(b, "pass");
		break;
	case PC_VERDICT_DENY:
		pc_buf_puts(b, "block drop");
		break;
	default:
		pc_buf_puts(b, "block return");
		break;
	}
	pc_buf_puts(b, dir == PC_DIR_IN ? " in" : " out");
	if (r->log)
		pc_buf_puts(b, " log");
	pc_buf_puts(b, " quick");
	if (dir == PC_DIR_FORWARD) {
		/* decided where the packet leaves: `on` is the leaving interface */
		if (r->n_oifaces > 1) {
			pc_buf_puts(b, " on {");
			for (size_t i = 0; i < r->n_oifaces; i++) {
				pc_buf_putc(b, ' ');
				pc_buf_puts(b, pf_iface(p, &r->loc, r->oifaces[i]));
			}
			pc_buf_puts(b, " }");
			expanded *= r->n_oifaces;
		} else if (r->n_oifaces) {
			pc_buf_puts(b, " on ");
			pc_buf_puts(b, pf_iface(p, &r->loc, r->oifaces[0]));
		}
	} else if (r->n_ifaces > 1) {
		/* pfctl expands { a b } into one rule per interface */
		pc_buf_puts(b, " on {");
		for (size_t i = 0; i < r->n_ifaces; i++) {
			pc_buf_putc(b, ' ');
			pc_buf_puts(b, pf_iface(p, &r->loc, r->ifaces[i]));
		}
		pc_buf_puts(b, " }");
	} else if (r->iface) {
		pc_buf_puts(b, r->iface_not ? " on ! " : " on ");
		pc_buf_puts(b, pf_iface(p, &r->loc, r->iface));
	}
	if (families == PC_FAM_IPV4)
		pc_buf_puts(b, " inet");
	else if (families == PC_FAM_IPV6)
		pc_buf_puts(b, " inet6");
	if (n == 1) {
		pc_buf_puts(b, " proto ");
		pf_put_proto(b, l4[0]->proto);
	} else if (n > 1) {
		pc_buf_puts(b, " proto {");
		for (size_t i = 0; i < n; i++) {
			pc_buf_putc(b, ' ');
			pf_put_proto(b, l4[i]->proto);
		}
		pc_buf_puts(b, " }");
	}
	if (!r->saddr.n && !r->daddr.n && !(n && l4[0]->dports.n) && !r->sports.n &&
	    !pc_addr_set_is_dynamic(&r->saddr) && !pc_addr_set_is_dynamic(&r->daddr)) {
		pc_buf_puts(b, " all");
	} else {
		pc_buf_puts(b, " from ");
		if (r->saddr_not)
			put_hosts_not(p, b, r, &r->saddr, families, 0);
		else
			expanded *= pf_put_hosts(p, b, &r->saddr, families);
		if (r->sports.n) {
			/* matches (issue 14): from ... port */
			pf_put_ports(b, &r->sports);
			expanded *= r->sports.n;
		}
		pc_buf_puts(b, " to ");
		if (r->daddr_not)
			put_hosts_not(p, b, r, &r->daddr, families, 1);
		else
			expanded *= pf_put_hosts(p, b, &r->daddr, families);
		if (n && pc_proto_has_ports(l4[0]->proto) && l4[0]->dports.n) {
			pf_put_ports(b, &l4[0]->dports);
			expanded *= l4[0]->dports.n;
		}
	}
	if (n == 1 && l4[0]->n_types &&
	    (l4[0]->proto == PC_PROTO_ICMP || l4[0]->proto == PC_PROTO_ICMPV6)) {
		pc_buf_puts(b, l4[0]->proto == PC_PROTO_ICMP ? " icmp-type " : " icmp6-type ");
		expanded *= l4[0]->n_types;
		if (l4[0]->n_types > 1)
			pc_buf_puts(b, "{ ");
		for (size_t i = 0; i < l4[0]->n_types; i++) {
			if (i)
				pc_buf_puts(b, ", ");
			pc_text_uint(b, l4[0]->types[i]);
		}
		if (l4[0]->n_types > 1)
			pc_buf_puts(b, " }");
	}
	if (dir == PC_DIR_FORWARD) {
		/* one interface: emit_forward() writes a rule per listed one */
		if (r->iface && p->openbsd)
			pc_buf_printf(b, " received-on %s", pf_iface(p, &r->loc, r->iface));
		pc_buf_printf(b, " tagged \"%s\"", p->cur_tag);
	}
	if (p->ir->options & PC_OPT_COUNTERS)
		put_counter_label(p, b, r);
	else if (r->log && r->log_prefix)
		pc_buf_printf(b, " label \"%s\"", r->log_prefix);
	if (r->limit.rate)
		pc_buf_printf(b, " max-pkt-rate %u/%u", r->limit.rate,
			      seconds[r->limit.unit]);
	if (pass)
		pc_buf_puts(b, p->ir->options & PC_OPT_STATELESS ? " no state" : " keep state");
	pc_buf_putc(b, '\n');
	return expanded;
}

/* The address families a rule is written for: `inet`/`inet6` when one. */
static unsigned rule_families(const struct pc_rule *r)
{
	return r->families & PC_FAM_ALL;
}

void pf_emit_rule(struct pf *p, enum pc_direction dir, const struct pc_rule *r)
{
	const struct pc_l4 **alts;
	bool *done;
	unsigned fam = rule_families(r);
	size_t expanded = 0;

	put_comment_line(p, dir, r);
	if (!r->n_l4) {
		put_rule(p, dir, r, NULL, 0, fam);
		return;
	}
	alts = xcalloc(r->n_l4, sizeof(*alts));
	done = xcalloc(r->n_l4, sizeof(*done));
	for (size_t i = 0; i < r->n_l4; i++) {
		const struct pc_l4 *l4 = &r->l4[i];
		size_t n = 0;
		unsigned f = fam;

		if (done[i] || !l4_in_families(fam, l4))
			continue;
		alts[n++] = l4;
		/* protocols with the same ports share one rule: proto { tcp udp } */
		if (pc_proto_has_ports(l4->proto)) {
			for (size_t j = i + 1; j < r->n_l4; j++) {
				if (!done[j] && pc_proto_has_ports(r->l4[j].proto) &&
				    same_ports(&l4->dports, &r->l4[j].dports)) {
					alts[n++] = &r->l4[j];
					done[j] = true;
				}
			}
		}
		if (l4->proto == PC_PROTO_ICMP)
			f = PC_FAM_IPV4;
		else if (l4->proto == PC_PROTO_ICMPV6)
			f = PC_FAM_IPV6;
		/* ICMP of a rule whose addresses are all IPv6 never matches */
		if (pf_set_in_families(&r->saddr, f) && pf_set_in_families(&r->daddr, f))
			expanded += put_rule(p, dir, r, alts, n, f);
	}
	free(alts);
	free(done);
	if (r->n_ifaces > 1)
		expanded *= r->n_ifaces;
	/*
	 * max-pkt-rate counts per pf rule: several rules would each let the
	 * whole rate through, where the policy means one rate for the rule.
	 */
	if (r->limit.rate && expanded > 1)
		report(p, &r->loc,
		       "backend 'pf' cannot express one rate limit for this rule: pfctl expands it into %zu rules (one per listed interface, protocol, address, port or ICMP type) and max-pkt-rate counts per rule",
		       expanded);
}

/*
 * The destinations of the packets that are for this host, the filter of
 * the inline anchor of the in rules: the addresses of its interfaces, kept
 * up to date by pf (`(self)`), the limited broadcast and the multicast
 * addresses (neighbour discovery, router advertisements, DHCP). A
 * directed broadcast (192.0.2.255) is not among them: pf cannot name it
 * for all interfaces at once, so it meets the forward default.
 */
#define PF_FOR_THIS_HOST "{ (self), 255.255.255.255, 224.0.0.0/4, ff00::/8 }"

/*
 * The default of direction @as (a `default ... reject` is a final rule of
 * its chain instead), written as a quick rule of direction @dir matching
 * every packet.
 */
void pf_put_default(struct pf *p, enum pc_direction dir, enum pc_direction as)
{
	const struct pc_chain *c = &p->ir->chains[as];
	struct pc_rule def = {
		.origin = PC_ORIGIN_POLICY,
		.loc = c->policy_loc,
		.verdict = c->policy,
		.families = PC_FAM_ALL,
	};

	pc_buf_puts(&p->rules, "# ");
	pc_text_location(&p->rules, &c->policy_loc);
	pc_buf_printf(&p->rules, " default %s %s\n", pc_direction_name(as),
		      pc_verdict_name(def.verdict));
	put_rule(p, dir, &def, NULL, 0, PC_FAM_ALL);
}

void pf_flush(struct pf *p, bool all)
{
	const char *s = p->rules.data, *end = s + p->rules.len;

	if (!all && p->rules.len < 65536)
		return;
	/* the buffer starts at a line: flushes come between rules */
	while (p->out && s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);

		if (p->indent && *s != '\n')
			fputc('\t', p->out);
		fwrite(s, 1, n, p->out);
		s += n;
	}
	p->rules.len = 0;
	pc_buf_add(&p->rules, "", 0);
}

/*
 * pf sees a routed packet as an in packet on the interface it arrives on
 * and an out packet on the one it leaves by. The policy's in rules are
 * for packets to this host (the nft input hook, iptables' INPUT), so they
 * sit in an inline anchor whose filter is the destination: inside it, a
 * rule's own `to` list still applies, and pf intersects the two (one rule
 * cannot hold two address lists). Every packet that enters the anchor
 * ends in it: the last rule is the in default, `quick` and matching all.
 * What comes in for another host is routed through: it meets the
 * built-in forward rules (essential ICMP) and the forward default (deny
 * or reject; pf cannot express forward rules, nor a forward allow). What
 * those pass is tagged, and the tag passes it out again before the out
 * rules, which thus only ever decide packets of this host.
 */
static void emit_chain(struct pf *p, enum pc_direction dir)
{
	const struct pc_chain *c = &p->ir->chains[dir];

	pc_buf_printf(&p->rules, "\n# %s: default %s\n", pc_direction_name(dir),
		      pc_verdict_name(c->policy));
	if (dir == PC_DIR_IN) {
		pc_buf_puts(&p->rules, "# packets for this host\n"
			    "anchor \"in\" in to " PF_FOR_THIS_HOST " {\n");
		/* what follows, up to the closing brace, is indented */
		pf_flush(p, true);
		p->indent = true;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (pf_rule_written(p, dir, &c->rules[i]))
			pf_emit_rule(p, dir, &c->rules[i]);
		pf_flush(p, false);
	}
	if (!pc_text_chain_closed(c))
		pf_put_default(p, dir, dir);
	if (dir != PC_DIR_IN)
		return;
	pf_flush(p, true);
	p->indent = false;
	pc_buf_puts(&p->rules,
		    "}\n# packets for other hosts, routed through this one: tagged here,\n"
		    "# decided by the forward rules where they leave\n");
	if (!p->openbsd)
		pf_emit_forward_tags(p);
	pc_buf_printf(&p->rules, "pass in quick tag \"%s\" %s\n", p->forward_tag,
		      p->ir->options & PC_OPT_STATELESS ? "no state" : "keep state");
}


static void pf_init(struct pf *p, const struct pc_ir *ir,
		    const struct pc_emit_options *opts, struct pc_diag *diag)
{
	memset(p, 0, sizeof(*p));
	p->ir = ir;
	p->opts = opts;
	p->diag = diag;
	p->openbsd = !pc_emit_option(opts, "pf-dialect") ||
		     strcmp(pc_emit_option(opts, "pf-dialect"), "freebsd") != 0;
	pc_buf_init(&p->rules);
	p->forward_tag = xasprintf("%s-forward", ir->table ? ir->table : "");
	p->cur_tag = p->forward_tag;
	parse_ifgroup_options(p);
}

static void pf_finish(struct pf *p)
{
	free(p->tables);
	pc_buf_finish(&p->rules);
	free(p->named);
	free(p->forward_tag);
	free(p->fwd_in);
	for (size_t i = 0; i < p->n_maps; i++) {
		free(p->maps[i].wildcard);
		free(p->maps[i].group);
	}
	for (size_t i = 0; i < p->n_used; i++) {
		free(p->used[i].wildcard);
		free(p->used[i].group);
	}
	free(p->maps);
	free(p->used);
}

/*
 * Every rule, as pf_emit() would write it, to p->out (NULL: dropped as
 * made, for what only writing the rules finds: a rate limit over several
 * pf rules, the tables and interface groups the header names).
 */
static void emit_rules(struct pf *p)
{
	emit_chain(p, PC_DIR_IN);
	pf_emit_forward_chain(p);
	emit_chain(p, PC_DIR_OUT);
	pf_flush(p, true);
}

static int pf_check(const struct pc_ir *ir, const struct pc_emit_options *opts,
		    struct pc_diag *diag)
{
	struct pf p;
	int ret;

	pf_init(&p, ir, opts, diag);
	run_checks(&p);
	if (!p.errors) {
		struct pc_buf nat;

		pc_buf_init(&nat);
		pf_emit_nat(&p, &nat);
		pc_buf_finish(&nat);
		emit_rules(&p);
	}
	ret = p.errors ? -1 : 0;
	pf_finish(&p);
	return ret;
}

/*
 * sets (issue 14): a dynamic set is a pf table that `persist`s empty and
 * that pfctl -t NAME -T add fills; reloading the anchor keeps what it
 * holds. pf tables have no default timeout: expire from cron instead.
 */
static void dynsets_declare(struct pf *p, struct pc_buf *body)
{
	for (size_t i = 0; i < p->ir->n_dynsets; i++) {
		const struct pc_dynset *d = &p->ir->dynsets[i];

		if (!valid_table_name(d->name)) {
			report(p, &d->loc, "backend 'pf' cannot name a table '%s'", d->name);
			continue;
		}
		pc_buf_printf(body, "table <%s> persist    # dynamic: pfctl -a ANCHOR -t %s -T add ADDR",
			      d->name, d->name);
		if (d->timeout)
			pc_buf_printf(body, "; expire with pfctl -a ANCHOR -t %s -T expire %u (cron)",
				      d->name, (unsigned)d->timeout);
		pc_buf_putc(body, '\n');
	}
}

/* What {{body}} holds before the rules: header, tables (of @first), NAT. */
struct pf_body {
	struct pf *p, *first;
	const struct pc_buf *head;
	const struct pc_buf *nat;
};

static bool write_body(void *ctx, FILE *out)
{
	struct pf_body *pb = ctx;

	fwrite(pb->head->data, 1, pb->head->len, out);
	if (pb->first->n_tables) {
		fputc('\n', out);
		put_tables(pb->first, out);
	}
	fwrite(pb->nat->data, 1, pb->nat->len, out);
	pb->p->out = out;
	emit_rules(pb->p);
	pb->p->out = NULL;
	/* the out rules end with their default, a line */
	return true;
}

/*
 * The header names the tables and interface groups the rules use, which
 * only writing the rules finds: a first pass writes them nowhere and
 * makes the header; the second, from a fresh state, writes them to @out
 * as they are made (never the whole ruleset in memory).
 */
static int pf_emit(const struct pc_ir *ir, const struct pc_emit_options *opts,
		   FILE *out, struct pc_diag *diag)
{
	struct pf first, p;
	struct pc_buf body, nat;
	struct pf_body pb = { &p, &first, &body, &nat };
	const char *tmpl;
	int ret = -1;

	pf_init(&first, ir, opts, diag);
	pc_buf_init(&body);
	pc_buf_init(&nat);
	run_checks(&first);
	if (first.errors)
		goto out;
	emit_rules(&first);
	if (first.errors)
		goto out;
	/* written before the header, which lists the groups it uses */
	pf_emit_nat(&first, &nat);
	if (first.errors)
		goto out;
	pc_buf_printf(&body, "# pf dialect: %s\n", dialect(&first));
	put_main_ruleset(&first, &body);
	put_ifgroups(&first, &body);
	if (ir->n_dynsets) {
		pc_buf_puts(&body, "\n");
		dynsets_declare(&first, &body);
		if (first.errors)
			goto out;
	}
	tmpl = opts->template_text ? opts->template_text : pc_template_builtin("pf");
	if (!tmpl)
		PC_BUG("no built-in template for pf");
	/* the second pass: the same rules from the same state, and no errors */
	pf_init(&p, ir, opts, diag);
	run_checks(&p);
	if (p.errors)
		PC_BUG("pf: the second pass found %d errors the first did not", p.errors);
	ret = pc_template_render_with(tmpl, ir, opts, "pf", write_body, &pb, out, diag);
	if (p.errors)
		PC_BUG("pf: the second pass found %d errors the first did not", p.errors);
	pf_finish(&p);
out:
	pc_buf_finish(&body);
	pc_buf_finish(&nat);
	pf_finish(&first);
	return ret;
}

static const struct pc_backend_option pf_options[] = {
	{ "pf-dialect", "openbsd|freebsd", "the pf of OpenBSD (default) or of FreeBSD" },
	{ "ifgroup", NULL,
	  "WILDCARD:GROUP[,...]: write interface wildcard WILDCARD (br-*) as the interface group GROUP" },
	{ NULL, NULL, NULL },
};

const struct pc_backend pc_backend_pf = {
	.abi = PC_BACKEND_ABI,
	.size = sizeof(struct pc_backend),
	.name = "pf",
	.summary = "pf.conf anchor body, OpenBSD or FreeBSD dialect",
	.caps = PC_CAP_IPV4 | PC_CAP_IPV6 | PC_CAP_DIR_IN | PC_CAP_DIR_OUT |
		PC_CAP_IFACE | PC_CAP_LOG | PC_CAP_LOG_PREFIX | PC_CAP_LIMIT |
		PC_CAP_REJECT | PC_CAP_CONNTRACK | PC_CAP_ICMP_TYPE |
		PC_CAP_ICMPV6_TYPE | PC_CAP_TCP_UDP | PC_CAP_SCTP |
		PC_CAP_PROTO | PC_CAP_COMMENT | PC_CAP_IFACE_LIST |
		PC_CAP_DIR_FORWARD | PC_CAP_OIFACE | PC_CAP_NAT | PC_CAP_DYNSET |
		PC_CAP_SPORT | PC_CAP_NEGATION,
	.families = PC_FAM_ALL,
	.check = pf_check,
	.emit = pf_emit,
	.options = pf_options,
};
