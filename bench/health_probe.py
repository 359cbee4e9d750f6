#!/usr/bin/env python3
"""Paced health prober: GET a URL every INTERVAL seconds over one keep-alive connection for
DURATION seconds, like a load balancer's health check, and print p50/p99/max latency in ms.

    health_probe.py URL DURATION_SECONDS [INTERVAL_SECONDS=0.01]
"""
import http.client
import sys
import time
from urllib.parse import urlparse

url = urlparse(sys.argv[1])
duration = float(sys.argv[2])
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.01
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
latencies, failures = [], 0
deadline = time.monotonic() + duration
next_at = time.monotonic()
while time.monotonic() < deadline:
    started = time.monotonic()
    try:
        connection.request("GET", url.path or "/")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            failures += 1
    except OSError:
        failures += 1
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    latencies.append((time.monotonic() - started) * 1000)
    next_at += interval
    time.sleep(max(0.0, next_at - time.monotonic()))
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(f"requests={len(latencies)} failures={failures} p50_ms={pick(0.50):.2f} p99_ms={pick(0.99):.2f} max_ms={latencies[-1]:.2f}")
