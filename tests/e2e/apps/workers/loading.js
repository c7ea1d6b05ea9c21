// A source used as the module runs, before the wasm can be ready (the package loads it
// without a top-level await): registrations, removals, listeners, a bad option, a URL
// that is not http(s) and a close all made then. tests/e2e/workers.test.mjs reads `window.out`.
// ?server=URL&token=T.
import { TypedEventSource } from 'wasm-eventsource';

const params = new URLSearchParams(location.search);
const server = params.get('server');
const out = { events: [], listener: [], removed: 0, states: [], roles: [], earlyRoles: [], badOption: null, credentials: null, bad: null, badErrorEvents: 0, early: null, done: false };
window.out = out;

const options = { transport: 'fetch' };
const es = new TypedEventSource(`${server}/scenario/named`, options);
// Regression: the options were read only when the wasm was ready, so a change made
// after construction (an object reused for another source) was taken, here a bad one.
options.transport = 'carrier-pigeon';
out.before = { readyState: es.readyState, state: es.state.kind, url: es.url, lastEventId: es.lastEventId };
const removed = es.on('chat', () => {
  out.removed += 1;
});
out.offBefore = es.off(removed);
es.onState((state) => out.states.push(state.kind));
es.onShareRole((role, followers) => out.roles.push(`${role} ${followers}`));
es.addEventListener('chat', (event) => out.listener.push(event.data));
es.on('chat', (data, meta) => {
  out.events.push(`${data.n}@${meta.type}`);
  if (data.n === 3) {
    es.close();
    out.done = true;
  }
});

// A bad option throws at once, as it does once the wasm is ready (regression: the
// source closed later instead, "invalid-request").
try {
  new TypedEventSource(`${server}/events`, { transprt: 'fetch' });
  out.badOption = 'no error';
} catch (e) {
  out.badOption = e.message;
}
// A URL with a password, which fetch refuses: also at once, saying so without it.
try {
  new TypedEventSource(server.replace('://', '://user:secret@') + '/events', { transport: 'fetch' });
  out.credentials = 'no error';
} catch (e) {
  out.credentials = e.message;
}
// A URL that is not http(s): as with EventSource, the source fails after construction.
const bad = new TypedEventSource('ftp://127.0.0.1/events');
bad.addEventListener('error', () => {
  out.badErrorEvents += 1;
});
bad.onState((state) => {
  if (state.kind === 'closed') out.bad = `${state.reason}: ${state.message}`;
});

// Closed before the wasm is ready: it never sends a request.
const early = new TypedEventSource(`${server}/scenario/end-after/3?token=${params.get('token')}`);
early.onState((state) => {
  if (state.kind === 'closed') out.early = state.reason;
});
// Regression: before the wasm was ready, onShareRole was not called at once (as it is
// after), and never at all when the source closed first.
early.onShareRole((role, followers) => out.earlyRoles.push(`${role} ${followers}`));
early.close();
out.earlyReadyState = early.readyState;
