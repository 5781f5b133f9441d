"""The span-cost cases shared by ``bench_core.py`` (time) and its ``--instructions`` mode.

Each case is the workload ``with tracer.start_active_span("op") as scope:
scope.span.set_tag("k", "v")`` on one tracer: a root (nothing active) or a child (a parent
scope of the same tracer left active for the whole process), sampled or unsampled, with a
``NullReporter``; the ``skeleton`` cases run it on ``_skeletons.SkeletonTracer`` (the API's
shape, none of the rules). The workload is compiled into timeit's loop, so no extra Python
call sits between the loop and the code measured.
"""

from __future__ import annotations

import os
import sys
from typing import Any

CASES = (
    "skeleton root",
    "skeleton child",
    "unsampled root",
    "unsampled child",
    "sampled root",
    "sampled child",
)

WORKLOAD = """\
with tracer.start_active_span("op") as scope:
    scope.span.set_tag("k", "v")
"""

_HELD: list[Any] = []  # parent scopes kept active


def make_tracer(case: str, no_opentracing: bool = False) -> Any:
    """The tracer for ``case``, with a parent scope entered when the case is a child."""
    if no_opentracing:
        sys.modules["opentracing"] = None  # type: ignore[assignment]
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    sys.path.insert(0, os.path.dirname(here))
    from _skeletons import SkeletonTracer

    import jaeger_lite

    kind, position = case.split()
    if kind == "skeleton":
        tracer: Any = SkeletonTracer(jaeger_lite.NullReporter())
    else:
        sampler = jaeger_lite.ConstSampler(kind == "sampled")
        tracer = jaeger_lite.Tracer("bench", jaeger_lite.NullReporter(), sampler)
    if position == "child":
        # Held open (and active) until the process exits.
        _HELD.append(tracer.start_active_span("parent").__enter__())
    return tracer
