//! The members' page in a real browser: headless Chromium driven over WebDriver (Selenium, in
//! the project's `.venv`), against the real server; axe-core on every page; screenshots at 1280
//! and 390 px in `target/screenshots`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Server;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `tests/browser/<script>`; fails naming what is missing when the browser or Selenium is.
fn run(script: &str, args: &[&str]) -> Value {
    let python = root().join(".venv/bin/python");
    let ok = Command::new(&python).args(["-c", "import selenium, axe_selenium_python"]).output().is_ok_and(|o| o.status.success());
    assert!(ok, "Selenium and axe-selenium-python are needed in {} (run `make setup`)", python.display());
    assert!(std::path::Path::new("/usr/bin/chromium").is_file() && std::path::Path::new("/usr/bin/chromedriver").is_file(), "Debian's chromium and chromium-driver are needed (run `make setup`)");
    let out = Command::new(python).arg(root().join("tests/browser").join(script)).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}"))
}

fn serious(violations: &Value) -> Vec<&Value> {
    violations.as_array().unwrap().iter().filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical"))).collect()
}

#[test]
fn a_member_asks_sees_the_streamed_answer_with_its_sources_and_opens_the_cited_passage() {
    let server = Server::start(common::ingested());
    let shots = root().join("target/screenshots");
    let seen = run("ask.py", &[&server.base, "--question", "Hvornår skal dagsordenen udsendes?", "--question", "Hvem skal sørge for det?", "--screenshots", shots.to_str().unwrap()]);
    eprintln!("{}", serde_json::to_string_pretty(&seen).unwrap());
    assert_eq!(seen["lang"], "da");
    let answered = &seen["questions"][0];
    assert!(!answered["abstained"].as_bool().unwrap(), "{answered}");
    assert!(answered["answer"].as_str().unwrap().contains("[1]"), "{answered}");
    let sources = answered["sources"].as_array().unwrap();
    assert!(!sources.is_empty() && sources.len() == answered["links"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect::<std::collections::BTreeSet<_>>().len(), "only cited sources are listed: {answered}");
    assert!(answered["first_token_ms"].as_u64().is_some(), "{answered}");
    // The passage the first citation opens is the quote, highlighted and in view.
    let passage = &seen["passage"];
    assert!(passage["in_view"].as_bool().unwrap(), "{passage}");
    let quote = sources[0]["quote"].as_str().unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    let marked = passage["text"].as_str().unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(marked.contains(quote.trim_matches(['»', '«', '…'])) || quote.contains(&marked), "marked {marked:?}, quoted {quote:?}");
    // A follow-up continues the conversation: a second turn with its own answer.
    let follow_up = &seen["questions"][1];
    assert_eq!(follow_up["turns"], 2, "{follow_up}");
    assert!(!follow_up["answer"].as_str().unwrap().trim().is_empty(), "{follow_up}");
    // The answer judged down with a reason, stored and exported.
    assert_eq!(seen["feedback"], "Tak for din tilbagemelding.");
    let exported = common::byraad(server.data(), &["feedback", "export"]);
    let line: Value = serde_json::from_str(common::stdout(&exported).lines().next().unwrap_or_else(|| panic!("no feedback exported: {}", common::stderr(&exported)))).unwrap();
    assert_eq!((line["rating"].as_str(), line["reason"].as_str(), line["comment"].as_str()), (Some("down"), Some("incomplete"), Some("mangler stk. 4")), "{line}");
    assert_eq!(line["question"], "Hvornår skal dagsordenen udsendes?");
    // The search page: only laws with the filter, matched words marked.
    let search = &seen["search"];
    let hits = search["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.iter().all(|m| m.as_str().unwrap().starts_with("Lov")), "{search}");
    assert!(search["marks"].as_u64().unwrap() > 0, "{search}");
    // The draft: addressee, svarfrist, numbered questions and a Word file.
    let draft = &seen["draft"];
    assert!(draft["meta"]["Til"].as_str().is_some_and(|t| !t.is_empty()) && draft["meta"]["Svarfrist"].as_str().is_some_and(|t| t.len() == 10), "{draft}");
    assert!(!draft["questions"].as_array().unwrap().is_empty(), "{draft}");
    assert!(draft["docx_is_zip"].as_bool().unwrap(), "{draft}");
    // The rules page finds a provision by its reference, first.
    let by_reference = &seen["rules"][0]["citations"];
    assert!(by_reference[0].as_str().unwrap().contains("§ 11, stk. 2"), "{by_reference}");
    assert!(!seen["rules"][1]["citations"].as_array().unwrap().is_empty(), "{}", seen["rules"][1]);
    for page in ["axe_ask", "axe_document", "axe_feedback", "axe_search", "axe_draft", "axe_rules"] {
        assert!(serious(&seen[page]).is_empty(), "{page}: {}", seen[page]);
    }
    for page in ["overflow_ask", "overflow_document", "overflow_search", "overflow_draft", "overflow_rules"] {
        assert_eq!(seen[page]["390"], 0, "{page}: the page is wider than a 390 px phone");
    }
    for name in ["ask-1280", "ask-390", "document-1280", "document-390", "rules-1280", "rules-390", "search-1280", "search-390", "draft-1280", "draft-390"] {
        assert!(shots.join(format!("{name}.png")).is_file(), "{name}");
    }
}

#[test]
fn every_response_carries_the_security_headers_and_the_page_no_inline_script() {
    let server = Server::start(common::ingested());
    for path in ["/", "/healthz", "/v1/models", "/nope"] {
        let r = common::http().get(server.url(path)).send().unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("default-src 'none'"), "{path}");
    }
    let page = common::http().get(server.url("/")).send().unwrap().text().unwrap();
    assert!(!page.contains("<script>") && !page.contains("style="), "no inline script or style");
    let js = page.split("src=\"").nth(1).unwrap().split('"').next().unwrap();
    let r = common::http().get(server.url(js)).send().unwrap();
    assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
    let weight: usize = page.len() + r.bytes().unwrap().len() + common::http().get(server.url(page.split("href=\"").nth(1).unwrap().split('"').next().unwrap())).send().unwrap().bytes().unwrap().len();
    eprintln!("ask page weight (HTML+CSS+JS): {weight} bytes");
    assert!(weight < 100_000);
}

#[test]
fn a_member_signs_in_with_a_token_or_the_single_sign_on_and_sees_what_an_anonymous_visitor_cannot() {
    use common::restricted;
    let idp = common::idp::Idp::start("anna.hansen", &["magistraten"]);
    let setup = restricted::start_with(false, &idp.config());
    let server = &setup.server;
    let shots = root().join("target/screenshots");
    let seen = run("signin.py", &[&server.base, "--token", restricted::token("magistrat"), "--query", "Zebrafinke", "--question", "Hvad koster ejendommen Kattesundet 7?", "--screenshots", shots.to_str().unwrap()]);
    eprintln!("{}", serde_json::to_string_pretty(&seen).unwrap());
    let secret_title = "Lukket punkt: Køb af ejendommen Kattesundet 7";
    let titles = |v: &Value| v.as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect::<Vec<_>>();
    // Anonymous: not found, and the question is not answered from it: an abstention that says
    // so and lists the nearest documents.
    let anonymous = &seen["anonymous"];
    assert!(titles(&anonymous["hits"]).is_empty(), "{anonymous}");
    let asked = &anonymous["asked"];
    assert!(asked["abstained"].as_bool().unwrap(), "{asked}");
    assert!(asked["answer"].as_str().unwrap().starts_with("Arkivet indeholder ikke"), "{asked}");
    assert!(!titles(&asked["nearest"]).is_empty() && !titles(&asked["nearest"]).contains(&secret_title.to_string()), "{asked}");
    assert!(!asked.to_string().contains("Kattesundet 7 for") && !asked.to_string().contains("47,3"), "{asked}");
    // With the token: found, answered from it, the cookie HttpOnly and Lax.
    let token = &seen["token"];
    assert!(token["landed"].as_str().unwrap().ends_with("/sog?q=Zebrafinke"), "{token}");
    assert!(token["account"].as_str().unwrap().contains("Logget ind som magistrat"), "{token}");
    assert!(titles(&token["hits"]).contains(&secret_title.to_string()), "{token}");
    let cookie = token["cookie"].as_array().unwrap().iter().find(|c| c["name"] == "byraad_session").unwrap_or_else(|| panic!("no session cookie: {token}"));
    assert_eq!((cookie["httpOnly"].as_bool(), cookie["sameSite"].as_str()), (Some(true), Some("Lax")), "{cookie}");
    let answered = &token["asked"];
    assert!(answered["errors"].as_array().unwrap().is_empty(), "the page's requests carry the CSRF token: {answered}");
    assert!(!answered["abstained"].as_bool().unwrap() && titles(&answered["sources"]).contains(&secret_title.to_string()), "{answered}");
    assert!(answered["answer"].as_str().unwrap().contains("47,3 mio. kr."), "{answered}");
    // Signed out: gone again.
    assert!(seen["signed_out"]["account"].as_str().unwrap().contains("Log ind"), "{}", seen["signed_out"]);
    assert!(titles(&seen["signed_out"]["hits"]).is_empty(), "{}", seen["signed_out"]);
    // The single sign-on ends on a signed-in page with the provider's groups.
    assert_eq!(seen["provider_page"], "Aarhus Kommune login");
    let sso = &seen["sso"];
    assert!(sso["account"].as_str().unwrap().contains("Logget ind som anna.hansen"), "{sso}");
    assert!(titles(&sso["hits"]).contains(&secret_title.to_string()), "{sso}");
    assert!(idp.refused().is_empty(), "{:?}", idp.refused());
    for page in ["axe_signin", "axe_signed_in"] {
        assert!(serious(&seen[page]).is_empty(), "{page}: {}", seen[page]);
    }
    for page in ["overflow_signin", "overflow_sso", "overflow_abstained"] {
        assert_eq!(seen[page]["390"], 0, "{page}: the page is wider than a 390 px phone");
    }
}

#[test]
fn the_document_page_has_an_outline_into_the_text_and_page_numbers_in_the_margin() {
    let server = Server::start(common::ingested());
    // A passage on a later page of a paged document.
    let (status, v) = server.post("/v1/search", &serde_json::json!({"query": "budget", "filters": {"kind": ["referat"]}, "limit": 50}));
    assert_eq!(status, 200, "{v}");
    let hit = v["hits"].as_array().unwrap().iter().find(|h| h["page"].as_u64().is_some_and(|p| p >= 2)).unwrap_or_else(|| panic!("no hit beyond page 1: {v}"));
    let (doc, page) = (hit["doc_id"].as_str().unwrap(), hit["page"].as_u64().unwrap());
    let url = server.url(&format!("/documents/{doc}?span={}-{}", hit["span"]["start"], hit["span"]["end"]));
    let html = common::http().get(url).send().unwrap().text().unwrap();
    // Every page has its number, in order, and the passage sits after its own page's number.
    let numbers: Vec<u64> = html.split("<span class=\"page\" id=\"side-").skip(1).map(|s| s.split('"').next().unwrap().parse().unwrap()).collect();
    assert!(numbers.len() >= 2 && numbers.iter().enumerate().all(|(i, n)| *n == i as u64 + 1), "{numbers:?}");
    let mark = html.find("<mark id=\"passage\">").unwrap();
    let own = html.find(&format!("id=\"side-{page}\"")).unwrap();
    assert!(own < mark && html.find(&format!("id=\"side-{}\"", page + 1)).is_none_or(|next| next > mark), "page {page}");
    assert!(html.contains(&format!("original#page={page}")), "the original opens at the passage's page");
    // The outline lists the items and each entry leads to an anchor in the text.
    let outline = html.split("<details class=\"outline\"").nth(1).unwrap_or_else(|| panic!("no outline: {html}")).split("</details>").next().unwrap();
    let targets: Vec<&str> = outline.split("href=\"#").skip(1).map(|s| s.split('"').next().unwrap()).collect();
    assert!(targets.len() >= 2, "{outline}");
    for t in &targets {
        assert!(html.contains(&format!("id=\"{t}\"")), "{t} leads nowhere");
    }
    // The page is the site's: its header, its stylesheet, no inline style.
    assert!(html.contains("aria-label=\"Hovedmenu\"") && !html.contains("<style") && !html.contains("style="));
}

#[test]
fn a_member_follows_a_case_through_its_meetings_to_the_meeting_as_the_agenda_system_shows_it() {
    // Three recorded Greve meetings that treat one case: committee, Økonomiudvalget, Byråd.
    let corpus = tempfile::tempdir().unwrap();
    common::copy_dir(&root().join("tests/fixtures/greve"), corpus.path());
    let data = tempfile::tempdir().unwrap();
    let out = common::byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let server = Server::start(data);
    let shots = root().join("target/screenshots");
    let seen = run("case.py", &[&server.base, "--case", "25-007892", "--screenshots", shots.to_str().unwrap()]);
    eprintln!("{}", serde_json::to_string_pretty(&seen).unwrap());
    let case = &seen["case"];
    assert_eq!(case["lang"], "da");
    assert_eq!(case["title"], "Sagsforløb for sag 25-007892");
    let treatments: Vec<&str> = case["treatments"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(treatments.len(), 3, "{case}");
    assert!(treatments.iter().any(|t| t.contains("Økonomiudvalget")), "{case}");
    assert!(case["sections"].as_array().unwrap().iter().any(|s| s == "Beslutning"), "{case}");
    // The meeting opens with its items and their sections as headings, not as bare lines.
    let meeting = &seen["meeting"];
    let headings: Vec<&str> = meeting["headings"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    assert!(meeting["url"].as_str().unwrap().contains("/documents/"), "{meeting}");
    assert!(headings.len() > 3 && headings.iter().any(|h| h.contains("Beslutning")), "{meeting}");
    for page in ["axe_case", "axe_meeting"] {
        assert!(serious(&seen[page]).is_empty(), "{page}: {}", seen[page]);
    }
    for page in ["overflow_case", "overflow_meeting"] {
        assert_eq!(seen[page]["390"], 0, "{page}: the page is wider than a 390 px phone");
    }
    for name in ["case-1280", "case-390", "meeting-1280", "meeting-390"] {
        assert!(shots.join(format!("{name}.png")).is_file(), "{name}");
    }
}
