// openai_client.mjs: OpenAI's own Node client (npm `openai`, installed by
// scripts/setup.sh test into .cache/npm) against `gotong serve` children and a
// `gotong node -m` child (the same routes on the node's port),
// used as a real client uses it: models, chat (whole, streamed, logprobs), plain
// completions with a stop string, embeddings, structured output, tool calls, seeded answers equal across thread counts,
// a full queue (429) and a stream aborted by the client,
// and errors surfacing as the client's typed exceptions.
//
//   node tests/serve/openai_client.mjs GOTONG_BINARY FIXTURES_DIR
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(root, '.cache', 'npm', 'package.json'));
const OpenAI = require('openai').default ?? require('openai');
const [gotong, fixtures] = process.argv.slice(2);
let checks = 0;
const check = (fn, ...a) => { fn(...a); checks++; };

// Starts `gotong serve` on a free port; resolves with {child, baseURL} once it
// prints its "listening on" line.
function serve(model, threads, extra = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(gotong, ['serve', '-m', path.join(fixtures, 'models', model + '.gguf'),
      '--listen', '127.0.0.1:0', '--threads', String(threads), '--quiet', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.]+:[0-9]+)/);
      if (m) resolve({ child, baseURL: m[1] + '/v1' });
    });
    child.on('exit', (code) => reject(new Error(`gotong serve exited with ${code} before listening`)));
  });
}

// Starts `gotong node` on a fresh home with the model served on its port
// (`gotong node -m`); resolves like serve().
function node(model, extra = []) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gotong-openai-node-'));
  const pw = path.join(home, 'pw');
  fs.writeFileSync(pw, 'openai-test\n');
  const init = spawnSync(gotong, ['init', '--home', path.join(home, 'h'), '--light', '--password-file', pw],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  if (init.status !== 0) return Promise.reject(new Error(`gotong init exited with ${init.status}`));
  return new Promise((resolve, reject) => {
    const child = spawn(gotong, ['node', '--home', path.join(home, 'h'), '-m',
      path.join(fixtures, 'models', model + '.gguf'), '--listen', '127.0.0.1:0', '--quiet', ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.]+:[0-9]+)/);
      if (m) resolve({ child, baseURL: m[1] + '/v1', home });
    });
    child.on('exit', (code) => reject(new Error(`gotong node exited with ${code} before listening`)));
  });
}

function stop(s) {
  return new Promise((resolve) => {
    s.child.removeAllListeners('exit');
    s.child.on('exit', (code) => {
      if (s.home) fs.rmSync(s.home, { recursive: true, force: true });
      resolve(code);
    });
    s.child.kill('SIGTERM');
  });
}

const client = (s) => new OpenAI({ baseURL: s.baseURL, apiKey: 'unused', maxRetries: 0 });

// What a stock client does with the tiny qwen2 model on s: `gotong serve`'s
// own port, or a node's.
async function basics(qwen) {
  const ai = client(qwen);
  {
    // Models.
    const models = await ai.models.list();
    check(assert.deepEqual, models.data.map((m) => m.id), ['tiny-qwen2-q8_0']);

    // Chat, whole.
    const req = { model: 'tiny-qwen2-q8_0', seed: 11, temperature: 0.9, max_tokens: 20,
      messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello.' }] };
    const chat = await ai.chat.completions.create(req);
    check(assert.equal, chat.object, 'chat.completion');
    check(assert.equal, chat.choices[0].message.role, 'assistant');
    check(assert.equal, typeof chat.choices[0].message.content, 'string');
    check(assert.ok, ['stop', 'length'].includes(chat.choices[0].finish_reason));
    check(assert.equal, chat.usage.total_tokens, chat.usage.prompt_tokens + chat.usage.completion_tokens);

    // Chat, streamed: the same text, usage at the end.
    const stream = await ai.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
    let text = '', finish = null, usage = null, chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) continue;
      text += c.delta?.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
    check(assert.ok, chunks > 2);
    check(assert.equal, text, chat.choices[0].message.content);
    check(assert.equal, finish, chat.choices[0].finish_reason);
    check(assert.deepEqual, usage, chat.usage);

    // Logprobs as the client types them.
    const lp = await ai.chat.completions.create({ ...req, temperature: 0, max_completion_tokens: 5, logprobs: true, top_logprobs: 2 });
    const content = lp.choices[0].logprobs.content;
    check(assert.equal, content.length, lp.usage.completion_tokens);
    check(assert.equal, content.map((c) => Buffer.from(c.bytes).toString('latin1')).join(''),
      Buffer.from(lp.choices[0].message.content, 'utf8').toString('latin1'));
    check(assert.ok, content.every((c) => c.logprob <= 0 && c.top_logprobs.length === 2 && c.top_logprobs[0].token === c.token));

    // Completions with max_completion_tokens' sibling max_tokens and a stop string.
    const base = { model: 'tiny-qwen2-q8_0', prompt: 'Once upon a time', max_tokens: 16, temperature: 0 };
    const whole = await ai.completions.create(base);
    check(assert.equal, whole.object, 'text_completion');
    const t = whole.choices[0].text;
    check(assert.ok, t.length > 2);
    const stopAt = t.slice(Math.floor(t.length / 2), Math.floor(t.length / 2) + 2);
    const cut = await ai.completions.create({ ...base, stop: [stopAt] });
    check(assert.equal, cut.choices[0].text, t.slice(0, t.indexOf(stopAt)));
    check(assert.equal, cut.choices[0].finish_reason, 'stop');

    // Embeddings: the client's default (base64, decoded by the client) equals
    // the float encoding; one input alone equals the same input in a batch;
    // unit length.
    const one = await ai.embeddings.create({ model: 'tiny-qwen2-q8_0', input: 'The quick brown fox' });
    const floats = await ai.embeddings.create({ model: 'tiny-qwen2-q8_0', input: 'The quick brown fox', encoding_format: 'float' });
    const batch = await ai.embeddings.create({ model: 'tiny-qwen2-q8_0', input: ['Hello there', 'The quick brown fox'] });
    const vec = one.data[0].embedding;
    check(assert.equal, one.object, 'list');
    check(assert.ok, Array.isArray(vec) && vec.length > 0);
    check(assert.deepEqual, vec, floats.data[0].embedding);
    check(assert.deepEqual, batch.data[1].embedding, vec);
    check(assert.deepEqual, batch.data.map((d) => d.index), [0, 1]);
    check(assert.notDeepEqual, batch.data[0].embedding, vec);
    check(assert.ok, Math.abs(vec.reduce((a, x) => a + x * x, 0) - 1) < 1e-5);
    check(assert.equal, batch.usage.total_tokens, batch.usage.prompt_tokens);

    // Structured output: the client's json_schema call; the content parses
    // and has the schema's fields, in the schema's order.
    const schema = { type: 'object', additionalProperties: false, required: ['name', 'n', 'tags'],
      properties: { name: { type: 'string', maxLength: 12 }, n: { type: 'integer' },
        tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 } } };
    const so = await ai.chat.completions.create({ ...req, max_tokens: 300,
      response_format: { type: 'json_schema', json_schema: { name: 'thing', strict: true, schema } } });
    const obj = JSON.parse(so.choices[0].message.content);
    check(assert.equal, so.choices[0].finish_reason, 'stop');
    check(assert.deepEqual, Object.keys(obj), ['name', 'n', 'tags']);
    check(assert.ok, obj.name.length <= 12 && Number.isInteger(obj.n) && obj.tags.every((t) => ['a', 'b'].includes(t)));

    // Tool calls: a named tool_choice makes the answer that call, parsed back
    // into message.tool_calls (arguments a JSON string that validates), the
    // same whole and streamed; the call and the tool's result sent back in
    // the next turn are accepted (rendered through the chat template).
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city',
      parameters: { type: 'object', required: ['city', 'unit'], additionalProperties: false,
        properties: { city: { type: 'string', maxLength: 20 }, unit: { enum: ['C', 'F'] } } } } },
    { type: 'function', function: { name: 'noop', parameters: { type: 'object', properties: {} } } }];
    const treq = { ...req, max_tokens: 200, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } },
      messages: [{ role: 'user', content: 'Weather in Paris?' }] };
    const tc = await ai.chat.completions.create(treq);
    const call = tc.choices[0].message.tool_calls[0];
    check(assert.equal, tc.choices[0].finish_reason, 'tool_calls');
    check(assert.equal, tc.choices[0].message.content, null);
    check(assert.equal, call.type, 'function');
    check(assert.equal, call.function.name, 'get_weather');
    const args = JSON.parse(call.function.arguments);
    check(assert.deepEqual, Object.keys(args), ['city', 'unit']);
    check(assert.ok, typeof args.city === 'string' && args.city.length <= 20 && ['C', 'F'].includes(args.unit));
    check(assert.match, call.id, /^call_[0-9a-f]{16}$/);
    const tstream = await ai.chat.completions.create({ ...treq, stream: true });
    const scalls = [];
    let sfinish = null;
    for await (const ch of tstream) {
      for (const d of ch.choices[0]?.delta?.tool_calls ?? []) scalls[d.index] = d;
      sfinish = ch.choices[0]?.finish_reason ?? sfinish;
    }
    check(assert.equal, sfinish, 'tool_calls');
    check(assert.deepEqual, [scalls[0].id, scalls[0].function.name, scalls[0].function.arguments],
      [call.id, call.function.name, call.function.arguments]);
    const next = await ai.chat.completions.create({ ...req, tools, messages: [...treq.messages,
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: '{"temp": 21}' }] });
    check(assert.equal, next.object, 'chat.completion');
    check(assert.ok, ['stop', 'length', 'tool_calls'].includes(next.choices[0].finish_reason));
    await assert.rejects(ai.chat.completions.create({ ...treq, tool_choice: { type: 'function', function: { name: 'nope' } } }),
      (e) => {
        check(assert.ok, e instanceof OpenAI.BadRequestError);
        check(assert.equal, e.param, 'tool_choice');
        return true;
      });

    // Errors come back as the client's typed exceptions with OpenAI's fields.
    await assert.rejects(ai.chat.completions.create({ ...req, model: 'gpt-4o' }), (e) => {
      check(assert.ok, e instanceof OpenAI.NotFoundError);
      check(assert.equal, e.status, 404);
      check(assert.equal, e.code, 'model_not_found');
      check(assert.equal, e.param, 'model');
      return true;
    });
    await assert.rejects(ai.completions.create({ ...base, temperature: 7 }), (e) => {
      check(assert.ok, e instanceof OpenAI.BadRequestError);
      check(assert.equal, e.param, 'temperature');
      check(assert.equal, e.type, 'invalid_request_error');
      return true;
    });
  }
}

// On a node's port: the same answers as on `gotong serve`'s (same model, same
// seed), next to the market API; /health carries the model's queue and
// /metrics counts the OpenAI routes; a clean stop.
async function onNode(direct) {
  const n = await node('tiny-qwen2-q8_0');
  let code = null;
  try {
    await basics(n);
    const req = { model: 'tiny-qwen2-q8_0', seed: 3, temperature: 0.7, max_tokens: 12,
      messages: [{ role: 'user', content: 'Count to three.' }] };
    const [a, b] = [await client(n).chat.completions.create(req), await client(direct).chat.completions.create(req)];
    check(assert.deepEqual, [a.choices, a.usage], [b.choices, b.usage]);
    const root = n.baseURL.replace(/\/v1$/, '');
    const head = await (await fetch(root + '/v1/head')).json();
    check(assert.equal, head.height >= 0 && typeof head.hash, 'string');
    const h = await (await fetch(root + '/health')).json();
    check(assert.equal, h.status, 'ok');
    check(assert.equal, typeof h.chainId, 'number');
    check(assert.equal, h.model.model, 'tiny-qwen2-q8_0');
    check(assert.equal, h.model.queue.running, 0);
    const metrics = await (await fetch(root + '/metrics')).text();
    check(assert.match, metrics, /route="\/v1\/chat\/completions",status="200"\} [1-9]/);
    check(assert.match, metrics, /route="\/v1\/embeddings",status="200"\} [1-9]/);
  } finally {
    code = await stop(n);
  }
  check(assert.equal, code, 0);
}

async function main() {
  const qwen = await serve('tiny-qwen2-q8_0', 1);
  try {
    await basics(qwen);
    await onNode(qwen);
  } finally {
    await stop(qwen);
  }

  // The same seeded request on 1 and 3 threads: the same answer.
  const a = await serve('tiny-llama-q8_0', 1), b = await serve('tiny-llama-q8_0', 3);
  try {
    const r = { model: 'tiny-llama-q8_0', seed: 5, temperature: 1.1, top_k: 40, max_tokens: 24,
      messages: [{ role: 'user', content: 'Write a line.' }] };
    const x = await client(a).chat.completions.create(r), y = await client(b).chat.completions.create(r);
    check(assert.deepEqual, [x.choices, x.usage], [y.choices, y.usage]);
  } finally {
    await stop(a);
    await stop(b);
  }
  // A full queue and a client that gives up, as the client sees them: while a
  // stream holds the one slot (--parallel 1) and one request waits (--max-queue 1), another is
  // refused with RateLimitError and Retry-After; aborting the stream cancels
  // its generation and the waiting request is served.
  const busy = await serve('tiny-qwen2-q8_0', 1, ['--parallel', '1', '--max-queue', '1', '--ctx', '16384']);
  try {
    const bai = client(busy), model = 'tiny-qwen2-q8_0';
    const health = async () => (await fetch(busy.baseURL.replace(/\/v1$/, '/health'))).json();
    const long = await bai.completions.create({ model, prompt: 'Go', stream: true, stop: ['qqqqqqqq'] });
    const it = long[Symbol.asyncIterator]();
    await it.next();
    const waiting = bai.completions.create({ model, prompt: 'Wait', max_tokens: 2 });
    while ((await health()).queue.waiting < 1) await new Promise((r) => setTimeout(r, 5));
    await assert.rejects(bai.completions.create({ model, prompt: 'x', max_tokens: 1 }), (e) => {
      check(assert.ok, e instanceof OpenAI.RateLimitError);
      check(assert.equal, e.status, 429);
      check(assert.equal, e.code, 'rate_limit_exceeded');
      check(assert.equal, e.headers.get('retry-after'), '1');
      return true;
    });
    long.controller.abort();
    const w = await waiting;
    check(assert.equal, w.usage.prompt_tokens > 0, true);
    const h = await health();
    check(assert.equal, h.requests.rejected, 1);
    check(assert.equal, h.requests.cancelled, 1);
    check(assert.ok, h.requests.cancelled_tokens < 16384);
  } finally {
    await stop(busy);
  }
  console.log(`openai client: ${checks} checks passed`);
}

main().catch((e) => { console.error(e); process.exit(1); });
