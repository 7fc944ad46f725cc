/* SPDX-License-Identifier: MIT */
/*
 * The confirm watchdog of `apply --confirm N` and `portcullis confirm`: a
 * detached process that rolls back unless confirmed in time.
 */
#include "cli/apply_internal.h"

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



void apply_state_free(struct apply_state *st)
{
	pc_nl_batch_destroy(st->batch);
	pc_nl_objs_destroy(st->live);
	pc_nft_plan_destroy(st->plan);
	pc_ir_destroy(st->view);
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

int apply_confirmed(struct apply_state *st, unsigned seconds, int lock_fd)
{
	struct pc_nl_objs *saved = NULL;
	struct pc_nl_batch *rollback;
	const char *table = st->plan->table;
	int status_fd = -1, result_fd = -1, ret;
	pid_t wd;
	char what;

	/* what the batch was built against: the rollback restores it */
	saved = st->live;
	st->live = NULL;
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
		if (ret == -ERESTART) {
			fprintf(stderr, "portcullis apply: the ruleset changed while this apply "
				"read it; nothing changed: apply again\n");
			return PC_EXIT_SYSTEM;
		}
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
		pc_state_save_report("portcullis apply", st->state_dir, st->policy, st->plan);
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
