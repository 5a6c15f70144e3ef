//! The "already asked?" gate: each drafted question compared with the questions of earlier
//! forespørgsler (kind `forespoergsel`, ingested one "Spørgsmål N: ... Svar: ..." per section),
//! by the words they share and by e5's closeness. A near-duplicate is a warning naming the
//! earlier forespørgsel, its date and its answer, like the House of Commons' check that flags a
//! new written question at least 80 % like an earlier one.

use std::collections::HashSet;

use byraad_core::{Clearance, Filters, Hit, Kind, SearchRequest};
use byraad_embed::Role;
use byraad_index::{Retriever, analysis};

/// Least share of content words two questions share (Dice) to be near-duplicates by words
/// alone.
pub const WORDS_ALIKE: f32 = 0.8;
/// Least e5 cosine of two questions to be near-duplicates, when they also share
/// [`WORDS_WITH_MEANING`] of their words.
pub const MEANING_ALIKE: f32 = 0.92;
/// See [`MEANING_ALIKE`].
pub const WORDS_WITH_MEANING: f32 = 0.5;
/// Earlier forespørgsler' sections read per drafted question.
const CANDIDATES: usize = 3;

/// An earlier question like a drafted one.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    /// The earlier forespørgsel's document.
    pub doc_id: String,
    /// The earlier forespørgsel's title.
    pub title: String,
    /// Its date, YYYY-MM-DD, when known.
    pub date: Option<String>,
    /// The earlier question.
    pub question: String,
    /// Its answer, when the section holds one.
    pub answer: Option<String>,
    /// The share of content words the two share.
    pub words: f32,
    /// e5's cosine of the two, when dense retrieval is on.
    pub meaning: Option<f32>,
}

/// The earlier question most like `question` among the forespørgsler `clearance` may read, when
/// it is a near-duplicate.
pub fn earlier(retriever: &Retriever, question: &str, clearance: &Clearance) -> byraad_index::Result<Option<Duplicate>> {
    let found = retriever.search(&SearchRequest {
        query: byraad_core::within(question, byraad_core::MAX_QUERY_CHARS).to_string(),
        limit: Some(CANDIDATES),
        filters: Filters { kind: vec![Kind::Forespoergsel], ..Filters::default() },
        mode: None,
        clearance: clearance.clone(),
    })?;
    let mut best: Option<Duplicate> = None;
    for hit in &found.hits {
        let Some((asked, answer)) = split(hit) else { continue };
        let words = dice(question, &asked);
        let meaning = retriever.dense().and_then(|d| match d.embedder.embed(&[question, asked.as_str()], Role::Query) {
            Ok(v) if v.len() == 2 => Some(cosine(&v[0], &v[1])),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "embedding questions for the duplicate check failed; comparing words alone");
                None
            }
        });
        let alike = words >= WORDS_ALIKE || (words >= WORDS_WITH_MEANING && meaning.is_some_and(|m| m >= MEANING_ALIKE));
        if alike && best.as_ref().is_none_or(|b| words > b.words) {
            best = Some(Duplicate { doc_id: hit.doc_id.clone(), title: hit.title.clone(), date: hit.date.clone(), question: asked, answer, words, meaning });
        }
    }
    Ok(best)
}

/// The question ("Spørgsmål N: ...?") and answer ("Svar: ...") of an earlier forespørgsel's
/// section.
fn split(hit: &Hit) -> Option<(String, Option<String>)> {
    let text = hit.text.as_str();
    let start = text.find("Spørgsmål")?;
    let rest = &text[start..];
    let rest = rest.split_once(':').map_or(rest, |(_, r)| r);
    let (asked, answer) = match rest.split_once("Svar:") {
        Some((q, a)) => (q, Some(a.split("\n\n").next().unwrap_or(a).split_whitespace().collect::<Vec<_>>().join(" "))),
        None => (rest, None),
    };
    let asked = asked.split_whitespace().collect::<Vec<_>>().join(" ");
    (!asked.is_empty()).then_some((asked, answer))
}

/// The share of content words (stemmed) two texts share: 2|A∩B| / (|A|+|B|).
pub fn dice(a: &str, b: &str) -> f32 {
    let stems = |t: &str| -> HashSet<String> { analysis::content_words(t).iter().map(|w| analysis::stem_term(&w.lower)).collect() };
    let (a, b) = (stems(a), stems(b));
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    2.0 * a.intersection(&b).count() as f32 / (a.len() + b.len()) as f32
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b)).max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_question_reworded_shares_most_words() {
        let earlier = "Hvor mange gange er Havnens Perle blevet flyttet, siden den kom til havnen?";
        assert!(dice("Hvor mange gange er Havnens Perle blevet flyttet siden den kom til havnen?", earlier) >= WORDS_ALIKE);
        assert!(dice("Hvor mange gange er Havnens Perle flyttet rundt på havnen?", earlier) >= WORDS_WITH_MEANING);
        assert!(dice("Hvad koster en ny svømmehal i Lystrup?", earlier) < 0.2);
    }
}
