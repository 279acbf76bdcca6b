//! Counting failed sign-ins: `members.failed_logins` and `locked_until` for
//! members, and the `unknown_signins` table for usernames that belong to no
//! member, so that a pause never reveals whether a username exists.
//!
//! An attempt is reserved before the password is hashed: one conditional
//! `UPDATE` counts it as a failure and, once the count reaches the limit,
//! sets the pause in the same statement. Parallel attempts on any number of
//! servers therefore cannot check more passwords than the limit allows; a
//! success clears the count afterwards.

use super::{Store, StoreError, args};
use crate::clock::UnixTime;

/// When sign-in pauses. Every duration is in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that start the first pause; 0 turns pausing off.
    pub max_failures: i64,
    /// The first pause, which doubles with each further failure.
    pub first_pause: i64,
    /// The maximum pause.
    pub max_pause: i64,
}

/// The outcome of reserving a sign-in attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt may check the password; it already counts as a failure.
    Allowed,
    /// Sign-in is paused until this time; the password must not be checked.
    Paused {
        /// End of the pause.
        until: UnixTime,
    },
}

/// Expands to the new `locked_until` of a row whose `failed_logins` is
/// about to grow by one: no pause below `$3` failures, then `$4` seconds
/// doubled for each failure past `$3`, at most `$5` seconds after `$2`. The
/// shift stays below 12 because 2^12 seconds exceed the maximum pause of an
/// hour, and a larger shift would overflow PostgreSQL's 32-bit integer.
macro_rules! pause_until {
    () => {
        "CASE \
         WHEN failed_logins + 1 < $3 THEN NULL \
         WHEN failed_logins + 1 - $3 >= 12 THEN $2 + $5 \
         WHEN $4 * (1 << CAST(failed_logins + 1 - $3 AS INTEGER)) >= $5 THEN $2 + $5 \
         ELSE $2 + $4 * (1 << CAST(failed_logins + 1 - $3 AS INTEGER)) END"
    };
}

/// Expands to the condition under which an attempt may go ahead at time
/// `$2`.
macro_rules! not_paused {
    () => {
        "(locked_until IS NULL OR locked_until <= $2)"
    };
}

impl LockoutPolicy {
    /// Returns the parameters of a reservation: the row's `key` as `$1`,
    /// then the time and the policy as `$2` to `$5` of [`pause_until`].
    fn args<'a>(&self, key: super::Arg<'a>, now: UnixTime) -> Vec<super::Arg<'a>> {
        vec![
            key,
            now.into(),
            self.max_failures.into(),
            self.first_pause.into(),
            self.max_pause.into(),
        ]
    }
}

impl Store {
    /// Reserves a sign-in attempt of the member with row id `member_id`.
    pub async fn reserve_member_signin(
        &self,
        member_id: i64,
        policy: &LockoutPolicy,
        now: UnixTime,
    ) -> Result<Reservation, StoreError> {
        let reserve = concat!(
            "UPDATE members SET failed_logins = failed_logins + 1, locked_until = ",
            pause_until!(),
            " WHERE id = $1 AND ",
            not_paused!(),
            " RETURNING failed_logins"
        );
        let reserved: Option<(i64,)> =
            self.execute_returning(reserve, policy.args(member_id.into(), now)).await?;
        if reserved.is_some() {
            return Ok(Reservation::Allowed);
        }
        let until: Option<(Option<UnixTime>,)> = self
            .fetch_optional("SELECT locked_until FROM members WHERE id = $1", args![member_id])
            .await?;
        Ok(paused_until(until.and_then(|(until,)| until), now))
    }

    /// Reserves a sign-in attempt for a username that belongs to no member,
    /// counting it exactly as a member's.
    pub async fn reserve_unknown_signin(
        &self,
        username_key: &str,
        policy: &LockoutPolicy,
        now: UnixTime,
    ) -> Result<Reservation, StoreError> {
        let reserve = concat!(
            "UPDATE unknown_signins SET failed_logins = failed_logins + 1, locked_until = ",
            pause_until!(),
            ", last_failed_at = $2 WHERE username_key = $1 AND ",
            not_paused!(),
            " RETURNING failed_logins"
        );
        self.execute(
            "INSERT INTO unknown_signins (username_key, last_failed_at) VALUES ($1, $2) \
             ON CONFLICT (username_key) DO NOTHING",
            args![username_key, now],
        )
        .await?;
        let reserved: Option<(i64,)> =
            self.execute_returning(reserve, policy.args(username_key.into(), now)).await?;
        if reserved.is_some() {
            return Ok(Reservation::Allowed);
        }
        let until: Option<(Option<UnixTime>,)> = self
            .fetch_optional(
                "SELECT locked_until FROM unknown_signins WHERE username_key = $1",
                args![username_key],
            )
            .await?;
        Ok(paused_until(until.and_then(|(until,)| until), now))
    }

    /// Clears a member's failed sign-ins and pause, after a successful
    /// sign-in or by an administrator. Returns `false` when no member has
    /// that username key.
    pub async fn clear_signin_failures(&self, username_key: &str) -> Result<bool, StoreError> {
        let cleared = self
            .execute(
                "UPDATE members SET failed_logins = 0, locked_until = NULL \
                 WHERE username_key = $1",
                args![username_key],
            )
            .await?;
        Ok(cleared > 0)
    }
}

/// Returns the pause that a failed reservation found. The pause may have
/// ended between the update and the read, and then the caller waits one
/// second.
fn paused_until(until: Option<UnixTime>, now: UnixTime) -> Reservation {
    Reservation::Paused { until: until.unwrap_or(now).max(now + 1) }
}
