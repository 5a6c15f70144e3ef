//! A case's history (sagsforløb): `GET /v1/cases/{case}` and the page `/sager/{case}`.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::response::Response;
use byraad_core::{CaseHistory, Principal};

use crate::links::passage_url;
use crate::handler::{audited, blocking};
use crate::session::Visitor;
use crate::web::escape;
use crate::{ApiError, AppState, AuditInfo};

/// Longest case number accepted.
const MAX_CASE_CHARS: usize = 64;

/// `case` when it looks like a case number ("22-011409", "EMN-2025-000123"), else why not.
pub(crate) fn checked(case: &str) -> Result<String, String> {
    let case = case.trim();
    if case.is_empty() || case.chars().count() > MAX_CASE_CHARS || !case.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')) {
        return Err(format!("case: {case:?} is not a case number (letters, digits and - _ . /, at most {MAX_CASE_CHARS})"));
    }
    Ok(case.to_string())
}

/// The history of `case` that `principal` may read; `None` when no readable meeting treated it.
pub(crate) async fn history(state: &AppState, case: &str, principal: &Principal) -> Result<Option<CaseHistory>, ApiError> {
    let case = checked(case).map_err(ApiError::BadRequest)?;
    let (search, clearance) = (state.search.clone(), principal.clearance());
    let history = blocking(move || Ok(search.case_history(&case, &clearance)?)).await?;
    Ok((!history.treatments.is_empty()).then_some(history))
}

/// Every meeting that treated a case, in date order, with its recommendation and decision.
#[utoipa::path(get, path = "/v1/cases/{case}", params(("case" = String, Path, description = "case number, e.g. 22-011409")),
    responses((status = 200, body = CaseHistory), (status = 400, body = crate::handler::ErrorBody), (status = 404, body = crate::handler::ErrorBody)))]
pub(crate) async fn case(State(state): State<AppState>, Extension(principal): Extension<Principal>, Path(case): Path<String>) -> Result<Response, ApiError> {
    // A case only closed documents treat is answered exactly like an unknown one.
    let history = history(&state, &case, &principal).await?.ok_or_else(|| ApiError::NotFound(format!("no meeting treated case {case:?}")))?;
    let info = AuditInfo::query(case.clone()).returned(history.treatments.iter().map(|t| t.doc_id.as_str()));
    Ok(audited(info, Json(history)))
}

/// The page of a case's history.
pub(crate) async fn case_page(State(state): State<AppState>, Extension(visitor): Extension<Visitor>, Path(case): Path<String>) -> Result<Response, ApiError> {
    let history = history(&state, &case, &visitor.principal).await?.ok_or_else(|| ApiError::NotFound(format!("no meeting treated case {case:?}")))?;
    let main = render(&history, &state.public_url);
    let info = AuditInfo::query(case.clone()).returned(history.treatments.iter().map(|t| t.doc_id.as_str()));
    Ok(audited(info, crate::web::layout(&visitor, &format!("Sag {}", history.case), "", &main, None)))
}

/// The history as a list of treatments, each linking to its item in the meeting.
pub(crate) fn render(history: &CaseHistory, base: &str) -> String {
    let mut html = format!("<article class=\"case\"><h1>Sagsforløb for sag {}</h1><p>Behandlet på {} møder.</p><ol class=\"treatments\">", escape(&history.case), history.treatments.len());
    for t in &history.treatments {
        let url = passage_url(base, &t.doc_id, Some(t.span));
        let _ = write!(html, "<li><h2><a href=\"{}\">{}</a></h2><p class=\"meta\">{}{}</p>", escape(&url), escape(&t.title), escape(&t.heading), t.date.as_deref().map(|d| format!(" · {d}")).unwrap_or_default());
        for (label, text) in [("Indstilling", &t.recommendation), ("Beslutning", &t.decision)] {
            if let Some(text) = text {
                let _ = write!(html, "<h3>{label}</h3><p>{}</p>", escape(text).replace('\n', "<br>"));
            }
        }
        html.push_str("</li>");
    }
    html.push_str("</ol></article>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbers_are_checked() {
        assert_eq!(checked(" 22-011409 ").unwrap(), "22-011409");
        assert!(checked("EMN-2025-000123").is_ok());
        for bad in ["", "a b", "<script>", &"1".repeat(65)] {
            assert!(checked(bad).unwrap_err().contains("not a case number"), "{bad}");
        }
    }
}
