//! `POST /publish` validation: every error is JSON with the right status.

mod common;

use common::spawn;
use serde_json::json;

async fn assert_error(
    server: &common::Server,
    ct: Option<&str>,
    body: &[u8],
    status: u16,
    mentions: &str,
) {
    let (got, answer) = server.publish_raw(ct, body.to_vec()).await;
    assert_eq!(got, status, "{}: {answer}", String::from_utf8_lossy(body));
    let message = answer["error"].as_str().expect("error string");
    assert!(
        message.contains(mentions),
        "{message:?} should mention {mentions:?}"
    );
    assert!(
        message.starts_with(|c: char| c.is_lowercase() || c == '`'),
        "a sentence starting in lowercase: {message}"
    );
}

#[tokio::test]
async fn invalid_bodies_are_400() {
    let server = spawn().await;
    let json_ct = Some("application/json");
    let cases: &[(&str, &str)] = &[
        ("{not json", "not valid json"),
        ("", "not valid json"),
        ("[1, 2]", "json object"),
        (r#"{"data": 1}"#, "missing `channel`"),
        (r#"{"channel": 5, "data": 1}"#, "`channel` must be a string"),
        (r#"{"channel": "news"}"#, "missing `data`"),
        (
            r#"{"channel": "has space", "data": 1}"#,
            "invalid channel name",
        ),
        (r#"{"channel": "", "data": 1}"#, "invalid channel name"),
        (
            r#"{"channel": "caf\u00e9", "data": 1}"#,
            "invalid channel name",
        ),
        (
            r#"{"channel": "news", "event": "a\nb", "data": 1}"#,
            "`event` must not contain line breaks",
        ),
        (
            r#"{"channel": "news", "event": "a\rb", "data": 1}"#,
            "`event` must not contain line breaks",
        ),
        (
            r#"{"channel": "news", "event": 3, "data": 1}"#,
            "`event` must be a string",
        ),
        (
            r#"{"channel": "news", "id": "1\n", "data": 1}"#,
            "`id` must not contain",
        ),
        (
            r#"{"channel": "news", "id": "1\r", "data": 1}"#,
            "`id` must not contain",
        ),
        (
            r#"{"channel": "news", "id": "1\u0000", "data": 1}"#,
            "`id` must not contain",
        ),
        // Regression (a review): a number, as the server's own ids look, was refused
        // without saying what came or how to send it.
        (
            r#"{"channel": "news", "id": 1, "data": 1}"#,
            "`id` must be a string, got the number 1; send it as \"1\"",
        ),
        (
            r#"{"channel": "news", "id": [1], "data": 1}"#,
            "`id` must be a string, got an array",
        ),
        // Regression: ids a reconnect cannot send back as they are were taken: a
        // control character made the reconnect a bare 400 (EventSource stops for good),
        // and a space at either end was trimmed, so the resume found no such id.
        (
            r#"{"channel": "news", "id": "a\u0001b", "data": 1}"#,
            "`id` must not contain control characters",
        ),
        (
            r#"{"channel": "news", "id": "\ta", "data": 1}"#,
            "`id` must not begin or end with a space",
        ),
        (
            r#"{"channel": "news", "id": "a\u007f", "data": 1}"#,
            "`id` must not contain control characters",
        ),
        (
            r#"{"channel": "news", "id": " a", "data": 1}"#,
            "`id` must not begin or end with a space",
        ),
        (
            r#"{"channel": "news", "id": "a ", "data": 1}"#,
            "`id` must not begin or end with a space",
        ),
        // Regression (a review): an empty id was stored and sent as `id:`, which
        // clears the client's last event ID, so its next reconnect resumed from
        // nothing; an empty event, or a misspelt field, sent a `message` in silence.
        (
            r#"{"channel": "news", "id": "", "data": 1}"#,
            "`id` must not be empty",
        ),
        (
            r#"{"channel": "news", "event": "", "data": 1}"#,
            "`event` must not be empty",
        ),
        (
            r#"{"channel": "news", "evnet": "chat", "data": 1}"#,
            "unknown field `evnet`",
        ),
        // Regression: an event named "reset" went out as the server's own history-lost
        // signal, and every client of the channel started over.
        (
            r#"{"channel": "news", "event": "reset", "data": 1}"#,
            "`event` \"reset\" is the server's own",
        ),
    ];
    for (body, mentions) in cases {
        assert_error(&server, json_ct, body.as_bytes(), 400, mentions).await;
    }
    // Regression (a review): an id of any length was held, and each resume compared
    // the client's Last-Event-ID with every held id under the store's lock (1,000 ids
    // of 64 KB, equal in length: 65 MB a connect). Ids are bounded now.
    let ok = format!(
        r#"{{"channel": "news", "id": "{}", "data": 1}}"#,
        "a".repeat(1024)
    );
    let (status, answer) = server.publish_raw(json_ct, ok.into_bytes()).await;
    assert_eq!(status, 200, "an id of 1,024 bytes: {answer}");
    let long = format!(
        r#"{{"channel": "news", "id": "{}", "data": 1}}"#,
        "a".repeat(1025)
    );
    assert_error(
        &server,
        json_ct,
        long.as_bytes(),
        400,
        "over the limit of 1024",
    )
    .await;
    let long = format!(r#"{{"channel": "{}", "data": 1}}"#, "a".repeat(65));
    assert_error(
        &server,
        json_ct,
        long.as_bytes(),
        400,
        "invalid channel name",
    )
    .await;
    let longest = format!(r#"{{"channel": "{}", "data": 1}}"#, "a".repeat(64));
    assert_eq!(
        server.publish_raw(json_ct, longest.into_bytes()).await.0,
        200
    );
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let server = spawn().await;
    let body = br#"{"channel": "news", "data": 1}"#;
    assert_error(&server, Some("text/plain"), body, 415, "application/json").await;
    assert_error(&server, None, body, 415, "application/json").await;
    assert_error(
        &server,
        Some("application/jsonx"),
        body,
        415,
        "application/json",
    )
    .await;
    let (status, _) = server
        .publish_raw(Some("Application/JSON; charset=utf-8"), body.to_vec())
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn oversize_body_is_413_json() {
    let server = spawn().await;
    let big = "x".repeat(70 * 1024);
    let body = json!({ "channel": "news", "data": big }).to_string();
    assert_error(
        &server,
        Some("application/json"),
        body.as_bytes(),
        413,
        "64 KiB",
    )
    .await;

    // Just under the limit is fine.
    let fits = "x".repeat(60 * 1024);
    let (status, _) = server
        .publish(json!({ "channel": "news", "data": fits }))
        .await;
    assert_eq!(status, 200);
}
