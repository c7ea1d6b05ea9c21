//! `GET /examples.json`: which example apps are built and served at `/examples/<name>/`.
//!
//! Answers `200 {"built": ["leptos-chat", "yew-chat"]}`: the names of the directories of
//! the examples directory (`--examples`) that hold an `index.html`, sorted; `[]` when
//! there is none yet (`npm start` serves the demo before it builds them, and the demo's
//! links say "building…" until their app is listed).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::AppState;

/// At most this many names are listed.
const MAX_LISTED: usize = 64;

/// The `/examples.json` handler.
pub(crate) async fn examples(State(state): State<AppState>) -> Json<Value> {
    let dir = state.config().examples_dir.clone();
    let built = tokio::task::spawn_blocking(move || built(&dir))
        .await
        .unwrap_or_default();
    Json(json!({ "built": built }))
}

fn built(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|entry| entry.path().join("index.html").is_file())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .take(MAX_LISTED)
        .collect();
    names.sort();
    names
}
