// A dedicated module worker: opens at once (the URL is its name), closes on request.
import { feed } from './feed.js';

const es = feed('dedicated', self.name, (message) => self.postMessage(message));
self.addEventListener('message', (e) => {
  if (e.data.kind === 'close') es.close();
});
