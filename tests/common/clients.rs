//! The official client SDKs (MCP and OpenAI, Python, in the project's `.venv`), run against a
//! server by the scripts in `tests/clients/`, their JSON output parsed.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with the `mcp` and `openai` SDKs installed, or a failure naming what is missing.
fn python() -> PathBuf {
    let python = root().join(".venv/bin/python");
    let ok = Command::new(&python).args(["-c", "import mcp, openai"]).output().is_ok_and(|o| o.status.success());
    assert!(ok, "the official MCP and OpenAI Python SDKs (`mcp`, `openai`) are needed in {} (run `make setup`)", python.display());
    python
}

/// Runs `tests/clients/<script> ARGS` and parses what it prints.
pub fn run(script: &str, args: &[&str]) -> Value {
    let out = Command::new(python()).arg(root().join("tests/clients").join(script)).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}"))
}

/// The MCP SDK connected to `url` (the server's `/mcp`) as `token`, making `calls` (a list of
/// `{"tool", "arguments"}`) in one session.
pub fn mcp(url: &str, token: Option<&str>, calls: &Value) -> Value {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), calls.to_string()).unwrap();
    let mut args = vec![url, "--calls", file.path().to_str().unwrap()];
    if let Some(t) = token {
        args.extend(["--token", t]);
    }
    run("mcp_calls.py", &args)
}

/// The OpenAI SDK asking `questions` at `base` (ending in `/v1`) as `token`, each streamed and not.
pub fn openai(base: &str, token: Option<&str>, model: &str, questions: &[&str]) -> Value {
    let mut args = vec![base, "--model", model];
    for q in questions {
        args.extend(["--question", q]);
    }
    if let Some(t) = token {
        args.extend(["--token", t]);
    }
    run("openai_calls.py", &args)
}
