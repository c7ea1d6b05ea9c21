//! Faces of the source for other worlds: the JavaScript class (`js`) and the Leptos and
//! Yew hooks. Each builds on the public Rust API of [`crate::EventSource`].

#[cfg(feature = "js")]
pub mod js;
#[cfg(feature = "leptos")]
pub mod leptos;
#[cfg(feature = "yew")]
pub mod yew;
