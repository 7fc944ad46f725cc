/* SPDX-License-Identifier: MIT */
/*
 * What the parts of the registry share: the structure of a registry, its
 * index and the compiled-in snapshot's layout. Private to core/registry/:
 * registry.c (index and lookups), reg_load.c (IANA CSV and /etc/services
 * loaders), reg_snapshot.c (the compiled-in image), reg_suggest.c (names
 * close to an unknown one).
 */
#ifndef PC_REG_INTERNAL_H
#define PC_REG_INTERNAL_H

/*
 * The service registry: loading (IANA CSV through libcsv, /etc/services
 * format by hand) and the two indexes.
 *
 * Loading reads a file once, parses it straight into an entry array, and
 * copies the strings it keeps into one block per file. Nothing is indexed
 * until pc_registry_finish(), which builds
 *   - an open-addressing hash of case-folded names (aliases included), each
 *     slot pointing at a run of entries in file order, and
 *   - a port index: the port space cut into elementary segments at every
 *     range boundary, a 65536-entry port -> segment table, and per segment
 *     the entries covering it. Ranges barely overlap in the real registry,
 *     so the segment lists hold about one entry per record.
 *
 * The shipped registry is also compiled into the program as a finished
 * image (see "The compiled-in snapshot" below): a base load of a file
 * with exactly its bytes copies the image instead of parsing.
 */
#include "registry/registry.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/catalog.h"
#include "common/util.h"

#define IANA_FIELDS 12
#define SERVICES_PATH_SUFFIX "/service-names-port-numbers.csv"

enum iana_col {
	COL_NAME,
	COL_PORT,
	COL_TRANSPORT,
	COL_DESCRIPTION,
	COL_ASSIGNEE,
	COL_CONTACT,
	COL_REG_DATE,
	COL_MOD_DATE,
	COL_REFERENCE,
	COL_SERVICE_CODE,
	COL_UNAUTHORIZED,
	COL_NOTES,
};

/* Hash slots are small so that the table stays in cache. */
struct name_slot {
	uint32_t hash;
	uint32_t name;		/* 1 + index into reg->names; 0: empty */
};

struct name_info {
	const char *key;	/* the name as first written */
	uint32_t len;
	uint32_t layer;		/* highest layer that defines the name */
	uint32_t off;		/* run in reg->name_refs */
	uint32_t cnt;
};

/* A name (or alias) of an entry, in file order, while the index is built. */
struct name_ref {
	struct pc_reg_entry *e;
	const char *name;
	uint32_t hash, len;
	uint32_t layer;
	uint32_t slot;		/* index into reg->names; SAME_NAME: the previous ref's */
};

#define SAME_NAME UINT32_MAX

/* Internal: the entry is hidden by an overlay (never handed out). */
#define ENTRY_HIDDEN (1u << 7)

/* The entries of one loaded file. */
struct reg_file {
	struct pc_reg_entry *ent;
	size_t n;
	uint32_t layer;
};

/*
 * Big arrays (entries, strings, the index) come from a few large zeroed
 * chunks, sized for the most a file could need: calloc() hands out fresh
 * zero pages for them, so what a load does not use is never touched.
 */
struct big_chunk {
	struct big_chunk *next;
	char *base;
	size_t used, size;
};

struct pc_registry {
	struct pc_arena *arena;		/* paths, alias arrays, alias entries */
	struct big_chunk *big;		/* strings, entries, index */
	struct reg_file *files;
	size_t n_files, cap_files;
	size_t n_ent;
	uint32_t layer;
	const char *source;
	char date[16];
	bool finished;
	bool index_current;		/* the index covers every file loaded */
	bool thawed;			/* the base came from the snapshot */
	struct pc_catalog *catalog;	/* attached by pc_registry_set_catalog() */

	/*
	 * The index: built by pc_registry_finish() in the big chunks, or,
	 * for a thawed base, partly read where it lies in the snapshot image
	 * (hash slots and port segments), hence const.
	 */
	const struct name_slot *slots;
	uint32_t mask;
	const struct name_info *names;
	uint32_t n_names;
	const struct pc_reg_entry *const *name_refs;

	const uint16_t *seg_of;		/* port -> segment */
	const uint32_t *seg_lo;		/* first port of each segment */
	const uint32_t *seg_off;	/* n_seg + 1 offsets into seg_ent */
	uint32_t n_seg;
	const struct pc_reg_entry *const *seg_ent;
};

#define for_each_entry(reg, f, e)                                          \
	for (size_t f##_i = 0; f##_i < (reg)->n_files; f##_i++)               \
		for (const struct reg_file *f = &(reg)->files[f##_i]; f; f = NULL) \
			for (struct pc_reg_entry *e = f->ent; e < f->ent + f->n; e++)

#define BIG_CHUNK (4u << 20)


static inline unsigned char fold(unsigned char c)
{
	return (unsigned char)((unsigned)(c - 'A') < 26u ? c + 32 : c);
}

/* FNV-1a over the case-folded bytes, folded to 32 bits. */
static inline uint32_t name_hash(const char *s, uint32_t *len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		h ^= fold(*p);
		h *= 0x100000001b3ull;
	}
	*len = (uint32_t)(p - (const unsigned char *)s);
	return (uint32_t)(h ^ (h >> 32));
}

static inline bool name_equal(const char *a, const char *b, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
			return false;
	return true;
}


/* ---------------------------------------------------------------------- */
/* The compiled-in snapshot                                               */

/*
 * Parsing the shipped IANA CSV costs about 5 ms in a fresh process, a
 * third of a `generate`. The build therefore runs core/registry/regsnap.c, which
 * loads and indexes that file the normal way and writes the finished
 * registry as one relocation-free image: every string an offset from the
 * start of the image (0: NULL), every entry pointer an entry index. The
 * program links the image in and hands it to pc_registry_set_snapshot().
 * A base load whose file has exactly the bytes the image was made from
 * (same length, same 64-bit content hash) "thaws" the image instead of
 * parsing (snapshot_thaw()). The check is by content, not by date: an
 * edited file, or another one, is parsed as before.
 *
 * The image's layout is fixed by the structures below, whose sizes are
 * asserted at compile time and recorded in the header: an image written
 * by another build (another version or struct layout) is ignored.
 */
#define SNAP_MAGIC "PCREGSN\0"
#define SNAP_VERSION 3u

enum snap_section {
	SEC_FILES,		/* struct snap_file */
	SEC_ENT,		/* struct snap_entry */
	SEC_STR,		/* NUL-terminated strings, deduplicated */
	SEC_SLOTS,		/* struct name_slot, as built */
	SEC_NAMES,		/* struct snap_name */
	SEC_SEG_OF,		/* uint16_t, as built */
	SEC_SEG_LO,		/* uint32_t, as built */
	SEC_SEG_OFF,		/* uint32_t, as built */
	SEC_NAME_REFS,		/* uint32_t entry indices */
	SEC_SEG_ENT,		/* uint32_t entry indices */
	__SEC_MAX
};

struct snap_header {
	char magic[8];
	uint32_t version;
	uint32_t entry_size;	/* sizeof(struct snap_entry) */
	uint32_t name_size;	/* sizeof(struct snap_name) */
	uint32_t header_size;
	uint64_t image_len;
	uint64_t csv_len;
	uint64_t csv_hash;
	uint32_t n_files, n_ent;
	uint32_t n_names, mask;
	uint32_t n_seg, n_name_refs;
	uint32_t n_seg_ent, pad;
	char date[16];
	struct {
		uint64_t off, size;
	} sec[__SEC_MAX];
};

/* An entry: strings as offsets from the image start (0: NULL). */
struct snap_entry {
	uint32_t name, description, notes, unauthorized;
	uint32_t line;
	uint16_t port_lo, port_hi;
	uint8_t has_port, transport, status, flags;
};

/* A struct name_info with its key as an offset from the image start. */
struct snap_name {
	uint32_t key, len, layer, off, cnt;
};

struct snap_file {
	uint32_t first;		/* index of its first entry */
	uint32_t n;
	uint32_t layer;
	uint32_t pad;
};

/* No padding anywhere: the image is the same bytes on every build of one layout. */
_Static_assert(sizeof(struct snap_header) == 256, "snapshot header layout");
_Static_assert(sizeof(struct snap_entry) == 28, "snapshot entry layout");
_Static_assert(sizeof(struct snap_name) == 20, "snapshot name layout");
_Static_assert(sizeof(struct snap_file) == 16, "snapshot file layout");
_Static_assert(sizeof(struct name_slot) == 8, "name slots are used in place");
/* the sections used in place are 8-aligned in an image aligned to 64 */
_Static_assert(_Alignof(struct name_slot) <= 8 && _Alignof(uint32_t) <= 8,
	       "snapshot section alignment");

void *big_alloc(struct pc_registry *reg, size_t n);

void big_trim(struct pc_registry *reg, void *p, size_t n);

int transport_parse_n(const char *s, size_t n);

bool snapshot_fits(const struct pc_registry *reg, const char *path,
		   struct snap_header *h);

void snapshot_thaw(struct pc_registry *reg, const struct snap_header *h,
		   const char *epath, char mod_date[16]);

#endif
