#!/usr/bin/python3
"""receiver.py - a webhook receiver for the notification tests.

Listens on 127.0.0.1 (a kernel-chosen port, written to DIR/port), and for
every POST checks, independently of signetd's code, the Signet-Signature
header: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>.  Each
request is appended as one JSON line to DIR/log: the time it arrived
(ms), the answer given, whether the signature verified, t, the
Content-Type, the Signet-Delivery header and the parsed body.

What it answers is read from DIR/mode at each request: "ok" (200),
"500" (500), "hang" (never answers; the connection stays open).

usage: receiver.py DIR SECRET
"""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR, SECRET = sys.argv[1], sys.argv[2].encode()
LOCK = threading.Lock()


def mode():
    try:
        with open(os.path.join(DIR, "mode")) as f:
            return f.read().strip() or "ok"
    except OSError:
        return "ok"


def verify(header, body):
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t, v1 = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit():
        return False, None
    want = hmac.new(SECRET, t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, v1), int(t)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        now_ms = int(time.time() * 1000)
        ok, t = verify(self.headers.get("Signet-Signature", ""), body)
        m = mode()
        answer = {"ok": 200, "500": 500}.get(m, 0)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        rec = {"at_ms": now_ms, "answer": answer, "sig_ok": ok, "t": t,
               "content_type": self.headers.get("Content-Type", ""),
               "delivery": self.headers.get("Signet-Delivery", ""),
               "body": parsed}
        with LOCK, open(os.path.join(DIR, "log"), "a") as f:
            f.write(json.dumps(rec) + "\n")
        if m == "hang":
            time.sleep(3600)
            return
        self.send_response(answer)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
srv.serve_forever()
