//! `/openapi.json`, generated from the handlers' annotations and the wire types.

use axum::Json;
use metron_core::report;
use metron_core::wire::{
    ActiveDevice, ErrorBody, IngestResponse, IngestResult, IngestStatus, LoginRequest,
    LoginResponse, NewTask, Task, User,
};
use metron_core::{Counts, EndReason, Interval, WindowSegment};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// `POST /api/v1/intervals` body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct IntervalBatch {
    /// 1 to 500 intervals.
    #[schema(min_items = 1, max_items = 500)]
    intervals: Vec<Interval>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Metron server API", version = "1"),
    paths(
        crate::api::health,
        crate::api::login,
        crate::api::logout,
        crate::api::me,
        crate::api::list_tasks,
        crate::api::create_task,
        crate::api::post_intervals,
        crate::api::list_intervals,
        crate::api::active_devices,
        crate::reports::daily,
        crate::reports::daily_csv,
        crate::reports::team,
        crate::reports::list_rules,
        crate::reports::create_rule,
        crate::reports::update_rule,
        crate::reports::delete_rule,
        crate::users::disable,
        crate::users::enable,
        crate::users::revoke_tokens,
        crate::users::set_password,
        crate::users::org_settings,
        crate::users::set_org_settings
    ),
    components(schemas(
        ActiveDevice, ErrorBody, IngestResponse, IngestResult, IngestStatus, LoginRequest, LoginResponse, NewTask, Task, User,
        Interval, Counts, EndReason, WindowSegment, IntervalBatch,
        crate::reports::DailyReportResponse, crate::reports::TeamReport, crate::reports::TeamMember, crate::db::StoredRule,
        report::DailyReport, report::TaskUsage, report::AppUsage, report::TitleUsage, report::HostUsage, report::TimelineEntry,
        report::Rule, report::Class, report::RuleTarget, report::PatternKind,
        crate::users::Revoked, crate::users::NewPassword, crate::users::OrgSettings, crate::db::TaskCreation
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
