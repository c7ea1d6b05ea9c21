// Size anchor: @microsoft/fetch-event-source, as an app imports it.
import { fetchEventSource } from '@microsoft/fetch-event-source';
globalThis.__anchor = fetchEventSource;
