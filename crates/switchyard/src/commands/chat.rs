//! `switchyard chat -m MODEL [PROMPT]`: streams answers to the terminal.
//!
//! Talks to a running server over the OpenAI protocol, or with `--config` starts the
//! gateway in-process on a loopback port and talks to that, so both paths exercise the
//! same server code.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{Value, json};
use switchyard_server::AppState;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;

use crate::args::ChatArgs;

pub async fn run(args: ChatArgs) -> anyhow::Result<ExitCode> {
    let base_url = match &args.config {
        Some(path) => start_in_process(path).await?,
        None => args.url.trim_end_matches('/').to_owned(),
    };
    let client = reqwest::Client::new();
    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(json!({"role": "system", "content": system}));
    }

    let one_shot = match &args.prompt {
        Some(prompt) => Some(prompt.clone()),
        None if !std::io::stdin().is_terminal() => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("cannot read standard input")?;
            Some(input)
        }
        None => None,
    };
    if let Some(prompt) = one_shot {
        messages.push(json!({"role": "user", "content": prompt}));
        stream_answer(&client, &base_url, &args, &messages).await?;
        return Ok(ExitCode::SUCCESS);
    }

    eprintln!(
        "Chatting with `{}`. Type a message and press Enter; /exit or Ctrl-D to leave.",
        args.model
    );
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        eprint!("> ");
        std::io::stderr().flush().ok();
        let Some(line) = lines.next_line().await.context("cannot read input")? else {
            break;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "/exit" || line == "/quit" {
            break;
        }
        messages.push(json!({"role": "user", "content": line}));
        match stream_answer(&client, &base_url, &args, &messages).await {
            Ok(answer) => messages.push(json!({"role": "assistant", "content": answer})),
            Err(error) => {
                // Keep the session going; forget the turn that failed.
                messages.pop();
                eprintln!("error: {error:#}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends the conversation and prints the streamed answer as it arrives.
async fn stream_answer(
    client: &reqwest::Client,
    base_url: &str,
    args: &ChatArgs,
    messages: &[Value],
) -> anyhow::Result<String> {
    let mut body = json!({
        "model": args.model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if let Some(temperature) = args.temperature {
        body["temperature"] = json!(temperature);
    }
    if let Some(max_tokens) = args.max_tokens {
        body["max_tokens"] = json!(max_tokens);
    }
    let mut request = client
        .post(format!("{base_url}/v1/chat/completions"))
        .json(&body);
    if let Some(key) = &args.api_key {
        request = request.bearer_auth(key);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {base_url}"))?;
    if !response.status().is_success() {
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let message = body["error"]["message"].as_str().unwrap_or("no details");
        bail!("the server answered {status}: {message}");
    }
    let mut events = response.bytes_stream().eventsource();
    let mut answer = String::new();
    let mut stdout = std::io::stdout();
    while let Some(event) = events.next().await {
        let event = event.context("the answer stream broke")?;
        if event.data == "[DONE]" {
            break;
        }
        let chunk: Value = serde_json::from_str(&event.data).context("a chunk is not JSON")?;
        if let Some(message) = chunk["error"]["message"].as_str() {
            bail!("the answer failed: {message}");
        }
        if let Some(text) = chunk["choices"][0]["delta"]["content"].as_str() {
            answer.push_str(text);
            write!(stdout, "{text}").ok();
            stdout.flush().ok();
        }
    }
    writeln!(stdout).ok();
    Ok(answer)
}

/// Serves the config on a free loopback port in this process; returns its base URL.
async fn start_in_process(path: &std::path::Path) -> anyhow::Result<String> {
    let config = super::config::load_or_report(path)?;
    // Local deployments run in this process too, from the default model store.
    let resolver = super::local::resolver(&switchyard_engine::default_home(), false);
    let local = super::local::configured_providers(&config, &resolver)
        .await
        .context("cannot start the local models")?;
    let state = AppState::from_config_with_local(&config, &local, Vec::new())
        .context("cannot build the deployments")?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot open a loopback port")?;
    let address = listener
        .local_addr()
        .context("cannot read the bound address")?;
    tokio::spawn(switchyard_server::run(
        listener,
        state,
        std::future::pending(),
        std::time::Duration::ZERO,
    ));
    Ok(format!("http://{address}"))
}
