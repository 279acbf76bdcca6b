//! Our own body extractor: `application/json` or
//! `application/x-www-form-urlencoded`, read into one map of string
//! parameters, so that malformed input gets this server's error format and
//! both media types follow the same rules:
//!
//! - a parameter sent twice is `invalid_request` (RFC 6749 section 3.1);
//! - a parameter with an empty value counts as omitted (same section);
//! - every value must be a string, valid UTF-8, without NUL characters
//!   (PostgreSQL cannot store NUL in text).

use std::collections::BTreeMap;
use std::fmt;

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;
use serde::de::{Deserializer, MapAccess, Visitor};

use super::error::ApiError;
use crate::oauth::OauthError;
use crate::tokens::Secret;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most of an oversized body that is read and thrown away before the 413.
const MAX_DRAINED_BYTES: usize = 4 * 1024 * 1024;
/// Maximum time spent throwing an oversized body away.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Request parameters by name.
#[derive(Debug, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Returns a parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Returns a parameter's value as an owned string.
    pub fn string(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    /// Returns a parameter that carries a secret.
    pub fn secret(&self, name: &str) -> Option<Secret> {
        self.0.get(name).cloned().map(Secret::new)
    }

    /// Parses a URL query string with the same rules as a form body.
    pub fn from_query(query: Option<&str>) -> Result<Self, OauthError> {
        parse_form(query.unwrap_or_default().as_bytes())
    }

    fn insert(&mut self, name: String, value: String) -> Result<(), OauthError> {
        if name.contains('\0') || value.contains('\0') {
            return Err(OauthError::invalid_request(format!(
                "parameter {:?} contains a NUL character",
                name.replace('\0', "")
            )));
        }
        if self.0.contains_key(&name) {
            return Err(OauthError::invalid_request(format!("parameter {name:?} is repeated")));
        }
        // Empty values stay until parsing ends, so that a repeat of one is
        // still seen; `without_empty_values` then drops them.
        self.0.insert(name, value);
        Ok(())
    }

    fn without_empty_values(mut self) -> Self {
        self.0.retain(|_, value| !value.is_empty());
        self
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let kind = body_kind(request.headers());
        let body = read_body(request.into_body(), declared).await?;

        let params = match kind? {
            BodyKind::Json => parse_json(&body)?,
            BodyKind::Form => parse_form(&body)?,
            BodyKind::Missing if body.is_empty() => Params::default(),
            BodyKind::Missing => return Err(ApiError::UnsupportedMediaType),
        };
        Ok(params)
    }
}

/// Reads a body of at most [`MAX_BODY_BYTES`]. A longer one is read on and
/// thrown away, up to [`MAX_DRAINED_BYTES`] and [`DRAIN_TIMEOUT`], so that
/// the client gets the 413 instead of a connection reset mid-upload.
async fn read_body(mut body: Body, declared: Option<usize>) -> Result<Bytes, ApiError> {
    let mut buffer = Vec::new();
    let mut overflowed = declared.is_some_and(|length| length > MAX_BODY_BYTES);
    while !overflowed && let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| unreadable_body())?;
        let Ok(data) = frame.into_data() else { continue };
        overflowed = buffer.len() + data.len() > MAX_BODY_BYTES;
        buffer.extend_from_slice(&data);
    }
    if !overflowed {
        return Ok(Bytes::from(buffer));
    }

    if declared.is_none_or(|length| length <= MAX_DRAINED_BYTES) {
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain(body)).await;
    }
    Err(ApiError::TooLarge)
}

/// Reads and discards the rest of a body, up to [`MAX_DRAINED_BYTES`].
async fn drain(mut body: Body) {
    let mut drained = 0;
    while let Some(Ok(frame)) = body.frame().await {
        drained += frame.data_ref().map_or(0, |data| data.len());
        if drained > MAX_DRAINED_BYTES {
            return;
        }
    }
}

fn unreadable_body() -> ApiError {
    ApiError::Oauth(OauthError::invalid_request("the request body could not be read"))
}

enum BodyKind {
    Json,
    Form,
    Missing,
}

fn body_kind(headers: &HeaderMap) -> Result<BodyKind, ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else { return Ok(BodyKind::Missing) };
    let mime: mime::Mime =
        value.to_str().ok().and_then(|v| v.parse().ok()).ok_or(ApiError::UnsupportedMediaType)?;
    let charset_ok = mime.get_param(mime::CHARSET).is_none_or(|c| c == mime::UTF_8);
    match (mime.type_(), mime.subtype()) {
        (mime::APPLICATION, mime::JSON) if charset_ok => Ok(BodyKind::Json),
        (mime::APPLICATION, mime::WWW_FORM_URLENCODED) if charset_ok => Ok(BodyKind::Form),
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

fn parse_form(body: &[u8]) -> Result<Params, OauthError> {
    let mut params = Params::default();
    for pair in body.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
        let mut halves = pair.splitn(2, |&b| b == b'=');
        let name = decode_form_component(halves.next().unwrap_or_default())?;
        let value = decode_form_component(halves.next().unwrap_or_default())?;
        params.insert(name, value)?;
    }
    Ok(params.without_empty_values())
}

fn decode_form_component(raw: &[u8]) -> Result<String, OauthError> {
    let spaced: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| OauthError::invalid_request("a parameter is not valid UTF-8"))
}

fn parse_json(body: &[u8]) -> Result<Params, OauthError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let params = deserializer
        .deserialize_map(ParamsVisitor)
        .and_then(|params| deserializer.end().map(|()| params))
        .map_err(describe_json_error)?;
    Ok(params.without_empty_values())
}

/// Describes a JSON error without quoting the body, which may hold a
/// password.
fn describe_json_error(error: serde_json::Error) -> OauthError {
    use serde_json::error::Category;

    let message = error.to_string();
    let description = match error.classify() {
        Category::Data if message.starts_with("parameter ") => {
            message.split(" at line ").next().unwrap_or_default().to_owned()
        }
        Category::Syntax => {
            format!("malformed JSON at line {} column {}", error.line(), error.column())
        }
        Category::Eof => "the JSON body ends too early".to_owned(),
        Category::Data | Category::Io => {
            "the JSON body must be an object of string parameters".to_owned()
        }
    };
    OauthError::invalid_request(description)
}

/// Reads a JSON object whose values are all strings, rejecting repeats.
struct ParamsVisitor;

impl<'de> Visitor<'de> for ParamsVisitor {
    type Value = Params;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of string parameters")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
        use serde::de::Error;

        let mut params = Params::default();
        while let Some(name) = map.next_key::<String>()? {
            let value: serde_json::Value = map.next_value()?;
            let serde_json::Value::String(value) = value else {
                return Err(A::Error::custom(format!("parameter {name:?} must be a string")));
            };
            params.insert(name, value).map_err(|e| A::Error::custom(e.to_string()))?;
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decodes_plus_and_percent() {
        let params = parse_form(b"a=x+y&b=%2F%E2%9C%93").unwrap();
        assert_eq!(params.get("a"), Some("x y"));
        assert_eq!(params.get("b"), Some("/\u{2713}"));
    }

    #[test]
    fn repeated_parameter_is_rejected() {
        assert!(parse_form(b"a=1&a=2").is_err());
        assert!(parse_form(b"a=&a=2").is_err());
        assert!(parse_json(br#"{"a":"1","a":"2"}"#).is_err());
    }

    #[test]
    fn empty_value_counts_as_omitted() {
        assert_eq!(parse_form(b"a=&b=1").unwrap().get("a"), None);
        assert_eq!(parse_json(br#"{"a":""}"#).unwrap().get("a"), None);
    }

    #[test]
    fn invalid_utf8_and_nul_are_rejected() {
        assert!(parse_form(b"a=%FF").is_err());
        assert!(parse_form(b"a=%00").is_err());
        assert!(parse_json(b"{\"a\":\"x\\u0000\"}").is_err());
        assert!(parse_json(b"{\"a\":\"\xff\"}").is_err());
    }

    #[test]
    fn json_must_be_an_object_of_strings() {
        assert!(parse_json(b"[]").is_err());
        assert!(parse_json(br#"{"a":1}"#).is_err());
        assert!(parse_json(br#"{"a":null}"#).is_err());
        assert!(parse_json(br#"{"a":"1"} x"#).is_err());
        assert!(parse_json(b"{").is_err());
    }
}
