// portal_browser.mjs - drives Debian's chromium through signetd's approvers'
// portal with playwright-core, as four people would: two approvers of
// tenant A, the submitter of a request who also holds the approver role,
// and an approver of tenant B.  e2e_portal.sh sets up the server, the
// principals and the requests, passes them in a JSON file (PORTAL_CONFIG),
// and afterwards checks through the API and openssl what the clicks did.
//
// Output: one "ok   - ..." or "FAIL - ..." line per check, then
// "browser: N passed, M failed"; the exit status is 1 when anything failed.
// Every request the browser makes goes through a route that aborts (and
// reports) anything not addressed to signetd's own origin.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const cfg = JSON.parse(fs.readFileSync(process.env.PORTAL_CONFIG, 'utf8'));
const base = cfg.base_url;
const portal = base + '/portal/';
const shots = process.env.PORTAL_SHOTS || '';
const secrets = [cfg.appr1, cfg.appr2, cfg.self, cfg.b_appr, cfg.signer];
let passed = 0;
let failed = 0;

function ok(desc) { passed++; console.log('ok   - ' + desc); }
function fail(desc, detail) {
  failed++;
  console.log('FAIL - ' + desc);
  if (detail) console.log('       ' + String(detail).slice(0, 2000));
}
function check(cond, desc, detail) { if (cond) ok(desc); else fail(desc, detail); }
async function expectTrue(desc, fn, timeout = 10000) {
  const t0 = Date.now();
  let last;
  for (;;) {
    try {
      if (await fn()) { ok(desc); return true; }
    } catch (e) { last = e; }
    if (Date.now() - t0 > timeout) { fail(desc, last ? last.message : 'condition not met within ' + timeout + ' ms'); return false; }
    await new Promise((r) => setTimeout(r, 100));
  }
}
async function shot(page, name) {
  if (shots) await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
}

const offsite = [];
const requested = [];
const consoleLines = [];
const pageErrors = [];
let posts = 0;

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  headless: true,
  chromiumSandbox: process.getuid() !== 0,
});

async function newUser(label) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.origin !== base) {
      offsite.push(u.href);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  page.on('request', (r) => {
    requested.push(r.url());
    if (r.method() === 'POST') posts++;
  });
  page.on('console', (m) => consoleLines.push(label + ' ' + m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => pageErrors.push(label + ': ' + e.message));
  return { context, page };
}

const apiKeyField = (page) => page.getByLabel('API key', { exact: true });
const alert = (page) => page.getByRole('alert');
const errorText = async (page) => ((await page.locator('#error').textContent()) || '').trim();

async function signIn(page, key, how) {
  await apiKeyField(page).fill(key);
  if (how === 'enter') await apiKeyField(page).press('Enter');
  else await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function openRequest(page, id, how) {
  const link = page.getByRole('link', { name: id, exact: true });
  if (how === 'keyboard') {
    await link.focus();
    await page.keyboard.press('Enter');
  } else {
    await link.click();
  }
  await page.locator('#d-id').filter({ hasText: id }).waitFor({ timeout: 10000 });
  await page.locator('#d-fields dd').first().waitFor();
}

const text = (page, sel) => page.locator(sel).innerText();

try {
  // ---- approver 1: bad key, sign in with Enter, the list, the detail, reject without comment, approve
  const a1 = await newUser('approver-1');
  const first = await a1.page.goto(portal);
  const csp = first.headers()['content-security-policy'] || '';
  check(first.status() === 200, 'GET /portal/ answers 200', first.status());
  const scriptSrc = (csp.match(/script-src ([^;]*)/) || [])[1] || '';
  check(scriptSrc.trim() === "'self'", "the portal's CSP allows scripts from 'self' only", csp);
  check(!/unsafe-inline|unsafe-eval/.test(csp) && /default-src 'none'/.test(csp),
    "the CSP has default-src 'none' and no unsafe-inline or unsafe-eval", csp);
  const js = await a1.context.request.get(portal + 'portal.js');
  check(js.status() === 200 && (js.headers()['content-security-policy'] || '') === csp,
    'portal.js is served from the binary with the same CSP', js.status());
  await shot(a1.page, '01-signin');

  await signIn(a1.page, 'sg_this_is_not_a_key_0000000000000000', 'click');
  await expectTrue('a bad API key shows an error on the page (role=alert)',
    async () => /not accepted/.test(await alert(a1.page).innerText()));
  check(await apiKeyField(a1.page).isVisible(), 'after a bad key the sign-in form stays');
  await shot(a1.page, '02-bad-key');

  await signIn(a1.page, cfg.appr1, 'enter');
  await a1.page.getByRole('heading', { name: 'Pending approvals' }).waitFor({ timeout: 10000 });
  ok('approver-1 signs in by pressing Enter in the API key field');
  check((await errorText(a1.page)) === '', 'the sign-in error is gone after signing in');
  for (const id of [cfg.r1, cfg.r2, cfg.r3])
    await expectTrue('the pending list shows request ' + id + ' by its full id',
      () => a1.page.getByRole('link', { name: id, exact: true }).isVisible());
  const row1 = a1.page.locator('#pending-rows tr').filter({ hasText: cfg.r1 });
  const row1Text = await row1.innerText();
  check(row1Text.includes('release-42') && row1Text.includes('pipeline') && row1Text.includes('9f3c2e1'),
    'the row of request 1 shows its metadata (pipeline release-42, commit 9f3c2e1)', row1Text);
  check(row1Text.includes('app/release') && row1Text.includes('SHA-256') && row1Text.includes('0 of 2') &&
    row1Text.includes(cfg.submitter_id), 'the row shows the policy, the hash, the submitter and 0 of 2 votes', row1Text);
  await shot(a1.page, '03-list');

  await openRequest(a1.page, cfg.r1, 'keyboard');
  ok('the request id link opens with the keyboard (focus, Enter)');
  check(a1.page.url().includes('#request/' + cfg.r1), 'the detail view has its own address (#request/<id>)', a1.page.url());
  const fields = await text(a1.page, '#d-fields');
  check(fields.includes('app/release'), 'the detail shows the policy project/slug', fields);
  check(fields.includes(cfg.key_alias), 'the detail shows the key alias', fields);
  check(fields.includes('SHA-256'), 'the detail shows the hash algorithm', fields);
  check(fields.includes(cfg.r1_digest), 'the detail shows the digest (base64)', fields);
  check(fields.includes(cfg.submitter_id), "the detail shows the submitter's id", fields);
  const meta = await text(a1.page, '#d-meta');
  check(meta.includes('release-42') && meta.includes('9f3c2e1'), 'the detail shows the metadata values', meta);
  check((await text(a1.page, '#d-votes-summary')).includes('0 of 2'), 'the detail shows the votes so far: 0 of 2');
  await shot(a1.page, '04-detail');

  const postsBefore = posts;
  const reject = a1.page.getByRole('button', { name: 'Reject', exact: true });
  check(await reject.isEnabled(), 'Reject is clickable with an empty Comment');
  await reject.click();
  await expectTrue('Reject with an empty Comment shows an error',
    async () => /needs a comment/.test(await alert(a1.page).innerText()));
  await a1.page.waitForTimeout(300);
  check(posts === postsBefore, 'Reject with an empty Comment sends nothing', (posts - postsBefore) + ' POSTs');
  await shot(a1.page, '05-reject-empty');

  await a1.page.getByLabel('Comment', { exact: true }).fill('checked build 42');
  await a1.page.getByRole('button', { name: 'Approve', exact: true }).click();
  await expectTrue('approver-1 approves: the page says 1 of 2',
    async () => /Approved\. 1 of 2/.test(await a1.page.getByRole('status').innerText()));
  check((await errorText(a1.page)) === '', 'no error after approving');
  check((await text(a1.page, '#d-votes')).includes(cfg.appr1_id), "the vote list names approver-1's id");
  await shot(a1.page, '06-approved');

  const ls = await a1.page.evaluate(() => localStorage.length);
  check(ls === 0, 'nothing in localStorage', ls);
  const cookies = await a1.context.cookies();
  check(cookies.length === 0, 'no cookies', JSON.stringify(cookies));
  await a1.page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expectTrue('Sign out returns to the sign-in form', () => apiKeyField(a1.page).isVisible());
  check(/Signed out/.test(await a1.page.getByRole('status').innerText()), 'the page says it signed out');
  check(!a1.page.url().includes('#request/'), 'the request address is dropped at sign-out', a1.page.url());
  const left = await a1.page.evaluate(() => JSON.stringify(sessionStorage));
  check(!left.includes(cfg.appr1), 'after sign-out the key is not in sessionStorage either', left.length);
  await a1.context.close();

  // ---- approver 2: the second approval, then a rejection with a comment, then the history
  const a2 = await newUser('approver-2');
  await a2.page.goto(portal);
  await signIn(a2.page, cfg.appr2, 'click');
  await a2.page.getByRole('heading', { name: 'Pending approvals' }).waitFor({ timeout: 10000 });
  ok('approver-2 signs in with the Sign in button');
  await openRequest(a2.page, cfg.r1, 'click');
  check((await text(a2.page, '#d-votes-summary')).includes('1 of 2'), 'approver-2 sees 1 of 2 on request 1');
  check((await text(a2.page, '#d-votes')).includes('checked build 42'), "approver-2 sees approver-1's comment");
  await a2.page.getByRole('button', { name: 'Approve', exact: true }).click();
  await expectTrue('approver-2 approves: 2 of 2, the request is queued for signing',
    async () => /Approved\. 2 of 2 approvals; the request is now (QUEUED|PROCESSING|SIGNED)/.test(
      await a2.page.getByRole('status').innerText()));
  await expectTrue('once decided, Approve and Reject are no longer offered',
    async () => !(await a2.page.getByRole('button', { name: 'Approve', exact: true }).isVisible()));

  await a2.page.goto(portal + '#');
  await a2.page.getByRole('link', { name: cfg.r2, exact: true }).waitFor();
  await openRequest(a2.page, cfg.r2, 'click');
  await a2.page.getByLabel('Comment', { exact: true }).fill('wrong artifact: not from the release branch');
  await a2.page.getByRole('button', { name: 'Reject', exact: true }).click();
  await expectTrue('approver-2 rejects request 2 with a comment',
    async () => /Rejected\. The request is now REJECTED/.test(await a2.page.getByRole('status').innerText()));
  await shot(a2.page, '07-rejected');

  await a2.page.getByRole('link', { name: /All pending approvals/ }).click();
  await expectTrue('the pending list no longer shows the decided requests', async () =>
    (await a2.page.getByRole('link', { name: cfg.r3, exact: true }).isVisible()) &&
    !(await a2.page.locator('#pending-rows').innerText()).includes(cfg.r1) &&
    !(await a2.page.locator('#pending-rows').innerText()).includes(cfg.r2));
  await expectTrue('the history of recent decisions shows request 2 REJECTED with its comment', async () => {
    const h = await a2.page.locator('#history-rows tr').filter({ hasText: cfg.r2 }).innerText();
    return h.includes('REJECTED') && h.includes('not from the release branch');
  });
  await expectTrue('the history shows request 1 with both approvals', async () => {
    const h = await a2.page.locator('#history-rows tr').filter({ hasText: cfg.r1 }).innerText();
    return (h.match(/approved by/g) || []).length === 2;
  });
  await shot(a2.page, '08-history');
  await a2.context.close();

  // ---- the submitter of request 3 (it holds the approver role too) may not approve it
  const s = await newUser('submitter');
  await s.page.goto(portal + '#request/' + cfg.r3);
  await signIn(s.page, cfg.self, 'enter');
  await s.page.locator('#d-id').filter({ hasText: cfg.r3 }).waitFor({ timeout: 10000 });
  ok('a link to a request (#request/<id>) opens it right after signing in');
  await s.page.locator('#d-fields dd').first().waitFor();
  await s.page.getByRole('button', { name: 'Approve', exact: true }).click();
  await expectTrue('the submitter clicking Approve on its own request gets an error on the page',
    async () => /submitter cannot approve its own request/.test(await alert(s.page).innerText()));
  check((await text(s.page, '#d-votes-summary')).includes('0 of 2'), 'its request still has 0 of 2 approvals');
  await shot(s.page, '09-own-request');
  await s.context.close();

  // ---- a signer without an approver role cannot use the portal
  const g = await newUser('signer');
  await g.page.goto(portal);
  await signIn(g.page, cfg.signer, 'enter');
  await expectTrue('a principal without a reviewing role is told so at sign-in',
    async () => /may not review approvals/.test(await alert(g.page).innerText()));
  await g.context.close();

  // ---- tenant B's approver sees nothing of tenant A
  const b = await newUser('tenant-b');
  await b.page.goto(portal);
  await signIn(b.page, cfg.b_appr, 'enter');
  await expectTrue("tenant B's approver sees an empty pending list",
    () => b.page.getByText('Nothing is waiting for a decision.').isVisible());
  const body = await b.page.locator('main').innerText();
  check(![cfg.r1, cfg.r2, cfg.r3].some((id) => body.includes(id)), "none of tenant A's requests appears for tenant B", body);
  await b.page.goto(portal + '#request/' + cfg.r3);
  await expectTrue("opening tenant A's request by address shows 'no such request'",
    async () => /no such request/.test(await alert(b.page).innerText()));
  await shot(b.page, '10-tenant-b');

  // The CSP is enforced: an injected inline script is refused and reported
  // (this is also the negative control for the console check below).
  const before = consoleLines.length;
  const ran = await b.page.evaluate(() => {
    const el = document.createElement('script');
    el.textContent = 'window.__inlineRan = true;';
    document.body.append(el);
    return window.__inlineRan === true;
  });
  await b.page.waitForTimeout(300);
  const violation = consoleLines.slice(before).some((l) => /Content Security Policy/.test(l));
  check(!ran && violation, 'an injected inline script is refused by the CSP, and the refusal shows in the console',
    consoleLines.slice(before).join('\n'));
  consoleLines.splice(before);
  await b.context.close();
} catch (e) {
  fail('the browser session ran to the end', e.stack || e);
} finally {
  await browser.close();
}

const cspLines = consoleLines.filter((l) => /Content Security Policy|Refused to/.test(l));
check(cspLines.length === 0, 'no CSP violation was reported while using the portal', cspLines.join('\n'));
check(pageErrors.length === 0, 'no uncaught script error', pageErrors.join('\n'));
check(offsite.length === 0, 'no request left signetd\'s origin', offsite.join('\n'));
check(requested.length > 20 && requested.every((u) => u.startsWith(base + '/')),
  'all ' + requested.length + ' requests went to ' + base, requested.filter((u) => !u.startsWith(base)).join('\n'));
const leaky = requested.filter((u) => secrets.some((k) => k && u.includes(k)));
check(leaky.length === 0, 'no API key appears in any URL the browser requested', leaky.join('\n'));
console.log('browser: ' + passed + ' passed, ' + failed + ' failed');
process.exit(failed === 0 ? 0 : 1);
