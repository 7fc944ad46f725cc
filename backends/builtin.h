/* SPDX-License-Identifier: MIT */
/* The built-in backends, one extern each; backends/table.c lists them. */
#ifndef PORTCULLIS_BACKENDS_BUILTIN_H
#define PORTCULLIS_BACKENDS_BUILTIN_H

#include <portcullis/backend.h>

extern const struct pc_backend pc_backend_iptables;
extern const struct pc_backend pc_backend_ip6tables;
extern const struct pc_backend pc_backend_nft;
extern const struct pc_backend pc_backend_pf;

#endif
