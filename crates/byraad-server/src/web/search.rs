//! `/sog`: search the archive with filters (kind, body, date range, case number), the counts per
//! kind and body among the best hundred hits, snippets with the matched words marked, more on
//! demand. Rendered on the server from a GET form: no script needed.

use std::collections::BTreeMap;

use axum::extract::{Extension, Query, State};
use axum::response::Response;
use byraad_core::{Filters, Kind, Mode, SearchRequest};

use super::{escape, layout};
use crate::session::Visitor;
use crate::links::{encode as enc, passage_url};
use crate::handler::{audited, blocking};
use crate::{ApiError, AppState, AuditInfo};

/// The form's fields.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct SearchPageQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    case: String,
    limit: Option<usize>,
}

/// Kinds as members name them.
fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Dagsorden => "Dagsorden",
        Kind::Referat => "Referat",
        Kind::Bilag => "Bilag",
        Kind::Betaenkning => "Betænkning",
        Kind::Lov => "Lov",
        Kind::Haandbog => "Håndbog",
        Kind::Notat => "Notat",
        Kind::Henvendelse => "Henvendelse",
        Kind::Forespoergsel => "Forespørgsel",
        Kind::Oversigt => "Oversigt",
    }
}

/// A snippet (escaped, matched words in `<b>`) with the matches as `<mark>`; anything else
/// that looks like markup is escaped again.
fn marked(snippet: &str) -> String {
    let s = snippet.replace("<b>", "\u{1}").replace("</b>", "\u{2}");
    if s.contains('<') || s.contains('>') {
        return escape(&s.replace(['\u{1}', '\u{2}'], ""));
    }
    s.replace('\u{1}', "<mark>").replace('\u{2}', "</mark>")
}

fn option(value: &str, label: &str, selected: bool) -> String {
    format!("<option value=\"{}\"{}>{}</option>", escape(value), if selected { " selected" } else { "" }, escape(label))
}

/// The search page, with hits for `q` when given.
pub(crate) async fn search_page(State(state): State<AppState>, Extension(visitor): Extension<Visitor>, query: Result<Query<SearchPageQuery>, axum::extract::rejection::QueryRejection>) -> Result<Response, ApiError> {
    let f = query.map(|Query(q)| q).unwrap_or_default();
    let q = f.q.trim().chars().take(1000).collect::<String>();
    let clearance = visitor.principal.clearance();
    let search = state.search.clone();
    let c = clearance.clone();
    let bodies = blocking(move || Ok(search.bodies(&c)?)).await?;
    let kinds: String = std::iter::once(option("", "Alle typer", f.kind.is_empty())).chain(Kind::ALL.iter().map(|k| option(k.as_str(), kind_label(*k), f.kind == k.as_str()))).collect();
    let body_options: String = std::iter::once(option("", "Alle udvalg og organer", f.body.is_empty())).chain(bodies.iter().map(|b| option(b, b, &f.body == b))).collect();
    let mut main = format!(
        r#"<h1>Søg i arkivet</h1>
<form class="ask" method="get" action="/sog" role="search">
<label for="q">Søgeord</label>
<input type="text" id="q" name="q" value="{q}" maxlength="1000">
<div class="filters">
<div><label for="kind">Type</label><select id="kind" name="kind">{kinds}</select></div>
<div><label for="body">Udvalg/organ</label><select id="body" name="body">{body_options}</select></div>
<div><label for="from">Fra dato</label><input type="date" id="from" name="from" value="{from}"></div>
<div><label for="to">Til dato</label><input type="date" id="to" name="to" value="{to}"></div>
<div><label for="case">Sagsnummer</label><input type="text" id="case" name="case" value="{case}" placeholder="EMN-2025-003383"></div>
</div>
<button type="submit">Søg</button>
</form>"#,
        q = escape(&q),
        from = escape(&f.from),
        to = escape(&f.to),
        case = escape(&f.case)
    );
    if q.is_empty() {
        return Ok(layout(&visitor, "Søg", "/sog", &main, None));
    }
    let nonempty = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let kind = match nonempty(&f.kind) {
        Some(k) => vec![k.parse::<Kind>().map_err(|e| ApiError::BadRequest(e.to_string()))?],
        None => Vec::new(),
    };
    let filters = Filters { kind, body: nonempty(&f.body).into_iter().collect(), date_from: nonempty(&f.from), date_to: nonempty(&f.to), case: nonempty(&f.case) };
    let limit = f.limit.unwrap_or(10).clamp(1, 50);
    let wide = SearchRequest { query: q.clone(), limit: Some(100.min(state.max_limit)), filters, clearance, mode: None::<Mode> };
    wide.validate(state.max_limit).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let search = state.search.clone();
    let resp = blocking(move || Ok(search.search(&wide)?)).await?;
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_body: BTreeMap<&str, usize> = BTreeMap::new();
    for h in &resp.hits {
        *by_kind.entry(kind_label(h.kind)).or_default() += 1;
        *by_body.entry(h.body.as_str()).or_default() += 1;
    }
    let counts = |m: &BTreeMap<&str, usize>| m.iter().map(|(k, n)| format!("{} ({n})", escape(k))).collect::<Vec<_>>().join(" · ");
    main.push_str(&format!(
        "<section aria-labelledby=\"resultater\"><h2 id=\"resultater\">{} {} for »{}«</h2><p class=\"status\">Typer: {}<br>Organer: {}</p><ol class=\"hits\">",
        resp.hits.len(),
        if resp.hits.len() == 1 { "resultat" } else { "resultater" },
        escape(&q),
        counts(&by_kind),
        counts(&by_body)
    ));
    for h in resp.hits.iter().take(limit) {
        let meta: Vec<String> = [Some(kind_label(h.kind).to_string()), Some(h.body.clone()).filter(|b| !b.is_empty()), h.date.clone(), h.item.as_ref().map(|i| format!("punkt {i}")), h.page.map(|p| format!("side {p}")), h.ocr.then(|| "læst fra en scanning".to_string())].into_iter().flatten().collect();
        main.push_str(&format!(
            "<li><a href=\"{}\">{}</a><div class=\"meta\">{}</div><p>{}</p></li>",
            escape(&passage_url("", &h.doc_id, Some(h.span))),
            escape(&h.title),
            escape(&meta.join(" · ")),
            marked(&h.snippet)
        ));
    }
    main.push_str("</ol>");
    if resp.hits.len() > limit {
        let more = format!("/sog?q={}&kind={}&body={}&from={}&to={}&case={}&limit={}", enc(&q), enc(&f.kind), enc(&f.body), enc(&f.from), enc(&f.to), enc(&f.case), (limit + 10).min(50));
        main.push_str(&format!("<p><a href=\"{}\">Vis flere resultater</a></p>", escape(&more)));
    }
    main.push_str("</section>");
    let info = AuditInfo::query(q).returned(resp.hits.iter().take(limit).map(|h| h.doc_id.as_str()));
    Ok(audited(info, layout(&visitor, "Søg", "/sog", &main, None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_mark_matches_and_nothing_else_is_markup() {
        assert_eq!(marked("en <b>cykelsti</b> &amp; vej"), "en <mark>cykelsti</mark> &amp; vej");
        assert_eq!(marked("<script>x</script> <b>a</b>"), "&lt;script&gt;x&lt;/script&gt; a");
    }
}
