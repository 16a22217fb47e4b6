#!/usr/bin/env node
// mldsa-verify.mjs - an independent ML-DSA verifier for Signet's tests.
//
// OpenSSL 3.0 (Debian 12) knows no ML-DSA, so the tests check Signet's
// ML-DSA, HashML-DSA and composite signatures with this script, which uses
// @noble/post-quantum (pinned in package.json / package-lock.json beside it;
// the test command runs `npm ci` into the build tree, see CMakeLists.txt
// here) and
// Node's own crypto (OpenSSL) for hashes and the composite's ECDSA half.
// None of Signet's code is involved.
//
// Usage:
//   node mldsa-verify.mjs [options] PUBLIC-KEY MESSAGE SIGNATURE
//
//   PUBLIC-KEY  file: an SPKI in PEM or DER (ML-DSA-44/65/87 OIDs
//               2.16.840.1.101.3.4.3.17/18/19, composite 1.3.6.1.5.5.7.6.45),
//               or the raw public key (1312, 1952, 2592 bytes; composite 2017:
//               ML-DSA-65 key || uncompressed P-256 point).
//   MESSAGE     file: what was signed, as --mode says.
//   SIGNATURE   file: the raw signature (2420, 3309, 4627 bytes; composite:
//               the ML-DSA-65 signature || the DER ECDSA signature).
//
// Options:
//   --mode pure       (default) ML-DSA.Verify(pk, M, ctx) of FIPS 204, M = the
//                     MESSAGE bytes. Signet's pure ML-DSA signs the digest bytes
//                     the client sent, so MESSAGE is that digest.
//   --mode hash       HashML-DSA.Verify of FIPS 204 with --hash: MESSAGE is the
//                     digest PH(M) (or the message with --hash-message). noble's
//                     prehash API hashes the message itself and cannot take a
//                     digest, so this script builds
//                       M' = 0x01 || len(ctx) || ctx || OID(hash) || PH(M)
//                     itself and checks it with noble's ML-DSA.Verify_internal.
//   --mode composite  id-MLDSA65-ECDSA-P256-SHA512 of the IETF LAMPS draft
//                     (draft-ietf-lamps-pq-composite-sigs): MESSAGE is SHA-512(M)
//                     (or the message with --hash-message). With
//                       M' = "CompositeAlgorithmSignatures2025" || Label ||
//                            len(ctx) || ctx || SHA-512(M),
//                       Label = "COMPSIG-MLDSA65-ECDSA-P256-SHA512",
//                     the ML-DSA half must verify as pure ML-DSA-65 over M' with
//                     the Label as context, and the ECDSA half as P-256 ECDSA
//                     with SHA-256 over M'. Both halves must verify.
//   --hash NAME       for --mode hash: SHA-224, SHA-256, SHA-384, SHA-512,
//                     SHA-512/224, SHA-512/256, SHA3-224, SHA3-256, SHA3-384,
//                     SHA3-512, SHAKE-128 (32-byte output), SHAKE-256 (64-byte).
//                     "SHA2-256" and the like are accepted too.
//   --context-hex HEX / --context-file FILE
//                     the context ctx (default empty; at most 255 bytes).
//   --hash-message    MESSAGE is the message itself; hash it here.
//   --seed FILE       also require that the 32-byte seed (xi of FIPS 204
//                     KeyGen_internal; for the composite, the ML-DSA seed) derives
//                     exactly the ML-DSA public key given.
//   --alg NAME        ML-DSA-44, ML-DSA-65 or ML-DSA-87: the parameter set must be
//                     this one (optional; it is read from the key otherwise).
//
// Exit status: 0 valid; 1 invalid (a signature does not verify, or the seed
// derives another key); 2 usage error or unreadable input (a key or digest of
// the wrong length, an unknown OID, a missing file). One line on stderr says
// why when the status is not 0; "valid" goes to stdout when it is.
import { readFileSync } from 'node:fs';
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa';

const SETS = {
  'ML-DSA-44': { impl: ml_dsa44, pk: 1312, oid: '608648016503040311' },
  'ML-DSA-65': { impl: ml_dsa65, pk: 1952, oid: '608648016503040312' },
  'ML-DSA-87': { impl: ml_dsa87, pk: 2592, oid: '608648016503040313' },
};
const COMPOSITE = { name: 'MLDSA65-ECDSA-P256', pk: 2017, oid: '2b0601050507062d' };
const COMPOSITE_PREFIX = Buffer.from('CompositeAlgorithmSignatures2025', 'latin1');
const COMPOSITE_LABEL = Buffer.from('COMPSIG-MLDSA65-ECDSA-P256-SHA512', 'latin1');
const MLDSA65_SIG = 3309;
// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING { 0 unused bits, point } }
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

// FIPS 204 HashML-DSA: name -> [OID DER (arc 2.16.840.1.101.3.4.2.n), Node's name, output bytes]
const HASHES = {
  'SHA-256': ['0609608648016503040201', 'sha256', 32],
  'SHA-384': ['0609608648016503040202', 'sha384', 48],
  'SHA-512': ['0609608648016503040203', 'sha512', 64],
  'SHA-224': ['0609608648016503040204', 'sha224', 28],
  'SHA-512/224': ['0609608648016503040205', 'sha512-224', 28],
  'SHA-512/256': ['0609608648016503040206', 'sha512-256', 32],
  'SHA3-224': ['0609608648016503040207', 'sha3-224', 28],
  'SHA3-256': ['0609608648016503040208', 'sha3-256', 32],
  'SHA3-384': ['0609608648016503040209', 'sha3-384', 48],
  'SHA3-512': ['060960864801650304020a', 'sha3-512', 64],
  'SHAKE-128': ['060960864801650304020b', 'shake128', 32],
  'SHAKE-256': ['060960864801650304020c', 'shake256', 64],
};

class Usage extends Error {}
class Invalid extends Error {}

function usage(msg) {
  throw new Usage(msg);
}

function readFile(path, what) {
  try {
    return readFileSync(path);
  } catch (e) {
    return usage(`cannot read ${what} ${path}: ${e.code || e.message}`);
  }
}

function hashName(name) {
  const n = name.toUpperCase().replace(/^SHA2-/, 'SHA-');
  if (!HASHES[n]) usage(`unknown hash ${name}`);
  return n;
}

function digestOf(name, data) {
  const [, node, len] = HASHES[name];
  const opts = name.startsWith('SHAKE') ? { outputLength: len } : undefined;
  return createHash(node, opts).update(data).digest();
}

// Minimal DER: one TLV at off -> { tag, start (of contents), end }.
function tlv(buf, off) {
  if (off + 2 > buf.length) usage('truncated DER');
  const tag = buf[off];
  let len = buf[off + 1];
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3 || start + n > buf.length) usage('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i];
    start += n;
  }
  if (start + len > buf.length) usage('truncated DER');
  return { tag, start, end: start + len };
}

// SPKI -> { oid (hex of the OID's contents), key (the BIT STRING's bytes) }
function parseSpki(der) {
  const outer = tlv(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) usage('public key: not an SPKI');
  const alg = tlv(der, outer.start);
  if (alg.tag !== 0x30) usage('public key: no AlgorithmIdentifier');
  const oid = tlv(der, alg.start);
  if (oid.tag !== 0x06) usage('public key: no algorithm OID');
  if (oid.end !== alg.end) usage('public key: the algorithm has parameters (FIPS 204 keys have none)');
  const bits = tlv(der, alg.end);
  if (bits.tag !== 0x03 || bits.end !== outer.end || der[bits.start] !== 0) usage('public key: bad BIT STRING');
  return { oid: der.subarray(oid.start, oid.end).toString('hex'), key: der.subarray(bits.start + 1, bits.end) };
}

// -> { set: 'ML-DSA-65' | ... | 'MLDSA65-ECDSA-P256', key: raw bytes }
function loadPublicKey(buf) {
  const text = buf.toString('latin1');
  let der = null;
  const pem = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(text);
  if (pem) der = Buffer.from(pem[1].replace(/\s+/g, ''), 'base64');
  else if (text.startsWith('-----BEGIN')) usage('public key: a PEM that is not PUBLIC KEY');
  else if (buf[0] === 0x30 && ![1312, 1952, 2592, 2017].includes(buf.length)) der = buf;
  if (der) {
    const { oid, key } = parseSpki(der);
    for (const [name, s] of Object.entries(SETS)) {
      if (oid === s.oid) {
        if (key.length !== s.pk) usage(`public key: ${name} key of ${key.length} bytes`);
        return { set: name, key };
      }
    }
    if (oid === COMPOSITE.oid) {
      if (key.length !== COMPOSITE.pk) usage(`public key: composite key of ${key.length} bytes`);
      return { set: COMPOSITE.name, key };
    }
    return usage(`public key: unknown algorithm OID (hex ${oid})`);
  }
  for (const [name, s] of Object.entries(SETS)) if (buf.length === s.pk) return { set: name, key: buf };
  if (buf.length === COMPOSITE.pk) return { set: COMPOSITE.name, key: buf };
  return usage(`public key: ${buf.length} bytes is no ML-DSA or composite key`);
}

function parseArgs(argv) {
  const o = { mode: 'pure', hash: null, ctx: Buffer.alloc(0), hashMessage: false, seed: null, alg: null };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--mode') o.mode = val();
    else if (a === '--hash') o.hash = hashName(val());
    else if (a === '--context-hex') {
      const h = val();
      if (!/^([0-9a-fA-F]{2})*$/.test(h)) usage('--context-hex: not hex');
      o.ctx = Buffer.from(h, 'hex');
    } else if (a === '--context-file') o.ctx = readFile(val(), 'context');
    else if (a === '--hash-message') o.hashMessage = true;
    else if (a === '--seed') o.seed = readFile(val(), 'seed');
    else if (a === '--alg') o.alg = val();
    else if (a === '-h' || a === '--help') usage('see the header of this script');
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else pos.push(a);
  }
  if (pos.length !== 3) usage('usage: mldsa-verify.mjs [options] PUBLIC-KEY MESSAGE SIGNATURE');
  if (!['pure', 'hash', 'composite'].includes(o.mode)) usage(`unknown mode ${o.mode}`);
  if (o.mode === 'hash' && !o.hash) usage('--mode hash needs --hash');
  if (o.mode !== 'hash' && o.hash) usage('--hash belongs to --mode hash');
  if (o.mode === 'pure' && o.hashMessage) usage('--hash-message belongs to --mode hash or composite');
  if (o.ctx.length > 255) usage(`context of ${o.ctx.length} bytes (at most 255)`);
  if (o.seed && o.seed.length !== 32) usage(`seed of ${o.seed.length} bytes (want 32)`);
  if (o.alg && !SETS[o.alg]) usage(`unknown --alg ${o.alg}`);
  [o.pubFile, o.msgFile, o.sigFile] = pos;
  return o;
}

function checkSeed(impl, seed, pk) {
  const derived = impl.keygen(new Uint8Array(seed)).publicKey;
  if (Buffer.compare(Buffer.from(derived), pk) !== 0) throw new Invalid('the seed derives another public key');
}

function mldsaVerify(impl, pk, msg, sig, ctx, what) {
  let ok;
  try {
    ok = impl.verify(new Uint8Array(pk), new Uint8Array(msg), new Uint8Array(sig), new Uint8Array(ctx));
  } catch (e) {
    throw new Invalid(`${what}: ${e.message}`);
  }
  if (!ok) throw new Invalid(`${what} does not verify`);
}

function run(argv) {
  const o = parseArgs(argv);
  const { set, key } = loadPublicKey(readFile(o.pubFile, 'public key'));
  const msg = readFile(o.msgFile, 'message');
  const sig = readFile(o.sigFile, 'signature');

  if (o.mode === 'composite') {
    if (set !== COMPOSITE.name) usage(`--mode composite with an ${set} key`);
    if (o.alg && o.alg !== 'ML-DSA-65') usage(`--alg ${o.alg} with a composite key`);
    const ph = o.hashMessage ? digestOf('SHA-512', msg) : msg;
    if (ph.length !== 64) usage(`composite: SHA-512 digest of ${ph.length} bytes`);
    const mlPk = key.subarray(0, 1952);
    const point = key.subarray(1952);
    if (o.seed) checkSeed(ml_dsa65, o.seed, mlPk);
    const mprime = Buffer.concat([COMPOSITE_PREFIX, COMPOSITE_LABEL, Buffer.from([o.ctx.length]), o.ctx, ph]);
    if (sig.length <= MLDSA65_SIG) throw new Invalid(`composite signature of ${sig.length} bytes`);
    mldsaVerify(ml_dsa65, mlPk, mprime, sig.subarray(0, MLDSA65_SIG), COMPOSITE_LABEL, 'the ML-DSA-65 half');
    let ecKey;
    try {
      ecKey = createPublicKey({ key: Buffer.concat([P256_SPKI_PREFIX, point]), format: 'der', type: 'spki' });
    } catch (e) {
      usage(`composite: the P-256 point is not a key: ${e.message}`);
    }
    let ok = false;
    try {
      ok = nodeVerify('sha256', mprime, { key: ecKey, dsaEncoding: 'der' }, sig.subarray(MLDSA65_SIG));
    } catch (e) {
      ok = false;
    }
    if (!ok) throw new Invalid('the ECDSA P-256 half does not verify');
    return;
  }

  if (!SETS[set]) usage(`--mode ${o.mode} with a composite key`);
  if (o.alg && o.alg !== set) usage(`--alg ${o.alg} but the key is ${set}`);
  const impl = SETS[set].impl;
  if (o.seed) checkSeed(impl, o.seed, key);
  if (o.mode === 'pure') {
    mldsaVerify(impl, key, msg, sig, o.ctx, `${set} signature`);
    return;
  }
  const ph = o.hashMessage ? digestOf(o.hash, msg) : msg;
  const [oidHex, , len] = HASHES[o.hash];
  if (ph.length !== len) usage(`${o.hash} digest of ${ph.length} bytes (want ${len})`);
  const mprime = Buffer.concat([Buffer.from([1, o.ctx.length]), o.ctx, Buffer.from(oidHex, 'hex'), ph]);
  let ok;
  try {
    ok = impl.internal.verify(new Uint8Array(key), new Uint8Array(mprime), new Uint8Array(sig));
  } catch (e) {
    throw new Invalid(`HashML-DSA ${set} signature: ${e.message}`);
  }
  if (!ok) throw new Invalid(`HashML-DSA ${set} (${o.hash}) signature does not verify`);
}

try {
  run(process.argv.slice(2));
  process.stdout.write('valid\n');
  process.exitCode = 0;
} catch (e) {
  if (e instanceof Invalid) {
    process.stderr.write(`mldsa-verify: invalid: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`mldsa-verify: ${e instanceof Usage ? '' : 'error: '}${e.message}\n`);
    process.exitCode = 2;
  }
}
