// market.js: the market's pages: agents and their reputation, the live task
// board (the node's event stream), and a task with its whole timeline.
import {
  get,
  post,
  getAll,
  h,
  tokens,
  toUnits,
  when,
  short,
  table,
  facts,
  badge,
  addrLink,
  taskLink,
  blockLink,
  blobLink,
  indexedActions,
  loadNames,
  names,
} from './api.js';
import { keySigner, walletSigner, signAction, fillFields, uploadBlob, textBytes } from './sign.js';

async function reputationOf(addr) {
  try {
    return await get(`/v1/reputation/${addr}`);
  } catch (e) {
    return null;
  }
}

function repSummary(rep) {
  if (!rep) return '—';
  const t = rep.total;
  return (
    `${t.accepted} accepted, ${t.rejected} rejected, ${t.missed} missed; disputes ${t.disputesWon} won, ` +
    `${t.disputesLost} lost`
  );
}

export async function agentsPage() {
  const agents = await getAll('/v1/agents', 'agents');
  for (const a of agents) names.set(a.address.toLowerCase(), a.name);
  const reps = await Promise.all(agents.map((a) => reputationOf(a.address)));
  const rows = agents.map((a, i) => {
    const t = reps[i] && reps[i].total;
    return [
      h('a', { href: `#/agent/${a.address}` }, a.name),
      badge(a.status),
      a.skills.join(', '),
      tokens(a.price),
      repSummary(reps[i]),
      t ? tokens(t.earned) : '—',
      t ? String(t.standing) : '—',
      t ? tokens(t.slashed) : '—',
    ];
  });
  return h(
    'section',
    {},
    h('h1', {}, 'Agents'),
    h(
      'p',
      { class: 'muted' },
      `${agents.length} registered. Standing: the sum over payers of the square root of ` +
        'what each paid net (base units), so many real customers count for more than one large one.',
    ),
    table(['Agent', 'Status', 'Skills', 'Price', 'Results', 'Earned', 'Standing', 'Slashed'], rows),
  );
}

export async function agentPage(page, addr) {
  await loadNames();
  const [card, rep, acct, posted, worked] = await Promise.all([
    get(`/v1/agents/${addr}`).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
    reputationOf(addr),
    get(`/v1/accounts/${addr}`),
    get(`/v1/tasks?poster=${addr}&limit=50`),
    get(`/v1/tasks?worker=${addr}&limit=50`),
  ]);
  const title = card ? card.name : short(addr);
  const skills = rep
    ? rep.skills.map((s) => [
        s.skill,
        s.accepted,
        s.rejected,
        s.missed,
        s.disputesWon,
        s.disputesLost,
        tokens(s.slashed),
        `${s.unitsAccepted}/${s.unitsAccepted + s.unitsRejected}`,
      ])
    : [];
  return h(
    'section',
    {},
    h('h1', {}, title),
    facts([
      ['Address', h('span', { class: 'mono' }, addr)],
      card && ['Status', badge(card.status)],
      card && ['Skills', card.skills.join(', ')],
      card && ['Price', tokens(card.price)],
      card && ['Model', h('span', { class: 'mono' }, short(card.model))],
      card && ['Registered', blockLink(card.registeredHeight)],
      ['Balance', tokens(acct.balance)],
      ['Staked', tokens(acct.staked)],
      ['Wallet', h('a', { href: `#/wallet/${addr}` }, 'balances, history, points and airdrops')],
      ['Proof of human', h('a', { href: `#/human/${addr}` }, 'attestations and weight in funding rounds')],
      rep && [
        'Earned',
        `${tokens(rep.total.earned)} from ${rep.total.payers} payers (standing ${rep.total.standing})`,
      ],
    ]),
    h('h2', {}, 'Reputation by skill'),
    skills.length
      ? table(
          ['Skill', 'Accepted', 'Rejected', 'Missed', 'Disputes won', 'Disputes lost', 'Slashed', 'Units accepted'],
          skills,
        )
      : h('p', {}, 'no results yet'),
    h('h2', {}, 'Tasks worked'),
    taskTable(worked.tasks),
    h('h2', {}, 'Tasks posted'),
    taskTable(posted.tasks),
  );
}

function taskTable(tasks) {
  if (!tasks.length) return h('p', {}, 'none');
  return table(
    ['Task', 'Kind', 'Status', 'Bounty / slot', 'Slots', 'Poster', 'Posted'],
    tasks.map((t) => [
      taskLink(t.id),
      t.kind,
      badge(t.status),
      tokens(t.bounty),
      t.slots,
      addrLink(t.poster),
      blockLink(t.postedHeight),
    ]),
  );
}

// ---- The live board: one column per status; the event stream moves cards.
const COLUMNS = ['open', 'expired', 'complete', 'cancelled'];

function taskCard(t) {
  return h(
    'li',
    { class: 'task-card', 'data-task': t.id },
    h('a', { href: `#/task/${t.id}`, class: 'mono' }, short(t.id)),
    ' ',
    h('strong', {}, t.kind),
    ' ',
    h('div', {}, `${tokens(t.bounty)} × ${t.slots} · stake ${tokens(t.stake)} · ${t.claims} claimed`),
    h('div', { class: 'muted' }, 'by ', addrLink(t.poster)),
  );
}

export async function boardPage(page) {
  await loadNames();
  const lists = {};
  const board = h(
    'div',
    { class: 'board', id: 'board' },
    COLUMNS.map((s) => {
      lists[s] = h('ul', { class: 'column-list', 'aria-live': s === 'open' ? 'polite' : 'off' });
      return h('section', { class: 'column' }, h('h2', {}, badge(s), ' ', h('span', { class: 'count' }, '')), lists[s]);
    }),
  );
  const live = h('p', { id: 'live', class: 'muted', role: 'status' }, 'connecting to the event stream…');
  const recount = () => {
    for (const s of COLUMNS) lists[s].parentNode.querySelector('.count').textContent = lists[s].children.length;
  };
  const place = (t) => {
    const old = board.querySelector(`[data-task="${t.id}"]`);
    if (old) old.remove();
    const li = taskCard(t);
    lists[t.status].prepend(li);
    li.classList.add('fresh');
    recount();
  };
  for (const s of COLUMNS) {
    const { tasks } = await get(`/v1/tasks?status=${s}&limit=${s === 'open' ? 200 : 30}`);
    lists[s].append(...tasks.map(taskCard));
  }
  recount();
  const es = new EventSource('/v1/events');
  es.addEventListener('open', () => {
    live.textContent = 'live: updates as blocks land';
    live.dataset.live = '1';
  });
  es.addEventListener('error', () => {
    live.textContent = 'event stream lost; reconnecting…';
    live.dataset.live = '0';
  });
  es.addEventListener('block', (ev) => {
    const b = JSON.parse(ev.data);
    live.textContent = `live: block #${b.height} at ${when(b.time)}`;
    live.dataset.live = '1';
  });
  es.addEventListener('task', async (ev) => {
    const e = JSON.parse(ev.data);
    try {
      place(await get(`/v1/tasks/${e.task}`));
    } catch (err) {
      live.textContent = err.message;
    }
  });
  page.onLeave(() => es.close());
  return h('section', {}, h('h1', {}, 'Task board'), live, board, postForm());
}

// Posting a task from the page: the spec is stored as a blob under a permit
// and the task_post action is signed here (sign.js); the node sees neither key.
const ZERO_SPEC = '0x' + '0'.repeat(64);

function postForm() {
  const field = (id, label, attrs) => [
    h('label', { for: id }, label),
    h('input', { id, autocomplete: 'off', spellcheck: 'false', ...attrs }),
  ];
  const spec = h('textarea', { id: 'post-spec', rows: 3, required: true, placeholder: 'what the task asks for' });
  const out = h('p', { id: 'post-result', role: 'status' });
  const val = (id) => document.getElementById(id).value.trim();
  const go = async (signerOf) => {
    out.className = 'muted';
    out.textContent = 'signing…';
    delete out.dataset.ok;
    try {
      const chain = await get('/v1/chain');
      const signer = await signerOf();
      const given = {
        kind: val('post-kind'),
        slots: String(Number(val('post-slots') || '1')),
        bounty: toUnits(val('post-bounty')),
        stake: toUnits(val('post-stake')),
        spec: ZERO_SPEC,
      };
      fillFields(chain, 'task_post', given); // refuses a field it cannot fill before anything is uploaded
      given.spec = '0x' + (await uploadBlob(chain, signer, textBytes(spec.value))).slice('sha256:'.length);
      const fields = fillFields(chain, 'task_post', given);
      const acct = await get(`/v1/accounts/${signer.address}`);
      const r = await post('/v1/actions', await signAction(chain, signer, 'task_post', acct.nonce, fields));
      if (r.status !== 200 || !r.body || !r.body.ok)
        throw new Error(
          `refused: ${r.body && r.body.error ? `${r.body.error.code}: ${r.body.error.message}` : r.status}`,
        );
      out.className = 'ok';
      out.dataset.ok = '1';
      out.dataset.task = r.body.id;
      out.replaceChildren('posted ', taskLink(r.body.id), ` in block #${r.body.height} (signed by ${signer.how})`);
      document.getElementById('post-key').value = '';
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
      hidden: !globalThis.ethereum,
      onclick: () => go(async () => (await walletSigner()) || Promise.reject(new Error('no browser wallet'))),
    },
    'Sign with browser wallet',
  );
  return h(
    'details',
    { class: 'post' },
    h('summary', {}, 'Post a task (signed in this browser)'),
    h(
      'form',
      {
        id: 'post',
        class: 'stack',
        onsubmit: (e) => {
          e.preventDefault();
          go(() => keySigner(val('post-key')));
        },
      },
      field('post-kind', 'Kind', { value: 'echo', required: true, maxlength: 64 }),
      h('label', { for: 'post-spec' }, 'Spec'),
      spec,
      field('post-bounty', 'Bounty per slot (GOT)', { required: true, inputmode: 'decimal', placeholder: '1.5' }),
      field('post-stake', 'Stake per claim (GOT)', { required: true, inputmode: 'decimal', placeholder: '0.5' }),
      field('post-slots', 'Slots', { value: '1', inputmode: 'numeric', pattern: '[0-9]{1,3}' }),
      field('post-key', 'Private key', { type: 'password', placeholder: '64 hex digits; stays in this page' }),
      h('div', {}, h('button', { type: 'submit', id: 'post-go' }, 'Sign here and post'), ' ', wallet),
      out,
      h(
        'p',
        { class: 'muted' },
        'The spec is stored as a blob under an upload permit and the task is posted with ' +
          "an action, both signed in this browser; the bounty and a stake are locked from the sender's balance.",
      ),
    ),
  );
}

// ---- One task and its timeline.
const VERBS = {
  task_post: 'posted',
  task_cancel: 'cancelled',
  task_claim: 'claimed a slot (stake locked)',
  task_submit: 'submitted a result',
  task_verify: 'gave a verdict',
  task_verify_partial: 'gave a per-unit verdict',
  task_settle: 'settled',
  task_dispute: 'disputed the rejection (bond locked)',
  dispute_vote: 'voted',
  vote_commit: 'sealed a vote (bond locked)',
  vote_reveal: 'revealed a vote',
  eval_attest: 'attested an evaluation',
  eval_cosign: 'co-signed the evaluation',
  eval_reveal: 'revealed a sealed co-sign',
  dataset_publish: 'published the dataset',
  points_record: "recorded the slot's points (airdrop)",
};

function timelineEntry(a, b, t) {
  const bits = [];
  if (a.type === 'task_post' && a.id === t.id)
    bits.push(`${tokens(a.bounty)} × ${a.slots} slots, stake ${tokens(a.stake)} per claim`);
  else if (a.type === 'task_post') bits.push('sub-task ', taskLink(a.id));
  if (a.slot !== undefined) bits.push(`slot ${a.slot}`);
  if (a.type === 'task_verify' || a.type === 'dispute_vote' || a.type === 'vote_reveal')
    bits.push(badge(a.accept ? 'accept' : 'reject'));
  if (a.type === 'eval_cosign' || a.type === 'eval_reveal') bits.push(badge(a.agree ? 'agree' : 'disagree'));
  if (a.type === 'task_verify_partial') bits.push(`${a.accepted}/${a.total} units accepted`);
  if (a.result) bits.push('result', blobLink(`sha256:${a.result.slice(2)}`));
  return h(
    'li',
    { class: `ev ${a.type}`, 'data-slot': a.slot === undefined ? null : String(a.slot) },
    h('span', { class: 'when' }, blockLink(b.height), ' ', when(b.time)),
    ' ',
    addrLink(a.from),
    ' ',
    h('strong', {}, VERBS[a.type] || a.type),
    bits.map((x) => [' ', x]),
  );
}

// What the slot's outcome moved (the market's rules, src/market/verdict.c and
// dispute.c): payments and slashes are not actions of their own.
function moneyOf(t, s) {
  const out = [];
  const d = s.dispute;
  if (s.state === 'paid' && s.accept)
    out.push(['payment', `${tokens(t.bounty)} bounty to `, addrLink(s.worker), `, stake ${tokens(t.stake)} returned`]);
  if (s.state === 'paid' && !s.accept && s.batchAccepted === undefined)
    out.push(['payment', 'settled under a per-unit verdict to ', addrLink(s.worker)]);
  if (d && d.outcome === 'worker-lost')
    out.push(['slash', `dispute bond ${tokens(d.bond)} of `, addrLink(s.worker), ' (dispute lost)']);
  if (d && d.outcome === 'worker-won' && s.rejectionBond && s.rejectionBond !== '0')
    out.push(['slash', `the poster's rejection bond ${tokens(s.rejectionBond)} (rejection overturned)`]);
  if (s.state !== 'paid' && s.accept === false && !(d && d.outcome === 'open'))
    out.push(['slash', `stake ${tokens(t.stake)} of `, addrLink(s.worker), ' (rejected)']);
  return out;
}

// The timeline's last lines: what each slot's outcome did, which no action
// records (a dispute is decided, and money moves, when its window closes).
function outcomeEntries(t, s) {
  const out = [];
  if (s.dispute && s.dispute.outcome !== 'open')
    out.push(
      h(
        'li',
        { class: 'ev outcome' },
        h('strong', {}, `slot ${s.slot}: dispute decided `),
        badge(s.dispute.outcome, s.dispute.outcome === 'worker-won' ? 'ok' : 'bad'),
        ` (${tokens(s.dispute.acceptWeight)} for the worker, ${tokens(s.dispute.rejectWeight)} against)`,
      ),
    );
  for (const [kind, ...rest] of moneyOf(t, s))
    out.push(h('li', { class: `ev ${kind}` }, h('strong', {}, `slot ${s.slot}: `), badge(kind), ' ', rest));
  return out;
}

function disputeBlock(s, d, label) {
  return h(
    'div',
    { class: 'dispute' },
    h(
      'h4',
      {},
      label,
      ' ',
      badge(d.outcome, d.outcome === 'worker-won' ? 'ok' : d.outcome === 'open' ? 'open' : 'bad'),
    ),
    facts([
      ['Bond', tokens(d.bond)],
      ['For the worker', tokens(d.acceptWeight)],
      ['Against', tokens(d.rejectWeight)],
      d.deadline && ['Deadline', when(d.deadline)],
    ]),
    d.votes && d.votes.length
      ? table(
          ['Voter', 'Vote', 'Weight'],
          d.votes.map((v) => [addrLink(v.voter), badge(v.accept ? 'accept' : 'reject'), tokens(v.weight)]),
        )
      : h('p', {}, 'no votes'),
  );
}

function slotBlock(t, s) {
  const past = (s.pastDisputes || []).map((d) => disputeBlock(s, d, `Earlier dispute (attempt ${d.attempt})`));
  const money = moneyOf(t, s);
  return h(
    'article',
    { class: 'slot', 'data-slot': s.slot },
    h('h3', {}, `Slot ${s.slot} `, badge(s.state)),
    facts([
      ['Worker', addrLink(s.worker)],
      ['Attempt', s.attempt],
      ['Result', blobLink(s.result)],
      s.accept !== null && s.accept !== undefined && ['Verdict', badge(s.accept ? 'accepted' : 'rejected')],
      s.verdictBy && ['By', addrLink(s.verdictBy)],
      s.reason && ['Reason', blobLink(s.reason)],
      s.deadlineTime && ['Deadline', when(s.deadlineTime)],
    ]),
    s.dispute ? disputeBlock(s, s.dispute, 'Dispute') : null,
    past,
    money.length
      ? h(
          'ul',
          { class: 'money' },
          money.map(([kind, ...rest]) => h('li', { class: kind }, badge(kind), ' ', rest)),
        )
      : null,
  );
}

export async function taskPage(page, id) {
  await loadNames();
  const [t, head] = await Promise.all([get(`/v1/tasks/${id}`), get('/v1/head')]);
  const { rows: events, more, indexedHeight, gap } = await indexedActions('task', id, head.height);
  const isData = t.kind === 'generate';
  return h(
    'section',
    {},
    h('h1', {}, `Task ${short(id)}`),
    facts([
      ['Id', h('span', { class: 'mono' }, id)],
      ['Kind', t.kind],
      ['Status', badge(t.status)],
      ['Poster', addrLink(t.poster)],
      ['Bounty', `${tokens(t.bounty)} per slot × ${t.slots}`],
      ['Stake per claim', tokens(t.stake)],
      ['Policy', t.policy],
      t.verifier && ['Evaluator', addrLink(t.verifier)],
      t.fee !== '0' && ['Evaluator fee', tokens(t.fee)],
      ['Escrow now', tokens(t.escrow)],
      ['Spec', blobLink(t.spec)],
      t.parent && ['Parent', taskLink(t.parent)],
      isData && ['Dataset', h('a', { href: `#/dataset/${t.spec}` }, 'dataset of this job')],
      ['Posted', blockLink(t.postedHeight)],
      t.expiryTime && ['Claims close', when(t.expiryTime)],
    ]),
    h('h2', {}, 'Slots'),
    t.slotList.map((s) => slotBlock(t, s)),
    t.subtasks && t.subtasks.length ? [h('h2', {}, 'Sub-tasks'), taskTable(t.subtasks)] : null,
    h('h2', {}, 'Timeline'),
    more ? h('p', { class: 'muted' }, `the first ${events.length} actions`) : null,
    gap ? h('p', { class: 'muted' }, `the node is still indexing: blocks after ${indexedHeight} are partly shown`) : null,
    h(
      'ol',
      { class: 'timeline', id: 'timeline' },
      events.map(([a, b]) => timelineEntry(a, b, t)),
      t.slotList.map((s) => outcomeEntries(t, s)),
    ),
  );
}
