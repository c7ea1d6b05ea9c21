// Our package, as an app imports it: everything a bundle loads is this bundle plus the
// wasm it fetches (measured beside it).
import { TypedEventSource } from 'wasm-eventsource';
globalThis.__anchor = TypedEventSource;
