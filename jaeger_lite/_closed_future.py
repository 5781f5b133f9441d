"""The Future ``Tracer.close()`` returns (jaeger-client's ``close()`` returned one).

A module of its own, imported when a tracer is first closed: ``concurrent.futures`` imports
``logging``, which ``from jaeger_lite import Tracer`` no longer pays for (see ``_log``).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Generator

__all__ = ["ClosedFuture"]


class ClosedFuture(concurrent.futures.Future):  # type: ignore[type-arg]
    """What ``Tracer.close()`` returns: a Future already done (with None), as close() has
    finished when it returns. Code written for jaeger-client, whose ``close()`` returned a
    Tornado Future, keeps working: ``yield tracer.close()`` in a Tornado coroutine,
    ``await tracer.close()``, ``tracer.close().add_done_callback(...)``,
    ``IOLoop.run_sync(tracer.close)``."""

    def __init__(self) -> None:
        super().__init__()
        self.set_result(None)

    def __await__(self) -> Generator[None, None, None]:
        yield from ()  # done already: the await returns at once, with None
