"""examples/demo.py (what `make demo` runs) prints the expected traces and exits 0."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_demo_prints_both_traces_and_exits_0() -> None:
    """Two traces over three services: tree, time axis, FollowsFrom, the declined payment."""
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=ROOT,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert out.count("── trace ") == 2
    for line in (
        "frontend: /checkout",
        "inventory: SELECT stock",
        "payments: /charge",
        "frontend: price-order",
        "send-receipt",
        "(follows from)",
        "✗ error: gift cards cannot be paid by card",
        "customer: GET /checkout?item=gift-card -> 502",
    ):
        assert line in out, line
    assert "2 traces, 15 spans" in out
    last = out.rstrip("\n").splitlines()[-1]
    assert re.match(r"web UI: http://127\.0\.0\.1:\d+/ ", last), last
    assert "\x1b[" not in out  # plain text when not a terminal
