//! The fixed bytes some scenarios send, and the events a spec-conforming client reads
//! from them.

/// `/scenario/trickle`, written one byte per chunk. Yields three events:
///
/// 1. type `message`, id `1`, data `{"n":1,"text":"héllo wörld ✓ 🎉"}`
/// 2. type `trickle`, id `2`, data `{"n":2,"text":"ünïcödé ✓"}`
/// 3. type `message`, last event id still `2`, data `{"n":3,"text":"done 🎉"}`
///
/// and one comment, `trickle: one byte per chunk`.
pub const TRICKLE: &str = concat!(
    ": trickle: one byte per chunk\n",
    "id: 1\n",
    "data: {\"n\":1,\"text\":\"héllo wörld ✓ 🎉\"}\n",
    "\n",
    "event: trickle\n",
    "id: 2\n",
    "data: {\"n\":2,\"text\":\"ünïcödé ✓\"}\n",
    "\n",
    "data: {\"n\":3,\"text\":\"done 🎉\"}\n",
    "\n",
);

/// `/scenario/split-utf8`. Yields four `message` events with ids `1` to `4` and data
/// `{"n":1,"text":"héllo"}`, `{"n":2,"text":"✓ checked"}`, `{"n":3,"text":"🎉 party"}`,
/// `{"n":4,"text":"日本語 ü"}`. Sent in the chunks of [`split_utf8_points`].
pub const SPLIT_UTF8: &str = concat!(
    "id: 1\ndata: {\"n\":1,\"text\":\"héllo\"}\n\n",
    "id: 2\ndata: {\"n\":2,\"text\":\"✓ checked\"}\n\n",
    "id: 3\ndata: {\"n\":3,\"text\":\"🎉 party\"}\n\n",
    "id: 4\ndata: {\"n\":4,\"text\":\"日本語 ü\"}\n\n",
);

/// Byte offsets where [`SPLIT_UTF8`] is cut into chunks: after the first byte of every
/// multi-byte character, and also after the third byte of every 4-byte character, so
/// that every chunk boundary but the last falls inside a character.
pub fn split_utf8_points() -> Vec<usize> {
    let mut points = Vec::new();
    for (start, c) in SPLIT_UTF8.char_indices() {
        let len = c.len_utf8();
        if len > 1 {
            points.push(start + 1);
        }
        if len == 4 {
            points.push(start + 3);
        }
    }
    points
}

/// `/scenario/bom`: a UTF-8 byte order mark, then (after the optional `retry:` line)
/// this. Yields `message` events id `1` data `{"n":1}` and id `2` data `{"n":2}`; the
/// BOM is not part of the first field name.
pub const BOM_EVENTS: &str = "id: 1\ndata: {\"n\":1}\n\nid: 2\ndata: {\"n\":2}\n\n";

/// `/scenario/line-endings/{style}`: this text with every `\n` replaced by the style's
/// line end (`\r`, `\n` or `\r\n`; the `retry:` line too). Yields three events:
///
/// 1. type `message`, id `1`, data `{"n":1}`
/// 2. type `chat`, last event id still `1`, data `{"n":2}`
/// 3. type `message`, id `3`, data `{"n":3,` LF `"text":"two lines"}` (two `data:`
///    lines joined by one LF: still valid JSON)
pub const LINE_ENDING_EVENTS: &str = concat!(
    "id: 1\ndata: {\"n\":1}\n\n",
    "event: chat\ndata: {\"n\":2}\n\n",
    "id: 3\ndata: {\"n\":3,\ndata: \"text\":\"two lines\"}\n\n",
);

/// `/scenario/comments`: comment lines around and inside two events. Yields `message`
/// events id `1` data `{"n":1}` and id `2` data `{"n":2}`, and the comments `hello`,
/// `between events`, `no space`, `inside an event`, `bye`.
pub const COMMENTS: &str = concat!(
    ": hello\n",
    "\n",
    "id: 1\n",
    "data: {\"n\":1}\n",
    "\n",
    ": between events\n",
    ":no space\n",
    "id: 2\n",
    ": inside an event\n",
    "data: {\"n\":2}\n",
    "\n",
    ": bye\n",
);

/// `/scenario/burst/{n}`: the length in bytes of every event's data.
pub const BURST_DATA_LEN: usize = 110;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_points_fall_inside_characters() {
        let points = split_utf8_points();
        assert_eq!(points.len(), 8);
        for p in points {
            assert!(!SPLIT_UTF8.is_char_boundary(p), "{p}");
        }
    }
}
