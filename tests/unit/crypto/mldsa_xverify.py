"""Independent ML-DSA check for test_crypto, with pyca/cryptography.

Run as `mldsa_xverify.py SET` (44, 65 or 87) in the test's scratch
directory, which holds pub.pem (Signet's SPKI PEM), seed.bin (Signet's
custody export), digest.bin (the message of pure ML-DSA), ctx.bin, sig.bin
(Signet's signature) and sig_flip.bin (the same with one bit flipped).
Exit 0 when everything is as it should be; 10 + n when check n is not:
  1. pub.pem holds an ML-DSA-SET public key
  2. the key derived from seed.bin is the one in pub.pem
  3. sig.bin verifies over digest.bin with context ctx.bin
  4. sig_flip.bin does not
  5. sig.bin does not verify with an empty context
Exit 2 when the check itself could not run.
"""
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import mldsa
except Exception:
    sys.exit(2)

PRIV = {"44": mldsa.MLDSA44PrivateKey, "65": mldsa.MLDSA65PrivateKey,
        "87": mldsa.MLDSA87PrivateKey}
PUB = {"44": mldsa.MLDSA44PublicKey, "65": mldsa.MLDSA65PublicKey,
       "87": mldsa.MLDSA87PublicKey}


def read(name):
    with open(name, "rb") as f:
        return f.read()


def verifies(pub, sig, msg, ctx):
    try:
        pub.verify(sig, msg, ctx if ctx else None)
    except InvalidSignature:
        return False
    return True


def main():
    pset = sys.argv[1]
    pub = serialization.load_pem_public_key(read("pub.pem"))
    if not isinstance(pub, PUB[pset]):
        return 11
    derived = PRIV[pset].from_seed_bytes(read("seed.bin")).public_key()
    if derived.public_bytes_raw() != pub.public_bytes_raw():
        return 12
    msg, ctx = read("digest.bin"), read("ctx.bin")
    if not verifies(pub, read("sig.bin"), msg, ctx):
        return 13
    if verifies(pub, read("sig_flip.bin"), msg, ctx):
        return 14
    if verifies(pub, read("sig.bin"), msg, b""):
        return 15
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except Exception:
        sys.exit(2)
