/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* placeholder: filled in by its owner */
