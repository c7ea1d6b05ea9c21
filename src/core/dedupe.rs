//! Exactly once, in order: dropping events whose id was already delivered, and
//! noticing numeric ids that skip. Pure, tested natively.

use std::collections::{HashSet, VecDeque};
use std::fmt;

/// How many distinct ids de-duplication remembers.
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

/// What to do with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Deliver it; `gap` is set when its numeric id skipped some.
    Deliver { gap: Option<Gap> },
    /// Its id was delivered before: drop it.
    Duplicate,
}

/// The ids seen so far, for one source.
#[derive(Debug, Default)]
pub(crate) struct IdTracker {
    dedupe: bool,
    recent: VecDeque<String>,
    seen: HashSet<String>,
    /// The id of the last event delivered on the connection open now.
    this_connection: Option<String>,
    last_number: Option<u64>,
}

impl IdTracker {
    /// Starts after `resume_id` (empty for none), remembering it as delivered.
    pub fn new(dedupe: bool, resume_id: &str) -> Self {
        let mut ids = IdTracker {
            dedupe,
            ..IdTracker::default()
        };
        if dedupe && !resume_id.is_empty() {
            ids.remember(resume_id);
        }
        ids.last_number = resume_id.parse().ok();
        ids
    }

    /// A new connection opened: its first event with a known id is a replay.
    pub fn connection_opened(&mut self) {
        self.this_connection = None;
    }

    /// Judges an event whose last event id is `id`.
    pub fn check(&mut self, id: &str) -> Verdict {
        if id.is_empty() {
            return Verdict::Deliver { gap: None };
        }
        // Without de-duplication nothing needs the id kept: only the gap check runs
        // (once per event, so it stays cheap).
        if self.dedupe {
            if self.this_connection.as_deref() == Some(id) {
                // The id of the event before on this connection: an event with no
                // `id:` field of its own.
                return Verdict::Deliver { gap: None };
            }
            if self.seen.contains(id) {
                return Verdict::Duplicate;
            }
            self.remember(id);
            match &mut self.this_connection {
                Some(current) => {
                    current.clear();
                    current.push_str(id);
                }
                None => self.this_connection = Some(id.to_owned()),
            }
        }
        let number = id.parse::<u64>().ok();
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

    fn remember(&mut self, id: &str) {
        if id.len() > REMEMBERED_ID_MAX || self.seen.contains(id) {
            return;
        }
        if self.recent.len() == DEDUPE_WINDOW {
            if let Some(oldest) = self.recent.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        self.recent.push_back(id.to_owned());
        self.seen.insert(id.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deliver(ids: &mut IdTracker, id: &str) -> Option<Gap> {
        match ids.check(id) {
            Verdict::Deliver { gap } => gap,
            Verdict::Duplicate => panic!("{id} was dropped"),
        }
    }

    #[test]
    fn an_inclusive_replay_after_a_reconnect_is_dropped() {
        let mut ids = IdTracker::new(true, "");
        ids.connection_opened();
        for id in ["1", "2", "3"] {
            deliver(&mut ids, id);
        }
        ids.connection_opened();
        assert_eq!(ids.check("3"), Verdict::Duplicate);
        assert_eq!(deliver(&mut ids, "4"), None);
        // An event with no id of its own keeps "4": delivered.
        assert_eq!(deliver(&mut ids, "4"), None);
    }

    #[test]
    fn without_dedupe_every_event_is_delivered() {
        let mut ids = IdTracker::new(false, "3");
        ids.connection_opened();
        assert_eq!(deliver(&mut ids, "3"), None);
        assert!(ids.seen.is_empty());
    }

    #[test]
    fn the_resume_id_counts_as_delivered() {
        let mut ids = IdTracker::new(true, "7");
        ids.connection_opened();
        assert_eq!(ids.check("7"), Verdict::Duplicate);
        assert_eq!(deliver(&mut ids, "8"), None);
        assert_eq!(deliver(&mut ids, "11"), Some(Gap { after: 8, next: 11 }));
    }

    #[test]
    fn gaps_are_reported_for_numeric_ids_only() {
        let mut ids = IdTracker::new(false, "");
        assert_eq!(deliver(&mut ids, "1"), None);
        let gap = deliver(&mut ids, "5").expect("a gap");
        assert_eq!((gap.after, gap.next, gap.missing()), (1, 5, 3));
        assert_eq!(gap.to_string(), "3 events missing between ids 1 and 5");
        assert_eq!(deliver(&mut ids, "abc"), None);
        assert_eq!(deliver(&mut ids, "6"), None);
        // Going back (a server that restarted) is no gap.
        assert_eq!(deliver(&mut ids, "2"), None);
        assert_eq!(deliver(&mut ids, "3"), None);
        assert_eq!(
            deliver(&mut ids, &u64::MAX.to_string()),
            Some(Gap {
                after: 3,
                next: u64::MAX
            })
        );
    }

    #[test]
    fn the_window_is_bounded() {
        let mut ids = IdTracker::new(true, "");
        for n in 0..(DEDUPE_WINDOW as u64 * 3) {
            deliver(&mut ids, &n.to_string());
        }
        assert_eq!(ids.recent.len(), DEDUPE_WINDOW);
        assert_eq!(ids.seen.len(), DEDUPE_WINDOW);
        // Forgotten ids pass again; remembered ones do not.
        ids.connection_opened();
        assert_eq!(deliver(&mut ids, "0"), None);
        ids.connection_opened();
        let newest = (DEDUPE_WINDOW as u64 * 3 - 1).to_string();
        assert_eq!(ids.check(&newest), Verdict::Duplicate);
        // Long ids are never kept.
        let long = "x".repeat(REMEMBERED_ID_MAX + 1);
        deliver(&mut ids, &long);
        ids.connection_opened();
        assert_eq!(deliver(&mut ids, &long), None);
    }
}
