// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "session.h"
#include "outfile.h"
#include "procfs.h"
#include "reorder.h"
#include "symbols.h"

#define POLL_MS 50 /* the tracer never wakes us: drain this often */

struct cs_session {
	struct cs_session_opts o;
	struct cs_tracer *tr;
	struct cs_reorder ro;
	struct cs_core *core;     /* the core being fed, or NULL */
	uint32_t root;            /* tgid whose exec opens and exit closes the window */
	bool window_open, window_closed, root_gone;
	uint64_t records;
	uint64_t last_out;        /* timestamp of the last record fed out */
	uint64_t *lost_seen;      /* per CPU, already reported */
	uint64_t skipped_seen;
	int sink_err;
	uint64_t started;
	uint64_t last_progress;
	struct cs_symcache *syms;
	uint64_t *named;          /* open-addressing set of named (addr ^ pid) keys */
	size_t named_cap, named_n;
};

/* Remember key; true when it was new. */
static bool first_sight(struct cs_session *s, uint64_t key)
{
	size_t i, mask;

	if (!key)
		key = 1;
	if ((s->named_n + 1) * 2 > s->named_cap) {
		size_t cap = s->named_cap ? s->named_cap * 2 : 1024, j;
		uint64_t *n = calloc(cap, sizeof(*n));

		if (!n)
			return false;
		for (j = 0; j < s->named_cap; j++) {
			if (!s->named[j])
				continue;
			for (i = (s->named[j] * 0x9e3779b97f4a7c15ull >> 17) & (cap - 1); n[i];
			     i = (i + 1) & (cap - 1))
				;
			n[i] = s->named[j];
		}
		free(s->named);
		s->named = n;
		s->named_cap = cap;
	}
	mask = s->named_cap - 1;
	for (i = (key * 0x9e3779b97f4a7c15ull >> 17) & mask; s->named[i]; i = (i + 1) & mask)
		if (s->named[i] == key)
			return false;
	s->named[i] = key;
	s->named_n++;
	return true;
}

/*
 * Name a lock the first time it is waited on, while its process is alive
 * (a user address needs its /proc/PID/maps); the name joins the stream.
 */
static void name_lock(struct cs_session *s, const struct cs_hdr *ev)
{
	struct cs_lock_name n;

	if (ev->kind == CS_EV_LOCK_BEGIN) {
		const struct cs_lock *l = (const struct cs_lock *)ev;

		if (!first_sight(s, l->addr))
			return;
		memset(&n, 0, sizeof(n)); /* only for a lock seen the first time */
		n.h.aux = CS_SPACE_KERNEL;
		n.addr = l->addr;
		cs_sym_kernel_lock(s->syms, (const uint64_t *)l->stack, l->nstack < CS_LOCK_STACK ? l->nstack : CS_LOCK_STACK,
				   l->h.flags & CS_LKF_MMAP_LOCK, n.name, sizeof(n.name));
	} else {
		const struct cs_futex *f = (const struct cs_futex *)ev;

		if (!cs_futex_is_wait(f->h.aux, f->op) ||
		    !first_sight(s, f->uaddr ^ ((uint64_t)f->h.pid << 48) ^ 0x8000000000000000ull))
			return;
		memset(&n, 0, sizeof(n));
		n.h.aux = CS_SPACE_USER;
		n.addr = f->uaddr;
		cs_sym_user(s->syms, (pid_t)f->h.pid, f->uaddr, n.name, sizeof(n.name));
	}
	n.h.ts = ev->ts;
	n.h.size = sizeof(n);
	n.h.kind = CS_EV_LOCK_NAME;
	n.h.cpu = ev->cpu;
	n.h.tid = ev->tid;
	n.h.pid = ev->pid;
	cs_reorder_push(&s->ro, &n.h);
}

static volatile sig_atomic_t got_signal;
static int user_nice = 0x7fff; /* the nice value before concscope raised its own */

/*
 * The consumer must keep up with many busy threads on few CPUs: at the
 * same priority it was starved and the ring buffer overflowed (measured:
 * 41% lost at 16 ping-pong pairs on 2 CPUs, 0% at nice -10). Children get
 * the user's priority back before they exec.
 */
static void raise_priority(void)
{
	errno = 0;
	user_nice = getpriority(PRIO_PROCESS, 0);
	if (errno)
		user_nice = 0x7fff;
	else if (user_nice > -10 && setpriority(PRIO_PROCESS, 0, -10))
		user_nice = 0x7fff; /* not allowed: stay as we are */
}

void cs_restore_priority(void)
{
	if (user_nice != 0x7fff)
		(void)!setpriority(PRIO_PROCESS, 0, user_nice);
}
static volatile sig_atomic_t signal_from_user; /* kill(), not the terminal */

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	got_signal = sig;
	signal_from_user = si && si->si_code <= 0; /* SI_USER, SI_QUEUE, ... */
}

/* Install the signal handlers (done by open). */
static void cs_session_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: poll returns on a signal */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool cs_session_interrupted(void)
{
	return got_signal != 0;
}

static void feed_out(struct cs_session *s, const struct cs_hdr *ev)
{
	s->records++;
	if (ev->ts > s->last_out)
		s->last_out = ev->ts;
	if (s->core)
		cs_core_feed(s->core, ev);
	if (s->o.sink.feed && !s->sink_err) {
		int ret = s->o.sink.feed(s->o.sink.ctx, ev);

		if (ret)
			s->sink_err = ret;
	}
}

/* A mark fed straight out, stamped no earlier than what went before it. */
static void feed_mark(struct cs_session *s, uint64_t ts, unsigned int kind, uint32_t pid,
		      int64_t value, const char *text)
{
	struct cs_mark m;

	cs_mark_init(&m, ts > s->last_out ? ts : s->last_out, kind, pid, value, text);
	feed_out(s, &m.h);
}

/*
 * Ordered records arrive here. The root's exec opens the window and its
 * exit closes it; those marks go into the stream itself, so a saved trace
 * replays the same window.
 */
static void on_ordered(const struct cs_hdr *ev, void *ctx)
{
	struct cs_session *s = ctx;
	struct cs_mark m;

	if (s->core && s->root && !s->window_open && ev->kind == CS_EV_EXEC &&
	    ev->pid == s->root) {
		cs_mark_init(&m, ev->ts, CS_MARK_WINDOW_BEGIN, s->root, 0, NULL);
		feed_out(s, &m.h);
		s->window_open = true;
	}
	feed_out(s, ev);
	if (s->core && s->root && ev->kind == CS_EV_EXIT && ev->pid == s->root &&
	    (ev->flags & CS_EXF_GROUP_DEAD)) {
		s->root_gone = true;
		if (s->window_open && !s->window_closed) {
			cs_mark_init(&m, ev->ts, CS_MARK_WINDOW_END, s->root, 0, NULL);
			feed_out(s, &m.h);
			s->window_closed = true;
		}
	}
}

static void on_record(const struct cs_hdr *ev, void *ctx)
{
	struct cs_session *s = ctx;

	if (s->o.dump && fwrite(ev, ev->size, 1, s->o.dump) != 1) {
		fprintf(stderr, "concscope: writing the raw dump failed; it stops here\n");
		s->o.dump = NULL;
	}
	if (ev->kind == CS_EV_LOCK_BEGIN || ev->kind == CS_EV_FUTEX_ENTER)
		name_lock(s, ev);
	else if (ev->kind == CS_EV_EXEC && !s->o.tracer.no_locks)
		cs_sym_remember(s->syms, (pid_t)ev->pid); /* while it is surely alive */
	cs_reorder_push(&s->ro, ev);
}

static void push_mark(struct cs_session *s, uint64_t ts, unsigned int kind, uint32_t pid,
		      int64_t value, const char *text)
{
	struct cs_mark m;

	cs_mark_init(&m, ts, kind, pid, value, text);
	cs_reorder_push(&s->ro, &m.h);
}

void cs_session_mark(struct cs_session *s, unsigned int kind, int64_t value,
		     const char *text)
{
	push_mark(s, cs_now_boot(), kind, 0, value, text);
}

int cs_session_open(struct cs_session **out, const struct cs_session_opts *o,
		    char *err, size_t errlen)
{
	struct cs_session *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->o = *o;
	cs_session_signals();
	raise_priority();
	s->syms = cs_symcache_new();
	if (!s->syms) {
		free(s);
		return -ENOMEM;
	}
	ret = cs_reorder_init(&s->ro, CS_REORDER_CAP, CS_REORDER_WINDOW_NS, on_ordered, s);
	if (ret)
		goto fail;
	ret = cs_tracer_open(&s->tr, &o->tracer, on_record, s, err, errlen);
	if (ret)
		goto fail;
	s->lost_seen = calloc(cs_tracer_ncpus(s->tr), sizeof(*s->lost_seen));
	if (!s->lost_seen) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = cs_tracer_attach(s->tr, err, errlen);
	if (ret)
		goto fail;
	if (o->tracer.verbose)
		cs_tracer_print_ids(s->tr, stderr);
	*out = s;
	return 0;
fail:
	cs_tracer_close(&s->tr);
	cs_reorder_free(&s->ro);
	cs_symcache_free(&s->syms);
	free(s->lost_seen);
	free(s);
	return ret;
}

/* Turn new loss counts into LOST records, so they are in the stream. */
static void check_lost(struct cs_session *s)
{
	unsigned int i, n = cs_tracer_ncpus(s->tr);
	uint64_t per_cpu[n > 0 ? n : 1], skipped = 0;
	uint64_t now = cs_now_boot();

	cs_tracer_lost(s->tr, per_cpu, n, &skipped);
	/* records that failed validation are lost too, never silently */
	skipped += cs_tracer_bad_records(s->tr);
	for (i = 0; i <= n; i++) {
		uint64_t cur = i < n ? per_cpu[i] : skipped;
		uint64_t *seen = i < n ? &s->lost_seen[i] : &s->skipped_seen;
		struct cs_lost l;

		if (cur <= *seen)
			continue;
		memset(&l, 0, sizeof(l));
		l.h.ts = now;
		l.h.size = sizeof(l);
		l.h.kind = CS_EV_LOST;
		l.h.cpu = i < n ? (uint16_t)i : 0xffff;
		l.count = cur - *seen;
		*seen = cur;
		cs_reorder_push(&s->ro, &l.h);
	}
}

static void progress(struct cs_session *s, bool final)
{
	uint64_t now = cs_now_boot();
	uint64_t lost = 0;
	unsigned int i;

	if (!s->o.progress)
		return;
	if (final) {
		fprintf(stderr, "\r\033[K");
		return;
	}
	if (now - s->last_progress < 1000000000ull)
		return;
	s->last_progress = now;
	for (i = 0; i < cs_tracer_ncpus(s->tr); i++)
		lost += s->lost_seen[i];
	fprintf(stderr, "\r\033[Kconcscope: %.1fs  %llu events  %llu lost  (Ctrl-C to stop)",
		(double)(now - s->started) / 1e9, (unsigned long long)s->records,
		(unsigned long long)(lost + s->skipped_seen));
}

static int poll_once(struct cs_session *s, int timeout_ms)
{
	int ret = cs_tracer_poll(s->tr, timeout_ms);

	check_lost(s);
	progress(s, false);
	return ret;
}

static void signal_ready(struct cs_session *s)
{
	if (s->o.ready_fd >= 0) {
		/* a reader that went away needs no answer */
		(void)!write(s->o.ready_fd, "ready\n", 6);
		close(s->o.ready_fd);
		s->o.ready_fd = -1;
	}
	if (s->o.tracer.verbose)
		fprintf(stderr, "concscope: tracing\n");
}

static int begin(struct cs_session *s, uint32_t root, char *err, size_t errlen)
{
	struct cs_core_cfg cfg = { .track_all = s->o.tracer.track_all };

	/* what came before belongs to no core: push it out first */
	cs_tracer_poll(s->tr, 0);
	cs_reorder_flush(&s->ro);
	s->core = cs_core_new(&cfg);
	if (!s->core) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	feed_mark(s, cs_now_boot(), CS_MARK_SEGMENT_BEGIN, root, 0, NULL);
	s->root = root;
	s->window_open = s->window_closed = s->root_gone = false;
	s->started = s->last_progress = cs_now_boot();
	return 0;
}

/* Drain everything, close the window at end_ts if still open, finish. */
static struct cs_core *end(struct cs_session *s, uint64_t end_ts)
{
	struct cs_core *c;

	cs_tracer_poll(s->tr, 0);
	check_lost(s);
	if (s->window_open && !s->window_closed) {
		push_mark(s, end_ts, CS_MARK_WINDOW_END, s->root, 0, NULL);
		s->window_closed = true;
	}
	cs_reorder_flush(&s->ro);
	progress(s, true);
	c = s->core;
	feed_mark(s, end_ts, CS_MARK_SEGMENT_END, s->root, (int64_t)end_ts, NULL);
	cs_core_finish(c, end_ts);
	s->core = NULL;
	s->root = 0;
	return c;
}

void cs_drop_to_invoker(void)
{
	const char *user = getenv("SUDO_USER");
	uid_t uid;
	gid_t gid;

	if (!cs_invoker_ids(&uid, &gid))
		return;
	if ((user && initgroups(user, gid)) || setgid(gid) || setuid(uid)) {
		perror("concscope: cannot drop privileges to the invoking user");
		_exit(126);
	}
}

static void child_exec(char *const argv[], int go, int errp, const sigset_t *old)
{
	char c;
	int e;

	/* default dispositions first, then let through what was held */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, old, NULL);
	cs_restore_priority();
	if (read(go, &c, 1) != 1)
		_exit(126); /* concscope gave up before tracing started */
	close(go);
	cs_drop_to_invoker();
	execvp(argv[0], argv);
	e = errno;
	(void)!write(errp, &e, sizeof(e)); /* else the parent sees EOF and exit 127 */
	_exit(127);
}

static int start_child(pid_t *child, char *const argv[], int *go_w, int *errp_r,
		       char *err, size_t errlen)
{
	int go[2], errp[2], e;
	sigset_t block, old;

	if (pipe2(go, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	/* a signal before the child resets its handlers must not be lost */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	*child = fork();
	if (*child == 0) {
		close(go[1]);
		close(errp[0]);
		child_exec(argv, go[0], errp[1], &old);
	}
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (*child < 0) {
		snprintf(err, errlen, "fork: %s", strerror(e));
		return -e;
	}
	close(go[0]);
	close(errp[1]);
	*go_w = go[1];
	*errp_r = errp[0];
	return 0;
}

static int release_child(int go_w, int errp_r, const char *cmd, char *err, size_t errlen)
{
	int e = 0;
	ssize_t n;

	if (write(go_w, "x", 1) != 1) {
		snprintf(err, errlen, "cannot release '%s': %s", cmd, strerror(errno));
		close(go_w);
		close(errp_r);
		return -EIO;
	}
	close(go_w);
	n = read(errp_r, &e, sizeof(e));
	close(errp_r);
	if (n == sizeof(e)) {
		snprintf(err, errlen, "cannot run '%s': %s", cmd, strerror(e));
		return -e;
	}
	return 0;
}

/* Forward a signal from kill() to the command; the terminal sends its own. */
static void forward_signal(pid_t child)
{
	if (signal_from_user)
		kill(child, got_signal);
}

int cs_session_run(struct cs_session *s, char *const argv[], struct cs_core **core,
		   int *status, char *err, size_t errlen)
{
	uint64_t deadline = 0;
	int go_w = -1, errp_r = -1, ret, st = -1, i;
	pid_t child = -1;

	*core = NULL;
	*status = -1;
	if (got_signal) { /* interrupted before anything ran: an empty result */
		if (begin(s, 0, err, errlen))
			return -ENOMEM;
		*core = end(s, cs_now_boot());
		return 0;
	}
	ret = start_child(&child, argv, &go_w, &errp_r, err, errlen);
	if (ret)
		return ret;
	ret = begin(s, (uint32_t)child, err, errlen);
	/* the command, for a saved trace: each argument in marks of up to 47 bytes */
	for (i = 0; !ret && argv[i]; i++) {
		size_t off = 0, len = strlen(argv[i]);

		do {
			char chunk[CS_MARK_TEXT];

			snprintf(chunk, sizeof(chunk), "%.*s", (int)(sizeof(chunk) - 1), argv[i] + off);
			feed_mark(s, 0, CS_MARK_ARG, (uint32_t)child, i, chunk);
			off += sizeof(chunk) - 1;
		} while (off < len);
	}
	if (!ret)
		ret = cs_tracer_track(s->tr, (uint32_t)child);
	if (ret) {
		close(go_w);
		close(errp_r);
		waitpid(child, NULL, 0);
		if (!*err)
			snprintf(err, errlen, "cannot track pid %d: %s", child, strerror(-ret));
		cs_core_free(&s->core);
		return ret;
	}
	push_mark(s, cs_now_boot(), CS_MARK_TRACK, (uint32_t)child, 0, NULL);
	signal_ready(s);
	ret = release_child(go_w, errp_r, argv[0], err, errlen);
	if (ret) {
		waitpid(child, NULL, 0);
		*core = end(s, cs_now_boot());
		cs_core_free(core);
		return ret;
	}
	for (;;) {
		pid_t w = waitpid(child, &st, WNOHANG);

		if (w == child)
			break;
		if (got_signal && !deadline) {
			forward_signal(child);
			deadline = cs_now_boot() + s->o.signal_grace_ms * 1000000ull;
		}
		if (deadline && cs_now_boot() > deadline) {
			fprintf(stderr, "concscope: '%s' (pid %d) did not exit within %u ms of the signal; "
				"stopping the trace and leaving it running\n",
				argv[0], child, s->o.signal_grace_ms);
			st = -1;
			break;
		}
		poll_once(s, POLL_MS);
	}
	*status = st;
	if (st != -1)
		push_mark(s, cs_now_boot(), CS_MARK_CMD_EXIT, (uint32_t)child, st, NULL);
	*core = end(s, cs_now_boot());
	return 0;
}

static void on_info(const struct cs_thread_info *ti, void *ctx)
{
	struct cs_session *s = ctx;

	if (ti->h.pid != s->root && !s->o.tracer.track_all)
		cs_tracer_track(s->tr, ti->h.pid);
	if (ti->h.tid == ti->h.pid && !s->o.tracer.no_locks)
		cs_sym_remember(s->syms, (pid_t)ti->h.pid);
	cs_reorder_push(&s->ro, &ti->h);
}

int cs_session_attach(struct cs_session *s, pid_t pid, uint64_t duration_ns,
		      struct cs_core **core, char *err, size_t errlen)
{
	uint64_t ts0, stop;
	int ret, n;

	*core = NULL;
	ret = begin(s, (uint32_t)pid, err, errlen);
	if (ret)
		return ret;
	feed_mark(s, 0, CS_MARK_ATTACH, (uint32_t)pid, pid, NULL);
	/* pid 0: the whole system (-a), everything is tracked already */
	ret = pid ? cs_tracer_track(s->tr, (uint32_t)pid) : 0;
	if (ret) {
		snprintf(err, errlen, "cannot track pid %d: %s", pid, strerror(-ret));
		cs_core_free(&s->core);
		return ret;
	}
	/* The window opens now; /proc tells each thread's state at this instant. */
	ts0 = cs_now_boot();
	push_mark(s, ts0, CS_MARK_TRACK, (uint32_t)pid, 0, NULL);
	push_mark(s, ts0, CS_MARK_WINDOW_BEGIN, (uint32_t)pid, 0, NULL);
	s->window_open = true;
	n = pid ? cs_proc_scan(pid, ts0, true, on_info, s) : cs_proc_scan_all(ts0, on_info, s);
	if (n <= 0) {
		if (pid)
			snprintf(err, errlen, "pid %d exited before tracing started", pid);
		else
			snprintf(err, errlen, "cannot read the threads in /proc: %s",
				 strerror(n ? -n : ENOENT));
		*core = end(s, cs_now_boot());
		cs_core_free(core);
		return -ESRCH;
	}
	signal_ready(s);
	stop = duration_ns ? ts0 + duration_ns : 0;
	while (!got_signal && !s->root_gone && (!stop || cs_now_boot() < stop)) {
		uint64_t left = stop ? stop - cs_now_boot() : POLL_MS * 1000000ull;
		int ms = left < POLL_MS * 1000000ull ? (int)(left / 1000000) : POLL_MS;

		poll_once(s, ms > 0 ? ms : 1);
	}
	*core = end(s, stop && cs_now_boot() > stop ? stop : cs_now_boot());
	return 0;
}

int cs_session_close(struct cs_session **sp)
{
	struct cs_session *s = *sp;
	int ret;

	if (!s)
		return 0;
	cs_tracer_poll(s->tr, 0);
	cs_reorder_flush(&s->ro);
	ret = s->sink_err;
	cs_tracer_close(&s->tr);
	cs_reorder_free(&s->ro);
	cs_symcache_free(&s->syms);
	free(s->named);
	free(s->lost_seen);
	free(s);
	*sp = NULL;
	return ret;
}

unsigned int cs_session_ncpus(const struct cs_session *s)
{
	return cs_tracer_ncpus(s->tr);
}
