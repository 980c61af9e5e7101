//! Timestamps as sources write them, normalized to RFC 3339 UTC.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// Reads an RFC 3339 timestamp, a zone-less `YYYY-MM-DD[ T]HH:MM:SS[.f]` (taken as UTC, as
/// Panther and some exporters write it), or epoch milliseconds (CloudWatch), and writes it back
/// as RFC 3339 UTC. `None` when the text is none of these.
pub fn normalize_timestamp(text: &str) -> Option<String> {
    parse_timestamp(text).map(|t| t.to_string())
}

pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let millis: i64 = text.parse().ok()?;
        return Timestamp::from_millisecond(millis).ok();
    }
    let civil: DateTime = text.parse().ok()?;
    TimeZone::UTC.to_timestamp(civil).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_forms() {
        let cases = [
            (
                "2026-10-01T12:00:00.123456Z",
                Some("2026-10-01T12:00:00.123456Z"),
            ),
            ("2026-10-01T14:00:00+02:00", Some("2026-10-01T12:00:00Z")),
            ("2022-11-29 00:09:04.38", Some("2022-11-29T00:09:04.38Z")),
            ("1790000000000", Some("2026-09-21T14:13:20Z")),
            ("yesterday", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                normalize_timestamp(input).as_deref(),
                want,
                "input {input:?}"
            );
        }
    }
}
