"""An asyncio loop whose only wake-ups are its own timeouts (20 of 10 ms)."""
import asyncio


async def main():
    for _ in range(20):
        try:
            await asyncio.wait_for(asyncio.Event().wait(), timeout=0.01)
        except asyncio.TimeoutError:
            pass


asyncio.run(main())
