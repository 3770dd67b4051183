// tests/web/label.mjs: the labelling page (web/label.js) in the browser, run
// by dashboard.mjs on the demo's ledger after the funding checks (whose
// issuer has attested ayu, budi and citra). citra posts a preference task
// through the CLI (two items, one of them hidden gold; two seats). Checked:
//   - the task list and the task's page show it; the demo's own closed task
//     shows its state, agreement and export links as the API gives them;
//   - an address with no proof of human (dewi) is refused a seat from the
//     page, with the node's reason shown, and holds none;
//   - ayu, keyboard only (typing the key, Enter, digits, a reason, Enter),
//     joins and commits both labels from the page: the ledger holds her seat
//     and two sealed commitments; the openings are in this browser's
//     localStorage, the key in no request; the answer to her first commit is
//     lost on the way (the node applied it): the page finds it on the ledger
//     and keeps its opening (the old page threw it away, and she could then
//     reveal only one of two labels);
//   - budi labels through the CLI (`gotong label`, plain lines), so every
//     seat has labelled and reveals open;
//   - ayu, on a fresh load of the page, reveals from it: the ledger holds her
//     choices and reasons exactly as typed, the task counts the reveals;
//   - budi reveals and citra closes through the CLI; the page then shows the
//     task closed, its agreement as the API gives it and export links that
//     the node serves (the DPO lines as many as the task says).
// Then the terms the page checks before a seat is taken, as `gotong label
// join` does (joinTermsChecks), each refused with the page's reason and no
// join sent (the old page sent each one and the node seated it):
//   - a task with 300 s to label, block time moved on 120 s: under the 300 s
//     a labeller accepts by default; with the least window typed as 1 s the
//     seat is taken;
//   - a bond of 0.02 GOT, the largest accepted typed as 0.01;
//   - a labeller whose proof of human expires in 600 s, before the task's
//     last label (its commit window is an hour).
// Then the ranking form (rankingChecks), on a ranking task citra posts with
// `gotong label post --ranking` (two items of three answers, one gold):
//   - ayu, keyboard only, takes a seat and orders each item's answers by
//     typing their numbers best first (a digit typed anywhere starts the
//     order), Tab, a reason, Enter; an order that repeats an answer is
//     refused by the page with what to type and nothing reaches the ledger;
//     the ledger holds her two labels sealed;
//   - budi orders them through the CLI; ayu reveals from the page: the
//     ledger holds her rank codes (the answers' 0-based digits, best first)
//     and reasons as typed;
//   - budi reveals, citra closes: the page shows the task closed, the
//     consensus order of the item both ranked alike, and its export.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { watchKey } from './funding.mjs';

const ITEMS = {
  name: 'web test preferences',
  items: [
    { prompt: 'Which of these is a prime number?', answers: ['9', '7'], gold: 1 },
    { prompt: 'Reply to: "the build is green".', answers: ['Great, merging now.', 'k', 'Why?'] },
  ],
};

// The whole label check. t: dashboard.mjs's helpers; env: {base, home, demo,
// gotong}. Returns the pages to load at each width.
export async function labelChecks(ctx, t, env) {
  const { check, api } = t;
  const { base, home } = env;
  const pw = path.join(home, 'password.txt');
  const agent = (name) => env.demo.agents.find((a) => a.name === name).address;
  const [ayu, budi, citra] = ['ayu', 'budi', 'citra'].map(agent);
  // An agent with no proof of human: the demo's faucet attests the humans
  // behind its posting agents (for points), so take one it did not.
  let stranger;
  for (const a of env.demo.agents) {
    const hm = await api(base, `/v1/fund/humans/${a.address}`);
    if (!(hm.weightPpm > 0)) { stranger = a; break; }
  }
  check(stranger !== undefined, `an agent of the demo has no proof of human (${stranger && stranger.name})`);
  const label = (from, args, input) =>
    execFileSync(env.gotong, ['label', ...args, '--home', home, '--from', from, '--password-file', pw, '--node', base], {
      encoding: 'utf8',
      input: input || '',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  for (const a of [ayu, budi]) {
    const hm = await api(base, `/v1/fund/humans/${a}`);
    check(hm.weightPpm > 0, `labeller ${a} is an attested human (${hm.weightPpm} ppm)`);
  }
  const file = path.join(home, 'web-test-items.json');
  fs.writeFileSync(file, JSON.stringify(ITEMS));
  const out = label(citra, ['post', '--file', file, '--labellers', '2']);
  const task = (/task (0x[0-9a-f]{64})/.exec(out) || [])[1];
  check(task !== undefined, `citra posted a label task through the CLI (${task})`);
  const demoTask = (await api(base, '/v1/label/tasks')).tasks.find((x) => x.status !== 'open');
  check(demoTask !== undefined, `the demo closed a label task (${demoTask && demoTask.name})`);

  await listShown(ctx, t, env, task);
  await refusedSeat(ctx, t, env, task, stranger.address);
  await keyboardLabels(ctx, t, env, task, ayu);
  label(budi, ['join', task]);
  label(budi, [task], '1 nine is three squared\n2 too short\n');
  const tk = await api(base, `/v1/label/tasks/${task}`);
  check(tk.commits === 4, `every seat has labelled every item (${tk.commits} of 4 commitments)`);
  await revealInPage(ctx, t, env, task, ayu);
  label(budi, ['reveal', task]);
  label(citra, ['close', task]);
  await closedShown(ctx, t, env, task);
  await closedShown(ctx, t, env, demoTask.id);
  await rankingChecks(ctx, t, env, label, { ayu, budi, citra });
  await joinTermsChecks(ctx, t, env, label, { ayu, budi, citra, stranger: stranger.address });
  return [
    ['label-tasks', 'label'],
    ['label-task', `label/${task}`],
    ['label-demo', `label/${demoTask.id}`],
  ];
}

async function listShown(ctx, t, env, task) {
  const page = await ctx.newPage();
  const errors = await t.open(page, env.base, 'label', 'label');
  const link = await page.$(`a[href="#/label/${task}"]`);
  t.check(errors.length === 0 && link !== null, `the label tasks page lists the new task${errors.length ? ': ' + errors.join('; ') : ''}`);
  await page.close();
}

// Types key into the page's signer form and presses Enter; waits for the work area.
async function unlock(page, t, key, ready) {
  await page.focus('#label-key');
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
  await page.waitForSelector(ready, { timeout: t.WAIT_MS });
}

// Waits until the result line has an outcome; returns [ok, text].
async function outcome(page, t) {
  await page.waitForSelector('#label-result[data-ok]', { timeout: t.WAIT_MS });
  return page.$eval('#label-result', (el) => [el.dataset.ok, el.textContent]);
}

async function refusedSeat(ctx, t, env, task, dewi) {
  const key = t.exportKey(dewi); // an address with no proof of human
  const page = await ctx.newPage();
  const errors = await t.open(page, env.base, `label/${task}`, `label/${task}`);
  t.check(errors.length === 0, `the task's page loads${errors.length ? ': ' + errors.join('; ') : ''}`);
  await unlock(page, t, key, '#label-join');
  await page.keyboard.press('Enter');
  const [ok, text] = await outcome(page, t);
  t.check(
    ok === '0' && /refused by the node: EPERM: labelling takes a proof of human/.test(text),
    `a seat for an address with no proof of human is refused, with the node's reason: "${text}"`,
  );
  const tk = await t.api(env.base, `/v1/label/tasks/${task}`);
  t.check(!tk.seats.some((s) => s.address === dewi), `the ledger gave the unattested agent no seat (${tk.joined} seats taken)`);
  await page.close();
}

// ayu joins and labels both items with the keyboard alone.
async function keyboardLabels(ctx, t, env, task, ayu) {
  const { check } = t;
  const key = t.exportKey(ayu);
  const page = await ctx.newPage();
  const leaked = watchKey(page, key);
  await t.open(page, env.base, `label/${task}`, `label/${task}`);
  await unlock(page, t, key, '#label-join');
  check(await page.evaluate(() => document.activeElement.id === 'label-join'), 'after the key, focus is on "Take a seat"');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#label-item[data-item="0"]', { timeout: t.WAIT_MS });
  const [okJoin, joined] = await page.$eval('#label-result', (el) => [el.dataset.ok, el.textContent]);
  check(okJoin === '1', `the page took a seat with an action it signed: ${joined}`);
  const picks = [
    ['2', 'seven has no divisors but 1 and itself'],
    ['1', 'polite and says what happens'],
  ];
  // The first commit's answer is lost: the node applies it, the page hears
  // nothing (the connection reset). Its opening must stay in this browser.
  let dropped = false;
  await page.route('**/v1/actions', async (route) => {
    if (dropped || route.request().method() !== 'POST') return route.continue();
    dropped = true;
    await route.fetch();
    await route.abort('connectionreset');
  });
  for (const [i, [digit, reason]] of picks.entries()) {
    await page.keyboard.press(digit);
    const picked = await page.$eval('#label-item input[name="choice"]:checked', (el) => el.value).catch(() => null);
    const typing = await page.evaluate(() => document.activeElement.id);
    check(picked === String(Number(digit) - 1) && typing === 'label-reason', `key ${digit} chose answer ${digit} of item ${i + 1} and moved to the reason`);
    await page.keyboard.type(reason);
    if (i === 0) {
      // The README's screenshot: an item being labelled, the answer chosen by its key.
      await page.evaluate(() => window.scrollTo(0, document.getElementById('label-work').getBoundingClientRect().top + window.scrollY - 260));
      await page.screenshot({ path: path.join(t.SHOTS, 'label-item.png') });
    }
    await page.keyboard.press('Enter');
    await page.waitForSelector(i === 0 ? '#label-item[data-item="1"]' : '#label-waiting', { timeout: t.WAIT_MS });
    const [ok, text] = await page.$eval('#label-result', (el) => [el.dataset.ok, el.textContent]);
    check(ok === '1', `item ${i + 1} committed from the keyboard: ${text}`);
    if (i === 0) check(dropped && /answer was lost; the ledger holds it/.test(text), `item 1's lost answer was found on the ledger: ${text}`);
  }
  await page.unroute('**/v1/actions');
  const { labels } = await t.api(env.base, `/v1/label/tasks/${task}/labels`);
  const mine = labels.filter((l) => l.labeller === ayu);
  check(
    mine.length === 2 && mine.every((l) => !l.revealed && l.choice === null && l.reason === '' && /^0x[0-9a-f]{64}$/.test(l.commitment)),
    `the ledger holds ayu's two labels sealed (commitments only)`,
  );
  const saved = await page.evaluate((k) => localStorage.getItem(k), `gotong.label.${task}.${ayu.toLowerCase()}`);
  const s = JSON.parse(saved || '{}');
  check(s[0] && s[1] && s[0][0].choice === 1 && s[1][0].choice === 0, 'the openings are kept in this browser (localStorage)');
  check(!leaked(), 'the private key is in no request the labelling page made');
  await page.screenshot({ path: path.join(t.SHOTS, 'label-committed.png'), fullPage: true });
  await page.close();
}

async function revealInPage(ctx, t, env, task, ayu) {
  const { check } = t;
  const key = t.exportKey(ayu);
  const page = await ctx.newPage();
  const leaked = watchKey(page, key);
  await t.open(page, env.base, `label/${task}`, `label/${task}`);
  await unlock(page, t, key, '#label-reveal');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#label-waiting', { timeout: t.WAIT_MS });
  const [ok, text] = await page.$eval('#label-result', (el) => [el.dataset.ok, el.textContent]);
  check(ok === '1' && /2 labels revealed/.test(text), `the page revealed ayu's labels: ${text}`);
  const { labels } = await t.api(env.base, `/v1/label/tasks/${task}/labels`);
  const mine = labels.filter((l) => l.labeller === ayu).map((l) => [l.item, l.choice, l.reason]);
  check(
    JSON.stringify(mine) ===
      JSON.stringify([
        [0, 1, 'seven has no divisors but 1 and itself'],
        [1, 0, 'polite and says what happens'],
      ]),
    `the ledger holds ayu's choices and reasons as typed: ${JSON.stringify(mine)}`,
  );
  const tk = await t.api(env.base, `/v1/label/tasks/${task}`);
  const seat = tk.seats.find((s) => s.address === ayu);
  check(tk.reveals === 2 && seat.reveals === 2, `the task counts her 2 reveals (task ${tk.reveals}, seat ${seat.reveals})`);
  check(!leaked(), 'the private key is in no request the reveal made');
  await page.close();
}

async function closedShown(ctx, t, env, task) {
  const { check } = t;
  const tk = await t.api(env.base, `/v1/label/tasks/${task}`);
  const page = await ctx.newPage();
  const errors = await t.open(page, env.base, `label/${task}`, `label/${task}`);
  const state = await page.$eval('#label-state .badge', (el) => el.textContent);
  const alpha = await page.$eval('#label-alpha', (el) => el.textContent);
  const ppm = tk.alphaPpm;
  const want =
    ppm === null ? /^n\/a/ : new RegExp(`^${ppm < 0 ? '-' : ''}${Math.floor(Math.abs(ppm) / 1e6)}\\.${String(Math.abs(ppm) % 1e6).padStart(6, '0')}$`);
  check(
    errors.length === 0 && state === tk.status && want.test(alpha),
    `"${tk.name}" shows its state ${state} and α ${alpha} as the API gives them (${tk.status}, ${ppm} ppm)`,
  );
  const href = await page.$eval('#label-exports a[data-format="dpo"]', (el) => el.getAttribute('href'));
  const dpo = await t.rawGet(env.base, href);
  const lines = dpo.body.split('\n').filter((l) => l).length;
  check(dpo.status === 200 && lines === tk.exportLines, `its DPO export link serves ${lines} lines (the task says ${tk.exportLines})`);
  const card = await t.rawGet(env.base, await page.$eval('#label-exports a[data-format="card"]', (el) => el.getAttribute('href')));
  check(card.status === 200 && card.body.includes(tk.dpoRoot), 'its dataset card link serves the card with the DPO root');
  await page.screenshot({ path: path.join(t.SHOTS, `label-closed-${task.slice(2, 8)}.png`), fullPage: true });
  await page.close();
}

// Opens task's page as addr, types terms into the join form (fields:
// {selector: text}) and takes a seat; returns [ok, text] and whether the
// ledger seated addr.
async function tryJoin(ctx, t, env, task, addr, fields) {
  const page = await ctx.newPage();
  await t.open(page, env.base, `label/${task}`, `label/${task}`);
  await unlock(page, t, t.exportKey(addr), '#label-join');
  for (const [sel, text] of Object.entries(fields)) await page.fill(sel, text);
  await page.click('#label-join');
  const [ok, text] = await outcome(page, t);
  await page.close();
  const tk = await t.api(env.base, `/v1/label/tasks/${task}`);
  return [ok, text, tk.seats.some((s) => s.address === addr)];
}

async function joinTermsChecks(ctx, t, env, label, { ayu, budi, citra, stranger }) {
  const { check } = t;
  const file = path.join(env.home, 'web-test-items.json');
  const post = (args) => {
    const out = label(citra, ['post', '--file', file, '--labellers', '2', ...args]);
    return (/task (0x[0-9a-f]{64})/.exec(out) || [])[1];
  };
  const shortTask = post(['--commit-window', '300']);
  await env.clock((await t.api(env.base, '/v1/head')).time + 120);
  let [ok, text, seated] = await tryJoin(ctx, t, env, shortTask, ayu, {});
  const left = /not joined: \d+ s are left to label the task's 2 items .*under the 300 s you accept/;
  check(
    ok === '0' && !seated && left.test(text),
    `a seat with under 300 s left to label is refused by the page, no join sent: "${text}"`,
  );
  [ok, text, seated] = await tryJoin(ctx, t, env, shortTask, ayu, { '#label-min-window': '1' });
  check(ok === '1' && seated, `with the least window typed as 1 s the page takes the seat: "${text}"`);
  const task = post([]);
  [ok, text, seated] = await tryJoin(ctx, t, env, task, budi, { '#label-max-bond': '0.01' });
  const over = /not joined: the task's bond is 0\.02 GOT, over the largest bond you accept, 0\.01 GOT/;
  check(
    ok === '0' && !seated && over.test(text),
    `a bond over the largest typed is refused by the page, no join sent: "${text}"`,
  );
  const pw = path.join(env.home, 'password.txt');
  const dewi = env.demo.agents.find((a) => a.name === 'dewi').address; // funding.mjs registered it as an issuer
  t.cli(['fund', 'attest', stranger, '--person', 'web test short proof', '--expires-in', '600', '--home', env.home,
    '--from', dewi, '--password-file', pw, '--node', env.base]);
  [ok, text, seated] = await tryJoin(ctx, t, env, task, stranger, {});
  const expires = /not joined: this address's proof of human expires at .* before the task takes its last label/;
  check(
    ok === '0' && !seated && expires.test(text),
    `a labeller whose proof of human ends before the last label is refused by the page, no join sent: "${text}"`,
  );
}

const RANKS = {
  name: 'web test rankings',
  items: [
    { prompt: 'Order these by size, largest first.', answers: ['a mouse', 'an elephant', 'a dog'], gold: '120' },
    { prompt: 'Order the replies to "can you review my PR?", best first.', answers: ['Sure, looking now.', 'No.', 'Later, maybe.'] },
  ],
};

// The ranking form: post, ayu orders from the keyboard, budi through the
// CLI, ayu reveals from the page, citra closes; the page shows the outcome.
async function rankingChecks(ctx, t, env, label, { ayu, budi, citra }) {
  const { check } = t;
  const file = path.join(env.home, 'web-test-ranks.json');
  fs.writeFileSync(file, JSON.stringify(RANKS));
  const out = label(citra, ['post', '--ranking', '--file', file, '--labellers', '2']);
  const task = (/task (0x[0-9a-f]{64})/.exec(out) || [])[1];
  check(task !== undefined && /a ranking task/.test(out), `citra posted a ranking task through the CLI (${task})`);
  await keyboardRanks(ctx, t, env, task, ayu);
  label(budi, ['join', task]);
  label(budi, [task], '231 elephant, dog, mouse\n132 the polite one first\n');
  await rankRevealInPage(ctx, t, env, task, ayu);
  label(budi, ['reveal', task]);
  label(citra, ['close', task]);
  await closedShown(ctx, t, env, task);
  const tk = await t.api(env.base, `/v1/label/tasks/${task}`);
  const page = await ctx.newPage();
  await t.open(page, env.base, `label/${task}`, `label/${task}`);
  const item1 = await page.$eval('article.item[data-item="1"]', (el) => el.textContent);
  check(
    tk.ranking === true && tk.itemList[1].label === '021' && /label order 1 3 2/.test(item1),
    `the closed ranking task shows item 2's consensus order "1 3 2" as the ledger has it (its answers best first: ${tk.itemList[1].label})`,
  );
  await page.screenshot({ path: path.join(t.SHOTS, 'label-ranking-closed.png'), fullPage: true });
  await page.close();
}

// ayu joins and orders both items with the keyboard alone.
async function keyboardRanks(ctx, t, env, task, ayu) {
  const { check } = t;
  const key = t.exportKey(ayu);
  const page = await ctx.newPage();
  const leaked = watchKey(page, key);
  await t.open(page, env.base, `label/${task}`, `label/${task}`);
  await unlock(page, t, key, '#label-join');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#label-item[data-item="0"] #label-order', { timeout: t.WAIT_MS });
  const legend = await page.$eval('#label-item legend', (el) => el.textContent);
  check(/order the answers, best first/.test(legend), `a ranking item asks for an order: "${legend}"`);
  // a repeated answer: refused by the page, nothing sent
  await page.keyboard.press('1');
  await page.keyboard.press('1');
  check(await page.evaluate(() => document.activeElement.id === 'label-order'), 'a digit typed anywhere starts the order in its field');
  await page.keyboard.press('Enter');
  const [bad, why] = await outcome(page, t);
  check(bad === '0' && /type the answers 1-3 from best to worst, each once/.test(why), `the order "11" is refused by the page: "${why}"`);
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  const orders = [
    ['23', 'elephant, dog, mouse'],
    ['132', 'says yes and does it'],
  ];
  for (const [i, [digits, reason]] of orders.entries()) {
    for (const d of digits) await page.keyboard.press(d);
    await page.keyboard.press('Tab');
    const typing = await page.evaluate(() => document.activeElement.id);
    check(typing === 'label-reason', `Tab after the order "${digits}" of item ${i + 1} moves to the reason`);
    await page.keyboard.type(reason);
    await page.keyboard.press('Enter');
    await page.waitForSelector(i === 0 ? '#label-item[data-item="1"]' : '#label-waiting', { timeout: t.WAIT_MS });
    const [ok, text] = await page.$eval('#label-result', (el) => [el.dataset.ok, el.textContent]);
    const said = i === 0 ? 'order 2 3 1' : 'order 1 3 2';
    check(ok === '1' && text.includes(said), `item ${i + 1} committed from the keyboard as "${said}": ${text}`);
  }
  const { labels } = await t.api(env.base, `/v1/label/tasks/${task}/labels`);
  const mine = labels.filter((l) => l.labeller === ayu);
  check(mine.length === 2 && mine.every((l) => !l.revealed && l.choice === null), `the ledger holds ayu's two orders sealed`);
  check(!leaked(), 'the private key is in no request the ranking form made');
  await page.close();
}

async function rankRevealInPage(ctx, t, env, task, ayu) {
  const { check } = t;
  const key = t.exportKey(ayu);
  const page = await ctx.newPage();
  await t.open(page, env.base, `label/${task}`, `label/${task}`);
  await unlock(page, t, key, '#label-reveal');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#label-waiting', { timeout: t.WAIT_MS });
  const [ok, text] = await page.$eval('#label-result', (el) => [el.dataset.ok, el.textContent]);
  check(ok === '1' && /2 labels revealed/.test(text), `the page revealed ayu's orders: ${text}`);
  const { labels } = await t.api(env.base, `/v1/label/tasks/${task}/labels`);
  const mine = labels.filter((l) => l.labeller === ayu).map((l) => [l.item, l.choice, l.reason]);
  check(
    JSON.stringify(mine) ===
      JSON.stringify([
        [0, 120, 'elephant, dog, mouse'],
        [1, 21, 'says yes and does it'],
      ]),
    `the ledger holds ayu's rank codes and reasons as typed: ${JSON.stringify(mine)}`,
  );
  await page.close();
}
