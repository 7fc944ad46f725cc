/* SPDX-License-Identifier: MIT */
/**
 * DOC: the reference evaluator
 *
 * pc_ir_eval() decides a single packet against a resolved IR exactly as the
 * DOC comment of include/portcullis/ir.h defines it: the first matching rule
 * of the packet's direction decides, else the chain policy. It is the
 * reference meaning of a policy: `portcullis explain` prints it, the
 * optimiser is tested against it and the namespace tests check that real
 * packets through the generated rulesets get the verdict it predicts.
 *
 * Rate limits are treated as not exceeded. The evaluator never allocates
 * and never modifies the IR; it is safe to call from several threads.
 */
#ifndef PORTCULLIS_EVAL_H
#define PORTCULLIS_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <portcullis/ir.h>

#include "ir/addrset.h"

/**
 * struct pc_packet - the header fields the IR can match on
 * @dir:       chain the packet traverses
 * @family:    PC_FAM_IPV4 or PC_FAM_IPV6 (exactly one bit)
 * @proto:     IANA protocol number (enum pc_proto or any other)
 * @saddr:     source address, network byte order; IPv4 in saddr[0..3]
 * @daddr:     destination address, likewise
 * @dport:     destination port; only looked at for pc_proto_has_ports()
 * @icmp_type: ICMP / ICMPv6 type, -1 when not known (then only rules that
 *             accept any type match)
 * @iface:     input interface (in, forward) or output interface (out);
 *             NULL when not known: then rules with an interface never
 *             match. Not owned.
 * @ct_state:  exactly one PC_CT_* bit (PC_CT_NEW for a first packet)
 * @oiface:    forward: the interface the packet leaves on, "" when not
 *             known (then rules with `out on` never match); in: where it
 *             would leave when a dnat sends it on
 */
struct pc_packet {
	enum pc_direction dir;
	unsigned family;
	uint8_t proto;
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint16_t dport;
	int icmp_type;
	const char *iface;
	unsigned ct_state;
	/* Routers and gateways (routers) */
	char oiface[16];
	/* matches (issue 14): the source port (SRC:PORT), for
	 * pc_proto_has_ports() only; without @has_sport, rules with a
	 * source-port never match */
	bool has_sport;
	uint16_t sport;
	/* sets (issue 14): the dynamic set the source (destination) address
	 * is taken to be in, NULL: in none (what the kernel's sets hold is
	 * not known here; explain asks each set in turn). Not owned. */
	const char *src_member;
	const char *dst_member;
};

/**
 * pc_iface_match() - whether an interface name matches a rule's
 * @pattern: a rule's @iface: a name, or a prefix and '*' (eth*)
 * @name:    the packet's interface name
 *
 * Return: true for the same name, or for a name starting with the prefix.
 */
bool pc_iface_match(const char *pattern, const char *name);

/**
 * pc_packet_init() - a packet with every field at its default
 * @p: packet to fill
 *
 * Direction in, IPv4, protocol 0, addresses 0, port 0, ICMP type -1, no
 * interface, state new.
 */
void pc_packet_init(struct pc_packet *p);

/**
 * pc_map_lookup() - the element of a verdict-map rule a packet falls in
 * @r: a rule with @r->n_map > 0 (from pc_ir_optimize())
 * @p: packet
 *
 * Return: the element, or NULL when the packet is in none (the elements
 * are disjoint, so there is at most one).
 */
const struct pc_map_elem *pc_map_lookup(const struct pc_rule *r,
					const struct pc_packet *p);

/**
 * pc_rule_match() - does one rule match a packet
 * @r: rule of the IR
 * @p: packet
 *
 * Everything of the rule is considered except its direction (the caller
 * picks the chain); a rate limit counts as not exceeded.
 */
bool pc_rule_match(const struct pc_rule *r, const struct pc_packet *p);

/**
 * pc_ir_eval() - decide one packet
 * @ir:      resolved policy
 * @p:       packet (p->dir selects the chain)
 * @verdict: set to the verdict (may not be NULL)
 *
 * Return: the index of the deciding rule in ir->chains[p->dir].rules, or -1
 * when no rule matched and the chain policy decided.
 */
long pc_ir_eval(const struct pc_ir *ir, const struct pc_packet *p,
		enum pc_verdict *verdict);

/*
 * matches (issue 14): pc_ir_eval() from the rule @start of the chain on:
 * what decides a packet that a rate-limited rule lets fall through (over
 * its rate), with @start the index after that rule.
 */
long pc_ir_eval_from(const struct pc_ir *ir, const struct pc_packet *p,
		     size_t start, enum pc_verdict *verdict);

/*
 * Dispatch (the compiler, issue 15): the rule that decides @p from rule
 * @start of its chain on, which may lie in a class chain of a dispatch;
 * *@elem is its verdict map element (NULL for a plain rule) and *@at the
 * index in the chain of the rule that led to it. NULL: the chain policy
 * (*@verdict) decides.
 */
const struct pc_rule *pc_ir_decide(const struct pc_ir *ir, const struct pc_packet *p,
				   size_t start, enum pc_verdict *verdict,
				   const struct pc_map_elem **elem, size_t *at);

/**
 * struct pc_packet_error - where pc_packet_parse() gave up
 * @msg: what is wrong, naming the bad word
 * @col: 0-based byte offset of the bad part in the text
 * @len: its length in bytes (0 at the end of the text)
 */
struct pc_packet_error {
	char msg[160];
	size_t col;
	size_t len;
};

/**
 * pc_packet_parse() - read the packet syntax of `portcullis explain`
 * @text:      e.g. "in tcp 192.0.2.5 -> 198.51.100.1:22"
 * @p:         filled on success (p->iface points into @iface_buf, or to a
 *             string constant)
 * @iface_buf: at least 16 bytes, owned by the caller; receives the
 *             interface name
 * @err:       on failure, what and where (may be NULL)
 *
 * The grammar (also printed by `portcullis explain --help`):
 *
 *   DIRECTION [on IFACE] PROTO SRC -> DST[:PORT] [type ICMPTYPE]
 *             [on IFACE] [state new|established|related|invalid]
 *
 * DIRECTION is in, out or forward; PROTO tcp, udp, sctp, dccp, icmp,
 * icmpv6, another protocol name of names.h (esp, gre, ...) or a number
 * 0-255; SRC an IPv4 or IPv6 address
 * (IPv6 optionally in brackets); DST an address with a port for tcp, udp,
 * sctp and dccp (IPv6 as [ADDR]:PORT) and without one otherwise; ICMPTYPE
 * a name as nftables spells it (echo-request, nd-neighbor-solicit, ...;
 * see names.h) or a number 0-255. Words are separated by
 * blanks; "->" may also be written without blanks around it.
 *
 * When no interface is given and the source or the destination is a
 * loopback address (127.0.0.0/8, ::1), p->iface is "lo".
 *
 * Return: 0 on success, -1 on a syntax error (@err set).
 */
int pc_packet_parse(const char *text, struct pc_packet *p, char *iface_buf,
		    struct pc_packet_error *err);

/**
 * pc_packet_format() - write a packet in the syntax pc_packet_parse() reads
 * @p:   packet
 * @buf: output buffer
 * @len: its size (128 bytes always suffice)
 */
void pc_packet_format(const struct pc_packet *p, char *buf, size_t len);

/* ---- NAT (routers), core/ir/nat.c ---- */

/*
 * pc_nat_as_rule() - the match of NAT rule @n as a filter rule's (any
 * connection state, no verdict), for pc_rule_match() and the regions.
 */
struct pc_rule pc_nat_as_rule(const struct pc_nat_rule *n);

/*
 * pc_ir_dnat() - the dnat rule that translates the first packet @p of a
 * connection arriving (in, forward), or -1. On a match, @out is the
 * translated packet: new destination (and port), direction forward (the
 * target is another host), to be judged by the filter.
 */
long pc_ir_dnat(const struct pc_ir *ir, const struct pc_packet *p,
		struct pc_packet *out);
/*
 * pc_ir_snat() - the masquerade or snat rule that translates the source of
 * the first packet @p of a connection leaving (out, forward: on its
 * `out on` interface), or -1. Only meaningful for a packet the filter lets
 * through.
 */
long pc_ir_snat(const struct pc_ir *ir, const struct pc_packet *p);

#endif
