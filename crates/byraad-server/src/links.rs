//! The addresses of the members' pages and of the original files, as answers, tools and pages
//! link to them.

use byraad_core::Span;

/// The URL of `doc_id` with `span` highlighted, under `base` (the public URL).
pub fn passage_url(base: &str, doc_id: &str, span: Option<Span>) -> String {
    let id = encode(doc_id);
    match span {
        Some(s) => format!("{base}/documents/{id}?span={}-{}#passage", s.start, s.end),
        None => format!("{base}/documents/{id}"),
    }
}

/// The URL of `doc_id`'s original file, opened at `page` when it has pages.
pub fn original_url(base: &str, doc_id: &str, page: Option<u32>) -> String {
    let id = encode(doc_id);
    match page {
        Some(p) => format!("{base}/v1/documents/{id}/original#page={p}"),
        None => format!("{base}/v1/documents/{id}/original"),
    }
}

/// `s` percent-encoded for a URL path segment or query value.
pub(crate) fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
