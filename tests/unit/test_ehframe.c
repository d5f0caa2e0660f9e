// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * test_ehframe: the unwind rows built from .eh_frame (user/ehframe.c), on a
 * hand-made section and against elfutils' libdw (dwarf_cfi_addrframe) on
 * real files: libc, the test program built without frame pointers, and
 * redis-server where it is installed.
 * Every row the BPF side follows must say what libdw says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include "ehframe.h"

/* push %rbp; mov %rsp,%rbp; ... leave; ret: the classic frame, by hand. */
static void test_handmade(void **state)
{
	static const uint8_t sec[] = {
		/* CIE: length 20, id 0, version 1, "zR", code 1, data -8, ra 16,
		 * aug len 1, enc pcrel|sdata4, def_cfa rsp+8, offset r16 at cfa-8, nops */
		20, 0, 0, 0, 0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b,
		0x0c, 7, 8, 0x90, 1, 0, 0,
		/* FDE: length 28, CIE pointer 28, begin (pcrel), range 0x20, aug 0,
		 * advance 1; def_cfa_offset 16; offset rbp at cfa-16; advance 3;
		 * def_cfa_register rbp; advance 0x18; def_cfa rsp+8 */
		28, 0, 0, 0, 28, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0,
		0x41, 0x0e, 16, 0x86, 2, 0x43, 0x0d, 6, 0x58, 0x0c, 7, 8, 0, 0,
		0, 0, 0, 0, /* terminator */
	};
	uint8_t buf[sizeof(sec)];
	struct cs_uw_row *rows;
	const struct cs_uw_row *r;
	long n;
	int32_t begin = 0x1000 - (0x400000 + 32); /* pc_begin = 0x1000, field at +32 */

	memcpy(buf, sec, sizeof(buf));
	memcpy(buf + 32, &begin, 4);
	n = cs_ehframe_parse(buf, sizeof(buf), 0x400000, &rows);
	assert_true(n >= 4);
	r = cs_ehframe_find(rows, (size_t)n, 0x1000);
	assert_int_equal(r->type, CS_UW_RSP);
	assert_int_equal(r->cfa, 8);
	assert_int_equal(r->rbp, 0);
	r = cs_ehframe_find(rows, (size_t)n, 0x1002);
	assert_int_equal(r->type, CS_UW_RSP);
	assert_int_equal(r->cfa, 16);
	assert_int_equal(r->rbp, -16);
	r = cs_ehframe_find(rows, (size_t)n, 0x1010);
	assert_int_equal(r->type, CS_UW_RBP);
	assert_int_equal(r->cfa, 16);
	r = cs_ehframe_find(rows, (size_t)n, 0x101c);
	assert_int_equal(r->type, CS_UW_RSP);
	assert_int_equal(r->cfa, 8);
	r = cs_ehframe_find(rows, (size_t)n, 0x1020);
	assert_int_equal(r->type, CS_UW_NONE);
	free(rows);
	/* damaged: a length past the end */
	buf[0] = 200;
	assert_true(cs_ehframe_parse(buf, sizeof(buf), 0x400000, &rows) < 0);
}

/* "reg + off" from a libdw expression, for the CFA; false if not that. */
static bool breg(const Dwarf_Op *ops, size_t n, int *reg, int64_t *off)
{
	if (n != 1)
		return false;
	if (ops[0].atom == DW_OP_bregx) {
		*reg = (int)ops[0].number;
		*off = (int64_t)ops[0].number2;
		return true;
	}
	if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		*reg = ops[0].atom - DW_OP_breg0;
		*off = (int64_t)ops[0].number;
		return true;
	}
	return false;
}

/* Where libdw says register reg is saved, as an offset from the CFA. */
static int saved_at(Dwarf_Frame *f, int reg, int64_t *off)
{
	Dwarf_Op mem[3], *ops;
	size_t n, i;
	int64_t v = 0;

	if (dwarf_frame_register(f, reg, mem, &ops, &n))
		return -1;
	if (!n)
		return ops ? 2 : 1; /* 2: undefined, 1: same value */
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return -1;
	for (i = 1; i < n; i++) {
		if (ops[i].atom == DW_OP_consts || ops[i].atom == DW_OP_constu)
			v = (int64_t)ops[i].number;
		else if (ops[i].atom == DW_OP_plus_uconst)
			v += (int64_t)ops[i].number;
		else if (ops[i].atom != DW_OP_plus)
			return -1;
	}
	*off = v;
	return 0;
}

struct cmp {
	unsigned long checked, followed, none, mismatched;
};

/* One pc: our row against libdw's frame. */
static void check_pc(Dwarf_CFI *cfi, const struct cs_uw_row *rows, size_t n, uint64_t pc,
		     struct cmp *c)
{
	const struct cs_uw_row *r = cs_ehframe_find(rows, n, (uint32_t)pc);
	Dwarf_Frame *f = NULL;
	Dwarf_Op *ops;
	size_t nops;
	int reg, rs;
	int64_t off, rbp = 0, ra = 0;
	bool ok;

	if (dwarf_cfi_addrframe(cfi, pc, &f) || !f)
		return; /* libdw has no frame here: nothing to compare */
	c->checked++;
	if (!r || r->type == CS_UW_NONE || r->type == CS_UW_PLT) {
		c->none += !r || r->type == CS_UW_NONE;
		free(f);
		return;
	}
	c->followed++;
	rs = saved_at(f, 16, &ra);
	if (r->type == CS_UW_END) {
		ok = rs == 2;
	} else {
		ok = !dwarf_frame_cfa(f, &ops, &nops) && breg(ops, nops, &reg, &off) &&
		     reg == (r->type == CS_UW_RSP ? 7 : 6) && off == r->cfa && rs == 0 && ra == -8;
		rs = saved_at(f, 6, &rbp);
		ok = ok && ((r->rbp == 0 && rs == 1) || (rs == 0 && rbp == r->rbp));
	}
	if (!ok && c->mismatched++ < 5)
		fprintf(stderr, "mismatch at 0x%llx: type %u cfa %d rbp %d\n",
			(unsigned long long)pc, r->type, r->cfa, r->rbp);
	free(f);
}

/* Every row start, and the byte before each, of a real file (the caller knows it is there). */
static void compare_file(const char *path, unsigned long min_rows)
{
	struct cs_uw_row *rows;
	struct cmp c = { 0 };
	long n = cs_ehframe_file(path, &rows), i;
	Dwarf_CFI *cfi;
	Elf *elf;
	int fd;

	if (n < (long)min_rows)
		fail_msg("%s: %ld unwind rows, expected at least %lu", path, n, min_rows);
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cfi = dwarf_getcfi_elf(elf);
	assert_non_null(cfi);
	for (i = 0; i < n; i++) {
		check_pc(cfi, rows, (size_t)n, rows[i].pc, &c);
		if (rows[i].pc)
			check_pc(cfi, rows, (size_t)n, rows[i].pc - 1, &c);
	}
	fprintf(stderr, "%s: %ld rows; %lu pcs checked, %lu followed, %lu without a rule, "
		"%lu mismatched\n", path, n, c.checked, c.followed, c.none, c.mismatched);
	assert_int_equal(c.mismatched, 0);
	assert_true(c.followed > c.checked * 9 / 10);
	dwarf_cfi_end(cfi);
	elf_end(elf);
	close(fd);
	free(rows);
}

/* A file of the system's that another distribution or architecture may not have: skipped,
 * visibly, where it is not. */
static void compare_system_file(const char *path, unsigned long min_rows)
{
	if (access(path, R_OK)) {
		fprintf(stderr, "%s is not here: skipped\n", path);
		skip();
	}
	compare_file(path, min_rows);
}

static void test_libc_against_libdw(void **state)
{
	compare_system_file("/lib/x86_64-linux-gnu/libc.so.6", 1000);
}

/* The test program built without frame pointers: always there, `make test-unit` builds it
 * first and says where (CS_BUILD, the build directory). */
static void test_program_against_libdw(void **state)
{
	char path[4096];
	const char *b = getenv("CS_BUILD");

	snprintf(path, sizeof(path), "%s/tests/progs/stackhot", b ? b : "build");
	if (access(path, R_OK))
		fail_msg("%s is not built: run this through `make test-unit` (or set CS_BUILD "
			 "to the build directory)", path);
	compare_file(path, 10);
}

static void test_redis_against_libdw(void **state)
{
	compare_system_file("/usr/bin/redis-server", 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handmade),
		cmocka_unit_test(test_libc_against_libdw),
		cmocka_unit_test(test_program_against_libdw),
		cmocka_unit_test(test_redis_against_libdw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
