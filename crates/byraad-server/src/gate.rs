//! The middleware every request passes: authentication (a token, or a session cookie with its
//! CSRF token), the members' pages' sign-in redirect, and the audit entry of every API request.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use byraad_core::Principal;

use crate::session::{self, Cookies, Visitor};
use crate::{ApiError, AppState, AuditInfo};

/// Principal name of a request whose authentication failed.
const UNAUTHENTICATED: &str = "-";

/// The principal a sign-in handler signed in, for the audit entry of its request.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn(pub String);

/// Authenticates every request and records every API request in the audit log.
///
/// `/healthz` and `/openapi.json` are open (a request without a valid token is anonymous
/// there); every `/v1/` request needs a valid token or session when `auth.required` is set,
/// and a token that does not verify is refused even when it is not. A request without
/// `Authorization` is authenticated by its session cookie, if any; a state-changing one then
/// needs the session's CSRF token. The members' pages send a visitor who must sign in to the
/// sign-in page. The handler's [`AuditInfo`] (query, documents returned and cited) goes into
/// the audit entry; when the entry cannot be written the response is replaced by a 503: nothing
/// is answered unaudited.
pub(crate) async fn guard(State(state): State<AppState>, matched: Option<MatchedPath>, mut req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let path = matched.as_ref().map_or_else(|| req.uri().path().to_string(), |m| m.as_str().to_string());
    let endpoint = format!("{} {path}", req.method());
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default();
    // The API, the pages showing documents, and the MCP endpoint need a valid token where one is
    // required and are recorded; /healthz and /openapi.json are open.
    let api = path.starts_with("/v1/") || path.starts_with("/documents/") || path.starts_with("/mcp") || path == "/regler" || path == "/sog";
    // Signing in and out: open (they are how one authenticates), but limited and recorded.
    let signing = path == "/logind" || path == "/logud" || path.starts_with("/auth/");
    let page = req.method() == axum::http::Method::GET && (matches!(path.as_str(), "/" | "/sog" | "/regler" | "/forespoergsel") || path.starts_with("/documents/"));
    let header = match req.headers().get(axum::http::header::AUTHORIZATION).map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(v)) => Ok(Some(v.to_string())),
        Some(Err(_)) => Err(crate::AuthError::Rejected("the Authorization header is not text".into())),
    };
    let auth = state.auth.clone();
    let cookies = Cookies::for_url(&state.public_url);
    let mut csrf = None;
    let mut session_ended = false;
    let result = match header {
        Err(e) => Err(e),
        Ok(None) => match (cookies.session(req.headers()), &state.store) {
            (Some(id), Some(store)) => match store.session(&id, state.session_idle).await {
                Ok(Some(s)) => {
                    csrf = Some(session::csrf_of(&id));
                    Ok(Principal { name: s.principal, groups: s.groups })
                }
                // An ended, expired or idle session: as without the cookie, and said.
                Ok(None) => {
                    session_ended = true;
                    auth.authenticate(None)
                }
                Err(e) => {
                    tracing::error!(%endpoint, error = %e, "sessions cannot be read");
                    return ApiError::Unavailable("sign-ins cannot be checked: the database does not answer".into()).into_response();
                }
            },
            _ => auth.authenticate(None),
        },
        Ok(header) if auth.may_block() => tokio::task::spawn_blocking(move || auth.authenticate(header.as_deref()))
            .await
            .unwrap_or_else(|e| Err(crate::AuthError::Rejected(format!("authentication failed: {e}")))),
        Ok(header) => auth.authenticate(header.as_deref()),
    };
    let principal = match result {
        Ok(p) => p,
        Err(crate::AuthError::Missing) if page => return sign_in_first(&req),
        Err(_) if !api => Principal::anonymous(),
        Err(e) => {
            tracing::debug!(%endpoint, reason = %e, "request not authenticated");
            let message = match e {
                crate::AuthError::Missing => "a bearer token is required (Authorization: Bearer <token>)",
                crate::AuthError::Rejected(_) => "the bearer token is not valid",
            };
            return refuse(&state, UNAUTHENTICATED, &peer, &endpoint, started, ApiError::Unauthorized(message.into())).await;
        }
    };
    if page && state.auth.required() && principal.name == byraad_core::ANONYMOUS {
        return sign_in_first(&req);
    }
    let safe = matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS);
    if let Some(expected) = &csrf
        && !safe
        && !signing
        && !session::csrf_matches(expected, req.headers().get(session::CSRF_HEADER).and_then(|v| v.to_str().ok()))
    {
        tracing::warn!(%endpoint, principal = %principal.name, "a session request without its CSRF token");
        return refuse(&state, &principal.name, &peer, &endpoint, started, ApiError::Forbidden("the request comes with a session but without its CSRF token (X-CSRF-Token); reload the page".into())).await;
    }
    if (api || signing)
        && let Some(rate) = &state.rate
    {
        // Anonymous requests are limited per address, the others per principal.
        let key = if principal.name == byraad_core::ANONYMOUS { format!("{}@{peer}", principal.name) } else { principal.name.clone() };
        if let Err(wait) = rate.check(&key) {
            tracing::debug!(%endpoint, principal = %principal.name, "rate limited");
            return refuse(&state, &principal.name, &peer, &endpoint, started, ApiError::RateLimited(wait)).await;
        }
    }
    req.extensions_mut().insert(principal.clone());
    let can_sign_in = state.auth.takes_tokens() || state.auth.sign_in().is_some();
    req.extensions_mut().insert(Visitor { principal: principal.clone(), csrf, can_sign_in, session_ended });
    // The handler and its audit line run to their end even when the client leaves meanwhile:
    // every request that reached a handler is recorded.
    let finish = async move {
        let mut resp = next.run(req).await;
        // Signing in and out set the cookie themselves.
        if session_ended && !signing {
            resp.headers_mut().append(axum::http::header::SET_COOKIE, cookies.clear_session());
        }
        // MCP tool calls record themselves, one entry per call.
        if !(api || signing) || path.starts_with("/mcp") {
            return resp;
        }
        let info = resp.extensions_mut().remove::<AuditInfo>().unwrap_or_default();
        let name = resp.extensions_mut().remove::<SignedIn>().map_or(principal.name, |s| s.0);
        let entry = state.audit.entry(&name, &endpoint, info, resp.status().as_u16(), elapsed_ms(started));
        let audit = state.audit.clone();
        match tokio::task::spawn_blocking(move || audit.write(&entry)).await {
            Ok(Ok(())) => resp,
            _ => ApiError::Unavailable("the audit log cannot be written; no request is answered until it can".into()).into_response(),
        }
    };
    tokio::spawn(finish).await.unwrap_or_else(|e| ApiError::Internal(format!("the request's task failed: {e}")).into_response())
}

/// `error` for a request refused before its handler, recorded in the audit log: the first of
/// its kind in an interval written, the rest counted (a flood of refusals fills no disk).
/// Anonymous and unauthenticated requests are told apart by `peer`, their address.
async fn refuse(state: &AppState, principal: &str, peer: &str, endpoint: &str, started: std::time::Instant, error: ApiError) -> Response {
    let resp = error.into_response();
    let entry = state.audit.entry(principal, endpoint, AuditInfo::default(), resp.status().as_u16(), elapsed_ms(started));
    let who = if principal == UNAUTHENTICATED || principal == byraad_core::ANONYMOUS { format!("{principal}@{peer}") } else { principal.to_string() };
    let audit = state.audit.clone();
    let _ = tokio::task::spawn_blocking(move || audit.refused(&who, &entry)).await;
    resp
}

/// A page that needs a signed-in visitor: to the sign-in page, and back here after.
fn sign_in_first(req: &Request) -> Response {
    let here = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let to = format!("/logind?next={}", crate::links::encode(here));
    (axum::http::StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, to)]).into_response()
}

fn elapsed_ms(started: std::time::Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
