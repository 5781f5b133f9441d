"""The package itself: public API, typing marker, dependencies, optional opentracing."""

from __future__ import annotations

import importlib.metadata
import os
import pathlib
import subprocess
import sys
import sysconfig
import textwrap

import jaeger_lite


def test_all_is_sorted_and_every_name_exists() -> None:
    """__all__ is alphabetical and lists only real attributes."""
    assert jaeger_lite.__all__ == sorted(jaeger_lite.__all__)
    missing = [name for name in jaeger_lite.__all__ if not hasattr(jaeger_lite, name)]
    assert missing == []


def test_py_typed_marker_is_shipped() -> None:
    """PEP 561: the package declares its inline types."""
    assert (pathlib.Path(jaeger_lite.__file__).parent / "py.typed").is_file()


def test_the_package_under_test_is_the_one_meant() -> None:
    """The suite tests the work tree's package, or, under scripts/test-wheel
    (TEST_INSTALLED_WHEEL=1), the wheel installed in site-packages and not a source tree."""
    location = pathlib.Path(jaeger_lite.__file__).resolve().parent
    if os.environ.get("TEST_INSTALLED_WHEEL") == "1":
        site_packages = pathlib.Path(sysconfig.get_paths()["purelib"]).resolve()
        assert location == site_packages / "jaeger_lite"
        assert not (pathlib.Path(__file__).resolve().parent.parent / "jaeger_lite").exists()
    else:
        assert location == pathlib.Path(__file__).resolve().parent.parent / "jaeger_lite"


def test_thrift_is_the_only_runtime_dependency() -> None:
    """Everything else is an extra (test, opentracing); no six, no tornado."""
    requirements = importlib.metadata.requires("jaeger-lite") or []
    runtime = [r for r in requirements if "extra ==" not in r]
    assert [r.split(">")[0].split("=")[0].strip() for r in runtime] == ["thrift"]


def test_version_is_consistent() -> None:
    """The installed distribution and the module agree on the version."""
    assert importlib.metadata.version("jaeger-lite") == jaeger_lite.__version__


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_works_without_opentracing_installed() -> None:
    """With opentracing hidden, classes have plain bases and tracing still works."""
    result = _run(
        """
        import sys
        sys.modules["opentracing"] = None  # makes "import opentracing" fail
        import jaeger_lite
        from jaeger_lite import Format, Tracer, InMemoryReporter
        reporter = InMemoryReporter()
        tracer = Tracer("svc", reporter)
        with tracer.start_active_span("op") as scope:
            carrier = {}
            tracer.inject(scope.span.context, Format.TEXT_MAP, carrier)
            binary = bytearray()
            tracer.inject(scope.span.context, Format.BINARY, binary)
        assert tracer.extract(Format.TEXT_MAP, carrier).span_id == scope.span.context.span_id
        assert tracer.extract(Format.BINARY, binary).span_id == scope.span.context.span_id
        assert len(reporter.spans) == 1
        assert all(c.__module__.startswith("jaeger_lite") or c is object for c in Tracer.__mro__)
        try:
            tracer.extract("unknown", {})
        except jaeger_lite.UnsupportedFormatException as exc:
            assert type(exc).__mro__[1] is Exception
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_importing_does_not_pull_in_heavy_modules() -> None:
    """Importing jaeger_lite loads neither tornado nor six nor asyncio."""
    result = _run(
        """
        import sys
        import jaeger_lite
        print(sorted(m for m in ("tornado", "six", "asyncio") if m in sys.modules))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
