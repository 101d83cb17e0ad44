//! Signing in with the organization's identity provider (issue 29). The server is an OpenID
//! Connect relying party (`provider`, over `http`); who a checked identity is here is
//! `person`; the provider's settings, as the settings page and `[sso]` in server.toml give
//! them, are checked here. The flows (the page, an app's loopback redirect, an agent's device
//! code) are the routes of `routes/sso.rs`; their rows are `db/sso.rs`.

pub mod http;
pub mod person;
pub mod provider;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::ProviderRow;

/// The relying party's state: the providers' cached documents, and the organization whose
/// provider server.toml sets (the settings page shows it and can't change it).
pub struct Sso {
    pub providers: provider::Providers,
    pub file_org: Option<String>,
}

impl Default for Sso {
    fn default() -> Self {
        Sso {
            providers: provider::Providers::new().expect("a TLS client configuration"),
            file_org: None,
        }
    }
}

/// Where the provider sends the browser back: to register with it as the redirect URI.
pub fn callback_url(public_url: &str) -> String {
    format!("{}/api/v1/sso/callback", public_url.trim_end_matches('/'))
}

/// An organization's provider as the settings page shows it (never its client secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SsoSettingsView {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret_set: bool,
    pub allowed_domains: Vec<String>,
    pub groups_claim: String,
    pub admin_groups: Vec<String>,
    pub manager_groups: Vec<String>,
    pub sso_only: bool,
    pub break_glass_email: String,
    /// Set in server.toml: the page can't change it.
    pub from_file: bool,
    /// What to register with the provider as the redirect URI (null without `public_url`).
    pub callback_url: Option<String>,
}

/// `PUT /api/v1/organization/sso`: the whole setting; `client_secret` left out keeps the one
/// stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoSettingsInput {
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    /// `https://`; plain `http://` only to this machine (127.0.0.1, ::1, localhost).
    #[schema(min_length = 1, max_length = 512)]
    pub issuer: String,
    #[schema(min_length = 1, max_length = 256)]
    pub client_id: String,
    #[serde(default)]
    #[schema(max_length = 512)]
    pub client_secret: Option<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub allowed_domains: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub groups_claim: String,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub admin_groups: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub manager_groups: Vec<String>,
    #[serde(default)]
    pub sso_only: bool,
    /// With `sso_only`: the one admin who still signs in with a password.
    #[serde(default)]
    #[schema(max_length = 254)]
    pub break_glass_email: String,
}

/// `[sso]` in server.toml: the provider of one organization (`organization`, or the only one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(flatten)]
    pub settings: SsoSettingsInput,
}

fn list(items: &str) -> Vec<String> {
    items
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl SsoSettingsView {
    pub fn of(p: &ProviderRow, from_file: bool, public_url: Option<&str>) -> Self {
        SsoSettingsView {
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            client_secret_set: !p.client_secret.is_empty(),
            allowed_domains: list(&p.allowed_domains),
            groups_claim: p.groups_claim.clone(),
            admin_groups: list(&p.admin_groups),
            manager_groups: list(&p.manager_groups),
            sso_only: p.sso_only,
            break_glass_email: p.break_glass_email.clone(),
            from_file,
            callback_url: public_url.map(callback_url),
        }
    }
}

/// Whether `issuer` is an address the server may fetch a provider's documents from.
fn check_issuer(issuer: &str) -> Result<(), String> {
    let url = openidconnect::url::Url::parse(issuer).map_err(|e| format!("issuer: {e}"))?;
    let local = matches!(
        url.host(),
        Some(openidconnect::url::Host::Domain("localhost"))
    ) || matches!(url.host(), Some(openidconnect::url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(openidconnect::url::Host::Ipv6(ip)) if ip.is_loopback());
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if local => {}
        _ => return Err("issuer: an https:// address (plain http:// only on this machine)".into()),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err("issuer: no query, fragment or credentials".into());
    }
    Ok(())
}

/// A list item: no commas (the stored form), bounded, without controls.
fn items(what: &str, items: &[String], max: usize, lowercase: bool) -> Result<String, String> {
    if items.len() > 50 {
        return Err(format!("{what}: at most 50"));
    }
    let mut out = Vec::new();
    for item in items {
        let item = item.trim();
        if item.is_empty() || item.len() > max || item.contains(',') {
            return Err(format!(
                "{what}: each one 1 to {max} bytes without commas, not {item:?}"
            ));
        }
        metron_core::limits::plain_text(what, item)?;
        out.push(if lowercase {
            item.to_ascii_lowercase()
        } else {
            item.to_string()
        });
    }
    Ok(out.join(","))
}

impl SsoSettingsInput {
    /// The row these settings make for `org_id` (`kept_secret`: the one stored before, for an
    /// input without one); what is wrong otherwise.
    pub fn row(
        &self,
        org_id: &str,
        kept_secret: Option<&str>,
        now: i64,
    ) -> Result<ProviderRow, String> {
        let text = |what: &str, value: &str, max: usize| -> Result<String, String> {
            let value = value.trim();
            if value.is_empty() || value.len() > max {
                return Err(format!("{what}: 1 to {max} bytes"));
            }
            Ok(metron_core::limits::plain_text(what, value)?.to_string())
        };
        let name = text("name", &self.name, 80)?;
        let issuer = text("issuer", &self.issuer, 512)?;
        check_issuer(&issuer)?;
        let client_id = text("client_id", &self.client_id, 256)?;
        let client_secret = match (&self.client_secret, kept_secret) {
            (Some(s), _) => text("client_secret", s, 512)?,
            (None, Some(kept)) => kept.to_string(),
            (None, None) => return Err("client_secret: required".into()),
        };
        let groups_claim = self.groups_claim.trim();
        if groups_claim.len() > 64 {
            return Err("groups_claim: at most 64 bytes".into());
        }
        metron_core::limits::plain_text("groups_claim", groups_claim)?;
        let break_glass_email = self.break_glass_email.trim().to_lowercase();
        if break_glass_email.len() > 254 {
            return Err("break_glass_email: at most 254 bytes".into());
        }
        if self.sso_only && break_glass_email.is_empty() {
            return Err(
                "break_glass_email: SSO-only needs one admin who can still sign in with a password"
                    .into(),
            );
        }
        Ok(ProviderRow {
            org_id: org_id.into(),
            name,
            issuer,
            client_id,
            client_secret,
            allowed_domains: items("allowed_domains", &self.allowed_domains, 253, true)?,
            groups_claim: groups_claim.into(),
            admin_groups: items("admin_groups", &self.admin_groups, 128, false)?,
            manager_groups: items("manager_groups", &self.manager_groups, 128, false)?,
            sso_only: self.sso_only,
            break_glass_email,
            updated_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SsoSettingsInput {
        SsoSettingsInput {
            name: "Acme ID".into(),
            issuer: "https://id.acme.example/realms/acme".into(),
            client_id: "metron".into(),
            client_secret: Some("s3cret".into()),
            allowed_domains: vec!["Acme.Example".into()],
            groups_claim: "groups".into(),
            admin_groups: vec!["it".into()],
            manager_groups: vec![],
            sso_only: false,
            break_glass_email: String::new(),
        }
    }

    #[test]
    fn settings_are_checked_and_stored_in_their_plain_form() {
        let row = input().row("o", None, 5).unwrap();
        assert_eq!(
            (row.allowed_domains.as_str(), row.admin_groups.as_str()),
            ("acme.example", "it")
        );
        let mut kept = input();
        kept.client_secret = None;
        assert_eq!(kept.row("o", Some("old"), 5).unwrap().client_secret, "old");
        assert!(kept
            .row("o", None, 5)
            .unwrap_err()
            .contains("client_secret"));
        for (issuer, ok) in [
            ("http://127.0.0.1:9000/", true),
            ("http://localhost:9000", true),
            ("http://id.acme.example", false),
            ("ftp://id.acme.example", false),
            ("https://id.acme.example/?q=1", false),
            ("https://user:pw@id.acme.example", false),
        ] {
            let mut i = input();
            i.issuer = issuer.into();
            assert_eq!(i.row("o", None, 5).is_ok(), ok, "{issuer}");
        }
        let mut i = input();
        i.allowed_domains = vec!["a.example,b.example".into()];
        assert!(i.row("o", None, 5).is_err());
        let mut i = input();
        i.sso_only = true;
        assert!(i.row("o", None, 5).unwrap_err().contains("break_glass"));
    }
}
