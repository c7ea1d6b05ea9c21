//! The transport over `fetch` + `ReadableStream`, through the crate's own parser.
//!
//! One task per source runs the WHATWG reconnection loop: connect, check the status
//! and content type, feed body chunks to the [`Parser`], dispatch, and on a lost
//! connection wait the reconnection time and connect again with `Last-Event-ID`.
//! The [`Fetch`] guard owns the task (an [`AbortHandle`]) and the request (an
//! `AbortController`); dropping it stops both, and nothing is dispatched after.
//! The task holds the source only weakly, and only between awaits, so dropping the
//! last handle still closes the source.

use crate::event::RawEvent;
use crate::parse::{Item, Parser};
use crate::source::{Inner, Options};
use crate::state::{CloseReason, ConnectionState, Health, ReconnectCause};
use futures_util::future::{select, AbortHandle, Abortable, Either};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, ReadableStreamDefaultReader, RequestInit, Response};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, in windows and workers alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &RequestInit) -> Promise;
}

/// A running fetch connection loop. Dropping it aborts the request and the task.
pub(crate) struct Fetch {
    task: AbortHandle,
    request: Rc<RefCell<Option<AbortController>>>,
}

impl Fetch {
    pub fn open(inner: &Rc<Inner>) -> Self {
        let (task, registration) = AbortHandle::new_pair();
        let request = Rc::new(RefCell::new(None));
        let run = run(
            Rc::downgrade(inner),
            inner.options().clone(),
            Rc::clone(&request),
        );
        wasm_bindgen_futures::spawn_local(async move {
            let _ = Abortable::new(run, registration).await;
        });
        Fetch { task, request }
    }
}

impl Drop for Fetch {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(controller) = self.request.borrow_mut().take() {
            controller.abort();
        }
    }
}

/// How one connection ended.
enum End {
    /// Retry after the reconnection time.
    Lost(ReconnectCause),
    /// Do not retry.
    Fatal(CloseReason),
    /// The source was closed or dropped: stop quietly.
    Gone,
}

async fn run(source: Weak<Inner>, options: Options, request: Rc<RefCell<Option<AbortController>>>) {
    let mut parser = Parser::with_max_event_size(options.max_event_size);
    parser.set_comments(true);
    if !options.last_event_id.is_empty() {
        // An id-only block sets the parser's last event ID string, which is what the
        // reconnection request sends (validated: no CR, LF or NUL).
        parser.feed(format!("id:{}\n\n", options.last_event_id).as_bytes());
    }
    let health = Health::default();
    loop {
        if !set_state(
            &source,
            ConnectionState::Connecting {
                attempt: health.attempt(),
            },
        ) {
            return;
        }
        let end = connect(&source, &options, &mut parser, &health, &request).await;
        parser.end_of_stream();
        if let Some(controller) = request.borrow_mut().take() {
            controller.abort();
        }
        let cause = match end {
            End::Lost(cause) => cause,
            End::Fatal(reason) => {
                if let Some(inner) = source.upgrade() {
                    inner.close(reason);
                }
                return;
            }
            End::Gone => return,
        };
        let attempt = health.lost(js_sys::Date::now());
        let delay = parser.retry().map_or(options.retry, Duration::from_millis);
        let reconnecting = ConnectionState::Reconnecting {
            attempt,
            delay: Some(delay),
            cause,
        };
        if !set_state(&source, reconnecting) {
            return;
        }
        TimeoutFuture::new(u32::try_from(delay.as_millis()).unwrap_or(u32::MAX)).await;
    }
}

/// Sets the state unless the source is gone or closed; returns whether it still runs.
fn set_state(source: &Weak<Inner>, state: ConnectionState) -> bool {
    match source.upgrade() {
        Some(inner) if !inner.state().is_closed() => {
            inner.state().set(state);
            !inner.state().is_closed()
        }
        _ => false,
    }
}

/// Makes one request and reads its body to the end.
async fn connect(
    source: &Weak<Inner>,
    options: &Options,
    parser: &mut Parser,
    health: &Health,
    request: &RefCell<Option<AbortController>>,
) -> End {
    let Some((url, init)) = source.upgrade().map(|inner| {
        let init = request_init(options, parser.last_event_id());
        (inner.url().to_owned(), init)
    }) else {
        return End::Gone;
    };
    let init = match init {
        Ok(init) => init,
        Err(message) => return End::Fatal(CloseReason::InvalidRequest { message }),
    };
    let controller = match AbortController::new() {
        Ok(c) => c,
        Err(e) => {
            return End::Fatal(CloseReason::InvalidRequest {
                message: js_message(e),
            })
        }
    };
    init.set_signal(Some(&controller.signal()));
    *request.borrow_mut() = Some(controller);

    let response = match JsFuture::from(global_fetch(&url, &init)).await {
        Ok(response) => response,
        Err(e) => {
            return End::Lost(ReconnectCause::Network {
                message: js_message(e),
            })
        }
    };
    let Ok(response) = response.dyn_into::<Response>() else {
        return End::Lost(ReconnectCause::Network {
            message: "fetch did not resolve to a Response".into(),
        });
    };
    if let Some(reason) = check_response(&response) {
        return End::Fatal(reason);
    }
    let Some(body) = response.body() else {
        return End::Lost(ReconnectCause::StreamEnded);
    };
    let Ok(reader) = body.get_reader().dyn_into::<ReadableStreamDefaultReader>() else {
        return End::Lost(ReconnectCause::Network {
            message: "the response body has no default reader".into(),
        });
    };
    let origin: Rc<str> = origin_of(&response.url())
        .unwrap_or_else(|| origin_of(&url).unwrap_or_default())
        .into();

    health.opened(js_sys::Date::now());
    if !set_state(source, ConnectionState::Open) {
        return End::Gone;
    }
    let mut buf = Vec::new();
    loop {
        let read = JsFuture::from(reader.read());
        let chunk = match options.heartbeat {
            None => read.await,
            Some(after) => {
                let timer =
                    TimeoutFuture::new(u32::try_from(after.as_millis()).unwrap_or(u32::MAX));
                match select(read, timer).await {
                    Either::Left((chunk, _)) => chunk,
                    Either::Right(_) => {
                        return End::Lost(ReconnectCause::HeartbeatTimeout { after })
                    }
                }
            }
        };
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                return End::Lost(ReconnectCause::Network {
                    message: js_message(e),
                })
            }
        };
        if Reflect::get(&chunk, &"done".into()).is_ok_and(|d| d.is_truthy()) {
            return End::Lost(ReconnectCause::StreamEnded);
        }
        let Ok(bytes) =
            Reflect::get(&chunk, &"value".into()).and_then(|v| v.dyn_into::<Uint8Array>())
        else {
            return End::Lost(ReconnectCause::Network {
                message: "the response body gave a chunk that is not a Uint8Array".into(),
            });
        };
        buf.resize(bytes.length() as usize, 0);
        bytes.copy_to(&mut buf);
        parser.feed(&buf);
        let Some(inner) = source.upgrade() else {
            return End::Gone;
        };
        while let Some(item) = parser.next_item() {
            if inner.state().is_closed() {
                return End::Gone;
            }
            match item {
                Item::Event(event) => {
                    health.event();
                    inner.dispatch(RawEvent::new(event, Rc::clone(&origin)));
                }
                Item::Comment(text) => inner.comment(&text),
                Item::Oversize {
                    event_type,
                    size,
                    limit,
                } => inner.dispatch(RawEvent::oversize(
                    &event_type,
                    parser.last_event_id(),
                    size,
                    limit,
                    Rc::clone(&origin),
                )),
            }
        }
        if inner.state().is_closed() {
            return End::Gone;
        }
    }
}

/// The request for one attempt: method, body, credentials, and the headers (ours,
/// the fixed ones, then the callback's).
fn request_init(options: &Options, last_event_id: &str) -> Result<RequestInit, String> {
    let headers = Headers::new().map_err(js_message)?;
    let set = |name: &str, value: &str| {
        headers
            .set(name, value)
            .map_err(|e| format!("the header {name:?} is not valid: {}", js_message(e)))
    };
    set("Accept", "text/event-stream")?;
    set("Cache-Control", "no-cache")?;
    if !last_event_id.is_empty() {
        set("Last-Event-ID", last_event_id)?;
    }
    for (name, value) in &options.headers {
        set(name, value)?;
    }
    if let Some(f) = &options.header_fn {
        for (name, value) in f() {
            set(&name, &value)?;
        }
    }
    let init = RequestInit::new();
    init.set_method(&options.method);
    init.set_headers(&headers);
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_credentials(if options.with_credentials {
        web_sys::RequestCredentials::Include
    } else {
        web_sys::RequestCredentials::SameOrigin
    });
    if let Some(body) = &options.body {
        init.set_body(&JsValue::from_str(body));
    }
    Ok(init)
}

/// WHATWG "event stream interpretation": a status other than 200, or a content type
/// other than `text/event-stream`, fails the connection; 204 asks the client to stop.
fn check_response(response: &Response) -> Option<CloseReason> {
    match response.status() {
        200 => {}
        204 => return Some(CloseReason::NoContent),
        status => {
            return Some(CloseReason::HttpStatus {
                status,
                status_text: response.status_text(),
            })
        }
    }
    let content_type = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    if is_event_stream(&content_type) {
        None
    } else {
        Some(CloseReason::ContentType { content_type })
    }
}

/// Whether a `Content-Type` value is `text/event-stream`, parameters aside.
pub(crate) fn is_event_stream(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
}

fn origin_of(url: &str) -> Option<String> {
    web_sys::Url::new(url).ok().map(|u| u.origin())
}

fn js_message(value: JsValue) -> String {
    crate::error::JsError::from(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::is_event_stream;

    #[test]
    fn content_type_essence_is_compared_without_parameters_or_case() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(is_event_stream(" text/event-stream "));
        assert!(!is_event_stream("text/plain"));
        assert!(!is_event_stream(""));
        assert!(!is_event_stream("text/event-streamx"));
    }
}
