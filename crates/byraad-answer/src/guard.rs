//! The answerer's own judgement guarding what a language model writes.
//!
//! Shared words are not enough: a sentence can take every word and number from its source and
//! still answer another question (the rent of a flat for the rent of a stall). So a written
//! answer is held to what the learned scorer ([`crate::scorer`]) judges about the same passages:
//! - the question is answered at all only when the extractive answer would answer it (its
//!   answerability reaches the answer threshold, or the question names a provision);
//! - a written sentence is kept only when a passage it cites is, there, one the scorer rates
//!   likely to answer: a candidate overlapping the cited text whose share of the best
//!   candidate's weight reaches the companion threshold (what the extractive answer would quote
//!   beside its best).

use std::ops::Range;

use byraad_core::Hit;

use crate::Prepared;
use crate::scorer::Scorer;

/// What the scorer judges the passages of one question to answer.
pub struct Guard<'a> {
    prepared: &'a Prepared,
    /// Each candidate's weight as a share of the best's (1 for the best).
    share: Vec<f32>,
    threshold: f32,
    answered: bool,
}

impl<'a> Guard<'a> {
    /// The judgement on `prepared`, its candidates scored `scores` by `scorer`.
    pub fn new(prepared: &'a Prepared, scores: &[f32], scorer: &Scorer) -> Self {
        let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let share = scores.iter().map(|s| (s - top).exp()).collect();
        let answered = prepared.named > 0 || prepared.answerability(scorer, scores) >= scorer.answer_threshold();
        Self { prepared, share, threshold: scorer.companion_threshold(), answered }
    }

    /// Whether the passages answer the question at all.
    pub fn answered(&self) -> bool {
        self.answered
    }

    /// Whether the text `range` of `excerpt` (the excerpt of passage `i`) answers the question: a
    /// named provision always does; otherwise a likely candidate of that passage overlaps it.
    pub fn supports(&self, i: usize, excerpt: &Hit, range: &Range<usize>) -> bool {
        if i < self.prepared.named {
            return true;
        }
        let (start, end) = (excerpt.span.start + range.start, excerpt.span.start + range.end);
        let hits = &self.prepared.hits;
        self.prepared.candidates.iter().zip(&self.share).any(|(c, &w)| {
            let span = c.span(hits);
            c.hit == i && w >= self.threshold && span.start < end && start < span.end
        })
    }
}
