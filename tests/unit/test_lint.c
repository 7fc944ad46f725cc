/* SPDX-License-Identifier: MIT */
/*
 * The shadowing lint on Capirca-shaped policies (issue 15): its work grows
 * linearly from 1,000 to 100,000 rules, counted in comparison steps (what
 * pc_lint_shadowing() returns), never timed; and it is complete at the
 * large end, where a budget once stopped it early.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "policy/resolve.h"
#include "registry/registry.h"
#include "common/util.h"

static struct pc_registry *reg;

static int setup(void **state)
{
	struct pc_diag *d = pc_diag_create();

	(void)state;
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
	(void)state;
	pc_registry_destroy(reg);
	return 0;
}

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/*
 * @n rules shaped as bench/gen_shapes.py capirca writes them: 64 sites
 * (IPv4 /30 and IPv6 /48) nested in 4 regions nested in `internal`, 40
 * server groups; sources a site, a region or an inline prefix pair, a third
 * with a destination group, port lists and ranges, deny and reject terms
 * between the allows. With @dup, one more rule repeats the first.
 */
static char *capirca_shape(unsigned n, bool dup)
{
	struct pc_buf b = { 0 };
	uint32_t s = 1;

	pc_buf_printf(&b, "table t\ndefault in deny\n");
	for (unsigned i = 0; i < 64; i++)
		pc_buf_printf(&b, "hosts site_%u = { 192.0.2.%u/30, 2001:db8:1%03x::/48 }\n",
			      i, i * 4, i);
	for (unsigned r = 0; r < 4; r++) {
		pc_buf_printf(&b, "hosts region_%u = { 198.51.100.%u/29", r, r * 8);
		for (unsigned i = r * 16; i < r * 16 + 16; i++)
			pc_buf_printf(&b, ", $site_%u", i);
		pc_buf_printf(&b, " }\n");
	}
	pc_buf_printf(&b, "hosts internal = { $region_0, $region_1, $region_2, $region_3 }\n");
	for (unsigned i = 0; i < 40; i++)
		pc_buf_printf(&b, "hosts srv_%u = { 203.0.113.%u, 203.0.113.%u, 2001:db8:f::%x }\n",
			      i, 64 + i * 2, 65 + i * 2, i + 1);
	/* a port no other rule names: only the repetition covers it */
	pc_buf_printf(&b, "allow in port 40000/tcp from $site_3 to $srv_7\n");
	for (unsigned i = 1; i < n; i++) {
		uint32_t v = rnd(&s) % 20;
		const char *verdict = v < 2 ? "deny" : v < 3 ? "reject" : "allow";
		uint32_t src = rnd(&s) % 16, ports = rnd(&s) % 4;

		pc_buf_printf(&b, "%s in ", verdict);
		if (ports == 0)
			pc_buf_printf(&b, "port %u/tcp", 1024 + rnd(&s) % 20000);
		else if (ports == 1)
			pc_buf_printf(&b, "port { %u, %u, 8000-8100 }/udp", 1024 + rnd(&s) % 20000,
				      1024 + rnd(&s) % 20000);
		else if (ports == 2)
			pc_buf_printf(&b, "port { %u, %u }/tcp", 1024 + rnd(&s) % 20000,
				      1024 + rnd(&s) % 20000);
		else
			pc_buf_printf(&b, "service ssh");
		if (src == 0)
			pc_buf_printf(&b, " from { 198.51.100.%u/30, 2001:db8:e000:%x::/64 }",
				      128 + rnd(&s) % 32 * 4, rnd(&s) % 4096);
		else if (src == 1)
			pc_buf_printf(&b, " from $region_%u", rnd(&s) % 4);
		else if (src == 2)
			pc_buf_printf(&b, " from $internal");
		else
			pc_buf_printf(&b, " from $site_%u", rnd(&s) % 64);
		if (rnd(&s) % 3 == 0)
			pc_buf_printf(&b, " to $srv_%u", rnd(&s) % 40);
		pc_buf_printf(&b, "\n");
	}
	if (dup)
		pc_buf_printf(&b, "allow in port 40000/tcp from $site_3 to $srv_7\n");
	return b.data;
}

/* The lint's work on a policy of @n rules (@dup: see capirca_shape()); *warnings. */
static unsigned long long lint_work(unsigned n, bool dup, size_t *warnings)
{
	char *text = capirca_shape(n, dup);
	struct pc_diag *d = pc_diag_create();
	struct pc_ir *ir = pc_policy_load_buffer("t.policy", text, strlen(text), reg,
						 PC_POLICY_NO_LINT, d);
	unsigned long long work;

	assert_non_null(ir);
	work = pc_lint_shadowing(ir, d);
	*warnings = pc_diag_count(d, PC_SEV_WARNING);
	pc_ir_destroy(ir);
	pc_diag_destroy(d);
	free(text);
	return work;
}

static void test_linear_work(void **state)
{
	static const unsigned sizes[] = { 1000, 10000, 100000 };
	double per_rule[3];

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		size_t with, without;
		unsigned long long w = lint_work(sizes[i], true, &with);

		lint_work(sizes[i], false, &without);
		per_rule[i] = (double)w / sizes[i];
		print_message("%u rules: %llu steps, %.1f per rule, %zu warnings\n", sizes[i], w,
			      per_rule[i], with);
		/* the repeated first rule is found however long the policy */
		if (with != without + 1)
			fail_msg("%u rules: the repeated first rule is not reported", sizes[i]);
	}
	/* linear: the work per rule grows by at most half over a hundred times the
	 * rules (it grows a little: more of the rules are shadowed) */
	assert_true(per_rule[1] <= 1.5 * per_rule[0]);
	assert_true(per_rule[2] <= 1.5 * per_rule[0]);
}

/* Warnings of pc_lint_shadowing() on @text. */
static size_t lint_warnings(const char *text)
{
	struct pc_diag *d = pc_diag_create();
	struct pc_ir *ir = pc_policy_load_buffer("t.policy", text, strlen(text), reg,
						 PC_POLICY_NO_LINT, d);
	size_t n;

	assert_non_null(ir);
	pc_lint_shadowing(ir, d);
	n = pc_diag_count(d, PC_SEV_WARNING);
	pc_ir_destroy(ir);
	pc_diag_destroy(d);
	return n;
}

/*
 * The lint remembers which address lists cover which (lists are shared by
 * the rules of a group): the answer for one family is not the other's.
 * Here $a covers the IPv4 half of $b but not its IPv6 half.
 */
static void test_families_apart(void **state)
{
	(void)state;
	assert_int_equal(lint_warnings(
		"hosts a = { 192.0.2.0/24, 2001:db8:1::/48, 2001:db8:3::/48 }\n"
		"hosts b = { 192.0.2.0/25, 2001:db8:1::/48, 2001:db8:2::/48 }\n"
		"allow in port 22/tcp from $a\n"
		"allow in port 22/tcp from $b\n"), 0);
	assert_int_equal(lint_warnings(
		"hosts a = { 192.0.2.0/24, 2001:db8:1::/48, 2001:db8:3::/48 }\n"
		"hosts b = { 192.0.2.0/25, 2001:db8:1::/48, 2001:db8:3::/48 }\n"
		"allow in port 22/tcp from $a\n"
		"allow in port 22/tcp from $b\n"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear_work),
		cmocka_unit_test(test_families_apart),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
