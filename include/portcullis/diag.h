/* SPDX-License-Identifier: MIT */
/**
 * DOC: diagnostics
 *
 * User errors carry a location and are queued, never printed on the spot:
 * parsing goes on after an error and every problem is reported, capped at
 * PC_DIAG_MAX_ERRORS. pc_diag_print() writes them as
 *
 *   FILE:LINE:COL: error: MESSAGE
 *     source line
 *     ^~~~
 *
 * Backends (built-in and plugins) report what they cannot express through
 * the same queue.
 */
#ifndef PORTCULLIS_DIAG_H
#define PORTCULLIS_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <portcullis/ir.h>

#define PC_DIAG_MAX_ERRORS 50

enum pc_severity {
	PC_SEV_NOTE,
	PC_SEV_WARNING,
	PC_SEV_ERROR,
	__PC_SEV_MAX
};

struct pc_diag;

/* Creates an empty queue. */
struct pc_diag *pc_diag_create(void);
/* Frees the queue and the sources it holds. NULL is a no-op. */
void pc_diag_destroy(struct pc_diag *d);

/*
 * Registers the text of a file so that diagnostics can quote its lines.
 * @name is the pointer stored in pc_location.file (compared by pointer
 * first, then by string). Copies @text. Returns the stored name, which
 * lives as long as @d and may be used in locations.
 */
const char *pc_diag_add_source(struct pc_diag *d, const char *name,
			       const char *text, size_t len);

/*
 * Queues a message. @loc may be NULL (no location: "portcullis: error: ...").
 * A warning or note identical to one already queued (same location, same
 * text) is dropped: every warning is given once per run.
 */
void pc_diag_report(struct pc_diag *d, enum pc_severity sev,
		    const struct pc_location *loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void pc_diag_vreport(struct pc_diag *d, enum pc_severity sev,
		     const struct pc_location *loc, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

#define pc_diag_error(d, loc, ...) pc_diag_report((d), PC_SEV_ERROR, (loc), __VA_ARGS__)
#define pc_diag_warning(d, loc, ...) pc_diag_report((d), PC_SEV_WARNING, (loc), __VA_ARGS__)
#define pc_diag_note(d, loc, ...) pc_diag_report((d), PC_SEV_NOTE, (loc), __VA_ARGS__)

/*
 * True when the source line of @loc (a file registered with
 * pc_diag_add_source()) carries the comment `# portcullis: ignore ID`
 * with @id among the space- or comma-separated IDs: that policy line
 * silences that warning.
 */
bool pc_diag_silenced(const struct pc_diag *d, const struct pc_location *loc,
		      const char *id);

size_t pc_diag_count(const struct pc_diag *d, enum pc_severity sev);
static inline bool pc_diag_has_errors(const struct pc_diag *d)
{
	return pc_diag_count(d, PC_SEV_ERROR) > 0;
}
/* True once the error cap is reached: callers may stop early. */
bool pc_diag_full(const struct pc_diag *d);

/*
 * Prints and clears the queued messages in the order they were reported.
 * Notes print without the caret. With @color, uses ANSI colours.
 */
void pc_diag_print(struct pc_diag *d, FILE *out, bool color);

#endif
