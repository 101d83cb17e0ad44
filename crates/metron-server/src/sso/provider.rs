//! One organization's OpenID Connect provider as the relying party sees it: its discovery
//! document (cached an hour), the authorization request (code flow, PKCE S256, state and nonce
//! of our own), and the code's exchange with the ID token checked: its signature against the
//! provider's keys (fetched again, at most once a minute, when a token names a key the cached
//! set lacks; a bad signature by a known key is simply refused), `iss`, `aud`, `exp`, `nonce`; then `email_verified`. Nothing the provider
//! answers is kept beyond the sign-in: no access, refresh or ID token is stored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SignatureVerificationError, TokenResponse,
};

use super::http::ProviderHttp;
use crate::db::ProviderRow;

const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
const KEYS_REFRESH_EVERY: Duration = Duration::from_secs(60);

/// What the provider vouched for, from a checked ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// The configured groups claim's values (empty when none is configured or sent).
    pub groups: Vec<String>,
}

struct Cached {
    /// The provider row's `updated_at` it was discovered for.
    stamp: (String, i64),
    fetched: Instant,
    keys_fetched: Instant,
    metadata: CoreProviderMetadata,
}

/// Discovery documents by organization.
pub struct Providers {
    http: ProviderHttp,
    cache: Mutex<HashMap<String, Cached>>,
}

impl Providers {
    pub fn new() -> Result<Self, String> {
        Ok(Providers {
            http: ProviderHttp::new()?,
            cache: Mutex::default(),
        })
    }

    /// The provider's discovery document (from the cache while fresh).
    pub async fn metadata(&self, p: &ProviderRow) -> Result<CoreProviderMetadata, String> {
        let stamp = (p.issuer.clone(), p.updated_at);
        if let Some(c) = self.cache.lock().expect("sso cache").get(&p.org_id) {
            if c.stamp == stamp && c.fetched.elapsed() < DISCOVERY_TTL {
                return Ok(c.metadata.clone());
            }
        }
        let metadata = discover(&self.http, &p.issuer).await?;
        let now = Instant::now();
        // Keys came with the discovery, yet an unknown key right after may fetch them again.
        let keys_fetched = now.checked_sub(KEYS_REFRESH_EVERY).unwrap_or(now);
        self.cache.lock().expect("sso cache").insert(
            p.org_id.clone(),
            Cached {
                stamp,
                fetched: now,
                keys_fetched,
                metadata: metadata.clone(),
            },
        );
        Ok(metadata)
    }

    /// Where to send the browser, for a sign-in with our `state`, `nonce` and the PKCE
    /// challenge of `verifier`.
    pub async fn authorize_url(
        &self,
        p: &ProviderRow,
        callback: &str,
        state: &str,
        nonce: &str,
        verifier: &str,
    ) -> Result<String, String> {
        let client = client(self.metadata(p).await?, p, callback)?;
        let challenge =
            PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.into()));
        let (state, nonce) = (state.to_string(), nonce.to_string());
        let (url, _, _) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.to_string())
    }

    /// Trades the provider's `code` and checks its ID token; the reason in words otherwise.
    pub async fn identity(
        &self,
        p: &ProviderRow,
        callback: &str,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Identity, String> {
        let metadata = self.metadata(p).await?;
        let exchange = client(metadata.clone(), p, callback)?
            .exchange_code(AuthorizationCode::new(code.into()))
            .map_err(|e| format!("the provider has no token endpoint: {e}"))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.into()))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                format!(
                    "the provider did not take the sign-in's code: {}",
                    chain(&e)
                )
            })?;
        // The access token is not used: what Metron needs is in the ID token.
        let _ = exchange.access_token();
        let id_token = exchange
            .id_token()
            .ok_or("the provider answered no ID token")?
            .clone();
        let nonce = Nonce::new(nonce.into());
        let first = client(metadata.clone(), p, callback)?;
        let first_verifier = first.id_token_verifier();
        let claims = match id_token.claims(&first_verifier, &nonce) {
            Ok(claims) => claims.clone(),
            Err(ClaimsVerificationError::SignatureVerification(
                e @ SignatureVerificationError::NoMatchingKey,
            )) => {
                // A key the cached set lacks (the provider rotated its keys): fetch them
                // again, once a minute at most, and check once more.
                let metadata = self
                    .fresh_keys(p, metadata)
                    .await
                    .map_err(|why| format!("the ID token's signature: {e} ({why})"))?;
                let again = client(metadata, p, callback)?;
                let verifier = again.id_token_verifier();
                id_token
                    .claims(&verifier, &nonce)
                    .map_err(|e| format!("the ID token was refused: {e}"))?
                    .clone()
            }
            Err(e) => return Err(format!("the ID token was refused: {e}")),
        };
        let groups = if p.groups_claim.is_empty() {
            Vec::new()
        } else {
            // The signature is checked: the payload's other claims can be read as they are.
            groups_of(&id_token.to_string(), &p.groups_claim)
        };
        Ok(Identity {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
            groups,
        })
    }

    /// The provider's keys fetched again, unless they were within the last minute.
    async fn fresh_keys(
        &self,
        p: &ProviderRow,
        metadata: CoreProviderMetadata,
    ) -> Result<CoreProviderMetadata, String> {
        if let Some(c) = self.cache.lock().expect("sso cache").get(&p.org_id) {
            if c.keys_fetched.elapsed() < KEYS_REFRESH_EVERY {
                return Err("the keys were fetched again less than a minute ago".into());
            }
        }
        let keys = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| format!("fetching the provider's keys: {}", chain(&e)))?;
        let metadata = metadata.set_jwks(keys);
        if let Some(c) = self.cache.lock().expect("sso cache").get_mut(&p.org_id) {
            c.keys_fetched = Instant::now();
            c.metadata = metadata.clone();
        }
        Ok(metadata)
    }
}

/// An error with its causes, for the log and the person: openidconnect's say "Request
/// failed" and keep the why in their source.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// Reads the provider's discovery document (the settings page checks an issuer with it).
pub async fn discover(http: &ProviderHttp, issuer: &str) -> Result<CoreProviderMetadata, String> {
    let issuer = IssuerUrl::new(issuer.into()).map_err(|e| format!("the issuer URL: {e}"))?;
    CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| format!("reading the provider's discovery document: {}", chain(&e)))
}

fn client(
    metadata: CoreProviderMetadata,
    p: &ProviderRow,
    callback: &str,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    String,
> {
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(p.client_secret.clone())),
    )
    .set_redirect_uri(
        RedirectUrl::new(callback.into()).map_err(|e| format!("the callback address: {e}"))?,
    ))
}

/// The string values of `claim` in a JWT's payload (a list, or one string).
fn groups_of(jwt: &str, claim: &str) -> Vec<String> {
    use base64::Engine;
    let payload = jwt
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok());
    match payload.as_ref().and_then(|p| p.get(claim)) {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|g| g.as_str().map(str::to_string))
            .take(1000)
            .collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn groups_are_read_as_a_list_or_one_string() {
        let jwt = |payload: &str| {
            format!(
                "e30.{}.sig",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload)
            )
        };
        assert_eq!(
            groups_of(&jwt(r#"{"groups":["a","b",3]}"#), "groups"),
            ["a", "b"]
        );
        assert_eq!(
            groups_of(&jwt(r#"{"roles":"admins"}"#), "roles"),
            ["admins"]
        );
        assert!(groups_of(&jwt(r#"{"groups":{"a":1}}"#), "groups").is_empty());
        assert!(groups_of("not a token", "groups").is_empty());
    }
}
