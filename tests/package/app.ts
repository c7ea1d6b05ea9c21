// A small app that uses the npm package the way a bundled front end would. It is
// type-checked with `tsc --noEmit --strict`, bundled with esbuild, and run in Chromium
// by tests/e2e/package.test.mjs, which reads `window.results`.
// The package's main entry: no init() to call, the wasm is loaded on import.
import {
  TypedEventSource,
  EventSource as EventSourceExport,
  init,
  type ConnectionState,
  type DecodeErrorInfo,
  type MessageMeta,
  type TypedEventSourceOptions,
} from "wasm-eventsource";

interface Counter {
  n: number;
}

// Type-checked only: a handler attribute that annotates its event's data, as code
// written against lib.dom's EventSource does, compiles against the drop-in too.
// (Regression, a review: `onmessage` took only `MessageEvent<string>`.)
export const typedOnmessage: TypedEventSource["onmessage"] = (e: MessageEvent<Counter>) => e.data.n;
// (Regression, a review: `retry: null`, which the constructor takes as WebIDL takes a
// null dictionary, did not compile.)
export const nullRetry: TypedEventSourceOptions = { retry: null };

interface Burst {
  seq: number;
  user: string;
}

interface Results {
  /** Chunks of a 2,000-event burst read by two callbacks of one type, and a third
   *  source closed from inside its callback at event 1,000. */
  burst?: { first: number; second: number; checksum: number; closedAt: number; afterClose: number; badMeta: number };
  /** Code written for EventSource, run with TypedEventSource substituted. */
  dropIn?: { messages: string[]; chats: string[]; readyStates: number[]; opened: boolean; constants: number[] };
  /** onRaw and the async iterator. */
  raw?: string[];
  iterated?: number[];
  /** The iterator's count of events it dropped (none: the loop keeps up). */
  dropped?: number;
  events: { n: number; type: string; lastEventId: string }[];
  /** What the constructor threw for bad options, once the wasm was ready. */
  /** What the constructor threw for each of `OPTIONS` (or "no error"), once the wasm
   *  was ready, and before. */
  optionErrors: string[];
  earlyOptionErrors: string[];
  /** What the constructor threw for a URL that does not parse, before the wasm was
   *  ready and once it was. */
  urlErrors: string[];
  /** How many times the constructor read each option of an object of getters, before
   *  the wasm was ready and once it was (`reads`). */
  reads: string[];
  /** `stateOrder` then `removedWhileWaiting` before the wasm was ready; the two once it
   *  was, and `removedWhileWaiting` for a URL the core cannot fetch (its stand-in). */
  stateOrder: string[];
  /** The first state past connecting of a source whose options are inherited. */
  inherited?: string;
  /** `lastEventId` of a fetch source given a `Last-Event-ID` header, before the wasm
   *  was ready and once it was. */
  headerIds: string[];
  decodeErrors: string[];
  states: string[];
  done: boolean;
  error?: string;
}

declare global {
  interface Window {
    results: Results;
  }
}

const results: Results = { events: [], optionErrors: [], earlyOptionErrors: [], urlErrors: [], reads: [], stateOrder: [], headerIds: [], decodeErrors: [], states: [], done: false };

/** `lastEventId` of a fetch source whose headers hold a `Last-Event-ID`. */
function headerId(url: string): string {
  const es = new TypedEventSource(url, { transport: "fetch", headers: { "X-A": "1", "last-event-id": " 7 " } });
  const id = es.lastEventId;
  es.close();
  return id;
}

/** Options the constructor refuses, each for one reason, then some it takes. */
const OPTIONS: unknown[] = [
  { transprt: "fetch" },
  { heartbeatMs: 1.5 },
  { retry: { jitter: "yes" } },
  // Regression (a review): NaN read "got null", a header's value was echoed (a token,
  // say), a long value echoed whole, and an object body given no hint.
  { heartbeatMs: NaN },
  { headers: { Authorization: { token: "secret" } } },
  { retryMs: "9".repeat(500) },
  { transport: "fetch", method: "POST", body: { prompt: "hi" } },
  // Regression (a review): a FormData read "got {}; send JSON as JSON.stringify(body)",
  // which sends "{}".
  { transport: "fetch", method: "POST", body: new FormData() },
  // (Bytes too: their JSON is an object of indices, which the JSON hint would send.)
  { transport: "fetch", method: "POST", body: new Uint8Array([1, 2]) },
  "fetch",
  { transport: "pigeon" },
  { transport: 5 },
  { mode: "stream" },
  { doneData: 1 },
  { withCredentials: 1 },
  { share: "" },
  { headers: new Map([["a", "b"]]) },
  { headers: { a: 1 } },
  { headers: null },
  { lastEventId: "a\nb" },
  { maxEventSize: 0 },
  { heartbeatMs: 0 },
  { heartbeatMs: 4294967295 },
  { retryMs: Infinity },
  { resumeParam: "" },
  { body: "x" },
  { transport: "fetch", method: "head", body: "x" },
  { mode: "request", transport: "native" },
  { mode: "request", share: true },
  { mode: "request", pauseWhenHidden: true },
  // Regression (a review): taken for a feed, where it does nothing.
  { retryRequest: true },
  { transport: "native", method: "POST" },
  { lastEventId: "7", resumeParam: null },
  { headers: { a: "b" }, doneData: "[END]" },
  { retry: 5 },
  { retry: { wait: 1 } },
  { retry: { baseMs: -1 } },
  { headers: new (class Headers {})() },
  { transport: "fetch", method: "POST " },
  { transport: "fetch", method: "GET\u0000" },
  { method: "TRACE" },
  { transport: "fetch", method: "HEAD" },
  // Regression (a review): headers a request's Headers refuses closed the source at its
  // first attempt (the value is not shown: it may be a secret).
  { transport: "fetch", headers: { "X Token": "v" } },
  { transport: "fetch", headers: { "X-Token": "secret\r\nX-Injected: 1" } },
  { transport: "fetch", headers: { "X-Token": "secret \u20ac" } },
  // Regression (a review): a name fetch drops without a word was taken, and the server
  // then refused a request that lacked it, with no hint why.
  { transport: "fetch", headers: { Cookie: "sid=1" } },
  { transport: "fetch", headers: { "sec-fetch-mode": "cors" } },
  // Regression (a review): headers of the wrong kind were shown as JSON (an array of
  // pairs, the token in it), and a value given as a name in part.
  { transport: "fetch", headers: [["Authorization", "Bearer sk-secret"]] },
  { transport: "fetch", headers: "Bearer sk-secret" },
  { transport: "fetch", headers: { "Bearer sk-secret": "Authorization" } },
  { transport: "fetch", headers: { "c2stc2VjcmV0==": "x" } },
  { transport: "fetch", headers: { "sk-secret\n": "x" } },
  { transport: "fetch", headers: Object.create({ a: "b" }) },
  // An own `__proto__` key, as JSON.parse makes one: unknown like any other.
  JSON.parse('{"__proto__": 1, "transport": "fetch"}'),
  // Taken:
  // Any object, as WebIDL takes a dictionary (this was refused, as not `instanceof Object`).
  Object.assign(Object.create(null), { transport: "fetch" }),
  { transport: "fetch", headers: { "X-App": "bundle" }, doneData: null, resumeParam: null, retry: null },
  { mode: "request", method: "POST", body: "{}" },
  { share: "room", dedupe: true, retry: { jitter: false, maxAttempts: 3 }, lastEventId: "7" },
  null,
  [], // (an object with no keys)
  // (A getter that throws is read as absent, by the core too.)
  Object.defineProperty({}, "heartbeatMs", { enumerable: true, get: () => { throw new Error("no"); } }),
];

/** What `new TypedEventSource(url, options)` throws, or "no error"; then closes it. */
function thrown(url: string, options: unknown): string {
  try {
    new TypedEventSource(url, options as TypedEventSourceOptions).close();
    return "no error";
  } catch (e: unknown) {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
}
window.results = results;

/** The constructor's reads of an options object whose every member is a getter, as
 *  "key:times", sorted. */
function reads(url: string): string {
  const count = new Map<string, number>();
  const getters = (values: Record<string, unknown>, path: string): object =>
    Object.defineProperties(
      {},
      Object.fromEntries(
        Object.entries(values).map(([key, value]) => [
          key,
          {
            enumerable: true,
            get: () => {
              count.set(path + key, (count.get(path + key) ?? 0) + 1);
              return value;
            },
          },
        ]),
      ),
    );
  const options = getters(
    {
      transport: "fetch",
      withCredentials: false,
      doneData: null,
      resumeParam: "from",
      lastEventId: "4",
      headers: getters({ "X-App": "bundle" }, "headers."),
      retry: getters({ baseMs: 500, jitter: false }, "retry."),
    },
    "",
  );
  new TypedEventSource(url, options as TypedEventSourceOptions).close();
  return [...count].map(([key, times]) => `${key}:${times}`).sort().join(" ");
}

/** The state calls of an observer that closes its source from its first call, as
 *  "start KIND" and "end KIND": each call returns before the next begins (as the
 *  core's state cell orders them), so the last call is the latest state. */
function stateOrder(url: string): string {
  const log: string[] = [];
  const es = new TypedEventSource(url);
  es.onState((state) => {
    log.push(`start ${state.kind}`);
    if (state.kind === "connecting") es.close();
    log.push(`end ${state.kind}`);
  });
  return log.join(", ");
}

/** The state calls of two observers, the first of which removes the second in its
 *  call of the closed state: the second's call of it, which waited its turn, must not
 *  be made (as the core makes none to an observer removed before its turn). */
function removedWhileWaiting(url: string): string {
  const log: string[] = [];
  const es = new TypedEventSource(url);
  let second = 0;
  es.onState((state) => {
    log.push(`a ${state.kind}`);
    if (state.kind === "closed") log.push(`off ${es.off(second)}`);
  });
  second = es.onState((state) => log.push(`b ${state.kind}`));
  es.close();
  return log.join(", ");
}

function describe(state: ConnectionState): string {
  // The union narrows on `kind`: each branch sees only its own fields.
  switch (state.kind) {
    case "connecting":
      return `connecting ${state.attempt}`;
    case "open":
      return "open";
    case "reconnecting":
      return `reconnecting ${state.attempt} ${state.delayMs ?? "browser"} ${state.cause}`;
    case "closed":
      return `closed ${state.reason}${state.status === undefined ? "" : ` ${state.status}`}`;
  }
}

async function main(): Promise<void> {
  const server = new URLSearchParams(location.search).get("server");
  if (!server) throw new Error("pass ?server=http://127.0.0.1:PORT");
  // Constructed on the heels of the import, before the wasm is ready, and once it is:
  // the same errors, with the same words (the package checks the options in
  // JavaScript until the wasm can).
  const anyWithNative = (): string => {
    const es = new TypedEventSource(`${server}/events`, { transport: "native" });
    try {
      es.onAny(() => {});
      return "no error";
    } catch (e: unknown) {
      return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    } finally {
      es.close();
    }
  };
  // Both a URL that does not parse and a bad option: the option's error, as the core
  // checks the options first.
  const both = (): string => thrown("http://[", { transport: "x" });
  results.earlyOptionErrors = [...OPTIONS.map((o) => thrown(`${server}/events`, o)), anyWithNative(), both()];
  results.stateOrder.push(stateOrder(`${server}/events`));
  results.stateOrder.push(removedWhileWaiting(`${server}/events`));
  const unparsable = (): string => thrown("http://user:secret@[bad/", {});
  results.urlErrors.push(unparsable());
  results.reads.push(reads(`${server}/events`));
  results.headerIds.push(headerId(`${server}/events`));
  // Options inherited from a prototype are read, also by a source built once the wasm
  // is ready (regression: it was built from a clone, which has none of them).
  const inherited = new TypedEventSource(`${server}/scenario/named`, Object.assign(Object.create({ transport: "fetch" }), { method: "POST", body: "{}" }));
  const inheritedState = new Promise<string>((resolve) => {
    inherited.onState((state) => {
      if (state.kind === "open" || state.kind === "closed") resolve(describe(state));
    });
  });
  await init();
  // Once loaded, init() returns the same promise whatever it is given; these check the
  // types take what wasm-bindgen's loader does (a Request, a promise of a Response).
  await init(new Request("unused.wasm"));
  await init(Promise.resolve(new Response("")));
  results.optionErrors = [...OPTIONS.map((o) => thrown(`${server}/events`, o)), anyWithNative(), both()];
  results.stateOrder.push(stateOrder(`${server}/events`));
  results.stateOrder.push(removedWhileWaiting(`${server}/events`), removedWhileWaiting("ftp://example.invalid/events"));
  results.urlErrors.push(unparsable());
  results.reads.push(reads(`${server}/events`));
  results.headerIds.push(headerId(`${server}/events`));
  results.inherited = await inheritedState;
  inherited.close();
  const options: TypedEventSourceOptions = { transport: "fetch", headers: { "X-App": "bundle" } };
  const es = new TypedEventSource(`${server}/scenario/bad-json`, options);
  es.onState((state) => {
    results.states.push(describe(state));
  });
  es.onDecodeError((err: DecodeErrorInfo) => {
    results.decodeErrors.push(err.data);
  });
  es.on<Counter>("message", (data: Counter, meta: MessageMeta) => {
    results.events.push({ n: data.n, type: meta.type, lastEventId: meta.lastEventId });
    if (data.n === 3) {
      es.close();
      results.done = true;
    }
  });
}

/** The batched path: many events per chunk, two callbacks sharing one parse, and
 *  close() from inside a callback in the middle of a chunk. */
async function burst(server: string): Promise<void> {
  const url = `${server}/scenario/burst/2000?then=idle`;
  const stats = { first: 0, second: 0, checksum: 0, closedAt: 0, afterClose: 0, badMeta: 0 };
  await new Promise<void>((resolve) => {
    const es = new TypedEventSource(url, { transport: "fetch" });
    es.on<Burst>("message", (data, meta) => {
      stats.first += 1;
      stats.checksum += data.seq;
      // The burst sends no ids: each event of a chunk shares the empty one.
      if (meta.type !== "message" || meta.lastEventId !== "" || meta.origin !== server) stats.badMeta += 1;
    });
    es.on<Burst>("message", (data) => {
      stats.second += 1;
      if (data.seq === 2000) {
        es.close();
        resolve();
      }
    });
  });
  await new Promise<void>((resolve) => {
    const es = new TypedEventSource(url, { transport: "fetch" });
    es.on<Burst>("message", (data) => {
      if (stats.closedAt) stats.afterClose += 1;
      if (data.seq === 1000) {
        stats.closedAt = data.seq;
        es.close();
        setTimeout(resolve, 200);
      }
    });
  });
  results.burst = stats;
}

/** Code typed for the browser's EventSource, handed a TypedEventSource (a drop-in in
 *  the types too: its handler attributes take `this: EventSource` functions). */
function readyStateOf(es: EventSource): number {
  return es.readyState;
}

/** An unmodified EventSource snippet, with the constructor substituted. */
async function dropIn(server: string): Promise<void> {
  // (The package's export under the interface's name: the import is the only change.)
  const EventSource = EventSourceExport;
  const out = { messages: [] as string[], chats: [] as string[], readyStates: [] as number[], opened: false, constants: [] as number[] };
  await new Promise<void>((resolve) => {
    const es = new EventSource(`${server}/scenario/named`);
    out.constants = [EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED, es.CLOSED];
    out.readyStates.push(readyStateOf(es));
    es.onopen = () => {
      out.opened = true;
      out.readyStates.push(es.readyState);
    };
    es.onmessage = (e: MessageEvent) => {
      out.messages.push(`${e.data}|${e.lastEventId}|${e.origin === server}`);
    };
    es.addEventListener("chat", (e: MessageEvent) => {
      out.chats.push(e.data);
      if (out.chats.length === 2) {
        es.close();
        out.readyStates.push(es.readyState);
        resolve();
      }
    });
    es.onerror = () => {};
    // Typed as lib.dom types EventSource's listeners: an event annotated with the
    // type its data is parsed into compiles (the data is still the string).
    es.addEventListener("never-sent", (e: MessageEvent<{ text: string }>) => void e.data.text);
  });
  results.dropIn = out;
}

/** onRaw for data that is not JSON, and `for await` over events(). */
async function rawAndIteration(server: string): Promise<void> {
  const raw: string[] = [];
  const es = new TypedEventSource(`${server}/scenario/bad-json`, { transport: "fetch" });
  es.onRaw("message", (data) => raw.push(data));
  es.onDecodeError(() => {});
  const iterated: number[] = [];
  const events = es.events<Counter>("message");
  for await (const { data, meta } of events) {
    iterated.push(data.n);
    if (meta.lastEventId === "3") break;
  }
  es.close();
  results.raw = raw;
  results.iterated = iterated;
  results.dropped = events.dropped;
}

main()
  .then(() => {
    const server = new URLSearchParams(location.search).get("server");
    if (!server) return undefined;
    return burst(server)
      .then(() => dropIn(server))
      .then(() => rawAndIteration(server));
  })
  .catch((e: unknown) => {
    results.error = String(e);
  });
