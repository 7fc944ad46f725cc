/* SPDX-License-Identifier: MIT */
/*
 * portcullis apply / confirm: program the policy's table over netlink in
 * one transaction, optionally rolled back unless confirmed.
 *
 * The rollback of `apply --confirm N` is owned by a watchdog process,
 * detached from the terminal (own session, SIGHUP ignored) and holding the
 * saved state as a ready-made netlink batch: it rolls back when N seconds
 * pass without `portcullis confirm` (or a "y" at the prompt), whatever
 * happens to the terminal or to the applying process. While it lives it
 * holds an flock on RUNDIR/lock, which is how a second apply knows to
 * refuse. RUNDIR is /run/portcullis, or $PORTCULLIS_RUNDIR.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy/ast.h"
#include "backends/netlink/netlink.h"
#include "backends/nft/nft_lower.h"
#include "cli/cli.h"
#include "ir/eval.h"
#include "cli/lockout.h"
#include "ir/optimize.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "policy/resolve.h"
#include "common/util.h"

static void apply_usage(FILE *out)
{
	fputs("usage: portcullis apply [--dry-run] [--confirm SECONDS] [--force]\n"
	      "                        [--no-optimize] [--registry FILE] [--overlay FILE]\n"
	      "                        POLICY\n"
	      "\n"
	      "Programs the policy's nftables table (`table inet NAME`) over netlink in\n"
	      "one transaction: the table is replaced as a whole, no other table is\n"
	      "touched, and on any error nothing changes. The kernel state is the same\n"
	      "as after `nft -f` of `portcullis generate -b nft POLICY`.\n"
	      "\n"
	      "  --dry-run          the kernel validates the whole transaction; nothing\n"
	      "                     is committed\n"
	      "  --confirm SECONDS  roll back to the previous state (or to no table)\n"
	      "                     exactly, whatever the table held, unless\n"
	      "                     confirmed within SECONDS: at the prompt on a\n"
	      "                     terminal, or with `portcullis confirm` from another\n"
	      "                     shell; the rollback also happens when the terminal or\n"
	      "                     this process goes away\n"
	      "  --force            apply even when the policy would block the SSH\n"
	      "                     connection this runs over, or when that connection\n"
	      "                     cannot be identified and the policy would block new\n"
	      "                     connections to sshd's port from some address (the\n"
	      "                     latter is also allowed with --confirm), or when a\n"
	      "                     table of that name exists that portcullis did not\n"
	      "                     create (no comment \"" PC_NL_OWNER_COMMENT "\")\n"
	      "  --no-optimize      one kernel rule per policy line, no verdict maps (as\n"
	      "                     `generate --no-optimize`); by default runs of plain\n"
	      "                     rules become verdict maps, as `generate` makes them\n"
	      "  --registry FILE    IANA CSV or /etc/services file instead of the shipped one\n"
	      "  --overlay FILE     site names that take precedence (repeatable)\n"
	      "\n"
	      "Environment: PORTCULLIS_RUNDIR (default /run/portcullis) holds the state\n"
	      "of a pending --confirm.\n"
	      "\n"
	      "Exit status: 0 applied (and confirmed); 1 policy errors, the lockout\n"
	      "guard refused, the table is another tool's, or the apply was not\n"
	      "confirmed and was rolled back; 2 usage; 3 system error (permission, netlink, the kernel refused the\n"
	      "ruleset, another apply awaits confirmation).\n",
	      out);
}

static void confirm_usage(FILE *out)
{
	fputs("usage: portcullis confirm\n"
	      "\n"
	      "Keeps the ruleset a pending `portcullis apply --confirm SECONDS` installed,\n"
	      "so that it is not rolled back.\n"
	      "\n"
	      "Environment: PORTCULLIS_RUNDIR (default /run/portcullis).\n"
	      "\n"
	      "Exit status: 0 confirmed; 1 nothing awaits confirmation (never applied,\n"
	      "already confirmed, or already rolled back); 2 usage; 3 system error.\n",
	      out);
}

static const char *rundir(void)
{
	const char *d = getenv("PORTCULLIS_RUNDIR");

	return d && *d ? d : "/run/portcullis";
}

/*
 * Deadlines (the watchdog's, the prompt's) are kept on CLOCK_MONOTONIC: a
 * step of the wall clock (NTP, `date -s`) must neither roll back at once
 * nor leave a ruleset unconfirmed for hours. The clock is the same for
 * every process of one boot, so RUNDIR/pending carries the watchdog's
 * deadline in its seconds.
 */
static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Opens RUNDIR/lock (creating RUNDIR when @create). -1 with errno on failure. */
static int lock_open(bool create)
{
	char *path;
	int fd;

	if (create && mkdir(rundir(), 0700) < 0 && errno != EEXIST)
		return -1;
	path = xasprintf("%s/lock", rundir());
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	return fd;
}

/* Describes the pending apply (from RUNDIR/pending) on stderr. */
static void pending_describe(const char *prog)
{
	char *path = xasprintf("%s/pending", rundir());
	char *text = pc_read_file(path, NULL);
	long pid = 0, deadline = 0;
	char table[PC_NFT_NAME_MAX + 1] = "";

	if (text)
		sscanf(text, "pid %ld deadline %ld table %255s", &pid, &deadline, table);
	fprintf(stderr,
		"%s: another `portcullis apply --confirm` awaits confirmation (table inet %s, "
		"watchdog pid %ld, rolls back in %lds); run `portcullis confirm` or wait for "
		"the rollback before applying again\n",
		prog, *table ? table : "?", pid,
		deadline ? deadline - (long)(monotonic_ms() / 1000) : 0L);
	free(text);
	free(path);
}

static void phase(const char *what)
{
	pc_cli_phase("apply", what);
}

/*
 * Loads the policy and lowers it; on failure prints and sets *status.
 * One thread: the registry (the compiled-in snapshot, well under a
 * millisecond) used to be read on a second thread while the policy was
 * parsed, but on the 2-vCPU VMs measured, starting that thread took 1-10
 * ms, longer than the work it took over.
 */
static struct pc_ir *load_policy(const char *path, const struct pc_registry_opts *ro,
				 bool optimize, struct pc_diag *diag,
				 struct pc_registry **reg, struct pc_ir **view,
				 struct pc_nft_plan **plan, int *status)
{
	struct pc_arena *arena;
	struct pc_ast *ast;
	struct pc_ir *ir;
	bool sys_error = false;
	int reg_status = PC_EXIT_OK;

	*plan = NULL;
	*reg = NULL;
	*view = NULL;
	phase(NULL);
	*reg = pc_cli_open_registry(ro, diag, &reg_status);
	phase("registry load");
	if (!*reg) {
		*status = reg_status;
		return NULL;
	}
	arena = pc_arena_create();
	ast = pc_ast_parse_file(path, arena, diag, &sys_error);
	phase("policy parse");
	if (!ast) {
		*status = sys_error ? PC_EXIT_SYSTEM : PC_EXIT_POLICY;
		pc_arena_destroy(arena);
		return NULL;
	}
	/* as pc_policy_load(): resolve even after syntax errors, to report all */
	ir = pc_resolve(ast, arena, *reg, false, diag);
	pc_ast_destroy(ast);
	phase("resolve");
	if (!ir) {
		*status = PC_EXIT_POLICY;
		return NULL;
	}
	/* the same view as `generate` gives the nft backend: the same maps */
	if (optimize) {
		*view = xzalloc(sizeof(**view));
		pc_ir_optimize_view(ir, *view, NULL);
		phase("optimise");
	}
	*plan = pc_nft_plan_create(*view ? *view : ir, diag);
	phase("lower to the nft plan");
	if (!*plan) {
		*status = PC_EXIT_POLICY;
		pc_cli_view_destroy(*view);
		*view = NULL;
		pc_ir_destroy(ir);
		return NULL;
	}
	return ir;
}

void pc_cli_view_destroy(struct pc_ir *view)
{
	if (!view)
		return;
	pc_ir_view_finish(view);
	free(view);
}

int pc_cli_load_plan(const char *path, const struct pc_registry_opts *ro,
		     bool optimize, struct pc_diag *diag, struct pc_ir **ir,
		     struct pc_ir **view, struct pc_registry **reg,
		     struct pc_nft_plan **plan)
{
	int status = PC_EXIT_OK;

	*ir = load_policy(path, ro, optimize, diag, reg, view, plan, &status);
	if (*ir)
		return PC_EXIT_OK;
	pc_registry_destroy(*reg);
	*reg = NULL;
	return status;
}

/* Netlink errno -> message and exit status. */
int pc_cli_netlink_error(const char *prog, const char *what, int err)
{
	if (err == -EPERM || err == -EACCES)
		fprintf(stderr,
			"%s: permission denied: %s needs root or CAP_NET_ADMIN\n",
			prog, what);
	else if (err == -EPROTONOSUPPORT || err == -EAFNOSUPPORT)
		fprintf(stderr, "%s: %s: the kernel has no nf_tables (%s)\n", prog,
			what, strerror(-err));
	else
		fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-err));
	return PC_EXIT_SYSTEM;
}

/*
 * A table of the policy's name that portcullis did not create (no
 * ownership comment: Debian's stock `table inet filter`, firewalld's
 * table) is another tool's: replacing it is refused unless --force.
 * (Checked before the transaction: a table created in between is
 * replaced, as `nft -f` would.)
 */
static int owner_check(const char *table, bool force)
{
	enum pc_nl_owner owner;
	int ret = pc_nl_table_owner(table, &owner);

	if (ret < 0)
		return pc_cli_netlink_error("portcullis apply", "reading the current table", ret);
	if (owner != PC_NL_TABLE_FOREIGN)
		return PC_EXIT_OK;
	fprintf(stderr, "portcullis apply: %s table inet %s: it was not created by "
		"portcullis (it lacks the comment \"%s\"), another tool may own it%s\n",
		force ? "warning: replacing" : "refusing to replace", table,
		PC_NL_OWNER_COMMENT, force ? " (--force)" : "; --force replaces it");
	return force ? PC_EXIT_OK : PC_EXIT_POLICY;
}

/* The watchdog of --confirm. */

enum { WD_CONFIRMED = 'C', WD_ROLLED_BACK = 'R', WD_ROLLBACK_FAILED = 'F' };

static void write_result(char what, const char *table)
{
	char *path = xasprintf("%s/result", rundir());
	char *text = xasprintf("%s table inet %s at %ld\n",
			       what == WD_CONFIRMED ? "confirmed" :
			       what == WD_ROLLED_BACK ? "rolled-back" : "rollback-failed",
			       table, (long)time(NULL));

	pc_write_file_atomic(path, text, strlen(text));
	free(text);
	free(path);
}

/* Everything `apply` holds, so that forked children can free it too. */
struct apply_state {
	struct pc_registry *reg;
	struct pc_diag *diag;
	struct pc_ir *ir;
	struct pc_ir *view;   /* the optimised view the plan comes from, or NULL */
	struct pc_nft_plan *plan;
	struct pc_nl_batch *batch;
};

static void apply_state_free(struct apply_state *st)
{
	pc_nl_batch_destroy(st->batch);
	pc_nft_plan_destroy(st->plan);
	pc_cli_view_destroy(st->view);
	pc_ir_destroy(st->ir);
	pc_registry_destroy(st->reg);
	pc_diag_destroy(st->diag);
	memset(st, 0, sizeof(*st));
}

/*
 * The watchdog: waits for the applying process to say whether the apply
 * went through ('A'; end of file, the process died: assume it did), then
 * for SIGUSR1 (confirm) until the deadline; anything else rolls back.
 */
static _Noreturn void watchdog_run(struct pc_nl_objs *saved, char *table,
				   unsigned seconds, int ready_fd, int status_fd,
				   int result_fd)
{
	char *pending = xasprintf("%s/pending", rundir());
	char *text;
	sigset_t set;
	int64_t deadline;
	char what = WD_ROLLED_BACK, st = 0;
	int devnull = open("/dev/null", O_RDWR);
	ssize_t n;

	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	if (write(ready_fd, "1", 1) != 1)
		goto out;
	close(ready_fd);
	do
		n = read(status_fd, &st, 1);
	while (n < 0 && errno == EINTR);
	close(status_fd);
	if (n == 1 && st != 'A') {
		/* The apply failed: the kernel changed nothing, nothing to undo. */
		what = 0;
		goto out;
	}
	deadline = monotonic_ms() + (int64_t)seconds * 1000;
	text = xasprintf("pid %ld deadline %ld table %s\n", (long)getpid(),
			 (long)(deadline / 1000), table);
	pc_write_file_atomic(pending, text, strlen(text));
	free(text);

	for (;;) {
		struct timespec ts;
		int64_t left = deadline - monotonic_ms();
		int sig;

		if (left <= 0)
			break;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGUSR2);
		sigaddset(&set, SIGTERM);
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGUSR1) {
			what = WD_CONFIRMED;
			break;
		}
		if (sig == SIGUSR2 || sig == SIGTERM)
			break;
	}
	if (what == WD_ROLLED_BACK) {
		/*
		 * Built now, not at the apply: the saved elements' remaining
		 * expiry is aged by the time that passed.
		 */
		struct pc_nl_batch *rollback = pc_nl_batch_create(table, saved, true);
		struct pc_diag *d = pc_diag_create();

		if (pc_nl_batch_send(rollback, d) != 0)
			what = WD_ROLLBACK_FAILED;
		pc_diag_destroy(d);
		pc_nl_batch_destroy(rollback);
	}
	write_result(what, table);
	unlink(pending);
out:
	if (what && result_fd >= 0 && write(result_fd, &what, 1) != 1)
		what = 0;
	free(pending);
	free(table);
	pc_nl_objs_destroy(saved);
	_exit(0);
}

/*
 * Starts the watchdog (a grandchild in a session of its own, holding the
 * lock) with the saved state. Returns its pid; *status_fd is where the
 * caller writes 'A' (applied) or 'F' (failed), *result_fd where the
 * watchdog writes its outcome. On failure returns -1.
 */
static pid_t watchdog_start(struct apply_state *st, struct pc_nl_objs *saved,
			    const char *table, unsigned seconds, int *status_fd,
			    int *result_fd)
{
	int ready[2], status[2], result[2], pidp[2];
	pid_t child, wd = -1;
	sigset_t set, old;
	char c;

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0 ||
	    pipe2(result, O_CLOEXEC) < 0 || pipe2(pidp, O_CLOEXEC) < 0)
		return -1;
	/* Blocked before the fork: no window in which a signal kills it. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	child = fork();
	if (child == 0) {
		char *tname = xstrdup(table);
		pid_t gc;

		close(ready[0]);
		close(status[1]);
		close(result[0]);
		close(pidp[0]);
		apply_state_free(st);
		setsid();
		signal(SIGHUP, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		gc = fork();
		if (gc == 0) {
			close(pidp[1]);
			watchdog_run(saved, tname, seconds, ready[1], status[0],
				     result[1]);
		}
		free(tname);
		pc_nl_objs_destroy(saved);
		if (write(pidp[1], &gc, sizeof(gc)) != sizeof(gc))
			_exit(1);
		_exit(gc > 0 ? 0 : 1);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(ready[1]);
	close(status[0]);
	close(result[1]);
	close(pidp[1]);
	if (child > 0) {
		waitpid(child, NULL, 0);
		if (read(pidp[0], &wd, sizeof(wd)) != sizeof(wd))
			wd = -1;
	}
	close(pidp[0]);
	if (wd > 0 && read(ready[0], &c, 1) != 1)
		wd = -1;
	close(ready[0]);
	if (wd <= 0) {
		close(status[1]);
		close(result[0]);
		return -1;
	}
	*status_fd = status[1];
	*result_fd = result[0];
	return wd;
}

/* Waits for the watchdog's outcome (EOF without one: it died). */
static char watchdog_wait(int result_fd)
{
	char what = 0;

	for (;;) {
		ssize_t n = read(result_fd, &what, 1);

		if (n == 1)
			return what;
		if (n < 0 && errno == EINTR)
			continue;
		return 0;
	}
}

/* On a terminal: asks; true for yes. False on no, EOF or the deadline. */
static bool prompt_yes(unsigned seconds)
{
	int64_t deadline = monotonic_ms() + (int64_t)seconds * 1000;
	char line[64];

	fprintf(stderr, "Keep this ruleset? Type 'yes' within %u seconds, or it is rolled back: ",
		seconds);
	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int64_t left = deadline - monotonic_ms();
		ssize_t n;
		int r;

		if (left <= 0)
			break;
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = read(STDIN_FILENO, line, sizeof(line) - 1);
		if (n <= 0)
			break;
		line[n] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "yes") == 0 || strcmp(line, "y") == 0)
			return true;
		if (strcmp(line, "no") == 0 || strcmp(line, "n") == 0)
			break;
		fputs("Type 'yes' or 'no': ", stderr);
	}
	fputc('\n', stderr);
	return false;
}

static int apply_confirmed(struct apply_state *st, unsigned seconds, int lock_fd)
{
	struct pc_nl_objs *saved = NULL;
	struct pc_nl_batch *rollback;
	const char *table = st->plan->table;
	int status_fd = -1, result_fd = -1, ret;
	pid_t wd;
	char what;

	ret = pc_nl_objs_read(table, &saved);
	if (ret < 0) {
		close(lock_fd);
		return pc_cli_netlink_error("portcullis apply", "reading the current table", ret);
	}
	/*
	 * The kernel validates the rollback before anything changes: what it
	 * would refuse to rebuild (an object kind read back incompletely)
	 * cannot be rolled back to, and then nothing is applied. (A table a
	 * process owns is left to the apply, which the kernel refuses.)
	 */
	ret = 0;
	if (!pc_nl_objs_process_owned(saved)) {
		rollback = pc_nl_batch_create(table, saved, false);
		ret = pc_nl_batch_send(rollback, st->diag);
		pc_nl_batch_destroy(rollback);
	}
	if (ret != 0) {
		close(lock_fd);
		pc_nl_objs_destroy(saved);
		if (ret < 0)
			return pc_cli_netlink_error("portcullis apply",
						    "validating the rollback", ret);
		pc_diag_print(st->diag, stderr, pc_cli_color());
		fprintf(stderr, "portcullis apply: refusing --confirm: table inet %s cannot be "
			"restored exactly as it is (above: what the kernel would not take "
			"back); nothing changed\n", table);
		return PC_EXIT_POLICY;
	}
	wd = watchdog_start(st, saved, table, seconds, &status_fd, &result_fd);
	pc_nl_objs_destroy(saved);
	close(lock_fd);   /* the watchdog holds the lock from here on */
	if (wd < 0) {
		fprintf(stderr, "portcullis apply: cannot start the rollback watchdog: %s\n",
			strerror(errno));
		return PC_EXIT_SYSTEM;
	}
	ret = pc_nl_batch_send(st->batch, st->diag);
	if (write(status_fd, ret == 0 ? "A" : "F", 1) != 1)
		ret = ret ? ret : -EPIPE;
	close(status_fd);
	if (ret != 0) {
		/* Nothing changed: the watchdog has nothing to undo and exits. */
		close(result_fd);
		if (ret < 0)
			return pc_cli_netlink_error("portcullis apply", "applying", ret);
		pc_diag_print(st->diag, stderr, pc_cli_color());
		fprintf(stderr, "portcullis apply: the kernel refused the ruleset; nothing changed\n");
		return PC_EXIT_SYSTEM;
	}
	fprintf(stderr, "portcullis apply: applied table inet %s; it is rolled back in %u "
		"seconds unless confirmed (`portcullis confirm`)\n", table, seconds);
	if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO))
		kill(wd, prompt_yes(seconds) ? SIGUSR1 : SIGUSR2);
	what = watchdog_wait(result_fd);
	close(result_fd);
	switch (what) {
	case WD_CONFIRMED:
		fprintf(stderr, "portcullis apply: confirmed: table inet %s stays\n", table);
		return PC_EXIT_OK;
	case WD_ROLLED_BACK:
		fprintf(stderr, "portcullis apply: not confirmed: rolled back table inet %s "
			"to its previous state\n", table);
		return PC_EXIT_POLICY;
	case WD_ROLLBACK_FAILED:
		fprintf(stderr, "portcullis apply: not confirmed, and the rollback of table "
			"inet %s FAILED: check the ruleset\n", table);
		return PC_EXIT_SYSTEM;
	}
	fprintf(stderr, "portcullis apply: the rollback watchdog went away\n");
	return PC_EXIT_SYSTEM;
}

int cmd_apply(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "confirm", required_argument, NULL, 'c' },
		{ "force", no_argument, NULL, 'f' },
		{ "no-optimize", no_argument, NULL, 'N' },
		{ "registry", required_argument, NULL, 'r' },
		{ "overlay", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_registry_opts ro;
	struct apply_state st = { 0 };
	bool dry_run = false, force = false, optimize = true;
	long confirm = 0;
	int c, status = PC_EXIT_OK, lock_fd = -1, ret;

	memset(&ro, 0, sizeof(ro));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry_run = true;
			break;
		case 'c': {
			char *end;

			errno = 0;
			confirm = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || confirm < 1 || confirm > 86400) {
				fprintf(stderr, "portcullis apply: --confirm takes 1 to 86400 seconds, not '%s'\n",
					optarg);
				return PC_EXIT_USAGE;
			}
			break;
		}
		case 'f':
			force = true;
			break;
		case 'N':
			optimize = false;
			break;
		case 'r':
			ro.registry = optarg;
			break;
		case 'O':
			if (!pc_cli_add_overlay(&ro, optarg, "apply"))
				return PC_EXIT_USAGE;
			break;
		case 'h':
			apply_usage(stdout);
			return PC_EXIT_OK;
		default:
			apply_usage(stderr);
			return PC_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		apply_usage(stderr);
		return PC_EXIT_USAGE;
	}
	if (dry_run && confirm) {
		fputs("portcullis apply: --dry-run and --confirm exclude each other\n", stderr);
		return PC_EXIT_USAGE;
	}
	st.diag = pc_diag_create();
	status = pc_cli_load_plan(argv[optind], &ro, optimize, st.diag, &st.ir, &st.view,
				  &st.reg, &st.plan);
	if (status != PC_EXIT_OK)
		goto out;
	pc_diag_print(st.diag, stderr, pc_cli_color());
	phase(NULL);
	if (pc_lockout_check(st.ir, force || dry_run, confirm > 0) != 0) {
		status = PC_EXIT_POLICY;
		goto out;
	}
	phase("lockout guard");
	if (!dry_run) {
		lock_fd = lock_open(confirm > 0);
		if (lock_fd < 0 && confirm) {
			fprintf(stderr, "portcullis apply: cannot use %s: %s\n", rundir(),
				strerror(errno));
			status = PC_EXIT_SYSTEM;
			goto out;
		}
		if (lock_fd >= 0 && flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
			pending_describe("portcullis apply");
			status = PC_EXIT_SYSTEM;
			goto out;
		}
	}
	status = owner_check(st.plan->table, force);
	if (status != PC_EXIT_OK)
		goto out;
	phase(NULL);
	st.batch = pc_nl_batch_from_plan(st.plan, !dry_run);
	phase("build the netlink batch");
	if (confirm) {
		status = apply_confirmed(&st, (unsigned)confirm, lock_fd);
		lock_fd = -1;
		goto out;
	}
	ret = pc_nl_batch_send(st.batch, st.diag);
	phase("kernel transaction (send)");
	if (ret < 0) {
		status = pc_cli_netlink_error("portcullis apply",
					      dry_run ? "validating" : "applying", ret);
		goto out;
	}
	if (ret > 0) {
		pc_diag_print(st.diag, stderr, pc_cli_color());
		fprintf(stderr, "portcullis apply: the kernel refused the ruleset; nothing changed\n");
		status = PC_EXIT_SYSTEM;
		goto out;
	}
	if (dry_run)
		fprintf(stderr, "portcullis apply: dry run: the kernel accepts table inet %s "
			"(%zu rules); nothing was changed\n", st.plan->table,
			pc_nft_plan_rule_count(st.plan));
	else
		fprintf(stderr, "portcullis apply: applied table inet %s (%zu rules)\n",
			st.plan->table, pc_nft_plan_rule_count(st.plan));
out:
	if (lock_fd >= 0)
		close(lock_fd);
	if (st.diag)
		pc_diag_print(st.diag, stderr, pc_cli_color());
	phase(NULL);
	apply_state_free(&st);
	phase("free");
	return status;
}

int cmd_confirm(int argc, char **argv)
{
	char *pending = NULL, *text = NULL, *result_path = NULL, *result = NULL;
	long pid = 0, deadline = 0;
	char table[PC_NFT_NAME_MAX + 1] = "";
	int fd, status = PC_EXIT_POLICY;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		confirm_usage(stdout);
		return PC_EXIT_OK;
	}
	if (argc != 1) {
		confirm_usage(stderr);
		return PC_EXIT_USAGE;
	}
	fd = lock_open(false);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0) {
		/* Nobody holds the lock: no watchdog is alive. */
		fprintf(stderr, "portcullis confirm: no apply awaits confirmation\n");
		goto out;
	}
	pending = xasprintf("%s/pending", rundir());
	text = pc_read_file(pending, NULL);
	if (!text || sscanf(text, "pid %ld deadline %ld table %255s", &pid, &deadline,
			    table) != 3 || pid <= 1) {
		fprintf(stderr, "portcullis confirm: no apply awaits confirmation\n");
		goto out;
	}
	if (kill((pid_t)pid, SIGUSR1) < 0) {
		fprintf(stderr, "portcullis confirm: cannot signal the watchdog (pid %ld): %s\n",
			pid, strerror(errno));
		status = PC_EXIT_SYSTEM;
		goto out;
	}
	/* The watchdog lets go of the lock when it is done. */
	if (flock(fd, LOCK_EX) < 0) {
		status = PC_EXIT_SYSTEM;
		goto out;
	}
	result_path = xasprintf("%s/result", rundir());
	result = pc_read_file(result_path, NULL);
	if (result && strncmp(result, "confirmed ", 10) == 0) {
		fprintf(stderr, "portcullis confirm: confirmed: table inet %s stays\n", table);
		status = PC_EXIT_OK;
	} else {
		fprintf(stderr, "portcullis confirm: too late: table inet %s was already rolled back\n",
			table);
	}
out:
	if (fd >= 0)
		close(fd);
	free(result);
	free(result_path);
	free(text);
	free(pending);
	return status;
}
