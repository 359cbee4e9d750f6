-- The W3C traceparent of the work that enqueued the job (a request's span), so that its
-- attempts are spans of the same trace. NULL when there was none.
ALTER TABLE jobs ADD COLUMN trace_parent text;
