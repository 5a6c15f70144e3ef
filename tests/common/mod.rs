//! Helpers of the end-to-end and CLI tests: the real binary, a real index on disk, a real server
//! on a free loopback port.
#![allow(dead_code, clippy::unwrap_used)]

pub mod clients;
pub mod idp;
pub mod llm;
pub mod model;
pub mod pdf;
pub mod postgres;
pub mod raw;
pub mod restricted;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_byraad");

/// An HTTP client. reqwest is built with rustls and no built-in crypto provider: the process
/// installs ring first, as the binary does.
pub fn http() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::new()
}

/// The bundled corpus.
pub fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

/// Lexical tests run without dense retrieval (embedding the bundled corpus takes minutes); the
/// dense and hybrid tests (`hybrid.rs`) turn it on for a small corpus.
pub const LEXICAL: (&str, &str) = ("BYRAAD__DENSE__BACKEND", "none");

/// Runs `byraad ARGS` with `data` as data directory, lexical only.
pub fn byraad(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN).args(args).arg("--data").arg(data).env_remove("BYRAAD_LOG").env(LEXICAL.0, LEXICAL.1).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temporary corpus holding `files` (path, content), `manifest.toml` among them.
pub fn write_corpus(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        std::fs::write(dir.path().join(path), content).unwrap();
    }
    dir
}

/// A temporary data directory with the bundled corpus ingested.
pub fn ingested() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let out = byraad(data.path(), &["ingest", "--corpus", corpus().to_str().unwrap()]);
    assert!(out.status.success(), "ingest failed: {}", stderr(&out));
    data
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A temporary data directory with the bundled corpus ingested, plus two published-form answers
/// to earlier forespørgsler (`tests/fixtures/forespoergsler`, under `forespoergsler/`).
pub fn ingested_with_inquiries() -> tempfile::TempDir {
    let corpus = tempfile::tempdir().unwrap();
    copy_dir(&self::corpus(), corpus.path());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/forespoergsler");
    copy_dir(&fixtures, &corpus.path().join("forespoergsler"));
    let extra = std::fs::read_to_string(fixtures.join("manifest.toml")).unwrap().replace("path = \"", "path = \"forespoergsler/");
    let manifest = corpus.path().join("manifest.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text = text.replace("exclude = [\"README.md\"]", "exclude = [\"README.md\", \"forespoergsler/manifest.toml\"]");
    text.push_str(&extra);
    std::fs::write(&manifest, text).unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]);
    assert!(out.status.success(), "ingest failed: {}", stderr(&out));
    data
}

/// A running `byraad serve`, killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    _data: Option<tempfile::TempDir>,
    dir: PathBuf,
    /// The server's standard error (its log).
    log: tempfile::NamedTempFile,
}

impl Server {
    /// Starts the server on a free loopback port and waits for `/healthz`.
    pub fn start(data: tempfile::TempDir) -> Server {
        Self::start_with(data, &[])
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs JSON, returns status and body.
    pub fn post(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let r = http().post(self.url(path)).json(body).send().unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(serde_json::Value::Null))
    }

    /// The server's data directory.
    pub fn data(&self) -> &Path {
        &self.dir
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server with SIGKILL (nothing flushed, nothing drained) and waits for it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill -TERM {}", self.child.id());
    }

    /// Waits up to `limit` for the server to exit; its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the server did not exit within {limit:?}");
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap()
    }

    /// POSTs JSON and reads the answer as Server-Sent Events, `(event, data)`, until the stream
    /// ends or `stop` says so (the connection is then dropped).
    pub fn events(&self, path: &str, body: &serde_json::Value, mut stop: impl FnMut(&str, &serde_json::Value) -> bool) -> Vec<(String, serde_json::Value)> {
        let r = http().post(self.url(path)).json(body).send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let kind = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        let mut out = Vec::new();
        let (mut event, mut data) = (String::new(), String::new());
        for line in BufReader::new(r).lines() {
            let line = line.unwrap();
            if let Some(e) = line.strip_prefix("event:") {
                event = e.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.strip_prefix(' ').unwrap_or(d));
            } else if line.is_empty() && !data.is_empty() {
                let value: serde_json::Value = serde_json::from_str(&data).unwrap_or_else(|e| panic!("event {event} data is not JSON ({e}): {data}"));
                let done = stop(&event, &value);
                out.push((std::mem::take(&mut event), value));
                data.clear();
                if done {
                    break;
                }
            }
        }
        out
    }

    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = http().get(self.url(path)).send().unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(serde_json::Value::Null))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The imported e5 model (`make setup`).
pub fn model_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/multilingual-e5-small");
    assert!(dir.join("model.q4_0.gguf").is_file(), "the e5 model is needed in {} (run `make setup`)", dir.display());
    dir
}

impl Server {
    /// Starts the server with extra environment (configuration overrides) and waits for `/healthz`.
    pub fn start_with(data: tempfile::TempDir, env: &[(&str, String)]) -> Server {
        Self::start_args(data, &[], env)
    }

    /// Starts the server with extra arguments (`--config FILE`) and environment.
    pub fn start_args(data: tempfile::TempDir, args: &[&str], env: &[(&str, String)]) -> Server {
        let dir = data.path().to_path_buf();
        let mut server = Self::start_on(&dir, args, env);
        server._data = Some(data);
        server
    }

    /// Starts the server on a data directory it does not own (a restart on the same data) and
    /// waits for `/readyz`.
    pub fn start_on(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Server {
        let mut cmd = Command::new(BIN);
        let log = tempfile::NamedTempFile::new().unwrap();
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--data"]).arg(dir).args(args).stdout(Stdio::piped()).stderr(log.reopen().unwrap());
        cmd.env(LEXICAL.0, LEXICAL.1);
        // Tests share a server between many requests of one principal; the rate limit is
        // tested on its own (robustness.rs).
        cmd.env("BYRAAD__SERVER__RATE_PER_MINUTE", "0");
        // A server shared by a binary's tests lives in a static, which is never dropped: it
        // ends when the test binary does.
        cmd.env("BYRAAD_EXIT_WITH_PID", std::process::id().to_string());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
        let server = Server { child, base, _data: None, dir: dir.to_path_buf(), log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = http().get(format!("{}/readyz", server.base)).send()
                && r.status().is_success()
            {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server at {} did not become ready: {}", server.base, server.log());
    }
}
