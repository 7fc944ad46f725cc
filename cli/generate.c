/* SPDX-License-Identifier: MIT */
/* portcullis generate: a policy's ruleset in one backend's language. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/table.h"
#include "cli/cli.h"
#include "ir/optimize.h"
#include "policy/ast.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/template.h"
#include "common/util.h"

static void generate_usage(FILE *out)
{
	fputs("usage: portcullis generate [-b BACKEND] [-o FILE] [--check] [--registry FILE]\n"
	      "                           [--overlay FILE] [--template FILE]\n"
	      "                           [-O NAME=VALUE]... [--no-lint] POLICY\n"
	      "       portcullis generate -b BACKEND -o FILE [-b BACKEND -o FILE]... POLICY\n"
	      "       portcullis generate -b BACKEND -o 'DIR/%n.EXT' [-b ...]... POLICY...\n"
	      "\n"
	      "Writes the ruleset of POLICY in the language of BACKEND: nft (default),\n"
	      "iptables, ip6tables, pf, or a plugin (see `portcullis backends`).\n"
	      "The output is byte-identical for the same policy, registry and version.\n"
	      "Several -b BACKEND -o FILE pairs write several files from one reading of\n"
	      "the policy; when one backend fails, no file is written.\n"
	      "Many policies (one per host) in one run: each -o FILE holds %n, which\n"
	      "stands for a policy's file name without its directory and .policy;\n"
	      "files that several policies include are read and parsed once, and\n"
	      "when any policy or backend fails, no file is written.\n"
	      "\n"
	      "  -b, --backend NAME  the output language (default nft)\n"
	      "  -o, --output FILE   replace FILE atomically instead of writing to stdout;\n"
	      "                      a failed run leaves FILE as it was (goes with the\n"
	      "                      -b before it); a symbolic link is written through,\n"
	      "                      FILE keeps its owner and mode, and must be a\n"
	      "                      regular file (or new)\n"
	      "  --check             with -o: write nothing, exit 1 when a FILE would change\n"
	      "                      (a pre-commit hook or CI gate for generated files)\n"
	      "  --no-lint           skip the shadowing and registry warnings (`check` has them)\n"
	      "  --no-optimize       one kernel rule per policy line: no verdict maps\n"
	      "  --no-dispatch       nft: no jump on protocol and port to class chains; by\n"
	      "                      default a stretch of rules over tcp/udp/sctp/dccp\n"
	      "                      becomes one where it shortens the packet path, each\n"
	      "                      chain holding only the rules of its ports (as apply;\n"
	      "                      --dispatch, the default, is accepted)\n"
	      "                      (for backends that fold rules, such as nft)\n"
	      "  --registry FILE     IANA CSV or /etc/services file instead of the shipped one\n"
	      "  --overlay FILE      site names that take precedence (repeatable)\n"
	      "  --template FILE     the output's skeleton instead of the built-in one\n"
	      "                      ({{version}} {{policy}} {{registry}} {{registry_date}}\n"
	      "                      {{table}} {{backend}} {{body}})\n"
	      "  -O, --backend-option NAME=VALUE\n"
	      "                      an option of the chosen backend (repeatable; see\n"
	      "                      `portcullis backends`), e.g. -O pf-dialect=freebsd\n"
	      "  --pf-dialect NAME   the same as -O pf-dialect=NAME (openbsd or freebsd)\n"
	      "\n"
	      "Exit status: 0 written (or up to date); 1 policy errors, a feature the\n"
	      "backend cannot express, or --check found changes; 2 usage; 3 system error.\n",
	      out);
}

/*
 * The output as it would be written; NULL with *status set on failure.
 * Whole in memory, for standard output (a backend that fails half-way
 * must not have handed half a ruleset to a pipe: `generate | nft -f -`),
 * --check (compared with the file) and many policies (all written or
 * none). -o FILE streams instead (stream_outputs()).
 */
static char *render(const struct pc_backend *backend, const struct pc_ir *ir,
		    const struct pc_emit_options *opts, struct pc_diag *diag,
		    size_t *len, int *status)
{
	char *text = NULL;
	FILE *f;
	int ret;

	f = open_memstream(&text, len);
	if (!f) {
		pc_diag_error(diag, NULL, "cannot allocate the output: %s", strerror(errno));
		*status = PC_EXIT_SYSTEM;
		return NULL;
	}
	ret = backend->emit(ir, opts, f, diag);
	if (fclose(f) != 0 && ret == 0) {
		pc_diag_error(diag, NULL, "cannot write the output: %s", strerror(errno));
		*status = PC_EXIT_SYSTEM;
		free(text);
		return NULL;
	}
	if (ret != 0 || pc_diag_has_errors(diag)) {
		if (!pc_diag_has_errors(diag))
			pc_diag_error(diag, NULL, "backend '%s' failed without saying why",
				      backend->name);
		*status = PC_EXIT_POLICY;
		free(text);
		return NULL;
	}
	return text;
}

#define MAX_OPTIONS 16

/* One -b BACKEND [-o FILE] of the command line. */
struct target {
	const char *name;
	const char *output;             /* NULL: stdout */
	const struct pc_backend *backend;
	char *text;
	size_t len;
	struct pc_option_value opts[MAX_OPTIONS]; /* the -O options this backend declares */
	size_t n_opts;
};

#define MAX_TARGETS 16

/*
 * Hands each target the -O options its backend declares. An option that no
 * chosen backend declares, or a value outside the declared ones, is a usage
 * error naming the option and the backends.
 */
static bool assign_options(struct target *targets, size_t n_targets,
			   const struct pc_option_value *given, size_t n_given)
{
	for (size_t k = 0; k < n_given; k++) {
		bool taken = false;

		for (size_t i = 0; i < n_targets; i++) {
			const struct pc_backend_option *o =
				pc_backend_option_find(targets[i].backend, given[k].name);

			if (!o)
				continue;
			if (!pc_backend_option_value_ok(o, given[k].value)) {
				fprintf(stderr, "portcullis generate: option '%s' of backend '%s' is %s, not '%s'\n",
					given[k].name, targets[i].backend->name, o->values,
					given[k].value);
				return false;
			}
			targets[i].opts[targets[i].n_opts++] = given[k];
			taken = true;
		}
		if (taken)
			continue;
		fprintf(stderr, "portcullis generate: unknown option '%s' for backend", given[k].name);
		for (size_t i = 0; i < n_targets; i++)
			fprintf(stderr, "%s '%s'", i ? "," : "", targets[i].backend->name);
		fputs(" (see `portcullis backends`)\n", stderr);
		return false;
	}
	return true;
}


/*
 * The IR a backend is given: the optimised view for a backend that folds
 * rules (NULL: @ir itself), with the dispatch for the nft text (issue 15;
 * the other backends with verdict maps have no jump to class chains).
 * With @spool, for an output written as it is made, the view's maps are
 * in a spooled arena: the nft text reads them once, in order, and gives
 * their pages back as it goes, so that the map elements of a big policy
 * (most of its memory) are never all in memory at once (issue 15).
 */
static struct pc_ir *backend_view(const struct pc_backend *b, const struct pc_ir *ir,
				  bool no_optimize, bool spool)
{
	bool nft = strcmp(b->name, "nft") == 0;

	if (!(b->caps & PC_CAP_VMAP) || no_optimize)
		return NULL;
	if (spool && nft)
		return pc_ir_optimize_view_spool(ir, pc_optimize_keys(b->caps), pc_cli_dispatch,
						 NULL);
	return pc_ir_optimize_view_keys(ir, pc_optimize_keys(b->caps), pc_cli_dispatch && nft,
					NULL);
}

/*
 * Every target's output for @ir, made before any is written (all or
 * nothing). Worsens *status on failure.
 */
static void render_targets(struct target *t, size_t n, const struct pc_ir *ir,
			   const struct pc_emit_options *opts, bool no_optimize,
			   struct pc_diag *diag, int *status)
{
	for (size_t i = 0; i < n; i++) {
		struct pc_emit_options o = *opts;
		struct pc_ir *view;

		o.n_options = t[i].n_opts;
		o.options = t[i].opts;
		if (pc_backend_check(t[i].backend, ir, &o, diag) != 0) {
			if (*status == PC_EXIT_OK)
				*status = PC_EXIT_POLICY;
			continue;
		}
		view = backend_view(t[i].backend, ir, no_optimize, false);
		t[i].text = render(t[i].backend, view ? view : ir, &o, diag, &t[i].len, status);
		pc_ir_destroy(view);
	}
}

/* @pattern with every %n replaced by @policy's name (no directory, no .policy). */
static char *expand_output(const char *pattern, const char *policy)
{
	const char *base = strrchr(policy, '/');
	size_t n;
	struct pc_buf b;

	base = base ? base + 1 : policy;
	n = strlen(base);
	if (n > 7 && strcmp(base + n - 7, ".policy") == 0)
		n -= 7;
	pc_buf_init(&b);
	for (const char *p = pattern; *p; p++) {
		if (p[0] == '%' && p[1] == 'n') {
			pc_buf_add(&b, base, n);
			p++;
		} else {
			pc_buf_putc(&b, *p);
		}
	}
	return b.data;
}

static int write_stdout(const char *text, size_t len)
{
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "portcullis: cannot write to standard output: %s\n",
			strerror(errno));
		return PC_EXIT_SYSTEM;
	}
	return PC_EXIT_OK;
}

/* What @path is when it is not a regular file (for the message). */
static const char *file_kind(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return "not a regular file";
	if (S_ISDIR(st.st_mode))
		return "a directory";
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		return "a device node";
	if (S_ISFIFO(st.st_mode))
		return "a FIFO";
	if (S_ISSOCK(st.st_mode))
		return "a socket";
	return "not a regular file";
}

/*
 * The -o FILEs of @targets, all replaced or none: every target is resolved
 * and checked, then every changed one written to a temporary file beside
 * it, and only when all of that worked are they renamed. With @check,
 * nothing is written: 1 when a file would change.
 */
/* The directory of @path ("." for none). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
}

/*
 * Syncs, for many files at once, what pc_replace_write() and
 * pc_replace_commit() sync one by one: with @data, every file system the
 * temporary files are on (syncfs(), once per file system), else every
 * directory once (the renames). A thousand fsync() pairs cost seconds.
 */
static int sync_many(const struct pc_replace *r, const bool *skip, size_t n, bool data)
{
	dev_t *done = xcalloc(n, sizeof(*done));
	char **dirs = xcalloc(n, sizeof(*dirs));
	size_t n_done = 0, n_dirs = 0;
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++) {
		char *dir;
		struct stat st;
		bool seen = false;
		int dfd;

		if (skip[i])
			continue;
		dir = dir_of(r[i].target);
		for (size_t k = 0; k < n_dirs && !seen; k++)
			seen = strcmp(dirs[k], dir) == 0;
		if (seen) {
			free(dir);
			continue;
		}
		dirs[n_dirs++] = dir;
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fstat(dfd, &st) < 0) {
			ret = -1;
		} else if (!data) {
			fsync(dfd);
		} else {
			for (size_t k = 0; k < n_done && !seen; k++)
				seen = done[k] == st.st_dev;
			if (!seen) {
				done[n_done++] = st.st_dev;
				if (syncfs(dfd) < 0)
					ret = -1;
			}
		}
		if (dfd >= 0)
			close(dfd);
	}
	for (size_t k = 0; k < n_dirs; k++)
		free(dirs[k]);
	free(dirs);
	free(done);
	return ret;
}

/*
 * Resolves the -o FILE of each target into @r (pc_replace_finish() each
 * whatever this returns): an error when one cannot be written or two are
 * the same file.
 */
static int prepare_outputs(struct pc_replace *r, const struct target *targets, size_t n,
			   bool many)
{
	for (size_t i = 0; i < n; i++) {
		if (pc_replace_prepare(&r[i], targets[i].output, true) == 0) {
			r[i].caller_syncs = many;
			continue;
		}
		if (errno == EINVAL)
			fprintf(stderr, "portcullis: cannot write %s: it is %s\n",
				targets[i].output, file_kind(targets[i].output));
		else
			fprintf(stderr, "portcullis: cannot write %s: %s\n",
				targets[i].output, strerror(errno));
		return PC_EXIT_SYSTEM;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < i; k++) {
			if (strcmp(r[k].target, r[i].target) != 0 &&
			    !(r[k].exists && r[i].exists && r[k].st.st_dev == r[i].st.st_dev &&
			      r[k].st.st_ino == r[i].st.st_ino))
				continue;
			fprintf(stderr, "portcullis generate: -o %s and -o %s are the same file\n",
				targets[k].output, targets[i].output);
			return PC_EXIT_USAGE;
		}
	}
	return PC_EXIT_OK;
}

/*
 * The temporary files of @r, written and synced, renamed over their
 * targets (except the @same ones, left alone): the last step, where only
 * renames can fail.
 */
static int commit_outputs(struct pc_replace *r, const bool *same,
			  const struct target *targets, size_t n, bool many)
{
	if (many && sync_many(r, same, n, true) < 0) {
		fprintf(stderr, "portcullis: cannot sync the new files: %s; no file was changed\n",
			strerror(errno));
		return PC_EXIT_SYSTEM;
	}
	/* Only renames are left: they fail only if the directory changes under us. */
	for (size_t i = 0; i < n; i++) {
		if (same[i] || pc_replace_commit(&r[i]) == 0)
			continue;
		fprintf(stderr, "portcullis: cannot replace %s: %s", targets[i].output,
			strerror(errno));
		if (i > 0)
			fputs("; the files before it on the command line were replaced", stderr);
		fputc('\n', stderr);
		return PC_EXIT_SYSTEM;
	}
	if (many)
		sync_many(r, same, n, false);
	return PC_EXIT_OK;
}

static int write_outputs(struct target *targets, size_t n, bool check, bool many)
{
	struct pc_replace *r = xcalloc(n, sizeof(*r));
	bool *same = xcalloc(n, sizeof(*same));
	int status;
	size_t i;

	status = prepare_outputs(r, targets, n, many);
	if (status != PC_EXIT_OK)
		goto out;
	for (i = 0; i < n; i++) {
		size_t old_len;
		char *old = r[i].exists ? pc_read_file(r[i].target, &old_len) : NULL;

		/* a file too big to read is no copy of the output */
		if (r[i].exists && !old && errno != EFBIG) {
			fprintf(stderr, "portcullis: cannot read %s: %s\n", targets[i].output,
				strerror(errno));
			status = PC_EXIT_SYSTEM;
			goto out;
		}
		/* an identical file is left alone (its time stamp too) */
		same[i] = old && old_len == targets[i].len &&
			  memcmp(old, targets[i].text, old_len) == 0;
		free(old);
		if (check && !same[i]) {
			fprintf(stderr, "portcullis: %s %s; regenerate it with the same command without --check\n",
				targets[i].output, r[i].exists ? "is out of date" : "does not exist");
			status = PC_EXIT_POLICY;
		}
	}
	if (check)
		goto out;
	for (i = 0; i < n; i++) {
		if (same[i] || pc_replace_write(&r[i], targets[i].text, targets[i].len) == 0)
			continue;
		fprintf(stderr, "portcullis: cannot write %s: %s; no file was changed\n",
			targets[i].output, strerror(errno));
		status = PC_EXIT_SYSTEM;
		goto out;
	}
	status = commit_outputs(r, same, targets, n, many);
out:
	for (i = 0; i < n; i++)
		pc_replace_finish(&r[i]);
	free(same);
	free(r);
	return status;
}

/*
 * generate -b BACKEND -o FILE [...] POLICY: each output is written straight
 * into a temporary file beside its FILE instead of being made in memory
 * first (the outputs of a 100,000-rule policy are some 200 MB), and the
 * files are renamed over their targets only when every backend worked:
 * all or nothing, as write_outputs(). Every backend's check runs before
 * any file is touched, so a policy a backend cannot express is reported
 * as before; a file that already holds its output is left alone.
 */
static int stream_outputs(struct target *t, size_t n, const struct pc_ir *ir,
			  const struct pc_emit_options *opts, bool no_optimize,
			  struct pc_diag *diag)
{
	struct pc_replace *r = xcalloc(n, sizeof(*r));
	bool *same = xcalloc(n, sizeof(*same));
	int status = PC_EXIT_OK;
	size_t i;

	for (i = 0; i < n; i++) {
		struct pc_emit_options o = *opts;

		o.n_options = t[i].n_opts;
		o.options = t[i].opts;
		if (pc_backend_check(t[i].backend, ir, &o, diag) != 0)
			status = PC_EXIT_POLICY;
	}
	if (status != PC_EXIT_OK)
		goto out;
	status = prepare_outputs(r, t, n, false);
	if (status != PC_EXIT_OK)
		goto out;
	for (i = 0; i < n; i++) {
		struct pc_emit_options o = *opts;
		struct pc_ir *view = NULL;
		FILE *f;
		int ret;

		o.n_options = t[i].n_opts;
		o.options = t[i].opts;
		r[i].compare = true;
		f = pc_replace_open(&r[i]);
		if (!f) {
			fprintf(stderr, "portcullis: cannot write %s: %s; no file was changed\n",
				t[i].output, strerror(errno));
			status = PC_EXIT_SYSTEM;
			goto out;
		}
		view = backend_view(t[i].backend, ir, no_optimize, true);
		ret = t[i].backend->emit(view ? view : ir, &o, f, diag);
		pc_ir_destroy(view);
		if (ret != 0 || pc_diag_has_errors(diag)) {
			fclose(f);
			if (!pc_diag_has_errors(diag))
				pc_diag_error(diag, NULL, "backend '%s' failed without saying why",
					      t[i].backend->name);
			status = PC_EXIT_POLICY;
			goto out;
		}
		if (pc_replace_close(&r[i], f) < 0) {
			fprintf(stderr, "portcullis: cannot write %s: %s; no file was changed\n",
				t[i].output, strerror(errno));
			status = PC_EXIT_SYSTEM;
			goto out;
		}
		/* an identical file is left alone (its time stamp too) */
		same[i] = pc_replace_same(&r[i]);
	}
	pc_cli_phase("generate", "render");
	pc_diag_print(diag, stderr, pc_cli_color());
	status = commit_outputs(r, same, t, n, false);
out:
	for (i = 0; i < n; i++)
		pc_replace_finish(&r[i]);
	free(same);
	free(r);
	return status;
}


/*
 * generate -o 'DIR/%n.EXT' POLICY...: the registry, the backends and the
 * files the policies share are loaded once; the outputs of every policy
 * are made before any is written, and all are written or none.
 */
static int generate_many(struct target *targets, size_t n_targets, char **policies,
			 size_t n_pol, const struct pc_registry_opts *ro, unsigned flags,
			 struct pc_emit_options *opts, bool no_optimize, bool check,
			 struct pc_diag *diag)
{
	struct target *all = xcalloc(n_pol * n_targets, sizeof(*all));
	struct pc_include_cache *cache = pc_include_cache_create();
	struct pc_registry *reg;
	int status = PC_EXIT_OK;

	pc_cli_phase("generate", NULL);
	reg = pc_cli_open_registry(ro, diag, &status);
	if (!reg)
		goto out;
	pc_cli_phase("generate", "registry");
	for (size_t p = 0; p < n_pol; p++) {
		struct target *t = &all[p * n_targets];
		bool sys_error = false;
		struct pc_ir *ir;

		for (size_t i = 0; i < n_targets; i++) {
			t[i] = targets[i];
			t[i].output = expand_output(targets[i].output, policies[p]);
		}
		ir = pc_policy_load_cached(policies[p], reg, flags, diag, &sys_error, cache);
		if (!ir) {
			if (sys_error)
				status = PC_EXIT_SYSTEM;
			else if (status == PC_EXIT_OK)
				status = PC_EXIT_POLICY;
			continue;
		}
		opts->policy_path = policies[p];
		opts->registry_name = ir->registry_name;
		opts->registry_date = ir->registry_date;
		render_targets(t, n_targets, ir, opts, no_optimize, diag, &status);
		pc_ir_destroy(ir);
	}
	pc_cli_phase("generate", "policies parse, resolve, lint and render");
	if (status != PC_EXIT_OK)
		goto out;
	pc_diag_print(diag, stderr, pc_cli_color());
	status = write_outputs(all, n_pol * n_targets, check, true);
	pc_cli_phase("generate", "write");
out:
	for (size_t i = 0; i < n_pol * n_targets; i++) {
		free((char *)all[i].output);
		free(all[i].text);
	}
	free(all);
	pc_include_cache_destroy(cache);
	pc_registry_destroy(reg);
	return status;
}

int cmd_generate(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "check", no_argument, NULL, 'c' },
		{ "registry", required_argument, NULL, 'r' },
		{ "overlay", required_argument, NULL, 'L' },
		{ "backend-option", required_argument, NULL, 'O' },
		{ "template", required_argument, NULL, 't' },
		{ "pf-dialect", required_argument, NULL, 'p' },
		{ "no-lint", no_argument, NULL, 'n' },
		{ "no-optimize", no_argument, NULL, 'N' },
		{ "dispatch", no_argument, NULL, 'D' },
		{ "no-dispatch", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_emit_options opts = { .size = sizeof(opts), .version = pc_program_version };
	struct target targets[MAX_TARGETS];
	struct pc_option_value given[MAX_OPTIONS];
	char option_names[MAX_OPTIONS][64];
	size_t n_given = 0;
	struct pc_registry_opts ro;
	struct pc_backend_set *set = NULL;
	struct pc_registry *reg = NULL;
	struct pc_diag *diag;
	struct pc_ir *ir = NULL;
	const char *template_path = NULL;
	char *template_text = NULL;
	size_t n_targets = 0, len = 0;
	unsigned flags = 0;
	bool check = false, no_optimize = false, want_plugins = false, many = false;
	int c, status = PC_EXIT_OK;

	memset(&ro, 0, sizeof(ro));
	memset(targets, 0, sizeof(targets));
	optind = 1;
	while ((c = getopt_long(argc, argv, "b:o:O:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'b':
		case 'o':
			/* -b starts a target; -o belongs to the last one */
			if (c == 'b' || n_targets == 0 || targets[n_targets - 1].output) {
				if (c == 'o' && n_targets > 0) {
					fputs("portcullis generate: each -o FILE needs its own -b BACKEND before it\n",
					      stderr);
					return PC_EXIT_USAGE;
				}
				if (n_targets == MAX_TARGETS) {
					fputs("portcullis generate: too many -b options\n", stderr);
					return PC_EXIT_USAGE;
				}
				targets[n_targets++].name = "nft";
			}
			if (c == 'b')
				targets[n_targets - 1].name = optarg;
			else
				targets[n_targets - 1].output = optarg;
			break;
		case 'c':
			check = true;
			break;
		case 'r':
			ro.registry = optarg;
			break;
		case 'L':
			if (!pc_cli_add_overlay(&ro, optarg, "generate"))
				return PC_EXIT_USAGE;
			break;
		case 'O':
		case 'p': {
			const char *eq = strchr(optarg, '=');

			if (n_given == MAX_OPTIONS) {
				fputs("portcullis generate: too many -O options\n", stderr);
				return PC_EXIT_USAGE;
			}
			if (c == 'O' && (!eq || eq == optarg ||
					 (size_t)(eq - optarg) >= sizeof(option_names[0]))) {
				fprintf(stderr, "portcullis generate: -O takes NAME=VALUE, not '%s'\n", optarg);
				return PC_EXIT_USAGE;
			}
			/* --pf-dialect NAME is the older spelling of -O pf-dialect=NAME */
			snprintf(option_names[n_given], sizeof(option_names[0]), "%.*s",
				 c == 'O' ? (int)(eq - optarg) : 10, c == 'O' ? optarg : "pf-dialect");
			given[n_given].name = option_names[n_given];
			given[n_given].value = c == 'O' ? eq + 1 : optarg;
			n_given++;
			break;
		}
		case 't':
			template_path = optarg;
			break;
		case 'n':
			flags |= PC_POLICY_NO_LINT;
			break;
		case 'N':
			no_optimize = true;
			break;
		case 'D': /* --dispatch */
		case 'X': /* --no-dispatch */
			pc_cli_dispatch = c == 'D';
			break;
		case 'h':
			generate_usage(stdout);
			return PC_EXIT_OK;
		default:
			generate_usage(stderr);
			return PC_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		generate_usage(stderr);
		return PC_EXIT_USAGE;
	}
	if (n_targets == 0)
		targets[n_targets++].name = "nft";
	for (size_t i = 0; i < n_targets; i++)
		if (targets[i].output && strstr(targets[i].output, "%n"))
			many = true;
	if (optind + 1 < argc || many) {
		for (size_t i = 0; i < n_targets; i++) {
			if (targets[i].output && strstr(targets[i].output, "%n"))
				continue;
			fprintf(stderr, "portcullis generate: with several policies (or %%n), "
				"every -b BACKEND needs -o FILE with %%n in it (the policy's "
				"name), -b %s has %s\n", targets[i].name,
				targets[i].output ? targets[i].output : "none");
			return PC_EXIT_USAGE;
		}
		many = true;
	}
	for (size_t i = 0; i < n_targets; i++) {
		if (!targets[i].output && (check || n_targets > 1)) {
			fprintf(stderr, "portcullis generate: %s needs -o FILE after -b %s\n",
				check ? "--check" : "each of several backends", targets[i].name);
			return PC_EXIT_USAGE;
		}
	}
	if (template_path && n_targets > 1) {
		fputs("portcullis generate: --template goes with a single -b BACKEND\n", stderr);
		return PC_EXIT_USAGE;
	}
	/* A plugin is code run as this user: load them only when one is asked for. */
	for (size_t i = 0; i < n_targets; i++)
		if (!pc_backend_is_builtin(targets[i].name))
			want_plugins = true;
	diag = pc_diag_create();
	set = pc_backend_set_create(diag, PC_SEV_WARNING, want_plugins);
	for (size_t i = 0; i < n_targets; i++) {
		targets[i].backend = pc_backend_set_find(set, targets[i].name);
		if (targets[i].backend)
			continue;
		pc_diag_print(diag, stderr, pc_cli_color());
		fprintf(stderr, "portcullis generate: unknown backend '%s'; known:", targets[i].name);
		for (size_t k = 0; k < pc_backend_set_count(set); k++)
			fprintf(stderr, " %s", pc_backend_set_get(set, k, NULL)->name);
		fputs(" (see `portcullis backends`)\n", stderr);
		status = PC_EXIT_USAGE;
		goto out;
	}
	if (!assign_options(targets, n_targets, given, n_given)) {
		status = PC_EXIT_USAGE;
		goto out;
	}
	if (template_path) {
		const char *name;

		template_text = pc_read_file(template_path, &len);
		if (!template_text) {
			pc_diag_error(diag, NULL, "cannot read template %s: %s",
				      template_path, strerror(errno));
			status = PC_EXIT_SYSTEM;
			goto out;
		}
		name = pc_diag_add_source(diag, template_path, template_text, len);
		if (pc_template_check(template_text, name, diag) != 0) {
			status = PC_EXIT_POLICY;
			goto out;
		}
		opts.template_text = template_text;
	}
	if (many) {
		status = generate_many(targets, n_targets, &argv[optind], (size_t)(argc - optind),
				       &ro, flags, &opts, no_optimize, check, diag);
		goto out;
	}
	ir = pc_cli_load("generate", argv[optind], &ro, flags, diag, &reg, &status);
#ifdef __GLIBC__
	/*
	 * The syntax tree and the lint's memory are free now, but glibc keeps
	 * freed heap pages (the tree's chunks lie between the IR's): given
	 * back, the peak is the larger of loading and writing, not their sum
	 * (100,000 Capirca terms: 204 -> 165 MB, issue 15).
	 */
	malloc_trim(0);
#endif
	if (!ir)
		goto out;
	opts.policy_path = argv[optind];
	opts.registry_name = ir->registry_name;
	opts.registry_date = ir->registry_date;
	if (targets[0].output && !check) {
		status = stream_outputs(targets, n_targets, ir, &opts, no_optimize, diag);
		pc_cli_phase("generate", "write");
		goto out;
	}
	/* every output is made before any is written: all or nothing */
	render_targets(targets, n_targets, ir, &opts, no_optimize, diag, &status);
	pc_cli_phase("generate", "render");
	if (status != PC_EXIT_OK)
		goto out;
	pc_diag_print(diag, stderr, pc_cli_color());
	if (!targets[0].output)
		status = write_stdout(targets[0].text, targets[0].len);
	else
		status = write_outputs(targets, n_targets, check, false);
	pc_cli_phase("generate", "write");
out:
	pc_diag_print(diag, stderr, pc_cli_color());
	for (size_t i = 0; i < n_targets; i++)
		free(targets[i].text);
	free(template_text);
	pc_ir_destroy(ir);
	pc_registry_destroy(reg);
	/* after the IR and outputs: a plugin's code goes away here */
	pc_backend_set_destroy(set);
	pc_diag_destroy(diag);
	return status;
}
