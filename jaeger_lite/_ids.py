"""Span and trace id generation, hex formatting, and reading signed i64 ids back.

Ids come from a private Mersenne Twister (``random.Random``'s C core) seeded from
``os.urandom``: an application's ``random.seed()`` cannot make them repeat, and the
generator is reseeded in every forked child (a fork hook of its own, uWSGI's workers
included) so prefork workers never draw their parent's ids. A
Mersenne Twister draw costs ~40 ns against ~290 ns for ``os.urandom(8)``; ids only need to
be unique, not unpredictable to an attacker (see benchmarks/bench_core.py).
"""

from __future__ import annotations

import os
import sys

# The C generator under random.Random (CPython and PyPy both have it): `import random`
# itself costs ~2.3 ms more at start-up (hashlib, bisect, math; python -S -X importtime, 3.11).
from _random import Random
from typing import Any, Callable

MAX_ID = (1 << 64) - 1
MAX_TRACE_ID = (1 << 128) - 1


def _seed() -> int:
    return int.from_bytes(os.urandom(32), "big")


_rng = Random(_seed())  # unique, not secret: see above
#: Bound method used on the hot path: ``getrandbits(64)`` is a single C call.
getrandbits = _rng.getrandbits


def reseed_ids() -> None:
    """Reseed from ``os.urandom``: in every forked child, by the hook below."""
    _rng.seed(_seed())


def at_fork_in_child(hook: Callable[[], None]) -> None:
    """Run ``hook`` once in every forked child: ``os.fork()``'s, and uWSGI's workers, which
    it forks in C and which run Python's at-fork hooks only with ``--py-call-osafterfork``
    (so there also as ``uwsgi.post_fork_hook``, which then calls any hook set before)."""
    ran_in = [os.getpid()]

    def once() -> None:
        if ran_in[0] != os.getpid():  # both ways may run in one child
            ran_in[0] = os.getpid()
            hook()

    if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork to worry about
        os.register_at_fork(after_in_child=once)
    uwsgi: Any = sys.modules.get("uwsgi")  # uWSGI's embedded module, there before any app
    if uwsgi is not None:
        previous = getattr(uwsgi, "post_fork_hook", None)

        def chained() -> None:
            once()
            if callable(previous):
                previous()

        uwsgi.post_fork_hook = chained


# Registered here rather than in _lifecycle: `import jaeger_lite` loads neither module (the
# facade is lazy), and a process may load this one (through SpanContext, say) and fork
# before anything loads _lifecycle; its children must not draw its ids all the same.
at_fork_in_child(reseed_ids)


def new_id() -> int:
    """Return a random non-zero 64-bit id."""
    return getrandbits(64) or 1


def format_trace_id(trace_id: int) -> str:
    """Lower-case hex, 16 digits, or 32 when the id has a high half."""
    return f"{trace_id:032x}" if trace_id > MAX_ID else f"{trace_id:016x}"


def format_id(span_id: int) -> str:
    """Lower-case 16-digit hex of a 64-bit id."""
    return f"{span_id:016x}"


def to_unsigned(value: int) -> int:
    """Reinterpret a signed i64 from the wire as the unsigned 64-bit id."""
    return value & MAX_ID
