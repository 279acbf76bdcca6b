//! Reading `Authorization: Bearer TOKEN` (RFC 6750 section 2.1).

use axum::http::{HeaderMap, header};

use crate::tokens::Secret;

/// A reason an `Authorization` header could not be read as a bearer token.
#[derive(Debug, PartialEq, Eq)]
pub enum BearerError {
    /// Another scheme, such as `Basic`.
    OtherScheme,
    /// More than one `Authorization` header, or a malformed one.
    Malformed,
}

/// Returns the bearer token of the request, `None` without an
/// `Authorization` header. The scheme word is matched in any case.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<Secret>, BearerError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(BearerError::Malformed);
    }

    let value = value.to_str().map_err(|_| BearerError::Malformed)?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::OtherScheme);
    }
    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(BearerError::Malformed);
    }
    Ok(Some(Secret::new(token.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn scheme_in_any_case() {
        let token = bearer_token(&headers(&["bEaReR abc"])).unwrap().unwrap();
        assert_eq!(token.expose(), "abc");
    }

    #[test]
    fn other_scheme_and_malformed() {
        assert_eq!(bearer_token(&headers(&["Basic YTpi"])).unwrap_err(), BearerError::OtherScheme);
        assert_eq!(bearer_token(&headers(&["Bearer"])).unwrap_err(), BearerError::Malformed);
        assert_eq!(bearer_token(&headers(&["Bearer a b"])).unwrap_err(), BearerError::Malformed);
        assert_eq!(
            bearer_token(&headers(&["Bearer a", "Bearer b"])).unwrap_err(),
            BearerError::Malformed
        );
        assert!(bearer_token(&HeaderMap::new()).unwrap().is_none());
    }
}
