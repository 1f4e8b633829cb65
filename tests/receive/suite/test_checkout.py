"""A small suite run several times under pytest-otel by tests/receive_producers.rs.

`test_checkout` is flaky: it fails only when its dependency (the `inventory.lookup`
span, a child of the test's span) is slow, which a seeded random draw decides per run
(RUN_SEED). `test_config_is_valid` is broken: it fails every time. `test_totals` passes.
"""
import os
import random
import time

from opentelemetry import trace

tracer = trace.get_tracer("checkout-suite")


def inventory_lookup() -> float:
    slow = random.Random(int(os.environ["RUN_SEED"])).random() < 0.5
    started = time.monotonic()
    with tracer.start_as_current_span("inventory.lookup") as span:
        span.set_attribute("peer.service", "inventory")
        time.sleep(0.3 if slow else 0.005)
    return time.monotonic() - started


def test_checkout():
    took = inventory_lookup()
    with tracer.start_as_current_span("render.receipt"):
        time.sleep(0.002)
    assert took < 0.2, f"inventory lookup took {took:.2f}s: checkout timed out"


def test_config_is_valid():
    with tracer.start_as_current_span("config.load"):
        config = {"retries": -1}
    assert config["retries"] >= 0, "retries must not be negative"


def test_totals():
    assert sum([1, 2, 3]) == 6
