//! Search requests and results, as the HTTP API and the CLI speak them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Error, Kind, Result, Span};

/// Number of hits when a request names no limit.
pub const DEFAULT_LIMIT: usize = 10;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 2_000;

/// The beginning of `text` of at most `max` characters, cut at a word's end when it is longer:
/// what a longer text (a member's whole forespørgsel) searches with.
pub fn within(text: &str, max: usize) -> &str {
    let Some((cut, _)) = text.char_indices().nth(max) else { return text };
    let head = &text[..cut];
    // The last whole word; a text of one long word is cut inside it.
    match head.rfind(char::is_whitespace) {
        Some(space) if space > 0 => head[..space].trim_end(),
        _ => head,
    }
}

/// A search request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// What to look for, in Danish as a member would type it.
    pub query: String,
    /// Number of hits (1..=100, default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Restrictions on kind, body, dates and case.
    #[serde(default)]
    pub filters: Filters,
    /// Which retrievers to use (default hybrid).
    #[serde(default)]
    pub mode: Option<Mode>,
    /// What the caller may read: set by the server from the authenticated principal, never
    /// from the request body; the default reads public documents only.
    #[serde(skip)]
    pub clearance: crate::Clearance,
}

/// Which retrievers a search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Lexical and dense, fused (dense is skipped when no model is available).
    #[default]
    Hybrid,
    /// BM25 over the Danish analysis only.
    Lexical,
    /// Embeddings only.
    Dense,
}

impl Mode {
    /// The mode's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Hybrid => "hybrid",
            Mode::Lexical => "lexical",
            Mode::Dense => "dense",
        }
    }
}

/// Restrictions applied inside the search, not after it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Only these kinds.
    #[serde(default)]
    pub kind: Vec<Kind>,
    /// Only these bodies (committees), compared case-insensitively.
    #[serde(default)]
    pub body: Vec<String>,
    /// Only documents dated on or after this day (YYYY-MM-DD).
    #[serde(default)]
    pub date_from: Option<String>,
    /// Only documents dated on or before this day (YYYY-MM-DD).
    #[serde(default)]
    pub date_to: Option<String>,
    /// Only this case number (EMN-YYYY-NNNNNN).
    #[serde(default)]
    pub case: Option<String>,
}

impl Filters {
    /// The parsed `date_from`.
    pub fn date_from(&self) -> Result<Option<NaiveDate>> {
        parse_date("filters.date_from", self.date_from.as_deref())
    }

    /// The parsed `date_to`.
    pub fn date_to(&self) -> Result<Option<NaiveDate>> {
        parse_date("filters.date_to", self.date_to.as_deref())
    }

    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self == &Filters::default()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let (from, to) = (self.date_from()?, self.date_to()?);
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(Error::invalid("filters", format!("date_from {from} is after date_to {to}")));
        }
        if let Some(case) = &self.case
            && case.trim().is_empty()
        {
            return Err(Error::invalid("filters.case", "must not be empty, expected e.g. EMN-2025-003383"));
        }
        Ok(())
    }
}

/// Whether `text` holds control characters other than tabs and line breaks (NUL, escape
/// sequences): never part of a question, and harmful in logs and terminals.
pub fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

fn parse_date(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>> {
    value
        .map(|v| {
            let date = NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| Error::invalid(field, format!("{v:?} is not a date, expected YYYY-MM-DD")))?;
            if !crate::SANE_YEARS.contains(&chrono::Datelike::year(&date)) {
                let (first, last) = (crate::SANE_YEARS.start(), crate::SANE_YEARS.end());
                return Err(Error::invalid(field, format!("{v:?} is outside the years {first} to {last}")));
            }
            Ok(date)
        })
        .transpose()
}

impl SearchRequest {
    /// The number of hits asked for.
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// Checks the request; `max_limit` is the configured ceiling.
    pub fn validate(&self, max_limit: usize) -> Result<()> {
        if self.query.trim().is_empty() {
            return Err(Error::invalid("query", "must not be empty"));
        }
        if has_control(&self.query) {
            return Err(Error::invalid("query", "holds control characters"));
        }
        if self.query.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::invalid("query", format!("is longer than {MAX_QUERY_CHARS} characters")));
        }
        let limit = self.limit();
        if limit == 0 || limit > max_limit {
            return Err(Error::invalid("limit", format!("{limit} is out of range, expected 1..={max_limit}")));
        }
        self.filters.validate()
    }
}

/// One retrieved passage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Hit {
    /// The chunk's id.
    pub chunk_id: String,
    /// The document's id (`GET /v1/documents/{doc_id}`).
    pub doc_id: String,
    /// The document's title.
    pub title: String,
    /// The document's kind.
    pub kind: Kind,
    /// The council body or committee.
    pub body: String,
    /// The document's date (YYYY-MM-DD).
    pub date: Option<String>,
    /// Agenda item, chapter or provision.
    pub item: Option<String>,
    /// Case number.
    pub case: Option<String>,
    /// Page of the chunk's first byte.
    pub page: Option<u32>,
    /// Heading path, joined with " › ".
    pub heading: String,
    /// The source file, relative to the corpus root.
    pub source: String,
    /// The passage's text: the chunk, or chunks of one section joined with the text between
    /// them (`merged`).
    pub text: String,
    /// A highlighted excerpt (matched words in `<b>`, HTML-escaped).
    pub snippet: String,
    /// Relevance score (higher is better; comparable within one response only).
    pub score: f32,
    /// The passage's bytes in the document text (`text` is exactly this slice).
    pub span: Span,
    /// Which retrievers found it ("lexical", "dense").
    pub retrievers: Vec<String>,
    /// Further chunks of the same section joined into this passage (their ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<String>,
    /// The passage was read by OCR from a scan (its words may be misread).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ocr: bool,
    /// The same case's same text treated at other meetings (committee, Økonomiudvalget, Byråd),
    /// collapsed into this hit: where else it was treated, in date order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Treatment>,
}

/// Where else a passage's case and text were treated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Treatment {
    /// The meeting's document id.
    pub doc_id: String,
    /// The meeting's title.
    pub title: String,
    /// The committee or council.
    pub body: String,
    /// The meeting's date (YYYY-MM-DD).
    pub date: Option<String>,
    /// The agenda item there.
    pub item: Option<String>,
}

/// The hits of one search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchResponse {
    /// Best first.
    pub hits: Vec<Hit>,
    /// Time spent searching, in milliseconds.
    pub took_ms: u64,
    /// The mode the search ran in (hybrid falls back to lexical without a model).
    pub mode: Mode,
    /// Why the search ran in another mode than asked, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_at_a_word_within_the_limit() {
        assert_eq!(within("kort tekst", 100), "kort tekst");
        assert_eq!(within("æøå æøå æøå", 9), "æøå æøå");
        assert_eq!(within("ordordord", 4), "ordo");
        let long = "ord ".repeat(2_000);
        assert!(within(&long, MAX_QUERY_CHARS).chars().count() <= MAX_QUERY_CHARS);
    }

    fn req(json: &str) -> std::result::Result<SearchRequest, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn defaults_and_validation() {
        let r = req(r#"{"query":"økonomi"}"#).unwrap();
        assert_eq!(r.limit(), DEFAULT_LIMIT);
        assert!(r.validate(100).is_ok());
        assert!(req(r#"{"query":"  "}"#).unwrap().validate(100).is_err());
        assert!(req(r#"{"query":"x","limit":0}"#).unwrap().validate(100).is_err());
        assert!(req(r#"{"query":"x","limit":101}"#).unwrap().validate(100).is_err());
        assert!(req(r#"{"query":"x","limit":100}"#).unwrap().validate(100).is_ok());
    }

    #[test]
    fn bad_dates_name_the_field() {
        let r = req(r#"{"query":"x","filters":{"date_from":"2025-13-01"}}"#).unwrap();
        let err = r.validate(100).unwrap_err().to_string();
        assert!(err.contains("filters.date_from"), "{err}");
        let r = req(r#"{"query":"x","filters":{"date_from":"2025-10-01","date_to":"2025-01-01"}}"#).unwrap();
        assert!(r.validate(100).is_err());
    }

    #[test]
    fn unknown_filter_fields_are_rejected() {
        let err = req(r#"{"query":"x","filters":{"colour":"red"}}"#).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
        assert!(req(r#"{"query":"x","filters":{"kind":["nonsense"]}}"#).is_err());
    }
}
