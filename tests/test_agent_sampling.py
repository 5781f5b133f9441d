"""The development agent's sampling endpoint, as Jaeger clients' remote samplers use it."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from jaeger_lite import ProbabilisticSampler, RemoteSampler, Tracer
from jaeger_lite.agent import DevAgent
from jaeger_lite.agent.sampling import strategy_response


@pytest.fixture
def agent() -> Iterator[DevAgent]:
    with DevAgent(
        compact_port=None, binary_port=None, http_port=0, sampling_port=0,
        sampling_rate=0.5, out=io.StringIO(),
    ) as running:  # fmt: skip
        yield running


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_sampling_path_answers_proto_json(agent: DevAgent) -> None:
    """GET /sampling?service=NAME: string enum, the configured rate."""
    status, body = get(f"{agent.sampling_url}?service=checkout")
    assert status == 200
    assert json.loads(body) == {
        "strategyType": "PROBABILISTIC",
        "probabilisticSampling": {"samplingRate": 0.5},
    }


def test_legacy_root_path_answers_integer_enums(agent: DevAgent) -> None:
    """GET /?service=NAME (Java's path) uses the legacy integer enum."""
    base = agent.sampling_url.rsplit("/", 1)[0]  # type: ignore[union-attr]
    status, body = get(f"{base}/?service=checkout")
    assert status == 200 and json.loads(body)["strategyType"] == 0


def test_collector_port_serves_api_sampling(agent: DevAgent) -> None:
    """The HTTP collector port answers /api/sampling like Jaeger's v1 collector."""
    status, body = get(f"http://127.0.0.1:{agent.http_port}/api/sampling?service=x")
    assert status == 200 and json.loads(body)["probabilisticSampling"]["samplingRate"] == 0.5


@pytest.mark.parametrize("query", ["", "?service=", "?service=a&service=b", "?other=1"])
def test_service_must_be_given_once(agent: DevAgent, query: str) -> None:
    """As in Jaeger: exactly one non-empty service parameter, else 400."""
    assert get(f"{agent.sampling_url}{query}")[0] == 400


def test_unknown_path_is_404() -> None:
    """Only the sampling paths are served."""
    assert strategy_response("/strategies?service=x", 1.0)[0] == 404


def test_remote_sampler_follows_the_agent(agent: DevAgent) -> None:
    """A tracer with the default remote sampler pointed at the agent samples at its rate."""
    sampler = RemoteSampler(
        "svc", sampling_endpoint=agent.sampling_url or "", initial=ProbabilisticSampler(0.001)
    )
    tracer = Tracer("svc", sampler=sampler)
    try:
        assert sampler.refresh()
        assert sampler.sampler == ProbabilisticSampler(0.5)
    finally:
        tracer.close()


def test_banner_names_the_sampling_endpoint(agent: DevAgent) -> None:
    """The start-up lines say where remote samplers should look."""
    assert f"sampling {agent.sampling_url}" in agent.banner()


def test_sampling_rate_is_validated() -> None:
    """A rate outside 0..1 is refused at construction."""
    with pytest.raises(ValueError):
        DevAgent(sampling_rate=2.0)
