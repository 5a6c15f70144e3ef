//! Documents, their sections and chunks.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What kind of source a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An agenda.
    Dagsorden,
    /// Minutes of a meeting.
    Referat,
    /// An attachment to a case.
    Bilag,
    /// A committee report (betænkning) or its appendix.
    Betaenkning,
    /// A statute.
    Lov,
    /// The council's handbook, rules of procedure and similar.
    Haandbog,
    /// A note from the administration.
    Notat,
    /// A letter from a citizen or business.
    Henvendelse,
    /// A member's written question (10-dages forespørgsel) and its answer.
    Forespoergsel,
    /// An overview, e.g. a list of cases underway.
    Oversigt,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 10] = [
        Kind::Dagsorden,
        Kind::Referat,
        Kind::Bilag,
        Kind::Betaenkning,
        Kind::Lov,
        Kind::Haandbog,
        Kind::Notat,
        Kind::Henvendelse,
        Kind::Forespoergsel,
        Kind::Oversigt,
    ];

    /// The kind's name as written in manifests and requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dagsorden => "dagsorden",
            Kind::Referat => "referat",
            Kind::Bilag => "bilag",
            Kind::Betaenkning => "betaenkning",
            Kind::Lov => "lov",
            Kind::Haandbog => "haandbog",
            Kind::Notat => "notat",
            Kind::Henvendelse => "henvendelse",
            Kind::Forespoergsel => "forespoergsel",
            Kind::Oversigt => "oversigt",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let names: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            crate::Error::invalid("kind", format!("unknown kind {s:?}, expected one of {}", names.join(", ")))
        })
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may read a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Every principal.
    #[default]
    Public,
    /// Only principals sharing one of the document's groups.
    Restricted,
}

impl Access {
    /// The level's name as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::Restricted => "restricted",
        }
    }
}

/// A half-open byte range `[start, end)` into a document's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        Self { start, end }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span is empty.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether `other` lies within this span.
    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// A document's metadata: what the manifest says, completed by what was detected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentMeta {
    /// Stable id: derived from the source path (and the part, for files holding several meetings).
    pub doc_id: String,
    /// The source file, relative to the corpus root.
    pub source: String,
    /// Human title.
    pub title: String,
    /// What kind of document it is.
    pub kind: Kind,
    /// The council body or committee.
    pub body: String,
    /// The meeting or publication date.
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
    /// Who may read it.
    pub access: Access,
    /// Groups that may read a restricted document.
    pub groups: Vec<String>,
}

/// A section of a document: an agenda item, a chapter, a § or stk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Headings from the document's top down to this section.
    pub heading: Vec<String>,
    /// Item number or provision ("3", "§ 20, stk. 6", "B1.4").
    pub item: Option<String>,
    /// Case number (EMN-YYYY-NNNNNN) the section belongs to.
    pub case: Option<String>,
    /// The section's bytes in the document text.
    pub span: Span,
    /// Closed to the public (an agenda item treated behind closed doors): shown as what it is,
    /// never chunked, so never found or answered from.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
}

/// A whole document: metadata, text and sections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Metadata.
    pub meta: DocumentMeta,
    /// The text every span refers to: extracted, hyphenation joined, whitespace normalised.
    pub text: String,
    /// Byte offsets where pages 2, 3, ... begin; empty when the source has no pages.
    pub page_breaks: Vec<usize>,
    /// Sections, in document order, never overlapping.
    pub sections: Vec<Section>,
    /// Pages (1-based, the file's numbering) read by OCR from a scan; for an image, `[1]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ocr_pages: Vec<u32>,
}

impl Document {
    /// Whether the text at byte `offset` was read by OCR.
    pub fn ocr_at(&self, offset: usize) -> bool {
        !self.ocr_pages.is_empty() && self.ocr_pages.contains(&self.page_at(offset).unwrap_or(1))
    }

    /// The 1-based page holding byte `offset`, if the source has pages.
    pub fn page_at(&self, offset: usize) -> Option<u32> {
        if self.page_breaks.is_empty() {
            return None;
        }
        let page = self.page_breaks.partition_point(|&b| b <= offset) + 1;
        Some(u32::try_from(page).unwrap_or(u32::MAX))
    }
}

/// A retrievable span of one section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Stable id: a hash of the document id, span and text.
    pub chunk_id: String,
    /// The document it belongs to.
    pub doc_id: String,
    /// Index of its section in [`Document::sections`].
    pub section: usize,
    /// Its text, exactly `document.text[span]`.
    pub text: String,
    /// Its bytes in the document text.
    pub span: Span,
    /// Page of its first byte.
    pub page: Option<u32>,
}
