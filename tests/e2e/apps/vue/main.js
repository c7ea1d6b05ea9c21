// A Vue 3 app over `wasm-eventsource/vue`, built by Vite (@vitejs/plugin-vue) from the
// packed tarball and driven by tests/e2e/vue.test.mjs through `window.app` and what
// it renders. ?server=URL&channel=NAME: a live channel of the test server (typed
// `chat` events); ?server=URL&token=T: the scenario `stall` with a request log.
import { createApp, createSSRApp, effectScope, h, onMounted, shallowRef } from 'vue';
import { TypedEventSource } from 'wasm-eventsource';
import { useEventSource } from 'wasm-eventsource/vue';
import App from './App.vue';

window.stateLog = [];
// The connections the composables opened: the shared registry follows each new
// source's states once (its first onState).
window.opened = 0;
const onState = TypedEventSource.prototype.onState;
TypedEventSource.prototype.onState = function (...args) {
  window.opened += 1;
  return onState.apply(this, args);
};
createApp(App).mount('#app');

// The apps below each mount in an element of their own, on the test server's streams.
const server = new URLSearchParams(location.search).get('server');
const newHost = () => document.body.appendChild(document.createElement('div'));

// Hydrates, in a new element, what the server renders for a composable with Late.vue's
// URL and options (`connecting` and no data), as a lazily hydrated component would be.
window.hydrate = (channel) => {
  const Hydrated = {
    setup() {
      const { state, data } = useEventSource(() => `${server}/events?channel=${channel}&retry=100`, 'chat', () => ({
        transport: 'fetch',
        retry: { baseMs: 50, floorMs: 50, maxMs: 100, jitter: false },
      }));
      return () => h('p', { id: 'hydrated' }, `${state.value.kind} ${data.value?.n}`);
    },
  };
  const host = newHost();
  const rendered = document.createElement('p');
  rendered.id = 'hydrated';
  rendered.textContent = 'connecting undefined';
  host.append(rendered);
  createSSRApp(Hydrated).mount(host);
};

// A component of the `swap` events of a channel, unmounted while another with the same
// URL and type mounts (a route change): `swapStart` mounts the first, `swapNow` swaps
// and says what the second rendered first.
const latestOf = (id, channel) => ({
  setup() {
    const { data } = useEventSource(`${server}/events?channel=${channel}&retry=100`, 'swap', { transport: 'fetch' });
    return () => h('p', { id }, String(data.value?.n));
  },
});
let first = null;
window.swapStart = (channel) => {
  first = createApp(latestOf('swap-first', channel));
  first.mount(newHost());
};
window.swapNow = (channel) => {
  first.unmount();
  createApp(latestOf('swap-next', channel)).mount(newHost());
  return document.querySelector('#swap-next').textContent;
};

// A composable with Late.vue's options and its URL written relative to a `<base>` that
// points at the server: the same stream.
window.relative = (channel) => {
  const base = document.createElement('base');
  base.href = `${server}/`;
  document.head.append(base);
  createApp({
    setup() {
      const { state } = useEventSource(`events?channel=${channel}&retry=100`, 'chat', {
        transport: 'fetch',
        retry: { baseMs: 50, floorMs: 50, maxMs: 100, jitter: false },
      });
      return () => h('p', { id: 'relative' }, state.value.kind);
    },
  }).mount(newHost());
  base.remove();
};

// A composable made in a mounted component's hook, in an effect scope (as a store's
// setup may run there): no hydration to wait for.
window.fromHook = (channel) => {
  createApp({
    setup() {
      const made = shallowRef(null);
      onMounted(() => {
        made.value = effectScope().run(() => useEventSource(`${server}/events?channel=${channel}&retry=100`, 'chat', { transport: 'fetch' }));
      });
      return () => h('p', { id: 'from-hook' }, made.value ? made.value.state.value.kind : 'none');
    },
  }).mount(newHost());
};

// A composable made in a scope already stopped, as Vue before 3.5.34 restores a
// component's scope after an \`await\` in its async setup though the component was
// unmounted meanwhile: how many connections it opened.
window.inStoppedScope = (channel) => {
  const before = window.opened;
  const scope = effectScope();
  scope.stop();
  scope.on();
  try {
    useEventSource(`${server}/events?channel=${channel}`, 'chat');
  } finally {
    scope.off();
  }
  return window.opened - before;
};

// A composable whose URL getter gives null until `optionalUrl(url)` gives one: it opens
// nothing meanwhile, and `optionalUrl(null)` closes what it opened. Its options getter
// throws without a URL.
window.optional = () => {
  const url = shallowRef(null);
  window.optionalUrl = (value) => {
    url.value = value;
  };
  createApp({
    setup() {
      // Options that read the URL (a signed-in user's token, say), which throw without one.
      const { state, data } = useEventSource(() => url.value, 'chat', () => ({ transport: url.value.startsWith('http') ? 'fetch' : 'native' }));
      return () => h('p', { id: 'optional' }, `${state.value.kind === 'closed' ? `closed:${state.value.reason}` : state.value.kind}:${data.value ? data.value.text : '-'}`);
    },
  }).mount(newHost());
};

// Two composables whose options differ by transport and inherit a field with a cycle
// (which the constructor does not read): two connections.
window.cyclic = (channel) => {
  const loop = {};
  loop.self = loop;
  const view = (id, transport) => ({
    setup() {
      const options = Object.assign(Object.create({ loop }), { transport });
      const { state } = useEventSource(`${server}/events?channel=${channel}`, 'chat', options);
      return () => h('p', { id }, state.value.kind);
    },
  });
  createApp({ render: () => [h(view('cyclic-fetch', 'fetch')), h(view('cyclic-native', 'native'))] }).mount(newHost());
};
