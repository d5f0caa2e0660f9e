/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * ehframe.h: unwind tables from an ELF file's .eh_frame, for the BPF
 * unwinder (bpf/stacks.bpf.h). Each FDE's call frame program is run here,
 * once, into rows "from pc on: CFA = rsp|rbp + offset, rbp saved at CFA +
 * offset (or unchanged), return address at CFA - 8", the x86-64 cases
 * that compiled code uses. A rule the BPF side cannot follow (another
 * register for the CFA, a DWARF expression other than the PLT's) becomes a
 * CS_UW_NONE row, where the unwinding stops. Stripped binaries keep
 * .eh_frame (C++ exceptions and glibc's own unwinding need it); a
 * .debug_frame is not read.
 */
#ifndef CS_EHFRAME_H
#define CS_EHFRAME_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "concscope.h"

/*
 * The rows of one .eh_frame section (its bytes and the virtual address it
 * is loaded at), sorted by pc, in *rows (malloc'd; caller frees). Returns
 * the number of rows, or -errno (-EINVAL: malformed, -ERANGE: addresses
 * past 4 GiB).
 */
long cs_ehframe_parse(const uint8_t *sec, size_t len, uint64_t vaddr, struct cs_uw_row **rows);

/* The row that covers pc (the last one at or below it), or NULL. */
const struct cs_uw_row *cs_ehframe_find(const struct cs_uw_row *rows, size_t n, uint32_t pc);

/* The same for an ELF file: its .eh_frame's rows; -ENOENT when it has none. */
long cs_ehframe_file(const char *path, struct cs_uw_row **rows);

#endif
