#!/usr/bin/env python3
"""A fault-injecting HTTP reverse proxy for the registry e2e tests.

    fault_proxy.py --upstream 127.0.0.1:5000 --log FILE --port-file FILE

Listens on 127.0.0.1:<free port> (written to --port-file once it listens)
and forwards every request to the upstream registry: method, path and
query, headers (Range included; Host is the upstream's, as a plain reverse
proxy sends it) and body. Absolute Location headers pointing at the
upstream are rewritten to the proxy's address; relative ones pass as they
are. Responses are streamed (Content-Length kept), so a fault can strike in
the middle of a blob.

A TLS ClientHello (mason probes https first on loopback) is answered by
closing the connection at once, so the probe fails fast instead of waiting
for a line that never comes.

Control (not forwarded, not logged), JSON bodies:

    POST /_fault/rules    {"rules": [...]}
                          replaces the rules, their counters and the log
    POST /_fault/release  lets held responses continue
    GET  /_fault/state    the rules with their hit counts

A rule:

    {"method": "GET",            regex, fully matched (default: any)
     "path": "/blobs/sha256:ab", regex, searched in path?query (default: any)
     "skip": 0,                  matching requests let through first
     "times": 1,                 requests affected after that (default: all)
     "action": ...}

Actions (the first rule that matches and has requests left applies):

    status    answer {"status": 503} without forwarding, with a registry
              error body ({"errors":[{"code","message"}]}); optional
              "retry_after" (Retry-After header), "code", "message",
              "www_authenticate" (401 defaults to a Basic challenge)
    cut       forward; send the headers (full Content-Length) and "bytes"
              body bytes, then close the connection
    corrupt   forward; flip (xor 0xff) the body byte at offset "at"
    throttle  forward; body at "rate" bytes per second
    hold      forward; after "bytes" body bytes stop reading the upstream
              and wait until /_fault/release (or 60 s), then go on
    no_range  forward without the Range header (a server that ignores it)
    drop      close the connection without an answer

When the upstream cannot be reached, the proxy closes the client connection
without an answer (as close to "connection refused" as a proxy gets); a
response whose upstream ends before its Content-Length is cut the same way.

The log has one line per request, written when it ends:

    t=<start, monotonic s> GET /v2/x/blobs/sha256:.. range=bytes=10- status=206 fault=cut sent=500000 end=cut

and "hold t=.. <path> sent=N" when a hold begins. Fields: range is the
request's Range header or "-"; status "000" means no answer was sent; sent
counts body bytes sent to the client; end is ok, cut, upstream-short,
client-gone, upstream-down or tls-refused.
"""

import argparse
import http.client
import http.server
import json
import os
import re
import socket
import sys
import threading
import time

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection",
}
CHUNK = 64 * 1024
HOLD_LIMIT = 60.0


class State:
    def __init__(self, upstream, log_path):
        self.upstream = upstream  # "host:port"
        self.log_path = log_path
        self.lock = threading.Lock()
        self.rules = []
        self.release = threading.Event()
        open(log_path, "w").close()

    def set_rules(self, spec):
        with self.lock:
            rules = spec.get("rules", [])
            for r in rules:
                r["hits"] = 0
                r["applied"] = 0
            self.rules = rules
            self.release = threading.Event()
            open(self.log_path, "w").close()

    def match(self, method, target):
        with self.lock:
            for r in self.rules:
                if "method" in r and not re.fullmatch(r["method"], method):
                    continue
                if "path" in r and not re.search(r["path"], target):
                    continue
                r["hits"] += 1
                if r["hits"] <= r.get("skip", 0):
                    continue
                if "times" in r and r["applied"] >= r["times"]:
                    continue
                r["applied"] += 1
                return dict(r)
            return None

    def log(self, line):
        with self.lock:
            with open(self.log_path, "a") as f:
                f.write(line + "\n")


class ClientGone(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy"
    timeout = 120  # an idle client connection is dropped after this

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    # -- connection level ---------------------------------------------------

    def handle(self):
        try:
            first = self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return
        if not first:
            return
        if first == b"\x16":  # a TLS handshake record: not spoken here
            self.server.state.log(f"t={time.monotonic():.3f} TLS - range=- status=000 "
                                  "fault=- sent=0 end=tls-refused")
            self.close_connection = True
            self.abort_connection()
            return
        super().handle()

    def abort_connection(self):
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    # -- requests -----------------------------------------------------------

    def do_GET(self):
        self.serve()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def serve(self):
        state = self.server.state
        self.started = time.monotonic()
        self.status_sent = "000"
        self.sent = 0
        body = self.read_body()
        if self.path.startswith("/_fault/"):
            return self.control(body)
        rule = state.match(self.command, self.path)
        action = rule["action"] if rule else "-"
        end = "ok"
        try:
            if action == "status":
                self.answer_status(rule)
            elif action == "drop":
                self.abort_connection()
                end = "dropped"
            else:
                end = self.forward(body, rule)
        except ClientGone:
            end = "client-gone"
            self.close_connection = True
        state.log(f"t={self.started:.3f} {self.command} {self.path} "
                  f"range={self.headers.get('Range', '-')} status={self.status_sent} "
                  f"fault={action} sent={self.sent} end={end}")

    def control(self, body):
        state = self.server.state
        if self.path == "/_fault/rules" and self.command == "POST":
            state.set_rules(json.loads(body or b"{}"))
            out = b"{}"
        elif self.path == "/_fault/release" and self.command == "POST":
            state.release.set()
            out = b"{}"
        elif self.path == "/_fault/state":
            with state.lock:
                out = json.dumps({"rules": state.rules}).encode()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def answer_status(self, rule):
        status = int(rule["status"])
        default_code = {401: "UNAUTHORIZED", 403: "DENIED", 404: "MANIFEST_UNKNOWN",
                        429: "TOOMANYREQUESTS"}.get(status, "UNAVAILABLE")
        error = {"code": rule.get("code", default_code),
                 "message": rule.get("message", f"injected {status}"), "detail": None}
        out = json.dumps({"errors": [error]}).encode()
        self.send_response(status)
        self.status_sent = str(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        if "retry_after" in rule:
            self.send_header("Retry-After", str(rule["retry_after"]))
        challenge = rule.get("www_authenticate",
                             'Basic realm="fault-proxy"' if status == 401 else None)
        if challenge:
            self.send_header("WWW-Authenticate", challenge)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.write(out)

    # -- forwarding -----------------------------------------------------------

    def write(self, data):
        try:
            self.wfile.write(data)
        except OSError as e:
            raise ClientGone() from e
        self.sent += len(data)

    def connect_upstream(self):
        state = self.server.state
        host, port = state.upstream.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A small receive window: when the proxy stops reading (hold), the
        # registry soon blocks instead of pushing the whole blob into kernel
        # buffers (its send buffer can still take up to net.ipv4.tcp_wmem's
        # maximum, 4 MiB by default).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.settimeout(60)
        try:
            s.connect((host, int(port)))
        except OSError:
            s.close()
            return None
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.sock = s
        return conn

    def forward(self, body, rule):
        state = self.server.state
        conn = self.connect_upstream()
        if conn is None:
            self.abort_connection()
            return "upstream-down"
        try:
            dropped = {"host", "content-length"}
            if rule and rule["action"] == "no_range":
                dropped.add("range")
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP_BY_HOP and k.lower() not in dropped}
            headers["Host"] = state.upstream
            if body or self.command in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(body))
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers.items():
                    conn.putheader(k, v)
                conn.endheaders(body if body else None)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException):
                self.abort_connection()
                return "upstream-down"
            return self.relay(resp, rule)
        finally:
            conn.close()

    def relay(self, resp, rule):
        action = rule["action"] if rule else None
        no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        length = resp.getheader("Content-Length")
        prefetched = None
        if not no_body and length is None:  # chunked or until close: buffer it
            try:
                prefetched = resp.read()
            except (OSError, http.client.HTTPException):
                self.abort_connection()
                return "upstream-short"
            length = str(len(prefetched))
        self.send_response_only(resp.status, resp.reason)
        self.status_sent = str(resp.status)
        for k, v in resp.getheaders():
            lk = k.lower()
            if lk in HOP_BY_HOP or lk == "content-length":
                continue
            if lk == "location":
                v = self.rewrite_location(v)
            self.send_header(k, v)
        if length is not None:
            self.send_header("Content-Length", length)
        try:
            self.end_headers()
        except OSError as e:
            raise ClientGone() from e
        if no_body:
            return "ok"
        total = int(length)
        if prefetched is not None:
            chunks = iter([prefetched])
        else:
            chunks = self.upstream_chunks(resp, total)
        ok2xx = 200 <= resp.status < 300
        cut_at = int(rule["bytes"]) if action == "cut" and ok2xx else None
        hold_at = int(rule["bytes"]) if action == "hold" and ok2xx else None
        flip_at = int(rule.get("at", 0)) if action == "corrupt" and ok2xx else None
        rate = float(rule["rate"]) if action == "throttle" else None
        offset = 0
        t0 = time.monotonic()
        for chunk in chunks:
            if chunk is None:  # the upstream ended before Content-Length
                self.abort_connection()
                return "upstream-short"
            if flip_at is not None and offset <= flip_at < offset + len(chunk):
                b = bytearray(chunk)
                b[flip_at - offset] ^= 0xFF
                chunk = bytes(b)
            if cut_at is not None and offset + len(chunk) >= cut_at:
                self.write(chunk[:cut_at - offset])
                self.abort_connection()
                return "cut"
            if hold_at is not None and offset + len(chunk) >= hold_at:
                self.write(chunk[:hold_at - offset])
                self.server.state.log(f"hold t={time.monotonic():.3f} {self.path} sent={self.sent}")
                self.server.state.release.wait(HOLD_LIMIT)
                self.write(chunk[hold_at - offset:])
                hold_at = None
            else:
                self.write(chunk)
            offset += len(chunk)
            if rate:
                ahead = offset / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        return "ok"

    def upstream_chunks(self, resp, total):
        """Body chunks; None when the upstream stops short of `total`."""
        left = total
        while left > 0:
            try:
                chunk = resp.read(min(CHUNK, left))
            except (OSError, http.client.HTTPException):
                chunk = b""
            if not chunk:
                yield None
                return
            left -= len(chunk)
            yield chunk

    def rewrite_location(self, value):
        up = self.server.state.upstream
        mine = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        for scheme in ("http://", "https://"):
            if value.startswith(scheme + up):
                return "http://" + mine + value[len(scheme + up):]
        return value


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True, help="host:port of the registry")
    p.add_argument("--log", required=True)
    p.add_argument("--port-file", required=True)
    args = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(args.upstream, args.log)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
