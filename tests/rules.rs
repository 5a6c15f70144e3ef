//! Rules look-up over the bundled kommunestyrelsesloven: references of every written form name
//! exactly their provision first; topic questions find the provisions that govern them. The
//! figures are printed (`cargo test --release --test rules -- --nocapture`).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;

use common::Server;
use serde_json::Value;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(common::ingested()))
}

/// `/v1/rules/lookup?k=v&...`, values percent-encoded.
fn url(params: &[(&str, &str)]) -> String {
    let encode = |v: &str| v.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect::<String>();
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    server().url(&format!("/v1/rules/lookup?{}", query.join("&")))
}

fn lookup(q: &str, limit: usize) -> Vec<Value> {
    let r = common::http().get(url(&[("q", q), ("limit", &limit.to_string())])).send().unwrap();
    assert_eq!(r.status().as_u16(), 200, "{q}");
    let v: Value = r.json().unwrap();
    v["results"].as_array().unwrap().clone()
}

/// (query, the citation that must come first).
const REFERENCES: &[(&str, &str)] = &[
    ("§ 20, stk. 6", "kommunestyrelsesloven § 20, stk. 6"),
    ("§20 stk 6", "kommunestyrelsesloven § 20, stk. 6"),
    ("§ 20 stk. 6", "kommunestyrelsesloven § 20, stk. 6"),
    ("kommunestyrelseslovens § 11", "kommunestyrelsesloven § 11"),
    ("kommunestyrelsesloven § 64", "kommunestyrelsesloven § 64"),
    ("KL § 9", "kommunestyrelsesloven § 9"),
    ("KL § 20, stk. 3", "kommunestyrelsesloven § 20, stk. 3"),
    ("ksl § 17", "kommunestyrelsesloven § 17"),
    ("§ 8, stk. 4", "kommunestyrelsesloven § 8, stk. 4"),
    ("§ 8 stk. 5", "kommunestyrelsesloven § 8, stk. 5"),
    ("§ 10 a", "kommunestyrelsesloven § 10 a"),
    ("§10a", "kommunestyrelsesloven § 10 a"),
    ("§ 64 a", "kommunestyrelsesloven § 64 a"),
    ("§ 14 stk. 3", "kommunestyrelsesloven § 14, stk. 3"),
    ("§ 16, stk. 4", "kommunestyrelsesloven § 16, stk. 4"),
    ("§ 13 stk 2", "kommunestyrelsesloven § 13, stk. 2"),
    ("§ 6, stk. 2", "kommunestyrelsesloven § 6, stk. 2"),
    ("§ 1", "kommunestyrelsesloven § 1"),
    ("§ 15", "kommunestyrelsesloven § 15"),
    ("Hvad står der i § 48?", "kommunestyrelsesloven § 48"),
    ("jf. § 2, stk. 2", "kommunestyrelsesloven § 2, stk. 2"),
];

/// (topic question, the paragraph or provision that governs it).
const TOPICS: &[(&str, &str)] = &[
    ("habilitet", "§ 14"),
    ("hvornår skal dagsordenen sendes ud", "§ 8, stk. 4"),
    ("må jeg se sagsmateriale fra et udvalg jeg ikke sidder i", "§ 20, stk. 6"),
    ("hvornår er kommunalbestyrelsen beslutningsdygtig", "§ 11, stk. 2"),
    ("kan en sag behandles for lukkede døre", "§ 10"),
    ("kan et medlem få sin afvigende mening ført til protokols", "§ 13, stk. 2"),
    ("vederlag til medlemmer af kommunalbestyrelsen", "§ 16"),
    ("ret til at gennemse sagsmateriale i administrationen", "§ 9"),
    ("hvornår holdes det konstituerende møde", "§ 6"),
    ("kan et medlem indbringe et spørgsmål for byrådet", "§ 11"),
    ("kan et møde holdes som videomøde", "§ 10 a"),
    ("stedfortræder når et medlem er syg", "§ 15"),
];

/// Whether `result` is the provision `want` ("§ 14" matches any of its stk.).
fn is(result: &Value, want: &str) -> bool {
    let citation = result["citation"].as_str().unwrap();
    let provision = citation.trim_start_matches("kommunestyrelsesloven ");
    provision == want || (!want.contains("stk.") && provision.starts_with(&format!("{want}, stk.")))
}

#[test]
fn references_name_exactly_their_provision_first() {
    let mut exact = 0;
    for (q, want) in REFERENCES {
        let results = lookup(q, 5);
        let first = results.first().unwrap_or_else(|| panic!("{q}: nothing"));
        if first["citation"] == *want {
            exact += 1;
        } else {
            eprintln!("{q}: {} (want {want})", first["citation"]);
        }
        // The text is the document's at the span.
        let (_, doc) = server().get(&format!("/v1/documents/{}", first["doc_id"].as_str().unwrap()));
        let (s, e) = (first["span"]["start"].as_u64().unwrap() as usize, first["span"]["end"].as_u64().unwrap() as usize);
        assert_eq!(&doc["text"].as_str().unwrap()[s..e], first["text"].as_str().unwrap(), "{q}");
        assert!(first["title"].as_str().unwrap().contains("LBK nr. 13 af 5. januar 2026"), "{first}");
    }
    println!("rules look-up, references: {exact}/{} exactly first", REFERENCES.len());
    assert_eq!(exact, REFERENCES.len(), "every reference names its provision first");
    // A whole paragraph holds its stk.; stk. 1 is the paragraph's own text.
    let p11 = &lookup("§ 11", 1)[0];
    assert_eq!(p11["stk"], Value::Null);
    assert!(p11["text"].as_str().unwrap().starts_with("§ 11.") && p11["text"].as_str().unwrap().contains("Stk. 2."), "{p11}");
    let stk1 = &lookup("§ 11, stk. 1", 1)[0];
    assert_eq!(stk1["stk"], 1);
    assert!(!stk1["text"].as_str().unwrap().contains("Stk. 2."), "{stk1}");
    // A numbered item of a stk. is addressable.
    let nr = &lookup("§ 65 d, stk. 2, nr. 2", 1)[0];
    assert_eq!(nr["citation"], "kommunestyrelsesloven § 65 d, stk. 2, nr. 2", "{nr}");
    assert!(nr["text"].as_str().unwrap().starts_with("2) ") && !nr["text"].as_str().unwrap().contains(" 3) "), "{nr}");
    let (_, doc) = server().get(&format!("/v1/documents/{}", nr["doc_id"].as_str().unwrap()));
    let (s, e) = (nr["span"]["start"].as_u64().unwrap() as usize, nr["span"]["end"].as_u64().unwrap() as usize);
    assert_eq!(&doc["text"].as_str().unwrap()[s..e], nr["text"].as_str().unwrap());
    // A reference naming another of the five texts keeps to it, by name, genitive or short name.
    for (q, want) in [
        ("forvaltningslovens § 3", "forvaltningsloven § 3"),
        ("FVL § 3, stk. 2", "forvaltningsloven § 3, stk. 2"),
        ("offentlighedslovens § 24", "offentlighedsloven § 24"),
        ("§ 8 efter forvaltningsloven", "forvaltningsloven § 8"),
        ("vederlagsbekendtgørelsens § 14, stk. 4", "vederlagsbekendtgørelsen § 14, stk. 4"),
        ("valglovens § 8, stk. 4", "kommunal- og regionalvalgloven § 8, stk. 4"),
    ] {
        let results = lookup(q, 5);
        assert!(!results.is_empty(), "{q}: nothing");
        assert_eq!(results[0]["citation"], want, "{q}");
        assert!(results.iter().all(|r| r["citation"].as_str().unwrap().starts_with(want.split(" §").next().unwrap())), "{q}: only that text: {results:?}");
    }
    // law= takes each text's short names; a text the corpus lacks is a 400 listing those there are.
    let (status, body) = server().get("/v1/rules/lookup?q=%C2%A7%203&law=fvl&limit=1");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["citation"], "forvaltningsloven § 3", "{body}");
    let (status, body) = server().get("/v1/rules/lookup?q=%C2%A7%203&law=retsplejeloven");
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("offentlighedsloven"), "{body}");
}

#[test]
fn topics_find_the_provisions_that_govern_them() {
    let (mut first, mut top3) = (0, 0);
    for (q, want) in TOPICS {
        let results = lookup(q, 3);
        let rank = results.iter().position(|r| is(r, want));
        first += usize::from(rank == Some(0));
        top3 += usize::from(rank.is_some());
        if rank != Some(0) {
            eprintln!("{q}: {:?} (want {want})", results.iter().map(|r| r["citation"].as_str().unwrap()).collect::<Vec<_>>());
        }
    }
    println!("rules look-up, topics: {first}/{n} first, {top3}/{n} in the top 3", n = TOPICS.len());
    assert!(top3 * 4 >= TOPICS.len() * 3, "at least three in four topics find their provision in the top 3 ({top3}/{})", TOPICS.len());
}

#[test]
fn a_provision_comes_with_the_stk_that_complete_it() {
    // § 14, stk. 3 applies "jf. stk. 1": it completes stk. 1.
    let p = &lookup("§ 14, stk. 1", 1)[0];
    assert_eq!(p["lead"], "Reglen står i kommunestyrelseslovens § 14.");
    let completed: Vec<&str> = p["completed_by"].as_array().unwrap().iter().map(|c| c["citation"].as_str().unwrap()).collect();
    assert!(completed.contains(&"kommunestyrelsesloven § 14, stk. 3"), "{p}");
    for c in p["completed_by"].as_array().unwrap() {
        let (_, doc) = server().get(&format!("/v1/documents/{}", p["doc_id"].as_str().unwrap()));
        let (s, e) = (c["span"]["start"].as_u64().unwrap() as usize, c["span"]["end"].as_u64().unwrap() as usize);
        assert_eq!(&doc["text"].as_str().unwrap()[s..e], c["text"].as_str().unwrap());
    }
    // A whole paragraph holds its stk. already.
    assert!(lookup("§ 14", 1)[0].get("completed_by").is_none());
    // Asked about stk. 1 in chat, the answer quotes stk. 3 too.
    let (status, v) = server().post("/v1/chat", &serde_json::json!({"messages": [{"role": "user", "content": "Hvad siger § 14, stk. 1?"}]}));
    assert_eq!(status, 200, "{v}");
    let items: Vec<&str> = v["citations"].as_array().unwrap().iter().map(|c| c["item"].as_str().unwrap()).collect();
    assert_eq!(items, ["§ 14", "§ 14, stk. 3"], "{v}");
}

#[test]
fn bad_lookups_are_named() {
    let http = common::http();
    for (query, word) in [(vec![], "q"), (vec![("q", "  ")], "q"), (vec![("q", "§ 1"), ("limit", "0")], "limit"), (vec![("q", "§ 1"), ("limit", "x")], "limit"), (vec![("q", "§ 1"), ("mode", "x")], "mode")] {
        let r = http.get(url(&query)).send().unwrap();
        assert_eq!(r.status().as_u16(), 400, "{query:?}");
        let v: Value = r.json().unwrap();
        assert!(v["error"]["message"].as_str().unwrap().contains(word), "{query:?}: {v}");
    }
}

#[test]
fn chat_quotes_the_provision_a_question_names() {
    for (question, item) in [("Hvad siger § 20, stk. 6?", "§ 20, stk. 6"), ("Hvad står der i kommunestyrelseslovens § 11?", "§ 11"), ("Hvad siger KL § 9 om aktindsigt?", "§ 9")] {
        let (status, v) = server().post("/v1/chat", &serde_json::json!({"messages": [{"role": "user", "content": question}]}));
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["abstained"], false, "{v}");
        let c = &v["citations"][0];
        assert_eq!(c["item"], item, "{question}: {v}");
        let answer = v["answer"].as_str().unwrap();
        assert!(answer.starts_with(&format!("Reglen står i kommunestyrelseslovens {item}.\n\nIfølge Kommunestyrelsesloven (LBK nr. 13 af 5. januar 2026)")), "{v}");
        assert!(answer.contains(&format!("{item}: »")), "{v}");
        let (_, doc) = server().get(&format!("/v1/documents/{}", c["doc_id"].as_str().unwrap()));
        let (s, e) = (c["span"]["start"].as_u64().unwrap() as usize, c["span"]["end"].as_u64().unwrap() as usize);
        assert_eq!(&doc["text"].as_str().unwrap()[s..e], c["quote"].as_str().unwrap());
    }
}

/// The council's own rules arrive as Word, HTML or PDF: a handbook in HTML with § and stk.
/// numbering is looked up like the law.
#[test]
fn a_handbook_in_html_is_looked_up_by_provision() {
    let html = "<html><head><title>Forretningsorden</title></head><body><h1>Forretningsorden for Aarhus Byråd</h1>\
        <h2>Kapitel 1 Møderne</h2><p>§ 1. Byrådet holder ordinære møder hver anden onsdag.</p><p>Stk. 2. Møderne begynder kl. 16.00.</p>\
        <p>§ 2 a. Spørgetid for borgerne holdes før hvert ordinært møde og varer højst 30 minutter.</p>\
        <h2>Kapitel 2 Afstemning</h2><p>§ 3. Afstemning sker ved håndsoprækning.</p></body></html>";
    let manifest = "[[document]]\npath = \"forretningsorden.html\"\ntitle = \"Forretningsorden for Aarhus Byråd\"\nkind = \"haandbog\"\nbody = \"Aarhus Byråd\"\ndate = \"2026-01-01\"\n";
    let corpus = common::write_corpus(&[("manifest.toml", manifest), ("forretningsorden.html", html)]);
    let data = tempfile::tempdir().unwrap();
    let out = common::byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let server = Server::start(data);
    let get = |q: &str| -> Vec<Value> {
        let encoded: String = q.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
        let v: Value = common::http().get(server.url(&format!("/v1/rules/lookup?q={encoded}&limit=3"))).send().unwrap().json().unwrap();
        v["results"].as_array().unwrap().clone()
    };
    let r = get("forretningsordenens § 2 a");
    assert_eq!(r[0]["citation"], "forretningsorden for aarhus byråd § 2 a", "{r:?}");
    assert!(r[0]["text"].as_str().unwrap().starts_with("§ 2 a. Spørgetid for borgerne"), "{r:?}");
    assert_eq!(get("§ 1, stk. 2")[0]["text"], "Stk. 2. Møderne begynder kl. 16.00.");
    let topic = get("hvordan foregår afstemning");
    assert_eq!(topic[0]["paragraph"], "§ 3", "{topic:?}");
}

/// The law and a council's rules of procedure number their paragraphs alike: "forretningsordenens
/// § 5" and "kommunestyrelseslovens § 5" are different provisions, and a question or the `law`
/// parameter says which text it means. The forretningsorden is a fixture written for this test
/// (tests/fixtures/rules/), not a real document.
#[test]
fn two_rules_texts_with_the_same_numbers_stay_apart() {
    let fixtures = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/rules");
    let law = std::fs::read_to_string(common::corpus().join("love/kommunestyrelsesloven-lbk-2026-13.md")).unwrap();
    let order = std::fs::read_to_string(fixtures.join("forretningsorden.md")).unwrap();
    let manifest = format!(
        "{}\n[[document]]\npath = \"kommunestyrelsesloven.md\"\ntitle = \"Kommunestyrelsesloven (LBK nr. 13 af 5. januar 2026)\"\nkind = \"lov\"\nbody = \"Folketinget\"\ndate = \"2026-01-05\"\n",
        std::fs::read_to_string(fixtures.join("manifest.toml")).unwrap()
    );
    let corpus = common::write_corpus(&[("manifest.toml", &manifest), ("kommunestyrelsesloven.md", &law), ("forretningsorden.md", &order)]);
    let data = tempfile::tempdir().unwrap();
    let out = common::byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let server = Server::start(data);
    let get = |params: &[(&str, &str)]| -> (u16, Value) {
        let encode = |v: &str| v.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect::<String>();
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        let r = common::http().get(server.url(&format!("/v1/rules/lookup?{}", query.join("&")))).send().unwrap();
        (r.status().as_u16(), r.json().unwrap())
    };
    let citations = |v: &Value| -> Vec<String> { v["results"].as_array().unwrap().iter().map(|r| r["citation"].as_str().unwrap().to_string()).collect() };
    const ORDER: &str = "forretningsorden for aarhus byråd";

    let (_, v) = get(&[("q", "forretningsordenens § 5")]);
    assert_eq!(citations(&v)[0], format!("{ORDER} § 5"), "{v}");
    assert!(v["results"][0]["text"].as_str().unwrap().contains("ændringsforslag"), "{v}");
    let (_, v) = get(&[("q", "kommunestyrelseslovens § 5")]);
    assert_eq!(citations(&v)[0], "kommunestyrelsesloven § 5", "{v}");
    assert!(v["results"][0]["text"].as_str().unwrap().contains("medlemstal"), "{v}");
    // Named by number alone, both come, each with its own text's name.
    let (_, v) = get(&[("q", "§ 5"), ("limit", "5")]);
    let both = citations(&v);
    assert!(both.contains(&"kommunestyrelsesloven § 5".to_string()) && both.contains(&format!("{ORDER} § 5")), "{both:?}");
    // The law parameter, or the question itself, chooses the text.
    let (_, v) = get(&[("q", "hvor lang taletid har en ordfører"), ("law", "forretningsorden"), ("limit", "3")]);
    let only = citations(&v);
    assert!(!only.is_empty() && only.iter().all(|c| c.starts_with(ORDER)), "{only:?}");
    assert_eq!(only[0], format!("{ORDER} § 4, stk. 2"), "{only:?}");
    let (_, v) = get(&[("q", "Hvor lang taletid har jeg ifølge forretningsordenen?"), ("limit", "3")]);
    assert!(citations(&v).iter().all(|c| c.starts_with(ORDER)), "{v}");
    let (_, v) = get(&[("q", "habilitet"), ("law", "KL"), ("limit", "3")]);
    assert!(citations(&v).iter().all(|c| c.starts_with("kommunestyrelsesloven")), "{v}");
    // An unknown text is refused, naming those there are.
    let (status, v) = get(&[("q", "taletid"), ("law", "ordensreglementet")]);
    assert_eq!(status, 400, "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("law") && message.contains("kommunestyrelsesloven") && message.contains(ORDER), "{message}");
}
