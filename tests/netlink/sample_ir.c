/* SPDX-License-Identifier: MIT */
#include "sample_ir.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct pc_addr addr(const char *text, unsigned plen)
{
	struct pc_addr a = { 0 };

	if (strchr(text, ':')) {
		a.family = PC_FAM_IPV6;
		inet_pton(AF_INET6, text, a.a);
	} else {
		a.family = PC_FAM_IPV4;
		inet_pton(AF_INET, text, a.a);
	}
	a.plen = (uint8_t)plen;
	return a;
}

#define LOC(l) { .file = "sample.pcl", .line = (l), .col = 1 }

static struct pc_ir ir_full;
static struct pc_rule in_rules[16], out_rules[2], fwd_rules[2];
static struct pc_addr admins[3], blocked[3], dnet[1], smtp_net[1];
static struct pc_port_range p_web[2] = { { 80, 80 }, { 443, 443 } };
static struct pc_port_range p_ssh[1] = { { 22, 22 } };
static struct pc_port_range p_telnet[1] = { { 23, 23 } };
static struct pc_port_range p_finger[1] = { { 79, 79 } };
static struct pc_port_range p_mosh[1] = { { 60000, 61000 } };
static struct pc_port_range p_sctp[1] = { { 5000, 5000 } };
static struct pc_port_range p_dccp[2] = { { 5, 5 }, { 7, 9 } };
static struct pc_port_range p_smtp[1] = { { 25, 25 } };
static uint8_t t_icmp_ess[3] = { 3, 11, 12 };
static uint8_t t_icmp6_ess[8] = { 1, 2, 3, 4, 133, 134, 135, 136 };
static uint8_t t_echo[1] = { 8 };
static struct pc_l4 l4_web, l4_ssh, l4_rej[2], l4_mosh, l4_esp, l4_sctp,
	l4_dccp, l4_ess[2], l4_echo, l4_smtp;

struct pc_ir *pc_sample_ir_full(const char *table)
{
	struct pc_rule *r = in_rules;
	size_t n = 0;

	memset(&ir_full, 0, sizeof(ir_full));
	memset(in_rules, 0, sizeof(in_rules));
	memset(out_rules, 0, sizeof(out_rules));
	memset(fwd_rules, 0, sizeof(fwd_rules));
	ir_full.table = table;
	ir_full.policy_file = "sample.pcl";
	ir_full.registry_name = "test-registry.csv";
	ir_full.registry_date = "2026-01-01";

	admins[0] = addr("192.0.2.0", 24);
	admins[1] = addr("198.51.100.7", 32);
	admins[2] = addr("2001:db8:100::", 48);
	blocked[0] = addr("203.0.113.0", 25);
	blocked[1] = addr("203.0.113.128", 25);
	blocked[2] = addr("2001:db8::1", 128);
	dnet[0] = addr("192.0.0.0", 20);
	smtp_net[0] = addr("198.51.100.0", 24);

	l4_web = (struct pc_l4){ .proto = PC_PROTO_TCP, .dports = { 2, p_web } };
	l4_ssh = (struct pc_l4){ .proto = PC_PROTO_TCP, .dports = { 1, p_ssh } };
	l4_rej[0] = (struct pc_l4){ .proto = PC_PROTO_TCP, .dports = { 1, p_telnet } };
	l4_rej[1] = (struct pc_l4){ .proto = PC_PROTO_UDP, .dports = { 1, p_finger } };
	l4_mosh = (struct pc_l4){ .proto = PC_PROTO_UDP, .dports = { 1, p_mosh } };
	l4_esp = (struct pc_l4){ .proto = 50 };
	l4_sctp = (struct pc_l4){ .proto = PC_PROTO_SCTP, .dports = { 1, p_sctp } };
	l4_dccp = (struct pc_l4){ .proto = PC_PROTO_DCCP, .dports = { 2, p_dccp } };
	l4_ess[0] = (struct pc_l4){ .proto = PC_PROTO_ICMP, .n_types = 3, .types = t_icmp_ess };
	l4_ess[1] = (struct pc_l4){ .proto = PC_PROTO_ICMPV6, .n_types = 8, .types = t_icmp6_ess };
	l4_echo = (struct pc_l4){ .proto = PC_PROTO_ICMP, .n_types = 1, .types = t_echo };
	l4_smtp = (struct pc_l4){ .proto = PC_PROTO_TCP, .dports = { 1, p_smtp } };

	r[n++] = (struct pc_rule){ .origin = PC_ORIGIN_CONNTRACK, .loc = { .file = "sample.pcl" },
		.verdict = PC_VERDICT_ALLOW, .families = PC_FAM_ALL,
		.ct_state = PC_CT_ESTABLISHED | PC_CT_RELATED };
	r[n++] = (struct pc_rule){ .origin = PC_ORIGIN_CONNTRACK, .loc = { .file = "sample.pcl" },
		.verdict = PC_VERDICT_DENY, .families = PC_FAM_ALL,
		.ct_state = PC_CT_INVALID };
	r[n++] = (struct pc_rule){ .origin = PC_ORIGIN_LOOPBACK,
		.verdict = PC_VERDICT_ALLOW, .families = PC_FAM_ALL, .iface = "lo" };
	r[n++] = (struct pc_rule){ .origin = PC_ORIGIN_ESSENTIAL_ICMP, .loc = { .file = "sample.pcl" },
		.verdict = PC_VERDICT_ALLOW, .families = PC_FAM_ALL,
		.n_l4 = 2, .l4 = l4_ess };
	r[n++] = (struct pc_rule){ .loc = LOC(10), .verdict = PC_VERDICT_ALLOW,
		.families = PC_FAM_ALL, .n_l4 = 1, .l4 = &l4_web };
	r[n++] = (struct pc_rule){ .loc = LOC(11), .verdict = PC_VERDICT_ALLOW,
		.families = PC_FAM_ALL, .saddr = { "admins", 3, admins },
		.n_l4 = 1, .l4 = &l4_ssh, .log = true, .log_prefix = "ssh ",
		.limit = { 10, PC_LIMIT_MINUTE } };
	r[n++] = (struct pc_rule){ .loc = LOC(12), .verdict = PC_VERDICT_ALLOW,
		.families = PC_FAM_IPV4, .n_l4 = 1, .l4 = &l4_echo,
		.limit = { 5, PC_LIMIT_SECOND } };
	r[n++] = (struct pc_rule){ .loc = LOC(13), .verdict = PC_VERDICT_REJECT,
		.families = PC_FAM_ALL, .n_l4 = 2, .l4 = l4_rej };
	r[n++] = (struct pc_rule){ .loc = LOC(14), .verdict = PC_VERDICT_ALLOW,
		.families = PC_FAM_ALL, .n_l4 = 1, .l4 = &l4_mosh, .comment = "mosh" };
	r[n++] = (struct pc_rule){ .loc = LOC(15), .verdict = PC_VERDICT_DENY,
		.families = PC_FAM_ALL, .saddr = { NULL, 3, blocked }, .log = true };
	r[n++] = (struct pc_rule){ .loc = LOC(16), .verdict = PC_VERDICT_ALLOW,
		.families = PC_FAM_ALL, .n_l4 = 1, .l4 = &l4_esp };
	r[n++] = (struct pc_rule){ .loc = LOC(17), .verdict = PC_VERDICT_ALLOW,
		.families = PC_FAM_ALL, .iface = "eth0", .n_l4 = 1, .l4 = &l4_sctp };
	r[n++] = (struct pc_rule){ .loc = LOC(18), .verdict = PC_VERDICT_ALLOW,
		.families = PC_FAM_IPV4, .daddr = { NULL, 1, dnet }, .n_l4 = 1, .l4 = &l4_dccp };
	r[n++] = (struct pc_rule){ .loc = LOC(19), .verdict = PC_VERDICT_REJECT,
		.families = PC_FAM_IPV6, .saddr = { "admins", 3, admins } };
	r[n++] = (struct pc_rule){ .origin = PC_ORIGIN_DEFAULT, .loc = LOC(3),
		.verdict = PC_VERDICT_REJECT, .families = PC_FAM_ALL };
	ir_full.chains[PC_DIR_IN] = (struct pc_chain){ .dir = PC_DIR_IN,
		.policy = PC_VERDICT_DENY, .policy_loc = LOC(3), .n = n, .rules = in_rules };

	fwd_rules[0] = in_rules[0];
	ir_full.chains[PC_DIR_FORWARD] = (struct pc_chain){ .dir = PC_DIR_FORWARD,
		.policy = PC_VERDICT_DENY, .policy_loc = { .file = "sample.pcl" },
		.n = 1, .rules = fwd_rules };

	out_rules[0] = (struct pc_rule){ .loc = LOC(20), .verdict = PC_VERDICT_DENY,
		.families = PC_FAM_IPV4, .iface = "eth1", .daddr = { NULL, 1, smtp_net },
		.n_l4 = 1, .l4 = &l4_smtp, .log = true, .log_prefix = "smtp out: " };
	ir_full.chains[PC_DIR_OUT] = (struct pc_chain){ .dir = PC_DIR_OUT,
		.policy = PC_VERDICT_ALLOW, .policy_loc = { .file = "sample.pcl" },
		.n = 1, .rules = out_rules };
	return &ir_full;
}

struct sample_small {
	struct pc_ir ir;
	struct pc_rule *rules;
	struct pc_l4 *l4;
	struct pc_port_range *ports;
	struct pc_addr *addrs;
};

struct pc_ir *pc_sample_ir_small(const char *table, unsigned port, size_t n_extra)
{
	struct sample_small *s = calloc(1, sizeof(*s));
	size_t n = 0;

	s->rules = calloc(n_extra + 2, sizeof(*s->rules));
	s->l4 = calloc(n_extra + 1, sizeof(*s->l4));
	s->ports = calloc(n_extra + 1, sizeof(*s->ports));
	s->addrs = calloc(n_extra + 1, sizeof(*s->addrs));
	s->ir.table = table;
	s->ir.policy_file = "small.pcl";
	s->ir.registry_name = "test-registry.csv";
	s->ir.registry_date = "";
	s->rules[n++] = (struct pc_rule){ .origin = PC_ORIGIN_CONNTRACK,
		.loc = { .file = "small.pcl" }, .verdict = PC_VERDICT_ALLOW,
		.families = PC_FAM_ALL, .ct_state = PC_CT_ESTABLISHED | PC_CT_RELATED };
	s->ports[0] = (struct pc_port_range){ (uint16_t)port, (uint16_t)port };
	s->l4[0] = (struct pc_l4){ .proto = PC_PROTO_TCP, .dports = { 1, &s->ports[0] } };
	s->rules[n++] = (struct pc_rule){ .loc = { "small.pcl", 5, 1, 0 },
		.verdict = PC_VERDICT_ALLOW, .families = PC_FAM_ALL, .n_l4 = 1,
		.l4 = &s->l4[0] };
	for (size_t i = 0; i < n_extra; i++) {
		char text[32];

		snprintf(text, sizeof(text), "%s.%zu", i % 2 ? "203.0.113" : "198.51.100",
			 (i / 2) % 256);
		s->addrs[i] = addr(text, 32);
		s->ports[i + 1] = (struct pc_port_range){ (uint16_t)(10000 + i),
							  (uint16_t)(10000 + i) };
		s->l4[i + 1] = (struct pc_l4){ .proto = PC_PROTO_TCP,
					       .dports = { 1, &s->ports[i + 1] } };
		s->rules[n++] = (struct pc_rule){ .loc = { "small.pcl", (unsigned)(6 + i), 1, 0 },
			.verdict = PC_VERDICT_ALLOW, .families = PC_FAM_IPV4,
			.saddr = { NULL, 1, &s->addrs[i] }, .n_l4 = 1,
			.l4 = &s->l4[i + 1] };
	}
	s->ir.chains[PC_DIR_IN] = (struct pc_chain){ .dir = PC_DIR_IN,
		.policy = PC_VERDICT_DENY, .n = n, .rules = s->rules };
	s->ir.chains[PC_DIR_FORWARD] = (struct pc_chain){ .dir = PC_DIR_FORWARD,
		.policy = PC_VERDICT_DENY };
	s->ir.chains[PC_DIR_OUT] = (struct pc_chain){ .dir = PC_DIR_OUT,
		.policy = PC_VERDICT_ALLOW };
	return &s->ir;
}

void pc_sample_ir_free(struct pc_ir *ir)
{
	struct sample_small *s = (struct sample_small *)ir;

	if (!s)
		return;
	free(s->rules);
	free(s->l4);
	free(s->ports);
	free(s->addrs);
	free(s);
}
