//! `switchyard keys`: create, list, show, revoke and rotate a running server's virtual
//! keys, over its admin API.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use reqwest::Method;
use serde_json::{Map, Value, json};
use switchyard_router::Policy;

use super::admin_client::{AdminClient, encode};
use super::table::print_table;
use crate::args::{KeyCreateArgs, KeyIdArgs, KeyListArgs, KeyRotateArgs, KeysArgs, KeysCommand};

pub async fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::new(&args.admin)?;
    match args.command {
        KeysCommand::Create(create) => self::create(&client, create).await,
        KeysCommand::List(list) => self::list(&client, list).await,
        KeysCommand::Show(key) => show(&client, key).await,
        KeysCommand::Revoke(key) => revoke(&client, key).await,
        KeysCommand::Rotate(rotate) => self::rotate(&client, rotate).await,
    }
}

async fn create(client: &AdminClient, args: KeyCreateArgs) -> anyhow::Result<ExitCode> {
    let body = create_body(&args, now_millis())?;
    let key = client.call(Method::POST, "/admin/keys", Some(body)).await?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&key)?);
    } else {
        print_new_secret("Created", &key)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The `POST /admin/keys` body the flags describe, checked here where a mistake can
/// name its flag.
fn create_body(args: &KeyCreateArgs, now_millis: i64) -> anyhow::Result<Value> {
    let mut body = json!({ "org": args.tenant });
    if let Some(team) = &args.team {
        body["team"] = json!(team);
    }
    if let Some(name) = &args.name {
        body["name"] = json!(name);
    }
    if !args.models.is_empty() {
        body["models"] = json!(args.models);
    }
    if !args.budgets.is_empty() {
        body["budgets"] = json!(args.budgets);
    }
    let mut limits = Map::new();
    for (name, value) in [
        ("rpm", args.rpm),
        ("tpm", args.tpm),
        ("max_parallel", args.max_parallel),
    ] {
        if let Some(value) = value {
            limits.insert(name.to_owned(), json!(value));
        }
    }
    if !limits.is_empty() {
        body["limits"] = Value::Object(limits);
    }
    if !args.policy.is_empty() {
        body["policy"] = policy(&args.policy)?;
    }
    if let Some(expires_in) = args.expires_in {
        let millis = i64::try_from(expires_in.as_millis()).context("--expires-in is too long")?;
        body["expires_at"] = json!(now_millis.saturating_add(millis));
    }
    if !args.metadata.is_empty() {
        let mut metadata = Map::new();
        for pair in &args.metadata {
            let (name, value) = split_pair("--metadata", pair)?;
            metadata.insert(name.to_owned(), json!(value));
        }
        body["metadata"] = Value::Object(metadata);
    }
    Ok(body)
}

/// A routing policy from `RULE=VALUE[,VALUE…]` pairs: a number where the rule takes one,
/// otherwise a list. Checked against the router's own policy type, so a typo fails
/// here; a singular rule name (`jurisdiction`) is taken for its plural.
fn policy(pairs: &[String]) -> anyhow::Result<Value> {
    let mut rules = Map::new();
    for pair in pairs {
        let (rule, value) = split_pair("--policy", pair)?;
        let values: Vec<&str> = value.split(',').map(str::trim).collect();
        let number = value.parse::<f64>().ok().map(Value::from);
        let candidates = [rule.to_owned(), format!("{rule}s")];
        let accepted = candidates.iter().find_map(|name| {
            [number.clone(), Some(json!(values))]
                .into_iter()
                .flatten()
                .find(|value| {
                    serde_json::from_value::<Policy>(json!({ name.as_str(): value })).is_ok()
                })
                .map(|value| (name.clone(), value))
        });
        let Some((name, value)) = accepted else {
            let error = serde_json::from_value::<Policy>(json!({ rule: values }))
                .err()
                .map_or_else(String::new, |error| format!(": {error}"));
            bail!("--policy {pair} is not a routing-policy rule{error}");
        };
        rules.insert(name, value);
    }
    Ok(Value::Object(rules))
}

fn split_pair<'a>(flag: &str, pair: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    pair.split_once('=')
        .filter(|(name, _)| !name.trim().is_empty())
        .map(|(name, value)| (name.trim(), value.trim()))
        .ok_or_else(|| anyhow!("{flag} takes NAME=VALUE, not `{pair}`"))
}

fn print_new_secret(verb: &str, key: &Value) -> anyhow::Result<()> {
    let secret = key["secret"]
        .as_str()
        .ok_or_else(|| anyhow!("the server sent no secret"))?;
    say!("{verb} {} ({}).", text(&key["id"]), owner(key));
    say!("Secret, shown this once (the server keeps only its hash):");
    say!("{secret}");
    Ok(())
}

async fn list(client: &AdminClient, args: KeyListArgs) -> anyhow::Result<ExitCode> {
    let mut query = vec![];
    if let Some(org) = &args.tenant {
        query.push(format!("org={}", encode(org)));
    }
    if let Some(team) = &args.team {
        query.push(format!("team={}", encode(team)));
    }
    if args.revoked {
        query.push("revoked=true".to_owned());
    }
    let path = if query.is_empty() {
        "/admin/keys".to_owned()
    } else {
        format!("/admin/keys?{}", query.join("&"))
    };
    let keys = client.call(Method::GET, &path, None).await?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&keys)?);
        return Ok(ExitCode::SUCCESS);
    }
    let now = now_millis();
    let rows: Vec<[String; 7]> = keys["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|key| {
            [
                text(&key["id"]),
                text(&key["name"]),
                owner(key),
                models(key),
                limits(key),
                budgets(key),
                status(key, now),
            ]
        })
        .collect();
    if rows.is_empty() {
        say!("No keys. `switchyard keys create --tenant NAME` makes one.");
        return Ok(ExitCode::SUCCESS);
    }
    print_table(
        &[
            "ID", "NAME", "OWNER", "MODELS", "LIMITS", "BUDGETS", "STATUS",
        ],
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}

async fn show(client: &AdminClient, args: KeyIdArgs) -> anyhow::Result<ExitCode> {
    let key = client
        .call(
            Method::GET,
            &format!("/admin/keys/{}", encode(&args.id)),
            None,
        )
        .await?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&key)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        ["id".to_owned(), text(&key["id"])],
        ["name".to_owned(), text(&key["name"])],
        ["owner".to_owned(), owner(&key)],
        ["secret".to_owned(), format!("sy-…{}", text(&key["last4"]))],
        ["status".to_owned(), status(&key, now_millis())],
        ["models".to_owned(), models(&key)],
        ["limits".to_owned(), limits(&key)],
    ];
    if let Some(policy) = key.get("policy").filter(|policy| !policy.is_null()) {
        rows.push(["policy".to_owned(), policy.to_string()]);
    }
    for spend in key["spend"].as_array().into_iter().flatten() {
        rows.push([
            format!("budget {}", text(&spend["budget"])),
            format!(
                "${:.6} spent, ${:.6} reserved by requests in flight",
                spend["spent_usd"].as_f64().unwrap_or(0.0),
                spend["reserved_usd"].as_f64().unwrap_or(0.0)
            ),
        ]);
    }
    if let Some(metadata) = key["metadata"].as_object().filter(|map| !map.is_empty()) {
        rows.push([
            "metadata".to_owned(),
            Value::Object(metadata.clone()).to_string(),
        ]);
    }
    for [name, value] in rows {
        say!("{name:<24} {value}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn revoke(client: &AdminClient, args: KeyIdArgs) -> anyhow::Result<ExitCode> {
    let key = client
        .call(
            Method::POST,
            &format!("/admin/keys/{}/revoke", encode(&args.id)),
            None,
        )
        .await?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&key)?);
    } else {
        say!("Revoked {} ({}).", text(&key["id"]), owner(&key));
    }
    Ok(ExitCode::SUCCESS)
}

async fn rotate(client: &AdminClient, args: KeyRotateArgs) -> anyhow::Result<ExitCode> {
    let grace_seconds = args.grace.map_or(0, |grace| grace.as_secs());
    let key = client
        .call(
            Method::POST,
            &format!("/admin/keys/{}/rotate", encode(&args.id)),
            Some(json!({ "grace_seconds": grace_seconds })),
        )
        .await?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&key)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_new_secret(&format!("Rotated {} into", args.id), &key)?;
    if grace_seconds > 0 {
        say!(
            "The old secret works for {} more.",
            humantime::format_duration(std::time::Duration::from_secs(grace_seconds))
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// `acme/research`, or `acme` for a key of the organisation itself.
fn owner(key: &Value) -> String {
    match key["team"].as_str() {
        Some(team) => format!("{}/{team}", text(&key["org"])),
        None => text(&key["org"]),
    }
}

fn models(key: &Value) -> String {
    let names: Vec<&str> = key["models"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if names.is_empty() {
        "all".to_owned()
    } else {
        names.join(",")
    }
}

fn limits(key: &Value) -> String {
    let parts: Vec<String> = [("rpm", "rpm"), ("tpm", "tpm"), ("max_parallel", "parallel")]
        .into_iter()
        .filter_map(|(field, label)| Some(format!("{} {label}", key["limits"][field].as_u64()?)))
        .collect();
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

fn budgets(key: &Value) -> String {
    let budgets: Vec<&str> = key["budgets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if budgets.is_empty() {
        "-".to_owned()
    } else {
        budgets.join(", ")
    }
}

fn status(key: &Value, now: i64) -> String {
    if key["revoked_at"].as_i64().is_some_and(|at| at <= now) {
        "revoked".to_owned()
    } else if key["expires_at"].as_i64().is_some_and(|at| at <= now) {
        "expired".to_owned()
    } else {
        "active".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::args::{Cli, Command};

    fn create_args(line: &str) -> KeyCreateArgs {
        let words = std::iter::once("switchyard").chain(line.split_whitespace());
        match Cli::try_parse_from(words).expect("parses").command {
            Command::Keys(KeysArgs {
                command: KeysCommand::Create(args),
                ..
            }) => args,
            other => panic!("not keys create: {other:?}"),
        }
    }

    #[test]
    fn the_issues_example_becomes_one_admin_request() {
        let args = create_args(
            "keys create --tenant acme --team research --budget 50usd/month --rpm 600 \
             --tpm 200000 --models gpt-4o,smollm2 --policy jurisdiction=EU \
             --policy max_input_price=5 --expires-in 30d --metadata owner=ml-team",
        );
        let body = create_body(&args, 1_000).expect("valid");
        assert_eq!(
            body,
            json!({
                "org": "acme",
                "team": "research",
                "models": ["gpt-4o", "smollm2"],
                "budgets": ["50usd/month"],
                "limits": {"rpm": 600, "tpm": 200000},
                "policy": {"jurisdictions": ["EU"], "max_input_price": 5.0},
                "expires_at": 1_000 + 30 * 86_400_000_i64,
                "metadata": {"owner": "ml-team"},
            })
        );
    }

    #[test]
    fn a_policy_rule_that_does_not_exist_names_its_flag() {
        let error = policy(&["jurisdictoin=EU".to_owned()]).expect_err("a typo");
        assert!(
            error.to_string().contains("--policy jurisdictoin=EU"),
            "{error}"
        );
        let error = policy(&["hosted_in".to_owned()]).expect_err("no value");
        assert!(error.to_string().contains("NAME=VALUE"), "{error}");
        assert_eq!(
            policy(&["hosted_in=FR, DE".to_owned()]).expect("valid"),
            json!({"hosted_in": ["FR", "DE"]})
        );
    }
}
