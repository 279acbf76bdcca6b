//! Issuing authorization codes: the password grant of `POST /oauth2/auth`,
//! and the code the browser flow issues once a member allows it.

use std::net::IpAddr;

use super::{AccessType, OauthError, pkce, required};
use crate::accounts::{self, Password, SignInAttempt, SignInError};
use crate::clock::UnixTime;
use crate::state::AppState;
use crate::store::{ClientKind, ClientRecord, MemberRecord, NewCode};
use crate::telemetry::metrics::SignInOutcome;
use crate::tokens::{self, Secret, TokenKind};

/// The parameters of a password-grant authorization request, as received.
#[derive(Debug, Default)]
pub struct PasswordGrantRequest {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// `online` or `offline`.
    pub access_type: Option<String>,
    /// The application.
    pub client_id: Option<String>,
    /// Required for mobile clients.
    pub device_id: Option<String>,
    /// The member's username.
    pub username: Option<String>,
    /// The member's password.
    pub password: Option<Secret>,
    /// Optional PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// Must be `S256` when a challenge is sent.
    pub code_challenge_method: Option<String>,
    /// The address of the client that sent the request, for the audit
    /// trail.
    pub address: Option<IpAddr>,
}

/// A sign-in attempt as received, on either sign-in path.
#[derive(Debug)]
pub struct SignIn<'a> {
    /// The application the member signs in to.
    pub client_id: &'a str,
    /// The username as typed.
    pub username: &'a str,
    /// The password as typed, not yet checked for length.
    pub password: &'a Secret,
    /// The address of the client that sent the attempt.
    pub address: Option<IpAddr>,
    /// The time the request arrived.
    pub now: UnixTime,
}

/// The grant a code is issued for, once the member is known.
#[derive(Debug)]
pub struct CodeGrant<'a> {
    /// The member who signed in.
    pub member: &'a MemberRecord,
    /// The application.
    pub client: &'a ClientRecord,
    /// The device, if the client named one.
    pub device_id: Option<&'a str>,
    /// Whether a refresh token will follow.
    pub access_type: AccessType,
    /// The browser flow's redirect URI, which the exchange must repeat.
    pub redirect_uri: Option<&'a str>,
    /// The PKCE challenge, if any.
    pub code_challenge: Option<&'a str>,
}

/// Checks the request and the member's credentials, then issues a code.
pub async fn password_grant(
    state: &AppState,
    request: &PasswordGrantRequest,
    now: UnixTime,
) -> Result<Secret, OauthError> {
    match request.response_type.as_deref() {
        Some("code") => {}
        Some(_) => return Err(OauthError::UnsupportedResponseType),
        None => return Err(super::missing("response_type")),
    }
    let access_type = AccessType::parse(request.access_type.as_deref())?;
    let client = find_client(state, required(request.client_id.as_deref(), "client_id")?).await?;
    let device_id = device_id_for(&client, request.device_id.as_deref())?;
    let username = required(request.username.as_deref(), "username")?;
    let password = request.password.as_ref().ok_or_else(|| super::missing("password"))?;
    let challenge = pkce::parse_challenge(
        request.code_challenge.as_deref(),
        request.code_challenge_method.as_deref(),
    )?;

    let attempt =
        SignIn { client_id: &client.id, username, password, address: request.address, now };
    let member = sign_in(state, &attempt).await?;

    let grant = CodeGrant {
        member: &member,
        client: &client,
        device_id,
        access_type,
        redirect_uri: None,
        code_challenge: challenge.as_deref(),
    };
    issue_code(state, &grant, now).await
}

/// Checks a member's credentials, for the password grant and the consent
/// page alike, under one count of failures. Wrong credentials, unknown and
/// disabled members are `invalid_grant`; a paused sign-in is
/// `too_many_requests`.
pub async fn sign_in(state: &AppState, attempt: &SignIn<'_>) -> Result<MemberRecord, OauthError> {
    // A password outside the accepted lengths can never match, so it is not
    // worth a hash, and its length reveals nothing about the member.
    let Ok(password) = Password::new(attempt.password.expose().to_owned()) else {
        state.metrics.sign_in(SignInOutcome::Failed);
        return Err(OauthError::invalid_grant("password length out of bounds"));
    };
    let attempt = SignInAttempt {
        username: attempt.username,
        password: &password,
        client_id: attempt.client_id,
        address: attempt.address,
        now: attempt.now,
    };
    let policy = accounts::lockout_policy(&state.config);
    let signed_in = accounts::sign_in(&state.store, &state.hasher, &policy, &attempt).await;
    count_sign_in(state, &signed_in);
    Ok(signed_in?)
}

/// Counts a sign-in that ended with a verdict on the credentials, paused
/// ones included. A database or hashing failure is no verdict and is not
/// counted.
fn count_sign_in(state: &AppState, result: &Result<MemberRecord, SignInError>) {
    let outcome = match result {
        Ok(_) => SignInOutcome::Succeeded,
        Err(
            SignInError::UnknownMember
            | SignInError::WrongPassword
            | SignInError::Disabled
            | SignInError::Paused { .. },
        ) => SignInOutcome::Failed,
        Err(_) => return,
    };
    state.metrics.sign_in(outcome);
}

/// Issues and stores a new authorization code.
pub async fn issue_code(
    state: &AppState,
    grant: &CodeGrant<'_>,
    now: UnixTime,
) -> Result<Secret, OauthError> {
    let code = tokens::generate(TokenKind::Code);
    let ttl = state.config.code_ttl.as_secs() as i64;
    state
        .store
        .insert_code(&NewCode {
            digest: &code.digest(),
            member_id: grant.member.id,
            client_id: &grant.client.id,
            device_id: grant.device_id,
            access_type: grant.access_type.as_str(),
            redirect_uri: grant.redirect_uri,
            code_challenge: grant.code_challenge,
            now,
            expires_at: now + ttl,
        })
        .await?;
    state.metrics.token_issued("code");
    Ok(code)
}

/// Looks up a client; an unknown or removed one is `invalid_client`.
pub async fn find_client(state: &AppState, client_id: &str) -> Result<ClientRecord, OauthError> {
    state.store.find_client(client_id).await?.ok_or_else(|| {
        tracing::info!(client_id, "unknown client");
        OauthError::InvalidClient
    })
}

/// Returns the device id to bind a grant to. Mobile clients must send one;
/// web clients may.
pub fn device_id_for<'a>(
    client: &ClientRecord,
    device_id: Option<&'a str>,
) -> Result<Option<&'a str>, OauthError> {
    if client.kind == ClientKind::Mobile && device_id.is_none() {
        return Err(OauthError::invalid_request("device_id is required for mobile clients"));
    }
    Ok(device_id)
}
