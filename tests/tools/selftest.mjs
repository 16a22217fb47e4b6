#!/usr/bin/env node
// selftest.mjs - checks mldsa-verify.mjs itself before other tests trust it.
//
// Usage: node selftest.mjs VECTORS_DIR
// Runs the verifier's command line (not its functions) on known answers:
//   - NIST ACVP ML-DSA-65 sigVer, external groups: every pure case (--mode
//     pure) and every HashML-DSA case, once with the message (--hash-message)
//     and once with the digest computed here (--mode hash); each must give
//     exactly the verdict NIST expects (valid cases exit 0, modified ones 1);
//   - the LAMPS composite vector: `s` (empty ctx) and `sWithContext` verify,
//     each with one bit flipped in either half does not, and the key's seed
//     matches (--seed) while another seed does not;
//   - usage errors (no arguments, a digest of the wrong length) exit 2.
// Prints "mldsa_verify_selftest: N passed, M failed" and exits 1 on any failure.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, 'mldsa-verify.mjs');
const vectors = process.argv[2];
if (!vectors) {
  process.stderr.write('usage: selftest.mjs VECTORS_DIR\n');
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), 'mldsa-selftest-'));
let passed = 0;
let failed = 0;

function file(name, data) {
  const p = join(tmp, name);
  writeFileSync(p, data);
  return p;
}

function expect(want, what, args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  if (r.status === want) {
    passed++;
  } else {
    failed++;
    process.stdout.write(`FAIL ${what}: exit ${r.status}, want ${want}: ${(r.stderr || '').trim()}\n`);
  }
}

const NODE_HASH = {
  'SHA2-224': ['sha224'], 'SHA2-256': ['sha256'], 'SHA2-384': ['sha384'], 'SHA2-512': ['sha512'],
  'SHA2-512/224': ['sha512-224'], 'SHA2-512/256': ['sha512-256'],
  'SHA3-224': ['sha3-224'], 'SHA3-256': ['sha3-256'], 'SHA3-384': ['sha3-384'], 'SHA3-512': ['sha3-512'],
  'SHAKE-128': ['shake128', { outputLength: 32 }], 'SHAKE-256': ['shake256', { outputLength: 64 }],
};

function acvp() {
  const dir = join(vectors, 'acvp', 'ML-DSA-sigVer-FIPS204');
  const prompt = JSON.parse(readFileSync(join(dir, 'prompt.json'), 'utf8'));
  const results = JSON.parse(readFileSync(join(dir, 'expectedResults.json'), 'utf8'));
  const verdict = new Map();
  for (const g of results.testGroups) for (const t of g.tests) verdict.set(t.tcId, t.testPassed);
  let pure = 0;
  let hashed = 0;
  for (const g of prompt.testGroups) {
    if (g.signatureInterface !== 'external') continue;
    for (const t of g.tests) {
      const want = verdict.get(t.tcId) ? 0 : 1;
      const pk = file('pk.bin', Buffer.from(t.pk, 'hex'));
      const sig = file('sig.bin', Buffer.from(t.signature, 'hex'));
      const msg = Buffer.from(t.message, 'hex');
      const ctx = ['--context-hex', t.context || ''];
      const what = `sigVer tcId ${t.tcId}`;
      if (g.preHash === 'pure') {
        expect(want, what, ['--mode', 'pure', ...ctx, pk, file('msg.bin', msg), sig]);
        pure++;
      } else {
        const [name, opts] = NODE_HASH[t.hashAlg];
        const ph = createHash(name, opts).update(msg).digest();
        expect(want, `${what} (${t.hashAlg}, message)`,
          ['--mode', 'hash', '--hash', t.hashAlg, '--hash-message', ...ctx, pk, file('msg.bin', msg), sig]);
        expect(want, `${what} (${t.hashAlg}, digest)`,
          ['--mode', 'hash', '--hash', t.hashAlg, ...ctx, pk, file('ph.bin', ph), sig]);
        hashed++;
      }
    }
  }
  if (pure < 15 || hashed < 15) {
    failed++;
    process.stdout.write(`FAIL only ${pure} pure and ${hashed} HashML-DSA sigVer cases found\n`);
  }
}

function composite() {
  const v = JSON.parse(readFileSync(join(vectors, 'composite', 'MLDSA65-ECDSA-P256-SHA512.json'), 'utf8'));
  const t = v.tests[0];
  const pk = file('cpk.bin', Buffer.from(t.pk, 'base64'));
  const m = Buffer.from(v.m, 'base64');
  const msg = file('cm.bin', m);
  const ph = file('cph.bin', createHash('sha512').update(m).digest());
  const ctxHex = Buffer.from(v.ctx, 'base64').toString('hex');
  const seed = file('seed.bin', Buffer.from(t.sk, 'base64').subarray(0, 32));
  const other = file('other.bin', Buffer.alloc(32, 7));
  for (const [name, ctx] of [['s', ''], ['sWithContext', ctxHex]]) {
    const raw = Buffer.from(t[name], 'base64');
    const sig = file('csig.bin', raw);
    const base = ['--mode', 'composite', '--context-hex', ctx];
    expect(0, `composite ${name}`, [...base, '--hash-message', pk, msg, sig]);
    expect(0, `composite ${name} (digest, seed)`, [...base, '--seed', seed, pk, ph, sig]);
    expect(1, `composite ${name} with another seed`, [...base, '--seed', other, pk, ph, sig]);
    expect(1, `composite ${name} with another context`,
      ['--mode', 'composite', '--context-hex', ctx ? '' : '00', pk, ph, sig]);
    for (const at of [1000, raw.length - 3]) {
      const bad = Buffer.from(raw);
      bad[at] ^= 0x01;
      expect(1, `composite ${name} with byte ${at} flipped`, [...base, pk, ph, file('cbad.bin', bad)]);
    }
  }
  expect(2, 'usage: no arguments', []);
  expect(2, 'composite digest of 32 bytes', ['--mode', 'composite', pk, file('short.bin', Buffer.alloc(32)),
    file('csig.bin', Buffer.from(t.s, 'base64'))]);
}

try {
  acvp();
  composite();
} catch (e) {
  failed++;
  process.stdout.write(`FAIL ${e.message}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.stdout.write(`mldsa_verify_selftest: ${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
