//! A list of callbacks that may be changed while it is being called.
//!
//! Dispatch takes a snapshot (an `Rc` clone, no allocation), so a callback may add or
//! remove callbacks, or close the source, without a `RefCell` borrow panic. A callback
//! removed during a dispatch is not called again, even by that same dispatch.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// A boxed callback taking `&A`.
pub(crate) type Callback<A> = Box<dyn FnMut(&A)>;

/// One registered callback.
pub(crate) struct Slot<A: ?Sized> {
    id: u64,
    active: Cell<bool>,
    f: RefCell<Callback<A>>,
}

impl<A: ?Sized> Slot<A> {
    /// Calls the callback unless it was removed or is already running (a re-entrant
    /// call is skipped rather than aliased).
    pub fn call(&self, arg: &A) {
        if !self.active.get() {
            return;
        }
        if let Ok(mut f) = self.f.try_borrow_mut() {
            f(arg);
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }
}

/// A callback taken out of its list, and with it whatever it owns, until this drops.
pub(crate) struct Removed<A: ?Sized> {
    _slot: Rc<Slot<A>>,
}

/// A copy-on-write list of callbacks.
pub(crate) struct Handlers<A: ?Sized> {
    list: Rc<[Rc<Slot<A>>]>,
}

impl<A: ?Sized> Default for Handlers<A> {
    fn default() -> Self {
        Handlers { list: Rc::new([]) }
    }
}

impl<A: ?Sized> Handlers<A> {
    pub fn push(&mut self, id: u64, f: Callback<A>) {
        let slot = Rc::new(Slot {
            id,
            active: Cell::new(true),
            f: RefCell::new(f),
        });
        self.list = self.list.iter().cloned().chain([slot]).collect();
    }

    /// Removes the callback with this id and hands it back, or `None` if it was not
    /// there. Drop what it returns only after the borrow of this list has ended: a
    /// callback may own a subscription of the same source, whose drop removes it from
    /// (and so borrows) a list again.
    #[must_use = "drop the removed callback after the list's borrow ends"]
    pub fn remove(&mut self, id: u64) -> Option<Removed<A>> {
        let slot = Rc::clone(self.list.iter().find(|s| s.id == id)?);
        slot.active.set(false);
        self.list = self.list.iter().filter(|s| s.id != id).cloned().collect();
        Some(Removed { _slot: slot })
    }

    /// The callbacks as they are now; cheap to take.
    pub fn snapshot(&self) -> Rc<[Rc<Slot<A>>]> {
        Rc::clone(&self.list)
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_during_dispatch_stops_later_calls() {
        let handlers: Rc<RefCell<Handlers<u32>>> = Rc::default();
        let calls = Rc::new(RefCell::new(Vec::new()));
        {
            let (h, c) = (handlers.clone(), calls.clone());
            handlers.borrow_mut().push(
                1,
                Box::new(move |x| {
                    c.borrow_mut().push((1, *x));
                    let _removed = h.borrow_mut().remove(2);
                }),
            );
        }
        {
            let c = calls.clone();
            handlers
                .borrow_mut()
                .push(2, Box::new(move |x| c.borrow_mut().push((2, *x))));
        }
        let snapshot = handlers.borrow().snapshot();
        for slot in snapshot.iter() {
            slot.call(&7);
        }
        assert_eq!(*calls.borrow(), vec![(1, 7)]);
        assert_eq!(handlers.borrow().snapshot().len(), 1);
    }

    #[test]
    fn reentrant_call_is_skipped_not_aliased() {
        let handlers: Rc<RefCell<Handlers<u32>>> = Rc::default();
        let count = Rc::new(Cell::new(0));
        {
            let (h, c) = (handlers.clone(), count.clone());
            handlers.borrow_mut().push(
                1,
                Box::new(move |x| {
                    c.set(c.get() + 1);
                    if *x == 0 {
                        let snapshot = h.borrow().snapshot();
                        snapshot[0].call(&1);
                    }
                }),
            );
        }
        let snapshot = handlers.borrow().snapshot();
        snapshot[0].call(&0);
        assert_eq!(count.get(), 1);
        assert!(!handlers.borrow().is_empty());
        assert_eq!(snapshot[0].id(), 1);
    }
}
