// A Vue 3 app over `wasm-eventsource/vue`, built by Vite (@vitejs/plugin-vue) from the
// packed tarball and driven by tests/e2e/vue.test.mjs through `window.app` and what
// it renders. ?server=URL&channel=NAME: a live channel of the test server (typed
// `chat` events); ?server=URL&token=T: the scenario `stall` with a request log.
import { createApp } from 'vue';
import App from './App.vue';

window.stateLog = [];
createApp(App).mount('#app');
