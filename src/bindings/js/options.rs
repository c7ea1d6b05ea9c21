//! Reading `new TypedEventSource(url, options)`'s options object into [`Options`].

use crate::core::state::excerpt;
use crate::options::{Options, Transport};
use js_sys::{Object, Reflect};
use std::time::Duration;
use wasm_bindgen::prelude::*;

/// Reads `new TypedEventSource(url, options)`'s options object. Hand-written over
/// `Reflect` rather than serde: it is a few dozen lines where serde-wasm-bindgen and
/// the float formatting of its error messages cost tens of kilobytes of wasm.
pub(super) struct JsOptions {
    object: JsValue,
    /// What the object is called in error messages: `options` or `options.retry`.
    path: &'static str,
}

/// The keys `new TypedEventSource(url, options)` knows, for "unknown option" errors.
const OPTION_KEYS: &[&str] = &[
    "withCredentials",
    "transport",
    "method",
    "body",
    "headers",
    "lastEventId",
    "resumeParam",
    "heartbeatMs",
    "heartbeatEvent",
    "retryMs",
    "retry",
    "reconnectOnOnline",
    "pauseWhenHidden",
    "dedupe",
    "maxEventSize",
    "mode",
    "doneData",
    "retryRequest",
    "share",
];
const RETRY_KEYS: &[&str] = &[
    "baseMs",
    "maxMs",
    "floorMs",
    "maxAttempts",
    "maxElapsedMs",
    "jitter",
];

/// A bad option, thrown as a `TypeError`, as WebIDL throws for a dictionary member it
/// cannot convert (and `fetch` for an init it refuses).
fn invalid(message: String) -> JsValue {
    js_sys::TypeError::new(&format!("invalid TypedEventSource options: {message}")).into()
}

/// What a value is, not what it holds (it may hold a secret): "an array", "a Map"...
/// (as JavaScript's `kindOf`).
fn kind_of(value: &JsValue) -> String {
    if value.is_null() {
        return "null".to_owned();
    }
    if js_sys::Array::is_array(value) {
        return "an array".to_owned();
    }
    if !value.is_object() {
        return match value.js_typeof().as_string() {
            Some(t) => format!("a {t}"),
            None => "a value".to_owned(),
        };
    }
    let tag = js_sys::Reflect::get(value, &"constructor".into())
        .and_then(|c| js_sys::Reflect::get(&c, &"name".into()))
        .ok()
        .and_then(|n| n.as_string())
        .filter(|n| !n.is_empty() && n != "Object");
    let Some(tag) = tag else {
        return "an object whose prototype is not Object.prototype (another window's, or \
                Object.create's)"
            .to_owned();
    };
    // (Not before U: a Uint8Array, a URLSearchParams.)
    let article = if tag.starts_with(['A', 'E', 'I', 'O']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {tag}")
}

/// A value as a short text for an error message (its first [`SHOWN`] characters),
/// without formatting floats in Rust. As `checkOptions` in js/index.js shows it.
fn shown(value: &JsValue) -> String {
    if value.is_undefined() {
        return "undefined".to_owned();
    }
    // (JSON has none of these: it writes null.)
    if let Some(n) = value.as_f64().filter(|n| !n.is_finite()) {
        let name = match () {
            _ if n.is_nan() => "NaN",
            _ if n > 0.0 => "Infinity",
            _ => "-Infinity",
        };
        return name.to_owned();
    }
    if let Some(s) = value.as_string() {
        return format!("the string \"{}\"", excerpt(&s, SHOWN));
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .map_or_else(
            || "a value that is not JSON".to_owned(),
            |s| excerpt(&s, SHOWN).into_owned(),
        )
}

/// How many characters of a value an error shows.
const SHOWN: usize = 80;

impl JsOptions {
    /// `value` as an options object (`undefined` and `null` are none); checks that
    /// every key is one of `known`.
    fn new(value: JsValue, path: &'static str, known: &[&str]) -> Result<Option<Self>, JsValue> {
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        // Any object, as WebIDL takes a dictionary: `dyn_ref::<Object>` is `instanceof
        // Object`, which refuses `Object.create(null)` and another realm's objects.
        if !(value.is_object() || value.is_function()) {
            return Err(invalid(format!(
                "`{path}` must be an object, got {}",
                shown(&value)
            )));
        }
        let object = value.unchecked_ref::<Object>();
        for key in Object::keys(object).iter() {
            let key = key.as_string().unwrap_or_default();
            if !known.contains(&key.as_str()) {
                return Err(invalid(format!(
                    "unknown option `{key}` in `{path}`; the options are {}",
                    known.join(", ")
                )));
            }
        }
        Ok(Some(JsOptions {
            object: value,
            path,
        }))
    }

    /// The field `key`; `None` when absent or `undefined`.
    fn get(&self, key: &str) -> Option<JsValue> {
        Reflect::get(&self.object, &JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined())
    }

    fn string(&self, key: &str) -> Result<Option<String>, JsValue> {
        self.get(key).map(|v| self.text(key, &v)).transpose()
    }

    /// `value`, read from `key`, as a string.
    fn text(&self, key: &str, value: &JsValue) -> Result<String, JsValue> {
        value.as_string().ok_or_else(|| {
            // A body given as an object: JSON's hint for a plain one (or an array); a
            // FormData, Blob or stream, which JSON.stringify makes "{}", by its kind.
            let kind = kind_of(value);
            let (got, hint) = match () {
                _ if key != "body" || !value.is_object() => (shown(value), ""),
                _ if kind == "an array" || kind.starts_with("an object whose") => {
                    (shown(value), "; send JSON as JSON.stringify(body)")
                }
                _ => (kind, " (a body is sent as text only)"),
            };
            invalid(format!(
                "`{}.{key}` must be a string, got {got}{hint}",
                self.path
            ))
        })
    }

    fn flag(&self, key: &str) -> Result<bool, JsValue> {
        match self.get(key) {
            None => Ok(false),
            Some(v) => v.as_bool().ok_or_else(|| {
                invalid(format!(
                    "`{}.{key}` must be true or false, got {}",
                    self.path,
                    shown(&v)
                ))
            }),
        }
    }

    /// A whole number from 0 to `u32::MAX`.
    fn count(&self, key: &str) -> Result<Option<u32>, JsValue> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => {
                    Ok(Some(n as u32))
                }
                _ => Err(invalid(format!(
                    "`{}.{key}` must be a whole number from 0 to 4294967295, got {}",
                    self.path,
                    shown(&v)
                ))),
            },
        }
    }

    fn millis(&self, key: &str) -> Result<Option<Duration>, JsValue> {
        Ok(self.count(key)?.map(|ms| Duration::from_millis(ms.into())))
    }

    pub(super) fn from_js(value: JsValue) -> Result<Options, JsValue> {
        let Some(js) = JsOptions::new(value, "options", OPTION_KEYS)? else {
            return Ok(Options::new());
        };
        let mut options = Options::new();
        match js.string("transport")?.as_deref() {
            // Unset: native, or fetch in request mode.
            None => {}
            Some("native") => options = options.transport(Transport::Native),
            Some("fetch") => options = options.transport(Transport::Fetch),
            Some(other) => {
                return Err(invalid(format!(
                    "unknown transport \"{other}\"; use \"native\" or \"fetch\""
                )))
            }
        }
        match js.string("mode")?.as_deref() {
            None | Some("subscription") => {}
            Some("request") => options = options.request(),
            Some(other) => {
                return Err(invalid(format!(
                    "unknown mode \"{other}\"; use \"subscription\" (a feed, the default) or \
                     \"request\" (one answer)"
                )))
            }
        }
        // Each option is read once (a getter runs once), as WebIDL converts a dictionary.
        match js.get("doneData") {
            None => {}
            Some(v) if v.is_null() => options = options.done_data(None),
            Some(v) => options = options.done_data(Some(js.text("doneData", &v)?)),
        }
        let mut options = options
            .with_credentials(js.flag("withCredentials")?)
            .retry_request(js.flag("retryRequest")?)
            .reconnect_on_online(js.flag("reconnectOnOnline")?)
            .pause_when_hidden(js.flag("pauseWhenHidden")?)
            .dedupe(js.flag("dedupe")?);
        match js.get("share") {
            None => {}
            Some(v) => match (v.as_bool(), v.as_string()) {
                (Some(yes), _) => options = options.share_across_tabs(yes),
                (_, Some(key)) if !key.is_empty() => options = options.share_key(key),
                _ => {
                    return Err(invalid(format!(
                        "`options.share` must be true, false or a non-empty key string, got {}",
                        shown(&v)
                    )))
                }
            },
        }
        if let Some(method) = js.string("method")? {
            options = options.method(method);
        }
        if let Some(body) = js.string("body")? {
            options = options.body(body);
        }
        if let Some(headers) = js.get("headers") {
            // A plain object: the entries of a `Headers` or a `Map` are not its own
            // properties, so they would be dropped without a word.
            // (`Object.create(null)` is one too, though not `instanceof Object`.)
            let plain = headers.is_object() && {
                let proto = Object::get_prototype_of(&headers);
                proto.is_null() || proto == Object::get_prototype_of(&Object::new())
            };
            let Some(object) = plain.then(|| headers.unchecked_ref::<Object>()) else {
                return Err(invalid(format!(
                    "`options.headers` must be a plain object of strings ({{ name: value }}), got \
                     {} (not shown: headers may hold a secret); for a Headers, a Map or an array \
                     of pairs, pass Object.fromEntries(headers)",
                    kind_of(&headers)
                )));
            };
            for entry in Object::entries(object).iter() {
                let pair: js_sys::Array = entry.unchecked_into();
                let name = pair.get(0).as_string().unwrap_or_default();
                let Some(value) = pair.get(1).as_string() else {
                    // (Not shown: a header may hold a secret.)
                    let value = pair.get(1);
                    let got = match () {
                        _ if value.is_undefined() => "undefined",
                        _ if value.is_null() => "null",
                        _ => "a value that is not a string (not shown: a header may hold a secret)",
                    };
                    return Err(invalid(format!(
                        "the header {} must be a string, got {got}",
                        crate::options::header_name_shown(&name)
                    )));
                };
                options = options.header(name, value);
            }
        }
        if let Some(id) = js.string("lastEventId")? {
            options = options.last_event_id(id);
        }
        match js.get("resumeParam") {
            None => {}
            Some(v) if v.is_null() => options = options.resume_param(None),
            Some(v) => options = options.resume_param(Some(&js.text("resumeParam", &v)?)),
        }
        if let Some(after) = js.millis("heartbeatMs")? {
            options = options.heartbeat_timeout(after);
        }
        if let Some(event_type) = js.string("heartbeatEvent")? {
            options = options.heartbeat_event(event_type);
        }
        if let Some(base) = js.millis("retryMs")? {
            options = options.retry(base);
        }
        if let Some(retry) = JsOptions::new(
            js.get("retry").unwrap_or(JsValue::UNDEFINED),
            "options.retry",
            RETRY_KEYS,
        )? {
            let mut policy = options.reconnect.clone();
            if let Some(v) = retry.millis("baseMs")? {
                policy = policy.base(v);
            }
            if let Some(v) = retry.millis("maxMs")? {
                policy = policy.max_delay(v);
            }
            if let Some(v) = retry.millis("floorMs")? {
                policy = policy.floor(v);
            }
            if let Some(v) = retry.count("maxAttempts")? {
                policy = policy.max_attempts(v);
            }
            if let Some(v) = retry.millis("maxElapsedMs")? {
                policy = policy.max_elapsed(v);
            }
            if let Some(flag) = retry.get("jitter") {
                let Some(flag) = flag.as_bool() else {
                    return Err(invalid(format!(
                        "`options.retry.jitter` must be true or false, got {}",
                        shown(&flag)
                    )));
                };
                policy = policy.jitter(flag);
            }
            options = options.reconnect_policy(policy);
        }
        if let Some(bytes) = js.count("maxEventSize")? {
            options = options.max_event_size(bytes as usize);
        }
        Ok(options)
    }
}
