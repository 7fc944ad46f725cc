/* SPDX-License-Identifier: MIT */
/**
 * DOC: the backend (plugin) interface
 *
 * A backend turns a &struct pc_ir into the text of one rule language.
 * Built-in backends sit in an explicit static table in the program; a
 * third-party backend is a shared object in $libdir/portcullis/backends/
 * or a directory of PORTCULLIS_PLUGIN_PATH that exports one symbol,
 *
 *   const struct pc_backend portcullis_backend = { .abi = PC_BACKEND_ABI, ... };
 *
 * The loader rejects an object whose @abi differs from PC_BACKEND_ABI, whose
 * name is already taken, or that it cannot load, with a message.
 *
 * Before a backend runs, the core checks every rule against @caps: a policy
 * feature outside them is an error naming the backend, the feature and the
 * policy line. A backend may check further in @check (for example features
 * that depend on an option such as the pf dialect).
 */
#ifndef PORTCULLIS_BACKEND_H
#define PORTCULLIS_BACKEND_H

#include <stdint.h>
#include <stdio.h>

#include <portcullis/diag.h>
#include <portcullis/ir.h>

/*
 * The compatibility promise. A plugin built against these headers keeps
 * loading, unchanged, into every later program with the same
 * PC_BACKEND_ABI:
 *   - no field of a public struct is removed, reordered or changes type or
 *     meaning; no enum value is renumbered; no function changes signature;
 *   - new fields of structs the program hands to a plugin (struct pc_ir,
 *     struct pc_emit_options and what they point to) come last; a plugin
 *     only ever reads them through the pointers it is given, never
 *     allocates or copies one, so a longer struct does not move the fields
 *     it knows;
 *   - struct pc_backend, which a plugin defines, does not grow within one
 *     ABI number;
 *   - what the program keeps for itself (the memory an IR lives in) is not
 *     in these headers.
 * PC_BACKEND_ABI rises only when one of these has to be broken; the loader
 * then refuses the older plugins by name instead of running them wrongly.
 */
#define PC_BACKEND_ABI 1u

/* The symbol a plugin exports. */
#define PC_BACKEND_SYMBOL "portcullis_backend"

/* Features a backend can express (enum pc_cap, a mask in pc_backend.caps). */
enum pc_cap {
	PC_CAP_IPV4 = 1u << 0,         /* IPv4 rules */
	PC_CAP_IPV6 = 1u << 1,         /* IPv6 rules */
	PC_CAP_DIR_IN = 1u << 2,
	PC_CAP_DIR_OUT = 1u << 3,
	PC_CAP_DIR_FORWARD = 1u << 4,
	PC_CAP_IFACE = 1u << 5,        /* on IFACE */
	PC_CAP_LOG = 1u << 6,
	PC_CAP_LOG_PREFIX = 1u << 7,
	PC_CAP_LIMIT = 1u << 8,
	PC_CAP_REJECT = 1u << 9,
	PC_CAP_CONNTRACK = 1u << 10,   /* ct state matches (built-in) */
	PC_CAP_ICMP_TYPE = 1u << 11,
	PC_CAP_ICMPV6_TYPE = 1u << 12,
	PC_CAP_TCP_UDP = 1u << 13,     /* tcp and udp ports */
	PC_CAP_SCTP = 1u << 14,        /* sctp ports */
	PC_CAP_DCCP = 1u << 15,        /* dccp ports */
	PC_CAP_PROTO = 1u << 16,       /* bare protocol match (proto esp, ...) */
	PC_CAP_COMMENT = 1u << 17,     /* carries comments / locations */
	PC_CAP_ALL = (1u << 18) - 1,
	/* Verdict-map rules from the optimiser (pc_rule.n_map): opt-in, not in PC_CAP_ALL */
	PC_CAP_VMAP = 1u << 18,
	/* sets (issue 14): rules matching a dynamic set (pc_addr_set_is_dynamic()):
	 * opt-in, not in PC_CAP_ALL, so that a plugin of this ABI that does not
	 * know them is refused such a rule instead of reading "any address" */
	PC_CAP_DYNSET = 1u << 19,
	/* matches (issue 14): `log group N` (NFLOG), opt-in like the above */
	PC_CAP_LOG_GROUP = 1u << 20,
	/* matches (issue 14): from not / to not / on not, opt-in */
	PC_CAP_NEGATION = 1u << 21,
	/* matches (issue 14): limit ... burst M, opt-in */
	PC_CAP_LIMIT_BURST = 1u << 22,
};

/* Human name of one PC_CAP_* bit, as used in error messages. */
const char *pc_cap_name(unsigned cap);

/**
 * struct pc_emit_options - what the core hands every backend
 * @version:       program version string
 * @policy_path:   the policy file as given on the command line
 * @registry_name: the registry file used
 * @registry_date: its newest modification date, "" if unknown
 * @template_text: NUL-terminated skeleton to fill, or NULL for the
 *                 backend's built-in one (`--template FILE`)
 * @pf_dialect:    "openbsd" or "freebsd" (pf only), never NULL
 */
struct pc_emit_options {
	const char *version;
	const char *policy_path;
	const char *registry_name;
	const char *registry_date;
	const char *template_text;
	const char *pf_dialect;
};

/**
 * struct pc_backend - one output format
 * @abi:      PC_BACKEND_ABI the backend was built against
 * @name:     what `-b NAME` selects ([a-z0-9-]+)
 * @summary:  one line for `portcullis backends`
 * @caps:     PC_CAP_* features it can express
 * @families: PC_FAM_* the backend emits; rules of other families are
 *            outside its scope (iptables: IPv4 only) and skipped, not errors
 * @check:    optional; extra checks, reporting errors on @diag; returns 0
 *            when the IR can be emitted
 * @emit:     writes the whole output to @out; reports errors on @diag and
 *            returns non-zero on failure (the core then writes nothing)
 */
struct pc_backend {
	uint32_t abi;
	const char *name;
	const char *summary;
	uint32_t caps;
	unsigned families;
	int (*check)(const struct pc_ir *ir, const struct pc_emit_options *opts,
		     struct pc_diag *diag);
	int (*emit)(const struct pc_ir *ir, const struct pc_emit_options *opts,
		    FILE *out, struct pc_diag *diag);
};

#endif
