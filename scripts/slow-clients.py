#!/usr/bin/env python3
"""Hostile clients against a running `nlpd serve`, with the server's memory before and after.

    scripts/slow-clients.py --url http://127.0.0.1:8080 --pid PID [--connections 300]

Three rounds, each on fresh connections, printing one JSON line per round:

  headers:  N clients each send 380 KB of an unfinished header, then wait. Reports the
            server's RSS growth and how many connections it has closed after 15 s.
  uploads:  N clients each send the header of a POST /parse and half of its body, then
            stall. Meanwhile one client sends 200 ordinary /parse requests on other
            connections: how many got 200, and their p50/p99 latency.
  silent:   one client connects, sends half a header and sleeps; how long until the
            server closes it (capped at 150 s).

Standard library only; loopback targets only.
"""

import argparse
import http.client
import ipaddress
import json
import socket
import time
import urllib.parse

HEADER_BYTES = 380_000


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def closed_by_server(sock):
    """Whether the server has closed `sock` (a read returns EOF or an error at once)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


def open_connections(host, port, count, payload):
    socks = []
    for _ in range(count):
        sock = socket.create_connection((host, port))
        sock.sendall(payload)
        socks.append(sock)
    return socks


def round_headers(host, port, pid, count):
    before = rss_kib(pid)
    payload = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * HEADER_BYTES
    socks = open_connections(host, port, count, payload)
    time.sleep(2)
    during = rss_kib(pid)
    time.sleep(13)
    closed = sum(closed_by_server(s) for s in socks)
    for sock in socks:
        sock.close()
    return {"round": "headers", "connections": count, "rss_before_mib": round(before / 1024, 1),
            "rss_with_them_mib": round(during / 1024, 1), "closed_by_server_after_15s": closed}


def round_uploads(host, port, count):
    body = json.dumps({"text": "A stalled upload. " * 20}).encode()
    head = (f"POST /parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    socks = open_connections(host, port, count, head + body[: len(body) // 2])
    statuses, latencies = [], []
    conn = http.client.HTTPConnection(host, port, timeout=60)
    for n in range(200):
        started = time.monotonic()
        try:
            conn.request("POST", "/parse", body=json.dumps({"text": f"Ordinary request {n}."}),
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        except (OSError, http.client.HTTPException):
            statuses.append(0)
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)
        latencies.append(time.monotonic() - started)
    for sock in socks:
        sock.close()
    latencies.sort()
    return {"round": "uploads", "stalled": count, "ordinary": len(statuses),
            "ordinary_200": statuses.count(200), "ordinary_503": statuses.count(503),
            "p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
            "p99_ms": round(1000 * latencies[int(0.99 * len(latencies))], 1)}


def round_silent(host, port):
    sock = socket.create_connection((host, port))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    sock.settimeout(150)
    started = time.monotonic()
    try:
        outcome = "closed" if sock.recv(9) == b"" else "answered"
    except socket.timeout:
        outcome = "still open"
    sock.close()
    return {"round": "silent", "outcome": outcome, "after_s": round(time.monotonic() - started, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--pid", type=int, required=True, help="the nlpd serve process")
    parser.add_argument("--connections", type=int, default=300)
    args = parser.parse_args()
    parts = urllib.parse.urlsplit(args.url)
    if not ipaddress.ip_address(parts.hostname).is_loopback:
        raise SystemExit("slow-clients: loopback targets only")
    for result in (round_headers(parts.hostname, parts.port, args.pid, args.connections),
                   round_uploads(parts.hostname, parts.port, args.connections),
                   round_silent(parts.hostname, parts.port)):
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
