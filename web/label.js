// label.js: paid human feedback (src/fund/label*.c, docs/api.md "Human
// feedback"): label tasks, and labelling one from this page. A person picks
// the best answer to each prompt with the keyboard (1-4, a reason, Enter) or
// the mouse; the page commits each label as a hash and reveals it later,
// every action signed in this browser (sign.js: a key typed into the page,
// kept in this page's memory until it is left, or an injected EIP-1193
// wallet). A label's opening (choice, reason and its secret salt) is saved in
// this browser's localStorage before its commitment is sent, as the CLI saves
// it in HOME/labels/, so the reveal can be made later from this browser. The
// task's state is judged by the head block's time, as the ledger judges it.
// On a ranking task (label_rank_post) the person types the answers' numbers
// best first ("312"; the last may be left out) and the label is the order's
// rank code (src/work/label/rank.h: the 0-based digits read as a number).
// Before a seat is taken the page checks the terms `gotong label join` checks
// (joinRefusal): enough time left to label and to reveal, a bond within what
// the labeller accepts, a proof of human valid until the last label.
import {
  get, post, h, tokens, toUnits, when, short, table, facts, badge, addrLink, blockLink, loadNames, SYMBOL,
} from './api.js';
import { keySigner, walletSigner, signAction, keccakBytes, hexToBytes, concat, bytesToHex } from './sign.js';

const PPM = 1000000;
const REASON_MAX = 280; // GT_LABEL_REASON_MAX (src/fund/label.h), bytes
const JOIN_MIN_WINDOW_S = 300; // `gotong label join --min-window`'s default (src/cli/cli_label.c)
const enc = new TextEncoder();

const errText = (r) =>
  r.body && r.body.error ? `${r.body.error.code}: ${r.body.error.message}` : `HTTP ${r.status} from the node`;

// Signs and submits one action; returns the node's answer or throws its refusal.
async function submit(signer, type, fields) {
  const chain = await get('/v1/chain');
  const acct = await get(`/v1/accounts/${signer.address}`);
  const r = await post('/v1/actions', await signAction(chain, signer, type, acct.nonce, fields));
  if (r.status !== 200 || !r.body || !r.body.ok) throw new Error(`refused by the node: ${errText(r)}`);
  return r.body;
}

// An order typed as answer numbers best first ("312", or "31": the last
// implied) as its rank code, or null when it is not an order of n answers.
export function rankCode(text, n) {
  const t = text.trim();
  if (!/^[1-4]+$/.test(t) || t.length < n - 1 || t.length > n) return null;
  const order = [...t].map((c) => Number(c) - 1);
  if (order.some((a) => a >= n) || new Set(order).size !== order.length) return null;
  for (let a = 0; order.length < n && a < n; a++) if (!order.includes(a)) order.push(a);
  return order.reduce((code, a) => code * 10 + a, 0);
}

// A rank code (or the node's "021") of n answers as the numbers best first.
const orderText = (code, n) =>
  String(code)
    .padStart(n, '0')
    .split('')
    .map((d) => Number(d) + 1)
    .join(' ');

// What a label says: "answer 2", or on a ranking task "order 3 1 2".
const labelText = (t, choice, n) => (t.ranking ? `order ${orderText(choice, n)}` : `answer ${choice + 1}`);

// An unsigned integer as 8 big-endian bytes.
function be64(v) {
  const out = new Uint8Array(8);
  let n = BigInt(v);
  for (let i = 7; i >= 0; i--, n >>= 8n) out[i] = Number(n & 255n);
  return out;
}

// The commitment of a label, as gt_fund_label_commitment computes it:
// keccak256("gotong.label.vote" ‖ task ‖ item ‖ labeller ‖ choice ‖ keccak256(reason) ‖ salt).
export async function labelCommitment(task, item, labeller, choice, reason, saltHex) {
  const rh = await keccakBytes(enc.encode(reason));
  const bytes = concat(
    enc.encode('gotong.label.vote'),
    hexToBytes(task),
    be64(item),
    hexToBytes(labeller),
    be64(choice),
    rh,
    hexToBytes(saltHex),
  );
  return bytesToHex(await keccakBytes(bytes));
}

// ---- The openings saved in this browser: {item: [{choice, reason, salt}]}.
// A list per item: an opening is saved before its commit is sent, so a page
// closed mid-send keeps it; the reveal uses the one that opens the ledger's
// commitment.

const storeKey = (task, addr) => `gotong.label.${task.toLowerCase()}.${addr.toLowerCase()}`;

function loadSaved(task, addr) {
  try {
    const v = JSON.parse(localStorage.getItem(storeKey(task, addr)) || '{}');
    return v && typeof v === 'object' ? v : {};
  } catch (e) {
    return {};
  }
}

function storeSaved(task, addr, saved) {
  localStorage.setItem(storeKey(task, addr), JSON.stringify(saved));
}

// ---- A seat's terms, checked before its bond is staked (as `gotong label join` does).

// The time the node's next block will carry, as near as the page can tell:
// the later of this computer's clock and the head's time. A node stamps a
// block with the later of its clock and the head's, and an idle network's
// head can be hours old: the time left counted from it looks longer than it is.
export const nextBlockS = (headS, clockMs = Date.now()) => Math.max(Math.floor(clockMs / 1000), Number(headS));

// When addr's proof of human ends: the latest expiry of its unrevoked
// attestations (GET /v1/fund/humans/{addr}), 0 without one (the node then
// refuses the seat itself, saying why).
export function proofUntil(human) {
  const live = (human.attestations || []).filter((a) => !a.revoked && a.expiresS > 0);
  return live.reduce((m, a) => Math.max(m, Number(a.expiresS)), 0);
}

// Why a seat in task t should not be taken at block time nowS, or null when
// its terms are met: minWindowS, the least time to label and to reveal the
// labeller accepts; maxBond (base units, a BigInt), the largest bond; until,
// when its proof of human ends. A poster may choose windows a person cannot
// meet (before ledger format 10 of a second) or a bond far over the pay (a
// false gold burns it): a seat that misses a label or a reveal loses its
// bond. Before format 10 each commit checks the proof of human again, and
// the node does not say which rule it is under, so its expiry is checked too.
export function joinRefusal(t, nowS, minWindowS, maxBond, until) {
  const ce = Number(t.commitEndS);
  const re = Number(t.revealEndS);
  if (nowS < ce && ce - nowS < minWindowS)
    return `not joined: ${ce - nowS} s are left to label the task's ${t.items} items (until ${when(ce)}), under ` +
      `the ${minWindowS} s you accept; a seat that misses an item loses its bond`;
  if (re - ce < minWindowS)
    return `not joined: the reveal window is ${re - ce} s, under the ${minWindowS} s you accept; unless every seat ` +
      'labels early, labels are revealed only in it, and a seat that misses it loses its bond';
  if (BigInt(t.bond) > maxBond)
    return `not joined: the task's bond is ${tokens(t.bond)}, over the largest bond you accept, ` +
      `${tokens(maxBond.toString())}; by default twice the seat's pay for its ${t.items} items`;
  if (until && until < ce)
    return `not joined: this address's proof of human expires at ${when(until)}, before the task takes its last ` +
      `label (${when(ce)}): each label is committed only while it is valid, and a seat that misses one loses ` +
      'its bond; renew it first';
  return null;
}

// ---- How a task stands at block time now_s.

function taskState(t, now_s) {
  if (t.status !== 'open') return [t.status, 'ok'];
  if (t.itemsAdded < t.items) return ['adding items', 'open'];
  const allIn = t.joined === t.labellers && t.commits === t.labellers * t.items;
  if (now_s < t.commitEndS && !allIn) return ['taking labels', 'open'];
  if (now_s < t.revealEndS) return ['revealing', 'open'];
  return ['reveal window over', 'bad'];
}

// An agreement figure in ppm as a decimal, or why it has none.
function agreement(ppm) {
  if (ppm === null || ppm === undefined) return 'n/a (no value: every label in one answer, or nothing to pair)';
  const n = Number(ppm);
  const s = n < 0 ? '-' : '';
  const a = Math.abs(n);
  return `${s}${Math.floor(a / PPM)}.${String(a % PPM).padStart(6, '0')}`;
}

const taskLink = (t) => h('a', { href: `#/label/${t.id}` }, t.name || short(t.id));

export async function labelTasksPage() {
  await loadNames();
  const [{ tasks }, head] = await Promise.all([get('/v1/label/tasks?limit=100'), get('/v1/head')]);
  const rows = tasks.map((t) => {
    const [state, kind] = taskState(t, head.time);
    return [
      taskLink(t),
      badge(state, kind),
      t.items,
      `${t.joined} of ${t.labellers}`,
      tokens(t.payPerLabel),
      when(t.commitEndS),
      when(t.revealEndS),
      t.status === 'open' ? '—' : agreement(t.alphaPpm),
      addrLink(t.poster, 'wallet'),
    ];
  });
  return h(
    'section',
    {},
    h('h1', {}, 'Label tasks'),
    h(
      'p',
      { class: 'muted' },
      'A poster pays attested humans to pick the best of two to four answers to each prompt. Labels are ' +
        'committed as hashes first and revealed once every seat has labelled, so nobody copies anyone; hidden ' +
        'gold items catch careless labellers, who lose their bond. A closed task’s labels become a DPO / ' +
        'HH-RLHF dataset whose Merkle roots are on the ledger.',
    ),
    rows.length
      ? table(
          ['Task', 'State', 'Items', 'Seats', 'Pay per label', 'Labels until', 'Reveals until', 'Agreement (α)', 'Poster'],
          rows,
          'the newest 100 label tasks',
        )
      : h('p', {}, 'no label tasks yet (gotong label post)'),
  );
}

function taskFacts(t, head) {
  const [state, kind] = taskState(t, head.time);
  const closed = t.status !== 'open';
  const exp = (f, text) => h('a', { href: `/v1/label/tasks/${t.id}/export?format=${f}`, 'data-format': f }, text);
  return facts([
    ['Task', h('span', { class: 'mono' }, t.id)],
    ['Poster', addrLink(t.poster, 'wallet')],
    ['State', h('span', { id: 'label-state' }, badge(state, kind), ` at block ${head.height}, ${when(head.time)}`)],
    ['Pay per label', tokens(t.payPerLabel)],
    ['Bond per seat', `${tokens(t.bond)} (burned if a seat misses a label or fails the gold bar)`],
    ['Seats', h('span', { id: 'label-seats' }, `${t.joined} of ${t.labellers} taken`)],
    ['Labels committed', h('span', { id: 'label-commits' }, `${t.commits} of ${t.labellers * t.items}`)],
    ['Labels revealed', h('span', { id: 'label-reveals' }, `${t.reveals} of ${t.commits}`)],
    ['Labels until', `${when(t.commitEndS)} (or once every seat has labelled every item)`],
    ['Reveals until', when(t.revealEndS)],
    ['Gold bar', `${t.goldBarPct} % right on the hidden gold items (at least ${t.minGold} gold)`],
    ['Posted', blockLink(t.createdHeight)],
    closed && ['Closed', blockLink(t.closedHeight)],
    closed && ['Outcome', `${t.accepted} accepted, ${t.careless} careless, ${t.incomplete} incomplete`],
    closed && ['Items labelled', `${t.labelled} (a plain item’s label: the answer most accepted labellers chose)`],
    closed && ["Krippendorff's α", h('span', { id: 'label-alpha' }, agreement(t.alphaPpm))],
    closed && ["Light's κ", h('span', { id: 'label-kappa' }, agreement(t.kappaPpm))],
    closed && ['Paid, burned, refunded', `${tokens(t.paid)}, ${tokens(t.burned)}, ${tokens(t.refunded)}`],
    closed && [
      'Export',
      h(
        'span',
        { id: 'label-exports' },
        exp('dpo', `DPO (${t.exportLines} lines)`),
        ' · ',
        exp('hh', 'HH-RLHF'),
        ' · ',
        exp('card', 'dataset card'),
      ),
    ],
    closed && ['DPO root', h('span', { class: 'mono' }, t.dpoRoot)],
    closed && ['HH-RLHF root', h('span', { class: 'mono' }, t.hhRoot)],
  ]);
}

// The items with their answers and, per item, the labels on the ledger.
function itemsSection(t, labels) {
  return t.itemList.map((it) => {
    const mine = labels.filter((l) => l.item === it.index);
    const gold = it.gold !== undefined && it.gold !== null;
    return h(
      'article',
      { class: 'item', 'data-item': it.index },
      h('h3', {}, `Item ${it.index + 1}`, gold ? ' (gold)' : ''),
      h('p', { class: 'prompt' }, it.prompt),
      t.ranking && (gold || it.label)
        ? h('p', {}, gold ? `gold order ${orderText(it.gold, it.answers.length)} ` : '',
            it.label ? `label order ${orderText(it.label, it.answers.length)}` : '')
        : null,
      h(
        'ol',
        { class: 'answers' },
        it.answers.map((a, k) =>
          h(
            'li',
            {},
            a,
            it.gold === k ? [' ', badge('gold', 'ok')] : null,
            it.label === k ? [' ', badge('label', 'ok')] : null,
          ),
        ),
      ),
      mine.length
        ? table(
            ['Labeller', 'Answer', 'Reason'],
            mine.map((l) => [
              addrLink(l.labeller, 'wallet'),
              h('span', { class: 'choice' }, l.revealed ? labelText(t, l.choice, it.answers.length) : 'sealed'),
              l.revealed ? l.reason || '—' : 'committed; shown once revealed',
            ]),
          )
        : null,
    );
  });
}

function seatRows(t) {
  return t.seats.map((s) => [
    s.seat + 1,
    addrLink(s.address, 'wallet'),
    s.commits,
    s.reveals,
    badge(s.outcome, s.outcome === 'accepted' ? 'ok' : s.outcome === 'seated' ? 'open' : 'bad'),
    t.status === 'open' ? '—' : tokens(s.paid),
    t.status === 'open' ? '—' : `${s.goldRight} of ${s.goldSeen}`,
  ]);
}

export async function labelPage(page, id) {
  await loadNames();
  const [t, head, { labels }] = await Promise.all([
    get(`/v1/label/tasks/${id}`),
    get('/v1/head'),
    get(`/v1/label/tasks/${id}/labels`),
  ]);
  const top = h('div', { id: 'label-facts' });
  const bottom = h('div', {});
  // Shows the task as read (again after each action taken here).
  const show = (tk, hd, ls) => {
    top.replaceChildren(taskFacts(tk, hd));
    bottom.replaceChildren(
      h('h2', {}, 'Items'),
      h('div', { class: 'items' }, itemsSection(tk, ls)),
      h('h2', {}, 'Seats'),
      tk.seats.length
        ? table(['Seat', 'Labeller', 'Committed', 'Revealed', 'Outcome', 'Paid', 'Gold right'], seatRows(tk))
        : h('p', {}, 'no seat taken yet'),
    );
  };
  show(t, head, labels);
  const parts = [h('h1', {}, `Label task ${t.name || short(t.id)}`), top];
  if (t.status === 'open') parts.push(h('h2', {}, 'Label'), workSection(page, t, show));
  parts.push(bottom, h('p', {}, h('a', { href: '#/label' }, '← all label tasks')));
  return h('section', {}, parts);
}

// ---- Labelling: choose a signer, then join, label item by item, reveal.

function workSection(page, t0, show) {
  const box = h('div', { id: 'label-work' });
  const result = h('p', { id: 'label-result', role: 'status' });
  const st = { signer: null, task: t0, busy: false };
  const say = (ok, ...text) => {
    result.className = ok ? 'ok' : 'error';
    result.dataset.ok = ok ? '1' : '0';
    result.replaceChildren(...text);
  };
  // Digits choose an answer wherever focus is, except while typing a reason;
  // on a ranking task a digit starts the order in its field, typed on there.
  const onKey = (e) => {
    const form = document.getElementById('label-item');
    if (!form || e.altKey || e.ctrlKey || e.metaKey || e.target.tagName === 'INPUT' && e.target.type !== 'radio') return;
    const order = form.querySelector('#label-order');
    if (order && /^[1-4]$/.test(e.key)) {
      e.preventDefault();
      order.value += e.key;
      order.focus();
      return;
    }
    const radio = form.querySelector(`input[name="choice"][value="${Number(e.key) - 1}"]`);
    if (!/^[1-4]$/.test(e.key) || !radio) return;
    e.preventDefault();
    radio.checked = true;
    form.querySelector('#label-reason').focus();
  };
  document.addEventListener('keydown', onKey);
  page.onLeave(() => {
    document.removeEventListener('keydown', onKey);
    st.signer = null; // the key's closure goes with the page
  });
  const ctx = { box, st, say, refresh: null };
  ctx.refresh = async (focus) => {
    const addr = st.signer.address;
    const [t, head, next, { labels }] = await Promise.all([
      get(`/v1/label/tasks/${t0.id}`),
      get('/v1/head'),
      get(`/v1/label/tasks/${t0.id}/next?address=${addr}`),
      get(`/v1/label/tasks/${t0.id}/labels`),
    ]);
    st.task = t;
    show(t, head, labels);
    box.replaceChildren(...workFor(ctx, t, head, next, labels));
    if (focus) {
      const f = box.querySelector('#label-item legend, #label-join, #label-reveal');
      if (f) f.focus();
    }
  };
  box.append(signerForm(ctx));
  return h('div', {}, box, result);
}

// The signer's form: a key typed here (kept in this page's memory) or a browser wallet.
function signerForm(ctx) {
  const key = h('input', {
    id: 'label-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    size: 44,
    placeholder: '64 hex digits; stays in this page',
  });
  const use = async (signerOf) => {
    try {
      ctx.st.signer = await signerOf();
      key.value = '';
      await ctx.refresh(true);
    } catch (e) {
      ctx.say(false, e.message);
    }
  };
  return h(
    'form',
    {
      id: 'label-signer',
      class: 'stack',
      onsubmit: (e) => {
        e.preventDefault();
        use(() => keySigner(key.value));
      },
    },
    h('label', { for: 'label-key' }, 'Private key'),
    key,
    h(
      'div',
      {},
      h('button', { type: 'submit', id: 'label-unlock' }, 'Label with this key'),
      ' ',
      h(
        'button',
        {
          type: 'button',
          id: 'label-wallet',
          hidden: !globalThis.ethereum,
          onclick: () => use(async () => (await walletSigner()) || Promise.reject(new Error('no browser wallet'))),
        },
        'Label with browser wallet',
      ),
    ),
    h(
      'p',
      { class: 'muted' },
      'Labelling takes an attested human’s wallet (proof of human). Every action is signed in this browser ' +
        '(EIP-712, secp256k1); the node only sees signed actions. The key stays in this page’s memory until you ' +
        'leave it, never stored; your labels’ secret openings are kept in this browser (localStorage) until ' +
        'you reveal them.',
    ),
  );
}

// What the signer can do in task t now: join, label the next item, wait, or reveal.
function workFor(ctx, t, head, next, labels) {
  const me = ctx.st.signer.address.toLowerCase();
  const seat = t.seats.find((s) => s.address.toLowerCase() === me);
  const who = h('p', { id: 'label-who' }, `Signing as `, addrLink(ctx.st.signer.address, 'wallet'), ` (${ctx.st.signer.how}).`);
  const [state] = taskState(t, head.time);
  if (!seat) {
    if (state !== 'taking labels' || t.joined >= t.labellers)
      return [who, h('p', {}, `No seat here for this address; the task is ${state}, ${t.joined} of ${t.labellers} seats taken.`)];
    return [who, joinButton(ctx, t)];
  }
  if (!next.done) return [who, itemForm(ctx, t, next)];
  const mine = labels.filter((l) => l.labeller.toLowerCase() === me);
  const sealed = mine.filter((l) => !l.revealed);
  if (state === 'revealing' && sealed.length) return [who, revealButton(ctx, t, sealed)];
  const why = sealed.length ? next.why : `all your ${mine.length} labels are revealed; the poster closes the task`;
  return [who, h('p', { id: 'label-waiting' }, `Nothing to do now: ${why}.`)];
}

// Runs act() once at a time, showing its outcome; refreshes the work area after.
async function step(ctx, act) {
  if (ctx.st.busy) return;
  ctx.st.busy = true;
  ctx.say(true, 'signing…');
  delete document.getElementById('label-result').dataset.ok;
  try {
    ctx.say(true, ...(await act()));
  } catch (e) {
    ctx.say(false, e.message);
  } finally {
    ctx.st.busy = false;
  }
  await ctx.refresh(true).catch((e) => ctx.say(false, e.message));
}

// The terms typed into the join form: [least window in seconds, largest bond in base units (BigInt)].
function typedTerms(minText, bondText) {
  if (!/^\s*\d{1,7}\s*$/.test(minText) || Number(minText) < 1)
    throw new Error(`"${minText}": expected the least time to label and to reveal as whole seconds, like 300`);
  return [Number(minText), BigInt(toUnits(bondText))];
}

// Takes a seat once the task (read again) meets the labeller's terms.
async function joinChecked(ctx, t, minText, bondText) {
  const [minWindowS, maxBond] = typedTerms(minText, bondText);
  const addr = ctx.st.signer.address;
  const [tk, head, human] = await Promise.all([
    get(`/v1/label/tasks/${t.id}`),
    get('/v1/head'),
    get(`/v1/fund/humans/${addr}`),
  ]);
  const why = joinRefusal(tk, nextBlockS(head.time), minWindowS, maxBond, proofUntil(human));
  if (why) throw new Error(why);
  const res = await submit(ctx.st.signer, 'label_join', { task: t.id });
  return [`seat taken, ${tokens(tk.bond)} bonded, in block `, blockLink(res.height)];
}

// The seat's button and the labeller's terms (kept in ctx.st while the page is open).
function joinButton(ctx, t) {
  const seatPay = BigInt(t.payPerLabel) * BigInt(t.items);
  const plain = (units) => tokens(units.toString()).replace(` ${SYMBOL}`, '').replace(/,/g, '');
  const terms = (ctx.st.terms ||= { min: String(JOIN_MIN_WINDOW_S), bond: null });
  const field = (id, size, value) => h('input', { id, size, autocomplete: 'off', value });
  const min = field('label-min-window', 6, terms.min);
  const bond = field('label-max-bond', 10, terms.bond ?? plain(2n * seatPay));
  min.addEventListener('input', () => (terms.min = min.value));
  bond.addEventListener('input', () => (terms.bond = bond.value));
  return h(
    'div',
    {},
    h(
      'p',
      {},
      h(
        'button',
        {
          type: 'button',
          id: 'label-join',
          onclick: () => step(ctx, () => joinChecked(ctx, t, min.value, bond.value)),
        },
        `Take a seat (stakes ${tokens(t.bond)})`,
      ),
      ` ${t.labellers - t.joined} of ${t.labellers} seats free; ${t.items} items at ${tokens(t.payPerLabel)} each.`,
    ),
    h(
      'p',
      { class: 'muted' },
      'A seat that misses a label or a reveal loses its bond, so it is taken only when there are at least ',
      min,
      h('label', { for: 'label-min-window' }, ' s left to label and to reveal'),
      ', the bond is at most ',
      bond,
      h('label', { for: 'label-max-bond' }, ` ${SYMBOL} (twice the seat's pay by default)`),
      ' and your proof of human lasts until the last label.',
    ),
  );
}

// One item to label: the prompt, numbered answers, a reason, Enter to commit.
function itemForm(ctx, t, next) {
  const it = next.item;
  const reason = h('input', {
    id: 'label-reason',
    maxlength: REASON_MAX,
    size: 40,
    autocomplete: 'off',
    placeholder: 'why (optional)',
  });
  const n = it.answers.length;
  const order = h('input', { id: 'label-order', size: 6, autocomplete: 'off', placeholder: `e.g. ${'3142'.slice(0, n)}` });
  const choices = it.answers.map((a, k) =>
    h(
      'label',
      { class: 'answer', for: `label-choice-${k}` },
      next.ranking
        ? null
        : h('input', { type: 'radio', name: 'choice', id: `label-choice-${k}`, value: String(k), required: k === 0 }),
      h('kbd', {}, String(k + 1)),
      ' ',
      a,
    ),
  );
  const form = h(
    'form',
    {
      id: 'label-item',
      'data-item': it.index,
      onsubmit: (e) => {
        e.preventDefault();
        if (next.ranking) {
          const code = rankCode(order.value, n);
          if (code === null)
            return ctx.say(false, `type the answers 1-${n} from best to worst, each once (e.g. ${'3142'.slice(0, n)})`);
          return step(ctx, () => commitLabel(ctx, t, it.index, code, reason.value, n));
        }
        const picked = form.querySelector('input[name="choice"]:checked');
        if (!picked) return ctx.say(false, `choose an answer first (keys 1-${it.answers.length})`);
        step(ctx, () => commitLabel(ctx, t, it.index, Number(picked.value), reason.value, n));
      },
    },
    h(
      'fieldset',
      {},
      h('legend', { tabindex: '-1' }, `Item ${it.index + 1} of ${next.items}: ` +
        (next.ranking ? 'order the answers, best first' : 'which answer is best?')),
      h('p', { class: 'prompt' }, it.prompt),
      h('div', { class: 'answers' }, choices),
      next.ranking ? [h('label', { for: 'label-order' }, 'Order (best first) '), order] : null,
    ),
    h('label', { for: 'label-reason' }, 'Reason '),
    reason,
    ' ',
    h('button', { type: 'submit', id: 'label-commit' }, 'Commit label'),
    h(
      'p',
      { class: 'muted' },
      (next.ranking
        ? `Type the answers' numbers best first (the last may be left out), Tab to a reason (or not) and press ` +
          `Enter. The label is committed `
        : `Keys 1-${it.answers.length} choose, then type a reason (or not) and press Enter. The label is committed `) +
        `as a hash; it stays secret until you reveal it. Labels until ${when(next.commitEndS)}.`,
    ),
  );
  return form;
}

// What the ledger holds for addr's label of item: 1 the commitment given, 0
// none, -1 another one (or the node did not answer).
async function ledgerHolds(task, addr, item, commitment) {
  const { labels } = await get(`/v1/label/tasks/${task}/labels`);
  const l = labels.find((x) => x.item === item && x.labeller.toLowerCase() === addr.toLowerCase());
  if (!l) return 0;
  return l.commitment.toLowerCase() === commitment.toLowerCase() ? 1 : -1;
}

// Commits one label: saves its opening here, then sends the commitment. When
// sending fails the ledger is asked what it holds: an answer lost after the
// node applied the commit (a dropped connection) leaves the commitment on the
// ledger and this opening the only way to reveal it -- thrown away, the seat
// could not reveal that item and its bond would burn. The saved opening is
// taken back only when the ledger holds no label there.
async function commitLabel(ctx, t, item, choice, reason, n) {
  if (enc.encode(reason).length > REASON_MAX) throw new Error(`the reason is over ${REASON_MAX} bytes; shorten it`);
  const addr = ctx.st.signer.address;
  const salt = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
  const commitment = await labelCommitment(t.id, item, addr, choice, reason, salt);
  const saved = loadSaved(t.id, addr);
  const entry = { choice, reason, salt };
  (saved[item] ||= []).push(entry);
  storeSaved(t.id, addr, saved);
  try {
    const res = await submit(ctx.st.signer, 'label_commit', { task: t.id, item: String(item), commitment });
    const said = labelText(t, choice, n);
    return [`item ${item + 1}: ${said} committed in block `, blockLink(res.height), ' (secret until revealed)'];
  } catch (e) {
    const held = await ledgerHolds(t.id, addr, item, commitment).catch(() => -1);
    if (held === 1) return [`item ${item + 1}: ${labelText(t, choice, n)} committed (the node's answer was lost; the ledger holds it)`];
    if (held === 0) {
      const now = loadSaved(t.id, addr);
      now[item] = (now[item] || []).filter((x) => x.salt !== salt);
      if (!now[item].length) delete now[item];
      storeSaved(t.id, addr, now);
    }
    throw e;
  }
}

function revealButton(ctx, t, sealed) {
  return h(
    'p',
    {},
    h(
      'button',
      { type: 'button', id: 'label-reveal', onclick: () => step(ctx, () => revealAll(ctx, t, sealed)) },
      `Reveal my ${sealed.length} label${sealed.length === 1 ? '' : 's'}`,
    ),
    ` Reveals until ${when(t.revealEndS)}: a label not revealed by then loses the seat's bond.`,
  );
}

// Reveals each sealed label with the opening saved here that matches the
// ledger's commitment; says what was revealed and what could not be.
async function revealAll(ctx, t, sealed) {
  const addr = ctx.st.signer.address;
  const saved = loadSaved(t.id, addr);
  let done = 0;
  let last = 0;
  const problems = [];
  for (const l of sealed) {
    let open = null;
    for (const c of saved[l.item] || [])
      if ((await labelCommitment(t.id, l.item, addr, c.choice, c.reason, c.salt)) === l.commitment.toLowerCase()) open = c;
    if (!open) {
      problems.push(`item ${l.item + 1}: no opening saved in this browser matches your commitment`);
      continue;
    }
    try {
      const fields = { task: t.id, item: String(l.item), choice: String(open.choice), reason: open.reason, secret: open.salt };
      last = (await submit(ctx.st.signer, 'label_reveal', fields)).height;
      done++;
    } catch (e) {
      problems.push(`item ${l.item + 1}: ${e.message}`);
    }
  }
  if (problems.length) throw new Error(`${done} revealed; ${problems.join('; ')}`);
  return [`${done} label${done === 1 ? '' : 's'} revealed, the last in block `, blockLink(last)];
}
