//! Page requests and pages of results, shared by every list use case.

/// Default number of items on a page when the client does not say.
pub const DEFAULT_LIMIT: u32 = 10;
/// Largest page a client may ask for.
pub const MAX_LIMIT: u32 = 100;

/// Why a page request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageRequestError {
    #[error("Must be at least 1")]
    PageBelowOne,
    #[error("Must be between 1 and {MAX_LIMIT}")]
    LimitOutOfRange,
}

/// A validated request for one page: `page` from 1, `limit` in `1..=MAX_LIMIT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    limit: u32,
}

impl PageRequest {
    /// Parses the client's optional `page` and `limit`, applying the defaults.
    pub fn new(page: Option<u32>, limit: Option<u32>) -> Result<Self, PageRequestError> {
        let page = page.unwrap_or(1);
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if page < 1 {
            return Err(PageRequestError::PageBelowOne);
        }
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(PageRequestError::LimitOutOfRange);
        }
        Ok(Self { page, limit })
    }

    #[must_use]
    pub const fn page(&self) -> u32 {
        self.page
    }

    #[must_use]
    pub const fn limit(&self) -> u32 {
        self.limit
    }

    /// How many items precede this page.
    #[must_use]
    pub const fn offset(&self) -> u64 {
        (self.page as u64 - 1) * self.limit as u64
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// One page of items plus what a client needs to fetch the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub request: PageRequest,
    /// Number of items over all pages.
    pub total: u64,
}

impl<T> Page<T> {
    #[must_use]
    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.request.limit))
    }

    /// Applies `convert` to every item, keeping the paging information.
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(convert).collect(),
            request: self.request,
            total: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_take_the_defaults() {
        let request = PageRequest::new(None, None).unwrap();
        assert_eq!((request.page(), request.limit()), (1, DEFAULT_LIMIT));
    }

    #[test]
    fn page_zero_is_refused() {
        assert_eq!(
            PageRequest::new(Some(0), None),
            Err(PageRequestError::PageBelowOne)
        );
    }

    #[test]
    fn limit_outside_one_to_one_hundred_is_refused() {
        assert_eq!(
            PageRequest::new(None, Some(0)),
            Err(PageRequestError::LimitOutOfRange)
        );
        assert_eq!(
            PageRequest::new(None, Some(101)),
            Err(PageRequestError::LimitOutOfRange)
        );
        assert!(PageRequest::new(None, Some(100)).is_ok());
    }

    #[test]
    fn offset_counts_the_items_of_earlier_pages() {
        assert_eq!(PageRequest::new(Some(3), Some(20)).unwrap().offset(), 40);
    }

    #[test]
    fn total_pages_rounds_up() {
        let page = |total| Page::<()> {
            items: vec![],
            request: PageRequest::new(None, Some(10)).unwrap(),
            total,
        };
        assert_eq!(page(0).total_pages(), 0);
        assert_eq!(page(10).total_pages(), 1);
        assert_eq!(page(11).total_pages(), 2);
    }
}
