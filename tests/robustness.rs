//! The real server against hostile and unlucky clients: malformed and oversized input, slow and
//! silent connections, bursts, a client leaving mid-stream, SIGTERM. Every refusal is a 4xx
//! (or a 503 with Retry-After) with a JSON body naming the problem, never a 5xx, and `/healthz`
//! answers after each.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::time::{Duration, Instant};

use common::raw::{self, Raw};
use common::{Server, byraad, stderr};
use serde_json::json;

fn small_corpus_data() -> tempfile::TempDir {
    let corpus = common::write_corpus(&[
        (
            "manifest.toml",
            "[[document]]\npath = \"referat.txt\"\ntitle = \"Referat, Teknisk Udvalg 3. marts 2025\"\nkind = \"referat\"\nbody = \"Teknisk Udvalg\"\ndate = \"2025-03-03\"\n",
        ),
        ("referat.txt", "Punkt 1: Cykelstier\nUdvalget besluttede at anlægge en cykelsti på Randersvej for 12 mio. kr.\n\nPunkt 2: Busser\nUdvalget godkendte en ny buslinje til Lisbjerg.\n"),
    ]);
    let data = tempfile::tempdir().unwrap();
    let out = byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    data
}

fn json_post(path: &str) -> String {
    format!("POST {path} HTTP/1.1\r\nContent-Type: application/json")
}

/// Asserts `r` is a refusal with a JSON error naming the problem (`needle` in its message).
fn assert_refused(case: &str, r: &Raw, statuses: &[u16], needle: &str) {
    assert!(statuses.contains(&r.status), "{case}: status {} not in {statuses:?}: {}", r.status, r.text());
    let body = r.json();
    let message = body["error"]["message"].as_str().unwrap_or_else(|| panic!("{case}: not a JSON error: {:?}", r.text()));
    assert!(body["error"]["code"].is_string(), "{case}: no code: {body}");
    assert!(message.to_lowercase().contains(&needle.to_lowercase()), "{case}: {message:?} does not name {needle:?}");
}

fn assert_healthy(server: &Server, case: &str) {
    let (status, body) = server.get("/healthz");
    assert_eq!(status, 200, "{case}: /healthz after it: {body}");
}

/// A bad request: its name, request head, body, the statuses allowed and what the message must
/// name.
type Case<'a> = (&'a str, String, Vec<u8>, &'a [u16], &'a str);

#[test]
fn every_bad_request_is_a_4xx_json_error_naming_the_problem_and_the_server_stays_healthy() {
    let server = Server::start(small_corpus_data());
    let base = &server.base;
    let big_body = format!("{{\"query\": \"{}\"}}", "a".repeat(200_000));
    let huge_token = format!("{{\"query\": \"{}\"}}", "x".repeat(50_000));
    let thousand = json!({"messages": (0..1000).map(|i| json!({"role": if i % 2 == 0 { "user" } else { "assistant" }, "content": "hej"})).collect::<Vec<_>>()}).to_string();
    let too_much_talk = json!({"messages": (0..15).map(|i| json!({"role": if i % 2 == 0 { "user" } else { "assistant" }, "content": "ord ".repeat(900)})).collect::<Vec<_>>()}).to_string();
    let long_header = format!("GET /v1/models HTTP/1.1\r\nX-Padding: {}", "p".repeat(20_000));
    let long_target = format!("GET /v1/rules/lookup?q={} HTTP/1.1", "a".repeat(10_000));
    let cases: Vec<Case> = vec![
        ("malformed JSON", json_post("/v1/search"), b"{\"query\":".to_vec(), &[400], "json"),
        ("JSON array as search", json_post("/v1/search"), b"[\"habilitet\", 5]".to_vec(), &[400], "object"),
        ("JSON string as chat", json_post("/v1/chat"), b"\"hej\"".to_vec(), &[400], "object"),
        ("empty body", json_post("/v1/search"), Vec::new(), &[400], "empty"),
        ("wrong type", json_post("/v1/search"), br#"{"query": 5}"#.to_vec(), &[400], "query"),
        ("wrong type of limit", json_post("/v1/search"), br#"{"query": "cykelsti", "limit": "ti"}"#.to_vec(), &[400], "limit"),
        ("unknown field", json_post("/v1/search"), br#"{"query": "cykelsti", "sort": "date"}"#.to_vec(), &[400], "sort"),
        ("limit out of range", json_post("/v1/search"), br#"{"query": "cykelsti", "limit": 100000}"#.to_vec(), &[400], "limit"),
        ("invalid UTF-8 in the body", json_post("/v1/search"), b"{\"query\": \"\xff\xfe\"}".to_vec(), &[400], "utf-8"),
        ("NUL in the query", json_post("/v1/search"), br#"{"query": "cykel\u0000sti"}"#.to_vec(), &[400], "control"),
        ("escape sequence in the question", json_post("/v1/chat"), br#"{"messages": [{"role": "user", "content": "\u001b[2Jhvad?"}]}"#.to_vec(), &[400], "control"),
        ("oversized body", json_post("/v1/search"), big_body.into_bytes(), &[413], "larger"),
        ("huge single token", json_post("/v1/search"), huge_token.into_bytes(), &[400], "longer"),
        ("1,000-message chat", json_post("/v1/chat"), thousand.into_bytes(), &[400, 413], "messages"),
        ("conversation too long", json_post("/v1/chat"), too_much_talk.into_bytes(), &[400], "characters"),
        ("empty question", json_post("/v1/chat"), br#"{"messages": [{"role": "user", "content": "  "}]}"#.to_vec(), &[400], "empty"),
        ("bad role", json_post("/v1/chat"), br#"{"messages": [{"role": "root", "content": "hej"}]}"#.to_vec(), &[400], "role"),
        ("draft dated beyond any calendar", json_post("/v1/inquiries/draft"), br#"{"member": "A", "party": "SF", "text": "Hvad koster cykelstien?", "date": "+262142-12-31"}"#.to_vec(), &[400], "date"),
        ("draft dated year 99999", json_post("/v1/inquiries/draft"), br#"{"member": "A", "party": "SF", "text": "Hvad koster cykelstien?", "date": "99999-01-01"}"#.to_vec(), &[400], "date"),
        ("date filter out of range", json_post("/v1/search"), br#"{"query": "cykelsti", "filters": {"date_from": "0001-01-01"}}"#.to_vec(), &[400], "date_from"),
        ("bad feedback rating", json_post("/v1/feedback"), br#"{"rating": "meh", "question": "q", "answer": "a"}"#.to_vec(), &[400], "rating"),
        ("wrong content type", "POST /v1/search HTTP/1.1\r\nContent-Type: text/plain".into(), br#"{"query": "cykelsti"}"#.to_vec(), &[400, 415], "content-type"),
        ("no content type", "POST /v1/chat HTTP/1.1".into(), br#"{"messages": []}"#.to_vec(), &[400, 415], "content-type"),
        ("wrong method on search", "GET /v1/search HTTP/1.1".into(), Vec::new(), &[405], "method"),
        ("wrong method on chat", "DELETE /v1/chat HTTP/1.1".into(), Vec::new(), &[405], "method"),
        ("unknown endpoint", "GET /v2/everything HTTP/1.1".into(), Vec::new(), &[404], "endpoint"),
        ("traversal in a document id", "GET /v1/documents/..%2F..%2F..%2Fetc%2Fpasswd HTTP/1.1".into(), Vec::new(), &[400, 404], ""),
        ("encoded dots in a document id", "GET /v1/documents/%2e%2e%2f%2e%2e%2fconfig HTTP/1.1".into(), Vec::new(), &[400, 404], ""),
        ("double-encoded traversal", "GET /v1/documents/%252e%252e%252fetc HTTP/1.1".into(), Vec::new(), &[400, 404], ""),
        ("backslash traversal", "GET /v1/documents/..%5C..%5Cwindows HTTP/1.1".into(), Vec::new(), &[400, 404], ""),
        ("traversal to an original", "GET /v1/documents/..%2Fmanifest/original HTTP/1.1".into(), Vec::new(), &[400, 404], ""),
        ("traversal in a page", "GET /documents/..%2F..%2Fetc%2Fshadow HTTP/1.1".into(), Vec::new(), &[400, 404], ""),
        ("traversal in a draft", "GET /v1/inquiries/drafts/..%2F..%2Fbyraad.db HTTP/1.1".into(), Vec::new(), &[400, 404], ""),
        ("bad UTF-8 in the path", "GET /v1/documents/%FF%FE HTTP/1.1".into(), Vec::new(), &[400], "utf-8"),
        ("NUL in the path", "GET /v1/documents/referat%00.txt HTTP/1.1".into(), Vec::new(), &[400], "control"),
        ("bad UTF-8 in the query string", "GET /v1/rules/lookup?q=%FF HTTP/1.1".into(), Vec::new(), &[400], "utf-8"),
        ("unknown query parameter", "GET /v1/rules/lookup?q=habilitet&x=1 HTTP/1.1".into(), Vec::new(), &[400], "x"),
        ("bad limit parameter", "GET /v1/rules/lookup?q=habilitet&limit=-1 HTTP/1.1".into(), Vec::new(), &[400], "limit"),
        ("headers too large", long_header, Vec::new(), &[431], "header"),
        ("request target too long", long_target, Vec::new(), &[414], "target"),
        ("unknown model", json_post("/v1/chat/completions"), br#"{"model": "gpt-5", "messages": [{"role": "user", "content": "hej"}]}"#.to_vec(), &[404], "model"),
        ("completions body not an object", json_post("/v1/chat/completions"), b"[1]".to_vec(), &[400], "object"),
        ("an MCP message that is not JSON by its type", "POST /mcp HTTP/1.1\r\nContent-Type: text/plain\r\nAccept: application/json, text/event-stream".into(), b"{}".to_vec(), &[415], "content-type"),
        ("not a method", "G@T /healthz HTTP/1.1".into(), Vec::new(), &[400], "http"),
        ("a header without a colon", "GET /healthz HTTP/1.1\r\nthis is no header".into(), Vec::new(), &[400], "http"),
        ("two hundred headers", format!("GET /healthz HTTP/1.1{}", (0..200).map(|i| format!("\r\nX-H{i}: v")).collect::<String>()), Vec::new(), &[431], "headers"),
    ];
    let mut fivexx = 0;
    for (case, head, body, statuses, needle) in &cases {
        let r = raw::send(base, head, body);
        if r.status >= 500 {
            fivexx += 1;
        }
        assert_refused(case, &r, statuses, needle);
        assert_healthy(&server, case);
    }
    eprintln!("bad-input cases: {}, 5xx: {fivexx}", cases.len());
    assert_eq!(fivexx, 0);
}

#[test]
fn a_client_leaving_mid_stream_is_audited_once_as_aborted_or_done_never_left_open() {
    let server = Server::start(small_corpus_data());
    for _ in 0..5 {
        // Send the question and hang up at once, or after the first bytes.
        for read_first in [false, true] {
            let mut s = TcpStream::connect(raw::addr(&server.base)).unwrap();
            let body = json!({"messages": [{"role": "user", "content": "Hvad koster cykelstien på Randersvej?"}], "stream": true}).to_string();
            write!(s, "POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
            if read_first {
                let mut first = [0u8; 64];
                let _ = s.read(&mut first);
            }
            drop(s);
        }
    }
    assert_healthy(&server, "after the disconnects");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let entries = audit_entries(server.data());
        let starts = entries.iter().filter(|e| e["endpoint"] == "POST /v1/chat" && e["stream"].is_null()).count();
        let ends: Vec<_> = entries.iter().filter(|e| e["endpoint"] == "POST /v1/chat" && !e["stream"].is_null()).collect();
        if starts == 10 && ends.len() == 10 {
            for e in &ends {
                assert!(e["stream"] == "done" || e["stream"] == "aborted", "{e}");
            }
            eprintln!("streams ended: {} done, {} aborted", ends.iter().filter(|e| e["stream"] == "done").count(), ends.iter().filter(|e| e["stream"] == "aborted").count());
            break;
        }
        assert!(Instant::now() < deadline, "{starts} of 10 streams recorded, {} ended: every request that reached a handler is recorded, and every stream ends in the audit log", ends.len());
        std::thread::sleep(Duration::from_millis(100));
    }
    let verify = byraad(server.data(), &["audit", "verify"]);
    assert!(verify.status.success(), "{}{}", common::stdout(&verify), stderr(&verify));
}

fn audit_entries(data: &std::path::Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let Ok(files) = std::fs::read_dir(data.join("audit")) else { return out };
    for f in files {
        for line in std::fs::read_to_string(f.unwrap().path()).unwrap().lines() {
            out.push(serde_json::from_str(line).unwrap());
        }
    }
    out
}

#[test]
fn a_principal_beyond_its_rate_gets_429_with_retry_after_and_others_go_on() {
    let server = Server::start_with(small_corpus_data(), &[("BYRAAD__SERVER__RATE_PER_MINUTE", "60".into()), ("BYRAAD__SERVER__RATE_BURST", "3".into())]);
    let search = || common::http().post(server.url("/v1/search")).json(&json!({"query": "cykelsti"})).send().unwrap();
    for _ in 0..3 {
        assert_eq!(search().status().as_u16(), 200);
    }
    let r = search();
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Health checks are never limited.
    assert_healthy(&server, "rate limited");
    std::thread::sleep(Duration::from_secs(retry) + Duration::from_millis(200));
    assert_eq!(search().status().as_u16(), 200, "allowed again after Retry-After");
}

#[test]
fn slow_and_silent_connections_are_cut_and_over_the_cap_refused_while_healthz_answers() {
    let server = Server::start_with(
        small_corpus_data(),
        &[("BYRAAD__SERVER__MAX_CONNECTIONS", "8".into()), ("BYRAAD__SERVER__HEADER_TIMEOUT_SECS", "1".into()), ("BYRAAD__SERVER__BODY_TIMEOUT_SECS", "1".into())],
    );
    let addr = raw::addr(&server.base);
    // Slowloris: eight connections send half a request line and stop.
    let mut slow: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // Over the cap: answered at once with a JSON 503, never left hanging.
    let started = Instant::now();
    let r = raw::send(&server.base, "GET /healthz HTTP/1.1", b"");
    assert!(started.elapsed() < Duration::from_secs(2), "the refusal took {:?}", started.elapsed());
    if r.status == 503 {
        assert_eq!(r.json()["error"]["code"], "busy", "{}", r.text());
        assert_eq!(r.header("retry-after"), Some("1"));
    }
    // The header timeout cuts the slow ones; then /healthz answers.
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 512];
        let started = Instant::now();
        let n = s.read(&mut buf).unwrap_or(0);
        assert!(started.elapsed() < Duration::from_secs(4), "a slow connection stayed open");
        let _ = n;
    }
    let (status, _) = server.get("/healthz");
    assert_eq!(status, 200);

    // A slow body: the headers arrive, the body never does.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"query\"").unwrap();
    let r = raw::read_response(&mut s);
    assert_refused("slow body", &r, &[408], "body");

    // An idle kept-alive connection is closed after the same timeout.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    let closed = s.read(&mut buf).unwrap_or(0) == 0;
    assert!(closed && started.elapsed() < Duration::from_secs(4), "idle connection open after {:?}", started.elapsed());
}

#[test]
fn sigterm_drains_reports_draining_and_exits_cleanly() {
    let mut server = Server::start_with(small_corpus_data(), &[("BYRAAD__SERVER__SHUTDOWN_DELAY_SECS", "2".into())]);
    let (status, body) = server.get("/readyz");
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
    server.terminate();
    std::thread::sleep(Duration::from_millis(300));
    let (status, body) = server.get("/readyz");
    assert_eq!((status, body["status"].as_str()), (503, Some("draining")), "{body}");
    let (status, body) = server.get("/healthz");
    assert_eq!((status, body["status"].as_str()), (200, Some("draining")), "{body}");
    // Requests are still answered while draining.
    let (status, _) = server.post("/v1/search", &json!({"query": "cykelsti"}));
    assert_eq!(status, 200);
    assert_eq!(server.wait_exit(Duration::from_secs(15)), Some(0), "{}", server.log());
    assert!(server.log().contains("drained") && server.log().contains("database closed"), "{}", server.log());
    let verify = byraad(server.data(), &["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

/// A TCP connection to `addr` from the loopback address `from` (127.0.0.x): another client.
fn connect_from(from: [u8; 4], addr: &str) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
    let stream = runtime
        .block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind((IpAddr::from(from), 0).into())?;
            socket.connect(addr.parse().unwrap()).await?.into_std()
        })
        .unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

/// A client whose requests come from `from`.
fn client_from(from: [u8; 4]) -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder().local_address(IpAddr::from(from)).build().unwrap()
}

/// Whether the server still holds `s` open (nothing to read, no end of stream).
fn open(s: &TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let open = matches!(s.peek(&mut [0u8; 1]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    s.set_nonblocking(false).unwrap();
    open
}

/// One address holding many idle connections, then many addresses filling every place with idle
/// ones: another address's searches and `/healthz` are all answered, the first address keeps
/// only its share, and idle connections make room before a busy one is touched.
#[test]
fn idle_connections_of_one_or_many_addresses_never_keep_others_out() {
    let server = Server::start_with(small_corpus_data(), &[("BYRAAD__SERVER__MAX_CONNECTIONS", "24".into()), ("BYRAAD__SERVER__MAX_CONNECTIONS_PER_ADDRESS", "8".into())]);
    let addr = raw::addr(&server.base);
    let member = client_from([127, 0, 0, 2]);
    let answered = |n: usize| {
        for i in 0..n {
            let r = member.post(server.url("/v1/search")).json(&json!({"query": "cykelsti"})).send().unwrap();
            assert_eq!(r.status().as_u16(), 200, "search {i}: {}", r.text().unwrap_or_default());
            let r = member.get(server.url("/healthz")).send().unwrap();
            assert_eq!(r.status().as_u16(), 200, "/healthz {i}");
        }
    };
    // A request in flight: its headers sent, its body not yet.
    let mut busy = connect_from([127, 0, 0, 9], &addr);
    let body = json!({"query": "cykelsti"}).to_string();
    write!(busy, "POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", body.len(), &body[..5]).unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let idle: Vec<TcpStream> = (0..40).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    answered(10);
    let still = idle.iter().filter(|s| open(s)).count();
    assert!(still <= 8, "one address holds at most its share: {still} of 40 still open");

    // Four more addresses, eight idle connections each: more than all the places there are.
    let crowd: Vec<TcpStream> = (3..7).flat_map(|last| (0..8).map(move |_| last)).map(|last| connect_from([127, 0, 0, last], &addr)).collect();
    std::thread::sleep(Duration::from_millis(300));
    answered(10);
    let open_now = idle.iter().chain(&crowd).filter(|s| open(s)).count();
    assert!(open_now <= 24, "{open_now} idle connections open beyond the cap");

    // The busy request was never cut to make room: it completes.
    busy.write_all(&body.as_bytes()[5..]).unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let r = raw::read_response(&mut busy);
    assert_eq!(r.status, 200, "the request in flight is answered: {}", r.text());
}

/// When every place is held by a busy connection, a new one is refused with a JSON error, but
/// a health check on it is still answered.
#[test]
fn health_checks_are_answered_while_every_connection_is_busy() {
    let server = Server::start_with(small_corpus_data(), &[("BYRAAD__SERVER__MAX_CONNECTIONS", "4".into())]);
    let addr = raw::addr(&server.base);
    let body = json!({"query": "cykelsti"}).to_string();
    let mut busy: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = connect_from([127, 0, 0, 3], &addr);
            write!(s, "POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", body.len(), &body[..5]).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let other = client_from([127, 0, 0, 4]);
    for _ in 0..5 {
        let r = other.get(server.url("/healthz")).send().unwrap();
        assert_eq!(r.status().as_u16(), 200, "a load balancer's check is answered");
        let r = other.get(server.url("/readyz")).send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let r = other.post(server.url("/v1/search")).json(&json!({"query": "cykelsti"})).send().unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["error"]["code"], "busy");
    let r = client_from([127, 0, 0, 3]).post(server.url("/v1/search")).json(&json!({"query": "cykelsti"})).send().unwrap();
    assert_eq!(r.status().as_u16(), 429, "the address holding every place gets no more");
    assert_eq!(r.json::<serde_json::Value>().unwrap()["error"]["code"], "too_many_connections");
    for s in &mut busy {
        s.write_all(&body.as_bytes()[5..]).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(raw::read_response(s).status, 200, "busy connections finish");
    }
}

/// What HTTP answers before any handler is JSON too: a head sent too slowly gets a 408, a body
/// declared larger than allowed a 413 before any of it is sent (no `100 Continue`), a slow body
/// to `/mcp` a 408; and MCP's malformed messages get JSON-RPC's own errors.
#[test]
fn what_http_and_mcp_refuse_before_a_handler_is_a_json_error() {
    let server = Server::start_with(small_corpus_data(), &[("BYRAAD__SERVER__HEADER_TIMEOUT_SECS", "1".into()), ("BYRAAD__SERVER__BODY_TIMEOUT_SECS", "1".into())]);
    let addr = raw::addr(&server.base);
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_refused("a head sent too slowly", &raw::read_response(&mut slow), &[408], "headers");

    let mut big = TcpStream::connect(&addr).unwrap();
    big.write_all(b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\nExpect: 100-continue\r\n\r\n").unwrap();
    big.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut head = [0u8; 512];
    let n = big.read(&mut head).unwrap();
    let text = String::from_utf8_lossy(&head[..n]).into_owned();
    assert!(text.starts_with("HTTP/1.1 413"), "refused at once, with no 100 Continue: {text}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

    let mcp_head = "POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream";
    let mut slow_body = TcpStream::connect(&addr).unwrap();
    write!(slow_body, "{mcp_head}\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"jsonrpc\"").unwrap();
    slow_body.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_refused("a slow body to /mcp", &raw::read_response(&mut slow_body), &[408], "body");

    let cases: [(&str, &[u8], i64); 5] = [
        ("not JSON", b"{\"jsonrpc\": \"2.0\", \"id\": 1,", -32700),
        ("a batch", b"[{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"ping\"}]", -32600),
        ("not JSON-RPC", b"{\"hello\": 1}", -32600),
        ("a tool call without the tool's name", b"{\"jsonrpc\": \"2.0\", \"id\": 4, \"method\": \"tools/call\", \"params\": {\"arguments\": {}}}", -32602),
        ("initialize without its parameters", b"{\"jsonrpc\": \"2.0\", \"id\": 5, \"method\": \"initialize\", \"params\": {\"capabilities\": 3}}", -32602),
    ];
    for (case, body, code) in cases {
        let r = raw::send(&server.base, mcp_head, body);
        assert_eq!(r.status, 400, "{case}: {}", r.text());
        let v = r.json();
        assert_eq!((v["jsonrpc"].as_str(), v["error"]["code"].as_i64()), (Some("2.0"), Some(code)), "{case}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: {v}");
    }
    assert_healthy(&server, "after the refusals");
}

/// A flood of refused requests (a bad token, a rate exceeded) writes a bounded number of audit
/// lines, the rest counted into one line per kind.
#[test]
fn a_flood_of_refused_requests_is_counted_not_written_line_by_line() {
    let server = Server::start_with(
        small_corpus_data(),
        &[("BYRAAD__SERVER__RATE_PER_MINUTE", "60".into()), ("BYRAAD__SERVER__RATE_BURST", "3".into()), ("BYRAAD__AUDIT__REFUSAL_SUMMARY_SECS", "2".into())],
    );
    let client = common::http();
    let (mut bad_token, mut limited) = (0u64, 0u64);
    let started = Instant::now();
    for _ in 0..600 {
        let r = client.post(server.url("/v1/search")).bearer_auth("ikke-et-token").json(&json!({"query": "cykelsti"})).send().unwrap();
        bad_token += u64::from(r.status().as_u16() == 401);
        let r = client.post(server.url("/v1/search")).json(&json!({"query": "cykelsti"})).send().unwrap();
        limited += u64::from(r.status().as_u16() == 429);
    }
    let flood = started.elapsed();
    assert_eq!((bad_token, limited), (600, 597), "every bad token refused; all but the burst limited");
    let during = audit_entries(server.data()).len();
    eprintln!("{} refused requests in {flood:?}: {during} audit lines written", bad_token + limited);
    assert!(during <= 10, "{during} audit lines for a flood of {} refusals", bad_token + limited);

    // The counts come in one line per kind when the interval is over.
    let deadline = Instant::now() + Duration::from_secs(10);
    let counted = loop {
        let entries = audit_entries(server.data());
        let count = |status: u64| entries.iter().filter(|e| e["status"] == status).map(|e| e["repeated"].as_u64().unwrap_or(1)).sum::<u64>();
        if (count(401), count(429)) == (bad_token, limited) {
            break entries;
        }
        assert!(Instant::now() < deadline, "refusals counted: 401 {} of {bad_token}, 429 {} of {limited}", count(401), count(429));
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(counted.len() <= 10, "{} lines", counted.len());
    assert!(counted.iter().any(|e| e["repeated"].as_u64() == Some(bad_token - 1) && e["principal"] == "-"), "{counted:?}");

    let verify = byraad(server.data(), &["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

/// Every request that reached a handler is recorded, also when its client hung up right after
/// sending it.
#[test]
fn requests_whose_clients_leave_at_once_are_audited_all_the_same() {
    let server = Server::start(small_corpus_data());
    for i in 0..40 {
        let mut s = TcpStream::connect(raw::addr(&server.base)).unwrap();
        let body = json!({"query": format!("forladt {i}")}).to_string();
        write!(s, "POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        drop(s);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let entries = audit_entries(server.data());
        let abandoned: std::collections::BTreeSet<&str> = entries.iter().filter_map(|e| e["query"].as_str()).filter(|q| q.starts_with("forladt ")).collect();
        if abandoned.len() == 40 {
            break;
        }
        assert!(Instant::now() < deadline, "{} of 40 requests recorded", abandoned.len());
        std::thread::sleep(Duration::from_millis(200));
    }
}
