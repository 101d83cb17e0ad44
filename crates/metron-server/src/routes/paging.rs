//! Lists that page instead of truncating (issue 27): a list answers at most `limit` rows (at
//! most [`MAX_ROWS`]), in a fixed order, and when more follow it says so with a
//! `Link: <...&after=CURSOR>; rel="next"` header (RFC 8288) whose address reads the next page.
//! The cursor is the last row's sort key and id (`1795420800_0193...`): a keyset, so a page
//! costs the same however deep it is and rows added meanwhile are neither skipped nor repeated.

use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::db::timesheets::{Page, MAX_ROWS};
use crate::error::ApiError;

/// The page a list's `limit` and `after` ask for.
pub fn page_of(limit: Option<u32>, after: Option<&str>) -> Result<Page, ApiError> {
    let limit = match limit {
        None => MAX_ROWS,
        Some(n) if (1..=MAX_ROWS as u32).contains(&n) => i64::from(n),
        Some(n) => {
            return Err(ApiError::BadRequest(format!(
                "limit must be 1 to {MAX_ROWS}, not {n}"
            )))
        }
    };
    let after = match after {
        None => None,
        Some(cursor) => Some(parse_cursor(cursor).ok_or_else(|| {
            ApiError::BadRequest("after must be a cursor from a Link header".into())
        })?),
    };
    Ok(Page { after, limit })
}

fn parse_cursor(cursor: &str) -> Option<(i64, String)> {
    let (key, id) = cursor.split_once('_')?;
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    id_ok.then_some((key.parse().ok()?, id.to_string()))
}

/// `rows` (as the query read them: up to `page.limit + 1`) as a JSON array of at most
/// `page.limit`, with a `Link` to the next page when the query found more. `key` is a row's
/// sort key and id, the cursor of the page that follows it.
pub fn respond<T: Serialize>(
    mut rows: Vec<T>,
    page: &Page,
    uri: &Uri,
    key: impl Fn(&T) -> (i64, String),
) -> Response {
    let more = rows.len() as i64 > page.limit;
    rows.truncate(page.limit.max(0) as usize);
    let next = more
        .then(|| rows.last().map(&key))
        .flatten()
        .and_then(|(k, id)| next_link(uri, &format!("{k}_{id}")));
    let mut response = Json(rows).into_response();
    if let Some(link) = next {
        response.headers_mut().insert(header::LINK, link);
    }
    response
}

/// `<path?query&after=cursor>; rel="next"`, the request's own query with `after` replaced.
fn next_link(uri: &Uri, cursor: &str) -> Option<HeaderValue> {
    let mut query: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("after="))
        .collect();
    let after = format!("after={cursor}");
    query.push(&after);
    HeaderValue::from_str(&format!(
        "<{}?{}>; rel=\"next\"",
        uri.path(),
        query.join("&")
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_the_link_keeps_the_query() {
        let page = page_of(Some(2), Some("1795420800_0193-ab")).unwrap();
        assert_eq!(page.after, Some((1_795_420_800, "0193-ab".into())));
        assert!(page_of(Some(0), None).is_err());
        assert!(page_of(None, Some("x")).is_err());
        assert!(page_of(None, Some("1_a'b")).is_err());
        let uri: Uri = "/api/v1/audit?from=a&after=1_x&to=b".parse().unwrap();
        let link = next_link(&uri, "7_y").unwrap();
        assert_eq!(link, "</api/v1/audit?from=a&to=b&after=7_y>; rel=\"next\"");
    }
}
