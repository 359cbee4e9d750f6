//! Which trace the work in progress belongs to (W3C Trace Context). The tracing adapter keeps
//! it with the current span (and hands it to OpenTelemetry when export is on); [`NoTraces`]
//! keeps nothing, for tests and tools.

use crate::trace::TraceParent;

/// The ambient trace of the current span.
pub trait TraceContext: Send + Sync + 'static {
    /// Makes the span just entered (a request's or a job's) continue `parent`, or start a
    /// new trace without one, and returns the trace it now belongs to.
    fn continue_trace(&self, parent: Option<TraceParent>) -> TraceParent;

    /// The trace of the current span, its innermost span as the parent: what work started
    /// now (a job enqueued) should continue.
    fn current(&self) -> Option<TraceParent>;
}

/// Continues the parent's trace (or starts a random one) and remembers nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTraces;

impl TraceContext for NoTraces {
    fn continue_trace(&self, parent: Option<TraceParent>) -> TraceParent {
        parent.map_or_else(TraceParent::generate, |parent| parent.child())
    }

    fn current(&self) -> Option<TraceParent> {
        None
    }
}
