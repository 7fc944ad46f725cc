/* SPDX-License-Identifier: MIT */
/*
 * Suggestions for an unknown service name: registry names close in spelling.
 */
#include "registry/reg_internal.h"

#define SUGGEST_MAX_LEN 64

struct suggestion {
	unsigned dist;
	const char *name;
};

static int suggestion_cmp(const struct suggestion *a, const struct suggestion *b)
{
	int c;

	if (a->dist != b->dist)
		return a->dist < b->dist ? -1 : 1;
	c = strcasecmp(a->name, b->name);
	return c ? c : strcmp(a->name, b->name);
}

size_t pc_registry_suggest(const struct pc_registry *reg, const char *name,
			   const char **out, size_t max)
{
	size_t qlen = strlen(name), n = 0;
	unsigned cutoff = qlen <= 3 ? 1 : qlen <= 7 ? 2 : 3;
	struct suggestion *best;

	if (!reg->finished)
		PC_BUG("registry lookup before pc_registry_finish()");
	if (qlen == 0 || qlen > SUGGEST_MAX_LEN || max == 0)
		return 0;
	best = xmalloc(max * sizeof(*best));
	for (uint32_t i = 0; i < reg->n_names; i++) {
		const struct name_info *s = &reg->names[i];
		struct suggestion cand;
		size_t j;

		if (s->len > SUGGEST_MAX_LEN ||
		    (s->len > qlen ? s->len - qlen : qlen - s->len) > cutoff)
			continue;
		cand.dist = pc_edit_distance(name, s->key, cutoff);
		cand.name = s->key;
		if (cand.dist > cutoff)
			continue;
		/* insertion into the sorted best list */
		if (n == max && suggestion_cmp(&cand, &best[n - 1]) >= 0)
			continue;
		j = n < max ? n++ : n - 1;
		while (j > 0 && suggestion_cmp(&cand, &best[j - 1]) < 0) {
			best[j] = best[j - 1];
			j--;
		}
		best[j] = cand;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = best[i].name;
	free(best);
	return n;
}
