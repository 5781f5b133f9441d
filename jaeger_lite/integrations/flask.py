"""Flask: the WSGI middleware around ``app.wsgi_app``, spans named by the URL rule.

    from jaeger_lite.integrations.flask import trace_app
    trace_app(app, skip_paths=["/health"])

The span of ``GET /users/42`` is named ``GET /users/<int:user_id>`` (the rule as written in
``@app.route``); an exception Flask answers with a 500 is recorded on it.
"""

from __future__ import annotations

from typing import Any, Optional

from ..tracer import Tracer
from ._common import failed
from ._server import fail_request, set_route
from .wsgi import WSGIMiddleware

__all__ = ["trace_app"]

_EXTENSION = "jaeger_lite"


def trace_app(app: Any, tracer: Optional[Tracer] = None, **options: Any) -> Any:
    """Trace every request of the Flask ``app`` and return it; ``options`` are those of
    :class:`~jaeger_lite.integrations.wsgi.WSGIMiddleware`. A second call does nothing."""
    if _EXTENSION in app.extensions:
        return app
    app.wsgi_app = WSGIMiddleware(app.wsgi_app, tracer, **options)
    app.extensions[_EXTENSION] = app.wsgi_app
    # First of the app's before_request functions: one registered earlier may answer the
    # request itself (an auth check's 401), and the span is still named by its rule.
    app.before_request_funcs.setdefault(None, []).insert(0, _name_after_rule)
    app.teardown_request(_record_exception)
    return app


def _name_after_rule() -> None:
    try:
        from flask import request

        rule = request.url_rule
        if rule is not None:
            set_route(request.environ, rule.rule)
    except Exception:  # never fail the request for a name
        failed("reading Flask's URL rule")


def _record_exception(error: Optional[BaseException]) -> None:
    if error is None:
        return
    try:
        from flask import request

        fail_request(request.environ, error)
    except Exception:  # the request context is gone: nothing to record on
        failed("recording a Flask exception")
