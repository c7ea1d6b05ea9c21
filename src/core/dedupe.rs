//! Exactly once, in order: dropping events whose id was already delivered, and
//! noticing numeric ids that skip. Pure, tested natively.

use std::collections::VecDeque;
use std::fmt;

/// How many of the last ids delivered de-duplication remembers.
pub const DEDUPE_WINDOW: usize = 1024;

/// Ids longer than this are not remembered (they still pass through).
const REMEMBERED_ID_MAX: usize = 256;

/// Numeric event ids that skipped: events `after + 1 ..= next - 1` never arrived.
/// Reported to [`EventSource::on_gap`](crate::EventSource::on_gap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Gap {
    /// The last numeric id delivered before the gap.
    pub after: u64,
    /// The id that arrived next.
    pub next: u64,
}

impl Gap {
    /// How many ids are missing.
    pub fn missing(&self) -> u64 {
        self.next.saturating_sub(self.after).saturating_sub(1)
    }
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} events missing between ids {} and {}",
            self.missing(),
            self.after,
            self.next
        )
    }
}

/// A fingerprint of an event's type and data (64-bit FNV-1a), so that de-duplication
/// drops only an event it delivered, not a new one under an id given again.
pub(crate) fn fingerprint(event_type: &str, data: &str) -> u64 {
    fn fold(hash: u64, bytes: &[u8]) -> u64 {
        bytes.iter().fold(hash, |hash, &byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    }
    // 0xFF is no byte of UTF-8: the type ends where it is.
    let typed = fold(0xcbf2_9ce4_8422_2325, event_type.as_bytes());
    fold(fold(typed, &[0xFF]), data.as_bytes())
}

/// What to do with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Deliver it; `gap` is set when its numeric id skipped some.
    Deliver { gap: Option<Gap> },
    /// Its id was delivered before: drop it.
    Duplicate,
}

/// The ids delivered so far, for one source: drops replays and notices gaps.
///
/// Only events that carried an `id` field of their own are judged: one without
/// carries the id of the events before it, which says nothing about itself (a
/// server's `event: reset`, a keep-alive event), so it is always delivered.
///
/// A replay is what a server sends again at the start of a new connection: from the
/// connection's open, events that were delivered (the same id, type and data) are
/// dropped, until the first one that is new (or has no id of its own). After that the
/// connection is live, and an id seen before is a new event. A server that restarted
/// and counts from 1 again sends other data under the old ids, so its events are new
/// from the first one.
#[derive(Debug, Default)]
pub(crate) struct IdTracker {
    dedupe: bool,
    /// Gaps are computed: only where the transport sees every event.
    gaps: bool,
    /// The last [`DEDUPE_WINDOW`] ids delivered with their events' [`fingerprint`]s
    /// (`None` for the resume id given, whose event is not known), oldest first.
    /// Searched only while a connection replays; the buffers are reused.
    recent: VecDeque<(String, Option<u64>)>,
    /// The connection open now has not delivered a new event yet.
    replaying: bool,
    /// The next event is the connection's first. Where gaps are not computed (native),
    /// the transport cannot tell whether it carried its id (see `check`).
    first: bool,
    last_number: Option<u64>,
}

impl IdTracker {
    /// Starts after `resume_id` (empty for none), remembering it as delivered.
    /// `dedupe` drops replays; `gaps` reports numeric ids that skip.
    pub fn new(dedupe: bool, gaps: bool, resume_id: &str) -> Self {
        let mut ids = IdTracker {
            dedupe,
            gaps,
            ..IdTracker::default()
        };
        if dedupe && !resume_id.is_empty() {
            ids.remember(resume_id, None);
        }
        ids.last_number = id_number(resume_id);
        ids
    }

    /// A new connection opened: what it sends first may be a replay.
    pub fn connection_opened(&mut self) {
        self.replaying = true;
        self.first = true;
    }

    /// Judges an event whose last event id is `id`; `own_id` says whether the event
    /// carried that id in an `id` field of its own, and `content` gives its
    /// [`fingerprint`] (asked for only when de-duplicating).
    ///
    /// Native (no gaps computed) judges a connection's first event as carrying its own
    /// id, which it cannot tell: the browser gives an event without one the id of the
    /// last, and the source's last id is gone with the old connection. Under the id of
    /// the newest event remembered, such an event is dropped only when it repeats that
    /// event (an inclusive replay, whatever came after it without an id: a heartbeat
    /// event), and it is not remembered: a guess is not a fact (an event without an id
    /// that each connection begins with was remembered under the old id, and dropped
    /// from the third connection on).
    pub fn check(&mut self, id: &str, own_id: bool, content: impl FnOnce() -> u64) -> Verdict {
        let guessed = !self.gaps && std::mem::take(&mut self.first);
        if !own_id || id.is_empty() {
            self.replaying = false;
            if own_id {
                // An `id:` with no value: the server dropped its resume point, and what
                // it numbers next starts a new sequence, not a skip from the old one.
                self.last_number = None;
            }
            return Verdict::Deliver { gap: None };
        }
        if self.dedupe {
            let content = content();
            if guessed && self.recent.back().is_some_and(|(seen, _)| seen == id) {
                // (`replaying` holds: the connection's first event.)
                let last = self
                    .recent
                    .back_mut()
                    .filter(|(_, known)| known.is_none_or(|known| known == content));
                if let Some((_, known)) = last {
                    known.get_or_insert(content);
                    return Verdict::Duplicate;
                }
                self.replaying = false;
                return Verdict::Deliver { gap: None };
            }
            if self.replaying {
                let repeat = self
                    .recent
                    .iter_mut()
                    .find(|(seen, known)| seen == id && known.is_none_or(|known| known == content));
                if let Some((_, known)) = repeat {
                    // The resume id's event, unknown until now: known from here on.
                    known.get_or_insert(content);
                    return Verdict::Duplicate;
                }
            }
            self.replaying = false;
            self.remember(id, Some(content));
        }
        if !self.gaps {
            return Verdict::Deliver { gap: None };
        }
        let number = id_number(id);
        let gap = match (self.last_number, number) {
            (Some(after), Some(next)) if next > after.saturating_add(1) => {
                Some(Gap { after, next })
            }
            _ => None,
        };
        if number.is_some() {
            self.last_number = number;
        }
        Verdict::Deliver { gap }
    }

    /// The stream set its last event id to `id` without an event (an id-only block):
    /// the next event's gap is judged from it when it is a number past the last one.
    /// (Only forward: the chunk-end update may name a replayed event that dedupe
    /// dropped, which must not make the next new event look like a skip.) An empty
    /// `id` (the stream cleared it) starts the numbering over.
    #[cfg(any(feature = "fetch", feature = "share", test))]
    pub fn moved_to(&mut self, id: &str) {
        // (A u64 has at most 20 digits: a long id is not parsed at all.)
        if !self.gaps || id.len() > 20 {
            return;
        }
        // An id-only block that cleared the id, as an event's empty `id:` does (see
        // `check`). (The chunk-end update names the stream's id, empty only when the
        // stream cleared it or never had one.)
        if id.is_empty() {
            self.last_number = None;
            return;
        }
        if let Some(number) = id_number(id) {
            if self.last_number.is_none_or(|last| number > last) {
                self.last_number = Some(number);
            }
        }
    }

    fn remember(&mut self, id: &str, content: Option<u64>) {
        if id.len() > REMEMBERED_ID_MAX {
            return;
        }
        let mut slot = if self.recent.len() == DEDUPE_WINDOW {
            self.recent
                .pop_front()
                .map(|(slot, _)| slot)
                .unwrap_or_default()
        } else {
            String::new()
        };
        slot.clear();
        slot.push_str(id);
        self.recent.push_back((slot, content));
    }
}

/// An id as a number, for gaps: decimal digits only (`str::parse` also takes a leading
/// `+`, which makes `+3` a number no server numbers by).
pub(crate) fn id_number(id: &str) -> Option<u64> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fingerprint of the event that `id` names in these tests: a replay sends the
    /// same event again.
    fn same(id: &str) -> u64 {
        fingerprint("message", &format!("the data of {id}"))
    }

    fn deliver(ids: &mut IdTracker, id: &str) -> Option<Gap> {
        match ids.check(id, true, || same(id)) {
            Verdict::Deliver { gap } => gap,
            Verdict::Duplicate => panic!("{id} was dropped"),
        }
    }

    #[test]
    fn an_id_only_block_moves_the_gap_check_forward_only() {
        // What broke: only dispatched events moved the gap check on, so ids 1, 2 (a
        // block with no data), 3 read as a skip from 1 to 3.
        let mut ids = IdTracker::new(false, true, "");
        assert_eq!(deliver(&mut ids, "1"), None);
        ids.moved_to("2");
        assert_eq!(deliver(&mut ids, "3"), None);
        // Never back: a chunk that ends on a replayed id dedupe dropped names it.
        ids.moved_to("2");
        assert_eq!(deliver(&mut ids, "4"), None);
        // A real skip after it is one.
        ids.moved_to("5");
        assert_eq!(deliver(&mut ids, "8"), Some(Gap { after: 5, next: 8 }));
        // Not a number, or too long to be one: no change.
        ids.moved_to("x");
        ids.moved_to(&"9".repeat(21));
        assert_eq!(deliver(&mut ids, "9"), None);
    }

    #[test]
    fn only_decimal_digits_make_an_id_a_number() {
        // What broke (a review): ids were read with `str::parse`, which takes a leading
        // `+`: ids 1 then +3 reported a gap after 1, though `+3` is no number a server
        // counts by (and moved the count on).
        let mut ids = IdTracker::new(false, true, "");
        assert_eq!(deliver(&mut ids, "1"), None);
        assert_eq!(deliver(&mut ids, "+3"), None);
        ids.moved_to("+7");
        assert_eq!(deliver(&mut ids, "3"), Some(Gap { after: 1, next: 3 }));
        assert_eq!(deliver(&mut ids, "-5"), None);
        assert_eq!(deliver(&mut ids, "4"), None);
    }

    #[test]
    fn native_a_first_event_under_the_last_id_is_remembered_only_as_a_repeat() {
        // What broke (a review): native judges a connection's first event as carrying
        // its own id. An event without one that each connection begins with (`ready`)
        // was remembered under the old id 10 on the second connection, and dropped as
        // a replay from the third on.
        let ready = || fingerprint("ready", "{}");
        let mut ids = IdTracker::new(true, false, "");
        ids.connection_opened();
        assert_eq!(deliver(&mut ids, "10"), None);
        for _ in 0..3 {
            ids.connection_opened();
            assert_eq!(ids.check("10", true, ready), Verdict::Deliver { gap: None });
        }
        // An inclusive replay of event 10 after events without an id (a heartbeat
        // event) is dropped (a review of the first fix delivered it twice).
        ids.connection_opened();
        assert_eq!(ids.check("10", true, ready), Verdict::Deliver { gap: None });
        assert_eq!(
            ids.check("10", false, || same("ping")),
            Verdict::Deliver { gap: None }
        );
        ids.connection_opened();
        assert_eq!(ids.check("10", true, || same("10")), Verdict::Duplicate);
        // A replay of the event delivered last is still dropped, and one of an older
        // id too (its id tells it carried one).
        let mut ids = IdTracker::new(true, false, "");
        ids.connection_opened();
        for id in ["8", "9", "10"] {
            deliver(&mut ids, id);
        }
        ids.connection_opened();
        assert_eq!(ids.check("10", true, || same("10")), Verdict::Duplicate);
        ids.connection_opened();
        assert_eq!(ids.check("9", true, || same("9")), Verdict::Duplicate);
        assert_eq!(ids.check("10", true, || same("10")), Verdict::Duplicate);
        assert_eq!(deliver(&mut ids, "11"), None);
    }

    #[test]
    fn an_inclusive_replay_after_a_reconnect_is_dropped() {
        let mut ids = IdTracker::new(true, true, "");
        ids.connection_opened();
        for id in ["1", "2", "3"] {
            deliver(&mut ids, id);
        }
        ids.connection_opened();
        assert_eq!(ids.check("2", true, || same("2")), Verdict::Duplicate);
        assert_eq!(ids.check("3", true, || same("3")), Verdict::Duplicate);
        assert_eq!(deliver(&mut ids, "4"), None);
        // An event with no id of its own keeps "4": delivered.
        assert_eq!(
            ids.check("4", false, || same("4")),
            Verdict::Deliver { gap: None }
        );
    }

    #[test]
    fn events_without_an_id_of_their_own_are_never_dropped() {
        // Regression: an event with no `id:` line carries the previous id, which is
        // remembered; after a replayed event was dropped, every later id-less event of
        // the connection was dropped too (our server's `event: reset` among them).
        let mut ids = IdTracker::new(true, true, "");
        ids.connection_opened();
        deliver(&mut ids, "3");
        ids.connection_opened();
        assert_eq!(ids.check("3", true, || same("3")), Verdict::Duplicate);
        for _ in 0..3 {
            assert_eq!(
                ids.check("3", false, || same("3")),
                Verdict::Deliver { gap: None }
            );
        }
    }

    #[test]
    fn a_server_that_restarts_its_ids_after_a_reset_event_is_heard() {
        // Regression: after a restart the server sends `event: reset` (no id) and
        // counts from 1 again; those ids were remembered, so events 1..=last were
        // dropped as duplicates.
        let mut ids = IdTracker::new(true, true, "");
        ids.connection_opened();
        for n in 1..=5 {
            deliver(&mut ids, &n.to_string());
        }
        ids.connection_opened();
        assert_eq!(
            ids.check("5", false, || same("5")),
            Verdict::Deliver { gap: None }
        );
        for n in 1..=5 {
            assert_eq!(deliver(&mut ids, &n.to_string()), None, "{n}");
        }
        // Once live, an id seen before is a new event too.
        assert_eq!(deliver(&mut ids, "3"), None);
    }

    #[test]
    fn a_server_that_restarts_its_ids_without_a_reset_event_is_heard() {
        // Regression: a server that restarted and counted from 1 again, with no event
        // without an id first, had its events 1..=last dropped as a replay, as only
        // their ids were compared; a replay sends the same events, a restart others.
        let mut ids = IdTracker::new(true, true, "");
        ids.connection_opened();
        for n in 1..=5 {
            deliver(&mut ids, &n.to_string());
        }
        ids.connection_opened();
        let restarted = |n: u32| fingerprint("message", &format!("new {n}"));
        for n in 1..=5 {
            let id = n.to_string();
            assert_eq!(
                ids.check(&id, true, || restarted(n)),
                Verdict::Deliver { gap: None },
                "{n}"
            );
        }
        // Once live, even the same event again is delivered.
        assert_eq!(deliver(&mut ids, "5"), None);
    }

    #[test]
    fn a_first_event_of_another_type_under_the_last_id_is_delivered() {
        // Regression: native counts a connection's first event as carrying its id (it
        // cannot see the `id` field), so our server's `reset` after a restart, sent
        // without an id and so under the last id delivered, was dropped as a replay,
        // and with it the replay went on over the restarted server's ids 1, 2, ….
        let mut ids = IdTracker::new(true, false, "");
        ids.connection_opened();
        for n in 1..=3 {
            deliver(&mut ids, &n.to_string());
        }
        ids.connection_opened();
        let reset = fingerprint("reset", r#"{"reason":"history lost"}"#);
        assert_eq!(
            ids.check("3", true, || reset),
            Verdict::Deliver { gap: None }
        );
        assert_eq!(
            ids.check("1", true, || fingerprint("message", "new")),
            Verdict::Deliver { gap: None }
        );
    }

    #[test]
    fn the_fingerprint_tells_type_and_data_apart() {
        let all = [
            fingerprint("message", "ab"),
            fingerprint("message", "ba"),
            fingerprint("messag", "eab"),
            fingerprint("", "messageab"),
            fingerprint("reset", "ab"),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(fingerprint("message", "ab"), all[0]);
    }

    #[test]
    fn without_dedupe_every_event_is_delivered() {
        let mut ids = IdTracker::new(false, true, "3");
        ids.connection_opened();
        assert_eq!(deliver(&mut ids, "3"), None);
        assert!(ids.recent.is_empty());
    }

    #[test]
    fn the_resume_id_counts_as_delivered() {
        let mut ids = IdTracker::new(true, true, "7");
        ids.connection_opened();
        assert_eq!(ids.check("7", true, || same("7")), Verdict::Duplicate);
        assert_eq!(deliver(&mut ids, "8"), None);
        assert_eq!(deliver(&mut ids, "11"), Some(Gap { after: 8, next: 11 }));
        // What broke (a review): the resume id was read with `str::parse`, which
        // takes `+7` for 7, though no other id with a sign counts as a number.
        let mut signed = IdTracker::new(false, true, "+7");
        assert_eq!(deliver(&mut signed, "9"), None);
    }

    #[test]
    fn the_resume_ids_event_is_known_once_replayed() {
        // What broke (a review of the fingerprints): the resume id given matched any
        // event under it, for good. Replayed once, its event was still unknown, so a
        // later connection's first event under that id (native counts it as carrying
        // it: a restarted server's `reset`) was dropped as a repeat.
        let mut ids = IdTracker::new(true, false, "7");
        ids.connection_opened();
        assert_eq!(ids.check("7", true, || same("7")), Verdict::Duplicate);
        ids.connection_opened();
        let reset = fingerprint("reset", "{}");
        assert_eq!(
            ids.check("7", true, || reset),
            Verdict::Deliver { gap: None }
        );
    }

    #[test]
    fn an_empty_id_starts_the_numbering_over() {
        // What broke (a review): after `id: 41`, an event with an empty `id:` (the
        // server's resume point dropped) and a new sequence from 1000 reported 958
        // missing events.
        let mut ids = IdTracker::new(false, true, "");
        assert_eq!(deliver(&mut ids, "41"), None);
        assert_eq!(
            ids.check("", true, || same("")),
            Verdict::Deliver { gap: None }
        );
        assert_eq!(deliver(&mut ids, "1000"), None);
        assert_eq!(
            deliver(&mut ids, "1003"),
            Some(Gap {
                after: 1000,
                next: 1003
            })
        );
        // So does an id-only block that clears the id (a review: it did not).
        assert_eq!(
            deliver(&mut ids, "1010"),
            Some(Gap {
                after: 1003,
                next: 1010
            })
        );
        ids.moved_to("");
        assert_eq!(deliver(&mut ids, "5000"), None);
        assert_eq!(deliver(&mut ids, "5001"), None);
        // An event that carries no id of its own keeps the numbering.
        assert_eq!(
            ids.check("", false, || same("")),
            Verdict::Deliver { gap: None }
        );
        assert_eq!(
            deliver(&mut ids, "5003"),
            Some(Gap {
                after: 5001,
                next: 5003
            })
        );
    }

    #[test]
    fn gaps_are_reported_for_numeric_own_ids_only() {
        let mut ids = IdTracker::new(false, true, "");
        assert_eq!(deliver(&mut ids, "1"), None);
        let gap = deliver(&mut ids, "5").expect("a gap");
        assert_eq!((gap.after, gap.next, gap.missing()), (1, 5, 3));
        assert_eq!(gap.to_string(), "3 events missing between ids 1 and 5");
        assert_eq!(deliver(&mut ids, "abc"), None);
        assert_eq!(deliver(&mut ids, "6"), None);
        // Going back (a server that restarted) is no gap.
        assert_eq!(deliver(&mut ids, "2"), None);
        assert_eq!(deliver(&mut ids, "3"), None);
        // An event that carries "3" without an id field of its own is not judged.
        assert_eq!(
            ids.check("9", false, || same("9")),
            Verdict::Deliver { gap: None }
        );
        assert_eq!(deliver(&mut ids, "4"), None);
        assert_eq!(
            deliver(&mut ids, &u64::MAX.to_string()),
            Some(Gap {
                after: 4,
                next: u64::MAX
            })
        );
    }

    #[test]
    fn no_gaps_where_the_transport_does_not_see_every_event() {
        // Regression: the native transport only sees the types listened for, so
        // `1 chat, 2 typing, 3 chat` with a `chat` handler reported a gap 1 -> 3.
        let mut ids = IdTracker::new(true, false, "");
        assert_eq!(deliver(&mut ids, "1"), None);
        assert_eq!(deliver(&mut ids, "3"), None);
    }

    #[test]
    fn the_window_is_bounded() {
        let mut ids = IdTracker::new(true, true, "");
        for n in 0..(DEDUPE_WINDOW as u64 * 3) {
            deliver(&mut ids, &n.to_string());
        }
        assert_eq!(ids.recent.len(), DEDUPE_WINDOW);
        // Forgotten ids pass again; remembered ones do not.
        ids.connection_opened();
        assert_eq!(deliver(&mut ids, "0"), None);
        ids.connection_opened();
        let newest = (DEDUPE_WINDOW as u64 * 3 - 1).to_string();
        assert_eq!(
            ids.check(&newest, true, || same(&newest)),
            Verdict::Duplicate
        );
        // Long ids are never kept.
        let long = "x".repeat(REMEMBERED_ID_MAX + 1);
        deliver(&mut ids, &long);
        ids.connection_opened();
        assert_eq!(deliver(&mut ids, &long), None);
    }
}
