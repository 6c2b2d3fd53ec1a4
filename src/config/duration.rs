//! Human-friendly durations such as `"30m"` or `"1h30m"`.

use std::time::Duration;

/// Parses a duration written as one or more `<number><unit>` parts, summed.
///
/// Units: `ms`, `s`, `m` (minutes), `h`, `d`. Examples: `"500ms"`, `"5s"`, `"30m"`, `"2h"`,
/// `"1h30m"`, `"1d"`. Zero (`"0s"`) is allowed. Spaces, signs, fractions and bare numbers
/// (`"30"`) are rejected so a forgotten unit is never silently read as seconds.
/// The error is a short English reason, without the input.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if s.is_empty() {
        return Err("empty duration".to_string());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("expected a number at {rest:?}"));
        }
        let (number, after) = rest.split_at(digits);
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(unit_len);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("number {number} is too large"))?;
        let part = match unit {
            "ms" => Some(Duration::from_millis(number)),
            "s" => Some(Duration::from_secs(number)),
            "m" => number.checked_mul(60).map(Duration::from_secs),
            "h" => number.checked_mul(60 * 60).map(Duration::from_secs),
            "d" => number.checked_mul(24 * 60 * 60).map(Duration::from_secs),
            "" => {
                return Err(format!(
                    "missing unit after {number} (use ms, s, m, h or d)"
                ));
            }
            other => return Err(format!("unknown unit {other:?} (use ms, s, m, h or d)")),
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| "duration is too large".to_string())?;
        rest = after;
    }
    Ok(total)
}

/// Writes `d` the way [`parse_duration`] reads it, largest units first: `"1h30m"`, `"500ms"`,
/// `"0s"`. Parts below a millisecond are left out (no config value has them).
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let good = [
            ("500ms", Duration::from_millis(500)),
            ("5s", Duration::from_secs(5)),
            ("30m", Duration::from_secs(1800)),
            ("2h", Duration::from_secs(7200)),
            ("1h30m", Duration::from_secs(5400)),
            ("1d", Duration::from_secs(86400)),
            ("0s", Duration::ZERO),
            ("1m30s250ms", Duration::from_millis(90_250)),
        ];
        for (text, want) in good {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
        let bad = [
            "",
            "30",
            "5 s",
            " 5s",
            "5s ",
            "-5s",
            "1.5h",
            "5x",
            "h",
            "1h30",
            "5S",
            "5sec",
            "99999999999999999999s",
            "999999999999999999d",
        ];
        for text in bad {
            assert!(parse_duration(text).is_err(), "{text:?} should be rejected");
        }
    }

    #[test]
    fn formatted_durations_read_back() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_millis(500), "500ms"),
            (Duration::from_secs(5), "5s"),
            (Duration::from_secs(5400), "1h30m"),
            (Duration::from_secs(86_400 + 1), "1d1s"),
            (Duration::from_millis(90_250), "1m30s250ms"),
            (Duration::from_nanos(1_500_000), "1ms"),
        ];
        for (d, text) in cases {
            assert_eq!(format_duration(d), text);
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(d.as_millis() as u64))
            );
        }
    }
}
