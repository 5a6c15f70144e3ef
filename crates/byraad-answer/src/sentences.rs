//! Sentences of Danish council text, as byte ranges.

use std::ops::Range;

/// Fewest characters of a quotable sentence.
const MIN_CHARS: usize = 12;
/// A line shorter than this stands alone (a heading, list item or table row).
const SHORT_LINE: usize = 50;

/// The sentences of `text` as byte ranges, trimmed of surrounding whitespace.
///
/// A sentence ends at a paragraph break, at a line break after a short line or a closing
/// punctuation mark (minutes and agendas put list items, table rows and headings on lines of
/// their own; long lines without one are wrapped text), or after `.`, `!` or `?` followed by whitespace and an upper-case letter
/// or an opening quote. "12. marts", "kr. 5 mio.", "§ 8. stk. 2" do not end one: what follows is
/// lower-case or a digit. Fragments shorter than 12 characters are dropped.
///
/// Text extracted double-spaced (a blank line after every line) has no paragraph breaks to
/// tell: there a blank line is a line break like any other, so that a sentence wrapped over
/// lines ("... i Nordic Safe Ci-\n\nties.") stays whole.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let double_spaced = double_spaced(text);
    for (i, &(at, c)) in chars.iter().enumerate() {
        let end = match c {
            '\n' => {
                // A paragraph break, or a line that ends a sentence or is short (a heading, a
                // list item, a table row) ends one; other line breaks are wrapped lines (OCR and
                // PDF text break lines inside sentences).
                // A next line that goes on in lower case continues the sentence, however short
                // this one is ("Han kan hjælpe mig\nmåske 4 år ...").
                let line = text[start..at].trim();
                let paragraph = !double_spaced && chars.get(i + 1).is_some_and(|(_, n)| *n == '\n');
                // A line ending in an abbreviation ("(ekskl.") goes on on the next.
                let abbreviated = line.strip_suffix('.').is_some_and(abbreviation);
                let ends = line.ends_with(['.', '!', '?', ':', ';']);
                let continues = chars[i + 1..].iter().map(|(_, n)| *n).find(|n| !n.is_whitespace()).is_some_and(char::is_lowercase);
                (!abbreviated && (paragraph || ends || (line.chars().count() < SHORT_LINE && !continues))).then_some(at)
            }
            '.' if abbreviation(&text[start..at]) => None,
            '.' | '!' | '?' => {
                let next_space = chars.get(i + 1).is_some_and(|(_, n)| n.is_whitespace() && *n != '\n');
                let after = chars[i + 1..].iter().map(|(_, n)| *n).find(|n| !n.is_whitespace());
                (next_space && after.is_some_and(|n| n.is_uppercase() || matches!(n, '»' | '«' | '"' | '“'))).then_some(at + c.len_utf8())
            }
            _ => None,
        };
        if let Some(end) = end {
            push(text, start..end, &mut out);
            start = end;
        }
    }
    push(text, start..text.len(), &mut out);
    out
}

/// Danish abbreviations that end in a full stop and go on before a capitalised word ("jf.
/// Kommunestyrelsesloven", "ekskl. Ukraine", "bl.a. Aarhus").
const ABBREVIATIONS: &[&str] = &[
    "jf", "ekskl", "inkl", "bl.a", "f.eks", "fx", "ca", "evt", "mht", "iht", "vedr", "hhv", "dvs", "pga", "mv", "nr", "stk", "kl", "pkt", "ift", "ifm", "tlf", "att", "mrk",
];

/// Whether `before` (the text before a full stop) ends with an abbreviation.
fn abbreviation(before: &str) -> bool {
    let word = before.rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or_default();
    ABBREVIATIONS.contains(&word.to_lowercase().as_str())
}

/// Whether most line breaks of `text` are blank lines (at least three of them, and twice as
/// many as single ones).
fn double_spaced(text: &str) -> bool {
    let blank = text.matches("\n\n").count();
    let all = text.matches('\n').count();
    let single = all.saturating_sub(2 * blank);
    blank >= 3 && blank >= 2 * single
}

fn push(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let piece = &text[range.clone()];
    let lead = piece.len() - piece.trim_start().len();
    let trimmed = piece.trim();
    if trimmed.chars().count() >= MIN_CHARS {
        let from = range.start + lead;
        out.push(from..from + trimmed.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        sentences(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn splits_at_sentence_ends_and_lines_only() {
        let text = "Byrådet vedtog forslaget den 12. marts 2025. Det koster ca. 5 mio. kr. om året.\nBilag 1: Notat om økonomien\n§ 8. stk. 2 gælder.";
        assert_eq!(
            split(text),
            vec!["Byrådet vedtog forslaget den 12. marts 2025.", "Det koster ca. 5 mio. kr. om året.", "Bilag 1: Notat om økonomien", "§ 8. stk. 2 gælder."]
        );
        // Abbreviations go on before a capitalised word.
        assert_eq!(split("Af dem (ekskl.\nUkraine) har fået en sanktion."), vec!["Af dem (ekskl.\nUkraine) har fået en sanktion."]);
        assert_eq!(split("Af dem har 800 (ekskl. Ukraine) fået en sanktion, jf. Kommunestyrelsesloven. Ny sætning her."), vec!["Af dem har 800 (ekskl. Ukraine) fået en sanktion, jf. Kommunestyrelsesloven.", "Ny sætning her."]);
        // A long line wrapped inside a sentence stays one sentence.
        let wrapped = "Udvalget anbefaler, at byrådet fremover behandler anmodninger om foretræde\nsenest kl. 12.00 dagen før mødet.";
        assert_eq!(split(wrapped), vec![wrapped]);
        // So is a short piece of a line that goes on in lower case on the next.
        let late = "Af gode grunde kan han ikke forsikre mig om noget som helst. Han kan hjælpe mig\nmåske 4 år ud i fremtiden.";
        assert_eq!(split(late), vec!["Af gode grunde kan han ikke forsikre mig om noget som helst.", "Han kan hjælpe mig\nmåske 4 år ud i fremtiden."]);
    }

    #[test]
    fn double_spaced_text_keeps_its_sentences_whole() {
        let text = "At 1) rådmanden træffer afgørelse om hvorvidt Sociale\n\nForhold og Beskæftigelse skal indtræde i Nordic Safe Ci-\n\nties.\n\n3. Hvorfor fremsendes indstillingen?\n\nNordic Safe Cities har på ny rettet henvendelse.";
        assert_eq!(
            split(text),
            vec![
                "At 1) rådmanden træffer afgørelse om hvorvidt Sociale\n\nForhold og Beskæftigelse skal indtræde i Nordic Safe Ci-\n\nties.",
                "Hvorfor fremsendes indstillingen?",
                "Nordic Safe Cities har på ny rettet henvendelse."
            ]
        );
        // Ordinary text keeps its paragraph breaks.
        assert_eq!(split("Første afsnit uden punktum\n\nAndet afsnit her."), vec!["Første afsnit uden punktum", "Andet afsnit her."]);
    }

    #[test]
    fn ranges_are_exact_and_short_fragments_dropped() {
        let text = "  Ja.\n\nUdvalget anbefaler »Bylivsforum« med to rådmænd.  Nej.";
        for r in sentences(text) {
            assert_eq!(text[r.clone()].trim(), &text[r]);
        }
        assert_eq!(split(text), vec!["Udvalget anbefaler »Bylivsforum« med to rådmænd."]);
        assert!(sentences("").is_empty());
    }
}
