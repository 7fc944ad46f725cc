/* SPDX-License-Identifier: MIT */
/* IR names, destruction and the readable dump (`check --dump`). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <portcullis/ir.h>

#include "ir/ir_owned.h"

#include "ir/names.h"
#include "policy/policy.h"
#include "common/util.h"

const char *pc_direction_name(enum pc_direction dir)
{
	static const char *const n[] = { "in", "out", "forward" };

	return dir < __PC_DIR_MAX ? n[dir] : "?";
}

const char *pc_verdict_name(enum pc_verdict v)
{
	static const char *const n[] = { "allow", "deny", "reject" };

	return v < __PC_VERDICT_MAX ? n[v] : "?";
}

const char *pc_limit_unit_name(enum pc_limit_unit u)
{
	static const char *const n[] = { "second", "minute", "hour", "day" };

	return u < __PC_LIMIT_MAX ? n[u] : "?";
}

const char *pc_nat_kind_name(enum pc_nat_kind kind)
{
	static const char *const names[] = { "masquerade", "snat", "dnat" };

	return (unsigned)kind < __PC_NAT_MAX ? names[kind] : "?";
}

const char *pc_origin_name(enum pc_rule_origin origin)
{
	static const char *const n[] = {
		[PC_ORIGIN_POLICY] = NULL,
		[PC_ORIGIN_CONNTRACK] = "connection tracking",
		[PC_ORIGIN_LOOPBACK] = "loopback",
		[PC_ORIGIN_ESSENTIAL_ICMP] = "essential ICMP",
		[PC_ORIGIN_DEFAULT] = "default",
	};

	return origin < __PC_ORIGIN_MAX ? n[origin] : NULL;
}

/* An IR with the arena that owns its memory, out of the plugins' sight. */
struct ir_owned {
	struct pc_ir ir;	/* first: a struct pc_ir * is a struct ir_owned * */
	struct pc_arena *arena;
};

struct pc_ir *pc_ir_create(struct pc_arena *arena)
{
	struct ir_owned *o = xzalloc(sizeof(*o));

	o->arena = arena;
	/* the sizes a plugin steps by (backend.h, the compatibility promise) */
	o->ir.size = sizeof(struct pc_ir);
	o->ir.rule_size = sizeof(struct pc_rule);
	o->ir.l4_size = sizeof(struct pc_l4);
	o->ir.map_elem_size = sizeof(struct pc_map_elem);
	return &o->ir;
}

struct pc_arena *pc_ir_arena(const struct pc_ir *ir)
{
	return ((const struct ir_owned *)ir)->arena;
}

/*
 * The IRs whose arena is spooled, by address: a backend cannot tell an IR
 * of pc_ir_create() from one a caller built itself (the unit tests, a
 * plugin's), so it asks here. generate makes one such view at a time.
 */
static const struct pc_ir *spooled[4];

void pc_ir_set_spooled(const struct pc_ir *ir)
{
	for (size_t i = 0; i < PC_ARRAY_SIZE(spooled); i++)
		if (!spooled[i]) {
			spooled[i] = ir;
			return;
		}
	/* none free: the view stays in its arena, only read as it is */
}

struct pc_arena *pc_ir_spool(const struct pc_ir *ir)
{
	for (size_t i = 0; ir && i < PC_ARRAY_SIZE(spooled); i++)
		if (spooled[i] == ir)
			return pc_ir_arena(ir);
	return NULL;
}

void pc_ir_destroy(struct pc_ir *ir)
{
	struct ir_owned *o = (struct ir_owned *)ir;

	if (!o)
		return;
	for (size_t i = 0; i < PC_ARRAY_SIZE(spooled); i++)
		if (spooled[i] == ir)
			spooled[i] = NULL;
	pc_arena_destroy(o->arena);
	free(o);
}

static void dump_ifaces(FILE *out, const char *what, size_t n,
			const char *const *v)
{
	fprintf(out, " %s ", what);
	if (n == 1) {
		fputs(v[0], out);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "{ ", v[i]);
	fputs(" }", out);
}

static void dump_addrs(FILE *out, const char *what, const struct pc_addr_set *s)
{
	char buf[INET6_ADDRSTRLEN];

	if (pc_addr_set_is_dynamic(s)) {
		fprintf(out, " %s $%s (dynamic)", what, s->name);
		return;
	}
	if (s->n == 0)
		return;
	fprintf(out, " %s", what);
	if (s->name)
		fprintf(out, " $%s", s->name);
	fputs(" {", out);
	for (size_t i = 0; i < s->n; i++) {
		pc_addr_ntop(s->v[i].a, s->v[i].family == PC_FAM_IPV6, buf);
		fprintf(out, "%s %s", i ? "," : "", buf);
		if (s->v[i].plen != (s->v[i].family == PC_FAM_IPV4 ? 32 : 128))
			fprintf(out, "/%u", s->v[i].plen);
	}
	fputs(" }", out);
}

static void dump_l4(FILE *out, const struct pc_l4 *l)
{
	const char *name = pc_proto_name(l->proto);

	if (name)
		fprintf(out, " %s", name);
	else
		fprintf(out, " proto %u", l->proto);
	if (l->dports.n) {
		fputs(l->dports.n > 1 ? " {" : "", out);
		for (size_t i = 0; i < l->dports.n; i++) {
			const struct pc_port_range *r = &l->dports.v[i];

			fprintf(out, "%s%u", i ? ", " : " ", r->lo);
			if (r->hi != r->lo)
				fprintf(out, "-%u", r->hi);
		}
		fputs(l->dports.n > 1 ? " }" : "", out);
	} else if (pc_proto_has_ports(l->proto)) {
		fputs(" any port", out);
	}
	if (l->n_types) {
		bool v6 = l->proto == PC_PROTO_ICMPV6;

		fputs(l->n_types > 1 ? " {" : "", out);
		for (size_t i = 0; i < l->n_types; i++) {
			const char *t = pc_icmp_type_name(l->types[i], v6);

			if (t)
				fprintf(out, "%s%s", i ? ", " : " ", t);
			else
				fprintf(out, "%s%u", i ? ", " : " ", l->types[i]);
		}
		fputs(l->n_types > 1 ? " }" : "", out);
	}
}

static const char *fam_name(unsigned f)
{
	return f == PC_FAM_IPV4 ? "ip4" : f == PC_FAM_IPV6 ? "ip6" : "ip4+ip6";
}

/* NAT (routers): each statement, its match and its translation. */
static void dump_nat(FILE *out, const struct pc_ir *ir)
{
	if (!ir->n_nat)
		return;
	fputs("\nnat: translations only, the filter decides\n", out);
	for (size_t i = 0; i < ir->n_nat; i++) {
		const struct pc_nat_rule *n = &ir->nat[i];
		char addr[INET6_ADDRSTRLEN];

		fprintf(out, "  %-10s %-8s", pc_nat_kind_name(n->kind), fam_name(n->families));
		if (n->n_ifaces > 1)
			dump_ifaces(out, "on", n->n_ifaces, n->ifaces);
		else if (n->iface)
			fprintf(out, " on %s", n->iface);
		dump_addrs(out, "from", &n->saddr);
		dump_addrs(out, "to", &n->daddr);
		for (size_t k = 0; k < n->n_l4; k++)
			dump_l4(out, &n->l4[k]);
		if (n->kind != PC_NAT_MASQUERADE) {
			inet_ntop(n->to.family == PC_FAM_IPV4 ? AF_INET : AF_INET6, n->to.a,
				  addr, sizeof(addr));
			fprintf(out, n->to_port && n->to.family == PC_FAM_IPV6 ? " -> [%s]" : " -> %s", addr);
			if (n->to_port)
				fprintf(out, ":%u", n->to_port);
		}
		if (n->comment)
			fprintf(out, " comment \"%s\"", n->comment);
		fprintf(out, "   # %s:%u\n", n->loc.file, n->loc.line);
	}
}

void pc_ir_dump(const struct pc_ir *ir, FILE *out)
{
	fprintf(out, "table %s\n", ir->table);
	fprintf(out, "policy %s\n", ir->policy_file);
	fprintf(out, "registry %s%s%s%s\n", ir->registry_name,
		ir->registry_date[0] ? " (" : "", ir->registry_date,
		ir->registry_date[0] ? ")" : "");
	for (unsigned d = 0; d < __PC_DIR_MAX; d++) {
		const struct pc_chain *c = &ir->chains[d];

		fprintf(out, "\n%s: default %s", pc_direction_name(c->dir),
			pc_verdict_name(c->policy));
		if (c->policy_loc.line)
			fprintf(out, " (%s:%u)", c->policy_loc.file, c->policy_loc.line);
		fputc('\n', out);
		for (size_t i = 0; i < c->n; i++) {
			const struct pc_rule *r = &c->rules[i];
			char where[64];

			if (r->origin == PC_ORIGIN_POLICY)
				snprintf(where, sizeof(where), "%s:%u", r->loc.file, r->loc.line);
			else
				snprintf(where, sizeof(where), "built-in: %s", pc_origin_name(r->origin));
			fprintf(out, "  %-7s %-8s", pc_verdict_name(r->verdict), fam_name(r->families));
			if (r->n_ifaces > 1)
				dump_ifaces(out, r->iface_not ? "on not" : "on", r->n_ifaces,
					    r->ifaces);
			else if (r->iface)
				fprintf(out, " on %s%s", r->iface_not ? "not " : "", r->iface);
			if (r->n_oifaces)
				dump_ifaces(out, "out on", r->n_oifaces, r->oifaces);
			if (r->ct_state) {
				static const char *const st[] = { "new", "established", "related", "invalid" };
				bool first = true;

				fputs(" ct", out);
				for (unsigned b = 0; b < 4; b++)
					if (r->ct_state & (1u << b)) {
						fprintf(out, "%s%s", first ? " " : ",", st[b]);
						first = false;
					}
			}
			dump_addrs(out, r->saddr_not ? "from not" : "from", &r->saddr);
			dump_addrs(out, r->daddr_not ? "to not" : "to", &r->daddr);
			for (size_t k = 0; k < r->n_l4; k++)
				dump_l4(out, &r->l4[k]);
			if (r->sports.n) {
				fputs(" source-port", out);
				fputs(r->sports.n > 1 ? " {" : "", out);
				for (size_t k = 0; k < r->sports.n; k++) {
					fprintf(out, "%s%u", k ? ", " : " ", r->sports.v[k].lo);
					if (r->sports.v[k].hi != r->sports.v[k].lo)
						fprintf(out, "-%u", r->sports.v[k].hi);
				}
				fputs(r->sports.n > 1 ? " }" : "", out);
			}
			if (!r->n_l4 && !r->ct_state && !r->iface && !r->n_oifaces &&
			    !r->saddr.name && !r->daddr.name &&
			    !r->saddr.n && !r->daddr.n)
				fputs(" everything", out);
			if (r->limit.rate)
				fprintf(out, " limit %u/%s", r->limit.rate,
					pc_limit_unit_name(r->limit.unit));
			if (r->limit.rate && r->limit_burst)
				fprintf(out, " burst %u", (unsigned)r->limit_burst);
			if (r->limit.rate && r->limit_per_source)
				fputs(" per source", out);
			if (r->log)
				fprintf(out, " log%s%s%s", r->log_prefix ? " \"" : "",
					r->log_prefix ? r->log_prefix : "", r->log_prefix ? "\"" : "");
			if (r->log && r->log_nflog)
				fprintf(out, " group %u", (unsigned)r->log_group);
			if (r->comment)
				fprintf(out, " comment \"%s\"", r->comment);
			fprintf(out, "   # %s\n", where);
		}
	}
	dump_nat(out, ir);
}
