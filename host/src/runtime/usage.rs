//! What one plugin call used of its limits.

use std::time::Duration;

use super::Directive;
use super::convert;
use super::store::CallCtx;

/// Resources one call of [`Plugin::handle_with_usage`] used, to compare
/// with the plugin's [`PluginLimits`].
///
/// [`Plugin::handle_with_usage`]: super::Plugin::handle_with_usage
/// [`PluginLimits`]: super::PluginLimits
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallUsage {
    /// Wall-clock time of instantiation and `handle`, the span the deadline covers.
    pub elapsed: Duration,
    /// The largest size any one linear memory of the instance reached, in
    /// bytes, including its initial size. Compare with `max_memory_bytes`,
    /// which caps each memory.
    pub peak_memory_bytes: usize,
    /// Bytes of `log::write` records kept: messages plus field keys and values.
    pub log_bytes: usize,
    /// `log::write` records dropped past `max_log_bytes_per_call`.
    pub log_records_dropped: u32,
    /// Directives the plugin returned, or `None` when it returned none
    /// because it trapped or was stopped.
    pub directives: Option<usize>,
    /// Text bytes of the reply directive, 0 without one. `None` when the
    /// output failed validation or the call failed.
    pub reply_bytes: Option<usize>,
}

impl CallUsage {
    /// Reads the counters of a finished call's store.
    pub(crate) fn measure(elapsed: Duration, ctx: &CallCtx) -> Self {
        Self {
            elapsed,
            peak_memory_bytes: ctx.limiter.peak_bytes(),
            log_bytes: ctx.host.log_bytes(),
            log_records_dropped: ctx.host.log_dropped(),
            directives: None,
            reply_bytes: None,
        }
    }
}

/// Returns the text bytes of the replies among `directives`, measured as
/// `max_reply_bytes` counts them.
pub(crate) fn reply_bytes(directives: &[Directive]) -> usize {
    directives
        .iter()
        .filter_map(|directive| match directive {
            Directive::Reply(reply) => Some(convert::reply_text_bytes(reply)),
            _ => None,
        })
        .sum()
}
