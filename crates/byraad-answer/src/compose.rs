//! From scored candidates to an answer: which to quote (the best first; another only when it
//! answers a part of the question the ones before do not), how the quotes read (grouped by
//! document, plain Danish), and the abstention when nothing answers.

use byraad_core::{Citation, Hit, Span};

use crate::candidates::{Candidate, flow, fold};

/// The candidates to quote, best first, as indices into `candidates` (whose ranking scores are
/// `scores`): none unless the question is `answered`. After the best, another is quoted while
/// its softmax weight relative to the best (`exp(score - best)`) reaches `companion`, it holds a
/// question word none before holds, and it quotes no text quoted already.
pub fn select(candidates: &[Candidate], scores: &[f32], hits: &[Hit], answered: bool, companion: f32, most: usize) -> Vec<usize> {
    let order = ranked(candidates, scores);
    let Some(&lead) = order.first().filter(|_| answered) else {
        return Vec::new();
    };
    let mut chosen = vec![lead];
    let mut covered: Vec<bool> = candidates[lead].held.iter().map(|&h| h >= 1.0).collect();
    for &i in &order[1..] {
        if chosen.len() >= most || (scores[i] - scores[lead]).exp() < companion {
            break;
        }
        let c = &candidates[i];
        let adds = c.held.iter().zip(&covered).any(|(&h, &have)| h >= 1.0 && !have);
        let text = fold(c.text(hits));
        let repeats = chosen.iter().any(|&j| {
            let other = fold(candidates[j].text(hits));
            candidates[j].overlaps(c, hits) || other.contains(&text) || text.contains(&other)
        });
        if adds && !repeats {
            for (have, &h) in covered.iter_mut().zip(&c.held) {
                *have |= h >= 1.0;
            }
            chosen.push(i);
        }
    }
    chosen
}

/// Indices of `candidates` by falling score; ties by passage rank, then position.
pub fn ranked(candidates: &[Candidate], scores: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(candidates[a].rank.cmp(&candidates[b].rank)).then(candidates[a].range.start.cmp(&candidates[b].range.start)));
    order
}

/// The answer text and its citations: the chosen candidates quoted and grouped by document
/// (in the order of each document's first quote), numbered in order of appearance.
pub fn compose(chosen: &[&Candidate], hits: &[Hit]) -> (String, Vec<Citation>) {
    let mut groups: Vec<Vec<&Candidate>> = Vec::new();
    for c in chosen {
        match groups.iter_mut().find(|g| hits[g[0].hit].doc_id == hits[c.hit].doc_id) {
            Some(g) => g.push(c),
            None => groups.push(vec![c]),
        }
    }
    let mut paragraphs = Vec::new();
    let mut citations: Vec<Citation> = Vec::new();
    for group in groups {
        let first = &hits[group[0].hit];
        let same_item = group.iter().all(|c| hits[c.hit].item == first.item);
        let mut header = first.title.clone();
        if same_item && let Some(item) = &first.item {
            header.push_str(&item_label(item));
        }
        // The answer reads a quote as flowing text; the citation keeps it verbatim.
        let mut lines = Vec::new();
        for c in &group {
            let n = citations.len() + 1;
            let citation = cite(n, c, hits);
            let label = match (&hits[c.hit].item, same_item) {
                (Some(item), false) => format!("{}: ", item_name(item)),
                _ => String::new(),
            };
            lines.push(format!("{label}»{}« [{n}]", flow(&citation.quote)));
            citations.push(citation);
        }
        let mut paragraph = if lines.len() == 1 { format!("Ifølge {header}: {}", lines[0]) } else { format!("Ifølge {header}:\n- {}", lines.join("\n- ")) };
        if same_item && !first.also.is_empty() {
            paragraph.push_str(&format!(" (Sagen er også behandlet på {}.)", elsewhere(&first.also)));
        }
        paragraphs.push(paragraph);
    }
    (paragraphs.join("\n\n"), citations)
}

/// The citation of a chosen candidate, numbered `n`.
pub fn cite(n: usize, c: &Candidate, hits: &[Hit]) -> Citation {
    citation(n, &hits[c.hit], c.range.clone())
}

/// The citation, numbered `n`, of the bytes `range` of `hit`'s text.
pub(crate) fn citation(n: usize, hit: &Hit, range: std::ops::Range<usize>) -> Citation {
    Citation {
        n,
        doc_id: hit.doc_id.clone(),
        chunk_id: hit.chunk_id.clone(),
        title: hit.title.clone(),
        kind: hit.kind,
        body: hit.body.clone(),
        date: hit.date.clone(),
        item: hit.item.clone(),
        page: hit.page,
        source: hit.source.clone(),
        quote: hit.text[range.clone()].to_string(),
        span: Span::new(hit.span.start + range.start, hit.span.start + range.end),
        ocr: hit.ocr,
        case: hit.case.clone(),
        also: hit.also.clone(),
    }
}

/// Where else a case was treated: "Økonomiudvalget: møde 24. januar 2022, punkt 14; ...".
pub fn elsewhere(also: &[byraad_core::Treatment]) -> String {
    also.iter().map(|t| format!("{}{}", t.title, t.item.as_deref().map(item_label).unwrap_or_default())).collect::<Vec<_>>().join("; ")
}

/// "Punkt 5" for an agenda item number, "§ 8, stk. 4" or "B1.4" as they are.
fn item_name(item: &str) -> String {
    if item.chars().all(|c| c.is_ascii_digit()) { format!("Punkt {item}") } else { item.to_string() }
}

/// ", punkt 5" for an agenda item number, ", § 8, stk. 4" or ", B1.4" as they are.
pub fn item_label(item: &str) -> String {
    if item.chars().all(|c| c.is_ascii_digit()) { format!(", punkt {item}") } else { format!(", {item}") }
}

/// Longest passage of the archive quoted in an abstention, in characters.
const NEAREST_CHARS: usize = 240;

/// The abstention: the archive holds no answer; what it does hold nearest (`nearest`, a
/// candidate that did not answer, quoted from `hits`), and the nearest documents (`related`).
pub fn abstention(nearest: Option<&Candidate>, hits: &[Hit], related: &[Hit]) -> String {
    let mut titles: Vec<&str> = Vec::new();
    for h in related {
        if !titles.contains(&h.title.as_str()) {
            titles.push(&h.title);
        }
    }
    if titles.is_empty() {
        return "Arkivet indeholder ikke et svar på spørgsmålet, og ingen dokumenter ligner det.".into();
    }
    let mut text = String::from("Arkivet indeholder ikke et klart svar på spørgsmålet.");
    if let Some(c) = nearest {
        let quote = flow(c.text(hits));
        let quote = if quote.chars().count() > NEAREST_CHARS { format!("{} …", quote.chars().take(NEAREST_CHARS).collect::<String>().trim_end()) } else { quote };
        text.push_str(&format!(" Det nærmeste, det siger, står i {}: »{quote}«, men det besvarer ikke spørgsmålet.", hits[c.hit].title));
    }
    text.push_str(&format!(" De nærmeste dokumenter er: {}.", titles.iter().take(3).copied().collect::<Vec<_>>().join("; ")));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::COUNT;

    fn hit(doc: &str, text: &str) -> Hit {
        Hit { chunk_id: format!("{doc}-c"), title: format!("Titel {doc}"), item: Some("4".into()), page: Some(2), ..crate::fixtures::passage(doc, text, 100) }
    }

    fn candidate(hit: usize, range: std::ops::Range<usize>, held: &[f32]) -> Candidate {
        Candidate { hit, rank: hit, range, parts: 1, held: held.to_vec(), features: [0.0; COUNT] }
    }

    #[test]
    fn the_best_leads_and_another_only_for_what_it_adds() {
        let text = "Skolen får plads til 700 elever. Skolen åbner i august 2026. Skolen får plads til mange elever.";
        let hits = [hit("a", text)];
        let (second, third) = (text.find("Skolen åbner").unwrap(), text.rfind("Skolen får").unwrap());
        let cands = [candidate(0, 0..second - 1, &[1.0, 1.0, 0.0]), candidate(0, second..third - 1, &[1.0, 0.0, 1.0]), candidate(0, third..text.len(), &[1.0, 1.0, 0.0])];
        assert_eq!(select(&cands, &[3.0, 2.5, 2.8], &hits, true, 0.5, 3), vec![0, 1], "the third adds nothing the first holds not");
        assert_eq!(select(&cands, &[3.0, 2.0, 2.8], &hits, true, 0.5, 3), vec![0], "the second is below the companion threshold (e^-1 < 0.5)");
        assert!(select(&cands, &[3.0, 2.5, 2.8], &hits, false, 0.5, 3).is_empty(), "an abstention");
        assert_eq!(select(&cands, &[3.0, 2.5, 2.8], &hits, true, 0.5, 1), vec![0]);
    }

    #[test]
    fn the_same_text_is_never_quoted_twice() {
        let title = "Sager på vej – Sundhed og Omsorg 2025, status";
        let hits = [hit("a", title), hit("b", title)];
        let cands = [candidate(0, 0..title.len(), &[1.0, 0.0]), candidate(1, 0..title.len(), &[0.0, 1.0])];
        assert_eq!(select(&cands, &[1.0, 1.0], &hits, true, 0.5, 3), vec![0]);
    }

    #[test]
    fn quotes_are_grouped_by_document_and_cited_verbatim() {
        let text = "Skolen får plads til 700 elever.\nSkolen åbner i au-\ngust 2026.";
        let hits = [hit("a", text)];
        let second = text.find("Skolen åbner").unwrap();
        let cands = [candidate(0, 0..second - 1, &[1.0]), candidate(0, second..text.len(), &[1.0])];
        let (answer, citations) = compose(&[&cands[0], &cands[1]], &hits);
        assert_eq!(answer, "Ifølge Titel a, punkt 4:\n- »Skolen får plads til 700 elever.« [1]\n- »Skolen åbner i august 2026.« [2]");
        assert_eq!(citations[1].quote, "Skolen åbner i au-\ngust 2026.");
        assert_eq!(citations[1].span, Span::new(100 + second, 100 + text.len()));
        assert_eq!(citations[1].page, Some(2));
    }

    #[test]
    fn a_quote_of_a_case_treated_elsewhere_says_where() {
        let text = "Byrådet godkendte puljen på 2,1 mio. kr.";
        let also = vec![byraad_core::Treatment { doc_id: "b".into(), title: "Økonomiudvalget: møde 24. september 2025".into(), body: "Økonomiudvalget".into(), date: Some("2025-09-24".into()), item: Some("12".into()) }];
        let hits = [Hit { case: Some("25-007892".into()), also: also.clone(), ..hit("a", text) }];
        let cands = [candidate(0, 0..text.len(), &[1.0])];
        let (answer, citations) = compose(&[&cands[0]], &hits);
        assert_eq!(answer, "Ifølge Titel a, punkt 4: »Byrådet godkendte puljen på 2,1 mio. kr.« [1] (Sagen er også behandlet på Økonomiudvalget: møde 24. september 2025, punkt 12.)");
        assert_eq!((citations[0].case.as_deref(), &citations[0].also), (Some("25-007892"), &also));
    }

    #[test]
    fn an_abstention_says_what_the_archive_holds_nearest() {
        let text = "Havnens Perle er blevet flyttet fem gange.";
        let hits = [hit("a", text)];
        let nearest = candidate(0, 0..text.len(), &[1.0]);
        let said = abstention(Some(&nearest), &hits, &hits);
        assert!(said.starts_with("Arkivet indeholder ikke et klart svar på spørgsmålet."), "{said}");
        assert!(said.contains("»Havnens Perle er blevet flyttet fem gange.«") && said.contains("De nærmeste dokumenter er: Titel a."), "{said}");
        assert_eq!(abstention(None, &[], &[]), "Arkivet indeholder ikke et svar på spørgsmålet, og ingen dokumenter ligner det.");
    }
}
