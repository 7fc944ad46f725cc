/* SPDX-License-Identifier: MIT */
/*
 * What apply.c and confirm.c share: the run directory, its lock, and the
 * state an apply holds.
 */
#ifndef PC_APPLY_INTERNAL_H
#define PC_APPLY_INTERNAL_H

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


/* What the watchdog writes to RUNDIR/result. */
enum { WD_CONFIRMED = 'C', WD_ROLLED_BACK = 'R', WD_ROLLBACK_FAILED = 'F' };

/* Everything `apply` holds, so that forked children can free it too. */
struct apply_state {
	struct pc_registry *reg;
	struct pc_diag *diag;
	struct pc_ir *ir;
	struct pc_ir *view;   /* the optimised view the plan comes from, or NULL */
	struct pc_nft_plan *plan;
	struct pc_nl_batch *batch;
	/* the table as it was read before the batch was built (NULL: none):
	 * what a re-apply compares with, and what --confirm rolls back to */
	struct pc_nl_objs *live;
	const char *policy;      /* the policy's path, for the last-known-good */
	const char *state_dir;   /* where the last-known-good goes */
};

const char *rundir(void);

int64_t monotonic_ms(void);

int lock_open(bool create);

void apply_state_free(struct apply_state *st);

int apply_confirmed(struct apply_state *st, unsigned seconds, int lock_fd);

#endif
