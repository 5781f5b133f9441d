"""The sampling strategy documents the Jaeger agent and collector serve, parsed and validated
(the shapes are described in docs/protocol.md#sampling-strategies)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NamedTuple, Union

__all__ = ["SamplingStrategy", "parse_strategy"]


class SamplingStrategy(NamedTuple):
    """A validated strategy. ``kind`` is ``probabilistic`` (``param`` = sampling rate),
    ``ratelimiting`` (``param`` = max traces per second) or ``per_operation`` (``param`` =
    default sampling probability, with ``lower_bound`` and ``operations``)."""

    kind: str
    param: float
    lower_bound: float = 0.0
    operations: tuple[tuple[str, float], ...] = ()


_STRATEGY_TYPES = {"PROBABILISTIC": 0, "RATE_LIMITING": 1}


def parse_strategy(body: Union[bytes, str]) -> SamplingStrategy:
    """Parse a sampling answer; raises ValueError (with the reason) for anything unusable.

    Accepts the agent's proto-JSON (``/sampling``, string enums) and the legacy Thrift JSON
    (``/``, integer enums), camelCase or proto snake_case names, omitted zero-valued fields,
    and numbers written as strings (proto3 JSON allows both). ``operationSampling`` wins
    when present; otherwise ``strategyType`` (absent means PROBABILISTIC, the enum's zero)
    picks the sub-object, falling back to whichever one is present as Go and Java do.
    """
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, deep nesting
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"expected a JSON object, got {type(doc).__name__}")
    operation_sampling = _field(doc, "operationSampling", dict)
    if operation_sampling is not None:
        return _per_operation(operation_sampling)
    probabilistic = _field(doc, "probabilisticSampling", dict)
    rate_limiting = _field(doc, "rateLimitingSampling", dict)
    strategy_type = _strategy_type(doc)
    if probabilistic is not None and (strategy_type == 0 or rate_limiting is None):
        return SamplingStrategy("probabilistic", _probability(probabilistic, "samplingRate"))
    if rate_limiting is not None:
        rate = _number(rate_limiting, "maxTracesPerSecond", 0.0)
        return SamplingStrategy("ratelimiting", _per_second(rate, "maxTracesPerSecond"))
    raise ValueError("no probabilisticSampling, rateLimitingSampling or operationSampling")


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _field(obj: Mapping[str, Any], name: str, kind: type) -> Any:
    """``obj[name]`` (or its snake_case spelling), None when absent or null."""
    value = obj.get(name)
    if value is None:
        value = obj.get(_snake(name))
    if value is not None and not isinstance(value, kind):
        raise ValueError(f"{name} must be a {kind.__name__}, got {value!r:.100}")
    return value


def _strategy_type(doc: Mapping[str, Any]) -> int:
    value = _field(doc, "strategyType", object)
    if value is None:
        return 0
    if isinstance(value, str) and value.upper() in _STRATEGY_TYPES:
        return _STRATEGY_TYPES[value.upper()]
    if type(value) is int and value in (0, 1):
        return value
    raise ValueError(f"unknown strategyType {value!r:.100}")


def _number(obj: Mapping[str, Any], name: str, default: float) -> float:
    value = _field(obj, name, object)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a number, got {value!r:.100}")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{name} must be a number, got {value!r:.100}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r:.100}")
    return number


def _probability(obj: Mapping[str, Any], name: str) -> float:
    rate = _number(obj, name, 0.0)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {rate!r}")
    return rate


def _per_second(rate: float, name: str) -> float:
    if rate < 0.0:
        raise ValueError(f"{name} must be >= 0, got {rate!r}")
    return rate


def _per_operation(obj: Mapping[str, Any]) -> SamplingStrategy:
    default = _probability(obj, "defaultSamplingProbability")
    name = "defaultLowerBoundTracesPerSecond"
    lower_bound = _per_second(_number(obj, name, 0.0), name)
    operations: dict[str, float] = {}
    for entry in _field(obj, "perOperationStrategies", list) or ():
        if not isinstance(entry, dict):
            raise ValueError(f"perOperationStrategies entry must be an object: {entry!r:.100}")
        operation = _field(entry, "operation", str) or ""
        probabilistic = _field(entry, "probabilisticSampling", dict)
        if probabilistic is None:
            raise ValueError(f"operation {operation!r:.100} has no probabilisticSampling")
        operations[operation] = _probability(probabilistic, "samplingRate")
    return SamplingStrategy("per_operation", default, lower_bound, tuple(operations.items()))
