//! Access a source declares about itself: a non-public agenda item's full material, a restricted
//! note exported from the case system. Text and Markdown files declare it in a front-matter
//! block, HTML pages in `<meta>` elements:
//!
//! ```text
//! ---
//! access: restricted
//! groups: [magistraten, byraadet]
//! ---
//! ```
//!
//! `<meta name="access" content="restricted">` and `<meta name="groups" content="magistraten,
//! byraadet">` (also as `byraad:access`, `byraad:groups`). A declaration can only narrow access:
//! a source declaring itself restricted is restricted whatever its manifest entry says; one
//! declaring itself public stays as restricted as its manifest entry makes it.

use byraad_core::{Access, DocumentMeta};
use scraper::{Html, Selector};

/// Access a source declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The level.
    pub access: Access,
    /// Who may read it when restricted.
    pub groups: Vec<String>,
}

impl Declared {
    /// `meta` with this declaration applied: restricted wins.
    pub fn apply(&self, meta: &mut DocumentMeta) {
        if self.access == Access::Restricted {
            meta.access = Access::Restricted;
            meta.groups = self.groups.clone();
        }
    }
}

fn parse(access: Option<&str>, groups: Option<&str>) -> Option<Declared> {
    let access = match access?.trim().trim_matches(['"', '\'']).to_lowercase().as_str() {
        "restricted" | "lukket" | "fortrolig" | "ikke offentlig" => Access::Restricted,
        "public" | "offentlig" | "åben" => Access::Public,
        // An access value that is not understood must not make a document public.
        _ => Access::Restricted,
    };
    let groups = groups
        .map(|g| g.trim().trim_start_matches('[').trim_end_matches(']').split(',').map(|s| s.trim().trim_matches(['"', '\'']).to_string()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    Some(Declared { access, groups })
}

/// The declaration of a text or Markdown file's front matter, and the bytes the block takes
/// (its text starts after them). `None` without a front-matter block declaring `access`.
pub fn front_matter(text: &str) -> Option<(Declared, usize)> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = text.len() - body.len();
    let rest = body.strip_prefix("---\n").or_else(|| body.strip_prefix("---\r\n"))?;
    let mut offset = bom + (body.len() - rest.len());
    let (mut access, mut groups) = (None, None);
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        let l = line.trim();
        if l == "---" {
            return parse(access, groups).map(|d| (d, offset));
        }
        match l.split_once(':') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("access") => access = Some(v),
            Some((k, v)) if k.trim().eq_ignore_ascii_case("groups") => groups = Some(v),
            _ => {}
        }
    }
    None
}

/// The declaration of an HTML page's `<meta>` elements.
pub fn html_meta(html: &str) -> Option<Declared> {
    let doc = Html::parse_document(html);
    #[allow(clippy::expect_used)] // constant selector
    let meta = Selector::parse("meta[name][content]").expect("valid selector");
    let (mut access, mut groups) = (None, None);
    for el in doc.select(&meta) {
        let (Some(name), Some(content)) = (el.value().attr("name"), el.value().attr("content")) else { continue };
        match name.trim().to_lowercase().trim_start_matches("byraad:") {
            "access" => access = Some(content),
            "groups" => groups = Some(content),
            _ => {}
        }
    }
    parse(access, groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_declares_access_and_is_cut_from_the_text() {
        let text = "---\naccess: restricted\ngroups: [magistraten, \"byraadet\"]\n---\nPunkt 1: Lukket sag\n";
        let (d, len) = front_matter(text).unwrap();
        assert_eq!(d, Declared { access: Access::Restricted, groups: vec!["magistraten".into(), "byraadet".into()] });
        assert_eq!(&text[len..], "Punkt 1: Lukket sag\n");
        assert_eq!(front_matter("Punkt 1\n---\naccess: restricted\n---\n"), None, "only at the start");
        assert_eq!(front_matter("---\ntitle: x\n---\ntekst"), None, "no access declared");
        assert_eq!(front_matter("---\naccess: restricted\nno end"), None);
        // An unknown level fails closed.
        assert_eq!(front_matter("---\naccess: hemmelig\n---\n").unwrap().0.access, Access::Restricted);
    }

    #[test]
    fn html_meta_declares_access() {
        let html = r#"<html><head><meta name="byraad:access" content="restricted"><meta name="groups" content="magistraten, byraadet"></head><body>x</body></html>"#;
        assert_eq!(html_meta(html), Some(Declared { access: Access::Restricted, groups: vec!["magistraten".into(), "byraadet".into()] }));
        assert_eq!(html_meta("<html><head><meta name=\"viewport\" content=\"x\"></head></html>"), None);
    }

    fn meta(access: Access, groups: &[&str]) -> DocumentMeta {
        DocumentMeta {
            doc_id: "d".into(),
            source: "d.txt".into(),
            title: "D".into(),
            kind: byraad_core::Kind::Notat,
            body: "Aarhus Kommune".into(),
            date: None,
            access,
            groups: groups.iter().map(|g| (*g).to_string()).collect(),
        }
    }

    #[test]
    fn a_declaration_only_narrows_access() {
        let mut closed = meta(Access::Restricted, &["byraadet"]);
        Declared { access: Access::Public, groups: vec![] }.apply(&mut closed);
        assert_eq!((closed.access, closed.groups.as_slice()), (Access::Restricted, &["byraadet".to_string()][..]));
        let mut open = meta(Access::Public, &[]);
        Declared { access: Access::Restricted, groups: vec!["magistraten".into()] }.apply(&mut open);
        assert_eq!((open.access, open.groups.as_slice()), (Access::Restricted, &["magistraten".to_string()][..]));
    }
}
