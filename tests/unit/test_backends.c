/* SPDX-License-Identifier: MIT */
/*
 * Backends on hand-built IRs: templates, each backend's text for each
 * feature, capability errors, escaping, determinism.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_text.h"

#include <arpa/inet.h>

#include <portcullis/backend.h>

#include "backends/table.h"
#include "ir/names.h"
#include "backends/builtin.h"
#include "common/template.h"

#define FILE_NAME "t.policy"

static struct pc_emit_options opts = {
	.version = "9.9.9",
	.policy_path = FILE_NAME,
	.registry_name = "reg.csv",
	.registry_date = "2026-01-02",
	.size = sizeof(struct pc_emit_options),
};

/* A minimal IR: every chain empty, in deny, forward deny, out allow. */
static void ir_init(struct pc_ir *ir)
{
	memset(ir, 0, sizeof(*ir));
	ir->table = "web";
	ir->policy_file = FILE_NAME;
	ir->registry_name = "reg.csv";
	ir->registry_date = "2026-01-02";
	for (int d = 0; d < __PC_DIR_MAX; d++) {
		ir->chains[d].dir = (enum pc_direction)d;
		ir->chains[d].policy = d == PC_DIR_OUT ? PC_VERDICT_ALLOW : PC_VERDICT_DENY;
		ir->chains[d].policy_loc = (struct pc_location){ FILE_NAME, 0, 0, 0 };
	}
}

static void ir_set_rules(struct pc_ir *ir, enum pc_direction d,
			 struct pc_rule *rules, size_t n)
{
	ir->chains[d].rules = rules;
	ir->chains[d].n = n;
}

static struct pc_rule rule(unsigned line, enum pc_verdict v, unsigned fam)
{
	struct pc_rule r = {
		.origin = PC_ORIGIN_POLICY,
		.loc = { FILE_NAME, line, 1, 5 },
		.verdict = v,
		.families = fam,
	};
	return r;
}

static struct pc_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t plen)
{
	struct pc_addr x = { .family = PC_FAM_IPV4, .plen = plen, .a = { a, b, c, d } };
	return x;
}

static struct pc_addr v6_2001db8(uint16_t third, uint8_t last, uint8_t plen)
{
	struct pc_addr x = { .family = PC_FAM_IPV6, .plen = plen,
			     .a = { 0x20, 0x01, 0x0d, 0xb8, third >> 8, third & 0xff } };
	x.a[15] = last;
	return x;
}

/* Runs check + emit of @b; returns the output (caller frees) or NULL, with
 * the diagnostics in *msgs (caller frees). */
static char *run(const struct pc_backend *b, const struct pc_ir *ir, char **msgs)
{
	struct pc_diag *diag = pc_diag_create();
	char *text = NULL, *errs = NULL;
	size_t len, elen;
	FILE *f, *e;
	int ret;

	ret = pc_backend_check(b, ir, &opts, diag);
	if (ret == 0) {
		f = open_memstream(&text, &len);
		ret = b->emit(ir, &opts, f, diag);
		fclose(f);
	}
	e = open_memstream(&errs, &elen);
	pc_diag_print(diag, e, false);
	fclose(e);
	pc_diag_destroy(diag);
	if (ret != 0) {
		free(text);
		text = NULL;
	}
	/* PC_TEST_DUMP=1: show every output, to read or feed to the real tools */
	if (getenv("PC_TEST_DUMP"))
		fprintf(stderr, "=== %s\n%s=== errors\n%s", b->name, text ? text : "", errs);
	if (msgs)
		*msgs = errs;
	else
		free(errs);
	return text;
}

/* Asserts that @text has the line @line (whole). */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return;
	}
	fprintf(stderr, "missing line:\n%s\nin:\n%s\n", line, text);
	fail();
}

static void assert_no_substr(const char *text, const char *s)
{
	if (strstr(text, s)) {
		fprintf(stderr, "unexpected '%s' in:\n%s\n", s, text);
		fail();
	}
}

static void assert_substr(const char *text, const char *s)
{
	if (!strstr(text, s)) {
		fprintf(stderr, "missing '%s' in:\n%s\n", s, text);
		fail();
	}
}

/* ---- templates ---- */

static void test_template_render(void **state)
{
	struct pc_ir ir;
	struct pc_diag *diag = pc_diag_create();
	char *out = NULL;
	size_t len;
	FILE *f;

	(void)state;
	ir_init(&ir);
	f = open_memstream(&out, &len);
	assert_int_equal(pc_template_render(
		"# {{version}} {{policy}} {{registry}} {{registry_date}} {{table}} {{backend}}\n"
		"{{body}}\n"
		"end {{ x }} {{\n",
		&ir, &opts, "iptables", "line1\nline2\n", f, diag), 0);
	fclose(f);
	assert_string_equal(out,
		"# 9.9.9 t.policy reg.csv 2026-01-02 web iptables\n"
		"line1\nline2\n"
		"end {{ x }} {{\n");
	free(out);
	assert_false(pc_diag_has_errors(diag));
	pc_diag_destroy(diag);
}

static void test_template_unknown(void **state)
{
	struct pc_ir ir;
	struct pc_diag *diag = pc_diag_create();
	char *out = NULL, *errs = NULL;
	size_t len;
	FILE *f;
	const char *tmpl = "ok\n  {{tabel}}\n";

	(void)state;
	ir_init(&ir);
	f = open_memstream(&out, &len);
	assert_int_equal(pc_template_render(tmpl, &ir, &opts, "pf", "", f, diag), -1);
	fclose(f);
	free(out);
	assert_int_equal(pc_template_check(tmpl, "site.tmpl", diag), -1);
	f = open_memstream(&errs, &len);
	pc_diag_print(diag, f, false);
	fclose(f);
	assert_substr(errs, "built-in template:2:3: error: unknown template placeholder '{{tabel}}'");
	assert_substr(errs, "site.tmpl:2:3: error: unknown template placeholder '{{tabel}}'");
	free(errs);
	pc_diag_destroy(diag);
}

static void test_template_sanitises(void **state)
{
	struct pc_ir ir;
	struct pc_emit_options o = opts;
	struct pc_diag *diag = pc_diag_create();
	char *out = NULL;
	size_t len;
	FILE *f;

	(void)state;
	ir_init(&ir);
	o.policy_path = "evil\nCOMMIT\n.policy";
	f = open_memstream(&out, &len);
	assert_int_equal(pc_template_render("# {{policy}}\n{{body}}", &ir, &o, "x", "", f, diag), 0);
	fclose(f);
	assert_string_equal(out, "# evil?COMMIT?.policy\n");
	free(out);
	pc_diag_destroy(diag);
}

static void test_template_needs_body(void **state)
{
	struct pc_diag *diag = pc_diag_create();
	char *errs = NULL;
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(pc_template_check("# header only\n", "site.tmpl", diag), -1);
	assert_int_equal(pc_template_check("{{body}}", "ok.tmpl", diag), 0);
	f = open_memstream(&errs, &len);
	pc_diag_print(diag, f, false);
	fclose(f);
	assert_substr(errs, "site.tmpl:1:1: error: template has no {{body}}");
	assert_no_substr(errs, "ok.tmpl");
	free(errs);
	pc_diag_destroy(diag);
}

static void test_template_builtin(void **state)
{
	(void)state;
	assert_non_null(pc_template_builtin("iptables"));
	assert_non_null(pc_template_builtin("ip6tables"));
	assert_non_null(pc_template_builtin("pf"));
	assert_null(pc_template_builtin("nonexistent"));
	assert_non_null(strstr(pc_template_builtin("iptables"), "*filter\n{{body}}\nCOMMIT\n"));
	assert_non_null(strstr(pc_template_builtin("pf"), "{{registry_date}}"));
}

/* ---- backend table ---- */

static void test_table(void **state)
{
	struct pc_diag *diag = pc_diag_create();
	struct pc_backend_set *set = pc_backend_set_create(diag, PC_SEV_ERROR, false);
	const char *origin;

	(void)state;
	assert_ptr_equal(pc_backend_set_find(set, "iptables"), &pc_backend_iptables);
	assert_ptr_equal(pc_backend_set_find(set, "ip6tables"), &pc_backend_ip6tables);
	assert_ptr_equal(pc_backend_set_find(set, "pf"), &pc_backend_pf);
	assert_null(pc_backend_set_find(set, "ipt"));
	assert_true(pc_backend_set_count(set) >= 3);
	pc_backend_set_get(set, 0, &origin);
	assert_string_equal(origin, "built-in");
	for (size_t i = 0; i < pc_backend_set_count(set); i++)
		assert_int_equal(pc_backend_set_get(set, i, NULL)->abi, PC_BACKEND_ABI);
	assert_string_equal(pc_cap_name(PC_CAP_LIMIT), "rate limits (limit)");
	pc_backend_set_destroy(set);
	pc_diag_destroy(diag);
}

/* ---- iptables ---- */

static uint8_t echo_types[] = { 0, 8 };
static uint8_t nd_types[] = { 133, 134, 135, 136 };

static void test_iptables_basic(void **state)
{
	struct pc_ir ir;
	struct pc_port_range web_ports[] = { { 80, 80 }, { 443, 443 } };
	struct pc_port_range mosh[] = { { 60000, 61000 } };
	struct pc_l4 tcp_web = { .proto = PC_PROTO_TCP, .dports = { 2, web_ports } };
	struct pc_l4 both_web[] = {
		{ .proto = PC_PROTO_TCP, .dports = { 2, web_ports } },
		{ .proto = PC_PROTO_UDP, .dports = { 1, mosh } },
	};
	struct pc_l4 icmp[] = {
		{ .proto = PC_PROTO_ICMP, .n_types = 2, .types = echo_types },
		{ .proto = PC_PROTO_ICMPV6, .n_types = 4, .types = nd_types },
	};
	struct pc_addr admins_v[] = { v4(192, 0, 2, 0, 24), v4(198, 51, 100, 7, 32),
				      v6_2001db8(0x100, 0, 48) };
	struct pc_rule in[7], out[1];
	char *text, *again;

	(void)state;
	ir_init(&ir);
	in[0] = rule(0, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[0].origin = PC_ORIGIN_CONNTRACK;
	in[0].ct_state = PC_CT_ESTABLISHED | PC_CT_RELATED;
	in[1] = rule(0, PC_VERDICT_DENY, PC_FAM_ALL);
	in[1].origin = PC_ORIGIN_CONNTRACK;
	in[1].ct_state = PC_CT_INVALID;
	in[2] = rule(0, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[2].origin = PC_ORIGIN_LOOPBACK;
	in[2].iface = "lo";
	in[3] = rule(0, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[3].origin = PC_ORIGIN_ESSENTIAL_ICMP;
	in[3].n_l4 = 2;
	in[3].l4 = icmp;
	in[4] = rule(10, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[4].n_l4 = 1;
	in[4].l4 = &tcp_web;
	in[4].comment = "say \"hi\" \\ there";
	in[5] = rule(11, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[5].saddr = (struct pc_addr_set){ "admins", 3, admins_v };
	in[5].n_l4 = 2;
	in[5].l4 = both_web;
	in[5].iface = "eth0";
	in[6] = rule(12, PC_VERDICT_REJECT, PC_FAM_ALL);
	out[0] = rule(20, PC_VERDICT_DENY, PC_FAM_IPV6);
	out[0].daddr = (struct pc_addr_set){ NULL, 1, &admins_v[2] };
	ir_set_rules(&ir, PC_DIR_IN, in, 7);
	ir_set_rules(&ir, PC_DIR_OUT, out, 1);

	text = run(&pc_backend_iptables, &ir, NULL);
	assert_non_null(text);
	assert_line(text, "*filter");
	assert_line(text, ":web-in - [0:0]");
	assert_line(text, ":web-fwd - [0:0]");
	assert_line(text, ":web-out - [0:0]");
	assert_line(text, "-F web-in");
	assert_line(text, "-A web-in -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"t.policy connection tracking\" -j ACCEPT");
	assert_line(text, "-A web-in -m conntrack --ctstate INVALID -m comment --comment \"t.policy connection tracking\" -j DROP");
	assert_line(text, "-A web-in -i lo -m comment --comment \"t.policy loopback\" -j ACCEPT");
	assert_line(text, "-A web-in -p icmp -m icmp --icmp-type 0 -m comment --comment \"t.policy essential ICMP\" -j ACCEPT");
	assert_line(text, "-A web-in -p icmp -m icmp --icmp-type 8 -m comment --comment \"t.policy essential ICMP\" -j ACCEPT");
	assert_no_substr(text, "icmpv6");
	assert_line(text, "-A web-in -p tcp -m multiport --dports 80,443 -m comment --comment \"t.policy:10 say \\\"hi\\\" \\\\ there\" -j ACCEPT");
	assert_line(text, "-A web-in -i eth0 -s 192.0.2.0/24,198.51.100.7 -p tcp -m multiport --dports 80,443 -m comment --comment \"t.policy:11\" -j ACCEPT");
	assert_line(text, "-A web-in -i eth0 -s 192.0.2.0/24,198.51.100.7 -p udp -m udp --dport 60000:61000 -m comment --comment \"t.policy:11\" -j ACCEPT");
	assert_line(text, "-A web-in -p tcp -m comment --comment \"t.policy:12\" -j REJECT --reject-with tcp-reset");
	assert_line(text, "-A web-in -m comment --comment \"t.policy:12\" -j REJECT --reject-with icmp-port-unreachable");
	assert_line(text, "-A web-in -m comment --comment \"t.policy default in deny\" -j DROP");
	assert_line(text, "-A web-out -m comment --comment \"t.policy default out allow\" -j ACCEPT");
	assert_no_substr(text, "2001:db8");
	assert_line(text, "-A INPUT -j web-in");
	assert_line(text, "-A FORWARD -j web-fwd");
	assert_line(text, "-A OUTPUT -j web-out");
	assert_line(text, "COMMIT");
	assert_substr(text, "# Generated by portcullis 9.9.9 (backend iptables)");
	/* rules in policy order */
	assert_text_in_order(text, "t.policy:10", "t.policy:11");
	assert_text_in_order(text, "t.policy:11", "t.policy:12");
	again = run(&pc_backend_iptables, &ir, NULL);
	assert_string_equal(text, again);
	free(again);
	free(text);

	text = run(&pc_backend_ip6tables, &ir, NULL);
	assert_non_null(text);
	assert_line(text, "-A web-in -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m comment --comment \"t.policy essential ICMP\" -j ACCEPT");
	assert_no_substr(text, "--icmp-type");
	assert_line(text, "-A web-in -i eth0 -s 2001:db8:100::/48 -p tcp -m multiport --dports 80,443 -m comment --comment \"t.policy:11\" -j ACCEPT");
	assert_line(text, "-A web-in -m comment --comment \"t.policy:12\" -j REJECT --reject-with icmp6-port-unreachable");
	assert_line(text, "-A web-out -d 2001:db8:100::/48 -m comment --comment \"t.policy:20\" -j DROP");
	assert_no_substr(text, "192.0.2");
	free(text);
}

static void test_iptables_multiport(void **state)
{
	struct pc_ir ir;
	struct pc_port_range ports[20];
	struct pc_l4 l4 = { .proto = PC_PROTO_TCP, .dports = { 0, ports } };
	struct pc_rule in[1];
	char *text;

	(void)state;
	/* 6 ranges (12 slots) and 8 single ports: 15 slots then 5 */
	for (unsigned i = 0; i < 6; i++)
		ports[i] = (struct pc_port_range){ 1000 + 10 * i, 1005 + 10 * i };
	for (unsigned i = 0; i < 8; i++)
		ports[6 + i] = (struct pc_port_range){ 2000 + 2 * i, 2000 + 2 * i };
	l4.dports.n = 14;
	ir_init(&ir);
	in[0] = rule(3, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[0].n_l4 = 1;
	in[0].l4 = &l4;
	ir_set_rules(&ir, PC_DIR_IN, in, 1);
	text = run(&pc_backend_iptables, &ir, NULL);
	assert_non_null(text);
	assert_line(text, "-A web-in -p tcp -m multiport --dports 1000:1005,1010:1015,1020:1025,1030:1035,1040:1045,1050:1055,2000,2002,2004 -m comment --comment \"t.policy:3\" -j ACCEPT");
	assert_line(text, "-A web-in -p tcp -m multiport --dports 2006,2008,2010,2012,2014 -m comment --comment \"t.policy:3\" -j ACCEPT");
	free(text);
}

static void test_iptables_log_limit(void **state)
{
	struct pc_ir ir;
	struct pc_port_range ssh[] = { { 22, 22 } };
	struct pc_l4 tcp_ssh = { .proto = PC_PROTO_TCP, .dports = { 1, ssh } };
	struct pc_addr two[] = { v4(192, 0, 2, 0, 24), v4(203, 0, 113, 0, 24) };
	struct pc_rule in[4];
	char *text;

	(void)state;
	ir_init(&ir);
	/* log, no limit: LOG then the verdict, same match */
	in[0] = rule(5, PC_VERDICT_DENY, PC_FAM_ALL);
	in[0].n_l4 = 1;
	in[0].l4 = &tcp_ssh;
	in[0].log = true;
	in[0].log_prefix = "ssh \"x\" ";
	/* limit on one kernel rule: on the rule */
	in[1] = rule(6, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[1].n_l4 = 1;
	in[1].l4 = &tcp_ssh;
	in[1].limit = (struct pc_limit){ 10, PC_LIMIT_MINUTE };
	/* limit + log on one kernel rule: helper chain with LOG + verdict */
	in[2] = rule(7, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[2].n_l4 = 1;
	in[2].l4 = &tcp_ssh;
	in[2].limit = (struct pc_limit){ 5, PC_LIMIT_SECOND };
	in[2].log = true;
	/* limit on two kernel rules: one bucket in a helper chain */
	in[3] = rule(8, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[3].saddr = (struct pc_addr_set){ NULL, 2, two };
	in[3].n_l4 = 1;
	in[3].l4 = &tcp_ssh;
	in[3].limit = (struct pc_limit){ 3, PC_LIMIT_HOUR };
	ir_set_rules(&ir, PC_DIR_IN, in, 4);
	text = run(&pc_backend_iptables, &ir, NULL);
	assert_non_null(text);
	assert_line(text, "-A web-in -p tcp -m tcp --dport 22 -m comment --comment \"t.policy:5\" -j LOG --log-prefix \"ssh \\\"x\\\" \"");
	assert_line(text, "-A web-in -p tcp -m tcp --dport 22 -m comment --comment \"t.policy:5\" -j DROP");
	assert_line(text, "-A web-in -p tcp -m tcp --dport 22 -m limit --limit 10/minute -m comment --comment \"t.policy:6\" -j ACCEPT");
	assert_line(text, ":web-i3v - [0:0]");
	assert_line(text, "-A web-in -p tcp -m tcp --dport 22 -m limit --limit 5/second -m comment --comment \"t.policy:7\" -j web-i3v");
	assert_line(text, "-A web-i3v -m comment --comment \"t.policy:7\" -j LOG");
	assert_line(text, "-A web-i3v -m comment --comment \"t.policy:7\" -j ACCEPT");
	assert_line(text, ":web-i4 - [0:0]");
	assert_line(text, "-F web-i4");
	assert_line(text, "-A web-in -s 192.0.2.0/24,203.0.113.0/24 -p tcp -m tcp --dport 22 -m comment --comment \"t.policy:8\" -j web-i4");
	assert_line(text, "-A web-i4 -m limit --limit 3/hour -m comment --comment \"t.policy:8\" -j ACCEPT");
	free(text);
}

static void test_iptables_errors(void **state)
{
	struct pc_ir ir;
	struct pc_rule in[3];
	char long_comment[300];
	char *text, *errs;

	(void)state;
	ir_init(&ir);
	memset(long_comment, 'a', sizeof(long_comment) - 1);
	long_comment[sizeof(long_comment) - 1] = '\0';
	in[0] = rule(4, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[0].log = true;
	in[0].log_prefix = "this prefix is far too long for iptables";
	in[1] = rule(5, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[1].comment = long_comment;
	in[2] = rule(6, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[2].comment = "bad\rcomment";
	ir_set_rules(&ir, PC_DIR_IN, in, 3);
	text = run(&pc_backend_iptables, &ir, &errs);
	assert_null(text);
	assert_substr(errs, "t.policy:4:1: error: backend 'iptables': log prefix \"this prefix is far too long for iptables\" is 40 bytes, iptables allows 29");
	assert_substr(errs, "t.policy:5:1: error: backend 'iptables': the rule's comment with its location is 310 bytes, iptables allows 255");
	assert_substr(errs, "t.policy:6:1: error: backend 'iptables': the comment has control characters");
	free(errs);

	/* rates the limit match cannot do */
	ir_init(&ir);
	in[0] = rule(8, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[0].limit = (struct pc_limit){ 3, PC_LIMIT_DAY };
	in[1] = rule(9, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[1].limit = (struct pc_limit){ 20000, PC_LIMIT_SECOND };
	in[2] = rule(10, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[2].limit = (struct pc_limit){ 4, PC_LIMIT_DAY };
	ir_set_rules(&ir, PC_DIR_IN, in, 3);
	text = run(&pc_backend_iptables, &ir, &errs);
	assert_null(text);
	assert_substr(errs, "t.policy:8:1: error: backend 'iptables': rate 3/day is slower than the kernel's limit match handles (at least 4/day)");
	assert_substr(errs, "t.policy:9:1: error: backend 'iptables': rate 20000/second is faster than iptables' limit match allows (10000/second)");
	assert_no_substr(errs, "t.policy:10");
	free(errs);

	/* a table name that makes chain names too long */
	ir_init(&ir);
	ir.table = "a-very-long-table-name-indeed";
	text = run(&pc_backend_iptables, &ir, &errs);
	assert_null(text);
	assert_substr(errs, "t.policy: error: backend 'iptables': table name 'a-very-long-table-name-indeed' is too long");
	free(errs);
}

/* A long address list is cut into parameters iptables-restore accepts. */
static void test_iptables_long_list(void **state)
{
	struct pc_ir ir;
	struct pc_addr many[300];
	struct pc_rule in[1];
	size_t rules = 0, addrs = 0;
	char *text;

	(void)state;
	for (unsigned i = 0; i < 300; i++)
		many[i] = v4(198, 51, (uint8_t)(i / 250), (uint8_t)(i % 250), 32);
	ir_init(&ir);
	in[0] = rule(7, PC_VERDICT_ALLOW, PC_FAM_IPV4);
	in[0].saddr = (struct pc_addr_set){ "many", 300, many };
	ir_set_rules(&ir, PC_DIR_IN, in, 1);
	text = run(&pc_backend_iptables, &ir, NULL);
	assert_non_null(text);
	for (const char *p = strstr(text, "-A web-in -s "); p; p = strstr(p + 1, "-A web-in -s ")) {
		const char *list = p + strlen("-A web-in -s ");
		size_t len = strcspn(list, " ");

		assert_true(len < 1024);
		addrs++;
		for (size_t k = 0; k < len; k++)
			addrs += list[k] == ',';
		rules++;
	}
	assert_true(rules > 1);
	assert_int_equal(addrs, 300);
	assert_substr(text, "-s 198.51.0.0,198.51.0.1,");
	assert_substr(text, ",198.51.1.49 -m comment --comment \"t.policy:7\" -j ACCEPT");
	free(text);
}

/* ---- capability checks ---- */

static void test_caps_pf(void **state)
{
	static const struct pc_option_value freebsd = { "pf-dialect", "freebsd" };
	struct pc_ir ir;
	struct pc_port_range p[] = { { 5000, 5001 } };
	struct pc_l4 dccp = { .proto = PC_PROTO_DCCP, .dports = { 1, p } };
	struct pc_l4 sctp = { .proto = PC_PROTO_SCTP, .dports = { 1, p } };
	struct pc_rule fwd[2], in[3];
	char *text, *errs;

	(void)state;
	ir_init(&ir);
	fwd[0] = rule(0, PC_VERDICT_ALLOW, PC_FAM_ALL);
	fwd[0].origin = PC_ORIGIN_CONNTRACK;
	fwd[0].ct_state = PC_CT_ESTABLISHED;
	fwd[1] = rule(9, PC_VERDICT_ALLOW, PC_FAM_ALL);
	ir_set_rules(&ir, PC_DIR_FORWARD, fwd, 2);
	in[0] = rule(10, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[0].n_l4 = 1;
	in[0].l4 = &dccp;
	in[1] = rule(11, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[1].n_l4 = 1;
	in[1].l4 = &sctp;
	in[2] = rule(12, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[2].limit = (struct pc_limit){ 1, PC_LIMIT_DAY };
	ir_set_rules(&ir, PC_DIR_IN, in, 3);
	text = run(&pc_backend_pf, &ir, &errs);
	assert_null(text);
	/* forward rules are pf out rules of the routed packets (issue 13) */
	assert_no_substr(errs, "t.policy:9:1");
	assert_substr(errs, "t.policy:10:1: error: backend 'pf' cannot express DCCP ports");
	/* the built-in forward rule is no error */
	assert_no_substr(errs, "t.policy: error");
	free(errs);

	/* without the forward rule: the dialects */
	ir_set_rules(&ir, PC_DIR_FORWARD, fwd, 1);
	ir_set_rules(&ir, PC_DIR_IN, in + 1, 2);
	text = run(&pc_backend_pf, &ir, &errs);
	assert_null(text);
	assert_substr(errs, "t.policy:11:1: error: backend 'pf' (openbsd dialect) cannot express SCTP ports");
	assert_no_substr(errs, "t.policy:12");
	free(errs);
	opts.n_options = 1;
	opts.options = &freebsd;
	text = run(&pc_backend_pf, &ir, &errs);
	opts.n_options = 0;
	opts.options = NULL;
	assert_null(text);
	assert_no_substr(errs, "t.policy:11");
	assert_substr(errs, "t.policy:12:1: error: backend 'pf' (freebsd dialect) cannot express rate limits");
	free(errs);
}

/* A plugin-like backend that cannot do much: the core's check. */
static int dummy_emit(const struct pc_ir *ir, const struct pc_emit_options *o,
		      FILE *out, struct pc_diag *diag)
{
	fputs("dummy\n", out);
	return 0;
}

static void test_caps_core(void **state)
{
	const struct pc_backend dummy = {
		.abi = PC_BACKEND_ABI,
		.name = "dummy",
		.summary = "test",
		.caps = PC_CAP_IPV4 | PC_CAP_DIR_IN | PC_CAP_TCP_UDP,
		.families = PC_FAM_IPV4,
		.emit = dummy_emit,
	};
	struct pc_ir ir;
	struct pc_port_range p[] = { { 22, 22 } };
	struct pc_l4 tcp = { .proto = PC_PROTO_TCP, .dports = { 1, p } };
	struct pc_addr a6 = v6_2001db8(1, 1, 128);
	struct pc_rule in[3];
	char *text, *errs;

	(void)state;
	ir_init(&ir);
	in[0] = rule(2, PC_VERDICT_REJECT, PC_FAM_IPV4);
	in[0].n_l4 = 1;
	in[0].l4 = &tcp;
	in[0].iface = "eth0";
	in[0].log = true;
	/* IPv6 only: out of the backend's scope, not an error */
	in[1] = rule(3, PC_VERDICT_REJECT, PC_FAM_IPV6);
	in[1].saddr = (struct pc_addr_set){ NULL, 1, &a6 };
	in[2] = rule(4, PC_VERDICT_ALLOW, PC_FAM_IPV4);
	in[2].n_l4 = 1;
	in[2].l4 = &tcp;
	ir_set_rules(&ir, PC_DIR_IN, in, 3);
	text = run(&dummy, &ir, &errs);
	assert_null(text);
	assert_substr(errs, "t.policy:2:1: error: backend 'dummy' cannot express interface matches (on IFACE)");
	assert_substr(errs, "t.policy:2:1: error: backend 'dummy' cannot express log");
	assert_substr(errs, "t.policy:2:1: error: backend 'dummy' cannot express reject");
	assert_no_substr(errs, "t.policy:3");
	assert_no_substr(errs, "t.policy:4");
	free(errs);
	ir_set_rules(&ir, PC_DIR_IN, in + 1, 2);
	text = run(&dummy, &ir, &errs);
	assert_non_null(text);
	assert_string_equal(text, "dummy\n");
	free(text);
	free(errs);
}

/* ---- pf ---- */

static void test_pf(void **state)
{
	struct pc_ir ir;
	struct pc_port_range web_ports[] = { { 80, 80 }, { 443, 443 }, { 8000, 8100 } };
	struct pc_port_range dns[] = { { 53, 53 } };
	struct pc_l4 web = { .proto = PC_PROTO_TCP, .dports = { 3, web_ports } };
	struct pc_l4 dns_both[] = {
		{ .proto = PC_PROTO_TCP, .dports = { 1, dns } },
		{ .proto = PC_PROTO_UDP, .dports = { 1, dns } },
	};
	struct pc_l4 icmp[] = {
		{ .proto = PC_PROTO_ICMP, .n_types = 2, .types = echo_types },
		{ .proto = PC_PROTO_ICMPV6, .n_types = 4, .types = nd_types },
	};
	struct pc_l4 esp = { .proto = 50 };
	struct pc_addr admins_v[] = { v4(192, 0, 2, 0, 24), v6_2001db8(0x100, 0, 48) };
	struct pc_rule in[8], out[1];
	char *text, *again;

	(void)state;
	ir_init(&ir);
	in[0] = rule(0, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[0].origin = PC_ORIGIN_CONNTRACK;
	in[0].ct_state = PC_CT_ESTABLISHED | PC_CT_RELATED;
	in[1] = rule(0, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[1].origin = PC_ORIGIN_LOOPBACK;
	in[1].iface = "lo";
	in[2] = rule(0, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[2].origin = PC_ORIGIN_ESSENTIAL_ICMP;
	in[2].n_l4 = 2;
	in[2].l4 = icmp;
	in[3] = rule(10, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[3].n_l4 = 1;
	in[3].l4 = &web;
	in[3].comment = "web \\";
	in[4] = rule(11, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[4].saddr = (struct pc_addr_set){ "admins", 2, admins_v };
	in[4].n_l4 = 1;
	in[4].l4 = dns_both;
	in[4].log = true;
	in[4].log_prefix = "dns ";
	in[4].limit = (struct pc_limit){ 10, PC_LIMIT_MINUTE };
	in[5] = rule(12, PC_VERDICT_REJECT, PC_FAM_IPV4);
	in[5].daddr = (struct pc_addr_set){ NULL, 1, admins_v };
	in[6] = rule(13, PC_VERDICT_DENY, PC_FAM_ALL);
	in[6].saddr = (struct pc_addr_set){ "admins", 2, admins_v };
	in[6].iface = "em0";
	in[7] = rule(14, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[7].n_l4 = 1;
	in[7].l4 = &esp;
	out[0] = rule(20, PC_VERDICT_DENY, PC_FAM_IPV6);
	out[0].daddr = (struct pc_addr_set){ NULL, 1, &admins_v[1] };
	ir_set_rules(&ir, PC_DIR_IN, in, 8);
	ir_set_rules(&ir, PC_DIR_OUT, out, 1);
	text = run(&pc_backend_pf, &ir, NULL);
	assert_non_null(text);
	assert_line(text, "table <admins> { 192.0.2.0/24, 2001:db8:100::/48 }");
	assert_no_substr(text, "# t.policy connection tracking");
	assert_line(text, "\t" "pass in quick on lo all keep state");
	assert_line(text, "\t" "pass in quick inet proto icmp all icmp-type { 0, 8 } keep state");
	assert_line(text, "\t" "pass in quick inet6 proto icmp6 all icmp6-type { 133, 134, 135, 136 } keep state");
	assert_line(text, "\t" "# t.policy:10 \"web \\\"");
	assert_line(text, "\t" "pass in quick proto tcp from any to any port { 80, 443, 8000:8100 } keep state");
	assert_line(text, "\tpass in log quick proto tcp from <admins> to any port 53 label \"dns \" max-pkt-rate 10/60 keep state");
	assert_line(text, "\t" "block return in quick inet from any to 192.0.2.0/24");
	assert_line(text, "\t" "block drop in quick on em0 from <admins> to any");
	assert_line(text, "\t" "pass in quick proto esp all keep state");
	/*
	 * The in rules decide the packets for this host only: an inline
	 * anchor filters on the destination, its last rule is the in
	 * default; routed packets are tagged after it and meet the forward
	 * default where they leave.
	 */
	assert_line(text, "anchor \"in\" in to { (self), 255.255.255.255, 224.0.0.0/4, ff00::/8 } {");
	assert_line(text, "\t# t.policy default in deny\n\tblock drop in quick all\n}");
	assert_line(text, "}\n# packets for other hosts, routed through this one: tagged here,\n# decided by the forward rules where they leave\npass in quick tag \"web-forward\" keep state");
	assert_line(text, "# t.policy default forward deny\nblock drop out quick all tagged \"web-forward\"");
	assert_line(text, "block drop out quick inet6 from any to 2001:db8:100::/48");
	assert_line(text, "pass out quick all keep state");
	again = run(&pc_backend_pf, &ir, NULL);
	assert_string_equal(text, again);
	free(again);
	free(text);

	ir.options |= PC_OPT_STATELESS;
	text = run(&pc_backend_pf, &ir, NULL);
	assert_line(text, "pass out quick all no state");
	assert_no_substr(text, " keep state\n");
	free(text);
}


/*
 * pf: max-pkt-rate counts per pf rule and pfctl expands every list into
 * rules of its own, so a limit over a rule that becomes several is an
 * error; a table keeps it one rule.
 */
static void test_pf_limit_one_rule(void **state)
{
	struct pc_ir ir;
	struct pc_port_range dns[] = { { 53, 53 } };
	struct pc_port_range two[] = { { 22, 22 }, { 80, 80 } };
	struct pc_l4 dns_both[] = {
		{ .proto = PC_PROTO_TCP, .dports = { 1, dns } },
		{ .proto = PC_PROTO_UDP, .dports = { 1, dns } },
	};
	struct pc_l4 ports = { .proto = PC_PROTO_TCP, .dports = { 2, two } };
	struct pc_l4 ssh = { .proto = PC_PROTO_TCP, .dports = { 1, two } };
	struct pc_addr hosts[] = { v4(192, 0, 2, 1, 32), v4(192, 0, 2, 7, 32) };
	struct pc_rule in[4];
	char *text, *errs;

	(void)state;
	ir_init(&ir);
	in[0] = rule(3, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[0].n_l4 = 2;
	in[0].l4 = dns_both;
	in[1] = rule(4, PC_VERDICT_REJECT, PC_FAM_ALL);
	in[1].n_l4 = 1;
	in[1].l4 = &ports;
	in[2] = rule(5, PC_VERDICT_ALLOW, PC_FAM_IPV4);
	in[2].n_l4 = 1;
	in[2].l4 = &ssh;
	in[2].saddr = (struct pc_addr_set){ NULL, 2, hosts };
	in[3] = rule(6, PC_VERDICT_ALLOW, PC_FAM_IPV4);
	in[3].n_l4 = 1;
	in[3].l4 = &ssh;
	in[3].saddr = (struct pc_addr_set){ "admins", 2, hosts };
	for (size_t i = 0; i < 4; i++)
		in[i].limit = (struct pc_limit){ 10, PC_LIMIT_SECOND };
	ir_set_rules(&ir, PC_DIR_IN, in, 4);
	text = run(&pc_backend_pf, &ir, &errs);
	assert_null(text);
	assert_substr(errs, "t.policy:3:1: error: backend 'pf' cannot express one rate limit for this rule: pfctl expands it into 2 rules");
	assert_substr(errs, "t.policy:4:1: error: backend 'pf' cannot express one rate limit");
	assert_substr(errs, "t.policy:5:1: error: backend 'pf' cannot express one rate limit");
	assert_no_substr(errs, "t.policy:6:");
	free(errs);

	ir_set_rules(&ir, PC_DIR_IN, in + 3, 1);
	text = run(&pc_backend_pf, &ir, NULL);
	assert_non_null(text);
	assert_line(text, "\tpass in quick inet proto tcp from <admins> to any port 22 max-pkt-rate 10/1 keep state");
	free(text);
}

/* pf: keyword group names stay inline, inline lists follow the family,
 * a default reject ends the chain, file names cannot break a comment. */
static void test_pf_edges(void **state)
{
	struct pc_ir ir;
	struct pc_addr mixed[] = { v4(192, 0, 2, 0, 24), v4(198, 51, 100, 0, 24),
				   v6_2001db8(5, 0, 64) };
	struct pc_l4 icmp = { .proto = PC_PROTO_ICMP };
	struct pc_l4 icmp6 = { .proto = PC_PROTO_ICMPV6 };
	struct pc_l4 both[] = { icmp, icmp6 };
	struct pc_rule in[4];
	char *text;

	(void)state;
	ir_init(&ir);
	in[0] = rule(3, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[0].saddr = (struct pc_addr_set){ "table", 3, mixed };
	in[0].n_l4 = 2;
	in[0].l4 = both;
	/* IPv4 sources only: the ICMPv6 alternative can never match */
	in[1] = rule(4, PC_VERDICT_ALLOW, PC_FAM_IPV4);
	in[1].saddr = (struct pc_addr_set){ NULL, 2, mixed };
	in[1].n_l4 = 2;
	in[1].l4 = both;
	in[2] = rule(5, PC_VERDICT_ALLOW, PC_FAM_ALL);
	in[2].loc.file = "evil\npass in all";
	in[3] = rule(6, PC_VERDICT_REJECT, PC_FAM_ALL);
	in[3].origin = PC_ORIGIN_DEFAULT;
	ir_set_rules(&ir, PC_DIR_IN, in, 4);
	text = run(&pc_backend_pf, &ir, NULL);
	assert_non_null(text);
	assert_no_substr(text, "<table>");
	assert_line(text, "\tpass in quick inet proto icmp from { 192.0.2.0/24, 198.51.100.0/24 } to any keep state");
	assert_line(text, "\tpass in quick inet6 proto icmp6 from 2001:db8:5::/64 to any keep state");
	assert_no_substr(text, "inet6 proto icmp6 from { 192");
	assert_line(text, "\t# evil?pass in all:5");
	/* the reject default ends the in anchor; routed packets: forward deny */
	assert_line(text, "\t# t.policy:6 default in reject\n\tblock return in quick all\n}");
	assert_no_substr(text, "\tblock drop in quick all");
	free(text);

	text = run(&pc_backend_iptables, &ir, NULL);
	assert_non_null(text);
	assert_line(text, "-A web-in -m comment --comment \"evil?pass in all:5\" -j ACCEPT");
	assert_line(text, "-A web-in -m comment --comment \"t.policy:6 default in reject\" -j REJECT --reject-with icmp-port-unreachable");
	assert_no_substr(text, "default in deny");
	free(text);
}

/* pc_addr_ntop() writes what inet_ntop() writes, for every shape of address. */
static void test_addr_ntop(void **state)
{
	unsigned char a[16];
	char want[INET6_ADDRSTRLEN], got[PC_ADDR_TEXT_MAX];
	unsigned seed = 12345;

	(void)state;
	for (unsigned n = 0; n < 200000; n++) {
		bool v6 = n % 4 != 0;

		/* groups zero, 0xffff, small or random: runs of zeros everywhere */
		for (int g = 0; g < 8; g++) {
			unsigned w;

			seed = seed * 1103515245u + 12345u;
			switch (seed >> 28 & 3) {
			case 0: case 1: w = 0; break;
			case 2: w = (seed >> 8) & (seed & 0x100 ? 0xf : 0xffff); break;
			default: w = seed & 0x200 ? 0xffff : (seed >> 12) & 0xfff; break;
			}
			a[2 * g] = (unsigned char)(w >> 8);
			a[2 * g + 1] = (unsigned char)w;
		}
		if (n % 7 == 0) /* ::ffff:a.b.c.d */
			memcpy(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		else if (n % 11 == 0) /* ::a.b.c.d */
			memset(a, 0, 12);
		inet_ntop(v6 ? AF_INET6 : AF_INET, a, want, sizeof(want));
		assert_int_equal(pc_addr_ntop(a, v6, got), strlen(want));
		assert_string_equal(got, want);
	}
	memset(a, 0, sizeof(a));
	pc_addr_ntop(a, true, got);
	assert_string_equal(got, "::");
	a[15] = 1;
	pc_addr_ntop(a, true, got);
	assert_string_equal(got, "::1");
}

/*
 * A plugin steps through the IR by the sizes it carries: with structs grown
 * by fields a plugin's header does not know (simulated by padding), the
 * accessors still land on each element, and PC_IR_HAS() says which fields
 * a program older than the header lacks.
 */
static void test_ir_accessors_step_by_sizes(void **state)
{
	struct grown_rule { struct pc_rule r; char later_fields[40]; } rules[3];
	struct grown_l4 { struct pc_l4 l; char later_fields[24]; } l4[2];
	struct grown_elem { struct pc_map_elem e; char later_fields[8]; } elems[2];
	struct pc_ir ir;

	memset(&ir, 0, sizeof(ir));
	memset(rules, 0, sizeof(rules));
	memset(l4, 0, sizeof(l4));
	memset(elems, 0, sizeof(elems));
	ir.size = sizeof(ir);
	ir.rule_size = sizeof(rules[0]);
	ir.l4_size = sizeof(l4[0]);
	ir.map_elem_size = sizeof(elems[0]);
	ir.chains[PC_DIR_IN].n = 3;
	ir.chains[PC_DIR_IN].rules = &rules[0].r;
	for (unsigned i = 0; i < 3; i++)
		rules[i].r.loc.line = 10 + i;
	rules[2].r.n_l4 = 2;
	rules[2].r.l4 = &l4[0].l;
	l4[1].l.proto = PC_PROTO_UDP;
	rules[2].r.n_map = 2;
	rules[2].r.map = &elems[0].e;
	elems[1].e.dport.lo = 53;

	assert_int_equal(pc_ir_rule(&ir, &ir.chains[PC_DIR_IN], 2)->loc.line, 12);
	assert_ptr_equal(pc_ir_rule(&ir, &ir.chains[PC_DIR_IN], 1), &rules[1].r);
	assert_int_equal(pc_ir_l4(&ir, &rules[2].r, 1)->proto, PC_PROTO_UDP);
	assert_int_equal(pc_ir_map_elem(&ir, &rules[2].r, 1)->dport.lo, 53);
	assert_true(PC_IR_HAS(&ir, rule, map));
	assert_true(PC_IR_HAS(&ir, ir, registry_date));
	/* an older program: its rules end before @map */
	ir.rule_size = offsetof(struct pc_rule, map);
	assert_false(PC_IR_HAS(&ir, rule, map));
	assert_true(PC_IR_HAS(&ir, rule, n_map));
	/* an IR built by hand (sizes 0) steps by this header's sizes */
	ir.rule_size = 0;
	ir.chains[PC_DIR_IN].rules = &rules[0].r;
	assert_ptr_equal(pc_ir_rule(&ir, &ir.chains[PC_DIR_IN], 1),
			 (const char *)&rules[0].r + sizeof(struct pc_rule));
}

/* Options by name: the last one given wins; none given is NULL. */
static void test_emit_options(void **state)
{
	static const struct pc_option_value given[] = {
		{ "pf-dialect", "openbsd" }, { "other", "x" }, { "pf-dialect", "freebsd" },
	};
	struct pc_emit_options o = { .size = sizeof(o), .n_options = 3, .options = given };
	const struct pc_backend_option *opt;

	assert_string_equal(pc_emit_option(&o, "pf-dialect"), "freebsd");
	assert_null(pc_emit_option(&o, "pf"));
	assert_true(PC_EMIT_HAS(&o, options));
	opt = pc_backend_option_find(&pc_backend_pf, "pf-dialect");
	assert_non_null(opt);
	assert_true(pc_backend_option_value_ok(opt, "freebsd"));
	assert_true(pc_backend_option_value_ok(opt, "openbsd"));
	assert_false(pc_backend_option_value_ok(opt, "open"));
	assert_false(pc_backend_option_value_ok(opt, "openbsd|freebsd"));
	assert_false(pc_backend_option_value_ok(opt, ""));
	assert_null(pc_backend_option_find(&pc_backend_nft, "pf-dialect"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_ntop),
		cmocka_unit_test(test_template_render),
		cmocka_unit_test(test_template_unknown),
		cmocka_unit_test(test_template_sanitises),
		cmocka_unit_test(test_template_needs_body),
		cmocka_unit_test(test_template_builtin),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_iptables_basic),
		cmocka_unit_test(test_iptables_multiport),
		cmocka_unit_test(test_iptables_log_limit),
		cmocka_unit_test(test_iptables_errors),
		cmocka_unit_test(test_iptables_long_list),
		cmocka_unit_test(test_caps_pf),
		cmocka_unit_test(test_caps_core),
		cmocka_unit_test(test_pf),
		cmocka_unit_test(test_pf_edges),
		cmocka_unit_test(test_pf_limit_one_rule),
		cmocka_unit_test(test_ir_accessors_step_by_sizes),
		cmocka_unit_test(test_emit_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
