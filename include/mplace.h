/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef MPLACE_H
#define MPLACE_H
/*
 * libmplace: one scheme for saying where memory lives on Linux.
 *
 * Conventions: every call returns int, >= 0 on success and a negative errno on
 * failure; outputs come last as ret_* and are untouched on failure.
 *   -EINVAL     bad argument or policy text
 *   -ENOENT     no such node or device
 *   -EOPNOTSUPP the kernel lacks the feature
 *   -EXDEV      valid, but cannot be enforced here (see the reason)
 *   -EPERM      privilege needed
 *   -ENOMEM     memory could not be had within the policy
 * The library never prints and never exits.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MPLACE_PUBLIC __attribute__((visibility("default")))

/* "0.1.0" */
MPLACE_PUBLIC const char *mplace_version(void);

#ifdef __cplusplus
}
#endif
#endif
