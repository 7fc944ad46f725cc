/* SPDX-License-Identifier: MIT */
/*
 * portcullis boot: what portcullis.service runs. It applies the machine's
 * policy; when the policy does not load, resolve or lower, or the kernel
 * refuses it, it puts back the last-known-good ruleset (cli/state.c) with
 * `nft -f`, and with none (or that refused too) a built-in lockdown. It
 * says why on stderr (the journal) and exits non-zero, so the unit shows
 * as failed while the machine stays behind a firewall.
 */
#include <spawn.h>

#include "cli/apply_internal.h"

#define BOOT_POLICY "/etc/portcullis/portcullis.policy"
#define LOCKDOWN_TABLE "portcullis_lockdown"

/*
 * The lockdown: deny in and forward; conntrack (established and related
 * traffic), loopback and the ICMP/ICMPv6 messages IP needs are built into
 * every policy. ssh/tcp resolves through the site overlay, so a site that
 * moved SSH keeps it.
 */
static const char lockdown_policy[] =
	"table " LOCKDOWN_TABLE "\n"
	"default in deny\n"
	"default forward deny\n"
	"default out allow\n"
	"allow in service ssh/tcp\n";

extern char **environ;

static void boot_usage(FILE *out)
{
	fputs("usage: portcullis boot [--state-dir DIR] [--no-optimize] [--no-dispatch]\n"
	      "                       [--registry FILE] [--overlay FILE] [POLICY]\n"
	      "\n"
	      "Applies POLICY (default " BOOT_POLICY ") as `apply --force`\n"
	      "does, for portcullis.service at boot and on reload. Never leaves the\n"
	      "machine without a firewall: when the policy fails to load or resolve,\n"
	      "or the kernel refuses it, it applies the last-known-good ruleset\n"
	      "(DIR/last-good.nft, saved by every successful apply, loaded with\n"
	      "`nft -f`); with none, or when that is refused too, the lockdown:\n"
	      "table inet " LOCKDOWN_TABLE ", which denies incoming and forwarded\n"
	      "traffic except established and related connections, loopback,\n"
	      "essential ICMP/ICMPv6 and SSH (ssh/tcp: 22, or the site overlay's).\n"
	      "A policy applied by boot removes the lockdown table.\n"
	      "\n"
	      "  --state-dir DIR  the last-known-good's directory (default\n"
	      "                   $PORTCULLIS_STATE_DIR, else " PC_STATE_DIR_DEFAULT ")\n"
	      "  --no-optimize    one kernel rule per policy line (as apply)\n"
	      "  --no-dispatch    no jump on protocol and port to class chains (as apply)\n"
	      "  --registry FILE  IANA CSV or /etc/services file instead of the shipped one\n"
	      "  --overlay FILE   site names that take precedence (repeatable)\n"
	      "\n"
	      "Exit status: 0 the policy is applied; otherwise the policy's failure\n"
	      "(1 policy errors, 3 the kernel refused it or a system error), after the\n"
	      "last-known-good or the lockdown was applied; 3 also when nothing could\n"
	      "be applied, or another apply awaits confirmation (nothing changed).\n",
	      out);
}

/* Sends @plan's transaction. 0, or the exit status after a message. */
static int send_plan(const struct pc_nft_plan *plan, struct pc_diag *diag)
{
	struct pc_nl_batch *batch = pc_nl_batch_from_plan(plan, true);
	int ret = pc_nl_batch_send(batch, diag);

	pc_nl_batch_destroy(batch);
	if (ret < 0)
		return pc_cli_netlink_error("portcullis boot", "applying", ret);
	if (ret > 0) {
		pc_diag_print(diag, stderr, pc_cli_color());
		fprintf(stderr, "portcullis boot: the kernel refused table inet %s\n", plan->table);
		return PC_EXIT_SYSTEM;
	}
	return PC_EXIT_OK;
}

/* A policy or the last-known-good is in place: the lockdown goes. */
static void lockdown_lift(void)
{
	struct pc_nl_batch *del = pc_nl_batch_create(LOCKDOWN_TABLE, NULL, true);
	struct pc_diag *diag = pc_diag_create();
	enum pc_nl_owner owner;

	if (pc_nl_table_owner(LOCKDOWN_TABLE, &owner) == 0 && owner != PC_NL_TABLE_NONE) {
		if (pc_nl_batch_send(del, diag) == 0)
			fprintf(stderr, "portcullis boot: removed the lockdown (table inet %s)\n",
				LOCKDOWN_TABLE);
		else
			fprintf(stderr, "portcullis boot: warning: cannot remove the lockdown "
				"(table inet %s)\n", LOCKDOWN_TABLE);
	}
	pc_diag_destroy(diag);
	pc_nl_batch_destroy(del);
}

static int apply_policy(const char *path, const struct pc_registry_opts *ro, bool optimize,
			const char *state_dir)
{
	struct pc_diag *diag = pc_diag_create();
	struct pc_registry *reg = NULL;
	struct pc_ir *ir = NULL, *view = NULL;
	struct pc_nft_plan *plan = NULL;
	int status;

	status = pc_cli_load_plan("boot", path, ro, optimize, diag, &ir, &view, &reg, &plan);
	pc_diag_print(diag, stderr, pc_cli_color());
	if (status == PC_EXIT_OK)
		status = send_plan(plan, diag);
	if (status == PC_EXIT_OK) {
		fprintf(stderr, "portcullis boot: applied table inet %s (%zu rules) from %s\n",
			plan->table, pc_nft_plan_rule_count(plan), path);
		pc_state_save_report("portcullis boot", state_dir, path, plan);
	}
	pc_nft_plan_destroy(plan);
	pc_ir_destroy(view);
	pc_ir_destroy(ir);
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	return status;
}

/* `nft -f FILE`: 0 when nft loaded it. */
static int nft_load(const char *file)
{
	char *args[] = { "nft", "-f", (char *)file, NULL };
	pid_t pid;
	int ws, err;

	err = posix_spawnp(&pid, "nft", NULL, NULL, args, environ);
	if (err) {
		fprintf(stderr, "portcullis boot: cannot run nft: %s\n", strerror(err));
		return -1;
	}
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -1;
}

static int apply_lockdown(const struct pc_registry_opts *ro)
{
	struct pc_registry_opts plain = { .no_default_overlay = true };
	struct pc_diag *diag = pc_diag_create();
	struct pc_registry *reg;
	struct pc_ir *ir = NULL;
	struct pc_nft_plan *plan = NULL;
	int status = PC_EXIT_SYSTEM;

	/* the site's names first (a moved SSH port); the shipped registry if they are broken */
	reg = pc_cli_open_registry(ro, diag, &status);
	if (!reg) {
		pc_diag_destroy(diag);
		diag = pc_diag_create();
		reg = pc_cli_open_registry(&plain, diag, &status);
	}
	if (reg)
		ir = pc_policy_load_buffer("portcullis-lockdown", lockdown_policy,
					   sizeof(lockdown_policy) - 1, reg, PC_POLICY_NO_LINT, diag);
	if (ir)
		plan = pc_nft_plan_create(ir, diag);
	if (plan)
		status = send_plan(plan, diag);
	else
		pc_diag_print(diag, stderr, pc_cli_color());
	if (plan && status == PC_EXIT_OK)
		fprintf(stderr, "portcullis boot: applied the lockdown (table inet %s): incoming "
			"and forwarded traffic denied except established and related "
			"connections, loopback, essential ICMP and SSH\n", LOCKDOWN_TABLE);
	pc_nft_plan_destroy(plan);
	pc_ir_destroy(ir);
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	return plan ? status : PC_EXIT_SYSTEM;
}

int cmd_boot(int argc, char **argv)
{
	static const struct option lopts[] = {
		PC_CLI_PLAN_LOPTS,
		{ "state-dir", required_argument, NULL, 'S' },
		{ "no-optimize", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_registry_opts ro;
	const char *policy = BOOT_POLICY, *state_dir = NULL;
	char *last_good;
	bool optimize = true;
	int c, status, lock_fd;

	memset(&ro, 0, sizeof(ro));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		int taken = pc_cli_plan_opt(c, optarg, &ro, "boot");

		if (taken < 0)
			return PC_EXIT_USAGE;
		if (taken)
			continue;
		switch (c) {
		case 'S':
			state_dir = optarg;
			break;
		case 'N':
			optimize = false;
			break;
		case 'h':
			boot_usage(stdout);
			return PC_EXIT_OK;
		default:
			boot_usage(stderr);
			return PC_EXIT_USAGE;
		}
	}
	if (optind + 1 < argc) {
		boot_usage(stderr);
		return PC_EXIT_USAGE;
	}
	if (optind < argc)
		policy = argv[optind];
	state_dir = pc_state_dir(state_dir);

	/*
	 * A pending `apply --confirm` owns the table until it is confirmed or
	 * rolled back: a reload then changes nothing (and falls back to nothing).
	 */
	lock_fd = lock_open(true);
	if (lock_fd >= 0 && flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "portcullis boot: an `apply --confirm` awaits confirmation; "
			"nothing changed (run `portcullis confirm`, or wait for its rollback)\n");
		close(lock_fd);
		return PC_EXIT_SYSTEM;
	}

	status = apply_policy(policy, &ro, optimize, state_dir);
	if (status == PC_EXIT_OK) {
		lockdown_lift();
		goto out;
	}
	last_good = pc_state_last_good_path(state_dir);
	if (access(last_good, R_OK) == 0) {
		fprintf(stderr, "portcullis boot: %s was not applied (above); applying the "
			"last-known-good ruleset %s\n", policy, last_good);
		if (nft_load(last_good) == 0) {
			fprintf(stderr, "portcullis boot: applied the last-known-good ruleset %s\n",
				last_good);
			lockdown_lift();
			free(last_good);
			goto out;
		}
		fprintf(stderr, "portcullis boot: the last-known-good ruleset %s was not "
			"applied either; applying the lockdown\n", last_good);
	} else {
		fprintf(stderr, "portcullis boot: %s was not applied (above), and there is no "
			"last-known-good ruleset (%s: %s); applying the lockdown\n", policy,
			last_good, strerror(errno));
	}
	free(last_good);
	if (apply_lockdown(&ro) != PC_EXIT_OK) {
		fprintf(stderr, "portcullis boot: the lockdown was not applied either: "
			"this machine has no portcullis firewall\n");
		status = PC_EXIT_SYSTEM;
	}
out:
	if (lock_fd >= 0)
		close(lock_fd);
	return status;
}
