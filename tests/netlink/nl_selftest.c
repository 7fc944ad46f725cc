/* SPDX-License-Identifier: MIT */
/*
 * Root suite: the nft backend's text and the netlink programming of
 * `apply` against the kernel, on hand-built IRs (no parser needed). Every
 * case runs in a network namespace of its own (unshare(CLONE_NEWNET) in a
 * child), so the machine's ruleset is never touched.
 *
 *   nl_selftest [CASE...]     (no CASE: all)
 *
 * Exit 77 (skip) when not root.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <portcullis/backend.h>

#include "backends/builtin.h"
#include "backends/netlink/netlink.h"
#include "backends/netlink/nl_internal.h"
#include "backends/nft/nft_lower.h"
#include "ir/optimize.h"
#include "sample_ir.h"
#include "common/util.h"

static char tmpdir[] = "/tmp/pc-nl-XXXXXX";

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		exit(1); \
	} \
} while (0)

/* Runs a shell command, returns its stdout (caller frees) and status. */
static char *run(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	struct pc_buf b;
	char chunk[4096];
	size_t n;
	int st;

	CHECK(p != NULL);
	pc_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		pc_buf_add(&b, chunk, n);
	st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	return b.data ? b.data : xstrdup("");
}

static char *run_ok(const char *cmd)
{
	int st;
	char *out = run(cmd, &st);

	if (st != 0) {
		fprintf(stderr, "command failed (%d): %s\n%s", st, cmd, out);
		exit(1);
	}
	return out;
}

/* Writes the nft backend's output for @ir to a file; returns its path. */
static char *write_nft(const struct pc_ir *ir, const char *name)
{
	struct pc_emit_options opts = {
		.version = "test", .policy_path = ir->policy_file,
		.registry_name = ir->registry_name, .registry_date = ir->registry_date,
		.size = sizeof(struct pc_emit_options),
	};
	struct pc_diag *d = pc_diag_create();
	char *path = xasprintf("%s/%s.nft", tmpdir, name);
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (pc_backend_nft.emit(ir, &opts, f, d) != 0) {
		pc_diag_print(d, stderr, false);
		exit(1);
	}
	CHECK(fclose(f) == 0);
	pc_diag_destroy(d);
	return path;
}

/*
 * apply: lower, build, send; as `apply` does (straight from the plan), or
 * through the nftnl objects `diff` compares with (@via_objs). Returns
 * pc_nl_batch_send()'s result.
 */
static int apply_ir_via(const struct pc_ir *ir, bool commit, bool via_objs,
			struct pc_diag *d)
{
	struct pc_nft_plan *plan = pc_nft_plan_create(ir, d);
	struct pc_nl_objs *o = NULL;
	struct pc_nl_batch *b;
	int ret;

	CHECK(plan != NULL);
	if (via_objs) {
		o = pc_nl_objs_from_plan(plan);
		b = pc_nl_batch_create(ir->table, o, commit);
	} else {
		b = pc_nl_batch_from_plan(plan, commit);
	}
	ret = pc_nl_batch_send(b, d);
	pc_nl_batch_destroy(b);
	pc_nl_objs_destroy(o);
	pc_nft_plan_destroy(plan);
	return ret;
}

static int apply_ir(const struct pc_ir *ir, bool commit, struct pc_diag *d)
{
	return apply_ir_via(ir, commit, false, d);
}

/* diff: true when the kernel's table equals the IR's. */
static bool diff_ir(const struct pc_ir *ir, bool verbose)
{
	struct pc_diag *d = pc_diag_create();
	struct pc_nft_plan *plan = pc_nft_plan_create(ir, d);
	struct pc_nl_objs *want, *live = NULL;
	bool same;

	CHECK(plan != NULL);
	want = pc_nl_objs_from_plan(plan);
	CHECK(pc_nl_objs_read(ir->table, &live) == 0);
	same = pc_nl_diff(want, live, ir->table, verbose ? stderr : stdout);
	pc_nl_objs_destroy(live);
	pc_nl_objs_destroy(want);
	pc_nft_plan_destroy(plan);
	pc_diag_destroy(d);
	return same;
}

static void case_text_loads(void)
{
	struct pc_ir *ir = pc_sample_ir_full("pctest");
	char *path = write_nft(ir, "full");
	char *cmd = xasprintf("nft -c -f %s && nft -f %s && nft -f %s", path, path, path);
	char *out;

	free(run_ok("nft add table inet other"));
	free(run_ok(cmd));
	out = run_ok("nft list tables");
	CHECK(strcmp(out, "table inet other\ntable inet pctest\n") == 0);
	free(out);
	free(cmd);
	free(path);
}

static void case_apply_equals_nft(void)
{
	struct pc_ir *ir = pc_sample_ir_full("pctest");
	char *path = write_nft(ir, "full");
	char *cmd = xasprintf("nft -f %s", path);
	struct pc_diag *d = pc_diag_create();
	char *by_nft, *by_apply, *tables;

	free(run_ok(cmd));
	by_nft = run_ok("nft list ruleset");
	CHECK(diff_ir(ir, true));
	free(run_ok("nft flush ruleset"));
	CHECK(apply_ir(ir, true, d) == 0);
	by_apply = run_ok("nft list ruleset");
	if (strcmp(by_nft, by_apply) != 0) {
		fprintf(stderr, "nft -f gave:\n%s\napply gave:\n%s", by_nft, by_apply);
		exit(1);
	}
	CHECK(diff_ir(ir, true));
	/* The nftnl objects diff compares with install the same. */
	free(run_ok("nft flush ruleset"));
	CHECK(apply_ir_via(ir, true, true, d) == 0);
	free(by_apply);
	by_apply = run_ok("nft list ruleset");
	CHECK(strcmp(by_nft, by_apply) == 0);
	/* Re-apply: still one table, same contents. */
	CHECK(apply_ir(ir, true, d) == 0);
	free(by_apply);
	by_apply = run_ok("nft list ruleset");
	CHECK(strcmp(by_nft, by_apply) == 0);
	tables = run_ok("nft list tables");
	CHECK(strcmp(tables, "table inet pctest\n") == 0);
	/* Also over a table nft -f installed. */
	free(run_ok(cmd));
	CHECK(apply_ir(ir, true, d) == 0);
	free(by_apply);
	by_apply = run_ok("nft list ruleset");
	CHECK(strcmp(by_nft, by_apply) == 0);
	free(tables);
	free(by_nft);
	free(by_apply);
	free(cmd);
	free(path);
	pc_diag_destroy(d);
}

static void case_other_tables_kept(void)
{
	struct pc_ir *ir = pc_sample_ir_full("pctest");
	struct pc_diag *d = pc_diag_create();
	char *before, *after;

	free(run_ok("nft add table ip keepme && nft add chain ip keepme c '{ type filter hook input priority 10; }' && nft add rule ip keepme c tcp dport 7 drop"));
	before = run_ok("nft list table ip keepme");
	CHECK(apply_ir(ir, true, d) == 0);
	CHECK(apply_ir(ir, true, d) == 0);
	after = run_ok("nft list table ip keepme");
	CHECK(strcmp(before, after) == 0);
	free(before);
	free(after);
	pc_diag_destroy(d);
}

static void case_dry_run(void)
{
	struct pc_ir *ir = pc_sample_ir_full("pctest");
	struct pc_ir *small = pc_sample_ir_small("pctest", 22, 3);
	struct pc_diag *d = pc_diag_create();
	char *before, *after;

	CHECK(apply_ir(ir, false, d) == 0);
	after = run_ok("nft list tables");
	CHECK(strcmp(after, "") == 0);
	free(after);
	CHECK(apply_ir(small, true, d) == 0);
	before = run_ok("nft list ruleset");
	CHECK(apply_ir(ir, false, d) == 0);
	after = run_ok("nft list ruleset");
	CHECK(strcmp(before, after) == 0);
	free(before);
	free(after);
	pc_sample_ir_free(small);
	pc_diag_destroy(d);
}

static void case_kernel_failure(void)
{
	struct pc_ir *small = pc_sample_ir_small("pctest", 22, 3);
	struct pc_ir *ir = pc_sample_ir_full("pctest");
	struct pc_diag *d = pc_diag_create();
	struct pc_nft_plan *plan;
	struct pc_nl_objs *o;
	struct pc_nl_batch *b;
	char long_prefix[200];
	char *before, *after, *msg = NULL;
	size_t len = 0;
	FILE *mem;
	int ret;

	CHECK(apply_ir(small, true, d) == 0);
	before = run_ok("nft list ruleset");
	/*
	 * The lowering refuses log prefixes nftables cannot hold; bypass it to
	 * make the kernel refuse one rule in the middle of the batch.
	 */
	plan = pc_nft_plan_create(ir, d);
	CHECK(plan != NULL);
	memset(long_prefix, 'x', sizeof(long_prefix) - 1);
	long_prefix[sizeof(long_prefix) - 1] = '\0';
	for (size_t i = 0; i < plan->chains[0].n; i++)
		if (plan->chains[0].rules[i].src->loc.line == 11)
			plan->chains[0].rules[i].log_prefix = long_prefix;
	o = pc_nl_objs_from_plan(plan);
	b = pc_nl_batch_from_plan(plan, true);
	ret = pc_nl_batch_send(b, d);
	CHECK(ret == 1);
	mem = open_memstream(&msg, &len);
	pc_diag_print(d, mem, false);
	fclose(mem);
	fputs(msg, stderr);
	CHECK(strstr(msg, "sample.pcl:11:1: error: the kernel refused the rule in chain input") != NULL);
	after = run_ok("nft list ruleset");
	CHECK(strcmp(before, after) == 0);
	free(msg);
	free(before);
	free(after);
	pc_nl_batch_destroy(b);
	pc_nl_objs_destroy(o);
	pc_nft_plan_destroy(plan);
	pc_sample_ir_free(small);
	pc_diag_destroy(d);
}

static void case_diff(void)
{
	struct pc_ir *ir = pc_sample_ir_full("pctest");
	struct pc_diag *d = pc_diag_create();
	char *out;
	int st;

	CHECK(!diff_ir(ir, false));   /* missing table */
	CHECK(apply_ir(ir, true, d) == 0);
	CHECK(diff_ir(ir, true));
	free(run_ok("nft add rule inet pctest input tcp dport 9999 accept comment '\"by hand\"'"));
	CHECK(!diff_ir(ir, false));
	CHECK(apply_ir(ir, true, d) == 0);
	CHECK(diff_ir(ir, true));
	/* A changed set element, a changed chain policy. */
	free(run_ok("nft add element inet pctest admins_v4 '{ 203.0.113.9 }'"));
	CHECK(!diff_ir(ir, false));
	CHECK(apply_ir(ir, true, d) == 0);
	free(run_ok("nft add chain inet pctest output '{ policy drop; }'"));
	CHECK(!diff_ir(ir, false));
	free(run_ok("nft delete table inet pctest"));
	CHECK(!diff_ir(ir, false));
	out = run("nft list tables", &st);
	CHECK(strcmp(out, "") == 0);
	free(out);
	pc_diag_destroy(d);
}

static void case_volume(void)
{
	struct pc_ir *ir = pc_sample_ir_small("pcbig", 22, 2000);
	char *path = write_nft(ir, "big");
	char *cmd = xasprintf("nft -f %s", path);
	struct pc_diag *d = pc_diag_create();
	char *by_nft, *by_apply;

	free(run_ok(cmd));
	by_nft = run_ok("nft list ruleset");
	CHECK(diff_ir(ir, true));
	free(run_ok("nft flush ruleset"));
	CHECK(apply_ir(ir, true, d) == 0);
	by_apply = run_ok("nft list ruleset");
	CHECK(strcmp(by_nft, by_apply) == 0);
	free(by_nft);
	free(by_apply);
	free(cmd);
	free(path);
	pc_sample_ir_free(ir);
	pc_diag_destroy(d);
}

/*
 * Verdict maps (the optimised view, as `generate` and `apply` use it):
 * apply, both ways of building the batch, equals nft -f of the text; diff
 * finds no difference; and the objects read back from the kernel (what a
 * rollback of `apply --confirm` sends) install the same again.
 */
static void case_maps(void)
{
	struct pc_ir *ir = pc_sample_ir_small("pcmaps", 22, 2000);
	struct pc_optimize_stats st;
	struct pc_ir *view;
	struct pc_diag *d = pc_diag_create();
	struct pc_nl_objs *saved = NULL;
	struct pc_nl_batch *b;
	char *path, *cmd, *by_nft, *by_apply;

	view = pc_ir_optimize_view(ir, &st);
	CHECK(st.maps >= 1 && st.elements >= 2000);
	path = write_nft(view, "maps");
	cmd = xasprintf("nft -f %s", path);
	free(run_ok(cmd));
	by_nft = run_ok("nft list ruleset");
	CHECK(strstr(by_nft, "vmap @input_v4_") != NULL);
	CHECK(diff_ir(view, true));
	free(run_ok("nft flush ruleset"));
	CHECK(apply_ir(view, true, d) == 0);
	by_apply = run_ok("nft list ruleset");
	if (strcmp(by_nft, by_apply) != 0) {
		fprintf(stderr, "nft -f gave:\n%s\napply gave:\n%s", by_nft, by_apply);
		exit(1);
	}
	CHECK(diff_ir(view, true));
	free(by_apply);
	free(run_ok("nft flush ruleset"));
	CHECK(apply_ir_via(view, true, true, d) == 0);
	by_apply = run_ok("nft list ruleset");
	CHECK(strcmp(by_nft, by_apply) == 0);
	free(by_apply);
	/* Read back, replace by the plain rules, restore what was read. */
	CHECK(pc_nl_objs_read("pcmaps", &saved) == 0 && saved != NULL);
	CHECK(apply_ir(ir, true, d) == 0);
	CHECK(diff_ir(ir, true));
	b = pc_nl_batch_create("pcmaps", saved, true);
	CHECK(pc_nl_batch_send(b, d) == 0);
	by_apply = run_ok("nft list ruleset");
	CHECK(strcmp(by_nft, by_apply) == 0);
	CHECK(diff_ir(view, true));
	/* An element removed by hand is found. */
	free(run_ok("nft delete element inet pcmaps input_v4_1 '{ 198.51.100.0 . tcp . 10000 }'"));
	CHECK(!diff_ir(view, false));
	pc_nl_batch_destroy(b);
	/*
	 * A map element the kernel refuses (one overlapping another, which
	 * the optimiser never makes) is reported at the map's rule, and
	 * nothing changes.
	 */
	{
		struct pc_nft_plan *plan = pc_nft_plan_create(view, d);
		struct pc_nft_map *m;
		struct pc_map_elem *v;
		char **comments, *before, *after, *msg = NULL;
		const struct pc_map_elem *old_v;
		char **old_comments;
		size_t len = 0;
		FILE *mem;

		CHECK(plan != NULL && plan->n_maps >= 1);
		m = plan->maps[0];
		v = xcalloc(m->n + 1, sizeof(*v));
		comments = xcalloc(m->n + 1, sizeof(*comments));
		memcpy(v, m->v, m->n * sizeof(*v));
		memcpy(comments, m->comments, m->n * sizeof(*comments));
		v[m->n] = v[1];
		v[m->n].dport.hi = (uint16_t)(v[1].dport.hi + 1);
		comments[m->n] = m->comments[1];
		old_v = m->v;
		old_comments = m->comments;
		m->v = v;
		m->comments = comments;
		m->n++;
		before = run_ok("nft list ruleset");
		b = pc_nl_batch_from_plan(plan, true);
		CHECK(pc_nl_batch_send(b, d) == 1);
		after = run_ok("nft list ruleset");
		CHECK(strcmp(before, after) == 0);
		mem = open_memstream(&msg, &len);
		pc_diag_print(d, mem, false);
		fclose(mem);
		fputs(msg, stderr);
		CHECK(strstr(msg, "small.pcl:5:1: error: the kernel refused the elements of map input_v4_1") != NULL);
		m->n--;
		m->v = old_v;
		m->comments = old_comments;
		free(v);
		free(comments);
		free(msg);
		free(before);
		free(after);
		pc_nl_batch_destroy(b);
		pc_nft_plan_destroy(plan);
	}
	pc_nl_objs_destroy(saved);
	free(by_apply);
	free(by_nft);
	free(cmd);
	free(path);
	pc_ir_destroy(view);
	pc_sample_ir_free(ir);
	pc_diag_destroy(d);
}

/*
 * Re-apply (issue 15): the batch of pc_nl_batch_update() over a live table,
 * sent; returns pc_nl_batch_send()'s result.
 */
static int update_ir(const struct pc_ir *ir, struct pc_diag *d)
{
	struct pc_nft_plan *plan = pc_nft_plan_create(ir, d);
	struct pc_nl_objs *live = NULL;
	struct pc_nl_batch *b;
	int ret;

	CHECK(plan != NULL);
	CHECK(pc_nl_objs_read(ir->table, &live) == 0);
	b = pc_nl_batch_update(plan, live, true);
	ret = pc_nl_batch_send(b, d);
	pc_nl_batch_destroy(b);
	pc_nl_objs_destroy(live);
	pc_nft_plan_destroy(plan);
	return ret;
}

/* The ruleset as `nft list` shows it, counters and handles aside. */
static char *listing(void)
{
	return run_ok("nft list ruleset | sed 's/packets [0-9]* bytes [0-9]*//'");
}

/*
 * Re-apply between the full sample (every kind of object: sets, maps,
 * limits, nat, dynamic sets, logs...) and a small one, both ways and onto
 * itself: each time the table equals a fresh apply's (`nft list`) and diff
 * finds nothing.
 */
static void case_reapply(void)
{
	struct pc_ir *full = pc_sample_ir_full("pctest");
	struct pc_ir *small = pc_sample_ir_small("pctest", 22, 3);
	const struct pc_ir *seq[] = { full, full, small, full, small, small };
	struct pc_diag *d = pc_diag_create();

	CHECK(apply_ir(full, true, d) == 0);
	for (size_t i = 0; i < PC_ARRAY_SIZE(seq); i++) {
		char *reapplied, *fresh;

		CHECK(update_ir(seq[i], d) == 0);
		CHECK(diff_ir(seq[i], true));
		reapplied = listing();
		free(run_ok("nft delete table inet pctest"));
		CHECK(apply_ir(seq[i], true, d) == 0);
		fresh = listing();
		if (strcmp(reapplied, fresh) != 0) {
			fprintf(stderr, "re-apply %zu:\n%s\nfresh apply:\n%s", i, reapplied, fresh);
			exit(1);
		}
		free(reapplied);
		free(fresh);
	}
	pc_sample_ir_free(small);
	pc_diag_destroy(d);
}

/*
 * A re-apply's batch names the generation its table was read at: when the
 * ruleset changed since, the kernel refuses it whole (ERESTART), and a
 * batch built from a new read goes through.
 */
static void case_reapply_stale(void)
{
	struct pc_ir *full = pc_sample_ir_full("pctest");
	struct pc_ir *small = pc_sample_ir_small("pctest", 22, 3);
	struct pc_diag *d = pc_diag_create();
	struct pc_nft_plan *plan = pc_nft_plan_create(small, d);
	struct pc_nl_objs *live = NULL;
	struct pc_nl_batch *b;
	char *before, *after;

	CHECK(plan != NULL);
	CHECK(apply_ir(full, true, d) == 0);
	CHECK(pc_nl_objs_read("pctest", &live) == 0 && live != NULL);
	b = pc_nl_batch_update(plan, live, true);
	free(run_ok("nft add table inet other"));
	before = listing();
	CHECK(pc_nl_batch_send(b, d) == -ERESTART);
	after = listing();
	CHECK(strcmp(before, after) == 0);
	CHECK(update_ir(small, d) == 0);
	CHECK(diff_ir(small, true));
	free(before);
	free(after);
	pc_nl_batch_destroy(b);
	pc_nl_objs_destroy(live);
	pc_nft_plan_destroy(plan);
	pc_sample_ir_free(small);
	pc_diag_destroy(d);
}

/*
 * A re-apply does not read back the elements of a large set (the kernel
 * walks a hash or interval set from its start again for every part of a
 * dump: a million addresses took 10 s of kernel time to read, 0.7 s to
 * make), it makes the set anew; a small one is read and compared. Both
 * end as a fresh apply lists them.
 */
static void case_reapply_big_set(void)
{
	enum { N = 12000 };
	struct pc_addr *addrs = calloc(N, sizeof(*addrs));
	struct pc_ir *ir = pc_sample_ir_small("pcbigset", 22, 0);
	struct pc_rule *rules = calloc(ir->chains[PC_DIR_IN].n + 1, sizeof(*rules));
	struct pc_l4 l4 = { .proto = PC_PROTO_TCP };
	struct pc_diag *d = pc_diag_create();
	const struct pc_rule *old_rules = ir->chains[PC_DIR_IN].rules;
	size_t n = ir->chains[PC_DIR_IN].n;

	for (size_t i = 0; i < N; i++) {
		addrs[i].family = PC_FAM_IPV6;
		addrs[i].plen = 128;
		addrs[i].a[0] = 0x20;
		addrs[i].a[1] = 0x01;
		addrs[i].a[2] = 0x0d;
		addrs[i].a[3] = 0xb8;
		addrs[i].a[14] = (uint8_t)(i >> 8);
		addrs[i].a[15] = (uint8_t)i;
	}
	memcpy(rules, old_rules, n * sizeof(*rules));
	rules[n] = (struct pc_rule){ .loc = { "small.pcl", 40, 1, 0 },
		.verdict = PC_VERDICT_DENY, .families = PC_FAM_IPV6,
		.saddr = { "big", N, addrs }, .n_l4 = 1, .l4 = &l4 };
	ir->chains[PC_DIR_IN].rules = rules;
	ir->chains[PC_DIR_IN].n = n + 1;
	for (int round = 0; round < 2; round++) {
		struct pc_nft_plan *plan;
		struct pc_nl_objs *live = NULL;
		size_t big = 0;
		char *reapplied, *fresh;

		CHECK(apply_ir(ir, true, d) == 0);
		plan = pc_nft_plan_create(ir, d);
		CHECK(plan != NULL);
		CHECK(pc_nl_objs_read_for(plan, &live) == 0 && live != NULL);
		for (size_t i = 0; i < live->n_sets; i++)
			if (!live->sets[i].anon && strstr(live->sets[i].name, "big")) {
				/* round 0: 12,000 elements, not read; round 1: 3, read */
				CHECK(live->sets[i].unread == (round == 0));
				big++;
			}
		CHECK(big == 1);
		pc_nl_objs_destroy(live);
		pc_nft_plan_destroy(plan);
		/* one element changed: the re-apply lists as a fresh apply */
		addrs[0].a[13] = (uint8_t)(round + 1);
		CHECK(update_ir(ir, d) == 0);
		CHECK(diff_ir(ir, true));
		reapplied = listing();
		free(run_ok("nft delete table inet pcbigset"));
		CHECK(apply_ir(ir, true, d) == 0);
		fresh = listing();
		CHECK(strcmp(reapplied, fresh) == 0);
		free(reapplied);
		free(fresh);
		free(run_ok("nft delete table inet pcbigset"));
		ir->chains[PC_DIR_IN].rules[n].saddr.n = 3;
	}
	ir->chains[PC_DIR_IN].rules = (struct pc_rule *)old_rules;
	ir->chains[PC_DIR_IN].n = n;
	free(rules);
	free(addrs);
	pc_sample_ir_free(ir);
	pc_diag_destroy(d);
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "text-loads", case_text_loads },
	{ "apply-equals-nft", case_apply_equals_nft },
	{ "other-tables-kept", case_other_tables_kept },
	{ "dry-run", case_dry_run },
	{ "kernel-failure", case_kernel_failure },
	{ "diff", case_diff },
	{ "volume", case_volume },
	{ "maps", case_maps },
	{ "reapply", case_reapply },
	{ "reapply-stale", case_reapply_stale },
	{ "reapply-big-set", case_reapply_big_set },
};

static int run_case(size_t i)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (unshare(CLONE_NEWNET) != 0) {
			perror("unshare(CLONE_NEWNET)");
			_exit(1);
		}
		cases[i].fn();
		/*
		 * exit(), not _exit(): a passing case must write its coverage
		 * counters as a failing one (CHECK's exit(1)) does. Nothing is
		 * left in the stdio buffers inherited from the parent: it
		 * flushes stdout after every line it prints.
		 */
		exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv)
{
	int failed = 0;
	char *cmd;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: the netlink tests need root (network namespaces, nf_tables)\n");
		return 77;
	}
	if (system("command -v nft >/dev/null") != 0) {
		fprintf(stderr, "SKIP: nft(8) is not installed\n");
		return 77;
	}
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < PC_ARRAY_SIZE(cases); i++) {
		bool want = argc < 2;
		int ret;

		for (int a = 1; a < argc; a++)
			if (strcmp(argv[a], cases[i].name) == 0)
				want = true;
		if (!want)
			continue;
		ret = run_case(i);
		printf("%s %s\n", ret ? "FAIL" : "ok  ", cases[i].name);
		fflush(stdout);
		if (ret)
			failed++;
	}
	cmd = xasprintf("rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(cmd);
	return failed ? 1 : 0;
}
