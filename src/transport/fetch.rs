//! The transport over `fetch` + `ReadableStream`, through the crate's own parser.
//!
//! Each attempt makes one request, checks the status and content type, feeds body
//! chunks to the [`Parser`] and dispatches what it finds. The reconnection loop
//! ([`drive`]) decides what follows an attempt; the parser lives across attempts, so
//! the next request sends `Last-Event-ID` and the server's `retry:` stays the least
//! wait. The [`Fetch`] guard owns the task and the request of the attempt; dropping it
//! aborts both, and nothing is dispatched after.

use crate::core::attempts::Attempts;
use crate::core::failure::Failure;
use crate::core::parse::{Event, Item, LastId, Parser};
use crate::core::state::{CloseReason, ConnectionState};
use crate::decode::RawEvent;
use crate::options::Options;
use crate::transport::dom::{self, AbortOnDrop};
use crate::transport::http;
use crate::transport::{AttemptEnd, Connecting, Connector, Running, TransportHandle, WeakSink};
use futures_util::future::{select, Either};
use js_sys::{Reflect, Uint8Array};
use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Response};

/// A running fetch transport. Dropping it aborts the request and the task.
pub(crate) struct Fetch {
    running: Running,
    /// The controller of the request in flight, to abort it at once on drop.
    request: Rc<RefCell<Option<AbortController>>>,
}

impl Fetch {
    /// Starts connecting `url` for `sink`.
    pub fn open(url: String, options: Rc<Options>, sink: WeakSink) -> Self {
        let request = Rc::new(RefCell::new(None));
        let mut parser = Parser::with_max_event_size(options.max_event_size);
        parser.set_comments(true);
        // Id-only blocks in their place: they move the gap check on (see `attempt`).
        parser.set_id_items(true);
        // Validated: no CR, LF or NUL.
        parser.set_last_event_id(options.first_last_event_id());
        let connector = FetchConnector {
            cross_origin: dom::origin_of(&url) != dom::page_origin(),
            url,
            options: Rc::clone(&options),
            sink: sink.clone(),
            parser,
            request: Rc::clone(&request),
            resume: Resume::Header,
            answered_cors: false,
            header_passed: false,
            query_worked: 0,
            received: 0,
            answered: None,
            resumed_from: None,
            started_over: false,
        };
        Fetch {
            running: Running::spawn(sink, options, connector),
            request,
        }
    }
}

impl TransportHandle for Fetch {
    fn reconnect(&self) {
        self.running.reconnect();
    }
}

impl Drop for Fetch {
    fn drop(&mut self) {
        // The request aborts at once; `running` aborts the loop as it drops after.
        if let Some(controller) = self.request.borrow_mut().take() {
            controller.abort();
        }
    }
}

struct FetchConnector {
    url: String,
    options: Rc<Options>,
    sink: WeakSink,
    parser: Parser,
    request: Rc<RefCell<Option<AbortController>>>,
    /// The stream is on another origin than the page, or was redirected to one: a
    /// CORS request.
    cross_origin: bool,
    /// How the resume id is sent.
    resume: Resume,
    /// Cross-origin, a request was answered: the server allows the page's origin.
    answered_cors: bool,
    /// Cross-origin, a request that carried `Last-Event-ID` was answered: the server
    /// allows the header's preflight.
    header_passed: bool,
    /// How many times the query connected where the header had just failed.
    query_worked: u8,
    /// The events delivered, over every attempt.
    received: u64,
    /// How the attempt in progress failed, while what follows is still awaited (an
    /// error's body; why `fetch` refused the request): what an interruption then ends
    /// the attempt with.
    answered: Option<Failure>,
    /// In request mode, resumed after a numeric id: the attempt's first event with an
    /// id of its own has not come yet (see `started_over`).
    resumed_from: Option<u64>,
    /// The attempt's answer began again from an id below the one it resumed after
    /// (with `retry_request`, which takes that: see `connect`).
    started_over: bool,
}

/// How a request sends the id it resumes after.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Resume {
    /// In a `Last-Event-ID` header, as EventSource does.
    Header,
    /// In the query parameter, once: the last request with the header failed before
    /// any answer, cross-origin, as when the server refuses the CORS preflight the
    /// header costs (EventSource's own requests need none).
    QueryTrial,
    /// In the query parameter, for good: the trial connected [`QUERY_FOR_GOOD`] times
    /// (the header failing each time before), and the header never did.
    Query,
}

/// How many times a query trial must connect before the query is kept. A refused
/// preflight fails every time; a server that restarts, or a proxy's error page without
/// CORS headers, fails the header's request as it fails the others, and once: the
/// query that then connects is no sign that the server reads it (one that reads only
/// the header would take each resume after for a new subscriber).
const QUERY_FOR_GOOD: u8 = 2;

/// The parser is fed a chunk this many bytes at a time, the items of each slice taken
/// before the next is fed: at most about one item per two bytes of a slice is queued
/// at once, whatever the size of the browser's chunk (fed whole, a 1 MiB chunk of
/// comments queued 38.8 MB of items, kept as wasm memory for good).
const FEED_SLICE: usize = 16 * 1024;

/// The attempt's request: aborted when the attempt ends, however it ends.
struct Attempt {
    slot: Rc<RefCell<Option<AbortController>>>,
    _guard: AbortOnDrop,
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.slot.borrow_mut().take();
    }
}

/// `future`, or the heartbeat timeout if one is set and passes first.
async fn within<T>(
    heartbeat: Option<Duration>,
    future: impl Future<Output = T>,
) -> Result<T, AttemptEnd> {
    match heartbeat {
        None => Ok(future.await),
        Some(after) => match select(pin!(future), dom::sleep(after)).await {
            Either::Left((value, _)) => Ok(value),
            Either::Right(_) => Err(AttemptEnd::Failed(Failure::HeartbeatTimeout { after })),
        },
    }
}

impl Connector for FetchConnector {
    fn connect<'a>(&'a mut self, attempts: &'a Rc<RefCell<Attempts>>) -> Connecting<'a> {
        Box::pin(async move {
            // What an interrupted attempt left half-parsed is discarded (WHATWG: pending
            // data at the end of the stream is not dispatched).
            self.parser.end_of_stream();
            self.answered = None;
            self.started_over = false;
            let end = self.attempt(attempts).await;
            // A request's answer that is sent again from its start (`retry_request`,
            // no ids to resume from) made no progress, whatever it delivered: each send
            // is one more attempt, so that the policy bounds them (each a new answer,
            // perhaps billed). A healthy connection would start the count again, and
            // an answer cut at the same point every time would be sent for ever.
            // So is one resumed whose server began the answer again.
            if self.options.request
                && matches!(end, AttemptEnd::Failed(_))
                && (!self.resumable() || self.started_over)
            {
                attempts.borrow_mut().no_progress();
            }
            self.answered = None;
            self.parser.end_of_stream();
            end
        })
    }

    fn server_retry(&self) -> Option<Duration> {
        self.parser.retry().map(Duration::from_millis)
    }

    fn interrupted(&self) -> Option<AttemptEnd> {
        if let Some(failure) = &self.answered {
            return Some(AttemptEnd::Failed(failure.clone()));
        }
        match self.cut(Failure::Requested) {
            fatal @ AttemptEnd::Fatal(_) => Some(fatal),
            _ => None,
        }
    }
}

/// How long the body of an error response may take to arrive, without a heartbeat.
const ERROR_BODY_TIMEOUT: Duration = Duration::from_secs(10);

impl FetchConnector {
    /// Whether a request's answer, cut, can resume where it broke off: the server sent
    /// ids. (An id the caller gave, `last_event_id`, does not count: the server may not
    /// know ids at all.)
    fn resumable(&self) -> bool {
        self.parser.saw_id() && !self.parser.last_event_id().is_empty()
    }

    /// In request mode, whether `event` shows that the answer resumed after a numeric
    /// id began again instead: the attempt's first event with an id of its own has a
    /// lower one (the same id is a replay from it, which dedupe is for). With
    /// [`Options::retry_request`] the answer sent again is taken, as after a cut
    /// without ids, and counts as no progress (see `connect`).
    fn answer_started_over(&mut self, event: &Event) -> bool {
        let Some(from) = self.resumed_from.filter(|_| event.has_own_id()) else {
            return false;
        };
        self.resumed_from = None;
        let again =
            crate::core::dedupe::id_number(event.last_event_id()).is_some_and(|id| id < from);
        self.started_over = again;
        again && !self.options.retry_request
    }

    /// The body broke off (a network error, or the heartbeat timeout passed) after the
    /// response began. A subscription reconnects as the policy says. A request's
    /// answer does too when the server sent ids, and resumes after the last one
    /// delivered; without ids, sending the request again would start the answer over:
    /// that is only done when [`Options::retry_request`] asks for it.
    fn cut(&self, failure: Failure) -> AttemptEnd {
        if !self.options.request || self.resumable() || self.options.retry_request {
            return AttemptEnd::Failed(failure);
        }
        AttemptEnd::Fatal(CloseReason::Interrupted {
            received: self.received,
        })
    }

    /// The request failed before any answer (`fetch` rejected): the server is
    /// unreachable, or, cross-origin, CORS refused the answer or the preflight. The
    /// browser's error says the same for each; what it was decides what follows.
    async fn refused(
        &mut self,
        (url, since): (&str, f64),
        mut message: String,
        sent_header: bool,
        attempts: &Rc<RefCell<Attempts>>,
    ) -> AttemptEnd {
        // `reconnect()` while the reasons are looked into ends the attempt as failed,
        // for the policy to retry: nothing was answered, so a request is not cut (it
        // was, and closed as interrupted, 0 events received).
        if self.cross_origin && sent_header && !self.header_passed {
            // (The browser says "Failed to fetch" for a refused preflight too.)
            message.push_str(
                " (the request sent Last-Event-ID, which asks a CORS preflight: if the \
                 server's Access-Control-Allow-Headers does not allow it, every request \
                 that resumes fails so)",
            );
        }
        let failure = Failure::Network { message };
        self.answered = Some(failure.clone());
        // The page's Content Security Policy blocked it (EventSource closes for good).
        if let Some(directive) = dom::blocked_by_policy(url, since, dom::POLICY_WAIT).await {
            return AttemptEnd::Fatal(CloseReason::InvalidRequest {
                message: dom::blocked_message(&directive),
            });
        }
        if !self.cross_origin {
            return AttemptEnd::Failed(failure);
        }
        if sent_header
            && !self.header_passed
            && self.options.resume_param.is_some()
            && !self.options.request
        {
            // Maybe the server refused the preflight that Last-Event-ID costs (servers
            // written for EventSource do): the next attempt resumes through the query.
            // Not where a request with the header was answered before (the preflight
            // passed then: this is the network's), nor for a request's answer: a
            // server that does not know the query would take the request for a new one
            // and answer it from the start, so its resume keeps the header.
            self.resume = Resume::QueryTrial;
            return AttemptEnd::Failed(failure);
        }
        if self.resume == Resume::QueryTrial {
            // The query failed the same way: it was the network, not the header.
            self.resume = Resume::Header;
        }
        // A request with no custom header is one a no-cors request can repeat: if the
        // server answers that, it is reachable and CORS refused the answer, which
        // EventSource does not retry. (A custom header or another method cannot be
        // repeated so: that stays a network error.) Not once CORS let an answer
        // through: then it is an error page without the CORS headers (a proxy's 502
        // while the server restarts), which passes.
        let simple = !self.answered_cors
            && self.options.method.eq_ignore_ascii_case("GET")
            && self.options.headers.is_empty()
            && self.options.header_fn.is_none()
            && !sent_header;
        // The check sends the request again: a request's answer is checked only when
        // the policy would send it again anyway (once more, to stop the retries),
        // never when it would not (`max_attempts(0)` sends a request once).
        let checked = simple && (!self.options.request || self.retried(&failure, attempts));
        if checked && http::reachable_without_cors(&self.url, &self.options).await {
            return AttemptEnd::Fatal(CloseReason::Failed);
        }
        AttemptEnd::Failed(failure)
    }

    /// Whether the policy retries `failure`, the end of the attempt made now.
    fn retried(&self, failure: &Failure, attempts: &Rc<RefCell<Attempts>>) -> bool {
        let attempts = attempts.borrow();
        let policy = &self.options.reconnect;
        // As the loop will count it: a failure before any answer is one more attempt
        // of the streak, which starts now if this is its first.
        policy.retries(failure)
            && !policy.exhausted(
                attempts.attempt().saturating_add(1),
                attempts.failing_for(dom::now()),
            )
    }

    async fn attempt(&mut self, attempts: &Rc<RefCell<Attempts>>) -> AttemptEnd {
        let resume_id = self.parser.last_event_id().to_owned();
        self.resumed_from = (self.options.request && self.resumable())
            .then(|| crate::core::dedupe::id_number(&resume_id))
            .flatten();
        let by_query = match (&self.options.resume_param, self.resume) {
            (Some(param), Resume::QueryTrial | Resume::Query) if !resume_id.is_empty() => {
                dom::with_query(&self.url, param, &resume_id)
            }
            _ => None,
        };
        let header_id = if by_query.is_some() { "" } else { &resume_id };
        let init = match http::request_init(&self.options, header_id) {
            Ok(init) => init,
            Err(message) => return AttemptEnd::Fatal(CloseReason::InvalidRequest { message }),
        };
        let url = by_query.as_deref().unwrap_or(&self.url);
        // The header callback may have closed the source.
        match self.sink.upgrade() {
            Some(sink) if !sink.is_closed() => {}
            _ => return AttemptEnd::Gone,
        }
        let controller = match AbortController::new() {
            Ok(c) => c,
            Err(e) => {
                return AttemptEnd::Fatal(CloseReason::InvalidRequest {
                    message: dom::js_message(e),
                })
            }
        };
        init.set_signal(Some(&controller.signal()));
        *self.request.borrow_mut() = Some(controller.clone());
        let _attempt = Attempt {
            slot: Rc::clone(&self.request),
            _guard: AbortOnDrop(controller),
        };

        let heartbeat = self.options.heartbeat;
        let since = dom::now();
        let fetched = within(heartbeat, JsFuture::from(dom::global_fetch(url, &init))).await;
        let response = match fetched {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                let url = url.to_owned();
                return self
                    .refused(
                        (&url, since),
                        dom::js_message(e),
                        !header_id.is_empty(),
                        attempts,
                    )
                    .await;
            }
            // No answer within the heartbeat timeout: the server has the request, so a
            // request's answer is cut, not refused.
            Err(AttemptEnd::Failed(failure)) => return self.cut(failure),
            Err(end) => return end,
        };
        // The failures below but an HTTP error come from a page that wraps `fetch` and
        // hands back something else than the browser's: the server may have the
        // request, so a request's answer counts them as cuts.
        let Ok(response) = response.dyn_into::<Response>() else {
            return self.cut(Failure::Network {
                message: "fetch did not resolve to a Response".into(),
            });
        };
        if !self.cross_origin && response.redirected() {
            // Redirected to another origin, the request is a CORS one from there on: a
            // refused preflight of the resume header is then told as it is cross-origin.
            self.cross_origin = dom::origin_of(&response.url()) != dom::page_origin();
        }
        if self.cross_origin {
            self.answered_cors = true;
            self.header_passed |= !header_id.is_empty();
        }
        let answer = http::check_response(&response);
        if self.resume == Resume::QueryTrial {
            // The query connected where the header did not: kept once that is no
            // chance (see QUERY_FOR_GOOD); until then, or where the answer is an error
            // (a proxy's 502 while the server restarts, which says nothing of the
            // header), the next resume tries the header again.
            if answer.is_none() {
                self.query_worked = self.query_worked.saturating_add(1);
            }
            self.resume = if self.query_worked >= QUERY_FOR_GOOD {
                Resume::Query
            } else {
                Resume::Header
            };
        }
        if let Some(mut failure) = answer {
            if matches!(failure, Failure::HttpStatus { .. }) {
                // An API says why in the body (a JSON error): keep it for the app. An
                // interruption meanwhile ends the attempt with the status alone.
                self.answered = Some(failure.clone());
                let timeout = heartbeat.unwrap_or(ERROR_BODY_TIMEOUT);
                let text = http::error_body(&response, timeout).await;
                if let Failure::HttpStatus { body, .. } = &mut failure {
                    *body = text;
                }
            }
            return AttemptEnd::Failed(failure);
        }
        // A 200 has a body, but a fetch wrapper's Response may not.
        let Some(body) = response.body() else {
            return self.cut(Failure::StreamEnded);
        };
        let Some(reader) = http::reader_of(&body) else {
            return self.cut(Failure::Network {
                message: "the response body cannot be read (locked, or no default reader)".into(),
            });
        };
        let origin: Rc<str> = dom::origin_of(&response.url())
            .unwrap_or_else(|| dom::origin_of(&self.url).unwrap_or_default())
            .into();

        attempts.borrow_mut().opened(dom::now());
        match self.sink.upgrade() {
            Some(sink) if !sink.is_closed() => {
                sink.connection_opened();
                sink.set_state(ConnectionState::Open);
                if sink.is_closed() {
                    return AttemptEnd::Gone;
                }
            }
            _ => return AttemptEnd::Gone,
        }
        let options = Rc::clone(&self.options);
        let done_data = options.done_marker();
        let mut buf = Vec::new();
        loop {
            // (When the silence began, should the heartbeat find it: the last chunk.)
            let read_from = heartbeat.map(|_| dom::now());
            let chunk = match within(heartbeat, JsFuture::from(reader.read())).await {
                Ok(Ok(chunk)) => chunk,
                Ok(Err(e)) => {
                    return self.cut(Failure::Network {
                        message: dom::js_message(e),
                    })
                }
                Err(AttemptEnd::Failed(failure)) => {
                    if let Some(since) = read_from {
                        attempts.borrow_mut().went_silent(since);
                    }
                    return self.cut(failure);
                }
                Err(end) => return end,
            };
            if Reflect::get(&chunk, &"done".into()).is_ok_and(|d| d.is_truthy()) {
                // A request's answer ends so, unless it ends in the middle of an event:
                // then it was cut off (a function's time limit, a proxy), and that event
                // is lost. A subscription goes on.
                return if !self.options.request {
                    AttemptEnd::Failed(Failure::StreamEnded)
                } else if self.parser.mid_event() {
                    self.cut(Failure::StreamEnded)
                } else {
                    AttemptEnd::Fatal(CloseReason::Completed)
                };
            }
            let Ok(bytes) =
                Reflect::get(&chunk, &"value".into()).and_then(|v| v.dyn_into::<Uint8Array>())
            else {
                return self.cut(Failure::Network {
                    message: "the response body gave a chunk that is not a Uint8Array".into(),
                });
            };
            buf.resize(bytes.length() as usize, 0);
            bytes.copy_to(&mut buf);
            let Some(sink) = self.sink.upgrade() else {
                return AttemptEnd::Gone;
            };
            // (See `FEED_SLICE`.)
            for slice in buf.chunks(FEED_SLICE) {
                self.parser.feed(slice);
                sink.begin_batch();
                while let Some(item) = self.parser.next_item() {
                    if sink.is_closed() {
                        return AttemptEnd::Gone;
                    }
                    match item {
                        Item::Event(event)
                            if done_data.is_some_and(|done| event.data() == done) =>
                        {
                            // The answer's end: what came before it is delivered, it is not.
                            sink.end_batch();
                            return AttemptEnd::Fatal(CloseReason::Completed);
                        }
                        Item::Event(event) if self.answer_started_over(&event) => {
                            // A server that numbers its events but cannot resume sent its
                            // answer from the start: not delivered twice (unless the app
                            // takes answers sent again, `retry_request`).
                            sink.end_batch();
                            return AttemptEnd::Fatal(CloseReason::Interrupted {
                                received: self.received,
                            });
                        }
                        Item::Event(event) => {
                            self.received = self.received.saturating_add(1);
                            if sink.dispatch(RawEvent::new(event, Rc::clone(&origin))) {
                                attempts.borrow_mut().event();
                            }
                        }
                        Item::Comment(text) => sink.comment(&text),
                        // In its place among the events: the next one's gap is judged from
                        // it (ids 1, 2 with no data, 3 skip nothing).
                        Item::Id(id) => sink.set_last_event_id(&LastId::new(&id)),
                        Item::Oversize {
                            event_type,
                            size,
                            limit,
                            last_event_id,
                            own_id,
                        } => {
                            self.received = self.received.saturating_add(1);
                            sink.dispatch(RawEvent::oversize(
                                Event::new(&event_type, "", &last_event_id).with_own_id(own_id),
                                size,
                                limit,
                                Rc::clone(&origin),
                            ));
                        }
                    }
                }
                sink.end_batch();
                if sink.is_closed() {
                    return AttemptEnd::Gone;
                }
            }
            // An id-only block moves the resume point without an event.
            sink.set_last_event_id(self.parser.last_id());
        }
    }
}
