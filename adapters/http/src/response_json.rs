//! `Json<T>`: a JSON response body written by serde straight into bytes.
//!
//! poem-openapi's own `Json<T>` first converts the value into a `serde_json::Value`
//! (`ToJSON`: a map, and a `String` for every key and text) and then writes that: two
//! passes and an allocation per field, on every response (a sixteenth of `GET /health`'s
//! instructions, `bench/results/per-request-overhead-20261204.md`). This one serialises `T`
//! with serde. The document still takes `T`'s schema (`Type`), and in debug builds, so in
//! every test, each body is compared with what `ToJSON` gives: the bytes cannot drift from
//! the document without a test failing.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use serde::Serialize;

/// A JSON response body, serialised by serde (see the module documentation).
#[derive(Debug)]
pub(crate) struct Json<T>(pub(crate) T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Type> Payload for Json<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + ToJSON> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        #[cfg(debug_assertions)]
        assert_eq!(
            serde_json::to_value(&self.0).ok(),
            self.0.to_json(),
            "serde writes {} otherwise than its documented form",
            std::any::type_name::<T>()
        );
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => Response::builder()
                .content_type(Self::CONTENT_TYPE)
                .body(bytes),
            // Only a map with non-string keys fails, and no body here has one.
            Err(error) => {
                tracing::error!(%error, "a response body could not be serialised");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

impl<T: Serialize + ToJSON> ApiResponse for Json<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::Object;

    use super::*;

    #[derive(Debug, Object, Serialize)]
    #[oai(rename_all = "camelCase")]
    #[serde(rename_all = "camelCase")]
    struct Written {
        user_name: String,
        age: Option<u32>,
    }

    /// serde's default names (`user_name`) where the document says `userName`.
    #[derive(Debug, Object, Serialize)]
    #[oai(rename_all = "camelCase")]
    struct Drifted {
        user_name: String,
    }

    #[tokio::test]
    async fn the_body_is_the_documented_json() {
        let response = Json(Written {
            user_name: "Ann".to_owned(),
            age: None,
        })
        .into_response();

        assert_eq!(
            response.headers()[poem::http::header::CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
        let body = response.into_body().into_string().await.unwrap();
        assert_eq!(body, r#"{"userName":"Ann","age":null}"#);
    }

    #[test]
    fn the_document_describes_it_as_poem_openapis_json() {
        type Theirs = poem_openapi::payload::Json<Written>;
        assert_eq!(
            <Json<Written> as Payload>::CONTENT_TYPE,
            <Theirs as Payload>::CONTENT_TYPE
        );
        let (ours, theirs) = (
            <Json<Written> as ApiResponse>::meta(),
            <Theirs as ApiResponse>::meta(),
        );
        assert_eq!(
            serde_json::to_value(&ours.responses).unwrap(),
            serde_json::to_value(&theirs.responses).unwrap()
        );
    }

    #[test]
    #[should_panic(expected = "otherwise than its documented form")]
    fn a_body_that_drifts_from_its_schema_fails_in_debug_builds() {
        let _ = Json(Drifted {
            user_name: "Ann".to_owned(),
        })
        .into_response();
    }
}
