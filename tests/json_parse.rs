//! Browser tests of a build with the native transport only, and sharing
//! (`--no-default-features --features native,share`, as `scripts/test.sh` runs this file),
//! where typed handlers decode with the browser's `JSON.parse` and `src/decode/jsjson.rs`
//! instead of serde_json: the same values as serde_json, errors that say what and
//! where, and no integer rounded in silence.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use futures::channel::mpsc::unbounded;
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use wasm_eventsource::{ConnectionState, DecodeError, EventSource, Message, Options, Transport};

wasm_bindgen_test_configure!(run_in_browser);

// The `npm` feature brings the package's own allocator (talc); these tests count
// through std's, so they run without it (`--all-features` only lints them).
#[cfg_attr(not(feature = "npm"), global_allocator)]
#[cfg_attr(feature = "npm", allow(dead_code))]
static ALLOCATOR: Counting = Counting;

#[derive(Debug, Deserialize, PartialEq)]
struct Deep {
    n: u64,
    items: Vec<Item>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Item {
    count: u32,
    label: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
enum Command {
    Stop,
    Move { x: i32, y: i32 },
    Say(String),
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Strict {
    a: bool,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Numbers {
    big: u64,
    small: i8,
    ratio: f64,
}

/// Opens a native source on a fresh channel, subscribes `T` to `event_type`, publishes
/// each of `datas` as an event of that type, and returns what the handler received.
async fn decode_each<T: serde::de::DeserializeOwned + 'static>(
    event_type: &str,
    datas: &[serde_json::Value],
) -> Vec<Result<Message<T>, DecodeError>> {
    let channel = token("jsjson");
    let source = EventSource::new(&url(&format!("/events?channel={channel}"))).expect("valid url");
    let (mut states, _observer) = states(&source);
    let (tx, mut rx) = unbounded();
    let _sub = source.on::<T>(event_type, move |r| {
        let _ = tx.unbounded_send(r);
    });
    until_state(&mut states, "open", ConnectionState::is_open).await;
    let mut got = Vec::new();
    for data in datas {
        let body = json!({"channel": channel, "event": event_type, "data": data});
        assert_eq!(post_json("/publish", &body).await, 200);
        got.push(next(&mut rx, "a decoded event").await);
    }
    got
}

#[wasm_bindgen(inline_js = r#"
const add = EventTarget.prototype.addEventListener;
export function watchSources(seen) {
  EventSource.prototype.addEventListener = function (...args) {
    seen.push(this);
    return add.apply(this, args);
  };
}
export function unwatchSources() {
  delete EventSource.prototype.addEventListener;
}
export function dispatchData(source, data) {
  source.dispatchEvent(new MessageEvent("message", { data, origin: new URL(source.url).origin }));
}
"#)]
extern "C" {
    /// Pushes onto `seen` each browser EventSource that adds a listener, until
    /// [`unwatch_sources`].
    #[wasm_bindgen(js_name = watchSources)]
    fn watch_sources(seen: &js_sys::Array);
    #[wasm_bindgen(js_name = unwatchSources)]
    fn unwatch_sources();
    /// Dispatches a `message` event with `data` on a browser EventSource.
    #[wasm_bindgen(js_name = dispatchData)]
    fn dispatch_data(source: &JsValue, data: &str);
}

/// What `on_message::<T>` of a native source makes of each of `texts` as an event's
/// data, text for text. The test server cannot send these: it re-encodes published
/// data with serde_json, which holds no `1e400` or lone surrogate and sorts keys. So
/// each is dispatched on the browser's EventSource as a `message` event, the path a
/// server's event takes from there.
async fn decode_texts<T: serde::de::DeserializeOwned + 'static>(
    texts: &[&str],
) -> Vec<Result<Message<T>, DecodeError>> {
    let seen = js_sys::Array::new();
    watch_sources(&seen);
    let channel = token("jsjson-text");
    let source = EventSource::new(&url(&format!("/events?channel={channel}"))).expect("valid url");
    let (mut states, _observer) = states(&source);
    let (tx, mut rx) = unbounded();
    let _sub = source.on_message::<T>(move |r| {
        let _ = tx.unbounded_send(r);
    });
    until_state(&mut states, "open", ConnectionState::is_open).await;
    unwatch_sources();
    assert!(seen.length() > 0, "the browser's EventSource was not seen");
    let browser = seen.get(0);
    let mut got = Vec::new();
    for text in texts {
        dispatch_data(&browser, text);
        got.push(next(&mut rx, text).await);
    }
    source.close();
    got
}

/// Checks that serde_json refuses `text` as `T` too.
fn serde_json_refuses<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) {
    if let Ok(value) = serde_json::from_str::<T>(text) {
        panic!("serde_json takes {text} as {value:?}");
    }
}

fn reason<T: std::fmt::Debug>(result: &Result<Message<T>, DecodeError>) -> &str {
    match result {
        Err(e) => &e.reason,
        Ok(m) => panic!("expected a decode error, got {m:?}"),
    }
}

#[wasm_bindgen_test]
async fn nested_values_decode_and_a_wrong_one_is_named_by_its_path() {
    let got = decode_each::<Deep>(
        "deep",
        &[
            json!({"n": 1, "items": [{"count": 2, "label": "a"}, {"count": 3, "label": null}], "extra": [1]}),
            json!({"n": 2, "items": [{"count": 1}, {"count": "x"}]}),
            json!({"n": 3, "items": [{"count": -1}]}),
        ],
    )
    .await;
    let first = got[0].as_ref().expect("the first decodes");
    assert_eq!(
        first.data,
        Deep {
            n: 1,
            items: vec![
                Item {
                    count: 2,
                    label: Some("a".into())
                },
                Item {
                    count: 3,
                    label: None
                },
            ],
        }
    );
    assert_eq!(
        (first.event_type.as_str(), first.origin.as_str()),
        ("deep", SERVER)
    );
    assert_eq!(
        reason(&got[1]),
        "invalid type: the string \"x\", expected u32 (at .items[1].count)"
    );
    let error = got[1].as_ref().expect_err("checked above");
    assert_eq!(error.data, r#"{"items":[{"count":1},{"count":"x"}],"n":2}"#);
    assert!(
        reason(&got[2]).starts_with("invalid value: the integer -1, expected u32"),
        "{}",
        reason(&got[2])
    );
}

#[wasm_bindgen_test]
async fn integers_beyond_2_pow_53_are_refused_not_rounded() {
    let got = decode_each::<Numbers>(
        "numbers",
        &[
            json!({"big": 9_007_199_254_740_991u64, "small": -128, "ratio": 0.25}),
            json!({"big": 9_007_199_254_740_993u64, "small": 0, "ratio": 1}),
            json!({"big": 1, "small": 1.5, "ratio": 1}),
            json!({"big": 1, "small": 300, "ratio": 1}),
        ],
    )
    .await;
    let first = got[0].as_ref().expect("the largest exact integer decodes");
    assert_eq!(
        first.data,
        Numbers {
            big: 9_007_199_254_740_991,
            small: -128,
            ratio: 0.25
        }
    );
    assert!(
        reason(&got[1]).contains("beyond ±2^53"),
        "{}",
        reason(&got[1])
    );
    assert!(
        reason(&got[1]).ends_with("(at .big)"),
        "{}",
        reason(&got[1])
    );
    assert_eq!(
        reason(&got[2]),
        "invalid type: a number with a fraction, expected i8 (at .small)"
    );
    assert!(
        reason(&got[3]).starts_with("invalid value: the integer 300"),
        "{}",
        reason(&got[3])
    );
}

#[wasm_bindgen_test]
async fn an_integer_beyond_2_pow_53_is_refused_in_an_untyped_value_too() {
    // Broke: a self-describing type (`serde_json::Value`, untagged enums) read every
    // integer beyond ±2^53 as an f64, so 9007199254740993 arrived as
    // 9007199254740992.0 without a word, where serde_json holds it exactly.
    let got = decode_each::<serde_json::Value>(
        "untyped",
        &[
            json!({"n": 9_007_199_254_740_993u64}),
            json!({"n": -9_007_199_254_740_993i64}),
            json!({"n": 9_007_199_254_740_991u64, "f": 0.5, "huge": 1e300, "low": -1e19}),
        ],
    )
    .await;
    for refused in &got[..2] {
        assert!(
            reason(refused).contains("beyond ±2^53") && reason(refused).ends_with("(at .n)"),
            "{}",
            reason(refused)
        );
    }
    let exact = got[2].as_ref().expect("exact integers and floats decode");
    assert_eq!(
        exact.data,
        json!({"n": 9_007_199_254_740_991u64, "f": 0.5, "huge": 1e300, "low": -1e19})
    );
}

#[wasm_bindgen_test]
async fn enums_unknown_fields_and_untyped_values_decode_as_with_serde_json() {
    let commands = decode_each::<Command>(
        "command",
        &[
            json!("Stop"),
            json!({"Move": {"x": 1, "y": -2}}),
            json!({"Say": "hi"}),
            json!("Jump"),
        ],
    )
    .await;
    let data: Vec<_> = commands
        .iter()
        .take(3)
        .map(|r| &r.as_ref().expect("decodes").data)
        .collect();
    assert_eq!(
        data,
        [
            &Command::Stop,
            &Command::Move { x: 1, y: -2 },
            &Command::Say("hi".into())
        ]
    );
    assert!(
        reason(&commands[3]).contains("unknown variant `Jump`"),
        "{}",
        reason(&commands[3])
    );

    let strict =
        decode_each::<Strict>("strict", &[json!({"a": true}), json!({"a": true, "b": 1})]).await;
    assert_eq!(
        strict[0].as_ref().expect("decodes").data,
        Strict { a: true }
    );
    assert!(
        reason(&strict[1]).contains("unknown field `b`"),
        "{}",
        reason(&strict[1])
    );

    let value = json!({"list": [1, -2, 1.5, "s", true, null], "nested": {"k": {}}});
    let any = decode_each::<serde_json::Value>("any", std::slice::from_ref(&value)).await;
    assert_eq!(any[0].as_ref().expect("decodes").data, value);
}

#[derive(Debug, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct UserId(u32);

#[derive(Debug, Deserialize, PartialEq)]
struct Point {
    x: i32,
    y: i32,
}

#[wasm_bindgen_test]
async fn number_and_boolean_keys_and_a_struct_as_an_array_decode_as_with_serde_json() {
    // What broke (a review): keys reached serde as the strings JSON writes them as, so
    // `HashMap<u32, _>` from `{"1": "a"}` was a decode error here, where serde_json
    // (any build with fetch) reads it; and a struct sent as the array of its fields,
    // which serde_json takes, was refused.
    use std::collections::BTreeMap;
    let maps = decode_each::<BTreeMap<u32, String>>(
        "map",
        &[json!({"1": "a", "20": "b"}), json!({"x": "c"})],
    )
    .await;
    let map = &maps[0].as_ref().expect("number keys decode").data;
    assert_eq!(map, &BTreeMap::from([(1, "a".into()), (20, "b".into())]));
    assert!(
        reason(&maps[1]).contains(r#"the string "x", expected u32"#),
        "{}",
        reason(&maps[1])
    );
    let keyed = decode_each::<BTreeMap<UserId, bool>>("users", &[json!({"7": true})]).await;
    let keyed = &keyed[0].as_ref().expect("newtype keys decode").data;
    assert_eq!(keyed, &BTreeMap::from([(UserId(7), true)]));
    let flags = decode_each::<BTreeMap<bool, u8>>("flags", &[json!({"true": 1, "false": 0})]).await;
    let flags = &flags[0].as_ref().expect("boolean keys decode").data;
    assert_eq!(flags, &BTreeMap::from([(false, 0), (true, 1)]));
    let points = decode_each::<Point>("point", &[json!([1, -2]), json!({"x": 3, "y": 4})]).await;
    let points: Vec<_> = points
        .iter()
        .map(|r| &r.as_ref().expect("decodes").data)
        .collect();
    assert_eq!(points, [&Point { x: 1, y: -2 }, &Point { x: 3, y: 4 }]);
}

#[wasm_bindgen_test]
async fn data_that_is_not_json_is_a_decode_error_and_the_stream_goes_on() {
    let source = EventSource::new(&url("/scenario/bad-json")).expect("valid url");
    let (tx, mut rx) = unbounded();
    let _sub = source.on_message::<serde_json::Value>(move |r| {
        let _ = tx.unbounded_send(r);
    });
    let first = next(&mut rx, "event 1").await.expect("decodes");
    assert_eq!(first.data, json!({"n": 1}));
    let bad = next(&mut rx, "event 2").await.expect_err("not JSON");
    assert_eq!(
        (bad.data.as_str(), bad.last_event_id.as_str()),
        ("{not json", "2")
    );
    assert!(bad.reason.starts_with("JSON.parse: "), "{}", bad.reason);
    assert!(bad.to_string().contains("{not json"), "{bad}");
    let third = next(&mut rx, "event 3").await.expect("decodes");
    assert_eq!(
        (third.data, third.last_event_id.as_str()),
        (json!({"n": 3}), "3")
    );
}

#[wasm_bindgen_test]
async fn data_nested_128_levels_deep_is_a_decode_error_not_a_trap() {
    // What broke: the decoder recursed once per level with no limit, so an event whose
    // data nests 100,000 arrays (valid JSON, which JSON.parse reads) overflowed the
    // wasm stack and trapped the module, and every source of the page with it.
    for (depth, decodes) in [(100_000, false), (126, true), (127, false)] {
        let source =
            EventSource::new(&url(&format!("/scenario/deep?depth={depth}"))).expect("valid url");
        let (tx, mut rx) = unbounded();
        let _sub = source.on_message::<serde_json::Value>(move |r| {
            let _ = tx.unbounded_send(r);
        });
        let first = next(&mut rx, "the deep event").await;
        // The same data as serde_json (the fetch builds' decoder) takes it.
        let text = format!(
            r#"{{"n":1,"deep":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).is_ok(),
            decodes,
            "serde_json at depth {depth}"
        );
        // 127 arrays and objects deep (the object and 126 arrays) decode; 128 do not,
        // as with serde_json.
        match first {
            Ok(message) if decodes => {
                let mut value = &message.data["deep"];
                let mut levels = 0;
                while let Some(inner) = value.get(0) {
                    value = inner;
                    levels += 1;
                }
                assert_eq!(levels, depth - 1, "arrays inside the outermost");
            }
            Err(error) if !decodes => assert!(
                error.reason.contains("nests 128 arrays and objects deep"),
                "{}",
                error.reason
            ),
            other => panic!("depth {depth}: {:?}", other.map(|m| m.event_type)),
        }
        let second = next(&mut rx, "the event after it").await.expect("decodes");
        assert_eq!(second.data, json!({"n": 2, "deep": []}));
        source.close();
    }
}

/// A pair read through `deserialize_any`, as a hand-written type may read an array.
#[derive(Debug, PartialEq)]
struct AnyPair(u8, u8);

impl<'de> Deserialize<'de> for AnyPair {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pair;
        impl<'de> serde::de::Visitor<'de> for Pair {
            type Value = AnyPair;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a pair")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<AnyPair, A::Error> {
                let missing = || serde::de::Error::invalid_length(0, &self);
                let a = seq.next_element()?.ok_or_else(missing)?;
                let b = seq.next_element()?.ok_or_else(missing)?;
                Ok(AnyPair(a, b))
            }
        }
        d.deserialize_any(Pair)
    }
}

#[derive(Debug, Deserialize, PartialEq)]
enum Shape {
    Pair(u8, u8),
}

#[derive(Debug, Deserialize, PartialEq)]
struct Arrays {
    tuple: (u8, u8),
    array: [u8; 2],
    point: Point,
    variant: Shape,
    any: AnyPair,
}

#[wasm_bindgen_test]
async fn an_array_longer_than_its_type_is_refused_as_with_serde_json() {
    // What broke (a review): the elements past what the type reads were dropped in
    // silence, so `[1,2,3]` decoded as the pair (1, 2) (tuples, arrays, structs and
    // tuple variants sent as arrays, and arrays read through `deserialize_any`),
    // where serde_json refuses it ("trailing characters").
    let fits =
        r#"{"tuple":[1,2],"array":[1,2],"point":[1,2],"variant":{"Pair":[1,2]},"any":[1,2]}"#;
    let longer = [
        (
            "tuple",
            r#"{"tuple":[1,2,3],"array":[1,2],"point":[1,2],"variant":{"Pair":[1,2]},"any":[1,2]}"#,
        ),
        (
            "array",
            r#"{"tuple":[1,2],"array":[1,2,3],"point":[1,2],"variant":{"Pair":[1,2]},"any":[1,2]}"#,
        ),
        (
            "point",
            r#"{"tuple":[1,2],"array":[1,2],"point":[1,2,3],"variant":{"Pair":[1,2]},"any":[1,2]}"#,
        ),
        (
            "variant",
            r#"{"tuple":[1,2],"array":[1,2],"point":[1,2],"variant":{"Pair":[1,2,3]},"any":[1,2]}"#,
        ),
        (
            "any",
            r#"{"tuple":[1,2],"array":[1,2],"point":[1,2],"variant":{"Pair":[1,2]},"any":[1,2,3]}"#,
        ),
    ];
    let mut texts = vec![fits];
    texts.extend(longer.iter().map(|(_, text)| *text));
    let got = decode_texts::<Arrays>(&texts).await;
    assert_eq!(
        got[0]
            .as_ref()
            .expect("arrays of the right length decode")
            .data,
        serde_json::from_str::<Arrays>(fits).expect("serde_json takes it")
    );
    for ((field, text), result) in longer.iter().zip(&got[1..]) {
        serde_json_refuses::<Arrays>(text);
        assert_eq!(
            reason(result),
            format!("invalid length 3, expected fewer elements in array (at .{field})")
        );
    }
}

#[derive(Debug, Deserialize)]
struct Huge {
    value: Option<serde_json::Value>,
    float: Option<f64>,
    integer: Option<u64>,
    text: Option<String>,
}

#[wasm_bindgen_test]
async fn a_number_beyond_the_f64_range_is_refused_as_with_serde_json() {
    // What broke (a review): JSON.parse reads 1e400 as Infinity, which reached an f64
    // as inf and a `serde_json::Value` as null in silence, and an integer type's error
    // called it "a number with a fraction"; serde_json refuses it, "number out of
    // range".
    let texts = [
        r#"{"value":1e400}"#,
        r#"{"float":-1e400}"#,
        r#"{"integer":1e400}"#,
        r#"{"text":1e400}"#,
        r#"{"value":1.7976931348623157e308,"float":-1.7976931348623157e308}"#,
    ];
    let got = decode_texts::<Huge>(&texts).await;
    for (field, (text, result)) in ["value", "float", "integer", "text"]
        .iter()
        .zip(texts.iter().zip(&got))
    {
        serde_json_refuses::<Huge>(text);
        assert!(
            reason(result).starts_with("number out of range")
                && reason(result).ends_with(&format!("(at .{field})")),
            "{}",
            reason(result)
        );
    }
    let largest = &got[4].as_ref().expect("the largest f64 decodes").data;
    assert_eq!(
        (
            largest.value.as_ref().and_then(|v| v.as_f64()),
            largest.float,
            largest.integer,
            largest.text.as_deref()
        ),
        (Some(f64::MAX), Some(-f64::MAX), None, None)
    );
}

#[derive(Debug, Deserialize, PartialEq)]
struct Whole {
    one: u8,
    hundred: u8,
    zero: i8,
}

#[wasm_bindgen_test]
async fn a_whole_number_written_as_a_float_is_an_integer_unlike_serde_json() {
    // A documented difference (src/decode/jsjson.rs): JSON.parse reads `1.0` as it
    // reads `1`, so it decodes into an integer type, which serde_json refuses, and a
    // `serde_json::Value` holds an integer where serde_json's holds an f64. Pinned, so
    // that a change is deliberate.
    let text = r#"{"one":1.0,"hundred":1e2,"zero":-0}"#;
    let got = decode_texts::<Whole>(&[text]).await;
    assert_eq!(
        got[0].as_ref().expect("decodes").data,
        Whole {
            one: 1,
            hundred: 100,
            zero: 0
        }
    );
    serde_json_refuses::<Whole>(text);
    let value = decode_texts::<serde_json::Value>(&[text]).await;
    let value = &value[0].as_ref().expect("decodes").data;
    assert_eq!(value, &json!({"one": 1, "hundred": 100, "zero": 0}));
    let theirs: serde_json::Value = serde_json::from_str(text).expect("serde_json takes it");
    assert!(["one", "hundred", "zero"]
        .iter()
        .all(|k| value[k].is_u64() && theirs[k].is_f64()));
}

#[wasm_bindgen_test]
async fn a_struct_variant_sent_as_an_array_decodes_as_with_serde_json() {
    // What broke (a review): a struct variant took only an object, so `{"Move":[1,-2]}`
    // was refused, which serde_json reads as a struct is read (`Point` from `[1,-2]`).
    let texts = [r#"{"Move":[1,-2]}"#, r#"{"Move":{"x":3,"y":4}}"#];
    let got = decode_texts::<Command>(&texts).await;
    for (text, result) in texts.iter().zip(&got) {
        assert_eq!(
            &result.as_ref().expect("decodes").data,
            &serde_json::from_str::<Command>(text).expect("serde_json takes it")
        );
    }
}

#[wasm_bindgen_test]
async fn a_lone_surrogate_escape_is_refused_not_replaced() {
    // What broke (a review): JSON.parse keeps `"\ud800"` as a lone surrogate, which
    // became U+FFFD on its way into a Rust string, in silence; serde_json refuses it.
    // A U+FFFD in the data, escaped or not, is a character like any other.
    use std::collections::BTreeMap;
    let texts = [
        r#"{"s":"a\ud800"}"#,
        r#"{"s":"\udc00\ud800"}"#,
        r#"{"\udfff":"key"}"#,
        r#"{"escaped":"\ufffd","raw":"�","pair":"\ud83d\ude00"}"#,
    ];
    let got = decode_texts::<BTreeMap<String, serde_json::Value>>(&texts).await;
    for (text, result) in texts.iter().zip(&got[..3]) {
        serde_json_refuses::<BTreeMap<String, serde_json::Value>>(text);
        assert!(
            reason(result).contains("lone surrogate"),
            "{}",
            reason(result)
        );
    }
    assert!(reason(&got[0]).ends_with("(at .s)"), "{}", reason(&got[0]));
    assert_eq!(
        got[3].as_ref().expect("U+FFFD and a pair decode").data,
        serde_json::from_str::<BTreeMap<String, serde_json::Value>>(texts[3]).expect("valid")
    );
    #[derive(Debug, Deserialize)]
    struct Text {
        #[allow(dead_code)]
        s: String,
    }
    let typed = decode_texts::<Text>(&[texts[0]]).await;
    assert!(
        reason(&typed[0]).contains("lone surrogate"),
        "{}",
        reason(&typed[0])
    );
}

/// An object's keys, in the order the deserializer visits them.
#[derive(Debug)]
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(Visit)
    }
}

#[wasm_bindgen_test]
async fn object_keys_come_in_javascripts_order_unlike_serde_json() {
    // A documented difference (src/decode/jsjson.rs): JSON.parse's object lists keys
    // that are array indices ("2", "10", not "01") first, ascending, then the others
    // in the order written, a duplicated one where it first stood; serde_json visits
    // them as written. Pinned, so that a change is deliberate.
    let text = r#"{"b":0,"01":0,"10":0,"a":0,"2":0,"b":1}"#;
    let got = decode_texts::<Keys>(&[text]).await;
    assert_eq!(
        got[0].as_ref().expect("decodes").data.0,
        ["2", "10", "b", "01", "a"]
    );
    let theirs = serde_json::from_str::<Keys>(text).expect("serde_json takes it");
    assert_eq!(theirs.0, ["b", "01", "10", "a", "2", "b"]);
}

/// This file's build has no `probe` feature: when the browser gives up and its
/// Resource Timing entry does not say why, nothing asks the server again. The give-up
/// is a passing network failure whose message names the feature, and the server saw
/// one request (with the probe, a second one asks why and the 404 closes the source).
#[wasm_bindgen_test]
async fn without_the_probe_a_give_up_is_a_passing_failure_that_names_the_feature() {
    use wasm_eventsource::{CloseReason, Options, ReconnectCause, ReconnectPolicy};
    let token = token("no-probe");
    let options = Options::new().reconnect_policy(ReconnectPolicy::new().max_attempts(0));
    let source = EventSource::with_options(
        &url(&format!("/scenario/status/404?token={token}")),
        options,
    )
    .expect("valid url");
    let (mut states, _s) = states(&source);
    let (closed, _) = until_state(&mut states, "closed", ConnectionState::is_closed).await;
    match &closed {
        ConnectionState::Closed {
            reason:
                CloseReason::GaveUp {
                    cause: ReconnectCause::Network { message },
                    ..
                },
        } => assert!(message.contains("`probe`"), "{message}"),
        other => panic!("expected a give-up on a network failure: {other:?}"),
    }
    assert_eq!(request_log(&token).await.len(), 1, "no second request");
}

#[wasm_bindgen_test]
fn a_transport_that_is_not_compiled_in_is_refused_with_sharing_on_too() {
    // What broke: with `share` on, the source joined its group before it checked that
    // its transport was compiled in; the leader then could not open it, and every tab
    // of the group waited in `connecting` for good. (This build has no fetch.)
    let options = Options::new()
        .transport(Transport::Fetch)
        .share_across_tabs(true);
    match EventSource::with_options(&url("/events?channel=not-compiled"), options) {
        Err(err) => assert!(
            err.to_string().contains("Fetch is not compiled in"),
            "{err}"
        ),
        Ok(source) => {
            source.close();
            panic!("a source opened on a transport that is not compiled in");
        }
    }
}
