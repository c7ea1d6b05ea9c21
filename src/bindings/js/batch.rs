//! The `on` callbacks' side of the JavaScript API: the types listened for, and the
//! events of one chunk held and handed to the JavaScript dispatcher (`dispatch.js`)
//! together.

use crate::core::typemap::TypeMap;
use crate::decode::RawEvent;
use crate::source::{EventSource, Subscription};
use js_sys::Function;
use std::cell::RefCell;
use std::rc::Rc;
#[cfg(feature = "fetch")]
use std::sync::Arc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/bindings/js/dispatch.js")]
extern "C" {
    /// The JavaScript half of the `on` path: callbacks by type, JSON.parse, `meta`.
    pub(super) type Dispatcher;

    #[wasm_bindgen(constructor)]
    pub(super) fn new() -> Dispatcher;
    #[wasm_bindgen(method)]
    pub(super) fn add(this: &Dispatcher, event_type: &JsValue, callback: &Function, id: u32);
    #[wasm_bindgen(method)]
    pub(super) fn remove(this: &Dispatcher, event_type: &JsValue, id: u32);
    #[wasm_bindgen(method, js_name = addRaw)]
    pub(super) fn add_raw(this: &Dispatcher, event_type: &JsValue, callback: &Function, id: u32);
    #[wasm_bindgen(method, js_name = removeRaw)]
    pub(super) fn remove_raw(this: &Dispatcher, event_type: &JsValue, id: u32);
    #[wasm_bindgen(method, js_name = addDecodeError)]
    pub(super) fn add_decode_error(this: &Dispatcher, callback: &Function, id: u32);
    #[wasm_bindgen(method, js_name = removeDecodeError)]
    pub(super) fn remove_decode_error(this: &Dispatcher, id: u32);
    /// The id of the event whose callbacks run now (a chunk is delivered event by
    /// event in JavaScript), or null between events: the string itself, not a copy in
    /// wasm (a long id read in each callback crossed in and out each time).
    #[wasm_bindgen(method, getter)]
    pub(super) fn current(this: &Dispatcher) -> JsValue;
    #[wasm_bindgen(method)]
    pub(super) fn close(this: &Dispatcher);
    #[wasm_bindgen(method)]
    pub(super) fn batch(
        this: &Dispatcher,
        types: &str,
        ids: &JsValue,
        datas: &str,
        count: u32,
        origin: &JsValue,
    ) -> bool;
    #[wasm_bindgen(method)]
    pub(super) fn one(
        this: &Dispatcher,
        event_type: &JsValue,
        id: &JsValue,
        data: &JsValue,
        origin: &JsValue,
        too_big: Option<String>,
    );

    #[cfg(feature = "fetch")]
    #[wasm_bindgen(method, js_name = tooBigForAny)]
    pub(super) fn too_big_for_any(this: &Dispatcher, event_type: &str, id: &JsValue, too_big: &str);

    /// Calls an `onAny` callback with one event (dispatch.js says how).
    #[cfg(feature = "fetch")]
    #[wasm_bindgen(js_name = deliverAny)]
    pub(super) fn deliver_any(
        callback: &Function,
        event_type: &str,
        id: &JsValue,
        data: &JsValue,
        origin: &JsValue,
    );

    /// Reports an exception from a user callback as the browser reports one from an
    /// event listener (`reportError`, else `console.error`): the one copy of this.
    pub(super) fn report(error: &JsValue);

    /// A `SyntaxError` `DOMException` saying `message`, what `EventSource` throws for a
    /// URL it cannot parse.
    #[wasm_bindgen(js_name = syntaxError)]
    pub(super) fn syntax_error(message: &str) -> JsValue;

    /// `String(value)`, as `EventSource` reads its URL (a `URL` object too); throws a
    /// TypeError for a symbol, as it does.
    #[wasm_bindgen(catch)]
    pub(super) fn text(value: &JsValue) -> Result<String, JsValue>;
}

/// What the `on` callbacks of one `TypedEventSource` share.
pub(super) struct Events {
    pub(super) dispatcher: Dispatcher,
    /// For each type with callbacks: its name as a JS string (made once), how many
    /// callbacks (`on` and `onRaw` alike), and the source's handler that
    /// feeds them.
    pub(super) types: RefCell<TypeMap<TypeEntry>>,
    /// The events of the chunk being dispatched (fetch), handed over at its end.
    pub(super) chunk: RefCell<Chunk>,
    /// The origin of the last event, as a JS string, made once per distinct origin.
    pub(super) origin: RefCell<(String, JsValue)>,
}

pub(super) struct TypeEntry {
    pub(super) name: JsValue,
    pub(super) callbacks: usize,
    pub(super) _handler: Subscription,
}

/// A chunk's events, written straight into the three texts the dispatcher takes:
/// types and ids joined by LF, the data joined by CR. `spans` finds each
/// event in them again, for the event-by-event path.
#[derive(Default)]
pub(super) struct Chunk {
    pub(super) types: String,
    pub(super) ids: String,
    /// The events' data joined by CR, which no data from the parser holds (CR ends a
    /// line): JavaScript splits them apart again with one `split`.
    pub(super) datas: String,
    pub(super) spans: Vec<Span>,
    /// No event so far has an LF in its type or id, or was dropped for its size.
    pub(super) batchable: bool,
    /// Every event so far has the first one's type, or its id: that one is sent
    /// alone (no split in JavaScript).
    pub(super) same_type: bool,
    pub(super) same_id: bool,
    /// Some event's id is the one before's span, not in `ids` again: `ids` is not
    /// one entry per event.
    pub(super) ids_repeated: bool,
    /// The last event's id allocation, when the parser shares it.
    #[cfg(feature = "fetch")]
    pub(super) shared_id: Option<Arc<String>>,
    /// A long id (shared by the parser) and its JavaScript string, made once and kept
    /// from chunk to chunk: the events that carry it have the span [`LONG`] and cost
    /// nothing for its length. (Copied into each chunk, a 1 MiB id cost each network
    /// read, and each event with `onAny`, a millisecond.)
    pub(super) long: Option<(std::sync::Arc<String>, JsValue)>,
    /// Some event of this chunk has the span [`LONG`].
    pub(super) long_used: bool,
    pub(super) origin: Option<Rc<str>>,
}

/// The id span of an event whose id is the chunk's long one (`Chunk::long`).
pub(super) const LONG: (usize, usize) = (usize::MAX, usize::MAX);

/// Where one held event's type, id and data are in the chunk's texts.
pub(super) struct Span {
    pub(super) event_type: (usize, usize),
    pub(super) id: (usize, usize),
    pub(super) data: (usize, usize),
    pub(super) too_big: Option<Box<str>>,
}

impl Chunk {
    #[cfg(feature = "fetch")]
    pub(super) fn push(&mut self, raw: &RawEvent) {
        if self.spans.is_empty() {
            self.long_used = false;
        }
        // A long id: the one kept, or, while no event of this chunk has it, a new one
        // to keep. (A second long id in one chunk goes the way of short ones.)
        let long = match (raw.shared_id(), &self.long) {
            (Some(id), Some((kept, _))) if Arc::ptr_eq(id, kept) => true,
            (Some(id), _) if !self.long_used => {
                self.long = Some((Arc::clone(id), JsValue::from_str(id)));
                true
            }
            (None, _) if !self.long_used => {
                // Not kept past the events that carry it.
                self.long = None;
                false
            }
            _ => false,
        };
        self.long_used |= long;
        // An event without an id of its own carries the long id before it in the
        // parser's allocation: its span is the one before's, not a copy (a 1 MiB id
        // and thousands of id-less events in a chunk would be gigabytes).
        let repeated = match (raw.shared_id(), &self.shared_id, self.spans.last()) {
            _ if long => None,
            (Some(id), Some(before), Some(last)) if Arc::ptr_eq(id, before) => Some(last.id),
            _ => None,
        };
        if self.spans.is_empty() {
            self.types.clear();
            self.ids.clear();
            self.datas.clear();
            self.batchable = true;
            self.same_type = true;
            self.same_id = true;
            self.ids_repeated = false;
            self.origin = Some(raw.origin_rc());
        } else {
            self.types.push('\n');
            if repeated.is_none() && !long {
                self.ids.push('\n');
            }
            self.datas.push('\r');
        }
        self.shared_id = raw.shared_id().cloned();
        let append = |text: &mut String, part: &str| {
            let start = text.len();
            text.push_str(part);
            (start, text.len())
        };
        let event_type = append(&mut self.types, raw.event_type());
        let id = match repeated {
            _ if long => LONG,
            Some(id) => id,
            None => append(&mut self.ids, raw.last_event_id()),
        };
        let data = append(&mut self.datas, raw.data());
        if let Some(first) = self.spans.first() {
            self.same_type &= slice(&self.types, first.event_type) == raw.event_type();
            // (A repeated id is the one before's: whether it is the first's is known.)
            if long || first.id == LONG {
                self.same_id &= long && first.id == LONG;
            } else if repeated.is_none() {
                self.same_id &= slice(&self.ids, first.id) == raw.last_event_id();
            }
        }
        self.ids_repeated |= repeated.is_some();
        // (A CR in the data, which the parser never leaves, would show in JavaScript as
        // one event too many: then the chunk goes event by event.)
        self.batchable &= raw.too_big().is_none()
            && !raw.event_type().contains('\n')
            && (long || repeated.is_some() || !raw.last_event_id().contains('\n'));
        self.spans.push(Span {
            event_type,
            id,
            data,
            too_big: raw.too_big().map(Into::into),
        });
    }
}

pub(super) fn slice(text: &str, (start, end): (usize, usize)) -> &str {
    text.get(start..end).unwrap_or_default()
}

impl Events {
    pub(super) fn origin(&self, origin: &str) -> JsValue {
        let mut cached = self.origin.borrow_mut();
        if cached.0 != origin {
            *cached = (origin.to_owned(), JsValue::from_str(origin));
        }
        cached.1.clone()
    }

    pub(super) fn type_name(&self, event_type: &str) -> Option<JsValue> {
        self.types.borrow().get(event_type).map(|t| t.name.clone())
    }

    /// One event, on its own (native), of the type called `name` in JavaScript.
    pub(super) fn deliver_one(&self, raw: &RawEvent, name: &JsValue) {
        let origin = self.origin(raw.origin());
        let too_big = raw.too_big().map(str::to_owned);
        self.dispatcher
            .one(name, &raw.js_id(), &raw.js_data(), &origin, too_big);
    }

    /// Holds an event of the chunk being dispatched (fetch).
    #[cfg(feature = "fetch")]
    pub(super) fn hold(&self, raw: &RawEvent) {
        self.chunk.borrow_mut().push(raw);
    }

    /// The held chunk: its texts cross into JavaScript once for all its events (three
    /// strings), else, when one holds an LF or was dropped for its size, event by
    /// event.
    /// Before a callback that is not held with the chunk (`onGap`, `onAny`) runs: hands
    /// the chunk's held events over first, so every callback sees the stream's order.
    /// Returns whether the source is still open after them.
    pub(super) fn flush_held(&self, source: &EventSource) -> bool {
        if !source.is_batching() {
            return true;
        }
        self.flush(source);
        !source.state().is_closed()
    }

    pub(super) fn flush(&self, source: &EventSource) {
        // Taken out while callbacks run (they may do anything), put back after: the
        // texts keep their capacity from chunk to chunk.
        let mut chunk = std::mem::take(&mut *self.chunk.borrow_mut());
        if !chunk.spans.is_empty() {
            self.deliver_chunk(&chunk, source);
            chunk.spans.clear();
        }
        // (Closed meanwhile: its buffers go, as the close let go of the held chunk's.)
        let mut slot = self.chunk.borrow_mut();
        if slot.spans.is_empty() && !source.state().is_closed() {
            *slot = chunk;
        }
    }

    pub(super) fn deliver_chunk(&self, chunk: &Chunk, source: &EventSource) {
        let Some(first) = chunk.spans.first() else {
            return;
        };
        let origin = self.origin(chunk.origin.as_deref().unwrap_or_default());
        let long = chunk.long.as_ref().map(|(_, js)| js);
        if chunk.batchable
            && (chunk.same_id || !(chunk.ids_repeated || chunk.long_used))
            && chunk.spans.len() > 1
        {
            let types = if chunk.same_type {
                slice(&chunk.types, first.event_type)
            } else {
                chunk.types.as_str()
            };
            let ids = match long {
                Some(long) if chunk.same_id && first.id == LONG => long.clone(),
                _ if chunk.same_id => JsValue::from_str(slice(&chunk.ids, first.id)),
                _ => JsValue::from_str(&chunk.ids),
            };
            let count = u32::try_from(chunk.spans.len()).unwrap_or(u32::MAX);
            if self
                .dispatcher
                .batch(types, &ids, &chunk.datas, count, &origin)
            {
                return;
            }
        }
        // One string for the events that share an id's span.
        let mut cached: Option<((usize, usize), JsValue)> = None;
        for span in &chunk.spans {
            if source.state().is_closed() {
                return;
            }
            let Some(name) = self.type_name(slice(&chunk.types, span.event_type)) else {
                continue;
            };
            if !matches!(&cached, Some((at, _)) if *at == span.id) {
                let id = match long {
                    Some(long) if span.id == LONG => long.clone(),
                    _ => JsValue::from_str(slice(&chunk.ids, span.id)),
                };
                cached = Some((span.id, id));
            }
            let Some((_, id)) = &cached else { continue };
            self.dispatcher.one(
                &name,
                id,
                &JsValue::from_str(slice(&chunk.datas, span.data)),
                &origin,
                span.too_big.as_deref().map(str::to_owned),
            );
        }
    }
}
