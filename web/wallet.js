// wallet.js: a wallet's balances and history, sending tokens signed in this
// browser (sign.js), and one block with its actions.
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
  taskLink,
  blockLink,
  indexedActions,
  loadNames,
  names,
} from './api.js';
import { keySigner, walletSigner, signAction } from './sign.js';
import { walletFunding } from './fund.js';

// The other side of an action, as seen from addr.
function counterpart(a, addr) {
  const me = addr.toLowerCase();
  if (a.to)
    return a.from.toLowerCase() === me ? ['to ', addrLink(a.to, 'wallet')] : ['from ', addrLink(a.from, 'wallet')];
  if (a.task) return ['task ', taskLink(a.task)];
  if (a.type === 'task_post') return ['task ', taskLink(a.id)];
  return [];
}

// The address's actions (it sent them, or it is their 'to'), newest first,
// from the node's index: the last 500 at most.
async function history(addr, head) {
  const got = await indexedActions('address', addr.toLowerCase(), head, 'desc', 500);
  const rows = got.rows.map(([a, b]) => [
    blockLink(b.height),
    when(b.time),
    a.type,
    counterpart(a, addr),
    a.amount !== undefined ? tokens(a.amount) : a.bounty !== undefined ? tokens(a.bounty) : '',
  ]);
  return { rows, more: got.more, indexedHeight: got.indexedHeight, gap: got.gap };
}

function lookupForm(addr) {
  const input = h('input', {
    id: 'wallet-addr',
    name: 'address',
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
        location.hash = `#/wallet/${input.value.trim()}`;
      },
    },
    h('label', { for: 'wallet-addr' }, 'Address '),
    input,
    ' ',
    h('button', { type: 'submit' }, 'Show'),
  );
}

// The send form: the key (or a browser wallet) signs here; only the signed
// action goes to the node.
function sendForm(chain, onSent) {
  const key = h('input', {
    id: 'send-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    size: 44,
    placeholder: '64 hex digits; stays in this page',
  });
  const to = h('input', {
    id: 'send-to',
    required: true,
    size: 44,
    placeholder: '0x…',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const amount = h('input', { id: 'send-amount', required: true, size: 12, inputmode: 'decimal', placeholder: '1.5' });
  const out = h('p', { id: 'send-result', role: 'status' });
  const useWallet = h(
    'button',
    { type: 'button', id: 'send-wallet', hidden: !globalThis.ethereum },
    'Sign with browser wallet',
  );
  const go = async (signerOf) => {
    out.className = 'muted';
    out.textContent = 'signing…';
    delete out.dataset.ok;
    try {
      const signer = await signerOf();
      const units = toUnits(amount.value);
      const acct = await get(`/v1/accounts/${signer.address}`);
      const action = await signAction(chain, signer, 'transfer', acct.nonce, { to: to.value.trim(), amount: units });
      const r = await post('/v1/actions', action);
      if (r.status !== 200 || !r.body || !r.body.ok) {
        const e = r.body && r.body.error ? `${r.body.error.code}: ${r.body.error.message}` : `HTTP ${r.status}`;
        throw new Error(`refused: ${e}`);
      }
      out.className = 'ok';
      out.dataset.ok = '1';
      out.replaceChildren(
        `sent ${tokens(units)} from ${short(signer.address)} (signed by ${signer.how}) in block `,
        blockLink(r.body.height),
        `; action ${short(r.body.id)}`,
      );
      key.value = '';
      onSent(signer.address);
    } catch (e) {
      out.className = 'error';
      out.dataset.ok = '0';
      out.textContent = e.message;
    }
  };
  useWallet.addEventListener('click', () =>
    go(async () => {
      const s = await walletSigner();
      if (!s) throw new Error('no browser wallet (EIP-1193) in this page');
      return s;
    }),
  );
  return h(
    'form',
    {
      id: 'send',
      class: 'stack',
      onsubmit: (e) => {
        e.preventDefault();
        go(() => keySigner(key.value));
      },
    },
    h('label', { for: 'send-to' }, 'To'),
    to,
    h('label', { for: 'send-amount' }, 'Amount (GOT)'),
    amount,
    h('label', { for: 'send-key' }, 'Private key'),
    key,
    h('div', {}, h('button', { type: 'submit', id: 'send-go' }, 'Sign here and send'), ' ', useWallet),
    out,
    h(
      'p',
      { class: 'muted' },
      'The transfer is signed in this browser (EIP-712, secp256k1); the node only ever sees ' +
        'the signed action. The key is not stored.',
    ),
  );
}

export async function walletPage(page, addr) {
  await loadNames();
  const chain = await get('/v1/chain');
  const parts = [
    h('h1', {}, addr ? `Wallet ${names.get(addr.toLowerCase()) || short(addr)}` : 'Wallet'),
    lookupForm(addr),
  ];
  if (addr) {
    const [acct, head] = await Promise.all([get(`/v1/accounts/${addr}`), get('/v1/head')]);
    const hist = await history(addr, head.height);
    parts.push(
      facts([
        ['Address', h('span', { class: 'mono' }, acct.address)],
        ['Balance', h('span', { id: 'balance' }, tokens(acct.balance))],
        ['Staked', tokens(acct.staked)],
        ['Locked in escrow', tokens(acct.locked)],
        ['Unbonding', tokens(acct.unbonding)],
        ['Next nonce', acct.nonce],
        names.has(addr.toLowerCase()) && ['Agent', addrLink(addr)],
      ]),
      h('h2', {}, 'History'),
      hist.more ? h('p', { class: 'muted' }, `the last ${hist.rows.length} actions`) : null,
      hist.gap
        ? h('p', { class: 'muted' }, `the node is still indexing: blocks after ${hist.indexedHeight} are partly shown`)
        : null,
      hist.rows.length ? table(['Block', 'Time', 'Action', 'With', 'Amount'], hist.rows) : h('p', {}, 'no actions'),
      await walletFunding(addr),
    );
  }
  parts.push(
    h('h2', {}, 'Send tokens'),
    sendForm(chain, async (from) => {
      const shown = document.getElementById('balance');
      if (addr && shown && from.toLowerCase() === addr.toLowerCase())
        shown.textContent = tokens((await get(`/v1/accounts/${addr}`)).balance);
    }),
  );
  return h('section', {}, parts);
}

export async function blockPage(page, n) {
  await loadNames();
  const b = await get(`/v1/blocks/${n}`);
  const rows = b.actions.map((a) => [
    a.index,
    a.type,
    addrLink(a.from, 'wallet'),
    a.task ? taskLink(a.task) : a.type === 'task_post' ? taskLink(a.id) : a.to ? addrLink(a.to, 'wallet') : '',
    a.amount !== undefined ? tokens(a.amount) : a.bounty !== undefined ? tokens(a.bounty) : '',
    h('span', { class: 'mono', title: a.id }, short(a.id)),
  ]);
  const nav = h(
    'p',
    {},
    b.height > 0 ? h('a', { href: `#/block/${b.height - 1}` }, '← previous') : null,
    ' ',
    h('a', { href: `#/block/${b.height + 1}` }, 'next →'),
  );
  return h(
    'section',
    {},
    h('h1', {}, `Block ${b.height}`),
    facts([
      ['Time', when(b.time)],
      ['Hash', h('span', { class: 'mono' }, b.hash)],
      ['Previous', h('span', { class: 'mono' }, b.prev)],
      ['State root', h('span', { class: 'mono' }, b.stateRoot)],
      ['Actions', b.nActions],
    ]),
    nav,
    rows.length ? table(['#', 'Type', 'From', 'Subject', 'Amount', 'Id'], rows) : h('p', {}, 'an empty block'),
  );
}
