//! A throwaway PostgreSQL cluster in a temporary directory on a free port (Debian's
//! `postgresql` package: `initdb` and `pg_ctl`), stopped on drop. PostgreSQL refuses to run as
//! root; as root the cluster runs as the `postgres` user.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

/// Where `initdb` and `pg_ctl` are: on the PATH, or in Debian's versioned directory.
fn bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("sh").args(["-c", "command -v pg_ctl"]).output()
        && out.status.success()
    {
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if let Ok(real) = std::fs::canonicalize(&path) {
            return real.parent().unwrap().to_path_buf();
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql").map(|d| d.flatten().map(|e| e.path().join("bin")).filter(|p| p.join("pg_ctl").is_file()).collect()).unwrap_or_default();
    versions.sort();
    versions.pop().expect("PostgreSQL is needed for the storage tests: initdb and pg_ctl (Debian's postgresql package; `make setup` installs it)")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Postgres {
    /// Initialises and starts a cluster with a trusted user `byraad` and database `byraad`.
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let pg = Postgres { dir, bin, port: free_port(), as_postgres };
        let data = pg.data();
        pg.run("initdb", &["-D", data.to_str().unwrap(), "-U", "byraad", "--auth=trust", "--encoding=UTF8", "--no-sync"]);
        let opts = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", pg.port, pg.dir.path().display());
        let log = pg.dir.path().join("pg.log");
        pg.run("pg_ctl", &["-D", data.to_str().unwrap(), "-o", &opts, "-l", log.to_str().unwrap(), "-w", "-t", "60", "start"]);
        pg.run("createdb", &["-h", "127.0.0.1", "-p", &pg.port.to_string(), "-U", "byraad", "byraad"]);
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).current_dir(self.dir.path()).output().unwrap_or_else(|e| panic!("{}: {e}", exe.display()));
        assert!(out.status.success(), "{tool} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }

    /// The database's URL.
    pub fn url(&self) -> String {
        format!("postgres://byraad@127.0.0.1:{}/byraad", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let exe = self.bin.join("pg_ctl");
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let _ = cmd.args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"]).output();
    }
}
