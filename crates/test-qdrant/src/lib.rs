//! A real Qdrant server for tests: the binary named by `QDRANT_BIN`, else the workspace's
//! `../shared/tools/qdrant`, started on free loopback ports with its storage in a temporary
//! directory (and an API key when given), ready when [`Qdrant::start`] returns, stopped on drop.
//! A missing binary is an error naming it: the tests that need Qdrant fail, never skip.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Qdrant server.
pub struct Qdrant {
    child: Child,
    grpc: u16,
    http: u16,
    _storage: tempfile::TempDir,
    log: tempfile::NamedTempFile,
}

/// The Qdrant binary: `QDRANT_BIN`, else `../shared/tools/qdrant` beside the workspace.
pub fn binary() -> PathBuf {
    std::env::var_os("QDRANT_BIN").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/qdrant"), PathBuf::from)
}

/// Two free ports (both held until both are chosen).
fn free_ports() -> std::io::Result<(u16, u16)> {
    let a = TcpListener::bind("127.0.0.1:0")?;
    let b = TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

impl Qdrant {
    /// Starts a server (requiring `api_key` when given) and waits until it is ready. Tests
    /// running at once may pick the same free port: a start that fails is tried again on others.
    pub fn start(api_key: Option<&str>) -> Result<Self, String> {
        let mut last = String::new();
        for _ in 0..3 {
            match Self::start_once(api_key) {
                Ok(server) => return Ok(server),
                Err(e) if e.contains("is missing") => return Err(e),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn start_once(api_key: Option<&str>) -> Result<Self, String> {
        let bin = binary();
        if !bin.is_file() {
            return Err(format!("the Qdrant server binary {} is missing: set QDRANT_BIN to a Qdrant 1.18 binary", bin.display()));
        }
        let storage = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        let (grpc, http) = free_ports().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&bin);
        cmd.env("QDRANT__SERVICE__HOST", "127.0.0.1")
            .env("QDRANT__SERVICE__HTTP_PORT", http.to_string())
            .env("QDRANT__SERVICE__GRPC_PORT", grpc.to_string())
            .env("QDRANT__STORAGE__STORAGE_PATH", storage.path().join("storage"))
            .env("QDRANT__STORAGE__SNAPSHOTS_PATH", storage.path().join("snapshots"))
            .env("QDRANT__TELEMETRY_DISABLED", "true")
            .env_remove("QDRANT__SERVICE__API_KEY")
            .current_dir(storage.path())
            .stdin(Stdio::null())
            .stdout(log.reopen().map_err(|e| e.to_string())?)
            .stderr(log.reopen().map_err(|e| e.to_string())?);
        if let Some(key) = api_key {
            cmd.env("QDRANT__SERVICE__API_KEY", key);
        }
        let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut server = Qdrant { child, grpc, http, _storage: storage, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("Qdrant exited ({status}) before it was ready: {}", server.log()));
            }
            if server.ready() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("Qdrant was not ready within 60 s: {}", server.log()))
    }

    /// Whether `GET /readyz` answers 200 and the gRPC port takes connections.
    fn ready(&self) -> bool {
        if TcpStream::connect(("127.0.0.1", self.grpc)).is_err() {
            return false;
        }
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.http)) else { return false };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"GET /readyz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n").is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
    }

    /// The gRPC URL (what the Qdrant client speaks).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc)
    }

    /// The REST URL.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http)
    }

    /// What the server printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Qdrant {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
