// A module Service Worker (Chromium refuses one whose module graph has a top-level
// await): a source opened on the page's request, its events posted to that page.
import { hadEventSource } from './strip-eventsource.js';
import { TypedEventSource } from 'wasm-eventsource';
import { feed } from './feed.js';

// Regression: TypedEventSource put in as the global EventSource, as a drop-in, made the
// package judge that the worker had the browser's, so the default transport was native
// (which then failed) and fetch-only options threw. The source on the page's request
// is opened through the global; this one checks it before the wasm can be ready.
const stripped = typeof EventSource;
self.EventSource = TypedEventSource;
let early;
try {
  const es = new EventSource('never-opened', { headers: { 'X-Drop-In': '1' } });
  es.onAny(() => {});
  es.close();
  early = 'no error';
} catch (e) {
  early = e.message;
}

let es = null;
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('message', (event) => {
  const client = event.source;
  if (event.data.kind === 'open') {
    client.postMessage({ who: 'service', kind: 'note', message: `EventSource: ${hadEventSource ? 'removed' : 'none'}, now ${stripped}` });
    client.postMessage({ who: 'service', kind: 'note', message: `drop-in before the wasm: ${early}` });
    es = feed('service', event.data.url, (message) => client.postMessage(message), EventSource);
    // Fetch, the default here, sees every type: `onAny` must be allowed.
    try {
      es.onAny((data, meta) => client.postMessage({ who: 'service', kind: 'note', message: `onAny: ${meta.type} ${data.n}` }));
    } catch (e) {
      client.postMessage({ who: 'service', kind: 'failure', message: `onAny: ${e.message}` });
    }
  } else if (event.data.kind === 'close') es?.close();
});
