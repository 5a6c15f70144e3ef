//! Links a person can open: a document as a readable page (its outline, page numbers in the
//! margin) with a cited passage highlighted and scrolled into view (`GET /documents/{doc_id}?span=START-END#passage`), and the original file
//! (`GET /v1/documents/{doc_id}/original`, a PDF opened at its page with `#page=N`).

use std::fmt::Write as _;

use axum::extract::{Extension, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use byraad_core::{Document, Principal, Span};

use crate::handler::{audited, blocking};
use crate::session::Visitor;
use crate::links::original_url;
use crate::web::escape;
use crate::{ApiError, AppState, AuditInfo};

/// `?span=START-END`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    span: Option<String>,
}

/// A document as a page: its title and metadata, its text with page numbers, the passage
/// highlighted (`<mark id="passage">`) and a link to the original file at the passage's page.
#[utoipa::path(get, path = "/documents/{doc_id}", tag = "pages", params(("doc_id" = String, Path, description = "document id"), ("span" = Option<String>, Query, description = "the passage to highlight: START-END (byte offsets)")),
    responses((status = 200, description = "the document as an HTML page", content_type = "text/html"), (status = 400, body = crate::handler::ErrorBody), (status = 404, body = crate::handler::ErrorBody)))]
pub(crate) async fn page(State(state): State<AppState>, Extension(visitor): Extension<Visitor>, Path(doc_id): Path<String>, query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let span = q.span.as_deref().map(parse_span).transpose()?;
    let id = doc_id.clone();
    let clearance = visitor.principal.clearance();
    let search = state.search.clone();
    let doc = blocking(move || Ok(search.document(&id, &clearance)?)).await?;
    let doc = doc.ok_or_else(|| ApiError::NotFound(format!("no document with id {doc_id:?}")))?;
    if let Some(s) = span
        && !(s.start <= s.end && s.end <= doc.text.len() && doc.text.is_char_boundary(s.start) && doc.text.is_char_boundary(s.end))
    {
        return Err(ApiError::BadRequest(format!("span: {}-{} is not a passage of the document (its text has {} bytes)", s.start, s.end, doc.text.len())));
    }
    let main = render(&doc, span, &state.public_url);
    let info = AuditInfo::query(doc_id.clone()).returned([doc_id.as_str()]);
    Ok(audited(info, crate::web::layout(&visitor, &doc.meta.title, "", &main, None)))
}

/// "START-END" as a span.
fn parse_span(s: &str) -> Result<Span, ApiError> {
    let bad = || ApiError::BadRequest(format!("span: {s:?} is not START-END (byte offsets)"));
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    Ok(Span::new(a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?))
}

/// The page's main part: title and metadata, the outline (items, sections, §§) linking into the
/// text, and the text with its page numbers in the margin and the passage marked.
fn render(doc: &Document, span: Option<Span>, base: &str) -> String {
    let m = &doc.meta;
    let page = span.and_then(|s| doc.page_at(s.start));
    let mut html = String::with_capacity(doc.text.len() * 11 / 10 + 4096);
    let _ = write!(html, "<article class=\"doc\"><h1>{}</h1><dl class=\"doc-meta\"><dt>Type</dt><dd>{}</dd>", escape(&m.title), escape(m.kind.as_str()));
    if !m.body.is_empty() {
        let _ = write!(html, "<dt>Organ</dt><dd>{}</dd>", escape(&m.body));
    }
    if let Some(d) = m.date {
        let _ = write!(html, "<dt>Dato</dt><dd>{d}</dd>");
    }
    if let Some(p) = page {
        let _ = write!(html, "<dt>Side</dt><dd>{p}</dd>");
    }
    let _ = write!(html, "</dl><p><a href=\"{}\">Åbn den oprindelige fil{}</a></p>", escape(&original_url(base, &m.doc_id, page)), page.map(|p| format!(" på side {p}")).unwrap_or_default());
    if span.is_some() {
        html.push_str("<p><a href=\"#passage\">Gå til det citerede</a></p>");
    }
    let entries = outline(doc);
    if entries.len() > 1 {
        let _ = write!(html, "<details class=\"outline\"{}><summary>Indhold ({} afsnit)</summary><nav aria-label=\"Dokumentets indhold\"><ol>", if entries.len() <= 30 { " open" } else { "" }, entries.len());
        let top = entries.iter().map(|e| e.1).min().unwrap_or(1);
        for (k, depth, label) in &entries {
            let _ = write!(html, "<li class=\"depth-{}\"><a href=\"#afsnit-{k}\">{}</a></li>", depth - top, escape(label));
        }
        html.push_str("</ol></nav></details>");
    }
    html.push_str("<div class=\"text\">");
    // The text in pieces: page breaks, outline entries and the passage's edges cut it.
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Cut {
        Close,
        Page,
        Section(usize),
        Open,
    }
    let mut cuts: Vec<(usize, Cut)> = doc.page_breaks.iter().map(|&b| (b, Cut::Page)).collect();
    cuts.extend(entries.iter().filter_map(|(k, _, _)| doc.sections.get(*k).map(|s| (s.span.start.min(doc.text.len()), Cut::Section(*k)))));
    if let Some(s) = span {
        cuts.push((s.start, Cut::Open));
        cuts.push((s.end, Cut::Close));
    }
    cuts.sort();
    let markdown = m.source.ends_with(".md") || m.source.ends_with(".json");
    let piece = |from: usize, to: usize| if markdown { without_heading_marks(&doc.text, from, to) } else { escape(&doc.text[from..to]) };
    let mut at = 0;
    let mut page_no = 1;
    if !doc.page_breaks.is_empty() {
        html.push_str("<span class=\"page\" id=\"side-1\">Side 1</span>");
    }
    for (cut, what) in cuts {
        if cut < at || !doc.text.is_char_boundary(cut) {
            continue;
        }
        html.push_str(&piece(at, cut));
        at = cut;
        match what {
            Cut::Page => {
                page_no += 1;
                let _ = write!(html, "<span class=\"page\" id=\"side-{page_no}\">Side {page_no}</span>");
            }
            Cut::Section(k) => {
                let _ = write!(html, "<span class=\"anchor\" id=\"afsnit-{k}\"></span>");
            }
            Cut::Open => html.push_str("<mark id=\"passage\">"),
            Cut::Close => html.push_str("</mark>"),
        }
    }
    html.push_str(&piece(at, doc.text.len()));
    html.push_str("</div></article>");
    html
}

/// `text[from..to]` escaped, its Markdown headings ("## § 1", "### Beslutning") shown as headings
/// without their marks: a Markdown source (and a meeting of the agenda system, rendered as
/// Markdown) is indexed with the marks, a reader sees a heading of that level.
fn without_heading_marks(text: &str, from: usize, to: usize) -> String {
    let mut out = String::with_capacity(to - from);
    let mut line_start = from == 0 || text.as_bytes().get(from - 1) == Some(&b'\n');
    for line in text[from..to].split_inclusive('\n') {
        let marks = line.bytes().take_while(|&b| b == b'#').count();
        if line_start && (1..=6).contains(&marks) && line[marks..].starts_with(' ') {
            let (heading, end) = line[marks + 1..].split_at(line[marks + 1..].trim_end_matches('\n').len());
            // Inline, so that the text's own line breaks stay as they are; a heading to assistive
            // technology, one level below the page's title.
            let _ = write!(out, "<strong class=\"h h{marks}\" role=\"heading\" aria-level=\"{}\">{}</strong>{end}", (marks + 1).min(6), escape(heading));
        } else {
            out.push_str(&escape(line));
        }
        line_start = line.ends_with('\n');
    }
    out
}

/// The outline: the first section of each run of sections under the same heading, labelled by
/// its item (agenda item, §) and heading, with its depth in the headings; a provision's pieces
/// (stk.) are reached through their §.
fn outline(doc: &Document) -> Vec<(usize, usize, String)> {
    let mut entries = Vec::new();
    let mut last_heading: Option<&str> = None;
    for (k, s) in doc.sections.iter().enumerate() {
        let heading = s.heading.last().map(String::as_str).unwrap_or_default().trim();
        if heading.is_empty() || last_heading == Some(heading) || heading.starts_with("Stk.") {
            continue;
        }
        last_heading = Some(heading);
        let label = match s.item.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
            // A provision's heading is its item already ("§ 8"); an agenda item's is its title.
            Some(item) if !heading.contains(item) => format!("{item}. {heading}"),
            _ => heading.to_string(),
        };
        entries.push((k, s.heading.len().clamp(1, 3), label.chars().take(160).collect::<String>()));
    }
    entries
}

/// The document's original file, as ingested: a PDF inline (a viewer opens `#page=N`), other
/// formats as they are, HTML sandboxed.
#[utoipa::path(get, path = "/v1/documents/{doc_id}/original", params(("doc_id" = String, Path, description = "document id")),
    responses((status = 200, description = "the original file (a PDF opens at `#page=N`)"), (status = 404, body = crate::handler::ErrorBody)))]
pub async fn original(State(state): State<AppState>, Extension(principal): Extension<Principal>, Path(doc_id): Path<String>) -> Result<Response, ApiError> {
    let id = doc_id.clone();
    let clearance = principal.clearance();
    let search = state.search.clone();
    let corpus = state.corpus_dir.clone();
    let (doc, bytes) = blocking(move || {
        let doc = search.document(&id, &clearance)?.ok_or_else(|| ApiError::NotFound(format!("no document with id {id:?}")))?;
        // The source is a path relative to the corpus, from its manifest: it stays inside.
        let root = corpus.canonicalize().map_err(|e| ApiError::NotFound(format!("the original of {id:?} is not available: {e}")))?;
        let path = root.join(&doc.meta.source).canonicalize().map_err(|_| ApiError::NotFound(format!("the original of {id:?} is not available")))?;
        if !path.starts_with(&root) {
            return Err(ApiError::NotFound(format!("the original of {id:?} is not available")));
        }
        let bytes = std::fs::read(&path).map_err(|_| ApiError::NotFound(format!("the original of {id:?} is not available")))?;
        Ok((doc, bytes))
    })
    .await?;
    let source = doc.meta.source.to_lowercase();
    let kind = match source.rsplit('.').next().unwrap_or_default() {
        "pdf" => "application/pdf",
        "html" | "htm" => "text/html; charset=utf-8",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "md" => "text/markdown; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    let name = doc.meta.source.rsplit('/').next().unwrap_or("dokument").replace(['"', '\\'], "");
    let info = AuditInfo::query(doc_id.clone()).returned([doc_id.as_str()]);
    Ok(audited(
        info,
        (
            [
                (header::CONTENT_TYPE, kind.to_string()),
                (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
                // An agenda page from elsewhere runs no script here.
                (header::CONTENT_SECURITY_POLICY, "sandbox".to_string()),
            ],
            bytes,
        )
            .into_response(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::passage_url;

    #[test]
    fn urls_open_the_passage_and_the_original_at_its_page() {
        assert_eq!(passage_url("http://h", "aarhus-2025.referat", Some(Span::new(10, 20))), "http://h/documents/aarhus-2025.referat?span=10-20#passage");
        assert_eq!(original_url("http://h", "a/b c", Some(3)), "http://h/v1/documents/a%2Fb%20c/original#page=3");
        assert!(parse_span("10-x").is_err());
        assert_eq!(escape("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
    }

    #[test]
    fn markdown_headings_are_shown_as_headings_without_their_marks() {
        let text = "# Lov om kommunernes styrelse\n\n## § 8 a\n\nStk. 1. Et #1 mærke & mere.\n### Kapitel 2\n";
        assert_eq!(
            without_heading_marks(text, 0, text.len()),
            "<strong class=\"h h1\" role=\"heading\" aria-level=\"2\">Lov om kommunernes styrelse</strong>\n\n<strong class=\"h h2\" role=\"heading\" aria-level=\"3\">§ 8 a</strong>\n\nStk. 1. Et #1 mærke &amp; mere.\n<strong class=\"h h3\" role=\"heading\" aria-level=\"4\">Kapitel 2</strong>\n"
        );
        // A piece that starts inside a line keeps what it holds; one that starts a line loses the marks.
        let mid = text.find("§ 8 a").unwrap();
        assert_eq!(without_heading_marks(text, mid, mid + "§ 8 a".len()), "§ 8 a");
        let heading = text.find("## §").unwrap();
        assert_eq!(without_heading_marks(text, heading, heading + "## § 8 a".len()), "<strong class=\"h h2\" role=\"heading\" aria-level=\"3\">§ 8 a</strong>");
    }
}
