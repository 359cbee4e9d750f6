//! `/openapi.json` and `/docs`.

use api_tests::api_test;
use reqwest::Method;
use serde_json::json;

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

        for status in ["201", "400", "401", "403", "408", "409", "413", "415", "429", "500"] {
            assert!(create[status].is_object(), "POST /api/v1/users lacks {status}");
        }
        assert_eq!(create["429"]["headers"]["Retry-After"]["required"], true);
        assert!(health["401"].is_null(), "/health is public");
        assert!(health["429"].is_null(), "/health is not rate limited");
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

/// The component schema each operation's JSON request body refers to.
fn request_body_schemas(document: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|operations| operations.as_object().unwrap().values())
        .filter_map(|operation| {
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
        })
        .map(|reference| {
            reference
                .trim_start_matches("#/components/schemas/")
                .to_owned()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

api_test! {
    async fn every_request_body_is_closed_and_has_an_example(app) {
        let document = app.openapi().await.expect(200);
        let schemas = &document["components"]["schemas"];

        let bodies = request_body_schemas(&document);
        assert_eq!(bodies.len(), 14, "{bodies:?}");
        for name in &bodies {
            assert_eq!(schemas[name]["additionalProperties"], false, "{name} admits unknown fields");
            assert!(schemas[name]["example"].is_object(), "{name} has no example");
        }
    }
}

api_test! {
    async fn the_document_states_the_domains_rules_on_each_input(app) {
        let document = app.openapi().await.expect(200);
        let schemas = &document["components"]["schemas"];
        let register = &schemas["Register"]["properties"];
        let list_users = document["paths"]["/api/v1/users"]["get"]["parameters"].as_array().unwrap();
        let parameter = |name: &str| &list_users.iter().find(|p| p["name"] == name).unwrap()["schema"];

        assert_eq!(register["email"]["format"], "email");
        assert_eq!(register["email"]["maxLength"], 254);
        assert_eq!(register["password"]["minLength"], 8);
        assert_eq!(register["password"]["maxLength"], 128);
        assert_eq!(register["name"]["maxLength"], 100);
        assert!(register["name"]["pattern"].is_string(), "blank and control characters are refused");
        assert_eq!(schemas["CreatePost"]["properties"]["content"]["maxLength"], 100_000);
        assert_eq!(schemas["Deposit"]["properties"]["amount"]["minimum"], 1);
        assert_eq!(schemas["Deposit"]["properties"]["amount"]["maximum"], 1_000_000_000_000_i64);
        let currencies = schemas["OpenAccount"]["properties"]["currency"]["enum"].as_array().unwrap();
        assert!(currencies.contains(&json!("EUR")) && currencies.contains(&json!(null)));
        assert!(!currencies.contains(&json!("XYZ")));
        assert_eq!(parameter("page")["minimum"], 1);
        assert_eq!(parameter("limit")["minimum"], 1);
        assert_eq!(parameter("limit")["maximum"], 100);
        assert_eq!(parameter("search")["maxLength"], 100);
    }
}

api_test! {
    async fn optional_fields_are_nullable_as_they_are_written(app) {
        let document = app.openapi().await.expect(200);
        let schemas = &document["components"]["schemas"];
        let ann = app.register(&json!({ "email": "nullable@example.com", "password": "correct horse battery" })).await.expect(201);

        assert_eq!(ann["user"]["name"], json!(null));
        assert_eq!(schemas["User"]["properties"]["name"]["nullable"], true);
        assert_eq!(schemas["Post"]["properties"]["content"]["nullable"], true);
        assert_eq!(schemas["Job"]["properties"]["lastError"]["nullable"], true);
        assert_eq!(schemas["User"]["properties"]["email"]["nullable"], json!(null), "required fields are never null");
    }
}

api_test! {
    async fn the_request_examples_work_as_they_are_in_try_it_out(app) {
        let document = app.openapi().await.expect(200);
        let example = |name: &str| document["components"]["schemas"][name]["example"].clone();

        let registered = app.send(Method::POST, "/api/v1/auth/register", None, Some(&example("Register"))).await.expect(201);
        app.send(Method::POST, "/api/v1/auth/login", None, Some(&example("Login"))).await.expect(200);
        let token = registered["accessToken"].as_str().unwrap();
        app.send(Method::POST, "/api/v1/posts", Some(token), Some(&example("CreatePost"))).await.expect(201);
        app.send(Method::POST, "/api/v1/accounts", Some(token), Some(&example("OpenAccount"))).await.expect(201);
        app.send(Method::POST, "/api/v1/auth/password-reset", None, Some(&example("PasswordResetRequest"))).await.expect(202);
    }
}

api_test! {
    async fn created_resources_link_to_the_operations_that_act_on_them(app) {
        let document = app.openapi().await.expect(200);
        let links = &document["paths"]["/api/v1/users"]["post"]["responses"]["201"]["links"];

        assert_eq!(links["deleteUser"]["operationId"], "deleteUser");
        assert_eq!(links["deleteUser"]["parameters"]["id"], "$response.body#/id");
        let register = &document["paths"]["/api/v1/auth/register"]["post"]["responses"]["201"]["links"];
        assert_eq!(register["refresh"]["requestBody"]["refreshToken"], "$response.body#/refreshToken");
    }
}
