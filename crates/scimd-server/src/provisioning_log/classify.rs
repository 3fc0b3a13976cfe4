//! Which identity provider sent a request, from its `User-Agent`.
//!
//! Entra's provisioning service has sent `Azure AD SCIM Client`, `Microsoft.AAD...`
//! and other `Microsoft`/`AAD` strings over the years; Okta sends `Okta SCIM Client`
//! style strings. The `aadOptscim062020` query flag only ever comes from Entra (an
//! admin appends it to the Tenant URL), so it is a hint when the agent says nothing.

use scimd_store::LogClient;

/// The client that sent a request.
pub fn classify_client(user_agent: Option<&str>, query: Option<&str>) -> LogClient {
    let agent = user_agent.unwrap_or("").to_ascii_lowercase();
    if ["azure ad", "azuread", "microsoft", "aad"]
        .iter()
        .any(|needle| agent.contains(needle))
    {
        return LogClient::Entra;
    }
    if agent.contains("okta") {
        return LogClient::Okta;
    }
    let flagged = query.is_some_and(|q| q.to_ascii_lowercase().contains("aadoptscim062020"));
    if flagged {
        LogClient::Entra
    } else {
        LogClient::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_name_their_client() {
        for entra in [
            "Azure AD SCIM Client",
            "Microsoft.AAD.Provisioning/1.0",
            "AAD-Provisioning",
            "AzureAD-Sync",
        ] {
            assert_eq!(
                classify_client(Some(entra), None),
                LogClient::Entra,
                "{entra}"
            );
        }
        for okta in ["Okta SCIM Client 1.0.0", "okta-scim/2"] {
            assert_eq!(classify_client(Some(okta), None), LogClient::Okta, "{okta}");
        }
        for other in [
            None,
            Some(""),
            Some("curl/8.5.0"),
            Some("python-requests/2.31"),
        ] {
            assert_eq!(classify_client(other, None), LogClient::Other, "{other:?}");
        }
    }

    #[test]
    fn the_entra_flag_is_a_hint() {
        assert_eq!(
            classify_client(Some("curl/8"), Some("aadOptscim062020&filter=x")),
            LogClient::Entra
        );
        assert_eq!(
            classify_client(Some("Okta SCIM Client"), Some("aadOptscim062020")),
            LogClient::Okta,
            "the agent wins over the hint"
        );
    }
}
