//! The route table (every path template the service answers, from the same table the
//! document is built from): the `Allow` value of every 405 (RFC 9110, section 15.5.6), and
//! the route template a request's metrics are labelled with. The request log looks each
//! request up once, for both.

use std::sync::Arc;

use poem::http::HeaderValue;

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

/// More segments than any template has: a longer path matches nothing.
const MAX_SEGMENTS: usize = 8;

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
                let segments = segments(&template);
                assert!(
                    segments.len() <= MAX_SEGMENTS,
                    "{template} has more than {MAX_SEGMENTS} segments"
                );
                Route {
                    template,
                    segments,
                    allow,
                }
            })
            .collect();
        Self {
            routes,
            prefixes: prefixes.into(),
        }
    }

    /// The route serving `path`. Runs for every request (its metrics label): the path is
    /// split once, onto the stack, and no allocation is made.
    fn route(&self, path: &str) -> Option<&Route> {
        let mut parts = [""; MAX_SEGMENTS];
        let mut count = 0;
        for part in path.trim_start_matches('/').split('/') {
            *parts.get_mut(count)? = part;
            count += 1;
        }
        let parts = &parts[..count];
        self.routes.iter().find(|route| {
            route.segments.len() == count
                && route
                    .segments
                    .iter()
                    .zip(parts)
                    .all(|(segment, part)| match segment {
                        Segment::Literal(literal) => literal == part,
                        Segment::Parameter => !part.is_empty(),
                    })
        })
    }

    /// What the table knows of `path`: its template and its `Allow` value.
    pub(crate) fn lookup<'a>(&'a self, path: &str) -> RouteMatch<'a> {
        if let Some(prefix) = self
            .prefixes
            .iter()
            .find(|prefix| path.starts_with(**prefix))
        {
            return RouteMatch {
                template: prefix,
                allow: None,
            };
        }
        self.route(path).map_or(
            RouteMatch {
                template: UNMATCHED_ROUTE,
                allow: None,
            },
            |route| RouteMatch {
                template: &route.template,
                allow: Some(&route.allow),
            },
        )
    }
}

/// A path looked up in the [`RouteTable`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteMatch<'a> {
    /// The template the path is served by (`/api/v1/users/{id}`), or [`UNMATCHED_ROUTE`]
    /// (metrics label).
    pub(crate) template: &'a str,
    /// The methods the template answers (`Allow` on a 405); `None` for unmatched paths and
    /// the prefixes served whole.
    pub(crate) allow: Option<&'a HeaderValue>,
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
            table
                .lookup("/api/v1/users/0195d3a4-6b2e-7c41-9a3f-2f1d5e8b7c60")
                .template,
            "/api/v1/users/{id}"
        );
        assert_eq!(table.lookup("/api/v1/users").template, "/api/v1/users");
        assert_eq!(
            table.lookup("/socket.io/?EIO=4&transport=polling").template,
            "/socket.io/"
        );
        assert_eq!(
            table.lookup("/wp-admin/install.php").template,
            UNMATCHED_ROUTE
        );
        assert_eq!(table.lookup("/api/v1/users/1/2").template, UNMATCHED_ROUTE);
        assert_eq!(
            table.lookup("/api/v1/users/1/2/3/4/5/6/7/8/9").template,
            UNMATCHED_ROUTE
        );
    }

    #[test]
    fn a_template_lists_its_methods_sorted_with_head_beside_get() {
        let table = table();
        assert_eq!(
            table.lookup("/api/v1/users").allow.unwrap(),
            "GET, HEAD, POST"
        );
        assert_eq!(
            table
                .lookup("/api/v1/users/0195d3a4-6b2e-7c41-9a3f-2f1d5e8b7c60")
                .allow
                .unwrap(),
            "DELETE, GET, HEAD, PUT"
        );
        assert_eq!(table.lookup("/api/v1/auth/login").allow.unwrap(), "POST");
    }

    #[test]
    fn a_path_no_template_matches_has_no_allow() {
        let table = table();
        assert!(table.lookup("/api/v1/users/").allow.is_none());
        assert!(table.lookup("/api/v1/users/1/posts").allow.is_none());
        assert!(table.lookup("/api/v1/auth").allow.is_none());
    }
}
