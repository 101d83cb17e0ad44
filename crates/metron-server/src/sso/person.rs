//! Who a checked identity is here: the person its subject was linked to, else the person with
//! its verified email (linked now), else a new person in the provider's organization with the
//! role its groups map to. Every refusal is a sentence for the person, and creates nothing.

use chrono::Utc;
use serde_json::json;

use super::provider::Identity;
use crate::db::{ProviderRow, SsoPerson, UserRow};
use crate::timesheets::audit;
use crate::AppState;

/// Why an identity signs no one in, in words for the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// The role `groups` map to under the provider's settings: `(admin, manager)`.
pub fn role_of(p: &ProviderRow, groups: &[String]) -> (bool, bool) {
    let any = |list: &str| {
        list.split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .any(|g| groups.iter().any(|have| have == g))
    };
    let admin = any(&p.admin_groups);
    (admin, !admin && any(&p.manager_groups))
}

/// Whether `email`'s domain may sign in with the provider.
pub fn domain_allowed(p: &ProviderRow, email: &str) -> bool {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let domain = domain.to_ascii_lowercase();
    let allowed: Vec<&str> = p
        .allowed_domains
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    allowed.is_empty() || allowed.iter().any(|d| d.eq_ignore_ascii_case(&domain))
}

/// The person `id` signs in as, created or linked as needed.
pub async fn person(
    state: &AppState,
    p: &ProviderRow,
    id: &Identity,
) -> Result<Result<UserRow, Refused>, crate::error::ApiError> {
    let refuse = |why: &str| Ok(Err(Refused(why.into())));
    let Some(email) = id.email.as_deref().map(|e| e.trim().to_lowercase()) else {
        return refuse("Your identity provider did not tell Metron your email address.");
    };
    if !id.email_verified {
        return refuse("Your identity provider has not verified your email address.");
    }
    if !domain_allowed(p, &email) {
        return refuse(&format!(
            "Accounts of {} can't sign in to this organization.",
            email.rsplit_once('@').map_or("", |(_, d)| d)
        ));
    }
    let now = Utc::now().timestamp();
    let linked = match state.db.sso_identity(&id.issuer, &id.subject).await? {
        Some(user_id) => state.db.user_by_id(&user_id).await?,
        None => None,
    };
    let row = match linked {
        Some(row) => row,
        None => match state.db.user_by_email(&email).await? {
            Some((row, _)) if row.org_id != p.org_id => {
                return refuse("Your email address belongs to another organization here.");
            }
            Some((row, _)) => {
                if !row.disabled {
                    let audit = audit(
                        &row,
                        &row,
                        "sso_linked",
                        &row.user.id,
                        None,
                        Some(json!({"issuer": id.issuer})),
                        "",
                    );
                    state
                        .db
                        .link_sso_identity(&id.issuer, &id.subject, &row.user.id, now, &audit)
                        .await?;
                }
                row
            }
            None => {
                let (admin, manager) = role_of(p, &id.groups);
                let name = id
                    .name
                    .as_deref()
                    .and_then(|n| crate::accounts::plain_name(n).ok())
                    .unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_string());
                let person = SsoPerson {
                    user: UserRow {
                        user: metron_core::wire::User {
                            id: uuid::Uuid::now_v7().to_string(),
                            email: email.clone(),
                            name,
                            admin,
                        },
                        org_id: p.org_id.clone(),
                        disabled: false,
                    },
                    manager,
                };
                let role = if admin {
                    "admin"
                } else if manager {
                    "manager"
                } else {
                    "member"
                };
                let made = audit(
                    &person.user,
                    &person.user,
                    "sso_created",
                    &person.user.user.id,
                    None,
                    Some(json!({"issuer": id.issuer, "role": role})),
                    "",
                );
                state
                    .db
                    .create_sso_person(&person, &id.issuer, &id.subject, now, &made)
                    .await?;
                person.user
            }
        },
    };
    if row.disabled {
        return refuse("Your Metron account is disabled; ask your administrator.");
    }
    if row.org_id != p.org_id {
        return refuse("Your account belongs to another organization here.");
    }
    Ok(Ok(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(domains: &str, admins: &str, managers: &str) -> ProviderRow {
        ProviderRow {
            org_id: "o".into(),
            name: "Acme".into(),
            issuer: "https://id.example".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
            allowed_domains: domains.into(),
            groups_claim: "groups".into(),
            admin_groups: admins.into(),
            manager_groups: managers.into(),
            sso_only: false,
            break_glass_email: String::new(),
            updated_at: 0,
        }
    }

    #[test]
    fn domains_match_whole_and_without_case() {
        let p = provider("example.com, acme.org", "", "");
        assert!(domain_allowed(&p, "ann@example.com"));
        assert!(domain_allowed(&p, "ann@ACME.org"));
        assert!(!domain_allowed(&p, "ann@evil-example.com"));
        assert!(!domain_allowed(&p, "ann@example.com.evil"));
        assert!(!domain_allowed(&p, "no-at-sign"));
        assert!(domain_allowed(&provider("", "", ""), "any@where.net"));
    }

    #[test]
    fn groups_map_to_the_highest_role() {
        let p = provider("", "it-admins", "leads, managers");
        let g = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(role_of(&p, &g(&["staff"])), (false, false));
        assert_eq!(role_of(&p, &g(&["managers"])), (false, true));
        assert_eq!(role_of(&p, &g(&["managers", "it-admins"])), (true, false));
        assert_eq!(role_of(&provider("", "", ""), &g(&[""])), (false, false));
    }
}
