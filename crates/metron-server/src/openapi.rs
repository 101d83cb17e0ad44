//! The frame of `/openapi.json`: its title and the bearer scheme. The paths, and the schemas
//! they use, come from the route table (`crate::routes`).

use metron_core::Interval;
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
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;
