//! `byraad train-answerer` and `byraad train-rules`: fit the answer scorer and the rules ranker
//! on labelled questions, print what cross-validation by question measured, and write the
//! weights (and, for study, every candidate's features) when asked.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use byraad_answer::Answerer;
use byraad_core::Clearance;
use byraad_core::config::Config;
use byraad_index::Retriever;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What both training commands are told: how to cross-validate, and what to write.
#[derive(Debug, clap::Args)]
pub struct Fit {
    /// Folds of the cross-validation (by question).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed of the questions' assignment to folds.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Leave out a feature (repeatable).
    #[arg(long, value_name = "FEATURE")]
    pub without: Vec<String>,
    /// Also cross-validate with each feature left out in turn.
    #[arg(long)]
    pub ablate: bool,
    /// Write the weights file here.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write every candidate's features and label, per question, here (JSON lines), for study:
    /// the answer's sentences, or the rules' provisions.
    #[arg(long, value_name = "FILE")]
    pub candidates: Option<PathBuf>,
}

/// Fits the answer scorer on the labelled questions in `questions` and prints what
/// cross-validation measured; writes what `fit` asks for, and each question's held-out answer
/// to `answers`.
pub fn train_answerer(config: &Config, questions: &[PathBuf], fit: &Fit, answers: Option<&Path>) -> anyhow::Result<ExitCode> {
    let options = &byraad_answer::train::Options { folds: fit.folds, seed: fit.seed, without: fit.without.clone(), most: config.answer.max_sentences, ..Default::default() };
    let (ablate, out, dump) = (fit.ablate, fit.out.as_deref(), fit.candidates.as_deref());
    use byraad_answer::train::{self, Example, Labelled};
    let mut labelled: Vec<Labelled> = Vec::new();
    for file in questions {
        labelled.extend(read_lines::<Labelled>(file, "a labelled question")?);
    }
    let retriever = open_hybrid(config, out.is_some(), "the shipped scorer is fit on hybrid passages", "the scorer is fit on lexical passages")?;
    // Questions are prepared (retrieved, split, measured) without scoring them.
    let answerer = Answerer::new(retriever.clone(), crate::assembly::answer_settings(config), byraad_answer::Scorer::untrained()).with_rules(crate::assembly::rules(config, retriever)?);
    let started = std::time::Instant::now();
    let examples: Vec<Example> = labelled
        .into_iter()
        .map(|l| {
            let prepared = answerer.prepare(&byraad_core::ChatRequest::question(&l.question))?;
            Ok(Example::new(l, prepared))
        })
        .collect::<anyhow::Result<_>>()?;
    let candidates: usize = examples.iter().map(|e| e.prepared.candidates.len()).sum();
    eprintln!("byraad: {} questions, {candidates} candidates prepared in {:.1} s", examples.len(), started.elapsed().as_secs_f64());
    if let Some(path) = dump {
        let rows = examples.iter().flat_map(|e| {
            e.prepared.candidates.iter().enumerate().map(|(i, c)| {
                serde_json::json!({"id": e.labelled.id, "answerable": !e.labelled.evidence.is_empty(), "rank": c.rank, "parts": c.parts, "holds": e.holds[i], "features": c.features.to_vec(), "text": c.text(&e.prepared.hits)})
            })
        });
        write_lines(path, rows)?;
    }
    let report = train::train(&examples, options).map_err(anyhow::Error::msg)?;
    let w = &report.weights;
    let groups: std::collections::HashSet<&str> = examples.iter().map(|e| e.group.as_str()).collect();
    println!("cross-validated ({}-fold by case, {} groups): {}", options.folds, groups.len(), report.cross_validated.line());
    let r = &report.ranking;
    println!("ranking: of {} answerable, {} have a candidate holding the answer; the best-scored holds it for {}, one of the best three for {}", r.answerable, r.reachable, r.first, r.top3);
    println!("fit on all: ranker alpha={} answerability alpha={} answer_threshold={:.2} companion_threshold={:.2}", w.ranker.alpha, w.answerability.alpha, w.answer_threshold, w.companion_threshold);
    print_weights(&[&w.ranker, &w.answerability], 14);
    if ablate {
        for name in byraad_answer::features::NAMES {
            let without = train::Options { without: [options.without.clone(), vec![name.to_string()]].concat(), ..options.clone() };
            let r = train::train(&examples, &without).map_err(anyhow::Error::msg)?;
            println!("without {name:<14} {}", r.cross_validated.line());
        }
    }
    if let Some(path) = answers {
        write_lines(path, report.answers.iter().map(|(id, resp)| serde_json::json!({"id": id, "answer": resp})))?;
    }
    if let Some(path) = out {
        write_weights(path, w)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Fits the rules ranker on the questions in `questions`, prints what cross-validation
/// measured (and, with `--ablate`, with each feature left out), and writes what `fit` asks for.
pub fn train_rules(config: &Config, questions: &[PathBuf], provisions: Option<&Path>, closeness: Option<&Path>, fit: &Fit) -> anyhow::Result<ExitCode> {
    let options = &byraad_rules::train::Options { folds: fit.folds, seed: fit.seed, without: fit.without.clone(), ..Default::default() };
    let (ablate, out, dump) = (fit.ablate, fit.out.as_deref(), fit.candidates.as_deref());
    use byraad_rules::train::{self, Example, Labelled};
    let mut labelled: Vec<Labelled> = Vec::new();
    for file in questions {
        labelled.extend(read_lines::<Labelled>(file, "a rules question")?);
    }
    let retriever = open_hybrid(config, out.is_some(), "the ranker with e5's closeness cannot be fit without it", "the ranker is fit without e5's closeness")?;
    // Questions are prepared (matched, measured) without ranking them.
    let rules = crate::assembly::rules_ranked_by(config, retriever, byraad_rules::Ranker::untrained())?;
    if let Some(path) = provisions {
        let index = rules.prepare("", None, &Clearance::public())?.index;
        let rows = (0..index.entries.len()).map(|i| {
            let e = &index.entries[i];
            let law = byraad_rules::short_name(&index.docs[e.doc].meta.title);
            serde_json::json!({"law": law, "item": e.item, "paragraph": e.paragraph, "stk": e.stk, "passage": index.passage(i)})
        });
        write_lines(path, rows)?;
        eprintln!("byraad: wrote {} provisions to {}", index.entries.len(), path.display());
    }
    #[derive(serde::Deserialize)]
    struct HeldOut {
        id: String,
        closeness: Vec<f32>,
    }
    let held_out: std::collections::HashMap<String, Vec<f32>> = match closeness {
        Some(path) => read_lines::<HeldOut>(path, "a question's closeness")?.into_iter().map(|h| (h.id, h.closeness)).collect(),
        None => std::collections::HashMap::new(),
    };
    if let Some(path) = closeness {
        let missing = labelled.iter().filter(|l| !held_out.contains_key(&l.id)).count();
        anyhow::ensure!(missing == 0, "{}: {missing} of the questions have no closeness", path.display());
    }
    let mut rows = Vec::new();
    let examples: Vec<Example> = labelled
        .into_iter()
        .map(|l| {
            let prepared = rules.prepare_with(&l.question, None, &Clearance::public(), held_out.get(&l.id).map(Vec::as_slice))?;
            let example = Example::new(l, &prepared);
            if dump.is_some() {
                for (k, &i) in prepared.readable.iter().enumerate() {
                    let e = &prepared.index.entries[i];
                    let law = byraad_rules::short_name(&prepared.index.docs[e.doc].meta.title);
                    rows.push(serde_json::json!({"id": example.labelled.id, "question": example.labelled.question, "item": e.item, "law": law, "right": example.right[k], "features": prepared.features[k].to_vec(), "headings": e.headings, "text": e.written}));
                }
            }
            Ok(example)
        })
        .collect::<anyhow::Result<_>>()?;
    if let Some(path) = dump {
        write_lines(path, rows)?;
    }
    let unmatched = examples.iter().filter(|e| !e.right.iter().any(|&r| r)).count();
    if unmatched > 0 {
        eprintln!("byraad: warning: {unmatched} questions name no provision of the rules texts");
    }
    let report = train::train(&examples, options).map_err(anyhow::Error::msg)?;
    let n = report.questions.max(1) as f32;
    println!("cross-validated ({}-fold by question): questions={} top1={:.3} top3={:.3}", options.folds, report.questions, report.top1 as f32 / n, report.top3 as f32 / n);
    println!("by words alone (no embedder): top1={:.3} top3={:.3}", report.lexical_top1 as f32 / n, report.lexical_top3 as f32 / n);
    for (what, w) in [("with e5", &report.weights.ranker), ("by words alone", &report.weights.lexical)] {
        println!("fit on all, {what}: alpha={}", w.alpha);
        print_weights(&[w], 12);
    }
    if ablate {
        for name in byraad_rules::features::NAMES {
            let without = train::Options { without: [options.without.clone(), vec![name.to_string()]].concat(), ..options.clone() };
            let r = train::train(&examples, &without).map_err(anyhow::Error::msg)?;
            println!("without {name:<12} top1={:.3} top3={:.3} (by words alone {:.3} {:.3})", r.top1 as f32 / n, r.top3 as f32 / n, r.lexical_top1 as f32 / n, r.lexical_top3 as f32 / n);
        }
    }
    if let Some(path) = out {
        write_weights(path, &report.weights)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON lines of `path` (blank lines skipped), each read as a `what`.
fn read_lines<T: DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<Vec<T>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).with_context(|| format!("{}:{}: not {what}", path.display(), n + 1)))
        .collect()
}

/// `rows` written to `path` as JSON lines.
fn write_lines<R: Serialize>(path: &Path, rows: impl IntoIterator<Item = R>) -> anyhow::Result<()> {
    let mut lines = String::new();
    for row in rows {
        lines.push_str(&serde_json::to_string(&row)?);
        lines.push('\n');
    }
    std::fs::write(path, lines).with_context(|| format!("cannot write {}", path.display()))
}

/// A weights file written to `path`.
fn write_weights(path: &Path, weights: &impl Serialize) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(weights)? + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("byraad: wrote {}", path.display());
    Ok(())
}

/// Each model's weights, a line per input (names padded to `width`).
fn print_weights(models: &[&byraad_learn::Linear], width: usize) {
    for model in models {
        for (name, weight) in model.inputs.iter().zip(&model.weights) {
            println!("  {name:<width$} {weight:+.3}");
        }
    }
}

/// The retriever, hybrid as configured: without dense retrieval, weights are not written
/// (`writing`: `why_not` says why) and a study run goes on with a warning (`instead`).
fn open_hybrid(config: &Config, writing: bool, why_not: &str, instead: &str) -> anyhow::Result<Arc<Retriever>> {
    let retriever = Arc::new(crate::assembly::open_retriever(config)?);
    if retriever.dense().is_none() {
        let w = retriever.dense_warning().unwrap_or("dense.backend is none");
        if writing {
            anyhow::bail!("dense retrieval is off ({w}): {why_not}; not writing weights");
        }
        eprintln!("byraad: warning: dense retrieval is off ({w}); {instead}");
    }
    Ok(retriever)
}
