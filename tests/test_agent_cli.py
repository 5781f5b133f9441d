"""Tests for the ``jaeger-lite agent`` command, run as a real subprocess."""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, Optional

import pytest

from jaeger_lite.__main__ import main
from jaeger_lite.agent.cli import parse_host_port, parse_port, parse_seconds
from tests.agent_batches import batch, message, span

WAIT = 15.0
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class Agent:
    """A ``python -m jaeger_lite agent`` subprocess with its output read line by line."""

    def __init__(self, *args: str, ignore_sigint: bool = False) -> None:
        if "--sampling-port" not in args:  # never the shared default 5778 in tests
            args = ("--sampling-port", "auto", *args)
        if "--ui-port" not in args:  # nor the web UI's 16686
            args = ("--ui-port", "auto", *args)
        if "--otlp-port" not in args:  # nor 4318
            args = ("--otlp-port", "off", *args)
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "100"}
        env.pop("NO_COLOR", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jaeger_lite", "agent", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
            # What a shell does to a background job ("jaeger-lite agent &").
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
            if ignore_sigint
            else None,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[Optional[str]] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = WAIT) -> str:
        """Read lines until one satisfies ``predicate``; fail after ``timeout`` seconds."""
        for line in self.lines:
            if predicate(line):
                return line
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"timed out; output so far: {self.lines}")
            if line is None:
                pytest.fail(f"agent exited; output: {self.lines}; stderr: {self.stderr()}")
            self.lines.append(line)
            if predicate(line):
                return line

    def port(self, name: str) -> int:
        pattern = re.compile(rf"^  {name} +\w+://127\.0\.0\.1:(\d+)")
        found = pattern.search(self.wait_for(lambda line: pattern.search(line) is not None))
        assert found
        return int(found.group(1))

    def stop(self, signum: int) -> int:
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout=WAIT)
        while True:
            try:
                line = self._queue.get(timeout=WAIT)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return code

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read()


@pytest.fixture
def agent_factory() -> Iterator[Callable[..., Agent]]:
    started: list[Agent] = []

    def start(*args: str, ignore_sigint: bool = False) -> Agent:
        agent = Agent(*args, ignore_sigint=ignore_sigint)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        if agent.proc.poll() is None:
            agent.proc.kill()
            agent.proc.wait(timeout=WAIT)
        for stream in (agent.proc.stdout, agent.proc.stderr):
            if stream is not None:
                stream.close()


EPHEMERAL = ("--compact-port", "auto", "--binary-port", "auto", "--http-port", "auto")


def send(port: int, data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(data, ("127.0.0.1", port))


def test_sigint_prints_summary_and_exits_0(agent_factory: Callable[..., Agent]) -> None:
    """Ctrl-C after a trace: the summary counts it and the exit status is 0."""
    agent = agent_factory(*EPHEMERAL, "--quiet-after", "0.05", "--no-color")
    port = agent.port("compact")
    send(port, message(batch("cli-svc", [span(5, 1, 0, "hello"), span(5, 2, 1, "world")])))
    send(port, b"junk")
    agent.wait_for(lambda line: "cli-svc: world" in line)
    assert agent.stop(signal.SIGINT) == 0
    assert any(line.startswith("! bad compact datagram") for line in agent.lines)
    summary = agent.lines[-1]
    assert summary.startswith("jaeger-lite agent stopped: 1 trace, 2 spans in 1 batch")
    assert "1 bad datagram" in summary
    assert not any("\x1b" in line for line in agent.lines)


def test_sigint_works_for_a_background_job(agent_factory: Callable[..., Agent]) -> None:
    """Started with SIGINT ignored, as shells start background jobs, kill -INT still stops it."""
    agent = agent_factory(*EPHEMERAL, ignore_sigint=True)
    agent.wait_for(lambda line: "traces print after" in line)
    assert agent.stop(signal.SIGINT) == 0
    assert agent.lines[-1].startswith("jaeger-lite agent stopped: 0 traces")


def test_sigterm_stops_cleanly_and_flushes_pending(agent_factory: Callable[..., Agent]) -> None:
    """SIGTERM prints traces still waiting for quiet, then the summary; exit status 0."""
    agent = agent_factory(*EPHEMERAL, "--quiet-after", "3600")
    port = agent.port("binary")
    send(port, message(batch("svc", [span(6, 1, 0, "pending-op")]), "binary"))
    # One socket, one reader thread: once the bad datagram is reported the good one is in.
    send(port, b"marker")
    agent.wait_for(lambda line: line.startswith("! bad binary datagram"))
    assert not any("pending-op" in line for line in agent.lines)
    assert agent.stop(signal.SIGTERM) == 0
    assert any("svc: pending-op" in line for line in agent.lines)
    assert agent.lines[-1].startswith("jaeger-lite agent stopped: 1 trace, 1 span in 1 batch")


def test_banner_names_the_listeners_and_off_disables(agent_factory: Callable[..., Agent]) -> None:
    """0 or 'off' leaves a listener out; the banner names only those bound."""
    agent = agent_factory(
        "--compact-port", "auto", "--binary-port", "off", "--http-port", "0",
        "--sampling-port", "off", "--ui-port", "off",
    )  # fmt: skip
    agent.wait_for(lambda line: "traces print after" in line)
    banner = "\n".join(agent.lines)
    assert (
        "  compact  udp://127.0.0.1:" in banner and "binary" not in banner and "http" not in banner
    )
    assert agent.stop(signal.SIGINT) == 0


def test_port_in_use_exits_1_with_a_hint(agent_factory: Callable[..., Agent]) -> None:
    """A taken port is a clear error, not a traceback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        agent = agent_factory(
            "--compact-port", str(taken.getsockname()[1]), "--binary-port", "auto"
        )
        assert agent.proc.wait(timeout=WAIT) == 1
        err = agent.stderr()
    assert "cannot start" in err and "--compact-port" in err and "Traceback" not in err


def test_json_flag_writes_the_file(agent_factory: Callable[..., Agent], tmp_path: Path) -> None:
    """--json FILE receives each printed trace."""
    path = tmp_path / "out.json"
    agent = agent_factory(*EPHEMERAL, "--quiet-after", "0.05", "--json", str(path))
    send(agent.port("compact"), message(batch("s", [span(8, 1, 0, "x")])))
    agent.wait_for(lambda line: "s: x" in line)
    assert agent.stop(signal.SIGINT) == 0
    assert '"traceID": "0000000000000008"' in path.read_text()


def test_forward_flag_relays(agent_factory: Callable[..., Agent]) -> None:
    """--forward sends each compact datagram on, unchanged."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as real:
        real.bind(("127.0.0.1", 0))
        real.settimeout(WAIT)
        agent = agent_factory(*EPHEMERAL, "--forward", f"127.0.0.1:{real.getsockname()[1]}")
        data = message(batch("s", [span(1, 1)]))
        send(agent.port("compact"), data)
        assert real.recvfrom(65536)[0] == data
        assert agent.stop(signal.SIGINT) == 0
    assert "1 forwarded" in agent.lines[-1]


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=WAIT) as reply:
        return json.load(reply)


def test_web_ui_serves_what_the_agent_received(agent_factory: Callable[..., Agent]) -> None:
    """The banner names the UI's address; its API lists what arrived."""
    agent = agent_factory(*EPHEMERAL)
    url = agent.wait_for(lambda line: line.startswith("  web UI   ")).split()[2]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
    send(agent.port("compact"), message(batch("ui-svc", [span(9, 1, 0, "seen")])))
    send(agent.port("compact"), b"marker")  # reported once the batch before it is in
    agent.wait_for(lambda line: line.startswith("! bad compact datagram"))
    assert get_json(url + "api/services") == {
        "data": ["ui-svc"], "total": 1, "limit": 0, "offset": 0, "errors": None
    }  # fmt: skip
    assert agent.stop(signal.SIGINT) == 0


def test_ui_port_off_serves_no_ui(agent_factory: Callable[..., Agent]) -> None:
    agent = agent_factory(*EPHEMERAL, "--ui-port", "off")
    agent.wait_for(lambda line: "traces print after" in line)
    assert not any("web UI" in line for line in agent.lines)
    assert agent.stop(signal.SIGINT) == 0


def test_max_traces_evicts_and_the_summary_says_so(agent_factory: Callable[..., Agent]) -> None:
    agent = agent_factory(*EPHEMERAL, "--max-traces", "1", "--quiet-after", "0.05")
    for trace_id in (1, 2):
        send(agent.port("compact"), message(batch("s", [span(trace_id, 1, 0, f"op{trace_id}")])))
        agent.wait_for(lambda line, t=trace_id: f"s: op{t}" in line)
    assert agent.stop(signal.SIGINT) == 0
    assert "1 trace evicted (--max-traces 1)" in agent.lines[-1]


def test_store_keeps_traces_across_a_restart(
    agent_factory: Callable[..., Agent], tmp_path: Path
) -> None:
    path = str(tmp_path / "traces.db")
    first = agent_factory(*EPHEMERAL, "--store", path, "--quiet-after", "0.05")
    first.wait_for(lambda line: line == f"keeping traces in {path} (0 loaded)")
    send(first.port("compact"), message(batch("kept", [span(0xA1, 1, 0, "op")])))
    first.wait_for(lambda line: "kept: op" in line)
    assert first.stop(signal.SIGINT) == 0
    second = agent_factory(*EPHEMERAL, "--store", path)
    second.wait_for(lambda line: line == f"keeping traces in {path} (1 loaded)")
    url = second.wait_for(lambda line: line.startswith("  web UI   ")).split()[2]
    trace = get_json(url + "api/traces/a1")
    assert isinstance(trace, dict) and trace["data"][0]["spans"][0]["operationName"] == "op"
    assert second.stop(signal.SIGINT) == 0


def test_store_refuses_a_foreign_file(agent_factory: Callable[..., Agent], tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n" * 100)
    agent = agent_factory(*EPHEMERAL, "--store", str(path))
    assert agent.proc.wait(timeout=WAIT) == 1
    err = agent.stderr()
    assert "not a jaeger-lite trace store" in err and "Traceback" not in err
    assert path.read_text() == "my notes\n" * 100


def test_no_command_prints_help() -> None:
    """``jaeger-lite`` alone shows usage and returns 2."""
    assert main([]) == 2


def test_console_script_is_installed() -> None:
    """The jaeger-lite script exists next to the interpreter and answers --version."""
    script = Path(sys.executable).parent / "jaeger-lite"
    if not script.exists():
        pytest.skip("package not installed with its scripts")
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=WAIT
    )
    assert result.returncode == 0 and result.stdout.startswith("jaeger-lite ")


@pytest.mark.parametrize(
    ("text", "port"),
    [("0", None), ("6831", 6831), ("off", None), ("OFF", None), ("auto", 0)],
)
def test_parse_port(text: str, port: Optional[int]) -> None:
    """Ports are numbers; 0 or 'off' turns a listener off; 'auto' means any free port."""
    assert parse_port(text) == port


@pytest.mark.parametrize("text", ["-1", "65536", "abc", ""])
def test_parse_port_rejects(text: str) -> None:
    """Out-of-range and non-numeric ports are usage errors."""
    with pytest.raises(argparse.ArgumentTypeError):
        parse_port(text)


def test_parse_host_port() -> None:
    """HOST:PORT with IPv6 in brackets."""
    assert parse_host_port("localhost:6831") == ("localhost", 6831)
    assert parse_host_port("[::1]:6832") == ("::1", 6832)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_host_port("6831")


def test_parse_seconds() -> None:
    """Quiet time is a non-negative number."""
    assert parse_seconds("0.5") == 0.5
    with pytest.raises(argparse.ArgumentTypeError):
        parse_seconds("-1")


def test_sampling_endpoint_of_the_command(agent_factory: Callable[..., Agent]) -> None:
    """The command answers remote samplers at the rate given by --sampling-rate."""
    agent = agent_factory(*EPHEMERAL, "--sampling-rate", "0.25")
    port = agent.port("sampling")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sampling?service=x", timeout=WAIT) as r:
        assert json.load(r)["probabilisticSampling"]["samplingRate"] == 0.25
    assert agent.stop(signal.SIGINT) == 0


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("flag", ["--compact-port", "--binary-port"])
def test_port_in_use_names_that_port(agent_factory: Callable[..., Agent], flag: str) -> None:
    """The error says which port of which listener is taken, and the hint names only the
    flag that moves it (it said "[Errno 98] Address already in use" and listed them all)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        others = [f for f in ("--compact-port", "--binary-port") if f != flag]
        agent = agent_factory(flag, str(port), *(a for f in others for a in (f, "auto")),
                              "--http-port", "off")  # fmt: skip
        assert agent.proc.wait(timeout=WAIT) == 1
        err = agent.stderr()
    assert f"UDP port {port} on 127.0.0.1" in err and "already in use" in err, err
    assert flag in err and not any(other in err for other in others), err


def test_unresolvable_host_gets_its_own_hint(agent_factory: Callable[..., Agent]) -> None:
    """--host that does not resolve: the message says so (not "another agent may be
    using these ports")."""
    agent = agent_factory(*EPHEMERAL, "--host", "no-such-host.invalid")
    assert agent.proc.wait(timeout=WAIT) == 1
    err = agent.stderr()
    assert "--host 'no-such-host.invalid'" in err and "another agent" not in err, err
    assert "Traceback" not in err


def test_unwritable_json_path_fails_at_start(
    agent_factory: Callable[..., Agent], tmp_path: Path
) -> None:
    """--json into a directory that does not exist is refused at start (it was accepted
    and failed at the first trace)."""
    path = tmp_path / "no-such-dir" / "traces.json"
    agent = agent_factory(*EPHEMERAL, "--json", str(path))
    assert agent.proc.wait(timeout=WAIT) == 1
    err = agent.stderr()
    assert f"--json {path}" in err and "No such file or directory" in err, err


def test_forwarding_to_itself_is_refused(agent_factory: Callable[..., Agent]) -> None:
    """The help text's own example (--forward localhost:6831 on an agent listening on
    6831) forwarded every datagram to itself forever (54,015 copies of a span in 3 s)."""
    port = _free_udp_port()
    for target in (f"localhost:{port}", f"127.0.0.1:{port}"):
        agent = agent_factory("--compact-port", str(port), "--binary-port", "auto",
                              "--http-port", "off", "--forward", target)  # fmt: skip
        assert agent.proc.wait(timeout=WAIT) == 1
        err = agent.stderr()
        assert "own compact listener" in err and "--forward" in err, err


def test_no_arguments_says_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    """`jaeger-lite` alone says a command is missing and names it, then shows usage."""
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "missing a command" in err and "jaeger-lite agent" in err, err
