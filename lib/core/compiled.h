/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The compiled policy as one line of text, so that `mplace run` (or the
 * daemon) can hand it to the preload agent through the environment or a
 * socket, and the agent can apply it at process start without reading the
 * topology or resolving anything.
 *
 *   mplace-compiled/1 mode=weighted-interleave kmode=6 kflags=0 nodes=1,3 allowed=1,3
 *     strict=0 narrows=0 fallback=- weights=1:4,3:1 order=0 omask=- phys=0-ffffffffffffffff
 *     am=off rep=0 mig=1 home=-1
 *
 * Only placement fields travel; warnings and the trace stay with whoever
 * resolved.  The parser accepts exactly the lines the writer makes: every
 * key once, in this order, each value in the writer's one spelling (node
 * lists ascending with ranges, no leading zeros, lower-case hex, "-" for
 * none) and within what the placement code can carry out (weights 1-65535).
 * It never allocates: it is safe in the agent before main and after fork.
 */
#include <stddef.h>

#include "combine.h"

/* Writes into buf (snprintf semantics: returns the length it needs). */
int mp_compiled_serialize(const struct mp_compiled *c, char *buf, size_t size);
/* -EINVAL on any deviation from what mp_compiled_serialize writes; *ret is
 * untouched then.  ret's warnings and trace are left empty. */
int mp_compiled_deserialize(const char *s, struct mp_compiled *ret);
