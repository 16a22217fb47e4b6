#!/usr/bin/env python3
"""edge_probe.py - raw-socket probes of signetd's HTTP edge (SPEC section 8).

Each sub-command talks to 127.0.0.1:PORT (optionally from another loopback
source address) and prints one line of facts, "key=value ...", that the
calling bash script (edge_*.sh) asserts on.  Nothing here decides pass or
fail except where noted; the scripts do.

  raw PORT HEX_OR_TEXT [SRC]     send bytes, read until close (5 s):
                                 responses=N statuses=a,b closed=0|1
  early413 PORT PATH [expect]    declare 100 MB and send 64 KiB of body at
                                 most: status, seconds to the answer, bytes
                                 sent, got100=0|1, closed
  slow PORT SECONDS_PER_BYTE MAX send a header one byte at a time; when
                                 the server closes: cut=1 after=SECONDS
  idle PORT MAX                  one request on a keep-alive connection,
                                 then wait: closed=1 after=SECONDS
  cap PORT SRC N OTHER           hold N connections from SRC, try one more
                                 from SRC and one from OTHER
  flood PORT SRC N KEY PATH      N GETs with x-api-key KEY on one keep-alive
                                 connection: counts per status, first 429's
                                 Retry-After and error code
"""
import http.client
import json
import socket
import sys
import time


def connect(port, src=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_all(s, limit=5.0):
    """Read until the peer closes or `limit` seconds pass; (data, closed)."""
    data = b""
    end = time.time() + limit
    closed = False
    while time.time() < end:
        s.settimeout(max(0.05, end - time.time()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    return data, closed


def statuses(data):
    out = []
    for part in data.split(b"HTTP/1.1 ")[1:]:
        code = part[:3]
        if code.isdigit():
            out.append(code.decode())
    return out


def cmd_raw(port, payload, src=None):
    raw = bytes.fromhex(payload[4:]) if payload.startswith("hex:") else \
        payload.encode().decode("unicode_escape").encode("latin-1")
    s = connect(int(port), src)
    s.sendall(raw)
    data, closed = read_all(s)
    s.close()
    st = statuses(data)
    print("responses=%d statuses=%s closed=%d" % (len(st), ",".join(st) or "-", int(closed)))


def cmd_early413(port, path, expect=None):
    s = connect(int(port))
    head = "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" \
           "Content-Length: 100000000\r\n" % path
    if expect:
        head += "Expect: 100-continue\r\n"
    t0 = time.time()
    s.sendall((head + "\r\n").encode())
    sent = 0
    data = b""
    s.setblocking(False)
    # Send at most 64 KiB of body, looking for the answer in between.
    while time.time() - t0 < 3 and b"\r\n\r\n" not in data:
        try:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            continue
        except BlockingIOError:
            pass
        except ConnectionResetError:
            break
        if not expect and sent < 65536:
            try:
                sent += s.send(b"x" * 4096)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
        time.sleep(0.01)
    after = time.time() - t0
    s.setblocking(True)
    more, closed = read_all(s, 3)
    data += more
    s.close()
    st = statuses(data)
    print("status=%s seconds=%.2f body_sent=%d got100=%d closed=%d" % (
        st[0] if st else "-", after, sent, int("100" in st), int(closed)))


def cmd_slow(port, per_byte, limit):
    s = connect(int(port), timeout=float(limit))
    header = b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    t0 = time.time()
    cut = 0
    for b in header:
        try:
            s.sendall(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            cut = 1
            break
        if time.time() - t0 > float(limit):
            break
        # Wake up early if the server closed.
        s.settimeout(float(per_byte))
        try:
            if s.recv(1) == b"":
                cut = 1
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            cut = 1
            break
    print("cut=%d after=%.1f" % (cut, time.time() - t0))


def cmd_idle(port, limit):
    s = connect(int(port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: idle\r\n\r\n")
    t0 = time.time()
    data, closed = read_all(s, float(limit))
    st = statuses(data)
    print("status=%s closed=%d after=%.1f" % (st[0] if st else "-", int(closed), time.time() - t0))


def cmd_cap(port, src, n, other):
    port = int(port)
    held = []
    for _ in range(int(n)):
        c = connect(port, src)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: cap\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += c.recv(4096)
        held.append(c)
    # One more from the same address: refused (closed without an answer).
    extra = connect(port, src)
    try:
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: cap\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, closed = read_all(extra, 3)
    extra.close()
    same = statuses(data)
    # Another address is served meanwhile.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(other, 0))
    conn.request("GET", "/healthz")
    other_status = conn.getresponse().status
    conn.close()
    for c in held:
        c.close()
    print("extra_status=%s extra_closed=%d other_status=%d held=%d" % (
        same[0] if same else "-", int(closed), other_status, len(held)))


def cmd_flood(port, src, n, key, path):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10, source_address=(src, 0))
    counts = {}
    first429 = None
    order = []
    t0 = time.time()
    for _ in range(int(n)):
        conn.request("GET", path, headers={"x-api-key": key})
        r = conn.getresponse()
        body = r.read()
        counts[r.status] = counts.get(r.status, 0) + 1
        if not order or order[-1] != r.status:
            order.append(r.status)
        if r.status == 429 and first429 is None:
            try:
                code = json.loads(body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = "-"
            first429 = (r.getheader("Retry-After") or "-", code)
        if r.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10,
                                              source_address=(src, 0))
    conn.close()
    ra, code = first429 or ("-", "-")
    print("%s retry_after=%s code429=%s order=%s seconds=%.2f" % (
        " ".join("s%d=%d" % kv for kv in sorted(counts.items())), ra, code,
        ",".join(map(str, order)), time.time() - t0))


def main():
    cmds = {"raw": cmd_raw, "early413": cmd_early413, "slow": cmd_slow, "idle": cmd_idle,
            "cap": cmd_cap, "flood": cmd_flood}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
