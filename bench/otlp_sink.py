#!/usr/bin/env python3
"""An OTLP/HTTP collector that accepts every export and keeps nothing, for benchmarks that
measure what span export costs the service (not what a collector costs).

    python3 bench/otlp_sink.py [PORT]   # default 4318, OTLP/HTTP's port
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 4318
    ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()
