// A module Service Worker (Chromium refuses one whose module graph has a top-level
// await): a source opened on the page's request, its events posted to that page.
import { hadEventSource } from './strip-eventsource.js';
import { feed } from './feed.js';

let es = null;
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('message', (event) => {
  const client = event.source;
  if (event.data.kind === 'open') {
    client.postMessage({ who: 'service', kind: 'note', message: `EventSource: ${hadEventSource ? 'removed' : 'none'}, now ${typeof EventSource}` });
    es = feed('service', event.data.url, (message) => client.postMessage(message));
    // Fetch, the default here, sees every type: `onAny` must be allowed.
    try {
      es.onAny((data, meta) => client.postMessage({ who: 'service', kind: 'note', message: `onAny: ${meta.type} ${data.n}` }));
    } catch (e) {
      client.postMessage({ who: 'service', kind: 'failure', message: `onAny: ${e.message}` });
    }
  } else if (event.data.kind === 'close') es?.close();
});
