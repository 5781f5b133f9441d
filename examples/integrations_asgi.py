"""ASGI: FastAPI under uvicorn, traced by ASGIMiddleware, called by an async httpx client.

Run it:  python examples/integrations_asgi.py   (needs: pip install fastapi uvicorn httpx)

ASGIMiddleware wraps any ASGI app (FastAPI, Starlette, ...): each HTTP request and
WebSocket is a server span, active in the endpoint (and in the thread a sync endpoint runs
in), lasting until the body is sent, named after the route template (GET /items/{item_id}).
Lifespan events pass through. instrument("httpx") traces httpx's sync and async clients.
"""

import asyncio
import os
import socket
import threading

import jaeger_lite
from jaeger_lite.integrations import ASGIMiddleware, instrument, uninstrument

try:
    import fastapi
    import httpx
    import uvicorn
except ImportError:
    fastapi = None


def create_app():
    app = fastapi.FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int):
        await asyncio.sleep(0.002)  # the span stays active across awaits
        span = jaeger_lite.global_tracer().active_span
        span.set_tag("item.id", item_id)
        return {"item": item_id}

    return ASGIMiddleware(app, skip_paths=["/health"])  # the global tracer, per request


async def client(url: str) -> None:
    tracer = jaeger_lite.global_tracer()
    async with httpx.AsyncClient(timeout=5) as http:
        with tracer.start_active_span("fetch-items"):
            replies = await asyncio.gather(*(http.get(f"{url}/items/{i}") for i in (1, 2)))
    for reply in replies:
        print(f"GET {reply.url.path} -> {reply.status_code} {reply.json()}")


def main() -> None:
    tracer = jaeger_lite.init_tracer("catalog", sampler_type="const")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()  # listening before uvicorn starts: requests wait for it
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()

    instrument("httpx", peer_service="catalog")
    asyncio.run(client(f"http://127.0.0.1:{sock.getsockname()[1]}"))
    uninstrument()
    server.should_exit = True
    thread.join(10)
    tracer.close()


if __name__ == "__main__":
    if fastapi is None:
        print("this example needs FastAPI, uvicorn and httpx: pip install fastapi uvicorn httpx")
        raise SystemExit(0)
    # --- only for this example: stands in for a real Jaeger agent -------------------
    from jaeger_lite.agent import DevAgent

    with DevAgent(compact_port=0, binary_port=None, http_port=None) as agent:
        os.environ.update(JAEGER_AGENT_HOST="127.0.0.1", JAEGER_AGENT_PORT=str(agent.compact_port))
        main()
        agent.wait_for_spans(5, timeout=5)
    print(agent.summary())
