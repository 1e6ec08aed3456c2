"""The smallest Autobahn asyncio callee: the baseline for the starter's backend component."""

import os
import sys

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession


class Callee(ApplicationSession):
    async def onJoin(self, details):
        await self.register(lambda name="world": f"hello, {name}", "bench.hello")
        print("minimal callee ready", flush=True)


if __name__ == "__main__":
    runner = ApplicationRunner(os.environ["BENCH_URL"], "bench")
    sys.exit(runner.run(Callee))
