//! The consent page in a real browser: headless Chromium, driven over
//! WebDriver, signs in, allows, denies, mistypes a password, follows a bad
//! link, submits a forged form and reads the page in Traditional Chinese.
//! The portal runs with the demo's callback, so every redirect lands on a
//! page of the same loopback server.
//!
//! Without `/usr/bin/chromium` and `/usr/bin/chromedriver` each test prints
//! that it was skipped and passes. Each test has its own chromedriver, and the
//! tests take turns, so that two browsers never share the machine's cores.
//!
//! `PORTAL_UPDATE_SCREENSHOTS=1` writes the screenshots to
//! `docs/screenshots/`; otherwise they go under Cargo's test temp folder.

mod driver;
mod portal;

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use tokio::sync::Mutex;

use driver::{Chromedriver, Screen};
use portal::{MEMBER, PASSWORD, Portal};

/// How long one browser test may take, browser start included.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a page may take to appear after a click.
const PAGE_TIMEOUT: Duration = Duration::from_secs(15);

/// Makes the browser tests take turns. Each test has a runtime of its own,
/// and Tokio's mutex works across runtimes.
static BROWSER: Mutex<()> = Mutex::const_new(());

/// Runs `test` with a fresh portal and a browser session on `screen`, or
/// prints that it was skipped when there is no browser. The session is
/// closed and chromedriver killed whether the test passes or not.
async fn with_browser<F, Fut>(screen: Screen, languages: &str, test: F)
where
    F: FnOnce(Client, Portal) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if let Some(reason) = driver::missing() {
        // Written past the test harness's capture, so that a plain
        // `cargo test` shows it.
        let _ = writeln!(std::io::stderr(), "skipped: {reason}");
        return;
    }
    let _turn = BROWSER.lock().await;
    let portal = Portal::start().await;
    let mut chromedriver = Chromedriver::start().await;
    let client = chromedriver.session(screen, languages).await;

    let outcome =
        tokio::time::timeout(TEST_TIMEOUT, tokio::spawn(test(client.clone(), portal))).await;
    let _ = client.close().await;
    drop(chromedriver);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(failure)) => std::panic::resume_unwind(failure.into_panic()),
        Err(_) => panic!("the browser test took more than {TEST_TIMEOUT:?}"),
    }
}

async fn find(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(PAGE_TIMEOUT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css} not found: {error}"))
}

async fn text(client: &Client, css: &str) -> String {
    find(client, css).await.text().await.unwrap()
}

async fn sign_in(client: &Client, username: &str, password: &str) {
    find(client, "#username").await.send_keys(username).await.unwrap();
    find(client, "#password").await.send_keys(password).await.unwrap();
}

/// Waits for the demo callback page and returns its URL.
async fn callback_url(client: &Client) -> url::Url {
    let started = std::time::Instant::now();
    loop {
        let url = client.current_url().await.unwrap();
        if url.path() == "/demo/callback" {
            find(client, "main h1").await;
            return url;
        }
        assert!(started.elapsed() < PAGE_TIMEOUT, "still not on the callback page: {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn query_value(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    let folder = if std::env::var("PORTAL_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    };
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(format!("{name}.png")), png).unwrap();
}

#[tokio::test]
async fn browser_allow_returns_code() {
    with_browser(Screen::Desktop, "en", |client, portal| async move {
        client.goto(&portal.flow.authorization_url()).await.unwrap();
        assert_eq!(text(&client, "h1").await, "Sign in to continue to Events Calendar");
        assert_eq!(
            client.active_element().await.unwrap().attr("id").await.unwrap().as_deref(),
            Some("username")
        );

        sign_in(&client, MEMBER, PASSWORD).await;
        find(&client, "button[value=allow]").await.click().await.unwrap();

        let url = callback_url(&client).await;
        assert_eq!(query_value(&url, "state"), Some(portal.flow.state.clone()));
        let code = query_value(&url, "code").expect("no code in the callback URL");
        assert_eq!(text(&client, "pre code").await, code);
        let tokens = portal.exchange(&code).await;
        assert!(tokens["access_token"].as_str().unwrap().starts_with("hka_"));
    })
    .await;
}

#[tokio::test]
async fn browser_deny_returns_access_denied() {
    with_browser(Screen::Desktop, "en", |client, portal| async move {
        client.goto(&portal.flow.authorization_url()).await.unwrap();

        // Deny needs no credentials: the browser must not block it.
        find(&client, "button[value=deny]").await.click().await.unwrap();

        let url = callback_url(&client).await;
        assert_eq!(query_value(&url, "error").as_deref(), Some("access_denied"));
        assert_eq!(query_value(&url, "state"), Some(portal.flow.state.clone()));
        assert_eq!(query_value(&url, "code"), None);
        assert_eq!(text(&client, "h1").await, "demo-web received an error");
    })
    .await;
}

#[tokio::test]
async fn browser_wrong_password_shows_message() {
    with_browser(Screen::Desktop, "en", |client, portal| async move {
        client.goto(&portal.flow.authorization_url()).await.unwrap();
        sign_in(&client, MEMBER, "not the password").await;
        find(&client, "button[value=allow]").await.click().await.unwrap();

        let notice = text(&client, "[role=alert]").await;
        assert_eq!(notice, "The username or password is incorrect. Try again.");
        assert_eq!(client.current_url().await.unwrap().path(), "/oauth2/auth");
        let username = find(&client, "#username").await;
        assert_eq!(username.prop("value").await.unwrap().as_deref(), Some(MEMBER));
        let password = find(&client, "#password").await;
        assert_eq!(password.prop("value").await.unwrap().as_deref(), Some(""));
        let focused = client.active_element().await.unwrap();
        assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("password"));
        save_screenshot(&client, "consent-wrong-password-desktop-en").await;

        // Enter in the password field is Allow, the form's first button.
        password.send_keys(&format!("{PASSWORD}{}", Key::Enter)).await.unwrap();
        let url = callback_url(&client).await;
        assert!(query_value(&url, "code").is_some(), "{url}");
    })
    .await;
}

#[tokio::test]
async fn browser_unregistered_redirect_uri_shows_error() {
    with_browser(Screen::Desktop, "en", |client, portal| async move {
        let link =
            portal.flow.authorization_url().replace("%2Fdemo%2Fcallback", "%2Fdemo%2Fcallback%2F");
        client.goto(&link).await.unwrap();

        assert_eq!(text(&client, "h1").await, "This sign-in link does not work");
        assert_eq!(client.current_url().await.unwrap().path(), "/oauth2/auth");
        let details = text(&client, ".details").await;
        assert!(details.contains("Error 400: invalid_request"), "{details}");
        assert!(client.find(Locator::Css("form")).await.is_err(), "no form on the error page");
        save_screenshot(&client, "consent-error-desktop-en").await;
    })
    .await;
}

#[tokio::test]
async fn browser_forged_form_is_rejected() {
    with_browser(Screen::Desktop, "en", |client, portal| async move {
        // The member has the page open, so the browser has the cookie. A
        // page on another port of the same host counts as the same site,
        // so the browser even sends the cookie with the forged form.
        client.goto(&portal.flow.authorization_url()).await.unwrap();
        find(&client, "#username").await;
        let forger = portal.start_forger().await;
        client.goto(&forger).await.unwrap();
        find(&client, "#forged").await.click().await.unwrap();

        let notice = text(&client, "[role=alert]").await;
        assert_eq!(notice, "This page had expired, so nothing was sent. Sign in again.");
        assert_eq!(client.current_url().await.unwrap().path(), "/oauth2/auth");

        // The member can sign in from the page they were given.
        sign_in(&client, MEMBER, PASSWORD).await;
        find(&client, "button[value=allow]").await.click().await.unwrap();
        let url = callback_url(&client).await;
        assert!(query_value(&url, "code").is_some(), "{url}");
    })
    .await;
}

#[tokio::test]
async fn browser_page_speaks_traditional_chinese() {
    with_browser(Screen::Desktop, "zh-HK,zh;q=0.9", |client, portal| async move {
        client.goto(&portal.flow.authorization_url()).await.unwrap();

        assert_eq!(text(&client, "h1").await, "登入以繼續使用 Events Calendar");
        let html = find(&client, "html").await;
        assert_eq!(html.attr("lang").await.unwrap().as_deref(), Some("zh-Hant"));
        assert_eq!(text(&client, "label[for=username]").await, "用戶名稱");
        assert_eq!(text(&client, "button[value=allow]").await, "允許");

        // The switch, a plain link, turns the page into English and back.
        find(&client, "nav.languages a").await.click().await.unwrap();
        client
            .wait()
            .at_most(PAGE_TIMEOUT)
            .for_element(Locator::Css("html[lang=en]"))
            .await
            .unwrap();
        assert_eq!(text(&client, "h1").await, "Sign in to continue to Events Calendar");
        assert_eq!(text(&client, "nav.languages a").await, "繁體中文");
        find(&client, "nav.languages a").await.click().await.unwrap();
        client
            .wait()
            .at_most(PAGE_TIMEOUT)
            .for_element(Locator::Css("html[lang=zh-Hant]"))
            .await
            .unwrap();

        // The chosen language lasts through a sign-in that fails.
        sign_in(&client, MEMBER, "not the password").await;
        find(&client, "button[value=allow]").await.click().await.unwrap();
        assert_eq!(text(&client, "[role=alert]").await, "用戶名稱或密碼不正確，請再試一次。");
    })
    .await;
}

#[tokio::test]
async fn browser_screenshots_in_both_languages() {
    for (screen, name) in [(Screen::Desktop, "desktop"), (Screen::Phone, "phone")] {
        with_browser(screen, "en", move |client, portal| async move {
            for lang in ["en", "zh-Hant"] {
                let link = format!("{}&hl={lang}", portal.flow.authorization_url());
                client.goto(&link).await.unwrap();
                find(&client, format!("html[lang={lang}]").as_str()).await;
                save_screenshot(&client, &format!("consent-{name}-{lang}")).await;
            }
            if let Screen::Phone = screen {
                // Nothing may stick out sideways at phone width.
                let overflow = client
                    .execute(
                        "return document.documentElement.scrollWidth > window.innerWidth;",
                        vec![],
                    )
                    .await
                    .unwrap();
                assert_eq!(overflow, serde_json::Value::Bool(false));
            }
        })
        .await;
    }
}
