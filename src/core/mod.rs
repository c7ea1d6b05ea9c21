//! The pure core: the parser, the reconnection policy, what ended an attempt, the
//! attempt counter, exactly-once and gaps, connection states, and the handler tables.
//!
//! Nothing here imports web code: every module is tested natively, and the clock and
//! the random source are passed in.

pub(crate) mod attempts;
pub(crate) mod dedupe;
pub(crate) mod failure;
pub(crate) mod handlers;
pub mod parse;
pub(crate) mod retry;
#[cfg(any(feature = "fetch", feature = "probe"))]
pub(crate) mod retry_after;
pub(crate) mod state;
pub(crate) mod typemap;
