//! Pages of rows: the `LIMIT`/`OFFSET` of a page request, and the page built from its rows.

use domain::ports::RepositoryError;
use domain::{Page, PageRequest};

/// `LIMIT` and `OFFSET` of `page`, as SQL wants them.
pub(crate) fn limit_offset(page: PageRequest) -> (i64, i64) {
    (
        i64::from(page.limit()),
        i64::try_from(page.offset()).unwrap_or(i64::MAX),
    )
}

/// The page of `rows` (each parsed into `T`), with the total of all pages.
pub(crate) fn page_of<R, T>(
    rows: Vec<R>,
    request: PageRequest,
    total: i64,
) -> Result<Page<T>, RepositoryError>
where
    T: TryFrom<R, Error = RepositoryError>,
{
    Ok(Page {
        items: rows
            .into_iter()
            .map(T::try_from)
            .collect::<Result<_, _>>()?,
        request,
        total: u64::try_from(total).unwrap_or(0),
    })
}
