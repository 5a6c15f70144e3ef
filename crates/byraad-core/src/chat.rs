//! Questions and cited answers (`POST /v1/chat`, `byraad ask`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Error, Filters, Hit, Kind, Result, Span};

/// Most messages in one conversation.
const MAX_MESSAGES: usize = 50;
/// Longest message accepted, in characters.
/// Longest message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4_000;
/// Most characters of one conversation, all its messages together.
const MAX_CONVERSATION_CHARS: usize = 40_000;

/// A conversation whose last message is the member's question.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// The conversation so far, oldest first; the last is the user's question.
    pub messages: Vec<Message>,
    /// Restrictions on the sources, as in search.
    #[serde(default)]
    pub filters: Filters,
    /// Server-Sent Events instead of one JSON response.
    #[serde(default)]
    pub stream: bool,
    /// What the caller may read (set by the server, never from the body; default public only).
    #[serde(skip)]
    pub clearance: crate::Clearance,
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Who wrote it.
    pub role: ChatRole,
    /// What was written.
    pub content: String,
}

/// The author of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// The member.
    User,
    /// byråds-GPT.
    Assistant,
}

impl ChatRequest {
    /// A one-question conversation.
    pub fn question(text: &str) -> Self {
        Self { messages: vec![Message { role: ChatRole::User, content: text.to_string() }], ..Self::default() }
    }

    /// The question: the last message's text.
    pub fn question_text(&self) -> &str {
        self.messages.last().map_or("", |m| m.content.trim())
    }

    /// Checks the conversation: 1..=50 messages, the last from the user and not empty, none
    /// longer than 4,000 characters; and the filters.
    pub fn validate(&self) -> Result<()> {
        if self.messages.is_empty() || self.messages.len() > MAX_MESSAGES {
            return Err(Error::invalid("messages", format!("must hold 1 to {MAX_MESSAGES} messages")));
        }
        if let Some(i) = self.messages.iter().position(|m| m.content.chars().count() > MAX_MESSAGE_CHARS) {
            return Err(Error::invalid(format!("messages[{i}].content"), format!("is longer than {MAX_MESSAGE_CHARS} characters")));
        }
        if let Some(i) = self.messages.iter().position(|m| crate::search::has_control(&m.content)) {
            return Err(Error::invalid(format!("messages[{i}].content"), "holds control characters"));
        }
        if self.messages.iter().map(|m| m.content.chars().count()).sum::<usize>() > MAX_CONVERSATION_CHARS {
            return Err(Error::invalid("messages", format!("hold more than {MAX_CONVERSATION_CHARS} characters together; start a new conversation")));
        }
        let last = self.messages.last().map(|m| (m.role, m.content.trim().is_empty()));
        match last {
            Some((ChatRole::User, false)) => {}
            Some((ChatRole::User, true)) => return Err(Error::invalid("messages", "the question (the last message) is empty")),
            _ => return Err(Error::invalid("messages", "the last message must be the user's question")),
        }
        self.filters.validate()
    }
}

/// How an answer was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnswerMode {
    /// Sentences selected from the sources, quoted.
    Extractive,
    /// Written by a language model from the sources, checked against them.
    Llm,
}

/// A cited passage: exactly the document's text at `span`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Citation {
    /// The number the answer uses, `[n]`.
    pub n: usize,
    /// The document (`GET /v1/documents/{doc_id}`).
    pub doc_id: String,
    /// The chunk the quote comes from.
    pub chunk_id: String,
    /// The document's title.
    pub title: String,
    /// The document's kind.
    pub kind: Kind,
    /// The council body or committee.
    pub body: String,
    /// The document's date (YYYY-MM-DD).
    pub date: Option<String>,
    /// Agenda item, chapter or provision.
    pub item: Option<String>,
    /// Page of the quote's first byte.
    pub page: Option<u32>,
    /// The source file.
    pub source: String,
    /// The quoted text, verbatim.
    pub quote: String,
    /// The quote's bytes in the document text.
    pub span: Span,
    /// The quote was read by OCR from a scan (its words may be misread).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ocr: bool,
    /// The cited item's case number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// Other meetings that treated the same case with the same text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<crate::Treatment>,
}

/// A cited answer, or an abstention with the nearest documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatResponse {
    /// The answer in Danish, citations marked `[n]`.
    pub answer: String,
    /// True when the archive holds no answer to the question.
    pub abstained: bool,
    /// How the answer was written.
    pub mode: AnswerMode,
    /// The sources the answer cites.
    pub citations: Vec<Citation>,
    /// Retrieved passages the answer does not cite.
    pub related: Vec<Hit>,
    /// Why the answer is limited (e.g. dense retrieval off), if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversations_are_validated() {
        assert!(ChatRequest::question("Hvad er habilitet?").validate().is_ok());
        assert!(ChatRequest::default().validate().unwrap_err().to_string().contains("messages"));
        assert!(ChatRequest::question("  ").validate().unwrap_err().to_string().contains("empty"));
        let mut r = ChatRequest::question("x");
        r.messages.push(Message { role: ChatRole::Assistant, content: "svar".into() });
        assert!(r.validate().unwrap_err().to_string().contains("user's question"));
        let r = ChatRequest::question(&"a".repeat(4_001));
        assert!(r.validate().unwrap_err().to_string().contains("messages[0].content"));
        let bad: std::result::Result<ChatRequest, _> = serde_json::from_str(r#"{"messages":[{"role":"system","content":"x"}]}"#);
        assert!(bad.is_err(), "only user and assistant turns");
    }
}
