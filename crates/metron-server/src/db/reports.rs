//! Reads of reports and clients, in storage: users, intervals, devices, productivity rules,
//! unusual-activity thresholds, kept days and retention. The SQL is the same on both backends
//! (sqlx's SQLite reads `$N` placeholders too), so the `report_store!` macro writes it once for
//! each.

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use metron_core::report::{Rule, Thresholds};
use metron_core::wire::{ActiveDevice, User};
use metron_core::Interval;

use super::packed::{PersonRange, StoredInterval, WindowNames};
use super::timesheets::AuditRow;
use super::{row_struct, DbError, UserRow};

row_struct! {
    /// A device as stored: its report (JSON of `DeviceInfo`), first and last seen, when it
    /// reported.
    #[derive(Debug, Clone)]
    pub struct DeviceRow {
        pub user_id: String,
        pub device_id: String,
        pub info: Option<String>,
        pub first_seen: i64,
        pub last_seen: i64,
        pub reported_at: Option<i64>,
    }
}

/// A rule as stored: its id and the rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct StoredRule {
    pub id: String,
    #[serde(flatten)]
    pub rule: Rule,
}

/// The text forms of a rule's enums in the database (the same as in JSON).
pub(crate) fn enum_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// A rule from its stored columns.
pub(crate) fn rule_from(
    id: String,
    target: &str,
    kind: &str,
    pattern: String,
    class: &str,
) -> Result<StoredRule, DbError> {
    fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, DbError> {
        serde_json::from_value(serde_json::Value::String(text.into()))
            .map_err(|e| DbError::Other(format!("stored rule {what}: {e}")))
    }
    Ok(StoredRule {
        id,
        rule: Rule {
            target: parse("target", target)?,
            kind: parse("kind", kind)?,
            pattern,
            class: parse("class", class)?,
        },
    })
}

/// The reads of reports and clients (users, intervals, active devices), rules, kept days and
/// retention. The SQL is the same on both backends (sqlx's SQLite reads `$N` placeholders
/// too), so the `report_store!` macro writes it once for each; only the row type behind
/// `user_row` differs.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// The user's devices whose latest interval ended at or after `since` (unix seconds).
    async fn active_devices(&self, user_id: &str, since: i64)
        -> Result<Vec<ActiveDevice>, DbError>;
    /// Stores what the user's device reports about itself (`info`, checked JSON) at `now`,
    /// which also counts as seeing it.
    async fn report_device(
        &self,
        user_id: &str,
        device_id: &str,
        info: &str,
        now: i64,
    ) -> Result<(), DbError>;
    /// The devices of one person of the organization, or of all of them, latest seen first.
    async fn devices(&self, org_id: &str, user_id: Option<&str>)
        -> Result<Vec<DeviceRow>, DbError>;
    /// The user's intervals that overlap [from, to), by start time.
    async fn intervals(&self, user_id: &str, from: i64, to: i64) -> Result<Vec<Interval>, DbError>;
    /// The user's intervals that overlap [from, to), by start time, read as the database
    /// sends them: an export writes each as it arrives instead of holding them all.
    fn interval_stream<'a>(
        &'a self,
        user_id: &'a str,
        from: i64,
        to: i64,
    ) -> BoxStream<'a, Result<Interval, DbError>>;
    async fn user_by_id(&self, user_id: &str) -> Result<Option<UserRow>, DbError>;
    /// The organization's users, by name.
    async fn org_users(&self, org_id: &str) -> Result<Vec<User>, DbError>;
    /// The organization's people with whether they are disabled, by name.
    async fn org_user_rows(&self, org_id: &str) -> Result<Vec<UserRow>, DbError>;
    /// Who manages whom in the organization: (manager id, person id) pairs.
    async fn org_managers(&self, org_id: &str) -> Result<Vec<(String, String)>, DbError>;
    /// The organization's people as (number, id), by number: what reads of many people's
    /// intervals are split by (`org_intervals`).
    async fn org_people(&self, org_id: &str) -> Result<Vec<(i64, String)>, DbError>;
    /// The intervals of the organization's `people` that overlap [from, to) as stored, with
    /// the names of their windows. Undecoded: the team report decodes them on all cores.
    async fn org_intervals(
        &self,
        org_id: &str,
        people: PersonRange,
        from: i64,
        to: i64,
    ) -> Result<(Vec<StoredInterval>, WindowNames), DbError>;
    /// Where the intervals stored so far end, for [`Database::org_intervals_since`]: what a
    /// read takes before reading, so nothing stored after it is missed. The backend's own
    /// (see each).
    async fn received_mark(&self) -> Result<i64, DbError>;
    /// The organization's intervals that overlap [from, to), stored since `mark` (some stored
    /// before it may come too), undecoded and without names.
    async fn org_intervals_since(
        &self,
        org_id: &str,
        from: i64,
        to: i64,
        mark: i64,
    ) -> Result<Vec<StoredInterval>, DbError>;
    /// The names of `people`'s windows of the UTC days `first..=last`.
    async fn people_window_names(
        &self,
        people: &[String],
        first: i64,
        last: i64,
    ) -> Result<WindowNames, DbError>;
    /// The UTC offset of the user's latest interval that started before `before`.
    async fn latest_offset(&self, user_id: &str, before: i64) -> Result<Option<i32>, DbError>;

    /// The organization's productivity rules, first match first.
    async fn rules(&self, org_id: &str) -> Result<Vec<StoredRule>, DbError>;
    /// Adds a rule `id` after the others, with its audit row.
    async fn create_rule(
        &self,
        org_id: &str,
        id: &str,
        rule: &Rule,
        audit: &AuditRow,
    ) -> Result<StoredRule, DbError>;
    /// Changes a rule of the organization (keeping its place) with its audit row; `None` (and
    /// nothing written) if there is no such rule.
    async fn update_rule(
        &self,
        org_id: &str,
        id: &str,
        rule: &Rule,
        audit: &AuditRow,
    ) -> Result<Option<StoredRule>, DbError>;
    /// Whether the organization had the rule (and the audit row was written).
    async fn delete_rule(&self, org_id: &str, id: &str, audit: &AuditRow) -> Result<bool, DbError>;

    /// The organization's unusual-activity thresholds (the defaults until admins set them).
    async fn unusual_thresholds(&self, org_id: &str) -> Result<Thresholds, DbError>;
    /// Replaces them as of `audit.at`, with the audit row, in one transaction.
    async fn set_unusual_thresholds(
        &self,
        org_id: &str,
        thresholds: &Thresholds,
        audit: &AuditRow,
    ) -> Result<(), DbError>;

    /// A day kept as an aggregate (JSON), once its raw intervals are gone.
    async fn day_aggregate(&self, user_id: &str, day: &str) -> Result<Option<String>, DbError>;
    async fn store_day_aggregate(
        &self,
        user_id: &str,
        day: &str,
        body: &str,
    ) -> Result<(), DbError>;
    /// The user's latest kept day: (day, body).
    async fn latest_day_aggregate(
        &self,
        user_id: &str,
    ) -> Result<Option<(String, String)>, DbError>;
    /// The kept days of everyone in the organization on `day`: (user, body).
    async fn org_day_aggregates(
        &self,
        org_id: &str,
        day: &str,
    ) -> Result<Vec<(String, String)>, DbError>;
    /// Users with intervals that started before `before`, with the earliest start.
    async fn users_with_intervals_before(&self, before: i64)
        -> Result<Vec<(String, i64)>, DbError>;
    /// Deletes the user's intervals that ended at or before `before`; how many.
    async fn delete_intervals_ending_by(&self, user_id: &str, before: i64) -> Result<u64, DbError>;
}

/// Turns `(device_id, last ended_at)` rows into the wire type.
pub(crate) fn active_devices_from(rows: Vec<(String, i64)>) -> Vec<ActiveDevice> {
    rows.into_iter()
        .filter_map(|(device_id, end)| {
            chrono::DateTime::from_timestamp(end, 0).map(|last_ended_at| ActiveDevice {
                device_id,
                last_ended_at,
            })
        })
        .collect()
}

/// Implements [`ReportStore`] for a backend with a `pool` field and a `user_row` function in
/// scope where it is invoked.
macro_rules! report_store {
    ($backend:ty) => {
        // A scope of its own, so the expansion names what it uses once.
        const _: () = {
            use $crate::db::reports::{
                active_devices_from, enum_text, rule_from, DeviceRow, ReportStore, StoredRule,
            };
            use $crate::db::timesheets::AuditRow;
            use $crate::db::packed::{
                day_of, days_of, stored_columns, stored_from, NamesReader as _, StoredInterval,
                WindowNames, Whose,
            };
            use $crate::db::{classify, DbError, UserRow};
            use metron_core::report::{Rule, Thresholds};
            use metron_core::wire::{ActiveDevice, User};
            use metron_core::Interval;

            #[async_trait::async_trait]
            impl ReportStore for $backend {
                async fn user_by_id(&self, user_id: &str) -> Result<Option<UserRow>, DbError> {
                    let row = sqlx::query(
                        "SELECT id, email, name, admin, disabled, org_id FROM users WHERE id = $1",
                    )
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(row.as_ref().map(user_row))
                }

                async fn org_user_rows(&self, org_id: &str) -> Result<Vec<UserRow>, DbError> {
                    let rows = sqlx::query(
                        "SELECT id, email, name, admin, disabled, org_id FROM
                                            users WHERE org_id = $1 ORDER BY name, email",
                    )
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(rows.iter().map(user_row).collect())
                }

                async fn org_managers(&self, org_id: &str) -> Result<Vec<(String, String)>, DbError> {
                    sqlx::query_as(
                        "SELECT m.manager_id, m.user_id FROM managers m JOIN users u
                         ON u.id = m.user_id WHERE u.org_id = $1 ORDER BY m.manager_id, m.user_id",
                    )
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn org_users(&self, org_id: &str) -> Result<Vec<User>, DbError> {
                    let rows = sqlx::query(
                        "SELECT id, email, name, admin, disabled, org_id FROM
                                            users WHERE org_id = $1 ORDER BY name, email",
                    )
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(rows.iter().map(|r| user_row(r).user).collect())
                }

                async fn org_people(&self, org_id: &str) -> Result<Vec<(i64, String)>, DbError> {
                    sqlx::query_as("SELECT seq, id FROM users WHERE org_id = $1 ORDER BY seq")
                        .bind(org_id)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(classify)
                }

                async fn org_intervals(
                    &self,
                    org_id: &str,
                    people: $crate::db::packed::PersonRange,
                    from: i64,
                    to: i64,
                ) -> Result<(Vec<StoredInterval>, WindowNames), DbError> {
                    // Each backend's own: a hot read of many rows.
                    self.read_org_intervals(org_id, people, from, to).await
                }

                async fn received_mark(&self) -> Result<i64, DbError> {
                    self.read_received_mark().await
                }

                async fn org_intervals_since(
                    &self,
                    org_id: &str,
                    from: i64,
                    to: i64,
                    mark: i64,
                ) -> Result<Vec<StoredInterval>, DbError> {
                    self.read_org_intervals_since(org_id, from, to, mark).await
                }

                async fn people_window_names(
                    &self,
                    people: &[String],
                    first: i64,
                    last: i64,
                ) -> Result<WindowNames, DbError> {
                    self.pool.people_window_names(people, first, last).await
                }

                async fn latest_offset(
                    &self,
                    user_id: &str,
                    before: i64,
                ) -> Result<Option<i32>, DbError> {
                    let row: Option<StoredInterval> = sqlx::query_as(concat!(
                        "SELECT ",
                        stored_columns!(),
                        stored_from!(),
                        " WHERE u.id = $1 AND i.started_at < $2
                         ORDER BY i.started_at DESC LIMIT 1"
                    ))
                    .bind(user_id)
                    .bind(before)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)?;
                    Ok(row.and_then(|r| r.utc_offset().ok()))
                }

                async fn rules(&self, org_id: &str) -> Result<Vec<StoredRule>, DbError> {
                    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
                        "SELECT id, target, kind, pattern, class FROM rules WHERE
                                        org_id = $1 ORDER BY position, id",
                    )
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?;
                    rows.into_iter()
                        .map(|(id, target, kind, pattern, class)| {
                            rule_from(id, &target, &kind, pattern, &class)
                        })
                        .collect()
                }

                async fn create_rule(
                    &self,
                    org_id: &str,
                    id: &str,
                    rule: &Rule,
                    audit: &AuditRow,
                ) -> Result<StoredRule, DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query(
                        "INSERT INTO rules (id, org_id, position, target, kind, pattern, class)
                         VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM rules WHERE
                         org_id = $2), $3, $4, $5, $6)",
                    )
                    .bind(id)
                    .bind(org_id)
                    .bind(enum_text(&rule.target))
                    .bind(enum_text(&rule.kind))
                    .bind(&rule.pattern)
                    .bind(enum_text(&rule.class))
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(StoredRule {
                        id: id.to_string(),
                        rule: rule.clone(),
                    })
                }

                async fn update_rule(
                    &self,
                    org_id: &str,
                    id: &str,
                    rule: &Rule,
                    audit: &AuditRow,
                ) -> Result<Option<StoredRule>, DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let done = sqlx::query(
                        "UPDATE rules SET target = $3, kind = $4, pattern = $5,
                                            class = $6 WHERE id = $1 AND org_id = $2",
                    )
                    .bind(id)
                    .bind(org_id)
                    .bind(enum_text(&rule.target))
                    .bind(enum_text(&rule.kind))
                    .bind(&rule.pattern)
                    .bind(enum_text(&rule.class))
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    if done.rows_affected() != 1 {
                        return Ok(None);
                    }
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(Some(StoredRule {
                        id: id.to_string(),
                        rule: rule.clone(),
                    }))
                }

                async fn delete_rule(
                    &self,
                    org_id: &str,
                    id: &str,
                    audit: &AuditRow,
                ) -> Result<bool, DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    let done = sqlx::query("DELETE FROM rules WHERE id = $1 AND org_id = $2")
                        .bind(id)
                        .bind(org_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    if done.rows_affected() != 1 {
                        return Ok(false);
                    }
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(true)
                }

                async fn unusual_thresholds(&self, org_id: &str) -> Result<Thresholds, DbError> {
                    let body: Option<String> =
                        sqlx::query_scalar("SELECT body FROM unusual_thresholds WHERE org_id = $1")
                            .bind(org_id)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(classify)?;
                    // Fields added later read as their defaults (`serde(default)`).
                    body.map_or(Ok(Default::default()), |b| {
                        serde_json::from_str(&b).map_err(|e| {
                            DbError::Other(format!("stored unusual thresholds unreadable: {e}"))
                        })
                    })
                }

                async fn set_unusual_thresholds(
                    &self,
                    org_id: &str,
                    thresholds: &Thresholds,
                    audit: &AuditRow,
                ) -> Result<(), DbError> {
                    let mut tx = self.pool.begin().await.map_err(classify)?;
                    sqlx::query(
                        "INSERT INTO unusual_thresholds (org_id, body, updated_at) VALUES ($1, $2,
                         $3)
                         ON CONFLICT (org_id) DO UPDATE SET body = excluded.body, updated_at =
                         excluded.updated_at",
                    )
                    .bind(org_id)
                    .bind(serde_json::to_string(thresholds).expect("thresholds serialize"))
                    .bind(audit.at)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    Self::audit_in(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn day_aggregate(
                    &self,
                    user_id: &str,
                    day: &str,
                ) -> Result<Option<String>, DbError> {
                    sqlx::query_scalar(
                        "SELECT body FROM day_aggregates WHERE user_id = $1 AND day
                                        = $2",
                    )
                    .bind(user_id)
                    .bind(day)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn store_day_aggregate(
                    &self,
                    user_id: &str,
                    day: &str,
                    body: &str,
                ) -> Result<(), DbError> {
                    sqlx::query(
                        "INSERT INTO day_aggregates (user_id, day, body) VALUES ($1, $2,
                                 $3) ON CONFLICT (user_id, day) DO UPDATE SET body = excluded.body",
                    )
                    .bind(user_id)
                    .bind(day)
                    .bind(body)
                    .execute(&self.pool)
                    .await
                    .map(drop)
                    .map_err(classify)
                }

                async fn latest_day_aggregate(
                    &self,
                    user_id: &str,
                ) -> Result<Option<(String, String)>, DbError> {
                    sqlx::query_as(
                        "SELECT day, body FROM day_aggregates WHERE user_id = $1 ORDER BY day DESC
                         LIMIT 1",
                    )
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn org_day_aggregates(
                    &self,
                    org_id: &str,
                    day: &str,
                ) -> Result<Vec<(String, String)>, DbError> {
                    sqlx::query_as(
                        "SELECT a.user_id, a.body FROM users u JOIN day_aggregates a ON
                                    a.user_id = u.id WHERE u.org_id = $1 AND a.day = $2",
                    )
                    .bind(org_id)
                    .bind(day)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn users_with_intervals_before(
                    &self,
                    before: i64,
                ) -> Result<Vec<(String, i64)>, DbError> {
                    sqlx::query_as(concat!(
                        "SELECT u.id, MIN(i.started_at)",
                        stored_from!(),
                        " WHERE i.started_at < $1 GROUP BY u.id ORDER BY u.id"
                    ))
                    .bind(before)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn active_devices(
                    &self,
                    user_id: &str,
                    since: i64,
                ) -> Result<Vec<ActiveDevice>, DbError> {
                    let rows: Vec<(uuid::Uuid, i64)> = sqlx::query_as(concat!(
                        "SELECT i.device_id, max(i.ended_at)",
                        stored_from!(),
                        " WHERE u.id = $1 AND i.ended_at >= $2
                         GROUP BY i.device_id ORDER BY i.device_id"
                    ))
                    .bind(user_id)
                    .bind(since)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?;
                    let rows = rows.into_iter().map(|(d, at)| (d.to_string(), at));
                    Ok(active_devices_from(rows.collect()))
                }

                async fn report_device(
                    &self,
                    user_id: &str,
                    device_id: &str,
                    info: &str,
                    now: i64,
                ) -> Result<(), DbError> {
                    sqlx::query(
                        "INSERT INTO devices (user_id, device_id, info, first_seen, last_seen,
                         reported_at) VALUES ($1, $2, $3, $4, $4, $4)
                         ON CONFLICT (user_id, device_id) DO UPDATE SET info = excluded.info,
                         reported_at = excluded.reported_at,
                             first_seen = CASE WHEN excluded.first_seen < devices.first_seen THEN
                             excluded.first_seen ELSE devices.first_seen END,
                             last_seen = CASE WHEN excluded.last_seen > devices.last_seen THEN
                             excluded.last_seen ELSE devices.last_seen END",
                    )
                    .bind(user_id)
                    .bind(device_id)
                    .bind(info)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map(drop)
                    .map_err(classify)
                }

                async fn devices(
                    &self,
                    org_id: &str,
                    user_id: Option<&str>,
                ) -> Result<Vec<DeviceRow>, DbError> {
                    sqlx::query_as(
                        "SELECT d.user_id, d.device_id, d.info, d.first_seen, d.last_seen,
                         d.reported_at
                         FROM devices d JOIN users u ON u.id = d.user_id
                         WHERE u.org_id = $1 AND ($2 IS NULL OR d.user_id = $2)
                         ORDER BY d.last_seen DESC, d.device_id",
                    )
                    .bind(org_id)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)
                }

                async fn intervals(
                    &self,
                    user_id: &str,
                    from: i64,
                    to: i64,
                ) -> Result<Vec<Interval>, DbError> {
                    let rows: Vec<StoredInterval> = sqlx::query_as(concat!(
                        // started_at >= from - 900 (the longest interval) lets the index bound
                        // the scan.
                        "SELECT ",
                        stored_columns!(),
                        stored_from!(),
                        " WHERE u.id = $1 AND
                         i.started_at >= $2 - 900 AND i.started_at < $3 AND i.ended_at > $2
                         ORDER BY i.started_at"
                    ))
                    .bind(user_id)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(classify)?;
                    let (first, last) = days_of(from, to);
                    let names = self
                        .pool
                        .window_names(Whose::Person(user_id), first, last)
                        .await?;
                    rows.iter().map(|r| r.decode(&names)).collect()
                }

                fn interval_stream<'a>(
                    &'a self,
                    user_id: &'a str,
                    from: i64,
                    to: i64,
                ) -> futures_util::stream::BoxStream<'a, Result<Interval, DbError>> {
                    use futures_util::StreamExt as _;
                    let (first, last) = days_of(from, to);
                    // The names of the range's windows first (a person's days hold some dozens),
                    // then the rows as they arrive.
                    futures_util::stream::once(self.pool.window_names(
                        Whose::Person(user_id),
                        first,
                        last,
                    ))
                    .map(move |names| match names {
                        Ok(names) => sqlx::query_as::<_, StoredInterval>(concat!(
                            "SELECT ",
                            stored_columns!(),
                            stored_from!(),
                            " WHERE u.id = $1 AND
                             i.started_at >= $2 - 900 AND i.started_at < $3 AND
                             i.ended_at > $2 ORDER BY i.started_at LIMIT 100000"
                        ))
                        .bind(user_id)
                        .bind(from)
                        .bind(to)
                        .fetch(&self.pool)
                        .map(move |row| row.map_err(classify).and_then(|r| r.decode(&names)))
                        .boxed(),
                        Err(e) => futures_util::stream::once(async { Err(e) }).boxed(),
                    })
                    .flatten()
                    .boxed()
                }

                async fn delete_intervals_ending_by(
                    &self,
                    user_id: &str,
                    before: i64,
                ) -> Result<u64, DbError> {
                    let done = sqlx::query(
                        "DELETE FROM intervals WHERE person = (SELECT seq FROM users
                         WHERE id = $1) AND ended_at <= $2",
                    )
                    .bind(user_id)
                    .bind(before)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                    // Then the names of days no interval left refers to: one that ends after
                    // `before` starts after `before - 900` (after the intervals, so a failure
                    // between leaves names without intervals, never the other way).
                    sqlx::query("DELETE FROM window_names WHERE user_id = $1 AND day < $2")
                        .bind(user_id)
                        .bind(day_of(before - 900))
                        .execute(&self.pool)
                        .await
                        .map_err(classify)?;
                    Ok(done.rows_affected())
                }
            }
        };
    };
}
pub(crate) use report_store;
