//! Normalises raw text into the document text every span refers to.
//!
//! Whitespace inside a line collapses to one space, runs of blank lines to one, words hyphenated
//! across a line break are joined ("hand-\nlingsplan" → "handlingsplan", but "Børne- og\nUnge"
//! keeps its hyphen), and form feeds become page-break offsets.

/// Normalised text and where its pages begin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The text.
    pub text: String,
    /// Byte offsets where pages 2, 3, ... begin.
    pub page_breaks: Vec<usize>,
}

/// Words that follow a hyphen which ends a compound's first part ("Social- og").
const KEEP_HYPHEN_BEFORE: &[&str] = &["og", "eller", "samt", "til", "som", "and", "or"];

/// Normalises `raw`: lines by `\n`, pages by `\u{c}`.
pub fn normalize(raw: &str) -> Normalized {
    // (page break before this line, squashed line)
    let mut lines: Vec<(bool, String)> = Vec::new();
    let mut pending_break = false;
    for line in raw.split('\n') {
        let mut line = line;
        while let Some(i) = line.find('\u{c}') {
            let (before, after) = line.split_at(i);
            if !before.trim().is_empty() {
                lines.push((pending_break, squash(before)));
            }
            pending_break = true;
            line = &after['\u{c}'.len_utf8()..];
        }
        lines.push((pending_break, squash(line)));
        pending_break = false;
    }

    let mut text = String::with_capacity(raw.len());
    let mut page_breaks = Vec::new();
    let mut page_pending = false;
    let mut blank_pending = false;
    let mut i = 0;
    while i < lines.len() {
        let (brk, line) = (lines[i].0, lines[i].1.clone());
        page_pending |= brk;
        i += 1;
        if line.is_empty() {
            blank_pending = !text.is_empty();
            continue;
        }
        let mut line = line;
        // Join a word hyphenated across the line break with the next line's first word.
        while let Some(stem) = hyphenated_stem(&line) {
            let Some((next_brk, next)) = lines.get(i).cloned() else { break };
            let first_word = next.split(' ').next().unwrap_or("");
            if !starts_lowercase(first_word) || KEEP_HYPHEN_BEFORE.contains(&first_word) {
                break;
            }
            if next_brk {
                // The page break moves before the joined word's line.
                page_pending = true;
            }
            line = format!("{stem}{next}");
            i += 1;
        }
        if !text.is_empty() {
            text.push('\n');
            if blank_pending {
                text.push('\n');
            }
        }
        blank_pending = false;
        if page_pending && !text.is_empty() {
            page_breaks.push(text.len());
        }
        page_pending = false;
        text.push_str(&line);
    }
    Normalized { text, page_breaks }
}

/// `line` without its trailing hyphen when it ends in "letter-".
fn hyphenated_stem(line: &str) -> Option<&str> {
    let stem = line.strip_suffix('-')?;
    let last = stem.chars().last()?;
    (last.is_alphabetic() && stem.chars().rev().nth(1).is_some_and(char::is_alphabetic)).then_some(stem)
}

fn starts_lowercase(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_lowercase)
}

/// Collapses every whitespace run (tabs, no-break spaces) to one space and trims.
fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{ad}') {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_hyphenated_words_but_not_compound_lists() {
        let n = normalize("politik og hand-\nlingsplan mod\nSocial- og\nBeskæftigelse-\nsudvalg\nBørne-\nog unge");
        assert_eq!(n.text, "politik og handlingsplan mod\nSocial- og\nBeskæftigelsesudvalg\nBørne-\nog unge");
    }

    #[test]
    fn squashes_whitespace_and_blank_lines() {
        let n = normalize("  a\u{a0}\u{a0} \u{a0}b\t c \n\n\n\nd\n");
        assert_eq!(n.text, "a b c\n\nd");
    }

    #[test]
    fn form_feeds_become_page_breaks() {
        let n = normalize("side et\n\u{c}side to\nmere\u{c}side tre");
        assert_eq!(n.text, "side et\nside to\nmere\nside tre");
        assert_eq!(n.page_breaks, vec![8, 21]);
        assert!(n.text[21..].starts_with("side tre"));
    }
}
