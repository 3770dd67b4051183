// sign.js: EIP-712 signing in the browser, so a user's key never reaches the
// node. Two signers: a key the user pastes into this page (kept in this tab's
// memory only, never stored, never sent), signed with @noble/curves'
// secp256k1 served by the node from its build; or an injected EIP-1193
// wallet (window.ethereum) asked for eth_signTypedData_v4. Either way the
// page POSTs the signed action to /v1/actions like any other client, and the
// node checks the signature as it checks everyone's.
//
// The typed data is built from GET /v1/chain (its domain and the field list
// of each kind), never by hand, so a kind added to the ledger signs here
// without a change.

let noble = null;

// Loads the signing library on first use; throws a message saying how to get
// it when this build has none.
async function lib() {
  if (noble) return noble;
  try {
    const [c, h] = await Promise.all([import('/web/lib/curves/secp256k1.js'), import('/web/lib/hashes/sha3.js')]);
    const sha2 = await import('/web/lib/hashes/sha2.js');
    noble = { secp: c.secp256k1, keccak: h.keccak_256, sha256: sha2.sha256 };
  } catch (e) {
    throw new Error(
      'this node was built without the signing library (run scripts/setup.sh test, rebuild); ' +
        'or use a browser wallet',
    );
  }
  return noble;
}

const enc = new TextEncoder();

function hexToBytes(hex) {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (h.length % 2 || /[^0-9a-fA-F]/.test(h)) throw new Error(`not hex: ${hex.slice(0, 20)}…`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(b) {
  return '0x' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// A 32-byte big-endian word of a non-negative integer (BigInt), refusing what
// does not fit in bits.
function word(v, bits) {
  const n = BigInt(v);
  if (n < 0n || n >> BigInt(bits)) throw new Error(`${v} does not fit in uint${bits}`);
  return hexToBytes(n.toString(16).padStart(64, '0'));
}

// EIP-712 encodeType of one struct (the kinds have no nested structs).
function encodeType(name, fields) {
  return `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(',')})`;
}

// encodeData of one value of an atomic or dynamic EIP-712 type.
function encodeValue(k, type, v) {
  if (type === 'address') return concat(new Uint8Array(12), hexToBytes(v));
  if (type === 'bool') return word(v ? 1 : 0, 8);
  if (type === 'bytes32') {
    const b = hexToBytes(v);
    if (b.length !== 32) throw new Error('a bytes32 must be 32 bytes');
    return b;
  }
  if (type === 'string') return k(enc.encode(v));
  const m = /^uint(\d+)$/.exec(type);
  if (m) return word(v, Number(m[1]));
  throw new Error(`type ${type} is not supported`);
}

// hashStruct(message) under fields.
function hashStruct(k, name, fields, msg) {
  const parts = [k(enc.encode(encodeType(name, fields)))];
  for (const f of fields) {
    if (msg[f.name] === undefined) throw new Error(`missing field ${f.name}`);
    parts.push(encodeValue(k, f.type, msg[f.name]));
  }
  return k(concat(...parts));
}

const DOMAIN_FIELDS = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'salt', type: 'bytes32' },
];

// The eth_signTypedData_v4 object of one action (kind from /v1/chain).
export function typedData(chain, kind, message) {
  return {
    types: { EIP712Domain: DOMAIN_FIELDS, [kind.primaryType]: kind.fields },
    primaryType: kind.primaryType,
    domain: chain.domain,
    message,
  };
}

// The EIP-712 digest of typed data (the action's id).
export async function digest(td) {
  const { keccak } = await lib();
  const dom = hashStruct(keccak, 'EIP712Domain', td.types.EIP712Domain, td.domain);
  const msg = hashStruct(keccak, td.primaryType, td.types[td.primaryType], td.message);
  return keccak(concat(Uint8Array.of(0x19, 0x01), dom, msg));
}

// The EIP-55 checksummed address of 20 bytes.
async function checksum(addrBytes) {
  const { keccak } = await lib();
  const hex = bytesToHex(addrBytes).slice(2);
  const h = keccak(enc.encode(hex));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const nib = (h[i >> 1] >> (i % 2 ? 0 : 4)) & 15;
    out += nib >= 8 ? hex[i].toUpperCase() : hex[i];
  }
  return out;
}

// A signer from a private key typed by the user (64 hex digits). The key
// lives in this closure only.
export async function keySigner(keyHex) {
  const { secp, keccak } = await lib();
  const key = hexToBytes(keyHex.trim());
  if (key.length !== 32) throw new Error('a private key is 32 bytes: 64 hex digits');
  const pub = secp.getPublicKey(key, false);
  const address = await checksum(keccak(pub.slice(1)).slice(12));
  return {
    address,
    how: 'key in this page',
    async sign(td) {
      const d = await digest(td);
      const rec = secp.sign(d, key, { prehash: false, lowS: true, format: 'recovered' });
      return bytesToHex(concat(rec.slice(1), Uint8Array.of(27 + rec[0])));
    },
  };
}

// A signer from an injected EIP-1193 wallet, or null when there is none.
export async function walletSigner() {
  const eth = globalThis.ethereum;
  if (!eth || typeof eth.request !== 'function') return null;
  const accounts = await eth.request({ method: 'eth_requestAccounts' });
  if (!accounts || !accounts.length) throw new Error('the wallet gave no account');
  const address = accounts[0];
  return {
    address,
    how: 'browser wallet',
    async sign(td) {
      return eth.request({ method: 'eth_signTypedData_v4', params: [address, JSON.stringify(td)] });
    },
  };
}

// Signs one action of type `type` with fields (amounts as decimal strings of
// base units) and returns the JSON to POST: the fields, chainId, from, nonce
// and sig.
export async function signAction(chain, signer, type, nonce, fields) {
  const kind = chain.kinds.find((k) => k.type === type);
  if (!kind) throw new Error(`the node knows no action ${type}`);
  const message = { from: signer.address, nonce: String(nonce), ...fields };
  const td = typedData(chain, kind, message);
  const sig = await signer.sign(td);
  return { type, chainId: chain.chainId, ...message, nonce: Number(nonce), sig };
}

// Defaults for the fields of an action the page does not ask for: zero means
// "none" (no parent, no evaluator, no fee) or "the ledger's default" (seats
// per worker, batch sizes; src/market/market.h); the windows are those the
// CLI and the agents use (GT_AGENT_DEFAULT_*_S in src/agent/agent.h).
const ZERO32 = '0x' + '0'.repeat(64);
const ZERO20 = '0x' + '0'.repeat(40);
const DEFAULTS = {
  parent: ZERO32,
  verifier: ZERO20,
  fee: '0',
  quorum: '0',
  claimSeconds: '600',
  submitSeconds: '300',
  verifySeconds: '300',
  seatsPerWorker: '0',
  batchItems: '0',
  lastBatchItems: '0',
};

// The fields of kind `type` from `given`, the rest from DEFAULTS; refuses a
// field it has no value for (a kind this page does not know how to fill).
export function fillFields(chain, type, given) {
  const kind = chain.kinds.find((k) => k.type === type);
  if (!kind) throw new Error(`the node knows no action ${type}`);
  const out = {};
  for (const f of kind.fields) {
    if (f.name === 'from' || f.name === 'nonce') continue;
    const v = given[f.name] !== undefined ? given[f.name] : DEFAULTS[f.name];
    if (v === undefined) throw new Error(`this page cannot fill the field ${f.name} of ${type}`);
    out[f.name] = v;
  }
  return out;
}

// Stores bytes as a blob under an upload permit the signer signs here
// (BlobUpload typed data, docs/api.md "Blobs"); returns the blob's id
// ("sha256:…"). expiry_s: the permit's life, at most an hour.
export async function uploadBlob(chain, signer, bytes, expiry_s = 600) {
  const { sha256 } = await lib();
  const hash = bytesToHex(sha256(bytes));
  const expiry = Math.floor(Date.now() / 1000) + expiry_s;
  const fields = [
    { name: 'uploader', type: 'address' },
    { name: 'hash', type: 'bytes32' },
    { name: 'size', type: 'uint64' },
    { name: 'expiry', type: 'uint64' },
  ];
  const td = {
    types: { EIP712Domain: DOMAIN_FIELDS, BlobUpload: fields },
    primaryType: 'BlobUpload',
    domain: chain.domain,
    message: { uploader: signer.address, hash, size: String(bytes.length), expiry: String(expiry) },
  };
  const sig = await signer.sign(td);
  const permit =
    `Gotong-Permit uploader=${signer.address},hash=sha256:${hash.slice(2)},size=${bytes.length},` +
    `expiry=${expiry},sig=${sig}`;
  const r = await fetch('/v1/blobs', {
    method: 'POST',
    headers: { Authorization: permit, 'Content-Type': 'application/octet-stream' },
    body: bytes,
  });
  const body = await r.json().catch(() => null);
  if (!r.ok)
    throw new Error(`upload refused: ${body && body.error ? `${body.error.code}: ${body.error.message}` : r.status}`);
  return body.id;
}

export const textBytes = (s) => enc.encode(s);

// keccak-256 of bytes (the ledger's hash), for commitments the page makes
// itself (label.js).
export async function keccakBytes(bytes) {
  const { keccak } = await lib();
  return keccak(bytes);
}

export { hexToBytes, concat };
