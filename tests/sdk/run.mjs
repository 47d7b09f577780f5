// End-to-end tests of gbd's OpenAI-compatible API (WIRE.md §4, §6) driven by the official
// `openai` npm package, with gbd's gemini pool pointed at gb-mock.
//
//   node run.mjs GBD GB_MOCK
//
// Starts gb-mock and two gbd daemons on 127.0.0.1 (port 0) with configs in a fresh temp
// dir: the main one (keys ok-1, ok-2) and one whose only key is ratelimit-7s-x (for the
// 429 case, kept apart so that its key cannot disturb GET /v1/models). Stops them with
// SIGTERM at the end, and prints their output when anything failed.
//
// The package comes from package-lock.json (`npm ci` here; `make test` does it). Without
// node_modules the run fails, unless GB_SDK_OPTIONAL is set: then it exits 77 (skipped).
// GB_KEEP_TMP keeps the temp dir.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SKIP = 77;
const [gbdPath, mockPath] = process.argv.slice(2);
if (!gbdPath || !mockPath) {
  console.error('usage: node run.mjs GBD GB_MOCK');
  process.exit(2);
}

if (!existsSync(new URL('./node_modules/openai/package.json', import.meta.url))) {
  const why = 'tests/sdk/node_modules is missing: run `npm ci --no-audit --no-fund` in tests/sdk';
  if (process.env.GB_SDK_OPTIONAL) {
    console.log(`skipped: ${why}`);
    process.exit(SKIP);
  }
  console.error(why);
  process.exit(1);
}
const { default: OpenAI } = await import('openai');
const { makeParseableResponseFormat } = await import('openai/lib/parser');

const TOKEN = 'sk-sdk-test-token-1';
const MODEL = 'gemini-2.5-flash';
const MODEL_3 = 'gemini-3-pro-preview';
const EMBED_MODEL = 'gemini-embedding-001';
// The thoughtSignature gb-mock puts on a Gemini 3 function call ("mock-signature").
const MOCK_SIGNATURE = 'bW9jay1zaWduYXR1cmU=';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

// --- Child processes

class Child {
  constructor(name, argv) {
    this.name = name;
    this.output = '';
    this.exit = null;
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = signal ? `signal ${signal}` : `status ${code}`;
        resolve();
      });
      this.proc.on('error', (err) => {
        this.exit = `spawn failed: ${err.message}`;
        resolve();
      });
    });
    this.listeners = new Set();
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (text) => {
        this.output += text;
        for (const f of this.listeners) f();
      });
    }
  }

  running() {
    return this.exit === null;
  }

  // Resolves with the match of `re` in the output (stdout and stderr) once it appears.
  waitFor(re, timeoutMs = START_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      const done = (err, m) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        err ? reject(err) : resolve(m);
      };
      const check = () => {
        const m = this.output.match(re);
        if (m) done(null, m);
      };
      const timer = setTimeout(
        () => done(new Error(`${this.name}: no line matching ${re} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.listeners.add(check);
      this.exited.then(() => {
        if (!this.output.match(re)) done(new Error(`${this.name} exited (${this.exit}) before ${re}`));
      });
      check();
    });
  }

  async stop() {
    if (!this.running()) return;
    this.proc.kill('SIGTERM');
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, STOP_TIMEOUT_MS);
    });
    await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (this.running()) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}

const children = [];
// Last resort if the run dies before after() ran.
process.on('exit', () => {
  for (const c of children) if (c.running()) c.proc.kill('SIGTERM');
});

function startChild(name, argv) {
  const c = new Child(name, argv);
  children.push(c);
  return c;
}

const toml = (s) => JSON.stringify(s);

async function startGbd(dir, name, mockUrl, keys) {
  const stateDir = mkdtempSync(join(dir, `${name}-state-`));
  const config = join(dir, `${name}.toml`);
  writeFileSync(
    config,
    [
      '[server]',
      'listen = ["127.0.0.1:0"]',
      'workers = 1',
      `state_dir = ${toml(stateDir)}`,
      `control_socket = ${toml(join(stateDir, 'gbd.sock'))}`,
      '[clients]',
      `tokens = [${toml(TOKEN)}]`,
      '[pool.gemini]',
      'provider = "gemini"',
      `base_url = ${toml(mockUrl)}`,
      `keys = [${keys.map(toml).join(', ')}]`,
      'models = ["*"]',
      '',
    ].join('\n'),
  );
  const gbd = startChild(name, [gbdPath, '-c', config]);
  const m = await gbd.waitFor(/ev=server\.listening addr=127\.0\.0\.1:(\d+)/);
  await gbd.waitFor(/ev=server\.ready/);
  return { child: gbd, port: Number(m[1]) };
}

// --- Fixture

let tmp;
let mockUrl;
let client; // main gbd
let limitedClient; // gbd whose only key is ratelimit-7s-x
let gbdPort;
let failed = false;

function sdkClient(port, prefix = '/v1') {
  return new OpenAI({
    baseURL: `http://127.0.0.1:${port}${prefix}`,
    apiKey: TOKEN,
    maxRetries: 0,
    timeout: 20_000,
  });
}

before(async () => {
  try {
    tmp = mkdtempSync(join(tmpdir(), 'gb-sdk-'));
    const mock = startChild('gb-mock', [mockPath, '--listen', '127.0.0.1:0']);
    const m = await mock.waitFor(/^listening (\S+):(\d+)$/m);
    mockUrl = `http://127.0.0.1:${m[2]}`;
    const main = await startGbd(tmp, 'gbd', mockUrl, ['ok-1', 'ok-2']);
    gbdPort = main.port;
    client = sdkClient(main.port);
    const limited = await startGbd(tmp, 'gbd-ratelimited', mockUrl, ['ratelimit-7s-x']);
    limitedClient = sdkClient(limited.port);
  } catch (err) {
    failed = true;
    throw err;
  }
});

after(async () => {
  await Promise.all(children.map((c) => c.stop()));
  if (failed) {
    for (const c of children) {
      console.error(`\n----- ${c.name} (${c.exit ?? 'running'}) output -----\n${c.output}`);
    }
  }
  if (tmp && !process.env.GB_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
  else if (tmp) console.error(`kept ${tmp}`);
});

// A test whose failure also prints the processes' output at the end.
function sdkTest(name, fn, options = {}) {
  test(name, { timeout: 30_000, ...options }, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      if (!options.todo) failed = true;
      throw err;
    }
  });
}

// The last API request gb-mock received, its body parsed.
async function mockLast() {
  const r = await fetch(`${mockUrl}/_mock/last`);
  assert.equal(r.status, 200);
  const last = await r.json();
  return { ...last, json: last.body ? JSON.parse(last.body) : null };
}

// A member of a Gemini request object under its camelCase or snake_case name (proto3
// JSON accepts both).
function field(obj, camel) {
  if (obj == null) return undefined;
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return obj[camel] ?? obj[snake];
}

// Tokens as gb-mock counts them: ceil(bytes / 4).
const tokens = (text) => Math.ceil(Buffer.byteLength(text) / 4);

// --- Cases

sdkTest('chat: non-stream answer is the echo, finish_reason stop, usage', async () => {
  const r = await client.chat.completions.create({
    model: MODEL,
    messages: [
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: 'Hello from the SDK' },
    ],
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, MODEL);
  assert.equal(typeof r.id, 'string');
  assert.ok(r.id.length > 0);
  assert.equal(r.choices.length, 1);
  const [choice] = r.choices;
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, 'assistant');
  assert.equal(choice.message.content, 'Echo: Hello from the SDK');
  assert.equal(choice.finish_reason, 'stop');
  assert.ok(r.usage, 'usage present');
  assert.ok(r.usage.prompt_tokens > 0);
  assert.equal(r.usage.completion_tokens, tokens('Echo: Hello from the SDK'));
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);

  const last = await mockLast();
  assert.match(last.target, new RegExp(`/models/${MODEL}:generateContent`));
  assert.equal(last.api_key.startsWith('ok-'), true);
});

sdkTest('chat: stream with include_usage ends with one finish chunk and a usage chunk', async () => {
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'Stream this sentence back' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk); // ends: the SDK saw [DONE] or EOF
  assert.ok(chunks.length >= 3, `only ${chunks.length} chunks`);

  const ids = new Set(chunks.map((c) => c.id));
  assert.equal(ids.size, 1, 'one id for the whole stream');
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.model, MODEL);
  }

  const withChoices = chunks.filter((c) => c.choices.length > 0);
  assert.equal(withChoices[0].choices[0].delta.role, 'assistant');
  const text = withChoices.map((c) => c.choices[0].delta.content ?? '').join('');
  assert.equal(text, 'Echo: Stream this sentence back');

  const finishes = withChoices.filter((c) => c.choices[0].finish_reason != null);
  assert.equal(finishes.length, 1, 'exactly one chunk with a finish_reason');
  assert.equal(finishes[0].choices[0].finish_reason, 'stop');

  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage, 'the last chunk carries usage');
  assert.ok(last.usage.prompt_tokens > 0);
  assert.equal(last.usage.completion_tokens, tokens(text));
  assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
  assert.equal(chunks.indexOf(finishes[0]), chunks.length - 2, 'usage chunk right after the finish');
  for (const c of chunks.slice(0, -1)) assert.equal(c.usage ?? null, null);

  assert.match((await mockLast()).target, /:streamGenerateContent\?alt=sse/);
});

sdkTest('chat: two-turn tool call on gemini-3 keeps the thought signature', async () => {
  const tools = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather in a city',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string', description: 'City name' } },
          required: ['city'],
        },
      },
    },
  ];
  const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];

  const first = await client.chat.completions.create({
    model: MODEL_3,
    messages,
    tools,
    tool_choice: 'required',
  });
  assert.equal(first.choices.length, 1);
  const turn1 = first.choices[0];
  assert.equal(turn1.finish_reason, 'tool_calls');
  assert.equal(turn1.message.role, 'assistant');
  assert.equal(turn1.message.tool_calls?.length, 1);
  const [call] = turn1.message.tool_calls;
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), {});
  assert.match(call.id, /^call_[A-Za-z0-9_-]+$/);
  // The id carries the signature as base64url (lib/llm/openai/tool_id.h).
  assert.ok(
    call.id.includes(MOCK_SIGNATURE.replace(/=+$/, '')),
    `tool call id ${call.id} does not carry the thought signature`,
  );
  const sent1 = (await mockLast()).json;
  assert.equal(field(field(field(sent1, 'toolConfig'), 'functionCallingConfig'), 'mode'), 'ANY');

  messages.push(turn1.message);
  messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temp_c: 18 }) });
  const second = await client.chat.completions.create({ model: MODEL_3, messages, tools });
  const turn2 = second.choices[0];
  assert.equal(turn2.finish_reason, 'stop');
  assert.equal(typeof turn2.message.content, 'string');
  assert.match(turn2.message.content, /^Echo:/);
  assert.ok(!turn2.message.tool_calls || turn2.message.tool_calls.length === 0);

  // What reached Gemini: the call with its signature, then one matching functionResponse.
  const sent2 = (await mockLast()).json;
  const parts = (role, key) =>
    sent2.contents
      .filter((c) => c.role === role)
      .flatMap((c) => c.parts.filter((p) => field(p, key)));
  const calls = parts('model', 'functionCall');
  assert.equal(calls.length, 1);
  assert.equal(field(calls[0], 'functionCall').name, 'get_weather');
  const signature = field(calls[0], 'thoughtSignature');
  assert.equal(typeof signature, 'string', 'the functionCall part carries a thoughtSignature');
  assert.equal(Buffer.from(signature, 'base64').toString(), 'mock-signature');
  const responses = parts('user', 'functionResponse');
  assert.equal(responses.length, 1);
  assert.equal(field(responses[0], 'functionResponse').name, 'get_weather');
  assert.deepEqual(field(responses[0], 'functionResponse').response, { temp_c: 18 });
});

const citySchema = {
  name: 'city_info',
  strict: true,
  schema: {
    type: 'object',
    properties: {
      city: { type: 'string' },
      population: { type: 'integer' },
    },
    required: ['city', 'population'],
    additionalProperties: false,
  },
};

sdkTest('chat: response_format json_schema reaches Gemini as a JSON response schema', async () => {
  const r = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'Describe Paris as JSON' }],
    response_format: { type: 'json_schema', json_schema: citySchema },
  });
  assert.equal(r.choices[0].finish_reason, 'stop');
  // Like Gemini, gb-mock answers JSON that fits the schema.
  assert.deepEqual(JSON.parse(r.choices[0].message.content), {
    city: 'Echo: Describe Paris as JSON',
    population: 1,
  });

  const gc = field((await mockLast()).json, 'generationConfig');
  assert.equal(field(gc, 'responseMimeType'), 'application/json');
  const schema = field(gc, 'responseJsonSchema') ?? field(gc, 'responseSchema');
  assert.ok(schema, 'responseJsonSchema or responseSchema sent');
  assert.deepEqual(Object.keys(schema.properties).sort(), ['city', 'population']);
});

sdkTest(
  'chat: chat.completions.parse() parses a json_schema answer',
  async () => {
    const format = makeParseableResponseFormat(
      { type: 'json_schema', json_schema: citySchema },
      (content) => JSON.parse(content),
    );
    const r = await client.chat.completions.parse({
      model: MODEL,
      messages: [{ role: 'user', content: 'Describe Paris as JSON' }],
      response_format: format,
    });
    const parsed = r.choices[0].message.parsed;
    assert.equal(typeof parsed, 'object');
    assert.equal(typeof parsed.city, 'string');
    assert.equal(typeof parsed.population, 'number');
  },
);

sdkTest('embeddings: one string, the SDK default encoding (base64), dimensions', async () => {
  const r = await client.embeddings.create({ model: EMBED_MODEL, input: 'hello', dimensions: 8 });
  assert.equal(r.object, 'list');
  assert.equal(r.data.length, 1);
  assert.equal(r.data[0].object, 'embedding');
  assert.equal(r.data[0].index, 0);
  assert.ok(Array.isArray(r.data[0].embedding), 'the SDK decoded the embedding to numbers');
  assert.equal(r.data[0].embedding.length, 8);
  for (const v of r.data[0].embedding) assert.ok(Number.isFinite(v));
  assert.ok(r.usage.prompt_tokens > 0);
});

sdkTest('embeddings: array of strings, float encoding, dimensions', async () => {
  const r = await client.embeddings.create({
    model: EMBED_MODEL,
    input: ['one', 'two', 'three'],
    dimensions: 16,
    encoding_format: 'float',
  });
  assert.equal(r.object, 'list');
  assert.equal(r.data.length, 3);
  r.data.forEach((d, i) => {
    assert.equal(d.index, i);
    assert.equal(d.embedding.length, 16);
    for (const v of d.embedding) assert.equal(typeof v, 'number');
  });
  assert.ok(r.usage.prompt_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens);
});

sdkTest('models: list contains gemini-2.5-flash, retrieve finds it', async () => {
  const ids = [];
  for await (const m of client.models.list()) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.owned_by, 'string');
    ids.push(m.id);
  }
  assert.ok(ids.includes(MODEL), `models: ${ids.join(', ')}`);
  const one = await client.models.retrieve(MODEL);
  assert.equal(one.id, MODEL);
  assert.equal(one.object, 'model');
});

sdkTest('chat: the /openai/v1 prefix serves the same API', async () => {
  const r = await sdkClient(gbdPort, '/openai/v1').chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'prefixed' }],
  });
  assert.equal(r.choices[0].message.content, 'Echo: prefixed');
});

sdkTest('errors: a rate-limited pool gives RateLimitError with retry-after', async () => {
  await assert.rejects(
    limitedClient.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hello' }],
    }),
    (err) => {
      assert.ok(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.status, 429);
      const h = err.headers;
      const retryAfter = typeof h?.get === 'function' ? h.get('retry-after') : h?.['retry-after'];
      assert.ok(retryAfter != null, 'retry-after header present');
      assert.ok(Number(retryAfter) >= 1, `retry-after: ${retryAfter}`);
      assert.equal(typeof err.error?.message, 'string');
      return true;
    },
  );
});

// Last: stopping here rather than in after() lets a bad exit (a sanitizer report in the
// ASan build, say) fail the run.
sdkTest('shutdown: gbd and gb-mock exit 0 on SIGTERM', async () => {
  await Promise.all(children.map((c) => c.stop()));
  for (const c of children) assert.equal(c.exit, 'status 0', `${c.name} ended with ${c.exit}`);
});
