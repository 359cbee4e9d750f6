//! The API's operations as one endpoint: the endpoints poem-openapi generates for each
//! operation (`OpenApi::add_routes`), routed here rather than through `OpenApiService`'s own
//! endpoint, which wraps its router in three more layers for every request (a boxed
//! endpoint, a response mapping, and a query-parsing step), and routes every path, fixed or
//! not, through a radix tree and a boxed method table
//! (`bench/results/per-request-overhead-20261203.md`).
//!
//! - A path without parameters (`/health`, `/api/v1/transfers`) is found by comparing
//!   strings, and its method by a scan of at most a handful.
//! - A path with parameters (`/api/v1/users/:param0`) goes through poem's `Route`: only poem's
//!   router can hand the path parameters to poem-openapi's extractors.
//!
//! What `OpenApiService` did is kept: the query string parsed into the extension
//! poem-openapi's `Query` parameters read, `HEAD` served by `GET` without the body, a known
//! path with another method a 405, an unknown path a 404.

use std::collections::HashMap;

use poem::endpoint::BoxEndpoint;
use poem::error::MethodNotAllowedError;
use poem::http::Method;
use poem::{Endpoint, Request, Response, Route};
use poem_openapi::__private::UrlQuery;
use poem_openapi::OpenApi;

/// See the module documentation.
pub(crate) struct Operations {
    /// Paths without parameters, each with its methods.
    fixed: Vec<(String, Methods)>,
    /// Paths with parameters.
    templated: Route,
}

impl Operations {
    pub(crate) fn new(api: impl OpenApi) -> Self {
        let mut table = HashMap::new();
        api.add_routes(&mut table);
        let mut fixed = Vec::new();
        let mut templated = Route::new();
        for (path, methods) in table {
            let methods = Methods(methods.into_iter().collect());
            if path.contains([':', '*']) {
                templated = templated.at(path, methods);
            } else {
                fixed.push((path, methods));
            }
        }
        Self { fixed, templated }
    }
}

impl Endpoint for Operations {
    type Output = Response;

    async fn call(&self, mut request: Request) -> poem::Result<Response> {
        // What `OpenApiService` parses for every request, before routing.
        let query = match request.uri().query() {
            None | Some("") => Vec::new(),
            Some(_) => request.params().unwrap_or_default(),
        };
        request.extensions_mut().insert(UrlQuery(query));
        let path = request.uri().path();
        match self.fixed.iter().find(|(fixed, _)| fixed == path) {
            Some((_, methods)) => methods.call(request).await,
            None => self.templated.call(request).await,
        }
    }
}

/// One path's operations by method.
struct Methods(Vec<(Method, BoxEndpoint<'static>)>);

impl Endpoint for Methods {
    type Output = Response;

    async fn call(&self, mut request: Request) -> poem::Result<Response> {
        if let Some((_, endpoint)) = self.find(request.method()) {
            return endpoint.call(request).await;
        }
        let Some((_, get)) = self
            .find(&Method::GET)
            .filter(|_| request.method() == Method::HEAD)
        else {
            return Err(MethodNotAllowedError.into());
        };
        request.set_method(Method::GET);
        let mut response = get.call(request).await?;
        response.set_body(());
        Ok(response)
    }
}

impl Methods {
    fn find(&self, method: &Method) -> Option<&(Method, BoxEndpoint<'static>)> {
        self.0.iter().find(|(known, _)| known == method)
    }
}

#[cfg(test)]
mod tests {
    use poem::http::StatusCode;
    use poem_openapi::param::{Path, Query};
    use poem_openapi::payload::PlainText;

    use super::*;

    struct Api;

    // poem-openapi's operations are `async fn`s, whether they await or not.
    #[allow(clippy::unused_async)]
    #[poem_openapi::OpenApi]
    impl Api {
        #[oai(path = "/things", method = "get")]
        async fn list(&self, page: Query<Option<u32>>) -> PlainText<String> {
            PlainText(format!("page {:?}", page.0))
        }

        #[oai(path = "/things", method = "post")]
        async fn create(&self) -> PlainText<&'static str> {
            PlainText("created")
        }

        #[oai(path = "/things/:id", method = "get")]
        async fn one(&self, id: Path<String>) -> PlainText<String> {
            PlainText(format!("thing {}", id.0))
        }
    }

    async fn send(method: Method, uri: &str) -> (StatusCode, String) {
        crate::test_support::answer(&Operations::new(Api), method, uri).await
    }

    #[tokio::test]
    async fn each_operation_is_reached_by_its_path_and_method() {
        assert_eq!(
            send(Method::GET, "/things").await,
            (StatusCode::OK, "page None".into())
        );
        assert_eq!(
            send(Method::POST, "/things").await,
            (StatusCode::OK, "created".into())
        );
        assert_eq!(
            send(Method::GET, "/things/a1").await,
            (StatusCode::OK, "thing a1".into())
        );
    }

    #[tokio::test]
    async fn the_query_reaches_the_query_parameters() {
        assert_eq!(send(Method::GET, "/things?page=3").await.1, "page Some(3)");
        assert_eq!(send(Method::GET, "/things?").await.1, "page None");
    }

    #[tokio::test]
    async fn head_is_get_without_the_body() {
        assert_eq!(
            send(Method::HEAD, "/things").await,
            (StatusCode::OK, String::new())
        );
        assert_eq!(
            send(Method::HEAD, "/things/a1").await,
            (StatusCode::OK, String::new())
        );
    }

    #[tokio::test]
    async fn another_method_is_405_and_another_path_404() {
        assert_eq!(
            send(Method::DELETE, "/things").await.0,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            send(Method::POST, "/things/a1").await.0,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(send(Method::GET, "/things/").await.0, StatusCode::NOT_FOUND);
        assert_eq!(send(Method::GET, "/other").await.0, StatusCode::NOT_FOUND);
    }
}
