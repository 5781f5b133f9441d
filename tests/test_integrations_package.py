"""jaeger_lite.integrations as a package: no dependency (nothing imported until used, absent
libraries skipped), and the URL rules every integration shares."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jaeger_lite.integrations import REDACTED, SECRET_QUERY_PARAMETERS
from jaeger_lite.integrations._common import clean_url, redact_query
from jaeger_lite.integrations._server import SkipPaths

FRAMEWORKS = (
    "django", "fastapi", "flask", "httpx", "loguru", "requests", "starlette", "structlog",
    "urllib3", "uvicorn", "werkzeug",
)  # fmt: skip
LOADED = (
    "import sys; print(sorted({m.split('.')[0] for m in sys.modules} & set(%r)) "
    "+ [m for m in sys.modules if m.startswith('jaeger_lite.integrations')])"
)


def python(code: str, pythonpath: str = "") -> str:
    env = {"PYTHONPATH": pythonpath} if pythonpath else None
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_jaeger_lite_imports_no_integration() -> None:
    """``import jaeger_lite`` loads neither the integrations nor any framework."""
    assert python("import jaeger_lite; " + LOADED % (FRAMEWORKS,)) == "[]"


def test_the_integrations_import_no_framework() -> None:
    """Importing every integration module loads no library until one is used."""
    modules = "wsgi, asgi, flask, django, dbapi, logs"
    code = f"import jaeger_lite.integrations; from jaeger_lite.integrations import {modules}; "
    loaded = python(code + LOADED % (FRAMEWORKS,))
    assert loaded.startswith("['jaeger_lite.integrations"), loaded  # ours only, no framework


def test_absent_libraries_are_skipped(tmp_path: Path) -> None:
    """With requests, httpx and urllib3 missing, instrument() traces what is left."""
    for name in ("requests", "httpx", "urllib3"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('not installed')\n")
    code = (
        "from jaeger_lite.integrations import instrument, uninstrument; "
        "print(instrument(), instrument('httpx', 'requests')); uninstrument()"
    )
    assert python(code, str(tmp_path)) == "['urllib'] []"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://user:pw@host:8080/a?b=1#frag", "http://host:8080/a?b=1"),
        ("https://host/p?password=x&q=1", f"https://host/p?password={REDACTED}&q=1"),
        ("https://host/p?Password=x&X-Amz-Signature=ab", "https://host/p?Password=REDACTED&X-Amz-Signature=REDACTED"),
        ("http://host?stripe_secret=1&my-api-key=2&keys=3", "http://host?stripe_secret=REDACTED&my-api-key=REDACTED&keys=3"),
        ("http://host/p?api%5Fkey=1&token=&flag", "http://host/p?api%5Fkey=REDACTED&token=&flag"),
        ("http://a@b@host/x", "http://host/x"),
        ("/relative?sig=1", f"/relative?sig={REDACTED}"),
    ],
)  # fmt: skip
def test_clean_url(url: str, expected: str) -> None:
    """Credentials and fragments go; secret values are replaced, names and the rest kept."""
    assert clean_url(url) == expected


def test_a_custom_redaction_list_replaces_the_default() -> None:
    assert redact_query("token=1&tenant=2", frozenset({"tenant"})) == "token=1&tenant=REDACTED"
    assert {"password", "token", "api_key", "sig"} <= SECRET_QUERY_PARAMETERS


def test_skip_paths() -> None:
    skip = SkipPaths(["/health", "/static/*"])
    assert "/health" in skip and "/static/a.js" in skip and "/static/" in skip
    assert "/healthz" not in skip and "/stat" not in skip
    assert not SkipPaths([])
    assert "/metrics" in SkipPaths("/metrics")
