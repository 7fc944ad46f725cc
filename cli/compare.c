/* SPDX-License-Identifier: MIT */
/* portcullis compare: the regions of packet space whose verdict changed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "ir/names.h"
#include "ir/regions.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

static const char compare_usage[] =
	"usage: portcullis compare [--json|--markdown] [--registry FILE] [--overlay FILE]... OLD NEW\n"
	"\n"
	"Prints, exactly, every region of packet space that OLD and NEW decide\n"
	"differently, per direction, one line each:\n"
	"\n"
	"  + in tcp any -> any:8080  allow (NEW fw.policy:14) was deny (default)\n"
	"\n"
	"'+' now allowed, '-' now refused, '~' another change (deny <-> reject,\n"
	"or a translation: 'dnat to 198.51.100.5:80 (NEW f:12) was no dnat').\n"
	"A packet a dnat translates is judged as translated ('allow (NEW f:20\n"
	"after dnat f:12)').\n"
	"A region is a direction, interfaces, protocol, source and destination\n"
	"(prefixes or ranges), destination ports or ICMP types, conntrack state\n"
	"(shown only when not just 'new') and family. The line that decides it in\n"
	"NEW and in OLD follows. A region may depend on what the packet alone\n"
	"does not tell: 'src in @SET' (a dynamic set's members), 'over the rate\n"
	"of OLD FILE:LINE'. 'where OLD's line decides': the packets of those\n"
	"bounds that the line shown decides.\n"
	"\n"
	"OLD and NEW are policy files or REV:PATH, a file of a git revision in\n"
	"the current repository as `git show` names it (HEAD~1:fw.policy); its\n"
	"includes are read at the same revision.\n"
	"\n"
	"Options:\n"
	"  --json           the regions as JSON\n"
	"  --markdown       a pull-request comment: 'opens N, closes M', a table\n"
	"  --registry FILE  registry to resolve service names with\n"
	"  --overlay FILE   site services that take precedence (repeatable)\n"
	"  -h, --help       this text\n"
	"\n"
	"Exit status: 0 same meaning (text, order or generated rulesets may\n"
	"differ); 1 the meaning changed, or policy errors; 2 usage error;\n"
	"3 system error (a file or git revision that cannot be read).\n";

enum format { FMT_TEXT, FMT_JSON, FMT_MARKDOWN };

/* One side: a loaded IR and, for REV:PATH, the tree it was read from. */
struct side {
	const char *arg;
	const char *tag;       /* OLD / NEW */
	char tmpdir[4096];
	struct pc_ir *ir;
};

/* Runs argv (cwd @dir when not NULL), stdout to @out_fd when >= 0. Returns the exit status. */
static int run(const char *const *argv, const char *dir, int out_fd)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (dir && chdir(dir) < 0)
			_exit(127);
		if (out_fd >= 0 && dup2(out_fd, 1) < 0)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Where temporary files go: $TMPDIR, else /tmp. */
static const char *tmp_dir(void)
{
	const char *t = getenv("TMPDIR");

	return t && t[0] == '/' ? t : "/tmp";
}

/* The first line `git ARGS` prints, or NULL. */
static char *git_line(const char *const *argv)
{
	char path[4096], buf[4096];
	int fd;
	ssize_t n;
	char *nl;

	snprintf(path, sizeof(path), "%s/portcullis-git.XXXXXX", tmp_dir());
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	unlink(path);
	if (run(argv, NULL, fd) != 0) {
		close(fd);
		return NULL;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	return xstrdup(buf);
}

/*
 * REV:PATH: the whole tree of REV goes into a temporary directory so that
 * includes read that revision too; PATH is then relative to its top (or,
 * written ./ or ../, to the current directory, as `git show` takes it).
 */
static int load_git(struct side *s, const struct pc_registry *reg,
		    struct pc_diag *diag, char **rel)
{
	const char *colon = strchr(s->arg, ':');
	char *rev = xstrdup(s->arg), *top, *prefix = NULL;
	const char *path = colon + 1;
	const char *toplevel[] = { "git", "rev-parse", "--show-toplevel", NULL };
	const char *pfx[] = { "git", "rev-parse", "--show-prefix", NULL };
	int status = PC_EXIT_SYSTEM;

	rev[colon - s->arg] = 0;
	*rel = NULL;
	top = git_line(toplevel);
	if (!top) {
		fprintf(stderr, "portcullis: compare: %s: not in a git repository\n", s->arg);
		goto out;
	}
	if (strncmp(path, "./", 2) == 0 || strncmp(path, "../", 3) == 0) {
		prefix = git_line(pfx);
		if (!prefix)
			prefix = xstrdup("");
	}
	{
		size_t n = strlen(path) + (prefix ? strlen(prefix) : 0) + 1;

		*rel = xmalloc(n);
		snprintf(*rel, n, "%s%s", prefix ? prefix : "", path);
	}
	snprintf(s->tmpdir, sizeof(s->tmpdir), "%s/portcullis-compare.XXXXXX", tmp_dir());
	if (!mkdtemp(s->tmpdir)) {
		s->tmpdir[0] = 0;
		fprintf(stderr, "portcullis: compare: temporary directory: %s\n", strerror(errno));
		goto out;
	}
	{
		const char *cat[] = { "git", "cat-file", "-e", s->arg, NULL };
		const char *ar[] = { "sh", "-c",
			"git archive --format=tar \"$1\" | tar -xf - -C \"$2\"",
			"sh", rev, s->tmpdir, NULL };

		if (run(cat, NULL, -1) != 0) {
			fprintf(stderr, "portcullis: compare: %s: no such file in git\n", s->arg);
			goto out;
		}
		if (run(ar, top, -1) != 0) {
			fprintf(stderr, "portcullis: compare: %s: cannot read revision '%s'\n",
				s->arg, rev);
			goto out;
		}
	}
	{
		/* load relative to the tree so that locations read PATH:LINE */
		int here = open(".", O_RDONLY | O_DIRECTORY);
		bool sys_error = false;

		if (here < 0 || chdir(s->tmpdir) < 0) {
			fprintf(stderr, "portcullis: compare: %s\n", strerror(errno));
			if (here >= 0)
				close(here);
			goto out;
		}
		s->ir = pc_policy_load(*rel, reg, PC_POLICY_NO_LINT, diag, &sys_error);
		if (fchdir(here) < 0)
			PC_BUG("cannot return to the working directory");
		close(here);
		status = s->ir ? PC_EXIT_OK : sys_error ? PC_EXIT_SYSTEM : PC_EXIT_POLICY;
	}
out:
	free(rev);
	free(top);
	free(prefix);
	return status;
}

static void side_cleanup(struct side *s)
{
	if (s->tmpdir[0]) {
		const char *rm[] = { "rm", "-rf", "--", s->tmpdir, NULL };

		run(rm, NULL, -1);
	}
	pc_ir_destroy(s->ir);
}

static int load_side(struct side *s, const struct pc_registry *reg,
		     struct pc_diag *diag, char **rel)
{
	struct stat st;
	bool sys_error = false;

	*rel = NULL;
	if (stat(s->arg, &st) == 0 || !strchr(s->arg, ':') || s->arg[0] == ':') {
		s->ir = pc_policy_load(s->arg, reg, PC_POLICY_NO_LINT, diag, &sys_error);
		return s->ir ? PC_EXIT_OK : sys_error ? PC_EXIT_SYSTEM : PC_EXIT_POLICY;
	}
	return load_git(s, reg, diag, rel);
}

/* ---- text of a region ---- */

static char sign_of(const struct pc_rg_diff *d)
{
	bool was = d->old.verdict == PC_VERDICT_ALLOW, now = d->new.verdict == PC_VERDICT_ALLOW;

	/* a translation changed: neither opens nor closes */
	if (d->what != PC_RG_VERDICT)
		return '~';
	if (now && !was)
		return '+';
	if (was && !now)
		return '-';
	return '~';
}

static uint64_t ival(const struct pc_u128 *x)
{
	return x->lo;
}

/* " on eth0,wlan*": the interface classes @ifc, after @lead. */
static void iface_text(const struct pc_rg_iv *ifc, const struct pc_rg_ifaces *ifs,
		       const char *lead, struct pc_buf *b)
{
	bool first = true;

	pc_buf_printf(b, "%s", lead);
	for (uint64_t c = ival(&ifc->lo); c <= ival(&ifc->hi); c++) {
		bool inside = false;

		/* eth0 goes without saying beside eth* */
		for (uint64_t k = ival(&ifc->lo); c < ifs->n && k <= ival(&ifc->hi); k++)
			if (k != c && k < ifs->n && ifs->wild[k] &&
			    strncmp(ifs->names[c], ifs->names[k], strlen(ifs->names[k])) == 0 &&
			    (strlen(ifs->names[c]) > strlen(ifs->names[k]) || !ifs->wild[c]))
				inside = true;
		if (inside)
			continue;
		if (!first)
			pc_buf_printf(b, ",");
		first = false;
		if (c == ifs->n)
			pc_buf_printf(b, "(other)");
		else
			pc_buf_printf(b, "%s%s", ifs->names[c], ifs->wild[c] ? "*" : "");
	}
}

/*
 * The region as text in three parts: @b the head (direction, interfaces,
 * protocol, addresses), @pb the ports (":80-90") or ICMP types
 * (" type echo-request"), empty when all, @tb the tail (state, family).
 */
static void region_text3(const struct pc_rg_diff *d, const struct pc_rg_result *r,
			 const struct side *o, const struct side *n,
			 struct pc_buf *b, struct pc_buf *pb, struct pc_buf *tb)
{
	const struct pc_rg_ifaces *ifs = &r->ifaces;
	const struct pc_rg_box *x = &d->box;
	const struct pc_rg_iv *ifc = &x->d[PC_RG_IFACE], *pr = &x->d[PC_RG_PROTO];
	const struct pc_rg_iv *oifc = &x->d[PC_RG_OIFACE];
	const struct pc_rg_iv *pt = &x->d[PC_RG_DPORT], *stt = &x->d[PC_RG_STATE];
	unsigned fam = x->fam == PC_FAM_IPV6 ? PC_FAM_IPV6 : PC_FAM_IPV4;
	char s[96], t[96];
	uint64_t p0 = ival(&pr->lo), p1 = ival(&pr->hi);

	pc_buf_printf(b, "%s", pc_direction_name(d->dir));
	if (d->rest && d->what == PC_RG_VERDICT && d->old.rule < 0 && d->new.rule < 0 &&
	    d->old.nat < 0 && d->new.nat < 0) {
		/* the defaults changed: thousands of pieces otherwise */
		pc_buf_printf(b, " every %spacket no rule matches",
			      x->fam == PC_FAM_IPV4 ? "ipv4 " : x->fam == PC_FAM_IPV6 ? "ipv6 " : "");
		return;
	}
	/*
	 * Every interface but lo is left unsaid: lo is accepted by the
	 * built-in rule of both (else it would be in the region).
	 */
	if ((ival(&ifc->lo) != 0 || ival(&ifc->hi) != ifs->n) &&
	    !(ival(&ifc->lo) == 1 && ival(&ifc->hi) == ifs->n && ifs->n &&
	      !ifs->wild[0] && strcmp(ifs->names[0], "lo") == 0))
		iface_text(ifc, ifs, " on ", b);
	if (ival(&oifc->lo) != 0 || ival(&oifc->hi) != ifs->n)
		iface_text(oifc, ifs, " out on ", b);
	if (p0 == p1 && pc_proto_name((unsigned)p0))
		pc_buf_printf(b, " %s", pc_proto_name((unsigned)p0));
	else if (p0 == p1)
		pc_buf_printf(b, " proto %u", (unsigned)p0);
	else if (p0 == 0 && p1 == 255)
		pc_buf_printf(b, " any");
	else
		pc_buf_printf(b, " proto %u-%u", (unsigned)p0, (unsigned)p1);
	pc_rg_addr_text(&x->d[PC_RG_SADDR], fam, s, sizeof(s));
	pc_rg_addr_text(&x->d[PC_RG_DADDR], fam, t, sizeof(t));
	pc_buf_printf(b, " %s", s);
	/* issue 14: the source port, when the region has not all of them */
	if (p0 == p1 && pc_proto_has_ports((unsigned)p0) &&
	    !(ival(&x->d[PC_RG_SPORT].lo) == 0 && ival(&x->d[PC_RG_SPORT].hi) == 65535)) {
		const struct pc_rg_iv *sp = &x->d[PC_RG_SPORT];

		if (sp->lo.lo == sp->hi.lo)
			pc_buf_printf(b, ":%u", (unsigned)sp->lo.lo);
		else
			pc_buf_printf(b, ":%u-%u", (unsigned)sp->lo.lo, (unsigned)sp->hi.lo);
	}
	pc_buf_printf(b, " -> %s", t);
	if (p0 == p1 && pc_proto_has_ports((unsigned)p0) &&
	    !(ival(&pt->lo) == 0 && ival(&pt->hi) == 65535)) {
		if (pt->lo.lo == pt->hi.lo)
			pc_buf_printf(pb, ":%u", (unsigned)pt->lo.lo);
		else
			pc_buf_printf(pb, ":%u-%u", (unsigned)pt->lo.lo, (unsigned)pt->hi.lo);
	} else if (p0 == p1 && (p0 == PC_PROTO_ICMP || p0 == PC_PROTO_ICMPV6) &&
		   !(ival(&pt->lo) == 0 && ival(&pt->hi) >= 255)) {
		bool v6 = p0 == PC_PROTO_ICMPV6;
		const char *tn = pc_icmp_type_name((unsigned)pt->lo.lo, v6);

		if (pt->lo.lo == pt->hi.lo && tn)
			pc_buf_printf(pb, " type %s", tn);
		else if (pt->lo.lo == pt->hi.lo)
			pc_buf_printf(pb, " type %u", (unsigned)pt->lo.lo);
		else
			pc_buf_printf(pb, " type %u-%u", (unsigned)pt->lo.lo, (unsigned)pt->hi.lo);
	}
	if (!(ival(&stt->lo) == 0 && ival(&stt->hi) == 3) &&
	    !(ival(&stt->lo) == 0 && ival(&stt->hi) == 0)) {
		static const char *const names[] = { "new", "established", "related", "invalid" };

		pc_buf_printf(tb, " state ");
		for (uint64_t v = ival(&stt->lo); v <= ival(&stt->hi); v++)
			pc_buf_printf(tb, "%s%s", v == ival(&stt->lo) ? "" : ",", names[v]);
	}
	if (x->fam != PC_FAM_ALL &&
	    strcmp(s, "any") == 0 && strcmp(t, "any") == 0)
		pc_buf_printf(tb, " %s", x->fam == PC_FAM_IPV4 ? "ipv4" : "ipv6");
	/* what the packet alone does not tell: set membership, the rate */
	for (size_t k = 0; k < r->n_conds; k++) {
		const struct pc_rg_iv *cv = &x->d[r->conds[k].dim];
		const struct pc_rg_cond *c = &r->conds[k];
		bool holds = cv->lo.lo == 1;

		if (cv->lo.lo != cv->hi.lo || !pc_rg_cond_in(c, d->dir))
			continue;
		if (c->kind == PC_RG_COND_OVER) {
			bool in_old = c->old_rule >= 0;
			const struct pc_rule *lr = &(in_old ? o : n)->ir->chains[c->dir].rules[
				in_old ? c->old_rule : c->new_rule];

			pc_buf_printf(tb, " %s the %srate of %s %s:%u", holds ? "over" : "under",
				      lr->limit_per_source ? "per-source " : "",
				      in_old ? "OLD" : "NEW", lr->loc.file ? lr->loc.file : "?",
				      lr->loc.line);
		} else {
			pc_buf_printf(tb, " %s %sin @%s", c->kind == PC_RG_COND_SRC_IN ? "src" : "dst",
				      holds ? "" : "not ", c->set);
		}
	}
	/* the box only bounds the packets that side's decider decides */
	for (int k = 0; k < 2; k++) {
		const struct pc_rg_side *sd = k ? &d->new : &d->old;
		const char *tag = k ? "NEW" : "OLD";

		if (!(d->rest & (k ? PC_RG_REST_NEW : PC_RG_REST_OLD)))
			continue;
		if (sd->rule < 0 && sd->nat < 0)
			pc_buf_printf(tb, " where no %s rule matches", tag);
		else
			pc_buf_printf(tb, " where %s's line decides", tag);
	}
}

static void region_text(const struct pc_rg_diff *d, const struct pc_rg_result *r,
			const struct side *o, const struct side *n, struct pc_buf *b)
{
	struct pc_buf pb, tb;

	pc_buf_init(&pb);
	pc_buf_init(&tb);
	region_text3(d, r, o, n, b, &pb, &tb);
	pc_buf_printf(b, "%s%s", pb.data ? pb.data : "", tb.data ? tb.data : "");
	pc_buf_finish(&pb);
	pc_buf_finish(&tb);
}

/* "NEW fw.policy:14", "default", "OLD built-in: loopback". */
static void rule_text(const struct pc_ir *ir, enum pc_direction dir,
		      const struct pc_rg_side *sd, const char *tag, struct pc_buf *b)
{
	const struct pc_chain *c = &ir->chains[dir];
	const struct pc_location *loc;

	if (sd->rule < 0 || c->rules[sd->rule].origin == PC_ORIGIN_DEFAULT) {
		loc = sd->rule < 0 ? &c->policy_loc : &c->rules[sd->rule].loc;
		if (loc->file && loc->line)
			pc_buf_printf(b, "%s default %s:%u", tag, loc->file, loc->line);
		else
			pc_buf_printf(b, "default");
		return;
	}
	loc = &c->rules[sd->rule].loc;
	if (c->rules[sd->rule].origin != PC_ORIGIN_POLICY)
		pc_buf_printf(b, "%s built-in: %s", tag, pc_origin_name(c->rules[sd->rule].origin));
	else if (loc->file && loc->line)
		pc_buf_printf(b, "%s %s:%u", tag, loc->file, loc->line);
	else
		pc_buf_printf(b, "%s policy rule", tag);
}

/*
 * What decided side @sd of @d: the filter rule (of forward, after a dnat:
 * "NEW f:20 after dnat f:12"), or the NAT rule that translates ("NEW
 * f:12", "no NEW rule").
 */
static void decider_text(const struct pc_ir *ir, const struct pc_rg_diff *d,
			 const struct pc_rg_side *sd, const char *tag, struct pc_buf *b)
{
	const struct pc_location *loc;

	if (d->what != PC_RG_VERDICT) {
		if (sd->nat < 0) {
			pc_buf_printf(b, "no %s rule", tag);
			return;
		}
		loc = &ir->nat[sd->nat].loc;
		pc_buf_printf(b, "%s %s:%u", tag, loc->file ? loc->file : "?", loc->line);
		return;
	}
	if (sd->nat < 0) {
		rule_text(ir, d->dir, sd, tag, b);
		return;
	}
	rule_text(ir, PC_DIR_FORWARD, sd, tag, b);
	loc = &ir->nat[sd->nat].loc;
	pc_buf_printf(b, " after dnat %s:%u", loc->file ? loc->file : "?", loc->line);
}

/* "allow", or a translation: "dnat to 198.51.100.5:80", "masquerade", "no snat". */
static void outcome_text(const struct pc_ir *ir, const struct pc_rg_diff *d,
			 const struct pc_rg_side *sd, struct pc_buf *b)
{
	const struct pc_nat_rule *n;
	char addr[INET6_ADDRSTRLEN];

	if (d->what == PC_RG_VERDICT) {
		pc_buf_printf(b, "%s", pc_verdict_name(sd->verdict));
		return;
	}
	if (sd->nat < 0) {
		pc_buf_printf(b, "no %s", d->what == PC_RG_DNAT ? "dnat" : "snat");
		return;
	}
	n = &ir->nat[sd->nat];
	if (n->kind == PC_NAT_MASQUERADE) {
		pc_buf_printf(b, "masquerade");
		return;
	}
	inet_ntop(n->to.family == PC_FAM_IPV4 ? AF_INET : AF_INET6, n->to.a, addr, sizeof(addr));
	if (n->to_port && n->to.family == PC_FAM_IPV6)
		pc_buf_printf(b, "%s to [%s]:%u", pc_nat_kind_name(n->kind), addr, n->to_port);
	else if (n->to_port)
		pc_buf_printf(b, "%s to %s:%u", pc_nat_kind_name(n->kind), addr, n->to_port);
	else
		pc_buf_printf(b, "%s to %s", pc_nat_kind_name(n->kind), addr);
}

/* Interface classes as JSON: null for all of them. */
static json_t *ifaces_json(const struct pc_rg_iv *ifc, const struct pc_rg_ifaces *ifs)
{
	json_t *a;
	char buf[96];

	if (ifc->lo.lo == 0 && ifc->hi.lo == ifs->n)
		return json_null();
	/* classes: a prefix* is its names no other listed name claims */
	a = json_array();
	for (uint64_t c = ifc->lo.lo; c <= ifc->hi.lo; c++) {
		if (c == ifs->n)
			snprintf(buf, sizeof(buf), "(other)");
		else
			snprintf(buf, sizeof(buf), "%s%s", ifs->names[c], ifs->wild[c] ? "*" : "");
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

/* The region's dimensions for scripts (the text form is "packets"). */
static json_t *region_json(const struct pc_rg_diff *d, const struct pc_rg_result *r,
			   const struct side *o, const struct side *n)
{
	const struct pc_rg_ifaces *ifs = &r->ifaces;
	static const char *const states[] = { "new", "established", "related", "invalid" };
	const struct pc_rg_box *x = &d->box;
	const struct pc_rg_iv *ifc = &x->d[PC_RG_IFACE], *pr = &x->d[PC_RG_PROTO];
	const struct pc_rg_iv *pt = &x->d[PC_RG_DPORT], *st = &x->d[PC_RG_STATE];
	unsigned fam = x->fam == PC_FAM_IPV6 ? PC_FAM_IPV6 : PC_FAM_IPV4;
	json_t *j = json_object(), *a;
	char buf[96];

	a = json_array();
	if (x->fam & PC_FAM_IPV4)
		json_array_append_new(a, json_string("ipv4"));
	if (x->fam & PC_FAM_IPV6)
		json_array_append_new(a, json_string("ipv6"));
	json_object_set_new(j, "families", a);
	/*
	 * ["old"]: the region is the packets of the other fields that OLD's
	 * decider decides (another rule takes the others); ["new"], both
	 * likewise; empty: every packet the other fields name
	 */
	a = json_array();
	if (d->rest & PC_RG_REST_OLD)
		json_array_append_new(a, json_string("old"));
	if (d->rest & PC_RG_REST_NEW)
		json_array_append_new(a, json_string("new"));
	json_object_set_new(j, "only_where_decided_by", a);
	json_object_set_new(j, "interfaces", ifaces_json(ifc, ifs));
	/* forward: the leaving interface (`out on`); null: any */
	json_object_set_new(j, "out_interfaces", ifaces_json(&x->d[PC_RG_OIFACE], ifs));
	json_object_set_new(j, "protocols", json_pack("[I, I]", (json_int_t)pr->lo.lo,
						      (json_int_t)pr->hi.lo));
	pc_rg_addr_text(&x->d[PC_RG_SADDR], fam, buf, sizeof(buf));
	json_object_set_new(j, "source", json_string(buf));
	pc_rg_addr_text(&x->d[PC_RG_DADDR], fam, buf, sizeof(buf));
	json_object_set_new(j, "destination", json_string(buf));
	if (pr->lo.lo == pr->hi.lo && pc_proto_has_ports((unsigned)pr->lo.lo))
		json_object_set_new(j, "ports", json_pack("[I, I]", (json_int_t)pt->lo.lo,
							  (json_int_t)pt->hi.lo));
	else
		json_object_set_new(j, "ports", json_null());
	/* issue 14: [lo, hi] of the source ports, only when the region has
	 * not all of them (no key otherwise: the form of every other region
	 * stays as it was) */
	if (pr->lo.lo == pr->hi.lo && pc_proto_has_ports((unsigned)pr->lo.lo) &&
	    !(x->d[PC_RG_SPORT].lo.lo == 0 && x->d[PC_RG_SPORT].hi.lo == 65535))
		json_object_set_new(j, "source_ports",
				    json_pack("[I, I]", (json_int_t)x->d[PC_RG_SPORT].lo.lo,
					      (json_int_t)x->d[PC_RG_SPORT].hi.lo));
	if (pr->lo.lo == pr->hi.lo && (pr->lo.lo == PC_PROTO_ICMP || pr->lo.lo == PC_PROTO_ICMPV6))
		json_object_set_new(j, "icmp_types",
				    json_pack("[I, I]", (json_int_t)pt->lo.lo,
					      (json_int_t)(pt->hi.lo > 255 ? 255 : pt->hi.lo)));
	else
		json_object_set_new(j, "icmp_types", json_null());
	a = json_array();
	for (uint64_t v = st->lo.lo; v <= st->hi.lo; v++)
		json_array_append_new(a, json_string(states[v]));
	json_object_set_new(j, "states", a);
	/* dynamic set membership and rates: only those the region depends on */
	a = json_array();
	for (size_t k = 0; k < r->n_conds; k++) {
		const struct pc_rg_iv *cv = &x->d[r->conds[k].dim];
		const struct pc_rg_cond *c = &r->conds[k];
		json_t *cj;

		if (cv->lo.lo != cv->hi.lo || !pc_rg_cond_in(c, d->dir))
			continue;
		if (c->kind == PC_RG_COND_OVER) {
			bool in_old = c->old_rule >= 0;
			const struct pc_rule *lr = &(in_old ? o : n)->ir->chains[c->dir].rules[
				in_old ? c->old_rule : c->new_rule];

			cj = json_pack("{s:s, s:s, s:s, s:i}", "condition", "over the rate",
				       "of", in_old ? "OLD" : "NEW", "file",
				       lr->loc.file ? lr->loc.file : "", "line", (int)lr->loc.line);
		} else {
			cj = json_pack("{s:s, s:s}", "condition", c->kind == PC_RG_COND_SRC_IN ?
				       "source in set" : "destination in set", "set", c->set);
		}
		json_object_set_new(cj, "holds", json_boolean(cv->lo.lo == 1));
		json_array_append_new(a, cj);
	}
	json_object_set_new(j, "conditions", a);
	return j;
}

static json_t *side_json(const struct pc_ir *ir, const struct pc_rg_diff *d,
			 const struct pc_rg_side *sd, const char *tag)
{
	const struct pc_chain *c = &ir->chains[sd->nat >= 0 ? PC_DIR_FORWARD : d->dir];
	const struct pc_location *loc = sd->rule < 0 ? &c->policy_loc : &c->rules[sd->rule].loc;
	struct pc_buf b = { 0 }, v = { 0 };
	json_t *j;

	decider_text(ir, d, sd, tag, &b);
	outcome_text(ir, d, sd, &v);
	/* a translation: "translation" instead of "verdict", the NAT rule's line */
	j = json_pack("{s:s#, s:s#}", d->what == PC_RG_VERDICT ? "verdict" : "translation",
		      v.data ? v.data : "", v.len, "decided_by", b.data ? b.data : "", b.len);
	if (d->what != PC_RG_VERDICT)
		loc = sd->nat >= 0 ? &ir->nat[sd->nat].loc : NULL;
	if (loc && loc->file && loc->line) {
		json_object_set_new(j, "file", json_string(loc->file));
		json_object_set_new(j, "line", json_integer(loc->line));
	}
	/* the verdict of a dnat'ed packet: the dnat's line too */
	if (d->what == PC_RG_VERDICT && sd->nat >= 0) {
		const struct pc_location *nl = &ir->nat[sd->nat].loc;

		json_object_set_new(j, "dnat", json_pack("{s:s, s:i}", "file", nl->file ? nl->file : "",
							 "line", (int)nl->line));
	}
	free(b.data);
	free(v.data);
	return j;
}

/* A table cell: a file name's '|' would end the cell. */
static void md_cell(const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			putchar('\\');
		putchar(*s);
	}
}

/* One printed line: regions alike but for their ports (ICMP types) joined. */
struct line {
	char sign;
	const struct pc_rg_diff *d;
	struct pc_buf head, ports, tail, now, was, nowv, wasv;
};

static void line_free(struct line *l)
{
	pc_buf_finish(&l->head);
	pc_buf_finish(&l->ports);
	pc_buf_finish(&l->tail);
	pc_buf_finish(&l->now);
	pc_buf_finish(&l->was);
	pc_buf_finish(&l->nowv);
	pc_buf_finish(&l->wasv);
}

static void line_of(const struct pc_rg_result *r, size_t i, const struct side *o,
		    const struct side *n, struct line *l)
{
	const struct pc_rg_diff *d = &r->v[i];

	memset(l, 0, sizeof(*l));
	l->sign = sign_of(d);
	l->d = d;
	region_text3(d, r, o, n, &l->head, &l->ports, &l->tail);
	decider_text(n->ir, d, &d->new, "NEW", &l->now);
	decider_text(o->ir, d, &d->old, "OLD", &l->was);
	outcome_text(n->ir, d, &d->new, &l->nowv);
	outcome_text(o->ir, d, &d->old, &l->wasv);
}

static bool buf_eq(const struct pc_buf *a, const struct pc_buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/*
 * The line of r->v[*i] with the following regions that differ from it only
 * in their ports (or ICMP types), which sort next to it: ":80,443,8000-8100".
 * Advances *i past them.
 */
static void next_line(const struct pc_rg_result *r, size_t *i, const struct side *o,
		      const struct side *n, struct line *l)
{
	line_of(r, (*i)++, o, n, l);
	while (l->ports.len && *i < r->n) {
		struct line m;
		bool same;

		line_of(r, *i, o, n, &m);
		same = m.sign == l->sign && buf_eq(&m.nowv, &l->nowv) &&
		       buf_eq(&m.wasv, &l->wasv) && buf_eq(&m.head, &l->head) &&
		       buf_eq(&m.tail, &l->tail) && buf_eq(&m.now, &l->now) &&
		       buf_eq(&m.was, &l->was) && m.ports.len &&
		       m.ports.data[0] == l->ports.data[0];
		if (same) {
			/* ":2829" -> ",2829"; " type 4-7" -> ",4-7" */
			pc_buf_printf(&l->ports, ",%s", m.ports.data +
				      (m.ports.data[0] == ':' ? 1 : strlen(" type ")));
			(*i)++;
		}
		line_free(&m);
		if (!same)
			break;
	}
}

static int print_result(const struct pc_rg_result *r, const struct side *o,
			const struct side *n, enum format fmt)
{
	size_t opens = 0, closes = 0, other = 0;
	json_t *arr = NULL;

	/* the counts: of regions for JSON, of the lines shown otherwise */
	for (size_t i = 0; i < r->n;) {
		struct line l;
		char c;

		if (fmt == FMT_JSON) {
			c = sign_of(&r->v[i++]);
		} else {
			next_line(r, &i, o, n, &l);
			c = l.sign;
			line_free(&l);
		}
		opens += c == '+';
		closes += c == '-';
		other += c == '~';
	}
	if (fmt == FMT_JSON)
		arr = json_array();
	if (fmt == FMT_MARKDOWN) {
		if (r->n == 0)
			printf("### portcullis compare: no change in meaning\n\n`%s` and `%s` decide every packet alike.\n",
			       o->arg, n->arg);
		else
			printf("### portcullis compare: opens %zu, closes %zu, changes %zu\n\n"
			       "`%s` → `%s`\n\n"
			       "| | packets | now | was |\n| --- | --- | --- | --- |\n",
			       opens, closes, other, o->arg, n->arg);
	}
	for (size_t i = 0; i < r->n;) {
		struct line l;

		if (fmt == FMT_JSON) {
			const struct pc_rg_diff *d = &r->v[i];
			struct pc_buf reg = { 0 };
			char sg[2] = { sign_of(d), 0 };

			region_text(d, r, o, n, &reg);
			json_t *e = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}",
				"change", sg, "direction", pc_direction_name(d->dir),
				"packets", reg.data, "region", region_json(d, r, o, n),
				"new", side_json(n->ir, d, &d->new, "NEW"),
				"old", side_json(o->ir, d, &d->old, "OLD"));

			/* issue 16: what changed, only for translations (the
			 * form of a verdict's entry stays as it was) */
			if (d->what != PC_RG_VERDICT)
				json_object_set_new(e, "translation",
						    json_string(d->what == PC_RG_DNAT ? "dnat" : "snat"));
			json_array_append_new(arr, e);
			free(reg.data);
			i++;
			continue;
		}
		next_line(r, &i, o, n, &l);
		if (fmt == FMT_TEXT) {
			printf("%c %s%s%s  %s (%s) was %s (%s)\n", l.sign, l.head.data,
			       l.ports.data ? l.ports.data : "", l.tail.data ? l.tail.data : "",
			       l.nowv.data, l.now.data, l.wasv.data, l.was.data);
		} else {
			printf("| %c | `%s%s%s` | %s (", l.sign, l.head.data,
			       l.ports.data ? l.ports.data : "", l.tail.data ? l.tail.data : "",
			       l.nowv.data);
			md_cell(l.now.data);
			printf(") | %s (", l.wasv.data);
			md_cell(l.was.data);
			printf(") |\n");
		}
		line_free(&l);
	}
	if (fmt == FMT_TEXT && r->n == 0)
		printf("no change in meaning\n");
	if (fmt == FMT_JSON) {
		json_t *top = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:o}",
					"old", o->arg, "new", n->arg, "changed", r->n != 0,
					"opens", (json_int_t)opens, "closes", (json_int_t)closes,
					"changes", (json_int_t)other, "regions", arr);

		json_dumpf(top, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(top);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("portcullis: compare: standard output");
		return PC_EXIT_SYSTEM;
	}
	return r->n ? PC_EXIT_POLICY : PC_EXIT_OK;
}

int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "markdown", no_argument, NULL, 'm' },
		{ "registry", required_argument, NULL, 'R' },
		{ "overlay", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_registry_opts ro = { 0 };
	struct side sides[2] = { { .tag = "OLD" }, { .tag = "NEW" } };
	char *rel[2] = { NULL, NULL };
	struct pc_registry *reg = NULL;
	struct pc_diag *diag = NULL;
	struct pc_rg_result res = { 0 };
	enum format fmt = FMT_TEXT;
	int c, status = PC_EXIT_USAGE;
	char err[512];

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
		case 'm':
			if (fmt != FMT_TEXT) {
				fputs("portcullis: compare: --json and --markdown exclude each other\n", stderr);
				goto out;
			}
			fmt = c == 'j' ? FMT_JSON : FMT_MARKDOWN;
			break;
		case 'R':
			ro.registry = optarg;
			break;
		case 'O':
			if (!pc_cli_add_overlay(&ro, optarg, "compare"))
				goto out;
			break;
		case 'h':
			fputs(compare_usage, stdout);
			status = PC_EXIT_OK;
			goto out;
		default:
			fprintf(stderr, "portcullis: compare: unknown option '%s' or missing argument\n",
				argv[optind - 1]);
			fputs(compare_usage, stderr);
			goto out;
		}
	}
	if (argc - optind != 2) {
		fputs("portcullis: compare: expected OLD and NEW\n", stderr);
		fputs(compare_usage, stderr);
		goto out;
	}
	sides[0].arg = argv[optind];
	sides[1].arg = argv[optind + 1];
	diag = pc_diag_create();
	pc_cli_phase("compare", NULL);
	reg = pc_cli_open_registry(&ro, diag, &status);
	if (!reg)
		goto print;
	for (int i = 0; i < 2; i++) {
		status = load_side(&sides[i], reg, diag, &rel[i]);
		if (status != PC_EXIT_OK)
			goto print;
	}
	pc_cli_phase("compare", "load both policies");
	if (pc_regions_compare(sides[0].ir, sides[1].ir, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "portcullis: compare: %s\n", err);
		status = PC_EXIT_POLICY;
		goto print;
	}
	pc_cli_phase("compare", "regions");
	for (int d = 0; d < __PC_DIR_MAX; d++)
		if (res.limits_not_exceeded[d])
			fprintf(stderr, "portcullis: compare: note: %s: %zu rate limits count as never "
				"exceeded, as explain takes them (more than compare models at once, "
				"or forward's for packets a dnat forwards)\n",
				pc_direction_name((enum pc_direction)d), res.limits_not_exceeded[d]);
	pc_diag_print(diag, stderr, pc_cli_color());
	status = print_result(&res, &sides[0], &sides[1], fmt);
	goto out;
print:
	pc_diag_print(diag, stderr, pc_cli_color());
out:
	pc_rg_result_free(&res);
	for (int i = 0; i < 2; i++) {
		side_cleanup(&sides[i]);
		free(rel[i]);
	}
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	return status;
}
