"""A build script instrumented like a Tekton task: resource pipeline.name,
pipeline.run, task.name, task.run; a span for the task and one child span per command
(`command`, `exit_code`, ERROR status on failure). The task span continues the trace
named in the traceparent file when it exists, and writes its own traceparent there, so
consecutive tasks land in one trace.

usage: tekton_task.py ENDPOINT PIPELINE_RUN TASK TRACEPARENT_FILE COMMAND...
"""
import os
import subprocess
import sys

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

endpoint, pipeline_run, task, traceparent_file, *commands = sys.argv[1:]
provider = TracerProvider(
    resource=Resource.create(
        {
            "service.name": "tekton-build",
            "pipeline.name": "build-and-test",
            "pipeline.run": pipeline_run,
            "task.name": task,
            "task.run": f"{pipeline_run}-{task}",
            "vcs.ref.head.name": os.environ.get("GIT_BRANCH", "main"),
            "vcs.ref.head.revision": os.environ["GIT_COMMIT"],
        }
    )
)
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
tracer = provider.get_tracer("tekton-task-script")
propagator = TraceContextTextMapPropagator()

parent = None
if os.path.exists(traceparent_file):
    with open(traceparent_file, encoding="utf-8") as f:
        parent = propagator.extract({"traceparent": f.read().strip()})

failed = 0
with tracer.start_as_current_span(task, context=parent) as task_span:
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
    if failed:
        task_span.set_status(Status(StatusCode.ERROR, f"a command failed ({failed})"))
provider.shutdown()
sys.exit(1 if failed else 0)
