// Size anchor: the `eventsource` package (the EventSource polyfill), as an app imports it.
import { EventSource } from 'eventsource';
globalThis.__anchor = EventSource;
