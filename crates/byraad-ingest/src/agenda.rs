//! The agenda system's own meeting JSON (FirstAgenda Publication, `GET /api/agenda/dagsorden/<id>`),
//! read natively: one document per meeting, one section per agenda item, rendered as Markdown
//! (the item a `##` heading, its Beslutning and case sections `###` headings, tables as rows).
//!
//! What a manifest entry gives, the meeting carries itself: its committee (the body), its date,
//! whether it is an agenda or minutes (a finished meeting), each item's case number. A closed
//! item ("Lukket: ...") is kept as what it is, a marked section, and never chunked.

use byraad_core::{Access, Document, DocumentMeta, Kind, Section, Span};
use chrono::NaiveDate;
use ego_tree::NodeRef;
use scraper::{Html, Node};
use serde::Deserialize;

use crate::extract::squash;
use crate::segment::MONTHS;
use crate::{Error, Result, SourceFile};

/// The file in which the agenda system lists its committees and their meetings: not a document.
pub const LISTING_FILE: &str = "udvalgsliste.json";

/// Where the system serves an attachment's PDF, below its base address.
pub const ATTACHMENT_PATH: &str = "/vis/pdf/bilag/";

/// One meeting as the system answers it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Meeting {
    /// The meeting's id.
    #[serde(default)]
    pub id: String,
    /// The committee.
    pub udvalg: Committee,
    /// When and where, and who took part.
    pub moede: MeetingInfo,
    /// The agenda items in order.
    pub dagsordenpunkter: Vec<Item>,
}

/// A committee (udvalg).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Committee {
    /// Its id.
    #[serde(default)]
    pub id: String,
    /// Its name.
    pub navn: String,
}

/// The meeting's facts.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MeetingInfo {
    /// Start, ISO 8601 with offset.
    pub dato: String,
    /// Place.
    #[serde(default)]
    pub sted: Option<String>,
    /// Held: its items carry decisions (minutes).
    #[serde(default)]
    pub afsluttet: bool,
    /// Participants.
    #[serde(default)]
    pub moededeltagere: Option<Vec<Participant>>,
}

/// A participant.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Participant {
    /// Name.
    pub name: String,
    /// Absent from the meeting.
    #[serde(default)]
    pub absent: bool,
}

/// An agenda item.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Item {
    /// Its number on the agenda.
    #[serde(default)]
    pub punktnummer: Option<String>,
    /// Its title; a closed item's begins "Lukket".
    #[serde(default)]
    pub navn: String,
    /// The case number.
    #[serde(default)]
    pub sags_nummer: Option<String>,
    /// Its text fields (HTML).
    #[serde(default)]
    pub felter: Vec<Field>,
    /// Its attachments.
    #[serde(default)]
    pub bilag: Option<Vec<Attachment>>,
}

/// A text field of an item.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Field {
    /// HTML.
    #[serde(default)]
    pub html: Option<String>,
    /// The item's PDF on the system, whose address gives the system's base.
    #[serde(default)]
    pub link: Option<String>,
}

/// An attachment of an item.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attachment {
    /// Its id: its PDF is at [`ATTACHMENT_PATH`]`<id>`.
    pub id: String,
    /// Its title.
    #[serde(default)]
    pub navn: String,
}

impl Meeting {
    /// The meeting in `bytes`, or why it is not one.
    pub fn parse(bytes: &[u8]) -> std::result::Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not a meeting of the agenda system (api/agenda/dagsorden/<id>.json): {e}"))
    }

    /// The meeting's date.
    pub fn date(&self) -> Option<NaiveDate> {
        self.moede.dato.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    }

    /// Minutes when the meeting was held, else an agenda.
    pub fn kind(&self) -> Kind {
        if self.moede.afsluttet { Kind::Referat } else { Kind::Dagsorden }
    }

    /// The system's base address, read from an item's own PDF link ("https://host").
    pub fn base(&self) -> Option<String> {
        let link = self.dagsordenpunkter.iter().flat_map(|i| &i.felter).find_map(|f| f.link.as_deref().filter(|l| l.starts_with("http")))?;
        let rest = link.split_once("://")?;
        let host = rest.1.split('/').next()?;
        Some(format!("{}://{host}", rest.0))
    }
}

impl Item {
    /// Whether the item is closed to the public.
    pub fn closed(&self) -> bool {
        self.navn.trim_start().to_lowercase().starts_with("lukket")
    }
}

/// "27. april 2023".
pub fn danish_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}. {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// Whether `rel` is the system's committee list (not a document).
pub fn is_listing(rel: &str) -> bool {
    rel.rsplit('/').next() == Some(LISTING_FILE)
}

/// Reads one meeting file into its document.
pub fn document(file: &SourceFile, bytes: &[u8]) -> Result<Document> {
    let err = |message: String| Error::Extract { path: file.path.clone(), message };
    let meeting = Meeting::parse(bytes).map_err(err)?;
    let date = meeting.date();
    let committee = meeting.udvalg.navn.trim().to_string();
    let when = date.map_or_else(|| meeting.moede.dato.clone(), danish_date);
    let title = format!("{committee}: møde {when}");
    let mut text = Renderer::default();
    text.line(&format!("# {title}"));
    let mut facts = vec![if meeting.kind() == Kind::Referat { "Referat".to_string() } else { "Dagsorden".to_string() }, committee.clone(), when.clone()];
    if let Some(time) = meeting.moede.dato.get(11..16).filter(|t| *t != "00:00") {
        facts.push(format!("kl. {}", time.replace(':', ".")));
    }
    if let Some(place) = meeting.moede.sted.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        facts.push(place.to_string());
    }
    text.line(&facts.join(" · "));
    let people = meeting.moede.moededeltagere.as_deref().unwrap_or_default();
    let present: Vec<&str> = people.iter().filter(|p| !p.absent).map(|p| p.name.trim()).collect();
    let absent: Vec<&str> = people.iter().filter(|p| p.absent).map(|p| p.name.trim()).collect();
    if !present.is_empty() {
        text.line(&format!("Deltagere: {}", present.join(", ")));
    }
    if !absent.is_empty() {
        text.line(&format!("Fraværende: {}", absent.join(", ")));
    }
    let base = meeting.base().unwrap_or_default();
    let mut sections = vec![Section { heading: vec![], item: None, case: None, span: Span::new(0, 0), closed: false }];
    for item in &meeting.dagsordenpunkter {
        let start = text.blank();
        if let Some(s) = sections.last_mut() {
            s.span.end = start;
        }
        let number = item.punktnummer.as_deref().map(str::trim).filter(|n| !n.is_empty());
        let name = squash(&item.navn);
        let heading = match number {
            Some(n) => format!("Punkt {n}: {name}"),
            None => name.clone(),
        };
        text.line(&format!("## {heading}"));
        let case = item.sags_nummer.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
        if let Some(c) = &case {
            text.line(&format!("Sag {c}"));
        }
        let closed = item.closed();
        if closed {
            text.line("Lukket punkt: behandlet for lukkede døre.");
        }
        for field in &item.felter {
            if let Some(html) = field.html.as_deref() {
                text.html(html);
            }
        }
        let attachments = item.bilag.as_deref().unwrap_or_default();
        if !attachments.is_empty() {
            text.blank();
            text.line("### Bilag");
            for a in attachments {
                text.line(&format!("- {}: {base}{ATTACHMENT_PATH}{}", squash(&a.navn), a.id.trim()));
            }
        }
        sections.push(Section { heading: vec![heading], item: number.map(str::to_string), case, span: Span::new(start, start), closed });
    }
    let end = text.out.len();
    if let Some(s) = sections.last_mut() {
        s.span.end = end;
    }
    let meta = DocumentMeta {
        doc_id: file.doc_id.clone(),
        source: file.rel.clone(),
        title,
        kind: meeting.kind(),
        body: committee,
        date,
        access: Access::Public,
        groups: Vec::new(),
    };
    Ok(Document { meta, text: text.out, page_breaks: Vec::new(), sections, ocr_pages: Vec::new() })
}

/// One line per block in a string; headings as Markdown `###`, table rows as cells joined by " | ",
/// list items as "- ".
#[derive(Default)]
struct Renderer {
    out: String,
}

impl Renderer {
    fn line(&mut self, s: &str) {
        let s = s.trim();
        if s.is_empty() {
            return;
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// Ends the text with a blank line; the offset after it.
    fn blank(&mut self) -> usize {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
        self.out.len()
    }

    fn html(&mut self, html: &str) {
        let frag = Html::parse_fragment(html);
        let mut lines: Vec<(bool, String)> = Vec::new();
        walk(frag.tree.root(), &mut lines);
        for (heading, l) in lines {
            let l = squash(&l);
            let l = l.trim_matches(|c: char| c == '|' || c.is_whitespace());
            if l.is_empty() || l == "-" {
                continue;
            }
            if heading {
                self.blank();
                self.line(&format!("### {l}"));
            } else {
                self.line(l);
            }
        }
    }
}

/// Elements whose boundaries are line breaks.
const BLOCKS: &[&str] = &[
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p", "pre",
    "section", "table", "tbody", "thead", "tr", "ul",
];

/// Walks the tree with its own stack (input depth never becomes recursion depth), collecting
/// (is heading, text) lines.
fn walk(root: NodeRef<'_, Node>, lines: &mut Vec<(bool, String)>) {
    enum Step<'a> {
        Enter(NodeRef<'a, Node>),
        Leave,
    }
    let mut current = (false, String::new());
    let mut stack = vec![Step::Enter(root)];
    let flush = |current: &mut (bool, String), lines: &mut Vec<(bool, String)>| {
        if !current.1.trim().is_empty() {
            lines.push(std::mem::take(current));
        }
        *current = (false, String::new());
    };
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::Leave => {
                flush(&mut current, lines);
                continue;
            }
            Step::Enter(node) => node,
        };
        match node.value() {
            Node::Text(t) => current.1.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if matches!(name, "script" | "style" | "template") {
                    continue;
                }
                if matches!(name, "td" | "th") {
                    current.1.push_str(" | ");
                }
                if BLOCKS.contains(&name) {
                    flush(&mut current, lines);
                    current.0 = matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
                    if name == "li" {
                        current.1.push_str("- ");
                    }
                    stack.push(Step::Leave);
                }
                stack.extend(node.children().collect::<Vec<_>>().into_iter().rev().map(Step::Enter));
            }
            Node::Document | Node::Fragment => stack.extend(node.children().collect::<Vec<_>>().into_iter().rev().map(Step::Enter)),
            _ => {}
        }
    }
    flush(&mut current, lines);
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn meeting(afsluttet: bool) -> String {
        serde_json::json!({
            "Id": "m1",
            "Udvalg": {"Id": "u1", "Navn": "Økonomiudvalget"},
            "Moede": {"Dato": "2023-11-16T16:15:00+01:00", "Sted": "Biblioteket", "Afsluttet": afsluttet,
                      "Moededeltagere": [{"Name": "Pernille Beckmann", "Absent": false}, {"Name": "Bjarke Abel", "Absent": true}]},
            "Dagsordenpunkter": [
                {"Punktnummer": "1", "Navn": "Energibesparelser", "SagsNummer": "22-011409",
                 "Felter": [{"Html": "<div><h3>Beslutning</h3><span>Anbefales.<br><br>Fraværende: Bjarke Abel</span><h3>Fremstilling</h3><h4><strong>Resume</strong></h4><p>Der skal træffes\nbeslutning.</p><ol><li><em>at temperaturen sænkes</em></li></ol><table><tr><th>År</th><th>2022</th></tr><tr><td>Udgift</td><td>34,5 mio. kr.</td></tr></table></div>",
                             "Link": "https://dagsordener.greve.dk/Vis/Pdf/bilag/abc"}],
                 "Bilag": [{"Id": "b1", "Navn": "Bilag 1. Energipriser 2023"}]},
                {"Punktnummer": "2", "Navn": "Lukket: Køb af grund", "SagsNummer": "23-000001",
                 "Felter": [{"Html": "<p>Beslutning ikke frigivet</p>"}]}
            ]
        })
        .to_string()
    }

    #[test]
    fn a_meeting_becomes_one_document_with_an_item_section_each() {
        let file = SourceFile { rel: "api/agenda/dagsorden/m1.json".into(), path: PathBuf::from("m1.json"), doc_id: "api.agenda.dagsorden.m1".into() };
        let doc = document(&file, meeting(true).as_bytes()).unwrap();
        assert_eq!(doc.meta.title, "Økonomiudvalget: møde 16. november 2023");
        assert_eq!(doc.meta.kind, Kind::Referat);
        assert_eq!(doc.meta.body, "Økonomiudvalget");
        assert_eq!(doc.meta.date, NaiveDate::from_ymd_opt(2023, 11, 16));
        assert_eq!(doc.sections.len(), 3);
        let item = &doc.sections[1];
        assert_eq!((item.item.as_deref(), item.case.as_deref(), item.heading.as_slice()), (Some("1"), Some("22-011409"), &["Punkt 1: Energibesparelser".to_string()][..]));
        let body = &doc.text[item.span.start..item.span.end];
        for expected in ["## Punkt 1: Energibesparelser\nSag 22-011409\n", "### Beslutning\nAnbefales.\nFraværende: Bjarke Abel", "### Resume\nDer skal træffes beslutning.", "- at temperaturen sænkes", "År | 2022\nUdgift | 34,5 mio. kr.", "### Bilag\n- Bilag 1. Energipriser 2023: https://dagsordener.greve.dk/vis/pdf/bilag/b1"] {
            assert!(body.contains(expected), "{expected:?} not in {body}");
        }
        assert!(doc.text.contains("Referat · Økonomiudvalget · 16. november 2023 · kl. 16.15 · Biblioteket\nDeltagere: Pernille Beckmann\nFraværende: Bjarke Abel"), "{}", doc.text);
        let closed = &doc.sections[2];
        assert!(closed.closed && !item.closed && !doc.sections[0].closed);
        assert!(doc.text[closed.span.start..closed.span.end].starts_with("## Punkt 2: Lukket: Køb af grund\nSag 23-000001\nLukket punkt"));
        // The sections tile the text.
        assert_eq!(doc.sections[0].span.start, 0);
        assert_eq!(doc.sections.last().unwrap().span.end, doc.text.len());
        assert!(doc.sections.windows(2).all(|w| w[0].span.end == w[1].span.start));
        let agenda = document(&file, meeting(false).as_bytes()).unwrap();
        assert_eq!(agenda.meta.kind, Kind::Dagsorden);
    }

    #[test]
    fn what_is_not_a_meeting_is_refused_with_its_reason() {
        let file = SourceFile { rel: "x.json".into(), path: PathBuf::from("x.json"), doc_id: "x".into() };
        let e = document(&file, br#"{"Udvalg": {"Aktuelle politiske udvalg": []}}"#).unwrap_err().to_string();
        assert!(e.contains("not a meeting of the agenda system"), "{e}");
        assert!(is_listing("api/agenda/udvalgsliste.json") && !is_listing("api/agenda/dagsorden/x.json"));
    }
}
