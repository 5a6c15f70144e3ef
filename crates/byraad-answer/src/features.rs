//! The measurements of a candidate the scorer weighs. Each is general (no word list or weight
//! written for a particular question) and scaled to about 0..1; which of them count, and how
//! much, is learned ([`crate::scorer`]) and checked by cross-validation (`byraad train-answerer`).

use std::collections::HashSet;

use byraad_core::{Hit, Kind};
use byraad_index::analysis::{self, Word};

use crate::facts;
use crate::question::{Asked, Question};

/// The features' names, in order: the scorer's weights file names them, and a file naming
/// others is refused.
pub const NAMES: [&str; COUNT] = [
    "own", "context", "passage", "focus", "names", "missing", "fact", "no_fact", "rank", "score", "dense", "pair", "length", "rule_for_name", "prose", "terminal",
    "partial", "phrase", "density", "numbers",
];
/// How many features a candidate has.
pub const COUNT: usize = 20;

/// A candidate's features, in the order of [`NAMES`].
pub type Features = [f32; COUNT];

/// What the features of one passage's candidates share.
pub struct Context<'a> {
    question: &'a Question,
    hit: &'a Hit,
    rank: usize,
    best: f32,
    /// How far the passage's title and heading hold each term (0 or 1).
    topic: Vec<f32>,
    /// How far the passage's text holds each term (0 or 1).
    passage: Vec<f32>,
    /// Whether each term is a number its document's date holds (a year, a day).
    dated: Vec<bool>,
}

impl<'a> Context<'a> {
    /// The context of `hit`, ranked `rank` among hits whose best score is `best`; `topic` and
    /// `passage` are the stems of its title and heading, and of its text.
    pub fn new(question: &'a Question, hit: &'a Hit, rank: usize, best: f32, topic: &HashSet<String>, passage: &HashSet<String>) -> Self {
        let held = |stems: &HashSet<String>| -> Vec<f32> { question.terms.iter().map(|t| if t.stems.iter().any(|s| stems.contains(s)) { 1.0 } else { 0.0 }).collect() };
        let date: Vec<&str> = hit.date.as_deref().map(|d| d.split('-').collect()).unwrap_or_default();
        let dated = question.terms.iter().map(|t| date.iter().any(|part| part.trim_start_matches('0') == t.stems[0].trim_start_matches('0'))).collect();
        Self { question, hit, rank, best, topic: held(topic), passage: held(passage), dated }
    }
}

/// The features of a candidate of `ctx`'s passage: its `text`, split into `words`, holding each
/// question term `own` (itself) and `near` (with its neighbouring sentences), of `parts`
/// sentences.
pub fn features(ctx: &Context, text: &str, words: &[Word], own: &[f32], near: &[f32], parts: usize) -> Features {
    let q = ctx.question;
    let share = |held: &dyn Fn(usize) -> f32, which: &dyn Fn(usize) -> bool| -> Option<f32> {
        let total: f32 = (0..q.terms.len()).filter(|&k| which(k)).map(|k| q.terms[k].weight).sum();
        (total > 0.0).then(|| (0..q.terms.len()).filter(|&k| which(k)).map(|k| q.terms[k].weight * held(k)).sum::<f32>() / total)
    };
    let all = |_: usize| true;
    let own_share = share(&|k| own[k], &all).unwrap_or(0.0);
    let context = share(&|k| near[k].max(ctx.topic[k]), &all).unwrap_or(0.0);
    let passage = share(&|k| near[k].max(ctx.topic[k]).max(ctx.passage[k]), &all).unwrap_or(0.0);
    // What the question asks about, beyond the names of what it is about.
    let focus = share(&|k| own[k], &|k| !q.terms[k].name).unwrap_or(own_share);
    // What it names, the passage must name too.
    let names = share(&|k| near[k].max(ctx.topic[k]).max(ctx.passage[k]), &|k| q.terms[k].name).unwrap_or(1.0);
    let heaviest = q.terms.iter().map(|t| t.weight).fold(0.0f32, f32::max);
    let missing = q.terms.iter().enumerate().filter(|(k, _)| near[*k].max(ctx.topic[*k]) == 0.0).map(|(_, t)| t.weight).fold(0.0f32, f32::max);
    let specific = q.asked != Asked::Other;
    let fact = specific && facts::states(q.asked, text, words, &q.words);
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    let rule = matches!(ctx.hit.kind, Kind::Lov | Kind::Haandbog);
    // Running prose (lower-case words) rather than a heading, a table's header or a line of
    // metadata ("Referat 1. oktober 2025 kl. 15.45", "BESLUTNINGSFORSLAG FRA DD OG LA").
    let prose = words.iter().filter(|w| text[w.from..w.to].chars().all(|c| c.is_alphabetic() && c.is_lowercase())).count() as f32 / words.len().max(1) as f32;
    let terminal = text.trim_end().ends_with(['.', '!', ':', ';']);
    // Question words held only in a related form (a compound, another inflection).
    let partial = share(&|k| if own[k] > 0.0 && own[k] < 1.0 { 1.0 } else { 0.0 }, &all).unwrap_or(0.0);
    // Neighbouring words of the question found next to each other ("Teknisk Udvalg",
    // "relationel velfærd"), in either order.
    let stems: Vec<String> = words.iter().map(|w| analysis::stem_term(&w.lower)).collect();
    let pairs = q.terms.windows(2).count();
    let near_pair = |a: &crate::question::Term, b: &crate::question::Term| {
        stems.iter().enumerate().any(|(i, x)| a.stems.contains(x) && stems[i + 1..(i + 3).min(stems.len())].iter().chain(stems[i.saturating_sub(2)..i].iter()).any(|y| b.stems.contains(y)))
    };
    let phrase = if pairs == 0 { 0.0 } else { q.terms.windows(2).filter(|p| near_pair(&p[0], &p[1])).count() as f32 / pairs as f32 };
    // How much of the candidate is about the question: its question words per content word.
    let content = words.iter().filter(|w| !analysis::is_stop_word(&w.lower)).count().max(1);
    let density = (own.iter().filter(|&&h| h > 0.0).count() as f32 / content as f32).min(1.0);
    // The question's numbers (a year, a count) that neither the candidate with its neighbours,
    // its passage's title and heading nor its document's date holds.
    let numeric: Vec<usize> = (0..q.terms.len()).filter(|&k| q.terms[k].stems[0].chars().all(|c| c.is_ascii_digit())).collect();
    let numbers = if numeric.is_empty() { 0.0 } else { numeric.iter().filter(|&&k| near[k].max(ctx.topic[k]) == 0.0 && !ctx.dated[k]).count() as f32 / numeric.len() as f32 };
    [
        own_share,
        context,
        passage,
        focus,
        names,
        if heaviest > 0.0 { missing / heaviest } else { 0.0 },
        flag(fact),
        flag(specific && !fact),
        1.0 / (1.0 + ctx.rank as f32),
        if ctx.best > 0.0 { ctx.hit.score / ctx.best } else { 0.0 },
        flag(ctx.hit.retrievers.iter().any(|r| r == "dense")),
        flag(parts > 1),
        (words.len().max(1) as f32).ln() / 50f32.ln(),
        flag(rule && q.terms.iter().any(|t| t.name)),
        prose,
        flag(terminal),
        partial,
        phrase,
        density,
        numbers,
    ]
}
