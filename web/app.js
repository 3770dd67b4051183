// app.js: the dashboard's router and its overview and metrics pages. Pages
// are addressed by the URL's fragment (#/task/0x…), so every view has a link
// and the node serves one HTML file. Each page is an async function that
// returns a node (or fills the one it is given) and may return a cleanup
// (closing its event stream) through the `page` object.
import {
  get,
  getAll,
  h,
  tokens,
  when,
  table,
  facts,
  badge,
  sumUnits,
  blockLink,
  addrLink,
  loadNames,
} from './api.js';
import { agentsPage, agentPage, boardPage, taskPage } from './market.js';
import { datasetsPage, datasetPage, leaderboardPage, evaluationPage } from './work.js';
import { fundingPage, roundPage, airdropsPage, epochPage, humanPage } from './fund.js';
import { walletPage, blockPage } from './wallet.js';
import { labelTasksPage, labelPage } from './label.js';

const main = document.getElementById('main');
const status = document.getElementById('status');
let cleanup = null;

const routes = [
  [/^$/, overviewPage, 'overview'],
  [/^agents$/, agentsPage, 'agents'],
  [/^agent\/(0x[0-9a-fA-F]{40})$/, agentPage, 'agents'],
  [/^tasks$/, boardPage, 'tasks'],
  [/^task\/(0x[0-9a-fA-F]{64})$/, taskPage, 'tasks'],
  [/^datasets$/, datasetsPage, 'datasets'],
  [/^dataset\/(sha256:[0-9a-f]{64})$/, datasetPage, 'datasets'],
  [/^leaderboard$/, leaderboardPage, 'leaderboard'],
  [/^evaluation\/(0x[0-9a-fA-F]{64})$/, evaluationPage, 'leaderboard'],
  [/^funding$/, fundingPage, 'funding'],
  [/^round\/(0x[0-9a-fA-F]{64})$/, roundPage, 'funding'],
  [/^airdrops$/, airdropsPage, 'funding'],
  [/^epoch\/(\d{1,10})(?:\/(0x[0-9a-fA-F]{40}))?$/, epochPage, 'funding'],
  [/^human$/, humanPage, 'funding'],
  [/^human\/(0x[0-9a-fA-F]{40})$/, humanPage, 'funding'],
  [/^label$/, labelTasksPage, 'label'],
  [/^label\/(0x[0-9a-fA-F]{64})$/, labelPage, 'label'],
  [/^wallet$/, walletPage, 'wallet'],
  [/^wallet\/(0x[0-9a-fA-F]{40})$/, walletPage, 'wallet'],
  [/^block\/(\d{1,12})$/, blockPage, 'overview'],
  [/^metrics$/, metricsPage, 'metrics'],
];

// Shows the page the fragment names; a page that throws shows its message.
let navigated = false; // focus moves to a page's title only after the user moved, not on first load

// The page the URL's fragment names, decoded; null when it is not valid
// percent-encoding (a damaged or hand-made link), which decodeURIComponent
// would throw on before any page was shown, leaving the last one in place.
function fragmentPath() {
  try {
    return decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  } catch (e) {
    return null;
  }
}

async function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const path = fragmentPath();
  const hit = path === null ? null : routes.map(([re, fn, nav]) => [re.exec(path), fn, nav]).find(([m]) => m);
  for (const a of document.querySelectorAll('nav a')) {
    if (hit && a.dataset.nav === hit[2]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  main.setAttribute('aria-busy', 'true');
  const page = {
    onLeave: (fn) => {
      cleanup = fn;
    },
  };
  try {
    if (path === null)
      throw new Error(`the link's fragment ${location.hash.slice(0, 80)} is not valid percent-encoding; ` +
        'expected a page such as #/tasks or #/label/0x…');
    if (!hit) throw new Error(`no page "${path}" here; try the links above`);
    const [m, fn] = hit;
    const node = await fn(page, ...m.slice(1));
    if (location.hash.replace(/^#\/?/, '') !== path && fragmentPath() !== path)
      return; // the user moved on while this page loaded
    main.replaceChildren(node);
    const h1 = main.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      if (navigated) h1.focus({ preventScroll: true });
      document.title = `${h1.textContent} · gotong`;
    }
  } catch (e) {
    main.replaceChildren(h('h1', {}, 'Could not show this page'), h('p', { class: 'error', role: 'alert' }, e.message));
  } finally {
    main.removeAttribute('aria-busy');
    main.dataset.ready = path === null ? 'invalid' : path || 'overview';
  }
}

// Counts of tasks per status (each status listed up to 2000).
async function taskCounts() {
  const out = {};
  await Promise.all(
    ['open', 'expired', 'cancelled', 'complete'].map(async (s) => {
      out[s] = await getAll(`/v1/tasks?status=${s}`, 'tasks');
    }),
  );
  return out;
}

// The supply check over the whole ledger, computed by the node in one
// snapshot (GET /v1/supply): the supply (mints less burns) against what every
// account holds, and the accounts' locked and unbonding amounts against the
// escrow locks and unbonding entries behind them.
function supplyLine(s) {
  return h(
    'div',
    { id: 'supply', class: s.conserved ? 'ok' : 'bad' },
    h(
      'p',
      {},
      badge(s.conserved ? 'conserved' : 'MISMATCH', s.conserved ? 'ok' : 'bad'),
      ` at block ${s.height}: supply ${tokens(s.supply)}; held by all ${s.accounts} accounts ${tokens(s.held)}`,
    ),
    facts([
      ['Balances', tokens(s.balance)],
      ['Staked', tokens(s.staked)],
      ['Locked in escrow', `${tokens(s.locked)} (${s.locks.count} locks holding ${tokens(s.locks.total)})`],
      [
        'Unbonding',
        `${tokens(s.unbonding)} (${s.unbondingEntries.count} entries holding ${tokens(s.unbondingEntries.total)})`,
      ],
    ]),
    s.problems.length ? h('ul', { class: 'error' }, s.problems.map((p) => h('li', {}, p))) : null,
  );
}

async function overviewPage() {
  const [head, agents, counts] = await Promise.all([
    get('/v1/head'),
    getAll('/v1/agents?active=1', 'agents'),
    taskCounts(),
  ]);
  await loadNames();
  const all = Object.values(counts).flat();
  const supply = await get('/v1/supply');
  const recent = (await get('/v1/blocks?limit=8')).blocks.reverse();
  return h(
    'section',
    {},
    h('h1', {}, 'Overview'),
    h(
      'div',
      { class: 'cards' },
      card('Agents online', agents.length, h('a', { href: '#/agents' }, 'all agents')),
      card(
        'Tasks',
        all.length,
        h(
          'span',
          {},
          ['open', 'expired', 'cancelled', 'complete'].map((s) => [badge(s), ` ${counts[s].length} `]),
        ),
      ),
      card('Volume', tokens(sumUnits(all.map((t) => BigInt(t.bounty) * BigInt(t.slots)))), 'bounties posted'),
      card('Supply', tokens(supply.supply), supply.conserved ? 'conserved (checked below)' : 'MISMATCH (see below)'),
      card('Head', blockLink(head.height), when(head.time)),
    ),
    h('h2', {}, 'Supply check'),
    supplyLine(supply),
    h('h2', {}, 'Latest blocks'),
    table(
      ['Block', 'Time', 'Actions', 'Hash'],
      recent.map((b) => [
        blockLink(b.height),
        when(b.time),
        b.nActions,
        h('span', { class: 'mono' }, b.hash.slice(0, 18) + '…'),
      ]),
    ),
  );
}

function card(title, value, note) {
  return h(
    'div',
    { class: 'card' },
    h('div', { class: 'card-title' }, title),
    h('div', { class: 'card-value' }, value),
    h('div', { class: 'card-note' }, note),
  );
}

// Prometheus text into {name: [{labels, value}]}.
function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const p of (m[2] || '').matchAll(/(\w+)="([^"]*)"/g)) labels[p[1]] = p[2];
    (out[m[1]] ||= []).push({ labels, value: Number(m[3]) });
  }
  return out;
}

// A horizontal bar chart (SVG) of [label, value] pairs.
function bars(pairs, unit) {
  const max = Math.max(1, ...pairs.map(([, v]) => v));
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const rowH = 22;
  svg.setAttribute('viewBox', `0 0 600 ${pairs.length * rowH + 4}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', pairs.map(([l, v]) => `${l}: ${v}${unit}`).join('; '));
  pairs.forEach(([label, v], i) => {
    const y = i * rowH + 2;
    const t = document.createElementNS(ns, 'text');
    t.setAttribute('x', '0');
    t.setAttribute('y', String(y + 15));
    t.textContent = label;
    const r = document.createElementNS(ns, 'rect');
    r.setAttribute('x', '250');
    r.setAttribute('y', String(y + 3));
    r.setAttribute('width', String(Math.max(1, (v / max) * 280)));
    r.setAttribute('height', '16');
    const n = document.createElementNS(ns, 'text');
    n.setAttribute('x', String(255 + (v / max) * 280));
    n.setAttribute('y', String(y + 15));
    n.textContent = `${v}${unit}`;
    svg.append(t, r, n);
  });
  return svg;
}

async function metricsPage() {
  const r = await fetch('/metrics');
  if (!r.ok) throw new Error(`/metrics: HTTP ${r.status}`);
  const m = parseMetrics(await r.text());
  const one = (k) => (m[k] && m[k][0] ? m[k][0].value : 0);
  const reqs = (m.gotong_http_requests_total || [])
    .map((s) => [`${s.labels.method} ${s.labels.route} ${s.labels.status}`, s.value])
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15);
  const actions = (m.gotong_actions_total || []).map((s) => [s.labels.code || s.labels.result, s.value]);
  const buckets = m.gotong_http_request_duration_seconds_bucket || [];
  const lat = buckets.map((b, i) => [`≤ ${b.labels.le} s`, b.value - (i ? buckets[i - 1].value : 0)]);
  return h(
    'section',
    {},
    h('h1', {}, 'Node metrics'),
    facts([
      ['Head height', one('gotong_head_height')],
      ['Blocks written since start', one('gotong_blocks_written_total')],
      ['Empty blocks', one('gotong_empty_blocks_total')],
      ['Event streams open', one('gotong_sse_clients')],
      ['Requests in flight', one('gotong_http_in_flight')],
    ]),
    h('h2', {}, 'Requests by route and status'),
    reqs.length ? bars(reqs, '') : h('p', {}, 'none yet'),
    h('h2', {}, 'Request latency'),
    bars(lat, ''),
    h('h2', {}, 'Submitted actions'),
    actions.length ? bars(actions, '') : h('p', {}, 'none yet'),
    h('p', {}, h('a', { href: '/metrics' }, 'raw Prometheus text')),
  );
}

// The node's head in the header, kept fresh by the event stream's blocks.
async function headLine() {
  try {
    const c = await get('/v1/chain');
    status.textContent = `chain ${c.chainId}`;
  } catch (e) {
    status.textContent = 'node unreachable';
  }
}

window.addEventListener('hashchange', () => {
  navigated = true;
  route();
});
headLine();
route();
