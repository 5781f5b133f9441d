"""Django: a settings middleware names each span after the URL pattern the resolver matched.

Run it:  python examples/integrations_django.py       (needs: pip install django httpx)

One line in MIDDLEWARE traces every request (first in the list, so the span covers the
other middleware); GET /articles/2024/ is the operation GET /articles/<int:year>/. The
caller is an httpx client, traced by instrument("httpx").
"""

import os
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import jaeger_lite
from jaeger_lite.integrations import instrument, uninstrument

try:
    import django
    import httpx
    from django.conf import settings
except ImportError:
    django = None

urlpatterns = []  # filled below, once Django is configured


def configure_django():
    settings.configure(
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["127.0.0.1"],
        SECRET_KEY="example-only",  # noqa: S106  (a throwaway key for the example)
        MIDDLEWARE=["jaeger_lite.integrations.django.TracingMiddleware"],
        JAEGER_LITE_SKIP_PATHS=["/health/"],  # optional: paths served untraced
    )
    django.setup()
    from django.http import JsonResponse
    from django.urls import path

    def articles(request, year):
        return JsonResponse({"year": year, "articles": ["tracing without tears"]})

    urlpatterns.append(path("articles/<int:year>/", articles))


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def main() -> None:
    tracer = jaeger_lite.init_tracer("blog", sampler_type="const")  # global: Django uses it
    configure_django()
    from django.core.wsgi import get_wsgi_application

    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    instrument("httpx", peer_service="blog")
    with httpx.Client(timeout=5) as client, tracer.start_active_span("render-homepage"):
        for year in (2023, 2024):
            reply = client.get(f"http://127.0.0.1:{server.server_port}/articles/{year}/")
            print(f"GET /articles/{year}/ -> {reply.status_code} {reply.json()}")
    uninstrument()
    server.shutdown()
    tracer.close()


if __name__ == "__main__":
    if django is None:
        print("this example needs Django and httpx: pip install django httpx")
        raise SystemExit(0)
    # --- only for this example: stands in for a real Jaeger agent -------------------
    from jaeger_lite.agent import DevAgent

    with DevAgent(compact_port=0, binary_port=None, http_port=None) as agent:
        os.environ.update(JAEGER_AGENT_HOST="127.0.0.1", JAEGER_AGENT_PORT=str(agent.compact_port))
        main()
        agent.wait_for_spans(5, timeout=5)
    print(agent.summary())
