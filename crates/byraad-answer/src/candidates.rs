//! What may be quoted as an answer: the whole sentences (and table or list rows, and pairs of
//! neighbouring sentences) of the retrieved passages, each with the features the scorer reads.
//!
//! A quote is never a fragment of under five words, a bare heading or document title, a line
//! repeated through its document (a running header or footer), a listing (a table of contents,
//! a slide deck's outline, a run of numbered items) or a question.

use std::collections::HashSet;
use std::ops::Range;

use byraad_core::Hit;
use byraad_index::analysis::{self, Word};

use crate::features::{self, Context, Features};
use crate::facts;
use crate::question::Question;
use crate::sentences;

/// Fewest words of a quote.
pub const MIN_WORDS: usize = 5;
/// Times a line must occur in its document to be a running header or footer.
const RUNNING: usize = 3;

/// A piece of a passage that may be quoted as an answer.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index of its passage among the hits.
    pub hit: usize,
    /// Its passage's rank (0 = best).
    pub rank: usize,
    /// Its bytes within the passage's text.
    pub range: Range<usize>,
    /// Sentences it joins (1, or 2 for a neighbouring pair).
    pub parts: usize,
    /// How far it holds each of the question's terms itself (0..1).
    pub held: Vec<f32>,
    /// What the scorer reads.
    pub features: Features,
}

impl Candidate {
    /// Its text.
    pub fn text<'a>(&self, hits: &'a [Hit]) -> &'a str {
        &hits[self.hit].text[self.range.clone()]
    }

    /// Its bytes in its document.
    pub fn span(&self, hits: &[Hit]) -> Range<usize> {
        let start = hits[self.hit].span.start;
        start + self.range.start..start + self.range.end
    }

    /// Whether it quotes text of `other`'s document that `other` quotes too.
    pub fn overlaps(&self, other: &Candidate, hits: &[Hit]) -> bool {
        let (a, b) = (self.span(hits), other.span(hits));
        hits[self.hit].doc_id == hits[other.hit].doc_id && a.start < b.end && b.start < a.end
    }
}

/// A sentence of a passage, split into words once.
struct Sentence {
    range: Range<usize>,
    words: Vec<Word>,
    stems: HashSet<String>,
    /// Whether it may be quoted on its own.
    quotable: bool,
    /// Whether it may be part of a quote (not a heading, title, running header or question).
    content: bool,
}

/// The candidates of `hits` for `question`. `occurrences` counts how often a text occurs in a
/// passage's whole document, up to the count asked for (for lines repeated through it).
pub fn candidates(question: &Question, hits: &[Hit], occurrences: &dyn Fn(&Hit, &str, usize) -> usize) -> Vec<Candidate> {
    let best = hits.iter().map(|h| h.score).fold(0.0f32, f32::max);
    let mut out = Vec::new();
    for (rank, hit) in hits.iter().enumerate() {
        let topic = stems_of(&format!("{} {}", hit.title, hit.heading));
        let passage = stems_of(&hit.text);
        let heading_line = flow(hit.heading.rsplit(" › ").next().unwrap_or_default());
        let labels = [fold(&heading_line), fold(&hit.title)];
        let sentences: Vec<Sentence> = sentences(&hit.text)
            .into_iter()
            .flat_map(|r| after_heading(&hit.text, r, &heading_line))
            .map(|range| {
                let text = &hit.text[range.clone()];
                let words = analysis::words(text);
                let stems = words.iter().map(|w| analysis::stem_term(&w.lower)).collect();
                let label = is_label(text, &labels);
                let running = words.len() <= 12 && occurrences(hit, text, RUNNING) >= RUNNING;
                // A question (a forespørgsel's "Spørgsmål 2: ...?") is no part of an answer.
                let content = !label && !running && !text.trim_end().ends_with('?');
                let quotable = content && words.len() >= MIN_WORDS && !facts::is_listing(text);
                Sentence { range, words, stems, quotable, content }
            })
            .collect();
        let held: Vec<Vec<f32>> = sentences.iter().map(|s| holds(question, &s.stems)).collect();
        let context = Context::new(question, hit, rank, best, &topic, &passage);
        let windows = (0..sentences.len()).map(|i| (i, i)).chain((1..sentences.len()).map(|i| (i - 1, i)));
        for (a, b) in windows {
            let range = sentences[a].range.start..sentences[b].range.end;
            let text = &hit.text[range.clone()];
            if a == b && !sentences[a].quotable {
                continue;
            }
            if a < b && !(sentences[a].content && sentences[b].content && (sentences[a].quotable || sentences[b].quotable)) {
                continue;
            }
            if a < b && (facts::is_listing(text) || sentences[a].range.end > sentences[b].range.start) {
                continue;
            }
            let own: Vec<f32> = (0..question.terms.len()).map(|k| (a..=b).map(|s| held[s][k]).fold(0.0, f32::max)).collect();
            // A piece holding none of the question's words does not answer it.
            if own.iter().all(|&h| h == 0.0) {
                continue;
            }
            let near: Vec<f32> = (0..question.terms.len())
                .map(|k| (a.saturating_sub(1)..=(b + 1).min(sentences.len() - 1)).map(|s| held[s][k]).fold(own[k], f32::max))
                .collect();
            let words: Vec<Word> = if a == b { sentences[a].words.clone() } else { analysis::words(text) };
            let features = features::features(&context, text, &words, &own, &near, b - a + 1);
            out.push(Candidate { hit: rank, rank, range, parts: b - a + 1, held: own, features });
        }
    }
    out
}

/// How far `stems` (of a sentence) hold each of the question's terms: 1 the word itself (or an
/// OCR spelling of it); [`PARTIAL`] when only a related form is there: the word as part of a
/// compound of the sentence ("drøftelse" in "udvalgsdrøftelsen"), a compound of the question
/// holding a word of the sentence, or another inflection the stemmer leaves apart (a shared
/// beginning of five letters or more, most of both words: "evaluering" and "evalueret").
fn holds(question: &Question, stems: &HashSet<String>) -> Vec<f32> {
    question
        .terms
        .iter()
        .map(|t| {
            if t.stems.iter().any(|s| stems.contains(s)) {
                1.0
            } else if t.stems.iter().any(|s| stems.iter().any(|w| related(s, w))) {
                PARTIAL
            } else {
                0.0
            }
        })
        .collect()
}

/// Whether stems `a` and `b` are forms of one word, or one is part of the other as a compound.
fn related(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.len() < PART_MIN {
        return false;
    }
    let common = short.bytes().zip(long.bytes()).take_while(|(x, y)| x == y).count();
    long.contains(short) || (common >= PART_MIN && common + 2 >= short.len())
}

/// Shortest stem that counts as part of another, in bytes.
const PART_MIN: usize = 5;
/// What a question word found only in a related form counts.
pub const PARTIAL: f32 = 0.5;

/// The stems of the words of `text`.
pub fn stems_of(text: &str) -> HashSet<String> {
    analysis::words(text).iter().map(|w| analysis::stem_term(&w.lower)).collect()
}

/// `text` lower case, letters and digits only: how texts are compared whatever their spacing,
/// punctuation or line breaks.
pub fn fold(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Whether `text` is a heading or title of its passage (`labels`, folded), or a piece of one.
fn is_label(text: &str, labels: &[String]) -> bool {
    let folded = fold(text);
    !folded.is_empty() && labels.iter().any(|l| !l.is_empty() && (l.contains(&folded) || (folded.starts_with(l.as_str()) && folded.len() < l.len() + 12)))
}

/// `text` with each run of whitespace one space, trimmed, and words hyphenated across a line
/// joined again ("Nordic Safe Ci-\n\nties" reads "Nordic Safe Cities"; "Børne- og Unge" keeps
/// its hyphen): a quote as it reads, not as it was laid out.
pub fn flow(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pieces = text.split_whitespace().peekable();
    while let Some(piece) = pieces.next() {
        out.push_str(piece);
        let Some(next) = pieces.peek() else { break };
        let broken = piece.len() > 2 && piece.ends_with('-') && piece[..piece.len() - 1].chars().last().is_some_and(char::is_alphabetic);
        let continues = next.chars().next().is_some_and(char::is_lowercase) && !KEEP_HYPHEN_BEFORE.iter().any(|w| next.trim_end_matches([',', '.']) == *w);
        if broken && continues {
            out.pop();
        } else {
            out.push(' ');
        }
    }
    out
}

/// Words after a hyphen that ends the first part of a compound ("Social- og Sundhed").
const KEEP_HYPHEN_BEFORE: &[&str] = &["og", "eller", "samt", "til", "som", "and", "or"];

/// The sentences of `range` of `text` once the `heading` it begins with is taken off, numbering
/// aside ("4. Videreudvikling ..." heads the section; its sentence began "Videreudvikling ...
/// Udvalget drøftede ..."): what follows the heading is split again, its short lines (a case
/// number, a sub-title) now standing alone. Nothing when only the heading, or more of it, is left.
fn after_heading(text: &str, range: Range<usize>, heading: &str) -> Vec<Range<usize>> {
    let words: Vec<&str> = heading.split_whitespace().collect();
    // The heading's numbering ("4.", "Punkt 4:") may have been split off as a sentence of its own.
    let numbered = words.first().is_some_and(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()));
    let bare = if numbered { &words[1..] } else { &words[..] };
    let sentence = &text[range.clone()];
    for variant in [&words[..], bare] {
        if variant.len() < 2 || !sentence.split_whitespace().take(variant.len()).eq(variant.iter().copied()) {
            continue;
        }
        let mut rest = sentence;
        for _ in 0..variant.len() {
            rest = rest.trim_start();
            rest = &rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..];
        }
        let rest = rest.trim_start();
        // What goes on in lower case is the rest of a longer heading line.
        if rest.starts_with(char::is_lowercase) {
            return Vec::new();
        }
        let start = range.end - rest.len();
        return sentences(rest).into_iter().map(|r| start + r.start..start + r.end).collect();
    }
    vec![range]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::question::Question;

    pub(crate) fn hit(title: &str, heading: &str, text: &str) -> Hit {
        let doc = format!("d-{title}");
        Hit { chunk_id: format!("c-{}", text.len()), title: title.into(), heading: heading.into(), retrievers: vec!["lexical".into()], ..crate::fixtures::passage(&doc, text, 0) }
    }

    fn question(text: &str) -> Question {
        Question::new(text, |t: &[String]| Ok::<_, ()>(vec![1.0; t.len()])).unwrap()
    }

    fn quotes(q: &str, hits: &[Hit], document: Option<&str>) -> Vec<String> {
        let count = |_: &Hit, text: &str, most: usize| document.map_or(1, |d| d.matches(text).take(most).count());
        candidates(&question(q), hits, &count).into_iter().filter(|c| c.parts == 1).map(|c| c.text(hits).to_string()).collect()
    }

    #[test]
    fn fragments_headings_titles_listings_and_questions_are_never_quoted() {
        let text = "Punkt 4: Havnens Perle\nHavnens Perle\nPerle flyttet.\nHavnens Perle er blevet flyttet fem gange siden 2020.\nHvor skal Havnens Perle ligge fremover?\nSlide 3: Havnens Perle Slide 4: Perle Slide 5: Havnens Perle igen";
        let hits = [hit("Havnens Perle", "Punkt 4: Havnens Perle", text)];
        assert_eq!(quotes("Hvor mange gange er Havnens Perle flyttet?", &hits, None), ["Havnens Perle er blevet flyttet fem gange siden 2020."]);
    }

    #[test]
    fn a_line_repeated_through_its_document_is_a_running_header() {
        let header = "Sager på vej – Sundhed og Omsorg 2025 side";
        let text = format!("{header}\nSundhed og Omsorg besvarer et forslag om lokalplejehjem fra V, M og KF.");
        let document = format!("{header}\n...\n{header}\n...\n{text}");
        let hits = [hit("Sager", "", &text)];
        assert_eq!(quotes("Hvem står bag forslaget om lokalplejehjem fra Sundhed og Omsorg?", &hits, Some(&document)).len(), 1);
        assert_eq!(quotes("Hvem står bag forslaget om lokalplejehjem fra Sundhed og Omsorg?", &hits, None).len(), 2, "without its document it cannot be told");
    }

    #[test]
    fn quotes_read_as_flowing_text() {
        assert_eq!(flow("indtræde i Nordic Safe Ci-\n\nties."), "indtræde i Nordic Safe Cities.");
        assert_eq!(flow("Børne- og\nUngeudvalget"), "Børne- og Ungeudvalget");
        assert_eq!(flow("  to\n  linjer  "), "to linjer");
    }

    #[test]
    fn compounds_hold_their_parts() {
        let q = question("dispensation asbestoprydningen metro");
        assert_eq!(holds(&q, &stems_of("Der sendes en dispensationsansøgning om asbesten")), vec![PARTIAL, PARTIAL, 0.0]);
        assert_eq!(holds(&q, &stems_of("Metroen koster 20 mia. kr.")), vec![0.0, 0.0, 1.0]);
        assert_eq!(holds(&question("bus"), &stems_of("busstationer")), vec![0.0], "parts shorter than five letters do not count");
        let q = question("drøftelse evaluering");
        assert_eq!(holds(&q, &stems_of("Til udvalgsdrøftelsen er ordningen evalueret")), vec![PARTIAL, PARTIAL]);
    }

    #[test]
    fn a_heading_run_into_its_first_sentence_is_taken_off() {
        let split = |text: &str, heading: &str| -> Vec<String> { sentences(text).into_iter().flat_map(|r| after_heading(text, r, heading)).map(|r| text[r].to_string()).collect() };
        let text = "4. Videreudvikling af prøvehandlinger i arbejdsgrupper\nUdvalget drøftede i plenum de to prøvehandlinger. Følgende kom frem.";
        assert_eq!(split(text, "4. Videreudvikling af prøvehandlinger i arbejdsgrupper"), ["Udvalget drøftede i plenum de to prøvehandlinger.", "Følgende kom frem."]);
        assert!(split("Drøftelse af den erhvervsrettede vejledning (30 min)", "Drøftelse af den").is_empty(), "the rest of a longer heading line");
        assert_eq!(split("Udvalget drøftede sagen grundigt.", "4. Aktuelt"), ["Udvalget drøftede sagen grundigt."]);
    }
}
