//! Lifetimes as people write them (CLI flags and admin API bodies): `90d`, `12h`, `30m`, `2w`, `45s`.

/// Parses a positive whole number followed by one unit: `s`, `m`, `h`, `d` or `w`.
pub fn parse_duration(text: &str) -> Result<time::Duration, String> {
    let text = text.trim();
    let usage = || format!("'{text}' is not a duration; write e.g. 90d, 12h, 30m, 2w or 45s");
    let unit_at = text
        .char_indices()
        .last()
        .map(|(at, _)| at)
        .ok_or_else(usage)?;
    let (number, unit) = text.split_at(unit_at);
    let amount: i64 = number.parse().map_err(|_| usage())?;
    if amount <= 0 {
        return Err(format!("'{text}' must be longer than zero"));
    }
    let seconds_per_unit: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(usage()),
    };
    // A century is plenty; beyond it the arithmetic of `now + lifetime` could overflow.
    const MAX_SECONDS: i64 = 100 * 366 * 86_400;
    match amount.checked_mul(seconds_per_unit) {
        Some(seconds) if seconds <= MAX_SECONDS => Ok(time::Duration::seconds(seconds)),
        _ => Err(format!(
            "'{text}' is too long; the longest lifetime is 100 years"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_scale_to_seconds() {
        assert_eq!(parse_duration("45s"), Ok(time::Duration::seconds(45)));
        assert_eq!(parse_duration("30m"), Ok(time::Duration::minutes(30)));
        assert_eq!(parse_duration("12h"), Ok(time::Duration::hours(12)));
        assert_eq!(parse_duration("90d"), Ok(time::Duration::days(90)));
        assert_eq!(parse_duration("2w"), Ok(time::Duration::weeks(2)));
        assert_eq!(parse_duration(" 1d "), Ok(time::Duration::days(1)));
    }

    #[test]
    fn malformed_durations_are_refused_with_a_hint() {
        for bad in [
            "",
            "d",
            "90",
            "90x",
            "-1d",
            "0d",
            "1.5h",
            "1dd",
            "é",
            "99999999999999999999d",
            "40000d",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(!err.is_empty(), "{bad}");
        }
        assert!(parse_duration("90").unwrap_err().contains("90d"));
    }
}
