"""The README's "Integrations" section stays true: its runnable blocks run, the others say
why not, and the redacted query parameters it lists are the ones the code redacts."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest

from jaeger_lite.agent import DevAgent
from jaeger_lite.integrations import SECRET_QUERY_PARAMETERS

from .test_readme import section

SECTION = section("Integrations")
BLOCKS = re.findall(r"```python\n(.*?)```", SECTION, re.S)


def test_the_section_has_an_example_per_integration() -> None:
    for name in ("WSGIMiddleware", "trace_app", "TracingMiddleware", "ASGIMiddleware",
                 "instrument(", "install_log_correlation", "StructlogProcessor",
                 "LoguruPatcher", "dbapi.wrap"):  # fmt: skip
        assert any(name in block for block in BLOCKS), name
    for block in BLOCKS:
        assert 3 <= len(block.strip().splitlines()) <= 7, block  # 3-5 lines, plus imports


@pytest.mark.parametrize(
    "code", [b for b in BLOCKS if not b.startswith("# fragment:")], ids=lambda b: b[:40]
)
def test_runnable_blocks_run_as_pasted(code: str) -> None:
    """Each block without ``# fragment:`` runs in a fresh interpreter against an agent."""
    with DevAgent(
        compact_port=0, binary_port=None, http_port=0, sampling_port=0, out=io.StringIO()
    ) as agent:
        env = {
            **os.environ,
            "JAEGER_AGENT_HOST": "127.0.0.1",
            "JAEGER_AGENT_PORT": str(agent.compact_port),
            "JAEGER_SAMPLING_ENDPOINT": str(agent.sampling_url),
            "JAEGER_ENDPOINT": str(agent.http_url),
        }
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
        )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_the_redacted_parameters_are_documented() -> None:
    """Every name in SECRET_QUERY_PARAMETERS is in the README's list (any case, - or _)."""
    listed = {name.lower().replace("-", "_") for name in re.findall(r"`([A-Za-z_-]+)`", SECTION)}
    assert set(SECRET_QUERY_PARAMETERS) <= listed, set(SECRET_QUERY_PARAMETERS) - listed
