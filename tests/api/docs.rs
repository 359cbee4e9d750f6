//! `/openapi.json` and `/docs`.

use api_tests::api_test;

api_test! {
    async fn the_openapi_document_describes_every_operation_and_the_bearer_scheme(app) {
        let document = app.openapi().await.expect(200);

        assert!(document["openapi"].as_str().unwrap().starts_with("3."));
        let paths = &document["paths"];
        for (path, methods) in [
            ("/health", &["get"][..]),
            ("/health/ready", &["get"]),
            ("/api/v1/users", &["get", "post"]),
            ("/api/v1/users/{id}", &["get", "put", "delete"]),
            ("/api/v1/auth/register", &["post"]),
            ("/api/v1/auth/login", &["post"]),
            ("/api/v1/auth/refresh", &["post"]),
            ("/api/v1/auth/logout", &["post"]),
            ("/api/v1/auth/password-reset", &["post"]),
            ("/api/v1/auth/password-reset/confirm", &["post"]),
            ("/api/v1/auth/me", &["get"]),
        ] {
            for method in methods {
                assert!(paths[path][method].is_object(), "{method} {path} is not documented");
            }
        }
        let schemes = &document["components"]["securitySchemes"];
        assert_eq!(schemes["BearerAuth"]["scheme"], "bearer");
    }
}

api_test! {
    async fn the_document_lists_the_shared_error_responses_of_each_operation(app) {
        let document = app.openapi().await.expect(200);
        let create = &document["paths"]["/api/v1/users"]["post"]["responses"];
        let health = &document["paths"]["/health"]["get"]["responses"];

        for status in ["201", "400", "401", "403", "408", "409", "413", "415", "500"] {
            assert!(create[status].is_object(), "POST /api/v1/users lacks {status}");
        }
        assert!(health["401"].is_null(), "/health is public");
        assert_eq!(create["401"]["content"]["application/json; charset=utf-8"]["schema"]["$ref"], "#/components/schemas/Error");
    }
}

api_test! {
    async fn the_docs_page_is_swagger_ui_with_the_same_document(app) {
        let docs = app.docs().await;

        assert_eq!(docs.status.as_u16(), 200);
        let html = String::from_utf8_lossy(&docs.body);
        assert!(html.contains("SwaggerUIBundle"));
        assert!(html.contains("Validation failed (`details` lists the problems)"), "the docs embed the patched document");
    }
}

api_test! {
    async fn login_and_registration_document_json_and_form_bodies(app) {
        let document = app.openapi().await.expect(200);

        for path in ["/api/v1/auth/login", "/api/v1/auth/register"] {
            let content = &document["paths"][path]["post"]["requestBody"]["content"];
            assert!(content["application/json"].is_object(), "{path}");
            assert!(content["application/x-www-form-urlencoded"].is_object(), "{path}");
        }
    }
}
