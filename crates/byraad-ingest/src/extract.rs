//! Turns a file of a supported format into raw text: lines separated by `\n`, pages by `\f`.

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
            _ => return Err(Error::Unsupported { path: path.to_path_buf(), extension: ext }),
        })
    }
}

/// Extracts the raw text of `bytes`, read from `path`, in `format`.
pub fn extract(path: &Path, bytes: &[u8], format: Format) -> Result<String> {
    let err = |message: String| Error::Extract { path: path.to_path_buf(), message };
    let utf8 = || std::str::from_utf8(bytes).map_err(|e| err(format!("not UTF-8: {e}")));
    let text = match format {
        Format::Text => text_pages(utf8()?),
        Format::Markdown => utf8()?.to_string(),
        Format::Html => html_text(utf8()?),
        Format::Pdf => pdf_text(path).map_err(err)?,
        Format::Docx => docx_text(bytes).map_err(err)?,
    };
    if text.trim().is_empty() {
        return Err(err("no text found (a scanned PDF without a text layer?)".into()));
    }
    Ok(text)
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

fn pdf_text(path: &Path) -> std::result::Result<String, String> {
    let output = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-eol", "unix"])
        .arg(path)
        .arg("-")
        .output()
        .map_err(|e| format!("cannot run pdftotext (install poppler-utils): {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("pdftotext failed: {}", stderr.trim()));
    }
    let text = String::from_utf8(output.stdout).map_err(|e| format!("pdftotext wrote invalid UTF-8: {e}"))?;
    // pdftotext ends every page with a form feed; the last one starts no page.
    Ok(text.trim_end_matches(['\u{c}', '\n']).to_string())
}

fn docx_text(bytes: &[u8]) -> std::result::Result<String, String> {
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

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of an element, with a line break at each block boundary.
fn block_text(el: ElementRef<'_>) -> String {
    fn walk(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
        match node.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if SKIPPED.contains(&name) {
                    return;
                }
                let block = BLOCKS.contains(&name);
                if block && !out.ends_with('\n') {
                    out.push('\n');
                }
                for child in node.children() {
                    walk(child, out);
                }
                if block && !out.ends_with('\n') {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
    let mut out = String::new();
    walk(*el, &mut out);
    // Source formatting inside blocks is not text: keep one line per block.
    out.split('\n').map(squash).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
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
        let text = extract(Path::new("r.docx"), bytes.get_ref(), Format::Docx).unwrap();
        assert_eq!(text, "Punkt 1: Godkendelse af dagsorden\nUdvalget godkendte dagsordenen.\nSkolebyggeri\n12,5 mio. kr.\n");
        let err = extract(Path::new("r.docx"), b"PK not a zip", Format::Docx).unwrap_err().to_string();
        assert!(err.contains("r.docx") && err.contains("docx"), "{err}");
    }

    #[test]
    fn plain_html_keeps_blocks_apart() {
        let t = html_text("<html><head><title>T</title></head><body><h2>Om</h2><p>a <b>b</b></p><p>c</p></body></html>");
        assert_eq!(t, "Om\na b\nc");
    }
}
