"""An asyncio loop serving ticks every 5 ms, whose handler calls time.sleep
(a blocking call, the classic mistake) on three known ticks: 150, 100 and
200 ms. Prints when each blocking call began and how long it took
(CLOCK_BOOTTIME ns): "EPISODE sleep start=<ns> dur=<ns>"."""
import asyncio
import time

SLEEPS = {20: 0.15, 50: 0.10, 80: 0.20}


def blocking_call(seconds):
    t0 = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
    time.sleep(seconds)
    t1 = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
    print("EPISODE sleep start=%d dur=%d" % (t0, t1 - t0), flush=True)


async def handler(tick):
    if tick in SLEEPS:
        blocking_call(SLEEPS[tick])


async def main():
    for tick in range(110):
        await asyncio.sleep(0.005)
        await handler(tick)


asyncio.run(main())
