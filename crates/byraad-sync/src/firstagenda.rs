//! `[[firstagenda]]`: the agenda system's own API (FirstAgenda Publication), followed from its
//! committee list to each meeting's JSON and each attachment's PDF.
//!
//! `GET /api/agenda/udvalgsliste` lists the committees and their meetings (id, date, name,
//! finished); `GET /api/agenda/dagsorden/<id>` is one meeting (ingested natively); its items'
//! attachments are PDFs at `/vis/pdf/bilag/<id>`. A meeting is asked for (conditionally) when it
//! is new, when its listing changed (an agenda that became minutes, a meeting moved or renamed),
//! when it lies within [`RECENT_DAYS`] of today (material is added and minutes released around
//! the meeting, which the listing does not show) and at its periodic check
//! (`recheck_attachments_days`); an older meeting whose listing is as it was and whose copy is held
//! is not asked for, nor are its attachments. Of a meeting asked for, only the attachments not
//! held (or due for their periodic check) are asked for: an attachment's id names one version.

use byraad_core::Kind;
use byraad_ingest::agenda::{ATTACHMENT_PATH, Meeting};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::sources::{Describe, FirstAgenda};
use crate::{Describing, Run};

/// A meeting this many days before or after today is asked for (conditionally) on every run.
pub const RECENT_DAYS: i64 = 60;

/// The committee list as the API answers it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Listing {
    udvalg: std::collections::BTreeMap<String, Vec<Committee>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Committee {
    navn: String,
    #[serde(default)]
    moeder: Vec<Listed>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Listed {
    id: String,
    #[serde(default)]
    dato: String,
    #[serde(default)]
    navn: String,
    #[serde(default)]
    afsluttet: bool,
}

impl Listed {
    /// What the listing says of the meeting; a change means it is asked for again.
    fn fingerprint(&self) -> String {
        format!("{}|{}|{}", self.dato, self.navn, self.afsluttet)
    }
}

/// Ids are the system's GUIDs: anything else is not put into an address.
fn plain_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl Run<'_> {
    /// Follows one agenda system: its committee list, its meetings, their attachments.
    pub(crate) fn agenda_system(&mut self, source: &FirstAgenda, recheck_secs: i64) {
        let base = source.url.trim_end_matches('/');
        let Some(listing_url) = crate::parse(&format!("{base}/api/agenda/udvalgsliste")) else { return };
        let Some(bytes) = self.data(&listing_url) else { return };
        let listing: Listing = match serde_json::from_slice(&bytes) {
            Ok(l) => l,
            Err(e) => {
                self.report.failed.push(crate::Failure { url: listing_url.to_string(), reason: format!("not the agenda system's committee list: {e}") });
                return;
            }
        };
        let committees = listing.udvalg.into_values().flatten().filter(|c| source.committees.is_empty() || source.committees.iter().any(|n| n.eq_ignore_ascii_case(c.navn.trim())));
        for committee in committees.collect::<Vec<_>>() {
            for listed in committee.moeder.iter().filter(|m| plain_id(&m.id)).take(self.settings.max_pages) {
                let Some(url) = crate::parse(&format!("{base}/api/agenda/dagsorden/{}", listed.id)) else { continue };
                let key = url.to_string();
                let fingerprint = listed.fingerprint();
                let same_listing = self.state.records.get(&key).is_some_and(|r| r.listed.as_deref() == Some(fingerprint.as_str()));
                let date = NaiveDate::parse_from_str(listed.dato.get(..10).unwrap_or_default(), "%Y-%m-%d").ok();
                let recent = date.is_none_or(|d| (d - chrono::Utc::now().date_naive()).num_days().abs() <= RECENT_DAYS);
                if same_listing && !recent && self.held_since(&url, recheck_secs) {
                    // Its attachments count as held too: nothing about the meeting changed.
                    self.keep_attachments(&key);
                    continue;
                }
                let kind = if listed.afsluttet { Kind::Referat } else { Kind::Dagsorden };
                let describe = Describe { kind, body: committee.navn.trim().to_string(), access: source.access, groups: source.groups.clone() };
                let when = date.map_or_else(String::new, |d| format!(" {}", byraad_ingest::agenda::danish_date(d)));
                let title = Some(format!("{}: møde{when}", describe.body));
                let describing = Describing { describe: &describe, kind, kind_from_title: false, title, date, case: None };
                self.visit(&url, Some(describing));
                let Some(record) = self.state.records.get_mut(&key) else { continue };
                record.listed = Some(fingerprint);
                if !source.attachments {
                    continue;
                }
                let Some(path) = record.entry.as_ref().map(|e| e.path.clone()) else { continue };
                let Ok(meeting) = std::fs::read(self.folder.join(&path)).map_err(|e| e.to_string()).and_then(|b| Meeting::parse(&b)) else { continue };
                let mut held = Vec::new();
                for item in &meeting.dagsordenpunkter {
                    for a in item.bilag.as_deref().unwrap_or_default().iter().filter(|a| plain_id(&a.id)) {
                        let Some(attachment) = crate::parse(&format!("{base}{ATTACHMENT_PATH}{}", a.id)) else { continue };
                        held.push(attachment.to_string());
                        // An attachment's id names one version of it: one held and checked
                        // recently is not asked for again, even when its meeting changed.
                        if self.held_since(&attachment, recheck_secs) {
                            continue;
                        }
                        let describe = Describe { kind: Kind::Bilag, ..describe.clone() };
                        let name = a.navn.split_whitespace().collect::<Vec<_>>().join(" ");
                        let item_no = item.punktnummer.as_deref().map(|n| format!(", punkt {n}")).unwrap_or_default();
                        let title = Some(format!("{name} ({}: møde{when}{item_no})", describe.body));
                        let case = item.sags_nummer.clone().filter(|c| !c.trim().is_empty());
                        self.visit(&attachment, Some(Describing { describe: &describe, kind: Kind::Bilag, kind_from_title: false, title, date, case }));
                    }
                }
                if let Some(record) = self.state.records.get_mut(&key) {
                    record.attachments = held;
                }
            }
        }
    }

    /// Marks the attachments of the meeting at `key` as seen and unchanged, without requests.
    fn keep_attachments(&mut self, key: &str) {
        let attachments = self.state.records.get(key).map(|r| r.attachments.clone()).unwrap_or_default();
        for a in attachments {
            if self.state.records.contains_key(&a) && self.seen.insert(a.clone()) {
                self.report.unchanged.push(a);
            }
        }
    }

    /// The body of a data address (a listing, not a document): fetched conditionally and kept in
    /// the folder, so that a 304 is answered from the copy.
    fn data(&mut self, url: &url::Url) -> Option<Vec<u8>> {
        let key = url.to_string();
        self.seen.insert(key.clone());
        let path = crate::page::local_path(url, Some("application/json"))?;
        let file = self.folder.join(&path);
        let previous = self.state.records.get(&key).cloned().filter(|_| file.is_file());
        let validators = previous.as_ref().map(|r| crate::fetch::Validators { etag: r.etag.clone(), last_modified: r.last_modified.clone() }).unwrap_or_default();
        let fail = |run: &mut Self, reason: String| {
            run.report.failed.push(crate::Failure { url: key.clone(), reason });
            std::fs::read(&file).ok()
        };
        match self.fetcher.get(url, &validators) {
            crate::fetch::Fetched::NotModified => {
                self.report.unchanged.push(key.clone());
                if let Some(r) = self.state.records.get_mut(&key) {
                    r.checked = crate::now();
                }
                std::fs::read(&file).ok()
            }
            crate::fetch::Fetched::Body { bytes, etag, last_modified, .. } => {
                if let Err(e) = crate::state::write_atomically(&file, &bytes) {
                    return fail(self, e.to_string());
                }
                let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
                let same = previous.as_ref().is_some_and(|p| p.sha256 == sha256);
                if same { &mut self.report.unchanged } else if previous.is_some() { &mut self.report.changed } else { &mut self.report.new }.push(key.clone());
                self.state.records.insert(key.clone(), crate::state::Record { etag, last_modified, sha256, checked: crate::now(), ..Default::default() });
                Some(bytes)
            }
            crate::fetch::Fetched::Gone => fail(self, "not found (HTTP 404 or 410)".into()),
            crate::fetch::Fetched::Disallowed => {
                self.report.disallowed.push(key.clone());
                None
            }
            crate::fetch::Fetched::Failed(reason) => fail(self, reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_is_read_in_the_api_shape_and_ids_are_checked() {
        let text = r#"{"Udvalg": {"Aktuelle politiske udvalg": [{"Navn": "Økonomiudvalget", "Id": "u", "Moeder": [{"Id": "02e86ff6-fd6b", "Dato": "2022-01-10T08:00:00+01:00", "Navn": "Dagsorden", "Afsluttet": true}]}]}}"#;
        let l: Listing = serde_json::from_str(text).unwrap();
        let c = &l.udvalg["Aktuelle politiske udvalg"][0];
        assert_eq!(c.navn, "Økonomiudvalget");
        assert_eq!(c.moeder[0].fingerprint(), "2022-01-10T08:00:00+01:00|Dagsorden|true");
        assert!(plain_id("02e86ff6-fd6b") && !plain_id("../x") && !plain_id("a?b") && !plain_id(""));
    }
}
