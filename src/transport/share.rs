//! One connection for the tabs of an origin ([`Options::share_across_tabs`]).
//!
//! Every source of a group (same lock name: the share key, or the URL and the options
//! that change the request) asks for one Web Lock. The one that holds it, the leader,
//! runs the real transport through a [`Tee`], which posts each event, state change and
//! id to the group's `BroadcastChannel` before handing it to the leader's own source.
//! The others, followers, wait for the lock and feed what they receive into their own
//! source as if it had come on their own connection (typed decoding, dedupe and
//! handlers run in each tab). When the leader goes, the next waiting source gets the
//! lock and connects, resuming after the last event it delivered.
//!
//! Messages are arrays whose first item says what they are:
//! - from the leader: `["e", [type, data, id, ownId, tooBig, ...]]` events,
//!   `["s", state...]` a state (a closed one, the group's end, also closes a member
//!   that got the lock meanwhile), `["i", id]` an id without an event, `["o"]` a
//!   connection opened, `["c", text]` a comment, `["w"]` "followers, say your types";
//! - from a follower: `["h", tab, types...]` its event types (the leader answers with
//!   its state, a wait with the time left of it, and `["l", id]` its last event id if
//!   it has one, which a member that has none takes), `["j", tab]` it joined (the other followers say their types again,
//!   so that it knows them all), `["b", tab]` it left, `["r"]` reconnect. A tab that
//!   closes says nothing: the leader forgets its types when its member lock goes
//!   ([`Member::sweep`]). Followers keep the types they hear too: a new leader
//!   listens to them from its first connection, before they answer its `w`.
//!
//! The link (`share.js`) numbers the leader's events, ids, comments and opens (a term
//! and a count appended; `w` gets the term, so that members drop what a deposed
//! leader still posts), keeps the group's last ones in every member, and hands its
//! member `true` when the page goes into the back/forward cache and `false` when it
//! comes back ([`Member::away`]): a frozen page must not hold the group's lock. Back,
//! the link first passes on what the group received meanwhile, which it asks the
//! leader for (`["y", ...]`, answered by `["z", ...]` to it alone, neither seen here).
//! A follower that hears nothing from the leader asks whether it is there (`["q"]`,
//! which the leader answers through its link, `["p", ...]`, unless a callback of its
//! wasm was torn through: see [`Member::receive`]) and, unanswered twice, takes the
//! lock from it: the leader, frozen with its page, finds it gone when it thaws, and its
//! link steps out and back as above. (A torn leader asked by a member steps out and
//! back itself: at once the first time, then after a wait that doubles.) The link hands its member `0` when it holds the
//! leader's lock, `1` when the context refuses Web Locks ([`Member::lead`]).

use super::{Notify, Sink, TransportHandle, WeakSink};
use crate::core::failure::{Failure, ReconnectCause};
use crate::core::parse::{is_valid_id, Event, LastId};
use crate::core::state::{CloseReason, ConnectionState, ShareRole};
use crate::decode::RawEvent;
use crate::options::Options;
use futures_util::future::{select, AbortHandle, Abortable};
use js_sys::Array;
use std::cell::{Cell, OnceCell, RefCell};
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A leader keeps the event types of at most this many followers; past it the oldest
/// entry goes (a tab that went away without a word leaves one behind).
const MAX_MEMBERS: usize = 256;
/// At most this many event types are taken from one follower's message.
const MAX_TYPES: usize = 256;
/// And at most this many characters of them (a type's name, and a tab's id, past it
/// is not taken): the types of [`MAX_MEMBERS`] followers are then at most 4 Mi
/// characters, whatever another script of the origin posts.
const MAX_TYPE_CHARS: usize = 16 * 1024;
/// How often a leader counts its followers again: a tab that went away says nothing.
const RECOUNT_EVERY: Duration = Duration::from_secs(5);

#[wasm_bindgen(module = "/src/transport/share.js")]
extern "C" {
    /// Whether this context has Web Locks and BroadcastChannel (says once if not).
    #[wasm_bindgen(js_name = shareSupported)]
    fn share_supported() -> bool;

    #[derive(Clone)]
    type ShareLink;
    #[wasm_bindgen(constructor, catch)]
    fn new(name: &str, on_message: &Closure<dyn FnMut(JsValue)>) -> Result<ShareLink, JsValue>;
    #[wasm_bindgen(method)]
    fn post(this: &ShareLink, message: &JsValue);
    #[wasm_bindgen(method, getter)]
    fn id(this: &ShareLink) -> String;
    #[wasm_bindgen(method)]
    fn waiting(this: &ShareLink) -> js_sys::Promise;
    #[wasm_bindgen(method)]
    fn answer(this: &ShareLink);
    #[wasm_bindgen(method, js_name = answerCatchUp)]
    fn answer_catch_up(this: &ShareLink, msg: &Array);
    #[wasm_bindgen(method, js_name = handOver)]
    fn hand_over(this: &ShareLink);
    #[wasm_bindgen(method)]
    fn leave(this: &ShareLink);
}

/// A shared source's transport: a member of its group, leading or following.
pub(crate) struct Shared {
    member: Rc<Member>,
}

struct Member {
    url: String,
    options: Rc<Options>,
    sink: WeakSink,
    origin: Rc<str>,
    /// This member's id in the group's messages.
    tab: String,
    link: ShareLink,
    // The link does not call it after `leave()`, which runs before it is dropped.
    _on_message: Closure<dyn FnMut(JsValue)>,
    /// The event types this member's handlers listen to.
    own: RefCell<Vec<String>>,
    /// Set while this member is the leader.
    lead: RefCell<Option<Lead>>,
    /// While following: the other followers' event types, as they said them (as the
    /// leader's `others`).
    known: RefCell<Vec<Follower>>,
    /// While following: when the leader's wait to reconnect (its last `Reconnecting`
    /// with a delay) ends, as `dom::now()`.
    waits_until: Cell<Option<f64>>,
    /// The group has delivered this member an event or an id: its position is the
    /// group's (until then, the `last_event_id` option it opened with stands).
    followed: Cell<bool>,
    /// While following: the last long id the leader's events carried (shared with the
    /// events), and the string it came as, kept from list to list (a native leader
    /// posts each event alone).
    long_id: RefCell<(LastId, Option<JsValue>)>,
}

/// What the leader holds.
struct Lead {
    /// Keeps the tee alive: the transport holds it weakly.
    tee: Rc<Tee>,
    transport: Box<dyn TransportHandle>,
    /// Each follower's event types (native: the leader listens to their union), and
    /// whether its member lock was missing at the last count ([`Member::sweep`]).
    others: Vec<Follower>,
    /// The types the transport listens to now.
    listened: Vec<String>,
    /// Wakes the follower count.
    recount: Rc<Notify>,
    counting: AbortHandle,
}

impl Drop for Lead {
    fn drop(&mut self) {
        self.counting.abort();
    }
}

impl Shared {
    /// Joins the group of `options` (`None` when the options share nothing, or this
    /// context cannot share: then the source connects on its own).
    pub fn open(url: &str, options: &Rc<Options>, sink: &WeakSink) -> Option<Shared> {
        let name = options.share_name(url)?;
        if !share_supported() {
            return None;
        }
        let slot: Rc<OnceCell<Weak<Member>>> = Rc::default();
        let on_message = {
            let slot = Rc::clone(&slot);
            Closure::<dyn FnMut(JsValue)>::new(move |data: JsValue| {
                // (Asked before this callback counts: the link calls it from tasks of
                // the browser's, where no other can be running.)
                let torn = super::dom::torn();
                let _entry = super::dom::Entry::begin();
                if let Some(member) = slot.get().and_then(Weak::upgrade) {
                    // Not a message: the lock is this member's (0), or this context
                    // may not take it (1: the link has left the group, connect alone).
                    // One closure for both keeps the glue of a second shape out of
                    // the wasm.
                    match data.as_f64() {
                        Some(alone) => member.lead(alone != 0.0),
                        None => member.receive(&data, torn),
                    }
                }
            })
        };
        // BroadcastChannel throws where there is no origin to share (an opaque one) or
        // the frame's storage is blocked: then the source connects on its own (the link
        // has taken back what it made, and said so on the console).
        let link = ShareLink::new(&name, &on_message).ok()?;
        let member = Rc::new(Member {
            url: url.to_owned(),
            options: Rc::clone(options),
            sink: sink.clone(),
            origin: super::dom::origin_of(url).unwrap_or_default().into(),
            tab: link.id(),
            link,
            _on_message: on_message,
            own: RefCell::default(),
            lead: RefCell::default(),
            known: RefCell::default(),
            waits_until: Cell::default(),
            followed: Cell::default(),
            long_id: RefCell::default(),
        });
        let _ = slot.set(Rc::downgrade(&member));
        member.follow();
        Some(Shared { member })
    }
}

impl TransportHandle for Shared {
    fn listen(&self, event_type: &str) {
        let m = &self.member;
        {
            let mut own = m.own.borrow_mut();
            if own.iter().any(|t| t == event_type) {
                return;
            }
            own.push(event_type.to_owned());
        }
        m.types_changed();
    }

    fn unlisten(&self, event_type: &str) {
        let m = &self.member;
        m.own.borrow_mut().retain(|t| t != event_type);
        m.types_changed();
    }

    fn reconnect(&self) {
        let m = &self.member;
        match m.lead.borrow().as_ref() {
            Some(lead) => lead.transport.reconnect(),
            None => m.link.post(&message(&["r"])),
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.step_out();
        // Releases the lock (the next member leads) and closes the channel.
        self.link.leave();
    }
}

impl Member {
    fn leading(&self) -> bool {
        self.lead.borrow().is_some()
    }

    /// A follower says which types it listens to (the leader answers with its state).
    fn announce(&self) {
        let msg = message(&["h", &self.tab]);
        for t in self.own.borrow().iter() {
            msg.push(&JsValue::from_str(t));
        }
        self.link.post(&msg);
    }

    fn types_changed(&self) {
        if self.leading() {
            self.relisten();
        } else {
            self.announce();
        }
    }

    /// The leader listens to the union of its own types and its followers'.
    fn relisten(&self) {
        let own = self.own.borrow();
        let mut lead = self.lead.borrow_mut();
        let Some(lead) = lead.as_mut() else { return };
        let mut wanted: Vec<&str> = own.iter().map(String::as_str).collect();
        for (_, types, _) in &lead.others {
            for t in types {
                if !wanted.contains(&t.as_str()) {
                    wanted.push(t);
                }
            }
        }
        for t in &wanted {
            if !lead.listened.iter().any(|l| l == t) {
                lead.transport.listen(t);
            }
        }
        for t in &lead.listened {
            if !wanted.contains(&t.as_str()) {
                lead.transport.unlisten(t);
            }
        }
        lead.listened = wanted.into_iter().map(str::to_owned).collect();
    }

    /// The lock is ours: connect, resuming after the last event this source delivered.
    /// `alone`: this context may not use Web Locks, and the link has left the group:
    /// connect all the same, as a source that shares nothing.
    fn lead(self: &Rc<Self>, alone: bool) {
        let Some(sink) = self.sink.upgrade() else {
            return;
        };
        if sink.is_closed() || self.leading() {
            return;
        }
        let tee = Rc::new(Tee {
            sink: self.sink.clone(),
            link: self.link.clone(),
            batch: RefCell::default(),
            until: Cell::default(),
            long_id: RefCell::default(),
        });
        let mut options = (*self.options).clone();
        // The group's connection went with the leader: for every member a reconnection,
        // as after any loss (an EventSource `error`), said below.
        let handover = matches!(sink.state(), ConnectionState::Open);
        if let ConnectionState::Reconnecting { cause, .. } = sink.state() {
            // The leader went while it waited to reconnect: what the server asked for
            // (`Retry-After`, `retry:`) or the backoff is waited out, not cut short.
            let until = self.waits_until.get().filter(|&at| at > super::dom::now());
            options.not_before = until.map(|at| (at, cause));
        }
        // (Given, empty too: the group's, not a `Last-Event-ID` header it began from.)
        options.last_event_id = Some(sink.last_event_id());
        // The group's connection does not pause because the leader's tab is hidden:
        // another tab may be in front, reading. (Alone, where the context refuses Web
        // Locks, there is no other tab: the source's own option stands.)
        if !alone {
            options.pause_when_hidden = false;
        }
        let options = Rc::new(options);
        let tee_sink: WeakSink = Rc::downgrade(&tee) as WeakSink;
        // The source checked that the transport is compiled in before it shared.
        let Some(transport) = super::open(self.url.clone(), options, tee_sink) else {
            return;
        };
        let recount = Rc::new(Notify::default());
        let (counting, registration) = AbortHandle::new_pair();
        if !alone {
            super::dom::spawn({
                let weak = Rc::downgrade(self);
                let recount = Rc::clone(&recount);
                async move {
                    let _ = Abortable::new(count_followers(weak, recount), registration).await;
                }
            });
        }
        // The followers it heard of: their types are listened to from the start, not
        // only once they answer the `w` below (an event of a type only they follow
        // would go by meanwhile). Gone ones are swept as any (so none where nothing
        // sweeps: alone).
        let others = if alone { Vec::new() } else { self.known.take() };
        *self.lead.borrow_mut() = Some(Lead {
            tee: Rc::clone(&tee),
            transport,
            others,
            listened: Vec::new(),
            recount,
            counting,
        });
        self.relisten();
        if alone {
            sink.set_share_role(ShareRole::Alone);
            return;
        }
        sink.set_share_role(ShareRole::Leader { followers: 0 });
        self.link.post(&message(&["w"]));
        // After the `w`: the members that heard the last leader's drop what another
        // term posts until they hear this one's. (Before the transport's first state,
        // which its task sets once this returns.)
        if handover {
            tee.set_state(ConnectionState::Reconnecting {
                attempt: 0,
                delay: Some(Duration::ZERO),
                cause: ReconnectCause::ConnectionLost,
            });
        }
    }

    /// The page goes into the back/forward cache (`true`), where it is frozen: this
    /// member steps out as a closed tab would (the link then gives up the lock and the
    /// channel), so that another tab leads. The page comes back from it (`false`): the
    /// link has joined again (and passes on the events of the time away, from the
    /// leader), and this member follows until the lock is its own again, then resumes
    /// after the last event it delivered.
    fn away(&self, away: bool) {
        if away {
            self.step_out();
        } else {
            self.follow();
        }
    }

    /// What a member does as it leaves the group: a follower says so; a leader's
    /// transport goes, and its connection closes with it (taken out of `lead` before
    /// it drops).
    fn step_out(&self) {
        let lead = self.lead.borrow_mut().take();
        match lead {
            None => self.link.post(&message(&["b", &self.tab])),
            Some(lead) => {
                // The connection goes first, so that nothing after can keep it (a post
                // that throws: a tear); then what this member delivered of a chunk (a
                // handler may close the source in the middle of one) is the group's
                // too: posted before the link goes.
                let tee = Rc::clone(&lead.tee);
                drop(lead);
                tee.flush();
            }
        }
    }

    /// A member that joins the group follows until the lock is its own.
    fn follow(&self) {
        if let Some(sink) = self.sink.upgrade() {
            sink.set_share_role(ShareRole::Follower);
        }
        self.announce();
        self.link.post(&message(&["j", &self.tab]));
    }

    /// Forgets the followers whose tabs went without a word (a closed tab says
    /// nothing; on native the leader would go on listening to its types, and past
    /// [`MAX_MEMBERS`] entries forget a live follower's instead). `live`: the ids of
    /// the members of this build in the group, each of which holds (or asks for) a lock
    /// of its own while it is in it (see share.js). An entry goes when its member's
    /// lock is missing at two counts in a row (a follower's `["h"]` may come before its
    /// lock request is seen). An older build's member says a tab id of its own (hex,
    /// not its link's id, which is `m` and more): its lock is not looked for, and its
    /// entry stays.
    fn sweep(&self, live: &Array) {
        let dropped = {
            let mut lead = self.lead.borrow_mut();
            let Some(lead) = lead.as_mut() else { return };
            let before = lead.others.len();
            lead.others.retain_mut(|(tab, _, missing)| {
                let gone = tab.starts_with('m') && !live.includes(&JsValue::from_str(tab), 0);
                let keep = !(gone && *missing);
                *missing = gone;
                keep
            });
            lead.others.len() < before
        };
        if dropped {
            self.relisten();
        }
    }

    fn recount(&self) {
        if let Some(lead) = self.lead.borrow().as_ref() {
            lead.recount.notify();
        }
    }

    /// `torn`: a callback of this wasm's was torn through (see `dom::torn`).
    fn receive(&self, data: &JsValue, torn: bool) {
        // Not a message: the link says the page went into the back/forward cache, or
        // came back (members post only arrays).
        if let Some(away) = data.as_bool() {
            return self.away(away);
        }
        let Some(msg) = data.dyn_ref::<Array>() else {
            return;
        };
        let kind = msg.get(0).as_string().unwrap_or_default();
        if self.leading() {
            // Torn through, it answers no one (below); and where its connection still
            // delivers (native's listener goes on), the followers, hearing events, never
            // ask twice and take over: a member's word hands the lock over (at once
            // the first time, then after a wait that doubles: see the link's
            // `handOver`).
            if torn && matches!(kind.as_str(), "q" | "y" | "h") {
                self.link.hand_over();
            }
            match kind.as_str() {
                // A follower heard nothing for a while: answered only while this
                // wasm is sound. A callback torn through (a panic, a JavaScript
                // exception through it) may have been the connection's task, which
                // then delivers nothing for good: unanswered, a follower takes the
                // lock, and this member follows (its link steps out and back).
                "q" if !torn => self.link.answer(),
                // The same for what it says to a member that catches up, or joins: any
                // word from a leader tells the followers it is there.
                "y" if !torn => self.link.answer_catch_up(msg),
                "h" => {
                    if !torn {
                        self.link.answer();
                    }
                    if let Some(lead) = self.lead.borrow_mut().as_mut() {
                        heard(&mut lead.others, msg);
                    }
                    self.relisten();
                    if let Some(sink) = self.sink.upgrade().filter(|_| !torn) {
                        // A wait, with the time left of it: a follower that leads
                        // meanwhile waits the rest (see `waits_until`).
                        let mut state = sink.state();
                        if let ConnectionState::Reconnecting {
                            delay: Some(delay), ..
                        } = &mut state
                        {
                            if let Some(until) =
                                self.lead.borrow().as_ref().and_then(|l| l.tee.until.get())
                            {
                                *delay = Duration::from_millis(
                                    (until - super::dom::now()).max(0.0) as u64,
                                );
                            }
                        }
                        self.link.post(&state_message(&state));
                        // And where the group is: a follower that joined after the
                        // last event would lead without an id to resume after, and
                        // what came during the handover would be lost to every tab.
                        // (Not numbered: not kept for catch-ups.)
                        let id = sink.last_event_id();
                        if !id.is_empty() {
                            self.link.post(&message(&["l", &id]));
                        }
                    }
                    self.recount();
                }
                "b" => {
                    if let Some(lead) = self.lead.borrow_mut().as_mut() {
                        heard(&mut lead.others, msg);
                    }
                    self.relisten();
                    self.recount();
                }
                "r" => {
                    if let Some(lead) = self.lead.borrow().as_ref() {
                        lead.transport.reconnect();
                    }
                }
                // The group's stream closed for good (only such an end is posted),
                // arriving after the lock: an earlier leader's last word. This leader
                // closes with it instead of going on.
                "s" => {
                    if let Some(ConnectionState::Closed { reason }) = decode_state(msg) {
                        drop(self.lead.borrow_mut().take());
                        if let Some(sink) = self.sink.upgrade() {
                            sink.close(reason);
                        }
                    }
                }
                // What an earlier leader posted before it went arrives late: this
                // connection resumes after the last event delivered here instead.
                _ => {}
            }
            return;
        }
        let Some(sink) = self.sink.upgrade() else {
            return;
        };
        match kind.as_str() {
            "w" | "j" => self.announce(),
            "h" | "b" => heard(&mut self.known.borrow_mut(), msg),
            "e" => {
                let Ok(list) = msg.get(1).dyn_into::<Array>() else {
                    return;
                };
                self.followed.set(true);
                #[cfg(feature = "fetch")]
                sink.begin_batch();
                let mut i = 0;
                // The last long id, which the events after it share (as in the leader),
                // and the string it came as: the next event's is compared with it in
                // JavaScript, not copied into wasm, checked and compared there again
                // (each event after a 1 MiB id cost milliseconds).
                let (mut held, mut held_value) = self.long_id.take();
                // (`i` never passes the length: no overflow, whatever the length.)
                while list.length() - i >= 5 && !sink.is_closed() {
                    // The leader posts the type as a string: anything else (a hole of a
                    // sparse list another script posted, undefined, with a length of
                    // billions) ends the list where what is in it ends.
                    let Some(event_type) = list.get(i).as_string() else {
                        break;
                    };
                    let value = list.get(i + 2);
                    if held_value.as_ref() != Some(&value) {
                        // An id the parser cannot make (another script posted it) would
                        // end the group when this member leads and sends it as a header.
                        let id = value.as_string().unwrap_or_default();
                        if !is_valid_id(&id) {
                            i += 5;
                            continue;
                        }
                        held.set(&id);
                        held_value = matches!(held, LastId::Shared(_)).then_some(value);
                    }
                    let own_id = list.get(i + 3).as_bool().unwrap_or(false);
                    let event = |data: &str| {
                        Event::with_shared_id(&event_type, data, &held).with_own_id(own_id)
                    };
                    let origin = Rc::clone(&self.origin);
                    // Native keeps the data a JavaScript string, as its transport does.
                    #[cfg(feature = "native")]
                    let raw = RawEvent::with_js_data(event(""), list.get(i + 1), origin);
                    #[cfg(not(feature = "native"))]
                    let raw = RawEvent::new(
                        event(&list.get(i + 1).as_string().unwrap_or_default()),
                        origin,
                    );
                    sink.dispatch(raw.with_too_big(list.get(i + 4).as_string()));
                    i += 5;
                }
                // Only a long one is worth keeping (a short one is copied anyway).
                if held_value.is_some() {
                    *self.long_id.borrow_mut() = (held, held_value);
                }
                #[cfg(feature = "fetch")]
                sink.end_batch();
            }
            "s" => match decode_state(msg) {
                Some(ConnectionState::Closed { reason }) => sink.close(reason),
                Some(state) => {
                    self.waits_until.set(wait_ends(&state));
                    // The same wait told again with the time left of it (the leader
                    // answering a member that joined): no new state here.
                    let told = matches!(
                        (&state, sink.state()),
                        (
                            ConnectionState::Reconnecting { attempt: a, cause: c, delay: Some(_) },
                            ConnectionState::Reconnecting { attempt: b, cause: d, delay: Some(_) },
                        ) if *a == b && *c == d
                    );
                    if !told {
                        sink.set_state(state);
                    }
                }
                None => {}
            },
            // The group's last id, for a member that joined after it. Its own
            // `last_event_id` gives way: leading later, it resumes where the group is,
            // not replaying history into every tab.
            "l" => {
                let id = msg.get(1).as_string().unwrap_or_default();
                if is_valid_id(&id) && !self.followed.get() {
                    sink.set_last_event_id(&LastId::new(&id));
                }
            }
            "i" => {
                let id = msg.get(1).as_string().unwrap_or_default();
                if is_valid_id(&id) {
                    self.followed.set(true);
                    sink.set_last_event_id(&LastId::new(&id));
                }
            }
            "o" => sink.connection_opened(),
            #[cfg(feature = "fetch")]
            "c" => sink.comment(&msg.get(1).as_string().unwrap_or_default()),
            _ => {}
        }
    }
}

/// A follower as the others know it: its tab, its event types, and whether its member
/// lock was missing at the leader's last count ([`Member::sweep`]).
type Follower = (String, Vec<String>, bool);

/// Notes what a follower said in `msg`: `["h", tab, types...]` its types, `["b", tab]`
/// it left (at most [`MAX_MEMBERS`] followers of [`MAX_TYPES`] types each).
fn heard(members: &mut Vec<Follower>, msg: &Array) {
    let Some(tab) = short_text(msg.get(1)) else {
        return;
    };
    members.retain(|(t, _, _)| *t != tab);
    if msg.get(0).as_string().as_deref() != Some("h") {
        return;
    }
    if members.len() >= MAX_MEMBERS {
        members.remove(0);
    }
    let types = types_taken((2..msg.length()).map(|i| short_text(msg.get(i))));
    members.push((tab, types, false));
}

/// The types taken from a follower's message: up to the first item that is not a short
/// string, at most [`MAX_TYPES`] of them and [`MAX_TYPE_CHARS`] bytes together.
fn types_taken(items: impl Iterator<Item = Option<String>>) -> Vec<String> {
    let mut chars = 0;
    items
        .map_while(|text| {
            let text = text?;
            chars += text.len();
            (chars <= MAX_TYPE_CHARS).then_some(text)
        })
        .take(MAX_TYPES)
        .collect()
}

/// `value`'s text when it is a string of at most [`MAX_TYPE_CHARS`] UTF-16 units, told
/// before it is copied into wasm memory (which never shrinks).
fn short_text(value: JsValue) -> Option<String> {
    let text = value.dyn_ref::<js_sys::JsString>()?;
    if text.length() as usize > MAX_TYPE_CHARS {
        return None;
    }
    text.as_string()
}

/// The leader's follower count, again whenever one joins or leaves, and every
/// [`RECOUNT_EVERY`] for those that went without a word.
async fn count_followers(member: Weak<Member>, recount: Rc<Notify>) {
    loop {
        let Some(m) = member.upgrade() else { return };
        let waiting = m.link.waiting();
        drop(m);
        // `[count, ids...]`, or null where the locks could not be asked.
        let answer = wasm_bindgen_futures::JsFuture::from(waiting)
            .await
            .ok()
            .and_then(|a| a.dyn_into::<Array>().ok());
        let count = answer
            .as_ref()
            .and_then(|a| a.get(0).as_f64())
            .unwrap_or(0.0);
        let Some(m) = member.upgrade() else { return };
        if let (true, Some(sink)) = (m.leading(), m.sink.upgrade()) {
            sink.set_share_role(ShareRole::Leader {
                followers: count as u32,
            });
        }
        if let Some(live) = &answer {
            m.sweep(live);
        }
        drop(m);
        {
            let timer = pin!(super::dom::sleep(RECOUNT_EVERY));
            let woken = pin!(recount.notified());
            select(timer, woken).await;
        }
        // A member that left aborted its lock request: let the browser take it off
        // the queue before counting.
        super::dom::sleep(Duration::from_millis(50)).await;
    }
}

/// The leader's sink: posts what the transport delivers to the group, then hands it
/// to the leader's own source.
struct Tee {
    sink: WeakSink,
    link: ShareLink,
    /// The events of the chunk being dispatched, posted together at its end.
    batch: RefCell<Option<Array>>,
    /// When the wait of the last `Reconnecting` with a delay ends (`dom::now()`), if
    /// that is the state.
    until: Cell<Option<f64>>,
    /// The long id the last events carried (shared), as the JavaScript string posted.
    long_id: RefCell<Option<(Arc<String>, JsValue)>>,
}

impl Tee {
    /// `event`'s last event ID as a JavaScript string, made once for the events that
    /// carry one long id (decoded out of wasm per event, 1 MiB of id cost each event
    /// a millisecond).
    fn id_value(&self, event: &RawEvent) -> JsValue {
        let Some(shared) = event.shared_id() else {
            // (The long one is not kept past the events that carry it.)
            *self.long_id.borrow_mut() = None;
            return JsValue::from_str(event.last_event_id());
        };
        let mut held = self.long_id.borrow_mut();
        match &*held {
            Some((id, value)) if Arc::ptr_eq(id, shared) => value.clone(),
            _ => {
                let value = JsValue::from_str(shared);
                *held = Some((Arc::clone(shared), value.clone()));
                value
            }
        }
    }

    fn post_events(&self, list: Array) {
        let msg = message(&["e"]);
        msg.push(&list);
        self.link.post(&msg);
    }

    /// In the middle of a chunk, posts its events so far and starts a new batch for
    /// the rest: what is posted next (a comment, an id-only block) comes after the
    /// chunk's events before it, as the leader has them.
    fn cut_batch(&self) {
        if self.batch.borrow().is_some() {
            self.flush();
            *self.batch.borrow_mut() = Some(Array::new());
        }
    }

    /// Posts the events of the chunk being dispatched so far, if any. (No borrow is
    /// held while it posts: a post that throws, torn through, left `batch` borrowed,
    /// and the next flush, as the member stepped out, trapped before its connection
    /// closed.)
    fn flush(&self) {
        let list = self.batch.borrow_mut().take();
        if let Some(list) = list.filter(|list| list.length() > 0) {
            self.post_events(list);
        }
    }
}

impl Sink for Tee {
    fn dispatch(&self, event: RawEvent) -> bool {
        // Posted after the borrow (see `flush`).
        let alone = {
            let batch = self.batch.borrow();
            let list = batch.clone().unwrap_or_default();
            list.push(&JsValue::from_str(event.event_type()));
            list.push(&event.js_data());
            list.push(&self.id_value(&event));
            list.push(&JsValue::from_bool(event.has_own_id()));
            list.push(&event.too_big().map_or(JsValue::NULL, JsValue::from_str));
            batch.is_none().then_some(list)
        };
        if let Some(list) = alone {
            self.post_events(list);
        }
        self.sink.upgrade().is_some_and(|sink| sink.dispatch(event))
    }

    #[cfg(feature = "fetch")]
    fn comment(&self, text: &str) {
        self.cut_batch();
        let msg = message(&["c", text]);
        self.link.post(&msg);
        if let Some(sink) = self.sink.upgrade() {
            sink.comment(text);
        }
    }

    fn set_state(&self, state: ConnectionState) {
        self.until.set(wait_ends(&state));
        self.link.post(&state_message(&state));
        if let Some(sink) = self.sink.upgrade() {
            sink.set_state(state);
        }
    }

    fn close(&self, reason: CloseReason) {
        // The leader's own close() hands the connection over; any other end is the
        // group's: the followers close with the same reason.
        if reason != CloseReason::ClosedByClient {
            self.link.post(&state_message(&ConnectionState::Closed {
                reason: reason.clone(),
            }));
        }
        if let Some(sink) = self.sink.upgrade() {
            sink.close(reason);
        }
    }

    fn is_closed(&self) -> bool {
        self.sink.upgrade().is_none_or(|sink| sink.is_closed())
    }

    fn last_event_id(&self) -> String {
        self.sink
            .upgrade()
            .map(|sink| sink.last_event_id())
            .unwrap_or_default()
    }

    fn last_event_id_is(&self, id: &str) -> bool {
        self.sink
            .upgrade()
            .is_some_and(|sink| sink.last_event_id_is(id))
    }

    fn state(&self) -> ConnectionState {
        self.sink.upgrade().map_or(
            ConnectionState::Closed {
                reason: CloseReason::ClosedByClient,
            },
            |sink| sink.state(),
        )
    }

    fn set_share_role(&self, _role: ShareRole) {}

    fn set_last_event_id(&self, id: &LastId) {
        let sink = self.sink.upgrade();
        // Posted only when it moves: fetch sets it after every chunk, mostly to the id
        // of the chunk's last event, which the members have from the event; and each
        // message counts against what the link keeps for members that catch up.
        if sink
            .as_ref()
            .is_none_or(|sink| !sink.last_event_id_is(id.as_str()))
        {
            // (An id-only block in the middle of a chunk.)
            self.cut_batch();
            self.link.post(&message(&["i", id.as_str()]));
        }
        if let Some(sink) = sink {
            sink.set_last_event_id(id);
        }
    }

    fn connection_opened(&self) {
        self.link.post(&message(&["o"]));
        if let Some(sink) = self.sink.upgrade() {
            sink.connection_opened();
        }
    }

    #[cfg(feature = "fetch")]
    fn begin_batch(&self) {
        *self.batch.borrow_mut() = Some(Array::new());
        if let Some(sink) = self.sink.upgrade() {
            sink.begin_batch();
        }
    }

    #[cfg(feature = "fetch")]
    fn end_batch(&self) {
        self.flush();
        if let Some(sink) = self.sink.upgrade() {
            sink.end_batch();
        }
    }
}

/// When the wait of `state` ends (`dom::now()`), if it is a `Reconnecting` with a delay.
fn wait_ends(state: &ConnectionState) -> Option<f64> {
    match state {
        ConnectionState::Reconnecting {
            delay: Some(delay), ..
        } => Some(super::dom::now() + delay.as_millis() as f64),
        _ => None,
    }
}

/// An array of strings.
fn message(items: &[&str]) -> Array {
    items.iter().map(|s| JsValue::from_str(s)).collect()
}

fn millis(d: Duration) -> JsValue {
    JsValue::from_f64(d.as_millis() as f64)
}

fn text(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

/// `["s", state...]`.
fn state_message(state: &ConnectionState) -> Array {
    let a = message(&["s"]);
    let put = |v: JsValue| {
        a.push(&v);
    };
    match state {
        ConnectionState::Connecting { attempt } => {
            put("c".into());
            put((*attempt).into());
        }
        ConnectionState::Open => put("o".into()),
        ConnectionState::Reconnecting {
            attempt,
            delay,
            cause,
        } => {
            put("r".into());
            put((*attempt).into());
            put(delay.map_or(JsValue::from_f64(-1.0), millis));
            put_failure(&a, cause);
        }
        ConnectionState::Closed { reason } => {
            put("x".into());
            match reason {
                CloseReason::ClosedByClient => put("client".into()),
                CloseReason::Failed => put("failed".into()),
                CloseReason::HttpStatus {
                    status,
                    status_text,
                    body,
                } => {
                    put("http".into());
                    put((*status).into());
                    put(status_text.as_str().into());
                    put(text(body.as_deref()));
                }
                CloseReason::ContentType { content_type } => {
                    put("type".into());
                    put(content_type.as_str().into());
                }
                CloseReason::NoContent => put("204".into()),
                CloseReason::InvalidRequest { message } => {
                    put("invalid".into());
                    put(message.as_str().into());
                }
                CloseReason::GaveUp { attempts, cause } => {
                    put("gaveup".into());
                    put((*attempts).into());
                    put_failure(&a, cause);
                }
                CloseReason::Completed => put("done".into()),
                CloseReason::Interrupted { received } => {
                    put("cut".into());
                    put(JsValue::from_f64(*received as f64));
                }
            }
        }
    }
    a
}

fn put_failure(a: &Array, failure: &Failure) {
    let put = |v: JsValue| {
        a.push(&v);
    };
    match failure {
        Failure::ConnectionLost => put("lost".into()),
        Failure::StreamEnded => put("ended".into()),
        Failure::Network { message } => {
            put("net".into());
            put(message.as_str().into());
        }
        Failure::HeartbeatTimeout { after } => {
            put("hb".into());
            put(millis(*after));
        }
        Failure::HttpStatus {
            status,
            status_text,
            retry_after,
            body,
        } => {
            put("http".into());
            put((*status).into());
            put(status_text.as_str().into());
            put(retry_after.map_or(JsValue::from_f64(-1.0), millis));
            put(text(body.as_deref()));
        }
        Failure::ContentType { content_type } => {
            put("type".into());
            put(content_type.as_str().into());
        }
        Failure::NoContent => put("204".into()),
        Failure::Requested => put("req".into()),
        Failure::PageHidden => put("hidden".into()),
    }
}

/// Reads a message's items in order.
struct Reader<'a> {
    a: &'a Array,
    i: u32,
}

impl Reader<'_> {
    fn next(&mut self) -> JsValue {
        let v = self.a.get(self.i);
        self.i += 1;
        v
    }
    fn text(&mut self) -> Option<String> {
        self.next().as_string()
    }
    fn number(&mut self) -> Option<f64> {
        self.next().as_f64()
    }
    fn count(&mut self) -> Option<u32> {
        self.number().map(|n| n as u32)
    }
    fn millis(&mut self) -> Option<Option<Duration>> {
        let n = self.number()?;
        Some((n >= 0.0).then(|| Duration::from_millis(n as u64)))
    }
    fn failure(&mut self) -> Option<Failure> {
        Some(match self.text()?.as_str() {
            "lost" => Failure::ConnectionLost,
            "ended" => Failure::StreamEnded,
            "net" => Failure::Network {
                message: self.text()?,
            },
            "hb" => Failure::HeartbeatTimeout {
                after: self.millis()??,
            },
            "http" => Failure::HttpStatus {
                status: u16::try_from(self.count()?).ok()?,
                status_text: self.text()?,
                retry_after: self.millis()?,
                body: self.text(),
            },
            "type" => Failure::ContentType {
                content_type: self.text()?,
            },
            "204" => Failure::NoContent,
            "req" => Failure::Requested,
            "hidden" => Failure::PageHidden,
            _ => return None,
        })
    }
}

/// The state of a `["s", ...]` message; `None` for one this build does not know.
fn decode_state(a: &Array) -> Option<ConnectionState> {
    let mut r = Reader { a, i: 1 };
    Some(match r.text()?.as_str() {
        "c" => ConnectionState::Connecting {
            attempt: r.count()?,
        },
        "o" => ConnectionState::Open,
        "r" => ConnectionState::Reconnecting {
            attempt: r.count()?,
            delay: r.millis()?,
            cause: r.failure()?,
        },
        "x" => ConnectionState::Closed {
            reason: match r.text()?.as_str() {
                "client" => CloseReason::ClosedByClient,
                "failed" => CloseReason::Failed,
                "http" => CloseReason::HttpStatus {
                    status: u16::try_from(r.count()?).ok()?,
                    status_text: r.text()?,
                    body: r.text(),
                },
                "type" => CloseReason::ContentType {
                    content_type: r.text()?,
                },
                "204" => CloseReason::NoContent,
                "invalid" => CloseReason::InvalidRequest { message: r.text()? },
                "gaveup" => CloseReason::GaveUp {
                    attempts: r.count()?,
                    cause: r.failure()?,
                },
                "done" => CloseReason::Completed,
                "cut" => CloseReason::Interrupted {
                    received: r.number()? as u64,
                },
                _ => return None,
            },
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_followers_types_are_bounded_in_count_and_in_bytes() {
        // What broke (a bounds audit): the types of a follower's message were capped in
        // count only, so another script of the origin could make every member keep
        // 256 followers' 256 types of any length.
        let many = types_taken((0..300).map(|i| Some(format!("t{i}"))));
        assert_eq!(many.len(), MAX_TYPES);
        let long = "x".repeat(6 * 1024);
        let taken = types_taken(std::iter::repeat_n(Some(long), 5));
        assert_eq!(taken.len(), 2, "16 KiB of names: two of 6 KiB");
        let stopped = types_taken([Some("a".to_owned()), None, Some("b".to_owned())].into_iter());
        assert_eq!(
            stopped,
            ["a"],
            "what follows an item that is not a short string"
        );
    }
}
