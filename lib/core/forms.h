/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Writing a resolved policy in the spellings other tools read: numactl
 * options, tmpfs mpol=, systemd NUMAPolicy=/NUMAMask=, the OCI
 * linux.memoryPolicy object, and mplace's own canonical text with concrete
 * nodes.  Each form says what it cannot carry instead of dropping it quietly.
 */
#include "combine.h"
#include "policy.h"

/*
 * Write c in 'form' (not MP_FORM_AUTO).  On success *ret_text is the text and
 * *ret_lost a sentence listing each attribute the form cannot express and
 * why ("" when nothing is lost); both malloc'ed.  When the mode itself has no
 * spelling in the form (split outside mplace; prefer-many or
 * weighted-interleave in systemd or mpol=), returns -EXDEV with *ret_text
 * NULL and *ret_lost saying why.  -EINVAL for a bad form or a compiled policy
 * that is not consistent (a mode that needs nodes with none); -ENOMEM.
 * On -EINVAL and -ENOMEM the outputs are untouched.
 */
int mp_compiled_format_as(const struct mp_compiled *c, enum mp_form form, char **ret_text, char **ret_lost);
