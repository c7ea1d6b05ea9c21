// A Vue 3 app over `wasm-eventsource/vue`, built by Vite (@vitejs/plugin-vue) from the
// packed tarball and driven by tests/e2e/vue.test.mjs through `window.app` and what
// it renders. ?server=URL&channel=NAME: a live channel of the test server (typed
// `chat` events); ?server=URL&token=T: the scenario `stall` with a request log.
import { createApp } from 'vue';
import { TypedEventSource } from 'wasm-eventsource';
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
