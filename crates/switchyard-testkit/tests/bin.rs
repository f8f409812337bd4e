//! The `switchyard-mock-openai` binary announces its address and serves the mock.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// Kills the child process when the test ends, pass or fail.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_its_address_and_serves() {
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_switchyard-mock-openai"))
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout is piped");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the binary writes a line");
        line
    })
    .await
    .expect("the reader does not panic");
    let base = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected announcement {line:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a plain reqwest client builds");
    let pushed = client
        .post(format!("{base}/__mock/scripts/models"))
        .json(&json!({"kind": "reply", "body": {"object": "list", "data": []}}))
        .send()
        .await
        .expect("the binary answers");
    assert_eq!(pushed.status(), 200);
    let models: Value = client
        .get(format!("{base}/v1/models"))
        .send()
        .await
        .expect("the binary answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(models, json!({"object": "list", "data": []}));
}
