//! `nlpd healthcheck` (the container image's HEALTHCHECK) against real sockets.

use std::process::{Command, Output};

use crate::common::TestServer;

/// Runs the real binary's `healthcheck` with `args` off the async runtime, with
/// `NLPD_SERVER__LISTEN` set to `listen_env` or unset.
async fn healthcheck_with(args: &[&str], listen_env: Option<String>) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nlpd"));
        command.arg("healthcheck").args(&args).env_remove("NLPD_SERVER__LISTEN");
        if let Some(listen) = listen_env {
            command.env("NLPD_SERVER__LISTEN", listen);
        }
        command.output().expect("nlpd runs")
    })
    .await
    .expect("join")
}

async fn healthcheck(args: &[&str]) -> Output {
    healthcheck_with(args, None).await
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn a_running_server_is_healthy() {
    let server = TestServer::start().await;
    let addr = server.url("").trim_start_matches("http://").to_owned();
    let output = healthcheck(&["--listen", &addr]).await;
    assert!(output.status.success(), "{}", stderr(&output));
}

#[tokio::test]
async fn the_port_follows_the_environment_as_serve_reads_it() {
    let server = TestServer::start().await;
    let port = server.url("").rsplit(':').next().expect("port").to_owned();
    let output = healthcheck_with(&[], Some(format!("0.0.0.0:{port}"))).await;
    assert!(output.status.success(), "{}", stderr(&output));
}

#[tokio::test]
async fn nothing_listening_is_unhealthy_with_a_reason() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    drop(listener);
    let output = healthcheck(&["--listen", &addr]).await;
    assert!(!output.status.success());
    assert!(stderr(&output).contains("cannot connect"), "{}", stderr(&output));
}

#[tokio::test]
async fn a_server_that_never_answers_is_unhealthy_within_the_timeout() {
    // Accepts connections (the kernel's backlog does) but never reads or answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let output = healthcheck(&["--listen", &addr, "--timeout", "0.3"]).await;
    assert!(!output.status.success());
    assert!(stderr(&output).contains("no answer"), "{}", stderr(&output));
    drop(listener);
}

#[tokio::test]
async fn an_invalid_timeout_is_refused() {
    let output = healthcheck(&["--timeout", "0"]).await;
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--timeout"), "{}", stderr(&output));
}
