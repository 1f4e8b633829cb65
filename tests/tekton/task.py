"""A build script instrumented the way the OpenTelemetry guides for Tekton show: each
task a process with the OpenTelemetry SDK, resource attributes pipeline.name,
pipeline.run, task.name and task.run, one span for the task and one per command
(`command`, `exit_code`, ERROR status when the command fails). The task span itself
says nothing about the result.

The spans go through a real exporter — OTLP/HTTP (protobuf) or Zipkin JSON v2. When
DESTINATION is an http:// URL they are posted there (`pipescope receive`); otherwise
DESTINATION is a directory and the exporter's HTTP session hands each request body to a
file in it instead of a network peer, so a test ingests exactly the bytes a collector
would have received.

With a TRACEPARENT_FILE the task continues the trace named there and writes its own
traceparent back (consecutive tasks land in one trace); with `-` every task is a trace
of its own, tied to the others only by pipeline.run.

usage: task.py otlp|zipkin DESTINATION PIPELINE_RUN TASK TRACEPARENT_FILE|- COMMAND...
"""
import itertools
import os
import subprocess
import sys

import requests
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

exporter_kind, destination, pipeline_run, task, traceparent_file, *commands = sys.argv[1:]


class ToFile(requests.adapters.BaseAdapter):
    """A transport that writes each request body to DESTINATION and answers 200."""

    counter = itertools.count()

    def send(self, request, **kwargs):
        suffix = "pb" if exporter_kind == "otlp" else "json"
        name = f"{pipeline_run}-{task}-{os.getpid()}-{next(self.counter)}.{suffix}"
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        with open(os.path.join(destination, name), "wb") as f:
            f.write(body)
        response = requests.Response()
        response.status_code = 200
        response._content = b""
        response.request = request
        return response

    def close(self):
        pass


session = requests.Session()
if destination.startswith("http://"):
    base = destination.rstrip("/")
else:
    base = "http://collector"
    session.mount(base + "/", ToFile())
if exporter_kind == "otlp":
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=base + "/v1/traces", session=session)
else:
    from opentelemetry.exporter.zipkin.json import ZipkinExporter

    exporter = ZipkinExporter(endpoint=base + "/api/v2/spans", session=session)

provider = TracerProvider(
    resource=Resource.create(
        {
            "service.name": f"tekton-{task}",
            "pipeline.name": "build-and-test",
            "pipeline.run": pipeline_run,
            "task.name": task,
            "task.run": f"{pipeline_run}-{task}",
            "vcs.ref.head.name": os.environ.get("GIT_BRANCH", "main"),
            "vcs.ref.head.revision": os.environ["GIT_COMMIT"],
        }
    )
)
provider.add_span_processor(BatchSpanProcessor(exporter))
tracer = provider.get_tracer("tekton-task-script")
propagator = TraceContextTextMapPropagator()

parent = None
if traceparent_file != "-" and os.path.exists(traceparent_file):
    with open(traceparent_file, encoding="utf-8") as f:
        parent = propagator.extract({"traceparent": f.read().strip()})

failed = 0
with tracer.start_as_current_span(task, context=parent):
    if traceparent_file != "-":
        carrier = {}
        propagator.inject(carrier)
        with open(traceparent_file, "w", encoding="utf-8") as f:
            f.write(carrier["traceparent"])
    for command in commands:
        with tracer.start_as_current_span(command) as span:
            code = subprocess.run(command, shell=True).returncode
            span.set_attribute("command", command)
            span.set_attribute("exit_code", code)
            if code != 0:
                span.set_status(Status(StatusCode.ERROR, f"exit code {code}"))
                failed = code
                break
provider.shutdown()
sys.exit(1 if failed else 0)
