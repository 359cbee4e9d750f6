//! Pagination on the wire: the `page`/`limit` query and the `meta` block of list bodies.

use domain::{Page, PageRequest};
use poem_openapi::Object;

use crate::errors::ValidationErrors;

/// Paging information of a list response.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(crate) struct PageMeta {
    pub(crate) page: u32,
    pub(crate) limit: u32,
    /// Items over all pages.
    pub(crate) total: u64,
    pub(crate) total_pages: u64,
}

impl<T> From<&Page<T>> for PageMeta {
    fn from(page: &Page<T>) -> Self {
        Self {
            page: page.request.page(),
            limit: page.request.limit(),
            total: page.total,
            total_pages: page.total_pages(),
        }
    }
}

/// A page's items in their wire form, and its `meta` block: the parts of every `*Page` body.
pub(crate) fn wire_page<T, D: From<T>>(page: Page<T>) -> (Vec<D>, PageMeta) {
    let meta = PageMeta::from(&page);
    (page.items.into_iter().map(D::from).collect(), meta)
}

/// Parses the `page` and `limit` query parameters, recording every problem in `errors`.
pub(crate) fn page_request(
    page: Option<u32>,
    limit: Option<u32>,
    errors: &mut ValidationErrors,
) -> Option<PageRequest> {
    // Each parameter is checked on its own so that both problems are reported at once.
    let page_valid = errors.check("page", PageRequest::new(page, None)).is_some();
    let limit_valid = errors
        .check("limit", PageRequest::new(None, limit))
        .is_some();
    (page_valid && limit_valid)
        .then(|| PageRequest::new(page, limit).ok())
        .flatten()
}
