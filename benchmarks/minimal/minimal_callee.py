"""The smallest Autobahn asyncio callee: the baseline for the starter's backend component."""

import os
import sys

from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession


class Callee(ApplicationSession):
    async def onJoin(self, details):
        count = 0

        def hello(name: str = "world") -> str:
            # The same work as the starter's hello: answer, and publish the call as an event.
            nonlocal count
            count += 1
            self.publish("bench.events", {"name": name, "count": count})
            return f"hello, {name} ({count})"

        await self.register(hello, "bench.hello")
        print("minimal callee ready", flush=True)


if __name__ == "__main__":
    runner = ApplicationRunner(os.environ["BENCH_URL"], "bench")
    sys.exit(runner.run(Callee))
