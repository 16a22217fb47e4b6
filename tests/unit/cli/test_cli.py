#!/usr/bin/env python3
"""Drive the real `signet` binary; check its exit statuses, messages and files.

usage:   test_cli.py SUITE SIGNET OPENSSL
suites:  usage    - argument errors exit 2 with one line on stderr; --help exits 0
         offline  - verify-file against signatures, certificate chains and RFC 3161
                    time stamps made by the openssl CLI
         service  - every command against a mock signetd (plain HTTP, TLS with
                    --cacert, mTLS) that signs with openssl and time-stamps with
                    `openssl ts`: sign-file (fast, queued, with approvals,
                    --no-wait/--request, --timestamp), requests, approvals,
                    policies, audit, keys, tsa

Signatures are always checked by the openssl CLI as well, never only by the
code under test.  Any failed check makes the script exit 1.
"""
import base64
import hashlib
import http.server
import json
import os
import re
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

# What `requests wait` and sign-file print on stderr while a request is pending.
PROGRESS_LINE = re.compile(r"^request \S+: [A-Z_]+(, | \(|$)")


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(args, env=None, expect=None, what=None, progress=False):
    """Run signet; return (rc, stdout, stderr).  With expect, check rc and the one-line rule.

    progress: the command may print progress lines ("request ID: STATUS, Ns") on
    stderr before its one-line message; only the lines after them count.
    """
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
        lines = p.stderr.splitlines()
        if progress:
            lines = [l for l in lines if not PROGRESS_LINE.match(l)]
        if expect != 0:
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


class OpensslTsa:
    """An RFC 3161 time-stamp authority made of `openssl ts -reply`: independent of signetd."""

    def __init__(self, name="tsa"):
        self.key = path(name + ".key")
        self.crt = path(name + ".crt")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", self.key, "-subj", "/CN=Test TSA " + name, "-days", "2",
                "-addext", "basicConstraints=critical,CA:FALSE",
                "-addext", "keyUsage=critical,digitalSignature",
                "-addext", "extendedKeyUsage=critical,timeStamping", "-out", self.crt)
        write(name + ".serial", "01\n")
        self.cnf = write(name + ".cnf", f"""[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = {path(name + ".serial")}
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")
        self.lock = threading.Lock()

    def pem(self):
        return open(self.crt).read()

    def reply(self, query, token_out=False):
        """DER TimeStampResp (or with token_out the bare token) for a DER query."""
        with self.lock:
            q = write(f"q-{uuid.uuid4()}.tsq", query)
            out = path(f"r-{uuid.uuid4()}.tsr")
            args = ["ts", "-reply", "-config", self.cnf, "-queryfile", q, "-signer", self.crt,
                    "-inkey", self.key, "-out", out]
            if token_out:
                args.append("-token_out")
            openssl(*args)
            return read(os.path.basename(out))

    def token_over(self, data):
        """A TimeStampToken stamping data (a signature value), as signetd adds one."""
        d = write(f"d-{uuid.uuid4()}", data)
        q = path(f"q-{uuid.uuid4()}.tsq")
        openssl("ts", "-query", "-data", d, "-sha256", "-cert", "-out", q)
        return self.reply(read(os.path.basename(q)), token_out=True)


def make_ca_chain(prefix, leaf_key):
    """Root and intermediate CA made by openssl; a code-signing leaf for leaf_key.
    Returns (root_pem_path, chain_pem_text leaf first, leaf_pem_text, int_pem_text)."""
    root_key, _ = genkey(prefix + "-root", "P-256")
    root = path(prefix + "-root.crt")
    openssl("req", "-x509", "-new", "-key", root_key, "-subj", f"/CN={prefix} Root CA",
            "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign", "-out", root)
    int_key, _ = genkey(prefix + "-int", "P-256")
    int_csr, inter = path(prefix + "-int.csr"), path(prefix + "-int.crt")
    openssl("req", "-new", "-key", int_key, "-subj", f"/CN={prefix} Intermediate CA",
            "-out", int_csr)
    write(prefix + "-ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n")
    openssl("x509", "-req", "-in", int_csr, "-CA", root, "-CAkey", root_key, "-CAcreateserial",
            "-days", "2", "-extfile", path(prefix + "-ca.ext"), "-out", inter)
    leaf_csr, leaf = path(prefix + "-leaf.csr"), path(prefix + "-leaf.crt")
    openssl("req", "-new", "-key", leaf_key, "-subj", f"/CN={prefix} Code Signing",
            "-out", leaf_csr)
    write(prefix + "-leaf.ext", "basicConstraints=critical,CA:FALSE\n"
          "keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n")
    openssl("x509", "-req", "-in", leaf_csr, "-CA", inter, "-CAkey", int_key, "-CAcreateserial",
            "-days", "2", "-extfile", path(prefix + "-leaf.ext"), "-out", leaf)
    leaf_pem, int_pem = open(leaf).read(), open(inter).read()
    return root, leaf_pem + int_pem, leaf_pem, int_pem


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
        (["sign-file", f, "--key", "k", "--policy", "a/b"], "give one of --key, --policy"),
        (["sign-file", f, "--policy", "noslash"], "--policy must be PROJECT/SLUG"),
        (["sign-file", f, "--policy", "a/b/c"], "--policy must be PROJECT/SLUG"),
        (["sign-file", f, "--key", "k", "--metadata", "[1]"], "--metadata must be a JSON object"),
        (["sign-file", f, "--key", "k", "--metadata", "{bad"], "--metadata must be a JSON object"),
        (["sign-file", f, "--key", "k", "--metadata", '{"a":1,"a":2}'], "--metadata"),
        (["sign-file", f, "--key", "k", "--pss-salt-length", "-1"], "--pss-salt-length"),
        (["sign-file", f, "--key", "k", "--pss-salt-length", "4097"], "--pss-salt-length"),
        (["sign-file", f, "--key", "k", "--wait-timeout", "soon"], "--wait-timeout"),
        (["sign-file", f, "--request", "r-1", "--timestamp"], "--request finishes"),
        (["sign-file", f, "--request", "r-1", "--no-wait"], "--request finishes"),
        (["verify-file", f, "--public-key", f, "--signature", f, "--ca", f], "pass --bundle"),
        (["verify-file", f, "--public-key", f, "--signature", f, "--tsa-cert", f],
         "pass --bundle"),
        (["verify-file", f, "--public-key", f, "--signature", f, "--pss-salt-length", "x"],
         "--pss-salt-length"),
        (["requests"], "missing command (list, show, wait)"),
        (["requests", "frob"], "unknown requests command 'frob'"),
        (["requests", "show"], "missing ID"),
        (["requests", "show", "a", "b"], "unexpected argument"),
        (["requests", "wait", "r-1", "--timeout", "-1"], "--timeout"),
        (["requests", "list", "--status", "DONE"], "--status must be one of"),
        (["requests", "list", "--limit", "0"], "--limit"),
        (["approvals"], "missing command (list, show, approve, reject)"),
        (["approvals", "approve"], "missing ID"),
        (["approvals", "reject", "r-1"], "a rejection needs --comment"),
        (["policies", "create", "--slug", "s", "--key", "k"], "missing --project"),
        (["policies", "create", "--project", "p", "--key", "k"], "missing --slug"),
        (["policies", "create", "--project", "p", "--slug", "s"], "missing --key"),
        (["policies", "create", "--project", "p", "--slug", "s", "--key", "k",
          "--approvals", "17"], "--approvals"),
        (["policies", "create", "--project", "p", "--slug", "s", "--key", "k",
          "--approval-timeout", "2592001"], "--approval-timeout"),
        (["policies", "create", "--project", "p", "--slug", "s", "--key", "k",
          "--approver-role", "approver", "--approver", "x"], "either --approver-role or"),
        (["policies", "create", "--project", "p", "--slug", "s", "--key", "k",
          "--approver-role", "boss"], "--approver-role must be one of"),
        (["policies", "create", "--project", "p", "--slug", "s", "--key", "k",
          "--allow-hash", "SHA-256,MD4"], "unknown hash algorithm 'MD4'"),
        (["policies", "create", "--project", "p", "--slug", "s", "--key", "k",
          "--allow-signature-algorithm", "DSA"], "unknown signature algorithm 'DSA'"),
        (["policies", "show"], "missing PROJECT/SLUG"),
        (["policies", "show", "noslash"], "PROJECT/SLUG"),
        (["audit"], "missing command (verify, export)"),
        (["audit", "verify", "--scope", "all"], "--scope must be tenant or service"),
        (["audit", "export", "--after", "-3"], "--after"),
        (["audit", "export", "extra"], "unexpected argument"),
        (["keys", "status", "k"], "missing KEY and STATUS"),
        (["keys", "status", "k", "PAUSED"], "STATUS must be one of ONLINE, OFFLINE, DISABLED"),
        (["keys", "destroy-version", "k", "0"], "positive integer"),
        (["keys", "csr", "k"], "missing --subject"),
        (["keys", "self-signed", "k", "--subject", "CN=x", "--days", "0"], "--days"),
        (["keys", "import-cert", "k", "--chain", f], "missing --version"),
        (["keys", "import-cert", "k", "--version", "1"], "missing --chain"),
        (["tsa"], "missing command (stamp, certificate)"),
        (["tsa", "stamp"], "missing FILE"),
        (["tsa", "stamp", f, "--hash", "MD4"], "unknown hash"),
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
                 ["keys", "public-key", "--help"], ["keys", "csr", "--help"],
                 ["keys", "import-cert", "-h"], ["requests", "--help"],
                 ["requests", "wait", "--help"], ["approvals", "help"],
                 ["approvals", "reject", "--help"], ["policies", "--help"],
                 ["policies", "create", "--help"], ["audit", "-h"],
                 ["audit", "export", "--help"], ["tsa", "--help"],
                 ["tsa", "stamp", "--help"]):
        rc, out, err = run(args, expect=0)
        check(out.startswith("usage: signet"), f"{args}: usage text, got {out!r}")
        check(err == "", f"{args}: stderr should be empty, got {err!r}")
    rc, out, err = run(["--version"], expect=0)
    check(out.startswith("signet "), f"--version: {out!r}")
    # sign-file's help documents every flag the e2e tests rely on.
    rc, out, err = run(["sign-file", "--help"], expect=0)
    for flag in ("--key", "--hash-algorithm", "--out", "--bundle", "--signature-algorithm",
                 "--signature-format", "--context", "--key-version", "--url", "--api-key",
                 "--cacert", "--cert", "--cert-key", "--policy", "--metadata", "--timestamp",
                 "--async", "--pss-salt-length", "--wait-timeout", "--no-wait", "--request"):
        check(flag in out, f"sign-file --help lacks {flag}")
    rc, out, err = run(["policies", "create", "--help"], expect=0)
    for flag in ("--project", "--slug", "--key", "--approvals", "--approver-role", "--approver",
                 "--allow-hash", "--allow-signature-algorithm", "--require-metadata",
                 "--no-fast", "--allow-legacy-hashes", "--timestamp", "--approval-timeout"):
        check(flag in out, f"policies create --help lacks {flag}")
    rc, out, err = run(["verify-file", "--help"], expect=0)
    for flag in ("--ca", "--tsa-cert", "--pss-salt-length"):
        check(flag in out, f"verify-file --help lacks {flag}")

    # The time-stamp authority is public: no API key is asked for.
    rc, out, err = run(["tsa", "certificate"], env={"SIGNET_URL": "http://127.0.0.1:9"},
                       expect=2)
    check("cannot reach" in err and "SIGNET_API_KEY" not in err, f"tsa without a key: {err!r}")

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
            check(out.startswith("signature valid\n"), f"{what}: stdout {out!r}")
        elif expect == 1:
            check(" INVALID: " in err, f"{what}: stderr {err!r}")
            check(out == "", f"{what}: nothing on stdout when invalid, got {out!r}")
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
    rc, out, err = run(["verify-file", art, "--bundle", cert_only])
    check(out == "signature valid\ncertificate: CN=signet test, 1 certificate, not checked "
          "against a trusted root\n", f"chain reported: {out!r}")

    # Certificate chains made by openssl: root -> intermediate -> leaf of the P-384 key.
    root, chain, leaf_pem, int_pem = make_ca_chain("acme", keys["p384"][0])
    other_root, _, _, _ = make_ca_chain("other", keys["p256b"][0])
    chained = bundle("chained.json", certificate_chain_pem=chain)
    rc, out, err = run(["verify-file", art, "--bundle", chained, "--ca", root], expect=0)
    check(out == "signature valid\ncertificate: CN=acme Code Signing, 2 certificates, "
          "verified to CN=acme Root CA\n", f"chain to root: {out!r}")
    verify([art, "--bundle", chained], 0, "chain without --ca")
    verify([art, "--bundle", chained, "--ca", other_root], 1, "chain to another root",
           want="certificate chain INVALID")
    verify([art, "--bundle", bundle("reversed.json", certificate_chain_pem=int_pem + leaf_pem)],
           1, "chain root first", want="does not carry the signing public key")
    verify([art, "--bundle", bundle("gap.json", certificate_chain_pem=leaf_pem +
                                    open(root).read())], 1, "chain with a gap",
           want="certificate 1 (CN=acme Code Signing) is not issued by certificate 2")
    # The leaf must carry the signing key: a P-256 leaf on a P-384 signature.
    _, other_chain, _, _ = make_ca_chain("wrongleaf", keys["p256b"][0])
    verify([art, "--bundle", bundle("wrongleaf.json", certificate_chain_pem=other_chain)], 1,
           "leaf of another key", want="does not carry the signing public key")
    verify([art, "--bundle", good, "--ca", root], 1, "--ca without a chain",
           want="no certificate chain")
    verify([art, "--bundle", chained, "--ca", path("nope.pem")], 2, "--ca unreadable")

    # RFC 3161 tokens made by `openssl ts` over the signature bytes (as signetd stamps).
    tsa = OpensslTsa("offline-tsa")
    token = tsa.token_over(sig384)
    stamped = bundle("stamped.json", timestamp_token=b64(token), tsa_certificate_pem=tsa.pem())
    rc, out, err = run(["verify-file", art, "--bundle", stamped], expect=0)
    check(out.startswith("signature valid\ntimestamp: ") and
          out.endswith(" by CN=Test TSA offline-tsa\n") and "Z by" in out,
          f"timestamp reported: {out!r}")
    verify([art, "--bundle", stamped, "--tsa-cert", tsa.crt], 0, "pinned TSA certificate")
    other_tsa = OpensslTsa("other-tsa")
    verify([art, "--bundle", stamped, "--tsa-cert", other_tsa.crt], 1, "another TSA",
           want="timestamp INVALID")
    # A token over other data (another signature) does not stamp this one.
    verify([art, "--bundle", bundle("otherdata.json", timestamp_token=b64(tsa.token_over(b"x")),
                                    tsa_certificate_pem=tsa.pem())], 1,
           "token over other data", want="stamps other data")
    bad = bytearray(token)
    bad[60] ^= 0x01   # inside the signed TSTInfo
    verify([art, "--bundle", bundle("badtoken.json", timestamp_token=b64(bytes(bad)),
                                    tsa_certificate_pem=tsa.pem())], 1, "tampered token")
    verify([art, "--bundle", bundle("junktoken.json", timestamp_token=b64(b"junk"),
                                    tsa_certificate_pem=tsa.pem())], 1, "junk token")
    verify([art, "--bundle", bundle("nocert.json", timestamp_token=b64(token))], 2,
           "token without a TSA certificate", want="--tsa-cert")
    verify([art, "--bundle", bundle("nocert2.json", timestamp_token=b64(token)),
            "--tsa-cert", tsa.crt], 0, "token, TSA certificate given")
    verify([art, "--bundle", good, "--tsa-cert", tsa.crt], 1, "--tsa-cert without a token",
           want="no time stamp")
    # Chain and time stamp together; the signature is checked first.
    both = bundle("both.json", certificate_chain_pem=chain, timestamp_token=b64(token),
                  tsa_certificate_pem=tsa.pem())
    rc, out, err = run(["verify-file", art, "--bundle", both, "--ca", root], expect=0)
    check(len(out.splitlines()) == 3, f"three verdicts: {out!r}")
    verify([tampered, "--bundle", both], 1, "tampered file with chain and token",
           want="signature INVALID")

    # RSA-PSS with a salt length other than the hash length, carried by the bundle.
    pss20 = path("rsa.pss20.sig")
    openssl("dgst", "-sha256", "-sign", keys["rsa"][0], "-sigopt", "rsa_padding_mode:pss",
            "-sigopt", "rsa_pss_saltlen:20", "-out", pss20, art)
    pss_bundle = bundle("pss.json", key_algorithm="RSA-2048", signature_format=None,
                        signature_algorithm="RSA-PSS", hash_algorithm="SHA-256",
                        digest=b64(hashlib.sha256(data).digest()), signature=b64(read("rsa.pss20.sig")),
                        public_key_pem=open(keys["rsa"][1]).read(), pss_salt_length=20)
    verify([art, "--bundle", pss_bundle], 0, "rsa-pss salt 20 from the bundle")
    verify([art, "--bundle", pss_bundle, "--pss-salt-length", "32"], 2, "salt contradicts bundle")
    verify([art, "--signature", pss20, "--public-key", keys["rsa"][1], "--signature-algorithm",
            "RSA-PSS"], 1, "rsa-pss salt 20 checked with the default salt")
    verify([art, "--signature", pss20, "--public-key", keys["rsa"][1], "--signature-algorithm",
            "RSA-PSS", "--pss-salt-length", "20"], 0, "rsa-pss --pss-salt-length 20")

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
KNOWN_POLICY = {"project", "slug", "key", "allowed_hash_algorithms",
                "allowed_signature_algorithms", "allow_fast", "approvals_required", "approvers",
                "approval_timeout_seconds", "required_metadata", "allow_legacy_hashes",
                "timestamp"}

HASHES = {"SHA-256": ("sha256", 32), "SHA-384": ("sha384", 48), "SHA-512": ("sha512", 64)}
DEFAULT_SCHEME = {"RSA-2048": "RSA-PKCS1", "EC-P256": "ECDSA", "EC-P384": "ECDSA",
                  "Ed25519": "Ed25519"}

# A second credential that, like a signer of signetd, may not read approvals.
SIGNER_ONLY_KEY = "sk-signer-only-0123456789"

# Signing policies the mock knows: key alias, the statuses a request goes through
# (one per GET /v1/requests/{id}), approvals required, and how it ends.
MOCK_POLICIES = {
    "myapp/release": ("release-ec", ["PENDING_APPROVAL", "PENDING_APPROVAL", "PENDING_APPROVAL",
                                     "QUEUED", "SIGNED"], 2, None),
    "myapp/reject": ("release-ec", ["PENDING_APPROVAL", "REJECTED"], 1, None),
    "myapp/forever": ("release-ec", ["PENDING_APPROVAL"], 1, None),
    "myapp/fail": ("release-ec", ["QUEUED", "PROCESSING", "FAILED"], 0,
                   "the key is not ONLINE"),
    "myapp/stamped": ("release-ec", ["SIGNED"], 0, None),
}
REJECT_COMMENT = "not on the\x1b[2J release branch"
SIGNED_AT = "2026-11-22T18:50:00.000Z"


class MockSignet:
    """Just enough of signetd's native API, signing with the openssl CLI."""

    def __init__(self):
        self.keys = {}          # id -> key object (versions carry "_key" paths)
        self.requests = []      # (method, path, headers, body)
        self.lock = threading.Lock()
        self.sreqs = {}         # signing request id -> state (see submit)
        self.policies = []
        self.audit = [{"seq": i, "ts": "2026-11-22T18:00:00.000Z", "actor": "p-admin",
                       "action": "key.created", "object": f"k-{i}", "details": {"n": i},
                       "prev_hash": "%064x" % (i - 1), "hash": "%064x" % i}
                      for i in range(1, 2346)]
        self.audit_broken = False
        self.tsa = None         # an OpensslTsa, for POST /tsa and timestamp: true
        self.tsa_replay = None  # a stale reply to send instead of a fresh one

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

    def sign(self, key, version, digest, hash_alg, scheme, salt=None):
        v = key["versions"][version - 1]
        dfile = path(f"svc-digest-{uuid.uuid4()}")
        with open(dfile, "wb") as f:
            f.write(digest)
        if key["algorithm"] == "Ed25519":
            return openssl("pkeyutl", "-sign", "-rawin", "-inkey", v["_key"], "-in", dfile)
        opts = ["-pkeyopt", "digest:" + HASHES[hash_alg][0]]
        if scheme == "RSA-PSS":
            opts += ["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt",
                     "rsa_pss_saltlen:" + (str(salt) if salt is not None else "digest")]
        return openssl("pkeyutl", "-sign", "-inkey", v["_key"], "-in", dfile, *opts)

    def signature_fields(self, key, version, body, digest):
        """The signature part of an answer: signature, format, time stamp."""
        scheme = body.get("signature_algorithm") or DEFAULT_SCHEME[key["algorithm"]]
        signed = digest if key["alias"] != "liar" else bytes(len(digest))
        sig = self.sign(key, version, signed, body["hash_algorithm"], scheme,
                        body.get("pss_salt_length"))
        out = {"signature_algorithm": scheme, "signature": b64(sig)}
        if key["algorithm"].startswith("EC"):
            out["signature_format"] = "DER"
        if body.get("timestamp") or body.get("policy") == "myapp/stamped":
            covered = sig if key["alias"] != "liar-ts" else b"something else"
            out["timestamp_token"] = b64(self.tsa.token_over(covered))
        return out

    def submit(self, key, body, script, required, error):
        """Store a request that a worker signs later; GET /v1/requests/{id} steps it."""
        rid = str(uuid.uuid4())
        fields = self.signature_fields(key, key["current_version"], body,
                                       base64.b64decode(body["digest"]))
        obj = {"id": rid, "status": script[0], "key_id": key["id"], "key_version": 0,
               "hash_algorithm": body["hash_algorithm"],
               "signature_algorithm": fields["signature_algorithm"],
               "metadata": body.get("metadata", {}), "submitted_by": "p-signer",
               "created_at": "2026-11-22T18:49:00.000Z",
               "updated_at": "2026-11-22T18:49:00.000Z", "attempts": 0,
               "digest": body["digest"]}
        if body.get("policy"):
            obj["policy"] = body["policy"]
        if required:
            obj["approvals_required"] = required
        self.sreqs[rid] = {"obj": obj, "script": script, "step": 0, "votes": [],
                           "fields": fields, "key": key, "error": error}
        return rid

    def request_view(self, rid, advance):
        """The request as it is now; with advance, the next look finds the next status."""
        st = self.sreqs[rid]
        obj = self.request_obj(rid)
        if advance and st["step"] < len(st["script"]) - 1:
            st["step"] += 1
        return obj

    def request_obj(self, rid):
        st = self.sreqs[rid]
        obj = dict(st["obj"])
        obj["status"] = st["script"][st["step"]]
        if obj["status"] == "SIGNED":
            obj.update({k: v for k, v in st["fields"].items() if k != "signature_algorithm"})
            obj["key_version"] = st["key"]["current_version"]
            obj["signature_id"] = "sig-" + rid
            obj["updated_at"] = "2026-11-22T18:50:01.000Z"
        if obj["status"] == "FAILED" and st["error"]:
            obj["error"] = st["error"]
        return obj

    def approval_view(self, rid):
        st = self.sreqs[rid]
        view = self.request_obj(rid)
        for k in ("signature", "signature_format", "timestamp_token"):
            view.pop(k, None)
        votes = list(st["votes"])
        if view["status"] == "PENDING_APPROVAL" and not votes:
            # Approvers trickle in as the request is polled.
            votes = [{"approver": f"p-approver-{i}", "decision": "APPROVED", "comment": "",
                      "created_at": "2026-11-22T18:49:30.000Z"} for i in range(st["step"])]
        if view["status"] == "REJECTED" and not votes:
            votes = [{"approver": "p-approver-2", "decision": "REJECTED",
                      "comment": REJECT_COMMENT, "created_at": "2026-11-22T18:49:40.000Z"}]
        view["votes"] = votes
        view["approvals"] = sum(1 for v in votes if v["decision"] == "APPROVED")
        view["approvals_required"] = st["obj"].get("approvals_required", 0)
        return view


def make_handler(mock):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send(self, status, obj=None, text=None, ctype="application/json", raw=None):
            if raw is not None:
                body = raw
            else:
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
            ctype = self.headers.get("Content-Type") or ""
            body = json.loads(raw) if raw and ctype.startswith("application/json") else None
            url = urllib.parse.urlparse(self.path)
            with mock.lock:
                mock.requests.append((method, self.path, dict(self.headers),
                                      body if body is not None else raw))
            parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
            query = urllib.parse.parse_qs(url.query)
            # The time-stamp authority is public, as in signetd.
            if parts == ["tsa"] and method == "POST":
                if ctype != "application/timestamp-query":
                    return self.error(415, "UNSUPPORTED_MEDIA_TYPE", "not a query")
                reply = mock.tsa_replay or mock.tsa.reply(raw)
                return self.send(200, raw=reply, ctype="application/timestamp-reply")
            if parts == ["tsa", "certificate"] and method == "GET":
                return self.send(200, text=mock.tsa.pem(), ctype="application/x-pem-file")
            auth = self.headers.get("Authorization")
            if auth not in ("Bearer " + API_KEY, "Bearer " + SIGNER_ONLY_KEY) and \
                    not getattr(self.connection, "getpeercert", lambda: None)():
                return self.error(401, "UNAUTHENTICATED", "missing or bad credentials")
            if parts[:2] == ["v1", "approvals"] and auth == "Bearer " + SIGNER_ONLY_KEY:
                return self.error(403, "PERMISSION_DENIED", "signers cannot read approvals")
            if parts == ["v1", "broken"]:
                return self.send(500, text="<html>oops</html>", ctype="text/html")
            # Like signetd, refuse fields the endpoint does not know.
            known = {("POST", "/v1/keys"): KNOWN_CREATE, ("POST", "/v1/sign"): KNOWN_SIGN,
                     ("POST", "/v1/verify"): KNOWN_VERIFY,
                     ("POST", "/v1/policies"): KNOWN_POLICY}.get((method, url.path))
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
                key = mock.find(parts[2], by_alias=(len(parts) == 3 and method == "GET"))
                if key is None:
                    return self.error(404, "NOT_FOUND", "no such key")
                if len(parts) == 3 and method == "GET":
                    if key["alias"] == "secret-signer":
                        return self.error(403, "PERMISSION_DENIED", "signer cannot read keys")
                    return self.send(200, mock.public(key))
                if len(parts) == 3 and method == "PATCH":
                    key["status"] = body["status"]
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
                if parts[3:] == ["csr"] and method == "POST":
                    n = body.get("version", key["current_version"])
                    subj = "/" + body["subject"].replace(",", "/")
                    csr = path(f"svc-{uuid.uuid4()}.csr")
                    openssl("req", "-new", "-key", key["versions"][n - 1]["_key"], "-subj", subj,
                            "-out", csr)
                    return self.send(200, {"key_id": key["id"], "version": n,
                                           "csr_pem": open(csr).read()})
                if len(parts) >= 5 and parts[3] == "versions":
                    n = int(parts[4])
                    if not 1 <= n <= len(key["versions"]):
                        return self.error(404, "NOT_FOUND", "no such version")
                    v = key["versions"][n - 1]
                    if parts[5:] == [] and method == "DELETE":
                        v["state"] = "DESTROYED"
                        return self.send(200, {x: y for x, y in v.items()
                                               if not x.startswith("_")})
                    if parts[5:] == ["self-signed"] and method == "POST":
                        if key["type"] != "TEST":
                            return self.error(409, "FAILED_PRECONDITION",
                                              "self-signed certificates are for TEST keys")
                        crt = path(f"svc-{uuid.uuid4()}.crt")
                        openssl("req", "-x509", "-new", "-key", v["_key"], "-subj",
                                "/" + body["subject"].replace(",", "/"), "-days",
                                str(body.get("days", 365)), "-out", crt)
                        v["certificate_chain_pem"] = open(crt).read()
                        return self.send(201, {"key_id": key["id"], "version": n,
                                               "certificate_pem": v["certificate_chain_pem"]})
                    if parts[5:] == ["certificate"] and method == "PUT":
                        if ctype.startswith("application/json") or \
                                b"-----BEGIN CERTIFICATE-----" not in raw:
                            return self.error(400, "INVALID_ARGUMENT", "no PEM certificate found")
                        v["certificate_chain_pem"] = raw.decode()
                        return self.send(200, {"key_id": key["id"], "version": n,
                                               "certificate_chain_pem": raw.decode()})
            if parts == ["v1", "sign"] and method == "POST":
                if ("key" in body) == ("policy" in body):
                    return self.error(400, "INVALID_ARGUMENT", "give exactly one of 'key' and 'policy'")
                script, required, error = None, 0, None
                if "policy" in body:
                    if body["policy"] not in MOCK_POLICIES:
                        return self.error(404, "NOT_FOUND", "no policy " + body["policy"])
                    alias, script, required, error = MOCK_POLICIES[body["policy"]]
                    key = mock.find(alias)
                    if script == ["SIGNED"]:
                        script = None
                else:
                    key = mock.find(body.get("key", ""))
                    if key is None:
                        return self.error(404, "NOT_FOUND", "no such key")
                    if key["alias"] == "needs-approval":
                        script, required = ["PENDING_APPROVAL", "SIGNED"], 1
                    elif body.get("async"):
                        script = ["QUEUED", "PROCESSING", "SIGNED"]
                h = body.get("hash_algorithm")
                if h not in HASHES:
                    return self.error(400, "UNSUPPORTED_HASH_ALGORITHM", f"{h} not allowed")
                digest = base64.b64decode(body["digest"])
                if len(digest) != HASHES[h][1]:
                    return self.error(400, "DIGEST_LENGTH_MISMATCH", "wrong length")
                if script is not None:
                    with mock.lock:
                        rid = mock.submit(key, body, script, required, error)
                    return self.send(202, {"request_id": rid, "status": script[0]})
                version = body.get("key_version", key["current_version"])
                resp = {"request_id": "r-1", "signature_id": "s-1", "status": "SIGNED",
                        "key_id": key["id"], "key_version": version,
                        "hash_algorithm": h, "created_at": "2026-11-22T18:47:38.123Z"}
                resp.update(mock.signature_fields(key, version, body, digest))
                return self.send(200, resp)
            if parts[:2] == ["v1", "requests"]:
                if len(parts) == 2 and method == "GET":
                    with mock.lock:
                        items = [mock.request_view(r, False) for r in mock.sreqs]
                    if "status" in query:
                        items = [i for i in items if i["status"] == query["status"][0]]
                    items = items[:int(query.get("limit", ["100"])[0])]
                    for i in items:
                        for k in ("signature", "signature_format", "timestamp_token"):
                            i.pop(k, None)
                    return self.send(200, {"requests": items})
                if len(parts) == 3 and method == "GET":
                    if parts[2] not in mock.sreqs:
                        return self.error(404, "NOT_FOUND", "no such request")
                    with mock.lock:
                        return self.send(200, mock.request_view(parts[2], True))
            if parts[:2] == ["v1", "signatures"] and len(parts) == 3 and method == "GET":
                return self.send(200, {"id": parts[2], "created_at": SIGNED_AT})
            if parts[:2] == ["v1", "approvals"]:
                if len(parts) == 2 and method == "GET":
                    with mock.lock:
                        views = [mock.approval_view(r) for r in mock.sreqs]
                    return self.send(200, {"approvals": [v for v in views
                                                         if v["status"] == "PENDING_APPROVAL"]})
                if len(parts) >= 3 and parts[2] not in mock.sreqs:
                    return self.error(404, "NOT_FOUND", "no such request")
                if len(parts) == 3 and method == "GET":
                    with mock.lock:
                        return self.send(200, mock.approval_view(parts[2]))
                if len(parts) == 4 and parts[3] in ("approve", "reject") and method == "POST":
                    st = mock.sreqs[parts[2]]
                    if parts[3] == "reject" and not (body or {}).get("comment"):
                        return self.error(400, "INVALID_ARGUMENT", "a rejection needs a 'comment'")
                    with mock.lock:
                        st["votes"].append({"approver": "p-admin",
                                            "decision": "APPROVED" if parts[3] == "approve"
                                            else "REJECTED",
                                            "comment": (body or {}).get("comment", ""),
                                            "created_at": "2026-11-22T18:49:50.000Z"})
                        if parts[3] == "reject":
                            st["script"], st["step"] = ["REJECTED"], 0
                        return self.send(200, mock.approval_view(parts[2]))
            if parts == ["v1", "policies"] and method == "POST":
                key = mock.find(body.get("key", ""))
                if key is None:
                    return self.error(404, "NOT_FOUND", "no key")
                pol = dict(body, id=str(uuid.uuid4()), key=key["id"],
                           created_at="2026-11-22T18:00:00.000Z")
                pol.setdefault("approvals_required", 0)
                pol.setdefault("allow_fast", pol["approvals_required"] == 0)
                pol.setdefault("timestamp", False)
                mock.policies.append(pol)
                return self.send(201, pol)
            if parts == ["v1", "policies"] and method == "GET":
                return self.send(200, {"policies": mock.policies})
            if parts[:2] == ["v1", "policies"] and len(parts) == 4 and method == "GET":
                for pol in mock.policies:
                    if [pol["project"], pol["slug"]] == parts[2:]:
                        return self.send(200, pol)
                return self.error(404, "NOT_FOUND", "no policy " + "/".join(parts[2:]))
            if parts == ["v1", "audit"] and method == "GET":
                after = int(query.get("after", ["0"])[0])
                limit = int(query.get("limit", ["100"])[0])
                if limit > 10000:
                    return self.error(400, "INVALID_ARGUMENT", "limit 1 to 10000")
                chain = mock.audit if query.get("scope") != ["service"] else mock.audit[:3]
                page = [e for e in chain if e["seq"] > after][:limit]
                out = {"entries": page}
                if page:
                    out["next_after"] = page[-1]["seq"]
                return self.send(200, out)
            if parts == ["v1", "audit", "verify"] and method == "GET":
                if mock.audit_broken:
                    return self.send(200, {"valid": False, "checked": 5, "first_bad_seq": 5,
                                           "reason": "entry 5 was modified"})
                return self.send(200, {"valid": True, "checked": len(mock.audit)})
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

        def do_PUT(self):
            self.handle_any("PUT")

        def do_DELETE(self):
            self.handle_any("DELETE")

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
    mock.tsa = OpensslTsa("svc-tsa")
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

    # ---- waiting for requests: approvals, queue, --no-wait / --request ----
    ec_pub = write("ec-rel.pub.pem", ec["versions"][0]["public_key_pem"])
    rel = path("rel.sig")
    rc, out, err = run(["sign-file", art, "--policy", "myapp/release", "--metadata",
                        '{"build": "7", "file": "renamed.tar.gz"}', "--out", rel],
                       env=env, expect=0, progress=True)
    check(f"signed {art} with key release-ec version 1" in out, f"policy sign: {out!r}")
    progress = [l for l in err.splitlines() if PROGRESS_LINE.match(l)]
    check(any("PENDING_APPROVAL, approvals 0/2" in l for l in progress) and
          any("approvals 2/2" in l for l in progress) and
          any(": SIGNED, " in l for l in progress),
          f"one progress line per change: {err!r}")
    check(len(progress) == len(set(l.rsplit(",", 1)[0] for l in progress)),
          f"no repeated progress lines off a terminal: {err!r}")
    body = [r for r in mock.requests if r[1] == "/v1/sign"][-1][3]
    check(body.get("policy") == "myapp/release" and "key" not in body and
          body.get("metadata") == {"build": "7", "file": "renamed.tar.gz"} and
          "async" not in body and "timestamp" not in body, f"policy sign body {body}")
    b = json.load(open(rel + ".bundle.json"))
    rid = b.get("request_id")
    check(b.get("policy") == "myapp/release" and rid in mock.sreqs and
          b.get("created_at") == SIGNED_AT and b.get("signature_id") == "sig-" + rid,
          f"bundle after waiting: {b}")
    v = subprocess.run([OPENSSL, "dgst", "-sha256", "-verify", ec_pub, "-signature", rel, art],
                       capture_output=True, text=True)
    check(v.returncode == 0, f"openssl verifies the waited-for signature: {v.stdout}{v.stderr}")
    run(["verify-file", art, "--bundle", rel + ".bundle.json"], expect=0)
    # Metadata defaults to the file name.
    run(["sign-file", art, "--policy", "myapp/release", "--out", path("rel2.sig")], env=env,
        expect=0, progress=True)
    body = [r for r in mock.requests if r[1] == "/v1/sign"][-1][3]
    check(body.get("metadata") == {"file": "artifact.tar.gz"}, f"default metadata {body}")

    # A signer who may not read votes still sees how many are needed.
    senv = {"SIGNET_URL": url, "SIGNET_API_KEY": SIGNER_ONLY_KEY}
    rc, out, err = run(["sign-file", art, "--key", "needs-approval", "--out", path("na.sig")],
                       env=senv, expect=0, progress=True)
    check("PENDING_APPROVAL, 1 approval required" in err, f"signer progress: {err!r}")
    check(os.path.exists(path("na.sig.bundle.json")), "files written once SIGNED")

    # --no-wait: the id on stdout, no files; --request finishes it later.
    nw = path("nowait.sig")
    rc, out, err = run(["sign-file", art, "--policy", "myapp/release", "--no-wait", "--out", nw],
                       env=env, expect=0)
    rid = out.strip()
    check(rid in mock.sreqs and out == rid + "\n" and err == "", f"--no-wait: {out!r} {err!r}")
    check(not os.path.exists(nw), "--no-wait writes nothing")
    rc, out, err = run(["sign-file", tampered, "--request", rid, "--out", nw], env=env,
                       expect=2, progress=True)
    check("not the same file" in err and not os.path.exists(nw), f"--request, other file: {err!r}")
    rc, out, err = run(["sign-file", art, "--request", rid, "--out", nw], env=env, expect=0,
                       progress=True)
    check(json.load(open(nw + ".bundle.json")).get("request_id") == rid, "--request bundle")
    run(["verify-file", art, "--bundle", nw + ".bundle.json"], expect=0)
    rc, out, err = run(["requests", "wait", rid], env=env, expect=0, progress=True)
    check(out == f"request {rid} SIGNED (signature sig-{rid})\n", f"requests wait: {out!r}")
    rc, out, err = run(["requests", "wait", rid, "--json"], env=env, expect=0, progress=True)
    check(json.loads(out).get("status") == "SIGNED", f"requests wait --json: {out!r}")

    # Rejected: exit 1, the rejecting vote's comment, made safe for the terminal.
    rc, out, err = run(["sign-file", art, "--policy", "myapp/reject", "--out", path("rj.sig")],
                       env=env, expect=1, progress=True)
    last = err.splitlines()[-1]
    check(last.endswith("is REJECTED: rejected by p-approver-2: not on the?[2J release branch"),
          f"rejection reason: {err!r}")
    check("\x1b" not in err and not os.path.exists(path("rj.sig")), "no escape, no files")
    rc, out, err = run(["sign-file", art, "--policy", "myapp/reject"], env=senv, expect=1,
                       progress=True)
    check("approvals show" in err.splitlines()[-1], f"rejection, votes unreadable: {err!r}")
    # Failed: exit 1 with the service's error.
    rc, out, err = run(["sign-file", art, "--policy", "myapp/fail", "--out", path("fl.sig")],
                       env=env, expect=1, progress=True)
    check(err.splitlines()[-1].endswith("is FAILED: the key is not ONLINE"), f"failed: {err!r}")
    # Never decided: the wait times out (exit 2) and says how to resume.
    rc, out, err = run(["sign-file", art, "--policy", "myapp/forever", "--wait-timeout", "1",
                        "--out", path("fv.sig")], env=env, expect=2, progress=True)
    check("timed out after 1s" in err and "--request " in err and
          not os.path.exists(path("fv.sig")), f"timeout: {err!r}")
    fid = [r for r, st in mock.sreqs.items() if st["script"] == ["PENDING_APPROVAL"]][-1]
    rc, out, err = run(["requests", "wait", fid, "--timeout", "1"], env=env, expect=2,
                       progress=True)
    check("timed out after 1s" in err and "still PENDING_APPROVAL" in err, f"wait timeout {err!r}")
    rc, out, err = run(["requests", "wait", "no-such-request"], env=env, expect=2)
    check("NOT_FOUND" in err, f"wait, unknown id: {err!r}")
    # Asynchronous: queued, then signed by a "worker".
    rc, out, err = run(["sign-file", art, "--key", "release-ed", "--async", "--out",
                        path("as.sig")], env=env, expect=0, progress=True)
    body = [r for r in mock.requests if r[1] == "/v1/sign"][-1][3]
    check(body.get("async") is True and "QUEUED" in err and "PROCESSING" in err,
          f"async: {body} {err!r}")
    run(["verify-file", art, "--bundle", path("as.sig.bundle.json")], expect=0)

    # requests list / show.
    rc, out, err = run(["requests", "list"], env=env, expect=0)
    check(out.startswith("ID") and rid in out and "myapp/release" in out, f"requests list {out!r}")
    rc, out, err = run(["requests", "list", "--status", "signed", "--limit", "5", "--json"],
                       env=env, expect=0)
    check(all(r["status"] == "SIGNED" for r in json.loads(out)["requests"]), "list --status")
    check([r for r in mock.requests if r[1].startswith("/v1/requests?")][-1][1] ==
          "/v1/requests?limit=5&status=SIGNED", "list query")
    rc, out, err = run(["requests", "show", rid], env=env, expect=0)
    check(json.loads(out).get("id") == rid, f"requests show {out!r}")

    # ---- approvals ----
    meta = '{"build": "9", "note": "\\u001b]0;owned\\u0007"}'
    pid = run(["sign-file", art, "--policy", "myapp/forever", "--metadata", meta, "--no-wait"],
              env=env, expect=0)[1].strip()
    rc, out, err = run(["approvals", "list"], env=env, expect=0)
    check(out.startswith("ID") and pid in out and "0/1" in out, f"approvals list {out!r}")
    rc, out, err = run(["approvals", "show", pid], env=env, expect=0)
    check("\x1b" not in out and "\x07" not in out and '"note":"\\u001B]0;owned\\u0007"' in out,
          f"metadata shown escaped: {out!r}")
    check(f"digest (hex)  {hashlib.sha256(data).hexdigest()}" in out and
          "policy        myapp/forever" in out and "submitted by  p-signer" in out,
          f"approvals show: {out!r}")
    rc, out, err = run(["approvals", "show", pid, "--json"], env=env, expect=0)
    check(json.loads(out).get("id") == pid, "approvals show --json")
    rc, out, err = run(["approvals", "approve", pid, "--comment", "lgtm"], env=env, expect=0)
    check(out == f"approved request {pid}: approvals 1/1, status PENDING_APPROVAL\n",
          f"approve: {out!r}")
    check([r for r in mock.requests if r[1].endswith("/approve")][-1][3] == {"comment": "lgtm"},
          "approve body")
    run(["approvals", "approve", pid], env=env, expect=0)
    check([r for r in mock.requests if r[1].endswith("/approve")][-1][3] == {},
          "approve without a comment sends none")
    rc, out, err = run(["approvals", "reject", pid, "--comment", "wrong branch"], env=env,
                       expect=0)
    check("rejected request" in out and "status REJECTED" in out, f"reject: {out!r}")
    rc, out, err = run(["approvals", "show", pid], env=env, expect=0)
    check('REJECTED  p-admin' in out and '"wrong branch"' in out, f"votes shown: {out!r}")
    rc, out, err = run(["approvals", "list"], env=senv, expect=2)
    check("PERMISSION_DENIED" in err, f"approvals as a signer: {err!r}")

    # ---- policies ----
    rc, out, err = run(["policies", "create", "--project", "myapp", "--slug", "rel", "--key",
                        "release-ec", "--approvals", "2", "--approver", "p-1", "--approver",
                        "p-2", "--allow-hash", "sha256,SHA384", "--allow-hash", "SHA-512",
                        "--allow-signature-algorithm", "ECDSA", "--require-metadata", "build",
                        "--require-metadata", "repo", "--no-fast", "--allow-legacy-hashes",
                        "--timestamp", "--approval-timeout", "3600"], env=env, expect=0)
    body = [r for r in mock.requests if r[:2] == ("POST", "/v1/policies")][-1][3]
    check(body == {"project": "myapp", "slug": "rel", "key": "release-ec",
                   "approvals_required": 2, "approval_timeout_seconds": 3600,
                   "allow_fast": False, "allow_legacy_hashes": True, "timestamp": True,
                   "approvers": {"principals": ["p-1", "p-2"]},
                   "allowed_hash_algorithms": ["SHA-256", "SHA-384", "SHA-512"],
                   "allowed_signature_algorithms": ["ECDSA"],
                   "required_metadata": ["build", "repo"]}, f"policy body {body}")
    check(json.loads(out).get("project") == "myapp", f"policy printed: {out!r}")
    run(["policies", "create", "--project", "myapp", "--slug", "test", "--key", "release-rsa",
         "--approver-role", "Auditor"], env=env, expect=0)
    body = [r for r in mock.requests if r[:2] == ("POST", "/v1/policies")][-1][3]
    check(body == {"project": "myapp", "slug": "test", "key": "release-rsa",
                   "approvers": {"role": "auditor"}}, f"minimal policy body {body}")
    rc, out, err = run(["policies", "list"], env=env, expect=0)
    check(out.startswith("POLICY") and "myapp/rel " in out and "myapp/test " in out,
          f"policies list {out!r}")
    rc, out, err = run(["policies", "show", "myapp/rel"], env=env, expect=0)
    check(json.loads(out).get("slug") == "rel", f"policies show {out!r}")
    rc, out, err = run(["policies", "show", "myapp/nope"], env=env, expect=2)
    check("no policy myapp/nope" in err, f"policies show missing {err!r}")

    # ---- audit ----
    rc, out, err = run(["audit", "verify"], env=env, expect=0)
    check(out == "audit log intact: 2345 entries\n", f"audit verify {out!r}")
    mock.audit_broken = True
    rc, out, err = run(["audit", "verify"], env=env, expect=1)
    check(err == "audit log BROKEN at entry 5: entry 5 was modified (5 entries checked)\n",
          f"audit broken {err!r}")
    mock.audit_broken = False
    n = len(mock.requests)
    rc, out, err = run(["audit", "export"], env=env, expect=0)
    lines = out.splitlines()
    check(len(lines) == 2345 and [json.loads(l)["seq"] for l in lines] == list(range(1, 2346)),
          "export: every entry once, in order, one JSON object per line")
    pages = [r[1] for r in mock.requests[n:] if r[1].startswith("/v1/audit")]
    check(pages == ["/v1/audit?after=0&limit=1000", "/v1/audit?after=1000&limit=1000",
                    "/v1/audit?after=2000&limit=1000", "/v1/audit?after=2345&limit=1000"],
          f"export pages {pages}")
    rc, out, err = run(["audit", "export", "--after", "2300", "--out", path("audit.jsonl")],
                       env=env, expect=0)
    exported = read("audit.jsonl").decode().splitlines()
    check(len(exported) == 45 and json.loads(exported[0])["seq"] == 2301 and
          "exported 45 audit entries" in out, f"export --after --out: {out!r}")
    rc, out, err = run(["audit", "export", "--scope", "service"], env=env, expect=0)
    check(len(out.splitlines()) == 3 and "scope=service" in mock.requests[-1][1],
          "export --scope service")

    # ---- keys: certificates, status, versions ----
    rc, out, err = run(["keys", "csr", "release-ec", "--subject", "CN=Acme Release,O=Acme"],
                       env=env, expect=0)
    csr = write("rel.csr", out)
    v = subprocess.run([OPENSSL, "req", "-verify", "-in", csr, "-noout", "-subject"],
                       capture_output=True, text=True)
    check(v.returncode == 0 and "Acme Release" in v.stdout, f"csr verifies: {v.stdout}{v.stderr}")
    check([r for r in mock.requests if r[1].endswith("/csr")][-1][3] ==
          {"subject": "CN=Acme Release,O=Acme"}, "csr body")
    run(["keys", "csr", "release-ec", "--subject", "CN=x", "--version", "1", "--out",
         path("v1.csr")], env=env, expect=0)
    check([r for r in mock.requests if r[1].endswith("/csr")][-1][3] ==
          {"subject": "CN=x", "version": 1} and read("v1.csr").startswith(b"-----BEGIN"),
          "csr --version --out")
    rc, out, err = run(["keys", "self-signed", "release-ed", "--subject", "CN=Test Signing",
                        "--days", "30", "--out", path("ss.crt")], env=env, expect=0)
    p = [r for r in mock.requests if r[1].endswith("/self-signed")][-1]
    check(p[1] == f"/v1/keys/{ed['id']}/versions/1/self-signed" and
          p[3] == {"subject": "CN=Test Signing", "days": 30}, f"self-signed request {p[:2]}")
    v = subprocess.run([OPENSSL, "x509", "-in", path("ss.crt"), "-noout", "-subject"],
                       capture_output=True, text=True)
    check(v.returncode == 0 and "Test Signing" in v.stdout, "self-signed certificate")
    prod = mock.add_key("prod-ec", "EC-P256", type_="PRODUCTION")
    rc, out, err = run(["keys", "self-signed", "prod-ec", "--subject", "CN=x"], env=env, expect=2)
    check("FAILED_PRECONDITION" in err, f"self-signed on PRODUCTION: {err!r}")
    # An issued chain: openssl CA signs the CSR; import it; sign-file carries it.
    root, chain, _, _ = make_ca_chain("svc", ec["versions"][0]["_key"])
    write("svc-chain.pem", chain)
    rc, out, err = run(["keys", "import-cert", "release-ec", "--version", "1", "--chain",
                        path("svc-chain.pem")], env=env, expect=0)
    put = [r for r in mock.requests if r[0] == "PUT"][-1]
    check(put[1] == f"/v1/keys/{ec['id']}/versions/1/certificate" and
          put[2].get("Content-Type") == "application/x-pem-file" and put[3] == chain.encode(),
          f"import-cert request {put[:2]}")
    check("attached a chain of 2 certificates to key release-ec version 1" in out, out)
    run(["keys", "import-cert", "release-ec", "--version", "1", "--chain", art], env=env,
        expect=2, what="import-cert of a non-PEM file")
    run(["sign-file", art, "--key", "release-ec", "--out", path("ch.sig")], env=env, expect=0)
    b = json.load(open(path("ch.sig.bundle.json")))
    check(b.get("certificate_chain_pem") == chain, "bundle carries the chain")
    rc, out, err = run(["verify-file", art, "--bundle", path("ch.sig.bundle.json"), "--ca", root],
                       expect=0)
    check("verified to CN=svc Root CA" in out, f"chain verified: {out!r}")
    rc, out, err = run(["keys", "status", "prod-ec", "disabled"], env=env, expect=0)
    check(json.loads(out)["status"] == "DISABLED" and
          [r for r in mock.requests if r[0] == "PATCH"][-1][3] == {"status": "DISABLED"},
          "keys status")
    rc, out, err = run(["keys", "destroy-version", "prod-ec", "1"], env=env, expect=0)
    check(json.loads(out)["state"] == "DESTROYED" and
          [r for r in mock.requests if r[0] == "DELETE"][-1][1] ==
          f"/v1/keys/{prod['id']}/versions/1", "keys destroy-version")
    run(["keys", "destroy-version", "prod-ec", "7"], env=env, expect=2, what="no version 7")

    # ---- time stamps (the mock's TSA is `openssl ts`) ----
    n = len(mock.requests)
    ts_sig = path("ts.sig")
    rc, out, err = run(["sign-file", art, "--key", "release-rsa", "--timestamp", "--out", ts_sig],
                       env=env, expect=0)
    check("(time-stamped 20" in out, f"sign --timestamp: {out!r}")
    check([r for r in mock.requests if r[1] == "/v1/sign"][-1][3].get("timestamp") is True,
          "timestamp requested")
    b = json.load(open(ts_sig + ".bundle.json"))
    check(b.get("timestamp_token") and b.get("tsa_certificate_pem") == mock.tsa.pem(),
          "bundle carries token and TSA certificate")
    certreqs = [r for r in mock.requests[n:] if r[1] == "/tsa/certificate"]
    check(certreqs and all("Authorization" not in r[2] for r in certreqs),
          "the TSA certificate is fetched without credentials")
    write("ts.token", base64.b64decode(b["timestamp_token"]))
    v = subprocess.run([OPENSSL, "ts", "-verify", "-data", ts_sig, "-in", path("ts.token"),
                        "-token_in", "-CAfile", mock.tsa.crt], capture_output=True, text=True)
    check(v.returncode == 0, f"openssl ts verifies the bundle's token: {v.stdout}{v.stderr}")
    rc, out, err = run(["verify-file", art, "--bundle", ts_sig + ".bundle.json"], expect=0)
    check("timestamp: " in out and "by CN=Test TSA svc-tsa" in out, f"verify timestamp {out!r}")
    run(["sign-file", art, "--policy", "myapp/stamped", "--out", path("st.sig")], env=env,
        expect=0)
    check(json.load(open(path("st.sig.bundle.json"))).get("timestamp_token"),
          "a policy's time stamp lands in the bundle")
    mock.add_key("liar-ts", "EC-P256")
    rc, out, err = run(["sign-file", art, "--key", "liar-ts", "--timestamp", "--out",
                        path("lt.sig")], env=env, expect=2)
    check("time stamp does not verify" in err and not os.path.exists(path("lt.sig")),
          f"a token over other data is refused: {err!r}")
    # RSA-PSS with a salt length of its own: sent, recorded, verified.
    run(["sign-file", art, "--key", "release-rsa", "--signature-algorithm", "RSA-PSS",
         "--pss-salt-length", "20", "--out", path("pss.sig")], env=env, expect=0)
    check([r for r in mock.requests if r[1] == "/v1/sign"][-1][3].get("pss_salt_length") == 20,
          "pss_salt_length sent")
    check(json.load(open(path("pss.sig.bundle.json"))).get("pss_salt_length") == 20,
          "pss_salt_length in the bundle")
    rsa_pub2 = write("rsa2.pub.pem", rsa["versions"][-1]["public_key_pem"])
    v = subprocess.run([OPENSSL, "dgst", "-sha256", "-verify", rsa_pub2, "-sigopt",
                        "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:20", "-signature",
                        path("pss.sig"), art], capture_output=True, text=True)
    check(v.returncode == 0, f"openssl verifies RSA-PSS salt 20: {v.stdout}{v.stderr}")
    run(["verify-file", art, "--bundle", path("pss.sig.bundle.json")], expect=0)

    # tsa stamp: a standard query, a checked reply, no credentials sent.
    n = len(mock.requests)
    rc, out, err = run(["tsa", "stamp", art, "--out", path("a.tsr")], env=env, expect=0)
    check(out.startswith(f"time-stamped {art} (SHA-256) at 20"), f"tsa stamp: {out!r}")
    post = [r for r in mock.requests[n:] if r[1] == "/tsa"][-1]
    check("Authorization" not in post[2] and
          post[2].get("Content-Type") == "application/timestamp-query", "POST /tsa headers")
    write("a.tsq", post[3])
    v = subprocess.run([OPENSSL, "ts", "-query", "-in", path("a.tsq"), "-text"],
                       capture_output=True, text=True)
    check("Certificate required: yes" in v.stdout and "Nonce: 0x" in v.stdout and
          hashlib.sha256(data).hexdigest()[:8] in v.stdout.replace(" ", "").replace("-", ""),
          f"the query: {v.stdout}")
    v = subprocess.run([OPENSSL, "ts", "-reply", "-in", path("a.tsr"), "-text"],
                       capture_output=True, text=True)
    check("Status: Granted." in v.stdout, f"reply written as DER: {v.stdout}")
    v = subprocess.run([OPENSSL, "ts", "-verify", "-in", path("a.tsr"), "-data", art,
                        "-CAfile", mock.tsa.crt], capture_output=True, text=True)
    check(v.returncode == 0, f"openssl ts -verify: {v.stdout}{v.stderr}")
    run(["tsa", "stamp", art, "--hash", "sha512"], env={"SIGNET_URL": url}, expect=0,
        what="tsa stamp without an API key, default --out")
    check(os.path.exists(art + ".tsr"), "tsa stamp writes FILE.tsr")
    # A reply for another query (a replay) is refused.
    mock.tsa_replay = read("a.tsr")
    rc, out, err = run(["tsa", "stamp", art, "--out", path("b.tsr")], env=env, expect=2)
    check("nonce" in err and not os.path.exists(path("b.tsr")), f"replayed reply: {err!r}")
    mock.tsa_replay = None
    rc, out, err = run(["tsa", "certificate"], env={"SIGNET_URL": url}, expect=0)
    check(out == mock.tsa.pem(), "tsa certificate")

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
