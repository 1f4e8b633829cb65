"""A pytest conftest that reports each test as a `test.execute` span (test.name,
test.outcome) under one session span, with the CI facts on the resource
(ci.pipeline.id, ci.commit.sha), exported over OTLP/gRPC to PIPESCOPE_GRPC."""
import os

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

_provider = TracerProvider(
    resource=Resource.create(
        {
            "service.name": "grpc-suite",
            "ci.pipeline.id": os.environ["CI_PIPELINE_ID"],
            "ci.commit.sha": os.environ["CI_COMMIT_SHA"],
            "ci.commit.branch": os.environ.get("CI_COMMIT_BRANCH", "main"),
        }
    )
)
_provider.add_span_processor(
    BatchSpanProcessor(OTLPSpanExporter(endpoint=os.environ["PIPESCOPE_GRPC"], insecure=True))
)
_tracer = _provider.get_tracer("grpc-suite-conftest")
_session = None


def pytest_sessionstart(session):
    global _session
    _session = _tracer.start_span("pytest session")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # The call phase decides; a skip is reported in setup.
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        item._otel_outcome = report.outcome


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    ctx = trace.set_span_in_context(_session)
    with _tracer.start_as_current_span("test.execute", context=ctx) as span:
        span.set_attribute("test.name", item.name)
        yield
        outcome = getattr(item, "_otel_outcome", "passed")
        span.set_attribute("test.outcome", outcome)
        if outcome == "failed":
            span.set_status(Status(StatusCode.ERROR, "test failed"))


def pytest_sessionfinish(session, exitstatus):
    _session.set_status(Status(StatusCode.ERROR if exitstatus else StatusCode.OK))
    _session.end()
    _provider.shutdown()
