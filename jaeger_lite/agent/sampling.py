"""The agent's sampling endpoint: answers Jaeger clients' remote samplers.

Real agents serve ``GET /sampling?service=NAME`` on port 5778 (and the legacy ``/``, with
integer enums); the v1 collector serves ``/api/sampling`` on 14268. The development agent
answers all three with one probabilistic strategy (``--sampling-rate``, default 1.0), so
an application using jaeger_lite's default remote sampler records every trace while
you develop, and switching to a real Jaeger changes nothing in its configuration. The
endpoints and answers: docs/protocol.md#sampling-strategies.
"""

from __future__ import annotations

import json
from typing import Optional
from urllib.parse import parse_qs, urlsplit

__all__ = ["SAMPLING_PATHS", "strategy_response"]

#: path -> whether the answer uses the legacy integer enums
SAMPLING_PATHS = {"/sampling": False, "/api/sampling": False, "/": True}


def strategy_response(path_and_query: str, rate: float) -> tuple[int, str]:
    """``(HTTP status, body)`` for a sampling request, as Jaeger's agent answers it.

    Exactly one ``service`` parameter is required (400 otherwise, as in Jaeger); an
    unknown path is 404 (the body then says what is served).
    """
    url = urlsplit(path_and_query)
    legacy: Optional[bool] = SAMPLING_PATHS.get(url.path)
    if legacy is None:
        return 404, "sampling strategies are served at /sampling?service=NAME"
    services = parse_qs(url.query, keep_blank_values=True).get("service", [])
    if len(services) != 1 or not services[0]:
        return 400, "'service' parameter must be provided once"
    strategy = {
        "strategyType": 0 if legacy else "PROBABILISTIC",
        "probabilisticSampling": {"samplingRate": rate},
    }
    return 200, json.dumps(strategy)
