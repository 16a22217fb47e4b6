/*
 * portal.js - the approvers' portal (SPEC §7): sign in with an API key, list
 * the requests waiting for approval, open one, approve or reject it, and see
 * recent decisions.
 *
 * Everything comes from signetd's native API on this origin; the API key is
 * kept in this tab's sessionStorage (and in memory) and sent only as an
 * Authorization: Bearer header, never in a URL, a cookie or localStorage.
 * The page builds its DOM with textContent only, so nothing a request carries
 * (metadata, comments) can become markup.  Loaded from 'self' under a CSP
 * without inline script or style.
 */
'use strict';

(function () {
  const KEY_SLOT = 'signet.portal.api_key';
  const HISTORY_MAX = 15;
  let apiKey = sessionStorage.getItem(KEY_SLOT) || '';
  let keyAliases = new Map();      /* key id -> alias */
  let principalNames = new Map();  /* principal id -> name (admins only can read them) */
  let current = null;              /* the approval view shown in the detail view */
  let generation = 0;              /* drops answers that arrive after the user moved on */

  const $ = (id) => document.getElementById(id);

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /* One call to the native API; resolves to the parsed body or throws ApiError. */
  async function api(method, path, body) {
    const init = {
      method,
      headers: { Authorization: 'Bearer ' + apiKey, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'NETWORK', 'cannot reach signetd (' + e.message + ')');
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      const err = (data && data.error) || {};
      throw new ApiError(res.status, err.code || 'HTTP_' + res.status,
        err.message || res.statusText || 'request failed');
    }
    return data;
  }

  function describe(e) {
    if (e instanceof ApiError)
      return e.message + ' (' + e.code + (e.status ? ', HTTP ' + e.status : '') + ')';
    return String(e && e.message ? e.message : e);
  }

  function showError(text) {
    $('notice').textContent = '';
    $('error').textContent = text;
  }

  function showNotice(text) {
    $('error').textContent = '';
    $('notice').textContent = text;
  }

  function clearMessages() {
    $('error').textContent = '';
    $('notice').textContent = '';
  }

  function el(tag, className, text) {
    const n = document.createElement(tag);
    if (className)
      n.className = className;
    if (text !== undefined && text !== null)
      n.textContent = text;
    return n;
  }

  function when(iso) {
    if (!iso)
      return '';
    return iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');
  }

  function principalLabel(id) {
    const name = principalNames.get(id);
    return name ? name + ' (' + id + ')' : id;
  }

  function keyOrPolicy(r) {
    if (r.policy)
      return 'policy ' + r.policy;
    const alias = keyAliases.get(r.key_id);
    return 'key ' + (alias || r.key_id);
  }

  function valueText(v) {
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  function metadataList(meta, className) {
    const entries = meta && typeof meta === 'object' ? Object.entries(meta) : [];
    if (entries.length === 0)
      return el('span', 'none', 'none');
    const dl = el('dl', className);
    for (const [k, v] of entries) {
      dl.append(el('dt', null, k), el('dd', null, valueText(v)));
    }
    return dl;
  }

  function requestLink(id) {
    const a = el('a');
    a.href = '#request/' + encodeURIComponent(id);
    a.append(el('code', null, id));
    return a;
  }

  function badge(status) {
    return el('span', 'badge ' + status, status);
  }

  function votesText(v) {
    return (v.approvals || 0) + ' of ' + (v.approvals_required || 0);
  }

  function show(view) {
    for (const id of ['signin-view', 'list-view', 'detail-view'])
      $(id).hidden = id !== view;
    $('who').hidden = view === 'signin-view';
  }

  function focusHeading(view) {
    const h = $(view).querySelector('h1');
    if (h)
      h.focus();
  }

  /* Names for ids, where this principal may read them; failures only cost the names. */
  async function loadDirectory() {
    keyAliases = new Map();
    principalNames = new Map();
    const [keys, principals] = await Promise.allSettled([api('GET', '/v1/keys'), api('GET', '/v1/principals')]);
    if (keys.status === 'fulfilled' && keys.value && Array.isArray(keys.value.keys))
      for (const k of keys.value.keys)
        keyAliases.set(k.id, k.alias);
    if (principals.status === 'fulfilled' && principals.value && Array.isArray(principals.value.principals))
      for (const p of principals.value.principals)
        principalNames.set(p.id, p.name);
  }

  /* ---- sign in and out ---- */

  async function signIn(ev) {
    ev.preventDefault();
    const input = $('api-key');
    const candidate = input.value.trim();
    if (candidate === '') {
      showError('Enter an API key to sign in.');
      input.focus();
      return;
    }
    apiKey = candidate;
    try {
      await api('GET', '/v1/approvals?status=PENDING');
    } catch (e) {
      apiKey = '';
      if (e.status === 401)
        showError('Sign-in failed: this API key was not accepted. Check it and try again.');
      else if (e.status === 403)
        showError('Sign-in failed: this principal may not review approvals ' +
          '(it needs the approver, admin or auditor role).');
      else
        showError('Sign-in failed: ' + describe(e));
      input.select();
      return;
    }
    input.value = '';
    sessionStorage.setItem(KEY_SLOT, apiKey);
    clearMessages();
    await loadDirectory();
    /* A link to one request (#request/<id>) opens it once signed in. */
    route();
  }

  function signOut() {
    apiKey = '';
    sessionStorage.removeItem(KEY_SLOT);
    keyAliases = new Map();
    principalNames = new Map();
    current = null;
    generation++;
    $('pending-rows').replaceChildren();
    $('history-rows').replaceChildren();
    /* Drop the request address without a hashchange, which would clear the notice. */
    history.replaceState(null, '', location.pathname + location.search);
    route();
    showNotice('Signed out. The API key has been forgotten by this tab.');
  }

  /* ---- the list of pending approvals and recent decisions ---- */

  function pendingRow(r) {
    const tr = el('tr');
    const idCell = el('td', 'id');
    idCell.append(requestLink(r.id));
    const hash = el('td');
    hash.append(el('div', null, r.hash_algorithm), el('div', 'none', r.signature_algorithm));
    const meta = el('td', 'meta-cell');
    meta.append(metadataList(r.metadata, 'meta'));
    tr.append(idCell, el('td', null, principalLabel(r.submitted_by)), el('td', null, keyOrPolicy(r)),
      hash, meta, el('td', null, when(r.created_at)), el('td', null, votesText(r)));
    return tr;
  }

  function historyRow(r, view) {
    const tr = el('tr');
    const idCell = el('td', 'id');
    idCell.append(requestLink(r.id));
    const outcome = el('td');
    outcome.append(badge(r.status));
    const votes = el('td');
    if (view && Array.isArray(view.votes) && view.votes.length > 0) {
      for (const v of view.votes) {
        const line = el('div', null, v.decision.toLowerCase() + ' by ' + principalLabel(v.approver));
        if (v.comment)
          line.append(el('span', 'none', ' \u2014 ' + v.comment));
        votes.append(line);
      }
    } else {
      votes.append(el('span', 'none', view ? 'no votes' : ''));
    }
    tr.append(idCell, el('td', null, keyOrPolicy(r)), outcome, votes, el('td', null, when(r.updated_at)));
    return tr;
  }

  async function showList() {
    const gen = ++generation;
    show('list-view');
    let pending, recent;
    try {
      [pending, recent] = await Promise.all([
        api('GET', '/v1/approvals?status=PENDING'),
        api('GET', '/v1/requests?limit=200'),
      ]);
    } catch (e) {
      if (gen === generation)
        failed('Cannot load the pending approvals: ', e);
      return;
    }
    const decided = (recent.requests || []).filter(
      (r) => r.approvals_required > 0 && r.status !== 'PENDING_APPROVAL').slice(0, HISTORY_MAX);
    const views = await Promise.all(decided.map(
      (r) => api('GET', '/v1/approvals/' + encodeURIComponent(r.id)).catch(() => null)));
    if (gen !== generation)
      return;
    const rows = (pending.approvals || []).map(pendingRow);
    $('pending-rows').replaceChildren(...rows);
    $('pending-table').hidden = rows.length === 0;
    $('pending-empty').hidden = rows.length !== 0;
    const hist = decided.map((r, i) => historyRow(r, views[i]));
    $('history-rows').replaceChildren(...hist);
    $('history-table').hidden = hist.length === 0;
    $('history-empty').hidden = hist.length !== 0;
  }

  /* ---- one request ---- */

  function field(dl, name, value, mono) {
    const dd = el('dd', mono ? 'mono' : null);
    if (value instanceof Node)
      dd.append(value);
    else
      dd.textContent = value === undefined || value === null || value === '' ? '\u2014' : String(value);
    dl.append(el('dt', null, name), dd);
  }

  function digestHex(b64) {
    try {
      const bin = atob(b64.replace(/-/g, '+').replace(/_/g, '/'));
      let hex = '';
      for (let i = 0; i < bin.length; i++)
        hex += bin.charCodeAt(i).toString(16).padStart(2, '0');
      return hex;
    } catch (e) {
      return '';
    }
  }

  function renderDetail(v) {
    current = v;
    $('d-id').textContent = v.id;
    const dl = $('d-fields');
    dl.replaceChildren();
    field(dl, 'Status', badge(v.status));
    if (v.policy)
      field(dl, 'Policy', v.policy);
    field(dl, 'Key', (keyAliases.get(v.key_id) || v.key_id) +
      (v.key_version ? ' (version ' + v.key_version + ')' : ''));
    field(dl, 'Hash algorithm', v.hash_algorithm);
    field(dl, 'Signature algorithm', v.signature_algorithm);
    field(dl, 'Digest (base64)', v.digest, true);
    field(dl, 'Digest (hex)', digestHex(v.digest || ''), true);
    field(dl, 'Submitted by', principalLabel(v.submitted_by));
    field(dl, 'Created', when(v.created_at));
    if (v.approval_deadline)
      field(dl, 'Decide by', when(v.approval_deadline));
    if (v.description)
      field(dl, 'Description', v.description);
    if (v.original_request_id)
      field(dl, 'Resubmits', requestLink(v.original_request_id));

    const meta = metadataList(v.metadata, 'fields');
    $('d-meta').replaceWith(meta);
    meta.id = 'd-meta';
    if (meta.tagName !== 'DL')
      meta.className = 'none';

    $('d-votes-summary').textContent = votesText(v) + ' approvals';
    const votes = (v.votes || []).map((vote) => {
      const li = el('li');
      li.append(badge(vote.decision), ' ', principalLabel(vote.approver), el('div', 'none', when(vote.created_at)));
      if (vote.comment)
        li.append(el('div', null, '\u201c' + vote.comment + '\u201d'));
      return li;
    });
    $('d-votes').replaceChildren(...votes);

    const open = v.status === 'PENDING_APPROVAL';
    $('decide-form').hidden = !open;
    $('d-closed').hidden = open;
    $('d-closed').textContent = open ? '' : 'This request is no longer waiting for approval: it is ' + v.status + '.';
  }

  async function showDetail(id) {
    const gen = ++generation;
    show('detail-view');
    $('comment').value = '';
    let v;
    try {
      v = await api('GET', '/v1/approvals/' + encodeURIComponent(id));
    } catch (e) {
      if (gen === generation)
        failed('Cannot open request ' + id + ': ', e);
      return;
    }
    if (gen !== generation)
      return;
    renderDetail(v);
  }

  async function decide(kind) {
    if (current === null)
      return;
    const comment = $('comment').value.trim();
    if (kind === 'reject' && comment === '') {
      showError('A rejection needs a comment saying why. Nothing was sent.');
      $('comment').focus();
      return;
    }
    const buttons = [$('approve'), $('reject')];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const v = await api('POST', '/v1/approvals/' + encodeURIComponent(current.id) + '/' + kind,
        comment === '' ? {} : { comment });
      $('comment').value = '';
      renderDetail(v);
      if (kind === 'approve')
        showNotice('Approved. ' + votesText(v) + ' approvals; the request is now ' + v.status + '.');
      else
        showNotice('Rejected. The request is now ' + v.status + '.');
    } catch (e) {
      failed((kind === 'approve' ? 'Approve' : 'Reject') + ' failed: ', e);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  /* An API error on a page: a revoked key sends the user back to sign in. */
  function failed(prefix, e) {
    if (e instanceof ApiError && e.status === 401) {
      apiKey = '';
      sessionStorage.removeItem(KEY_SLOT);
      show('signin-view');
      showError('Your API key is no longer accepted; sign in again.');
      return;
    }
    showError(prefix + describe(e));
  }

  /* ---- navigation: #request/<id> opens one request, anything else the list ---- */

  function route() {
    if (apiKey === '') {
      show('signin-view');
      focusHeading('signin-view');
      $('api-key').focus();
      return;
    }
    $('who-text').textContent = 'Signed in with an API key';
    const m = /^#request\/(.+)$/.exec(location.hash);
    if (m) {
      showDetail(decodeURIComponent(m[1])).then(() => focusHeading('detail-view'));
    } else {
      current = null;
      showList().then(() => focusHeading('list-view'));
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('signin-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', signOut);
    $('refresh').addEventListener('click', () => { clearMessages(); showList(); });
    $('approve').addEventListener('click', () => decide('approve'));
    $('reject').addEventListener('click', () => decide('reject'));
    window.addEventListener('hashchange', () => { clearMessages(); route(); });
    if (apiKey !== '')
      loadDirectory().then(route);
    else
      route();
  });
})();
