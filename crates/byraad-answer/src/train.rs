//! Fitting the answer scorer on labelled questions, every choice made by cross-validation.
//!
//! A labelled question has the strings its answer must quote (`evidence`; none when the archive
//! cannot answer it); its candidates holding one are right. The scorer has two parts
//! ([`crate::scorer`]): the ranker, a conditional logit over each question's candidates (the
//! likelihood that a right one comes first, L2-penalised, minimised with L-BFGS from `argmin`),
//! and the answerability model, a logistic regression (`linfa-logistic`) of whether the
//! ranking's best is right, from the ranking's confidence and the best candidate's features,
//! fit on rankings of questions the ranker was not fit on. Both penalties and the answer and
//! companion thresholds are chosen by an inner k-fold cross-validation; what that whole
//! procedure achieves is measured by an outer one, by case: questions whose evidence lies in one
//! case's items share a fold (a question whose evidence was not found, with the document it was written from), so no question is ever
//! answered by weights fit on it or on its case's other questions.

use std::collections::BTreeMap;

use byraad_core::ChatResponse;
use byraad_learn::{Group, folds, fit_listwise, fit_logistic};
use serde::{Deserialize, Serialize};

use crate::candidates::fold;
use crate::compose::select;
use crate::extractive::respond;
use crate::features::{COUNT, Features, NAMES};
use crate::scorer::{FORMAT, Linear, Measured, QUESTION_COUNT, QUESTION_NAMES, Scorer, Weights, question_features};
use crate::{AnswerConfig, Prepared};

/// A labelled question, as a line of `../shared/eval/dev.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labelled {
    /// Its id.
    pub id: String,
    /// The question.
    pub question: String,
    /// Strings an answer must quote one of; empty when the archive cannot answer it.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// The document it was written from, when told (its fold group when no passage found holds
    /// its evidence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A labelled question made ready: its candidates and which of them answer.
pub struct Example {
    /// The question.
    pub labelled: Labelled,
    /// Its passages and candidates.
    pub prepared: Prepared,
    /// Whether each candidate holds an evidence string.
    pub holds: Vec<bool>,
    /// Its cross-validation group: the case of the item holding its evidence (questions on one
    /// case share a fold), else the document it was written from, else its id.
    pub group: String,
}

impl Example {
    /// `prepared` labelled by `labelled`'s evidence.
    pub fn new(labelled: Labelled, prepared: Prepared) -> Self {
        let evidence: Vec<String> = labelled.evidence.iter().map(|e| fold(e)).filter(|e| !e.is_empty()).collect();
        let hits = &prepared.hits;
        let holds: Vec<bool> = prepared.candidates.iter().map(|c| evidence.iter().any(|e| fold(c.text(hits)).contains(e.as_str()))).collect();
        let case = prepared.candidates.iter().zip(&holds).filter(|(_, h)| **h).find_map(|(c, _)| hits[c.hit].case.clone());
        let group = case.map(|c| format!("case {c}")).or_else(|| labelled.source.as_ref().map(|s| format!("source {s}"))).unwrap_or_else(|| labelled.id.clone());
        Self { labelled, prepared, holds, group }
    }

    fn answerable(&self) -> bool {
        !self.labelled.evidence.is_empty()
    }

    /// The candidates' features, the masked ones held at 0.
    fn features(&self, mask: &[bool; COUNT]) -> Vec<Features> {
        self.prepared
            .candidates
            .iter()
            .map(|c| {
                let mut x = c.features;
                for (v, &keep) in x.iter_mut().zip(mask) {
                    if !keep {
                        *v = 0.0;
                    }
                }
                x
            })
            .collect()
    }
}

/// What answers to a set of questions achieved, as `../shared/eval/score --mode chat` counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Answerable questions.
    pub answerable: usize,
    /// Of them, answered with a quote holding an evidence string.
    pub cited: usize,
    /// Of them, answered with a first quote holding one.
    pub lead: usize,
    /// Of them, abstained on.
    pub false_abstain: usize,
    /// Unanswerable questions.
    pub unanswerable: usize,
    /// Of them, abstained on.
    pub abstain: usize,
    /// Quotes of fewer than five words.
    pub fragments: usize,
    /// Answers quoting the same text twice.
    pub repeats: usize,
    /// Quotes in all.
    pub quotes: usize,
}

impl Figures {
    /// Counts `resp`, the answer to a question with `evidence`.
    pub fn add(&mut self, resp: &ChatResponse, evidence: &[String]) {
        let evidence: Vec<String> = evidence.iter().map(|e| fold(e)).filter(|e| !e.is_empty()).collect();
        let quotes: Vec<String> = resp.citations.iter().map(|c| fold(&c.quote)).collect();
        if evidence.is_empty() {
            self.unanswerable += 1;
            self.abstain += usize::from(resp.abstained);
        } else {
            self.answerable += 1;
            self.false_abstain += usize::from(resp.abstained);
            self.cited += usize::from(evidence.iter().any(|e| quotes.iter().any(|q| q.contains(e.as_str()))));
            self.lead += usize::from(quotes.first().is_some_and(|q| evidence.iter().any(|e| q.contains(e.as_str()))));
        }
        self.quotes += quotes.len();
        self.fragments += resp.citations.iter().filter(|c| c.quote.split_whitespace().count() < 5).count();
        let distinct: std::collections::HashSet<&String> = quotes.iter().collect();
        self.repeats += usize::from(distinct.len() < quotes.len());
    }

    fn rate(n: usize, of: usize) -> f32 {
        if of == 0 { 0.0 } else { n as f32 / of as f32 }
    }

    /// Share of answerable questions cited.
    pub fn cited_rate(&self) -> f32 {
        Self::rate(self.cited, self.answerable)
    }

    /// Share of answerable questions whose first quote holds the answer.
    pub fn lead_rate(&self) -> f32 {
        Self::rate(self.lead, self.answerable)
    }

    /// Share of unanswerable questions abstained on.
    pub fn abstain_rate(&self) -> f32 {
        Self::rate(self.abstain, self.unanswerable)
    }

    /// Share of answerable questions abstained on.
    pub fn false_abstain_rate(&self) -> f32 {
        Self::rate(self.false_abstain, self.answerable)
    }

    /// The figures in one line, as the score script prints them.
    pub fn line(&self) -> String {
        format!(
            "answerable={} cited={:.3} lead={:.3} false_abstain={:.3} unanswerable={} abstain={:.3} citations={} fragments={} repeats={}",
            self.answerable,
            self.cited_rate(),
            self.lead_rate(),
            self.false_abstain_rate(),
            self.unanswerable,
            self.abstain_rate(),
            self.quotes,
            self.fragments,
            self.repeats
        )
    }
}

/// How to train.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Folds of the outer and inner cross-validation.
    pub folds: usize,
    /// Seed of the questions' shuffle into folds.
    pub seed: u64,
    /// L2 penalties tried for the ranker.
    pub ranker_alphas: Vec<f32>,
    /// L2 penalties tried for the answerability model.
    pub answer_alphas: Vec<f32>,
    /// Most share of answerable questions abstained on that the answer threshold may cost.
    pub max_false_abstain: f32,
    /// Features left out (held at 0), by name.
    pub without: Vec<String>,
    /// Most quotes in one answer.
    pub most: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            folds: 5,
            seed: 7,
            ranker_alphas: vec![0.3, 3.0, 30.0],
            answer_alphas: vec![0.1, 1.0, 10.0],
            max_false_abstain: 0.1,
            without: Vec::new(),
            most: AnswerConfig::default().max_sentences,
        }
    }
}

/// How well candidates are ranked, whatever the thresholds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Ranking {
    /// Answerable questions.
    pub answerable: usize,
    /// Of them, with a candidate holding the answer (what any scorer can reach at most).
    pub reachable: usize,
    /// Of them, whose best-scored candidate holds it (never abstaining).
    pub first: usize,
    /// Of them, with one among the best three.
    pub top3: usize,
}

/// What a training run found.
pub struct Report {
    /// How the outer cross-validation's scorers ranked the candidates.
    pub ranking: Ranking,
    /// The weights fit on every question, their penalties and thresholds chosen by
    /// cross-validation, and the outer cross-validation's figures.
    pub weights: Weights,
    /// The outer cross-validation's figures: each question answered by weights fit without it.
    pub cross_validated: Figures,
    /// Each question's cross-validated answer, by id.
    pub answers: BTreeMap<String, ChatResponse>,
}

fn groups<'a>(examples: &[&'a Example]) -> Vec<&'a str> {
    examples.iter().map(|e| e.group.as_str()).collect()
}

/// The examples in fold `f` (`inside`) or out of it.
fn split<'a>(examples: &[&'a Example], fold: &[usize], f: usize, inside: bool) -> Vec<&'a Example> {
    examples.iter().zip(fold).filter(|(_, o)| (**o == f) == inside).map(|(e, _)| *e).collect()
}

/// Trains and cross-validates the scorer on `examples`.
pub fn train(examples: &[Example], options: &Options) -> Result<Report, String> {
    let mask = mask(options)?;
    let all: Vec<&Example> = examples.iter().collect();
    let outer = folds(&groups(&all), options.folds, options.seed);
    let mut figures = Figures::default();
    let mut ranking = Ranking::default();
    let mut answers = BTreeMap::new();
    for f in 0..options.folds {
        let weights = choose_and_fit(&split(&all, &outer, f, false), options, &mask, options.seed.wrapping_add(f as u64 + 1)).map_err(|e| too_few(&e, f, options.folds))?;
        let scorer = Scorer::new(weights)?;
        for e in split(&all, &outer, f, true) {
            let prepared = masked(&e.prepared, &mask);
            if e.answerable() {
                let order = crate::compose::ranked(&prepared.candidates, &prepared.scores(&scorer));
                ranking.answerable += 1;
                ranking.reachable += usize::from(e.holds.iter().any(|&h| h));
                ranking.first += usize::from(order.first().is_some_and(|&i| e.holds[i]));
                ranking.top3 += usize::from(order.iter().take(3).any(|&i| e.holds[i]));
            }
            let resp = respond(&prepared, &scorer, options.most);
            figures.add(&resp, &e.labelled.evidence);
            answers.insert(e.labelled.id.clone(), resp);
        }
        tracing::debug!(fold = f, "outer fold done");
    }
    let mut weights = choose_and_fit(&all, options, &mask, options.seed)?;
    weights.measured = Measured {
        questions: (figures.answerable, figures.unanswerable),
        folds: options.folds,
        cited: figures.cited_rate(),
        lead: figures.lead_rate(),
        abstain: figures.abstain_rate(),
        false_abstain: figures.false_abstain_rate(),
    };
    Ok(Report { ranking, weights, cross_validated: figures, answers })
}

/// `error` of fitting fold `f` of `folds`, saying what to do about it: each fold's training
/// questions must hold some answered right and some not (unanswerable questions among them).
fn too_few(error: &str, f: usize, folds: usize) -> String {
    format!("{error} (fitting fold {} of {folds}): too few questions to learn from; give more labelled questions, unanswerable ones among them, or fewer folds", f + 1)
}

/// Which features are used (`false`: held at 0).
fn mask(options: &Options) -> Result<[bool; COUNT], String> {
    let mut mask = [true; COUNT];
    for name in &options.without {
        let i = NAMES.iter().position(|n| n == name).ok_or_else(|| format!("no feature {name:?}; the features are {NAMES:?}"))?;
        mask[i] = false;
    }
    Ok(mask)
}

/// `prepared` with the masked features held at 0.
fn masked(prepared: &Prepared, mask: &[bool; COUNT]) -> Prepared {
    let mut out = prepared.clone();
    for c in &mut out.candidates {
        for (x, &keep) in c.features.iter_mut().zip(mask) {
            if !keep {
                *x = 0.0;
            }
        }
    }
    out
}

/// One question as the answerability model and the thresholds see it: its ranking by a ranker
/// not fit on it.
struct Ranked<'a> {
    example: &'a Example,
    scores: Vec<f32>,
    question: [f32; QUESTION_COUNT],
    /// Whether the best-ranked candidate holds the answer.
    right: bool,
}

impl<'a> Ranked<'a> {
    fn new(example: &'a Example, ranker: &Linear, mask: &[bool; COUNT]) -> Self {
        let features = example.features(mask);
        let scores: Vec<f32> = features.iter().map(|x| ranker.value(x)).collect();
        let refs: Vec<&Features> = features.iter().collect();
        let question = question_features(&scores, &refs);
        let order = crate::compose::ranked(&example.prepared.candidates, &scores);
        let right = order.first().is_some_and(|&i| example.holds[i]);
        Self { example, scores, question, right }
    }
}

/// Weights fit on `examples`, with the penalties and thresholds an inner cross-validation on
/// them chooses.
fn choose_and_fit(examples: &[&Example], options: &Options, mask: &[bool; COUNT], seed: u64) -> Result<Weights, String> {
    let inner = folds(&groups(examples), options.folds, seed);
    // The ranker's penalty: the one whose held-out rankings put a right candidate first most often.
    let mut best: Option<(usize, f32, Vec<Linear>)> = None;
    for &alpha in &options.ranker_alphas {
        let rankers: Vec<Linear> = (0..options.folds).map(|f| fit_ranker(&split(examples, &inner, f, false), alpha, mask)).collect::<Result<_, _>>()?;
        let first = (0..options.folds).flat_map(|f| split(examples, &inner, f, true).into_iter().map(move |e| (f, e))).filter(|(f, e)| Ranked::new(e, &rankers[*f], mask).right).count();
        tracing::debug!(alpha, first, "ranker penalty");
        if best.as_ref().is_none_or(|b| first > b.0) {
            best = Some((first, alpha, rankers));
        }
    }
    let (_, ranker_alpha, rankers) = best.ok_or("no ranker penalty to try")?;
    // Every question ranked by a ranker not fit on it.
    let ranked: Vec<(usize, Ranked)> = (0..options.folds).flat_map(|f| split(examples, &inner, f, true).into_iter().map(move |e| (f, e))).map(|(f, e)| (f, Ranked::new(e, &rankers[f], mask))).collect();
    // The answerability model's penalty: the best held-out log-likelihood.
    let mut best: Option<(f64, f32, Vec<f32>)> = None;
    for &alpha in &options.answer_alphas {
        let mut probability = vec![0.0f32; ranked.len()];
        let mut loss = 0.0f64;
        for f in 0..options.folds {
            let train: Vec<&Ranked> = ranked.iter().filter(|(o, _)| *o != f).map(|(_, r)| r).collect();
            let model = fit_answerability(&train, alpha)?;
            for (i, (o, r)) in ranked.iter().enumerate() {
                if *o == f {
                    let p = model.probability(&r.question);
                    probability[i] = p;
                    let p = f64::from(p).clamp(1e-6, 1.0 - 1e-6);
                    loss -= if r.right { p.ln() } else { (1.0 - p).ln() };
                }
            }
        }
        tracing::debug!(alpha, loss, "answerability penalty");
        if best.as_ref().is_none_or(|b| loss < b.0) {
            best = Some((loss, alpha, probability));
        }
    }
    let (_, answer_alpha, probability) = best.ok_or("no answerability penalty to try")?;
    let rs: Vec<&Ranked> = ranked.iter().map(|(_, r)| r).collect();
    let answer_threshold = answer_threshold(&rs, &probability, options.max_false_abstain);
    let companion_threshold = companion_threshold(&rs, options.most);
    let ranker = fit_ranker(examples, ranker_alpha, mask)?;
    // The answerability model learns from rankings by rankers not fit on their questions, as it
    // will meet them.
    let answerability = fit_answerability(&rs, answer_alpha)?;
    Ok(Weights { format: FORMAT, ranker, answerability, answer_threshold, companion_threshold, measured: Measured::default() })
}

/// The answer threshold: the highest answerability threshold (as many unanswerable questions
/// abstained on as can be) that abstains on at most `max_false` of the answerable questions,
/// given their held-out `probability`.
fn answer_threshold(ranked: &[&Ranked], probability: &[f32], max_false: f32) -> f32 {
    let answerable: Vec<f32> = ranked.iter().zip(probability).filter(|(r, _)| r.example.answerable()).map(|(_, p)| *p).collect();
    let mut best = 0.0;
    for step in 0..=100 {
        let t = step as f32 / 100.0;
        let abstained = answerable.iter().filter(|&&p| p < t).count();
        if abstained as f32 <= max_false * answerable.len() as f32 {
            best = t;
        }
    }
    best
}

/// The companion threshold that does best on the held-out rankings: the share of answerable
/// questions with a quote holding the answer, less a fifth of the share of quotes that hold none.
fn companion_threshold(ranked: &[&Ranked], most: usize) -> f32 {
    let mut best = (f32::MIN, 1.0);
    for step in (1..=20).rev() {
        let t = step as f32 / 20.0;
        let (mut cited, mut answerable, mut wrong, mut quotes) = (0usize, 0usize, 0usize, 0usize);
        for r in ranked.iter().filter(|r| r.example.answerable()) {
            let e = r.example;
            let chosen = select(&e.prepared.candidates, &r.scores, &e.prepared.hits, true, t, most);
            answerable += 1;
            cited += usize::from(chosen.iter().any(|&i| e.holds[i]));
            wrong += chosen.iter().filter(|&&i| !e.holds[i]).count();
            quotes += chosen.len();
        }
        let objective = cited as f32 / answerable.max(1) as f32 - 0.2 * wrong as f32 / quotes.max(1) as f32;
        if objective > best.0 + 1e-6 {
            best = (objective, t);
        }
    }
    best.1
}

/// The ranker fit on the answerable questions of `examples` that have a right candidate.
fn fit_ranker(examples: &[&Example], alpha: f32, mask: &[bool; COUNT]) -> Result<Linear, String> {
    let groups: Vec<Group> = examples
        .iter()
        .filter(|e| e.answerable())
        .map(|e| Group { rows: e.features(mask).iter().map(|x| x.to_vec()).collect(), right: e.holds.clone() })
        .collect();
    fit_listwise(&groups, &NAMES, alpha).map_err(|e| format!("the ranker: {e}"))
}

/// The answerability model: a logistic regression (L2 penalty `alpha`) of whether the ranking's
/// best candidate is right, from the question features of `ranked`.
fn fit_answerability(ranked: &[&Ranked], alpha: f32) -> Result<Linear, String> {
    let rows: Vec<Vec<f32>> = ranked.iter().map(|r| r.question.to_vec()).collect();
    let labels: Vec<bool> = ranked.iter().map(|r| r.right).collect();
    fit_logistic(&rows, &labels, &QUESTION_NAMES, alpha).map_err(|e| format!("the answerability model: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic question: `n` candidates in one passage, the one at `right` holding the answer
    /// (or none), its "own" coverage high and every other feature noise.
    fn example(id: usize, n: usize, right: Option<usize>) -> Example {
        let text: String = (0..n).map(|i| format!("Sætning nummer {i} om emnet her. ")).collect();
        let hit = byraad_core::Hit { chunk_id: format!("c{id}"), title: "Titel".into(), ..crate::fixtures::passage(&format!("d{id}"), &text, 0) };
        let own = NAMES.iter().position(|n| *n == "own").unwrap();
        let mut noise = (id as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let candidates = (0..n)
            .map(|i| {
                let start = text.match_indices("Sætning").nth(i).unwrap().0;
                let mut features = [0.0f32; COUNT];
                for f in features.iter_mut() {
                    noise ^= noise << 13;
                    noise ^= noise >> 7;
                    noise ^= noise << 17;
                    *f = (noise % 1000) as f32 / 1000.0;
                }
                features[own] = if Some(i) == right { 0.8 + features[own] / 5.0 } else { features[own] / 2.0 };
                crate::Candidate { hit: 0, rank: 0, range: start..start + "Sætning nummer 0 om emnet her.".len() + usize::from(i >= 10), parts: 1, held: vec![1.0], features }
            })
            .collect();
        let prepared = Prepared { question: crate::Question::new("emnet", |t: &[String]| Ok::<_, ()>(vec![1.0; t.len()])).unwrap(), hits: vec![hit], named: 0, candidates, warning: None };
        let evidence = right.map(|i| vec![format!("Sætning nummer {i} om emnet her.")]).unwrap_or_default();
        Example::new(Labelled { id: format!("q{id}"), question: "emnet".into(), evidence, source: None }, prepared)
    }

    #[test]
    fn the_scorer_learns_what_tells_the_answer_and_is_measured_on_questions_it_was_not_fit_on() {
        let examples: Vec<Example> = (0..40).map(|id| example(id, 8, (id % 5 != 0).then_some(id % 8))).collect();
        assert!(examples.iter().filter(|e| e.answerable()).all(|e| e.holds.iter().filter(|&&h| h).count() == 1), "the evidence labels one candidate");
        let report = train(&examples, &Options { folds: 4, ..Options::default() }).unwrap();
        let own = NAMES.iter().position(|n| *n == "own").unwrap();
        let w = &report.weights.ranker.weights;
        assert!(w[own] > 0.0 && w.iter().enumerate().all(|(i, x)| i == own || x.abs() < w[own]), "the telling feature weighs most: {w:?}");
        assert_eq!(report.ranking.first, report.ranking.answerable, "{:?}", report.ranking);
        assert_eq!(report.cross_validated.answerable + report.cross_validated.unanswerable, 40);
        assert_eq!(report.answers.len(), 40, "every question answered once, by weights fit without it");
        assert!(report.cross_validated.lead_rate() >= 0.9 - report.cross_validated.false_abstain_rate(), "{}", report.cross_validated.line());
        assert_eq!(report.weights.measured.folds, 4);
        Scorer::new(report.weights).unwrap();
    }

    #[test]
    fn figures_count_as_the_score_script_does() {
        let cite = |quote: &str| byraad_core::Citation {
            n: 1,
            doc_id: "d".into(),
            chunk_id: "c".into(),
            title: "t".into(),
            kind: byraad_core::Kind::Referat,
            body: String::new(),
            date: None,
            item: None,
            page: None,
            source: String::new(),
            quote: quote.into(),
            span: byraad_core::Span::new(0, quote.len()),
            ocr: false,
            case: None,
            also: Vec::new(),
        };
        let mut f = Figures::default();
        let answered = ChatResponse { answer: String::new(), abstained: false, mode: byraad_core::AnswerMode::Extractive, citations: vec![cite("Noget andet står her."), cite("Skolen får plads\ntil 700 elever.")], related: Vec::new(), warning: None };
        f.add(&answered, &["plads til 700 elever".to_string()]);
        let abstained = ChatResponse { abstained: true, citations: Vec::new(), ..answered.clone() };
        f.add(&abstained, &[]);
        f.add(&abstained, &["x y z".to_string()]);
        assert_eq!((f.answerable, f.cited, f.lead, f.false_abstain, f.unanswerable, f.abstain), (2, 1, 0, 1, 1, 1));
        assert_eq!((f.quotes, f.fragments, f.repeats), (2, 1, 0), "a quote of four words is a fragment");
    }
}
