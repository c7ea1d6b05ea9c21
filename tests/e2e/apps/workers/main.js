// Starts a dedicated worker, a SharedWorker and a Service Worker (module workers), each
// importing the package by name and posting the typed events of one channel back, for
// tests/e2e/workers.test.mjs: `window.received`, `window.states`, `window.stop(who)`.
// ?server=URL&channel=NAME.
import serviceWorkerUrl from './service.js?worker&url';

const params = new URLSearchParams(location.search);
const url = `${params.get('server')}/events?channel=${params.get('channel')}`;
const WHO = ['dedicated', 'shared', 'service'];
window.received = Object.fromEntries(WHO.map((who) => [who, []]));
window.states = Object.fromEntries(WHO.map((who) => [who, []]));
window.failures = [];
window.notes = [];
const log = document.querySelector('#log');

function onMessage({ who, kind, data, state, message }) {
  if (kind === 'event') window.received[who].push(data);
  else if (kind === 'state') window.states[who].push(state);
  else if (kind === 'note') window.notes.push(`${who}: ${message}`);
  else window.failures.push(`${who}: ${message}`);
  log.textContent = WHO.map((w) => `${w}: ${window.states[w].at(-1) ?? '-'}, events ${JSON.stringify(window.received[w])}`).join('\n');
}

// The dedicated worker opens its source as it starts (before its wasm is ready): the
// URL is its name.
const dedicated = new Worker(new URL('./dedicated.js', import.meta.url), { type: 'module', name: url });
dedicated.addEventListener('message', (e) => onMessage(e.data));
dedicated.addEventListener('error', (e) => window.failures.push(`dedicated: ${e.message}`));

const shared = new SharedWorker(new URL('./shared.js', import.meta.url), { type: 'module', name: 'feed' });
shared.port.addEventListener('message', (e) => onMessage(e.data));
shared.addEventListener('error', (e) => window.failures.push(`shared: ${e.message || 'failed to start'}`));
shared.port.start();
shared.port.postMessage({ kind: 'open', url });

navigator.serviceWorker.addEventListener('message', (e) => onMessage(e.data));
navigator.serviceWorker.startMessages();
let service = null;
navigator.serviceWorker
  .register(serviceWorkerUrl, { type: 'module' })
  .then(async (registration) => {
    const worker = registration.installing || registration.waiting || registration.active;
    while (worker.state !== 'activated') {
      if (worker.state === 'redundant') throw new Error('the service worker became redundant');
      await new Promise((resolve) => worker.addEventListener('statechange', resolve, { once: true }));
    }
    service = worker;
    service.postMessage({ kind: 'open', url });
  })
  .catch((e) => window.failures.push(`service: ${e.message}`));

// A dedicated worker that starts offline (offline.js), for one transport (or online,
// on a URL of its own, with options, with `start`): `window.offline[transport]` has its source's
// states, share roles, how often it read `navigator.onLine` (and the last read that
// returned offline) and what the worker last set it to (its uncaught errors go to
// `window.failures`); `window.offline[transport].send(kind)` sends it
// `online`, `offline` or `close`.
window.offline = {};
window.startOffline = (transport, start = {}) => {
  // (Under `start.name` instead of the transport, for two of one transport.)
  const seen = (window.offline[start.name ?? transport] = { states: [], roles: [], reads: 0, readOffline: 0, online: Boolean(start.online) });
  const worker = new Worker(new URL('./offline.js', import.meta.url), { type: 'module', name: start.workerName ?? '' });
  worker.addEventListener('message', (e) => {
    if (e.data.kind === 'read') {
      seen.reads = e.data.reads;
      // The last read that returned offline.
      if (!e.data.online) seen.readOffline = e.data.reads;
    } else if (e.data.kind === 'set') seen.online = e.data.online;
    else if (e.data.kind === 'role') seen.roles.push(e.data.role);
    else if (e.data.kind === 'relative') seen.relative = e.data.url;
    else if (e.data.kind === 'failure') window.failures.push(`offline ${transport}: ${e.data.message}`);
    else seen.states.push(e.data.state);
  });
  worker.addEventListener('error', (e) => window.failures.push(`offline ${transport}: ${e.message}`));
  worker.postMessage({ kind: 'open', url: start.url ?? url, transport, online: start.online, options: start.options, windowPolyfill: start.windowPolyfill });
  seen.send = (kind) => worker.postMessage({ kind });
};

window.stop = (who) => {
  const close = { kind: 'close' };
  if (who === 'dedicated') dedicated.postMessage(close);
  else if (who === 'shared') shared.port.postMessage(close);
  else service.postMessage(close);
};
