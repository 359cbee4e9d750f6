//! The top of the routing: socket.io, the three fixed documents and the API, told apart by
//! their paths with plain comparisons. poem's `Route` (a radix tree, a boxed endpoint per
//! entry, and for `nest` a rewritten URI and extensions of its own) did the same at a
//! measurable cost per request (`bench/results/per-request-overhead-20261203.md`); the
//! API's operations are routed by `Operations`.

use poem::endpoint::BoxEndpoint;
use poem::{Endpoint, IntoResponse, Request, Response};

/// See the module documentation.
pub(crate) struct Mount<S, A> {
    /// Serves `prefix` and every path under it, on the full path (socketioxide routes on it).
    pub(crate) prefix: &'static str,
    pub(crate) prefixed: S,
    /// Serve exactly these paths.
    pub(crate) fixed: Vec<(&'static str, BoxEndpoint<'static, Response>)>,
    /// Serves every other path.
    pub(crate) rest: A,
}

impl<S, A> Mount<S, A> {
    fn is_prefixed(&self, path: &str) -> bool {
        path.strip_prefix(self.prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

impl<S: Endpoint, A: Endpoint> Endpoint for Mount<S, A> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let path = request.uri().path();
        if self.is_prefixed(path) {
            return Ok(self.prefixed.call(request).await?.into_response());
        }
        if let Some((_, endpoint)) = self.fixed.iter().find(|(fixed, _)| *fixed == path) {
            return endpoint.call(request).await;
        }
        Ok(self.rest.call(request).await?.into_response())
    }
}

#[cfg(test)]
mod tests {
    use poem::http::StatusCode;
    use poem::{EndpointExt, get, handler};

    use super::*;

    #[handler]
    fn named(request: &Request) -> String {
        request.uri().path().to_owned()
    }

    fn mount() -> Mount<impl Endpoint, impl Endpoint> {
        Mount {
            prefix: "/socket.io",
            prefixed: named.map_to_response(),
            fixed: vec![("/docs", get(poem::endpoint::make_sync(|_| "docs")).boxed())],
            rest: poem::endpoint::make_sync(|_| "rest"),
        }
    }

    async fn body(
        mount: &Mount<impl Endpoint, impl Endpoint>,
        method: &str,
        uri: &str,
    ) -> (StatusCode, String) {
        crate::test_support::answer(mount, method.parse().unwrap(), uri).await
    }

    #[tokio::test]
    async fn each_path_reaches_its_endpoint_with_the_full_path() {
        let mount = mount();
        assert_eq!(
            body(&mount, "GET", "/socket.io/?EIO=4").await.1,
            "/socket.io/"
        );
        assert_eq!(body(&mount, "GET", "/socket.io").await.1, "/socket.io");
        assert_eq!(body(&mount, "GET", "/docs").await.1, "docs");
        assert_eq!(body(&mount, "GET", "/socket.iox").await.1, "rest");
        assert_eq!(body(&mount, "GET", "/docs/").await.1, "rest");
        assert_eq!(body(&mount, "GET", "/api/v1/users").await.1, "rest");
    }

    #[tokio::test]
    async fn a_fixed_path_keeps_its_methods() {
        let (status, _) = body(&mount(), "POST", "/docs").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
}
