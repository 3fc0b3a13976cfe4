//! The server under test. Load goes to loopback addresses only: the workplace forbids
//! load on any other address, and a bench against a remote host would measure the
//! network, not the server.

use crate::BenchError;
use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses `base` (a SCIM base URL such as `http://127.0.0.1:8080/scim/v2/acme`) and
/// refuses any host other than 127.0.0.1, ::1 and localhost. The trailing slash is
/// removed so paths can be appended.
pub fn loopback_base(base: &str) -> Result<String, BenchError> {
    let url = Url::parse(base).map_err(|e| BenchError::BadUrl {
        url: base.to_string(),
        reason: e.to_string(),
    })?;
    if url.scheme() != "http" {
        return Err(BenchError::BadUrl {
            url: base.to_string(),
            reason: "only http:// is supported (loopback, no TLS)".into(),
        });
    }
    let Some(host) = url.host_str() else {
        return Err(BenchError::BadUrl {
            url: base.to_string(),
            reason: "no host".into(),
        });
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| {
            ip == IpAddr::V4(Ipv4Addr::LOCALHOST) || ip == IpAddr::V6(Ipv6Addr::LOCALHOST)
        });
    if !loopback {
        return Err(BenchError::NotLoopback {
            url: base.to_string(),
        });
    }
    Ok(base.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080/scim/v2/acme",
            "http://localhost:1/v2/",
            "http://[::1]:9/v2",
        ] {
            assert!(loopback_base(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            loopback_base("http://127.0.0.1:1/v2/").ok().as_deref(),
            Some("http://127.0.0.1:1/v2")
        );
    }

    #[test]
    fn other_hosts_are_refused() {
        for bad in [
            "http://10.0.0.1/v2",
            "http://127.0.0.2/v2",
            "http://example.com/v2",
            "http://0.0.0.0:80/",
            "http://[::2]/",
        ] {
            assert!(
                matches!(loopback_base(bad), Err(BenchError::NotLoopback { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            loopback_base("https://127.0.0.1/"),
            Err(BenchError::BadUrl { .. })
        ));
        assert!(matches!(
            loopback_base("not a url"),
            Err(BenchError::BadUrl { .. })
        ));
    }
}
