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

/// Parses the `page` and `limit` query parameters, recording problems in `errors`.
pub(crate) fn page_request(
    page: Option<u32>,
    limit: Option<u32>,
    errors: &mut ValidationErrors,
) -> Option<PageRequest> {
    match PageRequest::new(page, limit) {
        Ok(request) => Some(request),
        Err(error @ domain::PageRequestError::PageBelowOne) => {
            errors.add("page", error.to_string());
            None
        }
        Err(error @ domain::PageRequestError::LimitOutOfRange) => {
            errors.add("limit", error.to_string());
            None
        }
    }
}
