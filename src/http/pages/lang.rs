//! The language of a page: English or Traditional Chinese, from an explicit
//! `hl` parameter (the page's language switch) or else from
//! `Accept-Language` (RFC 9110 section 12.5.4).

use axum::http::{HeaderMap, header};

use super::text::{self, Text};

/// A language the pages are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// English, the default.
    #[default]
    En,
    /// Traditional Chinese, as written in Hong Kong and Taiwan.
    ZhHant,
}

impl Lang {
    /// Chooses the page language: `hl` when it names a language we have,
    /// otherwise the preferred one of `Accept-Language` that we have,
    /// otherwise English.
    pub fn choose(hl: Option<&str>, headers: &HeaderMap) -> Self {
        hl.and_then(Self::from_tag).unwrap_or_else(|| {
            let accepted = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
            accepted.map(Self::negotiate).unwrap_or_default()
        })
    }

    /// Returns the BCP 47 tag, for `lang` attributes and the `hl` parameter.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhHant => "zh-Hant",
        }
    }

    /// Returns the other language, which the language switch offers.
    pub fn other(self) -> Self {
        match self {
            Lang::En => Lang::ZhHant,
            Lang::ZhHant => Lang::En,
        }
    }

    /// Returns the pages' text in this language.
    pub fn text(self) -> &'static Text {
        match self {
            Lang::En => &text::EN,
            Lang::ZhHant => &text::ZH_HANT,
        }
    }

    /// Maps a language tag to a page language. Any Chinese goes to
    /// Traditional Chinese: there are no Simplified Chinese pages, and
    /// Traditional serves a Chinese reader better than English does.
    fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("zh") {
            Some(Lang::ZhHant)
        } else {
            None
        }
    }

    /// Picks the language with the highest quality value from an
    /// `Accept-Language` header; the first listed wins a tie.
    fn negotiate(accepted: &str) -> Self {
        let mut best: Option<(Lang, f32)> = None;
        for item in accepted.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Self::from_tag) else { continue };
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q=").map(|q| q.trim().parse::<f32>()))
                .unwrap_or(Ok(1.0))
                .unwrap_or(0.0);
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map(|(lang, _)| lang).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn accepting(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn negotiate_chinese_variants_map_to_traditional() {
        for value in ["zh-HK", "zh-TW", "zh-Hant-HK", "zh", "zh-CN", "ZH-hk"] {
            assert_eq!(Lang::choose(None, &accepting(value)), Lang::ZhHant, "{value}");
        }
    }

    #[test]
    fn negotiate_honours_quality_values() {
        assert_eq!(Lang::negotiate("en;q=0.5, zh-TW"), Lang::ZhHant);
        assert_eq!(Lang::negotiate("zh-TW;q=0.4, en-GB;q=0.9"), Lang::En);
        assert_eq!(Lang::negotiate("zh-TW;q=0, en;q=0.1"), Lang::En);
        assert_eq!(Lang::negotiate("fr, zh-HK;q=0.8"), Lang::ZhHant);
    }

    #[test]
    fn negotiate_defaults_to_english() {
        assert_eq!(Lang::choose(None, &HeaderMap::new()), Lang::En);
        assert_eq!(Lang::negotiate("fr-FR, de;q=0.5"), Lang::En);
        assert_eq!(Lang::negotiate("*"), Lang::En);
        assert_eq!(Lang::negotiate(";;,,q=x"), Lang::En);
    }

    #[test]
    fn explicit_choice_overrides_header() {
        assert_eq!(Lang::choose(Some("en"), &accepting("zh-HK")), Lang::En);
        assert_eq!(Lang::choose(Some("zh-Hant"), &accepting("en")), Lang::ZhHant);
        assert_eq!(Lang::choose(Some("klingon"), &accepting("zh-HK")), Lang::ZhHant);
    }
}
