/* SPDX-License-Identifier: MIT */
/*
 * Order assertions over generated text, for the cmocka tests (include after
 * <cmocka.h>). `strstr(t, a) < strstr(t, b)` is no such assertion: it holds
 * when `a` is missing (NULL is below every pointer), so each string is
 * looked up and must be there before the order is compared.
 */
#ifndef PC_TEST_ASSERT_TEXT_H
#define PC_TEST_ASSERT_TEXT_H

#include <string.h>

/* Both occur in @text, the first occurrence of @first before that of @second. */
static inline void assert_text_in_order(const char *text, const char *first,
					const char *second)
{
	const char *a = strstr(text, first), *b = strstr(text, second);

	if (!a)
		fail_msg("missing '%s' in:\n%s", first, text);
	if (!b)
		fail_msg("missing '%s' in:\n%s", second, text);
	if (a >= b)
		fail_msg("'%s' is not before '%s' in:\n%s", first, second, text);
}

#endif
