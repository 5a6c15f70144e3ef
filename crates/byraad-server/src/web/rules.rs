//! `/regler`: the rules looked up as members ask them, by reference ("§ 11, stk. 2") or in
//! their own words ("må jeg stemme om min kones forening?"). Rendered on the server from a GET
//! form: no script needed. Each provision links to its place in the law as ingested.

use axum::extract::{Extension, Query, State};
use axum::response::Response;

use super::{escape, layout};
use crate::session::Visitor;
use crate::links::passage_url;
use crate::handler::{audited, blocking};
use crate::{ApiError, AppState, AuditInfo};

/// `?q=...`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct RulesPageQuery {
    #[serde(default)]
    q: String,
}

/// The rules page, with the provisions for `q` when given.
pub(crate) async fn rules_page(State(state): State<AppState>, Extension(visitor): Extension<Visitor>, query: Result<Query<RulesPageQuery>, axum::extract::rejection::QueryRejection>) -> Result<Response, ApiError> {
    let q = query.map(|Query(q)| q.q).unwrap_or_default().trim().chars().take(500).collect::<String>();
    let mut main = format!(
        r#"<h1>Regler</h1>
<p>Slå en bestemmelse op med dens nummer eller med dine egne ord.</p>
<form class="ask" method="get" action="/regler" role="search">
<label for="q">Bestemmelse eller spørgsmål</label>
<input type="text" id="q" name="q" value="{}" maxlength="500" placeholder="Fx: § 11, stk. 2 eller: må jeg stemme om min kones forening?">
<button type="submit">Slå op</button>
</form>"#,
        escape(&q)
    );
    if q.is_empty() || byraad_core::has_control(&q) {
        return Ok(layout(&visitor, "Regler", "/regler", &main, None));
    }
    let Some(rules) = state.rules.clone() else {
        return Err(ApiError::Unavailable("rules look-up is not configured on this server".into()));
    };
    let (query, clearance, limit) = (q.clone(), visitor.principal.clearance(), state.rules_limit);
    let found = blocking(move || Ok(rules.lookup(&query, limit, None, &clearance)?)).await?;
    main.push_str(&format!("<section aria-labelledby=\"resultater\"><h2 id=\"resultater\" class=\"status\">{} {} for »{}«</h2>", found.len(), if found.len() == 1 { "bestemmelse" } else { "bestemmelser" }, escape(&q)));
    if found.is_empty() {
        main.push_str("<p>Ingen bestemmelse i de regler, du har adgang til, passer på opslaget.</p>");
    }
    for p in &found {
        let url = passage_url("", &p.doc_id, Some(p.span));
        main.push_str(&format!(
            "<article class=\"provision\"><h2><a href=\"{}\">{}</a></h2><p>{}</p><p class=\"text\">{}</p>",
            escape(&url),
            escape(&p.citation),
            escape(&p.lead),
            escape(&p.text)
        ));
        for c in &p.completed_by {
            main.push_str(&format!("<p class=\"completes\"><a href=\"{}\">{}</a>: {}</p>", escape(&passage_url("", &p.doc_id, Some(c.span))), escape(&c.citation), escape(&c.text)));
        }
        main.push_str("</article>");
    }
    main.push_str("</section>");
    let info = AuditInfo::query(q).returned(found.iter().map(|p| p.doc_id.as_str()));
    Ok(audited(info, layout(&visitor, "Regler", "/regler", &main, None)))
}
