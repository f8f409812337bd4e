#!/usr/bin/env python3
"""Streaming time-to-first-byte client for the gateway benchmark.

Sends N streaming chat-completion requests one after another (concurrency 1) on one
keep-alive HTTP/1.1 connection and, for each, measures from the moment the request is
written:
  - headers: until the end of the response headers,
  - first:   until the first SSE `data:` event has arrived (the time to first token a
             client sees),
  - total:   until the stream is complete (`data: [DONE]` and the end of the body).
Prints one JSON object with percentiles in microseconds. Standard library only, raw
sockets, so the client's own overhead is small and identical for every target.
"""

import argparse
import json
import socket
import sys
import time


def percentile(sorted_vals, p):
    if not sorted_vals:
        return None
    # nearest-rank
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


class Conn:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.sock = None
        self.buf = b""

    def connect(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = None

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by peer")
        self.buf += data

    def read_until(self, marker):
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out, self.buf = self.buf[: i + len(marker)], self.buf[i + len(marker):]
                return out
            self.fill()

    def read_exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def one_request(conn, raw_request):
    """Returns (headers_ns, first_event_ns, total_ns, status, keep_alive)."""
    t0 = time.perf_counter_ns()
    conn.sock.sendall(raw_request)
    head = conn.read_until(b"\r\n\r\n")
    t_headers = time.perf_counter_ns()
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    keep_alive = headers.get("connection", "").lower() != "close"
    t_first = None
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size_line = conn.read_until(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                conn.read_until(b"\r\n")  # end of (empty) trailers
                break
            chunk = conn.read_exact(size)
            conn.read_exact(2)
            body += chunk
            if t_first is None and b"data:" in body:
                t_first = time.perf_counter_ns()
    elif "content-length" in headers:
        n = int(headers["content-length"])
        while len(body) < n:
            take = min(n - len(body), len(conn.buf))
            if take == 0:
                conn.fill()
                continue
            body += conn.buf[:take]
            conn.buf = conn.buf[take:]
            if t_first is None and b"data:" in body:
                t_first = time.perf_counter_ns()
    else:  # read until close
        keep_alive = False
        try:
            while True:
                conn.fill()
                if t_first is None and b"data:" in conn.buf:
                    t_first = time.perf_counter_ns()
        except ConnectionError:
            body, conn.buf = conn.buf, b""
    t_end = time.perf_counter_ns()
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
    if b"[DONE]" not in body:
        raise RuntimeError(f"stream did not end with [DONE]: {body[-300:]!r}")
    if t_first is None:
        t_first = t_end
    return t_headers - t0, t_first - t0, t_end - t0, keep_alive


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="http://127.0.0.1:PORT/path")
    ap.add_argument("--body-file", required=True)
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--dump", help="also write every sample (headers first total, µs) to this file")
    args = ap.parse_args()

    assert args.url.startswith("http://")
    hostport, _, path = args.url[len("http://"):].partition("/")
    host, _, port = hostport.partition(":")
    path = "/" + path
    with open(args.body_file, "rb") as f:
        body = f.read()
    raw = (
        f"POST {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer dummy\r\nAccept: text/event-stream\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body

    conn = Conn(host, int(port))
    conn.connect()
    reconnects = 0
    hs, fs, ts = [], [], []
    for i in range(args.warmup + args.n):
        h, fst, t, keep = one_request(conn, raw)
        if i >= args.warmup:
            hs.append(h / 1000.0)
            fs.append(fst / 1000.0)
            ts.append(t / 1000.0)
        if not keep:
            conn.close()
            conn.connect()
            reconnects += 1
    conn.close()
    if args.dump:
        with open(args.dump, "w") as f:
            for h, fst, t in zip(hs, fs, ts):
                f.write(f"{h:.1f} {fst:.1f} {t:.1f}\n")
    out = {"n": args.n, "reconnects": reconnects}
    for name, vals in (("headers", hs), ("first", fs), ("total", ts)):
        vals.sort()
        out[name] = {
            "p50_us": round(percentile(vals, 50), 1),
            "p90_us": round(percentile(vals, 90), 1),
            "p99_us": round(percentile(vals, 99), 1),
            "max_us": round(vals[-1], 1),
            "mean_us": round(sum(vals) / len(vals), 1),
        }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
