// What each worker runs: the package imported by name, one source, its typed `chat`
// events and states posted to `post`.
import { TypedEventSource } from 'wasm-eventsource';

export function feed(who, url, post, Source = TypedEventSource) {
  // The default transport: native where the worker has EventSource, fetch where not
  // (a Service Worker). `Source`: the constructor (the Service Worker's EventSource,
  // which is TypedEventSource put there as a drop-in).
  const es = new Source(url);
  es.on('chat', (data) => post({ who, kind: 'event', data }));
  es.onState((state) => post({ who, kind: 'state', state: state.kind, message: state.message }));
  return es;
}
