// work.js: what the market's work produced: datasets (with their Merkle root
// and the task that paid for them) and the evaluation leaderboard.
import {
  get,
  getAll,
  h,
  short,
  table,
  facts,
  badge,
  addrLink,
  taskLink,
  blockLink,
  blobLink,
  loadNames,
  tokens,
} from './api.js';
import { fundingSection } from './fund.js';

// Whether a funding round takes a published dataset (the node's view says why not).
const fundBadge = (d) =>
  d.fundable
    ? badge('fundable', 'ok')
    : h('span', { title: d.notFundable || '' }, badge('not fundable', 'bad'));

// Data jobs are the market's "generate" tasks; a job's id is its spec's hash.
export async function datasetsPage() {
  await loadNames();
  const tasks = await getAll('/v1/tasks?kind=generate', 'tasks');
  const sets = await Promise.all(
    tasks.map((t) =>
      get(`/v1/datasets/${t.spec}`).then(
        (d) => [t, d],
        (e) => [t, null],
      ),
    ),
  );
  const rows = sets.map(([t, d]) => [
    d
      ? h('a', { href: `#/dataset/${t.spec}`, class: 'mono' }, short(t.spec))
      : h('span', { class: 'mono' }, short(t.spec)),
    taskLink(t.id),
    d ? d.rows : '—',
    d ? h('span', { class: 'mono', title: d.root }, short(d.root)) : badge('unpublished', 'open'),
    d ? addrLink(d.publisher) : addrLink(t.poster),
    d ? blockLink(d.height) : '—',
    d ? fundBadge(d) : '—',
  ]);
  return h(
    'section',
    {},
    h('h1', {}, 'Datasets'),
    h(
      'p',
      { class: 'muted' },
      'Synthetic-data jobs, paid sample by sample; a published dataset commits to its rows ' +
        'with a Merkle root that anyone can recompute from the exported rows (gotong data).',
    ),
    rows.length
      ? table(['Job', 'Task', 'Rows', 'Merkle root', 'Publisher', 'Published', 'Funding rounds'], rows)
      : h('p', {}, 'no data jobs yet'),
  );
}

export async function datasetPage(page, job) {
  await loadNames();
  const d = await get(`/v1/datasets/${job}`);
  const t = await get(`/v1/tasks/${d.task}`);
  const batches = t.slotList.map((s) => [s.slot, addrLink(s.worker), badge(s.state), blobLink(s.result)]);
  return h(
    'section',
    {},
    h('h1', {}, `Dataset ${short(job)}`),
    facts([
      ['Job (spec hash)', h('span', { class: 'mono' }, d.job)],
      ['Merkle root', h('span', { class: 'mono' }, d.root)],
      ['Rows', d.rows],
      ['Manifest', blobLink(d.manifest)],
      ['Publisher', addrLink(d.publisher)],
      ['Published', blockLink(d.height)],
      ['Task', taskLink(d.task)],
      [
        'Funding rounds',
        d.fundable
          ? fundBadge(d)
          : h('span', {}, fundBadge(d), ' ', h('span', { class: 'muted' }, d.notFundable || '')),
      ],
      ['Spec', blobLink(t.spec)],
      ['Paid per batch', tokens(t.bounty)],
    ]),
    h('h2', {}, 'Provenance: the batches'),
    table(['Slot', 'Worker', 'State', 'Result'], batches),
    await fundingSection('0x' + d.job.replace(/^(sha256:|0x)/, '')),
  );
}

// How much re-execution stands behind a score: the items each judge re-executes
// under the eval task's spec (its poster chooses, as few as 1; '?' where the
// ledger cannot tell), then the drawn judges whose votes back it and the items
// their co-signs re-executed.
function checkedBy(e) {
  const judges = e.cosigns.backed;
  return (
    `${e.check ?? '?'} per judge; ${judges} judge${judges === 1 ? '' : 's'}, ` +
    `${e.cosigns.backedItemsChecked} item${e.cosigns.backedItemsChecked === 1 ? '' : 's'}`
  );
}

// One evaluation attestation: the model's score on a benchmark, who attested
// it, its co-signs and votes, and the funding rounds it entered.
export async function evaluationPage(page, id) {
  await loadNames();
  const a = await get(`/v1/attestations/${id}`);
  const votes = (a.cosignList || []).map((c) => [
    addrLink(c.cosigner),
    c.role,
    badge(c.agree ? 'agree' : 'disagree', c.agree ? 'ok' : 'bad'),
    c.itemsChecked,
    blockLink(c.height),
  ]);
  return h(
    'section',
    {},
    h('h1', {}, `Evaluation ${short(id)}`),
    facts([
      ['Attestation', h('span', { class: 'mono' }, id)],
      ['Bench', a.bench],
      ['Model', h('span', { class: 'mono', title: a.model }, short(a.model))],
      ['Score', a.score],
      ['Items', a.items],
      ['Checked', checkedBy(a)],
      ['Status', a.status ? badge(a.status, a.status === 'accepted' ? 'ok' : a.status === 'rejected' ? 'bad' : 'open') : '—'],
      ['Attester', addrLink(a.attester)],
      ['Task', taskLink(a.task)],
      ['Attested', a.height !== undefined ? blockLink(a.height) : '—'],
    ]),
    h('h2', {}, 'Co-signs and votes'),
    votes.length ? table(['By', 'Role', 'Says', 'Items checked', 'Block'], votes) : h('p', {}, 'none yet'),
    await fundingSection(id),
    h('p', {}, h('a', { href: '#/leaderboard' }, '← leaderboard')),
  );
}

export async function leaderboardPage() {
  await loadNames();
  const lb = await get('/v1/leaderboard?all=true');
  const rows = lb.entries.map((e) => [
    // unranked: why (its status, no bonded backing, or a check under min(items, 16))
    e.rank ?? h('span', { title: e.unranked || '' }, '—'),
    e.bench,
    h('span', { class: 'mono', title: e.model }, short(e.model)),
    e.score,
    e.items,
    checkedBy(e),
    badge(e.status, e.status === 'accepted' ? 'ok' : e.status === 'rejected' ? 'bad' : 'open'),
    `${e.cosigns.agreed} agree / ${e.cosigns.disagreed} disagree`,
    tokens(e.cosigns.backedStake),
    addrLink(e.attester),
    taskLink(e.task),
    e.attestation ? h('a', { href: `#/evaluation/${e.attestation}`, class: 'mono' }, short(e.attestation)) : '—',
  ]);
  return h(
    'section',
    {},
    h('h1', {}, 'Evaluation leaderboard'),
    h(
      'p',
      { class: 'muted' },
      'Models ranked by attested score per benchmark; only agreeing votes of drawn, bonded ' +
        'panels back a score. Checked: the items each judge re-executes under the task\'s spec ' +
        '(its poster chooses, as few as 1), then the judges behind the score and the items they ' +
        're-executed; a score checked by fewer than min(items, 16) items a judge is listed unranked. ' +
        'Rejected and pending attestations are listed too.',
    ),
    rows.length
      ? table(
          ['Rank', 'Bench', 'Model', 'Score', 'Items', 'Checked', 'Status', 'Co-signs', 'Backed by', 'Attester', 'Task', 'Attestation'],
          rows,
        )
      : h('p', {}, 'no attestations yet'),
  );
}
