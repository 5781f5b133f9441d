"""The README stays true: its Python blocks run as pasted, the quick start does what it
says, every option is documented.

Every ```python block of README.md runs in a fresh interpreter, in a scratch directory,
with the environment pointing at an in-process development agent (``AGENT_ENV``), and must
exit with status 0 within ``TIMEOUT`` seconds. Two marker comments, which readers see as
they are, change that:

``# fragment: <why>``
    as the block's first line: the block does not run alone (it needs objects of the
    reader's own, or a server it stands for); it is not run. The reason is required.
``# requires: <module>[, <module>...]``
    among the comment lines at the top of the block: it needs an optional package (an
    extra, a framework). It is skipped, naming the module, only when one of them cannot be
    imported; otherwise it runs like any other block.

A block without a marker that fails fails the suite. ``CHECKS`` adds assertions for the
blocks of a section beyond the exit status.
"""

from __future__ import annotations

import importlib.util
import io
import os
import pathlib
import re
import subprocess
import sys
from typing import Callable, NamedTuple, Optional

import pytest

import jaeger_lite
from jaeger_lite.agent import DevAgent
from jaeger_lite.config.options import OPTIONS
from jaeger_lite.config.otel_env import OTEL_VARIABLES

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
TIMEOUT = 60

#: The environment every block runs with: each variable and how to get its value from the
#: in-process agent. A feature that reads another variable (OTLP's
#: OTEL_EXPORTER_OTLP_ENDPOINT, say) adds one line here.
AGENT_ENV: dict[str, Callable[[DevAgent], Optional[str]]] = {
    "JAEGER_AGENT_HOST": lambda agent: agent.host,
    "JAEGER_AGENT_PORT": lambda agent: str(agent.compact_port),
    "JAEGER_SAMPLING_ENDPOINT": lambda agent: agent.sampling_url,
    "JAEGER_ENDPOINT": lambda agent: agent.http_url,
    "OTEL_EXPORTER_OTLP_ENDPOINT": lambda agent: (agent.otlp_url or "").rsplit("/v1/traces", 1)[0],
}
#: Variables of the developer's own shell that would point a block somewhere else.
FOREIGN_ENV = re.compile(r"(JAEGER_(?!LITE_)|OTEL_)")

FRAGMENT = re.compile(r"# fragment: *(.*)")
REQUIRES = re.compile(r"# requires: *(.*)")


class Block(NamedTuple):
    """One ```python block: where it is, under which ``## `` section, and its code."""

    line: int
    section: str
    code: str

    @property
    def id(self) -> str:
        return f"L{self.line}-{re.sub(r'[^a-z0-9]+', '-', self.section.lower()).strip('-')}"

    @property
    def fragment(self) -> Optional[str]:
        """The reason given by a ``# fragment:`` first line, or None."""
        match = FRAGMENT.fullmatch(self.code.split("\n", 1)[0].strip())
        return match.group(1).strip() if match else None

    @property
    def requires(self) -> list[str]:
        """Modules named by ``# requires:`` lines at the top of the block."""
        modules: list[str] = []
        for line in self.code.splitlines():
            if not line.startswith("#"):
                break
            match = REQUIRES.fullmatch(line.strip())
            if match:
                modules += [name.strip() for name in match.group(1).split(",") if name.strip()]
        return modules


def readme_blocks(text: str = README) -> list[Block]:
    """Every ```python block of ``text`` with its line number and section title."""
    blocks = []
    section = ""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("## "):
            section = line[3:].strip()
        if line.strip() == "```python":
            end = index + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            blocks.append(Block(index + 2, section, "\n".join(lines[index + 1 : end]) + "\n"))
            index = end
        index += 1
    return blocks


def missing_modules(block: Block) -> list[str]:
    """The modules a block ``# requires:`` that cannot be imported here."""
    return [name for name in block.requires if importlib.util.find_spec(name) is None]


BLOCKS = readme_blocks()
RUNNABLE = [block for block in BLOCKS if block.fragment is None]


def block_env(agent: DevAgent) -> dict[str, str]:
    """The environment of a block: ours without foreign JAEGER_*/OTEL_* variables, the
    agent's addresses, and the jaeger_lite these tests import first on the path."""
    env = {name: value for name, value in os.environ.items() if not FOREIGN_ENV.match(name)}
    for name, value_of in AGENT_ENV.items():
        value = value_of(agent)
        assert value is not None, f"the agent gives no value for {name}: is its listener on?"
        env[name] = value
    package_parent = str(pathlib.Path(jaeger_lite.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    return env


def run_block(
    block: Block, agent: DevAgent, workdir: pathlib.Path
) -> subprocess.CompletedProcess[str]:
    """Run the block as a script in ``workdir``; the agent receives what it sends."""
    script = workdir / "readme_block.py"
    script.write_text(block.code, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=workdir, env=block_env(agent), capture_output=True, text=True,
        timeout=TIMEOUT, check=False,
    )  # fmt: skip


def new_agent() -> DevAgent:
    """A development agent with every listener the environment points at, on free ports."""
    return DevAgent(
        compact_port=0,
        binary_port=None,
        http_port=0,
        sampling_port=0,
        otlp_port=0,
        out=io.StringIO(),
    )


def check_quick_start(result: subprocess.CompletedProcess[str], agent: DevAgent) -> None:
    """It prints the baggage item, and its one trace reaches the agent."""
    assert result.stdout.strip() == "42"
    assert agent.wait_for_spans(3, timeout=10)
    agent.flush()
    (trace,) = agent.traces
    assert sorted(span.operation for span in trace.spans) == ["charge", "checkout", "handle"]


#: Assertions beyond exit status 0 for the blocks of a section.
CHECKS: dict[str, Callable[[subprocess.CompletedProcess[str], DevAgent], None]] = {
    "Quick start": check_quick_start,
}


@pytest.mark.parametrize("block", RUNNABLE, ids=[block.id for block in RUNNABLE])
def test_block_runs_as_pasted(block: Block, tmp_path: pathlib.Path) -> None:
    """The block exits with status 0, with the environment pointing at a local agent."""
    missing = missing_modules(block)
    if missing:
        pytest.skip(f"README line {block.line} needs {', '.join(missing)}, not installed")
    with new_agent() as agent:
        result = run_block(block, agent, tmp_path)
        assert result.returncode == 0, (
            f"README line {block.line} ({block.section}) failed as pasted:\n{result.stderr}"
        )
        check = CHECKS.get(block.section)
        if check is not None:
            check(result, agent)
        assert agent.stats.bad_datagrams == 0
        assert agent.stats.bad_http_bodies == 0


def test_the_harness_fails_a_block_that_fails(tmp_path: pathlib.Path) -> None:
    """An unmarked block that raises fails, and a marked one is not run."""
    text = "## Broken\n\n```python\nimport jaeger_lite\nundefined_name\n```\n"
    text += "```python\n# fragment: continues the block above\nundefined_name\n```\n"
    broken, fragment = readme_blocks(text)
    assert (broken.line, broken.section, broken.fragment) == (4, "Broken", None)
    assert fragment.fragment == "continues the block above"
    with new_agent() as agent:
        result = run_block(broken, agent, tmp_path)
    assert result.returncode != 0
    assert "NameError" in result.stderr


def test_requires_skips_only_for_a_missing_module() -> None:
    """``# requires:`` lines at the top are read; only modules that do not import count."""
    text = "## Optional\n\n```python\n# requires: json, no_such_module_for_readme_tests\n"
    text += "# requires: importlib\nimport json\n# requires: not_a_marker_here\n```\n"
    (block,) = readme_blocks(text)
    assert block.requires == ["json", "no_such_module_for_readme_tests", "importlib"]
    assert missing_modules(block) == ["no_such_module_for_readme_tests"]


def test_markers_are_well_formed() -> None:
    """Fragments give a reason and open their block; ``requires`` names modules."""
    for block in BLOCKS:
        if block.fragment is not None:
            assert block.fragment, f"README line {block.line}: say why it is a fragment"
        later = [line for line in block.code.splitlines()[1:] if FRAGMENT.match(line.strip())]
        assert later == [], f"README line {block.line}: '# fragment:' must be the first line"
        assert all(re.fullmatch(r"[\w.]+", name) for name in block.requires), block.line


def test_most_blocks_run_as_pasted() -> None:
    """Fragments are the exception."""
    assert len(BLOCKS) >= 10  # the extraction finds the README's blocks
    assert len(RUNNABLE) > len(BLOCKS) / 2


def test_quick_start_is_short() -> None:
    """The quick start is one runnable block of about 15 lines."""
    (block,) = [block for block in BLOCKS if block.section == "Quick start"]
    assert block.fragment is None and not block.requires
    assert len(block.code.strip().splitlines()) <= 20


def section(title: str) -> str:
    """The README's ``## title`` section, up to the next ``## `` heading."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


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
        # a row of OTEL_EXPORTER_OTLP_[TRACES_]* names the rest by suffix (`_CLIENT_KEY`)
        suffixes = ["_" + "_".join(variable.split("_")[-n:]) for n in (1, 2)]
        assert (
            f"`{variable}`" in table
            or f"`{short}`" in table
            or any(f"`{suffix}`" in table for suffix in suffixes)
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
