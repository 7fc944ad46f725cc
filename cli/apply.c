/* SPDX-License-Identifier: MIT */
/* portcullis apply: the policy's table over netlink in one transaction (design: apply_internal.h). */
#include "cli/apply_internal.h"

static void apply_usage(FILE *out)
{
	fputs("usage: portcullis apply [--dry-run] [--confirm SECONDS] [--force]\n"
	      "                        [--no-optimize] [--no-dispatch] [--registry FILE] [--overlay FILE]\n"
	      "                        [--state-dir DIR] POLICY\n"
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
	      "  --no-dispatch      no jump on protocol and port to class chains (as\n"
	      "                     `generate --no-dispatch`); by default a stretch of\n"
	      "                     rules over tcp/udp/sctp/dccp becomes one where it\n"
	      "                     shortens the packet path (--dispatch, accepted)\n"
	      "  --no-optimize      one kernel rule per policy line, no verdict maps (as\n"
	      "                     `generate --no-optimize`); by default runs of plain\n"
	      "                     rules become verdict maps, as `generate` makes them\n"
	      "  --registry FILE    IANA CSV or /etc/services file instead of the shipped one\n"
	      "  --overlay FILE     site names that take precedence (repeatable)\n"
	      "  --state-dir DIR    where the last-known-good ruleset is saved (default\n"
	      "                     $PORTCULLIS_STATE_DIR, else " PC_STATE_DIR_DEFAULT ")\n"
	      "\n"
	      "Every apply that changes the kernel (confirmed, with --confirm) saves what\n"
	      "it applied as DIR/last-good.nft, for `portcullis boot`.\n"
	      "Environment: PORTCULLIS_RUNDIR (default /run/portcullis) holds the state\n"
	      "of a pending --confirm.\n"
	      "\n"
	      "Exit status: 0 applied (and confirmed); 1 policy errors, the lockout\n"
	      "guard refused, the table is another tool's, or the apply was not\n"
	      "confirmed and was rolled back; 2 usage; 3 system error (permission, netlink, the kernel refused the\n"
	      "ruleset, another apply awaits confirmation).\n",
	      out);
}


const char *rundir(void)
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
int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Opens RUNDIR/lock (creating RUNDIR when @create). -1 with errno on failure. */
int lock_open(bool create)
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
static int owner_check(const char *table, const struct pc_nl_objs *live, bool force)
{
	enum pc_nl_owner owner = pc_nl_objs_owner(live);

	if (owner != PC_NL_TABLE_FOREIGN)
		return PC_EXIT_OK;
	fprintf(stderr, "portcullis apply: %s table inet %s: it was not created by "
		"portcullis (it lacks the comment \"%s\"), another tool may own it%s\n",
		force ? "warning: replacing" : "refusing to replace", table,
		PC_NL_OWNER_COMMENT, force ? " (--force)" : "; --force replaces it");
	return force ? PC_EXIT_OK : PC_EXIT_POLICY;
}



int cmd_apply(int argc, char **argv)
{
	static const struct option lopts[] = {
		PC_CLI_PLAN_LOPTS,
		{ "dry-run", no_argument, NULL, 'n' },
		{ "confirm", required_argument, NULL, 'c' },
		{ "force", no_argument, NULL, 'f' },
		{ "no-optimize", no_argument, NULL, 'N' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_registry_opts ro;
	struct apply_state st = { 0 };
	struct pc_state_saver *saver = NULL;
	const char *state_dir = NULL;
	bool dry_run = false, force = false, optimize = true;
	long confirm = 0;
	int c, status = PC_EXIT_OK, lock_fd = -1, ret;

	memset(&ro, 0, sizeof(ro));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		int taken = pc_cli_plan_opt(c, optarg, &ro, "apply");

		if (taken < 0)
			return PC_EXIT_USAGE;
		if (taken)
			continue;
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
		case 'S':
			state_dir = optarg;
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
	st.policy = argv[optind];
	st.state_dir = pc_state_dir(state_dir);
	status = pc_cli_load_plan("apply", argv[optind], &ro, optimize, st.diag, &st.ir, &st.view,
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
	/*
	 * The table is read whole (issue 15): a re-apply sends only what
	 * differs from it, and --confirm rolls back to it. Should another
	 * process change the ruleset between the read and the send, the
	 * kernel refuses the batch and it is built again from a new read.
	 */
	for (int tries = 0;; tries++) {
		pc_nl_objs_destroy(st.live);
		st.live = NULL;
		pc_nl_batch_destroy(st.batch);
		st.batch = NULL;
		/* --confirm restores the table read: every element of it */
		ret = confirm ? pc_nl_objs_read(st.plan->table, &st.live) :
				pc_nl_objs_read_for(st.plan, &st.live);
		if (ret < 0) {
			status = pc_cli_netlink_error("portcullis apply",
						      "reading the current table", ret);
			goto out;
		}
		if (tries == 0) {
			status = owner_check(st.plan->table, st.live, force);
			if (status != PC_EXIT_OK)
				goto out;
		}
		phase("read the table");
		st.batch = pc_nl_batch_update(st.plan, st.live, !dry_run);
		phase("build the netlink batch");
		if (confirm) {
			status = apply_confirmed(&st, (unsigned)confirm, lock_fd);
			lock_fd = -1;
			goto out;
		}
		/* the last-good copy is written while the kernel works */
		if (!dry_run && !saver)
			saver = pc_state_save_start(st.state_dir, st.policy, st.plan);
		ret = pc_nl_batch_send(st.batch, st.diag);
		phase("kernel transaction (send)");
		if (ret != -ERESTART || tries == 4)
			break;
	}
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
	else {
		fprintf(stderr, "portcullis apply: applied table inet %s (%zu rules)\n",
			st.plan->table, pc_nft_plan_rule_count(st.plan));
		pc_state_save_finish_report("portcullis apply", st.state_dir, saver);
		saver = NULL;
		phase("save the last-good copy (the rest)");
	}
out:
	/* not applied: the copy is dropped */
	pc_state_save_finish(saver, false);
	if (lock_fd >= 0)
		close(lock_fd);
	if (st.diag)
		pc_diag_print(st.diag, stderr, pc_cli_color());
	phase(NULL);
	apply_state_free(&st);
	phase("free");
	return status;
}
