//! Durations on the command line: `90s`, `30m`, `2h`, `1h30m`, `1.5h`,
//! `2h 15min` (humantime's spellings of hours, minutes and seconds).

use std::time::Duration;

use anyhow::{bail, Result};

/// Parse a duration; `what` names the flag in errors.
pub fn parse_duration(text: &str, what: &str) -> Result<Duration> {
    let t = text.trim();
    if t.is_empty() {
        bail!("{what} is empty: give a duration such as 90s, 30m, 2h or 1h30m");
    }
    if t.parse::<f64>().is_ok() {
        bail!("{what} {text:?} has no unit: write 90s, 30m, 2h or 1h30m");
    }
    let mut seconds = 0.0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        let value: f64 = num.parse().map_err(|_| {
            anyhow::anyhow!(
                "{what} {text:?}: expected a number at {:?} (write 90s, 30m, 2h or 1h30m)",
                rest
            )
        })?;
        let after = after.trim_start();
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale = match unit {
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "" => bail!("{what} {text:?}: {num} has no unit (h, m or s)"),
            other => bail!("{what} {text:?}: unknown unit {other:?} (use h, m or s)"),
        };
        seconds += value * scale;
        rest = after.trim_start();
    }
    if !seconds.is_finite() || seconds > 365.0 * 86_400.0 {
        bail!("{what} {text:?} is more than a year");
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        let s = |t: &str| parse_duration(t, "--time-budget").unwrap().as_secs_f64();
        assert_eq!(s("90s"), 90.0);
        assert_eq!(s("30m"), 1800.0);
        assert_eq!(s("2h"), 7200.0);
        assert_eq!(s("1h30m"), 5400.0);
        assert_eq!(s("1h 30min"), 5400.0);
        assert_eq!(s("1.5h"), 5400.0);
        assert_eq!(s(" 45 s "), 45.0);
        assert_eq!(s("0s"), 0.0);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = |t: &str| parse_duration(t, "--time-budget").unwrap_err().to_string();
        assert!(e("30").contains("no unit"), "{}", e("30"));
        assert!(e("0").contains("no unit"));
        assert!(e("30x").contains("unknown unit \"x\""), "{}", e("30x"));
        assert!(e("h").contains("expected a number"), "{}", e("h"));
        assert!(e("").contains("empty"));
        assert!(e("1.2.3s").contains("expected a number"), "{}", e("1.2.3s"));
        assert!(e("99999999h").contains("more than a year"));
    }
}
