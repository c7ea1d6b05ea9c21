// The hot path of the JavaScript API (src/bindings/js/): calls the `on(type, cb)` callbacks of
// one TypedEventSource with parsed JSON and a `meta` object.
//
// Rust hands over a chunk of events at once (fetch; at most 16 KiB of a read): three strings, their types
// and ids joined by LF and their data joined by CR, split apart here. Each event's data
// is parsed on its own, so one that is not JSON is reported in its place and the rest
// are delivered. (One JSON.parse of all the data as an array was tried: it needs Rust
// to check that each event is one balanced value first, which cost more than it saved.)
//
// Callbacks are kept by registration: each has the id `off` takes, so one function
// registered twice is two registrations, removed one at a time. One removed during a
// dispatch is not called again, even by that dispatch (as the Rust API's callbacks and
// DOM listeners are not).

export class Dispatcher {
  constructor() {
    /** type -> callbacks, an array whose `ids` are their registration ids, index for
     *  index. The arrays are replaced, never changed, so a dispatch may go on over a
     *  snapshot while a callback adds or removes callbacks. */
    this.handlers = new Map();
    /** type -> callbacks of `onRaw`, given the data as text. */
    this.rawHandlers = new Map();
    /** The `onDecodeError` callbacks, under the key null. */
    this.decodeErrorHandlers = new Map();
    /** How many registrations were removed so far: a dispatch that sees it change
     *  checks that each callback of its snapshot is still registered. */
    this.removals = 0;
    this.closed = false;
    /** The id of the event whose callbacks run now, or null between events: what
     *  `lastEventId` answers while a chunk's events are delivered one by one. */
    this.current = null;
  }

  add(type, callback, id) {
    addTo(this.handlers, type, callback, id);
  }

  remove(type, id) {
    this.removals += removeFrom(this.handlers, type, id);
  }

  addRaw(type, callback, id) {
    addTo(this.rawHandlers, type, callback, id);
  }

  removeRaw(type, id) {
    this.removals += removeFrom(this.rawHandlers, type, id);
  }

  addDecodeError(callback, id) {
    addTo(this.decodeErrorHandlers, null, callback, id);
  }

  removeDecodeError(id) {
    this.removals += removeFrom(this.decodeErrorHandlers, null, id);
  }

  /** Closed: no callback is called again, and none is kept (mod.rs adds none once
   *  closed). */
  close() {
    this.closed = true;
    this.handlers = new Map();
    this.rawHandlers = new Map();
    this.decodeErrorHandlers = new Map();
  }

  /** A chunk of events: their types and ids joined by LF (one type, or one id, when
   *  all share it: then there is no LF), their data joined by CR, which no event's data
   *  holds (the parser ends a line at a CR). Returns false, having delivered nothing,
   *  when the data do not split into `count` parts. */
  batch(types, ids, datas, count, origin) {
    const dataList = count === 1 ? null : datas.split('\r');
    if (dataList && dataList.length !== count) return false;
    const typeList = count === 1 || types.indexOf('\n') < 0 ? null : types.split('\n');
    const idList = count === 1 || ids.indexOf('\n') < 0 ? null : ids.split('\n');
    for (let i = 0; i < count; i++) {
      if (this.closed) break;
      this.deliver(typeList ? typeList[i] : types, idList ? idList[i] : ids, dataList ? dataList[i] : datas, origin);
    }
    this.settle();
    return true;
  }

  /** One event. `tooBig` is the reason it was dropped for its size, or undefined: then
   *  it is a decode error for whoever follows its type (`on`, or `onRaw`, through
   *  which the drop-in's listeners and `on<type>` handlers are fed). */
  one(type, id, data, origin, tooBig) {
    if (tooBig === undefined) this.deliver(type, id, data, origin);
    else if (!this.closed && (this.handlers.has(type) || this.rawHandlers.has(type))) {
      this.current = id;
      this.decodeError(type, data, id, tooBig);
    }
    this.settle();
  }

  /** An event dropped for its size (`tooBig`, the reason), as `onAny` saw it: a decode
   *  error, unless `one` made it one already for the callbacks of its type. */
  tooBigForAny(type, id, tooBig) {
    if (this.closed || this.handlers.has(type) || this.rawHandlers.has(type)) return;
    this.current = id;
    this.decodeError(type, '', id, tooBig);
    this.settle();
  }

  /** Between events: `lastEventId` is the source's again, unless a callback closed it
   *  (then it stays the id of the last event delivered: the rest of a chunk is not). */
  settle() {
    if (!this.closed) this.current = null;
  }

  /** One event to the `onRaw` callbacks of its type, then, parsed, to the `on` ones: one
   *  JSON.parse however many callbacks there are. */
  deliver(type, id, data, origin) {
    if (this.closed) return;
    this.current = id;
    // Whom the event is for, as its dispatch begins: a callback that one of them adds
    // (a listener's `on()`, say) gets the next events, not this one (as DOM listeners).
    // (And one that a raw callback removes is not called: `removals` from here.)
    const raw = this.rawHandlers.get(type);
    const callbacks = this.handlers.get(type);
    const errors = this.decodeErrorHandlers.get(null) ?? null;
    const removals = this.removals;
    if (raw) call(this, this.rawHandlers, type, raw, data, { type, lastEventId: id, origin }, data);
    if (!callbacks || this.closed) return;
    let value;
    try {
      value = JSON.parse(data);
    } catch (e) {
      return this.decodeError(type, data, id, `the ${JSON.stringify(type)} event is not valid JSON: ${e.message}`, errors, removals);
    }
    call(this, this.handlers, type, callbacks, value, { type, lastEventId: id, origin }, data, removals);
  }

  /** A decode error to `handlers` (those registered now, unless given; null for none),
   *  or reported when none of them is still registered; `removals` as `call` takes it. */
  decodeError(type, data, lastEventId, message, handlers = this.decodeErrorHandlers.get(null), removals = this.removals) {
    if (!handlers || !call(this, this.decodeErrorHandlers, null, handlers, { type, data, lastEventId, message }, undefined, undefined, removals)) {
      report(new Error(message));
    }
  }
}

/** The list of callbacks `callbacks`, registered under `ids` (see the constructor). */
function listed(callbacks, ids) {
  callbacks.ids = ids;
  return callbacks;
}

/** Adds `callback` under `id` to the list of `type` in `lists`, replacing it. */
function addTo(lists, type, callback, id) {
  const old = lists.get(type);
  lists.set(type, listed([...(old || []), callback], [...(old ? old.ids : []), id]));
}

/** Removes the registration `id` (and only it: the same function may be registered
 *  again under another id) from the list of `type` in `lists`; returns 1 if it was
 *  there, else 0. */
function removeFrom(lists, type, id) {
  const old = lists.get(type);
  const at = old ? old.ids.indexOf(id) : -1;
  if (at < 0) return 0;
  const other = (_, i) => i !== at;
  if (old.length > 1) lists.set(type, listed(old.filter(other), old.ids.filter(other)));
  else lists.delete(type);
  return 1;
}

/** The mark of the package's own callbacks that take a third argument, the length of
 *  the event's text before parsing (`events()` and `stream()` weigh what they hold by
 *  it: the parsed value no longer tells it). A user's callback gets the two it is
 *  documented to (one bound to `Array#push`, or with a third parameter of its own,
 *  must not get a number more). */
const SIZED = Symbol.for('wasm-eventsource.sized');

/** The length of an event's text (0 for what is not text: nothing here may throw
 *  outside a callback's `try`). */
function sizeOf(data) {
  return typeof data === 'string' ? data.length : 0;
}

/** Calls `callbacks`, the list of `type` in `lists` when the dispatch began, skipping
 *  those removed since (the count of removals was `removals`; the package's own get the
 *  size of `data`, the event's text, third: see `SIZED`; measured only for them).
 *  Returns how many it called. */
function call(dispatcher, lists, type, callbacks, value, meta, data, removals = dispatcher.removals) {
  let called = 0;
  for (let i = 0; i < callbacks.length; i++) {
    if (dispatcher.closed) break;
    if (dispatcher.removals !== removals && !lists.get(type)?.ids.includes(callbacks.ids[i])) continue;
    called++;
    try {
      // (A decode error's callbacks take one argument.)
      if (meta === undefined) callbacks[i](value);
      else if (callbacks[i][SIZED]) callbacks[i](value, meta, sizeOf(data));
      else callbacks[i](value, meta);
    } catch (e) {
      report(e);
    }
  }
  return called;
}

/** One event to an `onAny` callback: its data parsed as JSON, or the text itself with
 *  `meta.json` false when it is not JSON (a request stream's events need not be), and
 *  the text as `meta.text` either way (plain-text tokens that parse, " 2024" say, keep
 *  their spaces there); the text's length third to the package's own, as `call` gives
 *  it. */
export function deliverAny(callback, type, id, data, origin) {
  let value = data;
  let json = true;
  try {
    value = JSON.parse(data);
  } catch {
    json = false;
  }
  try {
    const meta = { type, lastEventId: id, origin, json, text: data };
    if (callback[SIZED]) callback(value, meta, sizeOf(data));
    else callback(value, meta);
  } catch (e) {
    report(e);
  }
}

/** Reports an exception from a user callback as the browser reports one from an
 *  event listener, without stopping the stream. The one copy: the Rust side imports
 *  it (bindings/js/batch.rs), and the package's entry reaches it through
 *  `TypedEventSource.reportError`. */
export function report(error) {
  if (typeof reportError === 'function') reportError(error);
  else if (typeof console !== 'undefined') console.error(error);
}

/** `String(value)`, as `EventSource` reads its URL. */
export function text(value) {
  return `${value}`;
}

/** What `EventSource` throws for a URL it cannot parse (web-sys' DOMException binding
 *  would cost a feature for this one line). */
export function syntaxError(message) {
  return new DOMException(message, 'SyntaxError');
}
