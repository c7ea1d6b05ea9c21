// The bench page's entry point, bundled by esbuild into target/bench/page/main.js.
// Two wasm packages, both left external: the Rust readers (bench/reader, at /reader/)
// and the npm package's web build (pkg-web, copied to /pkg-web/) for the JS API.
import initReader, { ours, ours_latency, gloo, floor_native, floor_fetch } from '/reader/wasm_eventsource_bench.js';
import initPkg, { TypedEventSource } from '/pkg-web/wasm_eventsource.js';
import { readNative } from './native.js';
import { readFetchEsp } from './fetch-esp.js';
import { readFetchBytes } from './fetch-bytes.js';
import { readFetchJson } from './fetch-json.js';
import { readJsApi } from './js-api.js';
import { latencyReaders, runLatency } from './latency.js';

// Start-up samples (see `startupPrepare`).
const STARTUP_ANCHORS = ['eventsource', 'fetch-event-source', 'eventsource-parser'];
const STARTUP_COPIES = 20;
const startupState = { bytes: null, texts: {}, glue: null, module: null };

const readers = {
  'browser-es': (url, n) => readNative(url, n),
  'fetch-esp': (url, n) => readFetchEsp(url, n),
  'gloo': (url, n) => gloo(url, n),
  'rust-native': (url, n) => ours(url, n, 'native'),
  'rust-fetch': (url, n) => ours(url, n, 'fetch'),
  'js-native': (url, n) => readJsApi(TypedEventSource, url, n, 'native'),
  'js-fetch': (url, n) => readJsApi(TypedEventSource, url, n, 'fetch'),
  'fetch-bytes': (url, n) => readFetchBytes(url, n),
  'fetch-json-floor': (url, n) => readFetchJson(url, n),
  'fetch-floor-rust': (url, n) => floor_fetch(url, n),
  'native-floor-js': (url, n) => floor_native(url, n, false),
  'native-floor-copy': (url, n) => floor_native(url, n, true),
  'minimal-native': (url, n) => readMinimal(url, n),
};

// A size probe's module (target/bench/sizes, served at /sizes/), loaded once with its
// wasm-opt -Oz output: what the size table measures.
const probes = new Map();
function loadProbe(id) {
  if (!probes.has(id)) {
    probes.set(id, import(`/sizes/${id}/${id}.js`).then(async (mod) => {
      await mod.default({ module_or_path: `/sizes/${id}/${id}.oz.wasm` });
      return mod;
    }));
  }
  return probes.get(id);
}

// examples/minimal's `watch(url, (user, text) => ...)`, counting events.
async function readMinimal(url, n) {
  const mod = await loadProbe('minimal');
  return new Promise((resolve, reject) => {
    let count = 0;
    const t0 = performance.now();
    const feed = mod.watch(url, (user, text) => {
      if (typeof user !== 'string' || typeof text !== 'string') reject(new Error('minimal: not a chat message'));
      if (++count === n) {
        const ms = performance.now() - t0;
        // Freed (which closes it) outside the callback that ends the run.
        setTimeout(() => feed.free(), 0);
        resolve({ ms, checksum: null, count });
      }
    });
  });
}

const errorText = (e) => String(e && e.stack ? e.stack : e);

window.bench = {
  ready: Promise.all([initReader(), initPkg()]).then(() => true),
  // Runs one reader; errors come back as values so the driver can report them.
  async run(name, url, n) {
    const reader = readers[name];
    if (!reader) return { error: `unknown reader ${name}` };
    try {
      return await reader(url, n);
    } catch (e) {
      return { error: errorText(e) };
    }
  },
  // Checks that a size probe (target/bench/sizes, served at /sizes/) works as
  // measured: loads its wasm-opt -Oz output, calls `fn(url, onChat)` and waits for n
  // chat messages.
  async probe(id, fn, url, n) {
    try {
      const mod = await loadProbe(id);
      let count = 0;
      let feed;
      await new Promise((resolve, reject) => {
        setTimeout(() => reject(new Error(`${count} of ${n} messages in 10 s`)), 10000);
        feed = mod[fn](url, (user, text) => {
          if (typeof user !== 'string' || typeof text !== 'string') reject(new Error('not a chat message'));
          if (++count === n) resolve();
        });
      });
      feed.free();
      return { count };
    } catch (e) {
      return { error: errorText(e) };
    }
  },
  // Start-up, one sample at a time, so that run.mjs can read the renderer's main-thread
  // time (TaskDuration) around each: `startupPrepare()` once, then per sample
  // `startupLoad(i)` and `startupOne(kind, i)`, which returns the sample's wall time in
  // ms. Kinds: `wasm`, our wasm's compile + instantiate (a fresh copy of the glue, the
  // bytes already fetched, a custom section that differs each time so that no
  // compiled-module cache serves it); `validate`, WebAssembly.validate of the same
  // bytes, the part of any compile that reads every function body (the floor of our
  // row, set by the module's size); each JS anchor's parse + eval (its minified
  // bundle's text, already fetched, evaluated as a classic script with a comment that
  // differs each time, past V8's script cache; STARTUP_COPIES copies per sample, as
  // one takes less than the 0.1 ms that performance.now() resolves to in a page that
  // is not cross-origin isolated, and the time is per copy); `none`, nothing: what a
  // sample's own round trip costs the main thread.
  async startupPrepare() {
    try {
      startupState.bytes = new Uint8Array(await (await fetch('/pkg-web/wasm_eventsource_bg.wasm')).arrayBuffer());
      for (const id of STARTUP_ANCHORS) startupState.texts[id] = await (await fetch(`/bundles/${id}.min.js`)).text();
      return { anchors: STARTUP_ANCHORS, copies: STARTUP_COPIES };
    } catch (e) {
      return { error: errorText(e) };
    }
  },
  async startupLoad(i) {
    try {
      startupState.glue = await import(`/pkg-web/wasm_eventsource.js?startup=${i}`);
      const { bytes } = startupState;
      const name = new TextEncoder().encode(`startup-${i}`);
      const module = new Uint8Array(bytes.length + 3 + name.length);
      module.set(bytes);
      module.set([0, 1 + name.length, name.length, ...name], bytes.length);
      startupState.module = module;
      return {};
    } catch (e) {
      return { error: errorText(e) };
    }
  },
  async startupOne(kind, i) {
    try {
      const { glue, module, texts } = startupState;
      if (kind === 'none') return { ms: 0 };
      if (kind === 'validate') {
        const t = performance.now();
        if (!WebAssembly.validate(module)) return { error: 'the wasm does not validate' };
        return { ms: performance.now() - t };
      }
      if (kind === 'wasm') {
        const t = performance.now();
        await glue.default({ module_or_path: module });
        return { ms: performance.now() - t };
      }
      const copies = Array.from({ length: STARTUP_COPIES }, (_, k) => `${texts[kind]}\n// ${i}.${k}`);
      const t = performance.now();
      for (const code of copies) (0, eval)(code);
      return { ms: (performance.now() - t) / copies.length };
    } catch (e) {
      return { error: errorText(e) };
    }
  },
  // The latency run (see latency.js): every reader in `ids` at once on one channel.
  async latency(ids, options) {
    try {
      return await runLatency(latencyReaders(TypedEventSource, ours_latency), ids, options);
    } catch (e) {
      return { error: errorText(e) };
    }
  },
};
