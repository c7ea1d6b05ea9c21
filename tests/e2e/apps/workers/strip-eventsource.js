// Imported first by the Service Worker: removes EventSource from its global, as in
// the browsers whose Service Workers have none (Chromium's has one), so that the
// package's default transport there must be fetch. Records what there was.
export const hadEventSource = typeof globalThis.EventSource === 'function';
delete globalThis.EventSource;
