//! The loopback `Host` check: the server answers only requests addressed to a loopback
//! name, so a web page on another site cannot reach it through DNS rebinding.

use std::net::{Ipv4Addr, Ipv6Addr};

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Middleware on the whole app: a request whose `Host` header (or, without one, the
/// authority of its URI, as HTTP/2 sends it) is not a loopback host gets 421
/// Misdirected Request with a JSON error; so does a request with neither.
pub(crate) async fn check_host(req: Request, next: Next) -> Response {
    let host = match req.headers().get(header::HOST) {
        Some(value) => Some(value.as_bytes().to_vec()),
        None => req
            .uri()
            .authority()
            .map(|a| a.as_str().as_bytes().to_vec()),
    };
    match host {
        Some(host) if is_loopback_host(&host) => next.run(req).await,
        Some(host) => {
            let shown: String = String::from_utf8_lossy(&host).chars().take(100).collect();
            ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "this server answers only loopback hosts, not `{shown}`; use http://127.0.0.1:PORT or http://localhost:PORT"
                ),
            )
            .into_response()
        }
        None => ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "the request has no host; send a Host header naming 127.0.0.1, localhost or [::1]",
        )
        .into_response(),
    }
}

/// Whether `host` is `localhost`, `*.localhost`, an address in `127.0.0.0/8` or
/// `[::1]`, with or without a `:port`.
pub(crate) fn is_loopback_host(host: &[u8]) -> bool {
    let Ok(host) = std::str::from_utf8(host) else {
        return false;
    };
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            return false;
        };
        if !inside.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback()) {
            return false;
        }
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        (None, port)
    } else {
        match host.split_once(':') {
            Some((name, port)) => (Some(name), Some(port)),
            None => (Some(host), None),
        }
    };
    if let Some(port) = port {
        let digits = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
        if !digits || port.parse::<u16>().is_err() {
            return false;
        }
    }
    match name {
        None => true,
        Some(name) => {
            let lower = name.to_ascii_lowercase();
            if lower == "localhost" {
                return true;
            }
            if let Some(sub) = lower.strip_suffix(".localhost") {
                return !sub.is_empty()
                    && sub.split('.').all(|label| {
                        !label.is_empty()
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    });
            }
            lower.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_hosts() {
        for ok in [
            "localhost",
            "localhost:8080",
            "LocalHost:1",
            "app.localhost",
            "a.b-c.localhost:9",
            "127.0.0.1",
            "127.0.0.1:8080",
            "127.1.2.3:80",
            "[::1]",
            "[::1]:8080",
            "[0:0:0:0:0:0:0:1]:1",
        ] {
            assert!(is_loopback_host(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            "example.com",
            "localhost.example.com",
            "127.0.0.1.nip.io",
            "128.0.0.1",
            "0.0.0.0:80",
            "[::2]:80",
            "[::1]x",
            "[::1]:",
            "localhost:",
            "localhost:99999",
            "localhost:8a",
            ".localhost",
            "a..localhost",
            "::1",
            "127.0.0.1:80:80",
        ] {
            assert!(!is_loopback_host(bad.as_bytes()), "{bad}");
        }
    }
}
