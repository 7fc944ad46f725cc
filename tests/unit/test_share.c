/* SPDX-License-Identifier: MIT */
/*
 * Shared sets (issue 15): an anonymous set that several nft rules hold is
 * one named set of the plan, so that the kernel objects of `apply` (and of
 * nft -f) grow with the distinct sets, not with the policy lines.
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
#include "ir/optimize.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

#define N_RULES 200

/* @n rules from 192.0.2.i to tcp ports { 22, 80, 443 }, or one port list each */
static void make_ir(struct pc_ir *ir, struct pc_rule *rules, struct pc_addr *src,
		    struct pc_l4 *l4, struct pc_port_range (*ports)[3], bool same)
{
	memset(ir, 0, sizeof(*ir));
	for (unsigned i = 0; i < N_RULES; i++) {
		ports[i][0] = (struct pc_port_range){ 22, 22 };
		ports[i][1] = (struct pc_port_range){ 80, 80 };
		ports[i][2] = (struct pc_port_range){ same ? 443 : (uint16_t)(1000 + i),
						       same ? 443 : (uint16_t)(1000 + i) };
		l4[i] = (struct pc_l4){ .proto = PC_PROTO_TCP, .dports = { 3, ports[i] } };
		src[i] = (struct pc_addr){ .family = PC_FAM_IPV4, .plen = 32,
					   .a = { 192, 0, 2, (uint8_t)i } };
		rules[i] = (struct pc_rule){ .loc = { "s.pcl", i + 1, 1, 0 },
			.verdict = PC_VERDICT_ALLOW, .families = PC_FAM_IPV4,
			.saddr = { NULL, 1, &src[i] }, .n_l4 = 1, .l4 = &l4[i] };
	}
	ir->table = "s";
	ir->policy_file = "s.pcl";
	ir->registry_name = "r.csv";
	ir->registry_date = "";
	ir->chains[PC_DIR_IN] = (struct pc_chain){ .dir = PC_DIR_IN,
		.policy = PC_VERDICT_DENY, .n = N_RULES, .rules = rules };
	ir->chains[PC_DIR_FORWARD] = (struct pc_chain){ .dir = PC_DIR_FORWARD,
		.policy = PC_VERDICT_DENY };
	ir->chains[PC_DIR_OUT] = (struct pc_chain){ .dir = PC_DIR_OUT,
		.policy = PC_VERDICT_ALLOW };
}

static size_t anonymous_sets(const struct pc_nft_plan *p)
{
	size_t n = 0;

	for (size_t c = 0; c < 3; c++)
		for (size_t i = 0; i < p->chains[c].n; i++)
			n += p->chains[c].rules[i].n_sets;
	return n;
}

static void test_one_set_for_many_lines(void **state)
{
	static struct pc_rule rules[N_RULES];
	static struct pc_addr src[N_RULES];
	static struct pc_l4 l4[N_RULES];
	static struct pc_port_range ports[N_RULES][3];
	struct pc_ir ir;
	struct pc_diag *d = pc_diag_create();
	struct pc_nft_plan *p;

	(void)state;
	make_ir(&ir, rules, src, l4, ports, true);
	p = pc_nft_plan_create(&ir, d);
	assert_non_null(p);
	/* one set for the 200 lines, and every rule looks it up */
	assert_int_equal(p->n_sets, 1);
	assert_string_equal(p->sets[0]->name, "shared_1_tcp_ports");
	assert_int_equal(p->sets[0]->n, 3);
	assert_int_equal(anonymous_sets(p), 0);
	for (size_t i = 0; i < p->chains[0].n; i++)
		assert_ptr_equal(p->chains[0].rules[i].dport.set, p->sets[0]);
	pc_nft_plan_destroy(p);

	/* distinct lists stay anonymous: nothing to share */
	make_ir(&ir, rules, src, l4, ports, false);
	p = pc_nft_plan_create(&ir, d);
	assert_non_null(p);
	assert_int_equal(p->n_sets, 0);
	assert_int_equal(anonymous_sets(p), N_RULES);
	pc_nft_plan_destroy(p);
	pc_diag_destroy(d);
}

/*
 * Dispatch (issue 15): a rule with a limit that lands in several class
 * chains is several nft rules, and they must share the one bucket of its
 * policy line, as the rules of one line always do.
 */
static void test_dispatch_limit_one_bucket(void **state)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_diag *d = pc_diag_create();
	struct pc_buf b;
	struct pc_ir *ir, *view;
	struct pc_nft_plan *p;
	size_t uses = 0;

	(void)state;
	pc_registry_finish(reg);
	pc_buf_init(&b);
	/* 22 and 80 fall in different classes (line 4 names only 22), and
	 * the limited rule (line 3) names both; the logs keep the rules out
	 * of maps, and half of them in each class: the dispatch is worth it */
	pc_buf_puts(&b, "allow in port 22/tcp from 192.0.2.1\n"
			"allow in port 80/tcp from 192.0.2.2\n"
			"allow in port { 22, 80 }/tcp from 192.0.2.3 limit 10/second\n"
			"deny in port 22/tcp from 192.0.2.4\n");
	for (unsigned i = 0; i < 20; i++)
		pc_buf_printf(&b, "allow in port %u/tcp from 198.51.100.%u log\n", i % 2 ? 22 : 80, i);
	ir = pc_policy_load_buffer("l.policy", b.data, b.len, reg, PC_POLICY_NO_LINT, d);
	assert_non_null(ir);
	view = pc_ir_optimize_view_opts(ir, true, true, NULL);
	p = pc_nft_plan_create(view, d);
	assert_non_null(p);
	assert_true(p->n_sub >= 2);
	assert_int_equal(p->n_limits, 1);
	for (size_t c = 0; c < p->n_sub; c++)
		for (size_t i = 0; i < p->sub[c].n; i++)
			if (p->sub[c].rules[i].limit) {
				assert_ptr_equal(p->sub[c].rules[i].limit, p->limits[0]);
				uses++;
			}
	/* in two classes, one nft rule per family each (the addresses are IPv4 only) */
	assert_int_equal(uses, 2);
	pc_nft_plan_destroy(p);
	pc_ir_destroy(view);
	pc_ir_destroy(ir);
	pc_buf_finish(&b);
	pc_diag_destroy(d);
	pc_registry_destroy(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_set_for_many_lines),
		cmocka_unit_test(test_dispatch_limit_one_bucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
