//! Answers written by a language model from the numbered passages, kept sentence by sentence
//! only where the passages support them ([`crate::verify`]).

use std::collections::HashSet;
use std::ops::{ControlFlow, Range};

use byraad_core::{AnswerMode, ChatRequest, ChatResponse, Hit, Span};

use crate::compose::abstention;
use crate::guard::Guard;
use crate::llm::{LlmClient, LlmError};
use crate::stream::{Event, Sink, join_warnings, send_whole};
use crate::{Prepared, prompt, verify};

/// Longest standalone question taken from the language model.
const MAX_REWRITE_CHARS: usize = 500;

/// Each of `prepared`'s passages cut to at most `most` bytes (0: whole): the whole sentences
/// around its best-scored candidate (by `scores`), or its first sentences when it has none. The
/// excerpt is a passage of its own (its `text` is the document's text at its `span`).
pub fn excerpts(prepared: &Prepared, scores: &[f32], most: usize) -> Vec<Hit> {
    prepared
        .hits
        .iter()
        .enumerate()
        .map(|(h, hit)| {
            if most == 0 || hit.text.len() <= most {
                return hit.clone();
            }
            let sentences = crate::sentences(&hit.text);
            let best = (0..prepared.candidates.len()).filter(|&i| prepared.candidates[i].hit == h).max_by(|&a, &b| scores[a].total_cmp(&scores[b]));
            let centre = best.map_or(0, |i| prepared.candidates[i].range.start);
            let Some(mid) = sentences.iter().position(|r| r.end > centre).or(sentences.len().checked_sub(1)) else {
                return hit.clone();
            };
            // Grow around it, a sentence at a time, the one after first.
            let (mut first, mut last) = (mid, mid);
            loop {
                let grown = [(last + 1 < sentences.len()).then(|| (first, last + 1)), first.checked_sub(1).map(|f| (f, last))];
                let Some((f, l)) = grown.into_iter().flatten().find(|&(f, l)| sentences[l].end - sentences[f].start <= most) else { break };
                (first, last) = (f, l);
            }
            let range = sentences[first].start..sentences[last].end.max(sentences[first].start);
            let range = if range.len() > most { range.start..floor_boundary(&hit.text, range.start + most) } else { range };
            Hit { text: hit.text[range.clone()].to_string(), span: Span::new(hit.span.start + range.start, hit.span.start + range.end), ..hit.clone() }
        })
        .collect()
}

/// The largest char boundary of `text` at or below `at`.
fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The language model's answer to `req` from `excerpts` of `prepared`'s passages, checked
/// sentence by sentence as it streams in (against the sources, and against `guard`'s judgement
/// of what answers the question); only kept sentences reach `sink`. Fails, with nothing
/// sent, when the model fails before a sentence was kept; after that, a failure ends the answer
/// early with a warning. `None` when the sink stopped listening.
pub fn write(llm: &LlmClient, min_support: f32, req: &ChatRequest, prepared: &Prepared, excerpts: &[Hit], guard: &Guard, sink: &mut dyn Sink) -> Result<Option<ChatResponse>, LlmError> {
    let sources: Vec<verify::Source> = excerpts.iter().map(verify::Source::new).collect();
    let messages = prompt::messages(req, &sources);
    let judge = |i: usize, excerpt: &Hit, range: &Range<usize>| guard.supports(i, excerpt, range);
    let mut verifier = verify::Verifier::new(&sources, min_support).judged_by(&judge);
    let mut pending = String::new();
    let mut answer = String::new();
    let mut removed = 0usize;
    let mut declined = 0usize;
    let (mut uncited, mut unsupported, mut unanswering) = (0usize, 0usize, 0usize);
    let mut stopped = false;
    let mut take = |sentence: &str, answer: &mut String, sink: &mut dyn Sink| -> ControlFlow<()> {
        match verifier.check(sentence.trim()) {
            Ok((text, fresh)) => {
                for c in &fresh {
                    sink.send(Event::Citation(c))?;
                }
                // A sentence keeps the line breaks before it (the model's paragraphs, lists).
                let lead = sentence.len() - sentence.trim_start().len();
                let breaks = sentence[..lead].matches('\n').count();
                let piece = match (answer.is_empty(), breaks) {
                    (true, _) => text,
                    (false, 0) => format!(" {text}"),
                    (false, 1) => format!("\n{text}"),
                    (false, _) => format!("\n\n{text}"),
                };
                answer.push_str(&piece);
                sink.send(Event::Delta(&piece))
            }
            Err(verify::Rejection::Empty) => ControlFlow::Continue(()),
            Err(verify::Rejection::Declined) => {
                declined += 1;
                ControlFlow::Continue(())
            }
            Err(why) => {
                tracing::debug!(?why, chars = sentence.chars().count(), "written sentence not supported by its sources; removed");
                removed += 1;
                match why {
                    verify::Rejection::Uncited => uncited += 1,
                    verify::Rejection::Unsupported => unsupported += 1,
                    verify::Rejection::Unanswering => unanswering += 1,
                    _ => {}
                }
                ControlFlow::Continue(())
            }
        }
    };
    let outcome = llm.complete(&messages, &mut |piece| {
        if !sink.listening() {
            return ControlFlow::Break(());
        }
        pending.push_str(piece);
        while let Some(end) = verify::sentence_end(&pending, false) {
            let sentence: String = pending.drain(..end).collect();
            take(&sentence, &mut answer, sink)?;
        }
        ControlFlow::Continue(())
    });
    let mut notes: Vec<String> = Vec::new();
    match outcome {
        Ok(()) => {
            let rest = std::mem::take(&mut pending);
            if !rest.trim().is_empty() && take(rest.trim_end(), &mut answer, sink).is_break() {
                stopped = true;
            }
        }
        Err(LlmError::Stopped) => stopped = true,
        Err(e) if answer.is_empty() => return Err(e),
        Err(e) => notes.push(format!("Svaret blev afbrudt: {e}.")),
    }
    if stopped {
        return Ok(None);
    }
    let citations = verifier.citations().to_vec();
    tracing::info!(kept = answer_sentences(&answer), citations = citations.len(), removed, uncited, unsupported, unanswering, declined, "language model's answer verified");
    // An abstention says so itself (the model's "the sources do not answer" is not a claim).
    if removed > 0 && !citations.is_empty() {
        notes.push(format!("{removed} sætning(er) i sprogmodellens svar kunne ikke underbygges af kilderne og er fjernet."));
    }
    let warning = join_warnings(prepared.warning.clone(), (!notes.is_empty()).then(|| notes.join(" ")));
    if citations.is_empty() {
        // Nothing the model wrote is supported: the archive has no answer it could find.
        let resp = ChatResponse { answer: abstention(None, &prepared.hits, &prepared.hits), abstained: true, mode: AnswerMode::Llm, citations: Vec::new(), related: prepared.hits.clone(), warning };
        return Ok(send_whole(&resp, sink).is_continue().then_some(resp));
    }
    let cited: HashSet<&str> = citations.iter().map(|c| c.chunk_id.as_str()).collect();
    let related = prepared.hits.iter().filter(|h| !cited.contains(h.chunk_id.as_str())).cloned().collect();
    Ok(Some(ChatResponse { answer, abstained: false, mode: AnswerMode::Llm, citations, related, warning }))
}

/// The sentences of a kept answer (each kept sentence ends with its citation markers).
fn answer_sentences(answer: &str) -> usize {
    let mut n = 0;
    let mut rest = answer;
    while let Some(end) = verify::sentence_end(rest, true) {
        if !rest[..end].trim().is_empty() {
            n += 1;
        }
        rest = &rest[end..];
    }
    n + usize::from(!rest.trim().is_empty())
}

/// The conversation's last question rewritten by the language model to stand alone ("og hvad
/// besluttede udvalget så?" → "Hvad besluttede Teknisk Udvalg om ...?"), for retrieval.
pub fn rewrite(llm: &LlmClient, req: &ChatRequest) -> Result<String, LlmError> {
    let mut text = String::new();
    llm.complete(&prompt::rewrite_messages(req), &mut |piece| {
        text.push_str(piece);
        ControlFlow::Continue(())
    })?;
    let question = text.trim().trim_matches(['"', '»', '«', '“', '”']).trim().to_string();
    if question.is_empty() || question.chars().count() > MAX_REWRITE_CHARS || question.contains('\n') {
        return Err(LlmError::Malformed { url: llm.url().to_string(), message: format!("not one standalone question: {:?}", question.chars().take(80).collect::<String>()) });
    }
    tracing::debug!(%question, "follow-up rewritten");
    Ok(question)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Question;
    use crate::candidates::Candidate;

    #[test]
    fn excerpts_hold_the_likeliest_answer_in_whole_sentences_and_exact_spans() {
        let text: String = (0..40).map(|i| format!("Dette er sætning nummer {i:02} i referatet. ")).collect();
        let text = text.trim_end().to_string();
        let hit = Hit { chunk_id: "c".into(), ..crate::fixtures::passage("d", &text, 1000) };
        let at = text.find("nummer 30").unwrap();
        let candidates = vec![
            Candidate { hit: 0, rank: 0, range: 0..10, parts: 1, held: Vec::new(), features: Default::default() },
            Candidate { hit: 0, rank: 0, range: at..at + 10, parts: 1, held: Vec::new(), features: Default::default() },
        ];
        let prepared = Prepared { question: Question::new("x", |t: &[String]| Ok::<_, ()>(vec![1.0; t.len()])).unwrap(), hits: vec![hit], named: 0, candidates, warning: None };
        let cut = &excerpts(&prepared, &[0.1, 0.9], 200)[0];
        assert!(cut.text.len() <= 200 && cut.text.contains("nummer 30"), "{:?}", cut.text);
        assert!(cut.text.starts_with("Dette er") && cut.text.ends_with("referatet."), "whole sentences: {:?}", cut.text);
        assert_eq!(&text[cut.span.start - 1000..cut.span.end - 1000], cut.text, "its span is its text");
        assert_eq!(excerpts(&prepared, &[0.1, 0.9], 0)[0].text, text, "0 keeps whole passages");
    }
}
