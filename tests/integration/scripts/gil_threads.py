"""Four CPU-bound threads behind CPython's GIL."""
import threading


def work(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


ts = [threading.Thread(target=work, args=(2_000_000,)) for _ in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
