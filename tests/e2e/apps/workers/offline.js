// A dedicated module worker whose `navigator.onLine` the test turns off and back on,
// as Chromium does it in a worker: the flag changes, and no `online` event fires. It
// starts offline (or online, with `online: true` in `open`); `open` opens a source with
// `reconnectOnOnline` unless the options say otherwise (the transport and any other options given), `offline` takes the network away, `online`
// brings it back (each acknowledged as `set`), `close` closes the source (and with
// `windowPolyfill` in `open`, the worker sets `self.window = self` first). Each read of
// the flag is posted (`reads`, with what it returned), each state of the source, its
// share roles, and what the worker did not catch.
import { TypedEventSource } from 'wasm-eventsource';

let offline = true;
let reads = 0;
Object.defineProperty(self.navigator, 'onLine', {
  configurable: true,
  get: () => {
    reads += 1;
    self.postMessage({ kind: 'read', reads, online: !offline });
    return !offline;
  },
});
// Named `relative-url` (the worker's name), with a bare `document` as some polyfills
// set: a source made with a relative URL as the module loads, so before the wasm is
// ready; its URL is posted (`relative`), or what it threw.
if (self.name === 'relative-url') {
  self.document = {};
  try {
    const made = new TypedEventSource('/never?relative', { transport: 'fetch' });
    self.postMessage({ kind: 'relative', url: made.url });
    made.close();
  } catch (e) {
    self.postMessage({ kind: 'failure', message: `${e.name}: ${e.message}` });
  }
}
let es = null;
self.addEventListener('error', (e) => self.postMessage({ kind: 'failure', message: String(e.message) }));
self.addEventListener('unhandledrejection', (e) => self.postMessage({ kind: 'failure', message: String(e.reason?.message ?? e.reason) }));
self.addEventListener('message', (e) => {
  const { kind, url, transport, online, options, windowPolyfill } = e.data;
  if (kind === 'open') {
    if (online) offline = false;
    // As some polyfills do: a `window` in a worker, which has no document (or, with
    // `windowPolyfill: 'document'`, a `document` that is a bare object).
    if (windowPolyfill) self.window = self;
    if (windowPolyfill === 'document') self.document = {};
    es = new TypedEventSource(url, { reconnectOnOnline: true, ...options, transport });
    es.onState((state) => self.postMessage({ kind: 'state', state: state.kind }));
    es.onShareRole((role) => self.postMessage({ kind: 'role', role }));
  } else if (kind === 'online' || kind === 'offline') {
    offline = kind === 'offline';
    self.postMessage({ kind: 'set', online: !offline });
  } else if (kind === 'close') {
    es?.close();
  }
});
