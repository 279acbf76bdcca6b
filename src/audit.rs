//! The audit trail: security events, each written as a row of
//! `audit_events` and as a log line, at `warn` when it may mean an attack or
//! an administrator's intervention and at `info` otherwise. An event
//! contains ids, a client address and a short reason. It never contains a
//! password, code or token, nor the username typed for an unknown member,
//! which is sometimes a password typed into the wrong field.

use std::net::IpAddr;

use crate::clock::UnixTime;
use crate::store::Store;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A member signed in.
    SignInSucceeded,
    /// A sign-in was rejected: wrong password, unknown or disabled member.
    SignInFailed,
    /// A sign-in was refused because too many failed before it.
    SignInPaused,
    /// A spent authorization code was presented again; its session ended.
    CodeReused,
    /// A replaced refresh token was used after its grace window; its
    /// session ended.
    RefreshReused,
    /// A client revoked a token, ending its session.
    TokenRevoked,
    /// A member ended one of their sessions.
    SessionEnded,
    /// An administrator disabled a member.
    MemberDisabled,
    /// An administrator enabled a member.
    MemberEnabled,
    /// A member's password was replaced.
    PasswordChanged,
    /// An administrator lifted a member's sign-in pause.
    MemberUnlocked,
}

impl Event {
    /// Every event, in the order of the list above.
    pub const ALL: [Event; 11] = [
        Event::SignInSucceeded,
        Event::SignInFailed,
        Event::SignInPaused,
        Event::CodeReused,
        Event::RefreshReused,
        Event::TokenRevoked,
        Event::SessionEnded,
        Event::MemberDisabled,
        Event::MemberEnabled,
        Event::PasswordChanged,
        Event::MemberUnlocked,
    ];

    /// Returns the name stored in the database and shown by `audit list`.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::SignInSucceeded => "signin_succeeded",
            Event::SignInFailed => "signin_failed",
            Event::SignInPaused => "signin_paused",
            Event::CodeReused => "code_reused",
            Event::RefreshReused => "refresh_token_reused",
            Event::TokenRevoked => "token_revoked",
            Event::SessionEnded => "session_ended",
            Event::MemberDisabled => "member_disabled",
            Event::MemberEnabled => "member_enabled",
            Event::PasswordChanged => "password_changed",
            Event::MemberUnlocked => "member_unlocked",
        }
    }

    /// Tells whether the event may mean an attack or changes who can sign
    /// in; such events are logged at `warn`.
    pub fn is_security_relevant(self) -> bool {
        matches!(
            self,
            Event::SignInFailed
                | Event::SignInPaused
                | Event::CodeReused
                | Event::RefreshReused
                | Event::MemberDisabled
                | Event::PasswordChanged
        )
    }
}

/// One event to record; fields that do not apply stay `None`.
#[derive(Clone, Debug)]
pub struct AuditEntry<'a> {
    /// What happened.
    pub event: Event,
    /// The member concerned.
    pub member_id: Option<i64>,
    /// The member's registered username.
    pub username: Option<&'a str>,
    /// The application concerned.
    pub client_id: Option<&'a str>,
    /// The session concerned.
    pub grant_id: Option<&'a str>,
    /// The address of the client that made the request.
    pub address: Option<IpAddr>,
    /// A short reason, such as `wrong password`.
    pub detail: Option<&'a str>,
}

impl<'a> AuditEntry<'a> {
    /// Starts an entry for `event` with every other field empty.
    pub fn new(event: Event) -> Self {
        Self {
            event,
            member_id: None,
            username: None,
            client_id: None,
            grant_id: None,
            address: None,
            detail: None,
        }
    }

    /// Names the member concerned.
    pub fn member(self, member_id: i64, username: &'a str) -> Self {
        Self { member_id: Some(member_id), username: Some(username), ..self }
    }

    /// Names the member concerned by row id alone.
    pub fn member_id(self, member_id: i64) -> Self {
        Self { member_id: Some(member_id), ..self }
    }

    /// Names the application concerned.
    pub fn client(self, client_id: &'a str) -> Self {
        Self { client_id: Some(client_id), ..self }
    }

    /// Names the session concerned.
    pub fn grant(self, grant_id: &'a str) -> Self {
        Self { grant_id: Some(grant_id), ..self }
    }

    /// Gives the address of the client that made the request.
    pub fn address(self, address: Option<IpAddr>) -> Self {
        Self { address, ..self }
    }

    /// Adds a short reason.
    pub fn detail(self, detail: &'a str) -> Self {
        Self { detail: Some(detail), ..self }
    }

    /// Logs the event and stores it. A failure to store it is logged and
    /// otherwise ignored, so that a full audit table never blocks sign-in
    /// or revocation.
    pub async fn record(&self, store: &Store, now: UnixTime) {
        self.log();
        if let Err(error) = store.insert_audit_event(self, now).await {
            tracing::error!(event = self.event.as_str(), %error, "audit event not stored");
        }
    }

    fn log(&self) {
        let event = self.event.as_str();
        let address = self.address.map(tracing::field::display);
        let (member_id, username, client_id) = (self.member_id, self.username, self.client_id);
        let (grant_id, detail) = (self.grant_id, self.detail);
        if self.event.is_security_relevant() {
            tracing::warn!(
                event, member_id, username, client_id, grant_id, address, detail, "audit"
            );
        } else {
            tracing::info!(
                event, member_id, username, client_id, grant_id, address, detail, "audit"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_unique() {
        let mut names: Vec<&str> = Event::ALL.iter().map(|e| e.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Event::ALL.len());
    }
}
