//! Human-readable output: times, tables and the "where to paste this" hint.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

/// Where an admin pastes the SCIM URL and token in each identity provider.
pub const WHERE_TO_PASTE: &str =
    "Entra ID: Enterprise application > Provisioning > Tenant URL / Secret Token; \
Okta: app > Provisioning > Integration > SCIM connector base URL / API token (HTTP Header auth)";

/// `2025-01-31 14:05 UTC`.
pub fn human_time(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// RFC 3339 for JSON output (`null` is the caller's business).
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Prints rows as columns aligned under a header, two spaces apart.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Prints the SCIM URL and a fresh token with the hint on where they go.
pub fn print_credentials(scim_url: &str, token: &str) {
    println!();
    println!("  SCIM URL (Tenant URL):  {scim_url}");
    println!("  Token (Secret Token):   {token}");
    println!();
    println!("The token is shown once: store it now (scimd keeps only a hash).");
    println!("Paste them into {WHERE_TO_PASTE}.");
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(
            human_time(datetime!(2025-01-31 16:05 +02:00)),
            "2025-01-31 14:05 UTC"
        );
        assert_eq!(
            rfc3339(datetime!(2025-01-31 14:05 UTC)),
            "2025-01-31T14:05:00Z"
        );
    }
}
