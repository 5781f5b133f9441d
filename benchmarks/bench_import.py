"""Import time: what ``import jaeger_lite`` adds to interpreter start, beside the peers.

Each row is a fresh ``python -c "<import>"`` minus a fresh bare ``python -c pass`` of the
same interpreter in the same round (paired), over ``--rounds`` rounds; every round runs all
rows in turn, starting one row later than the last, so a change of machine load hits
every row alike. Reported: the median of the paired differences in wall time (and in the
child's CPU time, user + sys, which scheduling noise moves less), with the spread
(lowest-highest of the middle half of the rounds).

Each client runs in its own venv under ``.bench/`` (peers installed there on first use,
by bench_wire.py's helper): jaeger_lite in a venv holding its dependencies only (thrift;
no opentracing) with the checkout on PYTHONPATH, so no editable-install finder loads
modules before the import under test. Rows:

* ``import jaeger_lite``: the target (issue 18: <= 15 ms);
* ``from jaeger_lite import Tracer``: what the core (tracer, spans, scopes, local samplers,
  codecs) loads on first use;
* ``from jaeger_lite import init_tracer``: the configuration machinery, senders and the
  remote sampler, i.e. what a service configured from ``JAEGER_*``/``OTEL_*`` pays;
* jaeger-client 4.8 (``import jaeger_client``) and the OTel SDK with its Jaeger exporter.

``--versus DIR`` adds the jaeger_lite rows for another checkout (e.g. main's, from
``git archive main | tar -x -C DIR``); ``--importtime`` first prints the largest entries
of ``python -X importtime`` (cumulative) for each jaeger_lite row.

Run: ``python benchmarks/bench_import.py [--rounds N] [--no-peers] [--importtime]
[--versus DIR]``.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_wire import BENCH, PEERS, ROOT, venv_python  # noqa: E402

JAEGER_LITE_ROWS = {
    "import jaeger_lite": "import jaeger_lite",
    "from jaeger_lite import Tracer": "from jaeger_lite import Tracer",
    "from jaeger_lite import init_tracer": "from jaeger_lite import init_tracer",
}
PEER_IMPORTS = {
    "jaeger-client": "import jaeger_client",
    "otel": (
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "from opentelemetry.sdk.trace.export import BatchSpanProcessor\n"
        "from opentelemetry.exporter.jaeger.thrift import JaegerExporter"
    ),
}
PEER_LABELS = {"jaeger-client": "jaeger-client 4.8", "otel": "OTel SDK + Jaeger exporter"}


@dataclass
class Row:
    label: str
    python: str
    code: str
    env: dict[str, str]
    wall: list[float] = field(default_factory=list)  # paired differences, ms
    cpu: list[float] = field(default_factory=list)


def dependencies_venv() -> str:
    """A venv of this interpreter with jaeger_lite's dependencies only (pyproject.toml's
    ``dependencies``, no extras): jaeger_lite itself comes from PYTHONPATH."""
    env_dir = os.path.join(BENCH, f"jaeger_lite-deps-py{sys.version_info[0]}.{sys.version_info[1]}")
    python = os.path.join(env_dir, "bin", "python")
    if not os.path.exists(python):
        with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as file:
            line = next(line for line in file if line.startswith("dependencies = "))
        packages = ast.literal_eval(line.split("=", 1)[1].strip())
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", env_dir], check=True)
        install = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run(install + packages, check=True)
    return python


def run(python: str, code: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + sys) milliseconds of one fresh ``python -c code``."""
    start = time.perf_counter()
    process = subprocess.Popen([python, "-c", code], env=env, cwd=BENCH, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{python} -c {code!r} failed ({process.returncode})")
    return wall * 1e3, (usage.ru_utime + usage.ru_stime) * 1e3


def importtime(row: Row, top: int) -> None:
    """The ``top`` largest entries (cumulative) of ``-X importtime`` after ``site``."""
    result = subprocess.run(
        [row.python, "-X", "importtime", "-c", row.code],
        env=row.env,
        cwd=BENCH,  # not the checkout: "-c" puts the working directory first on sys.path
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stderr.splitlines()
    start = max((i for i, line in enumerate(lines) if line.endswith("| site")), default=-1)
    entries = []
    for line in lines[start + 1 :]:
        if not line.startswith("import time:"):
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        entries.append((int(cumulative_us), int(self_us), name.rstrip()))
    print(f"\n-X importtime, {row.label} (top {top} cumulative, µs; self µs):")
    for cumulative, self_us, name in sorted(entries, reverse=True)[:top]:
        print(f"  {cumulative:>8} {self_us:>7}  {name}")


def spread(values: list[float]) -> str:
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return f"{quartiles[0]:.1f}-{quartiles[-1]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-peers", action="store_true", help="jaeger_lite rows only")
    parser.add_argument("--importtime", action="store_true", help="print -X importtime first")
    parser.add_argument("--top", type=int, default=15, help="entries of --importtime")
    parser.add_argument("--versus", metavar="DIR", help="also measure the checkout in DIR")
    args = parser.parse_args()

    os.makedirs(BENCH, exist_ok=True)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    bare = dependencies_venv()
    checkouts = [("", ROOT)]
    if args.versus:
        checkouts.append((f" [{os.path.basename(os.path.abspath(args.versus))}]", args.versus))
    rows = [
        Row(label + suffix, bare, code, {**base_env, "PYTHONPATH": os.path.abspath(path)})
        for suffix, path in checkouts
        for label, code in JAEGER_LITE_ROWS.items()
    ]
    if not args.no_peers:
        for name, imports in PEER_IMPORTS.items():
            rows.append(Row(PEER_LABELS[name], venv_python(name, PEERS[name]), imports, base_env))

    pythons = sorted({row.python for row in rows})
    for row in rows:  # warm the page cache and write the .pyc files before measuring
        run(row.python, row.code, row.env)
    for python in pythons:
        run(python, "pass", base_env)

    if args.importtime:
        for row in rows:
            if row.label.startswith(("import jaeger_lite", "from jaeger_lite")):
                importtime(row, args.top)
    for round_index in range(args.rounds):
        shift = round_index % len(rows)
        for row in rows[shift:] + rows[:shift]:
            if round_index % 2:  # which of the pair runs first alternates, round by round
                wall, cpu = run(row.python, row.code, row.env)
                bare_wall, bare_cpu = run(row.python, "pass", row.env)
            else:
                bare_wall, bare_cpu = run(row.python, "pass", row.env)
                wall, cpu = run(row.python, row.code, row.env)
            row.wall.append(wall - bare_wall)
            row.cpu.append(cpu - bare_cpu)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nImport time added to interpreter start (CPython {platform.python_version()} for"
        f" jaeger_lite; {args.rounds} rounds of fresh processes, paired with a bare"
        f" `python -c pass`, medians; spread = middle half; {os.cpu_count()} CPUs, unpinned,"
        f" load {load:.2f})"
    )
    target = rows[0]
    peers = [row for row in rows if not row.label.startswith(("import", "from"))]
    header = f"{'':50} {'wall ms':>8} {'spread':>11} {'cpu ms':>7} {'spread':>11}"
    header += "".join(f" {'÷ ' + p.label.split()[0]:>16}" for p in peers)
    print(header)
    for row in rows:
        wall, cpu = statistics.median(row.wall), statistics.median(row.cpu)
        line = f"{row.label:50} {wall:8.1f} {spread(row.wall):>11} {cpu:7.1f} {spread(row.cpu):>11}"
        for peer in peers:  # how many times less than the peer this row adds
            if wall < 0.5:  # below what paired fresh processes resolve
                line += f" {'(~0 ms)':>16}"
            else:
                line += f" {statistics.median(peer.wall) / wall:15.1f}×"
        print(line)
    added = statistics.median(target.wall)
    verdict = "met" if added <= 15 else "NOT met"
    print(f"\ntarget (issue 18): `import jaeger_lite` adds <= 15 ms: {added:.1f} ms, {verdict}")


if __name__ == "__main__":
    main()
