/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the /proc/PID/maps, numa_maps and smaps parser (procmem.c).
 * The input is split at its first two NUL bytes into maps, numa_maps and
 * smaps text.  A parse either fails with -EINVAL/-ENOMEM or gives ranges
 * that are ordered, non-overlapping and each classified into a known kind,
 * with page counts no larger than what numa_maps said in total.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "machine/procmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_procmem pm;
	char *buf, *parts[3] = {NULL, NULL, NULL};
	const uint64_t sp[2] = {0x7ffc00000100, 0x7f0001001000};
	int r;

	if (size > 65536)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	parts[0] = buf;
	for (unsigned i = 1; i < 3; i++) {
		char *nul = memchr(parts[i - 1], '\0', (size_t)(buf + size - parts[i - 1]));

		if (!nul || nul == buf + size)
			break;
		parts[i] = nul + 1;
	}
	r = mp_procmem_parse(parts[0], parts[1], parts[2], "/opt/db/bin/dbd", sp, 2, &pm);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			abort();
		free(buf);
		return 0;
	}
	mp_procmem_use_numa_maps(&pm, -EPERM);
	for (unsigned i = 0; i < pm.n; i++) {
		const struct mp_pm_range *rg = &pm.r[i];
		uint64_t sum = rg->elsewhere;

		if (rg->end < rg->start || (i && rg->start < pm.r[i - 1].end))
			abort();
		if (rg->kind <= 0 || rg->kind > MP_PM_KIND_SPECIAL || !mp_pm_kind_name(rg->kind))
			abort();
		for (unsigned k = 0; k < MP_PM_NODES; k++)
			sum += rg->per_node[k];
		if (sum != rg->present)
			abort();
	}
	mp_procmem_free(&pm);
	free(buf);
	return 0;
}
