//! Connection-level defences on a real socket: slow, silent and greedy clients.

use std::num::NonZeroUsize;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::common::{PATIENCE, TestServer, settings};

/// A server whose header, idle and body timeouts are short, and whose grace and request
/// timeout are long, so that only the limit under test can end a connection.
async fn strict_server(change: impl FnOnce(&mut nlpd::config::Settings)) -> TestServer {
    TestServer::with(
        nlpd::pipeline::Pipeline::tokenizer_only(),
        settings(|s| {
            s.server.header_read_timeout = Duration::from_millis(400);
            s.server.idle_timeout = Duration::from_millis(1500);
            s.server.body_timeout = Duration::from_millis(400);
            s.server.request_timeout = Duration::from_secs(3600);
            s.server.shutdown_grace = Duration::from_secs(3600);
            change(s);
        }),
    )
    .await
}

/// Reads until the server closes the connection; everything it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection")
        .expect("read");
    String::from_utf8_lossy(&received).into_owned()
}

/// The `Content-Length` of a response head, if it has one.
fn content_length(head: &str) -> Option<usize> {
    head.lines().find_map(|line| {
        let value = line.to_ascii_lowercase().strip_prefix("content-length: ")?.to_owned();
        Some(value.trim().parse().expect("a number"))
    })
}

/// Reads one response head and a body of `Content-Length` bytes.
async fn read_response(stream: &mut TcpStream) -> (String, String) {
    let mut received = Vec::new();
    let mut byte = [0_u8; 1];
    while !received.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut byte))
            .await
            .expect("a response")
            .expect("read");
        assert_eq!(n, 1, "closed after {:?}", String::from_utf8_lossy(&received));
        received.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&received).into_owned();
    let length = content_length(&head).unwrap_or(0);
    let mut body = vec![0_u8; length];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut body))
        .await
        .expect("body")
        .expect("read");
    (head, String::from_utf8_lossy(&body).into_owned())
}

const GET_HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

#[tokio::test]
async fn a_half_sent_header_is_cut_off() {
    let server = strict_server(|_| {}).await;
    let mut stream = server.connect().await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.expect("send");
    assert_eq!(read_to_close(&mut stream).await, "", "closed without an answer");
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_cut_off() {
    let server = strict_server(|_| {}).await;
    let mut stream = server.connect().await;
    assert_eq!(read_to_close(&mut stream).await, "");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_lives_for_the_idle_timeout_not_the_header_one() {
    let server = strict_server(|_| {}).await;
    let mut stream = server.connect().await;
    stream.write_all(GET_HEALTHZ).await.expect("send");
    assert!(read_response(&mut stream).await.0.starts_with("HTTP/1.1 200"));
    // Idle for longer than the header timeout, shorter than the idle one: still open.
    tokio::time::sleep(Duration::from_millis(700)).await;
    stream.write_all(GET_HEALTHZ).await.expect("send");
    assert!(read_response(&mut stream).await.0.starts_with("HTTP/1.1 200"));
    // Then idle for good: closed.
    assert_eq!(read_to_close(&mut stream).await, "");
}

#[tokio::test]
async fn a_client_that_never_reads_its_response_is_cut_off() {
    let server = strict_server(|_| {}).await;
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("small receive buffer");
    let mut stream = socket
        .connect(server.base.trim_start_matches("http://").parse().expect("addr"))
        .await
        .expect("connect");
    // About 1.9 MB of text: its JSON is far more than the socket buffers hold.
    let texts: Vec<String> = (0..19).map(|_| "word ".repeat(20_000)).collect();
    let body = json!({ "texts": texts }).to_string();
    let head = format!(
        "POST /parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    stream.write_all(body.as_bytes()).await.expect("send");
    // Once the response has begun (peeking reads nothing), stay away well past the stall
    // timeout, then read what there is: it was cut short.
    tokio::time::timeout(PATIENCE, stream.peek(&mut [0_u8; 1]))
        .await
        .expect("the response begins")
        .expect("peek");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = read_to_close(&mut stream).await;
    let (head, partial_body) = received.split_once("\r\n\r\n").expect("the response began");
    let length = content_length(head).expect("content-length");
    assert!(partial_body.len() < length, "{} of {length} bytes arrived", partial_body.len());
}

#[tokio::test]
async fn shutdown_closes_idle_and_half_open_connections_at_once() {
    let server = strict_server(|s| {
        s.server.header_read_timeout = Duration::from_secs(3600);
        s.server.idle_timeout = Duration::from_secs(3600);
    })
    .await;
    let mut half_open = server.connect().await;
    half_open.write_all(b"GET /healthz HTTP/1.1\r\n").await.expect("send");
    let mut idle = server.connect().await;
    idle.write_all(GET_HEALTHZ).await.expect("send");
    read_response(&mut idle).await;
    // The grace period is an hour: returning at all means neither connection was waited on.
    server.stop().await.expect("drained");
    assert_eq!(read_to_close(&mut half_open).await, "");
    assert_eq!(read_to_close(&mut idle).await, "");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let server = strict_server(|s| {
        s.server.max_connections = NonZeroUsize::new(2).expect("2");
        s.server.idle_timeout = Duration::from_secs(3600);
    })
    .await;
    let mut first = server.connect().await;
    let mut second = server.connect().await;
    for stream in [&mut first, &mut second] {
        stream.write_all(GET_HEALTHZ).await.expect("send");
        read_response(stream).await;
    }
    let mut third = server.connect().await; // the kernel's listen queue accepts it
    third.write_all(GET_HEALTHZ).await.expect("send");
    let mut byte = [0_u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut byte)).await;
    assert!(early.is_err(), "the third connection was served while two were open");
    drop(first);
    assert!(read_response(&mut third).await.0.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn stalled_uploads_hold_no_worker_slot_and_end_in_408() {
    let server = strict_server(|s| {
        s.limits.concurrency = NonZeroUsize::new(1).expect("1");
        s.limits.queue = 1;
        s.server.body_timeout = Duration::from_secs(2);
    })
    .await;
    let head = "POST /parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\":";
    let mut stalled = Vec::new();
    for _ in 0..5 {
        let mut stream = server.connect().await;
        stream.write_all(head.as_bytes()).await.expect("send");
        stalled.push(stream);
    }
    // Five uploads stopped half-way, two slots: a complete request is still served.
    let response = server.parse(&json!({"text": "Still served."})).await;
    assert_eq!(response.status(), 200);
    for mut stream in stalled {
        let (head, body) = read_response(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 408"), "{head}");
        assert!(body.contains("\"body_timeout\""), "{body}");
    }
}

#[tokio::test]
async fn a_declared_length_above_the_limit_is_refused_before_the_body() {
    let server = strict_server(|s| {
        s.limits.max_body_bytes = NonZeroUsize::new(1000).expect("1000");
        s.server.body_timeout = Duration::from_secs(3600);
    })
    .await;
    let mut stream = server.connect().await;
    let head = "POST /parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("send");
    let (head, body) = read_response(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 413"), "no 100 Continue, at once 413: {head}");
    assert!(body.contains("\"payload_too_large\""), "{body}");
}
