/* SPDX-License-Identifier: MIT */
/*
 * The compiled-in registry snapshot (regsnap.S, linked in as in the
 * program): a base thawed from it must be the registry that parsing the
 * same file gives, lookups and overlays included, and it must be used
 * only for a file with exactly the shipped bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/registry.h"
#include "common/util.h"

#define MAX_HITS 4096

/* The image linked in, as the program has it; or none. */
#define SNAP pc_builtin_snapshot, pc_builtin_snapshot_len
#define NO_SNAP NULL, 0

/* @path as the base, then @overlays, with snapshot @image (@len bytes) set. */
static struct pc_registry *load(const char *path, const void *image, size_t len,
				const char *const *overlays)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_diag *d = pc_diag_create();

	pc_registry_set_snapshot(image, len);
	if (pc_registry_load(reg, path, false, d) != 0)
		fail_msg("cannot load %s", path);
	for (; overlays && *overlays; overlays++)
		if (pc_registry_load(reg, *overlays, true, d) != 0)
			fail_msg("cannot load %s", *overlays);
	pc_registry_finish(reg);
	pc_diag_destroy(d);
	pc_registry_set_snapshot(NULL, 0);
	return reg;
}

static void str_equal(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

/* Every field; @file compared by content (each registry has its own copy). */
static void entry_equal(const struct pc_reg_entry *a, const struct pc_reg_entry *b)
{
	str_equal(a->name, b->name);
	assert_int_equal(a->has_port, b->has_port);
	assert_int_equal(a->port_lo, b->port_lo);
	assert_int_equal(a->port_hi, b->port_hi);
	assert_int_equal(a->transport, b->transport);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->flags, b->flags);
	str_equal(a->description, b->description);
	str_equal(a->notes, b->notes);
	str_equal(a->file, b->file);
	assert_int_equal(a->line, b->line);
	str_equal(a->unauthorized, b->unauthorized);
	assert_int_equal(a->aliases == NULL, b->aliases == NULL);
	for (size_t i = 0; a->aliases && (a->aliases[i] || b->aliases[i]); i++)
		str_equal(a->aliases[i], b->aliases[i]);
}

static void name_equal(const struct pc_registry *a, const struct pc_registry *b,
		       const char *name)
{
	const struct pc_reg_entry *const *ea, *const *eb;
	size_t na = pc_registry_find_name(a, name, &ea);
	size_t nb = pc_registry_find_name(b, name, &eb);

	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		entry_equal(ea[i], eb[i]);
}

/*
 * Everything a caller can see: the records, source and date, every name
 * (as written, in capitals, and misses), every port for every transport,
 * the class counts and suggestions.
 */
static void registry_equal(const struct pc_registry *a, const struct pc_registry *b)
{
	static const struct pc_reg_entry *ha[MAX_HITS], *hb[MAX_HITS];
	static const char *const unknown[] = {
		"", "no-such-service", "https-x", "HTTPSS", "a", "-", "ssh ",
	};
	static const char *const typos[] = {
		"htps", "sshh", "domian", "imap3s", "kerberos5", "ntpp", "x",
	};
	size_t n = pc_registry_count(a);

	assert_int_equal(n, pc_registry_count(b));
	str_equal(pc_registry_source(a), pc_registry_source(b));
	str_equal(pc_registry_date(a), pc_registry_date(b));
	for (size_t i = 0; i < n; i++) {
		const struct pc_reg_entry *e = pc_registry_entry(a, i);

		entry_equal(e, pc_registry_entry(b, i));
		if (!e->name)
			continue;
		name_equal(a, b, e->name);
		for (size_t k = 0; e->aliases && e->aliases[k]; k++)
			name_equal(a, b, e->aliases[k]);
		if (i % 16 == 0) {
			char *up = xstrdup(e->name);

			for (char *p = up; *p; p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 'a' + 'A');
			name_equal(a, b, up);
			free(up);
		}
	}
	assert_null(pc_registry_entry(a, n));
	assert_null(pc_registry_entry(b, n));
	for (size_t i = 0; i < PC_ARRAY_SIZE(unknown); i++)
		name_equal(a, b, unknown[i]);
	for (unsigned port = 0; port < 65536; port++) {
		for (unsigned t = 0; t <= __PC_TRANSPORT_MAX; t++) {
			size_t na = pc_registry_find_port(a, (uint16_t)port, t, ha, MAX_HITS);
			size_t nb = pc_registry_find_port(b, (uint16_t)port, t, hb, MAX_HITS);

			assert_int_equal(na, nb);
			assert_in_range(na, 0, MAX_HITS);
			for (size_t i = 0; i < na; i++)
				entry_equal(ha[i], hb[i]);
		}
	}
	for (unsigned c = 0; c <= __PC_PORT_CLASS_MAX; c++) {
		size_t ca[__PC_REG_STATUS_MAX], cb[__PC_REG_STATUS_MAX];
		uint16_t lo = 0, hi = 65535;

		if (c < __PC_PORT_CLASS_MAX)
			pc_port_class_range(c, &lo, &hi);
		assert_int_equal(pc_registry_count_range(a, lo, hi, ca),
				 pc_registry_count_range(b, lo, hi, cb));
		assert_memory_equal(ca, cb, sizeof(ca));
	}
	for (size_t i = 0; i < PC_ARRAY_SIZE(typos); i++) {
		const char *sa[8], *sb[8];
		size_t na = pc_registry_suggest(a, typos[i], sa, 8);

		assert_int_equal(na, pc_registry_suggest(b, typos[i], sb, 8));
		for (size_t k = 0; k < na; k++)
			assert_string_equal(sa[k], sb[k]);
	}
}

static void test_snapshot_same_registry(void **state)
{
	struct pc_registry *thawed = load(PC_TEST_IANA_CSV, SNAP, NULL);
	struct pc_registry *parsed = load(PC_TEST_IANA_CSV, NO_SNAP, NULL);
	const struct pc_reg_entry *const *e;

	(void)state;
	assert_true(pc_registry_from_snapshot(thawed));
	assert_false(pc_registry_from_snapshot(parsed));
	assert_int_equal(pc_registry_count(thawed), 14499);
	assert_string_equal(pc_registry_source(thawed), PC_TEST_IANA_CSV);
	assert_string_equal(pc_registry_date(thawed), "2026-02-13");
	/* the path as given at run time, not the one the build read */
	for (size_t i = 0; i < pc_registry_count(thawed); i++)
		assert_ptr_equal(pc_registry_entry(thawed, i)->file,
				 pc_registry_source(thawed));
	assert_int_equal(pc_registry_find_name(thawed, "https", &e), 4);
	assert_string_equal(e[0]->description, "http protocol over TLS/SSL");
	registry_equal(thawed, parsed);
	/* a second finish() keeps the thawed index */
	pc_registry_finish(thawed);
	registry_equal(thawed, parsed);
	pc_registry_destroy(thawed);
	pc_registry_destroy(parsed);
}

/* A copy of the shipped file at @path, @edit applied; returns the path. */
static char *write_copy(const char *name, int edit)
{
	size_t len;
	char *text = pc_read_file(PC_TEST_IANA_CSV, &len);
	char *path = xasprintf("%s/pc-snap-%ld-%s.csv", P_tmpdir, (long)getpid(), name);
	FILE *f = fopen(path, "wb");
	char *p;

	assert_non_null(text);
	assert_non_null(f);
	if (edit == 1) {
		/* one byte, far from either end: https's tcp description */
		p = strstr(text, "http protocol over TLS/SSL");
		assert_non_null(p);
		*p = 'H';
	}
	assert_int_equal(fwrite(text, 1, len, f), len);
	if (edit == 2)
		assert_int_equal(fputc('\n', f), '\n');
	assert_int_equal(fclose(f), 0);
	free(text);
	return path;
}

static void test_snapshot_by_content(void **state)
{
	const struct pc_reg_entry *const *e;
	struct pc_registry *reg, *ref;
	char *same = write_copy("same", 0), *edited = write_copy("edited", 1);
	char *longer = write_copy("longer", 2);

	(void)state;
	/* the same bytes under another name: the snapshot, with that name */
	reg = load(same, SNAP, NULL);
	assert_true(pc_registry_from_snapshot(reg));
	assert_string_equal(pc_registry_source(reg), same);
	assert_string_equal(pc_registry_entry(reg, 0)->file, same);
	ref = load(same, NO_SNAP, NULL);
	registry_equal(reg, ref);
	pc_registry_destroy(ref);
	pc_registry_destroy(reg);

	/* one byte changed: parsed, and the change is there */
	reg = load(edited, SNAP, NULL);
	assert_false(pc_registry_from_snapshot(reg));
	assert_int_equal(pc_registry_find_name(reg, "https", &e), 4);
	assert_string_equal(e[0]->description, "Http protocol over TLS/SSL");
	pc_registry_destroy(reg);

	/* one byte longer (a blank line): parsed, same records */
	reg = load(longer, SNAP, NULL);
	assert_false(pc_registry_from_snapshot(reg));
	assert_int_equal(pc_registry_count(reg), 14499);
	pc_registry_destroy(reg);

	/* no snapshot set */
	reg = load(PC_TEST_IANA_CSV, NO_SNAP, NULL);
	assert_false(pc_registry_from_snapshot(reg));
	pc_registry_destroy(reg);

	/* not a base load into an empty registry: the shipped file as an overlay */
	{
		char *base = xasprintf("%s/services", PC_TEST_REGISTRY_DATA);
		const char *const over[] = { PC_TEST_IANA_CSV, NULL };

		reg = load(base, SNAP, over);
		assert_false(pc_registry_from_snapshot(reg));
		ref = load(base, NO_SNAP, NULL);
		assert_int_equal(pc_registry_count(reg), pc_registry_count(ref) + 14499);
		pc_registry_destroy(ref);
		pc_registry_destroy(reg);
		free(base);
	}

	unlink(same);
	unlink(edited);
	unlink(longer);
	free(same);
	free(edited);
	free(longer);
}

/* An image whose header does not fit (length, magic, version) is ignored. */
static void test_snapshot_bad_image(void **state)
{
	size_t len = pc_builtin_snapshot_len;
	unsigned char *copy = xmalloc(len);
	struct pc_registry *reg;

	(void)state;
	/* a copy elsewhere in memory is as good as the linked-in image */
	memcpy(copy, pc_builtin_snapshot, len);
	reg = load(PC_TEST_IANA_CSV, copy, len, NULL);
	assert_true(pc_registry_from_snapshot(reg));
	pc_registry_destroy(reg);
	/* truncated */
	reg = load(PC_TEST_IANA_CSV, copy, len - 1, NULL);
	assert_false(pc_registry_from_snapshot(reg));
	assert_int_equal(pc_registry_count(reg), 14499);
	pc_registry_destroy(reg);
	/* another magic; another format version (the word after the magic) */
	for (size_t at = 0; at < 12; at += 8) {
		copy[at] ^= 1;
		reg = load(PC_TEST_IANA_CSV, copy, len, NULL);
		assert_false(pc_registry_from_snapshot(reg));
		assert_int_equal(pc_registry_count(reg), 14499);
		pc_registry_destroy(reg);
		copy[at] ^= 1;
	}
	free(copy);
}

/* Overlays rebuild the index over thawed entries as over parsed ones. */
static void test_snapshot_overlays(void **state)
{
	char *o1 = xasprintf("%s/overlay.services", PC_TEST_REGISTRY_DATA);
	char *o2 = xasprintf("%s/overlay2.services", PC_TEST_REGISTRY_DATA);
	const char *const one[] = { o1, NULL }, *const two[] = { o1, o2, NULL };
	const struct pc_reg_entry *const *e;
	const struct pc_reg_entry *hits[8];
	struct pc_registry *thawed, *parsed;

	(void)state;
	thawed = load(PC_TEST_IANA_CSV, SNAP, one);
	parsed = load(PC_TEST_IANA_CSV, NO_SNAP, one);
	assert_true(pc_registry_from_snapshot(thawed));
	assert_int_equal(pc_registry_count(thawed), 14499 + 2);
	/* the overlay's ssh hides the four IANA ones, in both indexes */
	assert_int_equal(pc_registry_find_name(thawed, "ssh", &e), 1);
	assert_int_equal(e[0]->port_lo, 2222);
	assert_int_equal(pc_registry_find_port(thawed, 22, PC_TRANSPORT_TCP, hits, 8), 0);
	assert_int_equal(pc_registry_find_name(thawed, "sshd-alt", &e), 1);
	registry_equal(thawed, parsed);
	pc_registry_destroy(thawed);
	pc_registry_destroy(parsed);

	thawed = load(PC_TEST_IANA_CSV, SNAP, two);
	parsed = load(PC_TEST_IANA_CSV, NO_SNAP, two);
	assert_true(pc_registry_from_snapshot(thawed));
	registry_equal(thawed, parsed);
	pc_registry_destroy(thawed);
	pc_registry_destroy(parsed);
	free(o1);
	free(o2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_same_registry),
		cmocka_unit_test(test_snapshot_by_content),
		cmocka_unit_test(test_snapshot_bad_image),
		cmocka_unit_test(test_snapshot_overlays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
