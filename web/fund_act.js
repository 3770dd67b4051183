// fund_act.js: the funding actions a person takes from the pages besides
// contributing and claiming (fund.js): creating a round, attesting a human
// (as a registered issuer), recording a paid slot's points, funding and
// closing a points epoch; and a round's contributions one by one. Each form
// signs in this browser through fund.js's signedForm (a key typed into the
// page or an injected EIP-1193 wallet); whatever the node refuses is shown
// with its code and message. Times are block time: a window or an expiry is
// counted from the head block's time, as the CLI counts it.
import { get, h, tokens, toUnits, short, table, addrLink, blockLink } from './api.js';
import { submitSigned, signedForm, weight, workLink } from './fund.js';
import { keccakBytes, bytesToHex } from './sign.js';

const CONTRIBUTIONS_SHOWN = 500; // GT_FUND_LIST_PAGE_MAX (src/fund/fund_list.h): one page
const WINDOW_MAX_S = 90 * 86400; // GT_FUND_MAX_WINDOW_S
const ATTEST_MAX_DAYS = 366; // GT_FUND_ATTEST_MAX_S / 86400
const PPM = 1000000;

// A whole number typed by a user, within [min, max]; throws saying what is expected.
function whole(text, what, min, max) {
  const s = String(text).trim();
  if (!/^\d{1,12}$/.test(s) || Number(s) < min || Number(s) > max)
    throw new Error(`${what}: expected a whole number from ${min} to ${max}, got "${s.slice(0, 20)}"`);
  return Number(s);
}

const input = (id, attrs) => h('input', { id, autocomplete: 'off', spellcheck: 'false', ...attrs });
const labelled = (id, text, el) => [h('label', { for: id }, text), el];

// ---- A round's contributions, one row per contributor and project.

export async function contributionsSection(r) {
  let page;
  try {
    page = await get(`/v1/fund/rounds/${r.id}/contributions?limit=${CONTRIBUTIONS_SHOWN}`);
  } catch (e) {
    return h('p', { class: 'muted' }, `the contributions could not be read: ${e.message}`);
  }
  const byIndex = new Map(r.projects.map((p) => [p.index, p]));
  const rows = page.contributions.map((c) => [
    h('span', { class: 'contributor' }, addrLink(c.contributor, 'wallet')),
    byIndex.has(c.project) ? [`#${c.project} `, workLink(byIndex.get(c.project))] : `#${c.project}`,
    h('span', { class: 'amount' }, tokens(c.amount)),
    h('a', { href: `#/human/${c.contributor}` }, weight(c.weightPpm)),
  ]);
  return h(
    'div',
    { id: 'contributions' },
    h('h2', {}, 'Contributions'),
    rows.length
      ? table(
          ['Contributor', 'Project', 'Amount', 'Proof of human now'],
          rows,
          page.next !== null ? `the first ${rows.length}; more on the ledger` : `all ${rows.length}`,
        )
      : h('p', {}, 'no contributions yet'),
    h(
      'p',
      { class: 'muted' },
      'A contributor’s gifts to one project are summed as the ledger keeps them. The sybil rule weighs each ' +
        'contributor by its proof of human at finalize; the weight shown is the one at the head block.',
    ),
  );
}

// ---- Creating a round (funding page).

export function createRoundForm(head) {
  const name = input('round-name', { maxlength: 64, required: true, placeholder: 'open datasets, spring' });
  const pool = input('round-pool', { inputmode: 'decimal', required: true, placeholder: '20' });
  const rule = h(
    'select',
    { id: 'round-rule-pick' },
    h('option', { value: '2' }, 'sybil rule (pairwise-bounded, weighed by proof of human)'),
    h('option', { value: '1' }, 'plain quadratic funding'),
  );
  const m = input('round-m', { inputmode: 'decimal', value: '0.5' });
  const startIn = input('round-start', { inputmode: 'numeric', value: '0' });
  const window = input('round-window', { inputmode: 'numeric', value: '60' });
  return signedForm(
    'create-round',
    'open the round',
    [
      labelled('round-name', 'Name', name),
      labelled('round-pool', 'Matching pool (GOT)', pool),
      labelled('round-rule-pick', 'Matching rule', rule),
      labelled('round-m', 'Pairwise bound M (GOT)', m),
      labelled('round-start', 'Starts in (minutes)', startIn),
      labelled('round-window', 'Window (minutes)', window),
    ],
    async (signer) => {
      const now = (await get('/v1/head')).time;
      const startS = now + 60 * whole(startIn.value, 'starts in', 0, 30 * 1440);
      const endS = startS + 60 * whole(window.value, 'window', 1, WINDOW_MAX_S / 60);
      const fields = {
        pool: toUnits(pool.value),
        startS: String(startS),
        endS: String(endS),
        rule: rule.value,
        pairwiseM: rule.value === '2' ? toUnits(m.value) : '0',
        name: name.value.trim(),
      };
      const res = await submitSigned(signer, 'fund_round_create', fields);
      return [
        `round "${fields.name}" opened with ${tokens(fields.pool)} escrowed, in block `,
        blockLink(res.height),
        ': ',
        h('a', { href: `#/round/${res.id}`, id: 'create-round-link' }, short(res.id)),
      ];
    },
    `The pool is escrowed from the signer now (head block ${head.height}); owners of datasets, evaluations and ` +
      'trained models enter them (gotong fund round-enter) and anyone contributes inside the window.',
  );
}

// ---- Attesting a human (proof-of-human page), by a registered issuer.

// The person's id as the CLI makes it: 0x and 64 hex digits as is, any other
// text hashed (keccak256) so no personal data goes on the ledger.
async function personId(text) {
  const s = text.trim();
  if (!s) throw new Error('person: expected your id of this human (any text; it is hashed)');
  if (/^0x[0-9a-fA-F]{64}$/.test(s)) return s.toLowerCase();
  return bytesToHex(await keccakBytes(new TextEncoder().encode(s)));
}

export function attestForm(addr) {
  const person = input('attest-person', { required: true, placeholder: 'your own id of this human' });
  const pct = input('attest-weight', { inputmode: 'decimal', value: '100' });
  const days = input('attest-days', { inputmode: 'numeric', value: '30' });
  return signedForm(
    'attest',
    'attest',
    [
      labelled('attest-person', 'Person', person),
      labelled('attest-weight', 'Weight (%)', pct),
      labelled('attest-days', 'Valid for (days)', days),
    ],
    async (signer) => {
      const m = /^\s*(\d{1,3})(?:\.(\d{1,4}))?\s*$/.exec(pct.value);
      const ppm = m ? Number(m[1]) * 10000 + Number((m[2] || '').padEnd(4, '0')) : -1;
      if (ppm < 1 || ppm > PPM) throw new Error(`weight: expected a percentage above 0, at most 100, got "${pct.value}"`);
      const now = (await get('/v1/head')).time;
      const fields = {
        subject: addr,
        person: await personId(person.value),
        weightPpm: String(ppm),
        expiresS: String(now + 86400 * whole(days.value, 'valid for', 1, ATTEST_MAX_DAYS)),
      };
      const res = await submitSigned(signer, 'human_attest', fields);
      return [`${short(addr)} attested by ${short(signer.address)}, weight ${weight(ppm)}, in block `, blockLink(res.height)];
    },
    'Only a registered issuer staking at least 10 GOT may attest (gotong fund issuer-register). The person ' +
      'text is hashed in this browser: only its keccak-256 goes on the ledger.',
  );
}

// ---- Points and epochs (airdrops and epoch pages).

export function pointsForm() {
  const task = input('points-task', { size: 44, required: true, placeholder: '0x… (a task with a slot paid to you)' });
  const slot = input('points-slot', { inputmode: 'numeric', value: '0' });
  return signedForm(
    'points',
    'record points',
    [labelled('points-task', 'Task', task), labelled('points-slot', 'Slot', slot)],
    async (signer) => {
      const id = task.value.trim();
      if (!/^0x[0-9a-fA-F]{64}$/.test(id)) throw new Error('task: expected 0x and 64 hex digits');
      const res = await submitSigned(signer, 'points_record', { task: id, slot: String(whole(slot.value, 'slot', 0, 1e9)) });
      return [`points of slot ${slot.value.trim()} recorded for ${short(signer.address)} in block `, blockLink(res.height)];
    },
    'The worker of a paid slot records its points once; from ledger format 16 they go to the epoch the slot was ' +
      'paid in, whenever recorded before that epoch is closed (format 15: the epoch paid in or the next). An ' +
      'epoch closes no sooner than a day after it ends, so a slot paid in its last moments still counts.',
  );
}

export function fundEpochForm(e) {
  const amount = input('fund-epoch-amount', { inputmode: 'decimal', required: true, placeholder: '10' });
  return signedForm(
    'fund-epoch',
    'fund the epoch',
    labelled('fund-epoch-amount', 'Pool (GOT)', amount),
    async (signer) => {
      const units = toUnits(amount.value);
      const res = await submitSigned(signer, 'airdrop_fund', { epoch: String(e.epoch), amount: units });
      return [`${tokens(units)} escrowed for epoch ${e.epoch} in block `, blockLink(res.height), '; reload to see it'];
    },
    'Anyone may add to an epoch\'s pool (0.01 GOT at least) before it is over; the pool is split by points when ' +
      'the epoch is closed, and what is not paid out goes back to the funders pro rata.',
  );
}

export function closeEpochForm(e) {
  return signedForm(
    'close-epoch',
    'close the epoch',
    [],
    async (signer) => {
      const res = await submitSigned(signer, 'airdrop_close', { epoch: String(e.epoch) });
      return [`epoch ${e.epoch} closed in block `, blockLink(res.height), '; reload to see its claims'];
    },
    'Anyone may close an epoch a day after it ends (from ledger format 16: the grace in which workers paid late ' +
      'in it record their points): its pool is split by points into a Merkle tree of claims.',
  );
}
