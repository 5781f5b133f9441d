"""Decorators: trace functions, methods, coroutines and generators without touching their body.

Run it:  python examples/decorators_and_async.py

Each call runs in its own active span, so spans started inside (by other decorated calls
or by hand) become its children, also across awaits and between generator items. An
exception marks the span failed (error=true plus an error log) and propagates unchanged.
"""

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import jaeger_lite

# @jaeger_lite.trace uses the global tracer of the moment of each call, so library code can
# be decorated at import time, before the application calls init_tracer.


@jaeger_lite.trace  # the span is named after the function: "parse_order"
def parse_order(raw: str) -> list[str]:
    return raw.split(",")


class Inventory:
    @jaeger_lite.trace("inventory.reserve", tags={"component": "inventory"})
    def reserve(self, sku: str) -> bool:
        return not sku.startswith("x")


@jaeger_lite.trace("read-skus")  # the span covers the whole iteration
def read_skus(skus: list[str]) -> Iterator[str]:
    inventory = Inventory()
    for sku in skus:
        if inventory.reserve(sku):  # a child of "read-skus"
            yield sku


@jaeger_lite.trace("charge-card")
async def charge_card(amount: int) -> str:
    await asyncio.sleep(0.005)  # the span stays active across awaits
    if amount > 100:
        raise ValueError("card declined")
    return f"charged {amount}"


@jaeger_lite.trace("payment-events")
async def payment_events(amounts: list[int]) -> AsyncIterator[str]:
    # Concurrent tasks: each charge is a child of "payment-events"; the failure is recorded.
    results = await asyncio.gather(*map(charge_card, amounts), return_exceptions=True)
    for result in results:
        yield str(result)


async def pay(amounts: list[int]) -> None:
    async for event in payment_events(amounts):
        print("  payment:", event)


def main() -> None:
    tracer = jaeger_lite.init_tracer("shop", sampler_type="const")  # sample every trace

    # @tracer.trace() is the same with an explicit tracer.
    @tracer.trace("send-receipt")
    def send_receipt(skus: list[str]) -> None:
        print("  receipt for", ", ".join(skus))

    with tracer.start_active_span("checkout"):
        skus = list(read_skus(parse_order("sku-1,x-gone,sku-2")))
        asyncio.run(pay([30, 250]))  # the tasks inherit the active span
        send_receipt(skus)

    tracer.close()


if __name__ == "__main__":
    # --- only for this example: stands in for a real Jaeger agent -------------------
    from jaeger_lite.agent import DevAgent

    # UDP compact Thrift on a free port (0), other listeners off (None); it prints the
    # trace it received when it stops, at the end of the with-block.
    with DevAgent(compact_port=0, binary_port=None, http_port=None) as agent:
        # Point the tracer at it the way a deployment would: with JAEGER_* variables.
        os.environ.update(JAEGER_AGENT_HOST="127.0.0.1", JAEGER_AGENT_PORT=str(agent.compact_port))
        main()
        agent.wait_for_spans(10, timeout=5)
    print(agent.summary())
