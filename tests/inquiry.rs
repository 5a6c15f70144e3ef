//! Drafting 10-dages forespørgsler over the bundled corpus plus two published-form answers to
//! earlier forespørgsler (tests/fixtures/forespoergsler): the addressee from the archive, the
//! deadline, numbered questions, what the archive already says, warnings, Markdown and Word.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;
use std::sync::OnceLock;

use common::{Server, stderr, stdout};
use serde_json::{Value, json};

/// The bundled corpus with the fixtures under `forespoergsler/`, ingested.
fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(common::ingested_with_inquiries()))
}

fn draft(body: Value) -> (u16, Value) {
    server().post("/v1/inquiries/draft", &body)
}

/// Every related passage is exactly the document's text at its span.
fn assert_related_exact(v: &Value) {
    for r in v["related"].as_array().unwrap() {
        let (_, doc) = server().get(&format!("/v1/documents/{}", r["doc_id"].as_str().unwrap()));
        let (s, e) = (r["span"]["start"].as_u64().unwrap() as usize, r["span"]["end"].as_u64().unwrap() as usize);
        assert_eq!(&doc["text"].as_str().unwrap()[s..e], r["quote"].as_str().unwrap(), "{r}");
    }
}

#[test]
fn a_draft_goes_to_the_right_department_with_what_the_archive_already_says() {
    let (status, v) = draft(json!({
        "member": "Anna Hansen", "party": "SF", "date": "2025-12-19",
        "text": "Ejeren af Havnens Perle har skrevet til byrådet. Hvor mange gange er Havnens Perle blevet flyttet rundt på havnen, og hvornår får den en permanent placering?"
    }));
    assert_eq!(status, 200, "{v}");
    let d = &v["draft"];
    assert_eq!(d["til"], "Rådmanden for Teknik og Miljø (Magistratsafdelingen for Teknik og Miljø)", "{v}");
    assert_eq!(v["addressee"]["code"], "MTM");
    assert!(v["addressee"]["reason"].as_str().unwrap().contains("hører under Teknik og Miljø"), "{v}");
    assert_eq!(d["fra"], "Anna Hansen, SF");
    assert_eq!((d["dato"].as_str(), d["svarfrist"].as_str()), (Some("2025-12-19"), Some("2025-12-29")), "10 calendar days by default");
    assert_eq!(d["spørgsmål"], json!(["1. Hvor mange gange er Havnens Perle blevet flyttet rundt på havnen?", "2. Hvornår får den en permanent placering?"]));
    assert!(d["baggrund"].as_str().unwrap().starts_with("Ejeren af Havnens Perle har skrevet til byrådet. Anna Hansen (SF) beder om svar"), "{d}");
    // What the archive says comes first: an answer to question 1, and the earlier forespørgsel.
    let related = v["related"].as_array().unwrap();
    assert!(related.iter().any(|r| r["why"] == "Kan allerede besvare spørgsmål 1" && ["5 gange", "fem gange"].iter().any(|n| r["quote"].as_str().unwrap().contains(n))), "{v}");
    assert!(related.iter().any(|r| r["title"] == "Besvarelse af 10-dages forespørgsel fra SF af 3. september 2025"), "the earlier forespørgsel is found: {v}");
    assert_related_exact(&v);
    let markdown = v["markdown"].as_str().unwrap();
    assert!(markdown.contains("**Svarfrist:** 2025-12-29") && markdown.contains("## Spørgsmål\n\n1. Hvor mange gange"), "{markdown}");

    // The Word document has the formal layout.
    let url = server().url(v["docx_url"].as_str().unwrap());
    let r = common::http().get(url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    let bytes = r.bytes().unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
    for text in ["10-dages forespørgsel", "Svarfrist: ", "2025-12-29", "Baggrund", "1. Hvor mange gange er Havnens Perle blevet flyttet rundt på havnen?", "Kilder i arkivet"] {
        assert!(xml.contains(text), "{text:?} in the Word document");
    }
    let (status, _) = server().get("/v1/inquiries/drafts/ffffffffffffffffffffffff.docx");
    assert_eq!(status, 404);
}

#[test]
fn a_question_asked_before_is_flagged_with_its_answer() {
    let (status, v) = draft(json!({"member": "Anna Hansen", "party": "SF", "date": "2025-12-19",
        "text": "Hvor mange gange er Havnens Perle blevet flyttet, siden den kom til havnen?"}));
    assert_eq!(status, 200, "{v}");
    let duplicate = v["warnings"].as_array().unwrap().iter().find(|w| w["code"] == "duplicate").unwrap_or_else(|| panic!("no duplicate warning: {v}"));
    let message = duplicate["message"].as_str().unwrap();
    assert!(message.starts_with("Spørgsmål 1 ligner et spørgsmål i en tidligere forespørgsel (Besvarelse af 10-dages forespørgsel fra SF af 3. september 2025, besvaret 2025-09-15)"), "{message}");
    assert!(message.contains("Svaret var: »Teknik og Miljø har ikke et samlet overblik"), "the earlier answer is quoted: {message}");
    // A question nobody asked before is not flagged.
    let (_, v) = draft(json!({"member": "Anna Hansen", "party": "SF", "date": "2025-12-19",
        "text": "Hvor mange elever forventes at gå på Ravnbakkeskolen, når den åbner?"}));
    assert!(!v["warnings"].as_array().unwrap().iter().any(|w| w["code"] == "duplicate"), "{v}");
}

#[test]
fn questions_the_archive_answers_say_so() {
    let (status, v) = draft(json!({"member": "Ole Olsen", "party": "Venstre", "date": "2025-11-03",
        "text": "Jeg vil gerne vide, hvad det vil koste at indføre medlemssekretærer for byrådsmedlemmerne efter københavnsk forbillede."}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["draft"]["spørgsmål"], json!(["1. Kan borgmesteren oplyse, hvad det vil koste at indføre medlemssekretærer for byrådsmedlemmerne efter københavnsk forbillede?"]));
    assert_eq!(v["warnings"][0]["code"], "already_answered", "{v}");
    assert!(v["related"].as_array().unwrap().iter().any(|r| r["title"] == "Besvarelse af 10-dages forespørgsel fra Venstre af 6. oktober 2025"), "{v}");
    assert_related_exact(&v);
}

#[test]
fn the_member_may_choose_the_addressee_and_is_warned_about_personal_data() {
    let (status, v) = draft(json!({"member": "Anna Hansen", "party": "SF", "date": "2026-03-30", "addressee": "mso",
        "text": "Hvorfor har borgeren Hans Hansen, CPR 010190-1234, ikke fået en plejebolig?"}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["draft"]["til"], "Rådmanden for Sundhed og Omsorg (Magistratsafdelingen for Sundhed og Omsorg)");
    assert_eq!(v["addressee"]["reason"], "Valgt af medlemmet.");
    let codes: Vec<&str> = v["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"personal_data") && codes.contains(&"individual_case"), "{codes:?}");
    assert!(v["warnings"].as_array().unwrap().iter().all(|w| !w["message"].as_str().unwrap().is_empty()));
}

#[test]
fn bad_draft_requests_are_named() {
    for (body, field) in [
        (json!({"party": "SF", "text": "Hvad koster broen?"}), "member"),
        (json!({"member": "A", "party": "SF", "text": "  "}), "text"),
        (json!({"member": "A", "party": "SF", "text": "Hvad koster broen?", "date": "19-12-2025"}), "date"),
        (json!({"member": "A", "party": "SF", "text": "Hvad koster broen?", "cc": "x"}), "cc"),
    ] {
        let (status, v) = draft(body);
        assert_eq!(status, 400, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(field), "{field}: {v}");
    }
}

#[test]
fn the_cli_writes_markdown_and_word_and_counts_working_days_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let docx = dir.path().join("udkast.docx");
    let out = std::process::Command::new(common::BIN)
        .args(["draft-inquiry", "--member", "Anna Hansen", "--party", "SF", "--date", "2025-12-19", "--docx"])
        .arg(&docx)
        .arg("Hvornår kommer den endelige rapport om lukningen af Vesterbro Torv for biler?")
        .arg("--data")
        .arg(server().data())
        .env(common::LEXICAL.0, common::LEXICAL.1)
        .env("BYRAAD__INQUIRY__DEADLINE_COUNT", "working")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let markdown = stdout(&out);
    // 22, 23, 29, 30 December, 2, 5, 6, 7, 8, 9 January: Christmas and New Year closed.
    assert!(markdown.contains("**Svarfrist:** 2026-01-09"), "{markdown}");
    assert!(markdown.contains("**Til:** Rådmanden for Teknik og Miljø"), "{markdown}");
    assert!(std::fs::read(&docx).unwrap().starts_with(b"PK"), "a Word document (a zip)");
    let bad = std::process::Command::new(common::BIN).args(["draft-inquiry", "--member", "A", "--party", "SF", "--date", "i går", "x", "--data"]).arg(server().data()).env(common::LEXICAL.0, common::LEXICAL.1).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--date"), "{}", stderr(&bad));
}

/// Two full drafts, reviewed like code.
#[test]
fn draft_snapshots() {
    for (name, text) in [
        ("draft_havnens_perle", "Hvor mange gange er Havnens Perle blevet flyttet rundt på havnen, og hvornår får den en permanent placering?"),
        ("draft_medlemssekretaerer", "Jeg vil gerne vide, hvad det vil koste at indføre medlemssekretærer for byrådsmedlemmerne efter københavnsk forbillede."),
    ] {
        let (status, v) = draft(json!({"member": "Anna Hansen", "party": "SF", "date": "2025-12-19", "text": text}));
        assert_eq!(status, 200, "{v}");
        insta::assert_snapshot!(name, v["markdown"].as_str().unwrap());
    }
}

/// A forespørgsel may be as long as the stated 5,000 characters (its search uses its beginning);
/// one character more is refused naming the field.
#[test]
fn a_long_forespoergsel_is_drafted_up_to_five_thousand_characters() {
    let background = "Borgerne på Aarhus Ø har i flere år klaget over støj og trafik omkring havnen, og sagen har været drøftet i udvalget flere gange. ";
    let question = "Hvor mange gange er Havnens Perle blevet flyttet rundt på havnen?";
    let mut text = background.repeat(40);
    let room = 5_000 - question.chars().count();
    text = text.chars().take(room).collect::<String>().trim_end().to_string() + " " + question;
    text = text.chars().skip(text.chars().count().saturating_sub(5_000)).collect();
    assert!((4_900..=5_000).contains(&text.chars().count()), "{}", text.chars().count());
    let (status, v) = draft(json!({"member": "Anna Hansen", "party": "SF", "date": "2025-12-19", "text": text}));
    assert_eq!(status, 200, "{v}");
    assert!(v["draft"]["spørgsmål"].as_array().unwrap().iter().any(|q| q.as_str().unwrap().contains("Havnens Perle blevet flyttet")), "{v}");
    let too_long = "a".repeat(5_001);
    let (status, v) = draft(json!({"member": "Anna Hansen", "party": "SF", "text": too_long}));
    assert_eq!(status, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("text") && v["error"]["message"].as_str().unwrap().contains("5000"), "{v}");
}
