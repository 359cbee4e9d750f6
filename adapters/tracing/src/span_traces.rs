//! The [`TraceContext`] port on the current `tracing` span. With OpenTelemetry export on,
//! the trace is the span's OpenTelemetry context (so exported spans and log lines agree);
//! without it, the trace is kept in the span's extensions in the subscriber's registry.
//! Without a subscriber at all (a test that installs none), traces are still continued and
//! started, and nothing is remembered.

use domain::TraceParent;
use domain::ports::TraceContext;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan as _;

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpanTraces;

impl TraceContext for SpanTraces {
    fn continue_trace(&self, parent: Option<TraceParent>) -> TraceParent {
        let span = Span::current();
        // A span no layer takes (the log filter leaves requests out, and export is off):
        // nothing to export and nowhere to remember, so no subscriber lookups per request.
        if span.is_disabled() {
            return parent.map_or_else(TraceParent::generate, |parent| parent.child());
        }
        if let Some(parent) = parent {
            // Fails when export is off (no OpenTelemetry layer): the local path below.
            let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(
                SpanContext::new(
                    TraceId::from_bytes(parent.trace_id()),
                    SpanId::from_bytes(parent.parent_id()),
                    if parent.sampled() {
                        TraceFlags::SAMPLED
                    } else {
                        TraceFlags::default()
                    },
                    true,
                    TraceState::default(),
                ),
            ));
        }
        if let Some(exported) = exported_trace(&span) {
            return exported;
        }
        // A new trace's random parent id, or a random id of this span's own under a parent,
        // stands in as the parent of what this span starts.
        let trace = parent.map_or_else(TraceParent::generate, |parent| parent.child());
        span.with_subscriber(|(id, dispatch)| {
            if let Some(data) = dispatch
                .downcast_ref::<Registry>()
                .and_then(|registry| registry.span(id))
            {
                data.extensions_mut().replace(trace);
            }
        });
        trace
    }

    fn current(&self) -> Option<TraceParent> {
        let span = Span::current();
        exported_trace(&span).or_else(|| {
            span.with_subscriber(|(id, dispatch)| {
                let registry = dispatch.downcast_ref::<Registry>()?;
                registry
                    .span(id)?
                    .scope()
                    .find_map(|span| span.extensions().get::<TraceParent>().copied())
            })
            .flatten()
        })
    }
}

/// The span's OpenTelemetry trace, when export is on.
fn exported_trace(span: &Span) -> Option<TraceParent> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    if !span_context.is_valid() {
        return None;
    }
    TraceParent::new(
        span_context.trace_id().to_bytes(),
        span_context.span_id().to_bytes(),
        span_context.is_sampled(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt as _;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn without_a_subscriber_a_parent_is_continued_and_nothing_is_remembered() {
        let parent: TraceParent = PARENT.parse().unwrap();
        assert_eq!(
            SpanTraces.continue_trace(Some(parent)).trace_id(),
            parent.trace_id()
        );
        assert_ne!(
            SpanTraces.continue_trace(None).trace_id(),
            parent.trace_id()
        );
        assert_eq!(SpanTraces.current(), None);
    }

    #[test]
    fn the_trace_of_a_span_is_current_in_it_and_in_the_spans_it_contains() {
        let subscriber =
            Registry::default().with(tracing_subscriber::fmt::layer().with_test_writer());
        tracing::subscriber::with_default(subscriber, || {
            let parent: TraceParent = PARENT.parse().unwrap();
            let request = tracing::info_span!("request");
            let trace = request.in_scope(|| SpanTraces.continue_trace(Some(parent)));
            assert_eq!(trace.trace_id(), parent.trace_id());
            assert_ne!(trace.parent_id(), parent.parent_id(), "the span's own id");
            request.in_scope(|| {
                assert_eq!(SpanTraces.current(), Some(trace));
                tracing::info_span!("use case").in_scope(|| {
                    assert_eq!(SpanTraces.current(), Some(trace));
                });
            });
            assert_eq!(SpanTraces.current(), None, "outside the request");
            let other = tracing::info_span!("request");
            let new = other.in_scope(|| SpanTraces.continue_trace(None));
            assert_ne!(new.trace_id(), parent.trace_id());
            assert_eq!(other.in_scope(|| SpanTraces.current()), Some(new));
        });
    }
}
