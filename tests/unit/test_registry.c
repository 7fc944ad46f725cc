/* SPDX-License-Identifier: MIT */
/*
 * The registry over the real shipped IANA CSV (PC_TEST_IANA_CSV) and the
 * crafted files in tests/data/registry (PC_TEST_REGISTRY_DATA).
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

#include "cli/cli.h"
#include "registry/registry.h"
#include "common/util.h"

static struct pc_registry *iana;

static int setup_iana(void **state)
{
	struct pc_diag *d = pc_diag_create();

	(void)state;
	iana = pc_registry_create();
	if (pc_registry_load(iana, PC_TEST_IANA_CSV, false, d) != 0) {
		pc_diag_print(d, stderr, false);
		return -1;
	}
	pc_registry_finish(iana);
	pc_diag_destroy(d);
	return 0;
}

static int teardown_iana(void **state)
{
	(void)state;
	pc_registry_destroy(iana);
	return 0;
}

static char *data_path(const char *name)
{
	return xasprintf("%s/%s", PC_TEST_REGISTRY_DATA, name);
}

/* Loads crafted files (base first, the rest as overlays) and finishes. */
static struct pc_registry *load_files(const char *base, ...)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_diag *d = pc_diag_create();
	const char *name = base;
	bool overlay = false;
	va_list ap;

	va_start(ap, base);
	while (name) {
		char *path = strchr(name, '/') ? xstrdup(name) : data_path(name);

		if (pc_registry_load(reg, path, overlay, d) != 0) {
			pc_diag_print(d, stderr, false);
			fail_msg("cannot load %s", path);
		}
		free(path);
		overlay = true;
		name = va_arg(ap, const char *);
	}
	va_end(ap);
	pc_registry_finish(reg);
	pc_diag_destroy(d);
	return reg;
}

/* Loads one file that must fail; returns the status and the diagnostics. */
static int load_bad(const char *name, char **text)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_diag *d = pc_diag_create();
	char *path = data_path(name);
	size_t len;
	FILE *out = open_memstream(text, &len);
	int st;

	assert_non_null(out);
	st = pc_registry_load(reg, path, false, d);
	/* nothing of a bad file is added */
	assert_int_equal(pc_registry_count(reg), 0);
	pc_registry_finish(reg);
	pc_diag_print(d, out, false);
	fclose(out);
	pc_diag_destroy(d);
	pc_registry_destroy(reg);
	free(path);
	return st;
}

static size_t find(const struct pc_registry *reg, const char *name,
		   const struct pc_reg_entry *const **e)
{
	return pc_registry_find_name(reg, name, e);
}

/* The entry of @name at @port/@transport, or NULL. */
static const struct pc_reg_entry *find_at(const struct pc_registry *reg,
					  const char *name, unsigned port,
					  unsigned transport)
{
	const struct pc_reg_entry *const *e;
	size_t n = find(reg, name, &e);

	for (size_t i = 0; i < n; i++)
		if (e[i]->has_port && e[i]->port_lo == port && e[i]->transport == transport)
			return e[i];
	return NULL;
}

/* Starts of the lines of @text (1-based: [0] unused). */
static const char **line_starts(char *text, size_t *n)
{
	const char **l = NULL;
	size_t cap = 0, k = 1;

	l = xgrow(l, &cap, 2, sizeof(*l));
	l[k++] = text;
	for (char *p = text; (p = strchr(p, '\n')); p++) {
		l = xgrow(l, &cap, k + 1, sizeof(*l));
		l[k++] = p + 1;
	}
	*n = k;
	return l;
}

/* The record of @e starts on e->line: "NAME," (or "," for an unnamed one). */
static void check_line(const struct pc_reg_entry *e, const char **lines, size_t n)
{
	size_t len = e->name ? strlen(e->name) : 0;

	assert_true(e->line > 0 && e->line < n);
	if ((e->name && strncmp(lines[e->line], e->name, len) != 0) ||
	    lines[e->line][len] != ',')
		fail_msg("%s at line %u: line reads %.40s", e->name ? e->name : "(unnamed)",
			 e->line, lines[e->line]);
}

/* Counts of the whole file: every record loads, with every quirk. */
static void test_iana_counts(void **state)
{
	const struct pc_reg_entry *hits[64];
	size_t with_port = 0, unnamed = 0, ranges = 0, n_lines;
	char *text = pc_read_file(PC_TEST_IANA_CSV, NULL);
	const char **lines = line_starts(text, &n_lines);

	(void)state;
	assert_int_equal(pc_registry_count(iana), 14499);
	assert_string_equal(pc_registry_date(iana), "2026-02-13");
	assert_string_equal(pc_registry_source(iana), PC_TEST_IANA_CSV);
	/* every record with a port, each counted at its first port */
	for (unsigned port = 0; port < 65536; port++) {
		size_t n = pc_registry_find_port(iana, (uint16_t)port, __PC_TRANSPORT_MAX,
						 hits, 64);

		assert_true(n <= 64);
		for (size_t i = 0; i < n; i++) {
			if (hits[i]->port_lo != port)
				continue;
			with_port++;
			/* every line number is right, both halves of the parse */
			check_line(hits[i], lines, n_lines);
			unnamed += !hits[i]->name;
			ranges += hits[i]->port_lo != hits[i]->port_hi;
		}
	}
	/*
	 * data README: 1,055 names without a port, 1,720 unnamed, 762 ranges,
	 * six of which are written N-N (",4748-4748,,Unassigned")
	 */
	assert_int_equal(with_port, 14499 - 1055);
	assert_int_equal(unnamed, 1720);
	assert_int_equal(ranges, 762 - 6);
	free(lines);
	free(text);
}

/*
 * The big file's errors: the parallel parse gives up and the whole file is
 * read again in one piece, so errors come out complete and in order.
 */
static void test_iana_errors(void **state)
{
	char *text = pc_read_file(PC_TEST_IANA_CSV, NULL), *out = NULL;
	char *path = xasprintf("%s/test_registry_big.%d.csv", P_tmpdir, (int)getpid());
	struct pc_registry *reg = pc_registry_create();
	struct pc_diag *d = pc_diag_create();
	char *first = strstr(text, "\nssh,22,tcp,") + 1, *p;
	size_t n_lines, len;
	const char **lines = line_starts(text, &n_lines);
	FILE *f = fopen(path, "w"), *msg;

	(void)state;
	assert_non_null(f);
	/* a bad port in the first half, a bad transport in the last record */
	fwrite(text, 1, (size_t)(first - text), f);
	fputs("ssh,22x", f);
	p = first + strlen("ssh,22");
	fputs(p, f);
	fputs("late,1,tpc,a typo at the end,,,,,,,,\n", f);
	fclose(f);
	assert_int_equal(pc_registry_load(reg, path, false, d), 1);
	assert_int_equal(pc_registry_count(reg), 0);
	msg = open_memstream(&out, &len);
	pc_diag_print(d, msg, false);
	fclose(msg);
	assert_non_null(strstr(out, ":50:5: error: bad port '22x'"));
	/* the file ends in a newline: the appended record is line n_lines - 1 */
	p = xasprintf(":%zu:8: error: unknown transport 'tpc'", n_lines - 1);
	assert_non_null(strstr(out, p));
	assert_int_equal(pc_diag_count(d, PC_SEV_ERROR), 2);
	unlink(path);
	free(p);
	free(out);
	free(lines);
	free(path);
	free(text);
	pc_diag_destroy(d);
	pc_registry_destroy(reg);
}

static void test_iana_multiline(void **state)
{
	const struct pc_reg_entry *const *e;
	size_t n;

	(void)state;
	/* "Defined TXT keys: hash=...\n      salt=..." spans several lines */
	n = find(iana, "jnx-kcsync", &e);
	assert_int_equal(n, 1);
	assert_non_null(strstr(e[0]->notes, "hash=<40hex characters>\n"));
	assert_non_null(strstr(e[0]->notes, "salt=<40hex characters>"));
	/* line numbers stay right after multi-line records */
	assert_int_equal(e[0]->line, 14718);
	n = find(iana, "jmap", &e);
	assert_int_equal(n, 1);
	assert_int_equal(e[0]->line, 14715);
	assert_non_null(strstr(e[0]->notes, "de-assigned and\n"));
	/* ... which makes it no de-assigned entry: it was re-assigned */
	assert_int_equal(e[0]->status, PC_REG_ASSIGNED);
	n = find(iana, "ssh", &e);
	assert_int_equal(e[0]->line, 50);
	assert_string_equal(e[0]->file, PC_TEST_IANA_CSV);
}

static void test_iana_range(void **state)
{
	const struct pc_reg_entry *hits[8];
	size_t n;
	bool x11 = false;

	(void)state;
	n = pc_registry_find_port(iana, 6010, PC_TRANSPORT_TCP, hits, 8);
	for (size_t i = 0; i < n && i < 8; i++)
		if (hits[i]->name && strcmp(hits[i]->name, "x11") == 0) {
			x11 = true;
			assert_int_equal(hits[i]->port_lo, 6000);
			assert_int_equal(hits[i]->port_hi, 6063);
			assert_int_equal(hits[i]->transport, PC_TRANSPORT_TCP);
		}
	assert_true(x11);
	/* both ends belong to the range, the next port does not */
	n = pc_registry_find_port(iana, 6063, PC_TRANSPORT_UDP, hits, 8);
	assert_int_equal(n, 1);
	assert_string_equal(hits[0]->name, "x11");
	assert_int_equal(hits[0]->transport, PC_TRANSPORT_UDP);
	n = pc_registry_find_port(iana, 6000, PC_TRANSPORT_TCP, hits, 8);
	assert_int_equal(n, 1);
	n = pc_registry_find_port(iana, 6064, __PC_TRANSPORT_MAX, hits, 8);
	for (size_t i = 0; i < n && i < 8; i++)
		assert_false(hits[i]->name && strcmp(hits[i]->name, "x11") == 0);
	/* max limits what is written, not the count */
	n = pc_registry_find_port(iana, 6010, __PC_TRANSPORT_MAX, hits, 1);
	assert_int_equal(n, 2);
}

static void test_iana_portless(void **state)
{
	const struct pc_reg_entry *const *e;
	const struct pc_reg_entry *hits[8];
	size_t n, portless = 0, at443 = 0;

	(void)state;
	n = find(iana, "https", &e);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		if (!e[i]->has_port)
			portless++;
		else if (e[i]->port_lo == 443)
			at443++;
	}
	assert_int_equal(portless, 1);
	assert_int_equal(at443, 3);
	/* file order: the portless DNS-SD row comes last */
	assert_false(e[3]->has_port);
	n = pc_registry_find_port(iana, 443, PC_TRANSPORT_TCP, hits, 8);
	assert_int_equal(n, 1);
	assert_true(hits[0]->has_port);
	assert_string_equal(hits[0]->name, "https");
}

static void test_iana_unnamed(void **state)
{
	const struct pc_reg_entry *hits[8];
	size_t n;

	(void)state;
	n = pc_registry_find_port(iana, 0, PC_TRANSPORT_TCP, hits, 8);
	assert_int_equal(n, 1);
	assert_null(hits[0]->name);
	assert_int_equal(hits[0]->status, PC_REG_RESERVED);
	/* ",81,,Unassigned": no transport, so every transport's lookup finds it */
	n = pc_registry_find_port(iana, 81, PC_TRANSPORT_SCTP, hits, 8);
	assert_int_equal(n, 1);
	assert_null(hits[0]->name);
	assert_int_equal(hits[0]->transport, PC_REG_NO_TRANSPORT);
	assert_int_equal(hits[0]->status, PC_REG_UNASSIGNED);
}

static void test_iana_several_ports(void **state)
{
	static const unsigned ports[] = { 591, 591, 8008, 8008, 8080, 8080 };
	const struct pc_reg_entry *const *e;
	size_t n;

	(void)state;
	n = find(iana, "http-alt", &e);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(e[i]->port_lo, ports[i]);
		assert_int_equal(e[i]->transport, i % 2 ? PC_TRANSPORT_UDP : PC_TRANSPORT_TCP);
	}
}

static void test_iana_historic(void **state)
{
	const struct pc_reg_entry *const *a, *const *b;

	(void)state;
	assert_int_equal(find(iana, "udt_os", &a), 4);
	assert_int_equal(find(iana, "udt-os", &b), 4);
	assert_ptr_not_equal(a[0], b[0]);
	assert_string_equal(a[0]->name, "udt_os");
	assert_string_equal(b[0]->name, "udt-os");
	assert_non_null(find_at(iana, "udt_os", 3900, PC_TRANSPORT_TCP));
	assert_non_null(strstr(a[0]->notes, "alias to \"udt-os\""));
}

static void test_iana_case(void **state)
{
	const struct pc_reg_entry *const *a, *const *b;
	size_t na, nb;

	(void)state;
	na = find(iana, "ssh", &a);
	nb = find(iana, "SSH", &b);
	assert_int_equal(na, 4);
	assert_int_equal(na, nb);
	assert_ptr_equal(a, b);
	assert_int_equal(find(iana, "sSh", &b), 4);
	/* names keep their case; lookups ignore it */
	assert_int_equal(find(iana, "ethernet/ip-1", &a), 2);
	assert_string_equal(a[0]->name, "EtherNet/IP-1");
	assert_int_equal(find(iana, "ss", &a), 0);
	assert_null(a);
	assert_int_equal(find(iana, "sshx", &a), 0);
	assert_int_equal(find(iana, "", &a), 0);
}

static void test_iana_deassigned(void **state)
{
	const struct pc_reg_entry *hits[8];

	(void)state;
	/* ",2,tcp,Reserved,...,De-assigned on 2025-02-13, previously compressnet" */
	assert_int_equal(pc_registry_find_port(iana, 2, PC_TRANSPORT_TCP, hits, 8), 1);
	assert_int_equal(hits[0]->status, PC_REG_DEASSIGNED);
	assert_null(hits[0]->name);
	/* "Historic usage was acms. De-Assigned on 2020-12-29" */
	assert_int_equal(pc_registry_find_port(iana, 3980, PC_TRANSPORT_TCP, hits, 8), 1);
	assert_int_equal(hits[0]->status, PC_REG_DEASSIGNED);
	/* its udp twin says nothing about it */
	assert_int_equal(pc_registry_find_port(iana, 3980, PC_TRANSPORT_UDP, hits, 8), 1);
	assert_int_equal(hits[0]->status, PC_REG_RESERVED);
	/* ",585,,De-registered" */
	assert_int_equal(pc_registry_find_port(iana, 585, PC_TRANSPORT_TCP, hits, 8), 1);
	assert_int_equal(hits[0]->status, PC_REG_DEASSIGNED);
}

static void test_iana_unauthorized(void **state)
{
	const struct pc_reg_entry *e = find_at(iana, "x11", 6000, PC_TRANSPORT_TCP);
	const struct pc_reg_entry *s = find_at(iana, "ssh", 22, PC_TRANSPORT_TCP);

	(void)state;
	assert_non_null(e);
	assert_true(e->flags & PC_REG_UNAUTHORIZED);
	assert_string_equal(e->unauthorized, "Known Unauthorized Use on port 6003");
	assert_non_null(s);
	assert_false(s->flags & PC_REG_UNAUTHORIZED);
	assert_string_equal(s->unauthorized, "");
}

static void test_iana_no_transport(void **state)
{
	const struct pc_reg_entry *const *e;
	const struct pc_reg_entry *hits[4];

	(void)state;
	/* "boe-cms,6400,,Business Objects CMS contact port" */
	assert_int_equal(find(iana, "boe-cms", &e), 1);
	assert_int_equal(e[0]->transport, PC_REG_NO_TRANSPORT);
	assert_int_equal(pc_registry_find_port(iana, 6400, PC_TRANSPORT_UDP, hits, 4), 1);
	assert_ptr_equal(hits[0], e[0]);
	assert_string_equal(pc_transport_name(e[0]->transport), "any");
}

static void test_classes(void **state)
{
	uint16_t lo, hi;
	size_t counts[__PC_REG_STATUS_MAX], total;

	(void)state;
	assert_int_equal(pc_port_class_of(0), PC_PORT_SYSTEM);
	assert_int_equal(pc_port_class_of(1023), PC_PORT_SYSTEM);
	assert_int_equal(pc_port_class_of(1024), PC_PORT_USER);
	assert_int_equal(pc_port_class_of(49151), PC_PORT_USER);
	assert_int_equal(pc_port_class_of(49152), PC_PORT_DYNAMIC);
	assert_int_equal(pc_port_class_of(65535), PC_PORT_DYNAMIC);
	assert_int_equal(pc_port_class_parse("dynamic"), PC_PORT_DYNAMIC);
	assert_int_equal(pc_port_class_parse("system"), PC_PORT_SYSTEM);
	assert_int_equal(pc_port_class_parse("user"), PC_PORT_USER);
	assert_int_equal(pc_port_class_parse("private"), -1);
	pc_port_class_range(PC_PORT_USER, &lo, &hi);
	assert_int_equal(lo, 1024);
	assert_int_equal(hi, 49151);
	assert_string_equal(pc_port_class_name(PC_PORT_DYNAMIC), "dynamic");
	/* IANA assigns nothing in the dynamic range */
	assert_int_equal(pc_registry_count_range(iana, 49152, 65535, counts), 0);
	/* every record with a port lies in exactly one class */
	total = pc_registry_count_range(iana, 0, 1023, counts);
	total += pc_registry_count_range(iana, 1024, 49151, NULL);
	assert_int_equal(total, 14499 - 1055);
	/* a range counts once, also when the lookup starts inside it */
	assert_int_equal(pc_registry_count_range(iana, 6010, 6020, counts), 2);
	assert_int_equal(counts[PC_REG_ASSIGNED], 2);
	assert_int_equal(pc_transport_parse("TCP"), PC_TRANSPORT_TCP);
	assert_int_equal(pc_transport_parse("dccp"), PC_TRANSPORT_DCCP);
	assert_int_equal(pc_transport_parse("tpc"), -1);
	assert_int_equal(pc_transport_proto(PC_TRANSPORT_SCTP), 132);
	assert_int_equal(pc_transport_proto(PC_TRANSPORT_UDP), 17);
	assert_string_equal(pc_reg_status_name(PC_REG_DEASSIGNED), "de-assigned");
}

static void test_suggest(void **state)
{
	const char *out[4], *again[4];
	size_t n;

	(void)state;
	n = pc_registry_suggest(iana, "shh", out, 4);
	assert_true(n >= 1);
	assert_string_equal(out[0], "ssh");
	/* ties at the same distance are in name order: ftps, htsp, https */
	n = pc_registry_suggest(iana, "htps", out, 4);
	assert_true(n >= 3);
	assert_string_equal(out[0], "ftps");
	assert_string_equal(out[1], "htsp");
	assert_string_equal(out[2], "https");
	n = pc_registry_suggest(iana, "HTTP-ALT2", out, 1);
	assert_int_equal(n, 1);
	assert_string_equal(out[0], "http-alt");
	/* the same order every time */
	n = pc_registry_suggest(iana, "nope", out, 4);
	assert_int_equal(pc_registry_suggest(iana, "nope", again, 4), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i], again[i]);
	assert_int_equal(pc_registry_suggest(iana, "qqqqqqqqqqqqqqqqqqqqqqq", out, 4), 0);
	assert_int_equal(pc_registry_suggest(iana, "", out, 4), 0);
}

static void test_services(void **state)
{
	struct pc_registry *reg = load_files("services", NULL);
	const struct pc_reg_entry *const *e;
	const struct pc_reg_entry *hits[4];

	(void)state;
	assert_int_equal(pc_registry_count(reg), 5);
	assert_int_equal(find(reg, "http", &e), 2);
	assert_int_equal(e[0]->line, 2);
	assert_string_equal(e[0]->description, "WorldWideWeb HTTP");
	assert_string_equal(e[0]->aliases[0], "www");
	assert_string_equal(e[0]->aliases[1], "www-http");
	assert_null(e[0]->aliases[2]);
	assert_null(e[1]->aliases);
	assert_string_equal(e[1]->description, "");
	assert_false(e[0]->flags & PC_REG_ALIAS);
	/* an alias finds the entry, marked as found by alias */
	assert_int_equal(find(reg, "WWW", &e), 1);
	assert_string_equal(e[0]->name, "http");
	assert_true(e[0]->flags & PC_REG_ALIAS);
	assert_int_equal(e[0]->port_lo, 80);
	assert_int_equal(find(reg, "krb5", &e), 1);
	assert_string_equal(e[0]->name, "kerberos");
	assert_int_equal(e[0]->line, 6);
	/* the port index holds the entry once, not once per alias */
	assert_int_equal(pc_registry_find_port(reg, 80, PC_TRANSPORT_TCP, hits, 4), 1);
	assert_false(hits[0]->flags & PC_REG_ALIAS);
	assert_int_equal(pc_registry_find_port(reg, 6010, PC_TRANSPORT_TCP, hits, 4), 1);
	assert_string_equal(hits[0]->name, "x11");
	assert_string_equal(pc_registry_date(reg), "");
	/* AppleTalk lines (1/ddp) are no error, and no entry */
	assert_int_equal(find(reg, "rtmp", &e), 0);
	pc_registry_destroy(reg);
}

static void test_crlf_csv(void **state)
{
	struct pc_registry *reg = load_files("crlf.csv", NULL);
	const struct pc_reg_entry *const *e;
	const struct pc_reg_entry *hits[2];

	(void)state;
	assert_int_equal(pc_registry_count(reg), 3);
	assert_int_equal(find(reg, "a-svc", &e), 1);
	assert_int_equal(e[0]->line, 2);
	assert_string_equal(e[0]->description, "spans\r\ntwo lines");
	assert_int_equal(find(reg, "b-svc", &e), 1);
	assert_int_equal(e[0]->line, 5);
	assert_int_equal(pc_registry_find_port(reg, 101, PC_TRANSPORT_TCP, hits, 2), 1);
	assert_int_equal(hits[0]->line, 4);
	assert_int_equal(hits[0]->status, PC_REG_DEASSIGNED);
	assert_string_equal(pc_registry_date(reg), "2021-06-30");
	pc_registry_destroy(reg);
}

static void test_overlay(void **state)
{
	struct pc_registry *reg = load_files(PC_TEST_IANA_CSV, "overlay.services", NULL);
	const struct pc_reg_entry *const *e;
	const struct pc_reg_entry *hits[8];
	size_t n;

	(void)state;
	assert_int_equal(pc_registry_count(reg), 14499 + 2);
	/* the overlay's ssh hides all four IANA ssh entries */
	assert_int_equal(find(reg, "ssh", &e), 1);
	assert_int_equal(e[0]->port_lo, 2222);
	assert_true(e[0]->flags & PC_REG_OVERLAY);
	assert_int_equal(find(reg, "sshd-alt", &e), 1);
	/* hidden entries leave the port index too */
	n = pc_registry_find_port(reg, 22, __PC_TRANSPORT_MAX, hits, 8);
	for (size_t i = 0; i < n && i < 8; i++)
		assert_false(hits[i]->name && strcmp(hits[i]->name, "ssh") == 0);
	/* 2222/tcp: EtherNet-IP-1, EtherNet/IP-1 and now ssh */
	assert_int_equal(pc_registry_find_port(reg, 2222, PC_TRANSPORT_TCP, hits, 8), 3);
	assert_string_equal(hits[2]->name, "ssh");
	/* local names are added, the rest of the base is untouched */
	assert_int_equal(find(reg, "myapp", &e), 1);
	assert_int_equal(e[0]->port_lo, 8443);
	assert_string_equal(e[0]->description, "My application");
	assert_int_equal(find(reg, "https", &e), 4);
	/* source and date stay the base's */
	assert_string_equal(pc_registry_source(reg), PC_TEST_IANA_CSV);
	assert_string_equal(pc_registry_date(reg), "2026-02-13");
	pc_registry_destroy(reg);

	/* a later overlay wins over an earlier one; an empty one is fine */
	reg = load_files("services", "overlay.services", "overlay2.services",
			 "empty.services", NULL);
	assert_int_equal(find(reg, "myapp", &e), 1);
	assert_int_equal(e[0]->port_lo, 9443);
	assert_int_equal(find(reg, "ssh", &e), 1);
	assert_int_equal(e[0]->port_lo, 2222);
	assert_int_equal(find(reg, "http", &e), 2);
	pc_registry_destroy(reg);
}

/* Every malformed file: status 1, each error with its line. */
static void test_malformed(void **state)
{
	static const struct {
		const char *file;
		const char *errors[6];
	} cases[] = {
		{ "bad-columns.csv", {
			"bad-columns.csv:3:1: error: wrong column count: 11 fields, expected 12",
			"bad-columns.csv:4:1: error: wrong column count: 13 fields, expected 12",
		} },
		{ "bad-port.csv", {
			"bad-port.csv:3:8: error: bad port '70000'",
			"bad-port.csv:4:9: error: bad port '8o80'",
		} },
		{ "bad-range.csv", {
			"bad-range.csv:3:11: error: reversed port range '6063-6000'",
			"bad-range.csv:4:6: error: bad port range '10-'",
		} },
		{ "bad-transport.csv", {
			"bad-transport.csv:3:9: error: unknown transport 'tpc'",
		} },
		{ "bad-quote.csv", {
			"bad-quote.csv:4: error: malformed CSV: quoted field not terminated",
		} },
		{ "bad-services", {
			"bad-services:3:1: error: wrong column count",
			"bad-services:4:10: error: expected PORT/PROTOCOL, found '1001'",
			"bad-services:5:10: error: bad port '99999'",
			"bad-services:6:10: error: reversed port range '2000-1000'",
			"bad-services:7:12: error: unknown transport 'tpc'",
		} },
		{ "page.html", { "page.html: error: not a service registry" } },
		{ "nul.bin", { "nul.bin: error: not a service registry" } },
		{ "random.bin", { "random.bin: error: not a service registry" } },
	};

	(void)state;
	for (size_t i = 0; i < PC_ARRAY_SIZE(cases); i++) {
		char *text = NULL;
		size_t n = 0;

		assert_int_equal(load_bad(cases[i].file, &text), 1);
		for (size_t j = 0; j < PC_ARRAY_SIZE(cases[i].errors) && cases[i].errors[j]; j++) {
			if (!strstr(text, cases[i].errors[j]))
				fail_msg("%s: no '%s' in:\n%s", cases[i].file,
					 cases[i].errors[j], text);
			n++;
		}
		/* no other errors than those */
		for (const char *p = text; (p = strstr(p, ": error: ")); p++)
			n--;
		assert_int_equal(n, 0);
		free(text);
	}
}

static void test_unreadable(void **state)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_diag *d = pc_diag_create();
	char *dir = xstrdup(PC_TEST_REGISTRY_DATA);

	(void)state;
	assert_int_equal(pc_registry_load(reg, "/nonexistent/registry.csv", false, d), 3);
	assert_int_equal(pc_registry_load(reg, dir, false, d), 3);
	assert_int_equal(pc_diag_count(d, PC_SEV_ERROR), 2);
	pc_registry_finish(reg);
	assert_int_equal(pc_registry_count(reg), 0);
	pc_diag_destroy(d);
	pc_registry_destroy(reg);
	free(dir);
}

/* Past the error cap, loading stops and still fails; the next file loads. */
static void test_many_errors(void **state)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_diag *d = pc_diag_create();
	char *path = xasprintf("%s/test_registry_errors.%d", P_tmpdir, (int)getpid());
	char *good = data_path("services");
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	for (int i = 0; i < 3 * PC_DIAG_MAX_ERRORS; i++)
		fprintf(f, "svc%d %d/tpc\n", i, 1000 + i);
	fclose(f);
	assert_int_equal(pc_registry_load(reg, path, false, d), 1);
	assert_true(pc_diag_full(d));
	assert_int_equal(pc_registry_load(reg, good, true, d), 0);
	pc_registry_finish(reg);
	assert_int_equal(pc_registry_count(reg), 5);
	unlink(path);
	free(path);
	free(good);
	pc_diag_destroy(d);
	pc_registry_destroy(reg);
}

/* A failed overlay leaves what was loaded before intact. */
static void test_failed_overlay(void **state)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_diag *d = pc_diag_create();
	char *good = data_path("services"), *bad = data_path("bad-services");
	const struct pc_reg_entry *const *e;

	(void)state;
	assert_int_equal(pc_registry_load(reg, good, false, d), 0);
	assert_int_equal(pc_registry_load(reg, bad, true, d), 1);
	pc_registry_finish(reg);
	assert_int_equal(pc_registry_count(reg), 5);
	assert_int_equal(find(reg, "good", &e), 0);
	assert_int_equal(find(reg, "ssh", &e), 1);
	pc_diag_destroy(d);
	pc_registry_destroy(reg);
	free(good);
	free(bad);
}

static void test_cli_open(void **state)
{
	struct pc_registry_opts o = { .no_default_overlay = true };
	struct pc_diag *d = pc_diag_create();
	char *base = data_path("services"), *ov = data_path("overlay.services");
	char *ov2 = data_path("overlay2.services");
	char *env = xasprintf("%s:%s", ov2, ov);
	const struct pc_reg_entry *const *e;
	struct pc_registry *reg;
	int st = -1;

	(void)state;
	/* PORTCULLIS_REGISTRY is the default base; --registry replaces it */
	setenv("PORTCULLIS_REGISTRY", base, 1);
	reg = pc_cli_open_registry(&o, d, &st);
	assert_non_null(reg);
	assert_int_equal(st, 0);
	assert_string_equal(pc_registry_source(reg), base);
	pc_registry_destroy(reg);
	unsetenv("PORTCULLIS_REGISTRY");
	o.registry = PC_TEST_IANA_CSV;
	reg = pc_cli_open_registry(&o, d, &st);
	assert_non_null(reg);
	assert_int_equal(pc_registry_count(reg), 14499);
	pc_registry_destroy(reg);

	/* PORTCULLIS_OVERLAY in its order, then --overlay: the last wins, so
	 * the command line decides (overlay2 says 9443, overlay 8443) */
	o.registry = base;
	o.overlays[o.n_overlays++] = ov2;
	setenv("PORTCULLIS_OVERLAY", env, 1);
	reg = pc_cli_open_registry(&o, d, &st);
	assert_non_null(reg);
	assert_int_equal(find(reg, "myapp", &e), 1);
	assert_int_equal(e[0]->port_lo, 9443);
	pc_registry_destroy(reg);
	/* without --overlay, the environment's last file */
	o.n_overlays = 0;
	reg = pc_cli_open_registry(&o, d, &st);
	assert_non_null(reg);
	assert_int_equal(find(reg, "myapp", &e), 1);
	assert_int_equal(e[0]->port_lo, 8443);
	pc_registry_destroy(reg);
	unsetenv("PORTCULLIS_OVERLAY");

	/* errors: 1 for a bad file, 3 when one cannot be read (the worst) */
	o.registry = PC_TEST_REGISTRY_DATA "/page.html";
	o.n_overlays = 0;
	{
		/* diagnostics go to stderr: keep the test log readable */
		FILE *saved = stderr;

		stderr = fopen("/dev/null", "w");
		reg = pc_cli_open_registry(&o, d, &st);
		assert_null(reg);
		assert_int_equal(st, 1);
		o.overlays[o.n_overlays++] = "/nonexistent/overlay";
		reg = pc_cli_open_registry(&o, d, &st);
		assert_null(reg);
		assert_int_equal(st, 3);
		fclose(stderr);
		stderr = saved;
	}
	pc_diag_destroy(d);
	free(base);
	free(ov);
	free(ov2);
	free(env);
}

static void test_default_path(void **state)
{
	char *saved = getenv("PORTCULLIS_DATADIR") ? xstrdup(getenv("PORTCULLIS_DATADIR")) : NULL;

	(void)state;
	/* only the environment leads elsewhere than the configured data dir */
	setenv("PORTCULLIS_DATADIR", "/nonexistent/data", 1);
	assert_string_equal(pc_registry_default_path(),
			    "/nonexistent/data/service-names-port-numbers.csv");
	setenv("PORTCULLIS_DATADIR", "", 1);
	assert_string_equal(pc_registry_default_path(),
			    PC_DATADIR "/service-names-port-numbers.csv");
	unsetenv("PORTCULLIS_DATADIR");
	assert_string_equal(pc_registry_default_path(),
			    PC_DATADIR "/service-names-port-numbers.csv");
	if (saved)
		setenv("PORTCULLIS_DATADIR", saved, 1);
	free(saved);
}

int main(void)
{
	const struct CMUnitTest iana_tests[] = {
		cmocka_unit_test(test_iana_counts),
		cmocka_unit_test(test_iana_errors),
		cmocka_unit_test(test_iana_multiline),
		cmocka_unit_test(test_iana_range),
		cmocka_unit_test(test_iana_portless),
		cmocka_unit_test(test_iana_unnamed),
		cmocka_unit_test(test_iana_several_ports),
		cmocka_unit_test(test_iana_historic),
		cmocka_unit_test(test_iana_case),
		cmocka_unit_test(test_iana_deassigned),
		cmocka_unit_test(test_iana_unauthorized),
		cmocka_unit_test(test_iana_no_transport),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_suggest),
	};
	const struct CMUnitTest file_tests[] = {
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_crlf_csv),
		cmocka_unit_test(test_overlay),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_failed_overlay),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_cli_open),
		cmocka_unit_test(test_default_path),
	};
	int failed;

	failed = cmocka_run_group_tests_name("registry: IANA", iana_tests,
					     setup_iana, teardown_iana);
	failed += cmocka_run_group_tests_name("registry: files", file_tests, NULL, NULL);
	return failed ? 1 : 0;
}
