// tests/web/funding.mjs: the funding pages (web/fund.js) in the browser, run
// by dashboard.mjs on the demo's ledger. The node here is tests/web's
// clock node (BUILD/web_clock_node: the node itself, with a block clock the
// test sets), so a round's window and a points epoch (a day of block time)
// end without waiting. Set up through the CLI (gotong fund …): an issuer
// attests the contributors, two rounds over the same dataset and evaluation
// (plain QF and the sybil rule), contributions, points for paid slots, an
// epoch funded and closed. Checked in the page:
//   - a contribution signed in the page (key typed into it) lands on the
//     ledger: the action as signed, the project's total up by its amount;
//   - a round finalized from the page shows each project's match as the API
//     gives it, with the rule named, for both rules;
//   - an airdrop claim signed in the page is paid once (the balance up by
//     the leaf's amount exactly), and a second claim from the page is
//     refused with the node's readable reason and pays nothing;
//   - the key is in no request the page made;
//   - every funding page loads without errors (dashboard.mjs, laptop and phone).
import { spawn } from 'node:child_process';
import path from 'node:path';

// Starts BUILD/web_clock_node on home; resolves {proc, url, clock(T)}.
export function startClockNode(buildDir, home) {
  return new Promise((resolve, reject) => {
    const proc = spawn(path.join(buildDir, 'web_clock_node'), [home], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let waiting = null;
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)\n/.exec(out);
      if (m && !proc.url) {
        proc.url = m[1];
        out = out.slice(m.index + m[0].length);
        resolve({ proc, url: m[1], clock });
      }
      const nl = out.indexOf('\n');
      if (proc.url && waiting && nl >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const w = waiting;
        waiting = null;
        if (line.startsWith('ok ')) w.resolve(Number(line.slice(3)));
        else w.reject(new Error(`clock node: ${line}`));
      }
    });
    // Fixes block time at t (Unix seconds) and writes a block; resolves its height.
    function clock(t) {
      return new Promise((res, rej) => {
        waiting = { resolve: res, reject: rej };
        proc.stdin.write(`clock ${t}\n`);
      });
    }
    proc.on('exit', (code) => reject(new Error(`web_clock_node exited (${code}) before listening: ${out}`)));
  });
}

// The whole funding check. t: the helpers of dashboard.mjs ({check, cli,
// api, open, rawGet, SHOTS, WAIT_MS, exportKey}); env: {base, home, clock,
// demo}. Returns the pages to load at each width.
export async function fundingChecks(ctx, t, env) {
  const { check, api } = t;
  const { base, home, clock } = env;
  const pw = path.join(home, 'password.txt');
  const fund = (from, ...args) =>
    JSON.parse(t.cli(['fund', ...args, '--home', home, '--from', from, '--password-file', pw, '--node', base, '--json']));
  const agent = (name) => env.demo.agents.find((a) => a.name === name).address;
  const ayu = agent('ayu');

  // Who owns the work: a published dataset's publisher, an evaluation's attester. Only a dataset whose
  // batches a drawn, bonded panel accepted can be a round's project (format 10): the demo's quorum-verified
  // job's, not the one eko (the evaluator its poster named) judged.
  const tasks = (await api(base, '/v1/tasks?limit=200')).tasks;
  let dataset = null;
  let unfundable = null;
  for (const tk of tasks.filter((x) => x.kind === 'generate')) {
    const r = await t.rawGet(base, `/v1/datasets/${tk.spec}`);
    if (r.status !== 200) continue;
    if (tk.policy === 'quorum') dataset = JSON.parse(r.body);
    else unfundable = JSON.parse(r.body);
  }
  // The datasets view says which a round takes, and why not (the rule's own refusal).
  check(dataset !== null && dataset.fundable === true && dataset.notFundable === undefined,
    'the quorum-verified dataset is shown fundable');
  check(unfundable !== null && unfundable.fundable === false &&
    /not by a drawn, bonded panel/.test(unfundable.notFundable || ''),
    `the dataset its poster's evaluator accepted is shown not fundable (${unfundable && unfundable.notFundable})`);
  await datasetsFundable(ctx, t, base);
  // Only an evaluation a drawn, bonded panel accepted can be a round's project (fund_round_enter): not the
  // forged score the leaderboard's `all` lists first, nor one accepted by its task's evaluator alone
  // (unranked: no bonded vote backs it); the demo's quorum-verified evaluation is ranked.
  const evals = (await api(base, '/v1/leaderboard?all=true')).entries.filter(
    (e) => e.status === 'accepted' && e.ranked === true);
  check(dataset !== null && evals.length > 0, 'the demo published a dataset and an accepted evaluation');
  const evaluation = evals[0];
  const job = '0x' + dataset.job.replace(/^(sha256:|0x)/, '');

  // Block time from now on is the test's: start where the ledger is.
  let now = (await api(base, '/v1/head')).time + 1;
  await clock(now);

  // An issuer (staked 10 GOT) attests the contributors: matching weighs them.
  const issuer = agent('dewi');
  t.cli(['stake', '10', '--home', home, '--from', issuer, '--password-file', pw, '--node', base]);
  fund(issuer, 'issuer-register', '--name', 'web test issuer');
  const contributors = ['ayu', 'budi', 'citra'].map(agent);
  for (const c of contributors) fund(issuer, 'attest', c, '--person', `person of ${c}`);
  const human = await api(base, `/v1/fund/humans/${ayu}`);
  check(human.weightPpm === 1000000, `the contributors are attested humans (weight ${human.weightPpm} ppm)`);

  // Two rounds over the same works: plain QF and the sybil rule.
  const plain = fund(ayu, 'round-create', '--pool', '20', '--window', '600', '--name', 'open data (plain)').id;
  const sybil = fund(ayu, 'round-create', '--pool', '20', '--window', '600', '--name', 'open data (sybil rule)',
    '--rule', 'pairwise', '--pairwise-m', '0.5').id;
  for (const r of [plain, sybil]) {
    fund(dataset.publisher, 'round-enter', r, '--dataset', job);
    fund(evaluation.attester, 'round-enter', r, '--eval', evaluation.attestation);
  }
  for (const r of [plain, sybil]) {
    fund(contributors[1], 'contribute', r, '--project', '0', '--amount', '2');
    fund(contributors[2], 'contribute', r, '--project', '0', '--amount', '1');
    fund(contributors[2], 'contribute', r, '--project', '1', '--amount', '4');
  }
  const key = t.exportKey(ayu);
  await contributeInPage(ctx, t, env, sybil, key);
  fund(contributors[0], 'contribute', plain, '--project', '1', '--amount', '1.5'); // ayu published the dataset (project 0)

  // The window ends; the plain round is finalized by the CLI, the other from the page.
  now += 700;
  await clock(now);
  fund(ayu, 'round-finalize', plain);
  await finalizeInPage(ctx, t, env, sybil, key);
  for (const r of [plain, sybil]) await matchesShown(ctx, t, env, r);

  // Points for paid slots, an epoch funded, then closed once it is over.
  const epoch = await pointsAndAirdrop(t, env, fund, tasks, ayu, now);
  const worker = epoch.claims[0].account;
  await claimInPage(ctx, t, env, epoch, worker);
  return [
    ['funding', 'funding'],
    ['round', `round/${sybil}`],
    ['round-plain', `round/${plain}`],
    ['airdrops', 'airdrops'],
    ['epoch', `epoch/${epoch.epoch}/${worker}`],
    ['human', `human/${ayu}`],
    ['evaluation', `evaluation/${evaluation.attestation}`],
  ];
}

// Watches page's requests for the key (bare hex, any case); returns a getter.
export function watchKey(page, key) {
  const bare = key.replace(/^0x/, '').toLowerCase();
  let leaked = false;
  page.on('request', (r) => {
    if (((r.postData() || '') + r.url()).toLowerCase().includes(bare)) leaked = true;
  });
  return () => leaked;
}

// Submits form `id` with the key typed in; returns [ok, text] of its result line.
export async function signIn(page, t, id, key) {
  await page.fill(`#${id}-key`, key);
  await page.evaluate((sel) => {
    const out = document.querySelector(sel);
    delete out.dataset.ok;
  }, `#${id}-result`);
  await page.click(`#${id}-go`);
  await page.waitForSelector(`#${id}-result[data-ok]`, { timeout: t.WAIT_MS });
  return page.$eval(`#${id}-result`, (el) => [el.dataset.ok, el.textContent]);
}

async function contributeInPage(ctx, t, env, round, key) {
  const { check, api } = t;
  const ayu = env.demo.agents.find((a) => a.name === 'ayu').address;
  const before = await api(env.base, `/v1/fund/rounds/${round}`);
  const page = await ctx.newPage();
  const leaked = watchKey(page, key);
  const errors = await t.open(page, env.base, `round/${round}`, `round/${round}`);
  check(errors.length === 0, `the round's page loads with its contribution form${errors.length ? ': ' + errors.join('; ') : ''}`);
  await page.selectOption('#contribute-project', '1');
  await page.fill('#contribute-amount', '1.5');
  const posted = page.waitForResponse((r) => r.url().endsWith('/v1/actions') && r.request().method() === 'POST');
  const [ok, text] = await signIn(page, t, 'contribute', key);
  const resp = await (await posted).json();
  check(ok === '1', `the page says the contribution it signed was accepted: ${text}`);
  const a = await api(env.base, `/v1/actions/${resp.id}`);
  check(
    a.type === 'fund_contribute' && a.from === ayu && a.round === round && String(a.project) === '1' && a.amount === '1500000',
    `the ledger holds the contribution as signed in the page, at block ${a.height}`,
  );
  const after = await api(env.base, `/v1/fund/rounds/${round}`);
  const up = BigInt(after.projects[1].contributed) - BigInt(before.projects[1].contributed);
  check(up === 1500000n, `project 1's contributions went up by 1.5 GOT (${up} base units)`);
  check(!leaked(), 'the private key is in no request the contribution page made');
  await page.screenshot({ path: path.join(t.SHOTS, 'round-contributed.png'), fullPage: true });
  await page.close();
}

async function finalizeInPage(ctx, t, env, round, key) {
  const page = await ctx.newPage();
  const errors = await t.open(page, env.base, `round/${round}`, `round/${round}`);
  t.check(errors.length === 0, `the ended round's page loads with its finalize form${errors.length ? ': ' + errors.join('; ') : ''}`);
  const [ok, text] = await signIn(page, t, 'finalize', key);
  t.check(ok === '1', `the page finalized the round with an action it signed: ${text}`);
  const r = await t.api(env.base, `/v1/fund/rounds/${round}`);
  t.check(r.status === 'finalized', `the ledger holds the round finalized (${r.status}, block ${r.finalizedHeight})`);
  await page.close();
}

const TOP = { x: 0, y: 0, width: 1280, height: 800 }; // the README's screenshots: a laptop's first screen

// The API's tokens as the page writes them ("1,234.5 GOT").
export function tokensOf(units) {
  const s = String(units).padStart(7, '0');
  const whole = s.slice(0, -6).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = s.slice(-6).replace(/0+$/, '');
  return `${whole}${frac ? '.' + frac : ''} GOT`;
}

// The datasets page marks each published dataset fundable or not, the reason as the badge's title.
async function datasetsFundable(ctx, t, base) {
  const page = await ctx.newPage();
  const errors = await t.open(page, base, 'datasets', 'datasets');
  t.check(errors.length === 0, `the datasets page loads${errors.length ? ': ' + errors.join('; ') : ''}`);
  const badges = await page.$$eval('.badge', (l) => l.map((e) => e.textContent));
  const why = await page.$$eval('span[title]', (l) => l.map((e) => e.title).filter((x) => x));
  t.check(
    badges.includes('fundable') && badges.includes('not fundable') && why.some((x) => /bonded panel/.test(x)),
    `the datasets page marks one dataset fundable and one not, saying why (${badges.join(', ')})`,
  );
  await page.close();
}

async function matchesShown(ctx, t, env, round) {
  const r = await t.api(env.base, `/v1/fund/rounds/${round}`);
  const page = await ctx.newPage();
  const errors = await t.open(page, env.base, `round/${round}`, `round/${round}`);
  t.check(errors.length === 0, `the finalized round's page loads${errors.length ? ': ' + errors.join('; ') : ''}`);
  const shown = await page.$$eval('.match', (l) => l.map((e) => [e.dataset.project, e.textContent]));
  const want = r.projects.map((p) => [String(p.index), tokensOf(p.match)]);
  t.check(
    JSON.stringify(shown) === JSON.stringify(want),
    `round "${r.name}" (${r.rule}) shows each project's match as the API gives it: ${JSON.stringify(shown)}`,
  );
  t.check(r.projects.some((p) => p.match !== '0'), `round "${r.name}" matched something (${r.matched} base units)`);
  const rule = await page.$eval('#round-rule', (e) => e.textContent);
  t.check(
    r.rule === 'qf' ? /plain quadratic funding/.test(rule) : /sybil rule/.test(rule) && /M = 0\.5 GOT/.test(rule),
    `the page names the rule: ${rule}`,
  );
  await page.screenshot({ path: path.join(t.SHOTS, `round-${r.rule}-finalized.png`), fullPage: true });
  await page.screenshot({ path: path.join(t.SHOTS, `round-${r.rule}-finalized-top.png`), clip: TOP });
  await page.close();
}

// Each paid slot's worker records its points; ayu funds the epoch; the clock
// passes its closeFromS (from ledger format 16 a day after its end: the grace
// for workers paid late in it) and it is closed. Returns the closed epoch (GET). The demo
// records every paid slot's points itself (once per slot, ever) and funds its
// day's epoch: then that epoch is the one closed here. The demo's day may be
// the one before the ledger's now (a run that crosses midnight UTC, or a
// clock moved on by an earlier check), so both days are looked at.
async function pointsAndAirdrop(t, env, fund, tasks, ayu, now) {
  const today = Math.floor((await t.api(env.base, '/v1/head')).time / 86400);
  let at = today;
  let cur = await t.api(env.base, `/v1/fund/epochs/${today}`);
  const before = await t.api(env.base, `/v1/fund/epochs/${today - 1}`);
  if (!(cur.status === 'funded' && cur.points.length > 0) && before.status === 'funded' && before.points.length > 0) {
    at = today - 1;
    cur = before;
  }
  if (cur.status === 'funded' && cur.points.length > 0) {
    await env.clock(Math.max(now, cur.closeFromS + 5));
    fund(ayu, 'airdrop-close', '--epoch', String(at));
    const e = await t.api(env.base, `/v1/fund/epochs/${at}`);
    t.check(
      e.status === 'closed' && e.claims.length === cur.points.length,
      `the demo's epoch ${at} (points of ${cur.points.length} workers) closed with ${e.claims.length} claims, root ${e.root}`,
    );
    return e;
  }
  // One funder per epoch: when the ledger's current epoch is funded already
  // without points, work in the next one.
  if (cur.status !== 'unfunded') {
    now = Math.max(now, (at + 1) * 86400 + 5);
    await env.clock(now);
  }
  let recorded = 0;
  for (const tk of tasks) {
    const full = await t.api(env.base, `/v1/tasks/${tk.id}`);
    for (const s of full.slotList.filter((x) => x.state === 'paid' && x.worker)) {
      fund(s.worker, 'points-record', tk.id, '--slot', String(s.slot));
      recorded++;
    }
  }
  const head = await t.api(env.base, '/v1/head');
  const n = Math.floor(head.time / 86400);
  const open = await t.api(env.base, `/v1/fund/epochs/${n}`);
  t.check(recorded > 0 && open.points.length > 0, `workers recorded points for ${recorded} paid slots in epoch ${n}`);
  fund(ayu, 'airdrop-fund', '--amount', '10', '--epoch', String(n));
  t.check(open.closeFromS === (n + 1) * 86400 + 86400, `epoch ${n} may be closed a day after its end (${open.closeFromS})`);
  await env.clock(Math.max(now, open.closeFromS + 5));
  fund(ayu, 'airdrop-close', '--epoch', String(n));
  const e = await t.api(env.base, `/v1/fund/epochs/${n}`);
  t.check(e.status === 'closed' && e.claims.length > 0, `epoch ${n} closed with ${e.claims.length} claims, root ${e.root}`);
  return e;
}

async function claimInPage(ctx, t, env, epoch, worker) {
  const { check, api } = t;
  const key = t.exportKey(worker);
  const leaf = epoch.claims.find((c) => c.account === worker);
  const before = BigInt((await api(env.base, `/v1/accounts/${worker}`)).balance);
  const page = await ctx.newPage();
  const leaked = watchKey(page, key);
  const hash = `epoch/${epoch.epoch}/${worker}`;
  const errors = await t.open(page, env.base, hash, hash);
  check(errors.length === 0, `the epoch's page loads with the worker's claim${errors.length ? ': ' + errors.join('; ') : ''}`);
  const [ok, text] = await signIn(page, t, 'claim', key);
  check(ok === '1', `the page says the claim it signed was paid: ${text}`);
  const paid = BigInt((await api(env.base, `/v1/accounts/${worker}`)).balance) - before;
  check(paid === BigInt(leaf.amount), `the worker's balance went up by the leaf's amount (${paid} = ${leaf.amount})`);
  const marked = await page.$eval(`#leaf-${leaf.index} .badge`, (el) => el.textContent);
  check(marked === 'claimed', `the page marks the leaf claimed (${marked})`);
  await page.screenshot({ path: path.join(t.SHOTS, 'epoch-claimed.png'), fullPage: true });
  const [ok2, text2] = await signIn(page, t, 'claim', key);
  check(
    ok2 === '0' && /refused by the node: EEXIST: claim \d+ of epoch \d+ was already paid/.test(text2),
    `a second claim from the page is refused, readably: "${text2}"`,
  );
  const again = BigInt((await api(env.base, `/v1/accounts/${worker}`)).balance) - before;
  check(again === paid, `the second claim paid nothing (${again - paid} base units more)`);
  const e = await api(env.base, `/v1/fund/epochs/${epoch.epoch}`);
  check(e.claimed === leaf.amount, `the epoch counts the leaf claimed once (${e.claimed})`);
  check(!leaked(), 'the private key is in no request the claim page made');
  await page.screenshot({ path: path.join(t.SHOTS, 'epoch-claim-refused.png'), fullPage: true });
  await page.evaluate(() => document.getElementById('claim-result').scrollIntoView({ block: 'center' }));
  await page.screenshot({ path: path.join(t.SHOTS, 'epoch-claim-refused-view.png') });
  await page.close();
}
