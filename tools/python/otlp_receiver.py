"""A real OTLP/HTTP trace receiver for tests: decodes what exporters send with the
published OpenTelemetry protobuf definitions (PyPI opentelemetry-proto) and writes
each span received as one JSON line, so a test can read what was exported.

    otlp_receiver.py SPANS_FILE
    otlp_receiver.py --discard      (benchmarks: reads and acknowledges, decodes nothing)

Listens on 127.0.0.1 on a free port and prints `listening on http://127.0.0.1:PORT`
once ready. Accepts POST /v1/traces with protobuf bodies (gzip-encoded or not) and
answers with an empty ExportTraceServiceResponse, as a collector does. Stops when its
standard input closes (the test that started it is gone) or on SIGTERM.
"""

import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

# An exporter's batch is a few hundred kilobytes at most; refuse anything absurd.
MAX_BODY_BYTES = 64 * 1024 * 1024


def any_value(value):
    """An OTLP AnyValue as plain JSON."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes(pairs):
    return {kv.key: any_value(kv.value) for kv in pairs}


class Receiver(BaseHTTPRequestHandler):
    spans_file = None
    lock = threading.Lock()
    # HTTP/1.1 keep-alive, as a collector serves: an exporter reuses its connection.
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        if self.path != "/v1/traces":
            self.send_error(404)
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.send_error(413)
            return
        body = self.rfile.read(length)
        if self.spans_file is None:
            self.answer()
            return
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception as error:  # a malformed body is the exporter's bug: say so
            self.send_error(400, f"not an ExportTraceServiceRequest: {error}")
            return
        lines = []
        for resource_spans in request.resource_spans:
            resource = attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    lines.append(
                        json.dumps(
                            {
                                "service": resource.get("service.name"),
                                "scope": scope_spans.scope.name,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent_span_id": span.parent_span_id.hex(),
                                "name": span.name,
                                "kind": Span.SpanKind.Name(span.kind),
                                "start_unix_nano": span.start_time_unix_nano,
                                "end_unix_nano": span.end_time_unix_nano,
                                "attributes": attributes(span.attributes),
                            }
                        )
                    )
        with self.lock:
            with open(self.spans_file, "a", encoding="utf-8") as out:
                for line in lines:
                    out.write(line + "\n")
        self.answer()

    def answer(self):
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format, *args):
        pass  # the spans file is the record; stderr stays quiet


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: otlp_receiver.py SPANS_FILE | --discard")
    if sys.argv[1] != "--discard":
        Receiver.spans_file = sys.argv[1]
        open(Receiver.spans_file, "w").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True

    def stop_when_stdin_closes():
        sys.stdin.read()
        server.shutdown()

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
