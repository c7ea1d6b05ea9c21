// Size anchor: eventsource-parser, as an app imports it.
import { createParser } from 'eventsource-parser';
globalThis.__anchor = createParser;
