//! Signing in and out of the web page: with a token (the sign-in form), or with the intranet's
//! single sign-on (OpenID Connect, authorization code with PKCE), into a server-side session.
//!
//! The single sign-on: `/auth/login` stores a new state (with the PKCE verifier, a nonce and
//! where to return), binds it to the browser with a short-lived cookie and sends the browser to
//! the provider; `/auth/callback` takes the state once, checks it is this browser's, exchanges
//! the code (with the verifier) at the token endpoint and verifies the ID token (signature,
//! issuer, audience = this client, expiry, nonce) before the session starts.

use std::time::Duration;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use byraad_core::Principal;
use serde::Deserialize;

use super::{escape, layout};
use crate::gate::SignedIn;
use crate::session::{self, Cookies, Visitor};
use crate::{AppState, SignInEndpoints};

/// Minutes a single sign-on may take between the redirect and the callback.
const SIGN_IN_MINUTES: i64 = 10;
/// Seconds the token endpoint may take.
const TOKEN_TIMEOUT_SECS: u64 = 10;

/// `?next=PATH`: where to go once signed in.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// The sign-in page.
pub(crate) async fn sign_in_page(State(state): State<AppState>, Extension(visitor): Extension<Visitor>, query: Result<Query<NextQuery>, QueryRejection>) -> Response {
    let next = session::local_path(query.ok().and_then(|Query(q)| q.next).as_deref());
    page(&state, &visitor, &next, None, StatusCode::OK)
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
}

/// `POST /logind`: a token (a static token or the single sign-on's JWT) into a session.
pub(crate) async fn sign_in_with_token(State(state): State<AppState>, Extension(visitor): Extension<Visitor>, headers: HeaderMap, form: Result<Form<TokenForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return page(&state, &visitor, "/", Some("Formularen kunne ikke læses. Prøv igen."), StatusCode::BAD_REQUEST);
    };
    let next = session::local_path(Some(&form.next));
    if !session::same_origin(&headers) {
        return page(&state, &visitor, &next, Some("Log ind skal ske fra byråds-GPT's egen side."), StatusCode::FORBIDDEN);
    }
    let token = form.token.trim().to_string();
    if token.is_empty() {
        return page(&state, &visitor, &next, Some("Skriv din adgangsnøgle."), StatusCode::BAD_REQUEST);
    }
    let auth = state.auth.clone();
    let result = tokio::task::spawn_blocking(move || auth.authenticate(Some(&format!("Bearer {token}")))).await;
    match result {
        Ok(Ok(principal)) => start_session(&state, &headers, principal, &next, None).await,
        Ok(Err(e)) => {
            tracing::warn!(reason = %e, "sign-in with a token refused");
            page(&state, &visitor, &next, Some("Adgangsnøglen blev ikke godkendt."), StatusCode::UNAUTHORIZED)
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            page(&state, &visitor, &next, Some("Log ind mislykkedes. Prøv igen."), StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// The sign-out form's field.
#[derive(Debug, Deserialize)]
pub(crate) struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logud`: ends the session (with its CSRF token, so no other site can sign a member out).
pub(crate) async fn sign_out(State(state): State<AppState>, Extension(visitor): Extension<Visitor>, headers: HeaderMap, form: Result<Form<SignOutForm>, FormRejection>) -> Response {
    let cookies = Cookies::for_url(&state.public_url);
    let given = form.ok().map(|Form(f)| f.csrf);
    let (Some(expected), Some(id), Some(store)) = (&visitor.csrf, cookies.session(&headers), &state.store) else {
        return redirect("/", &[cookies.clear_session()]);
    };
    if !session::csrf_matches(expected, given.as_deref()) {
        return page(&state, &visitor, "/", Some("Log ud kunne ikke bekræftes. Brug knappen på siden."), StatusCode::FORBIDDEN);
    }
    if let Err(e) = store.delete_session(&id).await {
        tracing::error!(error = %e, "a session could not be ended");
        return page(&state, &visitor, "/", Some("Log ud mislykkedes: databasen svarer ikke. Prøv igen."), StatusCode::SERVICE_UNAVAILABLE);
    }
    let mut resp = redirect("/", &[cookies.clear_session()]);
    resp.extensions_mut().insert(SignedIn(visitor.principal.name.clone()));
    resp
}

/// `GET /auth/login`: off to the provider, with a new state, nonce and PKCE challenge.
pub(crate) async fn single_sign_on(State(state): State<AppState>, Extension(visitor): Extension<Visitor>, query: Result<Query<NextQuery>, QueryRejection>) -> Response {
    let next = session::local_path(query.ok().and_then(|Query(q)| q.next).as_deref());
    let (Some(endpoints), Some(store)) = (state.auth.sign_in(), &state.store) else {
        return page(&state, &visitor, &next, Some("Log ind med Aarhus Kommunes login er ikke sat op på denne server."), StatusCode::NOT_FOUND);
    };
    let (key, verifier, nonce) = (session::secret(), session::secret(), session::secret());
    let sign_in = byraad_store::SignIn { verifier: verifier.clone(), nonce: nonce.clone(), return_to: next.clone() };
    if let Err(e) = store.put_sign_in(&key, &sign_in, chrono::Utc::now() + chrono::Duration::minutes(SIGN_IN_MINUTES)).await {
        tracing::error!(error = %e, "a sign-in could not be stored");
        return page(&state, &visitor, &next, Some("Log ind mislykkedes: databasen svarer ikke. Prøv igen."), StatusCode::SERVICE_UNAVAILABLE);
    }
    let Ok(mut url) = url::Url::parse(&endpoints.authorization) else {
        return page(&state, &visitor, &next, Some("Login-tjenestens adresse er ugyldig."), StatusCode::INTERNAL_SERVER_ERROR);
    };
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &endpoints.client_id)
        .append_pair("redirect_uri", &redirect_uri(&state))
        .append_pair("scope", &endpoints.scopes)
        .append_pair("state", &key)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &session::challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    let cookies = Cookies::for_url(&state.public_url);
    let max_age = u64::try_from(SIGN_IN_MINUTES * 60).unwrap_or(600);
    redirect(url.as_str(), &[cookies.set_sign_in(&key, max_age)])
}

/// The provider's answer on `/auth/callback`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`: the code into tokens, the ID token into a session.
pub(crate) async fn callback(State(state): State<AppState>, Extension(visitor): Extension<Visitor>, headers: HeaderMap, query: Result<Query<Callback>, QueryRejection>) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let cookies = Cookies::for_url(&state.public_url);
    let fail = |message: &str, status: StatusCode| {
        let mut resp = page(&state, &visitor, "/", Some(message), status);
        resp.headers_mut().append(header::SET_COOKIE, cookies.clear_sign_in());
        resp
    };
    if let Some(error) = &q.error {
        tracing::warn!(%error, "the provider refused the sign-in");
        return fail("Log ind blev afvist eller afbrudt hos login-tjenesten.", StatusCode::UNAUTHORIZED);
    }
    let (Some(endpoints), Some(store)) = (state.auth.sign_in(), &state.store) else {
        return fail("Log ind med Aarhus Kommunes login er ikke sat op på denne server.", StatusCode::NOT_FOUND);
    };
    let (Some(code), Some(key)) = (q.code.as_deref(), q.state.as_deref()) else {
        return fail("Svaret fra login-tjenesten mangler kode eller tilstand.", StatusCode::BAD_REQUEST);
    };
    // The state must be the one this browser was sent off with (not a link someone else made).
    if !session::csrf_matches(key, cookies.sign_in(&headers).as_deref()) {
        tracing::warn!("a sign-in callback without this browser's state");
        return fail("Log ind kunne ikke bekræftes i denne browser. Start forfra.", StatusCode::BAD_REQUEST);
    }
    let sign_in = match store.take_sign_in(key).await {
        Ok(Some(s)) => s,
        Ok(None) => return fail("Log ind er udløbet eller allerede brugt. Start forfra.", StatusCode::BAD_REQUEST),
        Err(e) => {
            tracing::error!(error = %e, "a sign-in could not be read");
            return fail("Log ind mislykkedes: databasen svarer ikke. Prøv igen.", StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let id_token = match exchange(endpoints, code, &sign_in.verifier, &redirect_uri(&state)).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "the code could not be exchanged");
            return fail("Login-tjenesten udstedte ikke et gyldigt svar. Prøv igen.", StatusCode::BAD_GATEWAY);
        }
    };
    let auth = state.auth.clone();
    let nonce = sign_in.nonce.clone();
    match tokio::task::spawn_blocking(move || auth.verify_id_token(&id_token, &nonce)).await {
        Ok(Ok(principal)) => start_session(&state, &headers, principal, &sign_in.return_to, Some(cookies.clear_sign_in())).await,
        Ok(Err(e)) => {
            tracing::warn!(reason = %e, "an ID token refused");
            fail("Login-tjenestens svar kunne ikke bekræftes.", StatusCode::UNAUTHORIZED)
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            fail("Log ind mislykkedes. Prøv igen.", StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct Tokens {
    id_token: String,
}

/// The ID token for `code`, from the token endpoint (the client authenticated by its secret with
/// HTTP Basic when it has one, by PKCE always).
async fn exchange(endpoints: &SignInEndpoints, code: &str, verifier: &str, redirect_uri: &str) -> Result<String, String> {
    // reqwest's TLS has no built-in crypto provider: ring, as everywhere in the service.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(TOKEN_TIMEOUT_SECS)).build().map_err(|e| e.to_string())?;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("client_id", &endpoints.client_id)
        .append_pair("code_verifier", verifier)
        .finish();
    let mut request = client.post(&endpoints.token).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").header(header::ACCEPT, "application/json").body(body);
    if let Some(secret) = &endpoints.client_secret {
        request = request.basic_auth(&endpoints.client_id, Some(secret));
    }
    let resp = request.send().await.map_err(|e| format!("token endpoint {}: {e}", endpoints.token))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("token endpoint {}: HTTP {status}", endpoints.token));
    }
    let tokens: Tokens = resp.json().await.map_err(|e| format!("token endpoint {}: {e}", endpoints.token))?;
    Ok(tokens.id_token)
}

/// Where the provider sends the browser back.
fn redirect_uri(state: &AppState) -> String {
    format!("{}/auth/callback", state.public_url.trim_end_matches('/'))
}

/// A new session for `principal` (any earlier one of this browser ended), its cookie set, and
/// on to `next`.
async fn start_session(state: &AppState, headers: &HeaderMap, principal: Principal, next: &str, also: Option<HeaderValue>) -> Response {
    let visitor = Visitor { principal: Principal::anonymous(), csrf: None, can_sign_in: true, session_ended: false };
    let Some(store) = &state.store else {
        return page(state, &visitor, next, Some("Log ind kræver serverens database, som ikke er sat op."), StatusCode::SERVICE_UNAVAILABLE);
    };
    let cookies = Cookies::for_url(&state.public_url);
    if let Some(old) = cookies.session(headers) {
        let _ = store.delete_session(&old).await;
    }
    let id = session::secret();
    let hours = i64::try_from(state.session_hours).unwrap_or(24);
    let record = byraad_store::Session { principal: principal.name.clone(), groups: principal.groups.clone(), expires: chrono::Utc::now() + chrono::Duration::hours(hours) };
    if let Err(e) = store.put_session(&id, &record).await {
        tracing::error!(error = %e, "a session could not be stored");
        return page(state, &visitor, next, Some("Log ind mislykkedes: databasen svarer ikke. Prøv igen."), StatusCode::SERVICE_UNAVAILABLE);
    }
    tracing::info!(principal = %principal.name, "signed in");
    let mut set = vec![cookies.set_session(&id, state.session_hours.saturating_mul(3600))];
    set.extend(also);
    let mut resp = redirect(next, &set);
    resp.extensions_mut().insert(SignedIn(principal.name));
    resp
}

/// 303 to `to`, setting `cookies`.
fn redirect(to: &str, cookies: &[HeaderValue]) -> Response {
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The sign-in page, with `error` said first.
fn page(state: &AppState, visitor: &Visitor, next: &str, error: Option<&str>, status: StatusCode) -> Response {
    let mut main = String::from("<h1>Log ind</h1>\n");
    if let Some(e) = error {
        main.push_str(&format!("<p class=\"error\" role=\"alert\">{}</p>\n", escape(e)));
    }
    if visitor.principal.name != byraad_core::ANONYMOUS {
        main.push_str(&format!("<p>Du er logget ind som <strong>{}</strong>.</p>\n", escape(&visitor.principal.name)));
    } else {
        main.push_str("<p>Logget ind ser du også de lukkede dokumenter, du har adgang til. Uden at logge ind ser du kun offentlige dokumenter.</p>\n");
    }
    let next_q = crate::links::encode(next);
    if state.auth.sign_in().is_some() {
        main.push_str(&format!("<p><a class=\"button\" href=\"/auth/login?next={next_q}\">Log ind med Aarhus Kommunes login</a></p>\n"));
    }
    if state.auth.takes_tokens() {
        main.push_str(&format!(
            r#"<form method="post" action="/logind" class="ask">
<label for="token">Adgangsnøgle</label>
<input type="password" id="token" name="token" required autocomplete="current-password">
<input type="hidden" name="next" value="{}">
<button type="submit">Log ind med nøgle</button>
</form>
"#,
            escape(next)
        ));
    }
    if !state.auth.takes_tokens() && state.auth.sign_in().is_none() {
        main.push_str("<p>Log ind er ikke sat op på denne server.</p>\n");
    }
    let mut resp = layout(visitor, "Log ind", "/logind", &main, None);
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
