//! [`Options`]: how an [`EventSource`](crate::EventSource) connects, with each default
//! documented on its setter.

use crate::core::retry::{same_callback, ReconnectPolicy, MAX_TIMER};
use crate::error::Error;
use std::rc::Rc;
use std::time::Duration;

/// Which browser API carries the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Transport {
    /// The browser's own `EventSource`: no parsing in wasm, GET only, no custom
    /// headers. The browser retries lost connections itself; when it gives up (as on
    /// a 502) the [`ReconnectPolicy`] decides, and a new `EventSource` resumes after
    /// the last event id through a query parameter.
    #[default]
    Native,
    /// `fetch` + `ReadableStream` through the crate's own parser: any method and body,
    /// custom headers, precise HTTP errors, comments, and many times the native
    /// throughput. Reconnects are the crate's: it sends `Last-Event-ID` and waits as
    /// the [`ReconnectPolicy`] says.
    Fetch,
}

/// A callback that returns headers, run before every connection attempt.
pub(crate) type HeaderFn = Rc<dyn Fn() -> Vec<(String, String)>>;

/// How every shared group's name begins: the package and its version. The messages a
/// group's members post one another may change from one version to the next, so tabs
/// that run two versions (a deploy while tabs are open) make two groups, each with its
/// own connection, and neither reads what it cannot.
#[cfg(feature = "share")]
pub(crate) const SHARE_PREFIX: &str = concat!("wasm-eventsource@", env!("CARGO_PKG_VERSION"), ":");

/// The query parameter that carries the resume id on the native transport, unless
/// [`Options::resume_param`] says otherwise.
pub const DEFAULT_RESUME_PARAM: &str = "lastEventId";

/// How to open an [`EventSource`](crate::EventSource). Private fields, chained
/// setters; each says its default.
///
/// ```
/// use std::time::Duration;
/// use wasm_eventsource::{Options, ReconnectPolicy, Transport};
///
/// let options = Options::new()
///     .transport(Transport::Fetch)
///     .method("POST")
///     .header("Authorization", "Bearer secret")
///     .body(r#"{"prompt":"hello"}"#)
///     .heartbeat_timeout(Duration::from_secs(30))
///     .reconnect_policy(ReconnectPolicy::new().max_attempts(10))
///     .dedupe(true);
/// ```
///
/// Options that the browser's EventSource cannot honour (method, body, headers) need
/// [`Transport::Fetch`]; with [`Transport::Native`] they are an
/// [`Error::InvalidOptions`] that says so.
#[derive(Clone)]
pub struct Options {
    pub(crate) with_credentials: bool,
    pub(crate) transport: Transport,
    /// Whether [`transport`](Options::transport) was called: request mode picks
    /// fetch only when it was not.
    transport_set: bool,
    pub(crate) request: bool,
    /// `None`: the mode's default (`"[DONE]"` in request mode, none otherwise).
    done_data: Option<Option<String>>,
    pub(crate) retry_request: bool,
    pub(crate) method: String,
    pub(crate) body: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) header_fn: Option<HeaderFn>,
    /// `None` when none was given (then a `Last-Event-ID` header may give it, see
    /// `first_last_event_id`); `Some("")` is no id, given (a feed reopened after a
    /// stream that cleared its id).
    pub(crate) last_event_id: Option<String>,
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) heartbeat_event: Option<String>,
    pub(crate) reconnect: ReconnectPolicy,
    pub(crate) resume_param: Option<String>,
    pub(crate) reconnect_on_online: bool,
    pub(crate) pause_when_hidden: bool,
    pub(crate) dedupe: bool,
    pub(crate) max_event_size: usize,
    /// `Some` when the connection is shared across tabs: the key ("" for the default,
    /// made from the URL and the options that change the request).
    pub(crate) share: Option<String>,
    /// Set by sharing only, for a new leader: the time (`dom::now()`) before which the
    /// group's server asked not to be called (its last leader's `Retry-After` or
    /// backoff), with what ended that leader's connection. The first connection waits.
    #[cfg(feature = "share")]
    pub(crate) not_before: Option<(f64, crate::ReconnectCause)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            with_credentials: false,
            transport: Transport::Native,
            transport_set: false,
            request: false,
            done_data: None,
            retry_request: false,
            method: "GET".to_owned(),
            body: None,
            headers: Vec::new(),
            header_fn: None,
            last_event_id: None,
            heartbeat: None,
            heartbeat_event: None,
            reconnect: ReconnectPolicy::default(),
            resume_param: Some(DEFAULT_RESUME_PARAM.to_owned()),
            reconnect_on_online: false,
            pause_when_hidden: false,
            dedupe: false,
            max_event_size: crate::core::parse::DEFAULT_MAX_EVENT_SIZE,
            share: None,
            #[cfg(feature = "share")]
            not_before: None,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("with_credentials", &self.with_credentials)
            .field("transport", &self.transport)
            .field("request", &self.request)
            .field("done_data", &self.done_marker())
            .field("retry_request", &self.retry_request)
            .field("method", &self.method)
            .field("body", &self.body.as_ref().map(String::len))
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("header_fn", &self.header_fn.is_some())
            .field("last_event_id", &self.last_event_id)
            .field("heartbeat", &self.heartbeat)
            .field("heartbeat_event", &self.heartbeat_event)
            .field("reconnect", &self.reconnect)
            .field("resume_param", &self.resume_param)
            .field("reconnect_on_online", &self.reconnect_on_online)
            .field("pause_when_hidden", &self.pause_when_hidden)
            .field("dedupe", &self.dedupe)
            .field("max_event_size", &self.max_event_size)
            .field("share", &self.share)
            .finish()
    }
}

impl PartialEq for Options {
    /// Compares every setting; two [`headers_with`](Self::headers_with) callbacks are
    /// equal only when they are the same closure (or both absent), as
    /// [`ReconnectPolicy`]'s predicates are.
    fn eq(&self, other: &Self) -> bool {
        self.same_settings(other)
            && same_callback(&self.header_fn, &other.header_fn)
            && self.reconnect.same_predicate(&other.reconnect)
    }
}

impl Options {
    /// These options with each callback (the header callback, the policy's predicate)
    /// replaced by one that calls the callback of the options in `latest` at that
    /// moment: a hook that renders options with new closures each time keeps its
    /// connection and still calls the newest closures.
    #[cfg(feature = "yew")]
    pub(crate) fn calling_latest(&self, latest: &Rc<std::cell::RefCell<Options>>) -> Options {
        let mut options = self.clone();
        if options.header_fn.is_some() {
            let latest = Rc::clone(latest);
            options.header_fn = Some(Rc::new(move || {
                // Called outside the borrow: the callback may do anything.
                let f = latest.borrow().header_fn.clone();
                f.map(|f| f()).unwrap_or_default()
            }));
        }
        let latest = Rc::clone(latest);
        options.reconnect = options
            .reconnect
            .asking_latest(move || latest.borrow().reconnect.predicate());
        options
    }

    /// Whether every setting is the same, callbacks (the header callback, the policy's
    /// predicate) by presence only, not by which closure they are.
    pub(crate) fn same_settings(&self, other: &Self) -> bool {
        self.with_credentials == other.with_credentials
            && self.transport == other.transport
            && self.request == other.request
            && self.done_marker() == other.done_marker()
            && self.retry_request == other.retry_request
            && self.method == other.method
            && self.body == other.body
            && same_headers(&self.headers, &other.headers)
            && self.header_fn.is_some() == other.header_fn.is_some()
            && self.last_event_id == other.last_event_id
            && self.heartbeat == other.heartbeat
            && self.heartbeat_event == other.heartbeat_event
            && self.reconnect.same_settings(&other.reconnect)
            && self.resume_param == other.resume_param
            && self.reconnect_on_online == other.reconnect_on_online
            && self.pause_when_hidden == other.pause_when_hidden
            && self.dedupe == other.dedupe
            && self.max_event_size == other.max_event_size
            && self.share == other.share
    }
}

/// Whether two header lists send the same headers (see [`sent_headers`]). A list built
/// from a `HashMap` comes out in another order each time, and must not make a hook
/// connect again, nor tabs share apart.
fn same_headers(a: &[(String, String)], b: &[(String, String)]) -> bool {
    a == b || sent_headers(a) == sent_headers(b)
}

/// The headers a list sends, as a request's `Headers.set` leaves them: names without
/// case, sorted, each with the last value given for it.
fn sent_headers(list: &[(String, String)]) -> Vec<(String, &str)> {
    let mut sent: Vec<(String, &str)> = Vec::with_capacity(list.len());
    for (name, value) in list {
        let name = name.to_ascii_lowercase();
        match sent.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => sent.push((name, value)),
        }
    }
    // By insertion: a request has a few headers, and a std sort would be the only one
    // in the wasm (330 bytes of the npm package's gzipped wasm).
    for i in 1..sent.len() {
        let mut j = i;
        while j > 0 && sent[j - 1].0 > sent[j].0 {
            sent.swap(j - 1, j);
            j -= 1;
        }
    }
    sent
}

impl Options {
    /// The defaults: GET, no credentials, [`Transport::Native`], the default
    /// [`ReconnectPolicy`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends cookies and HTTP authentication with cross-origin requests (EventSource
    /// `withCredentials`; fetch `credentials: "include"`). Defaults to `false`
    /// (fetch: `"same-origin"`).
    pub fn with_credentials(mut self, yes: bool) -> Self {
        self.with_credentials = yes;
        self
    }

    /// Chooses the transport. Defaults to [`Transport::Native`], or
    /// [`Transport::Fetch`] in [request mode](Self::request), where the context has no
    /// `EventSource` (a Service Worker), and in a build with the `fetch` feature and
    /// without `native`.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self.transport_set = true;
        self
    }

    /// Request mode: the stream answers one request (a language model's answer to a
    /// POSTed prompt) instead of being a feed to follow. Under it:
    ///
    /// - the server ending the response (between two events) closes the source with
    ///   [`CloseReason::Completed`](crate::CloseReason::Completed), and nothing is sent
    ///   again; so does an event whose data is the [done data](Self::done_data)
    ///   (`[DONE]` by default), which reaches no handler;
    /// - a cut in the middle of the answer (the body ends in a network error or inside
    ///   an event, or the
    ///   heartbeat timeout passes, also before the response headers: the server has
    ///   the request) is resumed only if the server sent ids (an id given by
    ///   [`last_event_id`](Self::last_event_id) does not count: a server may know
    ///   none): the request is sent again with `Last-Event-ID` and the answer goes on
    ///   (decimal ids must grow: a resumed answer whose first id is below the one it
    ///   resumed after began again, and is treated as a cut without ids). Without ids it closes with
    ///   [`CloseReason::Interrupted`](crate::CloseReason::Interrupted), unless
    ///   [`retry_request`](Self::retry_request) opts in to sending it again. So does
    ///   [`EventSource::reconnect`](crate::EventSource::reconnect) on a request in
    ///   flight; [`pause_when_hidden`](Self::pause_when_hidden) is refused with it;
    /// - failures before the response (network errors, 5xx, 408, 429) are retried as
    ///   the [`ReconnectPolicy`] says: that sends the request again, and a gateway's
    ///   502 or 504 (or a network error) can come after the server got the first one.
    ///   `ReconnectPolicy::new().max_attempts(0)` turns it off.
    ///
    /// Request mode needs the fetch transport, which it picks unless
    /// [`transport`](Self::transport) chose another: [`Transport::Native`] is an
    /// [`Error::InvalidOptions`]. [`request`](crate::request()) opens one as a stream.
    ///
    /// ```
    /// use wasm_eventsource::Options;
    ///
    /// let options = Options::new()
    ///     .request()
    ///     .method("POST")
    ///     .header("Content-Type", "application/json")
    ///     .body(r#"{"prompt":"hello"}"#);
    /// ```
    pub fn request(mut self) -> Self {
        self.request = true;
        if !self.transport_set {
            self.transport = Transport::Fetch;
        }
        self
    }

    /// The data of the event that ends the answer: it closes the source with
    /// [`CloseReason::Completed`](crate::CloseReason::Completed) at once and reaches no
    /// handler (nor, as JSON that does not parse, any decode error). `None` for none.
    /// Defaults to `Some("[DONE]")` in [request mode](Self::request) (as OpenAI's
    /// streams end), none otherwise. Fetch transport only.
    pub fn done_data(mut self, data: Option<String>) -> Self {
        self.done_data = Some(data);
        self
    }

    /// In [request mode](Self::request), sends the request again after a cut in an
    /// answer that carried no ids (so the server cannot resume it): the answer starts
    /// over, and the server may bill it twice. Each send counts as one attempt of the
    /// [`ReconnectPolicy`], however much the cut answer delivered, so its
    /// [`max_attempts`](ReconnectPolicy::max_attempts) bounds them. Defaults to
    /// `false`: such a cut closes with
    /// [`CloseReason::Interrupted`](crate::CloseReason::Interrupted). `true` without
    /// [`request`](Self::request) is an [`Error::InvalidOptions`] (a feed reconnects
    /// by itself).
    pub fn retry_request(mut self, yes: bool) -> Self {
        self.retry_request = yes;
        self
    }

    /// The done data in effect.
    pub(crate) fn done_marker(&self) -> Option<&str> {
        match &self.done_data {
            Some(data) => data.as_deref(),
            None if self.request => Some("[DONE]"),
            None => None,
        }
    }

    /// The HTTP method, such as `"POST"` for streams that answer a request body.
    /// Defaults to `"GET"`. Fetch transport only.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }

    /// The request body, sent with every connection attempt. Defaults to none. Needs a
    /// method that allows a body. Fetch transport only.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Adds a header to every request. Defaults to none besides `Accept:
    /// text/event-stream` and, when resuming, `Last-Event-ID`. Fetch transport only. A
    /// name browsers keep to themselves (`Cookie`, `Host`, `Origin`, `Sec-*`…) is
    /// refused when the source is made, as fetch would drop it: cookies go with
    /// [`with_credentials`](Self::with_credentials). A `Last-Event-ID` header is taken
    /// as [`last_event_id`](Self::last_event_id) (if that is not set too): the first
    /// request sends it, and later ones the id the stream moved it to.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Runs `f` before every connection attempt and adds the headers it returns, so a
    /// token can be refreshed between reconnects. Defaults to none. Fetch transport
    /// only. A shared source's connection is the leader's: its tab's `f` runs, not the
    /// followers' (see [`share_across_tabs`](Self::share_across_tabs)).
    pub fn headers_with(mut self, f: impl Fn() -> Vec<(String, String)> + 'static) -> Self {
        self.header_fn = Some(Rc::new(f));
        self
    }

    /// The last event id to resume after on the first connection. Defaults to none
    /// (no resumption; on fetch, a `Last-Event-ID` among the [`header`](Self::header)s
    /// stands for it); an empty id given is none too, over such a header. Fetch sends
    /// it as `Last-Event-ID`; native puts it in the URL's query (see
    /// [`resume_param`](Self::resume_param)), since EventSource cannot send the header.
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = Some(id.into());
        self
    }

    /// The query parameter through which the native transport resumes after the last
    /// event id when it opens a new EventSource (the first one with
    /// [`last_event_id`](Self::last_event_id), and each one that replaces a failed
    /// one); `None` sends no parameter (native then refuses a `last_event_id`, which it
    /// could not send). Defaults to `Some("lastEventId")`. The fetch
    /// transport sends the `Last-Event-ID` header instead, and this parameter only
    /// cross-origin, once a request that carried the header failed before any answer
    /// (servers written for EventSource often refuse the preflight it costs), and
    /// never in [`request`](Self::request) mode, where a server that does not know
    /// the parameter would answer the request again from the start.
    ///
    /// Native: once the URL carries an id, a connection the browser would resume with
    /// that stale id in the query is replaced instead, after the policy's backoff. The
    /// browser keeps the server's `retry:` to itself, so that backoff cannot take it
    /// into account; `None` leaves the browser's own reconnections, and their waits, as
    /// they are (it sends its newest id in the `Last-Event-ID` header). But with `None`
    /// a new EventSource this crate opens in place of one (after the browser gave up on
    /// a 5xx, after a [`heartbeat_timeout`](Self::heartbeat_timeout), a
    /// [`reconnect`](crate::EventSource::reconnect), a page shown again with
    /// [`pause_when_hidden`](Self::pause_when_hidden)) carries no id: the server starts
    /// it afresh, and what it sent in between is lost.
    pub fn resume_param(mut self, param: Option<&str>) -> Self {
        self.resume_param = param.map(str::to_owned);
        self
    }

    /// Treats a connection on which nothing arrives for `timeout` as dead, and
    /// replaces it (`Reconnecting { cause: HeartbeatTimeout }`). Fetch counts any
    /// bytes, the wait for response headers included; native counts events (the
    /// browser hides comments), and only events of the types listened for, so pair it
    /// with [`heartbeat_event`](Self::heartbeat_event) on a quiet stream. Pick more
    /// than the server's keep-alive interval, and, native, more than its `retry:`: the
    /// time the browser waits before its own reconnection counts too. Defaults to
    /// none.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat = Some(timeout);
        self
    }

    /// An event type the server sends as a keep-alive, listened for on the native
    /// transport so it resets the heartbeat even with no handler for it. Defaults to
    /// none.
    pub fn heartbeat_event(mut self, event_type: impl Into<String>) -> Self {
        self.heartbeat_event = Some(event_type.into());
        self
    }

    /// The reconnection policy: backoff, limits, what is retried. Defaults to
    /// [`ReconnectPolicy::new`].
    pub fn reconnect_policy(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// The backoff base (once the server sent a `retry:` field, added to it from a
    /// failing streak's second retry on): shorthand for [`ReconnectPolicy::base`].
    /// Defaults to 1 s.
    pub fn retry(mut self, delay: Duration) -> Self {
        self.reconnect = self.reconnect.base(delay);
        self
    }

    /// Reconnects at once when the browser comes back `online`, and spends no attempt
    /// while `navigator.onLine` is false (but in request mode, where every send counts:
    /// `max_attempts(0)` never sends a request twice). The wait the server asked for (`retry:`,
    /// `Retry-After`) is still kept. In a worker, where Chromium fires no `online`, a
    /// source that waits for the network looks at `navigator.onLine` every second.
    /// Defaults to `false`.
    pub fn reconnect_on_online(mut self, yes: bool) -> Self {
        self.reconnect_on_online = yes;
        self
    }

    /// Closes the connection while the page is hidden
    /// (`Reconnecting { cause: PageHidden }`) and resumes when it is visible again.
    /// Defaults to `false`.
    pub fn pause_when_hidden(mut self, yes: bool) -> Self {
        self.pause_when_hidden = yes;
        self
    }

    /// Drops an event that was already delivered, as when a server replays
    /// inclusively after a reconnect: from a connection's open, events delivered
    /// before (the same id, type and data) are dropped until the first new one; after
    /// that the connection is live and every event is delivered. A server that
    /// restarted and counts from 1 again sends other data under those ids, so it is
    /// heard from its first event (and a server that changes an event's data when it
    /// sends it again, a send time in it, has it delivered again). Only events with an `id` field of their own are
    /// judged: one without carries the id before it and is always delivered. The
    /// native transport cannot see the field (the browser hides it): there an event
    /// whose id equals the one before it on the same EventSource counts as having
    /// none, and a connection's first event as having its own. The last 1024 ids
    /// delivered (of up to 256 bytes each) are remembered. Defaults to `false`.
    pub fn dedupe(mut self, yes: bool) -> Self {
        self.dedupe = yes;
        self
    }

    /// The largest event delivered, in bytes: its data with a line end per `data`
    /// line, its type and its id (so `data: 1234\n\n` is 5 bytes). A larger one is
    /// dropped without being buffered and reaches typed handlers as a
    /// [`DecodeError`](crate::DecodeError) that says so. Defaults to 1 MiB. Fetch
    /// transport only (the browser has its own limits).
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// Shares one connection between the sources of this origin's tabs that have the
    /// same [`share_key`](Self::share_key) (by default: the same absolute URL and the
    /// same options that change the request, and on fetch the same
    /// [`max_event_size`](Self::max_event_size); of a
    /// [`headers_with`](Self::headers_with) callback, only that there is one, since
    /// what it returns is known only as the leader connects: where tabs may stand for
    /// different users, put the user in the key; tabs that share a key get the events
    /// the leader's `max_event_size` lets through, so give them the same one; tabs
    /// that run two versions of this crate, as after a deploy, make two groups until
    /// the old ones reload). One tab, the leader (elected with the
    /// Web Locks API), holds the connection; the others, followers, receive its events
    /// and states over a `BroadcastChannel` and run their handlers as if the events had
    /// come on their own connection (typed decoding, decode errors, ids and dedupe in
    /// each tab). When the leader closes or its tab goes away, another tab takes the
    /// lock and connects, resuming after the group's last event: every tab sees a
    /// reconnection (`Reconnecting` with the cause `ConnectionLost`), and a wait the
    /// group was in (a `Retry-After`, the backoff) is waited out first. On the native
    /// transport the leader listens to every type that any tab subscribes to.
    ///
    /// A shared source dedupes by id (see [`dedupe`](Self::dedupe)), so that an event
    /// in flight during a handover is not delivered twice. `close()` in a follower ends
    /// only that follower; in the leader it hands the connection to another tab. The
    /// shared connection ignores [`pause_when_hidden`](Self::pause_when_hidden): the
    /// leader's tab may be hidden while another is in front.
    /// [`EventSource::share_role`](crate::EventSource::share_role) says which part a
    /// source plays. Where Web Locks or `BroadcastChannel` is missing, or Web Locks
    /// refuse the context (a third-party frame whose storage is blocked), the source
    /// connects on its own and says so once on the console. Not for
    /// [`request`](Self::request) mode. Needs the cargo feature `share` (a default
    /// one): without it, asking for sharing is an [`Error::InvalidOptions`] that says
    /// so. Defaults to `false`.
    pub fn share_across_tabs(mut self, yes: bool) -> Self {
        self.share = match (yes, self.share.take()) {
            (true, key) => Some(key.unwrap_or_default()),
            (false, _) => None,
        };
        self
    }

    /// Shares the connection across tabs (as
    /// [`share_across_tabs`](Self::share_across_tabs)) with the sources that use the
    /// same `key` and transport, whatever their URL; an empty key is the default one.
    pub fn share_key(mut self, key: impl Into<String>) -> Self {
        self.share = Some(key.into());
        self
    }

    /// The name a shared source's lock and channel are made from: [`SHARE_PREFIX`],
    /// then the key.
    #[cfg(feature = "share")]
    pub(crate) fn share_name(&self, url: &str) -> Option<String> {
        let key = self.share.as_deref()?;
        let transport = match self.transport {
            Transport::Native => "native",
            Transport::Fetch => "fetch",
        };
        if !key.is_empty() {
            // A group is one transport whatever its key: a fetch source that followed a
            // native leader would get only the types listened for, with false gaps.
            return Some([SHARE_PREFIX, "key:", transport, ":", key].concat());
        }
        let mut name = String::from(SHARE_PREFIX);
        let method = self.method.to_ascii_uppercase();
        let parts = [
            url,
            transport,
            if self.with_credentials {
                "credentials"
            } else {
                ""
            },
            &method,
            self.resume_param.as_deref().unwrap_or(""),
            self.body.as_deref().unwrap_or(""),
            if self.header_fn.is_some() {
                "headers_with"
            } else {
                ""
            },
        ];
        // Each part escaped, so that no two sets of parts make one name (a header value
        // holding `|X-B:2` would otherwise read as a second header).
        let mut push = |part: &str, end: char| {
            for c in part.chars() {
                if matches!(c, '\\' | '|' | ':') {
                    name.push('\\');
                }
                name.push(c);
            }
            name.push(end);
        };
        for part in parts {
            push(part, '|');
        }
        // The leader's cap decides which events reach the followers whole: tabs with
        // another cap are another group (a follower's own was ignored). Only where it
        // applies (fetch), and only when not the default, so that the names of
        // default groups stay as before.
        if self.transport == Transport::Fetch
            && self.max_event_size != crate::core::parse::DEFAULT_MAX_EVENT_SIZE
        {
            push(&format!("max={}", self.max_event_size), '|');
        }
        // As they are sent: tabs that build them in another order share.
        for (header, value) in sent_headers(&self.headers) {
            push(&header, ':');
            push(value, '|');
        }
        Some(name)
    }

    /// The options for a context with or without the browser's `EventSource` (see
    /// [`transport_for`](Self::transport_for)).
    pub(crate) fn for_context(mut self, has_event_source: bool) -> Self {
        self.transport = self.transport_for(has_event_source);
        self
    }

    /// The id the first connection resumes after: [`last_event_id`](Self::last_event_id),
    /// or on fetch, when none was given (an empty one given counts: a feed reopened
    /// after its stream cleared the id), a `Last-Event-ID` among the fixed headers (a
    /// habit of fetch-based clients; the last one, as `Headers::set` sent it), which
    /// means the same. No request sends that header as given (`http::request_init`):
    /// sent on every request, it asked again for what followed the app's id after the
    /// stream had moved the id on by query, or cleared it with an empty `id` field.
    pub(crate) fn first_last_event_id(&self) -> &str {
        match &self.last_event_id {
            Some(id) => id,
            None if cfg!(feature = "fetch") && self.transport == Transport::Fetch => self
                .headers
                .iter()
                .rev()
                .find(|(name, _)| is_last_event_id(name))
                // As `Headers` sends it: the whitespace around it removed.
                .map_or("", |(_, value)| crate::core::failure::trim_http(value)),
            None => "",
        }
    }

    /// The transport these options use in a context with or without the browser's
    /// `EventSource`: where no transport was chosen, fetch where there is none (a
    /// Service Worker) or in a build with fetch and without native.
    pub(crate) fn transport_for(&self, has_event_source: bool) -> Transport {
        self.transport_in(
            has_event_source,
            cfg!(feature = "native"),
            cfg!(feature = "fetch"),
        )
    }

    /// [`transport_for`](Self::transport_for) in a build with or without each
    /// transport.
    fn transport_in(&self, has_event_source: bool, native: bool, fetch: bool) -> Transport {
        if fetch && !self.transport_set && (!has_event_source || !native) {
            Transport::Fetch
        } else {
            self.transport
        }
    }

    /// These options resuming after `id` (a hook's feed opened again), where they can
    /// send one (native with no resume parameter cannot: then as they are).
    #[cfg(any(feature = "leptos", feature = "yew"))]
    pub(crate) fn resuming_after(self, id: Option<String>) -> Self {
        let Some(id) = id else { return self };
        let with_id = self.clone().last_event_id(id);
        // Checked on the transport the source will use (an unset one is fetch in a build
        // without native).
        let has_event_source = crate::transport::dom::has_event_source();
        if with_id
            .clone()
            .for_context(has_event_source)
            .validate()
            .is_ok()
        {
            with_id
        } else {
            self
        }
    }

    /// Checks that the options make sense together.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        self.validate_in(cfg!(feature = "share"))
    }

    /// [`validate`](Self::validate), in a build that has sharing compiled in or not.
    fn validate_in(&self, share_compiled_in: bool) -> Result<(), Error> {
        let invalid = |msg: String| Err(Error::InvalidOptions(msg));
        if self.share.is_some() && !share_compiled_in {
            // Else each tab would connect on its own without a word, the very thing
            // the app asked to avoid.
            return invalid(
                "sharing across tabs (share_across_tabs, share_key) is not compiled in; \
                 enable the cargo feature `share` of wasm-eventsource"
                    .into(),
            );
        }
        if self.share.is_some() && self.request {
            return invalid(
                "sharing across tabs (share_across_tabs, JS share) cannot be used with \
                 request mode: a request stream is the answer to one request, which other \
                 tabs did not make"
                    .into(),
            );
        }
        if self.pause_when_hidden && self.request {
            return invalid(
                "pausing while hidden (pause_when_hidden, JS pauseWhenHidden) cannot be \
                 used with request mode: the pause would end the request, and the server \
                 would get it again on the way back"
                    .into(),
            );
        }
        // (Else the app believes a cut feed's request is sent again by its leave, where
        // a feed resumes by itself and the flag does nothing.)
        if self.retry_request && !self.request {
            return invalid(
                "sending the request again (retry_request, JS retryRequest) is for request \
                 mode only: a feed reconnects by itself; use request mode (request(), JS \
                 mode: \"request\") or drop it"
                    .into(),
            );
        }
        if !crate::core::parse::is_valid_id(self.last_event_id.as_deref().unwrap_or_default()) {
            return invalid(
                "the last event id (last_event_id, JS lastEventId) must not contain CR, LF or \
                 NUL: no server's id can"
                    .into(),
            );
        }
        if self.max_event_size == 0 {
            return invalid(
                "the event size cap (max_event_size, JS maxEventSize) must be at least 1 byte"
                    .into(),
            );
        }
        if let Some(heartbeat) = self.heartbeat {
            if heartbeat < Duration::from_millis(1) {
                return invalid(
                    "the heartbeat timeout (heartbeat_timeout, JS heartbeatMs) must be at least \
                     1 ms; leave it unset for none"
                        .into(),
                );
            }
            if heartbeat > MAX_TIMER {
                return invalid(format!(
                    "the heartbeat timeout (heartbeat_timeout, JS heartbeatMs) must be at most \
                     {} ms (a browser timer's limit)",
                    crate::core::retry::millis(MAX_TIMER)
                ));
            }
        }
        if self.resume_param.as_deref() == Some("") {
            return invalid(
                "the resume parameter must not be empty; for none, leave it unset (None, JS null)"
                    .into(),
            );
        }
        // What fetch refuses to send (a TypeError from `fetch`, else retried as a lost
        // network): a method that is not an HTTP token, or a forbidden one. (Without
        // fetch, any method but GET is refused below.)
        if cfg!(feature = "fetch")
            && (self.method.is_empty() || !self.method.bytes().all(is_token_byte))
        {
            // (Shown as it is, as the JavaScript check shows it.)
            return invalid(format!(
                "the method \"{}\" is not an HTTP method name (letters, digits and \
                 !#$%&'*+-.^_`|~ only)",
                self.method
            ));
        }
        if cfg!(feature = "fetch")
            && ["CONNECT", "TRACE", "TRACK"]
                .iter()
                .any(|m| self.method.eq_ignore_ascii_case(m))
        {
            return invalid(format!(
                "the method {} is one that browsers refuse to send; use GET or POST",
                self.method
            ));
        }
        // (An answer to HEAD has no body: the source would reconnect for good.)
        if cfg!(feature = "fetch") && self.method.eq_ignore_ascii_case("HEAD") {
            return invalid(
                "the method HEAD gets an answer without a body, so no events; use GET or POST"
                    .into(),
            );
        }
        if self.body.is_some()
            && ["GET", "HEAD"].contains(&self.method.to_ascii_uppercase().as_str())
        {
            return invalid(format!(
                "a {} request cannot have a body; make the method POST or drop the body",
                self.method
            ));
        }
        if self.transport == Transport::Native {
            if self.request {
                return invalid(
                    "request mode needs the fetch transport: the browser's EventSource \
                     cannot tell a completed answer from a lost connection; leave the \
                     transport unset"
                        .into(),
                );
            }
            let mut fetch_only = Vec::new();
            if self.done_marker().is_some() {
                fetch_only.push("done data");
            }
            if !self.method.eq_ignore_ascii_case("GET") {
                fetch_only.push("a method other than GET");
            }
            if self.body.is_some() {
                fetch_only.push("a body");
            }
            if !self.headers.is_empty() || self.header_fn.is_some() {
                fetch_only.push("custom headers");
            }
            if self.last_event_id.as_ref().is_some_and(|id| !id.is_empty())
                && self.resume_param.is_none()
            {
                // Native can send it only in the query.
                fetch_only.push("a last event id without a resume parameter");
            }
            if !fetch_only.is_empty() {
                return invalid(format!(
                    "the fetch transport is needed for {}: the browser's EventSource \
                     cannot do that",
                    fetch_only.join(", ")
                ));
            }
        }
        // What a request's `Headers` refuses, or fetch drops (see `header_problem`).
        if cfg!(feature = "fetch") {
            for (name, value) in &self.headers {
                if let Some(problem) = header_problem(name, value) {
                    return invalid(problem);
                }
            }
        }
        Ok(())
    }
}

/// Whether `b` may stand in an HTTP token (RFC 9110): a method or a header name.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether a header `name` is `Last-Event-ID`, which the source sends itself.
pub(crate) fn is_last_event_id(name: &str) -> bool {
    name.eq_ignore_ascii_case("last-event-id")
}

/// What is wrong with the header `name: value`, which a request's `Headers` would
/// refuse (the source would then close at its first attempt) or fetch would drop
/// without a word: a name that is not a token or is one browsers keep to themselves
/// (`Cookie`, `Host`, `Sec-*`…), a value with a line break or NUL, or a character
/// beyond U+00FF (a header is bytes). The value is not shown: it may be a secret.
/// Checked for [`Options::header`] when the source is made, and for
/// [`Options::headers_with`]'s at each attempt.
pub(crate) fn header_problem(name: &str, value: &str) -> Option<String> {
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Some(format!(
            "the header name {} is not an HTTP header name (letters, digits and \
             !#$%&'*+-.^_`|~ only)",
            header_name_shown(name)
        ));
    }
    let lower = name.to_ascii_lowercase();
    if FORBIDDEN_HEADERS.contains(&lower.as_str())
        || lower.starts_with("sec-")
        || lower.starts_with("proxy-")
    {
        return Some(format!(
            "the header \"{name}\" is one browsers do not let a page send (fetch would drop \
             it without a word): cookies go with credentials (with_credentials, JS \
             withCredentials), and the browser sets the others itself"
        ));
    }
    // (Fetch trims the whitespace around a value first, line breaks too.)
    let inner = value.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    if inner
        .chars()
        .any(|c| matches!(c, '\0' | '\r' | '\n') || c > '\u{ff}')
    {
        return Some(format!(
            "the value of the header \"{name}\" cannot be sent: it holds a line break, a NUL \
             or a character beyond U+00FF (percent-encode it, or send it in the body)"
        ));
    }
    None
}

/// A header name as an error shows it: whole when it is one; else not at all (a value
/// given as the name, `"Bearer sk-…"`, or a key with the newline of the file it came
/// from, must not be shown, in part either), only its length and its first character
/// a name cannot hold. JavaScript's `headerNameShown` writes the same.
pub(crate) fn header_name_shown(name: &str) -> String {
    match name
        .chars()
        .enumerate()
        .find(|&(_, c)| !c.is_ascii() || !is_token_byte(c as u8))
    {
        None => format!("\"{name}\""),
        Some((at, c)) => format!(
            "of {} characters (not shown: it may hold a secret; character {}, U+{:04X}, \
             cannot be in a name)",
            name.chars().count(),
            at + 1,
            u32::from(c)
        ),
    }
}

/// Fetch's forbidden request-header names (besides `Sec-*` and `Proxy-*`), lowercase.
const FORBIDDEN_HEADERS: [&str; 21] = [
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_with_fetch_alone_defaults_to_fetch() {
        // What broke (a review): with `default-features = false, features = ["fetch"]`,
        // `EventSource::new(url)` in a page asked for the native transport, which is not
        // compiled in, and failed with advice to enable it.
        let default = Options::new();
        assert_eq!(default.transport_in(true, false, true), Transport::Fetch);
        assert_eq!(default.transport_in(true, true, true), Transport::Native);
        assert_eq!(default.transport_in(false, true, true), Transport::Fetch);
        // Native alone: native, even where there is no EventSource (it then says so).
        assert_eq!(default.transport_in(false, true, false), Transport::Native);
        // A transport chosen is kept, compiled in or not (its error names the feature).
        let native = Options::new().transport(Transport::Native);
        assert_eq!(native.transport_in(true, false, true), Transport::Native);
    }

    #[cfg(feature = "fetch")]
    #[test]
    fn headers_a_request_cannot_carry_are_refused_at_once() {
        // What broke (a review): a header name with a space, or a value with a line
        // break, was taken, and the source closed at its first attempt instead.
        let with = |name: &str, value: &str| {
            Options::new()
                .transport(Transport::Fetch)
                .header(name, value)
                .validate()
        };
        assert!(with("Authorization", "Bearer tok\u{e9}n").is_ok());
        // As fetch takes it: the whitespace around a value trimmed.
        assert!(with("Authorization", " Bearer token\r\n").is_ok());
        // (A name is shown only up to what a name may hold: what broke, a review, was a
        // value given as the name, its secret in the error.)
        match with("X Token", "v") {
            Err(Error::InvalidOptions(message)) => {
                assert!(
                    message.contains("the header name of 7 characters (not shown: it may hold a secret; character 2, U+0020, cannot be in a name) is not an HTTP header name"),
                    "{message}"
                )
            }
            other => panic!("{:?}", other.err()),
        }
        for name in ["Bearer sk-secret", "sk-secret\n", "c2stc2VjcmV0=="] {
            match with(name, "Authorization") {
                Err(Error::InvalidOptions(message)) => assert!(
                    !message.contains("sk-secret") && !message.contains("c2stc2VjcmV0"),
                    "{message}"
                ),
                other => panic!("{name}: {:?}", other.err()),
            }
        }
        for bad in ["secret\r\nX-Injected: 1", "secret\0", "secret \u{20ac}"] {
            match with("X-Token", bad) {
                Err(Error::InvalidOptions(message)) => {
                    assert!(message.contains("\"X-Token\" cannot be sent"), "{message}");
                    assert!(!message.contains("secret"), "the value shown: {message}");
                }
                other => panic!("{bad:?}: {:?}", other.err()),
            }
        }
    }

    #[cfg(feature = "fetch")]
    #[test]
    fn headers_fetch_would_drop_are_refused_at_once() {
        // What broke (a review): `Cookie`, `Host`, `Sec-*` and fetch's other forbidden
        // names were taken, and fetch dropped them without a word: the server refused a
        // request that lacked them, with no hint why.
        for name in [
            "Cookie",
            "host",
            "Sec-Fetch-Mode",
            "Proxy-Authorization",
            "DNT",
        ] {
            let options = Options::new().transport(Transport::Fetch).header(name, "v");
            match options.validate() {
                Err(Error::InvalidOptions(message)) => assert!(
                    message.contains(&format!(
                        "\"{name}\" is one browsers do not let a page send"
                    )),
                    "{message}"
                ),
                other => panic!("{name}: {:?}", other.err()),
            }
        }
        for name in ["Authorization", "X-Cookie", "Origin-Trial", "Content-Type"] {
            let options = Options::new().transport(Transport::Fetch).header(name, "v");
            assert!(options.validate().is_ok(), "{name}");
        }
    }

    #[test]
    fn sharing_asked_for_in_a_build_without_it_is_an_error() {
        // What broke (a review): without the `share` feature, `share_across_tabs(true)`
        // was ignored, and every tab opened its own connection without a word.
        let shared = Options::new().share_across_tabs(true);
        match shared.validate_in(false) {
            Err(Error::InvalidOptions(message)) => {
                assert!(message.contains("feature `share`"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        assert!(shared.validate_in(true).is_ok());
        assert!(Options::new().share_key("k").validate_in(false).is_err());
        assert!(Options::new().validate_in(false).is_ok());
    }

    #[test]
    fn headers_in_another_order_are_the_same_settings() {
        // What broke (a review): headers were compared in order, so a Yew component
        // that built them from a HashMap (another order each render) reconnected at
        // every render.
        let one = Options::new()
            .header("A", "1")
            .header("b", "2")
            .header("a", "3");
        let other = Options::new()
            .header("B", "2")
            .header("a", "1")
            .header("A", "3");
        assert!(one.same_settings(&other));
        let values_swapped = Options::new()
            .header("b", "2")
            .header("a", "3")
            .header("a", "1");
        assert!(
            !one.same_settings(&values_swapped),
            "a name's last value is sent"
        );
        assert!(!one.same_settings(&Options::new().header("A", "1").header("b", "2")));
        assert!(one.same_settings(&Options::new().header("b", "2").header("a", "3")));
        #[cfg(feature = "share")]
        assert_eq!(
            one.clone().share_across_tabs(true).share_name("http://x/"),
            other.share_across_tabs(true).share_name("http://x/"),
            "one group across tabs"
        );
    }

    #[test]
    fn timers_from_options_are_validated() {
        let zero = Options::new().heartbeat_timeout(Duration::ZERO).validate();
        assert!(zero.is_err_and(|e| e.to_string().contains("at least 1 ms")));
        let huge = Options::new()
            .heartbeat_timeout(Duration::from_secs(u64::MAX))
            .validate();
        assert!(huge.is_err_and(|e| e.to_string().contains("at most")));
        assert!(Options::new()
            .heartbeat_timeout(Duration::from_secs(30))
            .validate()
            .is_ok());
    }

    #[test]
    fn options_compare_settings_and_callbacks_by_identity() {
        assert_eq!(Options::new(), Options::default());
        assert_ne!(Options::new(), Options::new().dedupe(true));
        let with_fn = Options::new().headers_with(Vec::new);
        assert_eq!(with_fn, with_fn.clone());
        assert_ne!(with_fn, Options::new().headers_with(Vec::new));
    }

    #[cfg(feature = "share")]
    #[test]
    fn a_headers_with_callback_keeps_the_default_share_group_apart() {
        // What broke: a source whose requests carry a callback's headers (a token) and
        // one with none had one default share name, so a tab without credentials
        // could get the stream another tab's token opened, or the other way round.
        let url = "https://example.com/events";
        let plain = Options::new().share_across_tabs(true);
        let token = || {
            Options::new()
                .share_across_tabs(true)
                .headers_with(Vec::new)
        };
        assert_ne!(plain.share_name(url), token().share_name(url));
        // Two callbacks are alike here: what they return is known only as the
        // leader connects.
        assert_eq!(token().share_name(url), token().share_name(url));
        // An explicit key is the group, whatever the requests carry.
        assert_eq!(
            plain.share_key("user-1").share_name(url),
            token().share_key("user-1").share_name(url)
        );
        // Regression: but not whatever the transport: a fetch source that followed a
        // native leader got only the types listened for, with false gaps.
        let keyed = |transport| {
            Options::new()
                .transport(transport)
                .share_key("user-1")
                .share_name(url)
        };
        assert_ne!(keyed(Transport::Native), keyed(Transport::Fetch));
    }

    #[cfg(feature = "share")]
    #[test]
    fn tabs_of_two_versions_of_the_package_make_two_groups() {
        // What broke: a group's name held no version, so after a deploy a new tab
        // followed a leader of the old build (or led its followers) whatever messages
        // each posted: a change to their format would lose the events between them.
        let url = "https://example.com/events";
        let version = concat!("@", env!("CARGO_PKG_VERSION"), ":");
        let default = Options::new().share_across_tabs(true).share_name(url);
        let keyed = Options::new().share_key("user-1").share_name(url);
        for name in [default, keyed] {
            let name = name.unwrap_or_default();
            assert!(
                name.starts_with("wasm-eventsource") && name.contains(version),
                "{name} does not name the version"
            );
        }
    }

    #[cfg(feature = "share")]
    #[test]
    fn the_default_share_name_tells_every_set_of_parts_apart() {
        // What broke: the parts were joined with `|` and headers written `name:value|`
        // unescaped, so a header value holding `|X-B:2` made the name of two headers,
        // and a tab sending one header joined the group of a tab sending two.
        let url = "https://example.com/events";
        let with = |headers: &[(&str, &str)]| {
            headers
                .iter()
                .fold(Options::new().share_across_tabs(true), |o, (n, v)| {
                    o.header(*n, *v)
                })
                .share_name(url)
        };
        assert_ne!(
            with(&[("X-A", "1|X-B:2")]),
            with(&[("X-A", "1"), ("X-B", "2")])
        );
        let body = |b: &str| {
            Options::new()
                .share_across_tabs(true)
                .method("POST")
                .body(b)
                .share_name(url)
        };
        assert_ne!(body("a|"), body("a\\|"));
        assert_eq!(with(&[("X-A", "1")]), with(&[("X-A", "1")]));
    }

    #[cfg(feature = "share")]
    #[test]
    fn tabs_with_another_event_size_cap_share_no_connection() {
        // What broke (a review): a follower got what the leader's cap let through, its
        // own ignored: a tab that refused events over 100 bytes got them whole from a
        // leader with the default, and one that raised its cap got the leader's
        // "raise maxEventSize" decode errors; which, depended on who led.
        let url = "https://example.com/events";
        let capped = |transport, bytes| {
            Options::new()
                .transport(transport)
                .share_across_tabs(true)
                .max_event_size(bytes)
                .share_name(url)
        };
        let default = crate::core::parse::DEFAULT_MAX_EVENT_SIZE;
        assert_ne!(
            capped(Transport::Fetch, 100),
            capped(Transport::Fetch, default)
        );
        assert_eq!(capped(Transport::Fetch, 100), capped(Transport::Fetch, 100));
        // The default's name is as it was; native has no cap of its own.
        assert_eq!(
            capped(Transport::Fetch, default),
            Options::new()
                .transport(Transport::Fetch)
                .share_across_tabs(true)
                .share_name(url)
        );
        assert_eq!(
            capped(Transport::Native, 100),
            capped(Transport::Native, default)
        );
    }

    #[test]
    fn request_mode_refuses_pause_when_hidden() {
        // What broke: the pause ended the request and the return sent it again, a
        // second answer (and a second bill) for one prompt.
        let err = Options::new().request().pause_when_hidden(true).validate();
        assert!(err.is_err_and(|e| e
            .to_string()
            .contains("(pause_when_hidden, JS pauseWhenHidden) cannot be used")),);
        assert!(Options::new().request().validate().is_ok());
        assert!(Options::new().pause_when_hidden(true).validate().is_ok());
    }

    #[test]
    fn retry_request_needs_request_mode() {
        // What broke (a review): the flag was taken for a feed, where it does nothing,
        // and the app believed it had asked for something.
        let err = Options::new().retry_request(true).validate();
        assert!(
            err.as_ref().is_err_and(|e| e
                .to_string()
                .contains("(retry_request, JS retryRequest) is for request mode only")),
            "{err:?}"
        );
        assert!(Options::new()
            .request()
            .retry_request(true)
            .validate()
            .is_ok());
        assert!(Options::new().retry_request(false).validate().is_ok());
    }

    #[test]
    fn fetch_only_options_are_refused_with_native() {
        let err = Options::new()
            .method("POST")
            .body("x")
            .validate()
            .expect_err("native cannot POST");
        assert!(
            err.to_string()
                .contains("the fetch transport is needed for a method other than GET, a body"),
            "{err}"
        );
        // A heartbeat works on both transports now.
        assert!(Options::new()
            .heartbeat_timeout(Duration::from_secs(1))
            .validate()
            .is_ok());
        assert!(Options::new().resume_param(Some("")).validate().is_err());
        assert!(Options::new().resume_param(None).validate().is_ok());
        // What broke: native with a last event id and no resume parameter connected
        // without the id, and said nothing.
        let err = Options::new()
            .last_event_id("7")
            .resume_param(None)
            .validate()
            .expect_err("native cannot send the id");
        assert!(
            err.to_string()
                .contains("needed for a last event id without a resume parameter"),
            "{err}"
        );
        assert!(Options::new().last_event_id("7").validate().is_ok());
        assert!(Options::new()
            .transport(Transport::Fetch)
            .last_event_id("7")
            .resume_param(None)
            .validate()
            .is_ok());
    }

    #[test]
    fn a_last_event_id_header_is_the_first_last_event_id_on_fetch() {
        // What broke: the header went on every request, so a resume by query, or after
        // the stream cleared its id, still asked for what followed the app's id.
        let fetch = Options::new().transport(Transport::Fetch);
        let taken = fetch
            .clone()
            .header("X-Token", "t")
            .header("last-event-id", " 5\t");
        assert_eq!(taken.first_last_event_id(), "5");
        // The option wins over the header, as the header it sends did.
        let both = fetch
            .clone()
            .last_event_id("9")
            .header("Last-Event-ID", "5");
        assert_eq!(both.first_last_event_id(), "9");
        // The later of two headers, as `Headers::set` sent it.
        let two = fetch
            .header("Last-Event-ID", "1")
            .header("LAST-EVENT-ID", "2");
        assert_eq!(two.first_last_event_id(), "2");
        // An empty id given is no id: a feed reopened (the hooks, a tab taking the
        // lead) after its stream cleared the id does not go back to the header's.
        let cleared = Options::new()
            .transport(Transport::Fetch)
            .header("Last-Event-ID", "5")
            .last_event_id("");
        assert_eq!(cleared.first_last_event_id(), "");
        // Native sends no headers (`validate` refuses them).
        let native = Options::new().header("Last-Event-ID", "5");
        assert_eq!(native.first_last_event_id(), "");
    }

    #[test]
    fn request_mode_picks_fetch_and_refuses_native() {
        let options = Options::new().request();
        assert_eq!(options.transport, Transport::Fetch);
        assert_eq!(options.done_marker(), Some("[DONE]"));
        assert!(options.validate().is_ok());
        assert_eq!(Options::new().done_marker(), None);
        assert_eq!(Options::new().request().done_data(None).done_marker(), None);
        for native in [
            Options::new().transport(Transport::Native).request(),
            Options::new().request().transport(Transport::Native),
        ] {
            let err = native
                .validate()
                .expect_err("native cannot do request mode");
            assert!(
                err.to_string()
                    .contains("request mode needs the fetch transport"),
                "{err}"
            );
        }
    }
}
