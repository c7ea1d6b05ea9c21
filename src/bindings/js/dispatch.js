// The hot path of the JavaScript API (src/bindings/js/): calls the `on(type, cb)` callbacks of
// one TypedEventSource with parsed JSON and a `meta` object.
//
// Rust hands over a whole chunk of events at once (fetch): three strings, their types
// and ids joined by LF and their data joined by CR, split apart here. Each event's data
// is parsed on its own, so one that is not JSON is reported in its place and the rest
// are delivered. (One JSON.parse of all the data as an array was tried: it needs Rust
// to check that each event is one balanced value first, which cost more than it saved.)

export class Dispatcher {
  constructor() {
    /** type -> callbacks; arrays are replaced, never changed, so a dispatch may go on
     *  over a snapshot while a callback adds or removes callbacks. */
    this.handlers = new Map();
    /** type -> callbacks of `onRaw`, given the data as text. */
    this.rawHandlers = new Map();
    this.decodeErrorHandlers = [];
    this.closed = false;
  }

  add(type, callback) {
    addTo(this.handlers, type, callback);
  }

  remove(type, callback) {
    removeFrom(this.handlers, type, callback);
  }

  addRaw(type, callback) {
    addTo(this.rawHandlers, type, callback);
  }

  removeRaw(type, callback) {
    removeFrom(this.rawHandlers, type, callback);
  }

  addDecodeError(callback) {
    this.decodeErrorHandlers = [...this.decodeErrorHandlers, callback];
  }

  removeDecodeError(callback) {
    this.decodeErrorHandlers = this.decodeErrorHandlers.filter((f) => f !== callback);
  }

  close() {
    this.closed = true;
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
    return true;
  }

  /** One event. `tooBig` is the reason it was dropped for its size, or undefined. */
  one(type, id, data, origin, tooBig) {
    if (tooBig === undefined) this.deliver(type, id, data, origin);
    else if (!this.closed && this.handlers.has(type)) this.decodeError(type, data, id, tooBig);
  }

  /** One event to the `onRaw` callbacks of its type, then, parsed, to the `on` ones: one
   *  JSON.parse however many callbacks there are. */
  deliver(type, id, data, origin) {
    if (this.closed) return;
    const raw = this.rawHandlers.get(type);
    if (raw) call(this, raw, data, { type, lastEventId: id, origin });
    const callbacks = this.handlers.get(type);
    if (!callbacks || this.closed) return;
    let value;
    try {
      value = JSON.parse(data);
    } catch (e) {
      return this.decodeError(type, data, id, `the ${JSON.stringify(type)} event is not valid JSON: ${e.message}`);
    }
    call(this, callbacks, value, { type, lastEventId: id, origin });
  }

  decodeError(type, data, lastEventId, message) {
    const handlers = this.decodeErrorHandlers;
    if (!handlers.length) return report(new Error(message));
    const info = { type, data, lastEventId, message };
    for (const f of handlers) {
      if (this.closed) return;
      try {
        f(info);
      } catch (e) {
        report(e);
      }
    }
  }
}

/** Adds `callback` to the list of `type`, replacing the array (see the constructor). */
function addTo(map, type, callback) {
  map.set(type, [...(map.get(type) || []), callback]);
}

function removeFrom(map, type, callback) {
  const left = (map.get(type) || []).filter((f) => f !== callback);
  if (left.length) map.set(type, left);
  else map.delete(type);
}

function call(dispatcher, callbacks, value, meta) {
  for (const f of callbacks) {
    if (dispatcher.closed) return;
    try {
      f(value, meta);
    } catch (e) {
      report(e);
    }
  }
}

/** Reports an exception from a user callback as the browser reports one from an
 *  event listener, without stopping the stream. */
function report(error) {
  if (typeof reportError === 'function') reportError(error);
  else if (typeof console !== 'undefined') console.error(error);
}
