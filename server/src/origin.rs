//! The cross-site check on routes that change the server's state: the loopback `Host`
//! check stops DNS rebinding, but any web page can still send a simple request (a
//! `no-cors` POST, an `<img>`) to `http://127.0.0.1:PORT`. Browsers say where such a
//! request comes from in `Origin` and `Sec-Fetch-Site`; this check reads them.

use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::cors::is_loopback_origin;
use crate::error::ApiError;

/// Middleware on the routes that change state (`/events`, `/publish`, `/control/*`,
/// the scenarios): a request from another site gets 403 with a JSON error. Allowed:
///
/// - an `Origin` that is a loopback origin (the origins CORS allows: the
///   wasm-bindgen test runner serves the browser tests from its own loopback port) or
///   this server's own origin (`http://` + the `Host`);
/// - without `Origin`, a `Sec-Fetch-Site` of `same-origin`, `same-site` (a page on
///   the same loopback host, any port) or `none` (the user typed the address);
/// - a request with neither header (curl, test clients, anything but a browser).
///
/// Refused: any other `Origin` (`null` too), and `Sec-Fetch-Site: cross-site` (or an
/// unknown value) without an `Origin`, as an `<img src>` on another site sends.
pub(crate) async fn check_origin(req: Request, next: Next) -> Response {
    match refusal(req.headers(), req.uri().authority().map(|a| a.as_str())) {
        None => next.run(req).await,
        Some(error) => error.into_response(),
    }
}

/// What the refused requests are told to do instead.
const INSTEAD: &str = "send it from a page served by this server or by a loopback origin (http://127.0.0.1:PORT, http://localhost:PORT, http://[::1]:PORT), or from a client that is not a browser (curl)";

/// Why the request is refused, or `None` when it is allowed (see [`check_origin`]).
/// `authority` is the URI's authority, used when there is no `Host` header (HTTP/2).
fn refusal(headers: &HeaderMap, authority: Option<&str>) -> Option<ApiError> {
    let forbidden = |message: String| Some(ApiError::new(StatusCode::FORBIDDEN, message));
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.as_bytes();
        let host = headers
            .get(header::HOST)
            .map(|h| h.as_bytes())
            .or(authority.map(str::as_bytes));
        if is_loopback_origin(origin) || host.is_some_and(|host| is_same_origin(origin, host)) {
            return None;
        }
        let shown: String = String::from_utf8_lossy(origin).chars().take(100).collect();
        return forbidden(format!(
            "requests from the origin `{shown}` may not change this server's state (publish, control, streams, scenarios); {INSTEAD}"
        ));
    }
    match headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
        None | Some(b"same-origin" | b"same-site" | b"none") => None,
        Some(site) => {
            let shown: String = String::from_utf8_lossy(site).chars().take(40).collect();
            forbidden(format!(
                "a request with `Sec-Fetch-Site: {shown}` comes from another site and may not change this server's state (publish, control, streams, scenarios); {INSTEAD}"
            ))
        }
    }
}

/// Whether `origin` is `http://` followed by `host` (the `Host` header, which the host
/// check has already found to be a loopback name), compared without regard to case.
fn is_same_origin(origin: &[u8], host: &[u8]) -> bool {
    origin
        .strip_prefix(b"http://")
        .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn who_may_change_state() {
        let host = ("host", "app.localhost:8080");
        for allowed in [
            vec![],
            vec![host],
            vec![host, ("origin", "http://127.0.0.1:9000")],
            vec![host, ("origin", "http://localhost:1")],
            vec![host, ("origin", "http://APP.localhost:8080")],
            vec![
                host,
                ("origin", "http://[::1]:2"),
                ("sec-fetch-site", "cross-site"),
            ],
            vec![host, ("sec-fetch-site", "same-origin")],
            vec![host, ("sec-fetch-site", "same-site")],
            vec![host, ("sec-fetch-site", "none")],
        ] {
            assert!(refusal(&headers(&allowed), None).is_none(), "{allowed:?}");
        }
        for refused in [
            vec![host, ("origin", "http://evil.example")],
            vec![
                host,
                ("origin", "http://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
            vec![host, ("origin", "null")],
            vec![host, ("origin", "https://app.localhost:8080")],
            vec![host, ("origin", "http://other.localhost:8080")],
            vec![host, ("sec-fetch-site", "cross-site")],
            vec![host, ("sec-fetch-site", "elsewhere")],
        ] {
            let error = refusal(&headers(&refused), None);
            assert!(
                error.is_some_and(|e| e.into_response().status() == StatusCode::FORBIDDEN),
                "{refused:?}"
            );
        }
        // HTTP/2 carries the host in the URI.
        let h2 = headers(&[("origin", "http://app.localhost:8080")]);
        assert!(refusal(&h2, Some("app.localhost:8080")).is_none());
        assert!(refusal(&h2, None).is_some());
    }
}
