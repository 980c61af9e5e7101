//! Text bound for a terminal. Record fields and keys are chosen by whoever wrote the log, so
//! control characters and bidirectional overrides in them must not reach a terminal as such.

/// Replaces control characters and Unicode bidi controls with `?`.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                '?'
            } else {
                c
            }
        })
        .collect()
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn controls_are_replaced() {
        assert_eq!(super::printable("a\u{1b}[31mb\u{202e}c\td"), "a?[31mb?c?d");
        assert_eq!(super::printable("plain ünïcode"), "plain ünïcode");
    }
}
