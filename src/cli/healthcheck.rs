//! `nlpd healthcheck`: ask a running server on this host whether it is alive.
//!
//! The container image's `HEALTHCHECK` runs this instead of a separate HTTP client (the
//! runtime image carries neither curl nor wget). It reads the same settings as
//! `nlpd serve` (built-in defaults, `--config FILE`, `NLPD_<SECTION>__<KEY>`, flags) to
//! find the port, sends `GET /healthz` to the loopback address of the listening address's
//! family (or to the listening address itself when it names one interface), and succeeds
//! only on a `200` answered within `--timeout`. It never loads the model, so it costs a
//! few milliseconds whatever the model's size.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use crate::config::{FlagValue, Settings};

/// Arguments of `nlpd healthcheck`.
#[derive(Debug, clap::Args)]
pub(super) struct HealthcheckArgs {
    /// Address the server listens on [config: server.listen, default 127.0.0.1:8080].
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
    /// TOML file overlaying the built-in defaults (the one given to `nlpd serve`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Longest the whole check may take (connect, request, answer), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    timeout: f64,
}

/// Runs `nlpd healthcheck`: `Ok` when the server answered `/healthz` with 200 in time.
pub(super) fn run(args: HealthcheckArgs) -> anyhow::Result<()> {
    let timeout = Duration::try_from_secs_f64(args.timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .context("--timeout must be a positive number of seconds")?;
    let flags: Vec<FlagValue> = args
        .listen
        .map(|value| FlagValue { flag: "--listen", setting: "server.listen", value })
        .into_iter()
        .collect();
    let settings = Settings::load(args.config.as_deref(), super::process_env(), &flags)
        .context("invalid configuration")?;
    let target = probe_address(settings.server.listen);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        tokio::time::timeout(timeout, get_healthz(target))
            .await
            .map_err(|_| anyhow::anyhow!("no answer from {target} within {timeout:?}"))?
    })
}

/// Where to reach a server listening on `listen` from this host: the loopback address of
/// the same family when it listens on every interface, else the address itself.
fn probe_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// Sends `GET /healthz` to `target` over one HTTP/1.1 connection; `Ok` on a 200.
async fn get_healthz(target: SocketAddr) -> anyhow::Result<()> {
    let stream = tokio::net::TcpStream::connect(target)
        .await
        .with_context(|| format!("cannot connect to {target}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP handshake failed")?;
    // The connection task ends when the request is answered and `sender` is dropped.
    tokio::spawn(connection);
    let request = hyper::Request::get("/healthz")
        .header(hyper::header::HOST, target.to_string())
        .body(Empty::<Bytes>::new())
        .context("cannot build the request")?;
    let response = sender.send_request(request).await.context("no answer to GET /healthz")?;
    match response.status() {
        hyper::StatusCode::OK => Ok(()),
        status => bail!("GET /healthz on {target} answered {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listen_addresses_are_probed_on_loopback_of_their_family() {
        let probe = |listen: &str| probe_address(listen.parse().expect("addr")).to_string();
        assert_eq!(probe("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(probe("[::]:9000"), "[::1]:9000");
        assert_eq!(probe("10.1.2.3:80"), "10.1.2.3:80");
        assert_eq!(probe("127.0.0.1:8080"), "127.0.0.1:8080");
    }
}
