// A dedicated module worker whose `navigator.onLine` the test turns off and back on,
// as Chromium does it in a worker: the flag changes, and no `online` event fires. It
// starts offline (or online, with `online: true` in `open`); `open` opens a source with
// `reconnectOnOnline` unless the options say otherwise (the transport and any other options given), `offline` takes the network away, `online`
// brings it back (each acknowledged as `set`), `close` closes the source (and with
// `windowPolyfill` in `open`, the worker sets `self.window = self` first). Each read of
// the flag is posted (`reads`, with what it returned), and each state of the source.
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
let es = null;
self.addEventListener('message', (e) => {
  const { kind, url, transport, online, options, windowPolyfill } = e.data;
  if (kind === 'open') {
    if (online) offline = false;
    // As some polyfills do: a `window` in a worker, which has no document.
    if (windowPolyfill) self.window = self;
    es = new TypedEventSource(url, { reconnectOnOnline: true, ...options, transport });
    es.onState((state) => self.postMessage({ kind: 'state', state: state.kind }));
  } else if (kind === 'online' || kind === 'offline') {
    offline = kind === 'offline';
    self.postMessage({ kind: 'set', online: !offline });
  } else if (kind === 'close') {
    es?.close();
  }
});
