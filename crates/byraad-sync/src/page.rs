//! What a fetched page or file says of itself: a page's title and links, where a copy is kept in
//! the corpus, and the date and case number its title or address names.

use std::sync::LazyLock;

use byraad_ingest::Format;
use regex::Regex;
use scraper::{Html, Selector};
use sha2::{Digest, Sha256};

static CASE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[A-ZÆØÅ]{2,5}-\d{4}-\d{4,8}\b").unwrap_or_else(|e| panic!("case pattern: {e}")));

/// A link on a page: where it leads (absolute, without fragment) and its text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Link {
    /// The absolute address.
    pub url: String,
    /// The link's text, whitespace collapsed.
    pub text: String,
}

/// The page's title (`<title>`, else its first `<h1>`) and its links on the same host as `base`.
pub fn read_html(bytes: &[u8], base: &url::Url) -> (Option<String>, Vec<Link>) {
    let html = Html::parse_document(&String::from_utf8_lossy(bytes));
    let text_of = |e: scraper::ElementRef| e.text().collect::<Vec<_>>().join(" ").split_whitespace().collect::<Vec<_>>().join(" ");
    let first = |css: &str| Selector::parse(css).ok().and_then(|s| html.select(&s).map(text_of).find(|t| !t.is_empty()));
    let title = first("title").or_else(|| first("h1"));
    let mut links = Vec::new();
    if let Ok(a) = Selector::parse("a[href]") {
        for e in html.select(&a) {
            let Some(mut url) = e.value().attr("href").and_then(|h| base.join(h.trim()).ok()) else { continue };
            url.set_fragment(None);
            if url.scheme() != base.scheme() || url.host_str() != base.host_str() || url.port_or_known_default() != base.port_or_known_default() {
                continue;
            }
            let link = Link { url: url.to_string(), text: text_of(e) };
            if !links.iter().any(|l: &Link| l.url == link.url) {
                links.push(link);
            }
        }
    }
    (title, links)
}

/// Where the copy of `url` is kept, relative to the sync folder: `host/path`, with an extension
/// the ingest reads (from the address, else from the content type); `None` when it is not a
/// format the ingest reads.
pub fn local_path(url: &url::Url, content_type: Option<&str>) -> Option<String> {
    let clean = |s: &str| -> String {
        let s: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' }).collect();
        s.trim_start_matches('.').to_string()
    };
    let mut parts: Vec<String> = vec![clean(&format!("{}{}", url.host_str()?, url.port().map_or(String::new(), |p| format!("-{p}"))))];
    parts.extend(url.path_segments().into_iter().flatten().filter(|s| !s.is_empty()).map(|s| clean(&percent_decoded(s))).filter(|s| !s.is_empty()));
    if parts.len() == 1 || url.path().ends_with('/') {
        parts.push("index".into());
    }
    let mut name = parts.pop()?;
    if let Some(q) = url.query() {
        let h = hex::encode(&Sha256::digest(q.as_bytes())[..4]);
        name = match name.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}-{h}.{ext}"),
            None => format!("{name}-{h}"),
        };
    }
    if Format::of(std::path::Path::new(&name)).is_err() {
        let mime = content_type.unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let ext = match mime.as_str() {
            "text/html" | "application/xhtml+xml" => "html",
            "application/pdf" => "pdf",
            "application/json" => "json",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
            "text/plain" => "txt",
            "text/markdown" => "md",
            "image/png" => "png",
            "image/jpeg" => "jpg",
            "image/tiff" => "tif",
            _ => return None,
        };
        name = format!("{name}.{ext}");
    }
    parts.push(name);
    Some(parts.join("/"))
}

fn percent_decoded(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The file name at the end of `url`'s path, as a fallback title.
pub fn file_name(url: &url::Url) -> String {
    url.path_segments().and_then(|mut s| s.rfind(|x| !x.is_empty()).map(percent_decoded)).unwrap_or_else(|| url.to_string())
}

/// The first case number (e.g. EMN-2025-001234) in `texts`.
pub fn find_case(texts: &[&str]) -> Option<String> {
    texts.iter().find_map(|t| CASE.find(t).map(|m| m.as_str().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_same_host_links() {
        let base = url::Url::parse("https://example.org/byraadet/").unwrap();
        let page = br#"<html><head><title> Aarhus   Byr&aring;d </title></head><body>
            <a href="moede/1#punkt2">M&oslash;de 1</a> <a href="/moede/1">igen</a>
            <a href="https://other.example/x">fremmed</a> <a href="mailto:a@b">post</a></body></html>"#;
        let (title, links) = read_html(page, &base);
        assert_eq!(title.as_deref(), Some("Aarhus Byråd"));
        assert_eq!(links, vec![Link { url: "https://example.org/byraadet/moede/1".into(), text: "Møde 1".into() }, Link { url: "https://example.org/moede/1".into(), text: "igen".into() }]);
    }

    #[test]
    fn copies_are_named_for_their_address_and_format() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(local_path(&u("https://example.org/bilag/Budget%202025.pdf"), None).as_deref(), Some("example.org/bilag/Budget-2025.pdf"));
        assert_eq!(local_path(&u("http://127.0.0.1:8080/moede/12"), Some("text/html; charset=utf-8")).as_deref(), Some("127.0.0.1-8080/moede/12.html"));
        assert_eq!(local_path(&u("https://example.org/"), Some("text/html")).as_deref(), Some("example.org/index.html"));
        let q = local_path(&u("https://example.org/vis?id=7"), Some("application/pdf")).unwrap();
        assert!(q.starts_with("example.org/vis-") && q.ends_with(".pdf"), "{q}");
        assert_ne!(q, local_path(&u("https://example.org/vis?id=8"), Some("application/pdf")).unwrap());
        assert_eq!(local_path(&u("https://example.org/../../etc/passwd"), Some("text/plain")).as_deref(), Some("example.org/etc/passwd.txt"));
        assert_eq!(local_path(&u("https://example.org/x.zip"), Some("application/zip")), None);
    }

    #[test]
    fn case_numbers_are_found() {
        assert_eq!(find_case(&["Punkt 3", "Sag EMN-2025-012345: Budget"]).as_deref(), Some("EMN-2025-012345"));
        assert_eq!(find_case(&["ingen"]), None);
    }
}
