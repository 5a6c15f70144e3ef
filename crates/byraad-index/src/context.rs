//! The question's own time and body ("i 2023", "i juni 2024", "Byrådet", "KTM") as ranking
//! evidence: a real archive treats the same kind of case every year and in several bodies, and
//! words alone cannot tell which year's or which body's passage was asked for.
//!
//! Each candidate gets three features (its meeting's year named in the question, its month
//! named there, its body named there by name or by initials), and its score is multiplied by
//! `1 + Σ weight × feature`. The weights are `[fusion]` settings, chosen by cross-validation on
//! the archive's training questions (`scripts/learn_context.py`), never written for a question.

use byraad_core::Hit;
use byraad_core::config::FusionConfig;
use byraad_ingest::segment::MONTHS;

/// What a question says about when and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryContext {
    /// The question, lowercased, words split on anything but letters and digits.
    words: Vec<String>,
    /// Years named (2000–2099).
    years: Vec<i32>,
    /// Months named (1–12).
    months: Vec<u32>,
}

impl QueryContext {
    /// The context of `query`.
    pub fn of(query: &str) -> Self {
        let lower = query.to_lowercase();
        let words: Vec<String> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect();
        let years = words.iter().filter(|w| w.len() == 4 && w.starts_with("20")).filter_map(|w| w.parse().ok()).collect();
        let months = words.iter().filter_map(|w| MONTHS.iter().position(|m| m == w)).map(|m| m as u32 + 1).collect();
        Self { words, years, months }
    }

    /// The features of `hit`: (year named, month named, body named), each 0 or 1.
    pub fn features(&self, hit: &Hit) -> [f32; 3] {
        let date = hit.date.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let (year, month) = date.map_or((None, None), |d| {
            use chrono::Datelike;
            (Some(d.year()), Some(d.month()))
        });
        let y = year.is_some_and(|y| self.years.contains(&y));
        let m = month.is_some_and(|m| self.months.contains(&m));
        [f32::from(u8::from(y)), f32::from(u8::from(m)), f32::from(u8::from(self.names_body(&hit.body)))]
    }

    /// Whether the question names `body`: by its name's words ("Økonomiudvalget", "Byrådet" for
    /// "Byråd 2022-2025", "Miljøudvalget" for "Klima-, Teknik- og Miljøudvalget") or by its
    /// initials ("KTM", "KTMU", "ØU").
    pub fn names_body(&self, body: &str) -> bool {
        let parts: Vec<String> = body
            .to_lowercase()
            .split(|c: char| !c.is_alphabetic())
            .filter(|p| p.chars().count() > 2 && *p != "og")
            .map(str::to_string)
            .collect();
        let Some(last) = parts.last() else { return false };
        // A body's last word names it ("miljøudvalget", "byråd"): the question may inflect it.
        let stem: String = last.strip_suffix("et").unwrap_or(last).to_string();
        if stem.chars().count() >= 5 && self.words.iter().any(|w| w.starts_with(&stem)) {
            return true;
        }
        let mut initials: String = parts.iter().filter_map(|p| p.chars().next()).collect();
        if last.ends_with("udvalget") || last.ends_with("udvalg") {
            let with_u = format!("{initials}u");
            if parts.len() == 1 {
                initials = with_u.clone();
            }
            if self.words.contains(&with_u) {
                return true;
            }
        }
        initials.chars().count() >= 2 && self.words.contains(&initials)
    }
}

/// `hits` rescored by the question's context and sorted again, best first; unchanged when every
/// weight is 0 or the question names no time or body.
pub fn rerank(config: &FusionConfig, query: &str, mut hits: Vec<Hit>) -> Vec<Hit> {
    let weights = [config.year_boost, config.month_boost, config.body_boost];
    if weights.iter().all(|w| *w == 0.0) {
        return hits;
    }
    let context = QueryContext::of(query);
    for hit in &mut hits {
        let f = context.features(hit);
        hit.score *= 1.0 + weights.iter().zip(f).map(|(w, x)| w * x).sum::<f32>();
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.chunk_id.cmp(&b.chunk_id)));
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_months_and_bodies_are_read_from_the_question() {
        let c = QueryContext::of("Hvad besluttede KTM i juni 2024 om busserne, og hvad sagde Byrådet i 2023?");
        assert_eq!(c.years, vec![2024, 2023]);
        assert_eq!(c.months, vec![6]);
        assert!(c.names_body("Klima-, Teknik- og Miljøudvalget"));
        assert!(c.names_body("Byråd 2022-2025"));
        assert!(!c.names_body("Økonomiudvalget"));
        assert!(!c.names_body("Kultur- og Fritidsudvalget"));
        assert!(QueryContext::of("Hvad anbefalede ØU?").names_body("Økonomiudvalget"));
        assert!(QueryContext::of("hvad mente økonomiudvalget").names_body("Økonomiudvalget"));
        assert!(QueryContext::of("på byrådsmødet").names_body("Byråd 2022-2025"));
        assert!(QueryContext::of("i Teknik- og Miljøudvalget").names_body("Klima-, Teknik- og Miljøudvalget"));
        assert!(!QueryContext::of("hvad koster en ny skole").names_body(""));
    }
}
