// fund.js: funding open-source AI (src/fund, docs/api.md "Funding"): rounds
// matched by quadratic funding, points epochs and their airdrops, and an
// address's proof of human. Contributing to a round, finalizing it and
// claiming an airdrop are actions signed in this browser (sign.js: a key
// typed into the page, or an injected EIP-1193 wallet); the node only ever
// sees the signed action. Windows and epochs are judged by block time (the
// head block's), as the ledger judges them, not by this computer's clock.
import {
  get,
  post,
  h,
  tokens,
  toUnits,
  when,
  short,
  table,
  facts,
  badge,
  addrLink,
  blockLink,
  loadNames,
} from './api.js';
import { keySigner, walletSigner, signAction } from './sign.js';
import {
  contributionsSection,
  createRoundForm,
  attestForm,
  pointsForm,
  fundEpochForm,
  closeEpochForm,
} from './fund_act.js';

// A folded section holding a signed form (opened by its summary, keyboard too).
const folded = (id, title, form) =>
  h('details', { class: 'post', id }, h('summary', {}, title), form);

export const EPOCH_S = 86400; // GT_FUND_EPOCH_S (src/fund/fund.h): a points epoch is one day of block time
const EPOCHS_LISTED = 14; // epochs the airdrops page reads, newest first
const ROUNDS_SCANNED = 20; // newest rounds a dataset's or evaluation's page looks through
const PPM = 1000000; // weights are parts per million (GT_FUND_WEIGHT_ONE)
// Funders an epoch's page lists (of at most GT_FUND_EPOCH_MAX_FUNDERS, 4096): the
// rest are counted, and GET /v1/fund/epochs/{n} lists them all.
export const FUNDERS_SHOWN = 50;

// The matching rule as people read it (src/fund/qf.h).
function ruleText(r) {
  if (r.rule === 'qf') return 'plain quadratic funding (every address counts alike: open to sybils)';
  return (
    `pairwise-bounded QF (the sybil rule: each pair of contributors counts less the more it funds together, ` +
    `bound M = ${tokens(r.pairwiseM)}; each contributor weighed by its proof of human)`
  );
}
const ruleShort = (r) => (r.rule === 'qf' ? 'plain QF' : 'sybil rule');

// A weight in ppm as a percentage with its raw value: "50 % (500000 ppm)".
export function weight(ppm) {
  const n = Number(ppm);
  const pct = (n / (PPM / 100)).toFixed(4).replace(/\.?0+$/, '');
  return `${pct} % (${n} ppm)`;
}

// Where a round's window stands at block time now_s.
function windowState(r, now_s) {
  if (r.status !== 'open') return [r.status, r.status === 'finalized' ? 'ok' : 'bad'];
  if (now_s < r.startS) return ['not started', 'open'];
  if (now_s < r.endS) return ['open', 'ok'];
  return ['window over', 'open'];
}

const roundLink = (r) => h('a', { href: `#/round/${r.id}` }, r.name || short(r.id));

// A project's work: a published dataset (ref = the job, the spec's sha256), a
// model trained on gotong (ref = its train task) or an evaluation (ref = the
// attestation's id).
export function workLink(p) {
  if (p.kind === 'dataset')
    return h('a', { href: `#/dataset/sha256:${p.ref.slice(2)}`, title: p.ref, class: 'mono' }, `dataset ${short(p.ref)}`);
  if (p.kind === 'model')
    return h('a', { href: `#/task/${p.ref}`, title: p.ref, class: 'mono' }, `model of train task ${short(p.ref)}`);
  return h('a', { href: `#/evaluation/${p.ref}`, title: p.ref, class: 'mono' }, `evaluation ${short(p.ref)}`);
}

const errText = (r) =>
  r.body && r.body.error ? `${r.body.error.code}: ${r.body.error.message}` : `HTTP ${r.status} from the node`;

// Signs one action of type with fields as signer and submits it; returns the
// node's answer ({id, ok, height}) or throws its refusal, readable.
export async function submitSigned(signer, type, fields) {
  const chain = await get('/v1/chain');
  const acct = await get(`/v1/accounts/${signer.address}`);
  const r = await post('/v1/actions', await signAction(chain, signer, type, acct.nonce, fields));
  if (r.status !== 200 || !r.body || !r.body.ok) throw new Error(`refused by the node: ${errText(r)}`);
  return r.body;
}

// A form whose action is signed here: `inputs` (label/input pairs), a key
// field, a submit button and a browser-wallet button. act(signer) does the
// work and returns what to show. The result line carries data-ok (1 or 0).
export function signedForm(id, verb, inputs, act, note) {
  const key = h('input', {
    id: `${id}-key`,
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    size: 44,
    placeholder: '64 hex digits; stays in this page',
  });
  const out = h('p', { id: `${id}-result`, role: 'status' });
  const go = async (signerOf) => {
    out.className = 'muted';
    out.textContent = 'signing…';
    delete out.dataset.ok;
    try {
      const shown = await act(await signerOf());
      out.className = 'ok';
      out.dataset.ok = '1';
      out.replaceChildren(...shown);
      key.value = '';
    } catch (e) {
      out.className = 'error';
      out.dataset.ok = '0';
      out.textContent = e.message;
    }
  };
  const wallet = h(
    'button',
    {
      type: 'button',
      id: `${id}-wallet`,
      hidden: !globalThis.ethereum,
      onclick: () => go(async () => (await walletSigner()) || Promise.reject(new Error('no browser wallet'))),
    },
    'Sign with browser wallet',
  );
  return h(
    'form',
    {
      id,
      class: 'stack',
      onsubmit: (e) => {
        e.preventDefault();
        go(() => keySigner(key.value));
      },
    },
    inputs,
    h('label', { for: `${id}-key` }, 'Private key'),
    key,
    h('div', {}, h('button', { type: 'submit', id: `${id}-go` }, `Sign here and ${verb}`), ' ', wallet),
    out,
    h(
      'p',
      { class: 'muted' },
      `${note} Signed in this browser (EIP-712, secp256k1); the node only sees the signed action. The key is not stored.`,
    ),
  );
}

// ---- Rounds.

export async function fundingPage() {
  await loadNames();
  const [{ rounds }, head] = await Promise.all([get('/v1/fund/rounds?limit=100'), get('/v1/head')]);
  const rows = rounds.map((r) => {
    const [state, kind] = windowState(r, head.time);
    return [
      roundLink(r),
      ruleShort(r),
      tokens(r.pool),
      h('span', {}, when(r.startS), ' – ', when(r.endS)),
      badge(state, kind),
      r.contributions,
      tokens(r.contributed),
      r.status === 'finalized' ? tokens(r.matched) : '—',
      addrLink(r.creator, 'wallet'),
    ];
  });
  return h(
    'section',
    {},
    h('h1', {}, 'Funding'),
    h(
      'p',
      { class: 'muted' },
      'Rounds fund published datasets and evaluations: contributions go to the work’s owner at once, ' +
        'and at the end the pool is shared by quadratic funding (many small contributors count more ' +
        'than one large one). Plain QF counts every address alike, so one wallet split into many gains; ' +
        'under the sybil rule (pairwise-bounded) a pair of contributors that funds together counts less, and ' +
        'each contributor is weighed by its proof of human (an unattested wallet adds nothing).',
    ),
    h(
      'p',
      {},
      h('a', { href: '#/airdrops' }, 'Points and airdrops'),
      ' · ',
      h('a', { href: '#/human' }, 'Proof of human'),
    ),
    h('h2', {}, 'Rounds'),
    rows.length
      ? table(
          ['Round', 'Rule', 'Pool', 'Window (block time)', 'State', 'Contributions', 'Contributed', 'Matched', 'Creator'],
          rows,
          'the newest 100 rounds',
        )
      : h('p', {}, 'no funding rounds yet (gotong fund round-create)'),
    folded('open-round', 'Open a round', createRoundForm(head)),
  );
}

function roundFacts(r, head) {
  const [state, kind] = windowState(r, head.time);
  return facts([
    ['Round', h('span', { class: 'mono' }, r.id)],
    ['Creator', addrLink(r.creator, 'wallet')],
    ['Matching rule', h('span', { id: 'round-rule' }, ruleText(r))],
    ['Matching pool', tokens(r.pool)],
    ['Window', h('span', {}, when(r.startS), ' – ', when(r.endS), ' (block time)')],
    ['State', h('span', { id: 'round-state' }, badge(state, kind), ` at block ${head.height}, ${when(head.time)}`)],
    ['Opened', blockLink(r.createdHeight)],
    ['Contributions', `${r.contributions}, ${tokens(r.contributed)} in all (paid to the projects at once)`],
    r.status === 'finalized' && ['Matched from the pool', h('span', { id: 'round-matched' }, tokens(r.matched))],
    r.status === 'finalized' && ['Returned to the creator', tokens(r.remainder)],
    r.status !== 'open' && ['Finalized', blockLink(r.finalizedHeight)],
  ]);
}

function projectRows(r) {
  const done = r.status === 'finalized';
  return r.projects.map((p) => [
    p.index,
    workLink(p),
    addrLink(p.payee, 'wallet'),
    tokens(p.contributed),
    p.contributors,
    done ? h('span', { class: 'match', 'data-project': p.index }, tokens(p.match)) : '—',
    done ? tokens(BigInt(p.contributed) + BigInt(p.match)) : '—',
  ]);
}

function contributeForm(r) {
  const project = h(
    'select',
    { id: 'contribute-project', required: true },
    r.projects.map((p) => h('option', { value: String(p.index) }, `#${p.index} ${p.kind} ${short(p.ref)}`)),
  );
  const amount = h('input', {
    id: 'contribute-amount',
    required: true,
    size: 12,
    inputmode: 'decimal',
    placeholder: '1.5',
    autocomplete: 'off',
  });
  return signedForm(
    'contribute',
    'contribute',
    [h('label', { for: 'contribute-project' }, 'Project'), project, h('label', { for: 'contribute-amount' }, 'Amount (GOT)'), amount],
    async (signer) => {
      const units = toUnits(amount.value);
      const res = await submitSigned(signer, 'fund_contribute', { round: r.id, project: project.value, amount: units });
      return [
        `contributed ${tokens(units)} to project #${project.value} from ${short(signer.address)} (signed by ${signer.how}) in block `,
        blockLink(res.height),
        '; reload to see the totals',
      ];
    },
    'The amount goes to the project’s owner now; the match is computed when the round is finalized.',
  );
}

function finalizeForm(r) {
  return signedForm(
    'finalize',
    'finalize',
    [],
    async (signer) => {
      const res = await submitSigned(signer, 'fund_round_finalize', { round: r.id });
      return ['finalized in block ', blockLink(res.height), '; reload to see the matches'];
    },
    'Anyone may finalize once the window is over: the matches are paid from the pool and the rest goes back to the creator.',
  );
}

export async function roundPage(page, id) {
  await loadNames();
  const [r, head] = await Promise.all([get(`/v1/fund/rounds/${id}`), get('/v1/head')]);
  const matchHead = r.status === 'finalized' ? `Match (${ruleShort(r)})` : 'Match (at finalize)';
  const parts = [
    h('h1', {}, `Round ${r.name || short(r.id)}`),
    roundFacts(r, head),
    h('h2', {}, 'Projects'),
    r.projects.length
      ? table(['#', 'Work', 'Paid to', 'Contributed', 'Contributors', matchHead, 'Received in all'], projectRows(r))
      : h('p', {}, 'no project has entered yet (the owner of a published dataset or evaluation: gotong fund round-enter)'),
  ];
  if (r.status === 'finalized')
    parts.push(
      h(
        'p',
        { class: 'muted' },
        `Matches as the ledger computed them under ${ruleText(r)}, in integer arithmetic, scaled down ` +
          'to the pool when they would exceed it; amounts in GOT.',
      ),
    );
  if (r.status === 'open' && head.time >= r.startS && head.time < r.endS && r.projects.length)
    parts.push(h('h2', {}, 'Contribute'), contributeForm(r));
  if (r.status === 'open' && head.time >= r.endS) parts.push(h('h2', {}, 'Finalize'), finalizeForm(r));
  parts.push(await contributionsSection(r));
  parts.push(h('p', {}, h('a', { href: '#/funding' }, '← all rounds')));
  return h('section', {}, parts);
}

// The rounds among the newest ROUNDS_SCANNED that a work (ref, 0x hex)
// entered: [[round, project]]. For the dataset and evaluation pages.
export async function roundsOf(ref) {
  const { rounds } = await get(`/v1/fund/rounds?limit=${ROUNDS_SCANNED}`);
  const full = await Promise.all(rounds.map((r) => get(`/v1/fund/rounds/${r.id}`)));
  const out = [];
  for (const r of full) for (const p of r.projects) if (p.ref.toLowerCase() === ref.toLowerCase()) out.push([r, p]);
  return out;
}

// A section listing the rounds a work entered (for work.js's pages).
export async function fundingSection(ref) {
  let got;
  try {
    got = await roundsOf(ref);
  } catch (e) {
    return h('p', { class: 'muted' }, `funding rounds could not be read: ${e.message}`);
  }
  return h(
    'div',
    {},
    h('h2', {}, 'Funding rounds'),
    got.length
      ? table(
          ['Round', 'Rule', 'Contributed', 'Contributors', 'Match'],
          got.map(([r, p]) => [
            roundLink(r),
            ruleShort(r),
            tokens(p.contributed),
            p.contributors,
            r.status === 'finalized' ? tokens(p.match) : '—',
          ]),
        )
      : h('p', { class: 'muted' }, `in none of the newest ${ROUNDS_SCANNED} rounds`),
  );
}

// ---- Points and airdrops.

const epochLink = (n, addr) => h('a', { href: `#/epoch/${n}${addr ? '/' + addr : ''}` }, `epoch ${n}`);

export async function airdropsPage() {
  const head = await get('/v1/head');
  const now = Math.floor(head.time / EPOCH_S);
  const list = [];
  for (let n = now; n >= 0 && n > now - EPOCHS_LISTED; n--) list.push(n);
  const epochs = await Promise.all(list.map((n) => get(`/v1/fund/epochs/${n}`)));
  const rows = epochs.map((e) => [
    epochLink(e.epoch),
    h('span', {}, when(e.startS), ' – ', when(e.endS)),
    badge(e.epoch === now ? 'current' : e.status, e.status === 'closed' ? 'ok' : 'open'),
    tokens(e.pool),
    e.status === 'closed' ? `${e.leaves} claims, ${tokens(e.claimed)} claimed` : `${e.points.length} accounts with points`,
  ]);
  return h(
    'section',
    {},
    h('h1', {}, 'Points and airdrops'),
    h(
      'p',
      { class: 'muted' },
      `Each paid slot of verified work earns its worker points in the epoch (one day of block time) it is ` +
        'recorded in. A funder may put a pool on an epoch before it ends; once it is over anyone closes it, and the ' +
        'pool is split by points into a Merkle tree whose leaves each account claims once with its proof.',
    ),
    facts([
      ['Current epoch', epochLink(now)],
      ['Head', h('span', {}, blockLink(head.height), ` ${when(head.time)}`)],
    ]),
    table(['Epoch', 'Block time', 'State', 'Pool', 'Points or claims'], rows, `the last ${list.length} epochs`),
    epochForm(now),
    folded('record-points', 'Record the points of a paid slot', pointsForm()),
  );
}

function epochForm(now) {
  const n = h('input', { id: 'epoch-n', inputmode: 'numeric', pattern: '[0-9]{1,10}', size: 10, value: String(now) });
  const a = h('input', { id: 'epoch-addr', size: 44, placeholder: '0x… (optional)', autocomplete: 'off', spellcheck: 'false' });
  return h(
    'form',
    {
      class: 'inline',
      onsubmit: (e) => {
        e.preventDefault();
        const addr = a.value.trim();
        location.hash = `#/epoch/${n.value.trim()}${addr ? '/' + addr : ''}`;
      },
    },
    h('label', { for: 'epoch-n' }, 'Epoch '),
    n,
    ' ',
    h('label', { for: 'epoch-addr' }, 'wallet '),
    a,
    ' ',
    h('button', { type: 'submit' }, 'Show'),
  );
}

function epochFacts(e, head) {
  const over = head.time >= e.endS;
  return facts([
    ['Block time', h('span', {}, when(e.startS), ' – ', when(e.endS))],
    ['State', h('span', { id: 'epoch-state' }, badge(e.status, e.status === 'closed' ? 'ok' : 'open'), over ? ' (over)' : ' (running)')],
    ['Funders', h('span', { id: 'epoch-funder-count' }, String((e.funders || []).length))],
    ['Pool', tokens(e.pool)],
    e.status === 'closed' && ['Claimed', h('span', { id: 'epoch-claimed' }, tokens(e.claimed))],
    e.status === 'closed' && ['Merkle root', h('span', { class: 'mono', id: 'epoch-root' }, e.root)],
    e.status === 'closed' && ['Leaves', e.leaves],
  ]);
}

// The epoch's funders as the API lists them (address order), what each put in
// and its share of the pool; the first funder (e.funder) holds the epoch's
// lock and takes the rounding remainder of what goes back. At most
// FUNDERS_SHOWN rows, then how many more.
function fundersTable(e) {
  const all = e.funders || [];
  const pool = BigInt(e.pool);
  const rows = all.slice(0, FUNDERS_SHOWN).map((f) => [
    h('span', { class: 'funder' }, addrLink(f.address, 'wallet'), f.address === e.funder ? ' (first: holds the lock)' : ''),
    h('span', { class: 'amount' }, tokens(f.amount)),
    pool ? `${(Number((BigInt(f.amount) * 1000000n) / pool) / 10000).toFixed(2)} %` : '—',
  ]);
  const more = all.length - rows.length;
  return h(
    'div',
    { id: 'epoch-funders' },
    table(['Funder', 'Put in', 'Share of the pool'], rows),
    more > 0
      ? h('p', { class: 'muted', id: 'epoch-funders-more' }, `and ${more} more (GET /v1/fund/epochs/${e.epoch} lists all)`)
      : null,
  );
}

function epochTable(e, addr) {
  const mine = (a) => addr && a.toLowerCase() === addr.toLowerCase();
  if (e.status === 'closed')
    return table(
      ['#', 'Account', 'Amount', 'Claimed'],
      e.claims.map((c) => [
        c.index,
        [addrLink(c.account, 'wallet'), mine(c.account) ? ' (this wallet)' : ''],
        tokens(c.amount),
        h('span', { id: `leaf-${c.index}` }, badge(c.claimed ? 'claimed' : 'unclaimed', c.claimed ? 'ok' : 'open')),
      ]),
    );
  const total = e.points.reduce((s, p) => s + BigInt(p.points), 0n);
  return table(
    ['Account', 'Points', 'Share of the pool'],
    e.points.map((p) => [
      [addrLink(p.account, 'wallet'), mine(p.account) ? ' (this wallet)' : ''],
      p.points,
      total ? `${((Number(BigInt(p.points) * 1000000n / total) / 10000).toFixed(2))} %` : '—',
    ]),
  );
}

function claimForm(e, c) {
  return signedForm(
    'claim',
    'claim',
    [],
    async (signer) => {
      if (signer.address.toLowerCase() !== c.account.toLowerCase())
        throw new Error(`this claim is ${short(c.account)}'s; the key given is ${short(signer.address)}'s`);
      const fields = { epoch: String(e.epoch), index: String(c.index), amount: c.amount, proof: c.proofHex };
      const res = await submitSigned(signer, 'airdrop_claim', fields);
      document.getElementById('claim-claimed').textContent = `yes, in block ${res.height}`;
      document.getElementById(`leaf-${c.index}`).replaceChildren(badge('claimed', 'ok'));
      return [`claimed ${tokens(c.amount)} for ${short(c.account)} (signed by ${signer.how}) in block `, blockLink(res.height)];
    },
    'The claim carries the leaf’s index, amount and Merkle proof; the ledger checks the proof against the root ' +
      'and pays each leaf once.',
  );
}

async function claimSection(e, addr) {
  const parts = [h('h2', {}, `Claim of ${short(addr)}`)];
  if (e.status !== 'closed') {
    const p = e.points.find((x) => x.account.toLowerCase() === addr.toLowerCase());
    parts.push(h('p', { id: 'claim-none' }, p ? `${p.points} points so far; claims open once the epoch is closed` : 'no points in this epoch'));
    return parts;
  }
  if (!e.claims.some((x) => x.account.toLowerCase() === addr.toLowerCase())) {
    parts.push(h('p', { id: 'claim-none' }, 'no claim in this epoch'));
    return parts;
  }
  const c = await get(`/v1/fund/epochs/${e.epoch}/claims/${addr}`);
  parts.push(
    facts([
      ['Account', addrLink(c.account, 'wallet')],
      ['Leaf', c.index],
      ['Amount', tokens(c.amount)],
      ['Claimed', h('span', { id: 'claim-claimed' }, c.claimed ? 'yes' : 'not yet')],
      ['Proof', h('ol', { class: 'mono proof' }, c.proof.map((s) => h('li', {}, s)))],
    ]),
    claimForm(e, c),
  );
  return parts;
}

// An epoch over and not closed: its close form from closeFromS (from ledger
// format 16 a day after its end, so workers paid late in it record their
// points first), before then when it may be closed.
function closeSection(e, head) {
  if (e.status === 'closed' || head.time < e.endS) return null;
  const from = e.closeFromS ?? e.endS;
  if (head.time >= from) return folded('close', 'Close this epoch', closeEpochForm(e));
  return h(
    'p',
    { id: 'epoch-close-wait' },
    'Over; anyone may close it from ',
    when(from),
    ' (block time): a day after its end, for workers paid late in it to record their points.',
  );
}

export async function epochPage(page, n, addr) {
  await loadNames();
  const [e, head] = await Promise.all([get(`/v1/fund/epochs/${n}`), get('/v1/head')]);
  const rows = e.status === 'closed' ? e.claims : e.points;
  return h(
    'section',
    {},
    h('h1', {}, `Epoch ${e.epoch}`),
    epochFacts(e, head),
    e.funders && e.funders.length ? [h('h2', {}, 'Funders'), fundersTable(e)] : null,
    h('h2', {}, e.status === 'closed' ? 'Claims' : 'Points'),
    rows.length ? epochTable(e, addr) : h('p', {}, e.status === 'closed' ? 'no claims' : 'no points recorded yet'),
    addr ? await claimSection(e, addr) : null,
    e.status !== 'closed' && head.time < e.endS
      ? folded('fund', e.status === 'unfunded' ? 'Fund this epoch' : "Add to this epoch's pool", fundEpochForm(e))
      : null,
    closeSection(e, head),
    h('p', {}, h('a', { href: '#/airdrops' }, '← all epochs')),
  );
}

// ---- Proof of human.

function humanForm(addr) {
  const input = h('input', {
    id: 'human-addr',
    value: addr || '',
    placeholder: '0x…',
    size: 44,
    pattern: '0x[0-9a-fA-F]{40}',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  return h(
    'form',
    {
      class: 'inline',
      onsubmit: (e) => {
        e.preventDefault();
        location.hash = `#/human/${input.value.trim()}`;
      },
    },
    h('label', { for: 'human-addr' }, 'Address '),
    input,
    ' ',
    h('button', { type: 'submit' }, 'Show'),
  );
}

export async function humanPage(page, addr) {
  await loadNames();
  const parts = [h('h1', {}, addr ? `Proof of human: ${short(addr)}` : 'Proof of human'), humanForm(addr)];
  parts.push(
    h(
      'p',
      { class: 'muted' },
      'Registered issuers, each staking at least 10 GOT, attest that an address is a human, with a weight ' +
        'and an expiry; a funding round weighs each contributor by the largest weight of its valid attestations ' +
        '(none valid: weight 0).',
    ),
  );
  if (addr) {
    const [hm, head] = await Promise.all([get(`/v1/fund/humans/${addr}`), get('/v1/head')]);
    const rows = hm.attestations.map((a) => [
      addrLink(a.issuer, 'wallet'),
      weight(a.weightPpm),
      when(a.expiresS),
      a.revoked ? badge('revoked', 'bad') : a.expiresS <= head.time ? badge('expired', 'bad') : badge('valid', 'ok'),
      blockLink(a.height),
    ]);
    parts.push(
      facts([
        ['Address', addrLink(hm.address, 'wallet')],
        ['Weight in a round now', h('span', { id: 'human-weight' }, weight(hm.weightPpm))],
        ['At', h('span', {}, blockLink(head.height), ` ${when(head.time)}`)],
      ]),
      h('h2', {}, 'Attestations'),
      rows.length ? table(['Issuer', 'Weight', 'Expires', 'State', 'Attested'], rows) : h('p', {}, 'none'),
      folded('attest-this', 'Attest this address (as an issuer)', attestForm(addr)),
    );
  }
  return h('section', {}, parts);
}

// A wallet's funding at a glance (for wallet.js): its proof-of-human weight
// and its points or claim in the current and the previous epoch.
export async function walletFunding(addr) {
  try {
    const head = await get('/v1/head');
    const now = Math.floor(head.time / EPOCH_S);
    const [hm, ...eps] = await Promise.all([
      get(`/v1/fund/humans/${addr}`),
      ...[now, now - 1].filter((n) => n >= 0).map((n) => get(`/v1/fund/epochs/${n}`)),
    ]);
    const lc = addr.toLowerCase();
    const line = (e) => {
      const list = e.status === 'closed' ? e.claims : e.points;
      const mine = list.find((x) => x.account.toLowerCase() === lc);
      const what = !mine
        ? 'nothing'
        : e.status === 'closed'
          ? `${tokens(mine.amount)} to claim${mine.claimed ? ' (claimed)' : ''}`
          : `${mine.points} points`;
      return [`Epoch ${e.epoch}`, h('span', {}, epochLink(e.epoch, addr), `: ${what}`)];
    };
    return [
      h('h2', {}, 'Funding'),
      facts([['Proof of human', h('a', { href: `#/human/${addr}` }, weight(hm.weightPpm))], ...eps.map(line)]),
    ];
  } catch (e) {
    return h('p', { class: 'muted' }, `funding could not be read: ${e.message}`);
  }
}
