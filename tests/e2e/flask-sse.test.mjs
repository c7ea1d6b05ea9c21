// A Flask app's `sse.publish()` reaches a browser client of our server through Redis.
//
// Starts its own redis-server on a free loopback port and a second test server with
// `--redis URL --flask-sse` (the debug build `npm test` made), opens a page of that
// server in headless Chromium with a TypedEventSource on channel `room`, then runs
// Flask-SSE (from PyPI, in the venv target/flask-sse-venv, made here if missing) to
// publish a typed event and a text event. Both must arrive, once.
//
//   E2E_BASE_URL=http://127.0.0.1:PORT node tests/e2e/flask-sse.test.mjs
// (E2E_BASE_URL is only checked to be up; this test runs a server of its own.)

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPO_ROOT, createRunner, freePort, launchBrowser, startProcess, waitUntil, watchPageErrors,
} from './lib.mjs';

const VENV = join(REPO_ROOT, 'target', 'flask-sse-venv');
const PYTHON = join(VENV, 'bin', 'python');
const SERVER_BIN = join(REPO_ROOT, 'target', 'debug', 'wasm-eventsource-server');

const PUBLISHER = `
import os
from flask import Flask
from flask_sse import sse

app = Flask(__name__)
app.config["REDIS_URL"] = os.environ["REDIS_URL"]
with app.app_context():
    sse.publish({"n": 1, "from": "flask"}, type="chat", channel="room")
    sse.publish("[DONE]", channel="room")
`;

const runner = createRunner();
const base = await runner.startup({ paths: ['/health'] });
if (base) {
  const children = [];
  const dir = mkdtempSync(join(tmpdir(), 'wes-flask-'));
  try {
    await runner.check('a Python venv with flask-sse (from PyPI)', async () => {
      const requirements = join(REPO_ROOT, 'scripts', 'flask-sse-requirements.txt');
      const wanted = readFileSync(requirements, 'utf8');
      // The venv keeps a copy of the requirements it was made from (as
      // server/tests/redis.rs does): made again when they changed.
      const stamp = join(VENV, 'wes-requirements.txt');
      const has = () => {
        try {
          execFileSync(PYTHON, ['-c', 'import flask_sse'], { stdio: 'ignore' });
          return readFileSync(stamp, 'utf8') === wanted;
        } catch {
          return false;
        }
      };
      if (!has()) {
        execFileSync('python3', ['-m', 'venv', '--clear', VENV], { stdio: 'pipe' });
        execFileSync(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements], { stdio: 'pipe', timeout: 300_000 });
        writeFileSync(stamp, wanted);
      }
      if (!has()) throw new Error(`flask_sse does not import in ${VENV}`);
    }, { critical: true });

    let redisUrl = '';
    let redisPort = 0;
    await runner.check('redis-server on a free loopback port', async () => {
      redisPort = await freePort();
      const { child } = await startProcess('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
        (line) => /Ready to accept connections/.test(line), 'redis-server');
      children.push(child);
      redisUrl = `redis://127.0.0.1:${redisPort}/0`;
      return redisUrl;
    }, { critical: true });

    let server = '';
    await runner.check('our server with --redis and --flask-sse', async () => {
      if (!existsSync(SERVER_BIN)) throw new Error(`no ${SERVER_BIN}: build the server first (npm test does)`);
      const { child, hit } = await startProcess(SERVER_BIN, ['--port', '0', '--ticker-ms', '0', '--redis', redisUrl, '--flask-sse',
        '--www', join(REPO_ROOT, 'www'), '--pkg', join(REPO_ROOT, 'pkg-web')],
      (line) => line.match(/^listening on (http:\S+)/), 'the server');
      children.push(child);
      server = hit[1];
      const health = await (await fetch(`${server}/health`)).json();
      if (health.broker !== 'redis' || !health.reachable) throw new Error(`health ${JSON.stringify(health)}`);
      return `${server}: ${JSON.stringify(health)}`;
    }, { critical: true });

    const browser = await launchBrowser();
    try {
      await runner.check('sse.publish() in a Flask app reaches the browser client once', async () => {
        const page = await browser.newPage();
        try {
          const errors = watchPageErrors(page);
          await page.goto(`${server}/`, { waitUntil: 'domcontentloaded' });
          await page.evaluate(async () => {
            const pkg = await import('/pkg/wasm_eventsource.js');
            await pkg.default();
            window.flask = { chat: [], raw: [], open: false };
            const es = new pkg.TypedEventSource('/events?channel=room', { transport: 'fetch' });
            es.on('chat', (data, meta) => window.flask.chat.push({ data, type: meta.type, id: meta.lastEventId }));
            es.onRaw('message', (text) => window.flask.raw.push(text));
            es.onState((s) => { if (s.kind === 'open') window.flask.open = true; });
            window.flaskSource = es;
          });
          await waitUntil(page, 'the stream to open', () => window.flask.open);
          // Pub/sub reaches only current subscribers: wait for the bridge's subscription.
          const deadline = Date.now() + 15_000;
          for (;;) {
            const out = execFileSync('redis-cli', ['-p', String(redisPort), 'PUBSUB', 'NUMSUB', 'room'], { encoding: 'utf8' });
            if (Number(out.trim().split('\n').pop()) >= 1) break;
            if (Date.now() > deadline) throw new Error(`the server never subscribed to the Flask-SSE channel room: ${out}`);
            await new Promise((r) => setTimeout(r, 100));
          }
          execFileSync(PYTHON, ['-c', PUBLISHER], { env: { ...process.env, REDIS_URL: redisUrl }, stdio: 'pipe' });
          const got = await waitUntil(page, 'the Flask-SSE events', () => window.flask.chat.length >= 1 && window.flask.raw.length >= 1 && window.flask);
          // Anything repeated would have arrived by now.
          await new Promise((r) => setTimeout(r, 500));
          const after = await page.evaluate(() => window.flask);
          if (after.chat.length !== 1 || after.raw.length !== 1) throw new Error(`received ${JSON.stringify(after)}`);
          const [chat] = got.chat;
          if (chat.data.n !== 1 || chat.data.from !== 'flask' || Object.keys(chat.data).length !== 2 || chat.type !== 'chat' || !chat.id) {
            throw new Error(`chat event ${JSON.stringify(chat)}`);
          }
          if (got.raw[0] !== '[DONE]') throw new Error(`raw ${JSON.stringify(got.raw)}`);
          await page.evaluate(() => window.flaskSource.close());
          const unexpected = errors.unexpected();
          if (unexpected.length) throw new Error(unexpected.map((e) => e.text).join('\n'));
          return `chat ${JSON.stringify(chat.data)} with Redis id ${chat.id}, then "${got.raw[0]}"`;
        } finally {
          await page.close();
        }
      });
    } finally {
      await browser.close();
    }
  } finally {
    for (const child of children.reverse()) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
runner.finish();
