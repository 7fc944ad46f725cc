/* SPDX-License-Identifier: MIT */
/*
 * The registry's index and lookups (design: registry/reg_internal.h).
 */
#include "registry/reg_internal.h"

/* Zeroed, 64-byte aligned, freed with the registry. */
void *big_alloc(struct pc_registry *reg, size_t n)
{
	struct big_chunk *c = reg->big;
	void *p;

	n = (n + 63) & ~(size_t)63;
	if (!c || c->size - c->used < n) {
		c = xzalloc(sizeof(*c));
		c->size = n > BIG_CHUNK ? n : BIG_CHUNK;
		c->base = xcalloc(1, c->size);
		c->next = reg->big;
		reg->big = c;
	}
	p = c->base + c->used;
	c->used += n;
	return p;
}

/* Shrinks @p, the last allocation, to @n bytes. */
void big_trim(struct pc_registry *reg, void *p, size_t n)
{
	struct big_chunk *c = reg->big;

	if (c && (char *)p >= c->base && (char *)p < c->base + c->used)
		c->used = (size_t)((char *)p - c->base) + ((n + 63) & ~(size_t)63);
}


/* ---------------------------------------------------------------------- */
/* Small helpers shared by both formats                                   */

static const char *const transport_names[] = {
	[PC_TRANSPORT_TCP] = "tcp",
	[PC_TRANSPORT_UDP] = "udp",
	[PC_TRANSPORT_SCTP] = "sctp",
	[PC_TRANSPORT_DCCP] = "dccp",
};

const char *pc_transport_name(unsigned t)
{
	return t < __PC_TRANSPORT_MAX ? transport_names[t] : "any";
}

int transport_parse_n(const char *s, size_t n)
{
	for (unsigned t = 0; t < __PC_TRANSPORT_MAX; t++) {
		const char *name = transport_names[t];
		size_t i;

		for (i = 0; i < n && name[i] == (char)fold((unsigned char)s[i]); i++)
			;
		if (i == n && name[i] == '\0')
			return (int)t;
	}
	return -1;
}

int pc_transport_parse(const char *s)
{
	return transport_parse_n(s, strlen(s));
}

unsigned pc_transport_proto(unsigned t)
{
	static const unsigned proto[] = {
		[PC_TRANSPORT_TCP] = 6,
		[PC_TRANSPORT_UDP] = 17,
		[PC_TRANSPORT_SCTP] = 132,
		[PC_TRANSPORT_DCCP] = 33,
	};

	return t < __PC_TRANSPORT_MAX ? proto[t] : 0;
}

const char *pc_reg_status_name(unsigned status)
{
	static const char *const names[] = {
		[PC_REG_ASSIGNED] = "assigned",
		[PC_REG_RESERVED] = "reserved",
		[PC_REG_UNASSIGNED] = "unassigned",
		[PC_REG_DEASSIGNED] = "de-assigned",
	};

	return status < __PC_REG_STATUS_MAX ? names[status] : "?";
}

static const char *const class_names[] = {
	[PC_PORT_SYSTEM] = "system",
	[PC_PORT_USER] = "user",
	[PC_PORT_DYNAMIC] = "dynamic",
};

enum pc_port_class pc_port_class_of(uint16_t port)
{
	if (port < 1024)
		return PC_PORT_SYSTEM;
	if (port < 49152)
		return PC_PORT_USER;
	return PC_PORT_DYNAMIC;
}

const char *pc_port_class_name(enum pc_port_class c)
{
	return (unsigned)c < __PC_PORT_CLASS_MAX ? class_names[c] : "?";
}

int pc_port_class_parse(const char *name)
{
	for (unsigned c = 0; c < __PC_PORT_CLASS_MAX; c++)
		if (strcmp(name, class_names[c]) == 0)
			return (int)c;
	return -1;
}

void pc_port_class_range(enum pc_port_class c, uint16_t *lo, uint16_t *hi)
{
	static const uint16_t range[][2] = {
		[PC_PORT_SYSTEM] = { 0, 1023 },
		[PC_PORT_USER] = { 1024, 49151 },
		[PC_PORT_DYNAMIC] = { 49152, 65535 },
	};

	if ((unsigned)c >= __PC_PORT_CLASS_MAX)
		PC_BUG("port class %d", (int)c);
	*lo = range[c][0];
	*hi = range[c][1];
}


/* The index                                                              */

struct pc_registry *pc_registry_create(void)
{
	struct pc_registry *reg = xzalloc(sizeof(*reg));

	reg->arena = pc_arena_create();
	reg->source = "";
	return reg;
}

/* The old index's memory stays in the big chunks until destroy. */
static void index_clear(struct pc_registry *reg)
{
	reg->slots = NULL;
	reg->names = NULL;
	reg->name_refs = NULL;
	reg->seg_of = NULL;
	reg->seg_lo = NULL;
	reg->seg_off = NULL;
	reg->seg_ent = NULL;
	reg->n_seg = 0;
	reg->n_names = 0;
	reg->mask = 0;
}

void pc_registry_destroy(struct pc_registry *reg)
{
	struct big_chunk *c, *next;

	if (!reg)
		return;
	for (c = reg->big; c; c = next) {
		next = c->next;
		free(c->base);
		free(c);
	}
	free(reg->files);
	pc_arena_destroy(reg->arena);
	pc_catalog_destroy(reg->catalog);
	free(reg);
}

void pc_registry_set_catalog(struct pc_registry *reg, struct pc_catalog *cat)
{
	pc_catalog_destroy(reg->catalog);
	reg->catalog = cat;
}

const struct pc_catalog *pc_registry_catalog(const struct pc_registry *reg)
{
	return reg ? reg->catalog : NULL;
}

/* The name index being built. */
struct name_build {
	struct name_slot *slots;
	uint32_t mask;
	struct name_info *names;
	uint32_t n_names;
};

/* Returns the index of @name (hash @h, @len bytes) in b->names, adding it. */
static uint32_t name_insert(struct name_build *b, const char *name, uint32_t len,
			    uint32_t h, uint32_t layer)
{
	uint32_t i;

	for (i = h & b->mask; b->slots[i].name; i = (i + 1) & b->mask) {
		struct name_info *n = &b->names[b->slots[i].name - 1];

		if (b->slots[i].hash == h && n->len == len &&
		    name_equal(n->key, name, len)) {
			if (layer > n->layer)
				n->layer = layer;
			return b->slots[i].name - 1;
		}
	}
	b->names[b->n_names] = (struct name_info){
		.key = name, .len = len, .layer = layer,
	};
	b->slots[i] = (struct name_slot){ .hash = h, .name = ++b->n_names };
	return b->n_names - 1;
}

/*
 * Names are visible from the highest layer (the last overlay) defining
 * them; entries of lower layers under that name are hidden.
 */
static void build_names(struct pc_registry *reg)
{
	struct name_build b = { .n_names = 0 };
	struct name_ref *refs;
	const struct pc_reg_entry **name_refs;
	size_t n_refs = 0, size = 16, total = 0, distinct = 0;
	uint32_t *fill;
	const char *prev_name = NULL;

	for_each_entry(reg, f, e) {
		e->flags &= (uint8_t)~ENTRY_HIDDEN;
		if (!e->name)
			continue;
		n_refs++;
		distinct += e->name != prev_name;
		prev_name = e->name;
		for (const char *const *a = e->aliases; a && *a; a++) {
			n_refs++;
			distinct++;
		}
	}
	while (size < 2 * distinct)
		size *= 2;
	b.slots = big_alloc(reg, size * sizeof(*b.slots));
	b.mask = (uint32_t)size - 1;
	b.names = big_alloc(reg, distinct * sizeof(*b.names));
	refs = big_alloc(reg, n_refs * sizeof(*refs));
	n_refs = 0;
	prev_name = NULL;
	/* every name hashed first, then inserted (below) */
	for_each_entry(reg, f, e) {
		struct name_ref *r;

		if (!e->name)
			continue;
		r = &refs[n_refs++];
		*r = (struct name_ref){ .e = e, .name = e->name, .layer = f->layer };
		/* consecutive records share their name's string (csv_cb_field) */
		if (e->name == prev_name)
			r->slot = SAME_NAME;
		else
			r->hash = name_hash(e->name, &r->len);
		prev_name = e->name;
		for (const char *const *a = e->aliases; a && *a; a++) {
			struct pc_reg_entry *copy =
				pc_arena_memdup(reg->arena, e, sizeof(*e));

			copy->flags |= PC_REG_ALIAS;
			r = &refs[n_refs++];
			*r = (struct name_ref){ .e = copy, .name = *a, .layer = f->layer };
			r->hash = name_hash(*a, &r->len);
			prev_name = NULL;
		}
	}
	for (size_t i = 0; i < n_refs; i++) {
		if (refs[i].slot == SAME_NAME && i > 0)
			refs[i].slot = refs[i - 1].slot;
		else
			refs[i].slot = name_insert(&b, refs[i].name, refs[i].len,
						   refs[i].hash, refs[i].layer);
	}
	/* count the visible refs of each name, then place them in file order */
	for (size_t i = 0; i < n_refs; i++) {
		struct name_info *s = &b.names[refs[i].slot];

		if (refs[i].layer == s->layer)
			s->cnt++;
		else if (!(refs[i].e->flags & PC_REG_ALIAS))
			refs[i].e->flags |= ENTRY_HIDDEN;
	}
	for (size_t i = 0; i < b.n_names; i++) {
		b.names[i].off = (uint32_t)total;
		total += b.names[i].cnt;
	}
	name_refs = big_alloc(reg, total * sizeof(*name_refs));
	fill = big_alloc(reg, b.n_names * sizeof(*fill));
	for (size_t i = 0; i < n_refs; i++) {
		const struct name_info *s = &b.names[refs[i].slot];

		if (refs[i].layer == s->layer)
			name_refs[s->off + fill[refs[i].slot]++] = refs[i].e;
	}
	reg->slots = b.slots;
	reg->mask = b.mask;
	reg->names = b.names;
	reg->n_names = b.n_names;
	reg->name_refs = name_refs;
}

static inline bool in_port_index(const struct pc_reg_entry *e)
{
	return e->has_port && !(e->flags & ENTRY_HIDDEN);
}

static void build_ports(struct pc_registry *reg)
{
	uint64_t bits[65536 / 64 + 1] = { 0 };
	uint32_t k = 0, n_seg = 0, *fill, *seg_lo, *seg_off;
	uint16_t *seg_of;
	const struct pc_reg_entry **seg_ent;

	bits[0] |= 1;
	for_each_entry(reg, f, e) {
		if (!in_port_index(e))
			continue;
		bits[e->port_lo / 64] |= 1ull << (e->port_lo % 64);
		bits[(e->port_hi + 1u) / 64] |= 1ull << ((e->port_hi + 1u) % 64);
	}
	bits[65536 / 64] = 0;	/* 65536 is the end, not a segment */
	for (size_t w = 0; w < PC_ARRAY_SIZE(bits); w++)
		n_seg += (uint32_t)__builtin_popcountll(bits[w]);
	seg_lo = big_alloc(reg, n_seg * sizeof(*seg_lo));
	for (size_t w = 0; w < PC_ARRAY_SIZE(bits); w++)
		for (uint64_t b = bits[w]; b; b &= b - 1)
			seg_lo[k++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
	seg_of = big_alloc(reg, 65536 * sizeof(*seg_of));
	for (k = 0; k < n_seg; k++) {
		uint32_t end = k + 1 < n_seg ? seg_lo[k + 1] : 65536;

		for (uint32_t p = seg_lo[k]; p < end; p++)
			seg_of[p] = (uint16_t)k;
	}
	seg_off = big_alloc(reg, (n_seg + 1) * sizeof(*seg_off));
	for_each_entry(reg, f, e) {
		if (!in_port_index(e))
			continue;
		for (k = seg_of[e->port_lo]; k <= seg_of[e->port_hi]; k++)
			seg_off[k + 1]++;
	}
	for (k = 0; k < n_seg; k++)
		seg_off[k + 1] += seg_off[k];
	seg_ent = big_alloc(reg, seg_off[n_seg] * sizeof(*seg_ent));
	fill = big_alloc(reg, n_seg * sizeof(*fill));
	memcpy(fill, seg_off, n_seg * sizeof(*fill));
	for_each_entry(reg, f, e) {
		if (!in_port_index(e))
			continue;
		for (k = seg_of[e->port_lo]; k <= seg_of[e->port_hi]; k++)
			seg_ent[fill[k]++] = e;
	}
	reg->seg_of = seg_of;
	reg->seg_lo = seg_lo;
	reg->seg_off = seg_off;
	reg->n_seg = n_seg;
	reg->seg_ent = seg_ent;
}

void pc_registry_finish(struct pc_registry *reg)
{
	/* nothing loaded since the last build, or the thawed snapshot's own */
	if (!reg->index_current) {
		index_clear(reg);
		build_names(reg);
		build_ports(reg);
		reg->index_current = true;
	}
	reg->finished = true;
}

size_t pc_registry_find_name(const struct pc_registry *reg, const char *name,
			     const struct pc_reg_entry *const **out)
{
	uint32_t len, i, h;

	if (!reg->finished)
		PC_BUG("registry lookup before pc_registry_finish()");
	h = name_hash(name, &len);
	for (i = h & reg->mask; reg->slots[i].name; i = (i + 1) & reg->mask) {
		const struct name_info *n;

		if (reg->slots[i].hash != h)
			continue;
		n = &reg->names[reg->slots[i].name - 1];
		if (n->len == len && name_equal(n->key, name, len)) {
			*out = reg->name_refs + n->off;
			return n->cnt;
		}
	}
	*out = NULL;
	return 0;
}

size_t pc_registry_find_port(const struct pc_registry *reg, uint16_t port,
			     unsigned transport,
			     const struct pc_reg_entry **out, size_t max)
{
	size_t n = 0;
	uint32_t k;

	if (!reg->finished)
		PC_BUG("registry lookup before pc_registry_finish()");
	k = reg->seg_of[port];
	for (uint32_t i = reg->seg_off[k]; i < reg->seg_off[k + 1]; i++) {
		const struct pc_reg_entry *e = reg->seg_ent[i];

		if (transport < __PC_TRANSPORT_MAX && e->transport != transport &&
		    e->transport != PC_REG_NO_TRANSPORT)
			continue;
		if (n < max)
			out[n] = e;
		n++;
	}
	return n;
}

size_t pc_registry_count_range(const struct pc_registry *reg, uint16_t lo,
			       uint16_t hi, size_t counts[__PC_REG_STATUS_MAX])
{
	size_t total = 0;

	if (!reg->finished)
		PC_BUG("registry lookup before pc_registry_finish()");
	if (counts)
		memset(counts, 0, __PC_REG_STATUS_MAX * sizeof(*counts));
	if (lo > hi)
		return 0;
	for (uint32_t k = reg->seg_of[lo]; k <= reg->seg_of[hi]; k++) {
		for (uint32_t i = reg->seg_off[k]; i < reg->seg_off[k + 1]; i++) {
			const struct pc_reg_entry *e = reg->seg_ent[i];
			uint16_t first = e->port_lo > lo ? e->port_lo : lo;

			/* an entry spanning several segments counts in its first */
			if (reg->seg_of[first] != k)
				continue;
			if (counts)
				counts[e->status]++;
			total++;
		}
	}
	return total;
}


size_t pc_registry_count(const struct pc_registry *reg)
{
	return reg->n_ent;
}

const struct pc_reg_entry *pc_registry_entry(const struct pc_registry *reg, size_t i)
{
	for (size_t f = 0; f < reg->n_files; f++) {
		if (i < reg->files[f].n)
			return &reg->files[f].ent[i];
		i -= reg->files[f].n;
	}
	return NULL;
}

const char *pc_registry_source(const struct pc_registry *reg)
{
	return reg->source;
}

const char *pc_registry_date(const struct pc_registry *reg)
{
	return reg->date;
}
