// tests/web/fund_act.mjs: the funding actions taken from the pages
// (web/fund_act.js), run by dashboard.mjs after funding.mjs on the same
// ledger and clock node (funding.mjs registered dewi as an issuer). Each
// action is signed in the page with a key typed into it; each is checked on
// the ledger, and each has a refusal whose node reason the page shows:
//   - a round's contributions, one row per contributor and project, as the
//     API lists them, linked to the wallets;
//   - a round opened from the funding page (then one whose pool the signer
//     does not hold: refused, no round made);
//   - an address attested by the issuer from its proof-of-human page (then
//     by a non-issuer: refused, no attestation);
//   - a points epoch funded from its page, then by a second funder (both
//     listed on the page), then under 0.01 GOT: refused;
//   - a paid slot's points recorded by its worker from the airdrops page
//     (then the same slot again: refused);
//   - the epoch's page, once it is over, offers no close within its grace (a
//     day, ledger format 16), then the epoch closed from its page (then
//     closed again: refused).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { signIn, watchKey, tokensOf } from './funding.mjs';

const EPOCH_S = 86400;

// Opens hash in a new page, checking it loads; unfolds the details `fold`.
async function openForm(ctx, t, env, hash, fold) {
  const page = await ctx.newPage();
  const errors = await t.open(page, env.base, hash, hash);
  t.check(errors.length === 0, `#/${hash} loads with its form${errors.length ? ': ' + errors.join('; ') : ''}`);
  if (fold) await page.click(`details#${fold} summary`);
  return page;
}

// Submits form id with key and checks the page shows a refusal from the node.
async function refused(page, t, id, key, want, what) {
  const [ok, text] = await signIn(page, t, id, key);
  t.check(ok === '0' && /^refused by the node: E[A-Z]+: /.test(text) && want.test(text), `${what}, shown readably: "${text}"`);
}

export async function fundActChecks(ctx, t, env) {
  const agent = (name) => env.demo.agents.find((a) => a.name === name).address;
  const keys = Object.fromEntries(['ayu', 'budi', 'citra', 'dewi'].map((n) => [n, t.exportKey(agent(n))]));
  const round = await contributionsShown(ctx, t, env);
  await createRound(ctx, t, env, keys, agent('ayu'));
  await attest(ctx, t, env, keys, agent('dewi'));
  const epoch = await epochActions(ctx, t, env, keys, agent);
  return [
    ['round-contributions', `round/${round}`],
    ['human-attest', `human/${agent('ayu')}`],
    ['epoch-closed', `epoch/${epoch}`],
  ];
}

// The newest round with contributions: its page lists each, as the API does.
async function contributionsShown(ctx, t, env) {
  const { rounds } = await t.api(env.base, '/v1/fund/rounds?limit=100');
  const r = rounds.find((x) => x.contributions > 1);
  const list = (await t.api(env.base, `/v1/fund/rounds/${r.id}/contributions`)).contributions;
  const page = await ctx.newPage();
  const errors = await t.open(page, env.base, `round/${r.id}`, `round/${r.id}`);
  const shown = await page.$$eval('#contributions tbody tr', (rows) =>
    rows.map((tr) => [tr.querySelector('.contributor a').getAttribute('href'), tr.querySelector('.amount').textContent]),
  );
  const want = list.map((c) => [`#/wallet/${c.contributor}`, tokensOf(c.amount)]);
  t.check(
    errors.length === 0 && list.length === r.contributions && JSON.stringify(shown) === JSON.stringify(want),
    `round "${r.name}" lists its ${list.length} contributions as the API gives them, linked to the wallets`,
  );
  const sum = list.reduce((s, c) => s + BigInt(c.amount), 0n);
  t.check(sum === BigInt(r.contributed), `the contributions add up to the round's total (${sum} = ${r.contributed})`);
  await page.close();
  const zero = '0x' + '0'.repeat(64);
  for (const [p, status] of [
    [`/v1/fund/rounds/${r.id}/contributions?limit=0`, 400],
    [`/v1/fund/rounds/${r.id}/contributions?limit=501`, 400],
    [`/v1/fund/rounds/${r.id}/contributions?cursor=100001`, 400],
    [`/v1/fund/rounds/${r.id}/contributions?from=1`, 400],
    [`/v1/fund/rounds/${zero}/contributions`, 404],
    [`/v1/label/tasks/${zero}/labels`, 404],
    [`/v1/label/tasks/${r.id}/labels?limit=1`, 400],
  ]) {
    const got = await t.rawGet(env.base, p);
    t.check(got.status === status, `GET ${p.replace(r.id, '0xROUND')} is ${status} (${got.status} ${got.body.slice(0, 90)})`);
  }
  const two = await t.api(env.base, `/v1/fund/rounds/${r.id}/contributions?limit=1&cursor=1`);
  t.check(
    two.contributions.length === 1 && JSON.stringify(two.contributions[0]) === JSON.stringify(list[1]) &&
      two.next === (list.length > 2 ? 2 : null),
    `a page of one from cursor 1 is the second contribution, next ${two.next}`,
  );
  return r.id;
}

async function createRound(ctx, t, env, keys, ayu) {
  const { check, api } = t;
  const page = await openForm(ctx, t, env, 'funding', 'open-round');
  const leaked = watchKey(page, keys.ayu);
  const name = `page round ${randomBytes(3).toString('hex')}`;
  await page.fill('#round-name', name);
  await page.fill('#round-pool', '3.5');
  await page.selectOption('#round-rule-pick', '2');
  await page.fill('#round-m', '0.25');
  await page.fill('#round-window', '90');
  const [ok, text] = await signIn(page, t, 'create-round', keys.ayu);
  check(ok === '1', `the funding page opened a round it signed: ${text}`);
  const id = await page.$eval('#create-round-link', (a) => a.getAttribute('href').slice('#/round/'.length)).catch(() => '');
  const r = ok === '1' ? await api(env.base, `/v1/fund/rounds/${id}`) : {};
  check(
    r.name === name && r.creator === ayu && r.pool === '3500000' && r.rule === 'pairwise' && r.pairwiseM === '250000' &&
      r.endS - r.startS === 5400,
    `the ledger holds the round as signed in the page (${r.name}, pool ${r.pool}, ${r.rule} M ${r.pairwiseM}, ` +
      `window ${r.endS - r.startS} s)`,
  );
  const before = (await api(env.base, '/v1/fund/rounds?limit=100')).rounds.length;
  await page.fill('#round-pool', '100000');
  await refused(page, t, 'create-round', keys.ayu, /insufficient/, 'a round whose pool the signer does not hold is refused');
  const after = (await api(env.base, '/v1/fund/rounds?limit=100')).rounds.length;
  check(after === before, `and no round was made (${after} rounds)`);
  check(!leaked(), 'the private key is in no request the round form made');
  await page.close();
}

async function attest(ctx, t, env, keys, dewi) {
  const { check, api } = t;
  const subject = '0x' + randomBytes(20).toString('hex');
  const page = await openForm(ctx, t, env, `human/${subject}`, 'attest-this');
  await page.fill('#attest-person', 'someone the issuer met');
  await page.fill('#attest-weight', '62.5');
  await page.fill('#attest-days', '10');
  await refused(page, t, 'attest', keys.ayu, /issuer/i, 'an attestation signed by a non-issuer is refused');
  let hm = await api(env.base, `/v1/fund/humans/${subject}`);
  check(hm.attestations.length === 0 && hm.weightPpm === 0, 'and the address has no attestation');
  const [ok, text] = await signIn(page, t, 'attest', keys.dewi);
  check(ok === '1', `the issuer attested the address from the page: ${text}`);
  hm = await api(env.base, `/v1/fund/humans/${subject}`);
  const a = hm.attestations[0] || {};
  const head = await api(env.base, '/v1/head');
  check(
    hm.weightPpm === 625000 && a.issuer === dewi && a.expiresS === head.time + 10 * 86400,
    `the ledger holds the attestation as signed (weight ${hm.weightPpm} ppm by ${a.issuer}, expires ${a.expiresS})`,
  );
  await page.close();
}

// A new paid slot (citra posts a task, budi works it, citra accepts, budi settles):
// returns [task, slot].
function paidSlot(t, env, agent) {
  const pw = path.join(env.home, 'password.txt');
  const as = (who, args) =>
    t.cli(['task', ...args, '--home', env.home, '--from', agent(who), '--password-file', pw, '--node', env.base]);
  const spec = path.join(env.home, 'web-test-points.json');
  fs.writeFileSync(spec, '{"prompt":"points from the page"}\n');
  const posted = JSON.parse(as('citra', ['post', '--spec', spec, '--kind', 'complete', '--bounty', '0.4', '--stake', '0.1', '--json']));
  const task = posted.id || posted.task;
  as('budi', ['claim', task]);
  as('budi', ['submit', task, '--slot', '0', '--result-text', 'points from the page']);
  as('citra', ['verify', task, '--slot', '0', '--accept']);
  as('budi', ['settle', task, '--slot', '0']);
  return [task, 0];
}

// The epoch's page lists every funder the API gives (in its order, each
// linked to its wallet with what it put in), not only the first, which is
// marked as holding the epoch's lock; while the epoch runs, its form adds to
// the pool.
async function fundersShown(ctx, t, env, n, first) {
  const e = await t.api(env.base, `/v1/fund/epochs/${n}`);
  const page = await openForm(ctx, t, env, `epoch/${n}`, null);
  const shown = await page.$$eval('#epoch-funders tbody tr', (rows) =>
    rows.map((tr) => [tr.querySelector('.funder a').getAttribute('href'), tr.querySelector('.amount').textContent]),
  );
  const want = e.funders.map((f) => [`#/wallet/${f.address}`, tokensOf(f.amount)]);
  // read without waiting: a page without them fails the checks below, not a 2-minute wait
  const text = (sel) => page.$eval(sel, (x) => x.textContent).catch(() => null);
  const count = await text('#epoch-funder-count');
  const marked = await page.$$eval('#epoch-funders .funder', (c) => c.map((x) => x.textContent.includes('first')));
  const form = await text('details#fund summary');
  t.check(
    e.funders.length === 2 && JSON.stringify(shown) === JSON.stringify(want) && count === '2',
    `epoch ${n}'s page lists both funders as the API gives them (${JSON.stringify(shown)}, count ${count})`,
  );
  t.check(
    marked.filter(Boolean).length === 1 && marked[e.funders.findIndex((f) => f.address === first)],
    `the first funder is the one marked as holding the lock (${JSON.stringify(marked)})`,
  );
  t.check(/add to this epoch's pool/i.test(form), `a funded epoch that runs offers to add to its pool ("${form}")`);
  await page.close();
}

async function epochActions(ctx, t, env, keys, agent) {
  const { check, api } = t;
  const head = await api(env.base, '/v1/head');
  const n = Math.floor(head.time / EPOCH_S) + 1; // a fresh day: nobody has funded it
  await env.clock(n * EPOCH_S + 10);
  let page = await openForm(ctx, t, env, `epoch/${n}`, 'fund');
  await page.fill('#fund-epoch-amount', '2.5');
  const [ok, text] = await signIn(page, t, 'fund-epoch', keys.ayu);
  check(ok === '1', `epoch ${n} funded from its page: ${text}`);
  let e = await api(env.base, `/v1/fund/epochs/${n}`);
  check(e.status === 'funded' && e.pool === '2500000' && e.funder === agent('ayu'), `the ledger holds the pool (${e.status}, ${e.pool} from ${e.funder})`);
  // from ledger format 14 several funders add to an epoch's pool, each 0.01 GOT at least
  const [okd, textd] = await signIn(page, t, 'fund-epoch', keys.dewi);
  check(okd === '1', `a second funder adds to the epoch's pool from its page: ${textd}`);
  e = await api(env.base, `/v1/fund/epochs/${n}`);
  const shares = (e.funders || []).map((f) => `${f.address}:${f.amount}`).sort().join(' ');
  const want = [`${agent('ayu')}:2500000`, `${agent('dewi')}:2500000`].sort().join(' ');
  check(e.pool === '5000000' && e.funder === agent('ayu') && shares === want, `the pool is both funders' (${e.pool}: ${shares})`);
  await fundersShown(ctx, t, env, n, agent('ayu'));
  await page.fill('#fund-epoch-amount', '0.001');
  await refused(page, t, 'fund-epoch', keys.budi, /at least 10000 base units/, 'a funding under 0.01 GOT is refused');
  e = await api(env.base, `/v1/fund/epochs/${n}`);
  check(e.pool === '5000000', `and the pool is unchanged (${e.pool})`);
  await page.close();

  const [task, slot] = paidSlot(t, env, agent);
  page = await openForm(ctx, t, env, 'airdrops', 'record-points');
  await page.fill('#points-task', task);
  await page.fill('#points-slot', String(slot));
  const [ok2, text2] = await signIn(page, t, 'points', keys.budi);
  check(ok2 === '1', `the worker recorded its paid slot's points from the page: ${text2}`);
  e = await api(env.base, `/v1/fund/epochs/${n}`);
  const mine = e.points.find((p) => p.account === agent('budi'));
  check(mine !== undefined && Number(mine.points) > 0, `epoch ${n} holds the worker's points (${mine && mine.points})`);
  await refused(page, t, 'points', keys.budi, /already recorded/, 'the same slot recorded again is refused');
  await page.close();

  // over, but within the grace (from ledger format 16 a day) for workers paid late in it: no close form yet
  await env.clock((n + 1) * EPOCH_S + 5);
  page = await openForm(ctx, t, env, `epoch/${n}`, null);
  const wait = (await page.$('#epoch-close-wait')) ? await page.textContent('#epoch-close-wait') : '';
  check(
    e.closeFromS === (n + 2) * EPOCH_S && (await page.$('details#close')) === null && /may close it from/.test(wait),
    `epoch ${n}, just over, offers no close before its closeFromS ${e.closeFromS}: "${wait}"`,
  );
  await page.close();
  await env.clock(e.closeFromS + 5);
  page = await openForm(ctx, t, env, `epoch/${n}`, 'close');
  const [ok3, text3] = await signIn(page, t, 'close-epoch', keys.citra);
  check(ok3 === '1', `the epoch closed from its page once over: ${text3}`);
  e = await api(env.base, `/v1/fund/epochs/${n}`);
  check(e.status === 'closed' && e.claims.length === e.leaves && e.leaves > 0, `the ledger holds it closed (${e.leaves} claims, root ${e.root})`);
  await refused(page, t, 'close-epoch', keys.citra, /closed/, 'closing it again is refused');
  await page.close();
  return n;
}
