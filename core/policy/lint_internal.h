/* SPDX-License-Identifier: MIT */
/*
 * What the parts of the shadowing lint share: the coverage of wildcard
 * rules, the classes of earlier rules and their indexes. Private to
 * core/policy/: lint.c (the walk over the rules, wildcard rules, how two
 * rules' matches compare) and lint_class.c (classes of rules with the same
 * addresses and interface, indexed by address bounds and by port).
 */
#ifndef PC_LINT_INTERNAL_H
#define PC_LINT_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "ir/eval.h"
#include "policy/resolve.h"
#include "common/util.h"

#define PAIR_BUDGET 4000000ul

enum { T_TCP, T_UDP, T_DCCP, T_SCTP, N_T };

struct famcov {
	bool all;                   /* every packet of the family */
	bool proto_all[256];        /* every packet of a protocol */
	uint64_t ports[N_T][65536 / 64];
	uint64_t types[256 / 64];   /* ICMP types of the family's ICMP */
};

/*
 * The smallest prefix holding every source (destination) prefix of a rule,
 * per family: a rule can only cover another if its bound holds the other's,
 * an O(1) test that rules out most pairs before the prefix-by-prefix one.
 */
struct bounds {
	struct pc_addr s[2];
	struct pc_addr d[2];
};

/* Classes by their (source bound, destination bound) of one family. */
#define BOUND_HASH_MAX (1u << 17)

struct bound_entry {
	struct pc_addr s, d;
	size_t *v;
	size_t n, cap;
	unsigned h;                 /* its bucket */
	struct bound_entry *next;
};

/*
 * The rules (that can cover) with the same interface and the same source
 * and destination prefixes of one family: what they match together in that
 * family is those addresses times the union of their protocols, ports and
 * types, kept here. Per family, as a group of IPv4 and IPv6 prefixes is
 * often written again with other prefixes of one family.
 */
struct klass {
	const struct pc_rule *rep;  /* the first rule: its addresses are the class's */
	int f;                      /* its family: 0 IPv4, 1 IPv6 */
	struct bounds bounds;
	uint64_t sig;               /* l4_sig() of its rules, or-ed */
	unsigned h;                 /* its bucket in cover.khash */
	struct klass *next;
	bool any_l4;                /* a rule of any protocol */
	bool proto_all[256];        /* a rule of every port / type of a protocol */
	struct pc_port_range *ports[N_T];   /* merged, sorted */
	size_t n_ports[N_T], cap_ports[N_T];
	uint64_t types[2][256 / 64];        /* [0] ICMP, [1] ICMPv6 */
	/*
	 * Its first SINGLE_TRIES rules that may alone cover a rule of any
	 * port, or of any ICMP type or other protocol: rules of any protocol,
	 * of a protocol's every port, of a port interval of WIDE ports or
	 * more, of ICMP or another protocol without ports. Ascending. The
	 * other rules are in cover.phash by each of their ports (intervals of
	 * less than 64 ports) or blocks of 64 ports (longer ones).
	 */
	size_t *wide;
	size_t n_wide, cap_wide;
};

/*
 * One port (or block of 64 ports: port BLOCK + n for ports 64 n to
 * 64 n + 63) of one protocol in one class: the first SINGLE_TRIES rules of
 * the class holding that port (touching that block), ascending. A rule
 * that alone covers another holds its first port, so these, those of its
 * block and the class's wide rules are the only ones single_cover() needs
 * to try.
 */
#define SINGLE_TRIES 256
#define WIDE 4096
#define BLOCK 65536u

struct port_entry {
	const struct klass *k;
	uint8_t proto;
	unsigned port;
	size_t *v;
	size_t n, cap;
	unsigned h;
	struct port_entry *next;
};

/* An ascending list of rule indexes, and how far single_cover() has read it. */
struct run {
	const size_t *v;
	size_t n, at;
};

/*
 * A remembered answer of addrs_cover() (lint.c): the IR's address lists do
 * not change while the lint runs, so the same two lists (by address and
 * length) give the same answer. Rules of one group share its list
 * (resolve interns them), and the classes a rule is checked against
 * mostly hold the same groups with other ports.
 */
struct cover_memo {
	const struct pc_addr *outer, *inner;
	size_t n_outer, n_inner;
	unsigned fam;
	bool valid, result;
};

#define COVER_MEMO 4096

struct cover {
	struct famcov fam[2];       /* [0] IPv4, [1] IPv6 */
	struct klass **cls;
	size_t n_cls, cap_cls;
	struct klass **khash;       /* kmask + 1 buckets */
	unsigned kmask;
	unsigned long budget;
	/* steps of the comparisons, for the test that the work stays linear */
	unsigned long long work;
	struct port_entry **phash;  /* pmask + 1 buckets */
	unsigned pmask;
	struct port_entry **pused;  /* every entry, for class_clear() */
	size_t n_pused, cap_pused;
	struct klass **cand[2];     /* covered(): where a single cover may be, per family */
	size_t n_cand[2], cap_cand[2];
	struct run *runs;           /* single_cover(): the lists of rules to try */
	size_t n_runs, cap_runs;
	/* the prefix lengths bounds exist at, per family, of sources [0] and
	 * destinations [1]: the ancestor walks in covered() look up only those */
	uint64_t plens[2][2][3];
	struct bound_entry **used;  /* every entry, for bound_clear() */
	size_t n_used, cap_used;
	struct bound_entry **hash;  /* mask + 1 buckets: twice the longest chain */
	unsigned mask;
	struct cover_memo memo[COVER_MEMO];
};

/* lint.c */
int tidx(unsigned proto);
bool lint_bit(const uint64_t *b, unsigned i);
void lint_set_bits(uint64_t *b, unsigned lo, unsigned hi);
unsigned fam_bit(int f);
void bounds_of(const struct pc_rule *r, struct bounds *b);
/* The prefixes [*lo, *hi) of @set of family @fam (IPv4 first: ir.h). */
void fam_range(const struct pc_addr_set *set, unsigned fam, size_t *lo, size_t *hi);
const char *iface_at(const char *one, size_t n, const char *const *v, size_t i);

/* lint_class.c */
struct bound_entry *bound_find(struct cover *c, const struct pc_addr *s,
			       const struct pc_addr *d, bool add);
void bound_clear(struct cover *c);
static inline bool plen_present(const struct cover *c, int f, int dst, unsigned plen)
{
	return c->plens[f][dst][plen / 64] >> (plen % 64) & 1;
}
bool ports_covered(struct cover *c, const struct famcov *fc, struct klass **ps,
		   size_t np, unsigned proto, unsigned lo, unsigned hi);
bool value_covered(const struct famcov *fc, struct klass **ps, size_t np,
		   unsigned proto, int f, int v);
uint64_t l4_sig(const struct pc_rule *r);
void class_add(struct cover *c, const struct pc_rule *r, size_t idx);
void class_clear(struct cover *c);
struct port_entry *port_find(struct cover *c, const struct klass *k, unsigned proto,
			     unsigned port, bool add);

#endif
