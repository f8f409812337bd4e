//! `switchyard usage`: a running server's cost ledger, totalled, as a table or CSV.

use std::io::Write as _;
use std::process::ExitCode;

use clap::ValueEnum as _;
use reqwest::Method;

use super::admin_client::{AdminClient, encode};
use super::table::print_table;
use crate::args::UsageArgs;

pub async fn run(args: UsageArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
    let path = path(&args);
    if args.csv {
        let csv = client.call_text(Method::GET, &path, None).await?;
        write!(std::io::stdout().lock(), "{csv}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let report = client.call(Method::GET, &path, None).await?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let group = args
        .group_by
        .and_then(|group| group.to_possible_value())
        .map_or_else(|| "ALL".to_owned(), |value| value.get_name().to_uppercase());
    let rows: Vec<[String; 8]> = report["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            let count = |field: &str| row[field].as_u64().unwrap_or(0).to_string();
            [
                row["group"].as_str().unwrap_or("-").to_owned(),
                count("requests"),
                count("errors"),
                count("input_tokens"),
                count("output_tokens"),
                count("cached_tokens"),
                count("reasoning_tokens"),
                format!("{:.6}", row["cost_usd"].as_f64().unwrap_or(0.0)),
            ]
        })
        .collect();
    if rows.is_empty() {
        say!("No requests in the ledger for this range.");
        return Ok(ExitCode::SUCCESS);
    }
    print_table(
        &[
            group.as_str(),
            "REQUESTS",
            "ERRORS",
            "INPUT",
            "OUTPUT",
            "CACHED",
            "REASONING",
            "COST USD",
        ],
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `GET /admin/usage` with the flags as its query.
fn path(args: &UsageArgs) -> String {
    let mut query = Vec::new();
    if let Some(group) = args.group_by.and_then(|group| group.to_possible_value()) {
        query.push(format!("group_by={}", group.get_name()));
    }
    for (name, value) in [
        ("from", &args.from),
        ("to", &args.to),
        ("org", &args.tenant),
        ("key", &args.key),
    ] {
        if let Some(value) = value {
            query.push(format!("{name}={}", encode(value)));
        }
    }
    if args.csv {
        query.push("format=csv".to_owned());
    }
    if query.is_empty() {
        "/admin/usage".to_owned()
    } else {
        format!("/admin/usage?{}", query.join("&"))
    }
}
