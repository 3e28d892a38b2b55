//! Rules for text that people type and providers send back: no control characters, no
//! bidirectional overrides (they disguise what a screen or a receipt shows), bounded length.

use crate::RuleId;
use crate::ValidationError;

/// Unicode's explicit direction controls: embeddings, overrides, isolates and marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters refused in any single-line field: C0/C1 controls (ANSI escapes, NUL,
/// newlines), direction controls, and the invisible or separating ones that make two
/// texts look alike or break a line where none shows (U+2028/2029, zero-width, BOM,
/// soft hyphen, word joiner).
pub fn is_forbidden(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || is_invisible(c)
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2028}' | '\u{2029}'
        | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// Checks one line of text: at most `max_chars` characters and nothing [`is_forbidden`].
pub fn check_line(field: &'static str, value: &str, max_chars: usize) -> Result<(), ValidationError> {
    if let Some(c) = value.chars().find(|c| is_forbidden(*c)) {
        return Err(ValidationError::new(
            field,
            format!("must not contain control or text-direction characters (found U+{:04X})", c as u32),
        )
        .because(RuleId::Characters));
    }
    let count = value.chars().count();
    if count > max_chars {
        return Err(ValidationError::new(field, format!("must be at most {max_chars} characters (got {count})"))
            .because(RuleId::Characters));
    }
    Ok(())
}

/// Text made safe to print on a terminal: controls and direction characters become
/// visible `\u{..}` escapes; newlines and tabs stay.
pub fn escape_for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_forbidden(c) && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}
/// A provider's message field (`ret_msg`, `msg`), as a person may read it: printable
/// characters only, at most 300 of them; empty when missing or not text.
pub fn provider_message(body: &serde_json::Value, field: &str) -> String {
    let message = body.get(field).and_then(serde_json::Value::as_str).unwrap_or("").trim();
    message.chars().filter(|c| !is_forbidden(*c)).take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_direction_overrides_are_refused() {
        assert!(check_line("description", "Coffee & cake, 2 × 3.50", 64).is_ok());
        assert!(check_line("description", "咖啡", 2).is_ok(), "length counts characters, not bytes");
        let e = check_line("description", "a\u{1b}[31mred", 64).unwrap_err();
        assert_eq!(e.field, "description");
        assert!(e.rule.contains("U+001B"), "{}", e.rule);
        assert!(check_line("first_name", "evil\u{202E}gpj.exe", 64).is_err());
        assert!(check_line("first_name", "a\nb", 64).is_err());
        let e = check_line("description", &"x".repeat(65), 64).unwrap_err();
        assert!(e.rule.contains("at most 64"), "{}", e.rule);
    }

    #[test]
    fn terminal_escaping_shows_what_was_hidden() {
        assert_eq!(escape_for_terminal("ok\tline\n"), "ok\tline\n");
        assert_eq!(escape_for_terminal("\u{1b}[2J"), "\\u{001b}[2J");
        assert_eq!(escape_for_terminal("a\u{202E}b"), "a\\u{202e}b");
    }
}
