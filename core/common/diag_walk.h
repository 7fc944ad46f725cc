/* SPDX-License-Identifier: MIT */
/*
 * The queued diagnostics one at a time, for the machine-readable formats
 * of `check --format json|sarif` (the program's own: not in the public
 * headers).
 */
#ifndef PORTCULLIS_DIAG_WALK_H
#define PORTCULLIS_DIAG_WALK_H

#include <portcullis/diag.h>

/*
 * Calls @fn for each queued message in the order pc_diag_print() prints
 * them (@loc NULL for one without a location), then clears the queue as
 * printing does. Returns the number of messages dropped past the cap.
 */
size_t pc_diag_take(struct pc_diag *d,
		    void (*fn)(void *ctx, enum pc_severity sev,
			       const struct pc_location *loc, const char *text),
		    void *ctx);

#endif
