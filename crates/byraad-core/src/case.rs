//! A case's history (sagsforløb): every meeting that treated it, in date order.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Document, Kind, Span};

/// One meeting's treatment of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseTreatment {
    /// The meeting's document id (`GET /v1/documents/{doc_id}`).
    pub doc_id: String,
    /// The meeting's title.
    pub title: String,
    /// The committee or council.
    pub body: String,
    /// Agenda or minutes.
    pub kind: Kind,
    /// The meeting's date (YYYY-MM-DD).
    pub date: Option<String>,
    /// The agenda item there.
    pub item: Option<String>,
    /// The item's heading ("Punkt 4: ...").
    pub heading: String,
    /// The item's bytes in the meeting's text.
    pub span: Span,
    /// The administration's recommendation (Indstilling), when the item has one.
    pub recommendation: Option<String>,
    /// The decision (Beslutning), when the meeting has made one.
    pub decision: Option<String>,
}

/// A case and its treatments, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseHistory {
    /// The case number.
    pub case: String,
    /// Every meeting the reader may read that treated it, in date order.
    pub treatments: Vec<CaseTreatment>,
}

/// The treatments of `case` in `doc`: each section carrying the case number, with its
/// recommendation and decision when the item's text has them as sub-headings.
pub fn treatments(doc: &Document, case: &str) -> Vec<CaseTreatment> {
    doc.sections
        .iter()
        .filter(|s| s.case.as_deref() == Some(case) && !s.closed)
        .map(|s| {
            let text = &doc.text[s.span.start..s.span.end];
            CaseTreatment {
                doc_id: doc.meta.doc_id.clone(),
                title: doc.meta.title.clone(),
                body: doc.meta.body.clone(),
                kind: doc.meta.kind,
                date: doc.meta.date.map(|d| d.to_string()),
                item: s.item.clone(),
                heading: s.heading.join(" › "),
                span: s.span,
                recommendation: sub_section(text, "Indstilling"),
                decision: sub_section(text, "Beslutning"),
            }
        })
        .collect()
}

/// The text under the Markdown sub-heading `### <name>` of `text`, up to the next heading.
pub fn sub_section(text: &str, name: &str) -> Option<String> {
    let mut lines = text.lines().skip_while(|l| !(l.starts_with('#') && l.trim_start_matches('#').trim().eq_ignore_ascii_case(name))).skip(1);
    let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with('#')).collect();
    let body = body.join("\n").trim().to_string();
    (!body.is_empty()).then_some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommendation_and_decision_are_read_from_the_sub_headings() {
        let text = "## Punkt 2: Energi\nSag 22-1\n\n### Beslutning\nAnbefales.\nFraværende: A\n\n### Fremstilling\n\n### Indstilling\n- at det godkendes\n\n### Bilag\n- x";
        assert_eq!(sub_section(text, "Beslutning").as_deref(), Some("Anbefales.\nFraværende: A"));
        assert_eq!(sub_section(text, "Indstilling").as_deref(), Some("- at det godkendes"));
        assert_eq!(sub_section(text, "Fremstilling"), None);
        assert_eq!(sub_section(text, "Resume"), None);
    }
}
