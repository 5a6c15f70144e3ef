//! Turns a file of a supported format into raw text: lines separated by `\n`, pages by `\f`.
//! Scanned pages (a PDF page whose text layer holds next to no letters) and images are read by
//! OCR: rendered with `pdftoppm` and read with Tesseract's Danish model, page by page.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use scraper::{ElementRef, Html, Node, Selector};

use crate::{Error, Result};

/// The formats the ingester reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text (`.txt`).
    Text,
    /// Markdown (`.md`, `.markdown`).
    Markdown,
    /// HTML (`.html`, `.htm`), including the agenda system's public pages.
    Html,
    /// PDF with a text layer.
    Pdf,
    /// Word (`.docx`).
    Docx,
    /// A scanned page as an image (`.png`, `.jpg`, `.tif`), read by OCR.
    Image,
    /// The agenda system's meeting JSON (`.json`), read by [`crate::agenda`].
    Agenda,
}

impl Format {
    /// The format of a path, by its extension.
    pub fn of(path: &Path) -> Result<Self> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        Ok(match ext.as_str() {
            "txt" => Format::Text,
            "md" | "markdown" => Format::Markdown,
            "html" | "htm" => Format::Html,
            "pdf" => Format::Pdf,
            "docx" => Format::Docx,
            "png" | "jpg" | "jpeg" | "tif" | "tiff" => Format::Image,
            "json" => Format::Agenda,
            _ => return Err(Error::Unsupported { path: path.to_path_buf(), extension: ext }),
        })
    }
}

/// Bounds on what one file may cost to read: a file beyond them is reported, never read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Most pages of a PDF.
    pub max_pages: usize,
    /// Most bytes a DOCX (a zip archive) may unpack to, all its entries together.
    pub max_unpacked_bytes: u64,
    /// Deepest nesting of HTML elements.
    pub max_html_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_file_bytes: 64 << 20, max_pages: 2000, max_unpacked_bytes: 256 << 20, max_html_depth: 256 }
    }
}

/// Refuses HTML nested deeper than the limits allow.
pub fn check_html_depth(path: &Path, html: &str, limits: &Limits) -> Result<()> {
    let depth = html_depth(html);
    if depth > limits.max_html_depth {
        let message = format!("HTML nested {depth} elements deep, deeper than ingest.max_html_depth = {}", limits.max_html_depth);
        return Err(Error::Extract { path: path.to_path_buf(), message });
    }
    Ok(())
}

/// A file's raw text, and which of its pages were read by OCR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Lines separated by `\n`, pages by `\f`.
    pub text: String,
    /// 1-based numbers of the pages read by OCR.
    pub ocr_pages: Vec<u32>,
}

/// A page whose text layer holds fewer letters than this is read by OCR: a scan carries at
/// most a few stray marks, a page of text far more.
const MIN_PAGE_LETTERS: usize = 10;

/// Extracts the raw text of `bytes`, read from `path`, in `format`.
pub fn extract(path: &Path, bytes: &[u8], format: Format, limits: &Limits) -> Result<Extracted> {
    let err = |message: String| Error::Extract { path: path.to_path_buf(), message };
    if bytes.is_empty() {
        return Err(err("the file is empty".into()));
    }
    let mut ocr_pages = Vec::new();
    let text = match format {
        Format::Text => text_pages(&decode(bytes)),
        Format::Markdown => decode(bytes).into_owned(),
        Format::Html => {
            let html = decode(bytes);
            check_html_depth(path, &html, limits)?;
            html_text(&html)
        }
        Format::Pdf => {
            let (text, ocr) = pdf_text(path, limits.max_pages).map_err(err)?;
            ocr_pages = ocr;
            text
        }
        Format::Docx => docx_text(bytes, limits.max_unpacked_bytes).map_err(err)?,
        Format::Image => {
            ocr_pages = vec![1];
            ocr(path).map_err(err)?
        }
        Format::Agenda => return Err(err("a meeting of the agenda system is read whole by agenda::document".into())),
    };
    if text.trim().is_empty() {
        let what = if ocr_pages.is_empty() { "no text found" } else { "no text found, also not by OCR" };
        return Err(err(what.into()));
    }
    Ok(Extracted { text, ocr_pages })
}

/// The text Tesseract reads in the image at `path` (Danish).
fn ocr(path: &Path) -> std::result::Result<String, String> {
    let output = Command::new("tesseract")
        .arg(path)
        .args(["stdout", "-l", "dan", "--psm", "3"])
        .output()
        .map_err(|e| format!("cannot run tesseract (install tesseract-ocr and tesseract-ocr-dan): {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("OCR failed (tesseract: {})", stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")));
    }
    // Tesseract ends a page with a form feed of its own.
    Ok(String::from_utf8_lossy(&output.stdout).replace('\u{c}', "").trim_end().to_string())
}

/// Page `page` (1-based) of the PDF at `path` read by OCR: rendered at 300 dpi in grey, then read.
fn ocr_pdf_page(path: &Path, page: usize) -> std::result::Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("OCR: no temporary directory: {e}"))?;
    let prefix = dir.path().join("side");
    let status = Command::new("pdftoppm")
        .args(["-r", "300", "-gray", "-png", "-singlefile", "-f"])
        .arg(page.to_string())
        .arg("-l")
        .arg(page.to_string())
        .arg(path)
        .arg(&prefix)
        .output()
        .map_err(|e| format!("cannot run pdftoppm (install poppler-utils): {e}"))?;
    if !status.status.success() {
        return Err(format!("page {page} could not be rendered for OCR"));
    }
    ocr(&prefix.with_extension("png"))
}

/// Plain text exported from PDFs marks each new page by a line starting with one space. A file
/// with several such lines (and no other indentation) has pages; the markers become form feeds.
fn text_pages(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let single = text.split('\n').filter(|l| is_page_marker(l)).count();
    let deeper = text.split('\n').filter(|l| l.starts_with("  ") && !l.trim().is_empty()).count();
    if single < 2 || deeper > single {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 64);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if i > 0 && is_page_marker(line) {
            out.push('\u{c}');
        }
        out.push_str(line);
    }
    out
}

fn is_page_marker(line: &str) -> bool {
    line.starts_with(' ') && !line.starts_with("  ") && !line.trim().is_empty()
}

/// Text as UTF-8 or, when it is not (older exports), as Windows-1252, the superset of Latin-1
/// that Danish text was written in before UTF-8.
fn decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
    }
}

/// The PDF's text, with its scanned pages read by OCR, and which those were.
fn pdf_text(path: &Path, max_pages: usize) -> std::result::Result<(String, Vec<u32>), String> {
    let text = pdf_text_layer(path, max_pages)?;
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    let mut ocr_pages = Vec::new();
    let mut failed = None;
    let letters = |t: &str| t.chars().filter(|c| c.is_alphabetic()).count();
    for (i, page) in pages.iter_mut().enumerate() {
        if letters(page) >= MIN_PAGE_LETTERS {
            continue;
        }
        match ocr_pdf_page(path, i + 1) {
            Ok(read) if letters(&read) > letters(page) => {
                *page = read;
                ocr_pages.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
            Ok(_) => {}
            // A blank page in a document with text is no loss; a scan nobody can read is.
            Err(e) => failed = Some(e),
        }
    }
    if let Some(e) = failed
        && pages.iter().all(|p| letters(p) == 0)
    {
        return Err(e);
    }
    Ok((pages.join("\u{c}"), ocr_pages))
}

/// The PDF's text layer, pages separated by form feeds.
fn pdf_text_layer(path: &Path, max_pages: usize) -> std::result::Result<String, String> {
    // One page more than allowed is read, to tell a document at the limit from one beyond it.
    let output = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-eol", "unix", "-l"])
        .arg((max_pages + 1).to_string())
        .arg(path)
        .arg("-")
        .output()
        .map_err(|e| format!("cannot run pdftotext (install poppler-utils): {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut reasons: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        reasons.dedup();
        return Err(format!("not a readable PDF (pdftotext: {})", reasons.join("; ")));
    }
    let text = String::from_utf8(output.stdout).map_err(|e| format!("pdftotext wrote invalid UTF-8: {e}"))?;
    // pdftotext ends every page with a form feed; the last one starts no page.
    if text.matches('\u{c}').count() > max_pages {
        return Err(format!("more than ingest.max_pages = {max_pages} pages"));
    }
    Ok(text.trim_end_matches(['\u{c}', '\n']).to_string())
}

/// Checks that the archive unpacks to at most `max` bytes, by unpacking it into nothing: the
/// sizes an archive declares may lie (a zip bomb), the bytes it inflates to do not.
fn check_unpacked_size(bytes: &[u8], max: u64) -> std::result::Result<(), String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("not a readable .docx: {e}"))?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|e| format!("not a readable .docx: {e}"))?;
        let left = max.saturating_sub(total);
        let read = std::io::copy(&mut entry.take(left + 1), &mut std::io::sink()).map_err(|e| format!("not a readable .docx: {e}"))?;
        total += read;
        if total > max {
            return Err(format!(
                "unpacks to more than ingest.max_unpacked_mib = {} MiB (a zip bomb?)",
                max >> 20
            ));
        }
    }
    Ok(())
}

fn docx_text(bytes: &[u8], max_unpacked: u64) -> std::result::Result<String, String> {
    use docx_rs::{DocumentChild, ParagraphChild, RunChild, TableCellContent, TableChild, TableRowChild};

    fn paragraph(p: &docx_rs::Paragraph, out: &mut String) {
        for child in &p.children {
            if let ParagraphChild::Run(run) = child {
                for rc in &run.children {
                    match rc {
                        RunChild::Text(t) => out.push_str(&t.text),
                        RunChild::Tab(_) => out.push('\t'),
                        RunChild::Break(_) => out.push('\n'),
                        _ => {}
                    }
                }
            }
        }
        out.push('\n');
    }

    check_unpacked_size(bytes, max_unpacked)?;
    let docx = docx_rs::read_docx(bytes).map_err(|e| format!("not a readable .docx: {e}"))?;
    let mut out = String::new();
    for child in &docx.document.children {
        match child {
            DocumentChild::Paragraph(p) => paragraph(p, &mut out),
            DocumentChild::Table(table) => {
                for TableChild::TableRow(row) in &table.rows {
                    for TableRowChild::TableCell(cell) in &row.cells {
                        for content in &cell.children {
                            if let TableCellContent::Paragraph(p) = content {
                                paragraph(p, &mut out);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Elements whose boundaries are line breaks in the text.
const BLOCKS: &[&str] = &[
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
    "pre", "section", "table", "tbody", "td", "th", "thead", "tr", "ul",
];

/// Elements whose content is never text for a reader.
const SKIPPED: &[&str] = &["script", "style", "noscript", "template", "button", "svg", "head", "input", "select"];

fn selector(css: &str) -> Selector {
    #[allow(clippy::expect_used)] // constant selectors, exercised by the tests
    Selector::parse(css).expect("valid CSS selector")
}

/// HTML to text. The agenda system's pages (FirstAgenda Publication) become a header and one
/// "Punkt N: title" block per item, with its case number, content and attachment names;
/// any other page becomes its readable text, headings as their own lines.
fn html_text(html: &str) -> String {
    let doc = Html::parse_document(html);
    let rows: Vec<_> = doc.select(&selector("tr.punktrow")).collect();
    if rows.is_empty() {
        let root = doc.select(&selector("body")).next().unwrap_or_else(|| doc.root_element());
        return block_text(root);
    }
    let mut out = String::new();
    for css in ["h1", ".dagsordeninfo"] {
        if let Some(el) = doc.select(&selector(css)).next() {
            out.push_str(&block_text(el));
            out.push('\n');
        }
    }
    let (number, title, case, punkt, bilag) =
        (selector("span.label"), selector("h2"), selector("span.sagsnummer"), selector("div.punkt"), selector("a.bilag-link"));
    for row in rows {
        let text_of = |s: &Selector| row.select(s).next().map(|e| squash(&e.text().collect::<String>()));
        let n = text_of(&number).unwrap_or_default();
        let t = text_of(&title).unwrap_or_default();
        out.push_str(&format!("\nPunkt {n}: {t}\n"));
        if let Some(case) = text_of(&case) {
            out.push_str(&case);
            out.push('\n');
        }
        if let Some(body) = row.select(&punkt).next() {
            out.push_str(&block_text(body));
            out.push('\n');
        }
        let attachments: Vec<_> = row.select(&bilag).map(|a| squash(&a.text().collect::<String>())).collect();
        if !attachments.is_empty() {
            out.push_str("Bilag\n");
            for a in attachments {
                out.push_str(&format!("- {a}\n"));
            }
        }
    }
    out
}

/// Whitespace runs as single spaces, trimmed.
pub(crate) fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of an element, with a line break at each block boundary. The walk keeps its own
/// stack: input depth never becomes recursion depth.
fn block_text(el: ElementRef<'_>) -> String {
    enum Step<'a> {
        Enter(ego_tree::NodeRef<'a, Node>),
        Leave,
    }
    let mut out = String::new();
    let mut stack = vec![Step::Enter(*el)];
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::Leave => {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                continue;
            }
            Step::Enter(node) => node,
        };
        match node.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if SKIPPED.contains(&name) {
                    continue;
                }
                let block = BLOCKS.contains(&name);
                if block {
                    if !out.ends_with('\n') {
                        out.push('\n');
                    }
                    stack.push(Step::Leave);
                }
                let children: Vec<_> = node.children().collect();
                stack.extend(children.into_iter().rev().map(Step::Enter));
            }
            _ => {}
        }
    }
    // Source formatting inside blocks is not text: keep one line per block.
    out.split('\n').map(squash).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// Elements that never hold content, so never deepen the nesting.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
];

/// How deep the elements of `html` nest, by a linear scan of its tags (before any parsing, whose
/// tree building slows down sharply on deep nesting). Comments and the raw text of scripts and
/// styles are passed over; unclosed `<p>`, `<li>` and the like count as open, so the figure is an
/// upper bound for well-formed pages of ordinary depth.
pub fn html_depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    let find = |from: usize, needle: &str| html.get(from..).and_then(|rest| rest.find(needle)).map(|k| from + k);
    while let Some(lt) = find(i, "<") {
        let rest = &html[lt + 1..];
        if rest.starts_with("!--") {
            i = find(lt + 4, "-->").map_or(bytes.len(), |k| k + 3);
            continue;
        }
        let closing = rest.starts_with('/');
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let end = find(lt + 1, ">").map_or(bytes.len(), |k| k + 1);
        if name.is_empty() || rest.starts_with('!') || rest.starts_with('?') {
            i = end;
            continue;
        }
        let self_closing = html[lt..end].ends_with("/>");
        if closing {
            depth = depth.saturating_sub(1);
        } else if !VOID.contains(&name.as_str()) && !self_closing {
            depth += 1;
            deepest = deepest.max(depth);
            if matches!(name.as_str(), "script" | "style" | "textarea" | "title") {
                // Raw text up to the closing tag, which the next round reads.
                i = find(end, &format!("</{name}")).or_else(|| find(end, &format!("</{}", name.to_uppercase()))).unwrap_or(bytes.len());
                continue;
            }
        }
        i = end;
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::of(Path::new("a/B.PDF")).unwrap(), Format::Pdf);
        assert_eq!(Format::of(Path::new("x.md")).unwrap(), Format::Markdown);
        assert!(matches!(Format::of(Path::new("x.xlsx")), Err(Error::Unsupported { .. })));
    }

    #[test]
    fn page_markers_in_exported_text_become_form_feeds() {
        let t = text_pages(" Referat\nlinje\n Side to\n  indrykket\n Side tre");
        assert_eq!(t, " Referat\nlinje\n\u{c} Side to\n  indrykket\n\u{c} Side tre");
        assert_eq!(text_pages("Ingen sider\n mere"), "Ingen sider\n mere");
    }

    #[test]
    fn agenda_html_becomes_items() {
        let html = r#"<html><body><h1>Dagsorden 8. oktober 2025</h1><table><tbody>
            <tr class="punktrow"><td><span class="label">3</span></td><td><button><h2>Vindmøller</h2></button>
            <div class="details"><span class="sagsnummer">EMN-2025-000001</span><div class="punkt"><h3>Resume</h3>
            <span class="resume"><div>Første&nbsp;linje</div><div>Anden linje</div></span></div>
            <ul><li><a class="bilag-link">Bilag 1: Notat</a></li></ul></div></td></tr></tbody></table>
            <script>var x = 1;</script></body></html>"#;
        let t = html_text(html);
        assert!(t.contains("Punkt 3: Vindmøller\nEMN-2025-000001\nResume\nFørste linje\nAnden linje"), "{t}");
        assert!(t.contains("Bilag\n- Bilag 1: Notat"), "{t}");
        assert!(!t.contains("var x"));
    }

    #[test]
    fn docx_paragraphs_and_tables_become_lines() {
        use docx_rs::{Docx, Paragraph, Run, Table, TableCell, TableRow};
        let mut bytes = std::io::Cursor::new(Vec::new());
        Docx::new()
            .add_paragraph(Paragraph::new().add_run(Run::new().add_text("Punkt 1: Godkendelse af dagsorden")))
            .add_paragraph(Paragraph::new().add_run(Run::new().add_text("Udvalget godkendte ")).add_run(Run::new().add_text("dagsordenen.")))
            .add_table(Table::new(vec![TableRow::new(vec![
                TableCell::new().add_paragraph(Paragraph::new().add_run(Run::new().add_text("Skolebyggeri"))),
                TableCell::new().add_paragraph(Paragraph::new().add_run(Run::new().add_text("12,5 mio. kr."))),
            ])]))
            .build()
            .pack(&mut bytes)
            .unwrap();
        let text = extract(Path::new("r.docx"), bytes.get_ref(), Format::Docx, &Limits::default()).unwrap().text;
        assert_eq!(text, "Punkt 1: Godkendelse af dagsorden\nUdvalget godkendte dagsordenen.\nSkolebyggeri\n12,5 mio. kr.\n");
        let err = extract(Path::new("r.docx"), b"PK not a zip", Format::Docx, &Limits::default()).unwrap_err().to_string();
        assert!(err.contains("r.docx") && err.contains("docx"), "{err}");
    }

    #[test]
    fn deep_html_is_measured_without_parsing_and_walked_without_recursion() {
        let deep = format!("<html><body>{}tekst{}</body></html>", "<div>".repeat(100_000), "</div>".repeat(100_000));
        assert_eq!(html_depth(&deep), 100_002);
        let err = extract(Path::new("d.html"), deep.as_bytes(), Format::Html, &Limits::default()).unwrap_err().to_string();
        assert!(err.contains("d.html") && err.contains("max_html_depth"), "{err}");
        // Within the limit, a deep page is still read (by the iterative walk).
        let limits = Limits { max_html_depth: 3000, ..Limits::default() };
        let html = format!("<html><body>{}dybt{}<script>{}</script></body></html>", "<div>".repeat(2500), "</div>".repeat(2500), "<div>".repeat(5000));
        assert_eq!(extract(Path::new("d.html"), html.as_bytes(), Format::Html, &limits).unwrap().text, "dybt");
        let page = "<!DOCTYPE html><html><head><meta charset=utf-8><!-- <div><div> --></head><body><p>a<br><img src=x/><p>b</body></html>";
        assert_eq!(html_depth(page), 4);
    }

    #[test]
    fn latin1_text_is_read() {
        let text = extract(Path::new("l.txt"), b"K\xf8benhavns Kommunes \xe6ldre\x96pleje", Format::Text, &Limits::default()).unwrap().text;
        assert_eq!(text, "Københavns Kommunes ældre–pleje");
    }

    #[test]
    fn a_docx_unpacking_beyond_the_limit_is_refused_without_unpacking_it() {
        use std::io::Write;
        let mut bytes = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut bytes);
            zip.start_file("word/document.xml", zip::write::SimpleFileOptions::default()).unwrap();
            let zeros = vec![b' '; 1 << 20];
            for _ in 0..64 {
                zip.write_all(&zeros).unwrap();
            }
            zip.finish().unwrap();
        }
        assert!(bytes.get_ref().len() < 1 << 20, "64 MiB of spaces deflate to {} bytes", bytes.get_ref().len());
        let limits = Limits { max_unpacked_bytes: 16 << 20, ..Limits::default() };
        let err = extract(Path::new("bomb.docx"), bytes.get_ref(), Format::Docx, &limits).unwrap_err().to_string();
        assert!(err.contains("bomb.docx") && err.contains("max_unpacked_mib"), "{err}");
    }

    #[test]
    fn plain_html_keeps_blocks_apart() {
        let t = html_text("<html><head><title>T</title></head><body><h2>Om</h2><p>a <b>b</b></p><p>c</p></body></html>");
        assert_eq!(t, "Om\na b\nc");
    }
}
