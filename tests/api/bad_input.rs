//! Malformed requests get the documented error, never a 500, and change
//! nothing.

use reqwest::Response;
use serde_json::json;

use crate::backend_tests;
use crate::support::{Backend, PASSWORD, TestApp, assert_error};

backend_tests!(
    bad_input_malformed_json,
    bad_input_wrong_json_types,
    bad_input_repeated_parameters,
    bad_input_huge_body,
    bad_input_other_media_type,
    bad_input_invalid_utf8,
    bad_input_nul_byte,
    bad_input_unknown_path_and_method,
    bad_input_leaves_code_usable,
);

async fn post_raw(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> Response {
    app.http
        .post(app.url(path))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

const ENDPOINTS: [&str; 2] = ["/oauth2/auth", "/oauth2/token"];

async fn bad_input_malformed_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for path in ENDPOINTS {
        for body in ["{", "[]", "\"text\"", "{\"a\":\"b\"} trailing", ""] {
            let response = post_raw(&app, path, "application/json", body.into()).await;
            assert_error(response, 400, "invalid_request").await;
        }
    }
}

async fn bad_input_wrong_json_types(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for field in ["client_id", "username", "password", "access_type"] {
        for value in [json!(1), json!(true), json!(null), json!(["x"]), json!({"x": "y"})] {
            let mut body = json!({
                "response_type": "code", "access_type": "offline", "client_id": "web",
                "grant_type": "password", "username": "alice", "password": PASSWORD,
            });
            body[field] = value.clone();
            let response = app.post_json("/oauth2/auth", &body).await;
            let error = assert_error(response, 400, "invalid_request").await;
            let description = error["error_description"].as_str().unwrap();
            assert!(description.contains(field), "{field}={value}: {description}");
        }
    }
}

async fn bad_input_repeated_parameters(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let form = "grant_type=authorization_code&code=a&code=b&client_id=web";
    let response =
        post_raw(&app, "/oauth2/token", "application/x-www-form-urlencoded", form.into()).await;
    assert_error(response, 400, "invalid_request").await;

    let json = r#"{"grant_type":"password","grant_type":"password"}"#;
    let response = post_raw(&app, "/oauth2/auth", "application/json", json.into()).await;
    assert_error(response, 400, "invalid_request").await;
}

async fn bad_input_huge_body(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let huge = format!("{{\"code\":\"{}\"}}", "x".repeat(1024 * 1024));

    for path in ENDPOINTS {
        let response = post_raw(&app, path, "application/json", huge.clone().into()).await;
        assert_error(response, 413, "request_too_large").await;
    }
    // Just over the limit without a Content-Length: a chunked body.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..65).map(|_| Ok(vec![b'a'; 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let response = app
        .http
        .post(app.url("/oauth2/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "request_too_large").await;
}

async fn bad_input_other_media_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for content_type in [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin1",
    ] {
        for path in ENDPOINTS {
            let response = post_raw(&app, path, content_type, b"a=b".to_vec()).await;
            assert_error(response, 415, "unsupported_media_type").await;
        }
    }
    let response = app.http.post(app.url("/oauth2/token")).body("a=b").send().await.unwrap();
    assert_error(response, 415, "unsupported_media_type").await;
}

async fn bad_input_invalid_utf8(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let json = b"{\"grant_type\":\"password\",\"username\":\"\xff\xfe\"}".to_vec();
    let response = post_raw(&app, "/oauth2/auth", "application/json", json).await;
    assert_error(response, 400, "invalid_request").await;

    let form = b"grant_type=password&username=%FF%FE".to_vec();
    let response = post_raw(&app, "/oauth2/auth", "application/x-www-form-urlencoded", form).await;
    assert_error(response, 400, "invalid_request").await;

    let raw = b"grant_type=password&username=\xff".to_vec();
    let response = post_raw(&app, "/oauth2/auth", "application/x-www-form-urlencoded", raw).await;
    assert_error(response, 400, "invalid_request").await;
}

async fn bad_input_nul_byte(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.password_grant(json!({"username": "ali\u{0}ce"})).await;
    assert_error(response, 400, "invalid_request").await;

    let form = "grant_type=authorization_code&client_id=web%00&code=x";
    let response =
        post_raw(&app, "/oauth2/token", "application/x-www-form-urlencoded", form.into()).await;
    assert_error(response, 400, "invalid_request").await;

    let response = app.tokeninfo("hka_\u{0}").await;
    assert_error(response, 400, "invalid_request").await;
}

async fn bad_input_unknown_path_and_method(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.http.get(app.url("/oauth2/nothing")).send().await.unwrap();
    assert_error(response, 404, "not_found").await;

    let response = app.http.get(app.url("/oauth2/token")).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    assert_error(response, 405, "method_not_allowed").await;

    let response = app.http.delete(app.url("/oauth2/tokeninfo")).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "GET,HEAD");
    assert_error(response, 405, "method_not_allowed").await;
}

async fn bad_input_leaves_code_usable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let code = app.code(json!({})).await;

    let form = format!("grant_type=authorization_code&code={code}&code={code}&client_id=web");
    let response =
        post_raw(&app, "/oauth2/token", "application/x-www-form-urlencoded", form.into()).await;
    assert_error(response, 400, "invalid_request").await;
    let response = app.exchange(&code, json!({"client_id": "web\u{0}"})).await;
    assert_error(response, 400, "invalid_request").await;

    assert_eq!(app.exchange(&code, json!({})).await.status(), 200);
}
