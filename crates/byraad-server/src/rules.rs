//! `GET /v1/rules/lookup`: provisions of the rules texts, by reference or in a member's words.

use axum::extract::{Extension, State};
use axum::response::Response;
use axum::Json;
use byraad_core::Principal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::handler::{ErrorBody, audited, blocking};
use crate::{ApiError, AppState, AuditInfo};

/// Longest rules query accepted, in characters.
const MAX_RULES_QUERY: usize = 500;

/// `/v1/rules/lookup` parameters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RulesQuery {
    /// A reference ("§ 20, stk. 6", "KL § 9") or a topic ("habilitet").
    q: Option<String>,
    /// Most provisions returned.
    limit: Option<usize>,
    /// Only this rules text, by name ("kommunestyrelsesloven", "KL", "forretningsorden"); an
    /// unknown name is a 400 naming the rules texts there are.
    law: Option<String>,
}

/// Provisions found.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesResponse {
    /// Best first: a named provision, then the provisions about the topic.
    results: Vec<byraad_rules::Provision>,
}

/// Looks up provisions of the law and the council's rules.
#[utoipa::path(get, path = "/v1/rules/lookup", params(RulesQuery),
    responses((status = 200, body = RulesResponse), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn rules_lookup(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: Result<axum::extract::Query<RulesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let axum::extract::Query(params) = query.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let q = params.q.as_deref().map(str::trim).unwrap_or_default().to_string();
    if q.is_empty() {
        return Err(ApiError::BadRequest("q: give a reference (\"§ 20, stk. 6\") or a topic (\"habilitet\")".into()));
    }
    if byraad_core::has_control(&q) {
        return Err(ApiError::BadRequest("q: holds control characters".into()));
    }
    if q.chars().count() > MAX_RULES_QUERY {
        return Err(ApiError::BadRequest(format!("q: longer than {MAX_RULES_QUERY} characters")));
    }
    let limit = params.limit.unwrap_or(state.rules_limit);
    if limit == 0 || limit > state.max_limit {
        return Err(ApiError::BadRequest(format!("limit: must be in 1..={}", state.max_limit)));
    }
    let Some(rules) = state.rules.clone() else {
        return Err(ApiError::Unavailable("rules look-up is not configured on this server".into()));
    };
    let clearance = principal.clearance();
    let asked = q.clone();
    let law = params.law.as_deref().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string);
    let results = blocking(move || Ok(rules.lookup(&q, limit, law.as_deref(), &clearance)?)).await?;
    let info = AuditInfo::query(asked).returned(results.iter().map(|p| p.doc_id.as_str()));
    Ok(audited(info, Json(RulesResponse { results })))
}
