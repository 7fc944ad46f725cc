/* SPDX-License-Identifier: MIT */
/**
 * DOC: the catalog of common software and the practice table
 *
 * The catalog (data/catalog.csv) holds the names real configurations use
 * that the IANA registry lacks, spells differently or gives to another
 * program (prometheus, k8s-api, wireguard, dns -> domain, ...), each with
 * its ports, a description and a source. The practice table
 * (data/practice.csv) says on which transports an IANA name is really used
 * (ssh tcp, domain tcp and udp, ntp udp).
 *
 * pc_service_lookup() is the one place that decides what a service name
 * means: site overlay, then catalog, then registry (policy-language.md,
 * section Names). A catalog is attached to the registry it goes with
 * (pc_registry_set_catalog()), so every command that has a registry has it.
 */
#ifndef PORTCULLIS_CATALOG_H
#define PORTCULLIS_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <portcullis/diag.h>

#include "registry/registry.h"

/* How a catalogued service is dangerous when opened. */
enum pc_cat_trap {
	PC_CAT_TRAP_NONE,
	PC_CAT_TRAP_EXPOSED,   /* whenever a rule lets it in (plain-text Docker API, telnet) */
	PC_CAT_TRAP_PUBLIC,    /* when a rule lets it in from any source (Redis, Memcached) */
	__PC_CAT_TRAP_MAX
};

#define PC_CAT_MAX_PROTOS 4

/**
 * struct pc_cat_record - one line of the catalog
 * @name:        the name (lower case)
 * @alias_of:    the name this one stands for, NULL for a service
 * @description, @source: never NULL
 * @safer:       what to do instead of a trap, "" if none
 * @trap:        enum pc_cat_trap
 * @protos, @n_protos: bare IP protocols the service also needs (ipsec: esp)
 * @entries, @n_entries: its ports, one entry per range and transport,
 *               shaped as registry entries (status assigned, @file the
 *               catalog); none for an alias or a protocol-only record
 * @transports:  mask (1 << enum pc_transport) of its entries
 * @line:        line in the catalog file
 *
 * Owned by the catalog, valid until pc_catalog_destroy().
 */
struct pc_cat_record {
	const char *name;
	const char *alias_of;
	const char *description;
	const char *source;
	const char *safer;
	uint8_t trap;
	uint8_t n_protos;
	uint8_t protos[PC_CAT_MAX_PROTOS];
	const struct pc_reg_entry *const *entries;
	size_t n_entries;
	unsigned transports;
	unsigned line;
};

struct pc_catalog;

/* Creates an empty catalog (no name is catalogued, no practice known). */
struct pc_catalog *pc_catalog_create(void);
/* NULL is a no-op. */
void pc_catalog_destroy(struct pc_catalog *cat);

/*
 * Loads the catalog file @catalog and the practice table @practice (either
 * may be NULL). Errors ("FILE:LINE: error: ...") go to @diag. Returns 0, 1
 * when a file has errors, 3 when a file cannot be read (reported on @diag).
 * Call once, before any lookup.
 */
int pc_catalog_load(struct pc_catalog *cat, const char *catalog,
		    const char *practice, struct pc_diag *diag);

/* The record of @name (case-insensitive), or NULL. */
const struct pc_cat_record *pc_catalog_find(const struct pc_catalog *cat,
					    const char *name);
/*
 * The practice transports of the IANA name @name: true with *mask
 * (1 << enum pc_transport) and *source (not owned) set, false if the table
 * has no line for it.
 */
bool pc_catalog_practice(const struct pc_catalog *cat, const char *name,
			 unsigned *mask, const char **source);

/* Number of records; record @i (file order) or NULL past the end. */
size_t pc_catalog_count(const struct pc_catalog *cat);
const struct pc_cat_record *pc_catalog_record(const struct pc_catalog *cat, size_t i);
/* Number of practice lines; line @i's name (NULL past the end). */
size_t pc_catalog_practice_count(const struct pc_catalog *cat);
const char *pc_catalog_practice_name(const struct pc_catalog *cat, size_t i);

/*
 * The first service record (file order) whose ports hold @port on
 * @transport, or NULL: a port the catalog knows is not "Unassigned".
 */
const struct pc_cat_record *pc_catalog_find_port(const struct pc_catalog *cat,
						 uint16_t port, unsigned transport);

/*
 * Up to @max catalog names that mean @name (same letters once case, '-',
 * '_' and '.' are ignored; or a name that starts with @name, or @name
 * starts with, at a word boundary), file order. Returns the count.
 */
size_t pc_catalog_suggest(const struct pc_catalog *cat, const char *name,
			  const char **out, size_t max);

/* Up to @max catalog names within one or two typos of @name, closest first. */
size_t pc_catalog_suggest_spelling(const struct pc_catalog *cat, const char *name,
				   const char **out, size_t max);

/*
 * "Did you mean" for an unknown @name: catalog names that mean it; only
 * when there are none, catalog names close in spelling and then (with
 * @spelling, which costs a pass over the registry) registry names.
 * Up to @max, best first; returns the count.
 */
size_t pc_service_suggest(const struct pc_registry *reg, const struct pc_catalog *cat,
			  const char *name, bool spelling, const char **out, size_t max);

/* The shipped files, next to the registry's (pc_registry_default_path()). */
const char *pc_catalog_default_path(void);
const char *pc_practice_default_path(void);

enum pc_svc_origin {
	PC_SVC_UNKNOWN,
	PC_SVC_OVERLAY,
	PC_SVC_CATALOG,
	PC_SVC_REGISTRY,
	__PC_SVC_ORIGIN_MAX
};

/* Why a service without /PROTO opens the transports it opens. */
enum pc_svc_why {
	PC_SVC_WHY_NONE,       /* no practice entry: registered tcp and udp */
	PC_SVC_WHY_PRACTICE,   /* the practice table */
	PC_SVC_WHY_CATALOG,    /* the catalog record's own transports */
	PC_SVC_WHY_OVERLAY,    /* the site overlay's transports */
	__PC_SVC_WHY_MAX
};

/**
 * struct pc_svc - what a service name means
 * @origin:    where the ports come from
 * @name:      the name whose ports these are (the alias target for an alias)
 * @alias:     the catalog alias record the asked name is, or NULL
 * @rec:       the catalog record that gives the ports (or the protocols), or NULL
 * @e, @n:     the entries (registry-owned or catalog-owned), may be 0
 * @practice:  transports opened without /PROTO or `transports` (mask)
 * @why:       enum pc_svc_why for @practice
 * @practice_source: the practice line's or catalog record's source, or NULL
 */
struct pc_svc {
	enum pc_svc_origin origin;
	const char *name;
	const struct pc_cat_record *alias;
	const struct pc_cat_record *rec;
	const struct pc_reg_entry *const *e;
	size_t n;
	unsigned practice;
	enum pc_svc_why why;
	const char *practice_source;
};

/*
 * Looks @name up: overlay, then catalog (@cat may be NULL), then registry.
 * Fills *out (origin PC_SVC_UNKNOWN when nothing knows the name). Returns
 * true when the name is known.
 */
bool pc_service_lookup(const struct pc_registry *reg, const struct pc_catalog *cat,
		       const char *name, struct pc_svc *out);

const char *pc_svc_origin_name(unsigned origin);
const char *pc_svc_why_name(unsigned why);
const char *pc_cat_trap_name(unsigned trap);

#endif
