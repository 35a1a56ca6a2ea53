#!/usr/bin/env python3
"""Bounded HTTP load for scripts/deploy-test.sh: POST /parse through the load balancer.

Each worker thread keeps one keep-alive connection and sends requests back to back until
the total request budget is spent, the time budget runs out, or a stop file appears
(whichever comes first), then a JSON summary is printed on standard output:

    {"sent": N, "ok": N, "failed": N, "failures": {"HTTP 502": N, ...},
     "by_upstream": {"127.0.0.1:PORT": N, ...}, "retried": N, "seconds": S,
     "p50_ms": X, "p99_ms": X}

A request succeeds when it is answered 200 with a JSON object (checked by its braces). Every other outcome (any
other status, a reset or refused connection, a timeout) is a failure: through the balancer
the client never sees a replica fail unless the balancer could not retry it. `by_upstream`
counts the replica that answered (the last address in the balancer's X-Upstream header);
`retried` counts answers whose header names more than one replica.

Standard library only; loopback targets only (the script refuses anything else).
"""

import argparse
import http.client
import ipaddress
import json
import os
import sys
import threading
import time
import urllib.parse
from collections import Counter

# Sentences with a per-request counter, so every request brings words the vocabulary has
# never seen (each request's memory zone has real work to roll back).
TEMPLATES = (
    "Request {n} asked whether the Zxq{n} parser handles U.K. spellings, e-mail and URLs.",
    "Dr. Smith didn't expect {n} replicas to answer before noon, but they did.",
    "The quick brown fox-{n} jumps over the lazy dog... again!",
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/parse")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--stop-file", help="stop once this file exists")
    parser.add_argument("--timeout", type=float, default=40.0, help="per-request seconds")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="sentences per text: longer texts keep requests in flight when a replica dies",
    )
    parser.add_argument(
        "--upload-seconds",
        type=float,
        default=0.0,
        help="spread each body over this many seconds: the request stays in flight at least "
        "that long, however fast the service parses",
    )
    return parser.parse_args()


class Budget:
    """Hands out request numbers until the count, time or stop-file budget is spent."""

    def __init__(self, max_requests, max_seconds, stop_file):
        self.lock = threading.Lock()
        self.next = 0
        self.max_requests = max_requests
        self.deadline = time.monotonic() + max_seconds
        self.stop_file = stop_file

    def take(self):
        """The next request number, or None when the budget is spent."""
        if time.monotonic() >= self.deadline:
            return None
        if self.stop_file and os.path.exists(self.stop_file):
            return None
        with self.lock:
            if self.next >= self.max_requests:
                return None
            self.next += 1
            return self.next


class Tally:
    """Outcomes of all workers, merged under a lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = Counter()
        self.by_upstream = Counter()
        self.retried = 0
        self.latencies = []

    def record(self, failure, upstream, seconds):
        with self.lock:
            self.latencies.append(seconds)
            if failure:
                self.failures[failure] += 1
            else:
                self.ok += 1
            if upstream:
                tried = [addr.strip() for addr in upstream.split(",")]
                self.by_upstream[tried[-1]] += 1
                self.retried += len(tried) > 1


def body_of(number, repeat):
    """The request body: a sentence with new words, then repeat - 1 fixed sentences."""
    sentence = TEMPLATES[number % len(TEMPLATES)].format(n=number)
    return json.dumps({"text": " ".join([sentence] + [TEMPLATES[0]] * (repeat - 1))})


# Pieces a slow upload (--upload-seconds) sends its body in.
UPLOAD_PIECES = 10


def upload_slowly(conn, path, body, seconds):
    """Sends the header at once, then the body in UPLOAD_PIECES pieces over `seconds`."""
    data = body.encode()
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(len(data)))
    conn.endheaders()
    step = -(-len(data) // UPLOAD_PIECES)
    for start in range(0, len(data), step):
        time.sleep(seconds / UPLOAD_PIECES)
        conn.send(data[start : start + step])


def send(conn, path, body, upload_seconds):
    """Sends one request; returns (failure or None, X-Upstream header or None)."""
    if upload_seconds > 0:
        upload_slowly(conn, path, body, upload_seconds)
    else:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    upstream = response.getheader("X-Upstream")
    if response.status != 200:
        return f"HTTP {response.status}", upstream
    # A JSON object, checked by its delimiters only: decoding every large response would
    # make this client, not the replicas, the bottleneck (the service's own tests check
    # the JSON itself).
    if not (payload.startswith(b"{") and payload.rstrip().endswith(b"}")):
        return "200 without a JSON object", upstream
    return None, upstream


def worker(target, budget, tally, args):
    host, port, path = target
    conn = http.client.HTTPConnection(host, port, timeout=args.timeout)
    while (number := budget.take()) is not None:
        started = time.monotonic()
        try:
            body = body_of(number, args.repeat)
            failure, upstream = send(conn, path, body, args.upload_seconds)
        except (OSError, http.client.HTTPException) as err:
            failure, upstream = type(err).__name__, None
            conn.close()  # reconnects on the next request
        tally.record(failure, upstream, time.monotonic() - started)
    conn.close()


def loopback_target(url):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        sys.exit(f"loadgen: expected http://HOST:PORT/PATH, got {url!r}")
    if not ipaddress.ip_address(parts.hostname).is_loopback:
        sys.exit(f"loadgen: refusing non-loopback target {parts.hostname}")
    return parts.hostname, parts.port, parts.path or "/"


def percentile(sorted_values, fraction):
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index]


def main():
    args = parse_args()
    target = loopback_target(args.url)
    budget = Budget(args.max_requests, args.max_seconds, args.stop_file)
    tally = Tally()
    started = time.monotonic()
    threads = [
        threading.Thread(target=worker, args=(target, budget, tally, args))
        for _ in range(args.workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = sorted(tally.latencies)
    summary = {
        "sent": len(latencies),
        "ok": tally.ok,
        "failed": sum(tally.failures.values()),
        "failures": dict(tally.failures),
        "by_upstream": dict(sorted(tally.by_upstream.items())),
        "retried": tally.retried,
        "seconds": round(time.monotonic() - started, 2),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 2),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 2),
    }
    json.dump(summary, sys.stdout)
    print()


if __name__ == "__main__":
    main()
