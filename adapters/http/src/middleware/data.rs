//! Puts a shared value into every request's extensions (for extractors and security
//! checkers that only see the request), like poem's `AddData`, without a future of its own.

use poem::{Endpoint, Middleware, Request};

/// See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct Data<T>(pub(crate) T);

impl<E: Endpoint, T: Clone + Send + Sync + 'static> Middleware<E> for Data<T> {
    type Output = DataEndpoint<E, T>;

    fn transform(&self, inner: E) -> Self::Output {
        DataEndpoint {
            inner,
            value: self.0.clone(),
        }
    }
}

pub(crate) struct DataEndpoint<E, T> {
    inner: E,
    value: T,
}

impl<E: Endpoint, T: Clone + Send + Sync + 'static> Endpoint for DataEndpoint<E, T> {
    type Output = E::Output;

    fn call(&self, mut request: Request) -> impl Future<Output = poem::Result<E::Output>> + Send {
        request.extensions_mut().insert(self.value.clone());
        self.inner.call(request)
    }
}
