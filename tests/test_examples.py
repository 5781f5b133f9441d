"""Every script in examples/ runs as a user would run it and prints what it promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if p.name != "demo.py")
TIMEOUT = 60
SUMMARY = re.compile(
    r"jaeger-lite agent stopped: (\d+) traces?, (\d+) spans? in \d+ batch(?:es)?, "
    r".* (\d+) bad datagrams?"
)

#: What each example must print (stdout unless noted), and the traces/spans the agent saw.
PROMISES: dict[str, tuple[list[str], tuple[int, int]]] = {
    "quickstart": (
        ["quickstart: checkout", "quickstart: load-prices", "for tenant acme"],
        (1, 2),
    ),
    "decorators_and_async": (
        [
            "shop: checkout",
            "shop: parse_order",
            "shop: read-skus",
            "shop: inventory.reserve",
            "shop: payment-events",
            "shop: charge-card",
            "error: card declined",
            "shop: send-receipt",
            "receipt for sku-1, sku-2",
        ],
        (1, 10),
    ),
    "inject_extract": (
        [
            "uber-trace-id: ",
            "uberctx-tenant: acme",
            "traceparent: 00-",
            "baggage: tenant=acme",
            "baggage={'tenant': 'acme'}",
            "frontend got: price for acme",
            "frontend: fetch-price",
            "backend: GET /price",
            "2 services",
        ],
        (1, 2),
    ),
    "real_jaeger": (
        [
            "--- UDP to the agent at 127.0.0.1:",
            "orders: place-order",
            "--- HTTP to the collector at http://127.0.0.1:",
            "billing: charge",
        ],
        (2, 4),
    ),
    "opentracing_global": (
        [
            "opentracing.global_tracer() is the jaeger_lite tracer: True",
            "shop: GET /accounts",
            "shop: GET /users/{id}",
            "shop: SELECT users",
        ],
        (1, 3),
    ),
    "otel_flask": (
        [
            "client got: total 126 EUR",
            "shop: place-order",
            "shop: GET /checkout/<int:cart>",
            "shop: load-cart",
            "shop: price-items",
            "shop: tax.lookup",
        ],
        (1, 6),
    ),
    "jaeger_client_migration": (
        ["your-app-name: TestSpan", "your-app-name: ChildSpan", "stderr:Reporting span"],
        (1, 2),
    ),
    "integrations_wsgi": (
        ["users: GET /users/{id}", "users: GET users", "GET /health -> 200 ok"],
        (1, 6),
    ),
    "integrations_flask": (
        ["orders: GET /orders/<int:order_id>", "orders: SELECT", "error: no order 2"],
        (1, 7),
    ),
    "integrations_django": (
        ["blog: GET /articles/<int:year>/", "blog: GET blog", "GET /articles/2024/ -> 200"],
        (1, 5),
    ),
    "integrations_asgi": (
        ["catalog: GET /items/{item_id}", "catalog: GET catalog", "GET /items/2 -> 200"],
        (1, 5),
    ),
    "integrations_clients": (
        [
            "clients: GET backend",
            "requests: GET /ping -> 200",
            "httpx: GET /ping -> 200",
            "urllib3: GET /ping -> 200",
            "urllib: GET /slow -> timed out",
            "error: timed out",
        ],
        (1, 11),
    ),
    "integrations_logging": (
        ["INFO trace= span= starting", '"trace_sampled": true', "loguru trace="],
        (1, 1),
    ),
    "integrations_dbapi": (
        ["inventory: UPDATE", "inventory: SELECT", "error: no such table: suppliers"],
        (1, 6),
    ),
}


def run_example(path: Path, pythonpath: Optional[Path] = None) -> subprocess.CompletedProcess[str]:
    """Run ``python examples/<name>.py`` from the repository root, without JAEGER_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAEGER_")}
    env.update(PYTHONIOENCODING="utf-8", COLUMNS="100")
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, str(path.relative_to(ROOT))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )


def test_examples_are_found() -> None:
    """The examples directory holds the scripts the README lists."""
    assert {p.stem for p in EXAMPLES} >= set(PROMISES)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path: Path) -> None:
    """The example exits 0 by itself, without a traceback, and the agent printed its traces."""
    result = run_example(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    summary = SUMMARY.search(result.stdout)
    if summary is None:  # an example without the development agent: it must say something
        assert result.stdout.strip(), result.stderr
        return
    traces, spans, bad = map(int, summary.groups())
    assert bad == 0, result.stdout
    assert traces >= 1 and spans >= 1, result.stdout
    promised = PROMISES.get(path.stem)
    if promised is None:
        return
    texts, counts = promised
    assert (traces, spans) == counts, result.stdout
    for text in texts:
        on_stderr = text.startswith("stderr:")
        wanted, output = (text[7:], result.stderr) if on_stderr else (text, result.stdout)
        assert wanted in output, f"{wanted!r} missing from:\n{output}"


def test_opentracing_example_without_opentracing(tmp_path: Path) -> None:
    """Without the opentracing package the example says how to install it and exits 0."""
    shadow = tmp_path / "opentracing"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('hidden for this test')\n")
    result = run_example(ROOT / "examples" / "opentracing_global.py", pythonpath=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pip install 'jaeger-lite[opentracing]'" in result.stdout
    assert "Traceback" not in result.stderr, result.stderr


def test_otel_example_without_opentelemetry(tmp_path: Path) -> None:
    """Without the OpenTelemetry packages the example says what to install and exits 0."""
    shadow = tmp_path / "opentelemetry"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('hidden for this test')\n")
    result = run_example(ROOT / "examples" / "otel_flask.py", pythonpath=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pip install 'jaeger-lite[otel]'" in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
