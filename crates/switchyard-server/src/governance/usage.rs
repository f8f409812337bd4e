//! `GET /admin/usage`: the ledger summed by key, team, organisation, model,
//! deployment, provider or day, over a time range, as JSON or CSV.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use switchyard_governance::{GroupBy, UsageQuery, UsageRow};

use crate::error::{ApiError, Code};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageParams {
    group_by: Option<String>,
    from: Option<String>,
    to: Option<String>,
    org: Option<String>,
    key: Option<String>,
    format: Option<String>,
}

/// One line of the report, money in dollars.
#[derive(Debug, Serialize)]
pub struct UsageLine {
    pub group: Option<String>,
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_usd: f64,
}

impl From<&UsageRow> for UsageLine {
    fn from(row: &UsageRow) -> Self {
        UsageLine {
            group: row.group.clone(),
            requests: row.requests,
            errors: row.errors,
            input_tokens: row.input_tokens,
            output_tokens: row.output_tokens,
            cached_tokens: row.cached_tokens,
            reasoning_tokens: row.reasoning_tokens,
            cost_usd: row.cost as f64 / 1e6,
        }
    }
}

/// A time as Unix milliseconds, an RFC 3339 time, or a UTC day (`2026-11-01`).
fn parse_time(param: &str, text: &str) -> Result<i64, ApiError> {
    if let Ok(millis) = text.parse::<i64>() {
        return Ok(millis);
    }
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    humantime::parse_rfc3339_weak(&full)
        .ok()
        .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|since| since.as_millis() as i64)
        .ok_or_else(|| {
            ApiError::new(
                Code::InvalidValue,
                format!(
                    "`{param}` is not a time; use a day (`2026-11-01`), an RFC 3339 time or Unix \
                     milliseconds"
                ),
            )
            .with_param(param)
        })
}

#[utoipa::path(
    get,
    path = "/admin/usage",
    operation_id = "getUsage",
    tag = "admin",
    params(
        ("group_by" = Option<String>, Query, description = "key, team, org, model, deployment, provider or day; none: one total"),
        ("from" = Option<String>, Query, description = "From this time on: a UTC day (`2026-11-01`), RFC 3339, or Unix milliseconds"),
        ("to" = Option<String>, Query, description = "Before this time (exclusive), as `from`"),
        ("org" = Option<String>, Query, description = "Only this organisation's requests"),
        ("key" = Option<String>, Query, description = "Only this key's requests"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses(
        (status = 200, description = "`data`: one line per group (requests, errors, input, output, cached and reasoning tokens, cost in dollars), or the same as CSV", body = Object),
        crate::openapi::AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn usage(
    State(state): State<AppState>,
    params: Result<Query<UsageParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(super::admin::query_error)?;
    let group_by = params
        .group_by
        .as_deref()
        .map(|group| {
            group
                .parse::<GroupBy>()
                .map_err(|error| ApiError::new(Code::InvalidValue, error).with_param("group_by"))
        })
        .transpose()?;
    let query = UsageQuery {
        group_by,
        from: params
            .from
            .as_deref()
            .map(|from| parse_time("from", from))
            .transpose()?,
        to: params
            .to
            .as_deref()
            .map(|to| parse_time("to", to))
            .transpose()?,
        org: params.org,
        key: params.key,
    };
    let csv = match params.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::new(
                Code::InvalidValue,
                format!("`{other}` is not a format; use json or csv"),
            )
            .with_param("format"));
        }
    };
    let rows = state.governance().ledger().usage(&query).await?;
    let lines: Vec<UsageLine> = rows.iter().map(UsageLine::from).collect();
    if csv {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            to_csv(group_by, &lines),
        )
            .into_response());
    }
    Ok(Json(serde_json::json!({
        "group_by": group_by,
        "from": query.from,
        "to": query.to,
        "data": lines,
    }))
    .into_response())
}

/// The report as CSV (RFC 4180). Only the group is text; it is quoted when it holds a
/// comma, quote or line break.
fn to_csv(group_by: Option<GroupBy>, lines: &[UsageLine]) -> String {
    let group = group_by.map_or("group", GroupBy::as_str);
    let mut csv = format!(
        "{group},requests,errors,input_tokens,output_tokens,cached_tokens,reasoning_tokens,cost_usd\r\n"
    );
    for line in lines {
        let name = line.group.as_deref().unwrap_or("");
        let name = if name.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", name.replace('"', "\"\""))
        } else {
            name.to_owned()
        };
        csv.push_str(&format!(
            "{name},{},{},{},{},{},{},{:.6}\r\n",
            line.requests,
            line.errors,
            line.input_tokens,
            line.output_tokens,
            line.cached_tokens,
            line.reasoning_tokens,
            line.cost_usd
        ));
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_days_rfc3339_or_millis() {
        assert_eq!(
            parse_time("from", "2026-11-22").ok(),
            Some(1_795_305_600_000)
        );
        assert_eq!(
            parse_time("from", "2026-11-22T15:30:00Z").ok(),
            Some(1_795_361_400_000)
        );
        assert_eq!(parse_time("from", "42").ok(), Some(42));
        assert!(parse_time("from", "yesterday").is_err());
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let line = |group: &str| UsageLine {
            group: Some(group.to_owned()),
            requests: 2,
            errors: 0,
            input_tokens: 10,
            output_tokens: 5,
            cached_tokens: 0,
            reasoning_tokens: 0,
            cost_usd: 0.0021,
        };
        let csv = to_csv(Some(GroupBy::Model), &[line("gpt-4o"), line("a,\"b\"")]);
        assert_eq!(
            csv,
            "model,requests,errors,input_tokens,output_tokens,cached_tokens,reasoning_tokens,cost_usd\r\n\
             gpt-4o,2,0,10,5,0,0,0.002100\r\n\
             \"a,\"\"b\"\"\",2,0,10,5,0,0,0.002100\r\n"
        );
    }
}
