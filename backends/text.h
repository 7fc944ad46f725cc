/* SPDX-License-Identifier: MIT */
/* Helpers the text backends share: locations, addresses, string checks. */
#ifndef PORTCULLIS_BACKENDS_TEXT_H
#define PORTCULLIS_BACKENDS_TEXT_H

#include <stdbool.h>

#include <portcullis/diag.h>
#include <portcullis/ir.h>

#include "common/util.h"

/* Appends @v in decimal (without printf: the backends' hot path). */
void pc_text_uint(struct pc_buf *b, unsigned long v);

/*
 * Appends "FILE:LINE" ("FILE" when the line is 0, "built-in" without a
 * file); control characters of the file name become '?'.
 */
void pc_text_location(struct pc_buf *b, const struct pc_location *loc);

/* "connection tracking", "loopback", "essential ICMP", "default", "policy". */
const char *pc_text_origin(enum pc_rule_origin origin);

/*
 * Where rule @r of chain @dir comes from, as the iptables and pf comments
 * say it: "FILE:LINE", then " default in deny" or " loopback" (the origin of
 * a built-in rule).
 */
void pc_text_rule_origin(struct pc_buf *b, enum pc_direction dir,
			 const struct pc_rule *r);

/*
 * Appends the prefix in the usual notation; with @short_host a full-length
 * prefix (/32, /128) is written as the bare address.
 */
void pc_text_addr(struct pc_buf *b, const struct pc_addr *a, bool short_host);

/*
 * True when the chain's last rule matches every packet: a `default ...
 * reject` (PC_ORIGIN_DEFAULT) rule, after which the chain's policy can
 * never decide and is not written.
 */
bool pc_text_chain_closed(const struct pc_chain *c);

/* True when @s has no control characters (bytes below 0x20, 0x7f). */
bool pc_text_printable(const char *s);

/* A table / chain / anchor name: [A-Za-z0-9][A-Za-z0-9_.+-]*. */
bool pc_text_valid_name(const char *s);

/*
 * An error at @loc on @diag, counted in *@errors: how the text backends
 * report what they cannot express.
 */
void pc_text_error(struct pc_diag *diag, int *errors, const struct pc_location *loc,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
