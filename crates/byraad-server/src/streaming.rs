//! Streamed answers and their audit: the answer is made on a blocking thread and handed over a
//! channel; the event stream the client reads records what it actually handed to the
//! connection. Its end is audited once: `"done"` (written before the last events are sent; an
//! answer that cannot be audited is withheld), or `"aborted"` when the client left first, with
//! only the documents whose citations were sent.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::Arc;

use axum::response::sse;
use byraad_core::ChatResponse;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::{ApiError, AppState, AuditInfo, AuditLog};

/// What the answering thread hands to the stream.
pub(crate) enum Out {
    /// An event; `cited` names the document a citation event cites.
    Event { event: sse::Event, cited: Option<String> },
    /// The answer is complete: audit it, then send `then`; if it cannot be audited, send
    /// `refused` instead.
    Commit { resp: Box<ChatResponse>, then: Vec<sse::Event>, refused: sse::Event },
    /// The answer failed: send this event and end.
    Fail(sse::Event),
}

/// The answering thread's end of a stream.
pub(crate) struct Producer(mpsc::Sender<Out>);

impl Producer {
    /// Hands over `event`; `Break` when the client is gone.
    pub(crate) fn event(&self, event: sse::Event, cited: Option<&str>) -> ControlFlow<()> {
        match self.0.blocking_send(Out::Event { event, cited: cited.map(str::to_string) }) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    }

    /// Hands over the complete answer.
    pub(crate) fn commit(&self, resp: ChatResponse, then: Vec<sse::Event>, refused: sse::Event) {
        let _ = self.0.blocking_send(Out::Commit { resp: Box::new(resp), then, refused });
    }

    /// Hands over a failure.
    pub(crate) fn fail(&self, event: sse::Event) {
        let _ = self.0.blocking_send(Out::Fail(event));
    }

    /// Whether the client still listens.
    pub(crate) fn listening(&self) -> bool {
        !self.0.is_closed()
    }
}

/// The audit entry a stream writes when it ends.
pub(crate) struct StreamAudit {
    log: Arc<AuditLog>,
    principal: String,
    endpoint: &'static str,
    question: String,
    started: std::time::Instant,
}

impl StreamAudit {
    /// The entry of a stream `principal` asked `question` on `endpoint`.
    pub(crate) fn new(log: Arc<AuditLog>, principal: &str, endpoint: &'static str, question: String) -> Self {
        Self { log, principal: principal.to_string(), endpoint, question, started: std::time::Instant::now() }
    }

    fn write(&self, info: AuditInfo, how: &str) -> Result<(), String> {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut entry = self.log.entry(&self.principal, self.endpoint, info, 200, ms);
        entry.stream = Some(how.into());
        self.log.write(&entry)
    }
}

/// A stream permit for `state`: `Busy` when `server.max_streams` answers are streaming already.
pub(crate) fn permit(state: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    state.streams.clone().try_acquire_owned().map_err(|_| ApiError::Busy("too many answers are being streamed right now; try again in a moment".into()))
}

/// A channel for one streamed answer: the producer for the answering thread, and the events
/// for the response (holding `permit` until the stream ends).
pub(crate) fn channel(audit: StreamAudit, permit: OwnedSemaphorePermit) -> (Producer, impl futures_util::Stream<Item = Result<sse::Event, Infallible>>) {
    let (tx, rx) = mpsc::channel::<Out>(64);
    let tracker = Tracker { rx, audit, cited: Vec::new(), queue: VecDeque::new(), ended: false, _permit: permit };
    let events = futures_util::stream::unfold(tracker, |mut t| async move { t.next().await.map(|e| (Ok(e), t)) });
    (Producer(tx), events)
}

struct Tracker {
    rx: mpsc::Receiver<Out>,
    audit: StreamAudit,
    /// Documents whose citation events were handed to the connection.
    cited: Vec<String>,
    queue: VecDeque<sse::Event>,
    /// Audited as done or failed.
    ended: bool,
    _permit: OwnedSemaphorePermit,
}

impl Tracker {
    async fn next(&mut self) -> Option<sse::Event> {
        if let Some(e) = self.queue.pop_front() {
            return Some(e);
        }
        if self.ended {
            return None;
        }
        match self.rx.recv().await? {
            Out::Event { event, cited } => {
                if let Some(id) = cited
                    && !self.cited.contains(&id)
                {
                    self.cited.push(id);
                }
                Some(event)
            }
            Out::Commit { resp, then, refused } => {
                self.ended = true;
                let info = crate::handler::chat_audit(self.audit.question.clone(), &resp);
                let (log, entry) = (self.audit.log.clone(), self.entry(info, "done"));
                let written = tokio::task::spawn_blocking(move || log.write(&entry)).await.unwrap_or_else(|e| Err(e.to_string()));
                match written {
                    Ok(()) => self.queue.extend(then),
                    Err(_) => self.queue.push_back(refused),
                }
                self.queue.pop_front()
            }
            Out::Fail(event) => {
                self.ended = true;
                let _ = self.audit.write(self.info(), "failed");
                Some(event)
            }
        }
    }

    fn info(&self) -> AuditInfo {
        AuditInfo::query(self.audit.question.clone()).cited(self.cited.iter().map(String::as_str))
    }

    fn entry(&self, info: AuditInfo, how: &str) -> crate::AuditEntry {
        let ms = u64::try_from(self.audit.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut entry = self.audit.log.entry(&self.audit.principal, self.audit.endpoint, info, 200, ms);
        entry.stream = Some(how.into());
        entry
    }
}

impl Drop for Tracker {
    /// A stream dropped before its end was audited: the client left (or the answer stopped);
    /// recorded as aborted with what was sent.
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        tracing::info!(principal = %self.audit.principal, "client went away; answer stopped");
        if let Err(e) = self.audit.write(self.info(), "aborted") {
            tracing::error!(error = %e, "the aborted stream could not be audited");
        }
    }
}
