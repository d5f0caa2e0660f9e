#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""cs_workload.py: the cs-workload job under CPython's concurrency models.

The same job, command line and result line as the C cs-workload (see
workloads/cs-workload.h), run by:

  processes  multiprocessing (fork): one worker process per task, each
             sends its partial result back over a Pipe
  threads    threading: one thread per task; CPython's GIL serialises the
             cpu work (that is the point: concscope should see it)
  async      asyncio: one thread, one event loop, one coroutine per task

--model=threads-gil is refused (exit 2): CPython threads already run
behind the GIL. Standard library only; run with /usr/bin/python3.
"""

import argparse
import asyncio
import multiprocessing
import socket
import struct
import sys
import threading

PROG = "cs_workload.py"

# The job (identical to workloads/cs-workload.h): x_i = value(i) for i in
# [0, size * BLOCK). value() maps every aligned block of BLOCK consecutive
# indices one-to-one onto 0 .. BLOCK-1, so the closed form is
#   count = size * BLOCK, sum = size * BLOCK * (BLOCK - 1) / 2,
#   mean = (BLOCK - 1) / 2 = 32767.5
BLOCK_BITS = 16
BLOCK = 1 << BLOCK_BITS
MASK = BLOCK - 1

# Defaults, measured on the 2-CPU reference machine: CPython does one
# 65536-number block in ~30 ms, so cpu takes ~1 s with processes and ~2 s
# with threads/async (serial); io ~1 s at the server's default 10 ms.
DEF_SIZE_CPU = 72
DEF_SIZE_MIXED = 48
DEF_REQUESTS_IO = 100
DEF_REQUESTS_MIXED = 50
DEF_SWITCH_US = 5000

# numbers per compute slice of an async task before it yields (~2 ms)
ASYNC_SLICE = 4096

REQ_SIZE = 16
MODELS = ("processes", "threads", "threads-gil", "async")
WORKS = ("cpu", "io", "mixed")


def sum_range(lo, hi):
    """Sum of value(i) for i in [lo, hi); value() is inlined for speed."""
    s = 0
    for i in range(lo, hi):
        v = (i ^ (i >> BLOCK_BITS)) & MASK
        v = (v * 40503 + 12345) & MASK
        v ^= v >> 7
        v = (v * 27893 + 911) & MASK
        v ^= v >> 5
        v = (v * 2531 + 77) & MASK
        v ^= v >> 9
        s += v
    return s


class Task:
    """One task's share of the job: numbers [lo, hi) and its requests."""

    def __init__(self, cfg, tid):
        total = 0 if cfg.work == "io" else cfg.size * BLOCK
        self.id = tid
        self.lo = total * tid // cfg.tasks
        self.hi = total * (tid + 1) // cfg.tasks
        self.requests = 0 if cfg.work == "cpu" else cfg.requests

    def step(self, k):
        """mixed: step k is [step(k), step(k + 1))"""
        return self.lo + (self.hi - self.lo) * k // self.requests


def make_request(tid, seq):
    return b"CSRQ" + struct.pack("<IQ", tid, seq)


class Part:
    def __init__(self):
        self.sum = 0
        self.count = 0
        self.requests = 0
        self.failed = False

    def add(self, lo, hi):
        """Sum and count the numbers [lo, hi) of the job."""
        self.sum += sum_range(lo, hi)
        self.count += hi - lo

    def as_tuple(self):
        return (self.sum, self.count, self.requests, self.failed)


def fail(tid, msg):
    print(f"{PROG}: task {tid}: {msg}", file=sys.stderr, flush=True)


# ---- blocking tasks (processes, threads) ----------------------------------

def request_blocking(sock, tid, seq):
    req = make_request(tid, seq)
    sock.sendall(req)
    rep = b""
    while len(rep) < REQ_SIZE:
        chunk = sock.recv(REQ_SIZE - len(rep))
        if not chunk:
            raise ConnectionError("server closed the connection")
        rep += chunk
    if rep != req:
        raise ValueError(f"wrong reply to request {seq}")


def run_task_blocking(cfg, task):
    part = Part()
    try:
        if cfg.work == "cpu":
            part.add(task.lo, task.hi)
            return part
        with socket.create_connection(cfg.server) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for k in range(task.requests):
                if cfg.work == "mixed":
                    lo, hi = task.step(k), task.step(k + 1)
                    part.add(lo, hi)
                request_blocking(sock, task.id, k)
                part.requests += 1
    except (OSError, ValueError) as e:
        fail(task.id, e)
        part.failed = True
    return part


def process_main(cfg, tid, conn):
    part = run_task_blocking(cfg, Task(cfg, tid))
    conn.send(part.as_tuple())
    conn.close()


def model_processes(cfg):
    ctx = multiprocessing.get_context("fork")
    workers = []
    for tid in range(cfg.tasks):
        rd, wr = ctx.Pipe(duplex=False)
        p = ctx.Process(target=process_main, args=(cfg, tid, wr),
                        name=f"cs-worker-{tid}")
        p.start()
        wr.close()  # only the child holds the write end: EOF if it dies
        workers.append((p, rd))
    parts = []
    for tid, (p, rd) in enumerate(workers):
        part = Part()
        try:
            part.sum, part.count, part.requests, part.failed = rd.recv()
        except EOFError:
            fail(tid, "worker sent no result")
            part.failed = True
        rd.close()
        p.join()
        if p.exitcode != 0:
            fail(tid, f"worker exited with {p.exitcode}")
            part.failed = True
        parts.append(part)
    return parts


def model_threads(cfg):
    parts = [None] * cfg.tasks

    def body(tid):
        parts[tid] = run_task_blocking(cfg, Task(cfg, tid))

    sys.setswitchinterval(cfg.switch_interval_us / 1e6)
    threads = [threading.Thread(target=body, args=(tid,), name=f"cs-task-{tid}")
               for tid in range(cfg.tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return parts


# ---- async ----------------------------------------------------------------

async def async_task(cfg, task):
    part = Part()
    if cfg.work == "cpu":
        # compute in slices, giving the loop back after each (round-robin)
        pos = task.lo
        while pos < task.hi:
            end = min(pos + ASYNC_SLICE, task.hi)
            part.add(pos, end)
            pos = end
            await asyncio.sleep(0)
        return part
    writer = None
    try:
        reader, writer = await asyncio.open_connection(*cfg.server)
        writer.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for k in range(task.requests):
            if cfg.work == "mixed":
                lo, hi = task.step(k), task.step(k + 1)
                part.add(lo, hi)
            req = make_request(task.id, k)
            writer.write(req)
            await writer.drain()
            rep = await reader.readexactly(REQ_SIZE)
            if rep != req:
                raise ValueError(f"wrong reply to request {k}")
            part.requests += 1
    except (OSError, ValueError, asyncio.IncompleteReadError) as e:
        fail(task.id, e)
        part.failed = True
    finally:
        if writer is not None:
            writer.close()
    return part


async def async_main(cfg):
    return await asyncio.gather(
        *(async_task(cfg, Task(cfg, tid)) for tid in range(cfg.tasks)))


def model_async(cfg):
    return asyncio.run(async_main(cfg))


# ---- command line ---------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):
        # one line on stderr, exit 2, like the C cs-workload
        print(f"{PROG}: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def ranged(lo, hi):
    def conv(s):
        if not s.isdigit() or not lo <= int(s) <= hi:
            raise argparse.ArgumentTypeError(f"'{s}' is not in {lo}..{hi}")
        return int(s)
    return conv


def server_addr(s):
    host, sep, port = s.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"'{s}' is not HOST:PORT")
    return (host, int(port))


def parse_args(argv):
    p = Parser(
        prog=PROG, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the cs-workload job under one of CPython's "
        "concurrency models, for concscope.\nThe job is split into --tasks "
        "equal parts; the partial results are combined and\nchecked against "
        "a closed form at the end.",
        epilog=f"""models:
  processes  multiprocessing: one worker process per task, results over a Pipe
  threads    threading: one thread per task, all behind CPython's GIL
  async      asyncio: one thread, one event loop, one coroutine per task
  (threads-gil is refused with exit 2: CPython threads already have a GIL)
works:
  cpu    each task sums its part of the sequence x_i (mean 32767.5)
  io     each task makes --requests requests to cs-ioserver, one at a time
  mixed  each task alternates a compute step with a request

examples:
  %(prog)s --model=threads --work=cpu
  %(prog)s --model=processes --work=cpu --tasks=2 --size=16
  %(prog)s --model=async --work=io --tasks=16 --server=127.0.0.1:40123

output: one line at the end,
  cs-workload: model=M work=W tasks=N [average=A expected=E] [requests=R] ok
exit status: 0 success, 1 wrong result or failure, 2 bad command line""")
    p.add_argument("--model", required=True, metavar="MODEL",
                   help="processes | threads | async (required)")
    p.add_argument("--work", required=True, choices=WORKS, metavar="WORK",
                   help="cpu | io | mixed (required)")
    p.add_argument("--tasks", type=ranged(1, 64), default=4, metavar="N",
                   help="number of tasks, 1..64 (default 4)")
    p.add_argument("--size", type=ranged(1, 1 << 24), metavar="N",
                   help="cpu/mixed: total job size in units of 65536 numbers "
                   f"(default {DEF_SIZE_CPU} for cpu, {DEF_SIZE_MIXED} for "
                   "mixed); the same total whatever --tasks and --model are")
    p.add_argument("--requests", type=ranged(1, 1000000), metavar="M",
                   help="io/mixed: requests per task (default "
                   f"{DEF_REQUESTS_IO} for io, {DEF_REQUESTS_MIXED} for mixed)")
    p.add_argument("--server", type=server_addr, metavar="HOST:PORT",
                   help="io/mixed (required there): a running cs-ioserver, "
                   "e.g. 127.0.0.1:40123")
    p.add_argument("--switch-interval-us", type=ranged(100, 1000000),
                   default=DEF_SWITCH_US, metavar="US",
                   help="threads: CPython's GIL switch interval "
                   f"(sys.setswitchinterval), default {DEF_SWITCH_US}")
    cfg = p.parse_args(argv)
    if cfg.model == "threads-gil":
        p.error("--model=threads-gil: CPython threads already run behind the "
                "GIL; use --model=threads")
    if cfg.model not in MODELS:
        p.error(f"argument --model: unknown value '{cfg.model}'")
    if cfg.work != "cpu" and cfg.server is None:
        p.error(f"--work={cfg.work} needs --server=HOST:PORT")
    if cfg.size is None:
        cfg.size = DEF_SIZE_MIXED if cfg.work == "mixed" else DEF_SIZE_CPU
    if cfg.requests is None:
        cfg.requests = (DEF_REQUESTS_MIXED if cfg.work == "mixed"
                        else DEF_REQUESTS_IO)
    return cfg


def main(argv=None):
    cfg = parse_args(sys.argv[1:] if argv is None else argv)
    run = {"processes": model_processes, "threads": model_threads,
           "async": model_async}[cfg.model]
    parts = run(cfg)

    ok = not any(p.failed for p in parts)
    total_sum = sum(p.sum for p in parts)
    count = sum(p.count for p in parts)
    requests = sum(p.requests for p in parts)

    line = f"cs-workload: model={cfg.model} work={cfg.work} tasks={cfg.tasks}"
    if cfg.work != "io":
        want_count = cfg.size * BLOCK
        want_sum = cfg.size * (BLOCK // 2) * (BLOCK - 1)
        average = total_sum / count if count else 0.0
        line += f" average={average:.6f} expected={(BLOCK - 1) / 2:.6f}"
        if total_sum != want_sum or count != want_count:
            print(f"{PROG}: wrong result: sum {total_sum} count {count}, "
                  f"want sum {want_sum} count {want_count}", file=sys.stderr)
            ok = False
    if cfg.work != "cpu":
        want = cfg.requests * cfg.tasks
        line += f" requests={requests}"
        if requests != want:
            print(f"{PROG}: {requests} of {want} requests answered",
                  file=sys.stderr)
            ok = False
    print(line + (" ok" if ok else " FAILED"), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
