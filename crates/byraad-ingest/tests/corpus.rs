//! Segmentation of every file of the bundled corpus: items, titles, case numbers, pages.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use byraad_core::Document;
use byraad_ingest::Corpus;

fn corpus() -> Corpus {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
    Corpus::open(&root).expect("the bundled corpus opens")
}

fn parse(rel: &str) -> Vec<Document> {
    let corpus = corpus();
    let file = corpus.files().iter().find(|f| f.rel == rel).unwrap_or_else(|| panic!("{rel} is in the corpus"));
    corpus.parse(file, &file.read().unwrap()).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn items(doc: &Document) -> Vec<String> {
    let mut out: Vec<String> = doc.sections.iter().filter_map(|s| s.item.clone()).collect();
    out.dedup();
    out
}

#[test]
fn every_file_parses_and_the_readme_is_excluded() {
    let corpus = corpus();
    assert_eq!(corpus.files().len(), 15);
    assert!(corpus.files().iter().all(|f| f.rel != "README.md"));
    assert!(corpus.manifest().missing(corpus.root()).is_empty());
    for file in corpus.files() {
        let docs = corpus.parse(file, &file.read().unwrap()).unwrap_or_else(|e| panic!("{}: {e}", file.rel));
        for d in &docs {
            assert!(!d.sections.is_empty(), "{} has sections", d.meta.doc_id);
            assert_eq!(d.sections.first().unwrap().span.start, 0);
            assert_eq!(d.sections.last().unwrap().span.end, d.text.len(), "{} sections tile the text", d.meta.doc_id);
            assert!(d.sections.windows(2).all(|w| w[0].span.end == w[1].span.start));
        }
    }
}

#[test]
fn council_minutes_pdf_has_its_21_items_with_case_numbers_and_pages() {
    let docs = parse("aarhus-2025/referat-aarhus-byraad-2025-08-27.pdf");
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(items(d), (1..=21).map(|n| n.to_string()).collect::<Vec<_>>());
    assert_eq!(d.page_breaks.len() + 1, 28, "28 pages");
    let item2 = d.sections.iter().find(|s| s.item.as_deref() == Some("2")).unwrap();
    assert_eq!(item2.case.as_deref(), Some("EMN-2025-003383"));
    assert!(item2.heading[0].starts_with("Punkt 2: Svar på forslag fra DD om principbeslutning"));
    assert!(item2.heading[0].ends_with("Aarhus Ø"), "wrapped title joined: {}", item2.heading[0]);
    assert_eq!(d.page_at(item2.span.start), Some(4));
    let closed = d.sections.iter().find(|s| s.item.as_deref() == Some("21")).unwrap();
    assert!(closed.heading[0].contains("Lukket: Køb af landbrugsejendom"));
    assert!(d.text.contains("æ") && d.text.contains("ø") && d.text.contains("å"));
}

#[test]
fn agenda_html_items() {
    let d = &parse("aarhus-2025/dagsorden-aarhus-byraad-2025-10-08.html")[0];
    let items = items(d);
    assert_eq!(items.first().map(String::as_str), Some("1"));
    assert_eq!(items.len(), 33, "{items:?}");
    let wind = d.sections.iter().find(|s| s.heading.iter().any(|h| h.contains("vindmøller på Aarhus Havn"))).unwrap();
    assert!(wind.case.is_some());
    assert!(!d.text.contains("<div"), "markup is gone");
    assert!(d.text.contains("Tilskud til robotstøvsugere til økonomisk trængte ældre"));
}

#[test]
fn committee_minutes_html_items_and_votes() {
    let d = &parse("aarhus-2025/referat-teknisk-udvalg-2025-10-01.html")[0];
    assert_eq!(items(d), vec!["1", "2", "3", "4", "5", "6"]);
    assert!(d.text.contains("Solveig Munk kunne ikke tiltræde indstillingen."));
}

#[test]
fn report_appendix_chapters_and_slides() {
    let docs = parse("seeds/002_82b52f0f6504f13f.txt");
    assert_eq!(docs.len(), 1, "a report is not split into meetings");
    let d = &docs[0];
    let chapters: Vec<_> = items(d);
    assert_eq!(chapters.len(), 19, "{chapters:?}");
    assert_eq!(chapters[0], "B1.1");
    assert_eq!(chapters.last().map(String::as_str), Some("B4.3"));
    assert!(d.sections.last().unwrap().heading[0].contains("slides"));
    assert!(d.page_breaks.len() > 250, "pages from the page markers");
}

#[test]
fn concatenated_meetings_are_split() {
    let docs = parse("seeds/001_dc32ad192e6a4d4f.txt");
    assert!(docs.len() >= 3, "{}", docs.len());
    assert!(docs.iter().all(|d| d.meta.doc_id.starts_with("seeds.001_dc32ad192e6a4d4f.m")));
    let agenda = docs.iter().find(|d| d.meta.date == chrono::NaiveDate::from_ymd_opt(2023, 11, 15)).unwrap();
    let items = items(agenda);
    assert_eq!(&items[..3], ["1", "2", "3"], "numbered items, not the short list: {items:?}");
    let docs = parse("seeds/003_89d6759b688a015c.txt");
    assert!(docs.len() >= 3);
    assert!(docs.iter().any(|d| d.meta.date == chrono::NaiveDate::from_ymd_opt(2022, 12, 7)));
}

#[test]
fn ocr_minutes_keep_their_numbered_items() {
    let d = &parse("seeds/000_39444bbc0d720d2d.txt")[0];
    let items = items(d);
    assert_eq!(&items[..3], ["1", "2", "3"], "{items:?}");
    assert!(d.text.contains("Aarhus Radhus, lokale 398"), "OCR text is kept as it is");
}

#[test]
fn law_paragraphs_and_stk() {
    let d = &parse("love/kommunestyrelsesloven-lbk-2026-13.md")[0];
    let items = items(d);
    assert!(items.contains(&"§ 1".to_string()));
    assert!(items.contains(&"§ 20, stk. 6".to_string()) || items.iter().any(|i| i.starts_with("§ 20, stk.")), "{items:?}");
    assert!(items.contains(&"§ 71".to_string()) || items.iter().any(|i| i.starts_with("§ 71")));
    let s2 = d.sections.iter().find(|s| s.item.as_deref() == Some("§ 2, stk. 2")).unwrap();
    assert!(d.text[s2.span.start..s2.span.end].starts_with("Stk. 2. De nærmere regler"));
    assert_eq!(s2.heading, vec!["Kapitel I", "§ 2", "Stk. 2"]);
}

#[test]
fn citizens_letter_and_case_list_have_pages() {
    let d = &parse("aarhus-2025/henvendelse-havnens-perle-2025-08-26.pdf")[0];
    assert_eq!(d.page_breaks.len() + 1, 4);
    assert!(d.text.contains("Martin Busk fra Bricks"));
    let d = &parse("aarhus-2025/sager-paa-vej-sundhed-og-omsorg-2025-08-29.pdf")[0];
    assert!(d.text.contains("lokalplejehjem"));
}
