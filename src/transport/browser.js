// What the native transport asks the browser directly (src/transport/native.rs).

// The browser's own EventSource, as it was when this module loaded: a page that puts a
// drop-in class in its place (`globalThis.EventSource = TypedEventSource`) must not make
// the native transport construct itself. Undefined where there is none (a Service
// Worker).
const BrowserEventSource = globalThis.EventSource;

// Whether that EventSource exists: the default transport is fetch where it does not,
// even once a script has put a drop-in class in its place (a polyfilled Service Worker).
export function hasEventSource() {
  return typeof BrowserEventSource === 'function';
}

export function openEventSource(url, withCredentials) {
  if (typeof BrowserEventSource !== 'function') {
    throw new TypeError('this context has no EventSource (a Service Worker has none): use the fetch transport');
  }
  return new BrowserEventSource(url, { withCredentials });
}

// What the Resource Timing entry of the EventSource request to `url` that started at
// or after `since` (a performance.now() time) says about its answer, without asking
// the server again: the status where the browser reports it (100-599); -1 an answer
// came (its status hidden, and no body to tell by: the browser may not have read any
// of a status it refuses, so a 204 and a 502 can look alike); -3 no answer came, on a
// same-origin request, whose entry hides nothing; 0 no answer shown (cross-origin
// without Timing-Allow-Origin all the fields are zero); -4 no such entry (yet: the
// browser adds it a task after the error event, or its buffer is full), or two.
export function answerTiming(url, since) {
  const entry = lastEntry(url, since);
  if (!entry) return -4;
  if (entry.responseStatus > 0) return entry.responseStatus;
  if (entry.responseStart > 0) return -1;
  try {
    return new URL(url).origin === globalThis.location.origin ? -3 : 0;
  } catch {
    return 0;
  }
}

// The `Content-Type` that entry reports, or "".
export function answerContentType(url, since) {
  const entry = lastEntry(url, since);
  return entry ? String(entry.contentType || '') : '';
}

// The one entry of `url` since `since` not made by fetch (the native transport's check
// fetches the same URL, and its entry must not pass for the EventSource's). With two,
// another EventSource of the page asked for the same URL meanwhile, and which entry is
// this one's cannot be told: none, so that the check asks the server.
function lastEntry(url, since) {
  const perf = globalThis.performance;
  if (!perf || typeof perf.getEntriesByName !== 'function') return undefined;
  let found;
  for (const entry of perf.getEntriesByName(url, 'resource')) {
    if (entry.startTime >= since && entry.initiatorType !== 'fetch') {
      if (found) return undefined;
      found = entry;
    }
  }
  return found;
}
