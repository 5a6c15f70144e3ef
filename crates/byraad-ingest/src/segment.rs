//! Finds a document's own structure: the meetings a file concatenates, and the sections of each
//! (agenda items and their decisions, report chapters, slides, Markdown headings, § and stk.).

use std::sync::LazyLock;

use byraad_core::Span;
use chrono::NaiveDate;
use regex::Regex;

/// A section found in the text, spans into the whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionDraft {
    /// Heading path below the document title.
    pub heading: Vec<String>,
    /// Item number or provision.
    pub item: Option<String>,
    /// Case number found in the section.
    pub case: Option<String>,
    /// The section's bytes.
    pub span: Span,
}

/// A meeting (or the whole document when it holds one) and its sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The part's bytes in the text.
    pub span: Span,
    /// The meeting date, when the part says it.
    pub date: Option<NaiveDate>,
    /// Sections in order; they tile `span` exactly.
    pub sections: Vec<SectionDraft>,
}

macro_rules! re {
    ($name:ident, $pattern:expr) => {
        #[allow(clippy::expect_used)] // constant patterns, exercised by the tests
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pattern).expect("valid regex"));
    };
}

re!(PUNKT, r"^Punkt (\d{1,3}): ?(.+)$");
re!(DECISION, r"^Beslutning for [Pp]unkt (\d{1,3}): ?(.+)$");
re!(NUMBERED, r"^(\d{1,2})\. ([A-ZÆØÅ].{2,119})$");
re!(CHAPTER, r"^(B\d\.\d{1,2}) (\S.{2,})$");
re!(SLIDE, r"^Slide 1(?::|$)");
re!(MEETING_DATE, r"^M.{1,2}dedato:?\s*(.*)$");
re!(MARKDOWN, r"^(#{1,6}) +(.+?)#*$");
re!(PARAGRAPH, r"^§ ?(\d+ ?[a-z]?)$");
re!(STK, r"^Stk\. (\d+)\.");
re!(QUESTION_LINE, r"^Spørgsmål (\d{1,2})[:.]");
re!(PARAGRAPH_LINE, r"^§ ?(\d+(?: ?[a-z])?)\. ");
re!(CHAPTER_LINE, r"^(Kapitel \S{1,8}(?: .{0,80})?)$");
re!(CASE, r"\bEMN-\d{4}-\d{6}\b");
re!(DATE_DMY, r"\b(\d{1,2})-(\d{1,2})-(\d{4})\b");
re!(DATE_ISO, r"\b(\d{4})-(\d{2})-(\d{2})\b");
re!(
    DATE_WORDS,
    r"(?i)\b(\d{1,2})\. ?(januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december) (\d{4})\b"
);

/// Danish month names, January first.
pub const MONTHS: [&str; 12] =
    ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november", "december"];

/// The first Danish date in `s`: "15. november 2023", "27-08-2025" or "2025-08-27".
pub fn find_date(s: &str) -> Option<NaiveDate> {
    let mut found: Vec<(usize, NaiveDate)> = Vec::new();
    if let Some(c) = DATE_WORDS.captures(s) {
        let month = MONTHS.iter().position(|m| c[2].eq_ignore_ascii_case(m))? as u32 + 1;
        if let Some(d) = NaiveDate::from_ymd_opt(c[3].parse().ok()?, month, c[1].parse().ok()?) {
            found.push((c.get(0)?.start(), d));
        }
    }
    if let Some(c) = DATE_DMY.captures(s)
        && let Some(d) = NaiveDate::from_ymd_opt(c[3].parse().ok()?, c[2].parse().ok()?, c[1].parse().ok()?)
    {
        found.push((c.get(0)?.start(), d));
    }
    if let Some(c) = DATE_ISO.captures(s)
        && let Some(d) = NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?)
    {
        found.push((c.get(0)?.start(), d));
    }
    found.into_iter().min_by_key(|(at, _)| *at).map(|(_, d)| d)
}

/// One line of the text.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    start: usize,
    text: &'a str,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for l in text.split('\n') {
        out.push(Line { start, text: l });
        start += l.len() + 1;
    }
    out
}

/// How a meeting numbers its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Punkt,
    Numbered,
}

/// A heading found at a line.
#[derive(Debug, Clone)]
struct Mark {
    at: usize,
    heading: Vec<String>,
    item: Option<String>,
}

/// Segments minutes, agendas, reports and letters: plain structure, no Markdown. With
/// `meetings`, the text may concatenate several meetings: a new one starts at a "Mødedato" header
/// or where item numbers start again, and numbered lines ("3. Klima") can be item headings.
pub fn segment_plain(text: &str, page_breaks: &[usize], meetings_in_text: bool) -> Vec<Part> {
    let lines = lines(text);
    let page_start = |offset: usize| page_breaks.iter().rev().find(|&&b| b <= offset).copied().unwrap_or(0);

    struct Meeting {
        start: usize,
        date: Option<NaiveDate>,
        marks: Vec<Mark>,
        style: Option<Style>,
        last_item: u32,
    }
    let new_meeting = |start| Meeting { start, date: None, marks: Vec::new(), style: None, last_item: 0 };
    let mut meetings = vec![new_meeting(0)];
    let mut chapter: Option<String> = None;

    let numbered_at = |i: usize| -> Option<u32> {
        NUMBERED.captures(lines.get(i)?.text).and_then(|c| c[1].parse().ok())
    };
    let next_nonblank = |i: usize| (i + 1..lines.len()).find(|&j| !lines[j].text.is_empty());
    let prev_nonblank = |i: usize| (0..i).rev().find(|&j| !lines[j].text.is_empty());
    // A heading whose title runs on to the next line.
    let title_with_continuation = |i: usize, title: &str| -> String {
        let next = lines.get(i + 1).map_or("", |l| l.text);
        if lines[i].text.chars().count() >= 60
            && !next.is_empty()
            && next.chars().count() < 60
            && !CASE.is_match(next)
            && next.chars().next().is_some_and(|c| !c.is_ascii_digit())
        {
            format!("{title} {next}")
        } else {
            title.to_string()
        }
    };

    for (i, line) in lines.iter().enumerate() {
        let t = line.text;
        if t.is_empty() {
            continue;
        }
        let m = meetings.last_mut().expect("at least one meeting");
        if let Some(c) = MEETING_DATE.captures(t).filter(|_| meetings_in_text) {
            let rest = c[1].trim();
            let date = if rest.is_empty() { next_nonblank(i).and_then(|j| find_date(lines[j].text)) } else { find_date(rest) };
            if m.marks.iter().any(|k| k.item.is_some()) {
                let start = page_start(line.start).max(m.marks.last().map_or(0, |k| k.at) + 1);
                let start = if start > line.start { line.start } else { start };
                meetings.push(new_meeting(start));
            }
            let m = meetings.last_mut().expect("just pushed");
            m.date = m.date.or(date);
            continue;
        }
        if let Some(c) = CHAPTER.captures(t) {
            let title = format!("{} {}", &c[1], title_with_continuation(i, &c[2]));
            chapter = Some(title.clone());
            m.marks.push(Mark { at: line.start, heading: vec![title], item: Some(c[1].to_string()) });
            continue;
        }
        if SLIDE.is_match(t) {
            m.marks.push(Mark { at: line.start, heading: vec!["Præsentation (slides)".into()], item: None });
            chapter = None;
            continue;
        }
        let (num, title, decision, style) = if let Some(c) = DECISION.captures(t) {
            (c[1].parse::<u32>().unwrap_or(0), c[0].to_string(), true, Style::Punkt)
        } else if let Some(c) = PUNKT.captures(t) {
            (c[1].parse::<u32>().unwrap_or(0), c[0].to_string(), false, Style::Punkt)
        } else if let Some(num) = numbered_at(i).filter(|_| meetings_in_text) {
            // A numbered line is an item heading only in a meeting numbered that way, in order,
            // and not inside a list of numbered lines (the agenda's short table of contents).
            let in_list = next_nonblank(i).and_then(numbered_at).is_some_and(|n| n == num + 1)
                || prev_nonblank(i).and_then(numbered_at).is_some_and(|n| n + 1 == num);
            let fits = match m.style {
                Some(Style::Punkt) => false,
                Some(Style::Numbered) => num == m.last_item + 1 || num == 1,
                None => num == 1,
            };
            if in_list || !fits || t.ends_with([',', ';', ':']) {
                continue;
            }
            (num, t.to_string(), false, Style::Numbered)
        } else {
            continue;
        };
        let same_item = decision && num == m.last_item;
        if same_item {
            // The decision belongs to the item just read: one section, so one item never
            // splits into a heading-only chunk and a decision without its title.
            continue;
        }
        let restarts = meetings_in_text && m.style.is_some() && num <= m.last_item;
        let m = if restarts {
            let prev_at = m.marks.last().map_or(0, |k| k.at);
            let ps = page_start(line.start);
            meetings.push(new_meeting(if ps > prev_at { ps } else { line.start }));
            meetings.last_mut().expect("just pushed")
        } else {
            m
        };
        m.style = m.style.or(Some(style));
        m.last_item = num;
        let mut heading = Vec::new();
        if let Some(ch) = &chapter {
            heading.push(ch.clone());
        }
        heading.push(title_with_continuation(i, &title));
        m.marks.push(Mark { at: line.start, heading, item: Some(num.to_string()) });
    }

    let mut parts = Vec::new();
    for (k, m) in meetings.iter().enumerate() {
        let end = meetings.get(k + 1).map_or(text.len(), |n| n.start);
        let span = Span::new(m.start, end.max(m.start));
        let date = m.date.or_else(|| find_date(&text[span.start..text.floor_char_boundary(span.end.min(span.start + 400))]));
        parts.push(Part { span, date, sections: tile(text, span, &m.marks) });
    }
    parts.retain(|p| !text[p.span.start..p.span.end].trim().is_empty());
    parts
}

/// Sections covering `span` exactly, one per mark plus a leading one for text before the first.
fn tile(text: &str, span: Span, marks: &[Mark]) -> Vec<SectionDraft> {
    let mut sections = Vec::new();
    let mut starts: Vec<(usize, Vec<String>, Option<String>)> = Vec::new();
    if marks.first().is_none_or(|m| m.at > span.start) {
        starts.push((span.start, Vec::new(), None));
    }
    for m in marks.iter().filter(|m| m.at >= span.start && m.at < span.end) {
        starts.push((m.at, m.heading.clone(), m.item.clone()));
    }
    for (k, (start, heading, item)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(span.end, |s| s.0);
        let body = &text[*start..end];
        let case = CASE.find(body).map(|c| c.as_str().to_string());
        sections.push(SectionDraft { heading: heading.clone(), item: item.clone(), case, span: Span::new(*start, end) });
    }
    sections
}

/// Segments Markdown: headings nest by level; a "§ N" heading names a provision, and its
/// "Stk. N." paragraphs are sections of their own.
pub fn segment_markdown(text: &str) -> Vec<Part> {
    let lines = lines(text);
    let mut marks: Vec<Mark> = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut paragraph: Option<String> = None;
    for line in &lines {
        if let Some(c) = MARKDOWN.captures(line.text) {
            let level = c[1].len();
            let title = c[2].trim().to_string();
            stack.retain(|(l, _)| *l < level);
            stack.push((level, title.clone()));
            paragraph = PARAGRAPH.captures(&title).map(|p| format!("§ {}", &p[1]));
            let heading = stack.iter().map(|(_, t)| t.clone()).collect();
            marks.push(Mark { at: line.start, heading, item: paragraph.clone() });
        } else if let (Some(p), Some(c)) = (&paragraph, STK.captures(line.text)) {
            let stk = format!("Stk. {}", &c[1]);
            let mut heading: Vec<String> = stack.iter().map(|(_, t)| t.clone()).collect();
            heading.push(stk);
            marks.push(Mark { at: line.start, heading, item: Some(format!("{p}, stk. {}", &c[1])) });
        }
    }
    let span = Span::new(0, text.len());
    vec![Part { span, date: None, sections: tile(text, span, &marks) }]
}

/// Segments the published answer to a forespørgsel: each "Spørgsmål N:" with the answer that
/// follows it is a section (item "Spørgsmål N"), so a question and its answer are found together.
pub fn segment_inquiry(text: &str) -> Vec<Part> {
    let marks: Vec<Mark> = lines(text)
        .into_iter()
        .filter_map(|line| {
            let c = QUESTION_LINE.captures(line.text.trim())?;
            let item = format!("Spørgsmål {}", &c[1]);
            Some(Mark { at: line.start, heading: vec![item.clone()], item: Some(item) })
        })
        .collect();
    let span = Span::new(0, text.len());
    vec![Part { span, date: None, sections: tile(text, span, &marks) }]
}

/// Segments a rules text that is not Markdown (a law or handbook from HTML, PDF or Word):
/// "Kapitel N" lines head chapters, a line opening "§ N." starts a provision, "Stk. N." lines
/// are its subsections.
pub fn segment_rules(text: &str) -> Vec<Part> {
    let mut marks: Vec<Mark> = Vec::new();
    let mut chapter: Option<String> = None;
    let mut paragraph: Option<String> = None;
    for line in lines(text) {
        let trimmed = line.text.trim();
        if let Some(c) = CHAPTER_LINE.captures(trimmed) {
            chapter = Some(c[1].trim().to_string());
            paragraph = None;
            marks.push(Mark { at: line.start, heading: chapter.iter().cloned().collect(), item: None });
        } else if let Some(c) = PARAGRAPH_LINE.captures(trimmed) {
            let p = format!("§ {}", c[1].split_whitespace().collect::<Vec<_>>().join(" "));
            let mut heading: Vec<String> = chapter.iter().cloned().collect();
            heading.push(p.clone());
            marks.push(Mark { at: line.start, heading, item: Some(p.clone()) });
            paragraph = Some(p);
        } else if let (Some(p), Some(c)) = (&paragraph, STK.captures(trimmed)) {
            let mut heading: Vec<String> = chapter.iter().cloned().collect();
            heading.extend([p.clone(), format!("Stk. {}", &c[1])]);
            marks.push(Mark { at: line.start, heading, item: Some(format!("{p}, stk. {}", &c[1])) });
        }
    }
    let span = Span::new(0, text.len());
    vec![Part { span, date: None, sections: tile(text, span, &marks) }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_dates() {
        assert_eq!(find_date("Mødedato: 15. november 2023"), NaiveDate::from_ymd_opt(2023, 11, 15));
        assert_eq!(find_date("REFERAT Aarhus Byråd d. 27-08-2025"), NaiveDate::from_ymd_opt(2025, 8, 27));
        assert_eq!(find_date("onsdag den 8. oktober 2025 kl. 16.00"), NaiveDate::from_ymd_opt(2025, 10, 8));
        assert_eq!(find_date("ingen dato"), None);
    }

    #[test]
    fn punkt_items_decisions_and_restarts() {
        let text = "Referat\nPunkt 1: Dagsorden\nGodkendt.\nBeslutning for Punkt 1: Dagsorden\nOK\nPunkt 2: Sag\nEMN-2025-000001 tekst\nPunkt 1: Dagsorden\nNyt møde";
        let parts = segment_plain(text, &[], true);
        assert_eq!(parts.len(), 2);
        let items: Vec<_> = parts[0].sections.iter().map(|s| s.item.clone()).collect();
        assert_eq!(items, vec![None, Some("1".into()), Some("2".into())]);
        assert_eq!(parts[0].sections[2].case.as_deref(), Some("EMN-2025-000001"));
        assert!(text[parts[1].span.start..].starts_with("Punkt 1: Dagsorden\nNyt"));
    }

    #[test]
    fn numbered_items_but_not_lists() {
        let text = "Mødedato: 15. november 2023\nDagsorden kort:\n1. Godkendelse af dagsorden\n2. Referat\n\n1. Godkendelse af dagsorden\nGodkendt.\n2. Referat\nTekst\n7. Ikke et punkt\n3. Klima\nmere";
        let parts = segment_plain(text, &[], true);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].date, NaiveDate::from_ymd_opt(2023, 11, 15));
        let items: Vec<_> = parts[0].sections.iter().filter_map(|s| s.item.clone()).collect();
        assert_eq!(items, vec!["1", "2", "3"]);
    }

    #[test]
    fn inquiry_answers_pair_questions_with_answers() {
        let text = "Besvarelse af 10-dages forespørgsel fra SF af 3. september 2025\n\nSpørgsmål 1: Hvor mange?\nSvar: Fem.\n\nSpørgsmål 2: Hvornår?\nSvar: I 2026.";
        let parts = segment_inquiry(text);
        let items: Vec<Option<String>> = parts[0].sections.iter().map(|s| s.item.clone()).collect();
        assert_eq!(items, vec![None, Some("Spørgsmål 1".into()), Some("Spørgsmål 2".into())]);
        let s = &parts[0].sections[1];
        assert_eq!(text[s.span.start..s.span.end].trim(), "Spørgsmål 1: Hvor mange?\nSvar: Fem.");
    }

    #[test]
    fn rules_from_plain_text_are_segmented_by_provision() {
        let text = "Forretningsorden for Aarhus Byråd\n\nKapitel 1 Møderne\n\n§ 1. Byrådet holder møde hver anden onsdag.\nStk. 2. Møderne begynder kl. 16.\n§ 2 a. Dagsordenen udsendes senest 4 hverdage før mødet.\n\nKapitel 2\n§ 3. Medlemmerne kan stille spørgsmål, jf. § 1.";
        let parts = segment_rules(text);
        let items: Vec<Option<String>> = parts[0].sections.iter().map(|s| s.item.clone()).collect();
        assert_eq!(items, vec![None, None, Some("§ 1".into()), Some("§ 1, stk. 2".into()), Some("§ 2 a".into()), None, Some("§ 3".into())]);
        assert_eq!(parts[0].sections[3].heading, vec!["Kapitel 1 Møderne", "§ 1", "Stk. 2"]);
        assert_eq!(parts[0].sections[6].heading, vec!["Kapitel 2", "§ 3"]);
        let s = &parts[0].sections[4];
        assert!(text[s.span.start..s.span.end].starts_with("§ 2 a. Dagsordenen"));
    }

    #[test]
    fn markdown_law_paragraphs_and_stk() {
        let text = "# Lov\n\n# Kapitel I\n\n## § 2\n§ 2. Første.\n\nStk. 2. Anden.\n\n## § 2 a\n§ 2 a. Tredje.";
        let parts = segment_markdown(text);
        let items: Vec<_> = parts[0].sections.iter().map(|s| s.item.clone()).collect();
        assert_eq!(items, vec![None, None, Some("§ 2".into()), Some("§ 2, stk. 2".into()), Some("§ 2 a".into())]);
        assert_eq!(parts[0].sections[3].heading, vec!["Kapitel I", "§ 2", "Stk. 2"]);
    }
}
