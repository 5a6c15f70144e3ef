//! What a reader gets of a stored draft: the draft as its author got it, less everything drawn
//! from documents the reader may not read now. A draft is shared with its author's party and read
//! again later, when access may have changed; what it quotes, names or lists from the archive
//! (related passages, the addressee's reason, duplicate warnings) is checked at every read
//! against the reader's own access, and what the reader may not read is left out.

use std::collections::BTreeSet;

use crate::draft::{ALREADY_ANSWERED, ARCHIVE_NOTE, CHOSEN, Department, DraftResponse, archive_note, markdown};

impl DraftResponse {
    /// The documents the draft draws on: related passages, the documents its addressee's reason
    /// names, those its warnings quote. Each once, in id order.
    pub fn sources(&self) -> BTreeSet<&str> {
        let mut ids: BTreeSet<&str> = self.related.iter().map(|r| r.doc_id.as_str()).collect();
        ids.extend(self.warnings.iter().filter_map(|w| w.doc_id.as_deref()));
        ids.extend(self.addressee.sources.iter().flatten().map(String::as_str));
        ids
    }

    /// The draft as a reader who may read exactly the documents `may_read` accepts gets it:
    /// related passages of other documents left out (the rest numbered again, the background's
    /// references with them), a warning quoting another document left out, "already answered"
    /// only while the passages left still answer every question, and an addressee's reason
    /// naming another document replaced by one that names none. A draft stored before its
    /// sources were kept names none of them for anyone.
    #[must_use]
    pub fn as_read_by(mut self, may_read: impl Fn(&str) -> bool) -> Self {
        let listed = self.related.len();
        self.related.retain(|r| may_read(&r.doc_id));
        for (k, r) in self.related.iter_mut().enumerate() {
            r.n = k + 1;
        }
        if let Some(at) = self.draft.baggrund.find(ARCHIVE_NOTE) {
            self.draft.baggrund.truncate(at);
        }
        self.draft.baggrund.push_str(&archive_note(&self.related));

        let answered: BTreeSet<usize> = self.related.iter().filter_map(|r| r.answers).collect();
        let all_answered = (1..=self.draft.questions.len()).all(|q| answered.contains(&q));
        self.warnings.retain(|w| match w.doc_id.as_deref() {
            Some(id) => may_read(id),
            // A duplicate warning quotes an earlier forespørgsel; stored without its id, it is unknown.
            None if w.code == "duplicate" => false,
            None if w.code == ALREADY_ANSWERED => self.related.len() == listed || all_answered,
            None => true,
        });

        let named_readable = self.addressee.sources.as_ref().is_some_and(|s| s.iter().all(|id| may_read(id)));
        if !named_readable && self.addressee.reason != CHOSEN {
            let department = self.addressee.code.as_deref().and_then(Department::by_code);
            self.addressee.reason = match department {
                Some(d) => format!("Arkivets sager om emnet hører under {}.", d.name),
                None => "Modtageren er valgt ud fra arkivets sager om emnet.".to_string(),
            };
            self.addressee.sources = Some(Vec::new());
        }
        self.markdown = markdown(&self.draft, &self.related);
        self
    }
}

#[cfg(test)]
mod tests {
    use crate::{Addressee, Draft, DraftResponse, Related, Warning};
    use crate::draft::{already_answered, archive_note, markdown};

    fn related(n: usize, doc_id: &str, answers: Option<usize>) -> Related {
        Related { n, doc_id: doc_id.into(), title: format!("Titel {doc_id}"), quote: format!("Citat fra {doc_id}."), span: byraad_core::Span::new(0, 10), why: "Kan allerede besvare spørgsmål".into(), answers }
    }

    fn stored() -> DraftResponse {
        let related = vec![related(1, "lukket", Some(1)), related(2, "offentlig", Some(2)), related(3, "tidligere-fo", None)];
        let draft = Draft {
            til: "Rådmanden for Teknik og Miljø (Magistratsafdelingen for Teknik og Miljø)".into(),
            fra: "Anna Hansen, SF".into(),
            dato: "2025-10-10".into(),
            svarfrist: "2025-10-24".into(),
            emne: "Ejendomme".into(),
            baggrund: format!("Anna Hansen (SF) beder om svar på følgende spørgsmål.{}", archive_note(&related)),
            questions: vec!["1. Hvad koster det?".into(), "2. Hvornår sker det?".into()],
        };
        let warnings = vec![
            already_answered(),
            Warning { code: "duplicate".into(), message: "Spørgsmål 1 ligner »lukket spørgsmål«.".into(), doc_id: Some("lukket-fo".into()) },
            Warning { code: "personal_data".into(), message: "Personoplysninger.".into(), doc_id: None },
        ];
        let addressee = Addressee { code: Some("MTM".into()), reason: "Sagen hører under Teknik og Miljø: »hemmelig sætning« (Titel lukket).".into(), sources: Some(vec!["lukket".into()]) };
        let markdown = markdown(&draft, &related);
        DraftResponse { draft, addressee, related, warnings, markdown }
    }

    #[test]
    fn a_reader_who_may_read_everything_gets_the_draft_as_stored() {
        let d = stored();
        assert_eq!(d.clone().as_read_by(|_| true), d);
        assert_eq!(d.sources().into_iter().collect::<Vec<_>>(), ["lukket", "lukket-fo", "offentlig", "tidligere-fo"]);
    }

    #[test]
    fn what_a_reader_may_not_read_is_left_out_everywhere() {
        let view = stored().as_read_by(|id| !id.starts_with("lukket"));
        let text = serde_json::to_string(&view).unwrap_or_default();
        for secret in ["lukket", "hemmelig", "Titel lukket"] {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
        assert_eq!(view.related.iter().map(|r| (r.n, r.doc_id.as_str())).collect::<Vec<_>>(), [(1, "offentlig"), (2, "tidligere-fo")]);
        assert!(view.draft.baggrund.ends_with("materiale om emnet [1][2]."), "{}", view.draft.baggrund);
        let codes: Vec<&str> = view.warnings.iter().map(|w| w.code.as_str()).collect();
        assert_eq!(codes, ["personal_data"], "question 1 is no longer answered; the duplicate quotes a closed document");
        assert_eq!(view.addressee.reason, "Arkivets sager om emnet hører under Teknik og Miljø.");
        assert_eq!(view.draft.til, stored().draft.til, "the draft itself is the author's");
        assert!(view.markdown.contains("[2] Titel tidligere-fo") && !view.markdown.contains("[3]"), "{}", view.markdown);
    }

    #[test]
    fn nothing_readable_leaves_no_sources_and_no_reference() {
        let view = stored().as_read_by(|_| false);
        assert!(view.related.is_empty());
        assert_eq!(view.draft.baggrund, "Anna Hansen (SF) beder om svar på følgende spørgsmål.");
        assert!(!view.markdown.contains("Kilder i arkivet"));
    }

    #[test]
    fn a_draft_stored_without_its_sources_names_none_of_them() {
        let mut old = stored();
        old.addressee.sources = None;
        for w in &mut old.warnings {
            w.doc_id = None;
        }
        let view = old.as_read_by(|_| true);
        assert_eq!(view.addressee.reason, "Arkivets sager om emnet hører under Teknik og Miljø.");
        assert!(view.warnings.iter().all(|w| w.code != "duplicate"));
        assert_eq!(view.related.len(), 3, "related passages carry their own ids");
    }
}
