/* SPDX-License-Identifier: MIT */
/**
 * DOC: the service registry index
 *
 * Holds the IANA Service Name and Transport Protocol Port Number Registry
 * (RFC 6335, IANA CSV) and/or /etc/services-format files, and answers
 * name -> entries and (port, transport) -> entries without scanning.
 *
 * A registry is built from one base file (the shipped IANA CSV by default,
 * or --registry FILE) plus any number of overlay files (same formats,
 * chosen by content). An overlay's names take precedence: when an overlay
 * defines a name, the base's entries for that name are hidden.
 */
#ifndef PORTCULLIS_REGISTRY_H
#define PORTCULLIS_REGISTRY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <portcullis/diag.h>

/* Transports of the registry (RFC 6335 lists these four). */
enum pc_transport {
	PC_TRANSPORT_TCP,
	PC_TRANSPORT_UDP,
	PC_TRANSPORT_SCTP,
	PC_TRANSPORT_DCCP,
	__PC_TRANSPORT_MAX
};

/*
 * pc_reg_entry.transport of a record that names no transport (IANA rows with
 * an empty Transport Protocol column, e.g. `boe-cms,6400,,`, unnamed
 * Unassigned ranges, portless DNS-SD names): it applies to every transport,
 * and pc_registry_find_port() returns it for any @transport.
 */
#define PC_REG_NO_TRANSPORT __PC_TRANSPORT_MAX

enum pc_reg_status {
	PC_REG_ASSIGNED,
	PC_REG_RESERVED,
	PC_REG_UNASSIGNED,
	PC_REG_DEASSIGNED,
	__PC_REG_STATUS_MAX
};

enum pc_reg_flags {
	PC_REG_UNAUTHORIZED = 1u << 0, /* 'Unauthorized Use Reported' set */
	PC_REG_OVERLAY = 1u << 1,      /* from a site overlay file */
	PC_REG_ALIAS = 1u << 2,        /* this entry was found by an alias */
};

/**
 * struct pc_reg_entry - one registry record (one transport)
 * @name:        service name as written (case kept), NULL for an unnamed
 *               record (Reserved / Unassigned ranges)
 * @has_port:    false for names registered with no port (DNS-SD)
 * @port_lo, @port_hi: inclusive range (equal for a single port)
 * @transport:   enum pc_transport
 * @status:      enum pc_reg_status
 * @flags:       PC_REG_* mask
 * @description: may be ""
 * @notes:       IANA assignment notes, may be ""
 * @aliases:     NULL-terminated, /etc/services aliases (may be NULL)
 * @file, @line: where the record was read (first line of the record)
 * @unauthorized: the IANA 'Unauthorized Use Reported' text, "" if none
 *               (PC_REG_UNAUTHORIZED is set when it is not empty)
 *
 * Entries and their strings belong to the registry and live until
 * pc_registry_destroy().
 */
struct pc_reg_entry {
	const char *name;
	bool has_port;
	uint16_t port_lo;
	uint16_t port_hi;
	uint8_t transport;
	uint8_t status;
	uint8_t flags;
	const char *description;
	const char *notes;
	const char *const *aliases;
	const char *file;
	unsigned line;
	const char *unauthorized;
};

/*
 * Lookups (the functions taking a const registry) change nothing: a
 * finished registry can be read from several threads at once.
 */
struct pc_registry;

/* Creates an empty registry. */
struct pc_registry *pc_registry_create(void);
/* NULL is a no-op. */
void pc_registry_destroy(struct pc_registry *reg);

/*
 * Loads @path (IANA CSV or /etc/services format, detected from content).
 * @overlay: entries take precedence over earlier files for the same names.
 * Errors ("FILE:LINE: error: ...") go to @diag. Returns 0 on success,
 * 1 when the file has errors (nothing of it is added), 3 when the file
 * cannot be read (a system error is reported on @diag).
 */
int pc_registry_load(struct pc_registry *reg, const char *path, bool overlay,
		     struct pc_diag *diag);

/*
 * Finishes the index; must be called after the last load and before any
 * lookup. Does nothing more when nothing was loaded since the last call,
 * or when the only file is a base thawed from the snapshot.
 */
void pc_registry_finish(struct pc_registry *reg);

/**
 * pc_registry_set_snapshot() - the registry image to load the base from
 * @image: an image written by pc_registry_snapshot_write() (not copied:
 *         it must stay valid while registries are loaded); NULL disables
 * @len:   its length in bytes
 *
 * Process-wide: set it before any registry is loaded (main() sets it
 * first thing). A later
 * pc_registry_load() of a base file into an empty registry whose content
 * is byte for byte the file the image was made from (same length, same
 * 64-bit content hash) copies the image in instead of parsing the file;
 * any other file is parsed. An image of another format version or built
 * for other struct sizes is ignored.
 */
void pc_registry_set_snapshot(const void *image, size_t len);

/* True when @reg's base file was loaded from the snapshot (tests, diagnostics). */
bool pc_registry_from_snapshot(const struct pc_registry *reg);

/*
 * For the build-time generator (core/registry/regsnap.c): the image of @reg, which
 * holds one finished base file and no overlay, read from @csv (@csv_len
 * bytes, the file's whole content). Returns a malloc()ed image (caller
 * frees) and its length in *len, or NULL when @reg cannot be written
 * (not finished, overlays, /etc/services aliases).
 */
void *pc_registry_snapshot_write(const struct pc_registry *reg, const void *csv,
				 size_t csv_len, size_t *len);

/*
 * All entries for @name (case-insensitive; aliases included), in file
 * order. Returns the count; *out points into the registry (not owned).
 * Entries of a name that a later overlay defines are left out. An entry
 * found through an alias is a copy flagged PC_REG_ALIAS (its @name is the
 * primary name).
 */
size_t pc_registry_find_name(const struct pc_registry *reg, const char *name,
			     const struct pc_reg_entry *const **out);

/*
 * Entries whose port range contains @port for @transport
 * (@transport == __PC_TRANSPORT_MAX: any transport), in file order;
 * PC_REG_NO_TRANSPORT entries match every @transport. Writes at most @max
 * pointers into @out (may be NULL when @max is 0) and returns the total
 * count. Entries hidden by an overlay are left out; aliases are not
 * repeated.
 */
size_t pc_registry_find_port(const struct pc_registry *reg, uint16_t port,
			     unsigned transport,
			     const struct pc_reg_entry **out, size_t max);

/*
 * Up to @max registered names closest to @name (edit distance), best first,
 * for "did you mean". Returns the count.
 */
size_t pc_registry_suggest(const struct pc_registry *reg, const char *name,
			   const char **out, size_t max);

/*
 * Counts the entries (hidden ones excluded) whose port range overlaps
 * [@lo, @hi], by status, into @counts (may be NULL; zeroed first).
 * Returns the total. Walks only the part of the port index in the range.
 */
size_t pc_registry_count_range(const struct pc_registry *reg, uint16_t lo,
			       uint16_t hi, size_t counts[__PC_REG_STATUS_MAX]);

struct pc_catalog;
/*
 * Attaches the catalog of common software (core/catalog.h) that name
 * lookups consult between the overlays and this registry. Takes ownership
 * (a catalog attached before is destroyed). The catalog is separate data:
 * the registry's own lookups do not use it.
 */
void pc_registry_set_catalog(struct pc_registry *reg, struct pc_catalog *cat);
/* The attached catalog, or NULL. Not owned. */
const struct pc_catalog *pc_registry_catalog(const struct pc_registry *reg);

/* Number of records loaded (all files). */
size_t pc_registry_count(const struct pc_registry *reg);
/*
 * Record @i (0 <= @i < pc_registry_count()) in load order, hidden ones
 * included; NULL past the end. Not owned. For tests and dumps: it walks
 * the loaded files.
 */
const struct pc_reg_entry *pc_registry_entry(const struct pc_registry *reg, size_t i);
/* The base file's path and newest modification date ("" if none). */
const char *pc_registry_source(const struct pc_registry *reg);
const char *pc_registry_date(const struct pc_registry *reg);

enum pc_port_class {
	PC_PORT_SYSTEM,   /* 0-1023 */
	PC_PORT_USER,     /* 1024-49151 */
	PC_PORT_DYNAMIC,  /* 49152-65535 */
	__PC_PORT_CLASS_MAX
};
enum pc_port_class pc_port_class_of(uint16_t port);
const char *pc_port_class_name(enum pc_port_class c);
/* "system" / "user" / "dynamic" -> class, -1 if none. */
int pc_port_class_parse(const char *name);
void pc_port_class_range(enum pc_port_class c, uint16_t *lo, uint16_t *hi);

const char *pc_transport_name(unsigned t);
/* "tcp" ... -> transport, -1 if none (case-insensitive). */
int pc_transport_parse(const char *s);
/* enum pc_transport -> enum pc_proto (IPPROTO number). */
unsigned pc_transport_proto(unsigned t);
const char *pc_reg_status_name(unsigned status);

/*
 * The default registry path: service-names-port-numbers.csv in
 * $PORTCULLIS_DATADIR when that is set and not empty (tests and a program
 * run from its build directory), else in the configured data directory.
 * Points to a static buffer.
 */
const char *pc_registry_default_path(void);

/*
 * An error at @loc of the data file @path (@text, @len bytes) being loaded:
 * the file is registered on @diag (*@dpath) at its first error, so a file
 * without errors costs nothing. The registry and catalog loaders use it.
 */
void pc_reg_file_verror(struct pc_diag *diag, const char **dpath, const char *path,
			const char *text, size_t len, struct pc_location *loc,
			const char *fmt, va_list ap) __attribute__((format(printf, 7, 0)));

/*
 * The shipped registry's snapshot (for pc_registry_set_snapshot()), linked
 * into the program: regsnap.S, written at build time by
 * core/registry/regsnap.c. A cross build has none (regsnap_none.c: length 0).
 */
extern const unsigned char pc_builtin_snapshot[];
extern const size_t pc_builtin_snapshot_len;

#endif
