"""The README stays true: the quick start runs as pasted, every option is documented."""

from __future__ import annotations

import io
import os
import pathlib
import re
import subprocess
import sys

from jaeger_lite.agent import DevAgent
from jaeger_lite.config.options import OPTIONS
from jaeger_lite.config.otel_env import OTEL_VARIABLES

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_quick_start_runs_as_pasted() -> None:
    """The quick start prints the baggage and its trace reaches the agent."""
    code = re.search(r"```python\n(.*?)```", section("Quick start"), re.S)
    assert code is not None
    assert len(code.group(1).strip().splitlines()) <= 20  # "about 15 lines"
    with DevAgent(compact_port=0, binary_port=None, http_port=None, out=io.StringIO()) as agent:
        env = {
            **os.environ,
            "JAEGER_AGENT_HOST": "127.0.0.1",
            "JAEGER_AGENT_PORT": str(agent.compact_port),
        }
        result = subprocess.run(
            [sys.executable, "-c", code.group(1)],
            capture_output=True, text=True, timeout=60, env=env, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "42"
        assert agent.wait_for_spans(3, timeout=10)
        agent.flush()
        (trace,) = agent.traces
        names = sorted(span.operation for span in trace.spans)
    assert names == ["charge", "checkout", "handle"]


def test_every_option_is_in_the_configuration_table() -> None:
    """Each init_tracer option and its variable have a row."""
    table = section("Configuration")
    for option in OPTIONS:
        assert f"| `{option.name}` | `{option.env}`" in table, option.name


def test_every_otel_variable_is_documented() -> None:
    """Each OTEL_* variable init_tracer reads is named in the configuration section."""
    table = section("Configuration")
    for variable in OTEL_VARIABLES:
        short = variable.replace("OTEL_EXPORTER_OTLP_TRACES_", "OTEL_EXPORTER_OTLP_[TRACES_]")
        suffix = "_" + variable.rsplit("_", 1)[-1]
        assert (
            f"`{variable}`" in table or f"`{short}`" in table or f"`{suffix}`" in table
        ), variable


def test_the_two_setup_commands_are_given() -> None:
    """A newcomer's two commands, and the Makefile has every target the README lists."""
    assert "make demo" in README and "make test" in README
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"`make ([a-z-]+)`", README):
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_otlp_section_runs_as_pasted() -> None:
    """The OTLP example sends its span to OTEL_EXPORTER_OTLP_ENDPOINT (the agent's OTLP
    listener here) and the section names Jaeger v2's ports."""
    text = section("Sending to Jaeger v2 or an OpenTelemetry Collector")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    assert all(port in text for port in ("4318", "4317", "16686"))
    with DevAgent(
        compact_port=None, binary_port=None, http_port=None, otlp_port=0, out=io.StringIO()
    ) as agent:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JAEGER_", "OTEL_"))}
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = (agent.otlp_url or "").rsplit("/v1/traces", 1)[0]
        result = subprocess.run(
            [sys.executable, "-c", code.group(1)],
            capture_output=True, text=True, timeout=60, env=env, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert agent.wait_for_spans(1, timeout=10)
        agent.flush()
        assert [s.operation for t in agent.traces for s in t.spans] == ["charge"]
