/* SPDX-License-Identifier: MIT */
/**
 * DOC: the backend (plugin) interface
 *
 * A backend turns a &struct pc_ir into the text of one rule language.
 * Built-in backends sit in an explicit static table in the program; a
 * third-party backend is a shared object in $libdir/portcullis/backends/
 * or a directory of PORTCULLIS_PLUGIN_PATH that exports one symbol,
 *
 *   const struct pc_backend portcullis_backend = {
 *           .abi = PC_BACKEND_ABI, .size = sizeof(struct pc_backend), ... };
 *
 * The loader rejects an object whose @abi differs from PC_BACKEND_ABI, whose
 * @size is smaller than ABI 2's first struct pc_backend, whose name is
 * already taken, or that it cannot load, with a message.
 *
 * Before a backend runs, the core checks every rule against @caps: a policy
 * feature outside them is an error naming the backend, the feature and the
 * policy line. A backend may check further in @check (for example features
 * that depend on an option such as the pf dialect).
 *
 * Options of one backend (`-O NAME=VALUE`) are declared in @options; the
 * command line refuses (usage error) an option that no chosen backend
 * declares, or a value outside the declared ones, and a backend is handed
 * only the options it declares (pc_emit_option()).
 */
#ifndef PORTCULLIS_BACKEND_H
#define PORTCULLIS_BACKEND_H

#include <stddef.h>
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
 *   - structs that can grow say how big they are, and only they grow, by
 *     fields appended at their end:
 *       struct pc_backend (@size, set by the plugin: the program reads a
 *       later field only when @size covers it), struct pc_emit_options
 *       (@size), struct pc_ir (@size) and the IR structs a plugin reaches
 *       through an array, whose element sizes the IR carries:
 *       struct pc_rule (@rule_size), struct pc_l4 (@l4_size) and
 *       struct pc_map_elem (@map_elem_size). A plugin reaches array
 *       elements only through pc_ir_rule(), pc_ir_l4() and
 *       pc_ir_map_elem(), which step by the program's sizes, never by
 *       indexing (rules[i] steps by the size the plugin was built with);
 *       a plugin that reads a field newer than the oldest program it
 *       supports checks it with PC_IR_HAS() or PC_EMIT_HAS() first;
 *   - a plugin never allocates, copies or embeds a struct it is handed;
 *   - structs embedded by value in others (struct pc_location,
 *     pc_addr_set, pc_port_set, pc_limit, pc_addr, pc_port_range,
 *     pc_chain, and the enum bounds such as __PC_DIR_MAX that size an
 *     array) do not grow: growing one moves the fields after it, a break;
 *   - what the program keeps for itself (the memory an IR lives in) is not
 *     in these headers.
 * PC_BACKEND_ABI rises only when one of these has to be broken; the loader
 * then refuses the older plugins by name instead of running them wrongly.
 *
 * ABI 2 was such a break, made once so that the IR can grow afterwards:
 * ABI 1 had no sizes (a field appended to struct pc_rule moved every rule
 * after the first for an old plugin) and a pf-only field in the generic
 * emit options; struct pc_addr_set gained the group's location.
 * ABI 3: struct pc_map_elem points at its rule for the location and
 * comment (pc_map_elem_loc(), pc_map_elem_comment(), pc_map_elem_action())
 * and its @verdict is one byte: 40 bytes an element, not 72; and
 * pc_rule.map_daddr is an array of pointers, the elements of a map sharing
 * one copy of each destination interval (issue 15, memory of big
 * policies).
 */
#define PC_BACKEND_ABI 3u

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
	/* Routers and gateways (routers): opt-in, not in PC_CAP_ALL, so that a
	 * plugin built before them is refused such rules instead of reading
	 * only pc_rule.iface */
	PC_CAP_IFACE_LIST = 1u << 19,  /* on { a, b* }: pc_rule.n_ifaces > 1 */
	PC_CAP_OIFACE = 1u << 20,      /* forward ... out on IFACE: pc_rule.oifaces */
	PC_CAP_NAT = 1u << 21,         /* masquerade, snat, dnat: pc_ir.nat */
	/* Verdict maps whose key holds the destination too (pc_rule.map_daddr):
	 * opt-in as well; a PC_CAP_VMAP backend without it gets maps without */
	PC_CAP_VMAP_DADDR = 1u << 22,
	/* sets (issue 14): rules matching a dynamic set (pc_addr_set_is_dynamic()):
	 * opt-in, not in PC_CAP_ALL, so that a plugin of this ABI that does not
	 * know them is refused such a rule instead of reading "any address" */
	PC_CAP_DYNSET = 1u << 23,
	/* matches (issue 14): `log group N` (NFLOG), opt-in like the above */
	PC_CAP_LOG_GROUP = 1u << 24,
	/* matches (issue 14): from not / to not / on not, opt-in */
	PC_CAP_NEGATION = 1u << 25,
	/* matches (issue 14): limit ... burst M, opt-in */
	PC_CAP_LIMIT_BURST = 1u << 26,
	/* matches (issue 14): source-port PORTS (pc_rule.sports), opt-in */
	PC_CAP_SPORT = 1u << 27,
	/* matches (issue 14): limit ... per source (pc_rule.limit_per_source), opt-in */
	PC_CAP_LIMIT_PER_SOURCE = 1u << 28,
	/* Map keys over interfaces (issue 15): verdict maps whose key begins
	 * with the interface name (pc_rule.map_iface), opt-in */
	PC_CAP_VMAP_IFACE = 1u << 29,
	/* ICMP types in map keys (issue 15): maps whose elements are of
	 * PC_PROTO_ICMP / PC_PROTO_ICMPV6 (struct pc_map_elem), opt-in */
	PC_CAP_VMAP_ICMP = 1u << 30,
	/* Actions in map elements (issue 15): elements that log or reject
	 * (struct pc_map_elem, @action), opt-in */
	PC_CAP_VMAP_ACTION = 1u << 31,
};

/* Human name of one PC_CAP_* bit, as used in error messages. */
const char *pc_cap_name(unsigned cap);

/**
 * struct pc_backend_option - one option a backend takes (`-O NAME=VALUE`)
 * @name:   [a-z0-9-]+
 * @values: the values it takes, separated by '|' ("openbsd|freebsd"), or
 *          NULL for any value
 * @help:   one line for `portcullis backends`
 */
struct pc_backend_option {
	const char *name;
	const char *values;
	const char *help;
};

/* One option given on the command line: `-O NAME=VALUE`. */
struct pc_option_value {
	const char *name;
	const char *value;
};

/**
 * struct pc_emit_options - what the core hands every backend
 * @size:          sizeof(struct pc_emit_options) in the program
 * @version:       program version string
 * @policy_path:   the policy file as given on the command line
 * @registry_name: the registry file used
 * @registry_date: its newest modification date, "" if unknown
 * @template_text: NUL-terminated skeleton to fill, or NULL for the
 *                 backend's built-in one (`--template FILE`)
 * @n_options:     number of @options
 * @options:       the options given for this backend (only ones it declares,
 *                 values checked), in command-line order; read them with
 *                 pc_emit_option()
 */
struct pc_emit_options {
	size_t size;
	const char *version;
	const char *policy_path;
	const char *registry_name;
	const char *registry_date;
	const char *template_text;
	size_t n_options;
	const struct pc_option_value *options;
};

/* True when the program's @opts has @field (a field newer than ABI 2's first). */
#define PC_EMIT_HAS(opts, field) \
	((opts)->size >= offsetof(struct pc_emit_options, field) + \
			 sizeof(((const struct pc_emit_options *)0)->field))

/* The value of option @name as given last, or NULL when it was not given. */
const char *pc_emit_option(const struct pc_emit_options *opts, const char *name);

/**
 * struct pc_backend - one output format
 * @abi:      PC_BACKEND_ABI the backend was built against
 * @size:     sizeof(struct pc_backend) it was built with
 * @name:     what `-b NAME` selects ([a-z0-9-]+)
 * @summary:  one line for `portcullis backends`
 * @caps:     PC_CAP_* features it can express
 * @families: PC_FAM_* the backend emits; rules of other families are
 *            outside its scope (iptables: IPv4 only) and skipped, not errors
 * @check:    optional; extra checks, reporting errors on @diag; returns 0
 *            when the IR can be emitted
 * @emit:     writes the whole output to @out; reports errors on @diag and
 *            returns non-zero on failure (the core then writes nothing)
 * @options:  the options it takes, ended by one whose @name is NULL; NULL
 *            for none
 */
struct pc_backend {
	uint32_t abi;
	uint32_t size;
	const char *name;
	const char *summary;
	uint32_t caps;
	unsigned families;
	int (*check)(const struct pc_ir *ir, const struct pc_emit_options *opts,
		     struct pc_diag *diag);
	int (*emit)(const struct pc_ir *ir, const struct pc_emit_options *opts,
		    FILE *out, struct pc_diag *diag);
	const struct pc_backend_option *options;
};

#endif
