//! The route table (every path template the service answers, from the same table the
//! document is built from): `Allow` on every 405 (RFC 9110, section 15.5.6), and the route
//! template a request's metrics are labelled with.

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

/// A path template's segment.
#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{id}`: any one segment.
    Parameter,
}

/// The label of every path no template matches: one value, so that scanners and typos
/// cannot grow the metrics without bound.
pub(crate) const UNMATCHED_ROUTE: &str = "unmatched";

/// One routed path template.
#[derive(Debug)]
struct Route {
    template: String,
    segments: Vec<Segment>,
    allow: HeaderValue,
}

/// Every routed path template, its `Allow` value, and the prefixes served whole (socket.io).
#[derive(Debug, Clone)]
pub(crate) struct RouteTable {
    routes: Arc<[Route]>,
    prefixes: Arc<[&'static str]>,
}

impl RouteTable {
    /// From `(template, methods)` pairs; a path that answers `GET` answers `HEAD` too.
    pub(crate) fn new(
        routes: impl IntoIterator<Item = (String, Vec<String>)>,
        prefixes: &[&'static str],
    ) -> Self {
        let routes = routes
            .into_iter()
            .map(|(template, mut methods)| {
                if methods.iter().any(|method| method == "GET") {
                    methods.push("HEAD".to_owned());
                }
                methods.sort();
                methods.dedup();
                let allow = HeaderValue::from_str(&methods.join(", "))
                    .expect("method names are header-safe");
                Route {
                    segments: segments(&template),
                    template,
                    allow,
                }
            })
            .collect();
        Self {
            routes,
            prefixes: prefixes.into(),
        }
    }

    /// The route serving `path`. Runs for every request (its metrics label): no allocation.
    fn route(&self, path: &str) -> Option<&Route> {
        let path = path.trim_start_matches('/');
        let count = path.split('/').count();
        self.routes.iter().find(|route| {
            route.segments.len() == count
                && route
                    .segments
                    .iter()
                    .zip(path.split('/'))
                    .all(|(segment, part)| match segment {
                        Segment::Literal(literal) => literal == part,
                        Segment::Parameter => !part.is_empty(),
                    })
        })
    }

    fn allow(&self, path: &str) -> Option<&HeaderValue> {
        self.route(path).map(|route| &route.allow)
    }

    /// The template `path` is served by (`/api/v1/users/{id}`), or [`UNMATCHED_ROUTE`].
    pub(crate) fn template<'a>(&'a self, path: &str) -> &'a str {
        if let Some(prefix) = self
            .prefixes
            .iter()
            .find(|prefix| path.starts_with(**prefix))
        {
            return prefix;
        }
        self.route(path)
            .map_or(UNMATCHED_ROUTE, |route| route.template.as_str())
    }
}

fn segments(template: &str) -> Vec<Segment> {
    template
        .trim_start_matches('/')
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                Segment::Parameter
            } else {
                Segment::Literal(segment.to_owned())
            }
        })
        .collect()
}

impl<E: Endpoint> Middleware<E> for RouteTable {
    type Output = AllowEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AllowEndpoint {
            inner,
            methods: self.clone(),
        }
    }
}

pub(crate) struct AllowEndpoint<E> {
    inner: E,
    methods: RouteTable,
}

impl<E: Endpoint> Endpoint for AllowEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let path = request.uri().path().to_owned();
        let mut response = self.inner.call(request).await?.into_response();
        if response.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = self.methods.allow(&path)
        {
            response.headers_mut().insert(header::ALLOW, allow.clone());
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable::new(
            [
                (
                    "/api/v1/users".to_owned(),
                    vec!["GET".to_owned(), "POST".to_owned()],
                ),
                (
                    "/api/v1/users/{id}".to_owned(),
                    vec!["PUT".to_owned(), "GET".to_owned(), "DELETE".to_owned()],
                ),
                ("/api/v1/auth/login".to_owned(), vec!["POST".to_owned()]),
            ],
            &["/socket.io/"],
        )
    }

    #[test]
    fn a_path_is_labelled_with_its_template_and_anything_else_with_one_value() {
        let table = table();
        assert_eq!(
            table.template("/api/v1/users/0195d3a4-6b2e-7c41-9a3f-2f1d5e8b7c60"),
            "/api/v1/users/{id}"
        );
        assert_eq!(table.template("/api/v1/users"), "/api/v1/users");
        assert_eq!(
            table.template("/socket.io/?EIO=4&transport=polling"),
            "/socket.io/"
        );
        assert_eq!(table.template("/wp-admin/install.php"), UNMATCHED_ROUTE);
        assert_eq!(table.template("/api/v1/users/1/2"), UNMATCHED_ROUTE);
    }

    #[test]
    fn a_template_lists_its_methods_sorted_with_head_beside_get() {
        let table = table();
        assert_eq!(table.allow("/api/v1/users").unwrap(), "GET, HEAD, POST");
        assert_eq!(
            table
                .allow("/api/v1/users/0195d3a4-6b2e-7c41-9a3f-2f1d5e8b7c60")
                .unwrap(),
            "DELETE, GET, HEAD, PUT"
        );
        assert_eq!(table.allow("/api/v1/auth/login").unwrap(), "POST");
    }

    #[test]
    fn a_path_no_template_matches_has_no_allow() {
        let table = table();
        assert!(table.allow("/api/v1/users/").is_none());
        assert!(table.allow("/api/v1/users/1/posts").is_none());
        assert!(table.allow("/api/v1/auth").is_none());
    }
}
