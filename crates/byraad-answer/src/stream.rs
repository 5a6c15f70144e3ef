//! Answers handed out piece by piece as they are ready.

use std::collections::HashSet;
use std::ops::ControlFlow;

use byraad_core::{ChatResponse, Citation};

/// A piece of an answer being streamed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event<'a> {
    /// Text to append to the answer.
    Delta(&'a str),
    /// A citation, sent once, before the first text that uses it.
    Citation(&'a Citation),
}

/// Where a streamed answer goes.
pub trait Sink {
    /// Takes the next piece; `Break` when nobody listens any more, which stops the answer.
    fn send(&mut self, event: Event<'_>) -> ControlFlow<()>;
    /// Whether anyone still listens; asked while waiting for the language model.
    fn listening(&self) -> bool {
        true
    }
}

/// A sink that drops everything (answers returned whole).
pub(crate) struct Discard;

impl Sink for Discard {
    fn send(&mut self, _: Event<'_>) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// Sends a whole response: paragraph by paragraph, each preceded by the citations it is the
/// first to use.
pub(crate) fn send_whole(resp: &ChatResponse, sink: &mut dyn Sink) -> ControlFlow<()> {
    let mut sent: HashSet<usize> = HashSet::new();
    for (i, p) in resp.answer.split("\n\n").enumerate() {
        for c in &resp.citations {
            if !sent.contains(&c.n) && p.contains(&format!("[{}]", c.n)) {
                sent.insert(c.n);
                sink.send(Event::Citation(c))?;
            }
        }
        let piece = if i == 0 { p.to_string() } else { format!("\n\n{p}") };
        sink.send(Event::Delta(&piece))?;
    }
    ControlFlow::Continue(())
}

/// Two optional warnings as one.
pub(crate) fn join_warnings(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    }
}
