/* SPDX-License-Identifier: MIT */
/* The reference evaluator and the packet syntax of `explain`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "ir/eval.h"

/* ---- building IRs by hand ---------------------------------------------- */

static struct pc_addr pfx(const char *text)
{
	struct pc_addr a = { 0 };
	char buf[64];
	char *slash;

	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, a.a) == 1) {
		a.family = PC_FAM_IPV4;
		a.plen = slash ? (uint8_t)atoi(slash + 1) : 32;
	} else {
		assert_int_equal(inet_pton(AF_INET6, buf, a.a), 1);
		a.family = PC_FAM_IPV6;
		a.plen = slash ? (uint8_t)atoi(slash + 1) : 128;
	}
	return a;
}

static struct pc_rule rule(enum pc_verdict v, unsigned line)
{
	struct pc_rule r = { 0 };

	r.origin = PC_ORIGIN_POLICY;
	r.verdict = v;
	r.families = PC_FAM_ALL;
	r.loc.file = "test.policy";
	r.loc.line = line;
	return r;
}

static struct pc_ir *ir_new(struct pc_rule *rules, size_t n, enum pc_verdict policy)
{
	static struct pc_ir ir;

	memset(&ir, 0, sizeof(ir));
	ir.table = "test";
	for (int d = 0; d < __PC_DIR_MAX; d++) {
		ir.chains[d].dir = (enum pc_direction)d;
		ir.chains[d].policy = d == PC_DIR_OUT ? PC_VERDICT_ALLOW : PC_VERDICT_DENY;
	}
	ir.chains[PC_DIR_IN].policy = policy;
	ir.chains[PC_DIR_IN].rules = rules;
	ir.chains[PC_DIR_IN].n = n;
	return &ir;
}

/* Parses @text (which must be valid) and evaluates it. */
static long eval_text(const struct pc_ir *ir, const char *text, enum pc_verdict *v)
{
	struct pc_packet p;
	struct pc_packet_error err;
	char ifbuf[16];

	if (pc_packet_parse(text, &p, ifbuf, &err) < 0)
		fail_msg("'%s': %s at %zu", text, err.msg, err.col);
	return pc_ir_eval(ir, &p, v);
}

static bool matches(const struct pc_ir *ir, const char *text)
{
	enum pc_verdict v;

	return eval_text(ir, text, &v) == 0;
}

/* ---- the evaluator ----------------------------------------------------- */

static void test_policy_decides_empty_chain(void **state)
{
	struct pc_ir *ir = ir_new(NULL, 0, PC_VERDICT_REJECT);
	enum pc_verdict v = PC_VERDICT_ALLOW;

	(void)state;
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.5 -> 198.51.100.1:22", &v), -1);
	assert_int_equal(v, PC_VERDICT_REJECT);
	/* The other chains keep their own policies. */
	assert_int_equal(eval_text(ir, "out udp 192.0.2.5 -> 198.51.100.1:53", &v), -1);
	assert_int_equal(v, PC_VERDICT_ALLOW);
	assert_int_equal(eval_text(ir, "forward udp 192.0.2.5 -> 198.51.100.1:53", &v), -1);
	assert_int_equal(v, PC_VERDICT_DENY);
}

static void test_match_all_rule(void **state)
{
	struct pc_rule r[] = { rule(PC_VERDICT_ALLOW, 3) };
	struct pc_ir *ir = ir_new(r, 1, PC_VERDICT_DENY);
	enum pc_verdict v;

	(void)state;
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.5 -> 198.51.100.1:22", &v), 0);
	assert_int_equal(v, PC_VERDICT_ALLOW);
	assert_int_equal(eval_text(ir, "in icmpv6 2001:db8::1 -> 2001:db8::2", &v), 0);
	assert_int_equal(eval_text(ir, "in 50 2001:db8::1 -> 2001:db8::2", &v), 0);
	/* Only the in chain has the rule. */
	assert_int_equal(eval_text(ir, "forward tcp 192.0.2.5 -> 198.51.100.1:22", &v), -1);
}

static void test_family(void **state)
{
	struct pc_rule r[] = { rule(PC_VERDICT_ALLOW, 1), rule(PC_VERDICT_REJECT, 2) };
	struct pc_ir *ir = ir_new(r, 2, PC_VERDICT_DENY);
	enum pc_verdict v;

	(void)state;
	r[0].families = PC_FAM_IPV6;
	r[1].families = PC_FAM_IPV4;
	assert_int_equal(eval_text(ir, "in tcp 2001:db8::1 -> [2001:db8::2]:22", &v), 0);
	assert_int_equal(v, PC_VERDICT_ALLOW);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.1 -> 192.0.2.2:22", &v), 1);
	assert_int_equal(v, PC_VERDICT_REJECT);
}

static void test_iface(void **state)
{
	struct pc_rule r[] = { rule(PC_VERDICT_ALLOW, 1) };
	struct pc_ir *ir = ir_new(r, 1, PC_VERDICT_DENY);

	(void)state;
	r[0].iface = "eth0";
	assert_true(matches(ir, "in on eth0 tcp 192.0.2.1 -> 192.0.2.2:22"));
	assert_true(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:22 on eth0"));
	assert_false(matches(ir, "in on eth1 tcp 192.0.2.1 -> 192.0.2.2:22"));
	assert_false(matches(ir, "in on eth00 tcp 192.0.2.1 -> 192.0.2.2:22"));
	assert_false(matches(ir, "in on eth tcp 192.0.2.1 -> 192.0.2.2:22"));
	/* Unknown interface: interface rules do not match. */
	assert_false(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:22"));
	/* Loopback addresses imply lo. */
	r[0].iface = "lo";
	assert_true(matches(ir, "in tcp 127.0.0.1 -> 127.0.0.1:22"));
	assert_true(matches(ir, "in udp ::1 -> [::1]:53"));
	assert_false(matches(ir, "in on eth0 tcp 127.0.0.1 -> 127.0.0.1:22"));
}

static void test_prefix_edges_v4(void **state)
{
	struct pc_addr s[] = { pfx("192.0.2.0/24"), pfx("198.51.100.128/25"),
			       pfx("203.0.113.7") };
	struct pc_rule r[] = { rule(PC_VERDICT_ALLOW, 1) };
	struct pc_ir *ir = ir_new(r, 1, PC_VERDICT_DENY);

	(void)state;
	r[0].saddr.n = 3;
	r[0].saddr.v = s;
	/* network and broadcast addresses, and one outside each end */
	assert_true(matches(ir, "in udp 192.0.2.0 -> 10.0.0.1:1"));
	assert_true(matches(ir, "in udp 192.0.2.255 -> 10.0.0.1:1"));
	assert_false(matches(ir, "in udp 192.0.1.255 -> 10.0.0.1:1"));
	assert_false(matches(ir, "in udp 192.0.3.0 -> 10.0.0.1:1"));
	assert_true(matches(ir, "in udp 198.51.100.128 -> 10.0.0.1:1"));
	assert_true(matches(ir, "in udp 198.51.100.255 -> 10.0.0.1:1"));
	assert_false(matches(ir, "in udp 198.51.100.127 -> 10.0.0.1:1"));
	assert_false(matches(ir, "in udp 198.51.101.0 -> 10.0.0.1:1"));
	assert_true(matches(ir, "in udp 203.0.113.7 -> 10.0.0.1:1"));
	assert_false(matches(ir, "in udp 203.0.113.6 -> 10.0.0.1:1"));
	assert_false(matches(ir, "in udp 203.0.113.8 -> 10.0.0.1:1"));
	assert_false(matches(ir, "in udp 0.0.0.0 -> 10.0.0.1:1"));
	assert_false(matches(ir, "in udp 255.255.255.255 -> 10.0.0.1:1"));
	/* An IPv4-only set never matches IPv6. */
	assert_false(matches(ir, "in udp ::ffff:192.0.2.1 -> [2001:db8::1]:1"));
	/* The destination side is its own set. */
	r[0].saddr.n = 0;
	r[0].daddr.n = 1;
	r[0].daddr.v = s;
	assert_true(matches(ir, "in udp 10.0.0.1 -> 192.0.2.255:1"));
	assert_false(matches(ir, "in udp 192.0.2.1 -> 10.0.0.1:1"));
}

static void test_prefix_edges_v6_and_mixed(void **state)
{
	struct pc_addr s[] = { pfx("10.0.0.0/8"), pfx("2001:db8::/64"),
			       pfx("2001:db8:0:1::/127"), pfx("2001:db8:8000::/33") };
	struct pc_rule r[] = { rule(PC_VERDICT_ALLOW, 1) };
	struct pc_ir *ir = ir_new(r, 1, PC_VERDICT_DENY);

	(void)state;
	r[0].daddr.n = 4;
	r[0].daddr.v = s;
	assert_true(matches(ir, "in tcp 2001:db8:f::1 -> [2001:db8::]:1"));
	assert_true(matches(ir, "in tcp 2001:db8:f::1 -> [2001:db8::ffff:ffff:ffff:ffff]:1"));
	assert_false(matches(ir, "in tcp 2001:db8:f::1 -> [2001:db7:ffff:ffff:ffff:ffff:ffff:ffff]:1"));
	assert_true(matches(ir, "in tcp 2001:db8:f::1 -> [2001:db8:0:1::]:1"));
	assert_true(matches(ir, "in tcp 2001:db8:f::1 -> [2001:db8:0:1::1]:1"));
	assert_false(matches(ir, "in tcp 2001:db8:f::1 -> [2001:db8:0:1::2]:1"));
	assert_false(matches(ir, "in tcp 2001:db8:f::1 -> [2001:db8:0:2::]:1"));
	/* /33: one bit into the third 16-bit group */
	assert_true(matches(ir, "in tcp 2001:db8:f::1 -> [2001:db8:8000::]:1"));
	assert_true(matches(ir, "in tcp 2001:db8:f::1 -> [2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:1"));
	assert_false(matches(ir, "in tcp 2001:db8:f::1 -> [2001:db8:7fff:ffff:ffff:ffff:ffff:ffff]:1"));
	assert_false(matches(ir, "in tcp 2001:db8:f::1 -> [2001:db9::]:1"));
	/* IPv4 entries of the same set */
	assert_true(matches(ir, "in tcp 192.0.2.1 -> 10.255.255.255:1"));
	assert_false(matches(ir, "in tcp 192.0.2.1 -> 11.0.0.0:1"));
	/* ::/0 and 0.0.0.0/0 */
	s[0] = pfx("0.0.0.0/0");
	s[1] = pfx("::/0");
	r[0].daddr.n = 2;
	assert_true(matches(ir, "in tcp 192.0.2.1 -> 255.255.255.255:1"));
	assert_true(matches(ir, "in tcp 2001:db8::1 -> [::]:1"));
}

/* Binary search over many prefixes agrees with a linear scan. */
static void test_prefix_set_search(void **state)
{
	enum { N = 300 };
	static struct pc_addr s[N];
	struct pc_addr_set set = { NULL, 0, s };
	size_t n = 0;
	unsigned seed = 12345;

	(void)state;
	/* IPv4 /28s at every 3rd slot, then IPv6 /120s likewise: disjoint and sorted. */
	for (unsigned i = 0; i < N / 2; i++, n++) {
		uint32_t a = htonl(0xC0000200u + i * 48u);

		s[n].family = PC_FAM_IPV4;
		s[n].plen = 28;
		memcpy(s[n].a, &a, 4);
	}
	for (unsigned i = 0; i < N / 2; i++, n++) {
		s[n] = pfx("2001:db8::");
		s[n].plen = 120;
		s[n].a[13] = (uint8_t)(i * 3 / 256);
		s[n].a[14] = (uint8_t)(i * 3 % 256);
	}
	set.n = n;
	for (unsigned k = 0; k < 20000; k++) {
		uint8_t a[16] = { 0 };
		unsigned fam = (k & 1) ? PC_FAM_IPV6 : PC_FAM_IPV4;
		bool linear = false;

		seed = seed * 1103515245u + 12345u;
		if (fam == PC_FAM_IPV4) {
			uint32_t v = htonl(0xC0000200u + (seed >> 8) % (N / 2 * 48 + 64));

			memcpy(a, &v, 4);
		} else {
			struct pc_addr b = pfx("2001:db8::");
			unsigned v = (seed >> 8) % (N / 2 * 3 * 256 + 512);

			memcpy(a, b.a, 16);
			a[13] = (uint8_t)(v >> 16);
			a[14] = (uint8_t)(v >> 8);
			a[15] = (uint8_t)v;
		}
		for (size_t i = 0; i < n; i++)
			if (pc_addr_contains(&s[i], fam, a))
				linear = true;
		assert_int_equal(pc_addr_set_contains(&set, fam, a), linear);
	}
}

static void test_ports(void **state)
{
	struct pc_port_range tcp[] = { { 0, 0 }, { 22, 22 }, { 80, 90 }, { 65535, 65535 } };
	struct pc_port_range udp[] = { { 53, 53 } };
	struct pc_l4 l4[] = {
		{ .proto = PC_PROTO_TCP, .dports = { 4, tcp } },
		{ .proto = PC_PROTO_UDP, .dports = { 1, udp } },
		{ .proto = PC_PROTO_SCTP },
	};
	struct pc_rule r[] = { rule(PC_VERDICT_ALLOW, 1) };
	struct pc_ir *ir = ir_new(r, 1, PC_VERDICT_DENY);

	(void)state;
	r[0].n_l4 = 3;
	r[0].l4 = l4;
	assert_true(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:0"));
	assert_false(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:1"));
	assert_false(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:21"));
	assert_true(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:22"));
	assert_false(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:23"));
	assert_false(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:79"));
	assert_true(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:80"));
	assert_true(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:85"));
	assert_true(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:90"));
	assert_false(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:91"));
	assert_false(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:65534"));
	assert_true(matches(ir, "in tcp 192.0.2.1 -> 192.0.2.2:65535"));
	/* per-protocol sets */
	assert_true(matches(ir, "in udp 192.0.2.1 -> 192.0.2.2:53"));
	assert_false(matches(ir, "in udp 192.0.2.1 -> 192.0.2.2:22"));
	assert_false(matches(ir, "in dccp 192.0.2.1 -> 192.0.2.2:22"));
	/* empty port set: any port */
	assert_true(matches(ir, "in sctp 192.0.2.1 -> 192.0.2.2:0"));
	assert_true(matches(ir, "in sctp 2001:db8::1 -> [2001:db8::2]:65535"));
	/* other protocols do not match a rule with protocols */
	assert_false(matches(ir, "in icmp 192.0.2.1 -> 192.0.2.2"));
	assert_false(matches(ir, "in 50 192.0.2.1 -> 192.0.2.2"));
}

static void test_port_set_search(void **state)
{
	enum { N = 500 };
	static struct pc_port_range v[N];
	struct pc_port_set s = { N, v };

	(void)state;
	for (unsigned i = 0; i < N; i++) {
		v[i].lo = (uint16_t)(i * 100 + 10);
		v[i].hi = (uint16_t)(i * 100 + 10 + i % 50);
	}
	for (unsigned port = 0; port <= 65535; port++) {
		bool linear = false;

		for (unsigned i = 0; i < N; i++)
			if (port >= v[i].lo && port <= v[i].hi)
				linear = true;
		assert_int_equal(pc_port_set_contains(&s, (uint16_t)port), linear);
	}
}

static void test_icmp_types(void **state)
{
	uint8_t t4[] = { 0, 8 };
	uint8_t t6[] = { 128, 135, 136 };
	struct pc_l4 l4a[] = {
		{ .proto = PC_PROTO_ICMP, .n_types = 2, .types = t4 },
		{ .proto = PC_PROTO_ICMPV6, .n_types = 3, .types = t6 },
	};
	struct pc_l4 l4b[] = { { .proto = PC_PROTO_ICMP }, { .proto = 50 } };
	struct pc_rule r[] = { rule(PC_VERDICT_ALLOW, 1), rule(PC_VERDICT_REJECT, 2) };
	struct pc_ir *ir = ir_new(r, 2, PC_VERDICT_DENY);
	enum pc_verdict v;

	(void)state;
	r[0].n_l4 = 2;
	r[0].l4 = l4a;
	r[1].n_l4 = 2;
	r[1].l4 = l4b;
	assert_int_equal(eval_text(ir, "in icmp 192.0.2.1 -> 192.0.2.2 type echo-request", &v), 0);
	assert_int_equal(eval_text(ir, "in icmp 192.0.2.1 -> 192.0.2.2 type 0", &v), 0);
	assert_int_equal(eval_text(ir, "in icmp 192.0.2.1 -> 192.0.2.2 type 3", &v), 1);
	/* type unknown: only "any type" rules match */
	assert_int_equal(eval_text(ir, "in icmp 192.0.2.1 -> 192.0.2.2", &v), 1);
	assert_int_equal(eval_text(ir, "in icmpv6 2001:db8::1 -> 2001:db8::2 type nd-neighbor-solicit", &v), 0);
	assert_int_equal(eval_text(ir, "in icmpv6 2001:db8::1 -> 2001:db8::2 type nd-neighbor-advert", &v), 0);
	assert_int_equal(eval_text(ir, "in icmpv6 2001:db8::1 -> 2001:db8::2 type 129", &v), -1);
	assert_int_equal(eval_text(ir, "in icmpv6 2001:db8::1 -> 2001:db8::2", &v), -1);
	/* a protocol without ports or types */
	assert_int_equal(eval_text(ir, "in esp 2001:db8::1 -> 2001:db8::2", &v), 1);
	assert_int_equal(eval_text(ir, "in 51 2001:db8::1 -> 2001:db8::2", &v), -1);
	assert_int_equal(v, PC_VERDICT_DENY);
}

static void test_ct_state(void **state)
{
	struct pc_rule r[] = { rule(PC_VERDICT_ALLOW, 0), rule(PC_VERDICT_DENY, 0),
			       rule(PC_VERDICT_REJECT, 9) };
	struct pc_ir *ir = ir_new(r, 3, PC_VERDICT_DENY);
	enum pc_verdict v;

	(void)state;
	r[0].origin = PC_ORIGIN_CONNTRACK;
	r[0].ct_state = PC_CT_ESTABLISHED | PC_CT_RELATED;
	r[1].origin = PC_ORIGIN_CONNTRACK;
	r[1].ct_state = PC_CT_INVALID;
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.1 -> 192.0.2.2:22 state established", &v), 0);
	assert_int_equal(v, PC_VERDICT_ALLOW);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.1 -> 192.0.2.2:22 state related", &v), 0);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.1 -> 192.0.2.2:22 state invalid", &v), 1);
	assert_int_equal(v, PC_VERDICT_DENY);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.1 -> 192.0.2.2:22 state new", &v), 2);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.1 -> 192.0.2.2:22", &v), 2);
	assert_int_equal(v, PC_VERDICT_REJECT);
}

static void test_first_match_and_all_fields(void **state)
{
	struct pc_addr src[] = { pfx("192.0.2.0/24"), pfx("2001:db8:100::/48") };
	struct pc_addr dst[] = { pfx("198.51.100.1") };
	struct pc_port_range ssh[] = { { 22, 22 } };
	struct pc_l4 l4[] = { { .proto = PC_PROTO_TCP, .dports = { 1, ssh } } };
	struct pc_rule r[] = { rule(PC_VERDICT_ALLOW, 10), rule(PC_VERDICT_REJECT, 11),
			       rule(PC_VERDICT_DENY, 12) };
	struct pc_ir *ir = ir_new(r, 3, PC_VERDICT_ALLOW);
	enum pc_verdict v;

	(void)state;
	/* 10: allow tcp/22 from src to dst on eth0, rate-limited (never exceeded) */
	r[0].families = PC_FAM_IPV4 | PC_FAM_IPV6;
	r[0].iface = "eth0";
	r[0].saddr = (struct pc_addr_set){ "admins", 2, src };
	r[0].daddr = (struct pc_addr_set){ NULL, 1, dst };
	r[0].n_l4 = 1;
	r[0].l4 = l4;
	r[0].limit.rate = 1;
	/* 11: reject tcp/22 from anywhere */
	r[1].n_l4 = 1;
	r[1].l4 = l4;
	/* 12: deny anything from src */
	r[2].saddr = (struct pc_addr_set){ NULL, 2, src };
	assert_int_equal(eval_text(ir, "in on eth0 tcp 192.0.2.9 -> 198.51.100.1:22", &v), 0);
	assert_int_equal(v, PC_VERDICT_ALLOW);
	/* each field of rule 10 in turn fails: rule 11 or 12 decides */
	assert_int_equal(eval_text(ir, "in on eth1 tcp 192.0.2.9 -> 198.51.100.1:22", &v), 1);
	assert_int_equal(eval_text(ir, "in on eth0 tcp 192.0.3.9 -> 198.51.100.1:22", &v), 1);
	assert_int_equal(eval_text(ir, "in on eth0 tcp 192.0.2.9 -> 198.51.100.2:22", &v), 1);
	assert_int_equal(eval_text(ir, "in on eth0 tcp 192.0.2.9 -> 198.51.100.1:23", &v), 2);
	assert_int_equal(v, PC_VERDICT_DENY);
	assert_int_equal(eval_text(ir, "in on eth0 udp 192.0.2.9 -> 198.51.100.1:22", &v), 2);
	/* IPv6: destination set is IPv4-only, so rule 10 cannot match */
	assert_int_equal(eval_text(ir, "in on eth0 tcp 2001:db8:100::1 -> [2001:db8::1]:22", &v), 1);
	assert_int_equal(eval_text(ir, "in on eth0 udp 2001:db8:100:ffff::1 -> [2001:db8::1]:22", &v), 2);
	assert_int_equal(eval_text(ir, "in on eth0 udp 2001:db8:101::1 -> [2001:db8::1]:22", &v), -1);
	assert_int_equal(v, PC_VERDICT_ALLOW);
}

static void test_reject_default_rule(void **state)
{
	struct pc_rule r[] = { rule(PC_VERDICT_ALLOW, 5), rule(PC_VERDICT_REJECT, 2) };
	struct pc_port_range web[] = { { 80, 80 }, { 443, 443 } };
	struct pc_l4 l4[] = { { .proto = PC_PROTO_TCP, .dports = { 2, web } } };
	struct pc_ir *ir = ir_new(r, 2, PC_VERDICT_DENY);
	enum pc_verdict v;

	(void)state;
	r[0].n_l4 = 1;
	r[0].l4 = l4;
	r[1].origin = PC_ORIGIN_DEFAULT;
	assert_int_equal(eval_text(ir, "in tcp 2001:db8::2 -> [2001:db8::1]:443", &v), 0);
	assert_int_equal(v, PC_VERDICT_ALLOW);
	assert_int_equal(eval_text(ir, "in tcp 2001:db8::2 -> [2001:db8::1]:444", &v), 1);
	assert_int_equal(v, PC_VERDICT_REJECT);
	assert_int_equal(eval_text(ir, "in icmp 192.0.2.1 -> 192.0.2.2", &v), 1);
	assert_int_equal(v, PC_VERDICT_REJECT);
}

/* A verdict map made by the optimiser: the element decides, else the next rule. */
static void test_map_rule(void **state)
{
	/* the policy rules the elements come from */
	struct pc_rule from[] = { rule(PC_VERDICT_DENY, 4), rule(PC_VERDICT_ALLOW, 3),
				  rule(PC_VERDICT_DENY, 5) };
	struct pc_map_elem el[] = {
		{ .saddr = pfx("0.0.0.0/0"), .proto = PC_PROTO_UDP, .dport = { 53, 53 },
		  .verdict = PC_VERDICT_DENY, .rule = &from[0] },
		{ .saddr = pfx("10.0.0.0/8"), .proto = PC_PROTO_TCP, .dport = { 22, 22 },
		  .verdict = PC_VERDICT_ALLOW, .rule = &from[1] },
		{ .saddr = pfx("192.0.2.128/25"), .proto = PC_PROTO_TCP, .dport = { 1000, 2000 },
		  .verdict = PC_VERDICT_DENY, .rule = &from[2] },
	};
	struct pc_rule r[] = { rule(PC_VERDICT_ALLOW, 0), rule(PC_VERDICT_REJECT, 9) };
	struct pc_ir *ir = ir_new(r, 2, PC_VERDICT_DENY);
	const struct pc_map_elem *e;
	struct pc_packet p;
	char ifbuf[16];
	enum pc_verdict v;

	(void)state;
	r[0].families = PC_FAM_IPV4;
	r[0].n_map = 3;
	r[0].map = el;
	assert_int_equal(eval_text(ir, "in tcp 10.0.0.0 -> 192.0.2.1:22", &v), 0);
	assert_int_equal(v, PC_VERDICT_ALLOW);
	assert_int_equal(eval_text(ir, "in tcp 10.255.255.255 -> 192.0.2.1:22", &v), 0);
	assert_int_equal(eval_text(ir, "in tcp 11.0.0.0 -> 192.0.2.1:22", &v), 1);
	assert_int_equal(v, PC_VERDICT_REJECT);
	assert_int_equal(eval_text(ir, "in tcp 10.0.0.1 -> 192.0.2.1:23", &v), 1);
	assert_int_equal(eval_text(ir, "in udp 203.0.113.1 -> 192.0.2.1:53", &v), 0);
	assert_int_equal(v, PC_VERDICT_DENY);
	assert_int_equal(eval_text(ir, "in tcp 203.0.113.1 -> 192.0.2.1:53", &v), 1);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.128 -> 192.0.2.1:1000", &v), 0);
	assert_int_equal(v, PC_VERDICT_DENY);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.255 -> 192.0.2.1:2000", &v), 0);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.127 -> 192.0.2.1:2000", &v), 1);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.255 -> 192.0.2.1:2001", &v), 1);
	/* the map is IPv4 only; ports-less protocols never match a map */
	assert_int_equal(eval_text(ir, "in udp 2001:db8::1 -> [2001:db8::2]:53", &v), 1);
	assert_int_equal(eval_text(ir, "in icmp 10.0.0.1 -> 192.0.2.1", &v), 1);
	/* pc_map_lookup names the element (and with it the policy line) */
	assert_int_equal(pc_packet_parse("in tcp 10.1.1.1 -> 192.0.2.1:22", &p, ifbuf, NULL), 0);
	e = pc_map_lookup(&r[0], &p);
	assert_non_null(e);
	assert_int_equal(pc_map_elem_loc(e)->line, 3);
	assert_true(pc_rule_match(&r[0], &p));
	p.dport = 21;
	assert_null(pc_map_lookup(&r[0], &p));
	assert_false(pc_rule_match(&r[0], &p));
}

/* issue 14: source ports, and a dynamic set's members as the packet says */
static void test_source_port_and_members(void **state)
{
	struct pc_port_range sp = { 1024, 2047 };
	struct pc_l4 l4 = { .proto = PC_PROTO_TCP };
	struct pc_rule r[2];
	struct pc_ir *ir;
	struct pc_packet p;
	char ifbuf[16], text[160];
	enum pc_verdict v;

	(void)state;
	r[0] = rule(PC_VERDICT_ALLOW, 1);
	r[0].n_l4 = 1;
	r[0].l4 = &l4;
	r[0].sports.n = 1;
	r[0].sports.v = &sp;
	r[1] = rule(PC_VERDICT_DENY, 2);
	r[1].saddr.name = "blocklist";   /* dynamic: a name and no prefix */
	ir = ir_new(r, 2, PC_VERDICT_ALLOW);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.5:1023 -> 198.51.100.1:22", &v), -1);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.5:1024 -> 198.51.100.1:22", &v), 0);
	assert_int_equal(eval_text(ir, "in tcp [2001:db8::5]:2047 -> [2001:db8::1]:22", &v), 0);
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.5:2048 -> 198.51.100.1:22", &v), -1);
	/* no source port given: a rule with source ports does not match */
	assert_int_equal(eval_text(ir, "in tcp 192.0.2.5 -> 198.51.100.1:22", &v), -1);
	assert_int_equal(pc_packet_parse("in tcp 192.0.2.5:9 -> 198.51.100.1:22", &p, ifbuf, NULL), 0);
	assert_true(p.has_sport);
	assert_int_equal(p.sport, 9);
	pc_packet_format(&p, text, sizeof(text));
	assert_string_equal(text, "in tcp 192.0.2.5:9 -> 198.51.100.1:22");
	assert_int_equal(pc_packet_parse("in udp [2001:db8::5]:53 -> [2001:db8::1]:53", &p, ifbuf, NULL), 0);
	pc_packet_format(&p, text, sizeof(text));
	assert_string_equal(text, "in udp [2001:db8::5]:53 -> [2001:db8::1]:53");
	/* the dynamic set holds the source only when the packet says so */
	assert_int_equal(pc_ir_eval(ir, &p, &v), -1);
	p.src_member = "blocklist";
	assert_int_equal(pc_ir_eval(ir, &p, &v), 1);
	p.src_member = "other";
	assert_int_equal(pc_ir_eval(ir, &p, &v), -1);
}

/* ---- the packet syntax ------------------------------------------------- */

static void test_parse_fields(void **state)
{
	struct pc_packet p;
	char ifbuf[16];
	uint8_t a[16] = { 0 };

	(void)state;
	assert_int_equal(pc_packet_parse("in tcp 192.0.2.5 -> 198.51.100.1:22", &p, ifbuf, NULL), 0);
	assert_int_equal(p.dir, PC_DIR_IN);
	assert_int_equal(p.family, PC_FAM_IPV4);
	assert_int_equal(p.proto, PC_PROTO_TCP);
	inet_pton(AF_INET, "192.0.2.5", a);
	assert_memory_equal(p.saddr, a, 16);
	inet_pton(AF_INET, "198.51.100.1", a);
	assert_memory_equal(p.daddr, a, 16);
	assert_int_equal(p.dport, 22);
	assert_int_equal(p.icmp_type, -1);
	assert_null(p.iface);
	assert_int_equal(p.ct_state, PC_CT_NEW);

	assert_int_equal(pc_packet_parse("  out   on wg0 udp [2001:db8::1]->[2001:db8::2]:65535 state established ",
					 &p, ifbuf, NULL), 0);
	assert_int_equal(p.dir, PC_DIR_OUT);
	assert_int_equal(p.family, PC_FAM_IPV6);
	assert_int_equal(p.proto, PC_PROTO_UDP);
	assert_string_equal(p.iface, "wg0");
	assert_int_equal(p.dport, 65535);
	assert_int_equal(p.ct_state, PC_CT_ESTABLISHED);
	inet_pton(AF_INET6, "2001:db8::2", a);
	assert_memory_equal(p.daddr, a, 16);

	assert_int_equal(pc_packet_parse("forward icmpv6 2001:db8::1 -> 2001:db8::2 type packet-too-big on eth1 state related",
					 &p, ifbuf, NULL), 0);
	assert_int_equal(p.dir, PC_DIR_FORWARD);
	assert_int_equal(p.proto, PC_PROTO_ICMPV6);
	assert_int_equal(p.icmp_type, 2);
	assert_string_equal(p.iface, "eth1");
	assert_int_equal(p.ct_state, PC_CT_RELATED);

	assert_int_equal(pc_packet_parse("in sctp 192.0.2.1->192.0.2.2:0 state invalid", &p, ifbuf, NULL), 0);
	assert_int_equal(p.proto, PC_PROTO_SCTP);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.ct_state, PC_CT_INVALID);

	assert_int_equal(pc_packet_parse("in 47 192.0.2.1 -> 192.0.2.2", &p, ifbuf, NULL), 0);
	assert_int_equal(p.proto, 47);
	assert_int_equal(pc_packet_parse("in icmp 192.0.2.1 -> 192.0.2.2 type 13", &p, ifbuf, NULL), 0);
	assert_int_equal(p.icmp_type, 13);
}

struct bad_packet {
	const char *text;
	const char *bad;   /* the part the error must point at, "" for the end */
	const char *msg;   /* a substring of the message */
};

static void test_parse_errors(void **state)
{
	static const struct bad_packet bad[] = {
		{ "", "", "empty packet" },
		{ "inn tcp 192.0.2.5 -> 198.51.100.1:22", "inn", "direction" },
		{ "in tpc 192.0.2.5 -> 198.51.100.1:22", "tpc", "protocol" },
		{ "in 256 192.0.2.5 -> 198.51.100.1:22", "256", "protocol" },
		{ "in tcp 192.0.2.x -> 198.51.100.1:22", "192.0.2.x", "not an IPv4 or IPv6 address" },
		{ "in tcp 192.0.2.5:99999 -> 198.51.100.1:22", "99999", "not a port" },
		{ "in icmp 192.0.2.5:99 -> 198.51.100.1", ":99", "has no ports" },
		{ "in tcp 192.0.2.5 198.51.100.1:22", "198.51.100.1:22", "'->'" },
		{ "in tcp 192.0.2.5 ->", "", "destination" },
		{ "in tcp 192.0.2.5 -> 198.51.100.1", "198.51.100.1", "destination port" },
		{ "in tcp 192.0.2.5 -> 198.51.100.1:", "", "not a port" },
		{ "in tcp 192.0.2.5 -> 198.51.100.1:65536", "65536", "not a port" },
		{ "in tcp 192.0.2.5 -> 198.51.100.1:ssh", "ssh", "not a port" },
		{ "in tcp 192.0.2.5 -> 198.51.100.1:-1", "-1", "not a port" },
		{ "in tcp 192.0.2.5 -> 198.51.100.999:22", "198.51.100.999", "not an IPv4" },
		{ "in tcp 2001:db8::1 -> 2001:db8::2:22", "2001:db8::2:22", "[ADDRESS]:PORT" },
		{ "in tcp 2001:db8::1 -> [2001:db8::2:22", "[2001:db8::2:22", "missing ']'" },
		{ "in tcp 2001:db8::1 -> [2001:db8::2]", "[2001:db8::2]", "[ADDRESS]:PORT" },
		{ "in tcp 2001:db8::1 -> [2001:db8::2]22", "[2001:db8::2]22", "':PORT'" },
		{ "in tcp 192.0.2.1 -> [2001:db8::2]:22", "[2001:db8::2]:22", "different families" },
		{ "in udp [192.0.2.1] -> 192.0.2.2:22", "[192.0.2.1]", "not an IPv4" },
		{ "in icmp 192.0.2.1 -> 192.0.2.2:8", ":8", "no ports" },
		{ "in icmp 2001:db8::1 -> 2001:db8::2", "icmp", "icmpv6" },
		{ "in icmpv6 192.0.2.1 -> 192.0.2.2", "icmpv6", "IPv6 only" },
		{ "in icmp 192.0.2.1 -> 192.0.2.2 type ping", "ping", "ICMP type" },
		{ "in icmp 192.0.2.1 -> 192.0.2.2 type echo-requst", "echo-requst", "did you mean 'echo-request'" },
		{ "in icmpv6 2001:db8::1 -> 2001:db8::2 type 256", "256", "ICMPv6 type" },
		{ "in icmp 192.0.2.1 -> 192.0.2.2 type nd-neighbor-solicit", "nd-neighbor-solicit", "ICMP type" },
		{ "in icmp 192.0.2.1 -> 192.0.2.2 type", "", "ICMP type" },
		{ "in icmp 192.0.2.1 -> 192.0.2.2 type 8 type 0", "type", "twice" },
		{ "in tcp 192.0.2.1 -> 192.0.2.2:1 type 8", "type", "icmp" },
		{ "in tcp 192.0.2.1 -> 192.0.2.2:1 state old", "old", "established" },
		{ "in tcp 192.0.2.1 -> 192.0.2.2:1 state", "", "established" },
		{ "in tcp 192.0.2.1 -> 192.0.2.2:1 on", "", "interface" },
		{ "in on eth0 tcp 192.0.2.1 -> 192.0.2.2:1 on eth1", "on", "twice" },
		{ "in on averyveryverylongname tcp 192.0.2.1 -> 192.0.2.2:1", "averyveryverylongname", "interface" },
		{ "in tcp 192.0.2.1 -> 192.0.2.2:1 extra", "extra", "unexpected" },
		{ "in on", "", "interface" },
		{ "in", "", "protocol" },
		{ "in tcp", "", "source" },
		{ "a b c d e f g h i j k l m n o p q", "q", "too many" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pc_packet p;
		struct pc_packet_error err;
		char ifbuf[16];
		size_t blen = strlen(bad[i].bad);

		memset(&err, 0, sizeof(err));
		if (pc_packet_parse(bad[i].text, &p, ifbuf, &err) == 0)
			fail_msg("accepted: '%s'", bad[i].text);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].text, err.msg, bad[i].msg);
		if (blen == 0) {
			if (err.col != strlen(bad[i].text) || err.len != 0)
				fail_msg("'%s': points at %zu+%zu, not the end", bad[i].text,
					 err.col, err.len);
		} else if (err.len != blen ||
			   strncmp(bad[i].text + err.col, bad[i].bad, blen) != 0) {
			fail_msg("'%s': points at '%.*s', not '%s'", bad[i].text,
				 (int)err.len, bad[i].text + err.col, bad[i].bad);
		}
	}
}

/* format(parse(x)) is canonical and parses back to the same packet. */
static void test_format_round_trip(void **state)
{
	static const char *const texts[][2] = {
		{ "in tcp 192.0.2.5 -> 198.51.100.1:22", NULL },
		{ "in tcp 192.0.2.5->198.51.100.1:22", "in tcp 192.0.2.5 -> 198.51.100.1:22" },
		{ "out on eth0 udp 2001:db8::1 -> [2001:db8::2]:53 state established", NULL },
		{ "forward udp [2001:db8::1] -> [2001:db8::2]:53 on eth0",
		  "forward on eth0 udp 2001:db8::1 -> [2001:db8::2]:53" },
		{ "in icmp 192.0.2.5 -> 198.51.100.1 type 8", "in icmp 192.0.2.5 -> 198.51.100.1 type echo-request" },
		{ "in icmpv6 2001:db8::1 -> 2001:db8::2 type 135",
		  "in icmpv6 2001:db8::1 -> 2001:db8::2 type nd-neighbor-solicit" },
		{ "in icmp 192.0.2.5 -> 198.51.100.1 type 200", NULL },
		{ "in tcp 127.0.0.1 -> 127.0.0.1:22", "in on lo tcp 127.0.0.1 -> 127.0.0.1:22" },
		{ "in 99 192.0.2.5 -> 198.51.100.1 state invalid", NULL },
		{ "in esp 192.0.2.5 -> 198.51.100.1 state related", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct pc_packet p, q;
		char ifbuf[16], ifbuf2[16], out[128];
		const char *want = texts[i][1] ? texts[i][1] : texts[i][0];

		assert_int_equal(pc_packet_parse(texts[i][0], &p, ifbuf, NULL), 0);
		pc_packet_format(&p, out, sizeof(out));
		assert_string_equal(out, want);
		assert_int_equal(pc_packet_parse(out, &q, ifbuf2, NULL), 0);
		assert_int_equal(p.dir, q.dir);
		assert_int_equal(p.family, q.family);
		assert_int_equal(p.proto, q.proto);
		assert_memory_equal(p.saddr, q.saddr, 16);
		assert_memory_equal(p.daddr, q.daddr, 16);
		assert_int_equal(p.dport, q.dport);
		assert_int_equal(p.icmp_type, q.icmp_type);
		assert_int_equal(p.ct_state, q.ct_state);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_decides_empty_chain),
		cmocka_unit_test(test_match_all_rule),
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_iface),
		cmocka_unit_test(test_prefix_edges_v4),
		cmocka_unit_test(test_prefix_edges_v6_and_mixed),
		cmocka_unit_test(test_prefix_set_search),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_port_set_search),
		cmocka_unit_test(test_icmp_types),
		cmocka_unit_test(test_ct_state),
		cmocka_unit_test(test_first_match_and_all_fields),
		cmocka_unit_test(test_reject_default_rule),
		cmocka_unit_test(test_map_rule),
		cmocka_unit_test(test_source_port_and_members),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_format_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
