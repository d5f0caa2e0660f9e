"""An asyncio loop ticking every 5 ms whose coroutine `stall` calls
time.sleep (the blocking call) itself, 3 times for 80 ms: the loop's
blocker is that coroutine's line, the one marked BLOCKER."""
import asyncio
import time


async def stall(tick):
    if tick % 20 == 10:
        time.sleep(0.08)  # BLOCKER


async def main():
    for tick in range(70):
        await asyncio.sleep(0.005)
        await stall(tick)


asyncio.run(main())
