//! A sans-IO parser for `text/event-stream`: bytes in, events out.
//!
//! [`Parser`] implements the WHATWG "Interpreting an event stream" algorithm
//! (<https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>)
//! with no I/O and no browser API, so it runs the same natively and in wasm32. Push
//! bytes in whatever chunks the network delivers with [`Parser::feed`], then take
//! events out with [`Parser::next_event`] (or every item, comments and oversize
//! notices included, with [`Parser::next_item`]). Chunk boundaries never change the
//! result: a CR at the end of one chunk and an LF at the start of the next are one
//! line end, and a UTF-8 character split across chunks is decoded whole.
//!
//! ```
//! use wasm_eventsource::parse::Parser;
//!
//! let mut parser = Parser::new();
//! parser.feed(b"retry: 2000\nid: 7\nevent: chat\ndata: {\"text\":");
//! parser.feed(b"\"hi\"}\n\n");
//! let event = parser.next_event().expect("one complete event");
//! assert_eq!(event.event_type(), "chat");
//! assert_eq!(event.data(), "{\"text\":\"hi\"}");
//! assert_eq!(event.last_event_id(), "7");
//! assert_eq!(parser.retry(), Some(2000));
//! assert_eq!(parser.next_event(), None);
//! ```
//!
//! One event's size is capped (1 MiB unless [`Parser::with_max_event_size`] says
//! otherwise): a larger event is dropped whole and reported as [`Item::Oversize`].
//! Whatever the stream sends, the parser holds at most the cap plus 28 bytes for the
//! event being parsed (its data, type and id, and the line being read: a `retry` line,
//! which is not the event's, is read whatever the event holds); besides that
//! only the last event ID string (one copy, shared by every event that carries it,
//! and within the cap when it was read) and the items queued until they are taken
//! (one `feed` queues at most about one item per two bytes it is given: a caller that
//! bounds what it feeds between takes bounds the queue; the fetch transport feeds 16
//! KiB at a time).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

/// The default cap on one event's size, in bytes: 1 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 1 << 20;

/// The UTF-8 byte order mark.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// The longest `retry` line that can be valid: `retry: `, a leading zero and the 20
/// digits of `u64::MAX`, counting one leading zero of any run (`retry: 0005` is 5
/// ms). A longer one is ignored without being kept.
const RETRY_LINE_MAX: usize = 28;

/// The longest last event ID an event copies into its own buffer; a longer one is
/// shared between the events that carry it (and the parser), as the ID persists
/// from event to event.
const INLINE_ID_MAX: usize = 64;

/// Whether `id` could be a stream's last event ID: no CR, LF or NUL, which a server
/// cannot send in an `id` field (and a `Last-Event-ID` header cannot carry).
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// One dispatched event: its type, its data and the last event ID at dispatch, and
/// whether that ID came from the event's own `id` field ([`has_own_id`](Self::has_own_id)).
///
/// Two events are equal when their type, data and last event ID are.
///
/// The three strings share one allocation, but for a last event ID longer than 64
/// bytes: that one is shared with every other event that carries it.
#[derive(Clone)]
pub struct Event {
    /// `data`, then the last event ID unless `shared_id` holds it, then the event
    /// type ("" for "message").
    buf: String,
    /// End of the data in `buf`.
    data_end: usize,
    /// End of the last event ID in `buf`; the event type runs from here to the end.
    id_end: usize,
    /// The last event ID when it is longer than [`INLINE_ID_MAX`].
    shared_id: Option<Arc<String>>,
    /// The event's block had an `id` field of its own.
    own_id: bool,
}

impl Event {
    /// Builds an event, as a test or a transport would; an empty `event_type` means
    /// `"message"`.
    pub fn new(event_type: &str, data: &str, last_event_id: &str) -> Self {
        if last_event_id.len() <= INLINE_ID_MAX {
            Self::build(event_type, data, last_event_id, None)
        } else {
            let shared = Arc::new(last_event_id.to_owned());
            Self::build(event_type, data, "", Some(shared))
        }
    }

    /// Builds an event whose last event ID is `inline_id`, or `shared_id` if any.
    fn build(
        event_type: &str,
        data: &str,
        inline_id: &str,
        shared_id: Option<Arc<String>>,
    ) -> Self {
        let mut buf = String::with_capacity(data.len() + inline_id.len() + event_type.len());
        buf.push_str(data);
        buf.push_str(inline_id);
        buf.push_str(event_type);
        Self {
            buf,
            data_end: data.len(),
            id_end: data.len() + inline_id.len(),
            shared_id,
            own_id: false,
        }
    }

    /// The same event, saying whether its block had an `id` field of its own.
    pub fn with_own_id(mut self, own_id: bool) -> Self {
        self.own_id = own_id;
        self
    }

    /// Whether the event's block had an `id` field of its own (which may have set the
    /// id to the same value as before, or to empty). An event without one carries the
    /// last event ID of the events before it: that id is not its own, so it says
    /// nothing about whether this event was delivered before.
    pub fn has_own_id(&self) -> bool {
        self.own_id
    }

    /// The event type: the block's `event` field, `"message"` when it had none.
    ///
    /// WHATWG dispatch steps 5 and 6: "Initialize event's type attribute to
    /// "message" [...] If the event type buffer has a value other than the empty
    /// string, change the type of the newly created event to equal the value of the
    /// event type buffer."
    pub fn event_type(&self) -> &str {
        match self.buf.get(self.id_end..) {
            Some("") | None => "message",
            Some(event_type) => event_type,
        }
    }

    /// The data: the block's `data` field values joined with LF.
    pub fn data(&self) -> &str {
        self.buf.get(..self.data_end).unwrap_or_default()
    }

    /// The last event ID string of the stream when this event was dispatched.
    ///
    /// WHATWG dispatch step 5: "its lastEventId attribute to the last event ID
    /// string of the event source."
    pub fn last_event_id(&self) -> &str {
        match &self.shared_id {
            Some(id) => id,
            None => self.buf.get(self.data_end..self.id_end).unwrap_or_default(),
        }
    }

    /// Builds an event whose last event ID is `id`, already shared (a transport
    /// that holds the long id its events carry, or a shared source's follower: each
    /// event shares it, not a copy).
    #[cfg(any(feature = "native", feature = "share"))]
    pub(crate) fn with_shared_id(event_type: &str, data: &str, id: &LastId) -> Self {
        match id {
            LastId::Inline(id) => Self::build(event_type, data, id, None),
            LastId::Shared(id) => Self::build(event_type, data, "", Some(Arc::clone(id))),
        }
    }

    /// The last event ID's allocation when it is shared (longer than
    /// [`INLINE_ID_MAX`]): the events that carry the same one share it.
    pub(crate) fn shared_id(&self) -> Option<&Arc<String>> {
        self.shared_id.as_ref()
    }

    /// The data, without copying it.
    pub fn into_data(self) -> String {
        let mut buf = self.buf;
        buf.truncate(self.data_end);
        buf
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.data() == other.data()
            && self.last_event_id() == other.last_event_id()
            && self.event_type() == other.event_type()
    }
}

impl Eq for Event {}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("event_type", &self.event_type())
            .field("data", &self.data())
            .field("last_event_id", &self.last_event_id())
            .field("own_id", &self.own_id)
            .finish()
    }
}

/// Something the parser found in the stream, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item {
    /// A dispatched event.
    Event(Event),
    /// A block that set the last event ID string with an `id` field and dispatched
    /// nothing (it had no data): the ID, as events after it carry it. Only queued when
    /// [`Parser::set_id_items`] enabled it.
    Id(String),
    /// A comment line's text after the colon, one leading space removed. Only queued
    /// when [`Parser::set_comments`] enabled it; a comment that, with the rest of the
    /// event around it, goes over the event size cap is dropped.
    Comment(String),
    /// An event that went over the cap was dropped whole: its data, type and id,
    /// with the line being read, were larger than the cap.
    Oversize {
        /// The dropped event's type (`"message"` when it had none).
        event_type: String,
        /// Its data size in bytes: the field values plus one LF per `data` line,
        /// before decoding, as counted against the cap.
        size: usize,
        /// The cap it went over.
        limit: usize,
        /// The last event ID string after this event (its own `id` field, when it
        /// had one), as an event in its place would have carried it.
        last_event_id: String,
        /// Whether that id came from an `id` field of the dropped event itself (as
        /// [`Event::has_own_id`]): dedupe and gap checks count it as they would the
        /// event.
        own_id: bool,
    },
}

/// What becomes of the bytes of a line that did not end in the chunk it started in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Carried {
    /// Kept in `Parser::line` until the line ends.
    Line,
    /// A `data` line of an oversize event: its value bytes are counted, not kept.
    CountData,
    /// A line that is ignored (an unknown field) or too long: skipped to its end.
    Discard,
}

/// What a line is, judged from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Too short to tell yet (a prefix of `data:`, `event:`, `id:` or `retry:`).
    Undecided,
    Comment,
    Data,
    Event,
    Id,
    Retry,
    /// A field that is ignored.
    Other,
}

/// Where the stream's leading byte order mark stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bom {
    /// This many bytes of a BOM start the stream so far: held back until it is known.
    Partial(usize),
    /// Stripped, or not there: the question is settled for this stream.
    Settled,
}

/// The last event ID string, as the parser keeps it (and the source, and the native
/// transport): a long one in one allocation that the events carrying it share.
#[derive(Clone, Debug)]
pub(crate) enum LastId {
    /// At most [`INLINE_ID_MAX`] bytes, copied into each event.
    Inline(String),
    /// Longer, shared with each event.
    Shared(Arc<String>),
}

impl Default for LastId {
    fn default() -> Self {
        Self::Inline(String::new())
    }
}

impl LastId {
    /// The ID `id`.
    pub(crate) fn new(id: &str) -> Self {
        let mut new = Self::default();
        new.set(id);
        new
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Inline(id) => id,
            Self::Shared(id) => id,
        }
    }

    /// Sets the ID to `id`, allocating only when a long ID changes.
    pub(crate) fn set(&mut self, id: &str) {
        match self {
            Self::Inline(inline) if id.len() <= INLINE_ID_MAX => {
                inline.clear();
                inline.push_str(id);
            }
            _ if id.len() <= INLINE_ID_MAX => *self = Self::Inline(id.to_owned()),
            Self::Shared(_) if self.is(id) => {}
            _ => *self = Self::Shared(Arc::new(id.to_owned())),
        }
    }

    /// Whether the ID is `id`: at once where `id` is this allocation's text (the fetch
    /// transport hands the parser's, which the source shares).
    pub(crate) fn is(&self, id: &str) -> bool {
        let held = self.as_str();
        std::ptr::eq(held, id) || held == id
    }

    /// Sets the ID to `other`, sharing its allocation (see [`set_from`](Self::set_from)).
    #[cfg(any(feature = "fetch", feature = "share"))]
    pub(crate) fn adopt(&mut self, other: &LastId) {
        match other {
            Self::Shared(shared) => self.set_from(shared, Some(shared)),
            Self::Inline(id) => self.set(id),
        }
    }

    /// Sets the ID to `event`'s last event ID. A long one is taken as the event shares
    /// it, without reading it: events that carry one long ID cost nothing per event
    /// for its length (comparing 1 MiB per event cost a millisecond each).
    /// (`shared`: the event's shared allocation, if any, whose text is `id`.)
    pub(crate) fn set_from(&mut self, id: &str, shared: Option<&Arc<String>>) {
        match (shared, &*self) {
            (Some(shared), Self::Shared(held)) if Arc::ptr_eq(shared, held) => {}
            (Some(shared), _) => *self = Self::Shared(Arc::clone(shared)),
            (None, _) => self.set(id),
        }
    }
}

/// The sans-IO `text/event-stream` parser. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Parser {
    /// The bytes of the current line when it did not end in the chunk it started in.
    line: Vec<u8>,
    /// How the current carried line is handled.
    carried: Carried,
    /// The previous chunk ended in CR: an LF that starts the next one ends no line.
    pending_cr: bool,
    /// The leading BOM.
    bom: Bom,
    /// The data buffer, undecoded (LF is ASCII, so decoding at dispatch is the same
    /// as decoding each value), like the two below.
    data: Vec<u8>,
    /// The event type buffer.
    event_type: Vec<u8>,
    /// The last event ID buffer when an `id` field set it since the last dispatch
    /// (`id_changed`), else empty: the buffer is then the last event ID string.
    id_buffer: Vec<u8>,
    /// An `id` field set the buffer since the last dispatch.
    id_changed: bool,
    /// An `id` field of the stream set the last event ID string at some dispatch
    /// (never [`set_last_event_id`](Self::set_last_event_id), nor a reset).
    saw_id: bool,
    /// The last event ID string.
    last_event_id: LastId,
    /// The reconnection time set by the stream, in milliseconds.
    retry: Option<u64>,
    /// The data size so far of the current event once it went over the cap; its data
    /// is then counted, not kept.
    oversize: Option<usize>,
    /// The cap on one event's size.
    max_event_size: usize,
    /// Queue comments as items.
    comments: bool,
    /// Queue id-only blocks as items.
    ids: bool,
    /// Items ready to be taken.
    queue: VecDeque<Item>,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl Parser {
    /// A parser for a new stream, with the default cap ([`DEFAULT_MAX_EVENT_SIZE`])
    /// on one event's data and comments not reported.
    ///
    /// WHATWG: "When a stream is parsed, a data buffer, an event type buffer, and a
    /// last event ID buffer must be associated with it. They must be initialized to
    /// the empty string."
    pub fn new() -> Self {
        Self::with_max_event_size(DEFAULT_MAX_EVENT_SIZE)
    }

    /// A parser whose cap on one event's size is `bytes`: an event whose data
    /// (values plus one LF per `data` line), type and id (its `id` field's value, when
    /// it has one), together with the line being read, would exceed it is dropped
    /// whole and reported as [`Item::Oversize`]; parsing goes on with the next event.
    /// An over-long comment or `retry` line is dropped alone. All sizes are counted
    /// before decoding.
    ///
    /// The parser holds at most `bytes + 28` bytes for the event being parsed
    /// ([`buffered`](Self::buffered)), and besides them the last event ID string,
    /// which fitted the cap when it was read.
    pub fn with_max_event_size(bytes: usize) -> Self {
        Self {
            line: Vec::new(),
            carried: Carried::Line,
            pending_cr: false,
            bom: Bom::Partial(0),
            data: Vec::new(),
            event_type: Vec::new(),
            id_buffer: Vec::new(),
            id_changed: false,
            saw_id: false,
            last_event_id: LastId::Inline(String::new()),
            retry: None,
            oversize: None,
            max_event_size: bytes,
            comments: false,
            ids: false,
            queue: VecDeque::new(),
        }
    }

    /// The cap on one event's size, in bytes.
    pub fn max_event_size(&self) -> usize {
        self.max_event_size
    }

    /// Whether comment lines are queued as [`Item::Comment`]. Defaults to off.
    ///
    /// WHATWG: "If the line starts with a U+003A COLON character (:) — Ignore the
    /// line." Turning comments on reports them without changing anything else.
    pub fn set_comments(&mut self, enabled: bool) {
        self.comments = enabled;
    }

    /// Whether a block that sets the last event ID string and dispatches nothing (an
    /// `id` field and no data) is queued as [`Item::Id`], in its place among the
    /// events. Defaults to off.
    ///
    /// WHATWG dispatch, steps 1 and 2: the last event ID string is set, then "if the
    /// data buffer is an empty string, [...] return". Turning this on reports that ID
    /// without changing anything else (a consumer that numbers events can tell an
    /// id-only block from a lost event).
    pub fn set_id_items(&mut self, enabled: bool) {
        self.ids = enabled;
    }

    /// The reconnection time the stream last set with a valid `retry` field, in
    /// milliseconds.
    ///
    /// WHATWG: "If the field value consists of only ASCII digits, then interpret the
    /// field value as an integer in base ten, and set the event stream's
    /// reconnection time to that integer. Otherwise, ignore the field." A value too
    /// large for a `u64` is ignored.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// The last event ID string: what a reconnection sends as `Last-Event-ID`.
    /// It persists across [`end_of_stream`](Self::end_of_stream).
    ///
    /// WHATWG dispatch step 1: "Set the last event ID string of the event source to
    /// the value of the last event ID buffer. The buffer does not get reset, so the
    /// last event ID string of the event source remains set to this value until the
    /// next time it is set by the server."
    pub fn last_event_id(&self) -> &str {
        self.last_event_id.as_str()
    }

    /// The last event ID string as the parser holds it: a long one in the allocation
    /// its events share.
    #[cfg(feature = "fetch")]
    pub(crate) fn last_id(&self) -> &LastId {
        &self.last_event_id
    }

    /// Sets the last event ID string, as when resuming a stream from an id kept from
    /// an earlier session, without touching anything else: the byte order mark check,
    /// a line or event being read, the reconnection time. An `id` field read since the
    /// last dispatch still wins when that event is dispatched.
    ///
    /// WHATWG: the last event ID string is what a reconnection sends as
    /// `Last-Event-ID`; this seeds it for the first connection. The caller checks
    /// the id has no CR, LF or NUL (a server could not have sent those).
    pub fn set_last_event_id(&mut self, id: &str) {
        self.last_event_id.set(id);
    }

    /// Whether the stream itself has set the last event ID string (an `id` field, in
    /// an event or alone), as opposed to [`set_last_event_id`](Self::set_last_event_id).
    pub fn saw_id(&self) -> bool {
        self.saw_id
    }

    /// How many bytes the parser holds for the event being parsed: its data, type and
    /// id, and a line not yet ended. Never more than
    /// [`max_event_size`](Self::max_event_size) plus 28 (a `retry` line, which is not
    /// the event's, is read whatever the event holds).
    pub fn buffered(&self) -> usize {
        self.held() + self.line.len()
    }

    /// Whether the stream is in the middle of an event (or of a line): a field seen
    /// since the last dispatch, or a line not yet ended. A stream that ends so was cut
    /// off: a whole one ends each event with an empty line. (Not a comment line not yet
    /// ended, kept with [`set_comments`](Self::set_comments), nor a `retry` one: no
    /// event has a part in either, and a stream that ends in one lost nothing.)
    pub fn mid_event(&self) -> bool {
        let carried =
            !self.line.is_empty() && !matches!(classify(&self.line), Kind::Comment | Kind::Retry);
        self.held() > 0 || carried || self.id_changed || self.oversize.is_some()
    }

    /// Pushes the next bytes of the stream; any events they complete become
    /// available from [`next_event`](Self::next_event) and [`next_item`](Self::next_item).
    ///
    /// WHATWG: "Streams must be decoded using the UTF-8 decode algorithm. The UTF-8
    /// decode algorithm strips one leading UTF-8 Byte Order Mark (BOM), if any. The
    /// stream must then be parsed by reading everything line by line, with a U+000D
    /// CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair, a single U+000A LINE
    /// FEED (LF) character not preceded by a U+000D CARRIAGE RETURN (CR) character,
    /// and a single U+000D CARRIAGE RETURN (CR) character not followed by a U+000A
    /// LINE FEED (LF) character being the ways in which a line can end."
    ///
    /// Invalid UTF-8 becomes U+FFFD, as the UTF-8 decode algorithm does.
    pub fn feed(&mut self, mut chunk: &[u8]) {
        while let Bom::Partial(seen) = self.bom {
            let Some((&byte, rest)) = chunk.split_first() else {
                return;
            };
            if BOM.get(seen) == Some(&byte) {
                chunk = rest;
                self.bom = if seen + 1 == BOM.len() {
                    Bom::Settled
                } else {
                    Bom::Partial(seen + 1)
                };
            } else {
                // Not a BOM after all: the bytes held back are the stream's first.
                self.bom = Bom::Settled;
                self.feed_lines(BOM.get(..seen).unwrap_or_default());
            }
        }
        self.feed_lines(chunk);
    }

    /// Takes the next event, discarding any comment or oversize notice before it.
    pub fn next_event(&mut self) -> Option<Event> {
        while let Some(item) = self.queue.pop_front() {
            if let Item::Event(event) = item {
                return Some(event);
            }
        }
        None
    }

    /// Takes the next item: an event, a comment (when enabled) or an oversize notice.
    pub fn next_item(&mut self) -> Option<Item> {
        self.queue.pop_front()
    }

    /// The connection ended: readies the parser for the next one.
    ///
    /// WHATWG: "Once the end of the file is reached, any pending data must be
    /// discarded. (If the file ends in the middle of an event, before the final empty
    /// line, the incomplete event is not dispatched.)"
    ///
    /// An unterminated event is discarded, and so is an `id` it set: the last event
    /// ID buffer goes back to the last event ID string, which is kept (as browsers
    /// do), and so is the reconnection time. Line state and BOM detection start over.
    /// Items already queued stay queued.
    pub fn end_of_stream(&mut self) {
        self.line.clear();
        self.carried = Carried::Line;
        self.pending_cr = false;
        self.bom = Bom::Partial(0);
        self.data.clear();
        self.event_type.clear();
        self.id_buffer.clear();
        self.id_changed = false;
        self.oversize = None;
    }

    /// Splits BOM-free bytes into lines; whole lines are parsed straight from `rest`.
    fn feed_lines(&mut self, mut rest: &[u8]) {
        if rest.is_empty() {
            return;
        }
        if self.pending_cr {
            self.pending_cr = false;
            if let Some((b'\n', after)) = rest.split_first() {
                rest = after;
            }
        }
        if self.carried != Carried::Line || !self.line.is_empty() {
            let Some(end) = find_line_end(rest) else {
                self.carry(rest);
                return;
            };
            self.carry(rest.get(..end).unwrap_or_default());
            self.finish_carried();
            rest = self.after_line_end(rest, end);
        }
        while let Some(end) = find_line_end(rest) {
            self.process_line(rest.get(..end).unwrap_or_default());
            rest = self.after_line_end(rest, end);
        }
        if !rest.is_empty() {
            self.carry(rest);
        }
    }

    /// The bytes after the line end at `rest[end]` (CR, LF or CRLF). A CR that ends
    /// the chunk ends the line now; an LF starting the next chunk is then skipped.
    fn after_line_end<'a>(&mut self, rest: &'a [u8], end: usize) -> &'a [u8] {
        let after = rest.get(end + 1..).unwrap_or_default();
        if rest.get(end) != Some(&b'\r') {
            return after;
        }
        match after.split_first() {
            Some((b'\n', after_lf)) => after_lf,
            Some(_) => after,
            None => {
                self.pending_cr = true;
                after
            }
        }
    }

    /// Takes bytes of a line that has not ended yet, keeping no more than the cap.
    ///
    /// Each check here matches the one [`process_line`](Self::process_line) makes on
    /// a whole line, so where the chunks split a line never changes the result.
    fn carry(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.carried {
                Carried::Discard => return,
                Carried::CountData => {
                    self.count_oversize(bytes.len());
                    return;
                }
                Carried::Line => {}
            }
            let kind = classify(&self.line);
            // Kinds that need to see up to 6 bytes (`retry:`, `data: `) first.
            let short = kind == Kind::Undecided || (kind == Kind::Data && self.line.len() < 6);
            if short {
                let take = (6 - self.line.len().min(6)).clamp(1, bytes.len());
                let (head, tail) = bytes.split_at(take);
                self.line.extend_from_slice(head);
                bytes = tail;
                continue;
            }
            if kind == Kind::Retry {
                if self.line.len() == 6 && bytes.first() == Some(&b' ') {
                    // The one space after the colon is not the value's: take it alone.
                    self.line.push(b' ');
                    bytes = bytes.get(1..).unwrap_or_default();
                    continue;
                }
                // Leading zeros past the first are not kept (see `process_field`).
                let start = 6 + usize::from(self.line.get(6) == Some(&b' '));
                let held = self.line.get(start..).unwrap_or_default();
                if held.iter().all(|&b| b == b'0') {
                    let zeros = bytes.iter().take_while(|&&b| b == b'0').count();
                    let skip = if held.is_empty() {
                        zeros.saturating_sub(1)
                    } else {
                        zeros
                    };
                    bytes = bytes.get(skip..).unwrap_or_default();
                    if bytes.is_empty() {
                        return;
                    }
                }
            }
            let room = match kind {
                Kind::Other => {
                    self.discard_line();
                    return;
                }
                Kind::Comment if !self.comments => {
                    self.discard_line();
                    return;
                }
                Kind::Data if self.oversize.is_some() => {
                    self.count_oversize(data_value_len(&self.line));
                    self.line.clear();
                    self.carried = Carried::CountData;
                    continue;
                }
                Kind::Data => self.room().saturating_sub(data_value_len(&self.line)),
                // Not the event's: the server's wait is read whatever the event holds
                // (an event near the cap ignored it), within the longest valid line.
                Kind::Retry => RETRY_LINE_MAX.saturating_sub(self.line.len()),
                _ => self.room().saturating_sub(self.line.len()),
            };
            if bytes.len() <= room {
                self.line.extend_from_slice(bytes);
                return;
            }
            match kind {
                Kind::Data => {
                    let value = data_value_len(&self.line).saturating_add(bytes.len());
                    self.mark_oversize();
                    self.count_oversize(value);
                    self.line.clear();
                    self.carried = Carried::CountData;
                }
                // The event goes oversize, which drops its data; the line is then
                // kept if it fits beside the type and id held (see `process_field`).
                Kind::Event | Kind::Id if self.oversize.is_none() => {
                    self.mark_oversize();
                    continue;
                }
                _ => self.discard_line(),
            }
            return;
        }
    }

    /// Forgets the carried line and skips the rest of it.
    fn discard_line(&mut self) {
        self.line.clear();
        self.carried = Carried::Discard;
    }

    /// The carried line has ended.
    fn finish_carried(&mut self) {
        match self.carried {
            Carried::Line => {
                let line = std::mem::take(&mut self.line);
                self.process_line(&line);
                self.line = line;
                self.line.clear();
            }
            Carried::CountData => self.count_oversize(1),
            Carried::Discard => {}
        }
        self.carried = Carried::Line;
    }

    /// Processes one line (without its line end).
    ///
    /// WHATWG: "If the line is empty (a blank line) — Dispatch the event. If the line
    /// starts with a U+003A COLON character (:) — Ignore the line. If the line
    /// contains a U+003A COLON character (:) — Collect the characters on the line
    /// before the first U+003A COLON character (:), and let field be that string.
    /// Collect the characters on the line after the first U+003A COLON character (:),
    /// and let value be that string. If value starts with a U+0020 SPACE character,
    /// remove it from value. Process the field using the steps described below, using
    /// field as the field name and value as the field value. Otherwise, the string is
    /// not empty but does not contain a U+003A COLON character (:) — Process the field
    /// using the steps described below, using the whole line as the field name, and
    /// the empty string as the field value."
    fn process_line(&mut self, line: &[u8]) {
        let Some((&first, after_first)) = line.split_first() else {
            self.dispatch();
            return;
        };
        if first == b':' {
            if self.comments && !self.over_cap(line.len()) {
                let text = decode(strip_space(after_first)).into_owned();
                self.queue.push_back(Item::Comment(text));
            }
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => (
                line.get(..colon).unwrap_or_default(),
                strip_space(line.get(colon + 1..).unwrap_or_default()),
            ),
            None => (line, &[][..]),
        };
        self.process_field(field, value, line.len());
    }

    /// Processes one field; `line_len` is the length of its whole line.
    ///
    /// WHATWG: "Field names must be compared literally, with no case folding
    /// performed. If the field name is "event" — Set the event type buffer to the
    /// field value. If the field name is "data" — Append the field value to the data
    /// buffer, then append a single U+000A LINE FEED (LF) character to the data
    /// buffer. If the field name is "id" — If the field value does not contain U+0000
    /// NULL, then set the last event ID buffer to the field value. Otherwise, ignore
    /// the field. If the field name is "retry" — If the field value consists of only
    /// ASCII digits, then interpret the field value as an integer in base ten, and set
    /// the event stream's reconnection time to that integer. Otherwise, ignore the
    /// field. Otherwise — The field is ignored."
    ///
    /// Beyond the spec: data that, with the type and id of its event, goes past the
    /// cap makes the event oversize, and so does an `event` or `id` line that, added
    /// to what is held for the event, goes past the cap. An oversize event holds no
    /// data, so such a line still applies if it fits beside the type and id held
    /// (an `id` line that alone goes past the cap never does). A `retry` line is not
    /// the event's and does not count against the cap; one longer than any valid one
    /// (leading zeros past the first not counted) is ignored.
    fn process_field(&mut self, field: &[u8], value: &[u8], line_len: usize) {
        // Slice patterns compare bytes inline; `b"data" =>` would call memcmp.
        match field {
            [b'd', b'a', b't', b'a'] => {
                let size = value.len().saturating_add(1);
                if self.oversize.is_none() && size > self.room() {
                    self.mark_oversize();
                }
                if self.oversize.is_some() {
                    self.count_oversize(size);
                } else {
                    self.data.extend_from_slice(value);
                    self.data.push(b'\n');
                }
            }
            [b'e', b'v', b'e', b'n', b't'] | [b'i', b'd'] if self.over_cap(line_len) => {
                // The event is oversize: its data goes, and the line still applies if
                // it fits beside the type and id held, so that the stream's last event
                // ID moves past the event and its type is reported.
                self.mark_oversize();
                if !self.over_cap(line_len) {
                    self.process_field(field, value, line_len);
                }
            }
            [b'e', b'v', b'e', b'n', b't'] => {
                self.event_type.clear();
                self.event_type.extend_from_slice(value);
            }
            [b'i', b'd'] if !value.contains(&0) => {
                self.id_buffer.clear();
                self.id_buffer.extend_from_slice(value);
                self.id_changed = true;
            }
            [b'r', b'e', b't', b'r', b'y'] => {
                // Leading zeros past the first do not count (a carried line does not
                // keep them), so that `retry: 000…05` is 5 ms however long the run.
                let zeros = value.iter().take_while(|&&b| b == b'0').count();
                let line_len = line_len - zeros.saturating_sub(1);
                if let Some(ms) = parse_retry(value).filter(|_| line_len <= RETRY_LINE_MAX) {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
    }

    /// The bytes held for the event being parsed, the line being read aside: its
    /// data, its type and the id its `id` field set.
    fn held(&self) -> usize {
        self.data.len() + self.event_type.len() + self.id_buffer.len()
    }

    /// How many more bytes the event being parsed may hold.
    fn room(&self) -> usize {
        self.max_event_size.saturating_sub(self.held())
    }

    /// Whether a line of `len` bytes, held with the event being parsed, goes over the
    /// cap.
    fn over_cap(&self, len: usize) -> bool {
        len > self.room()
    }

    /// The current event is over the cap: drop its data, count the rest.
    fn mark_oversize(&mut self) {
        if self.oversize.is_none() {
            self.oversize = Some(self.data.len());
            self.data.clear();
        }
    }

    /// Counts `bytes` more data of the oversize event.
    fn count_oversize(&mut self, bytes: usize) {
        if let Some(size) = &mut self.oversize {
            *size = size.saturating_add(bytes);
        }
    }

    /// Dispatches the event at a blank line.
    ///
    /// WHATWG: "1. Set the last event ID string of the event source to the value of
    /// the last event ID buffer. [...] 2. If the data buffer is an empty string, set
    /// the data buffer and the event type buffer to the empty string and return.
    /// 3. If the data buffer's last character is a U+000A LINE FEED (LF) character,
    /// then remove the last character from the data buffer. [...] 5. Initialize
    /// event's type attribute to "message", its data attribute to data, [...] and its
    /// lastEventId attribute to the last event ID string of the event source. 6. If
    /// the event type buffer has a value other than the empty string, change the type
    /// of the newly created event to equal the value of the event type buffer. 7. Set
    /// the data buffer and the event type buffer to the empty string."
    ///
    /// An oversize event is queued as [`Item::Oversize`] instead; its `id` still
    /// applies (step 1), so a reconnection does not ask for it again.
    fn dispatch(&mut self) {
        let own_id = self.id_changed;
        if self.id_changed {
            self.id_changed = false;
            self.saw_id = true;
            self.last_event_id.set(&decode(&self.id_buffer));
            self.id_buffer.clear();
        }
        // An event marked oversize by its `event` or `id` lines alone has no data
        // (every `data` line counts at least its LF): like any event with an empty
        // data buffer, it is not dispatched.
        if let Some(size) = self.oversize.take().filter(|&size| size > 0) {
            let event_type = match decode(&self.event_type) {
                event_type if event_type.is_empty() => "message".to_owned(),
                event_type => event_type.into_owned(),
            };
            self.queue.push_back(Item::Oversize {
                event_type,
                size,
                limit: self.max_event_size,
                last_event_id: self.last_event_id.as_str().to_owned(),
                own_id,
            });
        } else if let Some((_lf, data)) = self.data.split_last() {
            // Most events have no type: skip decoding it.
            let event_type = if self.event_type.is_empty() {
                Cow::Borrowed("")
            } else {
                decode(&self.event_type)
            };
            let data = decode(data);
            let event = match &self.last_event_id {
                LastId::Inline(id) => Event::build(&event_type, &data, id, None),
                LastId::Shared(id) => Event::build(&event_type, &data, "", Some(Arc::clone(id))),
            };
            self.queue.push_back(Item::Event(event.with_own_id(own_id)));
        } else if own_id && self.ids {
            // An id-only block: the ID moved without an event, in stream order.
            self.queue
                .push_back(Item::Id(self.last_event_id.as_str().to_owned()));
        }
        self.data.clear();
        self.event_type.clear();
    }
}

/// UTF-8 decode: invalid sequences become U+FFFD. Checks the fast way first.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Removes one leading U+0020 SPACE.
fn strip_space(value: &[u8]) -> &[u8] {
    match value.split_first() {
        Some((b' ', rest)) => rest,
        _ => value,
    }
}

/// The length of a carried `data:` line's value so far (the line has 6 bytes or more).
fn data_value_len(line: &[u8]) -> usize {
    match line.get(5) {
        Some(b' ') => line.len() - 6,
        _ => line.len().saturating_sub(5),
    }
}

/// What a line that has not ended yet is, from its first bytes.
fn classify(line: &[u8]) -> Kind {
    if line.first() == Some(&b':') {
        return Kind::Comment;
    }
    const FIELDS: [(&[u8], Kind); 4] = [
        (b"data", Kind::Data),
        (b"event", Kind::Event),
        (b"id", Kind::Id),
        (b"retry", Kind::Retry),
    ];
    let mut undecided = false;
    for (name, kind) in FIELDS {
        match line.strip_prefix(name) {
            Some([b':', ..]) => return kind,
            // The whole name with no colon yet, or a prefix of it: more bytes decide.
            Some([]) => undecided = true,
            Some(_) => {}
            None => undecided |= name.starts_with(line),
        }
    }
    if undecided {
        Kind::Undecided
    } else {
        Kind::Other
    }
}

/// A `retry` value: ASCII digits only, fitting a `u64`.
fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |ms, &b| {
        if b.is_ascii_digit() {
            ms.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// The index of the first CR or LF in `hay`, eight bytes at a time.
#[inline]
fn find_line_end(hay: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const LFS: u64 = u64::from_ne_bytes([b'\n'; 8]);
    const CRS: u64 = u64::from_ne_bytes([b'\r'; 8]);
    let mut words = hay.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let v = u64::from_le_bytes(bytes);
        let lf = v ^ LFS;
        let cr = v ^ CRS;
        // A byte of `lf` or `cr` is zero where `v` has LF or CR. The lowest set high
        // bit marks the first zero byte exactly (false hits only occur above it).
        let found = ((lf.wrapping_sub(ONES) & !lf) | (cr.wrapping_sub(ONES) & !cr)) & HIGHS;
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_id_set_from_events_shares_their_long_id() {
        // Regression: the source compared each event's id with the one it held, byte
        // by byte, and kept a copy of its own: after a 1 MiB id, a millisecond per
        // event in wasm. It now holds the events' own allocation, and its checks
        // against that allocation's text are a pointer compare.
        let mut parser = Parser::with_max_event_size(1 << 21);
        let long = "x".repeat(INLINE_ID_MAX + 1);
        parser.feed(format!("id: {long}\ndata: 1\n\ndata: 2\n\n").as_bytes());
        let events: Vec<Event> = std::iter::from_fn(|| parser.next_event()).collect();
        assert_eq!(events.len(), 2);
        let mut held = LastId::default();
        for event in &events {
            held.set_from(event.last_event_id(), event.shared_id());
            assert_eq!(held.as_str(), long);
            assert!(
                std::ptr::eq(held.as_str(), event.last_event_id()),
                "the held id is a copy, not the event's"
            );
        }
        assert!(std::ptr::eq(held.as_str(), parser.last_event_id()));
        assert!(held.is(parser.last_event_id()) && held.is(&long) && !held.is("x"));
        // A short id is copied: nothing is shared, and the text is the same.
        parser.feed(b"id: 7\ndata: 3\n\n");
        let short: Vec<Event> = std::iter::from_fn(|| parser.next_event()).collect();
        held.set_from(short[0].last_event_id(), short[0].shared_id());
        assert!(matches!(held, LastId::Inline(_)) && held.as_str() == "7");
    }

    #[test]
    fn an_id_counts_as_the_streams_once_a_field_set_it() {
        // A request's answer resumes only when the server sent ids: an id seeded by
        // the caller is not one, an id-only block is, and a new connection keeps it.
        let mut parser = Parser::with_max_event_size(1024);
        parser.set_last_event_id("seeded");
        parser.feed(b"data: 1\n\n");
        assert!(!parser.saw_id());
        parser.feed(b"id: seeded\n\n");
        assert!(parser.saw_id());
        parser.end_of_stream();
        assert!(parser.saw_id());
        assert_eq!(parser.last_event_id(), "seeded");
    }

    #[test]
    fn find_line_end_matches_a_plain_search() {
        let mut hay = [b'x'; 40];
        assert_eq!(find_line_end(&hay), None);
        for at in 0..hay.len() {
            for end in [b'\n', b'\r'] {
                hay[at] = end;
                assert_eq!(find_line_end(&hay), Some(at));
                // A second line end after the first one must not hide it.
                if at + 1 < hay.len() {
                    hay[at + 1] = b'\n';
                    assert_eq!(find_line_end(&hay), Some(at));
                    hay[at + 1] = b'x';
                }
                hay[at] = b'x';
            }
        }
        // Bytes that differ from LF or CR by one bit or by borrow are not line ends.
        let tricky = [0x0B, 0x0C, 0x0E, 0x09, 0x8A, 0x8D, 0x00, 0x01, 0x80, 0xFF];
        assert_eq!(find_line_end(&tricky), None);
        let mut with_end = tricky.to_vec();
        with_end.push(b'\r');
        assert_eq!(find_line_end(&with_end), Some(tricky.len()));
    }

    #[test]
    fn classify_needs_the_colon() {
        assert_eq!(classify(b""), Kind::Undecided);
        assert_eq!(classify(b"dat"), Kind::Undecided);
        assert_eq!(classify(b"data"), Kind::Undecided);
        assert_eq!(classify(b"data:"), Kind::Data);
        assert_eq!(classify(b"datax"), Kind::Other);
        assert_eq!(classify(b"i"), Kind::Undecided);
        assert_eq!(classify(b"id:"), Kind::Id);
        assert_eq!(classify(b"ids"), Kind::Other);
        assert_eq!(classify(b"e"), Kind::Undecided);
        assert_eq!(classify(b"event:x"), Kind::Event);
        assert_eq!(classify(b"retry:"), Kind::Retry);
        assert_eq!(classify(b":"), Kind::Comment);
        assert_eq!(classify(b"x"), Kind::Other);
    }

    #[test]
    fn parse_retry_takes_digits_only() {
        assert_eq!(parse_retry(b"0"), Some(0));
        assert_eq!(parse_retry(b"0012"), Some(12));
        assert_eq!(parse_retry(b""), None);
        assert_eq!(parse_retry(b"1 "), None);
        assert_eq!(parse_retry(b"+1"), None);
        assert_eq!(parse_retry(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_retry(b"18446744073709551616"), None);
    }
}
