//! Typed decoding for builds with the native transport only: `JSON.parse` in
//! JavaScript, then a serde [`Deserializer`] that walks the parsed value.
//!
//! The browser's EventSource hands each event's data over as a JavaScript string, and
//! `JSON.parse` is already in the browser. An app without the fetch transport would
//! carry serde_json only to decode events: 14.7 KB of its gzipped wasm
//! (`examples/minimal` on 2026-12-07: 54.4 KB with serde_json, 39.7 KB with this). The price is speed:
//! every value read crosses from JavaScript, so decoding the bench's four-field event
//! takes about 1.6 µs instead of serde_json's 0.5 µs (measured in headless Chromium on
//! the bench machine). With the fetch transport compiled in, serde_json is there anyway
//! and decodes every event, whichever transport brought it.
//!
//! What differs from serde_json, by nature of `JSON.parse`:
//!
//! - numbers are `f64`, so an integer beyond ±2⁵³ (and within −2⁶³..2⁶⁴, where
//!   serde_json would hold it exactly) cannot be held exactly and is refused with an
//!   error that says so (never rounded in silence), for an integer type and for a
//!   self-describing one (`serde_json::Value`). A float in that range (`1.5e17`) is
//!   refused there too, as JSON.parse keeps no trace of how a number was written;
//!   decode it into an `f64` field, or build with the `fetch` feature (serde_json then
//!   decodes every event, on either transport);
//! - for the same reason, a whole number written as a float (`1.0`, `1e2`, `-0`) is an
//!   integer: it decodes into an integer type, which serde_json refuses, and a
//!   `serde_json::Value` holds it as an integer (serde_json's holds an `f64`);
//! - a duplicated key keeps its last value, in the place of its first;
//! - an object's keys come in JavaScript's order, not the document's: keys that are
//!   array indices (`"2"`, `"10"`, not `"01"`) first, ascending, then the others as
//!   written (`{"b":0,"2":0}` is visited as `"2"`, `"b"`): it shows in a type that
//!   keeps the order (an insertion-ordered map, a custom visitor) and in which of two
//!   wrong values an error names;
//! - a number key is read as `JSON.parse` reads the key's text (`"1.0"` is 1, where
//!   serde_json wants `"1"` for an integer).

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, Unexpected, VariantAccess, Visitor,
};
use std::fmt;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse` of a string that is already in JavaScript.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &JsValue) -> Result<JsValue, JsValue>;

    /// `encodeURIComponent`, which throws for a string with a lone surrogate: a check
    /// every browser has (`String.prototype.isWellFormed` is from 2023).
    #[wasm_bindgen(js_name = encodeURIComponent, catch)]
    fn encode_uri_component(text: &JsValue) -> Result<JsValue, JsValue>;
}

/// The largest integer an `f64` holds exactly, and every integer below it: 2⁵³ − 1.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// 2⁶⁴ and −2⁶³: serde_json reads an integer outside these as an `f64` too (rounded),
/// one inside exactly (as `u64` or `i64`).
const U64_END: f64 = 18_446_744_073_709_551_616.0;
const I64_START: f64 = -9_223_372_036_854_775_808.0;

/// Parses `text` (a JavaScript string) with `JSON.parse` and deserializes it into `T`.
/// The error is a sentence for [`DecodeError::reason`](crate::DecodeError::reason).
pub(crate) fn decode<T: DeserializeOwned>(text: &JsValue) -> Result<T, String> {
    let value = json_parse(text).map_err(|thrown| {
        let message = thrown
            .dyn_ref::<js_sys::Error>()
            .and_then(|e| e.message().as_string())
            .unwrap_or_default();
        format!("JSON.parse: {message}")
    })?;
    T::deserialize(Value(value, 0, false)).map_err(|e| e.to_string())
}

/// Why a parsed value did not fit the target type, and where.
#[derive(Debug)]
pub(crate) struct Error {
    message: String,
    /// The path of the value inside the event's data, such as `.items[2].count`.
    path: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.path.is_empty() {
            write!(f, " (at {})", self.path)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<M: fmt::Display>(message: M) -> Self {
        Error::new(message.to_string())
    }

    // serde's own versions format the unexpected value, floats included, which pulls
    // float formatting into the wasm; these name the kind of value instead.
    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Error::new(format!(
            "invalid type: {}, expected {expected}",
            kind(&unexpected)
        ))
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Error::new(format!(
            "invalid value: {}, expected {expected}",
            kind(&unexpected)
        ))
    }
}

impl Error {
    fn new(message: String) -> Self {
        Error {
            message,
            path: String::new(),
        }
    }

    /// The error as seen from the enclosing value: `.field` or `[index]` in front.
    fn within(mut self, step: fmt::Arguments<'_>) -> Self {
        self.path = format!("{step}{}", self.path);
        self
    }
}

/// The unexpected value's kind, and its text for strings, integers and booleans.
fn kind(unexpected: &Unexpected<'_>) -> String {
    match unexpected {
        Unexpected::Float(_) => "a number with a fraction".to_owned(),
        Unexpected::Unsigned(n) => format!("the integer {n}"),
        Unexpected::Signed(n) => format!("the integer {n}"),
        Unexpected::Bool(b) => format!("the boolean {b}"),
        Unexpected::Str(s) => format!("the string \"{s}\""),
        Unexpected::Unit => "null".to_owned(),
        Unexpected::Seq => "an array".to_owned(),
        Unexpected::Map => "an object".to_owned(),
        Unexpected::Char(c) => format!("the character '{c}'"),
        Unexpected::Bytes(_) => "bytes".to_owned(),
        Unexpected::Option => "an option".to_owned(),
        Unexpected::NewtypeStruct => "a newtype struct".to_owned(),
        Unexpected::UnitVariant => "a unit variant".to_owned(),
        Unexpected::NewtypeVariant => "a newtype variant".to_owned(),
        Unexpected::TupleVariant => "a tuple variant".to_owned(),
        Unexpected::StructVariant => "a struct variant".to_owned(),
        Unexpected::Enum => "an enum".to_owned(),
        Unexpected::Other(what) => (*what).to_owned(),
    }
}

/// Arrays and objects nested this deep are refused, as serde_json refuses them (127
/// decode, 128 do not): the deserializer recurses once per level, and the wasm stack is
/// small.
const MAX_DEPTH: u16 = 128;

/// A value `JSON.parse` returned, how many arrays and objects hold it, and whether it
/// is an object's key: JSON writes a key as a string, which (as serde_json reads it)
/// is a number or a boolean when the type asks for one (`HashMap<u32, T>` from
/// `{"1": …}`; see [`Value::scalar`]).
struct Value(JsValue, u16, bool);

/// Whether `n` is an integer that an `f64` holds exactly (JSON.parse read it as written).
fn exact(n: f64) -> bool {
    n.fract() == 0.0 && n.abs() <= MAX_SAFE
}

/// Hands an exact integer to the visitor, as serde_json would: `u64` unless negative.
fn visit_integer<'de, V: Visitor<'de>>(n: f64, visitor: V) -> Result<V::Value, Error> {
    if n < 0.0 {
        visitor.visit_i64(n as i64)
    } else {
        visitor.visit_u64(n as u64)
    }
}

impl Value {
    /// The depth of this value's elements or fields, or an error at [`MAX_DEPTH`].
    /// A key read as JSON (`"1"` as 1, `"true"` as true) where it is a number or a
    /// boolean there, for a type that asks for one; any other value as it is (a key
    /// that is neither is then named by the error).
    fn scalar(self) -> Value {
        if self.2 {
            if let Ok(v) = json_parse(&self.0) {
                if v.as_f64().is_some() || v.as_bool().is_some() {
                    return Value(v, self.1, false);
                }
            }
        }
        self
    }

    fn inside(&self) -> Result<u16, Error> {
        let depth = self.1 + 1;
        if depth >= MAX_DEPTH {
            return Err(Error::new(format!(
                "the JSON nests {MAX_DEPTH} arrays and objects deep, where decoding stops \
                 (as serde_json's does)"
            )));
        }
        Ok(depth)
    }

    /// The value as a string, if it is one. One with a lone surrogate (`"\ud800"`),
    /// which `JSON.parse` keeps and a Rust string cannot hold (it arrives as U+FFFD),
    /// is an error, as with serde_json. Only a string with a U+FFFD is asked about.
    fn string(&self) -> Result<Option<String>, Error> {
        let s = self.0.as_string();
        if let Some(s) = &s {
            let replaced = s.as_bytes().windows(3).any(|w| w == "\u{FFFD}".as_bytes());
            if replaced && encode_uri_component(&self.0).is_err() {
                return Err(Error::new(
                    "a lone surrogate (\\ud800 to \\udfff unpaired) in a string".to_owned(),
                ));
            }
        }
        Ok(s)
    }

    /// Visits the elements of this value, an array. One the visitor leaves unread
    /// (`[1,2,3]` for a pair) is an error, as with serde_json, never dropped.
    fn array<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let depth = self.inside()?;
        let mut items = Items::new(self.0.unchecked_into(), depth);
        let value = visitor.visit_seq(&mut items)?;
        if items.next < items.len {
            return Err(de::Error::invalid_length(
                items.len as usize,
                &"fewer elements in array",
            ));
        }
        Ok(value)
    }

    /// "invalid type: <what the value is>, expected <expected>".
    fn invalid(&self, expected: &str) -> Error {
        let v = &self.0;
        let text;
        let unexpected = if let Some(s) = v.as_string() {
            text = s;
            Unexpected::Str(&text)
        } else if let Some(n) = v.as_f64() {
            match n {
                n if !n.is_finite() => return out_of_range(),
                n if exact(n) => Unexpected::Signed(n as i64),
                n if n.fract() == 0.0 => Unexpected::Other("an integer beyond ±2^53"),
                n => Unexpected::Float(n),
            }
        } else if let Some(b) = v.as_bool() {
            Unexpected::Bool(b)
        } else if v.is_null() {
            Unexpected::Unit
        } else if js_sys::Array::is_array(v) {
            Unexpected::Seq
        } else {
            Unexpected::Map
        };
        de::Error::invalid_type(unexpected, &expected)
    }

    /// The value as a whole number that an `f64` holds exactly.
    fn integer(&self, expected: &str) -> Result<f64, Error> {
        match self.0.as_f64() {
            Some(n) if exact(n) => Ok(n),
            Some(n) if n.fract() == 0.0 => Err(rounded(expected)),
            _ => Err(self.invalid(expected)),
        }
    }
}

/// The error for a number beyond the `f64` range (`1e400`), which `JSON.parse` makes
/// ±Infinity: serde_json's words.
fn out_of_range() -> Error {
    Error::new("number out of range (beyond ±1.8e308, the f64 range)".to_owned())
}

/// The error for a whole number beyond ±2⁵³, which `JSON.parse` may have rounded.
fn rounded(expected: &str) -> Error {
    Error::new(format!(
        "the integer is beyond ±2^53 (9007199254740991), where JSON.parse rounds it, \
         expected {expected} exactly; send it as a string, or build with the cargo \
         feature `fetch`, whose serde_json decodes every event (the transport can stay \
         native)"
    ))
}

/// Number hints that all read an exact integer and let the visitor check its range.
macro_rules! integers {
    ($($method:ident => $expected:literal),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visit_integer(self.scalar().integer($expected)?, visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for Value {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let v = &self.0;
        if let Some(s) = self.string()? {
            visitor.visit_string(s)
        } else if let Some(n) = v.as_f64() {
            if exact(n) {
                visit_integer(n, visitor)
            } else if !n.is_finite() {
                Err(out_of_range())
            } else if n.fract() == 0.0 && (I64_START..U64_END).contains(&n) {
                // An integer serde_json would hold exactly (as u64 or i64), which
                // JSON.parse may have rounded: refused, as for an integer type. (A
                // float written so, `1.5e17`, cannot be told from one: JSON.parse keeps
                // no trace of how a number was written.)
                Err(rounded("a JSON number"))
            } else {
                visitor.visit_f64(n)
            }
        } else if let Some(b) = v.as_bool() {
            visitor.visit_bool(b)
        } else if v.is_null() || v.is_undefined() {
            visitor.visit_unit()
        } else if js_sys::Array::is_array(v) {
            self.array(visitor)
        } else {
            let depth = self.inside()?;
            visitor.visit_map(Fields::new(self.0, depth))
        }
    }

    integers!(
        deserialize_i8 => "i8", deserialize_i16 => "i16", deserialize_i32 => "i32",
        deserialize_i64 => "i64", deserialize_u8 => "u8", deserialize_u16 => "u16",
        deserialize_u32 => "u32", deserialize_u64 => "u64", deserialize_i128 => "i128",
        deserialize_u128 => "u128"
    );

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let this = self.scalar();
        match this.0.as_f64() {
            Some(n) if n.is_finite() => visitor.visit_f64(n),
            _ => Err(this.invalid("a number")),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let this = self.scalar();
        match this.0.as_bool() {
            Some(b) => visitor.visit_bool(b),
            None => Err(this.invalid("a boolean")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.string()? {
            Some(s) => visitor.visit_string(s),
            None => Err(self.invalid("a string")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.invalid("null"))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if js_sys::Array::is_array(&self.0) {
            self.array(visitor)
        } else {
            Err(self.invalid("an array"))
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_object() && !js_sys::Array::is_array(&self.0) {
            let depth = self.inside()?;
            visitor.visit_map(Fields::new(self.0, depth))
        } else {
            Err(self.invalid("an object"))
        }
    }

    /// An object, or an array of the fields in order, as serde_json takes.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if js_sys::Array::is_array(&self.0) {
            return self.deserialize_seq(visitor);
        }
        self.deserialize_map(visitor)
    }

    /// Externally tagged, as serde_json: `"Variant"` or `{"Variant": value}`.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if let Some(tag) = self.0.as_string() {
            return visitor.visit_enum(tag.into_deserializer());
        }
        if self.0.is_object() && !js_sys::Array::is_array(&self.0) {
            let keys = js_sys::Object::keys(self.0.unchecked_ref::<js_sys::Object>());
            if keys.length() == 1 {
                let depth = self.inside()?;
                let key = keys.get(0);
                let value = js_sys::Reflect::get(&self.0, &key).unwrap_or(JsValue::UNDEFINED);
                return visitor.visit_enum(Variant {
                    tag: key.as_string().unwrap_or_default(),
                    value: Value(value, depth, false),
                });
            }
        }
        Err(self.invalid("a string or an object with one key (an enum)"))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    /// Nothing crosses into wasm for a value nobody reads.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }
}

/// An array's elements, in order.
struct Items {
    array: js_sys::Array,
    next: u32,
    len: u32,
    /// The elements' depth.
    depth: u16,
}

impl Items {
    fn new(array: js_sys::Array, depth: u16) -> Self {
        let len = array.length();
        Items {
            array,
            next: 0,
            len,
            depth,
        }
    }
}

impl<'de> SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        if self.next >= self.len {
            return Ok(None);
        }
        let at = self.next;
        self.next += 1;
        seed.deserialize(Value(self.array.get(at), self.depth, false))
            .map(Some)
            .map_err(|e| e.within(format_args!("[{at}]")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some((self.len - self.next) as usize)
    }
}

/// An object's own enumerable keys and their values, in `Object.keys` order.
struct Fields {
    object: JsValue,
    keys: js_sys::Array,
    next: u32,
    len: u32,
    /// The key of the value to be read next.
    key: JsValue,
    /// The values' depth.
    depth: u16,
}

impl Fields {
    fn new(object: JsValue, depth: u16) -> Self {
        let keys = js_sys::Object::keys(object.unchecked_ref::<js_sys::Object>());
        let len = keys.length();
        Fields {
            object,
            keys,
            next: 0,
            len,
            key: JsValue::UNDEFINED,
            depth,
        }
    }
}

impl<'de> MapAccess<'de> for Fields {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.next >= self.len {
            return Ok(None);
        }
        self.key = self.keys.get(self.next);
        self.next += 1;
        seed.deserialize(Value(self.key.clone(), self.depth, true))
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let value = js_sys::Reflect::get(&self.object, &self.key).unwrap_or(JsValue::UNDEFINED);
        seed.deserialize(Value(value, self.depth, false))
            .map_err(|e| {
                let key = self.key.as_string().unwrap_or_default();
                e.within(format_args!(".{key}"))
            })
    }

    fn size_hint(&self) -> Option<usize> {
        Some((self.len - self.next) as usize)
    }
}

/// `{"Variant": value}`.
struct Variant {
    tag: String,
    value: Value,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = Value;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Value), Error> {
        let tag: de::value::StringDeserializer<Error> = self.tag.into_deserializer();
        let tag = seed.deserialize(tag)?;
        Ok((tag, self.value))
    }
}

impl<'de> VariantAccess<'de> for Value {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    /// An object, or an array of the fields in order, as a struct.
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_struct("", fields, visitor)
    }
}
