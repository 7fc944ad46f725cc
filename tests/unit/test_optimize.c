/* SPDX-License-Identifier: MIT */
/*
 * Differential test of the ruleset compiler: for random policies, the
 * reference evaluator must give every packet the same verdict, decided by
 * the same policy line, on the plain IR and on the optimised IR. Packets
 * are random and at every interval edge (first/last port of each range and
 * the ports beside it, network and broadcast address of each prefix and the
 * addresses beside them). The optimised maps must also be disjoint, as the
 * kernel requires of interval sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/nft/nft_lower.h"
#include "ir/eval.h"
#include "ir/optimize.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

static struct pc_registry *reg;
static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static unsigned pick(unsigned n)
{
	return rnd() % n;
}

static int setup(void **state)
{
	struct pc_diag *d = pc_diag_create();

	reg = pc_registry_create();
	if (pc_registry_load(reg, PC_SOURCE_DATADIR "/service-names-port-numbers.csv", false, d))
		return -1;
	pc_registry_finish(reg);
	pc_diag_destroy(d);
	return 0;
}

static int teardown(void **state)
{
	pc_registry_destroy(reg);
	return 0;
}

static const char *const protos[] = { "tcp", "udp", "sctp" };

/* A source prefix in a small space so that rules overlap often. */
static void rand_prefix(struct pc_buf *b, bool v6)
{
	if (v6) {
		unsigned plen = 112 + pick(17);
		unsigned x = rnd() & 0xffff;

		if (plen < 128)
			x &= (0xffffu << (128 - plen)) & 0xffff;
		pc_buf_printf(&b[0], "2001:db8::%x/%u", x, plen);
	} else {
		unsigned plen = 20 + pick(13);
		uint32_t a = 0xc0000000u | (rnd() & 0x0000ffffu); /* 192.0.x.y */

		if (plen < 32)
			a &= ~((1u << (32 - plen)) - 1);
		pc_buf_printf(&b[0], "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255, a >> 8 & 255,
			      a & 255, plen);
	}
}

/* issue 14: an address range, as the prefixes that cover it, in the same
 * small space as rand_prefix() so that it overlaps them */
static void rand_range(struct pc_buf *b)
{
	unsigned lo = rnd() & 0xffff, hi = lo + pick(700);

	if (hi > 0xffff)
		hi = 0xffff;
	pc_buf_printf(b, "192.0.%u.%u-192.0.%u.%u", lo >> 8, lo & 255, hi >> 8, hi & 255);
}

/* A destination prefix, in another small space (198.51.100.x, 2001:db8:1::x). */
static void rand_dst(struct pc_buf *b, bool v6)
{
	if (v6) {
		unsigned plen = 120 + pick(9);
		unsigned x = rnd() & 0xff;

		if (plen < 128)
			x &= (0xffu << (128 - plen)) & 0xff;
		pc_buf_printf(b, "2001:db8:1::%x/%u", x, plen);
	} else {
		unsigned plen = 26 + pick(7);
		unsigned x = rnd() & 0xff;

		if (plen < 32)
			x &= (0xffu << (32 - plen)) & 0xff;
		pc_buf_printf(b, "198.51.100.%u/%u", x, plen);
	}
}

static void rand_ports(struct pc_buf *b)
{
	unsigned n = 1 + pick(3);

	pc_buf_puts(b, n > 1 ? "{ " : "");
	for (unsigned i = 0; i < n; i++) {
		unsigned lo = 1000 + pick(200);

		if (pick(3) == 0)
			pc_buf_printf(b, "%s%u-%u", i ? ", " : "", lo, lo + pick(60));
		else
			pc_buf_printf(b, "%s%u", i ? ", " : "", lo);
	}
	pc_buf_puts(b, n > 1 ? " }" : "");
}

static char *rand_policy(unsigned n_rules)
{
	struct pc_buf b;
	/* map keys over interfaces (issue 15): stretches of rules that name
	 * an interface, which fold into maps keyed by it */
	bool with_iface = pick(2) == 0, on_iface = with_iface;

	pc_buf_init(&b);
	pc_buf_puts(&b, "transports tcp, udp, sctp\nhosts dyn = dynamic\n");
	for (unsigned i = 0; i < n_rules; i++) {
		unsigned kind = pick(20);
		/* actions in map elements (issue 15): rejects and logs fold too */
		const char *verdict = pick(12) == 0 ? "reject" : pick(2) ? "allow" : "deny";

		if (with_iface && pick(24) == 0)
			on_iface = !on_iface;

		if (kind == 0) {
			/* breaks a run: logged */
			pc_buf_printf(&b, "reject in port %u/tcp log\n", 1000 + pick(200));
			continue;
		}
		if (kind == 1) {
			pc_buf_printf(&b, "allow in icmp echo-request\n");
			continue;
		}
		if (kind == 2) {
			/* one interface, a list, or (issue 14) every other one */
			static const char *const on[] = { "eth0", "eth1", "{ eth0, eth1 }",
							  "not eth0", "not eth1", "{ eth1, eth0 }" };

			pc_buf_printf(&b, "%s in on %s port %u\n", verdict, on[pick(6)],
				      1000 + pick(200));
			continue;
		}
		if (kind == 3) {
			/* issue 14: a dynamic set (empty to the evaluator), a
			 * netlink log group, a burst: each breaks a run */
			switch (pick(3)) {
			case 0:
				pc_buf_printf(&b, "deny in port %u from $dyn\n", 1000 + pick(200));
				break;
			case 1:
				pc_buf_printf(&b, "allow in port %u log group %u\n", 1000 + pick(200),
					      pick(3));
				break;
			default:
				pc_buf_printf(&b, "allow in port %u limit 5/second burst %u\n",
					      1000 + pick(200), 1 + pick(9));
				break;
			}
			continue;
		}
		pc_buf_printf(&b, "%s in ", verdict);
		if (pick(5) == 0) {
			/* ICMP types in map keys (issue 15): ICMP rules with
			 * addresses, in the runs of the others */
			static const char *const t4[] = { "icmp echo-request", "icmp echo-reply",
							  "icmp { echo-request, timestamp-request }",
							  "proto icmp" };
			static const char *const t6[] = { "icmpv6 echo-request",
							  "icmpv6 { echo-request, echo-reply }",
							  "icmpv6 nd-router-solicit", "proto icmpv6" };
			bool v6 = pick(3) == 0;

			if (on_iface)
				pc_buf_printf(&b, "on %s ", pick(2) ? "eth0" : "eth1");
			pc_buf_puts(&b, v6 ? t6[pick(4)] : t4[pick(4)]);
			if (pick(4)) {
				pc_buf_puts(&b, " from ");
				rand_prefix(&b, v6);
			}
			if (pick(3) == 0) {
				pc_buf_puts(&b, " to ");
				rand_dst(&b, v6);
			}
			pc_buf_putc(&b, '\n');
			continue;
		}
		if (on_iface) {
			/* exact names fold; a wildcard ends the run */
			static const char *const on[] = { "eth0", "eth1", "{ eth0, eth1 }",
							  "eth1", "eth0", "{ eth1, eth0 }",
							  "eth0", "eth1", "eth0", "eth*" };

			pc_buf_printf(&b, "on %s ", on[pick(10)]);
		}
		switch (pick(4)) {
		case 0:
			pc_buf_puts(&b, "port ");
			rand_ports(&b);
			pc_buf_printf(&b, "/%s", protos[pick(3)]);
			break;
		case 1:
			pc_buf_puts(&b, "port ");
			rand_ports(&b);
			break;
		case 2:
			pc_buf_printf(&b, "proto %s", protos[pick(3)]);
			break;
		default:
			pc_buf_puts(&b, "port ");
			rand_ports(&b);
			pc_buf_puts(&b, "/udp");
			break;
		}
		if (pick(4)) {
			unsigned k = 1 + pick(2);

			/* issue 14: negated sources stay unfolded, exactly */
			pc_buf_puts(&b, pick(6) == 0 ? " from not { " : " from { ");
			for (unsigned j = 0; j < k; j++) {
				if (j)
					pc_buf_puts(&b, ", ");
				if (pick(5) == 0)
					rand_range(&b);
				else
					rand_prefix(&b, pick(3) == 0);
			}
			pc_buf_puts(&b, " }");
		} else if (pick(3) == 0) {
			/* issue 14: a rule of one family, which the optimiser
			 * folds only into that family's map */
			pc_buf_puts(&b, pick(2) ? " family ipv4" : " family ipv6");
		}
		if (pick(8) == 0) {
			/* issue 14: source ports: never folded, and a rule
			 * with them proves nothing disjoint */
			unsigned lo = 2000 + pick(10);

			pc_buf_printf(&b, " source-port %u-%u", lo, lo + pick(4));
		}
		if (pick(3) == 0) {
			/* destinations of both families: folded into maps whose key
			 * holds the destination */
			pc_buf_puts(&b, " to { ");
			rand_dst(&b, false);
			if (pick(2)) {
				pc_buf_puts(&b, ", ");
				rand_dst(&b, false);
			}
			pc_buf_puts(&b, ", ");
			rand_dst(&b, true);
			pc_buf_puts(&b, " }");
		}
		if (pick(10) == 0)
			pc_buf_printf(&b, " log \"p%u \"", pick(3));
		pc_buf_putc(&b, '\n');
	}
	return b.data;
}

static struct pc_ir *load(const char *text)
{
	struct pc_diag *d = pc_diag_create();
	struct pc_ir *ir = pc_policy_load_buffer("r.policy", text, strlen(text), reg,
						 PC_POLICY_NO_LINT, d);

	if (!ir) {
		pc_diag_print(d, stderr, false);
		fprintf(stderr, "%s", text);
	}
	pc_diag_destroy(d);
	return ir;
}

/*
 * The line that decided, 0 for the chain policy (inside a dispatch too);
 * in *@log whether the packet is logged, and with what prefix (actions in
 * map elements, issue 15: an element logs as its rule did).
 */
static unsigned decide(const struct pc_ir *ir, const struct pc_packet *p, enum pc_verdict *v,
		       const char **log)
{
	const struct pc_map_elem *e;
	const struct pc_rule *r;
	size_t at;

	*log = NULL;
	r = pc_ir_decide(ir, p, 0, v, &e, &at);
	if (!r)
		return 0;
	if (e) {
		const struct pc_rule *a = pc_map_elem_action(e);

		if (a && a->log)
			*log = a->log_prefix ? a->log_prefix : "";
		return pc_map_elem_loc(e)->line;
	}
	if (r->log)
		*log = r->log_prefix ? r->log_prefix : "";
	return r->origin == PC_ORIGIN_POLICY ? r->loc.line : 100000 + r->origin;
}

static size_t compared, maps_made, overlaps_checked, daddr_maps, dispatches, classes;
static size_t iface_maps;   /* maps keyed by the interface (issue 15) */
static size_t icmp_maps;    /* maps keyed by the ICMP type (issue 15) */
static size_t on_iface_maps;   /* maps behind a match on one interface */
/* actions in map elements (issue 15): elements that log or reject, and
 * maps that hold rules with and without a destination */
static size_t action_elems, mixed_maps;
/* elements of one map with the same destination interval: they share one
 * copy of it (issue 15, memory) */
static size_t shared_daddrs;

static void count_map(const struct pc_rule *r)
{
	bool all = false, some = false;

	for (size_t i = 0; r->map_daddr && r->n_map <= 512 && i < r->n_map; i++)
		for (size_t j = 0; j < i; j++)
			if (memcmp(r->map_daddr[i], r->map_daddr[j], sizeof(struct pc_addr_range)) == 0) {
				assert_ptr_equal(r->map_daddr[i], r->map_daddr[j]);
				shared_daddrs++;
			}

	for (size_t i = 0; i < r->n_map; i++) {
		action_elems += r->map[i].action;
		if (r->map_daddr) {
			static const uint8_t zero[16], ones[16] = {
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
			unsigned len = r->map_daddr[i]->family == PC_FAM_IPV4 ? 4 : 16;
			bool any = memcmp(r->map_daddr[i]->lo, zero, len) == 0 &&
				   memcmp(r->map_daddr[i]->hi, ones, len) == 0;

			all = all || any;
			some = some || !any;
		}
	}
	mixed_maps += all && some;
}

static void compare1(const struct pc_ir *plain, const struct pc_ir *opt,
		     const struct pc_packet *p, const char *text);

/* The optimised IR, then the dispatched one (issue 15). */
static const struct pc_ir *dispatched;

static void compare(const struct pc_ir *plain, const struct pc_ir *opt,
		    const struct pc_packet *p, const char *text)
{
	compare1(plain, opt, p, text);
	if (dispatched)
		compare1(plain, dispatched, p, text);
}

static void compare1(const struct pc_ir *plain, const struct pc_ir *opt,
		     const struct pc_packet *p, const char *text)
{
	enum pc_verdict v1, v2;
	const char *log1, *log2;
	unsigned l1 = decide(plain, p, &v1, &log1), l2 = decide(opt, p, &v2, &log2);

	compared++;
	if (v1 != v2 || l1 != l2 || (log1 == NULL) != (log2 == NULL) ||
	    (log1 && strcmp(log1, log2) != 0)) {
		fprintf(stderr, "%s\n", text);
		fail_msg("packet proto %u port %u fam %u src %u.%u.%u.%u dst %u.%u.%u.%u "
			 "iface %s: plain %s line %u%s, optimised %s line %u%s",
			 p->proto, p->dport, p->family, p->saddr[0], p->saddr[1], p->saddr[2],
			 p->saddr[3], p->daddr[0], p->daddr[1], p->daddr[2], p->daddr[3],
			 p->iface ? p->iface : "-", pc_verdict_name(v1), l1, log1 ? " log" : "",
			 pc_verdict_name(v2), l2, log2 ? " log" : "");
	}
}

/* An address at an edge of @a (or beside it) into @out. */
static void edge_addr(uint8_t *out, const struct pc_addr *a, int delta, bool last)
{
	unsigned n = a->family == PC_FAM_IPV4 ? 4 : 16;
	int carry = delta;

	memcpy(out, a->a, 16);
	if (last)
		for (unsigned i = a->plen; i < n * 8; i++)
			out[i / 8] |= (uint8_t)(1u << (7 - i % 8));
	for (int i = (int)n - 1; i >= 0 && carry; i--) {
		int v = out[i] + carry;

		carry = v < 0 ? -1 : v > 255 ? 1 : 0;
		out[i] = (uint8_t)(v & 255);
	}
}

static void set_addr(struct pc_packet *p, const struct pc_addr *a, int delta, bool last)
{
	p->family = a->family;
	edge_addr(p->saddr, a, delta, last);
}

/* A destination in the small space of rand_dst() for the packet's family. */
static void rand_daddr(struct pc_packet *p)
{
	static const uint8_t v4[4] = { 198, 51, 100, 0 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };

	memcpy(p->daddr, p->family == PC_FAM_IPV6 ? v6 : v4,
	       p->family == PC_FAM_IPV6 ? 16 : 4);
	p->daddr[p->family == PC_FAM_IPV6 ? 15 : 3] = (uint8_t)pick(256);
}

static void check_disjoint(const struct pc_ir *ir)
{
	for (unsigned d = 0; d < __PC_DIR_MAX; d++)
		for (size_t i = 0; i < ir->chains[d].n; i++) {
			const struct pc_rule *r = &ir->chains[d].rules[i];

			for (size_t a = 0; a < r->n_map; a++)
				for (size_t b = a + 1; b < r->n_map; b++) {
					const struct pc_map_elem *x = &r->map[a], *y = &r->map[b];
					struct pc_packet p;

					if (x->proto != y->proto || x->dport.hi < y->dport.lo ||
					    y->dport.hi < x->dport.lo)
						continue;
					if (r->map_daddr) {
						const struct pc_addr_range *dx = r->map_daddr[a];
						const struct pc_addr_range *dy = r->map_daddr[b];

						/* disjoint destinations: no packet in both */
						if (memcmp(dx->hi, dy->lo, 16) < 0 ||
						    memcmp(dy->hi, dx->lo, 16) < 0)
							continue;
					}
					/* other interfaces: no packet in both */
					if (r->map_iface &&
					    strcmp(r->map_iface[a], r->map_iface[b]) != 0)
						continue;
					overlaps_checked++;
					pc_packet_init(&p);
					p.family = x->saddr.family;
					memcpy(p.saddr, y->saddr.a, 16);
					assert_false(pc_addr_contains(&x->saddr, p.family, p.saddr) &&
						     y->saddr.plen >= x->saddr.plen);
					memcpy(p.saddr, x->saddr.a, 16);
					assert_false(pc_addr_contains(&y->saddr, p.family, p.saddr) &&
						     x->saddr.plen >= y->saddr.plen);
				}
		}
}

/*
 * Every dispatch: per protocol its elements are sorted, disjoint and
 * cover every port; no class chain holds a dispatch; the class chains'
 * maps are disjoint too.
 */
static void check_dispatch(const struct pc_ir *ir)
{
	for (unsigned dir = 0; dir < __PC_DIR_MAX; dir++)
		for (size_t i = 0; i < ir->chains[dir].n; i++) {
			const struct pc_dispatch *d = ir->chains[dir].rules[i].dispatch;

			if (!d)
				continue;
			dispatches++;
			classes += d->n_classes;
			for (size_t k = 0; k < d->n; k++) {
				const struct pc_dispatch_elem *e = &d->v[k];

				assert_true(pc_proto_has_ports(e->proto));
				assert_true(e->dport.lo <= e->dport.hi);
				assert_true(e->cls < d->n_classes);
				assert_true(e->family == PC_FAM_IPV4 || e->family == PC_FAM_IPV6);
				if (k && d->v[k - 1].family == e->family && d->v[k - 1].proto == e->proto)
					assert_true(d->v[k - 1].dport.hi < e->dport.lo);
			}
			for (size_t c = 0; c < d->n_classes; c++) {
				struct pc_ir one = *ir;

				for (size_t r = 0; r < d->classes[c].n; r++) {
					assert_null(d->classes[c].rules[r].dispatch);
					count_map(&d->classes[c].rules[r]);
				}
				one.chains[PC_DIR_IN] = d->classes[c];
				check_disjoint(&one);
			}
		}
}

/*
 * A small policy shaped as bench/gen_shapes.py capirca writes them: sites
 * (IPv4 /30 and IPv6 /124) nested in regions, server groups of two or
 * three hosts of both families, terms from a site, a region or an inline
 * prefix, a third to a server group, port lists and ranges, deny and
 * reject terms, logs and limits between the allows.
 */
static char *capirca_policy(unsigned n_rules)
{
	struct pc_buf b;

	pc_buf_init(&b);
	pc_buf_puts(&b, "transports tcp, udp\n");
	for (unsigned i = 0; i < 8; i++)
		pc_buf_printf(&b, "hosts site_%u = { 192.0.%u.%u/30, 2001:db8::%x/124 }\n", i,
			      pick(4), i * 4, i * 16);
	pc_buf_puts(&b, "hosts region_0 = { $site_0, $site_1, $site_2, $site_3, 192.0.9.0/29 }\n");
	pc_buf_puts(&b, "hosts region_1 = { $site_4, $site_5, $site_6, $site_7 }\n");
	for (unsigned i = 0; i < 6; i++)
		pc_buf_printf(&b, "hosts srv_%u = { 198.51.100.%u, 198.51.100.%u, 2001:db8:1::%x }\n",
			      i, i * 8 + 1, i * 8 + 1 + pick(6), i * 8 + 1);
	for (unsigned i = 0; i < n_rules; i++) {
		unsigned v = pick(20), src = pick(8);
		const char *verdict = v < 3 ? "deny" : v < 5 ? "reject" : "allow";

		pc_buf_printf(&b, "%s in port ", verdict);
		rand_ports(&b);
		pc_buf_printf(&b, "/%s", pick(2) ? "tcp" : "udp");
		if (src == 0) {
			pc_buf_puts(&b, " from { ");
			rand_prefix(&b, false);
			pc_buf_puts(&b, ", ");
			rand_prefix(&b, true);
			pc_buf_puts(&b, " }");
		} else if (src == 1) {
			pc_buf_printf(&b, " from $region_%u", pick(2));
		} else if (src < 7) {
			pc_buf_printf(&b, " from $site_%u", pick(8));
		}
		if (pick(3) == 0)
			pc_buf_printf(&b, " to $srv_%u", pick(6));
		if (pick(10) == 0)
			pc_buf_puts(&b, " log");
		else if (v >= 5 && pick(15) == 0)
			pc_buf_puts(&b, " limit 10/second");
		pc_buf_putc(&b, '\n');
	}
	return b.data;
}

/*
 * issue 14: a source port near the edges of @r's source ports (or of the
 * space rand_policy() draws them from), sometimes none; and sometimes a
 * source in the dynamic set (which the evaluator is told).
 */
static void rand_sport(struct pc_packet *p, const struct pc_rule *r)
{
	p->has_sport = pick(6) != 0;
	if (r && r->sports.n) {
		const struct pc_port_range *v = &r->sports.v[pick((unsigned)r->sports.n)];
		const int edge[] = { v->lo - 1, v->lo, v->hi, v->hi + 1 };

		p->sport = (uint16_t)edge[pick(4)];
	} else {
		p->sport = (uint16_t)(1998 + pick(18));
	}
	if (pick(4) == 0)
		p->src_member = "dyn";
}

static void run_text(char *text, unsigned n_random);

/*
 * ICMP types in map keys (issue 15): packets of @l's protocol with each of
 * its types and the ones beside them, and of no known type, from the edges
 * of @r's sources of the family.
 */
static void icmp_edges(const struct pc_ir *plain, const struct pc_ir *opt,
		       const struct pc_rule *r, const struct pc_l4 *l, const char *text)
{
	static const char *const ifaces[] = { NULL, "eth0", "eth1", "eth2" };
	unsigned fam = l->proto == PC_PROTO_ICMP ? PC_FAM_IPV4 : PC_FAM_IPV6;
	int types[64];
	size_t n = 0;

	types[n++] = -1;
	types[n++] = 8;
	for (size_t j = 0; j < l->n_types && n + 3 <= 64; j++) {
		types[n++] = l->types[j] - 1;
		types[n++] = l->types[j];
		types[n++] = l->types[j] + 1;
	}
	for (size_t t = 0; t < n; t++)
		for (size_t s = 0; s < (r->saddr.n ? r->saddr.n : 1); s++)
			for (int delta = -1; delta <= 1; delta++)
				for (int last = 0; last < 2; last++) {
					struct pc_packet p;

					if (r->saddr.n && r->saddr.v[s].family != fam)
						continue;
					pc_packet_init(&p);
					p.family = fam;
					p.proto = l->proto;
					p.icmp_type = types[t] > 255 ? -1 : types[t];
					if (r->saddr.n)
						set_addr(&p, &r->saddr.v[s], delta, last);
					rand_daddr(&p);
					for (size_t f = 0; f < 4; f++) {
						p.iface = ifaces[f];
						compare(plain, opt, &p, text);
					}
					for (size_t d = 0; d < r->daddr.n; d++) {
						if (r->daddr.v[d].family != fam)
							continue;
						for (int dd = -1; dd <= 1; dd++) {
							edge_addr(p.daddr, &r->daddr.v[d], dd, dd > 0);
							compare(plain, opt, &p, text);
						}
					}
				}
}

static void run_one(unsigned n_rules, unsigned n_random)
{
	run_text(rand_policy(n_rules), n_random);
}

/*
 * Narrow keys (branch narrow): the lowering of the dispatched IR keys a
 * map of a class chain without `meta l4proto . th dport` only where every
 * packet that can reach it matches them in every element: for each
 * element of a port-level dispatch that jumps to the chain (its protocol
 * and port interval), every element of the map holds that protocol and
 * that whole interval. Found from the plan's own jumps, not from the
 * lowering's reasons. A map of a base chain keeps the whole key.
 */
static size_t narrowed_maps;

struct entry {
	const char *chain;
	uint8_t proto;
	struct pc_port_range dport;
};

static void check_narrow(const struct pc_ir *ir)
{
	struct pc_diag *d = pc_diag_create();
	struct pc_nft_plan *plan = pc_nft_plan_create(ir, d);
	struct entry *in = NULL;
	size_t n_in = 0, cap = 0;

	assert_non_null(plan);
	for (size_t c = 0; c < plan->n_chains + plan->n_sub; c++) {
		const struct pc_nft_chain *ch = pc_nft_plan_chain(plan, c);

		for (size_t i = 0; i < ch->n; i++) {
			const struct pc_nft_rule *r = &ch->rules[i];

			if (c < plan->n_chains && r->vmap)
				assert_false(r->vmap->noport);
			if (!r->dispatch || !r->dispatch_proto)
				continue;
			for (size_t k = 0; k < r->dispatch->n; k++) {
				const struct pc_dispatch_elem *e = &r->dispatch->v[k];

				if (e->family != r->dispatch_family || e->proto != r->dispatch_proto)
					continue;
				in = xgrow(in, &cap, n_in + 1, sizeof(*in));
				in[n_in].chain = r->dispatch_chains[e->cls];
				in[n_in].proto = e->proto;
				in[n_in++].dport = e->dport;
			}
		}
	}
	for (size_t c = plan->n_chains; c < plan->n_chains + plan->n_sub; c++) {
		const struct pc_nft_chain *ch = pc_nft_plan_chain(plan, c);

		for (size_t i = 0; i < ch->n; i++) {
			const struct pc_nft_map *m = ch->rules[i].vmap;
			size_t reached = 0;

			if (!m || !m->noport)
				continue;
			narrowed_maps++;
			for (size_t k = 0; k < n_in; k++) {
				if (strcmp(in[k].chain, ch->name) != 0)
					continue;
				reached++;
				for (size_t j = 0; j < m->n; j++) {
					assert_int_equal(m->v[j].proto, in[k].proto);
					assert_true(m->v[j].dport.lo <= in[k].dport.lo);
					assert_true(m->v[j].dport.hi >= in[k].dport.hi);
				}
			}
			assert_true(reached > 0);
		}
	}
	free(in);
	pc_nft_plan_destroy(plan);
	pc_diag_destroy(d);
}

/* Frees @text. */
static void run_text(char *text, unsigned n_random)
{
	struct pc_ir *plain = load(text), *opt = load(text), *dis = load(text);
	struct pc_optimize_stats st;
	const struct pc_chain *c;
	struct pc_packet p;
	/* eth2: a name no rule has, which only eth* matches */
	static const char *const ifaces[] = { NULL, "eth0", "eth1", "eth2" };
	static const uint8_t l4[] = { PC_PROTO_TCP, PC_PROTO_UDP, PC_PROTO_SCTP, PC_PROTO_DCCP };

	assert_non_null(plain);
	assert_non_null(opt);
	assert_non_null(dis);
	pc_ir_optimize_dispatch(dis, NULL);
	check_dispatch(dis);
	check_narrow(dis);
	dispatched = dis;
	pc_ir_optimize(opt, &st);
	maps_made += st.maps;
	for (size_t i = 0; i < opt->chains[PC_DIR_IN].n; i++) {
		daddr_maps += opt->chains[PC_DIR_IN].rules[i].map_daddr != NULL;
		iface_maps += opt->chains[PC_DIR_IN].rules[i].map_iface != NULL;
		on_iface_maps += opt->chains[PC_DIR_IN].rules[i].n_map &&
				 opt->chains[PC_DIR_IN].rules[i].iface;
		icmp_maps += opt->chains[PC_DIR_IN].rules[i].n_map &&
			     !pc_proto_has_ports(opt->chains[PC_DIR_IN].rules[i].map[0].proto);
		count_map(&opt->chains[PC_DIR_IN].rules[i]);
	}
	check_disjoint(opt);
	c = &plain->chains[PC_DIR_IN];
	/* interval edges of every rule */
	for (size_t i = 0; i < c->n; i++) {
		const struct pc_rule *r = &c->rules[i];

		for (size_t k = 0; k < r->n_l4; k++) {
			const struct pc_l4 *l = &r->l4[k];

			if (l->proto == PC_PROTO_ICMP || l->proto == PC_PROTO_ICMPV6)
				icmp_edges(plain, opt, r, l, text);
			for (size_t j = 0; j < l->dports.n; j++) {
				const int ports[] = { l->dports.v[j].lo - 1, l->dports.v[j].lo,
						      l->dports.v[j].hi, l->dports.v[j].hi + 1 };

				for (size_t q = 0; q < 4; q++) {
					pc_packet_init(&p);
					p.proto = l->proto;
					p.dport = (uint16_t)ports[q];
					rand_sport(&p, r);
					for (size_t s = 0; s < (r->saddr.n ? r->saddr.n : 1); s++)
						for (int delta = -1; delta <= 1; delta++)
							for (int last = 0; last < 2; last++) {
								if (r->saddr.n)
									set_addr(&p, &r->saddr.v[s], delta, last);
								rand_daddr(&p);
								for (size_t f = 0; f < 4; f++) {
									p.iface = ifaces[f];
									compare(plain, opt, &p, text);
								}
								/* the edges of the destinations */
								for (size_t t = 0; t < r->daddr.n; t++) {
									if (r->daddr.v[t].family != p.family)
										continue;
									for (int dd = -1; dd <= 1; dd++)
										for (int dl = 0; dl < 2; dl++) {
											edge_addr(p.daddr, &r->daddr.v[t], dd, dl);
											compare(plain, opt, &p, text);
										}
								}
							}
				}
			}
		}
	}
	/* random packets in the same small spaces */
	for (unsigned i = 0; i < n_random; i++) {
		pc_packet_init(&p);
		p.proto = l4[pick(4)];
		p.dport = (uint16_t)(990 + pick(280));
		p.iface = ifaces[pick(4)];
		rand_sport(&p, NULL);
		if (pick(3) == 0) {
			p.family = PC_FAM_IPV6;
			p.saddr[0] = 0x20;
			p.saddr[1] = 0x01;
			p.saddr[2] = 0x0d;
			p.saddr[3] = 0xb8;
			p.saddr[14] = (uint8_t)pick(256);
			p.saddr[15] = (uint8_t)pick(256);
		} else {
			p.family = PC_FAM_IPV4;
			p.saddr[0] = 192;
			p.saddr[1] = 0;
			p.saddr[2] = (uint8_t)pick(256);
			p.saddr[3] = (uint8_t)pick(256);
		}
		if (pick(5) == 0) {
			/* ICMP of the family, a type some rules name, or none */
			static const int t[] = { -1, 0, 8, 13, 128, 129, 133, 3 };

			p.proto = p.family == PC_FAM_IPV6 ? PC_PROTO_ICMPV6 : PC_PROTO_ICMP;
			p.icmp_type = t[pick(8)];
			p.dport = 0;
		}
		rand_daddr(&p);
		compare(plain, opt, &p, text);
	}
	dispatched = NULL;
	pc_ir_destroy(plain);
	pc_ir_destroy(opt);
	pc_ir_destroy(dis);
	free(text);
}

static void test_random_policies(void **state)
{
	compared = maps_made = overlaps_checked = daddr_maps = dispatches = classes = 0;
	narrowed_maps = 0;
	iface_maps = icmp_maps = on_iface_maps = action_elems = mixed_maps = 0;
	for (unsigned seed = 1; seed <= 120; seed++) {
		rng_state = 0x9e3779b97f4a7c15ull * seed;
		run_one(5 + pick(60), 3000);
	}
	/* thousands of packets per policy, hundreds of thousands in all */
	print_message("%zu packets, %zu maps, %zu with destinations, %zu keyed by the interface, "
		      "%zu by the ICMP type, %zu on one interface\n", compared, maps_made, daddr_maps,
		      iface_maps, icmp_maps, on_iface_maps);
	assert_true(compared > 100000);
	/* and the optimiser really folded: many maps over the seeds */
	assert_true(maps_made > 30);
	/* maps whose key holds the destination among them */
	assert_true(daddr_maps > 10);
	/* and maps keyed by the interface */
	assert_true(iface_maps > 10);
	/* or behind a match on the one interface of the run */
	assert_true(on_iface_maps > 10);
	/* and by the ICMP type */
	assert_true(icmp_maps > 10);
	/* and check_disjoint() met elements whose ports overlap (else it checks nothing) */
	assert_true(overlaps_checked > 0);
	print_message("%zu dispatches, %zu classes, %zu maps keyed without port\n", dispatches,
		      classes, narrowed_maps);
	assert_true(dispatches > 10);
	assert_true(narrowed_maps > 10);
	print_message("%zu elements that log or reject, %zu maps of rules with and without "
		      "destinations\n", action_elems, mixed_maps);
	assert_true(action_elems > 100);
	assert_true(mixed_maps > 10);
}

/*
 * Narrow keys (branch narrow): a class chain that tcp and udp packets
 * both enter (port 53 of either; the limits make the dispatch worth it) keeps `meta l4proto . th dport` in its
 * map's key, a class of one protocol (80/tcp) does not; the folded maps of
 * the undispatched IR (base chains) keep the whole key. check_narrow()
 * fails if either of the first two is narrowed, the differential test
 * runs over the same policy.
 */
static void test_narrow_keys(void **state)
{
	static const char policy[] =
		"allow in port 53 from 192.0.2.1 to 198.51.100.1\n"
		"allow in port 53 from 192.0.2.2 to 198.51.100.2\n"
		"allow in port 1000/tcp limit 10/second\n"
		"deny in port 53 from 192.0.2.0/24 to 198.51.100.3\n"
		"allow in port 53 from 192.0.2.4 to 198.51.100.4\n"
		"allow in port 1001/tcp limit 11/second\n"
		"allow in port 53 from 192.0.2.5\n"
		"allow in port 80/tcp from 192.0.2.1 to 198.51.100.1\n"
		"allow in port 1002/tcp limit 12/second\n"
		"allow in port 80/tcp from 192.0.2.2 to 198.51.100.2\n"
		"deny in port 80/tcp from 192.0.2.0/24 to 198.51.100.3\n"
		"allow in port 1003/tcp limit 13/second\n"
		"allow in port 80/tcp from 192.0.2.4 to 198.51.100.4\n"
		"allow in port 81/tcp\n"
		"allow in port 1004/udp limit 14/second\n";
	struct pc_ir *opt = load(policy);

	(void)state;
	assert_non_null(opt);
	pc_ir_optimize(opt, NULL);
	check_narrow(opt);
	pc_ir_destroy(opt);
	narrowed_maps = 0;
	run_text(xstrdup(policy), 2000);
	/* the map of 80/tcp, not that of 53 */
	assert_int_equal(narrowed_maps, 1);
}

/* Random Capirca-shaped policies (issue 15): groups, destinations, reordering. */
static void test_capirca_shaped(void **state)
{
	compared = maps_made = overlaps_checked = daddr_maps = dispatches = classes = 0;
	narrowed_maps = 0;
	action_elems = mixed_maps = shared_daddrs = 0;
	for (unsigned seed = 1; seed <= 30; seed++) {
		rng_state = 0x2545f4914f6cdd1dull * seed;
		run_text(capirca_policy(20 + pick(60)), 3000);
	}
	print_message("%zu packets, %zu maps, %zu with destinations\n", compared, maps_made,
		      daddr_maps);
	assert_true(compared > 50000);
	assert_true(maps_made > 10);
	assert_true(daddr_maps > 5);
	print_message("%zu pairs of elements sharing their destination\n", shared_daddrs);
	assert_true(shared_daddrs > 100);
	print_message("%zu dispatches, %zu classes, %zu maps keyed without port\n", dispatches,
		      classes, narrowed_maps);
	assert_true(dispatches > 15);
	assert_true(narrowed_maps > 10);
	print_message("%zu elements that log or reject, %zu maps of rules with and without "
		      "destinations\n", action_elems, mixed_maps);
	assert_true(action_elems > 100);
	assert_true(mixed_maps > 10);
}

/*
 * Forward rules that name the interface a packet leaves on (issue 15): a
 * run whose rules leave on one exact interface folds behind a comparison
 * of it; another name, a list or a wildcard ends the run. Packets of
 * every pair of interfaces, at the edges of every rule.
 */
static void test_forward_out_on(void **state)
{
	static const char *const outs[] = { "eth2", "eth2", "eth2", "eth3", "eth3",
					    "{ eth2, eth3 }", "eth*" };
	static const char *const ins[] = { "", "", "on eth0 ", "on eth1 ", "on { eth0, eth1 } " };
	static const char *const ifs[] = { "eth0", "eth1", "eth2", "eth3", "wlan0" };
	size_t oif_maps = 0, n = 0;

	(void)state;
	for (unsigned seed = 1; seed <= 60; seed++) {
		struct pc_buf b;
		struct pc_ir *plain, *opt, *dis;
		unsigned n_rules = 10 + pick(40), out = pick(7);

		rng_state = 0x51afd7ed558ccd1dull * seed;
		pc_buf_init(&b);
		pc_buf_puts(&b, "default forward deny\n");
		for (unsigned i = 0; i < n_rules; i++) {
			unsigned v = pick(12);

			if (pick(8) == 0)
				out = pick(7);
			pc_buf_printf(&b, "%s forward %sout on %s port %u/%s",
				      v == 0 ? "reject" : v < 6 ? "deny" : "allow", ins[pick(5)],
				      outs[out], 1000 + pick(12), pick(2) ? "tcp" : "udp");
			if (pick(2)) {
				pc_buf_puts(&b, " from ");
				rand_prefix(&b, false);
			}
			if (pick(3) == 0) {
				pc_buf_puts(&b, " to ");
				rand_dst(&b, false);
			}
			if (pick(6) == 0)
				pc_buf_puts(&b, " log");
			pc_buf_putc(&b, '\n');
		}
		plain = load(b.data);
		opt = load(b.data);
		dis = load(b.data);
		assert_non_null(plain);
		pc_ir_optimize(opt, NULL);
		pc_ir_optimize_dispatch(dis, NULL);
		for (size_t i = 0; i < opt->chains[PC_DIR_FORWARD].n; i++)
			oif_maps += opt->chains[PC_DIR_FORWARD].rules[i].n_map &&
				    opt->chains[PC_DIR_FORWARD].rules[i].n_oifaces;
		for (unsigned k = 0; k < 3000; k++) {
			struct pc_packet p;

			pc_packet_init(&p);
			p.dir = PC_DIR_FORWARD;
			p.family = PC_FAM_IPV4;
			p.proto = pick(2) ? PC_PROTO_TCP : PC_PROTO_UDP;
			p.dport = (uint16_t)(999 + pick(14));
			p.saddr[0] = 192;
			p.saddr[2] = (uint8_t)pick(256);
			p.saddr[3] = (uint8_t)pick(256);
			rand_daddr(&p);
			p.iface = ifs[pick(5)];
			strcpy(p.oiface, ifs[pick(5)]);
			compare1(plain, opt, &p, b.data);
			compare1(plain, dis, &p, b.data);
			n++;
		}
		pc_ir_destroy(plain);
		pc_ir_destroy(opt);
		pc_ir_destroy(dis);
		pc_buf_finish(&b);
	}
	print_message("%zu packets, %zu maps behind an output interface\n", n, oif_maps);
	assert_true(oif_maps > 20);
}

/* The benchmark's shape: distinct prefix/port pairs, verdicts interleaved. */
static void test_fold_counts(void **state)
{
	struct pc_buf b;
	struct pc_ir *ir;
	struct pc_optimize_stats st;
	struct pc_diag *d = pc_diag_create();

	pc_buf_init(&b);
	pc_buf_puts(&b, "option stateless\n");
	for (unsigned i = 0; i < 2000; i++)
		pc_buf_printf(&b, "%s in port %u/udp from 10.%u.%u.0/24\n",
			      i % 2 ? "deny" : "allow", 10000 + i, i / 250, i % 250);
	pc_buf_puts(&b, "allow in port 5201/udp\n");
	ir = pc_policy_load_buffer("b.policy", b.data, b.len, reg, PC_POLICY_NO_LINT, d);
	assert_non_null(ir);
	pc_ir_optimize(ir, &st);
	assert_int_equal(st.folded_rules, 2001);
	assert_int_equal(st.maps, 2);       /* one per family: the final allow has both */
	assert_int_equal(st.elements, 2002);
	pc_ir_destroy(ir);
	pc_diag_destroy(d);
	pc_buf_finish(&b);
}

/*
 * Memory (issue 15): the view shares what it does not change. A chain
 * with nothing to fold keeps the IR's array of rules (a million-rule
 * policy's chain is 300 MB), and the rules of class chains with the same
 * protocols share one protocol list instead of one each.
 */
/*
 * A folded big policy holds millions of verdict-map elements (5.7 M at
 * 100,000 Capirca terms, the largest part of generate's peak memory):
 * the element points at its rule for the location and comment, and stays
 * at 40 bytes (issue 15; it was 72).
 */
static void test_map_elem_size(void **state)
{
	(void)state;
	assert_true(sizeof(struct pc_map_elem) <= 40);
}

static void test_view_shares(void **state)
{
	struct pc_buf b;
	struct pc_ir *ir, *view;
	const struct pc_dispatch *d = NULL;
	const struct pc_l4 *tcp = NULL;
	size_t seen = 0;

	(void)state;
	pc_buf_init(&b);
	/* out: three rules, nothing to fold or dispatch; in: a region of
	 * tcp rules, each with a limit (none folds), over shared ports */
	pc_buf_puts(&b, "allow out port 22/tcp to 192.0.2.1\n"
			"deny out port 23/tcp\n"
			"allow out port 80/tcp to 192.0.2.2\n");
	for (unsigned i = 0; i < 40; i++)
		pc_buf_printf(&b, "allow in port %u/tcp from 192.0.2.%u limit %u/second\n",
			      1000 + i % 5, i, 10 + i);
	ir = load(b.data);
	assert_non_null(ir);
	view = pc_ir_optimize_view_keys(ir, PC_OPT_KEYS_ALL, true, NULL);
	assert_int_equal(view->chains[PC_DIR_OUT].n, ir->chains[PC_DIR_OUT].n);
	assert_ptr_equal(view->chains[PC_DIR_OUT].rules, ir->chains[PC_DIR_OUT].rules);
	for (size_t i = 0; i < view->chains[PC_DIR_IN].n && !d; i++)
		d = view->chains[PC_DIR_IN].rules[i].dispatch;
	assert_non_null(d);
	for (size_t c = 0; c < d->n_classes; c++)
		for (size_t r = 0; r < d->classes[c].n; r++) {
			const struct pc_rule *x = &d->classes[c].rules[r];

			if (x->n_map)
				continue;
			assert_int_equal(x->n_l4, 1);
			assert_int_equal(x->l4[0].proto, PC_PROTO_TCP);
			if (!tcp)
				tcp = x->l4;
			assert_ptr_equal(x->l4, tcp);
			seen++;
		}
	assert_true(seen >= 40);
	pc_ir_destroy(view);
	pc_ir_destroy(ir);
	pc_buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_policies),
		cmocka_unit_test(test_fold_counts),
		cmocka_unit_test(test_capirca_shaped),
		cmocka_unit_test(test_narrow_keys),
		cmocka_unit_test(test_forward_out_on),
		cmocka_unit_test(test_view_shares),
		cmocka_unit_test(test_map_elem_size),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
