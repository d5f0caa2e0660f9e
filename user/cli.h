/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* cli.h: the subcommands and their shared options. */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit codes (documented in --help and the README). */
enum cs_exit_code {
	CS_EXIT_OK = 0,
	CS_EXIT_FAIL = 1,    /* tracing or writing failed */
	CS_EXIT_USAGE = 2,   /* bad option, value or output path */
	CS_EXIT_ENV = 3,     /* not privileged, no kernel BTF */
	CS_EXIT_TARGET = 4,  /* no such process, or the command cannot run */
};

int cs_cmd_run(int argc, char **argv);
int cs_cmd_attach(int argc, char **argv);
int cs_cmd_report(int argc, char **argv);

/* Parsers shared by the subcommands; exposed for tests. 0 or -EINVAL. */
int cs_parse_duration(const char *s, uint64_t *ns);
int cs_parse_size(const char *s, size_t *bytes);
int cs_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *v);

/* Print "concscope: <msg>" on stderr. */
void cs_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
