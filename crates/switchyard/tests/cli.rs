//! The `switchyard` binary driven as a user would: config checks, chat, models, serve.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use switchyard_testkit::MockOpenAi;
use tokio::io::{AsyncBufReadExt, BufReader};

const BINARY: &str = env!("CARGO_BIN_EXE_switchyard");

fn config_for(mock: &MockOpenAi, listen: Option<&str>) -> String {
    let server = listen
        .map(|listen| format!("[server]\nlisten = \"{listen}\"\n\n"))
        .unwrap_or_default();
    format!(
        "{server}[providers.mock]\ntype = \"openai\"\nbase_url = \"{}\"\n\n\
         [deployments.mock-chat]\nprovider = \"mock\"\nmodel = \"mock-gpt\"\n\n\
         [models.gpt]\ndeployments = [\"mock-chat\"]\n",
        mock.base_url()
    )
}

struct TempConfig {
    dir: std::path::PathBuf,
}

impl TempConfig {
    fn new(name: &str, text: &str) -> TempConfig {
        let dir = std::env::temp_dir().join(format!(
            "switchyard-cli-{}-{name}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("switchyard.toml"), text).expect("write config");
        TempConfig { dir }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.join("switchyard.toml")
    }
}

impl Drop for TempConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(BINARY)
            .args(&args)
            .env_remove("SWITCHYARD_CONFIG")
            .env_remove("SWITCHYARD_LISTEN")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write stdin");
        }
        child.wait_with_output().expect("the binary finishes")
    })
    .await
    .expect("join")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn version_and_help_describe_the_commands() {
    let version = run(&["--version"], None).await;
    assert!(text(&version.stdout).starts_with("switchyard "));
    let help = text(&run(&["--help"], None).await.stdout);
    for command in ["serve", "chat", "models", "config"] {
        assert!(help.contains(command), "`{command}` missing from:\n{help}");
    }
}

#[tokio::test]
async fn config_check_accepts_a_valid_file_and_lists_every_problem_of_a_bad_one() {
    let mock = MockOpenAi::start().await;
    let good = TempConfig::new("good", &config_for(&mock, None));
    let output = run(&["config", "check", &good.path().to_string_lossy()], None).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).ends_with(": ok (1 models, 1 deployments)\n"));

    let bad = TempConfig::new(
        "bad",
        "[providers.p]\ntype = \"openai\"\nbase_ur = \"http://x\"\n\n\
         [deployments.d]\nprovider = \"q\"\nmodel = \"m\"\n",
    );
    let path = bad.path().to_string_lossy().into_owned();
    let output = run(&["config", "check", &path], None).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    for line in [
        format!("{path}:1:12: providers.p: missing field `base_url`"),
        format!(
            "{path}:3:1: providers.p.base_ur: unknown field `base_ur`; did you mean `base_url`?"
        ),
        format!("{path}:6:12: deployments.d.provider: unknown provider `q`; expected `p`"),
    ] {
        assert!(stderr.contains(&line), "missing `{line}` in:\n{stderr}");
    }
}

#[tokio::test]
async fn config_check_looks_at_the_models_of_local_deployments() {
    let missing = std::env::temp_dir().join("switchyard-cli-no-such-model.gguf");
    let toml = format!(
        "[providers.cpu]\ntype = \"local\"\n\n\
         [deployments.gone]\nprovider = \"cpu\"\nmodel = \"{}\"\n\n\
         [deployments.typo]\nprovider = \"cpu\"\nmodel = \"smollm3-135m-instruct\"\n\n\
         [deployments.fine]\nprovider = \"cpu\"\nmodel = \"smollm2-135m-instruct:q4_1\"\n\n\
         [models.m]\ndeployments = [\"gone\", \"typo\", \"fine\"]\n",
        missing.display()
    );
    let config = TempConfig::new("local-check", &toml);
    let path = config.path().to_string_lossy().into_owned();
    let output = run(&["config", "check", &path], None).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("{path}: deployments.gone.model: ")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{path}: deployments.typo.model: ")),
        "{stderr}"
    );
    assert!(!stderr.contains("deployments.fine"), "{stderr}");
    assert!(stderr.ends_with(": 2 errors\n"), "{stderr}");
}

#[tokio::test]
async fn chat_streams_an_answer_from_an_in_process_server() {
    let mock = MockOpenAi::start().await;
    let config = TempConfig::new("chat", &config_for(&mock, None));
    let path = config.path().to_string_lossy().into_owned();
    let output = run(
        &["chat", "--config", &path, "-m", "gpt", "hello there"],
        None,
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "echo: hello there\n");

    // Piped standard input is the prompt.
    let output = run(
        &["chat", "--config", &path, "-m", "gpt"],
        Some("from a pipe"),
    )
    .await;
    assert_eq!(text(&output.stdout), "echo: from a pipe\n");

    // An unknown model fails with the server's message.
    let output = run(&["chat", "--config", &path, "-m", "gtp", "hi"], None).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("did you mean `gpt`?"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test]
async fn models_prints_a_table() {
    let mock = MockOpenAi::start().await;
    let config = TempConfig::new("models", &config_for(&mock, None));
    let output = run(
        &["models", "--config", &config.path().to_string_lossy()],
        None,
    )
    .await;
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "MODEL  DEPLOYMENT  PROVIDER  UPSTREAM MODEL");
    assert_eq!(lines[1], "gpt    mock-chat   mock      mock-gpt");
}

#[tokio::test]
async fn models_lists_the_catalog_filtered() {
    let output = run(
        &[
            "models",
            "--catalog",
            "--jurisdiction",
            "EU",
            "--capability",
            "tools",
        ],
        None,
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let header = stdout.lines().next().expect("a header");
    assert!(header.starts_with("PROVIDER  MODEL"), "{header}");
    assert!(
        stdout.lines().any(|line| line.starts_with("mistral ")),
        "{stdout}"
    );
    assert!(stdout.contains("prices in US dollars per million tokens"));

    let output = run(
        &["models", "--catalog", "--provider", "gemini", "--json"],
        None,
    )
    .await;
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let rows = list["data"].as_array().expect("rows");
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|row| row["provider"] == "gemini"));

    let output = run(&["models", "--catalog", "--capability", "telepathy"], None).await;
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("--capability: unknown capability"));
}

/// Vendor key variables `serve` reads when it has no config file; each test sets its own.
const VENDOR_VARS: [&str; 18] = [
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "MISTRAL_API_KEY",
    "XAI_API_KEY",
    "DEEPSEEK_API_KEY",
    "GROQ_API_KEY",
    "TOGETHER_API_KEY",
    "FIREWORKS_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_BEARER_TOKEN_BEDROCK",
];

/// Starts `serve`, returns the address it reports and the child.
async fn serve(args: &[&str], env_listen: Option<&str>) -> (String, tokio::process::Child) {
    let listen: Vec<(&str, &str)> = env_listen
        .map(|listen| ("SWITCHYARD_LISTEN", listen))
        .into_iter()
        .collect();
    serve_with_env(args, &listen).await
}

/// Starts `serve` with these environment variables, and no others of Switchyard's or
/// of the vendors'.
async fn serve_with_env(args: &[&str], env: &[(&str, &str)]) -> (String, tokio::process::Child) {
    let mut command = tokio::process::Command::new(BINARY);
    command
        .arg("serve")
        .args(args)
        .env_remove("SWITCHYARD_CONFIG")
        .env_remove("SWITCHYARD_LISTEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for var in VENDOR_VARS {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    let mut child = command.spawn().expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("serve reports its address in time")
        .expect("readable")
        .expect("a line");
    let address = line
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line `{line}`"))
        .to_owned();
    // The address comes at once; `ready` once the models are loaded.
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("serve gets ready in time")
        .expect("readable")
        .expect("a line");
    assert_eq!(line, "ready");
    (address, child)
}

/// `N` distinct free ports: the listeners are held together until all are picked, so
/// the kernel cannot hand out one port twice.
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    std::array::from_fn(|index| listeners[index].local_addr().expect("address").port())
}

#[tokio::test]
async fn serve_takes_the_flag_over_the_environment_over_the_file() {
    let mock = MockOpenAi::start().await;
    let [file_port, env_port, flag_port] = free_ports();
    let config = TempConfig::new(
        "serve",
        &config_for(&mock, Some(&format!("127.0.0.1:{file_port}"))),
    );
    let path = config.path().to_string_lossy().into_owned();
    let env_listen = format!("127.0.0.1:{env_port}");
    let flag_listen = format!("127.0.0.1:{flag_port}");

    let (address, _file) = serve(&["--config", &path], None).await;
    assert_eq!(address, format!("127.0.0.1:{file_port}"));
    let (address, _env) = serve(&["--config", &path], Some(&env_listen)).await;
    assert_eq!(address, env_listen);
    let (address, mut flag) = serve(
        &["--config", &path, "--listen", &flag_listen],
        Some(&env_listen),
    )
    .await;
    assert_eq!(address, flag_listen);

    // It answers, then stops cleanly on SIGTERM.
    let health = reqwest_free_get(&address, "/healthz").await;
    assert!(health.contains(r#""status":"ok""#), "{health}");
    let pid = flag.id().expect("running");
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), flag.wait())
        .await
        .expect("serve stops after SIGTERM")
        .expect("status");
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn serve_without_a_file_offers_the_catalog_models_of_each_vendor_key() {
    let mock = MockOpenAi::start().await;
    let home = TempConfig::new("empty-home", "");
    let [port] = free_ports();
    let listen = format!("127.0.0.1:{port}");
    let base_url = mock.base_url();
    let home_dir = home.dir.to_string_lossy().into_owned();
    let (address, _server) = serve_with_env(
        // No local models: the store is empty and nothing may be pulled.
        &["--offline", "--home", &home_dir],
        &[
            ("SWITCHYARD_LISTEN", &listen),
            ("OPENAI_API_KEY", "sk-from-env"),
            ("OPENAI_BASE_URL", &base_url),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let models: serde_json::Value = client
        .get(format!("http://{address}/v1/models"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let names: Vec<&str> = models["data"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|model| model["id"].as_str())
        .collect();
    let openai_rows: Vec<&str> = switchyard_catalog::builtin()
        .models
        .iter()
        .filter(|model| model.provider == "openai")
        .map(|model| model.id.as_str())
        .collect();
    assert_eq!(names, {
        let mut sorted = openai_rows.clone();
        sorted.sort_unstable();
        sorted
    });
    let answer: serde_json::Value = client
        .post(format!("http://{address}/v1/chat/completions"))
        .json(&serde_json::json!({"model": "gpt-4o",
                                  "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        answer["choices"][0]["message"]["content"], "echo: hi",
        "{answer}"
    );
    let upstream = mock.requests().pop().expect("the mock was called");
    assert_eq!(upstream.header("authorization"), Some("Bearer sk-from-env"));
    assert_eq!(upstream.body["model"], "gpt-4o");
}

/// A bare HTTP/1.1 GET, so this test needs no HTTP client crate.
async fn reqwest_free_get(address: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .expect("writes");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("reads");
    response
}

/// The model store the engine tests fill (`$SWITCHYARD_TEST_HOME`).
fn test_home() -> std::path::PathBuf {
    std::env::var_os("SWITCHYARD_TEST_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/switchyard/home")
        })
}

#[tokio::test]
async fn serve_runs_the_local_deployments_of_a_config_beside_remote_ones() {
    let home = test_home();
    let pulled = run(
        &["pull", "smollm2", "--home", &home.to_string_lossy()],
        None,
    )
    .await;
    assert!(
        pulled.status.success(),
        "this test needs SmolLM2 in {}: {}",
        home.display(),
        text(&pulled.stderr)
    );
    let gguf = home.join("models/smollm2-135m-instruct/smollm2-135m-instruct.q4_1.gguf");
    let mock = MockOpenAi::start().await;
    let config = TempConfig::new(
        "local",
        &format!(
            "{}\n[providers.cpu]\ntype = \"local\"\n\n\
             [deployments.tiny-file]\nprovider = \"cpu\"\nmodel = \"{}\"\nmax_sequences = 2\n\
             context_tokens = 1024\n\n\
             [models.tiny]\ndeployments = [\"tiny-file\", \"mock-chat\"]\n",
            config_for(&mock, None),
            gguf.display()
        ),
    );
    let path = config.path().to_string_lossy().into_owned();
    let [port] = free_ports();
    let listen = format!("127.0.0.1:{port}");
    let (address, _server) =
        serve(&["--config", &path, "--listen", &listen, "--offline"], None).await;
    let models = reqwest_free_get(&address, "/v1/models").await;
    assert!(models.contains(r#""id":"tiny""#), "{models}");
    assert!(models.contains(r#""id":"gpt""#), "{models}");

    // Answered by the engine, not the mock behind it.
    let output = run(
        &[
            "chat",
            "--model",
            "tiny",
            "What is 2 + 2?",
            "--url",
            &format!("http://{address}"),
            "--temperature",
            "0",
            "--max-tokens",
            "8",
        ],
        None,
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(!text(&output.stdout).trim().is_empty());
    assert!(mock.requests().is_empty(), "the local deployment answered");
}
