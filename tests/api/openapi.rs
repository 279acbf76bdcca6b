//! `GET /openapi.json` and `GET /docs`.
//!
//! `fixtures/openapi-3.1-schema.json` is the OpenAPI Initiative's JSON
//! Schema for OpenAPI 3.1 documents (version 2022-10-07, Apache License
//! 2.0), as shipped in the `openapi-spec-validator` Python package.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::Value;

use crate::backend_tests;
use crate::support::{Backend, TestApp};

backend_tests!(
    openapi_is_valid_openapi_31,
    openapi_lists_every_served_route,
    docs_page_loads_only_own_assets,
);

const OPENAPI_31_SCHEMA: &str = include_str!("fixtures/openapi-3.1-schema.json");

/// Every path the contract names, including any this build does not serve
/// yet. The literal `{id}` is replaced by an id when requested.
const CONTRACT_PATHS: &[&str] = &[
    "/oauth2/auth",
    "/oauth2/token",
    "/oauth2/tokeninfo",
    "/oauth2/revoke",
    "/.well-known/oauth-authorization-server",
    "/api/v1/me",
    "/api/v1/me/sessions",
    "/api/v1/me/sessions/{id}",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/docs.js",
    "/docs/docs.css",
    "/static/consent.css",
];

const METHODS: &[Method] = &[Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH];

async fn description(app: &TestApp) -> Value {
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// Tells whether the router serves `method` on `path`: any response but the
/// router's own 404 and 405 counts.
async fn is_served(app: &TestApp, method: &Method, path: &str) -> bool {
    let path = path.replace("{id}", "some-id");
    let response = app.http.request(method.clone(), app.url(&path)).send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    !(status == 405 || (status == 404 && body["error"] == "not_found"))
}

fn collect_refs<'a>(value: &'a Value, refs: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                refs.push(reference);
            }
            map.values().for_each(|v| collect_refs(v, refs));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

async fn openapi_is_valid_openapi_31(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let document = description(&app).await;

    assert_eq!(document["openapi"], "3.1.0");
    let schema: Value = serde_json::from_str(OPENAPI_31_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&document).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "not a valid OpenAPI 3.1 document: {errors:#?}");

    let mut refs = Vec::new();
    collect_refs(&document, &mut refs);
    for reference in refs {
        let pointer = reference.strip_prefix('#').expect("only local references");
        assert!(document.pointer(pointer).is_some(), "{reference} resolves to nothing");
    }

    let mut operation_ids = HashSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(operation_ids.insert(id), "operationId {id} is used twice");
            let responses = operation["responses"].as_object().unwrap();
            let success = responses.keys().any(|status| status.starts_with('2'));
            assert!(success, "{method} {path} has no success response");
            assert!(responses.contains_key("500"), "{method} {path} has no 500 response");
        }
    }
}

async fn openapi_lists_every_served_route(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document = description(&app).await;
    let paths = document["paths"].as_object().unwrap();

    for path in CONTRACT_PATHS {
        for method in METHODS {
            let documented = paths
                .get(*path)
                .is_some_and(|item| item.get(method.as_str().to_lowercase()).is_some());
            let served = is_served(&app, method, path).await;
            assert_eq!(
                documented, served,
                "{method} {path}: documented {documented}, served {served}"
            );
        }
    }
    for path in paths.keys() {
        assert!(CONTRACT_PATHS.contains(&path.as_str()), "{path} is not in the contract");
    }
}

async fn docs_page_loads_only_own_assets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let policy = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    let assets = [
        ("/docs", "text/html; charset=utf-8"),
        ("/docs/docs.js", "text/javascript; charset=utf-8"),
        ("/docs/docs.css", "text/css; charset=utf-8"),
    ];

    for (path, content_type) in assets {
        let response = app.http.get(app.url(path)).send().await.unwrap();

        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
        assert_eq!(response.headers()["content-security-policy"], policy, "{path}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{path}");
        let text = response.text().await.unwrap();
        assert!(!text.contains("http://"), "{path} names another origin");
        assert!(!text.contains("https://"), "{path} names another origin");
    }
    let page = app.http.get(app.url("/docs")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"<script src="/docs/docs.js" defer></script>"#));
    assert!(page.contains(r#"<link rel="stylesheet" href="/docs/docs.css">"#));
    let script = app.http.get(app.url("/docs/docs.js")).send().await.unwrap().text().await.unwrap();
    assert!(script.contains(r#"fetch("/openapi.json""#));
    assert!(!script.contains("innerHTML"), "the script must not build HTML from strings");
}
