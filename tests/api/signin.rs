//! Sign-in failures that look alike, and hashes made again when the
//! Argon2 settings grow.

use hktia_portal::accounts;
use hktia_portal::config::{Argon2Params, Config};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, PASSWORD, TestApp};

backend_tests!(signin_failures_cost_one_verification_each, signin_rehashes_under_stronger_settings,);

async fn signin_failures_cost_one_verification_each(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_member("carol", PASSWORD).await;
    let now = app.state.now();
    accounts::set_disabled(&app.state.store, "carol", true, now).await.unwrap();

    let cases = [("alice", "wrong password!"), ("nobody", PASSWORD), ("carol", PASSWORD)];
    let mut bodies = Vec::new();
    for (username, password) in cases {
        let before = app.state.hasher.verifications();
        let response = app.sign_in_as(username, password, json!({})).await;
        assert_eq!(response.status(), 400, "{username}");
        bodies.push(response.json::<Value>().await.unwrap());
        let verified = app.state.hasher.verifications() - before;
        assert_eq!(verified, 1, "{username}: one Argon2 verification expected");
    }

    assert_eq!(bodies[0]["error"], "invalid_grant");
    assert_eq!(bodies[0], bodies[1], "unknown member must look like a wrong password");
    assert_eq!(bodies[0], bodies[2], "disabled member must look like a wrong password");
}

async fn signin_rehashes_under_stronger_settings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_member("bob", PASSWORD).await;
    let db = app.stop().await;
    let stronger = Argon2Params { memory_kib: 20 * 1024, ..Argon2Params::MINIMUM };
    let app = TestApp::start(db, Config { argon2: stronger, ..Config::default() }).await;

    let response = app.sign_in_as("alice", PASSWORD, json!({})).await;

    assert_eq!(response.status(), 200);
    let store = &app.state.store;
    let alice = store.find_member("alice").await.unwrap().unwrap();
    assert!(alice.password_hash.contains("$m=20480,t=2,p=1$"), "{}", alice.password_hash);
    let bob = store.find_member("bob").await.unwrap().unwrap();
    assert!(bob.password_hash.contains("$m=19456,t=2,p=1$"), "only signed-in members change");
    let again = app.sign_in_as("alice", PASSWORD, json!({})).await;
    assert_eq!(again.status(), 200, "the new hash must verify");
}
