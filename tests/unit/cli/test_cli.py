#!/usr/bin/env python3
"""Drive the real `signet` binary; check its exit statuses, messages and files.

usage:   test_cli.py SUITE SIGNET OPENSSL
suites:  usage    - argument errors exit 2 with one line on stderr; --help exits 0
         offline  - verify-file against signatures made by the openssl CLI
         service  - sign-file / verify-file --online / keys against a mock signetd
                    (plain HTTP, TLS with --cacert, mTLS) that signs with openssl

Signatures are always checked by the openssl CLI as well, never only by the
code under test.  Any failed check makes the script exit 1.
"""
import base64
import hashlib
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import uuid

SIGNET = OPENSSL = None
TMP = None
FAILURES = []
CHECKS = 0

API_KEY = "sk-test-0123456789abcdef"


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(args, env=None, expect=None, what=None):
    """Run signet; return (rc, stdout, stderr).  With expect, check rc and the one-line rule."""
    full_env = dict(os.environ)
    full_env.pop("SIGNET_URL", None)
    full_env.pop("SIGNET_API_KEY", None)
    if env:
        full_env.update(env)
    p = subprocess.run([SIGNET] + args, capture_output=True, text=True, env=full_env,
                       timeout=120)
    label = what or " ".join(args)
    if expect is not None:
        check(p.returncode == expect,
              f"{label}: exit {p.returncode}, want {expect}; stderr={p.stderr!r}")
        if expect != 0:
            lines = p.stderr.splitlines()
            check(len(lines) == 1, f"{label}: want one line on stderr, got {p.stderr!r}")
    return p.returncode, p.stdout, p.stderr


def openssl(*args, input_bytes=None):
    p = subprocess.run([OPENSSL] + list(args), capture_output=True, input=input_bytes)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {p.stderr.decode()}")
    return p.stdout


def path(name):
    return os.path.join(TMP, name)


def write(name, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path(name), mode) as f:
        f.write(data)
    return path(name)


def read(name):
    with open(path(name), "rb") as f:
        return f.read()


def genkey(name, spec):
    """spec: rsa2048 | rsa3072 | P-256 | P-384 | P-521 | ed25519.  Returns (key, pub) paths."""
    key = path(name + ".key")
    if spec.startswith("rsa"):
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:" + spec[3:],
                "-out", key)
    elif spec.startswith("P-"):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:" + spec,
                "-out", key)
    else:
        openssl("genpkey", "-algorithm", "ED25519", "-out", key)
    pub = path(name + ".pub.pem")
    openssl("pkey", "-in", key, "-pubout", "-out", pub)
    return key, pub


def b64(data):
    return base64.b64encode(data).decode()


def der_to_p1363(der, field_len):
    """ECDSA-Sig-Value DER -> r||s, enough of a DER reader for the test."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n].lstrip(b"\0")
        out += v.rjust(field_len, b"\0")
        i += 2 + n
    return out


# --------------------------------------------------------------------- usage

def suite_usage():
    env = {"SIGNET_URL": "http://127.0.0.1:9", "SIGNET_API_KEY": API_KEY}
    f = write("artifact.bin", b"hello")
    cases = [
        ([], "missing command"),
        (["frobnicate"], "unknown command"),
        (["sign-file"], "missing FILE"),
        (["sign-file", f], "missing --key"),
        (["sign-file", f, "--key"], "needs a value"),
        (["sign-file", f, "--key", "k", "--bogus"], "unknown option '--bogus'"),
        (["sign-file", f, "--key", "a", "--key", "b"], "given twice"),
        (["sign-file", f, f, "--key", "k"], "unexpected argument"),
        (["sign-file", f, "--key", "k", "--hash-algorithm", "MD4"], "unknown hash"),
        (["sign-file", f, "--key", "k", "--signature-algorithm", "DSA"], "unknown signature algorithm"),
        (["sign-file", f, "--key", "k", "--signature-format", "PEM"], "unknown signature format"),
        (["sign-file", f, "--key", "k", "--context", "not base64!"], "base64"),
        (["sign-file", f, "--key", "k", "--context", b64(bytes(256))], "at most 255"),
        (["sign-file", f, "--key", "k", "--key-version", "0"], "positive integer"),
        (["sign-file", f, "--key", "k", "--key-version", "1x"], "positive integer"),
        (["verify-file", f], "--public-key PEM, --bundle JSON or --online"),
        (["verify-file", f, "--public-key", f], "missing --signature"),
        (["verify-file", f, "--online", "--signature", f], "--online needs --key"),
        (["keys"], "missing command"),
        (["keys", "destroy"], "unknown keys command"),
        (["keys", "create", "--algorithm", "EC-P256"], "missing --alias"),
        (["keys", "create", "--alias", "a"], "missing --algorithm"),
        (["keys", "create", "--alias", "a", "--algorithm", "DSA-1024"], "unknown key algorithm"),
        (["keys", "create", "--alias", "a", "--algorithm", "EC-P256", "--storage", "CLOUD"],
         "--storage must be one of DISK, HSM"),
        (["keys", "create", "--alias", "a", "--algorithm", "EC-P256", "--type", "DEV"],
         "--type must be one of TEST, PRODUCTION"),
        (["keys", "show"], "missing KEY"),
        (["keys", "public-key", "k", "--version", "-1"], "positive integer"),
        (["keys", "list", "--cert", f], "--cert and --cert-key go together"),
        (["--url"], "needs a value"),
    ]
    for args, msg in cases:
        rc, out, err = run(args, env=env, expect=2)
        check(msg in err, f"{args}: want {msg!r} in stderr, got {err!r}")
        check(out == "", f"{args}: want nothing on stdout, got {out!r}")

    # No service configured: a usage error that names the variable.
    rc, out, err = run(["keys", "list"], expect=2)
    check("SIGNET_URL" in err, f"no URL: {err!r}")
    rc, out, err = run(["keys", "list"], env={"SIGNET_URL": "http://127.0.0.1:9"}, expect=2)
    check("SIGNET_API_KEY" in err, f"no key: {err!r}")
    rc, out, err = run(["keys", "list", "--url", "ftp://x", "--api-key", "k"], expect=2)
    check("http://" in err, f"bad scheme: {err!r}")
    # The connection flags are accepted before the command too.
    rc, out, err = run(["--url", "http://127.0.0.1:9", "--api-key", "k", "keys", "list"],
                       expect=2)
    check("cannot reach http://127.0.0.1:9" in err, f"unreachable: {err!r}")

    # --help: exit 0, usage on stdout, nothing on stderr.
    for args in (["--help"], ["help"], ["sign-file", "--help"], ["verify-file", "-h"],
                 ["keys", "--help"], ["keys", "create", "--help"],
                 ["keys", "public-key", "--help"]):
        rc, out, err = run(args, expect=0)
        check(out.startswith("usage: signet"), f"{args}: usage text, got {out!r}")
        check(err == "", f"{args}: stderr should be empty, got {err!r}")
    rc, out, err = run(["--version"], expect=0)
    check(out.startswith("signet "), f"--version: {out!r}")
    # sign-file's help documents every flag the e2e tests rely on.
    rc, out, err = run(["sign-file", "--help"], expect=0)
    for flag in ("--key", "--hash-algorithm", "--out", "--bundle", "--signature-algorithm",
                 "--signature-format", "--context", "--key-version", "--url", "--api-key",
                 "--cacert", "--cert", "--cert-key"):
        check(flag in out, f"sign-file --help lacks {flag}")

    # A missing file is an error, not a crash, and needs the configuration first.
    rc, out, err = run(["sign-file", path("nope"), "--key", "k"], env=env, expect=2)
    check("cannot open" in err, f"missing file: {err!r}")


# ------------------------------------------------------------------- offline

def suite_offline():
    data = os.urandom(200_000) + b"release artifact"
    art = write("artifact.bin", data)
    tampered = write("tampered.bin", data[:-1] + b"!")

    def verify(args, expect, what, want=None):
        rc, out, err = run(["verify-file"] + args, expect=expect, what=what)
        if expect == 0:
            check(out == "signature valid\n", f"{what}: stdout {out!r}")
        elif expect == 1:
            check(err.startswith("signature INVALID: "), f"{what}: stderr {err!r}")
        if want is not None:
            check(want in err, f"{what}: want {want!r} in {err!r}")
        return err

    keys = {}
    for name, spec in (("rsa", "rsa2048"), ("rsa3k", "rsa3072"), ("p256", "P-256"),
                       ("p384", "P-384"), ("p521", "P-521"), ("ed", "ed25519"),
                       ("p256b", "P-256")):
        keys[name] = genkey(name, spec)

    # RSA PKCS#1 v1.5 and ECDSA (DER) made with `openssl dgst -sign`.
    for name, dgst, extra in (("rsa", "sha256", []), ("rsa3k", "sha512", ["--hash-algorithm", "SHA-512"]),
                              ("p256", "sha256", []), ("p384", "sha384", ["--hash-algorithm", "SHA-384"]),
                              ("p521", "sha512", ["--hash-algorithm", "SHA-512"])):
        key, pub = keys[name]
        sig = path(f"{name}.sig")
        openssl("dgst", "-" + dgst, "-sign", key, "-out", sig, art)
        verify([art, "--signature", sig, "--public-key", pub] + extra, 0, f"{name} valid")
        verify([tampered, "--signature", sig, "--public-key", pub] + extra, 1,
               f"{name} tampered file")
        bad = bytearray(read(f"{name}.sig"))
        bad[len(bad) // 2] ^= 0x01
        badsig = write(f"{name}.bad.sig", bytes(bad))
        verify([art, "--signature", badsig, "--public-key", pub] + extra, 1,
               f"{name} corrupted signature")

    key, pub = keys["rsa"]
    rsa_sig = path("rsa.sig")
    # A certificate works as the public key.
    cert = path("rsa.crt")
    openssl("req", "-x509", "-new", "-key", key, "-subj", "/CN=signet test", "-days", "2",
            "-out", cert)
    verify([art, "--signature", rsa_sig, "--public-key", cert], 0, "certificate as key")
    # The wrong hash algorithm does not verify.
    verify([art, "--signature", rsa_sig, "--public-key", pub, "--hash-algorithm", "SHA-384"],
           1, "rsa with the wrong hash")
    # RSA-PSS, salt length = hash length.
    pss = path("rsa.pss.sig")
    openssl("dgst", "-sha256", "-sign", key, "-sigopt", "rsa_padding_mode:pss",
            "-sigopt", "rsa_pss_saltlen:digest", "-out", pss, art)
    verify([art, "--signature", pss, "--public-key", pub, "--signature-algorithm", "RSA-PSS"],
           0, "rsa-pss valid")
    verify([art, "--signature", pss, "--public-key", pub], 1, "pss checked as pkcs1")
    verify([tampered, "--signature", pss, "--public-key", pub,
            "--signature-algorithm", "RSA-PSS"], 1, "rsa-pss tampered")

    # Wrong key of the same type: invalid.  Wrong key type for the scheme: usage error.
    _, p256b_pub = keys["p256b"]
    verify([art, "--signature", path("p256.sig"), "--public-key", p256b_pub], 1, "other key")
    verify([art, "--signature", path("p256.sig"), "--public-key", keys["p256"][1],
            "--signature-algorithm", "RSA-PSS"], 2, "scheme does not fit the key")
    verify([art, "--signature", path("p256.sig"), "--public-key", art], 2,
           "public key file is not PEM", want="no PEM PUBLIC KEY")

    # ECDSA in P1363 form.
    p1363 = write("p256.p1363.sig", der_to_p1363(read("p256.sig"), 32))
    verify([art, "--signature", p1363, "--public-key", keys["p256"][1],
            "--signature-format", "P1363"], 0, "p1363 valid")
    verify([art, "--signature", p1363, "--public-key", keys["p256"][1]], 1,
           "p1363 read as DER")

    # Ed25519 signs the digest bytes as the message.
    key, pub = keys["ed"]
    digest = write("artifact.sha256", hashlib.sha256(data).digest())
    ed_sig = path("ed.sig")
    openssl("pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", digest, "-out", ed_sig)
    verify([art, "--signature", ed_sig, "--public-key", pub], 0, "ed25519 valid")
    verify([tampered, "--signature", ed_sig, "--public-key", pub], 1, "ed25519 tampered")

    # Bundles, hand-made in the documented format.
    key, pub = keys["p384"]
    sig384 = read("p384.sig")

    def bundle(name, **fields):
        b = {"format": "signet-bundle-v1", "file": "artifact.bin", "key_id": "k-1",
             "key_alias": "release", "key_version": 1, "key_algorithm": "EC-P384",
             "signature_algorithm": "ECDSA", "hash_algorithm": "SHA-384",
             "signature_format": "DER", "digest": b64(hashlib.sha384(data).digest()),
             "signature": b64(sig384), "public_key_pem": open(pub).read()}
        b.update(fields)
        for k in [k for k, v in b.items() if v is None]:
            del b[k]
        return write(name, json.dumps(b))

    good = bundle("good.json")
    verify([art, "--bundle", good], 0, "bundle alone")
    verify([art, "--bundle", good, "--signature", path("p384.sig")], 0, "bundle + signature")
    verify([art, "--bundle", good, "--public-key", pub], 0, "bundle + trusted key")
    verify([tampered, "--bundle", good], 1, "bundle, tampered file",
           want="does not match the SHA-384 digest in the bundle")
    verify([art, "--bundle", good, "--public-key", keys["p256"][1]], 1,
           "bundle says P-384, key is P-256", want="the public key is EC-P256, not EC-P384")
    verify([art, "--bundle", good, "--public-key", keys["p384"][1],
            "--signature", path("p384.bad.sig")], 1, "bundle + corrupted signature")
    nodigest = bundle("nodigest.json", digest=None)
    verify([tampered, "--bundle", nodigest], 1, "bundle without digest, tampered file")
    verify([art, "--bundle", good, "--hash-algorithm", "SHA-256"], 2, "flag contradicts bundle",
           want="disagrees with the bundle")
    verify([art, "--bundle", good, "--hash-algorithm", "sha384"], 0, "flag agrees with bundle")
    verify([art, "--bundle", good, "--key-version", "2"], 2, "version contradicts bundle")
    verify([art, "--bundle", bundle("fmt.json", format="signet-bundle-v9")], 2,
           "unknown bundle format")
    verify([art, "--bundle", bundle("badtype.json", key_version="1")], 2,
           "bundle field of the wrong type")
    verify([art, "--bundle", bundle("badhash.json", hash_algorithm="SHA-999")], 2,
           "unknown hash in bundle")
    verify([art, "--bundle", bundle("nokey.json", public_key_pem=None)], 2,
           "bundle without a key", want="no public key")
    dup = write("dup.json", open(good).read()[:-1] + ', "digest": "AAAA"}')
    verify([art, "--bundle", dup], 2, "duplicate keys in bundle")
    verify([art, "--bundle", write("notjson.json", "{")], 2, "bundle not JSON")
    cert_only = bundle("cert.json", public_key_pem=None, key_algorithm="RSA-2048",
                       signature_format=None, signature_algorithm="RSA-PKCS1",
                       hash_algorithm="SHA-256", digest=b64(hashlib.sha256(data).digest()),
                       signature=b64(read("rsa.sig")),
                       certificate_chain_pem=open(cert).read())
    verify([art, "--bundle", cert_only], 0, "bundle with only a certificate chain")

    # Ed25519 bundle with the signature inside only.
    ed_bundle = bundle("ed.json", key_algorithm="Ed25519", signature_algorithm="Ed25519",
                       signature_format=None, hash_algorithm="SHA-256",
                       digest=b64(hashlib.sha256(data).digest()),
                       signature=b64(read("ed.sig")), public_key_pem=open(keys["ed"][1]).read())
    verify([art, "--bundle", ed_bundle], 0, "ed25519 bundle")
    verify([tampered, "--bundle", ed_bundle], 1, "ed25519 bundle, tampered")

    # A directory or missing file is an error, not a verdict.
    verify([TMP, "--signature", rsa_sig, "--public-key", keys["rsa"][1]], 2, "directory")
    verify([art, "--signature", path("missing.sig"), "--public-key", keys["rsa"][1]], 2,
           "missing signature file")


# ------------------------------------------------------------------- service

# The request fields signetd accepts (src/api); anything else is a 400 there.
KNOWN_CREATE = {"alias", "algorithm", "storage", "type", "status"}
KNOWN_SIGN = {"key", "policy", "key_version", "digest", "hash_algorithm", "signature_algorithm",
              "signature_format", "context", "pss_salt_length", "metadata", "timestamp", "async"}
KNOWN_VERIFY = {"key", "key_version", "digest", "hash_algorithm", "signature_algorithm",
                "signature_format", "context", "pss_salt_length", "signature"}

HASHES = {"SHA-256": ("sha256", 32), "SHA-384": ("sha384", 48), "SHA-512": ("sha512", 64)}


class MockSignet:
    """Just enough of signetd's native API, signing with the openssl CLI."""

    def __init__(self):
        self.keys = {}          # id -> key object (versions carry "_key" paths)
        self.requests = []      # (method, path, headers, body)
        self.lock = threading.Lock()

    def new_version(self, key, spec):
        n = len(key["versions"]) + 1
        kpath, pub = genkey(f"svc-{key['alias']}-v{n}", spec)
        v = {"version": n, "state": "ACTIVE", "public_key_pem": open(pub).read(),
             "created_at": "2026-11-22T18:00:00.000Z", "_key": kpath, "_spec": spec}
        key["versions"].append(v)
        key["current_version"] = n

    def add_key(self, alias, algorithm, storage="DISK", type_="TEST", status="ONLINE"):
        spec = {"RSA-2048": "rsa2048", "EC-P256": "P-256", "EC-P384": "P-384",
                "Ed25519": "ed25519"}[algorithm]
        key = {"id": str(uuid.uuid4()), "alias": alias, "algorithm": algorithm,
               "storage": storage, "type": type_, "status": status, "current_version": 0,
               "versions": [], "created_at": "2026-11-22T18:00:00.000Z",
               "updated_at": "2026-11-22T18:00:00.000Z"}
        self.new_version(key, spec)
        self.keys[key["id"]] = key
        return key

    @staticmethod
    def public(key):
        k = dict(key)
        k["versions"] = [{x: y for x, y in v.items() if not x.startswith("_")}
                         for v in key["versions"]]
        return k

    def find(self, ident, by_alias=True):
        if ident in self.keys:
            return self.keys[ident]
        if by_alias:
            for k in self.keys.values():
                if k["alias"] == ident:
                    return k
        return None

    def sign(self, key, version, digest, hash_alg, scheme):
        v = key["versions"][version - 1]
        dfile = path(f"svc-digest-{uuid.uuid4()}")
        with open(dfile, "wb") as f:
            f.write(digest)
        if key["algorithm"] == "Ed25519":
            return openssl("pkeyutl", "-sign", "-rawin", "-inkey", v["_key"], "-in", dfile)
        opts = ["-pkeyopt", "digest:" + HASHES[hash_alg][0]]
        if scheme == "RSA-PSS":
            opts += ["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:digest"]
        return openssl("pkeyutl", "-sign", "-inkey", v["_key"], "-in", dfile, *opts)


def make_handler(mock):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send(self, status, obj=None, text=None, ctype="application/json"):
            body = (json.dumps(obj) if obj is not None else text or "").encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Request-Id", "req-" + str(len(mock.requests)))
            self.end_headers()
            self.wfile.write(body)

        def error(self, status, code, message):
            self.send(status, {"error": {"code": code, "message": message,
                                         "request_id": "req-err-1"}})

        def handle_any(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            url = urllib.parse.urlparse(self.path)
            with mock.lock:
                mock.requests.append((method, self.path, dict(self.headers), body))
            if self.headers.get("Authorization") != "Bearer " + API_KEY and \
                    not getattr(self.connection, "getpeercert", lambda: None)():
                return self.error(401, "UNAUTHENTICATED", "missing or bad credentials")
            parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
            query = urllib.parse.parse_qs(url.query)
            if parts == ["v1", "broken"]:
                return self.send(500, text="<html>oops</html>", ctype="text/html")
            # Like signetd, refuse fields the endpoint does not know.
            known = {("POST", "/v1/keys"): KNOWN_CREATE, ("POST", "/v1/sign"): KNOWN_SIGN,
                     ("POST", "/v1/verify"): KNOWN_VERIFY}.get((method, url.path))
            if known is not None and not set(body or {}) <= known:
                return self.error(400, "INVALID_ARGUMENT",
                                  f"unknown fields {sorted(set(body) - known)}")
            if parts == ["v1", "keys"] and method == "POST":
                for f in ("alias", "algorithm"):
                    if f not in body:
                        return self.error(400, "INVALID_ARGUMENT", f"missing {f}")
                if any(k["alias"] == body["alias"] for k in mock.keys.values()):
                    return self.error(409, "CONFLICT", "alias exists")
                k = mock.add_key(body["alias"], body["algorithm"], body.get("storage", "DISK"),
                                 body.get("type", "PRODUCTION"), body.get("status", "ONLINE"))
                return self.send(201, mock.public(k))
            if parts == ["v1", "keys"] and method == "GET":
                return self.send(200, {"keys": [mock.public(k) for k in mock.keys.values()]})
            if len(parts) >= 3 and parts[:2] == ["v1", "keys"]:
                # Only the plain GET knows aliases, as in SPEC §3.
                key = mock.find(parts[2], by_alias=(len(parts) == 3))
                if key is None:
                    return self.error(404, "NOT_FOUND", "no such key")
                if len(parts) == 3 and method == "GET":
                    if key["alias"] == "secret-signer":
                        return self.error(403, "PERMISSION_DENIED", "signer cannot read keys")
                    return self.send(200, mock.public(key))
                if parts[3:] == ["rotate"] and method == "POST":
                    mock.new_version(key, key["versions"][0]["_spec"])
                    return self.send(200, mock.public(key))
                if parts[3:] == ["public-key"] and method == "GET":
                    n = int(query.get("version", [key["current_version"]])[0])
                    if not 1 <= n <= len(key["versions"]):
                        return self.error(404, "NOT_FOUND", "no such version")
                    pem = key["versions"][n - 1]["public_key_pem"]
                    if self.headers.get("Accept") == "application/x-pem-file":
                        return self.send(200, text=pem, ctype="application/x-pem-file")
                    return self.send(200, {"key_id": key["id"], "version": n,
                                           "algorithm": key["algorithm"], "public_key_pem": pem})
            if parts == ["v1", "sign"] and method == "POST":
                key = mock.find(body.get("key", ""))
                if key is None:
                    return self.error(404, "NOT_FOUND", "no such key")
                if key["alias"] == "needs-approval":
                    return self.send(202, {"request_id": "r-42", "status": "PENDING_APPROVAL"})
                h = body.get("hash_algorithm")
                if h not in HASHES:
                    return self.error(400, "UNSUPPORTED_HASH_ALGORITHM", f"{h} not allowed")
                digest = base64.b64decode(body["digest"])
                if len(digest) != HASHES[h][1]:
                    return self.error(400, "DIGEST_LENGTH_MISMATCH", "wrong length")
                version = body.get("key_version", key["current_version"])
                scheme = body.get("signature_algorithm") or \
                    {"RSA-2048": "RSA-PKCS1", "EC-P256": "ECDSA", "EC-P384": "ECDSA",
                     "Ed25519": "Ed25519"}[key["algorithm"]]
                signed = digest
                if key["alias"] == "liar":
                    signed = bytes(len(digest))
                sig = mock.sign(key, version, signed, h, scheme)
                resp = {"request_id": "r-1", "signature_id": "s-1", "status": "SIGNED",
                        "key_id": key["id"], "key_version": version,
                        "signature_algorithm": scheme, "hash_algorithm": h,
                        "signature": b64(sig), "created_at": "2026-11-22T18:47:38.123Z"}
                if key["algorithm"].startswith("EC"):
                    resp["signature_format"] = "DER"
                if body.get("timestamp"):
                    resp["timestamp_token"] = b64(b"token")
                return self.send(200, resp)
            if parts == ["v1", "verify"] and method == "POST":
                key = mock.find(body.get("key", ""))
                if key is None:
                    return self.error(404, "NOT_FOUND", "no such key")
                v = key["versions"][body.get("key_version", key["current_version"]) - 1]
                pub = path(f"svc-verify-{uuid.uuid4()}.pem")
                with open(pub, "w") as f:
                    f.write(v["public_key_pem"])
                dfile = write(f"svc-vd-{uuid.uuid4()}", base64.b64decode(body["digest"]))
                sfile = write(f"svc-vs-{uuid.uuid4()}", base64.b64decode(body["signature"]))
                args = ["pkeyutl", "-verify", "-pubin", "-inkey", pub, "-in", dfile,
                        "-sigfile", sfile]
                if key["algorithm"] == "Ed25519":
                    args.insert(2, "-rawin")
                else:
                    args += ["-pkeyopt", "digest:" + HASHES[body["hash_algorithm"]][0]]
                ok = subprocess.run([OPENSSL] + args, capture_output=True).returncode == 0
                return self.send(200, {"valid": ok})
            return self.error(404, "NOT_FOUND", "no route")

        def do_GET(self):
            self.handle_any("GET")

        def do_POST(self):
            self.handle_any("POST")

        def do_PATCH(self):
            self.handle_any("PATCH")

    return Handler


def start_server(mock, tls=None):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(mock))
    if tls is not None:
        srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    scheme = "https" if tls else "http"
    return srv, f"{scheme}://127.0.0.1:{srv.server_address[1]}"


def suite_service():
    mock = MockSignet()
    rsa = mock.add_key("release-rsa", "RSA-2048")
    ec = mock.add_key("release-ec", "EC-P384")
    ed = mock.add_key("release-ed", "Ed25519")
    mock.add_key("needs-approval", "EC-P256")
    mock.add_key("liar", "EC-P256")
    mock.add_key("secret-signer", "EC-P256")
    srv, url = start_server(mock)
    env = {"SIGNET_URL": url, "SIGNET_API_KEY": API_KEY}
    data = os.urandom(300_000)
    art = write("artifact.tar.gz", data)
    tampered = write("tampered.tar.gz", data + b"x")

    # RSA PKCS#1 by alias: the signature file verifies with openssl dgst.
    rc, out, err = run(["sign-file", art, "--key", "release-rsa"], env=env, expect=0)
    check(os.path.exists(art + ".sig") and os.path.exists(art + ".sig.bundle.json"),
          "sign-file writes FILE.sig and FILE.sig.bundle.json")
    rsa_pub = write("rsa.pub.pem", rsa["versions"][0]["public_key_pem"])
    v = subprocess.run([OPENSSL, "dgst", "-sha256", "-verify", rsa_pub, "-signature",
                        art + ".sig", art], capture_output=True, text=True)
    check(v.returncode == 0 and "Verified OK" in v.stdout, f"openssl verifies RSA: {v.stdout}")
    b = json.load(open(art + ".sig.bundle.json"))
    want = {"format": "signet-bundle-v1", "file": "artifact.tar.gz", "key_id": rsa["id"],
            "key_alias": "release-rsa", "key_version": 1, "key_algorithm": "RSA-2048",
            "signature_algorithm": "RSA-PKCS1", "hash_algorithm": "SHA-256",
            "digest": b64(hashlib.sha256(data).digest()),
            "signature": b64(open(art + ".sig", "rb").read()),
            "public_key_pem": rsa["versions"][0]["public_key_pem"],
            "signature_id": "s-1", "request_id": "r-1",
            "created_at": "2026-11-22T18:47:38.123Z"}
    for k, val in want.items():
        check(b.get(k) == val, f"bundle {k}: {b.get(k)!r} != {val!r}")
    check("signature_format" not in b and "timestamp_token" not in b,
          "bundle omits absent optional fields")
    # What went over the wire.
    method, p, headers, body = [r for r in mock.requests if r[1] == "/v1/sign"][-1]
    check(headers.get("User-Agent") == "signet-cli/0.1", f"User-Agent {headers.get('User-Agent')}")
    check(headers.get("Authorization") == "Bearer " + API_KEY, "bearer API key sent")
    check(body.get("key") == "release-rsa" and body.get("hash_algorithm") == "SHA-256" and
          body.get("digest") == want["digest"] and "key_version" not in body,
          f"sign request body {body}")
    # Offline verification of what sign-file wrote, by bundle and by public key.
    run(["verify-file", art, "--bundle", art + ".sig.bundle.json"], expect=0)
    run(["verify-file", art, "--signature", art + ".sig", "--public-key", rsa_pub], expect=0)
    run(["verify-file", tampered, "--signature", art + ".sig", "--bundle",
         art + ".sig.bundle.json"], expect=1)

    # EC P-384, SHA-384, custom paths; ECDSA DER verifies with openssl.
    sig = path("ec.sig")
    bpath = path("ec.bundle")
    run(["sign-file", art, "--key", ec["id"], "--hash-algorithm", "SHA-384", "--out", sig,
         "--bundle", bpath, "--signature-format", "der"], env=env, expect=0)
    ec_pub = write("ec.pub.pem", ec["versions"][0]["public_key_pem"])
    v = subprocess.run([OPENSSL, "dgst", "-sha384", "-verify", ec_pub, "-signature", sig, art],
                       capture_output=True, text=True)
    check(v.returncode == 0, f"openssl verifies ECDSA P-384: {v.stdout}{v.stderr}")
    b = json.load(open(bpath))
    check(b.get("signature_format") == "DER" and b.get("hash_algorithm") == "SHA-384",
          f"ec bundle {b}")
    body = [r for r in mock.requests if r[1] == "/v1/sign"][-1][3]
    check(body.get("signature_format") == "DER", f"format sent canonically: {body}")
    run(["verify-file", art, "--bundle", bpath], expect=0)

    # Ed25519; online verification, valid and not.
    run(["sign-file", art, "--key", "release-ed", "--key-version", "1"], env=env, expect=0)
    body = [r for r in mock.requests if r[1] == "/v1/sign"][-1][3]
    check(body.get("key_version") == 1, f"key_version sent: {body}")
    bundle = art + ".sig.bundle.json"
    run(["verify-file", art, "--bundle", bundle], expect=0)
    run(["verify-file", art, "--bundle", bundle, "--online"], env=env, expect=0)
    body = [r for r in mock.requests if r[1] == "/v1/verify"][-1][3]
    check(body.get("key") == ed["id"] and body.get("key_version") == 1 and
          body.get("hash_algorithm") == "SHA-256", f"verify request body {body}")
    run(["verify-file", art, "--signature", art + ".sig", "--online", "--key", "release-ed"],
        env=env, expect=0)
    rc, out, err = run(["verify-file", art, "--signature", sig, "--online", "--key",
                        "release-ed"], env=env, expect=1)
    check("signature INVALID" in err, f"online invalid: {err!r}")
    # A tampered file fails on the bundle digest before asking the service.
    n = len(mock.requests)
    run(["verify-file", tampered, "--bundle", bundle, "--online"], env=env, expect=1)
    check(len(mock.requests) == n, "tampered file is refused locally")

    # Service errors: exit 2, the server's code and message on one line.
    rc, out, err = run(["sign-file", art, "--key", "no-such-key"], env=env, expect=2)
    check("NOT_FOUND" in err and "no such key" in err and "req-err-1" in err,
          f"not found: {err!r}")
    rc, out, err = run(["keys", "list"], env={"SIGNET_URL": url, "SIGNET_API_KEY": "wrong"},
                       expect=2)
    check("HTTP 401 UNAUTHENTICATED" in err, f"unauthenticated: {err!r}")
    rc, out, err = run(["sign-file", art, "--key", "release-rsa", "--hash-algorithm", "SHA3-256"],
                       env=env, expect=2)
    check("UNSUPPORTED_HASH_ALGORITHM" in err, f"unsupported hash: {err!r}")
    rc, out, err = run(["sign-file", art, "--key", "needs-approval", "--out", path("na.sig")],
                       env=env, expect=2)
    check("PENDING_APPROVAL" in err and "r-42" in err, f"202: {err!r}")
    check(not os.path.exists(path("na.sig")), "nothing written for a pending request")
    rc, out, err = run(["sign-file", art, "--key", "liar", "--out", path("liar.sig")],
                       env=env, expect=2)
    check("does not verify" in err, f"bad signature from service: {err!r}")
    check(not os.path.exists(path("liar.sig")), "a signature that does not verify is not written")
    # A signer that may not read the key object still gets the public key into the bundle.
    run(["sign-file", art, "--key", "secret-signer", "--out", path("ss.sig")], env=env, expect=0)
    b = json.load(open(path("ss.sig.bundle.json")))
    check(b.get("public_key_pem") and b.get("key_algorithm") == "EC-P256" and
          b.get("key_alias") is None, f"fallback to public-key endpoint: {b}")
    run(["verify-file", art, "--bundle", path("ss.sig.bundle.json")], expect=0)
    rc, out, err = run(["--url", url + "/v1/broken#", "keys", "list", "--api-key", API_KEY],
                       expect=2, what="non-JSON error")
    check("HTTP" in err, f"non-JSON error: {err!r}")

    # keys create / list / show / rotate / public-key.
    rc, out, err = run(["keys", "create", "--alias", "ci-key", "--algorithm", "ec-p256"],
                       env=env, expect=0)
    created = json.loads(out)
    check(created.get("alias") == "ci-key" and created.get("id"), f"created {out!r}")
    body = [r for r in mock.requests if r[0] == "POST" and r[1] == "/v1/keys"][-1][3]
    check(body == {"alias": "ci-key", "algorithm": "EC-P256"},
          f"create sends only what was given: {body}")
    run(["keys", "create", "--alias", "prod", "--algorithm", "RSA-2048", "--storage", "hsm",
         "--type", "test", "--status", "Offline"], env=env, expect=0)
    body = [r for r in mock.requests if r[0] == "POST" and r[1] == "/v1/keys"][-1][3]
    check(body == {"alias": "prod", "algorithm": "RSA-2048", "storage": "HSM", "type": "TEST",
                   "status": "OFFLINE"}, f"create body {body}")
    rc, out, err = run(["keys", "create", "--alias", "ci-key", "--algorithm", "EC-P256"],
                       env=env, expect=2)
    check("CONFLICT" in err, f"duplicate alias: {err!r}")
    rc, out, err = run(["keys", "list"], env=env, expect=0)
    check("ci-key" in out and "release-rsa" in out and out.startswith("ID"), f"list {out!r}")
    rc, out, err = run(["keys", "list", "--json"], env=env, expect=0)
    check(len(json.loads(out)["keys"]) == len(mock.keys), "list --json")
    rc, out, err = run(["keys", "show", "release-ec"], env=env, expect=0)
    check(json.loads(out)["id"] == ec["id"], "show by alias")
    rc, out, err = run(["keys", "show", "nope"], env=env, expect=2)
    check("NOT_FOUND" in err, f"show missing: {err!r}")
    rc, out, err = run(["keys", "rotate", "release-rsa"], env=env, expect=0)
    check(json.loads(out)["current_version"] == 2, f"rotate by alias {out!r}")
    rc, out, err = run(["keys", "public-key", "release-rsa"], env=env, expect=0)
    check(out == rsa["versions"][1]["public_key_pem"], "public-key: current version on stdout")
    run(["keys", "public-key", rsa["id"], "--version", "1", "--out", path("v1.pem")], env=env,
        expect=0)
    check(read("v1.pem").decode() == rsa["versions"][0]["public_key_pem"], "public-key --out v1")
    rc, out, err = run(["keys", "public-key", "release-rsa", "--version", "9"], env=env, expect=2)
    check("NOT_FOUND" in err, f"missing version: {err!r}")
    # After rotation, sign-file uses and records version 2.
    run(["sign-file", art, "--key", "release-rsa", "--out", path("v2.sig")], env=env, expect=0)
    check(json.load(open(path("v2.sig.bundle.json")))["key_version"] == 2, "bundle version 2")
    run(["verify-file", art, "--signature", path("v2.sig"), "--public-key", rsa_pub], expect=1,
        what="v2 signature against the v1 key")

    # --api-key on the command line works (and is not needed in the environment).
    run(["keys", "list", "--url", url, "--api-key", API_KEY], expect=0)
    srv.shutdown()

    # TLS: --cacert trusts a private CA; without it the connection is refused.
    ca_key, _ = genkey("ca", "P-256")
    ca = path("ca.crt")
    openssl("req", "-x509", "-new", "-key", ca_key, "-subj", "/CN=signet test CA", "-days", "2",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign", "-out", ca)

    def issue(name, ext):
        k, _ = genkey(name, "P-256")
        csr = path(name + ".csr")
        openssl("req", "-new", "-key", k, "-subj", "/CN=" + name, "-out", csr)
        crt = path(name + ".crt")
        write(name + ".ext", ext)
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                "-days", "2", "-extfile", path(name + ".ext"), "-out", crt)
        return crt, k

    srv_crt, srv_key = issue("localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    cli_crt, cli_key = issue("ci-client", "extendedKeyUsage=clientAuth\n")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(srv_crt, srv_key)
    srv, url = start_server(mock, tls)
    env = {"SIGNET_URL": url, "SIGNET_API_KEY": API_KEY}
    run(["keys", "list", "--cacert", ca], env=env, expect=0, what="TLS with --cacert")
    rc, out, err = run(["keys", "list"], env=env, expect=2, what="TLS without --cacert")
    check("cannot reach" in err, f"untrusted TLS: {err!r}")
    srv.shutdown()

    # mTLS: the client certificate alone authenticates.
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(srv_crt, srv_key)
    tls.verify_mode = ssl.CERT_REQUIRED
    tls.load_verify_locations(ca)
    srv, url = start_server(mock, tls)
    run(["keys", "show", "release-ec", "--url", url, "--cacert", ca, "--cert", cli_crt,
         "--cert-key", cli_key], expect=0, what="mTLS")
    rc, out, err = run(["keys", "show", "release-ec", "--url", url, "--cacert", ca,
                        "--api-key", API_KEY], expect=2, what="mTLS without a certificate")
    srv.shutdown()


def main():
    global SIGNET, OPENSSL, TMP
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    suite, SIGNET, OPENSSL = sys.argv[1:]
    TMP = tempfile.mkdtemp(prefix="signet-cli-test-")
    try:
        {"usage": suite_usage, "offline": suite_offline, "service": suite_service}[suite]()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"{suite}: {CHECKS} checks, {len(FAILURES)} failed", file=sys.stderr)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
