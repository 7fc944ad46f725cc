/* SPDX-License-Identifier: MIT */
/* Unit tests of the policy front end: parse + resolve into the IR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "assert_text.h"

#include "policy/policy.h"
#include "registry/registry.h"
#include "policy/resolve.h"
#include "common/util.h"

static struct pc_registry *reg;

static int setup(void **state)
{
	struct pc_diag *d = pc_diag_create();

	reg = pc_registry_create();
	if (pc_registry_load(reg, PC_SOURCE_DATADIR "/service-names-port-numbers.csv", false, d)) {
		pc_diag_print(d, stderr, false);
		return -1;
	}
	pc_registry_finish(reg);
	pc_diag_destroy(d);
	return 0;
}

static int teardown(void **state)
{
	pc_registry_destroy(reg);
	return 0;
}

/* Loads @text; returns the IR (NULL on errors); the diagnostics go to *out. */
static struct pc_ir *load(const char *text, char **out)
{
	struct pc_diag *d = pc_diag_create();
	struct pc_ir *ir = pc_policy_load_buffer("t.policy", text, strlen(text), reg, 0, d);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	pc_diag_print(d, f, false);
	fclose(f);
	if (!buf)
		buf = xstrdup("");
	pc_diag_destroy(d);
	if (out)
		*out = buf;
	else
		free(buf);
	return ir;
}

/* The first policy rule of a direction. */
static const struct pc_rule *first_rule(const struct pc_ir *ir, enum pc_direction dir)
{
	const struct pc_chain *c = &ir->chains[dir];

	for (size_t i = 0; i < c->n; i++)
		if (c->rules[i].origin == PC_ORIGIN_POLICY)
			return &c->rules[i];
	return NULL;
}

static const struct pc_l4 *l4_of(const struct pc_rule *r, unsigned proto)
{
	for (size_t i = 0; i < r->n_l4; i++)
		if (r->l4[i].proto == proto)
			return &r->l4[i];
	return NULL;
}

static void test_service_default_transports(void **state)
{
	struct pc_ir *ir = load("allow in service https\n", NULL);
	const struct pc_rule *r;

	assert_non_null(ir);
	r = first_rule(ir, PC_DIR_IN);
	assert_non_null(r);
	assert_int_equal(r->n_l4, 2); /* tcp and udp, not sctp */
	assert_int_equal(l4_of(r, PC_PROTO_TCP)->dports.n, 1);
	assert_int_equal(l4_of(r, PC_PROTO_TCP)->dports.v[0].lo, 443);
	assert_int_equal(l4_of(r, PC_PROTO_UDP)->dports.v[0].hi, 443);
	assert_null(l4_of(r, PC_PROTO_SCTP));
	assert_int_equal(r->families, PC_FAM_ALL);
	assert_int_equal(r->verdict, PC_VERDICT_ALLOW);
	assert_int_equal(r->loc.line, 1);
	assert_int_equal(r->loc.col, 1);
	pc_ir_destroy(ir);
}

static void test_service_proto_and_case(void **state)
{
	struct pc_ir *ir = load("allow in service SSH/sctp\n", NULL);
	const struct pc_rule *r;

	assert_non_null(ir);
	r = first_rule(ir, PC_DIR_IN);
	assert_int_equal(r->n_l4, 1);
	assert_int_equal(r->l4[0].proto, PC_PROTO_SCTP);
	assert_int_equal(r->l4[0].dports.v[0].lo, 22);
	pc_ir_destroy(ir);
}

/* IANA rows with no transport (flex-lm 27000-27009) apply to every transport. */
static void test_service_without_transport(void **state)
{
	struct pc_ir *ir = load("allow in service flex-lm\nallow in service flex-lm/sctp\n", NULL);
	const struct pc_rule *r;

	assert_non_null(ir);
	r = first_rule(ir, PC_DIR_IN);
	assert_int_equal(r->n_l4, 2);
	assert_int_equal(l4_of(r, PC_PROTO_TCP)->dports.v[0].lo, 27000);
	assert_int_equal(l4_of(r, PC_PROTO_UDP)->dports.v[0].hi, 27009);
	assert_int_equal(r[1].l4[0].proto, PC_PROTO_SCTP);
	pc_ir_destroy(ir);
}

static void test_multi_port_name_warns(void **state)
{
	char *msg;
	struct pc_ir *ir = load("allow in service http-alt/tcp\n", &msg);
	const struct pc_l4 *l;

	assert_non_null(ir);
	l = l4_of(first_rule(ir, PC_DIR_IN), PC_PROTO_TCP);
	assert_int_equal(l->dports.n, 3);
	assert_int_equal(l->dports.v[0].lo, 591);
	assert_int_equal(l->dports.v[1].lo, 8008);
	assert_int_equal(l->dports.v[2].lo, 8080);
	assert_non_null(strstr(msg, "t.policy:1:18: warning: service 'http-alt' expands to several ports: 591, 8008, 8080"));
	free(msg);
	pc_ir_destroy(ir);
}

static void test_ports_merged_sorted(void **state)
{
	struct pc_ir *ir = load("allow in port { 443, 80, 81, 82-90, 100-200, 150-160 }/tcp\n", NULL);
	const struct pc_l4 *l;

	assert_non_null(ir);
	l = l4_of(first_rule(ir, PC_DIR_IN), PC_PROTO_TCP);
	assert_int_equal(l->dports.n, 3);
	assert_int_equal(l->dports.v[0].lo, 80);
	assert_int_equal(l->dports.v[0].hi, 90);
	assert_int_equal(l->dports.v[1].lo, 100);
	assert_int_equal(l->dports.v[1].hi, 200);
	assert_int_equal(l->dports.v[2].lo, 443);
	pc_ir_destroy(ir);
}

static void test_classes(void **state)
{
	struct pc_ir *ir = load("allow in class dynamic/udp\nallow out class user\n", NULL);
	const struct pc_l4 *l;

	assert_non_null(ir);
	l = l4_of(first_rule(ir, PC_DIR_IN), PC_PROTO_UDP);
	assert_int_equal(l->dports.v[0].lo, 49152);
	assert_int_equal(l->dports.v[0].hi, 65535);
	l = l4_of(first_rule(ir, PC_DIR_OUT), PC_PROTO_TCP);
	assert_int_equal(l->dports.v[0].lo, 1024);
	assert_int_equal(l->dports.v[0].hi, 49151);
	pc_ir_destroy(ir);
}

static void test_family_inference(void **state)
{
	struct pc_ir *ir = load(
		"hosts mixed = { 192.0.2.0/24, 2001:db8::/32 }\n"
		"allow in service ssh/tcp from 192.0.2.0/24\n"
		"allow out icmpv6 echo-request\n"
		"allow forward from $mixed to 2001:db8:1::1\n", NULL);
	const struct pc_rule *r;

	assert_non_null(ir);
	assert_int_equal(first_rule(ir, PC_DIR_IN)->families, PC_FAM_IPV4);
	assert_int_equal(first_rule(ir, PC_DIR_OUT)->families, PC_FAM_IPV6);
	r = first_rule(ir, PC_DIR_FORWARD);
	assert_int_equal(r->families, PC_FAM_IPV6);
	/* the IPv4 half of $mixed cannot apply and is gone */
	assert_int_equal(r->saddr.n, 1);
	assert_int_equal(r->saddr.v[0].family, PC_FAM_IPV6);
	assert_int_equal(r->saddr.v[0].plen, 32);
	pc_ir_destroy(ir);
}

/*
 * The IR says how big its structs are (plugins step by these sizes, so that
 * the structs can grow), and a group's address set carries the group's
 * definition, which a kernel refusal of its elements names (issue 10).
 */
static void test_ir_sizes_and_group_location(void **state)
{
	struct pc_ir *ir = load(
		"table t\n"
		"\n"
		"hosts  admins = { 192.0.2.0/24 }\n"
		"allow in service ssh/tcp from $admins\n"
		"allow in service http/tcp from { $admins }\n"
		"allow in service https/tcp from { $admins, 198.51.100.1 }\n", NULL);
	const struct pc_chain *c;

	assert_non_null(ir);
	assert_int_equal(ir->size, sizeof(struct pc_ir));
	assert_int_equal(ir->rule_size, sizeof(struct pc_rule));
	assert_int_equal(ir->l4_size, sizeof(struct pc_l4));
	assert_int_equal(ir->map_elem_size, sizeof(struct pc_map_elem));
	c = &ir->chains[PC_DIR_IN];
	for (size_t i = 0; i < c->n; i++) {
		const struct pc_rule *r = &c->rules[i];

		if (r->origin != PC_ORIGIN_POLICY)
			continue;
		if (r->loc.line == 6) {
			/* not one group: no name, no group location */
			assert_null(r->saddr.name);
			assert_int_equal(r->saddr.loc.line, 0);
			continue;
		}
		assert_string_equal(r->saddr.name, "admins");
		assert_string_equal(r->saddr.loc.file, "t.policy");
		assert_int_equal(r->saddr.loc.line, 3);
		assert_int_equal(r->saddr.loc.col, 8);
	}
	pc_ir_destroy(ir);
}

static void test_addresses_normalized_and_named(void **state)
{
	struct pc_ir *ir = load(
		"hosts lan = { 198.51.100.0/24, 192.0.2.0/24, 192.0.2.128/25, 192.0.2.7 }\n"
		"allow in from $lan\n", NULL);
	const struct pc_rule *r;

	assert_non_null(ir);
	r = first_rule(ir, PC_DIR_IN);
	assert_string_equal(r->saddr.name, "lan");
	assert_int_equal(r->saddr.n, 2);
	assert_int_equal(r->saddr.v[0].a[0], 192);
	assert_int_equal(r->saddr.v[1].a[0], 198);
	assert_int_equal(r->n_l4, 0);
	pc_ir_destroy(ir);
}

/*
 * Memory (issue 15): rules with the same addresses share one list, and
 * rules naming the same group one copy of its name; a list of another
 * content, or the group's list cut to one family, is a list of its own.
 */
static void test_addresses_shared(void **state)
{
	struct pc_ir *ir = load(
		"hosts lan = { 192.0.2.0/24, 2001:db8::/32 }\n"
		"allow in port 22/tcp from $lan\n"
		"allow in port 80/tcp from { 2001:db8::/32, 192.0.2.0/24 } to $lan\n"
		"allow in port 443/tcp from $lan\n"
		"allow in icmp echo-request from $lan\n"
		"allow in port 25/tcp from 198.51.100.0/24\n", NULL);
	const struct pc_chain *c;
	const struct pc_rule *r[5];
	size_t k = 0;

	(void)state;
	assert_non_null(ir);
	c = &ir->chains[PC_DIR_IN];
	for (size_t i = 0; i < c->n; i++)
		if (c->rules[i].origin == PC_ORIGIN_POLICY && k < 5)
			r[k++] = &c->rules[i];
	assert_int_equal(k, 5);
	assert_ptr_equal(r[0]->saddr.v, r[2]->saddr.v);
	assert_ptr_equal(r[0]->saddr.v, r[1]->saddr.v);  /* same content, written out */
	assert_ptr_equal(r[0]->saddr.v, r[1]->daddr.v);
	assert_ptr_equal(r[0]->saddr.name, r[2]->saddr.name);
	assert_string_equal(r[2]->saddr.name, "lan");
	assert_null(r[1]->saddr.name);
	assert_int_equal(r[3]->saddr.n, 1);              /* IPv4 only: icmp */
	assert_ptr_not_equal(r[3]->saddr.v, r[0]->saddr.v);
	assert_ptr_not_equal(r[4]->saddr.v, r[0]->saddr.v);
	assert_int_equal(r[4]->saddr.v[0].a[0], 198);
	pc_ir_destroy(ir);
}

static void test_builtins_and_defaults(void **state)
{
	struct pc_ir *ir = load("default in reject\n", NULL);
	const struct pc_chain *in;

	assert_non_null(ir);
	in = &ir->chains[PC_DIR_IN];
	assert_int_equal(in->rules[0].origin, PC_ORIGIN_CONNTRACK);
	assert_int_equal(in->rules[0].ct_state, PC_CT_ESTABLISHED | PC_CT_RELATED);
	assert_int_equal(in->rules[1].ct_state, PC_CT_INVALID);
	assert_int_equal(in->rules[1].verdict, PC_VERDICT_DENY);
	assert_int_equal(in->rules[2].origin, PC_ORIGIN_LOOPBACK);
	assert_string_equal(in->rules[2].iface, "lo");
	assert_int_equal(in->rules[4].origin, PC_ORIGIN_ESSENTIAL_ICMP);
	assert_int_equal(in->rules[4].l4[0].proto, PC_PROTO_ICMPV6);
	assert_memory_equal(in->rules[4].l4[0].types,
			    ((uint8_t[]){ 1, 2, 3, 4, 133, 134, 135, 136 }), 8);
	assert_int_equal(in->rules[in->n - 1].origin, PC_ORIGIN_DEFAULT);
	assert_int_equal(in->rules[in->n - 1].verdict, PC_VERDICT_REJECT);
	assert_int_equal(in->policy, PC_VERDICT_DENY);
	assert_int_equal(ir->chains[PC_DIR_OUT].policy, PC_VERDICT_ALLOW);
	assert_int_equal(ir->chains[PC_DIR_FORWARD].policy, PC_VERDICT_DENY);
	/* no loopback rule and no neighbour discovery in forward */
	for (size_t i = 0; i < ir->chains[PC_DIR_FORWARD].n; i++)
		assert_int_not_equal(ir->chains[PC_DIR_FORWARD].rules[i].origin, PC_ORIGIN_LOOPBACK);
	pc_ir_destroy(ir);
}

static void test_options_switch_builtins_off(void **state)
{
	struct pc_ir *ir = load("option stateless\noption filter-loopback\n"
				"option no-essential-icmp\n", NULL);

	assert_non_null(ir);
	for (unsigned d = 0; d < __PC_DIR_MAX; d++)
		assert_int_equal(ir->chains[d].n, 0);
	assert_int_equal(ir->options, PC_OPT_STATELESS | PC_OPT_FILTER_LOOPBACK |
				      PC_OPT_NO_ESSENTIAL_ICMP);
	pc_ir_destroy(ir);
}

static void test_rule_attributes(void **state)
{
	struct pc_ir *ir = load("table web\n"
				"allow in on eth0 service ssh/tcp log \"ssh \" limit 10/minute comment \"admins\"\n",
				NULL);
	const struct pc_rule *r;

	assert_non_null(ir);
	assert_string_equal(ir->table, "web");
	r = first_rule(ir, PC_DIR_IN);
	assert_string_equal(r->iface, "eth0");
	assert_true(r->log);
	assert_string_equal(r->log_prefix, "ssh ");
	assert_int_equal(r->limit.rate, 10);
	assert_int_equal(r->limit.unit, PC_LIMIT_MINUTE);
	assert_string_equal(r->comment, "admins");
	pc_ir_destroy(ir);
}

struct error_case {
	const char *policy;
	const char *expect;  /* substring of the diagnostics */
};

static const struct error_case errors[] = {
	{ "allow in service htps\n", "t.policy:1:18: error: unknown service 'htps' (did you mean" },
	{ "allow in service argus\n", "t.policy:1:18: error: service 'argus' is registered with no port" },
	{ "allow in service imaps/udp\n", "t.policy:1:24: error: service 'imaps' is not registered for udp" },
	{ "allow in port 65536\n", "t.policy:1:15: error: port 65536 out of range 0-65535" },
	{ "allow in port 9000-8000\n", "t.policy:1:15: error: reversed port range 9000-8000 (did you mean 8000-9000?)" },
	{ "allow in from 192.0.2.1/24\n", "t.policy:1:15: error: host bits set in 192.0.2.1/24 (did you mean 192.0.2.0/24?)" },
	{ "allow in from 192.0.2.0/33\n", "t.policy:1:15: error: bad prefix length '/33'" },
	{ "allow in from 2001:db8:::1\n", "t.policy:1:15: error: bad IPv6 address" },
	{ "allow in from $nope\n", "t.policy:1:15: error: undefined group '$nope'" },
	{ "hosts a = { 192.0.2.1 }\nhosts a = { 192.0.2.2 }\n", "t.policy:2:7: error: group 'a' defined twice (first at t.policy:1)" },
	{ "permit in service ssh\n", "t.policy:1:1: error: unknown keyword 'permit'" },
	{ "allow in servcie ssh\n", "t.policy:1:10: error: unknown keyword 'servcie' in rule" },
	{ "allow in service ssh \"open\n", "t.policy:1:22: error: unterminated string" },
	{ "allow in icmp echo-request from 2001:db8::1\n", "error: rule can never match" },
	{ "allow in icmp echo-requets\n", "did you mean 'echo-request'?" },
	{ "default in maybe\n", "t.policy:1:12: error: expected allow, deny or reject, got 'maybe'" },
	{ "option paranoid\n", "t.policy:1:8: error: unknown option 'paranoid'" },
	{ "allow in service { ssh\n", "t.policy:1:18: error: unclosed '{'" },
	{ "hosts a = { $a }\n", "refers to itself" },
	{ "allow in service ssh limit 0/second\n", "rate must be a number from 1 to 1000000" },
	{ "table 9lives\n", "bad table name '9lives'" },
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < PC_ARRAY_SIZE(errors); i++) {
		char *msg;
		struct pc_ir *ir = load(errors[i].policy, &msg);

		if (ir || !strstr(msg, errors[i].expect))
			fail_msg("case %zu: %s\nwant: %s\ngot: %s", i, errors[i].policy,
				 errors[i].expect, msg);
		free(msg);
	}
}

static void test_all_errors_reported(void **state)
{
	char *msg;
	struct pc_ir *ir = load("allow in service nosuch1\nallow in port 99999\n"
				"frobnicate\nallow in from 1.2.3.4/40\n", &msg);
	const char *p = msg;
	int n = 0;

	assert_null(ir);
	while ((p = strstr(p, ": error: "))) {
		n++;
		p++;
	}
	assert_int_equal(n, 4);
	/* in source order */
	assert_text_in_order(msg, "t.policy:1:", "t.policy:2:");
	assert_text_in_order(msg, "t.policy:3:", "t.policy:4:");
	free(msg);
}

static void test_shadowing(void **state)
{
	char *msg;
	struct pc_ir *ir = load("allow in port 1-1000/tcp\n"
				"allow in port 1001-65535/tcp\n"
				"deny in service ssh/tcp from 192.0.2.0/24\n"
				"allow in service ssh/udp limit 1/second\n"
				"allow in service ssh/udp\n", &msg);

	assert_non_null(ir);
	assert_non_null(strstr(msg, "t.policy:3:1: warning: rule can never match: the rule at t.policy:1 covers it"));
	/* a rate-limited rule covers nothing */
	assert_null(strstr(msg, "t.policy:5:1: warning"));
	free(msg);
	pc_ir_destroy(ir);

	ir = load("allow in port 1-30000/tcp\nallow in port 30001-65535/tcp\n"
		  "allow in class user/tcp\n", &msg);
	assert_non_null(strstr(msg, "t.policy:3:1: warning: rule can never match: earlier rules together cover it"));
	free(msg);
	pc_ir_destroy(ir);
}

static void test_hostile_input(void **state)
{
	static const char nul[] = "allow in service ssh\nallow in \0 port 1\n";
	struct pc_diag *d = pc_diag_create();
	struct pc_ir *ir = pc_policy_load_buffer("t.policy", nul, sizeof(nul) - 1, reg, 0, d);
	char *big, *msg;

	assert_null(ir);
	assert_int_equal(pc_diag_count(d, PC_SEV_ERROR), 1);
	pc_diag_destroy(d);

	ir = load("allow in comment \"caf\xe9\"\n", &msg);
	assert_null(ir);
	assert_non_null(strstr(msg, "invalid UTF-8"));
	free(msg);

	big = xmalloc(200000);
	memset(big, 'a', 199999);
	big[199999] = '\0';
	ir = load(big, &msg);
	assert_null(ir);
	assert_non_null(strstr(msg, "line too long"));
	free(msg);
	free(big);

	/* deep group nesting: hosts groups resolve once, at their definition */
	{
		struct pc_buf b;

		pc_buf_init(&b);
		pc_buf_puts(&b, "hosts g0 = { 192.0.2.1 }\n");
		for (int i = 1; i < 200; i++)
			pc_buf_printf(&b, "hosts g%d = { $g%d }\n", i, i - 1);
		pc_buf_puts(&b, "allow in from $g199\n");
		ir = load(b.data, &msg);
		pc_buf_finish(&b);
		assert_non_null(ir);
		assert_int_equal(first_rule(ir, PC_DIR_IN)->saddr.n, 1);
		pc_ir_destroy(ir);
		free(msg);
	}
	/* services groups resolve once too (at their definition): deep
	 * nesting costs one level at a time, not a stack overflow */
	{
		struct pc_buf b;
		const struct pc_rule *r;

		pc_buf_init(&b);
		pc_buf_puts(&b, "services s0 = { ssh/tcp }\n");
		for (int i = 1; i < 200; i++)
			pc_buf_printf(&b, "services s%d = { $s%d }\n", i, i - 1);
		pc_buf_puts(&b, "allow in service $s199\n");
		ir = load(b.data, &msg);
		pc_buf_finish(&b);
		assert_non_null(ir);
		r = first_rule(ir, PC_DIR_IN);
		assert_int_equal(r->n_l4, 1);
		assert_int_equal(r->l4[0].dports.n, 1);
		assert_int_equal(r->l4[0].dports.v[0].lo, 22);
		pc_ir_destroy(ir);
		free(msg);
	}
	/* a services group that refers to itself is still an error */
	ir = load("services a = { ssh, $a }\nallow in service $a\n", &msg);
	assert_null(ir);
	assert_non_null(strstr(msg, "refers to itself"));
	free(msg);
}

/* A registry built from text files, for the de-assigned and overlay cases. */
static struct pc_registry *registry_from(const char *base, const char *overlay)
{
	char path[] = "/tmp/pc-test-registry-XXXXXX";
	struct pc_registry *r = pc_registry_create();
	struct pc_diag *d = pc_diag_create();
	const char *texts[2] = { base, overlay };

	for (int i = 0; i < 2 && texts[i]; i++) {
		int fd;

		strcpy(path, "/tmp/pc-test-registry-XXXXXX");
		fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, texts[i], strlen(texts[i])), (ssize_t)strlen(texts[i]));
		close(fd);
		assert_int_equal(pc_registry_load(r, path, i == 1, d), 0);
		unlink(path);
	}
	pc_registry_finish(r);
	pc_diag_destroy(d);
	return r;
}

static void test_deassigned_and_overlay(void **state)
{
	static const char csv[] =
		"Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,"
		"Registration Date,Modification Date,Reference,Service Code,"
		"Unauthorized Use Reported,Assignment Notes\n"
		"ssh,22,tcp,The Secure Shell (SSH) Protocol,,,,,[RFC4251],,,\n"
		"oldsvc,4242,tcp,Old service,,,,2025-02-13,,,,De-assigned on 2025-02-13\n";
	struct pc_registry *saved = reg;
	struct pc_diag *d = pc_diag_create();
	struct pc_ir *ir;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	static const char policy[] = "allow in service oldsvc/tcp\nallow in service ssh/tcp\n";

	reg = registry_from(csv, "ssh 2222/tcp\nmyapp 8443/tcp # local\n");
	ir = pc_policy_load_buffer("t.policy", policy, sizeof(policy) - 1, reg, 0, d);
	assert_non_null(ir);
	f = open_memstream(&buf, &len);
	pc_diag_print(d, f, false);
	fclose(f);
	assert_non_null(strstr(buf, "t.policy:1:18: warning: service 'oldsvc' is de-assigned in the registry"));
	/* the overlay's ssh hides the registry's */
	assert_int_equal(ir->chains[PC_DIR_IN].rules[6].l4[0].dports.v[0].lo, 2222);
	assert_int_equal(ir->chains[PC_DIR_IN].rules[6].l4[0].dports.n, 1);
	free(buf);
	pc_ir_destroy(ir);
	pc_diag_destroy(d);
	pc_registry_destroy(reg);
	reg = saved;
}

/*
 * Warnings past the ones kept: a repeat of a kept one (same text and place)
 * is left out, any other is counted in "N more messages not shown"; a
 * different text at a kept place, or a kept text at another place, is no
 * repeat (issue 15 made the place decide first, and skips formatting what
 * is only counted).
 */
static void test_diag_repeats_and_drops(void **state)
{
	struct pc_diag *d = pc_diag_create();
	struct pc_location loc = { .file = "p.policy", .col = 3 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	for (unsigned i = 1; i <= 300; i++) {
		loc.line = i;
		pc_diag_report(d, PC_SEV_WARNING, &loc, "port %u is Unassigned", i);
	}
	/* repeats of kept warnings (line 5), past the cap: not counted */
	loc.line = 5;
	pc_diag_report(d, PC_SEV_WARNING, &loc, "port %u is Unassigned", 5u);
	pc_diag_report(d, PC_SEV_WARNING, &loc, "port %u is Unassigned", 5u);
	/* the same place, another text; another place, a kept text: counted */
	pc_diag_report(d, PC_SEV_WARNING, &loc, "port %u is Reserved", 5u);
	loc.line = 6;
	loc.col = 4;
	pc_diag_report(d, PC_SEV_WARNING, &loc, "port %u is Unassigned", 6u);
	/* no place at all: kept while under the cap, then counted */
	pc_diag_report(d, PC_SEV_WARNING, NULL, "no place");
	assert_int_equal(pc_diag_count(d, PC_SEV_WARNING), 303);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	pc_diag_print(d, f, false);
	fclose(f);
	assert_non_null(strstr(text, "p.policy:201:3: warning: port 201 is Unassigned"));
	assert_null(strstr(text, "p.policy:202:3:"));
	assert_non_null(strstr(text, "note: 102 more messages not shown"));
	free(text);
	pc_diag_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_default_transports),
		cmocka_unit_test(test_ir_sizes_and_group_location),
		cmocka_unit_test(test_service_proto_and_case),
		cmocka_unit_test(test_service_without_transport),
		cmocka_unit_test(test_multi_port_name_warns),
		cmocka_unit_test(test_ports_merged_sorted),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_family_inference),
		cmocka_unit_test(test_addresses_normalized_and_named),
		cmocka_unit_test(test_addresses_shared),
		cmocka_unit_test(test_builtins_and_defaults),
		cmocka_unit_test(test_options_switch_builtins_off),
		cmocka_unit_test(test_rule_attributes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_shadowing),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_deassigned_and_overlay),
		cmocka_unit_test(test_diag_repeats_and_drops),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
