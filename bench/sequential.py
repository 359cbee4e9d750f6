"""Sends N GET requests one after another over one keep-alive connection (for callgrind)."""
import http.client
import sys

port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
headers = {}
if len(sys.argv) > 4 and sys.argv[4]:
    name, value = sys.argv[4].split(": ", 1)
    headers[name] = value
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(count):
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"GET {path}: {response.status}")
