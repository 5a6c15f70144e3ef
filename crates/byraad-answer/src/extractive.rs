//! Extractive answers: the candidates the scorer rates most likely to answer, quoted verbatim;
//! an abstention when even the best is not likely enough. Deterministic, no language model.

use std::collections::HashSet;

use byraad_core::{AnswerMode, ChatResponse};

use crate::Prepared;
use crate::candidates::Candidate;
use crate::compose::{abstention, compose, ranked, select};
use crate::scorer::Scorer;

/// Longest quote of a named provision, in bytes; a longer one is cut at a sentence end.
const MAX_PROVISION_QUOTE: usize = 1200;

/// The extractive answer to `prepared`, quoting at most `most` candidates.
pub fn respond(prepared: &Prepared, scorer: &Scorer, most: usize) -> ChatResponse {
    let hits = &prepared.hits;
    let (chosen, order): (Vec<Candidate>, Vec<usize>) = if prepared.named > 0 {
        // The provisions the question names are the answer, quoted.
        let provisions = hits[..prepared.named.min(most)]
            .iter()
            .enumerate()
            .map(|(i, hit)| Candidate { hit: i, rank: i, range: 0..clip_at_sentence(&hit.text, MAX_PROVISION_QUOTE), parts: 1, held: Vec::new(), features: Default::default() })
            .collect();
        (provisions, Vec::new())
    } else {
        let scores = prepared.scores(scorer);
        let answerability = prepared.answerability(scorer, &scores);
        let answered = answerability >= scorer.answer_threshold();
        let picked = select(&prepared.candidates, &scores, hits, answered, scorer.companion_threshold(), most);
        tracing::debug!(answerability, quoted = picked.len(), "extractive answer");
        (picked.iter().map(|&i| prepared.candidates[i].clone()).collect(), ranked(&prepared.candidates, &scores))
    };
    if chosen.is_empty() {
        // The nearest candidate is told only when it is about what the question is about: its
        // passage names what the question names, or (naming nothing) it holds the question's
        // rarest word. A sentence sharing only common words says nothing near.
        let q = &prepared.question;
        let names: Vec<usize> = (0..q.terms.len()).filter(|&k| q.terms[k].name).collect();
        let heaviest = (0..q.terms.len()).max_by(|&a, &b| q.terms[a].weight.total_cmp(&q.terms[b].weight));
        let names_feature = crate::features::NAMES.iter().position(|n| *n == "names");
        let about = |c: &&Candidate| {
            if names.is_empty() {
                heaviest.is_some_and(|k| c.held.get(k).is_some_and(|&h| h > 0.0))
            } else {
                names_feature.is_some_and(|i| c.features[i] >= 1.0)
            }
        };
        let nearest = order.iter().map(|&i| &prepared.candidates[i]).find(about);
        return ChatResponse { answer: abstention(nearest, hits, hits), abstained: true, mode: AnswerMode::Extractive, citations: Vec::new(), related: hits.clone(), warning: prepared.warning.clone() };
    }
    let (mut answer, citations) = compose(&chosen.iter().collect::<Vec<_>>(), hits);
    // A provision the question names is introduced in plain words before it is quoted.
    if prepared.named > 0
        && let Some(item) = &hits[0].item
    {
        answer = format!("{}\n\n{answer}", byraad_rules::lead(&byraad_rules::short_name(&hits[0].title), item));
    }
    let cited: HashSet<&str> = citations.iter().map(|c| c.chunk_id.as_str()).collect();
    let related = hits.iter().filter(|h| !cited.contains(h.chunk_id.as_str())).cloned().collect();
    ChatResponse { answer, abstained: false, mode: AnswerMode::Extractive, citations, related, warning: prepared.warning.clone() }
}

/// The end of the last sentence of `text` within `max` bytes (all of it when it fits; the first
/// sentence when even that is longer).
fn clip_at_sentence(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    let ends: Vec<usize> = crate::sentences(text).into_iter().map(|r| r.end).collect();
    ends.iter().copied().rfind(|&e| e <= max).or(ends.first().copied()).unwrap_or(text.len())
}
