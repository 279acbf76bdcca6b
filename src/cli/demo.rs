//! `serve --demo`: demo clients and a demo member, the reference's three
//! calls as `curl` commands that work when pasted into a shell, and a link
//! that opens the browser flow, whose callback the server serves itself.

use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;

use crate::accounts::{self, AccountError, MemberDetails, Password};
use crate::http::pages::demo::DemoFlow;
use crate::state::AppState;
use crate::store::ClientKind;

/// The demo member's username.
const DEMO_USER: &str = "demo";
/// The demo device id, as in the API reference.
const DEMO_DEVICE: &str = "68753A44-4D6F-1226-9C60-0050E4C00067";

/// Makes sure the demo clients and member exist, gives the member a new
/// password, and prints it with the calls and the browser link on standard
/// output. The password is never logged. Returns the browser flow, whose
/// callback the server then serves.
pub async fn prepare(state: &AppState, address: SocketAddr) -> anyhow::Result<DemoFlow> {
    let base = format!("http://{address}");
    let flow = DemoFlow::new(&base, "demo-web");
    ensure_client(state, &flow.client_id, ClientKind::Web, &[flow.redirect_uri()]).await?;
    ensure_client(state, "demo-mobile", ClientKind::Mobile, &[]).await?;

    let password = generate_password()?;
    let details =
        MemberDetails { username: DEMO_USER, display_name: Some("Demo Member"), email: None };
    let now = state.now();
    match accounts::add_member(&state.store, &state.hasher, &details, &password.0, now).await {
        Err(AccountError::Exists(_)) => {
            accounts::set_password(&state.store, &state.hasher, DEMO_USER, &password.0, now)
                .await?;
            accounts::set_disabled(&state.store, DEMO_USER, false, now).await?;
        }
        other => other?,
    }

    // The new password exists only in this output, so a failed write is an
    // error rather than a panic.
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", instructions(&base, &password.1))
        .and_then(|()| writeln!(out, "{}", browser_instructions(&flow)))
        .and_then(|()| out.flush())
        .context("cannot write the demo password and calls to standard output")?;
    Ok(flow)
}

async fn ensure_client(
    state: &AppState,
    id: &str,
    kind: ClientKind,
    redirect_uris: &[String],
) -> anyhow::Result<()> {
    if state.store.find_client(id).await?.is_none() {
        super::client::add(&state.store, id, kind, redirect_uris, None).await?;
    }
    for uri in redirect_uris {
        state.store.add_redirect_uri(id, uri).await?;
    }
    Ok(())
}

fn browser_instructions(flow: &DemoFlow) -> String {
    format!(
        "\
Or sign in from a browser: open this link, sign in as {DEMO_USER:?} and choose
Allow. The server then shows the code it sent back to {client}, with a curl
command that exchanges it using the link's PKCE verifier:

{url}
",
        client = flow.client_id,
        url = flow.authorization_url(),
    )
}

/// Generates a password of 20 base64url characters: safe inside JSON and
/// inside single quotes in a shell.
fn generate_password() -> anyhow::Result<(Password, String)> {
    let mut bytes = [0u8; 15];
    OsRng.fill_bytes(&mut bytes);
    let text = URL_SAFE_NO_PAD.encode(bytes);
    let password = Password::new(text.clone()).context("generated password out of bounds")?;
    Ok((password, text))
}

fn instructions(base: &str, password: &str) -> String {
    let auth = format!(
        r#"{{"response_type":"code","access_type":"offline","client_id":"demo-mobile","device_id":"{DEMO_DEVICE}","grant_type":"password","username":"{DEMO_USER}","password":"{password}"}}"#
    );
    let token = format!(
        r#"{{"code":"'"$CODE"'","client_id":"demo-mobile","device_id":"{DEMO_DEVICE}","grant_type":"authorization_code"}}"#
    );
    format!(
        "\
Demo ready. Member {DEMO_USER:?} has the password {password}
(shown only now; the next `serve --demo` sets a new one).

Paste these three calls into a shell, in order:

# 1. Request an authorization code
CODE=$(curl -sS {base}/oauth2/auth -H 'Content-Type: application/json' -d '{auth}' | tee /dev/stderr | sed -n 's/.*\"code\":\"\\([^\"]*\\)\".*/\\1/p'); echo

# 2. Exchange the code for an access token
TOKEN=$(curl -sS {base}/oauth2/token -H 'Content-Type: application/json' -d '{token}' | tee /dev/stderr | sed -n 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/p'); echo

# 3. Retrieve the token information
curl -sS \"{base}/oauth2/tokeninfo?access_token=$TOKEN\"; echo
"
    )
}
