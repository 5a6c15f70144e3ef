//! One writer per data directory: `byraad ingest`, and `byraad serve` when it holds the embedded
//! vector store or ingests itself (`--watch`), lock `<data>/writer.lock` (an OS file lock,
//! released when the process ends, however it ends) and write who they are into it. A second
//! writer is refused with an error naming the holder; a reader (`search`, `ask`, `stats`) that
//! finds the embedded vector store held answers from the lexical index and says why.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const FILE: &str = "writer.lock";

/// Who holds a data directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    /// The process.
    pub pid: u32,
    /// `ingest` or `serve`.
    pub command: String,
    /// Since when.
    pub since: chrono::DateTime<chrono::Utc>,
    /// Where a server listens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
}

impl Holder {
    /// Whether it is this process.
    pub fn is_me(&self) -> bool {
        self.pid == std::process::id()
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`byraad {}` (pid {}, since {}", self.command, self.pid, self.since.format("%Y-%m-%d %H:%M:%S UTC"))?;
        if let Some(addr) = &self.addr {
            write!(f, ", serving {addr}")?;
        }
        write!(f, ")")
    }
}

/// The data directory's writer lock, held until dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

fn path(data: &Path) -> PathBuf {
    data.join(FILE)
}

impl WriterLock {
    /// Takes the lock of `data` for `command`, or fails naming who holds it.
    pub fn acquire(data: &Path, command: &str, addr: Option<String>) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", data.display()))?;
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path(data)).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path(data).display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file).map_or_else(|| "another process".to_string(), |h| h.to_string());
                anyhow::bail!(
                    "the data directory {} is being written by {holder}: two writers cannot share it. Stop that process first, or let the server ingest the corpus itself (`byraad serve --watch`)",
                    data.display()
                );
            }
            Err(TryLockError::Error(e)) => anyhow::bail!("cannot lock {}: {e}", path(data).display()),
        }
        let holder = Holder { pid: std::process::id(), command: command.to_string(), since: chrono::Utc::now(), addr };
        file.set_len(0)?;
        file.write_all(serde_json::to_string(&holder)?.as_bytes())?;
        file.sync_all()?;
        Ok(Self { _file: file })
    }

    /// Who holds the lock of `data`, if anyone (this process included).
    pub fn holder(data: &Path) -> Option<Holder> {
        let mut file = OpenOptions::new().read(true).open(path(data)).ok()?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.unlock();
                None
            }
            Err(_) => Some(read_holder(&mut file).unwrap_or(Holder { pid: 0, command: "?".into(), since: chrono::Utc::now(), addr: None })),
        }
    }
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_naming_the_first() {
        let dir = tempfile::tempdir().unwrap();
        assert!(WriterLock::holder(dir.path()).is_none());
        let lock = WriterLock::acquire(dir.path(), "serve", Some("http://127.0.0.1:8080".into())).unwrap();
        let holder = WriterLock::holder(dir.path()).unwrap();
        assert!(holder.is_me() && holder.command == "serve");
        let err = WriterLock::acquire(dir.path(), "ingest", None).unwrap_err().to_string();
        assert!(err.contains("`byraad serve`") && err.contains(&format!("pid {}", std::process::id())) && err.contains("http://127.0.0.1:8080"), "{err}");
        drop(lock);
        assert!(WriterLock::holder(dir.path()).is_none(), "released");
        WriterLock::acquire(dir.path(), "ingest", None).unwrap();
    }
}
