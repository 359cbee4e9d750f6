"""Sends N GET requests one after another over one keep-alive connection (for callgrind).

    python3 bench/sequential.py PORT PATH N ["Name: value" ...]
"""
import http.client
import sys

port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
headers = {}
for header in sys.argv[4:]:
    if header:
        name, value = header.split(": ", 1)
        headers[name] = value
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(count):
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"GET {path}: {response.status}")
