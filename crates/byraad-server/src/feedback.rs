//! `POST /v1/feedback`: a member's verdict on an answer (up or down, an optional comment),
//! stored with who gave it; `byraad feedback export` reads it back.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use byraad_core::Principal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::body::JsonObject;
use crate::handler::audited;
use crate::{ApiError, AppState, AuditInfo};

const MAX_QUESTION_CHARS: usize = 4_000;
const MAX_ANSWER_CHARS: usize = 20_000;
const MAX_COMMENT_CHARS: usize = 2_000;
const MAX_CITED: usize = 50;

/// Feedback on one answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// "up" (helpful) or "down" (wrong or unhelpful).
    #[schema(value_type = String, example = "down")]
    pub rating: byraad_store::Rating,
    /// The question asked.
    pub question: String,
    /// The answer given.
    pub answer: String,
    /// Ids of the documents the answer cited.
    #[serde(default)]
    pub cited: Vec<String>,
    /// Why the answer was judged down: "wrong_source", "incomplete", "not_an_answer", "other".
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub reason: Option<byraad_store::Reason>,
    /// What the member wants to add.
    #[serde(default)]
    pub comment: String,
}

/// The stored feedback's id.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackReply {
    /// Its id.
    pub id: String,
}

impl FeedbackRequest {
    fn validate(&self) -> Result<(), ApiError> {
        let bad = |field: &str, message: String| Err(ApiError::BadRequest(format!("{field}: {message}")));
        if self.question.trim().is_empty() || self.question.chars().count() > MAX_QUESTION_CHARS {
            return bad("question", format!("must hold 1 to {MAX_QUESTION_CHARS} characters"));
        }
        if self.answer.chars().count() > MAX_ANSWER_CHARS {
            return bad("answer", format!("must hold at most {MAX_ANSWER_CHARS} characters"));
        }
        if self.comment.chars().count() > MAX_COMMENT_CHARS {
            return bad("comment", format!("must hold at most {MAX_COMMENT_CHARS} characters"));
        }
        if self.cited.len() > MAX_CITED || self.cited.iter().any(|c| c.is_empty() || c.len() > 200) {
            return bad("cited", format!("must list at most {MAX_CITED} document ids"));
        }
        Ok(())
    }
}

/// Stores a member's feedback on an answer.
#[utoipa::path(post, path = "/v1/feedback", request_body = FeedbackRequest,
    responses((status = 201, body = FeedbackReply), (status = 400, body = crate::handler::ErrorBody), (status = 503, body = crate::handler::ErrorBody)))]
pub async fn feedback(State(state): State<AppState>, Extension(principal): Extension<Principal>, JsonObject(req): JsonObject<FeedbackRequest>) -> Result<Response, ApiError> {
    req.validate()?;
    let Some(store) = state.store.clone() else {
        return Err(ApiError::Unavailable("feedback is not stored on this server (no database)".into()));
    };
    let info = AuditInfo::query(req.question.clone()).returned(req.cited.iter().map(String::as_str));
    let new = byraad_store::NewFeedback { principal: principal.name.clone(), rating: req.rating, question: req.question, answer: req.answer, cited: req.cited, reason: req.reason, comment: req.comment };
    let id = store.add_feedback(&new).await.map_err(|e| ApiError::Internal(format!("feedback not stored: {e}")))?;
    Ok(audited(info, (StatusCode::CREATED, Json(FeedbackReply { id }))))
}
