"""A minimal Django site configured in-test (no project, no database backend): the
settings, the URL patterns and the views of the Django integration tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import django
from django.conf import settings

import jaeger_lite

if not settings.configured:
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        SECRET_KEY="django-test-only",
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["jaeger_lite.integrations.django.TracingMiddleware"],
        JAEGER_LITE_SKIP_PATHS=["/health/"],
        INSTALLED_APPS=[],
        LOGGING_CONFIG=None,  # Django's own 500 logging stays out of the test output
        USE_TZ=True,
    )
    django.setup()

from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import include, path

#: What the views use: "db" (a DB-API connection), "release" (an Event a stream waits on).
STATE: dict[str, Any] = {"release": threading.Event()}


def stock(request: Any, item: str) -> JsonResponse:
    rows = STATE["db"].execute("SELECT count FROM stock WHERE item = ?", (item,)).fetchall()
    return JsonResponse({"item": item, "count": rows[0][0] if rows else 0})


def fail(request: Any) -> HttpResponse:
    raise ValueError("inventory offline")


def stream(request: Any) -> StreamingHttpResponse:
    def chunks() -> Iterator[bytes]:
        yield b"first;"
        STATE["release"].wait(10)
        yield b"second"

    return StreamingHttpResponse(chunks())


def broken_stream(request: Any) -> StreamingHttpResponse:
    def chunks() -> Iterator[bytes]:
        STATE["stream_span"] = jaeger_lite.global_tracer().active_span
        if request.GET.get("at") != "start":
            yield b"first;"
        raise ConnectionError("export source gone")

    return StreamingHttpResponse(chunks())


def item(request: Any, pk: int) -> HttpResponse:
    return HttpResponse(f"item {pk}")


def health(request: Any) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("stock/<str:item>/", stock),
    path("fail/", fail),
    path("stream/", stream),
    path("broken-stream/", broken_stream),
    path("health/", health),
    path("api/", include([path("v1/items/<int:pk>/", item)])),
]

application = get_wsgi_application()
