//! CORS for loopback origins only (the wasm-bindgen test runner serves the browser tests
//! from its own port, and they use credentials and custom headers).

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

/// Allows `http://127.0.0.1`, `http://localhost` and `http://[::1]` on any port, with
/// credentials, any request header (mirrored) and GET/POST/OPTIONS, and exposes the
/// response headers a client reads that are not CORS-safelisted: `Content-Length`,
/// `Last-Event-ID` and `Retry-After` (without it, a cross-origin `fetch` never sees the
/// delay a 429 or 503 asks for), plus `Content-Type`, `Cache-Control` and the
/// scenario log's `X-Log-More-From`.
pub(crate) fn layer() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|origin: &HeaderValue, _| {
            is_loopback_origin(origin.as_bytes())
        }))
        .allow_credentials(true)
        .allow_headers(AllowHeaders::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .expose_headers([
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CACHE_CONTROL,
            HeaderName::from_static("last-event-id"),
            header::RETRY_AFTER,
            HeaderName::from_static(crate::scenario::LOG_MORE_FROM),
        ])
}

/// Middleware outside [`layer`]: a response that does not allow the request's origin
/// carries no CORS headers at all. (tower-http adds `allow-credentials` and
/// `expose-headers` to every response to a request with an `Origin`; browsers ignore
/// them without `allow-origin`, but other origins should not see them either.)
///
/// A response that does allow it also carries `Timing-Allow-Origin` for that origin:
/// without it, the browser hides the Resource Timing details of a cross-origin
/// request, and the native transport cannot tell whether an answer came when the
/// browser's EventSource gives up (Chromium shows no status of an answer EventSource
/// refuses either way).
///
/// A URL whose query has `cors=refuse` (or a response marked [`Bare`]) gets no CORS
/// headers for any origin, as from a server that does not allow the page's: a test of
/// what a client does when CORS refuses the answer (its request reached the server,
/// and is logged). It gets
/// `Cross-Origin-Resource-Policy: cross-origin`, so that a `no-cors` request reads it.
pub(crate) async fn strip_unallowed(req: Request, next: Next) -> Response {
    let refuse = asks(&req, "cors=refuse");
    let mut response = next.run(req).await;
    let refuse = refuse || response.extensions().get::<Bare>().is_some();
    let headers = response.headers_mut();
    if refuse {
        headers.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
        // Still readable as an opaque answer (`no-cors`) by a page that requires it,
        // as the wasm-bindgen test runner's does (Cross-Origin-Embedder-Policy).
        headers.insert(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        );
    }
    if let Some(origin) = headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).cloned() {
        headers.insert(HeaderName::from_static("timing-allow-origin"), origin);
    } else {
        for name in [
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            header::ACCESS_CONTROL_ALLOW_METHODS,
            header::ACCESS_CONTROL_MAX_AGE,
        ] {
            headers.remove(name);
        }
    }
    response
}

/// Marks a response that goes with no CORS headers, as `cors=refuse` does (a scenario's
/// error page as from a proxy: see [`strip_unallowed`]).
#[derive(Clone, Copy)]
pub(crate) struct Bare;

/// Middleware outside [`layer`]: a CORS preflight (`OPTIONS` with
/// `Access-Control-Request-Method`) of a URL whose query has `preflight=refuse` gets
/// 403 with no CORS headers, as from a server written for EventSource, whose requests
/// need no preflight. A test of a client that sends custom headers (a fetch client's
/// `Last-Event-ID`) uses it on any route.
pub(crate) async fn refuse_preflight(req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS
        && asks(&req, "preflight=refuse")
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return (
            StatusCode::FORBIDDEN,
            "preflight refused (preflight=refuse): this URL allows only requests that need none",
        )
            .into_response();
    }
    next.run(req).await
}

/// Whether the request's query has the pair `pair` (`name=value`).
fn asks(req: &Request, pair: &str) -> bool {
    req.uri()
        .query()
        .is_some_and(|query| query.split('&').any(|p| p == pair))
}

/// Whether `origin` is `http://` + a loopback host + an optional port.
pub(crate) fn is_loopback_origin(origin: &[u8]) -> bool {
    let Ok(origin) = std::str::from_utf8(origin) else {
        return false;
    };
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let (host, port) = match rest.strip_prefix("[::1]") {
        Some(port) => ("[::1]", port),
        None => rest.split_at(rest.find(':').unwrap_or(rest.len())),
    };
    let host_ok = host.eq_ignore_ascii_case("127.0.0.1")
        || host.eq_ignore_ascii_case("localhost")
        || host == "[::1]";
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|digits| {
            !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && digits.parse::<u16>().is_ok()
        });
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::is_loopback_origin;

    #[test]
    fn loopback_origins() {
        for ok in [
            "http://127.0.0.1:12345",
            "http://localhost:8000",
            "http://[::1]:1",
            "http://localhost",
        ] {
            assert!(is_loopback_origin(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "http://example.com",
            "https://127.0.0.1:1",
            "http://127.0.0.1.evil.com",
            "http://localhost:99999",
            "http://localhost:",
            "http://localhost:80/path",
            "http://[::1]x",
            "null",
        ] {
            assert!(!is_loopback_origin(bad.as_bytes()), "{bad}");
        }
    }
}
