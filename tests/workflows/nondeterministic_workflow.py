"""A deliberately bad workflow for tests/workflows/test_determinism.py: each line of `run` is
something a replay would see differently, in the forms code spells them."""

import random
import time as clock
import uuid
from datetime import datetime

from temporalio import workflow


@workflow.defn
class NondeterministicWorkflow:
    @workflow.run
    async def run(self, use: str) -> str:
        if use == "clock":
            return datetime.now().isoformat()
        if use == "monotonic":
            return str(clock.monotonic())
        if use == "random":
            return str(random.random())
        if use == "uuid":
            return str(uuid.uuid4())
        with open("/etc/hostname") as file:
            return file.read()
