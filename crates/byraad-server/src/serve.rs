//! Connections: the accept loop and its bounds (connections in all and per address, header and
//! idle timeouts), readiness while the index loads, and graceful draining on SIGTERM.
//!
//! One client must not take the service down, and idle connections are closed before busy ones
//! suffer: a connection beyond `max_connections_per_address` or `max_connections` takes the place
//! of the longest-idle one ([`crate::connections`]); only when those are all busy is it refused
//! (429 or 503) — and even then its `/healthz` and `/readyz` are answered, so a load balancer
//! never pulls a healthy replica for one client's sake. A client that sends its headers too
//! slowly or sits idle is cut after `header_timeout_secs` (with a 408 when it had begun a
//! request); what HTTP itself refuses is JSON ([`crate::wire`]).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use byraad_core::config::ServerConfig;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::connections::{Admitted, Busy, Connections, Refusal};
use crate::wire::{Exchange, Watched};
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
    /// Most connections open at once from one address (0: no limit of its own).
    pub max_connections_per_address: usize,
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
            max_connections_per_address: server.max_connections_per_address,
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
    let audit: Arc<OnceLock<Arc<crate::AuditLog>>> = Arc::new(OnceLock::new());
    let (failed_tx, mut failed) = tokio::sync::mpsc::unbounded_channel::<String>();
    {
        let (lifecycle, router, audit) = (lifecycle.clone(), router.clone(), audit.clone());
        tokio::spawn(async move {
            match load.await {
                Ok(mut state) => {
                    state.lifecycle = lifecycle.clone();
                    tokio::spawn(summarise_refusals(state.audit.clone()));
                    let _ = audit.set(state.audit.clone());
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
    let (draining, _) = watch::channel(false);
    let server = Server {
        router,
        lifecycle: lifecycle.clone(),
        connections: Arc::new(Connections::new(limits.max_connections, limits.max_connections_per_address)),
        overflow: Arc::new(Semaphore::new(OVERFLOW)),
        draining,
        builder: {
            let mut b = hyper::server::conn::http1::Builder::new();
            b.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
            b
        },
        limits: limits.clone(),
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
    tracing::info!(connections = server.connections.open(), grace_secs = limits.shutdown_grace.as_secs(), "no new connections; finishing those in flight");
    server.draining.send_replace(true);
    match tokio::time::timeout(limits.shutdown_grace, server.connections.all_closed()).await {
        Ok(()) => tracing::info!("drained"),
        Err(_) => tracing::warn!("shutdown grace period over; cutting the connections left"),
    }
    if let Some(audit) = audit.get().cloned()
        && let Err(e) = tokio::task::spawn_blocking(move || audit.flush_refusals(true)).await.unwrap_or_else(|e| Err(e.to_string()))
    {
        tracing::error!(error = %e, "the summary of refused requests could not be audited");
    }
    Ok(())
}

/// Writes the audit log's summaries of refused requests as their intervals end.
async fn summarise_refusals(audit: Arc<crate::AuditLog>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let audit = audit.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || audit.flush_refusals(false)).await {
            tracing::error!(error = %e, "the summary of refused requests could not be audited");
        }
    }
}

/// Refused connections served at once for their health checks; beyond them a refusal is
/// written without reading the request.
const OVERFLOW: usize = 64;
/// Time a refused connection gets to send its request.
const OVERFLOW_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

struct Server {
    router: Arc<OnceLock<Router>>,
    lifecycle: Arc<Lifecycle>,
    connections: Arc<Connections>,
    overflow: Arc<Semaphore>,
    draining: watch::Sender<bool>,
    builder: hyper::server::conn::http1::Builder,
    limits: ConnectionLimits,
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
        let _ = stream.set_nodelay(true);
        match self.connections.admit(peer.ip()) {
            Ok(admitted) => {
                let connection = self.connection(stream, peer, admitted);
                tokio::spawn(connection);
            }
            Err(refusal) => {
                let (status, code, message) = match refusal {
                    Refusal::Address => {
                        tracing::debug!(%peer, "connections per address reached, all busy; refused");
                        let m = format!("too many open connections from your address, all busy (server.max_connections_per_address = {}); try again in a moment", self.limits.max_connections_per_address);
                        (StatusCode::TOO_MANY_REQUESTS, "too_many_connections", m)
                    }
                    Refusal::Full => {
                        tracing::warn!(%peer, "connection limit reached, every connection busy; refused");
                        (StatusCode::SERVICE_UNAVAILABLE, "busy", BUSY.to_string())
                    }
                };
                match self.overflow.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let overflow = self.overflow_connection(stream, peer, status, code, message);
                        tokio::spawn(async move {
                            overflow.await;
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        tokio::spawn(refuse(stream, status, code, message));
                    }
                }
            }
        }
    }

    /// Serves an admitted connection until it ends, the server drains, or it is closed to make
    /// room (then at once when idle).
    fn connection(&self, stream: TcpStream, peer: SocketAddr, admitted: Admitted) -> impl Future<Output = ()> + Send + 'static {
        let exchange = Arc::new(Exchange::default());
        let state = admitted.connection.clone();
        let (router, lifecycle) = (self.router.clone(), self.lifecycle.clone());
        let watched = exchange.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            watched.dispatched();
            let busy = state.request();
            req.extensions_mut().insert(ConnectInfo(peer));
            // The request is handled, and recorded, to its end even when its client leaves
            // meanwhile: its task starts now, and hyper dropping this future does not end it.
            let handled = match router.get().cloned() {
                Some(router) => Ok(tokio::spawn(tower::ServiceExt::oneshot(router, req))),
                None => Err(loading(req.uri().path(), lifecycle.phase())),
            };
            async move {
                let resp = match handled {
                    Ok(task) => match task.await {
                        Ok(Ok(resp)) => resp,
                        Ok(Err(never)) => match never {},
                        Err(e) => {
                            tracing::error!(%peer, error = %e, "a request's task failed");
                            refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the request failed; try again")
                        }
                    },
                    Err(loading) => loading,
                };
                Ok::<_, Infallible>(resp.map(|body| Body::new(Counted { body, _busy: busy })))
            }
        });
        let connection = self.builder.serve_connection(TokioIo::new(Watched::new(stream, exchange.clone())), service);
        let mut draining = self.draining.subscribe();
        async move {
            tokio::pin!(connection);
            let mut closing = false;
            loop {
                tokio::select! {
                    ended = connection.as_mut() => {
                        if let Err(e) = ended {
                            if e.is_timeout() {
                                exchange.cut();
                            }
                            tracing::debug!(%peer, error = %e, "connection ended");
                        }
                        break;
                    }
                    _ = draining.wait_for(|d| *d), if !closing => {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    () = admitted.connection.closing(), if !closing => {
                        // Idle: closed now (a head half sent is answered 408). A request that
                        // arrived meanwhile finishes first.
                        if !admitted.connection.is_busy() {
                            exchange.cut();
                            break;
                        }
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
            drop(admitted);
        }
    }

    /// A connection refused while those it could replace are busy: its health check is answered
    /// as usual, anything else with `status`; then it is closed.
    fn overflow_connection(&self, stream: TcpStream, peer: SocketAddr, status: StatusCode, code: &'static str, message: String) -> impl Future<Output = ()> + Send + 'static {
        let (router, lifecycle) = (self.router.clone(), self.lifecycle.clone());
        let exchange = Arc::new(Exchange::default());
        let watched = exchange.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            watched.dispatched();
            req.extensions_mut().insert(ConnectInfo(peer));
            let router = router.get().cloned();
            let phase = lifecycle.phase();
            let message = message.clone();
            async move {
                let health = matches!(req.uri().path(), "/healthz" | "/readyz");
                Ok::<_, Infallible>(match router {
                    Some(router) if health => match tower::ServiceExt::oneshot(router, req).await {
                        Ok(resp) => resp,
                        Err(never) => match never {},
                    },
                    None if health => loading(req.uri().path(), phase),
                    _ => refusal(status, code, &message),
                })
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(OVERFLOW_HEADER_TIMEOUT).keep_alive(false);
        let connection = builder.serve_connection(TokioIo::new(Watched::new(stream, exchange)), service);
        async move {
            let _ = tokio::time::timeout(OVERFLOW_HEADER_TIMEOUT * 3, connection).await;
        }
    }
}

const BUSY: &str = "the server has too many open connections, all busy; try again in a moment";

/// The answer to a refused connection's request.
fn refusal(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let mut resp = Response::new(Body::from(json!({"error": {"code": code, "message": message}}).to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    resp.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    resp
}

/// A response body that keeps its connection counted busy until it is sent or dropped.
struct Counted {
    body: Body,
    _busy: Busy,
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A refused connection: a JSON error with `status`, written without reading the request, then
/// closed.
async fn refuse(mut stream: TcpStream, status: StatusCode, code: &str, message: String) {
    let body = json!({"error": {"code": code, "message": message}}).to_string();
    let reply = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
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
