//! Connections: the accept loop and its bounds (a connection cap, header and idle timeouts),
//! readiness while the index loads, and graceful draining on SIGTERM.
//!
//! One client must not take the service down: a connection over the cap is answered 503 and
//! closed at once (so accepting never stalls and descriptors stay bounded), a client that sends
//! its headers too slowly or sits idle is cut after `header_timeout_secs`, and `/healthz` answers
//! throughout.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use byraad_core::config::ServerConfig;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::AppState;

/// Where the server is in its life: `/healthz` and `/readyz` report it.
#[derive(Debug, Default)]
pub struct Lifecycle(AtomicU8);

/// A phase of [`Lifecycle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The index and models are being opened; only `/healthz` and `/readyz` answer.
    Loading,
    /// Serving.
    Ready,
    /// SIGTERM received: finishing what is in flight.
    Draining,
}

impl Phase {
    /// "loading", "ready", "draining".
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Loading => "loading",
            Phase::Ready => "ready",
            Phase::Draining => "draining",
        }
    }
}

impl Lifecycle {
    /// A lifecycle in `phase`.
    pub fn new(phase: Phase) -> Self {
        let l = Self::default();
        l.set(phase);
        l
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.0.load(Ordering::Acquire) {
            0 => Phase::Loading,
            1 => Phase::Ready,
            _ => Phase::Draining,
        }
    }

    fn set(&self, phase: Phase) {
        self.0.store(phase as u8, Ordering::Release);
    }
}

/// The connection-level bounds of [`ServerConfig`].
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// Time to send the headers; idle time between requests.
    pub header_timeout: Duration,
    /// Time to accept new requests after SIGTERM while draining.
    pub shutdown_delay: Duration,
    /// Time in-flight requests get to finish.
    pub shutdown_grace: Duration,
}

impl ConnectionLimits {
    /// The bounds configured in `[server]`.
    pub fn from_config(server: &ServerConfig) -> Self {
        Self {
            max_connections: server.max_connections,
            header_timeout: Duration::from_secs(server.header_timeout_secs),
            shutdown_delay: Duration::from_secs(server.shutdown_delay_secs),
            shutdown_grace: Duration::from_secs(server.shutdown_grace_secs),
        }
    }
}

/// Serves `state` on `listener` until Ctrl-C or SIGTERM, then drains.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let limits = state.connection_limits.clone();
    serve_loading(listener, limits, async move { Ok(state) }).await
}

/// Serves on `listener` at once: `/healthz` and `/readyz` say "loading" until `load` yields the
/// state (every other request is a 503 meanwhile), then the whole application. On Ctrl-C or
/// SIGTERM `/readyz` says "draining" (503) for `shutdown_delay`, new connections stop, and
/// requests and streams in flight get `shutdown_grace` to finish.
pub async fn serve_loading<F>(listener: TcpListener, limits: ConnectionLimits, load: F) -> std::io::Result<()>
where
    F: Future<Output = Result<AppState, String>> + Send + 'static,
{
    let lifecycle = Arc::new(Lifecycle::new(Phase::Loading));
    let router: Arc<OnceLock<Router>> = Arc::new(OnceLock::new());
    let (failed_tx, mut failed) = tokio::sync::mpsc::unbounded_channel::<String>();
    {
        let (lifecycle, router) = (lifecycle.clone(), router.clone());
        tokio::spawn(async move {
            match load.await {
                Ok(mut state) => {
                    state.lifecycle = lifecycle.clone();
                    let _ = router.set(crate::app(state));
                    lifecycle.set(Phase::Ready);
                    tracing::info!("ready");
                }
                Err(e) => {
                    let _ = failed_tx.send(e);
                }
            }
        });
    }
    let server = Server {
        router,
        lifecycle: lifecycle.clone(),
        connections: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        graceful: GracefulShutdown::new(),
        builder: {
            let mut b = hyper::server::conn::http1::Builder::new();
            b.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
            b
        },
    };

    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            accepted = listener.accept() => server.accepted(accepted).await,
            () = &mut signal => break,
            Some(reason) = failed.recv() => return Err(std::io::Error::other(reason)),
        }
    }
    lifecycle.set(Phase::Draining);
    tracing::info!(delay_secs = limits.shutdown_delay.as_secs(), "draining: /readyz answers 503");
    let delay = tokio::time::sleep(limits.shutdown_delay);
    tokio::pin!(delay);
    loop {
        tokio::select! {
            accepted = listener.accept() => server.accepted(accepted).await,
            () = &mut delay => break,
        }
    }
    drop(listener);
    let open = limits.max_connections.max(1) - server.connections.available_permits();
    tracing::info!(connections = open, grace_secs = limits.shutdown_grace.as_secs(), "no new connections; finishing those in flight");
    match tokio::time::timeout(limits.shutdown_grace, server.graceful.shutdown()).await {
        Ok(()) => tracing::info!("drained"),
        Err(_) => tracing::warn!("shutdown grace period over; cutting the connections left"),
    }
    Ok(())
}

struct Server {
    router: Arc<OnceLock<Router>>,
    lifecycle: Arc<Lifecycle>,
    connections: Arc<Semaphore>,
    graceful: GracefulShutdown,
    builder: hyper::server::conn::http1::Builder,
}

impl Server {
    async fn accepted(&self, accepted: std::io::Result<(TcpStream, SocketAddr)>) {
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors, say: wait a moment rather than spin; what is open finishes.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                return;
            }
        };
        let Ok(permit) = self.connections.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; refused");
            tokio::spawn(refuse(stream));
            return;
        };
        let _ = stream.set_nodelay(true);
        let (router, lifecycle) = (self.router.clone(), self.lifecycle.clone());
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let router = router.get().cloned();
            let phase = lifecycle.phase();
            async move {
                Ok::<_, Infallible>(match router {
                    Some(router) => match tower::ServiceExt::oneshot(router, req).await {
                        Ok(resp) => resp,
                        Err(never) => match never {},
                    },
                    None => loading(req.uri().path(), phase),
                })
            }
        });
        let connection = self.graceful.watch(self.builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(permit);
        });
    }
}

/// A connection over the cap: a 503 with a JSON body, then closed.
async fn refuse(mut stream: TcpStream) {
    let body = json!({"error": {"code": "busy", "message": "the server has too many open connections; try again in a moment"}}).to_string();
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// What answers before the application is ready.
fn loading(path: &str, phase: Phase) -> Response<Body> {
    let (status, body) = match path {
        "/healthz" => (StatusCode::OK, json!({"status": phase.as_str()})),
        "/readyz" => (StatusCode::SERVICE_UNAVAILABLE, json!({"status": phase.as_str()})),
        _ => (StatusCode::SERVICE_UNAVAILABLE, json!({"error": {"code": "unavailable", "message": "the index is still loading; try again in a moment"}})),
    };
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    resp
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutdown signal received");
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::routes::tests::Empty;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn healthz_answers_and_readyz_says_loading_until_the_state_is_ready() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let data = tempfile::tempdir().unwrap();
        let mut config = byraad_core::config::Config::default();
        config.data.dir = data.path().to_path_buf();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (release, loaded) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(Arc::new(Empty), &config);
        let limits = ConnectionLimits::from_config(&config.server);
        tokio::spawn(serve_loading(listener, limits, async move {
            let _ = loaded.await;
            Ok(state)
        }));
        let client = reqwest::Client::new();
        let get = |path: &'static str| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let r = client.get(format!("{base}{path}")).send().await.unwrap();
                (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
            }
        };
        assert_eq!(get("/healthz").await, (200, json!({"status": "loading"})));
        assert_eq!(get("/readyz").await, (503, json!({"status": "loading"})));
        let (status, body) = get("/v1/models").await;
        assert_eq!((status, body["error"]["code"].as_str()), (503, Some("unavailable")));
        release.send(()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while get("/readyz").await.0 != 200 {
            assert!(std::time::Instant::now() < deadline, "never ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(get("/readyz").await, (200, json!({"status": "ready"})));
        assert_eq!(get("/healthz").await.1["status"], "ok");
    }
}
