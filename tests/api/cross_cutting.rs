//! Behaviour every response shares: JSON errors for unknown routes and methods, security
//! headers, request ids, CORS, compression, and the body limit on chunked bodies.

use api_tests::{Backend, TestApp, api_test};
use domain::Role;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const SECURITY_HEADERS: [(&str, &str); 11] = [
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("origin-agent-cluster", "?1"),
    ("referrer-policy", "no-referrer"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-dns-prefetch-control", "off"),
    ("x-download-options", "noopen"),
    ("x-frame-options", "SAMEORIGIN"),
    ("x-permitted-cross-domain-policies", "none"),
    ("x-xss-protection", "0"),
];

api_test! {
    async fn an_unknown_route_is_a_json_404(app) {
        app.send(reqwest::Method::GET, "/api/v1/nothing-here", None, None).await.expect_error(404, "Not found");
        app.send(reqwest::Method::GET, "/", None, None).await.expect_error(404, "Not found");
    }
}

api_test! {
    async fn a_known_path_with_the_wrong_method_is_a_json_405_with_allow(app) {
        use reqwest::Method;
        let id = uuid::Uuid::now_v7();
        for (method, path, allow) in [
            (Method::PATCH, "/api/v1/users".to_owned(), "GET, HEAD, POST"),
            (Method::TRACE, format!("/api/v1/users/{id}"), "DELETE, GET, HEAD, PUT"),
            (Method::GET, "/api/v1/auth/login".to_owned(), "POST"),
            (Method::DELETE, "/health".to_owned(), "GET, HEAD"),
            (Method::POST, "/openapi.json".to_owned(), "GET, HEAD"),
            (Method::PUT, "/docs".to_owned(), "GET, HEAD"),
        ] {
            let response = app.send(method.clone(), &path, None, None).await;
            response.expect_error(405, "Method not allowed");
            assert_eq!(response.header("allow"), Some(allow), "{method} {path}");
        }
        // Not a 405, so no Allow.
        let unknown = app.send(Method::PATCH, "/api/v1/nothing-here", None, None).await;
        assert_eq!(unknown.status.as_u16(), 404);
        assert_eq!(unknown.header("allow"), None);
    }
}

api_test! {
    async fn every_response_carries_the_security_headers_and_no_banner(app) {
        for response in [app.health().await, app.list_users(None, "").await, app.docs().await] {
            for (name, value) in SECURITY_HEADERS {
                assert_eq!(response.header(name), Some(value), "{name} on {}", response.status);
            }
            assert!(response.header("content-security-policy").is_some());
            assert!(response.header("server").is_none());
            assert!(response.header("x-powered-by").is_none());
        }
    }
}

api_test! {
    async fn the_api_gets_helmets_strict_csp_and_the_docs_a_relaxed_one(app) {
        let api = app.health().await;
        let docs = app.docs().await;

        assert!(api.header("content-security-policy").unwrap().contains("script-src 'self';"));
        assert!(docs.header("content-security-policy").unwrap().contains("script-src 'self' 'unsafe-inline'"));
    }
}

api_test! {
    async fn a_sane_request_id_is_echoed_and_others_are_replaced(app) {
        let sane = app.send_raw(app.client.get(app.url("/health")).header("x-request-id", "trace-42.a:b_c")).await;
        let insane = app.send_raw(app.client.get(app.url("/health")).header("x-request-id", "bad id with spaces")).await;
        let absent = app.health().await;

        assert_eq!(sane.request_id(), "trace-42.a:b_c");
        assert_ne!(insane.request_id(), "bad id with spaces");
        assert!(uuid::Uuid::parse_str(insane.request_id()).is_ok());
        assert!(uuid::Uuid::parse_str(absent.request_id()).is_ok());
    }
}

api_test! {
    async fn error_bodies_carry_the_request_id_of_the_header(app) {
        let response = app.send_raw(app.client.get(app.url("/api/v1/users")).header("x-request-id", "abc-123")).await;

        assert_eq!(response.expect(401)["requestId"], "abc-123");
    }
}

api_test! {
    async fn outside_production_any_origin_is_allowed_without_credentials(app) {
        let response = app.send_raw(app.client.get(app.url("/health")).header("origin", "https://anywhere.example")).await;

        assert_eq!(response.header("access-control-allow-origin"), Some("*"));
        assert_eq!(response.header("access-control-allow-credentials"), None);
    }
}

/// Listed origins get credentials; others get no CORS headers at all (never a reflected
/// origin with credentials, the seed's mistake).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_origins_get_credentials_and_others_nothing() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("ALLOWED_ORIGINS", "https://app.example.com")],
    )
    .await
    .unwrap();

    let listed = app
        .send_raw(
            app.client
                .get(app.url("/health"))
                .header("origin", "https://app.example.com"),
        )
        .await;
    let other = app
        .send_raw(
            app.client
                .get(app.url("/health"))
                .header("origin", "https://evil.example.com"),
        )
        .await;
    let preflight = app
        .send_raw(
            app.client
                .request(reqwest::Method::OPTIONS, app.url("/api/v1/users"))
                .header("origin", "https://app.example.com")
                .header("access-control-request-method", "POST"),
        )
        .await;

    assert_eq!(
        listed.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        listed.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(other.status.as_u16(), 200);
    assert_eq!(other.header("access-control-allow-origin"), None);
    assert_eq!(preflight.status.as_u16(), 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert!(
        preflight
            .header("access-control-allow-headers")
            .unwrap()
            .contains("authorization")
    );
}

/// Production without `ALLOWED_ORIGINS`: no cross-origin access.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_without_configured_origins_allows_no_cross_origin_access() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("APP_ENV", "production")])
        .await
        .unwrap();

    let response = app
        .send_raw(
            app.client
                .get(app.url("/health"))
                .header("origin", "https://app.example.com"),
        )
        .await;

    assert_eq!(response.status.as_u16(), 200);
    assert_eq!(response.header("access-control-allow-origin"), None);
}

api_test! {
    async fn large_bodies_are_compressed_and_small_ones_are_not(app) {
        let caller = app.create_user(Role::User).await;
        for index in 0..10 {
            app.create_user_with(&format!("person{index}@example.com"), Some("A Person With A Long Name"), Role::User).await;
        }
        let gzip = |path: &str| app.client.get(app.url(path)).bearer_auth(&caller.token).header("accept-encoding", "gzip");

        let large = app.send_raw(gzip("/api/v1/users?limit=11")).await;
        let small = app.send_raw(gzip("/health")).await;
        let brotli = app.send_raw(app.client.get(app.url("/openapi.json")).header("accept-encoding", "br, gzip")).await;
        let identity = app.send_raw(app.client.get(app.url("/openapi.json"))).await;

        assert_eq!(large.header("content-encoding"), Some("gzip"));
        let mut plain = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(large.body.as_slice()), &mut plain).expect("a valid gzip body");
        let page: serde_json::Value = serde_json::from_str(&plain).expect("JSON inside");
        assert_eq!(page["data"].as_array().map(Vec::len), Some(11));
        assert_eq!(small.header("content-encoding"), None);
        assert_eq!(small.header("vary"), Some("Accept-Encoding"));
        let health: serde_json::Value = serde_json::from_slice(&small.body).expect("plain JSON");
        assert_eq!(health["status"], "healthy");
        assert_eq!(large.header("vary"), Some("Accept-Encoding"));
        assert_eq!(brotli.header("content-encoding"), Some("br"));
        assert_eq!(identity.header("content-encoding"), None);
        assert!(identity.body.len() > brotli.body.len());
    }
}

api_test! {
    async fn a_chunked_body_over_the_limit_is_413(app) {
        let admin = app.create_user(Role::Admin).await;
        let address = app.address.trim_start_matches("http://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let chunk = "x".repeat(6 * 1024);
        let request = format!(
            "POST /api/v1/users HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {}\r\n\
             content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n\
             {:x}\r\n{chunk}\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
            admin.token,
            chunk.len(),
            chunk.len()
        );

        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();

        assert!(response.starts_with("HTTP/1.1 413"), "{response}");
        assert!(response.contains(r#""error":"Payload too large""#), "{response}");
    }
}
