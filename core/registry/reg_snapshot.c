/* SPDX-License-Identifier: MIT */
/*
 * The compiled-in snapshot of the shipped registry: thawing it, and writing
 * it at build time (regsnap).
 */
#include "registry/reg_internal.h"

static const unsigned char *snap_image;
static size_t snap_len;

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

#define HP1 0x9e3779b185ebca87ull
#define HP2 0xc2b2ae3d27d4eb4full
#define HP3 0x165667b19e3779f9ull

static inline uint64_t hash_round(uint64_t acc, uint64_t w)
{
	return rotl64(acc + w * HP2, 31) * HP1;
}

/*
 * 64-bit hash of @n bytes: four independent multiply-rotate lanes over
 * 8-byte words (the CPU overlaps their multiplies: the 1.15 MB registry in
 * about 50 us on the project VM), the tail folded in, then an avalanche so that every input bit reaches
 * every output bit. Not cryptographic: it tells the shipped file from an
 * edited one, it is not meant to resist someone forging a collision.
 */
struct hash_state {
	uint64_t a, b, c, d;
};

static void hash_init(struct hash_state *s)
{
	*s = (struct hash_state){ HP1 + HP2, HP2, 0, 0 - HP1 };
}

/* Feeds the 32-byte blocks of @p; returns how many bytes that was. */
static size_t hash_blocks(struct hash_state *s, const unsigned char *p, size_t n)
{
	size_t done = n & ~(size_t)31;

	for (const unsigned char *end = p + done; p < end; p += 32) {
		s->a = hash_round(s->a, load64(p));
		s->b = hash_round(s->b, load64(p + 8));
		s->c = hash_round(s->c, load64(p + 16));
		s->d = hash_round(s->d, load64(p + 24));
	}
	return done;
}

/* The hash of everything fed plus the last @n (< 32) bytes at @p; @total
 * is the length of the whole input. */
static uint64_t hash_final(const struct hash_state *s, const unsigned char *p,
			   size_t n, uint64_t total)
{
	const unsigned char *end = p + n;
	uint64_t h;

	h = rotl64(s->a, 1) + rotl64(s->b, 7) + rotl64(s->c, 12) + rotl64(s->d, 18) + total;
	for (; end - p >= 8; p += 8)
		h = rotl64(h ^ hash_round(0, load64(p)), 27) * HP1 + HP3;
	for (; p < end; p++)
		h = rotl64(h ^ (*p * HP3), 11) * HP1;
	h ^= h >> 33;
	h *= HP2;
	h ^= h >> 29;
	h *= HP3;
	h ^= h >> 32;
	return h;
}

static uint64_t content_hash(const void *data, size_t n)
{
	struct hash_state s;
	size_t done;

	hash_init(&s);
	done = hash_blocks(&s, data, n);
	return hash_final(&s, (const unsigned char *)data + done, n - done, n);
}

/*
 * True when the regular file @path has @len bytes hashing to @hash: read
 * through one small buffer that stays in the cache, not into fresh memory
 * (on the VMs measured, memory touched for the first time costs more than
 * reading and hashing it).
 */
#define HASH_BUF (64u << 10)    /* a multiple of the 32-byte block */

static bool file_has_content(const char *path, uint64_t len, uint64_t hash)
{
	unsigned char *buf;
	struct hash_state s;
	struct stat st;
	uint64_t total = 0;
	bool same = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != len) {
		close(fd);
		return false;
	}
	hash_init(&s);
	buf = xmalloc(HASH_BUF);
	/* full buffers are whole 32-byte blocks; the last one has the tail */
	for (;;) {
		ssize_t got = pc_read_full(fd, buf, HASH_BUF);
		size_t done;

		if (got < 0)
			break;
		total += (size_t)got;
		done = hash_blocks(&s, buf, (size_t)got);
		if ((size_t)got < HASH_BUF) {
			same = total == len &&
			       hash_final(&s, buf + done, (size_t)got - done, total) == hash;
			break;
		}
	}
	free(buf);
	close(fd);
	return same;
}

/* A header this build can thaw (the sections are within the image). */
static bool snap_header_ok(const void *image, size_t len, struct snap_header *h)
{
	if (!image || len < sizeof(*h))
		return false;
	memcpy(h, image, sizeof(*h));
	if (memcmp(h->magic, SNAP_MAGIC, sizeof(h->magic)) != 0 ||
	    h->version != SNAP_VERSION ||
	    h->entry_size != sizeof(struct snap_entry) ||
	    h->name_size != sizeof(struct snap_name) || h->header_size != sizeof(*h) ||
	    h->image_len != len)
		return false;
	for (unsigned s = 0; s < __SEC_MAX; s++)
		if (h->sec[s].off > len || h->sec[s].size > len - h->sec[s].off ||
		    h->sec[s].off % 8)
			return false;
	return h->sec[SEC_FILES].size == (uint64_t)h->n_files * sizeof(struct snap_file) &&
	       h->sec[SEC_ENT].size == (uint64_t)h->n_ent * sizeof(struct snap_entry) &&
	       h->sec[SEC_SLOTS].size == ((uint64_t)h->mask + 1) * sizeof(struct name_slot) &&
	       h->sec[SEC_NAMES].size == (uint64_t)h->n_names * sizeof(struct snap_name) &&
	       h->sec[SEC_SEG_OF].size == 65536 * sizeof(uint16_t) &&
	       h->sec[SEC_SEG_LO].size == (uint64_t)h->n_seg * sizeof(uint32_t) &&
	       h->sec[SEC_SEG_OFF].size == ((uint64_t)h->n_seg + 1) * sizeof(uint32_t) &&
	       h->sec[SEC_NAME_REFS].size == (uint64_t)h->n_name_refs * sizeof(uint32_t) &&
	       h->sec[SEC_SEG_ENT].size == (uint64_t)h->n_seg_ent * sizeof(uint32_t) &&
	       h->sec[SEC_STR].off > 0;
}

void pc_registry_set_snapshot(const void *image, size_t len)
{
	struct snap_header h;

	if (!snap_header_ok(image, len, &h)) {
		snap_image = NULL;
		snap_len = 0;
		return;
	}
	snap_image = image;
	snap_len = len;
}

bool pc_registry_from_snapshot(const struct pc_registry *reg)
{
	return reg->thawed;
}

/*
 * True when the snapshot can stand for @path: there is one, the registry
 * is empty, and the file has the bytes the image was made from. Checked
 * before the file is read the usual way, which it then need not be.
 */
bool snapshot_fits(const struct pc_registry *reg, const char *path,
		   struct snap_header *h)
{
	return snap_image && !reg->n_files && !reg->layer &&
	       snap_header_ok(snap_image, snap_len, h) &&
	       file_has_content(path, h->csv_len, h->csv_hash);
}

/*
 * Leaves what parsing and pc_registry_finish() would: the same files,
 * entries (their @file the path as given now, @epath), date and index.
 * Entries, the name table and the runs of entry pointers are written into
 * the registry's memory; strings, hash slots and the port segments are
 * read where they lie in the image (it outlives the registry). A new
 * index (after an overlay) is built in memory of its own.
 */
void snapshot_thaw(struct pc_registry *reg, const struct snap_header *h,
		   const char *epath, char mod_date[16])
{
	const unsigned char *img = snap_image;
	const struct snap_file *sf = (const void *)(img + h->sec[SEC_FILES].off);
	const struct snap_entry *se = (const void *)(img + h->sec[SEC_ENT].off);
	const struct snap_name *sn = (const void *)(img + h->sec[SEC_NAMES].off);
	const uint32_t *name_idx = (const void *)(img + h->sec[SEC_NAME_REFS].off);
	const uint32_t *seg_idx = (const void *)(img + h->sec[SEC_SEG_ENT].off);
	struct pc_reg_entry *ent;
	struct name_info *names;
	const struct pc_reg_entry **refs;

#define STR(o) ((o) ? (const char *)(img + (o)) : NULL)
	ent = big_alloc(reg, h->n_ent * sizeof(*ent));
	for (size_t i = 0; i < h->n_ent; i++)
		ent[i] = (struct pc_reg_entry){
			.name = STR(se[i].name),
			.has_port = se[i].has_port,
			.port_lo = se[i].port_lo,
			.port_hi = se[i].port_hi,
			.transport = se[i].transport,
			.status = se[i].status,
			.flags = se[i].flags,
			.description = STR(se[i].description),
			.notes = STR(se[i].notes),
			.file = epath,
			.line = se[i].line,
			.unauthorized = STR(se[i].unauthorized),
		};
	names = big_alloc(reg, h->n_names * sizeof(*names));
	for (size_t i = 0; i < h->n_names; i++)
		names[i] = (struct name_info){
			.key = STR(sn[i].key), .len = sn[i].len, .layer = sn[i].layer,
			.off = sn[i].off, .cnt = sn[i].cnt,
		};
#undef STR
	reg->names = names;
	reg->n_names = h->n_names;
	reg->slots = (const void *)(img + h->sec[SEC_SLOTS].off);
	reg->mask = h->mask;
	refs = big_alloc(reg, h->n_name_refs * sizeof(*refs));
	for (size_t i = 0; i < h->n_name_refs; i++)
		refs[i] = &ent[name_idx[i]];
	reg->name_refs = refs;

	reg->seg_of = (const void *)(img + h->sec[SEC_SEG_OF].off);
	reg->seg_lo = (const void *)(img + h->sec[SEC_SEG_LO].off);
	reg->seg_off = (const void *)(img + h->sec[SEC_SEG_OFF].off);
	reg->n_seg = h->n_seg;
	refs = big_alloc(reg, h->n_seg_ent * sizeof(*refs));
	for (size_t i = 0; i < h->n_seg_ent; i++)
		refs[i] = &ent[seg_idx[i]];
	reg->seg_ent = refs;

	reg->files = xgrow(reg->files, &reg->cap_files, h->n_files, sizeof(*reg->files));
	for (size_t i = 0; i < h->n_files; i++)
		reg->files[i] = (struct reg_file){
			.ent = ent + sf[i].first, .n = sf[i].n, .layer = sf[i].layer,
		};
	reg->n_files = h->n_files;
	reg->n_ent = h->n_ent;
	memcpy(mod_date, h->date, sizeof(h->date));
	mod_date[sizeof(h->date) - 1] = '\0';
}

/* The string table of an image being written: content -> offset. */
struct snap_strings {
	char *buf;
	size_t len, cap;
	uint64_t base;		/* image offset of buf */
	struct {
		uint32_t hash, off;	/* off: into buf, + 1; 0: empty slot */
	} *slot;
	size_t mask;
};

static uint64_t snap_string(struct snap_strings *st, const char *s)
{
	size_t n, i;
	uint32_t h;

	if (!s)
		return 0;
	n = strlen(s);
	h = (uint32_t)content_hash(s, n);
	for (i = h & st->mask; st->slot[i].off; i = (i + 1) & st->mask)
		if (st->slot[i].hash == h && strcmp(st->buf + st->slot[i].off - 1, s) == 0)
			return st->base + st->slot[i].off - 1;
	st->buf = xgrow(st->buf, &st->cap, st->len + n + 1, 1);
	memcpy(st->buf + st->len, s, n + 1);
	st->slot[i].hash = h;
	st->slot[i].off = (uint32_t)st->len + 1;
	st->len += n + 1;
	return st->base + st->slot[i].off - 1;
}

/* Index of entry @e in file order. */
static uint32_t snap_entry_index(const struct pc_registry *reg, const struct pc_reg_entry *e)
{
	size_t first = 0;

	for (size_t i = 0; i < reg->n_files; i++) {
		const struct reg_file *f = &reg->files[i];

		if (e >= f->ent && e < f->ent + f->n)
			return (uint32_t)(first + (size_t)(e - f->ent));
		first += f->n;
	}
	PC_BUG("registry snapshot: entry outside the registry");
}

static inline size_t align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

void *pc_registry_snapshot_write(const struct pc_registry *reg, const void *csv,
				 size_t csv_len, size_t *len)
{
	struct snap_header h = { .version = SNAP_VERSION };
	struct snap_strings st = { .buf = NULL };
	struct snap_entry *ent;
	struct snap_name *names;
	size_t off, n_name_refs = 0, n_seg_ent, k = 0, slots = 64;
	unsigned char *img;
	uint32_t *idx;

	if (!reg->finished || reg->layer || reg->n_ent > UINT32_MAX)
		return NULL;
	for_each_entry(reg, f, e)
		if (e->aliases || (e->flags & ENTRY_HIDDEN))
			return NULL;
	for (size_t i = 0; i < reg->n_names; i++)
		n_name_refs += reg->names[i].cnt;
	n_seg_ent = reg->seg_off[reg->n_seg];

	/* entries and names with their strings as offsets; strings go after the entries */
	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	h.entry_size = sizeof(struct snap_entry);
	h.name_size = sizeof(struct snap_name);
	h.header_size = sizeof(h);
	h.csv_len = csv_len;
	h.csv_hash = content_hash(csv, csv_len);
	h.n_files = (uint32_t)reg->n_files;
	h.n_ent = (uint32_t)reg->n_ent;
	h.n_names = reg->n_names;
	h.mask = reg->mask;
	h.n_seg = reg->n_seg;
	h.n_name_refs = (uint32_t)n_name_refs;
	h.n_seg_ent = n_seg_ent;
	memcpy(h.date, reg->date, sizeof(h.date));
	off = align64(sizeof(h));
#define SECTION(s, sz) (h.sec[s].off = off, h.sec[s].size = (sz), off = align64(off + (sz)))
	SECTION(SEC_FILES, reg->n_files * sizeof(struct snap_file));
	SECTION(SEC_ENT, reg->n_ent * sizeof(struct snap_entry));
	st.base = off;
	while (slots < 4 * (reg->n_ent + reg->n_names))
		slots *= 2;
	st.slot = xzalloc(slots * sizeof(*st.slot));
	st.mask = slots - 1;
	ent = xzalloc(reg->n_ent * sizeof(*ent) + 1);
	for_each_entry(reg, f, e) {
		struct snap_entry *o = &ent[k++];

		o->name = (uint32_t)snap_string(&st, e->name);
		o->has_port = e->has_port;
		o->port_lo = e->port_lo;
		o->port_hi = e->port_hi;
		o->transport = e->transport;
		o->status = e->status;
		o->flags = e->flags;
		o->description = (uint32_t)snap_string(&st, e->description);
		o->notes = (uint32_t)snap_string(&st, e->notes);
		o->unauthorized = (uint32_t)snap_string(&st, e->unauthorized);
		o->line = (uint32_t)e->line;
	}
	names = xzalloc(reg->n_names * sizeof(*names) + 1);
	for (size_t i = 0; i < reg->n_names; i++) {
		const struct name_info *n = &reg->names[i];

		names[i] = (struct snap_name){
			.key = (uint32_t)snap_string(&st, n->key), .len = n->len,
			.layer = n->layer, .off = n->off, .cnt = n->cnt,
		};
	}
	SECTION(SEC_STR, st.len);
	SECTION(SEC_SLOTS, ((size_t)reg->mask + 1) * sizeof(struct name_slot));
	SECTION(SEC_NAMES, reg->n_names * sizeof(struct snap_name));
	SECTION(SEC_SEG_OF, 65536 * sizeof(uint16_t));
	SECTION(SEC_SEG_LO, reg->n_seg * sizeof(uint32_t));
	SECTION(SEC_SEG_OFF, ((size_t)reg->n_seg + 1) * sizeof(uint32_t));
	SECTION(SEC_NAME_REFS, n_name_refs * sizeof(uint32_t));
	SECTION(SEC_SEG_ENT, n_seg_ent * sizeof(uint32_t));
#undef SECTION
	h.image_len = off;
	if (off > UINT32_MAX) {         /* entries keep 32-bit string offsets */
		free(ent);
		free(names);
		free(st.buf);
		free(st.slot);
		return NULL;
	}
	img = xzalloc(off);
	memcpy(img, &h, sizeof(h));
	k = 0;
	for_each_entry(reg, f, e) {
		struct snap_file *sf = (struct snap_file *)(img + h.sec[SEC_FILES].off) + f_i;

		if (e == f->ent)
			*sf = (struct snap_file){
				.first = (uint32_t)k, .n = (uint32_t)f->n, .layer = f->layer,
			};
		k++;
	}
	memcpy(img + h.sec[SEC_ENT].off, ent, h.sec[SEC_ENT].size);
	memcpy(img + h.sec[SEC_STR].off, st.buf, st.len);
	memcpy(img + h.sec[SEC_SLOTS].off, reg->slots, h.sec[SEC_SLOTS].size);
	memcpy(img + h.sec[SEC_NAMES].off, names, h.sec[SEC_NAMES].size);
	memcpy(img + h.sec[SEC_SEG_OF].off, reg->seg_of, h.sec[SEC_SEG_OF].size);
	memcpy(img + h.sec[SEC_SEG_LO].off, reg->seg_lo, h.sec[SEC_SEG_LO].size);
	memcpy(img + h.sec[SEC_SEG_OFF].off, reg->seg_off, h.sec[SEC_SEG_OFF].size);
	idx = (uint32_t *)(img + h.sec[SEC_NAME_REFS].off);
	for (size_t i = 0; i < n_name_refs; i++)
		idx[i] = snap_entry_index(reg, reg->name_refs[i]);
	idx = (uint32_t *)(img + h.sec[SEC_SEG_ENT].off);
	for (size_t i = 0; i < n_seg_ent; i++)
		idx[i] = snap_entry_index(reg, reg->seg_ent[i]);
	free(ent);
	free(names);
	free(st.buf);
	free(st.slot);
	*len = off;
	return img;
}
