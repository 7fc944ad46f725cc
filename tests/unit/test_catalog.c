/* SPDX-License-Identifier: MIT */
/*
 * The catalog of common software and the practice table: the shipped files
 * themselves, the lookup order, and what `service NAME` opens for the names
 * real configurations use (tests/names/real-names.txt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <unistd.h>

#include "registry/catalog.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

#define CATALOG PC_SOURCE_DATADIR "/catalog.csv"
#define PRACTICE PC_SOURCE_DATADIR "/practice.csv"

static struct pc_registry *reg;
static const struct pc_catalog *cat;

static int setup(void **state)
{
	struct pc_diag *d = pc_diag_create();
	struct pc_catalog *c = pc_catalog_create();
	int st;

	reg = pc_registry_create();
	st = pc_registry_load(reg, PC_SOURCE_DATADIR "/service-names-port-numbers.csv", false, d);
	pc_registry_finish(reg);
	st |= pc_catalog_load(c, CATALOG, PRACTICE, d);
	pc_registry_set_catalog(reg, c);
	cat = c;
	pc_diag_print(d, stderr, false);
	pc_diag_destroy(d);
	return st ? -1 : 0;
}

static int teardown(void **state)
{
	pc_registry_destroy(reg);
	return 0;
}

/* ---- the shipped files ---------------------------------------------- */

static void test_shipped_files_load(void **state)
{
	struct pc_diag *d = pc_diag_create();
	struct pc_catalog *c = pc_catalog_create();
	size_t services = 0;

	assert_int_equal(pc_catalog_load(c, CATALOG, PRACTICE, d), 0);
	assert_int_equal(pc_diag_count(d, PC_SEV_ERROR), 0);
	for (size_t i = 0; i < pc_catalog_count(c); i++)
		if (!pc_catalog_record(c, i)->alias_of)
			services++;
	assert_true(services >= 200);
	assert_true(pc_catalog_practice_count(c) >= 100);
	pc_catalog_destroy(c);
	pc_diag_destroy(d);
}

static void test_names_unique(void **state)
{
	size_t n = pc_catalog_count(cat), m = pc_catalog_practice_count(cat);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(pc_catalog_record(cat, i)->name,
						pc_catalog_record(cat, j)->name);
	for (size_t i = 0; i < m; i++)
		for (size_t j = i + 1; j < m; j++)
			assert_true(strcasecmp(pc_catalog_practice_name(cat, i),
					       pc_catalog_practice_name(cat, j)) != 0);
}

static bool is_url(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static void test_every_record_has_a_source(void **state)
{
	for (size_t i = 0; i < pc_catalog_count(cat); i++) {
		const struct pc_cat_record *r = pc_catalog_record(cat, i);

		if (!is_url(r->source))
			fail_msg("%s: source '%s' is not a URL", r->name, r->source);
		assert_true(strlen(r->description) >= 10);
		assert_true(!r->trap || r->safer[0]);
	}
	for (size_t i = 0; i < pc_catalog_practice_count(cat); i++) {
		const char *name = pc_catalog_practice_name(cat, i), *src;
		unsigned mask;

		assert_true(pc_catalog_practice(cat, name, &mask, &src));
		if (!is_url(src))
			fail_msg("practice %s: source '%s' is not a URL", name, src);
	}
}

static void test_ports_in_range(void **state)
{
	for (size_t i = 0; i < pc_catalog_count(cat); i++) {
		const struct pc_cat_record *r = pc_catalog_record(cat, i);

		assert_true(r->alias_of || r->n_entries || r->n_protos);
		for (size_t j = 0; j < r->n_entries; j++) {
			assert_true(r->entries[j]->port_lo <= r->entries[j]->port_hi);
			assert_true(r->entries[j]->port_lo > 0);
			assert_true(r->entries[j]->transport < __PC_TRANSPORT_MAX);
		}
	}
}

/* Every alias points to something with ports, through the real lookup. */
static void test_aliases_resolve(void **state)
{
	for (size_t i = 0; i < pc_catalog_count(cat); i++) {
		const struct pc_cat_record *r = pc_catalog_record(cat, i);
		struct pc_svc s;

		if (!r->alias_of)
			continue;
		if (!pc_service_lookup(reg, cat, r->name, &s) || !s.n)
			fail_msg("alias %s -> %s resolves to nothing", r->name, r->alias_of);
		assert_ptr_equal(s.alias, r);
		/* an alias of a registry name needs the name's practice */
		if (s.origin == PC_SVC_REGISTRY && s.why != PC_SVC_WHY_PRACTICE)
			fail_msg("alias %s -> %s: the target has no practice line", r->name,
				 r->alias_of);
	}
}

/* Each practice line is an IANA name registered on the transports it lists. */
static void test_practice_is_registered(void **state)
{
	for (size_t i = 0; i < pc_catalog_practice_count(cat); i++) {
		const char *name = pc_catalog_practice_name(cat, i), *src;
		const struct pc_reg_entry *const *e;
		size_t n = pc_registry_find_name(reg, name, &e);
		unsigned mask, have = 0;

		if (!n)
			fail_msg("practice %s: not in the registry", name);
		pc_catalog_practice(cat, name, &mask, &src);
		for (size_t j = 0; j < n; j++)
			if (e[j]->has_port)
				have |= e[j]->transport >= __PC_TRANSPORT_MAX ? 15u :
					1u << e[j]->transport;
		if ((mask & have) != mask)
			fail_msg("practice %s: a transport the registry does not list", name);
	}
}

/* ---- the port index -------------------------------------------------- */

/* pc_catalog_find_port() as a scan of every record, the first that has it. */
static const struct pc_cat_record *scan_port(const struct pc_catalog *c, uint16_t port,
					      unsigned transport)
{
	for (size_t i = 0; i < pc_catalog_count(c); i++) {
		const struct pc_cat_record *r = pc_catalog_record(c, i);

		for (size_t j = 0; j < r->n_entries; j++)
			if (r->entries[j]->transport == transport &&
			    r->entries[j]->port_lo <= port && port <= r->entries[j]->port_hi)
				return r;
	}
	return NULL;
}

static void find_port_matches_scan(const struct pc_catalog *c)
{
	for (unsigned t = 0; t <= PC_REG_NO_TRANSPORT; t++)
		for (unsigned port = 0; port <= 65535; port++)
			if (pc_catalog_find_port(c, (uint16_t)port, t) != scan_port(c, (uint16_t)port, t))
				fail_msg("port %u, transport %u: the index and the records disagree",
					 port, t);
}

static void test_find_port_index(void **state)
{
	static const char text[] =
		"name,ports,alias_of,description,source,trap,safer\n"
		"wide,1000-20000/tcp,,a wide range first,https://x,,\n"
		"inside,1500/tcp 1510-1520/udp,,a port in it,https://x,,\n"
		"edge,63-126/tcp 0/udp 65535/udp,,ranges at the edges,https://x,,\n"
		"late,1000/tcp 1490-1560/udp 30000-32767/udp,,overlaps the others,https://x,,\n";
	char path[] = "/tmp/pc-catalog-XXXXXX";
	int fd = mkstemp(path);
	struct pc_diag *d = pc_diag_create();
	struct pc_catalog *c = pc_catalog_create();

	/* the shipped catalog, every port on every transport */
	find_port_matches_scan(cat);
	/* overlapping narrow and wide ranges: the first record in file order wins */
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(pc_catalog_load(c, path, NULL, d), 0);
	unlink(path);
	find_port_matches_scan(c);
	assert_string_equal(pc_catalog_find_port(c, 1500, PC_TRANSPORT_TCP)->name, "wide");
	assert_string_equal(pc_catalog_find_port(c, 1515, PC_TRANSPORT_UDP)->name, "inside");
	assert_string_equal(pc_catalog_find_port(c, 1530, PC_TRANSPORT_UDP)->name, "late");
	assert_null(pc_catalog_find_port(c, 999, PC_TRANSPORT_TCP));
	assert_null(pc_catalog_find_port(NULL, 22, PC_TRANSPORT_TCP));
	pc_catalog_destroy(c);
	pc_diag_destroy(d);
}

/* ---- crafted files: the loader refuses what the tests above assume --- */

static int load_text(const char *text, bool practice)
{
	char path[] = "/tmp/pc-catalog-XXXXXX";
	int fd = mkstemp(path), st;
	struct pc_diag *d = pc_diag_create();
	struct pc_catalog *c = pc_catalog_create();

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	st = pc_catalog_load(c, practice ? NULL : path, practice ? path : NULL, d);
	unlink(path);
	pc_catalog_destroy(c);
	pc_diag_destroy(d);
	return st;
}

#define CAT_HEADER "name,ports,alias_of,description,source,trap,safer\n"

static void test_bad_files(void **state)
{
	assert_int_equal(load_text(CAT_HEADER "a,1/tcp,,one service here,https://x,,\n", false), 0);
	/* duplicate name */
	assert_int_equal(load_text(CAT_HEADER "a,1/tcp,,one service here,https://x,,\n"
				   "a,2/tcp,,one service here,https://x,,\n", false), 1);
	/* no source, no description */
	assert_int_equal(load_text(CAT_HEADER "a,1/tcp,,one service here,,,\n", false), 1);
	assert_int_equal(load_text(CAT_HEADER "a,1/tcp,,,https://x,,\n", false), 1);
	/* ports out of range, reversed, no transport */
	assert_int_equal(load_text(CAT_HEADER "a,70000/tcp,,one service here,https://x,,\n", false), 1);
	assert_int_equal(load_text(CAT_HEADER "a,9-8/tcp,,one service here,https://x,,\n", false), 1);
	assert_int_equal(load_text(CAT_HEADER "a,80,,one service here,https://x,,\n", false), 1);
	/* an alias with ports; a trap without the safer way */
	assert_int_equal(load_text(CAT_HEADER "a,1/tcp,b,one service here,https://x,,\n", false), 1);
	assert_int_equal(load_text(CAT_HEADER "a,1/tcp,,one service here,https://x,exposed,\n", false), 1);
	/* wrong header, wrong field count */
	assert_int_equal(load_text("name,ports\na,1/tcp\n", false), 1);
	assert_int_equal(load_text(CAT_HEADER "a,1/tcp,,one service here,https://x\n", false), 1);
	/* practice: unknown transport, no source */
	assert_int_equal(load_text("name,transports,source\nssh,tcp,https://x\n", true), 0);
	assert_int_equal(load_text("name,transports,source\nssh,tcpp,https://x\n", true), 1);
	assert_int_equal(load_text("name,transports,source\nssh,tcp,\n", true), 1);
}

/* ---- resolving through the policy language ------------------------- */

static struct pc_ir *load(const char *text, char **out)
{
	struct pc_diag *d = pc_diag_create();
	struct pc_ir *ir = pc_policy_load_buffer("t.policy", text, strlen(text), reg, 0, d);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	pc_diag_print(d, f, false);
	fclose(f);
	pc_diag_destroy(d);
	if (out)
		*out = buf ? buf : xstrdup("");
	else
		free(buf);
	return ir;
}

/* "22/tcp 53/udp ..." of the first policy rule of chain in, sorted by transport then port. */
static void rule_ports(const struct pc_ir *ir, char *buf, size_t n)
{
	const struct pc_chain *c = &ir->chains[PC_DIR_IN];

	buf[0] = '\0';
	for (size_t i = 0; i < c->n; i++) {
		const struct pc_rule *r = &c->rules[i];

		if (r->origin != PC_ORIGIN_POLICY)
			continue;
		for (size_t j = 0; j < r->n_l4; j++)
			for (size_t k = 0; k < r->l4[j].dports.n; k++) {
				const struct pc_port_range *p = &r->l4[j].dports.v[k];
				size_t len = strlen(buf);

				if (p->lo == p->hi)
					snprintf(buf + len, n - len, "%s%u/%s", len ? " " : "", p->lo,
						 pc_proto_name(r->l4[j].proto));
				else
					snprintf(buf + len, n - len, "%s%u-%u/%s", len ? " " : "", p->lo,
						 p->hi, pc_proto_name(r->l4[j].proto));
			}
		return;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The words of @s sorted and joined by one space. */
static void canonical(const char *s, char *out, size_t n)
{
	char *copy = xstrdup(s), *save = NULL, *w[32];
	size_t k = 0;

	for (char *t = strtok_r(copy, " \t", &save); t && k < 32; t = strtok_r(NULL, " \t", &save))
		w[k++] = t;
	qsort(w, k, sizeof(w[0]), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < k; i++) {
		strncat(out, i ? " " : "", n - strlen(out) - 1);
		strncat(out, w[i], n - strlen(out) - 1);
	}
	free(copy);
}

static void test_real_names(void **state)
{
	FILE *f = fopen(PC_SOURCE_ROOT "/tests/names/real-names.txt", "r");
	char line[512];
	unsigned names = 0, bad = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#'), name[64], want[256], got[256], sorted[256];
		char policy[128], *err;
		struct pc_ir *ir;
		int off = 0;

		if (hash)
			*hash = '\0';
		if (sscanf(line, "%63s %n", name, &off) != 1)
			continue;
		canonical(line + off, want, sizeof(want));
		snprintf(policy, sizeof(policy), "allow in service %s\n", name);
		ir = load(policy, &err);
		names++;
		if (!ir) {
			fprintf(stderr, "%s: %s", name, err);
			bad++;
			free(err);
			continue;
		}
		rule_ports(ir, got, sizeof(got));
		canonical(got, sorted, sizeof(sorted));
		if (strcmp(sorted, want) != 0) {
			fprintf(stderr, "%s: want '%s', opens '%s'\n", name, want, sorted);
			bad++;
		}
		free(err);
		pc_ir_destroy(ir);
	}
	fclose(f);
	assert_true(names >= 100);
	assert_int_equal(bad, 0);
}

/* Opens @text's first rule; returns its ports in *ports and the diagnostics. */
static char *check(const char *text, char *ports, size_t n)
{
	char *err;
	struct pc_ir *ir = load(text, &err);

	if (ports)
		ports[0] = '\0';
	if (ir && ports)
		rule_ports(ir, ports, n);
	pc_ir_destroy(ir);
	return err;
}

static void test_transports_statement_keeps_meaning(void **state)
{
	char p[256], *e;

	e = check("allow in service ssh\n", p, sizeof(p));
	assert_string_equal(p, "22/tcp");
	free(e);
	e = check("transports tcp, udp\nallow in service ssh\n", p, sizeof(p));
	assert_string_equal(p, "22/tcp 22/udp");
	free(e);
	e = check("allow in service ssh/udp\n", p, sizeof(p));
	assert_string_equal(p, "22/udp");
	free(e);
	/* `port` keeps the policy's transports */
	e = check("allow in port 8080\n", p, sizeof(p));
	assert_string_equal(p, "8080/tcp 8080/udp");
	free(e);
}

static void test_lookup_order(void **state)
{
	struct pc_svc s;

	/* catalog before registry: the registry's nomad is another program */
	assert_true(pc_service_lookup(reg, cat, "nomad", &s));
	assert_int_equal(s.origin, PC_SVC_CATALOG);
	assert_int_equal(s.e[0]->port_lo, 4646);
	/* alias to a registry name, its practice */
	assert_true(pc_service_lookup(reg, cat, "SMB", &s));
	assert_int_equal(s.origin, PC_SVC_REGISTRY);
	assert_string_equal(s.name, "microsoft-ds");
	assert_string_equal(s.alias->name, "smb");
	assert_int_equal(s.why, PC_SVC_WHY_PRACTICE);
	assert_int_equal(s.practice, 1u << PC_TRANSPORT_TCP);
	/* a registry name with no practice line */
	assert_true(pc_service_lookup(reg, cat, "quake", &s));
	assert_int_equal(s.why, PC_SVC_WHY_NONE);
	assert_false(pc_service_lookup(reg, cat, "no-such-name-anywhere", &s));
	assert_int_equal(s.origin, PC_SVC_UNKNOWN);
}

static void test_overlay_first(void **state)
{
	char path[] = "/tmp/pc-overlay-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "prometheus 19090/tcp\n";
	struct pc_diag *d = pc_diag_create();
	struct pc_registry *r = pc_registry_create();
	struct pc_catalog *c = pc_catalog_create();
	struct pc_svc s;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(pc_registry_load(r, PC_SOURCE_DATADIR "/service-names-port-numbers.csv", false, d), 0);
	assert_int_equal(pc_registry_load(r, path, true, d), 0);
	pc_registry_finish(r);
	assert_int_equal(pc_catalog_load(c, CATALOG, PRACTICE, d), 0);
	pc_registry_set_catalog(r, c);
	assert_true(pc_service_lookup(r, c, "prometheus", &s));
	assert_int_equal(s.origin, PC_SVC_OVERLAY);
	assert_int_equal(s.e[0]->port_lo, 19090);
	unlink(path);
	pc_registry_destroy(r);
	pc_diag_destroy(d);
}

static void test_no_practice_warning(void **state)
{
	char p[256], *e = check("allow in service quake\n", p, sizeof(p));

	assert_non_null(strstr(e, "service 'quake' has no practice entry: opened its registered ports on tcp, udp"));
	assert_string_equal(p, "26000/tcp 26000/udp");
	free(e);
	/* not when the policy chose its transports */
	e = check("transports tcp, udp\nallow in service quake\n", p, sizeof(p));
	assert_null(strstr(e, "practice"));
	free(e);
}

static void test_traps(void **state)
{
	char *e;

	e = check("allow in service redis\n", NULL, 0);
	assert_non_null(strstr(e, "warning: service 'redis' is open to any source"));
	free(e);
	e = check("allow in service redis from 192.0.2.0/24\n", NULL, 0);
	assert_null(strstr(e, "redis"));
	free(e);
	e = check("allow in service redis from { 192.0.2.1, ::/0 }\n", NULL, 0);
	assert_non_null(strstr(e, "service 'redis' is open to any source"));
	free(e);
	e = check("allow in service memcache from any\n", NULL, 0);
	assert_non_null(strstr(e, "service 'memcached' is open to any source"));
	free(e);
	e = check("allow in service docker from 192.0.2.0/24\n", NULL, 0);
	assert_non_null(strstr(e, "warning: service 'docker' should not be exposed"));
	assert_non_null(strstr(e, "docker-tls"));
	free(e);
	e = check("allow in service telnet\n", NULL, 0);
	assert_non_null(strstr(e, "safer: ssh"));
	free(e);
	/* the same traps by number */
	e = check("allow in port 2375/tcp from 192.0.2.0/24\n", NULL, 0);
	assert_non_null(strstr(e, "warning: port '2375' (docker) should not be exposed"));
	free(e);
	e = check("allow in port 6379/tcp\n", NULL, 0);
	assert_non_null(strstr(e, "port '6379' (redis) is open to any source"));
	free(e);
	e = check("reject in service telnet\nallow out service telnet\n", NULL, 0);
	assert_null(strstr(e, "telnet"));
	free(e);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_each_warning_once(void **state)
{
	char *e = check("services db = { redis }\n"
			"allow in service $db\n"
			"allow in service $db log\n", NULL, 0);

	assert_int_equal(count(e, "is open to any source"), 1);
	free(e);
}

static void test_silence_one_line(void **state)
{
	char *e;

	e = check("allow in port 44444/udp\n", NULL, 0);
	assert_non_null(strstr(e, "port 44444/udp is Reserved in the registry"));
	free(e);
	e = check("allow in port 44444/udp # portcullis: ignore unassigned-port\n"
		  "allow in port 44445/udp\n", NULL, 0);
	assert_null(strstr(e, "44444"));
	assert_non_null(strstr(e, "44445"));
	free(e);
	e = check("allow in service telnet #portcullis: ignore several-ports, exposed-service\n", NULL, 0);
	assert_null(strstr(e, "telnet"));
	free(e);
	/* a port the catalog knows is not "Reserved" (Syncthing's GUI) */
	e = check("allow in port 8384/tcp\n", NULL, 0);
	assert_null(strstr(e, "8384"));
	free(e);
}

static void test_suggest_by_meaning(void **state)
{
	char *e;

	e = check("allow in service node_exportr\n", NULL, 0);
	assert_non_null(strstr(e, "did you mean 'node_exporter' or 'node-exporter'?"));
	free(e);
	/* the same software: no suggestion merely close in letters */
	e = check("allow in service grafana-web\n", NULL, 0);
	assert_non_null(strstr(e, "(did you mean 'grafana'?)"));
	free(e);
	e = check("allow in service prometeus\n", NULL, 0);
	assert_non_null(strstr(e, "did you mean 'prometheus'"));
	free(e);
}

static void test_bare_protocol(void **state)
{
	char p[256], *e;

	e = check("allow in service esp\n", NULL, 0);
	assert_non_null(strstr(e, "error: service 'esp' is IP protocol 50 (esp), not a port: write 'proto esp'"));
	free(e);
	e = check("allow in service ipsec\n", p, sizeof(p));
	assert_string_equal(p, "500/udp 4500/udp");
	assert_non_null(strstr(e, "add a rule with 'proto esp'"));
	assert_null(strstr(e, "several ports"));
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_files_load),
		cmocka_unit_test(test_names_unique),
		cmocka_unit_test(test_every_record_has_a_source),
		cmocka_unit_test(test_ports_in_range),
		cmocka_unit_test(test_aliases_resolve),
		cmocka_unit_test(test_practice_is_registered),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_find_port_index),
		cmocka_unit_test(test_real_names),
		cmocka_unit_test(test_transports_statement_keeps_meaning),
		cmocka_unit_test(test_lookup_order),
		cmocka_unit_test(test_overlay_first),
		cmocka_unit_test(test_no_practice_warning),
		cmocka_unit_test(test_traps),
		cmocka_unit_test(test_each_warning_once),
		cmocka_unit_test(test_silence_one_line),
		cmocka_unit_test(test_suggest_by_meaning),
		cmocka_unit_test(test_bare_protocol),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
