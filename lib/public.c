/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The exported API: thin wrappers over the internal modules, with the
 * public error conventions (outputs untouched on failure).
 */
#include "config-mplace.h"
#include "mplace.h"

const char *mplace_version(void)
{
	return MPLACE_VERSION;
}
