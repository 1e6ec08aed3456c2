"""The smallest Celery app that does the same round trip: the baseline for the starter's."""

import os

from celery import Celery

app = Celery("minimal", broker=os.environ["BENCH_BROKER"], backend=os.environ["BENCH_BACKEND"])


@app.task
def add(x: int, y: int) -> int:
    return x + y
