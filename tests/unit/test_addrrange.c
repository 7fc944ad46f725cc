/* SPDX-License-Identifier: MIT */
/* Address ranges as minimal prefix covers (core/ir/addrrange.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "ir/addrrange.h"

struct out {
	char text[1024];
};

static void emit(void *ctx, const struct pc_addr *a)
{
	struct out *o = ctx;
	char buf[INET6_ADDRSTRLEN];
	size_t n = strlen(o->text);

	inet_ntop(a->family == PC_FAM_IPV4 ? AF_INET : AF_INET6, a->a, buf, sizeof(buf));
	snprintf(o->text + n, sizeof(o->text) - n, "%s%s/%u", n ? " " : "", buf, a->plen);
}

static const struct {
	const char *range, *cover;
} cases[] = {
	{ "192.0.2.10-192.0.2.20", "192.0.2.10/31 192.0.2.12/30 192.0.2.16/30 192.0.2.20/32" },
	{ "192.0.2.0-192.0.2.255", "192.0.2.0/24" },
	{ "192.0.2.7-192.0.2.7", "192.0.2.7/32" },
	{ "0.0.0.0-255.255.255.255", "0.0.0.0/0" },
	{ "255.255.255.254-255.255.255.255", "255.255.255.254/31" },
	{ "0.0.0.0-0.0.0.2", "0.0.0.0/31 0.0.0.2/32" },
	{ "2001:db8::5-2001:db8::9", "2001:db8::5/128 2001:db8::6/127 2001:db8::8/127" },
	{ "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127" },
};

static void test_cover(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pc_addr lo, hi;
		struct out o = { "" };
		char err[160];
		bool is_range;

		assert_true(pc_addr_range_parse(cases[i].range, &lo, &hi, &is_range, err, sizeof(err)));
		assert_true(is_range);
		pc_addr_range_cover(&lo, &hi, emit, &o);
		assert_string_equal(o.text, cases[i].cover);
	}
}

static void test_bad(void **state)
{
	struct pc_addr lo, hi;
	char err[160];
	bool is_range;

	(void)state;
	assert_false(pc_addr_range_parse("192.0.2.9-192.0.2.3", &lo, &hi, &is_range, err, sizeof(err)));
	assert_true(is_range);
	assert_string_equal(err, "reversed address range '192.0.2.9-192.0.2.3' (write 192.0.2.3-192.0.2.9)");
	assert_false(pc_addr_range_parse("192.0.2.1-2001:db8::1", &lo, &hi, &is_range, err, sizeof(err)));
	assert_true(is_range);
	assert_false(pc_addr_range_parse("192.0.2.1", &lo, &hi, &is_range, err, sizeof(err)));
	assert_false(is_range);
	assert_false(pc_addr_range_parse("ssh-alt", &lo, &hi, &is_range, err, sizeof(err)));
	assert_false(is_range);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cover),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
