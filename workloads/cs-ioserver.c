/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * cs-ioserver: the stand-in database / web API for cs-workload's io and
 * mixed work.
 *
 * Listens on 127.0.0.1 only, prints the bound port as one line on stdout
 * as soon as it listens, and answers every CS_REQ_SIZE-byte request with
 * the same bytes after a fixed latency (see cs-proto.h). One thread, one
 * epoll loop; many connections and many outstanding requests at once.
 *
 * Since the latency is fixed and the clock only goes forward, replies fall
 * due in the order the requests arrived: the timer queue is a FIFO, and one
 * timerfd is armed for its head.
 *
 * Exits with status 0 on SIGTERM or SIGINT (taken through a signalfd;
 * SIGINT only if it was not ignored when we were started), or
 * when its standard input reaches end of file, so a parent can stop it by
 * closing a pipe (unless --ignore-stdin, or stdin is a terminal, or it
 * cannot be polled: /dev/null, a regular file, none at all).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cs-proto.h"

static const char *prog = "cs-ioserver";

/* epoll tags for the fixed descriptors; connections use their fd >= 0 */
#define TAG_LISTEN (-1)
#define TAG_TIMER (-2)
#define TAG_SIGNAL (-3)
#define TAG_STDIN (-4)

struct conn {
	int open;
	uint32_t gen;                    /* tells a reused fd from its past */
	unsigned char in[CS_REQ_SIZE];   /* a request being received */
	size_t in_len;
	unsigned char *out;              /* replies the socket did not take */
	size_t out_len, out_cap;
	int want_out;                    /* EPOLLOUT is in the interest set */
};

struct pending {
	uint64_t due_ns;
	int fd;
	uint32_t gen;
	unsigned char data[CS_REQ_SIZE];
};

static struct conn *conns;   /* indexed by fd */
static size_t nconns;
static struct pending *queue; /* ring buffer, FIFO by due time */
static size_t q_head, q_len, q_cap;
static int ep, timer_fd;
static uint64_t latency_ns;

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(1);
	}
	return p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void watch(int fd, int tag, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)(int64_t)tag };

	if (epoll_ctl(ep, op, fd, &ev) < 0)
		die("epoll_ctl");
}

static void arm_timer(void)
{
	struct itimerspec its = { 0 };

	if (q_len) {
		uint64_t due = queue[q_head].due_ns;

		its.it_value.tv_sec = (time_t)(due / 1000000000ULL);
		its.it_value.tv_nsec = (long)(due % 1000000000ULL);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1; /* zero would disarm */
	}
	if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		die("timerfd_settime");
}

static void conn_close(int fd)
{
	struct conn *c = &conns[fd];

	close(fd); /* also leaves the epoll set */
	c->open = 0;
	c->gen++;
	c->in_len = 0;
	c->out_len = 0;
	c->want_out = 0;
}

static void conn_accept(int lfd)
{
	for (;;) {
		int one = 1;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			if (errno == EMFILE || errno == ENFILE) {
				fprintf(stderr, "%s: accept: %s\n", prog, strerror(errno));
				return;
			}
			die("accept4");
		}
		if ((size_t)fd >= nconns) {
			size_t n = nconns ? nconns : 64;

			while (n <= (size_t)fd)
				n *= 2;
			conns = xrealloc(conns, n * sizeof(*conns));
			memset(conns + nconns, 0, (n - nconns) * sizeof(*conns));
			nconns = n;
		}
		c = &conns[fd];
		c->open = 1; /* the rest was zeroed when it was closed, or is new */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		watch(fd, fd, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
	}
}

static void enqueue(int fd, const unsigned char *data)
{
	struct pending *p;

	if (q_len == q_cap) {
		size_t n = q_cap ? q_cap * 2 : 256;
		struct pending *nq = xrealloc(NULL, n * sizeof(*nq));

		for (size_t i = 0; i < q_len; i++)
			nq[i] = queue[(q_head + i) % q_cap];
		free(queue);
		queue = nq;
		q_head = 0;
		q_cap = n;
	}
	p = &queue[(q_head + q_len) % q_cap];
	p->due_ns = now_ns() + latency_ns;
	p->fd = fd;
	p->gen = conns[fd].gen;
	memcpy(p->data, data, CS_REQ_SIZE);
	if (q_len++ == 0)
		arm_timer();
}

static void conn_read(int fd)
{
	struct conn *c = &conns[fd];
	unsigned char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_close(fd);
		return;
	}
	if (n == 0) {
		conn_close(fd);
		return;
	}
	for (ssize_t i = 0; i < n;) {
		size_t take = CS_REQ_SIZE - c->in_len;

		if (take > (size_t)(n - i))
			take = (size_t)(n - i);
		memcpy(c->in + c->in_len, buf + i, take);
		c->in_len += take;
		i += (ssize_t)take;
		if (c->in_len == CS_REQ_SIZE) {
			enqueue(fd, c->in);
			c->in_len = 0;
		}
	}
}

/* Write what is buffered; keep EPOLLOUT in the interest set while needed */
static void conn_flush(int fd)
{
	struct conn *c = &conns[fd];
	size_t off = 0;

	while (off < c->out_len) {
		ssize_t n = send(fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_close(fd);
			return;
		}
		off += (size_t)n;
	}
	memmove(c->out, c->out + off, c->out_len - off);
	c->out_len -= off;
	if (!!c->out_len != c->want_out) {
		c->want_out = !!c->out_len;
		watch(fd, fd, EPOLLIN | EPOLLRDHUP | (c->want_out ? EPOLLOUT : 0),
		      EPOLL_CTL_MOD);
	}
}

static void reply(const struct pending *p)
{
	struct conn *c;

	c = &conns[p->fd]; /* conns only grows: every queued fd is in it */
	if (!c->open || c->gen != p->gen)
		return; /* the client left before its answer was due */
	if (c->out_len + CS_REQ_SIZE > c->out_cap) {
		c->out_cap = c->out_cap ? c->out_cap * 2 : 256;
		c->out = xrealloc(c->out, c->out_cap);
	}
	memcpy(c->out + c->out_len, p->data, CS_REQ_SIZE);
	c->out_len += CS_REQ_SIZE;
	if (!c->want_out) /* else EPOLLOUT will flush it in order */
		conn_flush(p->fd);
}

static void timer_fired(void)
{
	uint64_t expirations, now = now_ns();

	if (read(timer_fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		die("read timerfd");
	while (q_len && queue[q_head].due_ns <= now) {
		reply(&queue[q_head]);
		q_head = (q_head + 1) % q_cap;
		q_len--;
	}
	arm_timer();
}

static void usage(void)
{
	printf(
"Usage: cs-ioserver [--latency-ms=MS] [--port=PORT] [--ignore-stdin]\n"
"The stand-in database / web API of cs-workload's io and mixed work.\n"
"Listens on 127.0.0.1 only and prints the port it listens on as one line.\n"
"Every request is 16 bytes; the reply is the same 16 bytes, sent after a\n"
"fixed latency. Serves any number of connections and requests at once.\n"
"\n"
"  --latency-ms=MS  latency of every reply, 5..60000 (default 10)\n"
"  --port=PORT      TCP port, 0..65535; 0 (default) lets the kernel pick\n"
"  --ignore-stdin   do not exit when standard input reaches end of file\n"
"  -h, --help       show this help\n"
"\n"
"Stops (exit 0) on SIGTERM or SIGINT, or when standard input reaches end\n"
"of file, unless --ignore-stdin (a terminal, /dev/null, a regular file\n"
"or no stdin at all is ignored too: then stop it with a signal). Example:\n"
"  coproc SRV { cs-ioserver --latency-ms=10; }; read -r port <&\"${SRV[0]}\"\n"
"  cs-workload --model=async --work=io --server=127.0.0.1:$port\n"
"  kill $SRV_PID\n");
}

static void __attribute__((noreturn)) bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "%s: %s%s%s (see --help)\n", prog, msg, arg ? ": " : "",
		arg ? arg : "");
	exit(2);
}

static long parse_num(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		bad_usage(what, s);
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		bad_usage(what, s);
	return v;
}

struct opts {
	long latency_ms, port;
	int ignore_stdin;
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		{ "latency-ms", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "ignore-stdin", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->latency_ms = parse_num(optarg, 5, 60000,
						  "--latency-ms must be in 5..60000");
			break;
		case 'p':
			o->port = parse_num(optarg, 0, 65535, "--port must be in 0..65535");
			break;
		case 'i':
			o->ignore_stdin = 1;
			break;
		case 'h':
			usage();
			exit(0);
		case ':':
			bad_usage("option needs a value", argv[optind - 1]);
		default:
			bad_usage("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument", argv[optind]);
}

/*
 * SIGTERM/SIGINT through a signalfd; a dead client must not kill us.
 * A SIGINT ignored by whoever started us stays ignored (a blocked
 * signal would reach the signalfd even so): a parent that keeps ^C
 * for itself stops us with SIGTERM or by closing our stdin.
 */
static int signals_fd(void)
{
	sigset_t sigs;
	int sfd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	if (signal(SIGINT, SIG_IGN) != SIG_IGN) {
		signal(SIGINT, SIG_DFL);
		sigaddset(&sigs, SIGINT);
	}
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0)
		die("sigprocmask");
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");
	return sfd;
}

/* A listening socket on 127.0.0.1:port (0: the kernel picks); *bound gets the port. */
static int listen_loopback(long port, unsigned int *bound)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	int lfd, one = 1;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (listen(lfd, 1024) < 0)
		die("listen");
	if (getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0)
		die("getsockname");
	*bound = ntohs(sa.sin_port);
	return lfd;
}

/*
 * Standard input, watched for its end unless told not to. A terminal is
 * not watched: reading it from a background job would stop us (SIGTTIN),
 * and in the foreground ^C does the job.
 */
static void watch_stdin(int stdin_closed)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)(int64_t)TAG_STDIN };

	if (stdin_closed || isatty(STDIN_FILENO))
		return;
	/* EPERM: stdin cannot be polled (/dev/null, a regular file) */
	if (epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) < 0 && errno != EPERM)
		die("epoll_ctl stdin");
}

/* One ready descriptor; 0 when it says to stop. */
static int on_event(int lfd, const struct epoll_event *e)
{
	int tag = (int)(int64_t)e->data.u64;
	char buf[256];
	ssize_t r;

	switch (tag) {
	case TAG_LISTEN:
		conn_accept(lfd);
		break;
	case TAG_TIMER:
		timer_fired();
		break;
	case TAG_SIGNAL:
		return 0;
	case TAG_STDIN:
		r = read(STDIN_FILENO, buf, sizeof(buf));
		return !(r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR));
	default:
		if (!conns[tag].open)
			break; /* closed earlier in this batch */
		if (e->events & EPOLLOUT)
			conn_flush(tag);
		if (conns[tag].open && e->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			conn_read(tag);
		break;
	}
	return 1;
}

/* The epoll loop, until a signal or the end of stdin. */
static void serve(int lfd)
{
	struct epoll_event evs[64];

	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++)
			if (!on_event(lfd, &evs[i]))
				return;
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .latency_ms = 10 };
	int stdin_closed = 0, lfd, sfd;
	unsigned int port;

	parse_args(argc, argv, &o);
	latency_ns = (uint64_t)o.latency_ms * 1000000ULL;

	/* no stdin at all: put /dev/null there so no socket becomes fd 0 */
	if (fcntl(STDIN_FILENO, F_GETFD) < 0 && errno == EBADF) {
		stdin_closed = 1;
		if (open("/dev/null", O_RDONLY) != STDIN_FILENO)
			die("open /dev/null");
	}
	sfd = signals_fd();
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (timer_fd < 0)
		die("timerfd_create");
	lfd = listen_loopback(o.port, &port);
	watch(lfd, TAG_LISTEN, EPOLLIN, EPOLL_CTL_ADD);
	watch(timer_fd, TAG_TIMER, EPOLLIN, EPOLL_CTL_ADD);
	watch(sfd, TAG_SIGNAL, EPOLLIN, EPOLL_CTL_ADD);
	if (!o.ignore_stdin)
		watch_stdin(stdin_closed);

	printf("%u\n", port);
	if (fflush(stdout) == EOF)
		die("stdout");
	serve(lfd);

	for (size_t fd = 0; fd < nconns; fd++) {
		if (conns[fd].open)
			conn_close((int)fd);
		free(conns[fd].out);
	}
	free(conns);
	free(queue);
	close(lfd);
	close(timer_fd);
	close(sfd);
	close(ep);
	return 0;
}
