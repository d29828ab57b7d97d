/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tool.h"
int cmd_topo(int argc, char **argv) { return 1; }
