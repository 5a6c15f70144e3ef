//! A draft as a Word document in the formal layout: header block (Til, Fra, Dato, Svarfrist,
//! Emne), Baggrund, the numbered questions, the sources.

use docx_rs::{Docx, Paragraph, Run};

use crate::draft::{Draft, Related};

/// The `.docx` bytes of `draft`.
pub fn docx(draft: &Draft, related: &[Related]) -> Result<Vec<u8>, String> {
    let heading = |text: &str, size: usize| Paragraph::new().add_run(Run::new().add_text(text).bold().size(size));
    let mut doc = Docx::new().add_paragraph(heading("10-dages forespørgsel", 32));
    for (label, value) in [("Til", &draft.til), ("Fra", &draft.fra), ("Dato", &draft.dato), ("Svarfrist", &draft.svarfrist), ("Emne", &draft.emne)] {
        doc = doc.add_paragraph(Paragraph::new().add_run(Run::new().add_text(format!("{label}: ")).bold()).add_run(Run::new().add_text(value.as_str())));
    }
    doc = doc.add_paragraph(heading("Baggrund", 26)).add_paragraph(Paragraph::new().add_run(Run::new().add_text(draft.baggrund.as_str())));
    doc = doc.add_paragraph(heading("Spørgsmål", 26));
    for q in &draft.questions {
        doc = doc.add_paragraph(Paragraph::new().add_run(Run::new().add_text(q.as_str())));
    }
    if !related.is_empty() {
        doc = doc.add_paragraph(heading("Kilder i arkivet", 26));
        for r in related {
            let quote = r.quote.split_whitespace().collect::<Vec<_>>().join(" ");
            doc = doc.add_paragraph(Paragraph::new().add_run(Run::new().add_text(format!("[{}] {} — {}: »{quote}«", r.n, r.title, r.why))));
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| format!("cannot write the Word document: {e}"))?;
    Ok(out.into_inner())
}
