// What the native transport asks the browser directly (src/transport/native.rs).

// The browser's own EventSource, as it was when this module loaded: a page that puts a
// drop-in class in its place (`globalThis.EventSource = TypedEventSource`) must not make
// the native transport construct itself. Undefined where there is none (a Service
// Worker).
const BrowserEventSource = globalThis.EventSource;

export function openEventSource(url, withCredentials) {
  if (typeof BrowserEventSource !== 'function') {
    throw new TypeError('this context has no EventSource (a Service Worker has none): use the fetch transport');
  }
  return new BrowserEventSource(url, { withCredentials });
}

// What the Resource Timing entry of the request to `url` that started at or after
// `since` (a performance.now() time) says about its answer, without asking the server
// again: the status where the browser reports it (100-599); -1 an answer came (its
// status hidden, and no body to tell by: the browser reads none of a status it
// refuses, so a 204 and a 502 look alike); -3 no answer at all where the entry would
// show one (same-origin, or a server that sends Timing-Allow-Origin: an aborted
// request); 0 nothing known (a cross-origin entry without Timing-Allow-Origin, whose
// fields are all zero); -4 no such entry (yet: the browser adds it a task after the
// error event, or its buffer is full).
export function answerTiming(url, since, byFetch) {
  const entry = lastEntry(url, since, byFetch);
  if (!entry) return -4;
  if (entry.responseStatus > 0) return entry.responseStatus;
  if (entry.responseStart > 0) return -1;
  // The request went out but no answer came. The entry shows that only where its
  // details are visible: same-origin, or cross-origin with Timing-Allow-Origin (without
  // it, requestStart is zero too).
  if (entry.requestStart > 0) return -3;
  let sameOrigin = false;
  try {
    sameOrigin = new URL(url).origin === globalThis.location.origin;
  } catch {
    // No location (some workers): nothing known.
  }
  return sameOrigin ? -3 : 0;
}

// The `Content-Type` that entry reports, or "".
export function answerContentType(url, since) {
  const entry = lastEntry(url, since, false);
  return entry ? String(entry.contentType || '') : '';
}

// `performance.now()`, or 0 where there is no Performance API.
export function performanceNow() {
  const perf = globalThis.performance;
  return perf && typeof perf.now === 'function' ? perf.now() : 0;
}

// The newest entry of `url` since `since` made by fetch (`byFetch`: the native
// transport's check) or not (the EventSource's own request): the check fetches the
// same URL, and its aborted, empty entry must not pass for the EventSource's answer.
function lastEntry(url, since, byFetch) {
  const perf = globalThis.performance;
  if (!perf || typeof perf.getEntriesByName !== 'function') return undefined;
  const entries = perf.getEntriesByName(url, 'resource');
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i].startTime >= since && (entries[i].initiatorType === 'fetch') === Boolean(byFetch)) return entries[i];
  }
  return undefined;
}
