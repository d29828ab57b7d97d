/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent reads no OCI (JSON) spelling of a policy: `mplace run` and the
 * daemon resolve what reaches it, and the one place it parses policy text
 * itself (a child's own exe rules, exec.c) reads configuration files, whose
 * values an OCI object is not.  Defining the OCI reader here keeps
 * core/parse-oci.c, and with it json-c, out of every program the agent is
 * preloaded into (doc/agent.md, "Cost").
 */
#include <errno.h>

#include "core/parse.h"

int mp_parse_oci(const char *text, struct mp_policy *ret, struct mp_diag *d)
{
	(void)text;
	(void)ret;
	return mp_parse_fail(d, 0, "write the policy in mplace's own spelling",
			     "the agent does not read the OCI (JSON) spelling of a policy");
}
