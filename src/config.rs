//! Settings read from `PORTAL_*` environment variables, each with a default.

use std::net::IpAddr;
use std::time::Duration;

/// Everything the server can be tuned with. Durations are whole seconds in
/// the environment and [`Duration`] here.
#[derive(Clone, Debug)]
pub struct Config {
    /// Lifetime of an access token (`PORTAL_ACCESS_TOKEN_TTL`, 3600 s).
    pub access_token_ttl: Duration,
    /// Lifetime of an authorization code (`PORTAL_CODE_TTL`, 300 s, at most
    /// 600 s as RFC 6749 section 4.1.2 recommends).
    pub code_ttl: Duration,
    /// Lifetime of a refresh token, started again by each rotation
    /// (`PORTAL_REFRESH_TOKEN_TTL`, 7,776,000 s or 90 days).
    pub refresh_token_ttl: Duration,
    /// How long a replaced refresh token still works
    /// (`PORTAL_REFRESH_GRACE`, 10 s; 0 turns the grace window off).
    pub refresh_grace: Duration,
    /// Failed sign-ins of one member before sign-in is paused
    /// (`PORTAL_LOGIN_MAX_FAILURES`, 5; 0 turns the pause off).
    pub login_max_failures: u32,
    /// First pause after too many failures; it doubles with each further
    /// failure, up to an hour (`PORTAL_LOGIN_LOCKOUT`, 60 s, at most
    /// 3600 s).
    pub login_lockout: Duration,
    /// Sign-in attempts per minute from one client address
    /// (`PORTAL_SIGNIN_RATE`, 30; 0 turns the limit off).
    pub signin_rate: u32,
    /// Requests per second from one client address on every endpoint
    /// (`PORTAL_RATE_LIMIT`, 0 = off).
    pub rate_limit: u32,
    /// Peers whose `X-Forwarded-For` is believed (`PORTAL_TRUSTED_PROXIES`,
    /// a comma-separated list of IP addresses; none by default).
    pub trusted_proxies: Vec<IpAddr>,
    /// Log line format (`PORTAL_LOG_FORMAT`, `text` or `json`).
    pub log_format: LogFormat,
    /// Argon2id cost for new password hashes.
    pub argon2: Argon2Params,
    /// The server's base URL, the `issuer` of its metadata
    /// (`PORTAL_ISSUER`, such as `https://login.example.org`). Unset by
    /// default: each metadata request then names `http://` and its own
    /// `Host` header, which is right only for local use.
    pub issuer: Option<String>,
    /// How long audit events, and the failed sign-ins of unknown usernames,
    /// are kept (`PORTAL_AUDIT_RETENTION`, 7,776,000 s or 90 days).
    pub audit_retention: Duration,
    /// Time between two runs of the task that deletes expired codes, tokens
    /// and sessions and old audit events (`PORTAL_CLEANUP_INTERVAL`,
    /// 3600 s).
    pub cleanup_interval: Duration,
}

/// Argon2id cost parameters. The defaults are the floor that OWASP's
/// password storage guidance gives for Argon2id; only stronger settings are
/// accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory per hash in KiB (`PORTAL_ARGON2_MEMORY_KIB`, 19456 = 19 MiB).
    pub memory_kib: u32,
    /// Passes over the memory (`PORTAL_ARGON2_PASSES`, 2).
    pub passes: u32,
    /// Lanes (`PORTAL_ARGON2_LANES`, 1).
    pub lanes: u32,
}

/// Maximum sign-in pause: the pause doubles with each failure past
/// [`Config::login_max_failures`] until it reaches this.
pub const MAX_LOGIN_PAUSE: Duration = Duration::from_secs(3600);

impl Argon2Params {
    /// The weakest cost accepted: 19 MiB, 2 passes, 1 lane.
    pub const MINIMUM: Self = Self { memory_kib: 19 * 1024, passes: 2, lanes: 1 };
}

/// Format of log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid {name}={value:?}: {reason}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    reason: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::from_secs(3600),
            code_ttl: Duration::from_secs(300),
            refresh_token_ttl: Duration::from_secs(90 * 24 * 3600),
            refresh_grace: Duration::from_secs(10),
            login_max_failures: 5,
            login_lockout: Duration::from_secs(60),
            signin_rate: 30,
            rate_limit: 0,
            trusted_proxies: Vec::new(),
            log_format: LogFormat::Text,
            argon2: Argon2Params::MINIMUM,
            issuer: None,
            audit_retention: Duration::from_secs(90 * 24 * 3600),
            cleanup_interval: Duration::from_secs(3600),
        }
    }
}

impl Config {
    /// Reads every setting from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every setting through `lookup`, which returns a variable's
    /// value or `None` when it is unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let env = Env { lookup: &lookup };

        let code_ttl = env.seconds("PORTAL_CODE_TTL", defaults.code_ttl)?;
        if code_ttl.is_zero() || code_ttl > Duration::from_secs(600) {
            return Err(env.invalid("PORTAL_CODE_TTL", "must be between 1 and 600 seconds"));
        }
        let argon2 = Argon2Params {
            memory_kib: env.number("PORTAL_ARGON2_MEMORY_KIB", defaults.argon2.memory_kib)?,
            passes: env.number("PORTAL_ARGON2_PASSES", defaults.argon2.passes)?,
            lanes: env.number("PORTAL_ARGON2_LANES", defaults.argon2.lanes)?,
        };
        let minimum = Argon2Params::MINIMUM;
        if argon2.memory_kib < minimum.memory_kib
            || argon2.passes < minimum.passes
            || argon2.lanes < minimum.lanes
        {
            return Err(env.invalid(
                "PORTAL_ARGON2_MEMORY_KIB",
                "Argon2 settings may not go below 19456 KiB, 2 passes and 1 lane",
            ));
        }

        let login_lockout = env.positive_seconds("PORTAL_LOGIN_LOCKOUT", defaults.login_lockout)?;
        if login_lockout > MAX_LOGIN_PAUSE {
            return Err(env.invalid("PORTAL_LOGIN_LOCKOUT", "must be at most 3600 seconds"));
        }

        Ok(Self {
            access_token_ttl: env
                .positive_seconds("PORTAL_ACCESS_TOKEN_TTL", defaults.access_token_ttl)?,
            code_ttl,
            refresh_token_ttl: env
                .positive_seconds("PORTAL_REFRESH_TOKEN_TTL", defaults.refresh_token_ttl)?,
            refresh_grace: env.seconds("PORTAL_REFRESH_GRACE", defaults.refresh_grace)?,
            login_max_failures: env
                .number("PORTAL_LOGIN_MAX_FAILURES", defaults.login_max_failures)?,
            login_lockout,
            signin_rate: env.number("PORTAL_SIGNIN_RATE", defaults.signin_rate)?,
            rate_limit: env.number("PORTAL_RATE_LIMIT", defaults.rate_limit)?,
            trusted_proxies: env.addresses("PORTAL_TRUSTED_PROXIES")?,
            log_format: env.log_format("PORTAL_LOG_FORMAT")?,
            argon2,
            issuer: env.issuer("PORTAL_ISSUER")?,
            audit_retention: env
                .positive_seconds("PORTAL_AUDIT_RETENTION", defaults.audit_retention)?,
            cleanup_interval: env
                .positive_seconds("PORTAL_CLEANUP_INTERVAL", defaults.cleanup_interval)?,
        })
    }
}

/// Typed access to the environment for [`Config::from_lookup`].
struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn invalid(&self, name: &'static str, reason: &str) -> ConfigError {
        ConfigError { name, value: self.get(name).unwrap_or_default(), reason: reason.to_owned() }
    }

    fn number(&self, name: &'static str, default: u32) -> Result<u32, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|_| self.invalid(name, "expected a whole number")),
        }
    }

    fn seconds(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value
                .parse::<u32>()
                .map(|s| Duration::from_secs(s.into()))
                .map_err(|_| self.invalid(name, "expected a whole number of seconds")),
        }
    }

    fn positive_seconds(
        &self,
        name: &'static str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        let value = self.seconds(name, default)?;
        if value.is_zero() {
            return Err(self.invalid(name, "must be at least 1 second"));
        }
        Ok(value)
    }

    fn addresses(&self, name: &'static str) -> Result<Vec<IpAddr>, ConfigError> {
        let Some(value) = self.get(name) else { return Ok(Vec::new()) };
        value
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().map_err(|_| self.invalid(name, "expected IP addresses")))
            .collect()
    }

    /// Reads an absolute `http` or `https` URL without query or fragment,
    /// dropping a trailing slash so that endpoint URLs can be appended.
    fn issuer(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        let valid = url::Url::parse(&value).is_ok_and(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.host().is_some()
                && url.query().is_none()
                && url.fragment().is_none()
        });
        if !valid {
            return Err(self.invalid(name, "expected an http or https URL without query"));
        }
        Ok(Some(value.trim_end_matches('/').to_owned()))
    }

    fn log_format(&self, name: &'static str) -> Result<LogFormat, ConfigError> {
        match self.get(name).as_deref() {
            None | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(_) => Err(self.invalid(name, "expected text or json")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_match_documented_values() {
        let config = config(&[]).unwrap();
        assert_eq!(config.access_token_ttl, Duration::from_secs(3600));
        assert_eq!(config.code_ttl, Duration::from_secs(300));
        assert_eq!(config.refresh_token_ttl, Duration::from_secs(7_776_000));
        assert_eq!(config.refresh_grace, Duration::from_secs(10));
        assert_eq!(config.login_max_failures, 5);
        assert_eq!(config.signin_rate, 30);
        assert_eq!(config.rate_limit, 0);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.argon2, Argon2Params::MINIMUM);
    }

    #[test]
    fn code_ttl_above_600_is_rejected() {
        let error = config(&[("PORTAL_CODE_TTL", "601")]).unwrap_err();
        assert!(error.to_string().contains("PORTAL_CODE_TTL"));
    }

    #[test]
    fn weaker_argon2_is_rejected() {
        assert!(config(&[("PORTAL_ARGON2_MEMORY_KIB", "1024")]).is_err());
    }

    #[test]
    fn trusted_proxies_are_parsed() {
        let config = config(&[("PORTAL_TRUSTED_PROXIES", "127.0.0.1, ::1")]).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
    }

    #[test]
    fn lockout_above_an_hour_is_rejected() {
        assert!(config(&[("PORTAL_LOGIN_LOCKOUT", "3601")]).is_err());
        assert!(config(&[("PORTAL_LOGIN_LOCKOUT", "3600")]).is_ok());
    }

    #[test]
    fn issuer_is_checked_and_trimmed() {
        let parsed = config(&[("PORTAL_ISSUER", "https://login.example.org/")]).unwrap();
        assert_eq!(parsed.issuer.as_deref(), Some("https://login.example.org"));
        assert!(config(&[("PORTAL_ISSUER", "login.example.org")]).is_err());
        assert!(config(&[("PORTAL_ISSUER", "https://a.example/?x=1")]).is_err());
    }

    #[test]
    fn retention_and_cleanup_defaults() {
        let config = config(&[]).unwrap();
        assert_eq!(config.audit_retention, Duration::from_secs(7_776_000));
        assert_eq!(config.cleanup_interval, Duration::from_secs(3600));
        assert_eq!(config.issuer, None);
    }

    #[test]
    fn grace_may_be_zero() {
        let config = config(&[("PORTAL_REFRESH_GRACE", "0")]).unwrap();
        assert!(config.refresh_grace.is_zero());
    }
}
