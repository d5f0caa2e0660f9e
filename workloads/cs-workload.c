/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * cs-workload: one job, four concurrency models, for concscope to profile.
 *
 * See usage() for the command line and cs-workload.h for the job. This file
 * parses the options, runs the chosen model, combines and checks the
 * partial results against the closed form and prints the result line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs-workload.h"

/*
 * Defaults, measured on the 2-CPU reference machine (wl_value costs about
 * 2.8 ns a number there): with 4 tasks, cpu takes ~0.95 s in the parallel
 * models and ~1.85 s in the serial ones (threads-gil, async); io ~1.0 s
 * against cs-ioserver's default 10 ms latency; mixed 1.1 to 1.6 s.
 */
#define DEF_SIZE_CPU 10240   /* x 65536 numbers = 671 088 640 numbers */
#define DEF_SIZE_MIXED 8192  /* x 65536 numbers, cut into the requests */
#define DEF_REQUESTS_IO 100  /* per task, ~1 s at the default 10 ms latency */
#define DEF_REQUESTS_MIXED 50
#define DEF_SWITCH_US 5000   /* CPython's default sys.getswitchinterval() */

#define MAX_SIZE (1ULL << 24)
#define MAX_REQUESTS 1000000ULL

static const char *const model_names[] = {
	[WL_PROCESSES] = "processes",
	[WL_THREADS] = "threads",
	[WL_THREADS_GIL] = "threads-gil",
	[WL_ASYNC] = "async",
};
static const char *const work_names[] = {
	[WL_CPU] = "cpu",
	[WL_IO] = "io",
	[WL_MIXED] = "mixed",
};

static void usage(void)
{
	printf(
"Usage: cs-workload --model=MODEL --work=WORK [OPTION]...\n"
"Run the same job under one of four concurrency models, for concscope.\n"
"The job is split into --tasks equal parts; the partial results are\n"
"combined and checked against a closed form at the end.\n"
"\n"
"  --model=MODEL   how the tasks run (required):\n"
"                    processes    one fork()ed worker process per task; the\n"
"                                 parent reads each result from a pipe\n"
"                    threads      one pthread per task, joined by main\n"
"                    threads-gil  like threads, but behind one global lock\n"
"                                 (the mutex `gil`) handed over every switch\n"
"                                 interval, like CPython's GIL; prints how\n"
"                                 many turns each thread got\n"
"                    async        one thread, one epoll loop, the tasks as\n"
"                                 cooperative state machines\n"
"  --work=WORK     what each task does (required):\n"
"                    cpu    sums its part of the sequence x_i (mean 32767.5)\n"
"                    io     makes --requests requests to the server, one at\n"
"                           a time, on its own TCP connection\n"
"                    mixed  alternates a compute step (its part of the cpu\n"
"                           job cut into --requests steps) with a request\n"
"  --tasks=N       number of tasks, 1..64 (default 4)\n"
"  --size=N        cpu/mixed: total job size in units of 65536 numbers,\n"
"                  1..16777216 (default %d for cpu, %d for mixed); the\n"
"                  same total whatever --tasks and --model are\n"
"  --requests=M    io/mixed: requests per task, 1..1000000 (default %d for\n"
"                  io, %d for mixed)\n"
"  --server=HOST:PORT  io/mixed (required there): a running cs-ioserver,\n"
"                  e.g. 127.0.0.1:40123\n"
"  --switch-interval-us=US  threads-gil: how long a waiting thread lets the\n"
"                  holder run before it asks for the lock, 100..1000000\n"
"                  (default %d, CPython's 5 ms)\n"
"  -h, --help      show this help\n"
"\n"
"Examples:\n"
"  cs-workload --model=threads --work=cpu\n"
"  cs-workload --model=threads-gil --work=cpu --tasks=4 --switch-interval-us=1000\n"
"  coproc SRV { cs-ioserver; }; read -r port <&\"${SRV[0]}\"  # prints its port\n"
"  cs-workload --model=async --work=io --tasks=16 --server=127.0.0.1:$port\n"
"  cs-workload --model=processes --work=mixed --size=1024 --server=127.0.0.1:$port\n"
"  kill $SRV_PID\n"
"\n"
"Output: one line at the end,\n"
"  cs-workload: model=M work=W tasks=N [average=A expected=E] [requests=R] ok\n"
"(average for cpu/mixed, requests for io/mixed: the total of verified\n"
"replies), preceded for threads-gil by\n"
"  cs-workload: gil turns: T1 T2 ...\n"
"Exit status: 0 success, 1 wrong result or failure, 2 bad command line.\n",
	       DEF_SIZE_CPU, DEF_SIZE_MIXED, DEF_REQUESTS_IO, DEF_REQUESTS_MIXED,
	       DEF_SWITCH_US);
}

static void __attribute__((noreturn, format(printf, 1, 2))) bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", wl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	exit(2);
}

static uint64_t parse_num(const char *opt, const char *s, uint64_t min,
			  uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		bad_usage("--%s: '%s' is not a number", opt, s);
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		bad_usage("--%s: '%s' is not in %" PRIu64 "..%" PRIu64, opt, s, min,
			  max);
	return v;
}

static int parse_name(const char *opt, const char *s, const char *const *names,
		      int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	bad_usage("--%s: unknown value '%s'", opt, s);
}

static void parse_server(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hlen;

	if (!colon || colon == s || (hlen = (size_t)(colon - s)) >= sizeof(host))
		bad_usage("--server: '%s' is not HOST:PORT", s);
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)parse_num("server port", colon + 1, 1, 65535));
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		bad_usage("--server: '%s' is not an IPv4 address", host);
}

static void parse_args(int argc, char **argv, struct wl_config *cfg)
{
	enum { O_MODEL = 256, O_WORK, O_TASKS, O_SIZE, O_REQUESTS, O_SERVER, O_SWITCH };
	static const struct option opts[] = {
		{ "model", required_argument, NULL, O_MODEL },
		{ "work", required_argument, NULL, O_WORK },
		{ "tasks", required_argument, NULL, O_TASKS },
		{ "size", required_argument, NULL, O_SIZE },
		{ "requests", required_argument, NULL, O_REQUESTS },
		{ "server", required_argument, NULL, O_SERVER },
		{ "switch-interval-us", required_argument, NULL, O_SWITCH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int have_model = 0, have_work = 0, have_server = 0, c;
	uint64_t size = 0, requests = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->tasks = 4;
	cfg->switch_interval_us = DEF_SWITCH_US;
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_MODEL:
			cfg->model = parse_name("model", optarg, model_names,
						(int)(sizeof(model_names) / sizeof(*model_names)));
			have_model = 1;
			break;
		case O_WORK:
			cfg->work = parse_name("work", optarg, work_names,
					       (int)(sizeof(work_names) / sizeof(*work_names)));
			have_work = 1;
			break;
		case O_TASKS:
			cfg->tasks = (int)parse_num("tasks", optarg, 1, WL_MAX_TASKS);
			break;
		case O_SIZE:
			size = parse_num("size", optarg, 1, MAX_SIZE);
			break;
		case O_REQUESTS:
			requests = parse_num("requests", optarg, 1, MAX_REQUESTS);
			break;
		case O_SERVER:
			parse_server(optarg, &cfg->server);
			have_server = 1;
			break;
		case O_SWITCH:
			cfg->switch_interval_us =
				(long)parse_num("switch-interval-us", optarg, 100, 1000000);
			break;
		case 'h':
			usage();
			exit(0);
		case ':':
			bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt)
				bad_usage("unknown option '-%c'", optopt);
			bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (!have_model)
		bad_usage("--model is required");
	if (!have_work)
		bad_usage("--work is required");
	if (cfg->work != WL_CPU && !have_server)
		bad_usage("--work=%s needs --server=HOST:PORT", work_names[cfg->work]);

	cfg->size = size ? size : cfg->work == WL_MIXED ? DEF_SIZE_MIXED : DEF_SIZE_CPU;
	cfg->requests = requests ? requests
				 : cfg->work == WL_MIXED ? DEF_REQUESTS_MIXED
							 : DEF_REQUESTS_IO;
}

int main(int argc, char **argv)
{
	static struct wl_part parts[WL_MAX_TASKS];
	uint64_t turns[WL_MAX_TASKS] = { 0 };
	struct wl_config cfg;
	uint64_t sum = 0, count = 0, requests = 0;
	int rc = 0, ok = 1;

	parse_args(argc, argv, &cfg);
	setvbuf(stdout, NULL, _IOLBF, 0);

	switch (cfg.model) {
	case WL_PROCESSES:
		rc = wl_model_processes(&cfg, parts);
		break;
	case WL_THREADS:
		rc = wl_model_threads(&cfg, parts);
		break;
	case WL_THREADS_GIL:
		rc = wl_model_threads_gil(&cfg, parts, turns);
		break;
	case WL_ASYNC:
		rc = wl_model_async(&cfg, parts);
		break;
	}
	if (rc < 0)
		ok = 0;

	/* combine */
	for (int i = 0; i < cfg.tasks; i++) {
		sum += parts[i].sum;
		count += parts[i].count;
		requests += parts[i].requests;
	}

	if (cfg.model == WL_THREADS_GIL) {
		printf("%s: gil turns:", wl_prog);
		for (int i = 0; i < cfg.tasks; i++)
			printf(" %" PRIu64, turns[i]);
		printf("\n");
	}

	printf("%s: model=%s work=%s tasks=%d", wl_prog, model_names[cfg.model],
	       work_names[cfg.work], cfg.tasks);
	if (cfg.work != WL_IO) {
		/* the closed form (see cs-workload.h), checked exactly */
		uint64_t want_count = cfg.size * WL_BLOCK;
		uint64_t want_sum = cfg.size * (WL_BLOCK / 2) * (WL_BLOCK - 1);

		printf(" average=%.6f expected=%.6f",
		       count ? (double)sum / (double)count : 0.0,
		       (double)(WL_BLOCK - 1) / 2.0);
		if (sum != want_sum || count != want_count) {
			fprintf(stderr,
				"%s: wrong result: sum %" PRIu64 " count %" PRIu64
				", want sum %" PRIu64 " count %" PRIu64 "\n",
				wl_prog, sum, count, want_sum, want_count);
			ok = 0;
		}
	}
	if (cfg.work != WL_CPU) {
		uint64_t want = cfg.requests * (uint64_t)cfg.tasks;

		printf(" requests=%" PRIu64, requests);
		if (requests != want) {
			fprintf(stderr, "%s: %" PRIu64 " of %" PRIu64 " requests answered\n",
				wl_prog, requests, want);
			ok = 0;
		}
	}
	printf(" %s\n", ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}
