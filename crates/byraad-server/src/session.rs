//! Sessions of the web page: a member signed in (with a token or the single sign-on) carries a
//! session cookie whose id is a 256-bit secret, looked up in the store (only its digest is
//! stored). The cookie is HttpOnly and SameSite=Lax, Secure (and `__Host-` named) when the
//! service is served over HTTPS. A state-changing request made with the cookie must carry the
//! session's CSRF token (`X-CSRF-Token`, or the form's `csrf` field), derived from the secret
//! id: a page of another site can neither read nor guess it.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use byraad_core::Principal;
use rand::RngCore as _;
use sha2::Digest;
use subtle::ConstantTimeEq;

/// The session cookie's name over HTTP (local use).
const COOKIE: &str = "byraad_session";
/// Its name over HTTPS: a `__Host-` cookie is Secure, for this host only, on every path.
const SECURE_COOKIE: &str = "__Host-byraad_session";
/// The cookie binding a single sign-on under way to the browser that started it.
const SIGN_IN_COOKIE: &str = "byraad_sign_in";
const SECURE_SIGN_IN_COOKIE: &str = "__Host-byraad_sign_in";
/// The header carrying the CSRF token.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// Who is looking at a page: the principal, and the session's CSRF token when signed in with a
/// session (a bearer token needs none).
#[derive(Debug, Clone)]
pub(crate) struct Visitor {
    /// Who it is.
    pub principal: Principal,
    /// The session's CSRF token, when the request came with a session cookie.
    pub csrf: Option<String>,
    /// Whether this service offers signing in (tokens or the single sign-on).
    pub can_sign_in: bool,
    /// The request came with a session that has ended (unused too long, or expired): the page
    /// says so, and the cookie is cleared.
    pub session_ended: bool,
}

/// A new secret: 32 random bytes from the operating system, URL-safe base64.
pub(crate) fn secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The PKCE code challenge of `verifier` (S256).
pub(crate) fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The CSRF token of the session `id`.
pub(crate) fn csrf_of(id: &str) -> String {
    let mut h = sha2::Sha256::new();
    h.update(b"byraad csrf\0");
    h.update(id.as_bytes());
    hex::encode(h.finalize())
}

/// Whether `given` is the CSRF token of a session whose token is `expected` (constant time).
pub(crate) fn csrf_matches(expected: &str, given: Option<&str>) -> bool {
    given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(expected.as_bytes())))
}

/// The cookie names, by whether the service is served over HTTPS.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cookies {
    secure: bool,
}

impl Cookies {
    /// Cookies of a service opened at `public_url`.
    pub fn for_url(public_url: &str) -> Self {
        Self { secure: public_url.trim().to_ascii_lowercase().starts_with("https://") }
    }

    fn session_name(self) -> &'static str {
        if self.secure { SECURE_COOKIE } else { COOKIE }
    }

    fn sign_in_name(self) -> &'static str {
        if self.secure { SECURE_SIGN_IN_COOKIE } else { SIGN_IN_COOKIE }
    }

    /// The session id a request carries, if any.
    pub fn session(self, headers: &HeaderMap) -> Option<String> {
        cookie(headers, self.session_name())
    }

    /// The sign-in state a request carries, if any.
    pub fn sign_in(self, headers: &HeaderMap) -> Option<String> {
        cookie(headers, self.sign_in_name())
    }

    /// `Set-Cookie` for the session `id`, lasting `max_age_secs`.
    pub fn set_session(self, id: &str, max_age_secs: u64) -> HeaderValue {
        self.set(self.session_name(), id, max_age_secs)
    }

    /// `Set-Cookie` ending the session cookie.
    pub fn clear_session(self) -> HeaderValue {
        self.set(self.session_name(), "", 0)
    }

    /// `Set-Cookie` for a sign-in under way with `state`, lasting `max_age_secs`.
    pub fn set_sign_in(self, state: &str, max_age_secs: u64) -> HeaderValue {
        self.set(self.sign_in_name(), state, max_age_secs)
    }

    /// `Set-Cookie` ending the sign-in cookie.
    pub fn clear_sign_in(self) -> HeaderValue {
        self.set(self.sign_in_name(), "", 0)
    }

    fn set(self, name: &str, value: &str, max_age_secs: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        // Values are URL-safe base64: nothing to quote.
        HeaderValue::from_str(&format!("{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}")).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
    }
}

/// The value of the cookie `name` in the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// Whether a form post comes from this service's own pages (a sign-in form posted from another
/// site is refused): the browser's `Sec-Fetch-Site` says so where it is sent; otherwise the
/// `Origin`, when it is a real one, is the request's own host. (The pages' `no-referrer` policy
/// makes browsers send `Origin: null` on their own form posts.)
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("null");
    if origin == "null" {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map_or("", |(_, h)| h);
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// Where to go after signing in: a path of this service, or the front page.
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(char::is_control) && p.len() <= 2048 => p.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_lax_and_secure_over_https() {
        let local = Cookies::for_url("http://127.0.0.1:8080");
        let v = local.set_session("abc", 3600);
        assert_eq!(v.to_str().unwrap(), "byraad_session=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax");
        let public = Cookies::for_url("https://byraadsgpt.intra.aarhus.dk");
        let v = public.set_session("abc", 60);
        assert_eq!(v.to_str().unwrap(), "__Host-byraad_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; __Host-byraad_session=xyz; b=2"));
        assert_eq!(public.session(&headers).as_deref(), Some("xyz"));
        assert_eq!(local.session(&headers), None, "the HTTP name is another cookie");
    }

    #[test]
    fn secrets_are_new_each_time_and_csrf_tokens_belong_to_their_session() {
        let (a, b) = (secret(), secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(csrf_matches(&csrf_of(&a), Some(&csrf_of(&a))));
        assert!(!csrf_matches(&csrf_of(&a), Some(&csrf_of(&b))));
        assert!(!csrf_matches(&csrf_of(&a), None));
        // RFC 7636, appendix B.
        assert_eq!(challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn only_local_paths_are_followed_and_foreign_origins_refused() {
        assert_eq!(local_path(Some("/sog?q=x")), "/sog?q=x");
        for bad in ["//evil.example/", "https://evil.example/", "/\\evil", "javascript:alert(1)"] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h), "no Origin: not a cross-site browser post");
        h.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h), "a browser says where the post comes from");
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_origin(&h));
    }
}
