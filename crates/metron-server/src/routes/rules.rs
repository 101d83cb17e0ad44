//! The organization's productivity rules (R2), managed by admins: each change is an audit row,
//! and a proposed list can be previewed first (what it would re-classify over the last 7 days).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db::{StoredRule, UserRow};
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody};
use crate::timesheets::org_audit;
use crate::AppState;
use metron_core::report::{self, Rule};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(update_rule, delete_rule))
        .routes(routes!(preview_rules))
}

/// The rule `id` of the organization as stored, for the audit row of its change.
async fn stored_rule(state: &AppState, org_id: &str, id: &str) -> Result<StoredRule, ApiError> {
    state
        .db
        .rules(org_id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no rule {id}")))
}

fn as_json(rule: &Rule) -> serde_json::Value {
    serde_json::to_value(rule).expect("a rule serializes")
}

const MANAGE_RULES: &str = "manage productivity rules";

fn checked(rule: Rule) -> Result<Rule, ApiError> {
    let rule = Rule {
        pattern: rule.pattern.trim().to_string(),
        ..rule
    };
    report::validate_rule(&rule).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(rule)
}

/// The organization's productivity rules (admins), first match first.
#[utoipa::path(get, tag = "rules", path = "/api/v1/rules", security(("bearer" = [])), responses(
    (status = 200, body = Vec<StoredRule>),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody)))]
pub async fn list_rules(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<StoredRule>>, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    Ok(Json(state.db.rules(&auth.user.org_id).await?))
}

/// Add a rule (after the others).
#[utoipa::path(post, tag = "rules", path = "/api/v1/rules", security(("bearer" = [])), request_body = Rule, responses(
    (status = 201, body = StoredRule),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(rule): JsonBody<Rule>,
) -> Result<Response, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    let created = add(&state, &auth.user.org_id, Some(&auth.user), rule).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Change a rule (it keeps its place in the order).
#[utoipa::path(put, tag = "rules", path = "/api/v1/rules/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The rule's id")), request_body = Rule, responses(
    (status = 200, body = StoredRule),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn update_rule(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(rule): JsonBody<Rule>,
) -> Result<Json<StoredRule>, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    let rule = checked(rule)?;
    let org_id = &auth.user.org_id;
    let before = stored_rule(&state, org_id, &id).await?;
    let record = org_audit(
        org_id,
        Some(&auth.user),
        "rules.update",
        &id,
        Some(as_json(&before.rule)),
        Some(as_json(&rule)),
    );
    state
        .db
        .update_rule(org_id, &id, &rule, &record)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no rule {id}")))
}

/// Delete a rule.
#[utoipa::path(delete, tag = "rules", path = "/api/v1/rules/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The rule's id")), responses(
    (status = 204),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 404, body = metron_core::wire::ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    remove(&state, &auth.user.org_id, Some(&auth.user), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks and adds a rule after the others, with its audit row (by `actor`, or by the command
/// line): the API and `metron-server rule add` both come here.
pub async fn add(
    state: &AppState,
    org_id: &str,
    actor: Option<&UserRow>,
    rule: Rule,
) -> Result<StoredRule, ApiError> {
    let rule = checked(rule)?;
    let id = uuid::Uuid::now_v7().to_string();
    let record = org_audit(
        org_id,
        actor,
        "rules.create",
        &id,
        None,
        Some(as_json(&rule)),
    );
    Ok(state.db.create_rule(org_id, &id, &rule, &record).await?)
}

/// Deletes the rule `id` with its audit row; not found if the organization has no such rule.
pub async fn remove(
    state: &AppState,
    org_id: &str,
    actor: Option<&UserRow>,
    id: &str,
) -> Result<(), ApiError> {
    let before = stored_rule(state, org_id, id).await?;
    let record = org_audit(
        org_id,
        actor,
        "rules.delete",
        id,
        Some(as_json(&before.rule)),
        None,
    );
    if state.db.delete_rule(org_id, id, &record).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no rule {id}")))
    }
}

/// The most rules a preview takes (far more than an organization writes by hand).
pub const MAX_PREVIEW_RULES: usize = 1_000;
/// The changes a preview lists, largest first.
pub const MAX_PREVIEW_CHANGES: usize = 50;
/// The days a preview looks back over, today included.
pub const PREVIEW_DAYS: u64 = 7;

/// A proposed list of rules, in priority order: the organization's rules as they would be.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesPreviewRequest {
    /// At most 1,000 rules, first match first.
    pub rules: Vec<Rule>,
}

/// What the proposed rules would change over the organization's last 7 days.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RulesPreview {
    /// The first and last day looked at (UTC dates; each person's day in their own offset).
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    /// Tracked seconds whose class would change.
    pub reclassified_secs: u64,
    /// The (app, host) pairs whose class would change, by time, largest first.
    pub changes: Vec<ClassChange>,
    /// More pairs change than are listed.
    pub more: bool,
}

/// One (app, host) pair whose class would change.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ClassChange {
    pub app: String,
    /// The page's host, when the time was in a browser on a page.
    pub host: Option<String>,
    pub from: report::Class,
    pub to: report::Class,
    pub tracked_secs: u64,
    /// How many people's time it is.
    pub people: u32,
}

/// Preview a list of rules before saving (admins): which apps and sites would change class
/// over the last 7 days, and how much time that is. Nothing is stored.
#[utoipa::path(post, tag = "rules", path = "/api/v1/rules/preview", security(("bearer" = [])), request_body = RulesPreviewRequest, responses(
    (status = 200, body = RulesPreview),
    (status = 400, body = metron_core::wire::ErrorBody),
    (status = 401, body = metron_core::wire::ErrorBody),
    (status = 403, body = metron_core::wire::ErrorBody),
    (status = 413, body = metron_core::wire::ErrorBody)))]
pub async fn preview_rules(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(body): JsonBody<RulesPreviewRequest>,
) -> Result<Json<RulesPreview>, ApiError> {
    auth.require_admin(MANAGE_RULES)?;
    if body.rules.len() > MAX_PREVIEW_RULES {
        return Err(ApiError::BadRequest(format!(
            "{} rules; a preview takes at most {MAX_PREVIEW_RULES}",
            body.rules.len()
        )));
    }
    let proposed: Vec<Rule> = body
        .rules
        .into_iter()
        .map(checked)
        .collect::<Result<_, _>>()?;
    let proposed =
        report::Classifier::new(&proposed).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let org_id = &auth.user.org_id;
    let current = crate::reports::classifier(&state, org_id).await?;
    let thresholds = state.db.unusual_thresholds(org_id).await?;
    let to = chrono::Utc::now().date_naive();
    let from = to - chrono::Days::new(PREVIEW_DAYS - 1);
    // Time per (app, host) over the days, and whose it is. The days are computed as the team
    // report computes them (corrections in force, kept days from their aggregates).
    let mut pairs: std::collections::HashMap<
        (String, Option<String>),
        (u64, std::collections::HashSet<String>),
    > = std::collections::HashMap::new();
    let mut day = from;
    let unclassified = std::sync::Arc::new(report::Classifier::empty());
    while day <= to {
        let days = crate::reports::org_days_with_usage(
            &state,
            org_id,
            day,
            std::sync::Arc::clone(&unclassified),
            &thresholds,
            None,
        )
        .await?;
        for (user, (_, usage)) in days {
            for u in usage {
                let entry = pairs.entry((u.app, u.host)).or_default();
                entry.0 += u.tracked_secs;
                entry.1.insert(user.clone());
            }
        }
        day = day.succ_opt().unwrap_or(to + chrono::Days::new(1));
    }
    let mut changes: Vec<ClassChange> = pairs
        .into_iter()
        .filter_map(|((app, host), (secs, people))| {
            let was = current.classify(&app, host.as_deref());
            let would = proposed.classify(&app, host.as_deref());
            (was != would && secs > 0).then(|| ClassChange {
                app,
                host,
                from: was,
                to: would,
                tracked_secs: secs,
                people: u32::try_from(people.len()).unwrap_or(u32::MAX),
            })
        })
        .collect();
    changes.sort_by(|a, b| {
        b.tracked_secs
            .cmp(&a.tracked_secs)
            .then_with(|| a.app.cmp(&b.app))
            .then_with(|| a.host.cmp(&b.host))
    });
    let reclassified_secs = changes.iter().map(|c| c.tracked_secs).sum();
    let more = changes.len() > MAX_PREVIEW_CHANGES;
    changes.truncate(MAX_PREVIEW_CHANGES);
    Ok(Json(RulesPreview {
        from,
        to,
        reclassified_secs,
        changes,
        more,
    }))
}
