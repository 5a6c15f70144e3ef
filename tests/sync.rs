//! `byraad sync` against an agenda system the test runs: an index page linking to meeting pages
//! (the bundled meeting pages, with a link to an attachment added), PDFs, robots.txt with a
//! disallowed page, a page that never answers in time and one that is not there. Two runs: the
//! second sees a changed page, a page gone, a source no longer listed, and unchanged ones
//! answered 304 to the first run's validators.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode};
use common::{byraad, stderr, stdout};
use serde_json::Value;

/// The first of the 636 attachment links on the bundled agenda page (`?redirectDirectlyToPdf=false`
/// follows it there).
const REAL_ATTACHMENT: &str = "/vis/pdf/bilag/3b391cd5-bf32-4aad-965f-b3272f7fe101/";

/// A resource the site serves.
#[derive(Clone)]
struct Resource {
    status: u16,
    body: Vec<u8>,
    content_type: &'static str,
    etag: Option<String>,
    last_modified: Option<String>,
    delay: Duration,
}

impl Resource {
    fn ok(body: Vec<u8>, content_type: &'static str) -> Self {
        Self { status: 200, body, content_type, etag: None, last_modified: None, delay: Duration::ZERO }
    }
}

/// A request the site received.
#[derive(Debug, Clone)]
struct Logged {
    path: String,
    at: Instant,
    user_agent: String,
    if_none_match: Option<String>,
    if_modified_since: Option<String>,
    status: u16,
}

#[derive(Default)]
struct Site {
    resources: HashMap<String, Resource>,
    log: Vec<Logged>,
}

type Shared = Arc<Mutex<Site>>;

async fn serve(site: axum::extract::State<Shared>, req: Request<Body>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let header = |h: &HeaderMap, name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (inm, ims, ua) = (header(req.headers(), "if-none-match"), header(req.headers(), "if-modified-since"), header(req.headers(), "user-agent"));
    let resource = site.lock().unwrap().resources.get(&path).cloned();
    let resource = resource.unwrap_or(Resource { status: 404, body: b"not found".to_vec(), content_type: "text/plain", etag: None, last_modified: None, delay: Duration::ZERO });
    tokio::time::sleep(resource.delay).await;
    let not_modified = resource.status == 200
        && (resource.etag.is_some() && inm == resource.etag || resource.last_modified.is_some() && ims == resource.last_modified);
    let status = if not_modified { 304 } else { resource.status };
    site.lock().unwrap().log.push(Logged { path, at: Instant::now(), user_agent: ua.unwrap_or_default(), if_none_match: inm, if_modified_since: ims, status });
    let mut response = Response::builder().status(StatusCode::from_u16(status).unwrap()).header("content-type", resource.content_type);
    if let Some(e) = &resource.etag {
        response = response.header("etag", e);
    }
    if let Some(lm) = &resource.last_modified {
        response = response.header("last-modified", lm);
    }
    response.body(if not_modified { Body::empty() } else { Body::from(resource.body) }).unwrap()
}

/// Starts the site on a free loopback port; returns its base URL.
fn start(site: Shared) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().fallback(serve).with_state(site);
            axum::serve(tokio::net::TcpListener::from_std(listener).unwrap(), app).await.unwrap();
        });
    });
    base
}

fn bundled(name: &str) -> Vec<u8> {
    std::fs::read(common::corpus().join("aarhus-2025").join(name)).unwrap()
}

/// A bundled meeting page with a link to `attachment` added, as the agenda system lists a
/// meeting's material, and its text changed by `edit` (what, with what).
fn meeting_page(name: &str, attachment: &str, edit: (&str, &str)) -> Vec<u8> {
    let page = String::from_utf8(bundled(name)).unwrap();
    assert!(page.contains(edit.0), "{name} holds {:?}", edit.0);
    let link = format!("<a href=\"{attachment}\">Bilag 1: Referat af byrådsmødet, EMN-2025-012345</a></body>");
    page.replacen(edit.0, edit.1, 1).replacen("</body>", &link, 1).into_bytes()
}

fn report(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn urls(report: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = report[key].as_array().unwrap().iter().map(|u| u.as_str().map_or_else(|| u["url"].as_str().unwrap().to_string(), str::to_string)).collect();
    v.sort();
    v
}

fn search_sources(data: &std::path::Path, query: &str) -> Vec<String> {
    let out = byraad(data, &["search", query, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let hits: Value = serde_json::from_str(&stdout(&out)).unwrap();
    hits["hits"].as_array().unwrap().iter().map(|h| h["doc_id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn sync_fetches_politely_keeps_the_corpus_in_step_and_ingests() {
    let site: Shared = Arc::default();
    let base = start(site.clone());
    {
        let mut s = site.lock().unwrap();
        let r = &mut s.resources;
        r.insert("/robots.txt".into(), Resource::ok(b"User-agent: *\nDisallow: /privat/\n".to_vec(), "text/plain"));
        let index = "<html><head><title>Møder</title></head><body>\
            <a href=\"/moede/2025-10-08\">Byrådet 8. oktober</a> <a href=\"/moede/2025-10-01\">Teknisk Udvalg 1. oktober</a>\
            <a href=\"/moede/kultur\">Kulturudvalget 17. september</a>\
            <a href=\"/privat/lukket\">Lukket møde</a> <a href=\"/moede/langsom\">Langsomt møde</a> <a href=\"/moede/findes-ikke\">Flyttet</a>\
            <a href=\"https://example.org/moede/ude\">Andet sted</a> <a href=\"/om\">Om</a></body></html>";
        r.insert("/byraadet".into(), Resource { etag: Some("\"idx-1\"".into()), ..Resource::ok(index.as_bytes().to_vec(), "text/html; charset=utf-8") });
        let dagsorden = meeting_page("dagsorden-aarhus-byraad-2025-10-08.html", "/bilag/referat-2025-08-27.pdf", ("", ""));
        r.insert("/moede/2025-10-08".into(), Resource { etag: Some("\"d-1\"".into()), ..Resource::ok(dagsorden, "text/html; charset=utf-8") });
        let teknisk = meeting_page("referat-teknisk-udvalg-2025-10-01.html", "/bilag/referat-2025-08-27.pdf", ("", ""));
        r.insert("/moede/2025-10-01".into(), Resource { etag: Some("\"t-1\"".into()), ..Resource::ok(teknisk, "text/html; charset=utf-8") });
        let kultur = "<html><head><title>Referat – Kulturudvalget 17. september 2025</title></head><body>\
            <p>Kulturudvalget drøftede musikskolens lokaler i Godsbanen.</p><a href=\"/bilag/sager-paa-vej.pdf\">Bilag: Sager på vej</a></body></html>";
        r.insert("/moede/kultur".into(), Resource { etag: Some("\"k-1\"".into()), ..Resource::ok(kultur.as_bytes().to_vec(), "text/html; charset=utf-8") });
        r.insert("/bilag/sager-paa-vej.pdf".into(), Resource { etag: Some("\"s-1\"".into()), ..Resource::ok(bundled("sager-paa-vej-sundhed-og-omsorg-2025-08-29.pdf"), "application/pdf") });
        r.insert("/privat/lukket".into(), Resource::ok(b"<html><body>hemmeligt</body></html>".to_vec(), "text/html"));
        r.insert("/moede/langsom".into(), Resource { delay: Duration::from_secs(4), ..Resource::ok(b"<html><body>sent</body></html>".to_vec(), "text/html") });
        let lm = "Wed, 27 Aug 2025 12:00:00 GMT".to_string();
        r.insert("/bilag/referat-2025-08-27.pdf".into(), Resource { last_modified: Some(lm), ..Resource::ok(bundled("referat-aarhus-byraad-2025-08-27.pdf"), "application/pdf") });
        // One of the meeting page's own attachment links, as the agenda system writes them.
        r.insert(REAL_ATTACHMENT.into(), Resource::ok(bundled("sager-paa-vej-sundhed-og-omsorg-2025-08-29.pdf"), "application/pdf"));
        r.insert("/filer/henvendelse".into(), Resource { etag: Some("\"h-1\"".into()), ..Resource::ok(bundled("henvendelse-havnens-perle-2025-08-26.pdf"), "application/pdf") });
    }
    let corpus = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let sources = |with_source: bool| {
        let source = format!("[[source]]\nurl = \"{base}/filer/henvendelse\"\nkind = \"henvendelse\"\nbody = \"Aarhus Byråd\"\ntitle = \"Henvendelse fra Havnens Perle\"\n\n");
        let text = format!(
            "[sync]\nfolder = \"hentet\"\nuser_agent = \"byraad-gpt-test\"\ndelay_ms = 150\ntimeout_secs = 1\n\n{}[[index]]\nurl = \"{base}/byraadet\"\npages = \"/(moede|privat)/\"\nattachments = \"/bilag/(referat|sager)-|{REAL_ATTACHMENT}\"\nkind = \"referat\"\nbody = \"Aarhus Byråd\"\n",
            if with_source { source } else { String::new() }
        );
        std::fs::write(corpus.path().join("sources.toml"), text).unwrap();
    };
    sources(true);
    let report_file = corpus.path().join("..").join(format!("sync-report-{}.json", std::process::id()));
    let run = || byraad(data.path(), &["sync", "--corpus", corpus.path().to_str().unwrap(), "--report", report_file.to_str().unwrap()]);

    // First run: everything new, the slow page and the missing one failed, the private one not
    // asked for, then ingested.
    let first = run();
    assert_eq!(first.status.code(), Some(1), "a failed source makes exit 1:\n{}\n{}", stdout(&first), stderr(&first));
    assert!(stdout(&first).contains("ingested"), "the fetched files are ingested: {}", stdout(&first));
    let r1 = report(&report_file);
    let at = |p: &str| format!("{base}{p}");
    let real = at(&format!("{REAL_ATTACHMENT}?redirectDirectlyToPdf=false"));
    assert_eq!(
        urls(&r1, "new"),
        [at("/bilag/referat-2025-08-27.pdf"), at("/bilag/sager-paa-vej.pdf"), at("/byraadet"), at("/filer/henvendelse"), at("/moede/2025-10-01"), at("/moede/2025-10-08"), at("/moede/kultur"), real.clone()]
    );
    assert_eq!(urls(&r1, "disallowed"), [at("/privat/lukket")]);
    assert_eq!(urls(&r1, "failed"), [at("/moede/findes-ikke"), at("/moede/langsom")]);
    let reasons: Vec<&str> = r1["failed"].as_array().unwrap().iter().map(|f| f["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().any(|r| r.contains("404")) && reasons.iter().any(|r| r.contains("timed out")), "{reasons:?}");
    assert!(stderr(&first).contains("robots.txt does not allow"), "{}", stderr(&first));

    {
        let s = site.lock().unwrap();
        assert!(s.log.iter().all(|l| l.path != "/privat/lukket"), "robots.txt is obeyed");
        assert!(s.log.iter().all(|l| l.path != "/om"), "only links matching the pages pattern are followed");
        assert_eq!(s.log.iter().filter(|l| l.path == "/bilag/referat-2025-08-27.pdf").count(), 1, "an attachment linked twice is fetched once");
        assert!(s.log.iter().all(|l| l.user_agent == "byraad-gpt-test"), "the configured agent is sent");
        assert_eq!(s.log[0].path, "/robots.txt", "robots.txt is read first");
        // Requests are paced: sent 150 ms apart (unpaced, they would be a millisecond apart). A
        // busy machine may hold one arrival back towards the next, which only widens the gap
        // after it, so the median gap stays near the delay and no two arrive back to back. The
        // slow one is logged when it is answered.
        let mut times: Vec<Instant> = s.log.iter().filter(|l| l.path != "/moede/langsom").map(|l| l.at).collect();
        times.sort();
        let mut gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort();
        assert!(gaps[gaps.len() / 2] >= Duration::from_millis(120) && gaps[0] >= Duration::from_millis(10), "requests apart by {gaps:?}, delay 150 ms");
    }

    // The copies, with their manifest entries.
    let folder = corpus.path().join("hentet");
    let manifest = std::fs::read_to_string(folder.join("manifest.toml")).unwrap();
    let parsed: toml::Table = toml::from_str(&manifest).unwrap();
    let entries = parsed["document"].as_array().unwrap();
    assert_eq!(entries.len(), 7, "{manifest}");
    let entry = |suffix: &str| entries.iter().find(|e| e["source_url"].as_str().unwrap().ends_with(suffix)).unwrap_or_else(|| panic!("{suffix} in {manifest}"));
    let bilag = entry("/bilag/referat-2025-08-27.pdf");
    assert_eq!(bilag["kind"].as_str(), Some("bilag"));
    assert_eq!(bilag["title"].as_str(), Some("Bilag 1: Referat af byrådsmødet, EMN-2025-012345"));
    assert_eq!(bilag["case"].as_str(), Some("EMN-2025-012345"));
    assert_eq!(bilag["date"].as_str(), Some("2025-08-27"), "the date in the address");
    let meeting = entry("/moede/2025-10-08");
    assert_eq!((meeting["kind"].as_str(), meeting["title"].as_str(), meeting["date"].as_str()), (Some("referat"), Some("Aarhus Byråd - Byrådssalen"), Some("2025-10-08")));
    assert_eq!(entry("/filer/henvendelse")["title"].as_str(), Some("Henvendelse fra Havnens Perle"));
    let kultur = entry("/moede/kultur");
    assert_eq!((kultur["kind"].as_str(), kultur["date"].as_str()), (Some("referat"), Some("2025-09-17")), "kind and date from the page's title");
    let indstilling = entry("?redirectDirectlyToPdf=false");
    assert_eq!((indstilling["title"].as_str(), indstilling["kind"].as_str()), (Some("Indstilling"), Some("bilag")), "the link's text titles it");
    assert!(indstilling["path"].as_str().unwrap().ends_with(".pdf"), "the content type gives the extension: {indstilling:?}");
    for e in entries {
        assert!(folder.join(e["path"].as_str().unwrap()).is_file(), "{e:?}");
    }
    assert!(search_sources(data.path(), "boligdrømmen").iter().any(|d| d.contains("moede.2025-10-08")));
    assert!(search_sources(data.path(), "landbrugsejendom").iter().any(|d| d.contains("bilag.referat-2025-08-27")));
    assert!(search_sources(data.path(), "nordhavnen").iter().any(|d| d.contains("filer.henvendelse")));

    // Between runs: a meeting page changes, another is gone, the single source is no longer
    // listed; robots.txt, the index and the attachment are as they were.
    let log_mark = {
        let mut s = site.lock().unwrap();
        let changed = meeting_page("referat-teknisk-udvalg-2025-10-01.html", "/bilag/referat-2025-08-27.pdf", ("rumsprojekter", "rumsprojekter. Udvalget drøftede havnebussens nye køreplan"));
        s.resources.insert("/moede/2025-10-01".into(), Resource { etag: Some("\"t-2\"".into()), ..Resource::ok(changed, "text/html; charset=utf-8") });
        s.resources.remove("/moede/2025-10-08");
        s.log.len()
    };
    sources(false);
    let second = run();
    assert_eq!(second.status.code(), Some(1), "the slow page still fails:\n{}", stderr(&second));
    let r2 = report(&report_file);
    assert!(urls(&r2, "new").is_empty(), "{r2}");
    assert_eq!(urls(&r2, "changed"), [at("/moede/2025-10-01")]);
    assert_eq!(urls(&r2, "unchanged"), [at("/bilag/referat-2025-08-27.pdf"), at("/bilag/sager-paa-vej.pdf"), at("/byraadet"), at("/moede/kultur")]);
    let mut removed = vec![at("/filer/henvendelse"), at("/moede/2025-10-08"), real];
    removed.sort();
    assert_eq!(urls(&r2, "removed"), removed, "the page gone, the attachment only it linked, the source no longer listed");
    {
        let s = site.lock().unwrap();
        let later = &s.log[log_mark..];
        let got = |p: &str| later.iter().find(|l| l.path == p).unwrap_or_else(|| panic!("{p} asked for"));
        let index = got("/byraadet");
        assert_eq!((index.if_none_match.as_deref(), index.status), (Some("\"idx-1\""), 304), "the index is asked for with its ETag");
        let pdf = got("/bilag/referat-2025-08-27.pdf");
        assert_eq!((pdf.if_modified_since.as_deref(), pdf.status), (Some("Wed, 27 Aug 2025 12:00:00 GMT"), 304), "the attachment with its Last-Modified");
        assert_eq!(got("/moede/2025-10-01").if_none_match.as_deref(), Some("\"t-1\""));
        assert!(later.iter().all(|l| l.path != "/filer/henvendelse"), "a source no longer listed is not fetched");
        assert_eq!(got("/moede/kultur").status, 304);
        assert!(later.iter().all(|l| l.path != "/bilag/sager-paa-vej.pdf"), "an unchanged page's attachment, checked recently, is not asked again");
    }
    let manifest = std::fs::read_to_string(folder.join("manifest.toml")).unwrap();
    assert!(!manifest.contains("2025-10-08\"\nkind") && !manifest.contains("/filer/henvendelse") && manifest.contains("/moede/2025-10-01"), "{manifest}");
    assert!(!folder.join(format!("{}/moede/2025-10-08.html", base.trim_start_matches("http://").replace(':', "-"))).exists(), "the copy of a page gone is removed");
    assert!(search_sources(data.path(), "havnebussens").iter().any(|d| d.contains("moede.2025-10-01")), "the changed page is ingested again");
    assert!(!search_sources(data.path(), "boligdrømmen").iter().any(|d| d.contains("hentet")), "the page gone is gone from the index");
    assert!(!search_sources(data.path(), "nordhavnen").iter().any(|d| d.contains("hentet")), "the source no longer listed is gone from the index");
    let _ = std::fs::remove_file(&report_file);
}

#[test]
fn sync_without_sources_says_so() {
    let corpus = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = byraad(data.path(), &["sync", "--corpus", corpus.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("sources.toml"), "{}", stderr(&out));
    std::fs::write(corpus.path().join("sources.toml"), "[sync]\nfolder = \"../ud\"\n").unwrap();
    let out = byraad(data.path(), &["sync", "--corpus", corpus.path().to_str().unwrap()]);
    assert!(stderr(&out).contains("plain subfolder"), "{}", stderr(&out));
    std::fs::write(corpus.path().join("sources.toml"), "[sync]\nfolder = \"hentet\"\n").unwrap();
    let out = byraad(data.path(), &["sync", "--corpus", corpus.path().to_str().unwrap()]);
    assert!(stderr(&out).contains("lists no [[source]], [[index]] or [[firstagenda]]"), "{}", stderr(&out));
}

/// The agenda system's own API (`[[firstagenda]]`), served under its own paths from the three
/// recorded meetings in `tests/fixtures/greve` (the committee list built from them in the API's
/// shape; every attachment a generated PDF naming itself). The first sync fetches the list, the
/// three meetings and their attachments; the second, after one meeting became minutes with a
/// changed decision and one attachment was added to it, asks for that meeting and its new
/// attachment again and for nothing else; the changed meeting is re-ingested, and nothing else.
#[test]
fn sync_follows_the_agenda_systems_own_api_and_asks_again_only_for_what_changed() {
    use common::pdf::{Page, pdf};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/greve/api/agenda/dagsorden");
    let mut meetings: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (path.file_stem().unwrap().to_string_lossy().into_owned(), serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap())
        })
        .collect();
    meetings.sort_by(|a, b| a.0.cmp(&b.0));
    let listing = |meetings: &[(String, Value)]| {
        let committees: Vec<Value> = meetings
            .iter()
            .map(|(id, m)| serde_json::json!({"Navn": m["Udvalg"]["Navn"], "Id": m["Udvalg"]["Id"], "Moeder": [{"Id": id, "Dato": m["Moede"]["Dato"], "Navn": m["Moede"]["Navn"], "Afsluttet": m["Moede"]["Afsluttet"]}]}))
            .collect();
        serde_json::to_vec(&serde_json::json!({"Udvalg": {"Aktuelle politiske udvalg": committees}})).unwrap()
    };
    let json_resource = |body: Vec<u8>| {
        let etag = format!("\"{:x}\"", body.iter().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(*b))));
        Resource { etag: Some(etag), ..Resource::ok(body, "application/json") }
    };
    let attachment = |id: &str, name: &str| Resource { etag: Some(format!("\"{id}\"")), ..Resource::ok(pdf(&[Page::Text(vec![format!("Bilag {name}"), format!("Dokument {id}")])]), "application/pdf") };
    let site: Shared = Arc::new(Mutex::new(Site::default()));
    let mut attachments = 0;
    {
        let mut s = site.lock().unwrap();
        s.resources.insert("/robots.txt".into(), Resource::ok(b"User-agent: *\nDisallow: /intern/\n".to_vec(), "text/plain"));
        s.resources.insert("/api/agenda/udvalgsliste".into(), json_resource(listing(&meetings)));
        for (id, m) in &meetings {
            s.resources.insert(format!("/api/agenda/dagsorden/{id}"), json_resource(serde_json::to_vec(m).unwrap()));
            for item in m["Dagsordenpunkter"].as_array().unwrap() {
                for a in item["Bilag"].as_array().into_iter().flatten() {
                    let aid = a["Id"].as_str().unwrap();
                    s.resources.insert(format!("/vis/pdf/bilag/{aid}"), attachment(aid, a["Navn"].as_str().unwrap()));
                    attachments += 1;
                }
            }
        }
    }
    let base = start(site.clone());
    let corpus = tempfile::tempdir().unwrap();
    std::fs::write(corpus.path().join("sources.toml"), format!("[sync]\nfolder = \"hentet\"\ndelay_ms = 0\n\n[[firstagenda]]\nurl = \"{base}\"\n")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let reports = tempfile::tempdir().unwrap();
    let first_report = reports.path().join("first.json");
    let out = byraad(data.path(), &["sync", "--corpus", corpus.path().to_str().unwrap(), "--report", first_report.to_str().unwrap()]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let first = report(&first_report);
    assert_eq!(urls(&first, "new").len(), 1 + meetings.len() + attachments, "{first}");
    assert!(urls(&first, "failed").is_empty(), "{first}");
    // The listing, the meetings, the attachments and robots.txt: one request each.
    assert_eq!(first["requests"].as_u64().unwrap() as usize, 2 + meetings.len() + attachments, "{first}");
    assert!(first["bytes"].as_u64().unwrap() > 100_000, "{first}");
    assert!(stdout(&out).contains(&format!("{} documents", meetings.len() + attachments)), "{}", stdout(&out));
    // The meetings are searchable as items, the attachments as their own documents with the item's case.
    let hits = search_sources(data.path(), "Puljemidler til IPS og Flere unge skal med");
    assert!(hits.iter().any(|d| d.contains("api.agenda.dagsorden")), "{hits:?}");

    // The Byråd's meeting becomes minutes with a changed decision and a new attachment.
    let (byraad_id, byraad_meeting) = meetings.iter_mut().find(|(_, m)| m["Udvalg"]["Navn"] == "Byråd 2022-2025").unwrap();
    let byraad_id = byraad_id.clone();
    let item = byraad_meeting["Dagsordenpunkter"].as_array_mut().unwrap().iter_mut().find(|i| i["SagsNummer"] == "25-007892").unwrap();
    let html = item["Felter"][0]["Html"].as_str().unwrap().to_string();
    let changed = html.replacen("<h3>Beslutning</h3>", "<h3>Beslutning</h3><p>Godkendt med en tilføjelse om Kvasirparken.</p>", 1);
    assert_ne!(changed, html);
    item["Felter"][0]["Html"] = Value::String(changed);
    item["Bilag"].as_array_mut().unwrap().push(serde_json::json!({"Id": "0e7a1d00-0000-4000-8000-000000000001", "Navn": "Bilag 9. Tilføjelse", "HarPdfVersion": "true", "Order": 0}));
    byraad_meeting["Moede"]["Navn"] = Value::String("Referat".into());
    {
        let mut s = site.lock().unwrap();
        s.log.clear();
        s.resources.insert("/api/agenda/udvalgsliste".into(), json_resource(listing(&meetings)));
        let m = &meetings.iter().find(|(id, _)| *id == byraad_id).unwrap().1;
        s.resources.insert(format!("/api/agenda/dagsorden/{byraad_id}"), json_resource(serde_json::to_vec(m).unwrap()));
        s.resources.insert("/vis/pdf/bilag/0e7a1d00-0000-4000-8000-000000000001".into(), attachment("0e7a1d00-0000-4000-8000-000000000001", "Bilag 9. Tilføjelse"));
    }
    let second_report = reports.path().join("second.json");
    let out = byraad(data.path(), &["sync", "--corpus", corpus.path().to_str().unwrap(), "--report", second_report.to_str().unwrap()]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let second = report(&second_report);
    let asked: Vec<String> = site.lock().unwrap().log.iter().map(|l| l.path.clone()).collect();
    let mut asked_sorted = asked.clone();
    asked_sorted.sort();
    assert_eq!(
        asked_sorted,
        ["/api/agenda/dagsorden/".to_string() + &byraad_id, "/api/agenda/udvalgsliste".into(), "/robots.txt".into(), "/vis/pdf/bilag/0e7a1d00-0000-4000-8000-000000000001".into()],
        "only what changed is asked for: {asked:?}"
    );
    assert_eq!(urls(&second, "changed"), [format!("{base}/api/agenda/dagsorden/{byraad_id}"), format!("{base}/api/agenda/udvalgsliste")], "{second}");
    assert_eq!(urls(&second, "new"), [format!("{base}/vis/pdf/bilag/0e7a1d00-0000-4000-8000-000000000001")], "{second}");
    assert!(urls(&second, "removed").is_empty() && urls(&second, "failed").is_empty(), "{second}");
    // The changed meeting and the new attachment are ingested again, nothing else.
    assert!(stdout(&out).contains("(2 changed, "), "{}", stdout(&out));
    let hits = search_sources(data.path(), "Kvasirparken");
    assert!(hits.iter().any(|d| d.ends_with(&byraad_id.to_lowercase())), "{hits:?}");
}
