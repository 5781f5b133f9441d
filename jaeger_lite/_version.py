"""The package version, in one place (read by pyproject and the process tags), and the
User-Agent every HTTP request of ours carries."""

import sys

__version__ = "0.1.0"

#: The OTLP exporter spec: a User-Agent (RFC 7231) naming the exporter, its language and
#: its version. jaeger_lite names itself, not the OpenTelemetry SDK's
#: ``OTel-OTLP-Exporter-Python/<its version>`` (that would credit another package with
#: our version); the comment gives the language version and the interpreter.
_INTERPRETER = {"cpython": "CPython", "pypy": "PyPy"}.get(
    sys.implementation.name, sys.implementation.name
)
_PYTHON = ".".join(map(str, sys.version_info[:3]))
USER_AGENT = f"jaeger_lite/{__version__} (Python {_PYTHON}; {_INTERPRETER})"
