"""``import jaeger_lite`` stays cheap: what it loads, and that every public name still works.

Each check runs in a fresh interpreter started with ``-S`` (no ``site``: an editable
install's finder would load ``pathlib`` and more before the import under test) and the
package's own directory and site-packages on ``sys.path``. Not timed: the time is
``benchmarks/bench_import.py``'s job; these tests pin down the modules that cost it.
"""

from __future__ import annotations

import ast
import pathlib
import site
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import jaeger_lite

PACKAGE = pathlib.Path(jaeger_lite.__file__).resolve().parent
PATHS = [str(PACKAGE.parent), *site.getsitepackages()]

#: Standard modules a tracing client's import has no business loading: HTTP, TLS, e-mail
#: parsing, URL handling, introspection, paths, JSON, sockets and threads of work.
HEAVY_STDLIB = [
    "http.client",
    "ssl",
    "email",
    "email.message",
    "urllib.request",
    "urllib.parse",
    "inspect",
    "pathlib",
    "json",
    "socket",
    "dataclasses",
    "gzip",
    "uuid",
    "platform",
    "difflib",
]
#: jaeger_lite's own heavy parts: transports, encoders, configuration, remote parts.
HEAVY_OWN = [
    "jaeger_lite.senders",
    "jaeger_lite.senders.jaeger_udp",
    "jaeger_lite.senders.jaeger_http",
    "jaeger_lite.senders.otlp_http",
    "jaeger_lite._http",
    "jaeger_lite._resolve",
    "jaeger_lite._encoding",
    "jaeger_lite.config",
    "jaeger_lite.reporting.remote",
    "jaeger_lite.sampling.remote",
    "jaeger_lite.sampling.strategy",
    "jaeger_lite.agent",
    "jaeger_lite.integrations",
    "jaeger_lite.otel",
]


def run(code: str) -> Any:
    """Run ``code`` in a fresh interpreter; it prints the repr of one value, returned here
    (no ``json`` in the child: it is one of the modules checked)."""
    prelude = f"import sys\nsys.path[:0] = {PATHS!r}\nBEFORE = set(sys.modules)\n"
    result = subprocess.run(
        [sys.executable, "-S", "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.splitlines()[-1])


def loaded_by(code: str) -> set[str]:
    """The modules ``code`` loads (beyond what the bare interpreter had)."""
    return set(run(textwrap.dedent(code) + "\nprint(sorted(set(sys.modules) - BEFORE))\n"))


def test_import_loads_no_heavy_module() -> None:
    loaded = loaded_by("import jaeger_lite")
    assert sorted(loaded & {*HEAVY_STDLIB, *HEAVY_OWN}) == []
    # The facade and its table only: the rest loads when a name is first read.
    assert sorted(m for m in loaded if m.startswith("jaeger_lite")) == [
        "jaeger_lite",
        "jaeger_lite._lazy",
        "jaeger_lite._version",
    ]


def test_tracer_spans_and_propagation_load_no_heavy_module() -> None:
    """The core path (a tracer, spans, scopes, local samplers, in-process reporters,
    inject/extract with the default codecs) needs none of the heavy parts."""
    loaded = loaded_by(
        """
        import jaeger_lite
        from jaeger_lite import ConstSampler, InMemoryReporter, ProbabilisticSampler, Tracer

        reporter = InMemoryReporter()
        tracer = Tracer("svc", reporter, ConstSampler(True))
        with tracer.start_active_span("op") as scope:
            scope.span.set_tag("k", "v")
            scope.span.set_baggage_item("b", "v")
            carrier = {}
            tracer.inject(scope.span.context, "http_headers", carrier)
        assert tracer.extract("http_headers", carrier).trace_id == scope.span.context.trace_id
        tracer.start_span("child", child_of=scope.span).finish()
        Tracer("unsampled", jaeger_lite.NullReporter(), ProbabilisticSampler(0.0))
        assert len(reporter.spans) == 2
        jaeger_lite.global_tracer().start_span("noop").finish()
        tracer.close()
        """
    )
    assert sorted(loaded & {*HEAVY_STDLIB, *HEAVY_OWN}) == []


def test_spans_load_no_logging_until_a_message_or_close() -> None:
    """Until something is logged or the tracer closes, the tracer's path needs neither
    ``logging`` nor ``concurrent.futures`` (the two cost ~8 ms of start-up); the first
    debug message loads the logger, and it names the module that logged, not the proxy."""
    results = run(
        """
        from jaeger_lite import ConstSampler, InMemoryReporter, Tracer

        tracer = Tracer("svc", InMemoryReporter(), ConstSampler(True))
        with tracer.start_active_span("op") as scope:
            scope.span.set_tag("k", "v")
        quiet = sorted(m for m in ("logging", "concurrent.futures") if m in sys.modules)

        import logging

        records = []
        handler = logging.Handler()
        handler.emit = records.append
        logger = logging.getLogger("jaeger_lite")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        live = tracer.start_span("live")
        live.log_kv("not a mapping")  # ignored, with a debug message
        live.finish()
        where = sorted({record.module for record in records})
        future = tracer.close()
        print((quiet, where, future.done(), "concurrent.futures" in sys.modules))
        """
    )
    assert results == ([], ["span"], True, True)


def test_every_public_name_loads_on_first_read_and_is_the_defining_modules_object() -> None:
    from jaeger_lite._lazy import FACADE

    results = run(
        f"""
        import importlib
        import jaeger_lite
        out = {{}}
        for name, module in {FACADE!r}.items():
            before = name in vars(jaeger_lite)
            value = getattr(jaeger_lite, name)
            real = getattr(importlib.import_module("jaeger_lite." + module), name)
            out[name] = [before, value is real, name in vars(jaeger_lite)]
        print(out)
        """
    )
    assert set(results) == set(jaeger_lite.__all__) - {"__version__"}
    for name, (before, same, cached) in results.items():
        assert (before, same, cached) == (False, True, True), name


def test_facade_type_checking_imports_match_the_table() -> None:
    """What mypy and IDEs see (the TYPE_CHECKING block) is what FACADE loads at run time."""
    from jaeger_lite._lazy import FACADE

    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in ast.walk(node):
                if isinstance(child, ast.ImportFrom) and child.level == 1 and child.module:
                    seen.update((alias.name, child.module) for alias in child.names)
    assert seen == FACADE
    assert set(jaeger_lite.__all__) == {*FACADE, "__version__"}


def test_dir_lists_every_public_name() -> None:
    listed = run("import jaeger_lite\nprint(dir(jaeger_lite))")
    assert set(jaeger_lite.__all__) <= set(listed)
    assert listed == sorted(listed)


def test_star_import_and_named_imports_work() -> None:
    names = run(
        """
        from jaeger_lite import *
        from jaeger_lite import UDPSender, init_tracer, Config, RemoteSampler, OTLPSender
        import jaeger_lite
        assert jaeger_lite.UDPSender is UDPSender
        print(sorted(n for n in jaeger_lite.__all__ if n in globals()))
        """
    )
    assert names == sorted(jaeger_lite.__all__)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        jaeger_lite.no_such_name  # noqa: B018
    assert not hasattr(jaeger_lite, "no_such_name")
    with pytest.raises(ImportError):
        from jaeger_lite import no_such_name  # noqa: F401


@pytest.mark.parametrize(
    ("package", "name", "module", "not_loaded"),
    [
        ("reporting", "RemoteReporter", "remote", "jaeger_lite.senders"),
        ("reporting", "DEFAULT_QUEUE_SIZE", "remote", "jaeger_lite.senders"),
        ("sampling", "RemoteSampler", "remote", "jaeger_lite._http"),
        ("senders", "UDPSender", "jaeger_udp", "jaeger_lite._encoding"),
        ("senders", "HTTPSender", "jaeger_http", "jaeger_lite._encoding"),
        ("senders", "OTLPSender", "otlp_http", "jaeger_lite._encoding"),
    ],
)
def test_subpackages_load_their_heavy_names_on_first_read(
    package: str, name: str, module: str, not_loaded: str
) -> None:
    result = run(
        f"""
        import importlib
        pkg = importlib.import_module("jaeger_lite.{package}")
        early = {not_loaded!r} in sys.modules
        value = getattr(pkg, {name!r})
        real = getattr(importlib.import_module("jaeger_lite.{package}.{module}"), {name!r})
        print([early, value is real, {name!r} in dir(pkg)])
        """
    )
    assert result == [False, True, True]


def test_only_the_sender_in_use_is_loaded() -> None:
    loaded = loaded_by("from jaeger_lite import UDPSender")
    unused = {"http.client", "ssl", "jaeger_lite._http", "jaeger_lite.senders.otlp_http"}
    assert sorted(loaded & unused) == []


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="POSIX fork")
def test_ids_are_reseeded_in_a_child_forked_before_the_tracer_loads() -> None:
    """SpanContext loads the id generator but not _lifecycle (the tracer's fork hooks):
    a child forked then still draws ids of its own."""
    differ = run(
        """
        import os
        import jaeger_lite
        jaeger_lite.SpanContext
        from jaeger_lite import _ids
        assert "jaeger_lite._lifecycle" not in sys.modules
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(write, str(_ids.new_id()).encode())
            os._exit(0)
        os.waitpid(pid, 0)
        print(int(os.read(read, 64)) != _ids.new_id())
        """
    )
    assert differ is True
