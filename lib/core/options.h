/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The options of a policy, by name: the one list.  The policy language
 * reads them (parse-mplace.c), configuration scopes take them as keys
 * (config.c), the canonical form writes them (policy.c) and the fold's
 * trace names the fields they set (combine.c), all from this table; the
 * presets likewise.
 *
 * X(ID, NAME, VALUE, CONFIG, HINT):
 *   VALUE   FLAG     no value ("static")
 *           YESNO    alone, or =yes/=no ("strict", "strict=no")
 *           VALUE    NAME=VALUE ("weights=auto")
 *           PHYS     phys<SIZE or phys=START-END
 *           MIGRATOR alone, or =MECHANISM ("automigrate=damon")
 *           SIZED    NAME SIZE=VALUE ("order.2M=0-1")
 *   CONFIG  1: a key of a configuration scope too
 *   HINT    1: named in the list of options an error shows
 * In the order the hints list them.
 */
#include <stdbool.h>
#include <stddef.h>

#define MP_OPTIONS(X)                                 \
	X(ALLOW, "allow", VALUE, 1, 1)                \
	X(NODES, "nodes", VALUE, 0, 1)                \
	X(PHYS, "phys", PHYS, 1, 1)                   \
	X(ORDER_SIZE, "order.", SIZED, 1, 1)          \
	X(STRICT, "strict", YESNO, 1, 1)              \
	X(FALLBACK, "fallback", VALUE, 1, 1)          \
	X(WEIGHTS, "weights", VALUE, 1, 1)            \
	X(ORDER, "order", VALUE, 1, 1)                \
	X(AUTOMIGRATE, "automigrate", MIGRATOR, 1, 1) \
	X(REPLICATE, "replicate", YESNO, 1, 1)        \
	X(HOME, "home", VALUE, 1, 1)                  \
	X(STATIC, "static", FLAG, 0, 1)               \
	X(RELATIVE, "relative", FLAG, 0, 1)           \
	X(NODEFLAGS, "nodeflags", VALUE, 0, 0)        \
	X(MIGRATE, "migrate", YESNO, 1, 1)

/* X(NAME, TEXT): a word that stands for policy text, expanded in place. */
#define MP_PRESETS(X)                               \
	X("gfp:thisnode", "bind:local strict")      \
	X("gfp:dma", "phys<16M strict")             \
	X("gfp:dma32", "phys<4G strict")            \
	X("gfp:hardwall", "allow=cpuset strict")    \
	X("hbw", "bind:best:bandwidth strict")      \
	X("hbw-preferred", "prefer:best:bandwidth") \
	X("capacity", "bind:best:capacity")         \
	X("latency", "bind:best:latency")

enum mp_option {
#define MP_OPTION_ID(id, name, value, config, hint) MP_OPT_##id,
	MP_OPTIONS(MP_OPTION_ID)
#undef MP_OPTION_ID
		MP_OPT__COUNT,
};

enum mp_option_value {
	MP_OV_FLAG,
	MP_OV_YESNO,
	MP_OV_VALUE,
	MP_OV_PHYS,
	MP_OV_MIGRATOR,
	MP_OV_SIZED,
};

struct mp_option_info {
	const char *name;
	enum mp_option_value value;
	bool config, hint;
};

extern const struct mp_option_info mp_options[MP_OPT__COUNT];

/* The option named s[0, len) exactly (not ORDER_SIZE, a prefix), or -1. */
int mp_option_lookup(const char *s, size_t len);

/* How each option is written, for "did you mean": "allow=", "strict",
 * "phys<", "phys=", "order.", ... as a list of string literals. */
#define MP_OPTION_WORD_FLAG(n)			      n,
#define MP_OPTION_WORD_YESNO(n)			      n,
#define MP_OPTION_WORD_VALUE(n)			      n "=",
#define MP_OPTION_WORD_PHYS(n)			      n "<", n "=",
#define MP_OPTION_WORD_MIGRATOR(n)		      n,
#define MP_OPTION_WORD_SIZED(n)			      n,
#define MP_OPTION_WORD(id, name, value, config, hint) MP_OPTION_WORD_##value(name)
#define MP_PRESET_WORD(name, text)		      name,

/* The options an error lists, as one string literal: " allow= nodes= ...". */
#define MP_OPTION_HINT_0_FLAG(n)
#define MP_OPTION_HINT_0_YESNO(n)
#define MP_OPTION_HINT_0_VALUE(n)
#define MP_OPTION_HINT_0_PHYS(n)
#define MP_OPTION_HINT_0_MIGRATOR(n)
#define MP_OPTION_HINT_0_SIZED(n)
#define MP_OPTION_HINT_1_FLAG(n)		      " " n
#define MP_OPTION_HINT_1_YESNO(n)		      " " n
#define MP_OPTION_HINT_1_VALUE(n)		      " " n "="
#define MP_OPTION_HINT_1_PHYS(n)		      " " n "< " n "="
#define MP_OPTION_HINT_1_MIGRATOR(n)		      " " n
#define MP_OPTION_HINT_1_SIZED(n)		      " " n "SIZE="
#define MP_OPTION_HINT(id, name, value, config, hint) MP_OPTION_HINT_##hint##_##value(name)
#define MP_PRESET_HINT(name, text)		      " " name

/* The configuration keys among them, as one string literal: ", allow, phys,
 * order.SIZE, ...". */
#define MP_OPTION_KEY_0_FLAG(n)
#define MP_OPTION_KEY_0_YESNO(n)
#define MP_OPTION_KEY_0_VALUE(n)
#define MP_OPTION_KEY_0_PHYS(n)
#define MP_OPTION_KEY_0_MIGRATOR(n)
#define MP_OPTION_KEY_0_SIZED(n)
#define MP_OPTION_KEY_1_FLAG(n)			     ", " n
#define MP_OPTION_KEY_1_YESNO(n)		     ", " n
#define MP_OPTION_KEY_1_VALUE(n)		     ", " n
#define MP_OPTION_KEY_1_PHYS(n)			     ", " n
#define MP_OPTION_KEY_1_MIGRATOR(n)		     ", " n
#define MP_OPTION_KEY_1_SIZED(n)		     ", " n "SIZE"
#define MP_OPTION_KEY(id, name, value, config, hint) MP_OPTION_KEY_##config##_##value(name)
