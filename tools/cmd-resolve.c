/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tool.h"
int cmd_resolve(int argc, char **argv) { return 1; }
int cmd_explain(int argc, char **argv) { return 1; }
