//! The rules reader: multilingual-e5-small with its twelve layers trained on members' questions
//! and the provisions that govern them (`scripts/train_reader.py`, `make train-reader`). Only
//! the trained layers are shipped (`config/rules-reader.safetensors`, built in: matrices in 8
//! bits with a scale per row, biases and norms in f16); the word embeddings are the package's
//! e5 the product already runs.

use std::borrow::Cow;
use std::path::Path;

use byraad_embed::{LocalE5, Precision};
use sha2::{Digest, Sha256};

/// The trained layers built in.
pub const BUILTIN: &[u8] = include_bytes!("../../../config/rules-reader.safetensors");

/// The reader: e5 in `model_dir` with the trained layers of `weights` (empty: built in). Its
/// name carries the layers' hash, so provision vectors of another reader are never reused.
pub fn load(model_dir: &Path, precision: Precision, weights: &Path) -> Result<LocalE5, String> {
    let (label, bytes): (&Path, Cow<'_, [u8]>) = if weights.as_os_str().is_empty() {
        (Path::new("config/rules-reader.safetensors (built in)"), Cow::Borrowed(BUILTIN))
    } else {
        (weights, Cow::Owned(std::fs::read(weights).map_err(|e| format!("cannot read the rules reader {}: {e}", weights.display()))?))
    };
    let name = format!("multilingual-e5-small+rules-reader-{}-{precision:?}", &hex::encode(Sha256::digest(&bytes))[..12]);
    LocalE5::load_with(model_dir, &name, precision, Some((label, &bytes))).map_err(|e| format!("the rules reader: {e}"))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use byraad_embed::{Embedder, Role, cosine};

    use super::*;

    /// The built-in reader in the product's own encoder reads as PyTorch read the same weights
    /// when training ended (`tests/fixtures/reader_reference.json`, written by `make
    /// train-reader`, from the weights as shipped): f32 to rounding, and int8 activations,
    /// within what 8-bit activations cost the trained layers (0.98–0.99 measured).
    #[test]
    fn the_built_in_reader_reads_as_it_was_trained() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = std::env::var_os("BYRAAD_E5_DIR").map_or_else(|| root.join("models/multilingual-e5-small"), PathBuf::from);
        let fixture: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("tests/fixtures/reader_reference.json")).expect("the reader's fixture")).expect("fixture JSON");
        for (precision, at_least) in [(Precision::F32, 0.9995), (Precision::Int8, 0.96)] {
            let reader = load(&dir, precision, Path::new("")).unwrap_or_else(|e| panic!("the e5 model is needed in {} (run `make setup`): {e}", dir.display()));
            assert!(reader.model().starts_with("multilingual-e5-small+rules-reader-"), "{}", reader.model());
            let e5 = LocalE5::load(&dir, "e5", precision).expect("e5");
            for (role, key) in [(Role::Query, "query"), (Role::Passage, "passage")] {
                for case in fixture[key].as_array().expect("cases") {
                    let text = case["text"].as_str().expect("text");
                    let want: Vec<f32> = case["vector"].as_array().expect("vector").iter().map(|x| x.as_f64().expect("number") as f32).collect();
                    let got = reader.embed(&[text], role).expect("embed").remove(0);
                    let c = cosine(&got, &want);
                    assert!(c >= at_least, "{precision:?} {key} {text:?}: cosine {c} to the trained reader");
                    // The trained layers are the reader's, not e5's.
                    let plain = e5.embed(&[text], role).expect("embed").remove(0);
                    assert!(cosine(&plain, &want) < c, "{key} {text:?}: e5 alone reads it as closely as the reader");
                }
            }
        }
    }

    #[test]
    fn a_reader_whose_layers_are_not_the_models_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let weights = dir.path().join("reader.safetensors");
        std::fs::write(&weights, b"not safetensors").expect("write");
        let model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/multilingual-e5-small");
        let err = load(&model, Precision::F32, &weights).err().expect("refused");
        assert!(err.starts_with("the rules reader:") && err.contains("reader.safetensors"), "{err}");
        let err = load(&model, Precision::F32, &dir.path().join("missing.safetensors")).err().expect("refused");
        assert!(err.contains("cannot read the rules reader"), "{err}");
    }
}
