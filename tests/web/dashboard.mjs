// tests/web/dashboard.mjs GOTONG BUILD_DIR CHROMIUM: the web dashboard served
// by a real `gotong node`, in Debian's chromium driven by playwright-core
// (run by tests/web/run.sh, which skips loudly when either is missing).
//
// The node serves the ledger of a `gotong demo` run (agents, accepted and
// rejected work, a dispute overturned, a dataset, evaluations), so every page
// has real data. Checked:
//   - every page loads with no console error, no failed request and no error
//     shown in the page, at a laptop's width and (the main ones) a phone's,
//     where nothing may overflow sideways; screenshots go to BUILD/web-shots;
//   - the task board updates live (no reload) when a task is posted through
//     the API by the CLI;
//   - a task's page shows its dispute's outcome, as the API states it, and
//     the dispute and its votes in the timeline;
//   - a transfer signed in the page (EIP-712 with the key typed into it) lands
//     on the ledger, and the key is in no request the page made;
//   - a transfer signed by an injected EIP-1193 wallet (the CLI's EIP-712
//     signer behind window.ethereum) lands on the ledger;
//   - a task posted from the board's form (its spec uploaded under a permit
//     signed in the page, then task_post) lands on the ledger and the board;
//   - an agent named with markup is shown as text and runs nothing;
//   - a page of another site cannot write through the browser (a signed
//     transfer it POSTs is refused; the node's own page's lands), and a link
//     whose fragment is not valid percent-encoding is refused saying so;
//   - the keyboard reaches the navigation and opens a page;
//   - the funding pages (funding.mjs), the labelling page (label.mjs) and the
//     funding actions taken from the pages (fund_act.mjs), on the same ledger
//     served by tests/web's clock node;
//   - the dashboard's files: security headers, no path out of the embedded
//     tree, unknown query parameters refused.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startClockNode, fundingChecks } from './funding.mjs';
import { labelChecks } from './label.mjs';
import { fundActChecks } from './fund_act.mjs';

const [gotong, buildDir, chromiumPath] = process.argv.slice(2);
if (!gotong || !buildDir || !chromiumPath) {
  console.error('usage: dashboard.mjs GOTONG BUILD_DIR CHROMIUM');
  process.exit(2);
}
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(ROOT, '.cache/npm/node_modules/'));
const { chromium } = require('playwright-core');
const FIXTURES = process.env.GT_FIXTURES || path.join(ROOT, '.cache/fixtures');
const VOCAB = path.join(FIXTURES, 'tokenizer/ggml-vocab-llama-spm.gguf');
const SHOTS = path.join(buildDir, 'web-shots');
const WAIT_MS = 120000; // a generous bound on waiting for a page under ASan; nothing measures it

const failures = [];
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

// Runs the CLI, returning its stdout; throws with its stderr.
function cli(args) {
  return execFileSync(gotong, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

// Starts `gotong node` on a free port; resolves {proc, url}.
function startNode(home) {
  return new Promise((resolve, reject) => {
    const proc = spawn(gotong, ['node', '--home', home, '--listen', '127.0.0.1:0', '--quiet'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ proc, url: m[1] });
    });
    proc.on('exit', (code) => reject(new Error(`gotong node exited (${code}) before listening: ${out}`)));
  });
}

// A raw GET (the path exactly as given, no normalising): {status, headers, body}.
// A fresh connection each time (agent: false): a kept-alive one the node closed
// while the test waited on the CLI would be reused and fail ("socket hang up").
function rawGet(url, p) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    http
      .get({ host: u.hostname, port: u.port, path: p, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

// The raw private key of addr, from the demo's keystore.
function exportKey(home, addr) {
  return cli([
    'wallet',
    'export',
    addr,
    '--private-key',
    '--home',
    home,
    '--password-file',
    path.join(home, 'password.txt'),
  ]).trim();
}

// Stops a node process and waits until it has exited (its home's lock is free).
function stopNode(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.on('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

async function api(url, p) {
  const r = await rawGet(url, p);
  if (r.status !== 200) throw new Error(`${p}: ${r.status} ${r.body}`);
  return JSON.parse(r.body);
}

async function checkFiles(url) {
  const root = await rawGet(url, '/');
  check(root.status === 200 && /text\/html/.test(root.headers['content-type']), 'GET / is the dashboard (text/html)');
  check(
    /script-src 'self'/.test(root.headers['content-security-policy'] || '') &&
      /frame-ancestors 'none'/.test(root.headers['content-security-policy'] || ''),
    'the dashboard carries a Content-Security-Policy (own scripts only, no framing)',
  );
  check(root.headers['x-content-type-options'] === 'nosniff', 'X-Content-Type-Options: nosniff');
  const js = await rawGet(url, '/web/app.js');
  check(js.status === 200 && /text\/javascript/.test(js.headers['content-type']), '/web/app.js served as JavaScript');
  const lib = await rawGet(url, '/web/lib/curves/secp256k1.js');
  check(
    lib.status === 200 && !lib.body.includes("from '@noble/"),
    'the signing library is embedded, imports rewritten',
  );
  for (const p of [
    '/web/../web/app.js',
    '/web/lib/../../web/app.js',
    '/web/.app.js',
    '/web/lib/curves/x/y/z.js',
    '/web/nope.js',
  ])
    check((await rawGet(url, p)).status === 404, `${p} is 404`);
  check((await rawGet(url, '/?debug=1')).status === 400, 'an unknown query parameter on / is refused (400)');
}

// Opens #/hash in page and waits until the router has shown it; returns the
// errors seen while it loaded.
async function open(page, base, hash, ready) {
  const errors = [];
  const onConsole = (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  };
  const onError = (e) => errors.push(`page error: ${e.message}`);
  const onResponse = (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`);
  };
  // The board closing its own event stream when the user leaves it aborts
  // that request: the page's doing, not a failure.
  const onFailed = (r) => {
    const why = r.failure() && r.failure().errorText;
    if (!(r.url().endsWith('/v1/events') && why === 'net::ERR_ABORTED'))
      errors.push(`request failed: ${r.url()} ${why}`);
  };
  page.on('console', onConsole);
  page.on('pageerror', onError);
  page.on('response', onResponse);
  page.on('requestfailed', onFailed);
  try {
    await page.goto(`${base}/#/${hash}`);
    await page.waitForSelector(`main[data-ready="${ready}"]:not([aria-busy])`, { timeout: WAIT_MS });
    const shown = await page.$('main .error[role="alert"]');
    if (shown) errors.push(`page shows an error: ${await shown.textContent()}`);
  } finally {
    page.off('console', onConsole);
    page.off('pageerror', onError);
    page.off('response', onResponse);
    page.off('requestfailed', onFailed);
  }
  return errors;
}

async function pagesLoad(ctx, base, pages, width) {
  const page = await ctx.newPage();
  for (const [name, hash] of pages) {
    const errors = await open(page, base, hash, hash || 'overview');
    check(
      errors.length === 0,
      `${width}: #/${hash} loads without errors${errors.length ? ': ' + errors.join('; ') : ''}`,
    );
    if (width === 'phone') {
      const over = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      check(over <= 0, `phone: #/${hash} does not overflow sideways (by ${over}px)`);
    }
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: width !== 'phone' });
  }
  await page.close();
}

async function liveBoard(ctx, base, home, ayu) {
  const page = await ctx.newPage();
  const errors = await open(page, base, 'tasks', 'tasks');
  check(errors.length === 0, `the task board loads${errors.length ? ': ' + errors.join('; ') : ''}`);
  await page.waitForSelector('#live[data-live="1"]', { timeout: WAIT_MS });
  await page.evaluate(() => {
    window.gtNoReload = 1;
  });
  const spec = path.join(home, 'web-test-spec.json');
  fs.writeFileSync(spec, '{"prompt":"posted by tests/web while the board watches"}\n');
  const out = JSON.parse(
    cli([
      'task',
      'post',
      '--home',
      home,
      '--from',
      ayu,
      '--password-file',
      path.join(home, 'password.txt'),
      '--node',
      base,
      '--spec',
      spec,
      '--kind',
      'echo',
      '--bounty',
      '0.5',
      '--stake',
      '0.1',
      '--json',
    ]),
  );
  const id = out.id || out.task;
  check(/^0x[0-9a-f]{64}$/.test(id || ''), `the CLI posted a task through the API (${id})`);
  const card = await page.waitForSelector(`#board [data-task="${id}"]`, { timeout: WAIT_MS }).catch(() => null);
  check(card !== null, 'the new task appeared on the board from the event stream');
  check(await page.evaluate(() => window.gtNoReload === 1), 'without a reload of the page');
  if (card)
    check(
      await card.evaluate((el) => el.closest('.column').querySelector('.badge').textContent === 'open'),
      'in the open column',
    );
  await page.screenshot({ path: path.join(SHOTS, 'board-live.png') });
  await page.close();
}

// The leaderboard says how much re-execution stands behind each score (an
// eval spec's check may be 1): the items each judge re-executes under the
// task's spec, then the drawn judges that back it and the items they re-ran.
async function leaderboardChecked(ctx, base) {
  const page = await ctx.newPage();
  const errors = await open(page, base, 'leaderboard', 'leaderboard');
  check(errors.length === 0, `the leaderboard loads${errors.length ? ': ' + errors.join('; ') : ''}`);
  const lb = await api(base, '/v1/leaderboard?all=true');
  const text = await page.$eval('main', (el) => el.textContent);
  check(
    lb.entries.some((e) => Number.isInteger(e.check)),
    "the demo's evaluations carry their spec's check (API: /v1/leaderboard)",
  );
  for (const e of lb.entries) {
    const judges = `${e.cosigns.backed} judge${e.cosigns.backed === 1 ? '' : 's'}`;
    const want = `${e.check ?? '?'} per judge; ${judges}, ${e.cosigns.backedItemsChecked} item`;
    check(text.includes(want), `the leaderboard shows "${want}" for ${e.attestation}`);
  }
  // Each entry without a rank says why (API: unranked), on its rank cell;
  // the demo's quorum-verified run, checked at the floor min(items, 16), ranks.
  const titles = await page.$$eval('td span[title]', (els) => els.map((el) => el.title));
  for (const e of lb.entries) {
    if (e.ranked) check(e.unranked === null, `a ranked entry has no unranked reason (${e.attestation})`);
    else check(titles.includes(e.unranked), `the leaderboard says why ${e.attestation} is unranked: ${e.unranked}`);
  }
  check(lb.entries.some((e) => e.ranked && e.check === e.items), "the demo's panel-accepted run ranks at the floor");
  await page.close();
}

async function disputeShown(ctx, base, disputed) {
  const page = await ctx.newPage();
  const t = await api(base, `/v1/tasks/${disputed}`);
  const slot = t.slotList.find((s) => s.dispute);
  const errors = await open(page, base, `task/${disputed}`, `task/${disputed}`);
  check(errors.length === 0, `the disputed task's page loads${errors.length ? ': ' + errors.join('; ') : ''}`);
  const outcome = await page.$eval(`[data-slot="${slot.slot}"] .dispute h4 .badge`, (el) => el.textContent);
  check(
    outcome === slot.dispute.outcome,
    `the task page shows the dispute's outcome "${outcome}" (API: ${slot.dispute.outcome})`,
  );
  // A dispute's votes are dispute_vote actions or sealed votes revealed
  // (vote_reveal) after the slot's dispute: those entries of the slot that
  // follow its last task_dispute in the timeline.
  const votes = await page.$$eval(
    `#timeline li[data-slot="${slot.slot}"]`,
    (l) => {
      const at = l.map((e) => e.classList);
      const from = at.map((c) => c.contains('task_dispute')).lastIndexOf(true);
      return at.slice(from + 1).filter((c) => c.contains('dispute_vote') || c.contains('vote_reveal')).length;
    },
  );
  check(
    votes === slot.dispute.votes.length,
    `the timeline lists the ${votes} votes (API: ${slot.dispute.votes.length})`,
  );
  const kinds = await page.$$eval('#timeline li', (l) => l.map((li) => li.className));
  for (const k of ['task_post', 'task_claim', 'task_submit', 'task_verify', 'task_dispute'])
    check(
      kinds.some((c) => c.includes(k)),
      `the timeline has its ${k}`,
    );
  check((await page.$$('.money li')).length > 0, 'the page says what was paid or slashed');
  await page.screenshot({ path: path.join(SHOTS, 'task-dispute.png'), fullPage: true });
  await page.screenshot({
    path: path.join(SHOTS, 'task-dispute-top.png'),
    clip: { x: 0, y: 0, width: 1280, height: 960 },
  });
  await page.close();
}

// An evaluation's timeline names every action in words, the sealed
// co-signs' reveals (eval_reveal) too, each with its agree / disagree.
async function evalTimeline(ctx, base, evalTask) {
  const page = await ctx.newPage();
  const errors = await open(page, base, `task/${evalTask}`, `task/${evalTask}`);
  check(errors.length === 0, `the evaluation's page loads${errors.length ? ': ' + errors.join('; ') : ''}`);
  const entries = await page.$$eval('#timeline li', (l) =>
    l.map((li) => [li.className, li.querySelector('strong').textContent, li.textContent]),
  );
  const raw = entries.filter(([, verb]) => /_/.test(verb)).map(([c]) => c);
  check(raw.length === 0, `every timeline entry is named in words${raw.length ? ': not ' + raw.join(', ') : ''}`);
  const reveals = entries.filter(([c]) => c.includes('eval_reveal'));
  check(
    reveals.length > 0 && reveals.every(([, verb, text]) => verb === 'revealed a sealed co-sign' && /agree/.test(text)),
    `the timeline shows the ${reveals.length} sealed co-signs revealed, each with its vote`,
  );
  await page.close();
}

async function signedTransfer(ctx, base, home, ayu) {
  const key = cli([
    'wallet',
    'export',
    ayu,
    '--private-key',
    '--home',
    home,
    '--password-file',
    path.join(home, 'password.txt'),
  ]).trim();
  const bare = key.replace(/^0x/, '').toLowerCase();
  check(/^[0-9a-f]{64}$/.test(bare), "the test holds the sender's private key");
  const to = '0x' + randomBytes(20).toString('hex');
  const page = await ctx.newPage();
  let leaked = false;
  page.on('request', (r) => {
    if (((r.postData() || '') + r.url()).toLowerCase().includes(bare)) leaked = true;
  });
  const errors = await open(page, base, `wallet/${ayu}`, `wallet/${ayu}`);
  check(errors.length === 0, `the wallet page loads${errors.length ? ': ' + errors.join('; ') : ''}`);
  const before = await api(base, `/v1/accounts/${ayu}`);
  await page.fill('#send-to', to);
  await page.fill('#send-amount', '1.25');
  await page.fill('#send-key', key);
  const posted = page.waitForResponse((r) => r.url().endsWith('/v1/actions') && r.request().method() === 'POST', {
    timeout: WAIT_MS,
  });
  await page.click('#send-go');
  const resp = await (await posted).json();
  await page.waitForSelector('#send-result[data-ok]', { timeout: WAIT_MS });
  const ok = await page.$eval('#send-result', (el) => [el.dataset.ok, el.textContent]);
  check(ok[0] === '1', `the page says the signed transfer was accepted: ${ok[1]}`);
  check(resp.ok === true, `the node accepted the page's signed action: ${JSON.stringify(resp)}`);
  const acct = await api(base, `/v1/accounts/${to}`);
  check(acct.balance === '1250000', `the recipient holds 1.25 GOT on the ledger (${acct.balance} base units)`);
  const a = await api(base, `/v1/actions/${resp.id}`);
  check(
    a.type === 'transfer' &&
      a.from === ayu &&
      a.to.toLowerCase() === to &&
      a.amount === '1250000' &&
      a.nonce === before.nonce,
    `the ledger holds the transfer as signed in the page, at block ${a.height}`,
  );
  check(!leaked, 'the private key is in no request the page made');
  check((await page.$eval('#send-key', (el) => el.value)) === '', 'the key field is cleared after sending');
  await page.screenshot({ path: path.join(SHOTS, 'wallet-sent.png'), fullPage: true });
  await page.close();
}

// A transfer signed by an injected EIP-1193 wallet: window.ethereum here
// hands the page's eth_signTypedData_v4 request to the CLI's own EIP-712
// signer (`gotong wallet sign --typed-data`), a second implementation, so the
// typed data the page builds is checked against it and the node.
async function injectedWallet(ctx, base, home, ayu) {
  const page = await ctx.newPage();
  let asked = 0;
  await page.exposeFunction('gtTestSignTyped', (addr, json) => {
    asked++;
    const file = path.join(home, 'web-test-typed.json');
    fs.writeFileSync(file, json);
    return cli([
      'wallet',
      'sign',
      addr,
      '--typed-data',
      file,
      '--home',
      home,
      '--password-file',
      path.join(home, 'password.txt'),
    ]).trim();
  });
  await page.addInitScript((addr) => {
    window.ethereum = {
      async request({ method, params }) {
        if (method === 'eth_requestAccounts') return [addr];
        if (method === 'eth_signTypedData_v4') return window.gtTestSignTyped(params[0], params[1]);
        throw new Error(`test wallet: no ${method}`);
      },
    };
  }, ayu);
  const errors = await open(page, base, `wallet/${ayu}`, `wallet/${ayu}`);
  check(
    errors.length === 0,
    `the wallet page loads with a browser wallet${errors.length ? ': ' + errors.join('; ') : ''}`,
  );
  const to = '0x' + randomBytes(20).toString('hex');
  await page.fill('#send-to', to);
  await page.fill('#send-amount', '0.5');
  check(await page.isVisible('#send-wallet'), 'the page offers the browser wallet it found');
  await page.click('#send-wallet');
  await page.waitForSelector('#send-result[data-ok]', { timeout: WAIT_MS });
  const [ok, text] = await page.$eval('#send-result', (el) => [el.dataset.ok, el.textContent]);
  check(ok === '1' && asked === 1, `the wallet signed once and the node accepted it: ${text}`);
  const acct = await api(base, `/v1/accounts/${to}`);
  check(acct.balance === '500000', `the recipient holds 0.5 GOT on the ledger (${acct.balance} base units)`);
  await page.close();
}

// Another site's page cannot write through the visitor's browser: a
// transfer signed in the dashboard (so valid), POSTed by a page of
// http://localhost:P -- another site -- as a form or a no-cors fetch sends it
// (text/plain, no preflight), is refused by the node and leaves the ledger
// as it was; the same action POSTed by the node's own page lands.
async function crossSiteWrite(ctx, base, home, ayu) {
  const key = exportKey(home, ayu);
  const other = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>another site</title>');
  });
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
  const otherUrl = `http://localhost:${other.address().port}`;
  const page = await ctx.newPage();
  try {
    await open(page, base, 'wallet', 'wallet');
    const before = await api(base, `/v1/accounts/${ayu}`);
    const to = '0x' + randomBytes(20).toString('hex');
    const action = await page.evaluate(
      async ([k, nonce, dest]) => {
        const s = await import('/web/sign.js');
        const chain = await (await fetch('/v1/chain')).json();
        return s.signAction(chain, await s.keySigner(k), 'transfer', nonce, { to: dest, amount: '1' });
      },
      [key, before.nonce, to],
    );
    await page.goto(`${otherUrl}/`);
    const sent = await page.evaluate(
      async ([url, body]) => {
        try {
          await fetch(url, { method: 'POST', mode: 'no-cors', body });
          return 'answered';
        } catch (e) {
          return String(e);
        }
      },
      [`${base}/v1/actions`, JSON.stringify(action)],
    );
    const after = await api(base, `/v1/accounts/${ayu}`);
    check(
      sent === 'answered' && after.nonce === before.nonce,
      `a page of ${otherUrl} POSTing a transfer the user signed is refused ` +
        `(fetch ${sent}; nonce ${before.nonce} → ${after.nonce})`,
    );
    await open(page, base, 'wallet', 'wallet');
    const own = await page.evaluate(
      async (body) =>
        (await fetch('/v1/actions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }))
          .status,
      JSON.stringify(action),
    );
    const landed = await api(base, `/v1/accounts/${ayu}`);
    check(own === 200 && landed.nonce === before.nonce + 1, `the node's own page POSTs the same action: ${own}`);
  } finally {
    await page.close();
    other.close();
  }
}

// A link whose fragment is not valid percent-encoding (#/task/%E0%A4) is
// refused in the page, saying what is wrong, not left on the last page shown
// with an uncaught error.
async function badFragment(ctx, base) {
  const page = await ctx.newPage();
  await open(page, base, 'tasks', 'tasks');
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/#/task/%E0%A4`);
  const shown = await page
    .waitForSelector('main[data-ready="invalid"]:not([aria-busy]) .error[role="alert"]', { timeout: 20000 })
    .then((el) => el.textContent())
    .catch(() => null);
  check(
    shown !== null && shown.includes('not valid percent-encoding') && errors.length === 0,
    `a link with a broken fragment says so: ${shown}${errors.length ? '; page errors: ' + errors.join('; ') : ''}`,
  );
  await page.close();
}

// A task posted from the board's form: the spec uploaded under a permit and
// the task_post signed in the page; the board shows it and the ledger holds it.
async function postedFromPage(ctx, base, home, ayu) {
  const key = cli([
    'wallet',
    'export',
    ayu,
    '--private-key',
    '--home',
    home,
    '--password-file',
    path.join(home, 'password.txt'),
  ]).trim();
  const page = await ctx.newPage();
  const errors = await open(page, base, 'tasks', 'tasks');
  check(errors.length === 0, `the board loads for posting${errors.length ? ': ' + errors.join('; ') : ''}`);
  await page.waitForSelector('#live[data-live="1"]', { timeout: WAIT_MS });
  const specText = `summarise this: ${randomBytes(6).toString('hex')}`;
  await page.click('details.post summary');
  await page.fill('#post-kind', 'echo');
  await page.fill('#post-spec', specText);
  await page.fill('#post-bounty', '0.75');
  await page.fill('#post-stake', '0.2');
  await page.fill('#post-slots', '2');
  await page.fill('#post-key', key);
  await page.click('#post-go');
  await page.waitForSelector('#post-result[data-ok]', { timeout: WAIT_MS });
  const [ok, text, id] = await page.$eval('#post-result', (el) => [el.dataset.ok, el.textContent, el.dataset.task]);
  check(ok === '1', `the page posted a task it signed: ${text}`);
  if (ok === '1') {
    const t = await api(base, `/v1/tasks/${id}`);
    check(
      t.poster === ayu && t.kind === 'echo' && t.bounty === '750000' && t.stake === '200000' && t.slots === 2,
      `the ledger holds the task as posted from the page (${t.kind}, ${t.bounty} × ${t.slots}, stake ${t.stake})`,
    );
    const spec = await rawGet(base, `/v1/blobs/${t.spec}`);
    check(spec.body === specText, 'its spec blob holds the text typed into the page');
    const card = await page.waitForSelector(`#board [data-task="${id}"]`, { timeout: WAIT_MS }).catch(() => null);
    check(card !== null, 'the board shows the task it posted');
  }
  await page.close();
}

// Ledger text is shown as text: an agent named with markup (the ledger takes
// any name) must appear literally and run nothing, on every page showing it.
const HOSTILE = '<img src=x onerror="gtOwned=1"><script>gtOwned=2</script>'; // within the 64-byte name

async function hostileName(ctx, base, dewi, disputed) {
  const page = await ctx.newPage();
  for (const hash of ['agents', `agent/${dewi}`, 'tasks', `task/${disputed}`, `wallet/${dewi}`]) {
    const errors = await open(page, base, hash, hash);
    const shown = await page.evaluate((name) => document.querySelector('main').textContent.includes(name), HOSTILE);
    const owned = await page.evaluate(() => window.gtOwned);
    check(
      errors.length === 0 && shown && owned === undefined,
      `#/${hash} shows the agent named with markup as text (${shown}) and runs none of it (${owned})` +
        `${errors.length ? ': ' + errors.join('; ') : ''}`,
    );
  }
  await page.close();
}

// Base units as the page writes them ("1,234.5 GOT").
function tokensText(units) {
  const p = String(units).padStart(7, '0');
  const frac = p.slice(-6).replace(/0+$/, '');
  return `${p.slice(0, -6).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac ? '.' + frac : ''} GOT`;
}

// The overview's supply check is the node's, over the whole ledger.
async function supplyShown(ctx, base) {
  const page = await ctx.newPage();
  const errors = await open(page, base, '', 'overview');
  const text = await page.$eval('#supply p', (el) => el.textContent);
  const s = await api(base, '/v1/supply'); // blocks may have come since the page read it: compare what holds still
  const m = /^conserved at block (\d+): supply (.+?); held by all (\d+) accounts (.+)$/.exec(text);
  check(
    errors.length === 0 && m !== null && s.conserved && Number(m[1]) <= s.height && Number(m[3]) === s.accounts &&
      m[2] === m[4] && m[2] === tokensText(s.supply),
    `the overview shows the node's supply check over all ${s.accounts} accounts (API: block ${s.height}): ${text}`,
  );
  await page.close();
}

async function keyboard(ctx, base) {
  const page = await ctx.newPage();
  await open(page, base, '', 'overview');
  const seen = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    seen.push(await page.evaluate(() => document.activeElement.textContent.trim()));
  }
  check(
    seen[0] === 'Skip to content' && seen[3] === 'Agents',
    `Tab walks skip link, brand, navigation (${seen.join(' | ')})`,
  );
  await page.keyboard.press('Enter');
  await page.waitForSelector('main[data-ready="agents"]', { timeout: WAIT_MS });
  check(
    await page.evaluate(() => document.activeElement.tagName === 'H1'),
    'Enter opens the page and focus moves to its title',
  );
  await page.close();
}

// The demo's ledger, in home. `gotong demo` has a known race under heavy
// load (its round 3's sealed votes against the dispute's opening: "dispute:
// not done after 180 s"; test_demo covers the demo itself): one failed run is
// said loudly and run again once in a fresh home; a second failure fails the test.
function makeDemo(home) {
  for (let attempt = 1; ; attempt++) {
    try {
      return JSON.parse(cli(['demo', '--home', home, '--vocab', VOCAB, '--json']));
    } catch (e) {
      const why = String(e.stderr || e.message).split('\n')[0].slice(0, 300);
      if (attempt === 2) throw e;
      console.log(`NOTE gotong demo failed (${why}); running it once more in a fresh home`);
      fs.rmSync(home, { recursive: true, force: true });
    }
  }
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gotong-web-'));
  const home = path.join(tmp, 'home');
  let node = null;
  let browser = null;
  try {
    const demo = makeDemo(home);
    const ayu = demo.agents.find((a) => a.name === 'ayu').address;
    node = await startNode(home);
    let base = node.url;
    await checkFiles(base);
    const tasks = (await api(base, '/v1/tasks?limit=200')).tasks;
    let disputed = null;
    let data = null;
    let evalTask = null;
    for (const t of tasks) {
      const full = await api(base, `/v1/tasks/${t.id}`);
      if (!disputed && full.slotList.some((s) => s.dispute)) disputed = t.id;
      if (!data && t.kind === 'generate') data = t.spec;
      if (!evalTask && t.kind === 'eval') {
        const acts = (await api(base, `/v1/actions?task=${t.id}&limit=200`)).actions;
        if (acts.some((e) => e.action.type === 'eval_reveal')) evalTask = t.id;
      }
    }
    check(evalTask !== null, 'the demo made an evaluation with sealed co-signs revealed');
    check(disputed !== null && data !== null, 'the demo made a disputed task and a data job');
    const agent = (await api(base, '/v1/agents?limit=1')).agents[0].address;
    const dewi = demo.agents.find((a) => a.name === 'dewi').address;
    cli([
      'agent',
      'register',
      '--name',
      HOSTILE,
      '--home',
      home,
      '--from',
      dewi,
      '--password-file',
      path.join(home, 'password.txt'),
      '--node',
      base,
    ]);
    browser = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    const pages = [
      ['overview', ''],
      ['agents', 'agents'],
      ['agent', `agent/${agent}`],
      ['tasks', 'tasks'],
      ['task', `task/${disputed}`],
      ['datasets', 'datasets'],
      ['dataset', `dataset/${data}`],
      ['leaderboard', 'leaderboard'],
      ['wallet', `wallet/${ayu}`],
      ['block', 'block/1'],
      ['metrics', 'metrics'],
    ];
    browser.setDefaultTimeout(WAIT_MS); // clicks and fills wait as long as pages do, on a loaded machine
    await pagesLoad(browser, base, pages, 'laptop');
    await liveBoard(browser, base, home, ayu);
    await disputeShown(browser, base, disputed);
    if (evalTask) await evalTimeline(browser, base, evalTask);
    await leaderboardChecked(browser, base);
    await signedTransfer(browser, base, home, ayu);
    await postedFromPage(browser, base, home, ayu);
    await crossSiteWrite(browser, base, home, ayu);
    await badFragment(browser, base);
    await injectedWallet(browser, base, home, ayu);
    await hostileName(browser, base, dewi, disputed);
    await keyboard(browser, base);
    await supplyShown(browser, base);
    // The funding pages, on the same ledger, served by the node with the test's clock.
    await stopNode(node.proc);
    node = await startClockNode(buildDir, home);
    base = node.url;
    const helpers = { check, cli, api, open, rawGet, SHOTS, WAIT_MS, exportKey: (a) => exportKey(home, a) };
    const fundPages = await fundingChecks(browser, helpers, { base, home, clock: node.clock, demo });
    fundPages.push(...(await labelChecks(browser, helpers, { base, home, clock: node.clock, demo, gotong })));
    fundPages.push(...(await fundActChecks(browser, helpers, { base, home, clock: node.clock, demo })));
    await pagesLoad(browser, base, fundPages, 'laptop');
    await supplyShown(browser, base);
    await browser.close();
    browser = await chromium.launchPersistentContext(path.join(tmp, 'chromium-phone'), {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 390, height: 844 },
      isMobile: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    browser.setDefaultTimeout(WAIT_MS);
    await pagesLoad(
      browser,
      base,
      pages.filter(([n]) => ['overview', 'tasks', 'task', 'wallet', 'agents'].includes(n)).concat(fundPages),
      'phone',
    );
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (node) await stopNode(node.proc);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`screenshots in ${SHOTS}`);
  if (failures.length) {
    console.error(`${failures.length} check(s) failed:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log('all checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
