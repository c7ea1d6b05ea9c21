// The bench page's entry point, bundled by esbuild into target/bench/page/main.js.
// The wasm readers come from the wasm-pack package at /reader/ (left external).
import init, { ours, gloo } from '/reader/wasm_eventsource_bench.js';
import { readNative } from './native.js';
import { readFetchEsp } from './fetch-esp.js';
import { readFetchBytes } from './fetch-bytes.js';

const readers = {
  'browser-es': (url, n) => readNative(url, n),
  'fetch-esp': (url, n) => readFetchEsp(url, n),
  'gloo': (url, n) => gloo(url, n),
  'ours-native': (url, n) => ours(url, n, 'native'),
  'ours-fetch': (url, n) => ours(url, n, 'fetch'),
  'fetch-bytes': (url, n) => readFetchBytes(url, n),
};

window.bench = {
  ready: init().then(() => true),
  // Runs one reader; errors come back as values so the driver can report them.
  async run(name, url, n) {
    const reader = readers[name];
    if (!reader) return { error: `unknown reader ${name}` };
    try {
      return await reader(url, n);
    } catch (e) {
      return { error: String(e && e.stack ? e.stack : e) };
    }
  },
};
