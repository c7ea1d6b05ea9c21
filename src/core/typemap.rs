//! [`TypeMap`]: the per-event-type tables (handlers, browser listeners, JavaScript
//! callbacks).

/// A map from event type to `V`, kept as a `Vec` searched in order.
///
/// A source listens for a handful of types, and looks one up for every event: for a
/// handful, comparing strings beats hashing them (SipHash per event was on the
/// JavaScript API's profile), and the code is a fraction of a `HashMap`'s in the wasm.
/// A lookup costs one comparison per type listened for.
#[derive(Debug)]
pub(crate) struct TypeMap<V> {
    entries: Vec<(Box<str>, V)>,
}

impl<V> Default for TypeMap<V> {
    fn default() -> Self {
        TypeMap {
            entries: Vec::new(),
        }
    }
}

impl<V> TypeMap<V> {
    fn position(&self, event_type: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| &**k == event_type)
    }

    pub fn get(&self, event_type: &str) -> Option<&V> {
        self.entries
            .iter()
            .find(|(k, _)| &**k == event_type)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, event_type: &str) -> Option<&mut V> {
        self.entries
            .iter_mut()
            .find(|(k, _)| &**k == event_type)
            .map(|(_, v)| v)
    }

    #[cfg_attr(not(feature = "native"), allow(dead_code))]
    pub fn contains_key(&self, event_type: &str) -> bool {
        self.position(event_type).is_some()
    }

    /// Sets the value of `event_type`, returning the one it replaces.
    #[cfg(any(test, feature = "native", feature = "js"))]
    pub fn insert(&mut self, event_type: &str, value: V) -> Option<V> {
        match self.get_mut(event_type) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.entries.push((event_type.into(), value));
                None
            }
        }
    }

    /// The value of `event_type`, made with `Default` if there was none.
    pub fn get_or_default(&mut self, event_type: &str) -> &mut V
    where
        V: Default,
    {
        let at = match self.position(event_type) {
            Some(at) => at,
            None => {
                self.entries.push((event_type.into(), V::default()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[at].1
    }

    /// No type has an entry.
    #[cfg(all(feature = "js", feature = "fetch"))]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes `event_type`'s entry (the order of the others may change).
    pub fn remove(&mut self, event_type: &str) -> Option<V> {
        let at = self.position(event_type)?;
        Some(self.entries.swap_remove(at).1)
    }
}

#[cfg(test)]
mod tests {
    use super::TypeMap;

    #[test]
    fn behaves_as_a_map() {
        let mut map = TypeMap::default();
        assert_eq!(map.insert("a", 1), None);
        assert_eq!(map.insert("b", 2), None);
        assert_eq!(map.insert("a", 3), Some(1));
        *map.get_or_default("c") += 4;
        *map.get_or_default("b") += 10;
        assert_eq!(
            (map.get("a"), map.get("b"), map.get("c")),
            (Some(&3), Some(&12), Some(&4))
        );
        assert!(map.contains_key("c") && !map.contains_key("d"));
        assert_eq!(map.remove("a"), Some(3));
        assert_eq!(map.remove("a"), None);
        assert_eq!((map.get("b"), map.get("c")), (Some(&12), Some(&4)));
        if let Some(v) = map.get_mut("c") {
            *v = 5;
        }
        assert_eq!(map.get("c"), Some(&5));
    }
}
