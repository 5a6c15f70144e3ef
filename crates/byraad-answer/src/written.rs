//! Answers written by a language model from the numbered passages, kept sentence by sentence
//! only where the passages support them ([`crate::verify`]).

use std::collections::HashSet;
use std::ops::ControlFlow;

use byraad_core::{AnswerMode, ChatRequest, ChatResponse};

use crate::compose::abstention;
use crate::llm::{LlmClient, LlmError};
use crate::stream::{Event, Sink, join_warnings, send_whole};
use crate::{Prepared, prompt, verify};

/// Longest standalone question taken from the language model.
const MAX_REWRITE_CHARS: usize = 500;

/// The language model's answer to `req` from `prepared`'s passages, checked sentence by
/// sentence as it streams in; only kept sentences reach `sink`. Fails, with nothing sent, when
/// the model fails before a sentence was kept; after that, a failure ends the answer early with
/// a warning. `None` when the sink stopped listening.
pub fn write(llm: &LlmClient, min_support: f32, req: &ChatRequest, prepared: &Prepared, sink: &mut dyn Sink) -> Result<Option<ChatResponse>, LlmError> {
    let sources: Vec<verify::Source> = prepared.hits.iter().map(verify::Source::new).collect();
    let messages = prompt::messages(req, &sources);
    let mut verifier = verify::Verifier::new(&sources, min_support);
    let mut pending = String::new();
    let mut answer = String::new();
    let mut removed = 0usize;
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
            Err(why) => {
                tracing::debug!(?why, chars = sentence.chars().count(), "written sentence not supported by its sources; removed");
                removed += 1;
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
    tracing::info!(kept = citations.len(), removed, "language model's answer verified");
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
