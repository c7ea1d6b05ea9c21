// A module SharedWorker: one source per connected port, its `connect` listener added
// as the module runs (after the package's module graph has run).
import { feed } from './feed.js';

self.addEventListener('connect', (event) => {
  const [port] = event.ports;
  let es = null;
  port.addEventListener('message', (e) => {
    if (e.data.kind === 'open') es = feed('shared', e.data.url, (message) => port.postMessage(message));
    else if (e.data.kind === 'close') es?.close();
  });
  port.start();
});
