// api.js: what every page shares: reading the node's JSON API, showing
// amounts, times, addresses and ids, and building DOM without ever parsing
// data as HTML (every text from the ledger goes in as a text node).

export const DECIMALS = 6; // the token's decimals (docs/api.md: "1500000" is 1.5 GOT)
export const SYMBOL = 'GOT';
export const SCAN_BLOCKS_MAX = 2000; // blocks one page reads at most to build a history

// GET a JSON route; throws an Error with the node's own message on failure.
export async function get(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' } });
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    const msg = body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${r.status}`;
    const e = new Error(`${path}: ${msg}`);
    e.status = r.status;
    throw e;
  }
  return body;
}

// POST JSON; returns {status, body} whatever the outcome (the caller shows it).
export async function post(path, json) {
  const r = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(json),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

// Every page of a paged list route (tasks, agents), up to max items.
export async function getAll(path, key, max = 2000) {
  const out = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=200${cursor !== null ? `&cursor=${cursor}` : ''}`);
    out.push(...page[key]);
    cursor = page.next;
  } while (cursor !== null && cursor !== undefined && out.length < max);
  return out;
}

// Base units (decimal string or integer) as tokens: "1500000" -> "1.5 GOT".
// A value already written with a decimal point is taken as tokens as it is.
export function tokens(units) {
  if (units === null || units === undefined) return '—';
  const s = String(units);
  if (s.includes('.')) return `${s} ${SYMBOL}`;
  if (!/^\d+$/.test(s)) return s;
  const padded = s.padStart(DECIMALS + 1, '0');
  const whole = padded.slice(0, -DECIMALS).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = padded.slice(-DECIMALS).replace(/0+$/, '');
  return `${whole}${frac ? '.' + frac : ''} ${SYMBOL}`;
}

// Tokens typed by a user ("1.5") as base units ("1500000"); throws on bad input.
export function toUnits(text) {
  const m = /^\s*(\d{1,13})(?:\.(\d{1,6}))?\s*$/.exec(text);
  if (!m) throw new Error(`"${text}": expected an amount of ${SYMBOL} like 1.5 (at most ${DECIMALS} decimals)`);
  const units = BigInt(m[1]) * 10n ** BigInt(DECIMALS) + BigInt((m[2] || '').padEnd(DECIMALS, '0'));
  return units.toString();
}

// Sum of base-unit strings, as a BigInt.
export function sumUnits(list) {
  return list.reduce((a, v) => a + (v && /^\d+$/.test(String(v)) ? BigInt(v) : 0n), 0n);
}

// A block time (Unix seconds) in the user's own time zone.
const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export function when(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  return timeFmt.format(new Date(Number(seconds) * 1000));
}

export function short(id) {
  if (!id) return '—';
  const s = String(id);
  return s.length > 14 ? `${s.slice(0, s.startsWith('sha256:') ? 13 : 8)}…${s.slice(-4)}` : s;
}

// h('a', {href: '#/x', class: 'y'}, 'text', child, ...): an element; strings
// become text nodes, null and false are skipped, arrays are flattened.
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  const add = (c) => {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(add);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  };
  kids.forEach(add);
  return el;
}

// Names of agents by address (filled by the pages that read /v1/agents).
export const names = new Map();

export function addrLink(addr, page = 'agent') {
  if (!addr) return '—';
  const name = names.get(String(addr).toLowerCase());
  return h(
    'a',
    { href: `#/${page}/${addr}`, title: addr, class: 'mono' },
    name ? `${name} (${short(addr)})` : short(addr),
  );
}

export const taskLink = (id) => (id ? h('a', { href: `#/task/${id}`, title: id, class: 'mono' }, short(id)) : '—');
export const blockLink = (n) => h('a', { href: `#/block/${n}` }, `#${n}`);
export const blobLink = (id) => (id ? h('a', { href: `/v1/blobs/${id}`, title: id, class: 'mono' }, short(id)) : '—');

// A table: head is a list of column names, rows a list of cell lists.
export function table(head, rows, caption) {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      {},
      caption ? h('caption', {}, caption) : null,
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            r.map((c) => h('td', {}, c)),
          ),
        ),
      ),
    ),
  );
}

// Small key/value list.
export function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

export const badge = (text, kind) => h('span', { class: `badge ${kind || text}` }, text);

// Whether action a names the task or address value under key, as the node's
// index keys them (src/api/index.c).
function namesKey(a, key, value) {
  const v = value.toLowerCase();
  const is = (x) => typeof x === 'string' && x.toLowerCase() === v;
  if (key === 'address') return is(a.from) || is(a.to);
  return (a.type === 'task_post' && is(a.id)) || is(a.task) || is(a.parent);
}

// The actions that name a task (key 'task') or an address ('address'), from
// the node's index (GET /v1/actions), in log order or newest first, up to max;
// blocks after the index's height up to head (written a moment ago, or while
// the node still builds its index) are read directly. Returns
// {rows: [[action, {height, time}]], more, indexedHeight, gap}: more is true
// when max cut the list, gap when the node's index is so far behind that
// blocks after indexedHeight were left unread.
export async function indexedActions(key, value, head, order = 'asc', max = 2000) {
  const rows = [];
  let cursor = null;
  let indexedHeight = 0;
  do {
    const c = cursor !== null ? `&cursor=${cursor}` : '';
    const page = await get(`/v1/actions?${key}=${value}&order=${order}&limit=200${c}`);
    for (const e of page.actions) rows.push([e.action, { height: e.height, time: e.time }]);
    cursor = page.next;
    indexedHeight = page.indexedHeight;
  } while (cursor !== null && cursor !== undefined && rows.length < max);
  const recent = [];
  let gap = false;
  if (indexedHeight < head) {
    const scan = await scanActions(indexedHeight + 1, head, (a, b) => {
      if (namesKey(a, key, value)) recent.push([a, { height: b.height, time: b.time }]);
    });
    gap = scan.truncated;
  }
  const all = order === 'desc' ? recent.reverse().concat(rows) : rows.concat(recent);
  return { rows: all, more: cursor !== null && cursor !== undefined, indexedHeight, gap };
}

// Reads every block from `from` to `to` (at most SCAN_BLOCKS_MAX) and calls
// visit(action, block) for each action of each block that has any.
// Returns {from, to, truncated}.
export async function scanActions(from, to, visit) {
  let start = Math.max(from, to - SCAN_BLOCKS_MAX + 1);
  const truncated = start > from;
  for (let at = start; at <= to; at += 100) {
    const page = await get(`/v1/blocks?from=${at}&limit=100`);
    const busy = page.blocks.filter((b) => b.nActions > 0 && b.height <= to);
    const full = await Promise.all(busy.map((b) => get(`/v1/blocks/${b.height}`)));
    for (const b of full) for (const a of b.actions) visit(a, b);
  }
  return { from: start, to, truncated };
}

// Loads the names of all agents (for links); quiet on failure.
export async function loadNames() {
  try {
    for (const a of await getAll('/v1/agents', 'agents')) names.set(a.address.toLowerCase(), a.name);
  } catch (e) {
    /* names are a nicety; links still show addresses */
  }
}
