//! Pagination on the wire: the `page`/`limit` query, and the list body (`PageDto`: the
//! items and their `meta` block).

use domain::{Page, PageRequest};
use poem_openapi::Object;
use poem_openapi::types::{ParseFromJSON, ToJSON};
use serde::Serialize;

use crate::errors::ValidationErrors;

/// Paging information of a list response.
#[derive(Debug, Object, Serialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
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

/// Every list body: one page of items in their wire form, and its `meta` block. The
/// document names each use after its items (`Page_User`, `Page_Transfer`, ...).
#[derive(Debug, Object, Serialize)]
#[oai(rename = "Page")]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageDto<T: ParseFromJSON + ToJSON + Send + Sync> {
    data: Vec<T>,
    meta: PageMeta,
}

impl<T: ParseFromJSON + ToJSON + Send + Sync> PageDto<T> {
    /// The items of `page`, each made by `wire`.
    pub(crate) fn map<I>(page: Page<I>, wire: impl FnMut(I) -> T) -> Self {
        let meta = PageMeta::from(&page);
        Self {
            data: page.items.into_iter().map(wire).collect(),
            meta,
        }
    }
}

impl<I, T: From<I> + ParseFromJSON + ToJSON + Send + Sync> From<Page<I>> for PageDto<T> {
    fn from(page: Page<I>) -> Self {
        Self::map(page, T::from)
    }
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
