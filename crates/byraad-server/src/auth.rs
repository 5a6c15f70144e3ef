//! Who is calling: static bearer tokens (known by their SHA-256) and OIDC/JWT tokens of the
//! intranet's single sign-on, verified against a JWKS; and, for the web page's sign-in, the
//! provider's endpoints from its discovery document and the verification of its ID tokens.
//!
//! A request without `Authorization` is anonymous (public documents only) unless `auth.required`
//! is set; a request with a token that does not verify is refused either way. Tokens are
//! compared as SHA-256 digests in constant time, and never logged.

use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use byraad_core::Principal;
use byraad_core::config::{AuthConfig, OidcConfig};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a request is not authenticated. The reason is for the server's log; the client is told
/// only that its token is missing or not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header, and one is required.
    #[error("no bearer token")]
    Missing,
    /// A token was given and does not verify.
    #[error("token rejected: {0}")]
    Rejected(String),
}

/// Authenticates requests.
pub struct Authenticator {
    required: bool,
    tokens: Vec<StaticToken>,
    oidc: Option<Oidc>,
}

struct StaticToken {
    name: String,
    digest: [u8; 32],
    groups: Vec<String>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("required", &self.required).field("tokens", &self.tokens.len()).field("oidc", &self.oidc.is_some()).finish()
    }
}

impl Default for Authenticator {
    /// Nobody signs in; every request is anonymous.
    fn default() -> Self {
        Self { required: false, tokens: Vec::new(), oidc: None }
    }
}

impl Authenticator {
    /// From `[auth]`: reads the JWKS file, or fetches the JWKS URL once; with the web page's
    /// sign-in configured, fetches the provider's discovery document first (blocking).
    pub fn from_config(config: &AuthConfig) -> Result<Self, String> {
        let tokens = config
            .tokens
            .iter()
            .map(|t| {
                let bytes = hex::decode(t.sha256.trim()).map_err(|e| format!("auth.tokens ({}): sha256: {e}", t.name))?;
                let digest: [u8; 32] = bytes.try_into().map_err(|_| format!("auth.tokens ({}): sha256 must be 32 bytes", t.name))?;
                Ok(StaticToken { name: t.name.clone(), digest, groups: t.groups.clone() })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let oidc = if config.oidc.enabled() { Some(Oidc::new(config.oidc.clone())?) } else { None };
        Ok(Self { required: config.required, tokens, oidc })
    }

    /// Whether every request needs a token.
    pub fn required(&self) -> bool {
        self.required
    }

    /// Whether the sign-in form may take a token: static tokens, or the single sign-on's JWTs.
    pub fn takes_tokens(&self) -> bool {
        !self.tokens.is_empty() || self.oidc.is_some()
    }

    /// The provider's endpoints for the web page's sign-in, when configured.
    pub fn sign_in(&self) -> Option<&SignInEndpoints> {
        self.oidc.as_ref().and_then(|o| o.sign_in.as_ref())
    }

    /// The principal of an ID token from the sign-in's token endpoint: signed by the provider,
    /// issued to this client, carrying `nonce` (may fetch the JWKS again: call it off the runtime).
    pub fn verify_id_token(&self, token: &str, nonce: &str) -> Result<Principal, AuthError> {
        let oidc = self.oidc.as_ref().filter(|o| o.sign_in.is_some()).ok_or_else(|| AuthError::Rejected("no single sign-on is configured".into()))?;
        let client = oidc.config.client_id.trim().to_string();
        let claims = oidc.claims(token, &client)?;
        if claims.get("nonce").and_then(|v| v.as_str()) != Some(nonce) {
            return Err(AuthError::Rejected("the ID token's nonce is not the one sent".into()));
        }
        oidc.principal(&claims)
    }

    /// Whether authenticating may fetch the JWKS URL (blocking I/O: call it off the runtime).
    pub fn may_block(&self) -> bool {
        self.oidc.as_ref().is_some_and(|o| !o.config.jwks_url.trim().is_empty())
    }

    /// The principal of a request with this `Authorization` header value (or none).
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let Some(value) = authorization else {
            return if self.required { Err(AuthError::Missing) } else { Ok(Principal::anonymous()) };
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AuthError::Rejected("the Authorization header is not \"Bearer <token>\"".into()))?;
        if let Some(p) = self.static_token(token) {
            return Ok(p);
        }
        match &self.oidc {
            Some(oidc) if token.matches('.').count() == 2 => oidc.verify(token),
            _ => Err(AuthError::Rejected("unknown token".into())),
        }
    }

    /// The principal of a static token: every configured digest is compared, in constant time,
    /// whether or not an earlier one matched.
    fn static_token(&self, token: &str) -> Option<Principal> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for t in &self.tokens {
            if bool::from(t.digest.ct_eq(&digest)) {
                found = Some(Principal { name: t.name.clone(), groups: t.groups.clone() });
            }
        }
        found
    }
}

/// Signature algorithms accepted from the single sign-on.
const ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

/// The provider's endpoints and this client, for the web page's sign-in.
#[derive(Clone)]
pub struct SignInEndpoints {
    /// Where the member's browser is sent to sign in.
    pub authorization: String,
    /// Where the code is exchanged for tokens.
    pub token: String,
    /// This client's id.
    pub client_id: String,
    /// This client's secret (a confidential client), if any.
    pub client_secret: Option<String>,
    /// Scopes asked for.
    pub scopes: String,
}

impl std::fmt::Debug for SignInEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInEndpoints")
            .field("authorization", &self.authorization)
            .field("token", &self.token)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// What the discovery document says that sign-in needs.
#[derive(serde::Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// An endpoint of the provider: HTTPS, or HTTP on a loopback host only (a provider on the same
/// machine); anything else would send codes and tokens in the clear.
fn secure_endpoint(what: &str, url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("auth.oidc: the discovery document's {what} {url:?}: {e}"))?;
    let host = parsed.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback());
    if parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback) {
        Ok(())
    } else {
        Err(format!("auth.oidc: the discovery document's {what} {url:?} is not https"))
    }
}

/// OIDC/JWT verification against a JWKS.
struct Oidc {
    config: OidcConfig,
    keys: RwLock<Vec<Jwk>>,
    /// When `jwks_url` was last fetched.
    fetched: Mutex<Option<Instant>>,
    /// The web page's sign-in, when configured.
    sign_in: Option<SignInEndpoints>,
}

impl Oidc {
    fn new(mut config: OidcConfig) -> Result<Self, String> {
        let sign_in = if config.sign_in() { Some(Self::discover(&mut config)?) } else { None };
        let oidc = Self { config, keys: RwLock::new(Vec::new()), fetched: Mutex::new(None), sign_in };
        let keys = oidc.load()?;
        if keys.is_empty() {
            return Err(format!("auth.oidc: the JWKS ({}) holds no RSA or P-256 key", oidc.source()));
        }
        *oidc.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
        Ok(oidc)
    }

    /// The provider's endpoints from its discovery document; the issuer, JWKS URL and audience
    /// not configured are taken from it (the audience: the client id).
    fn discover(config: &mut OidcConfig) -> Result<SignInEndpoints, String> {
        let url = config.discovery();
        let text = fetch("auth.oidc discovery", &url)?;
        let d: Discovery = serde_json::from_str(&text).map_err(|e| format!("auth.oidc: the discovery document {url} is not one: {e}"))?;
        let configured = config.issuer.trim().trim_end_matches('/');
        if !configured.is_empty() && configured != d.issuer.trim_end_matches('/') {
            return Err(format!("auth.oidc: the discovery document {url} names the issuer {:?}, not {configured:?}", d.issuer));
        }
        for (what, endpoint) in [("authorization_endpoint", &d.authorization_endpoint), ("token_endpoint", &d.token_endpoint), ("jwks_uri", &d.jwks_uri)] {
            secure_endpoint(what, endpoint)?;
        }
        config.issuer = d.issuer;
        if config.jwks_file.trim().is_empty() && config.jwks_url.trim().is_empty() {
            config.jwks_url = d.jwks_uri;
        }
        if config.audience.trim().is_empty() {
            config.audience = config.client_id.trim().to_string();
        }
        let client_secret = match config.client_secret_env.trim() {
            "" => None,
            var => Some(std::env::var(var).map_err(|_| format!("auth.oidc.client_secret_env: the environment variable {var} is not set"))?),
        };
        Ok(SignInEndpoints { authorization: d.authorization_endpoint, token: d.token_endpoint, client_id: config.client_id.trim().to_string(), client_secret, scopes: config.scopes.trim().to_string() })
    }

    fn source(&self) -> &str {
        if self.config.jwks_file.trim().is_empty() { &self.config.jwks_url } else { &self.config.jwks_file }
    }

    /// The JWKS's usable keys (RSA and P-256), from the file or the URL.
    fn load(&self) -> Result<Vec<Jwk>, String> {
        let text = if !self.config.jwks_file.trim().is_empty() {
            std::fs::read_to_string(self.config.jwks_file.trim()).map_err(|e| format!("auth.oidc.jwks_file {}: {e}", self.config.jwks_file))?
        } else {
            *self.fetched.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
            fetch("auth.oidc.jwks_url", &self.config.jwks_url)?
        };
        let set: JwkSet = serde_json::from_str(&text).map_err(|e| format!("auth.oidc: the JWKS ({}) is not a JWK set: {e}", self.source()))?;
        Ok(set.keys.into_iter().filter(|k| matches!(k.algorithm, AlgorithmParameters::RSA(_) | AlgorithmParameters::EllipticCurve(_))).collect())
    }

    /// The key for `kid` (or the only key, for a token without one); an unknown key id fetches
    /// the JWKS URL again, at most once per `jwks_refresh_secs` (keys are rotated).
    fn key(&self, kid: Option<&str>) -> Option<Jwk> {
        let find = |keys: &[Jwk]| match kid {
            Some(kid) => keys.iter().find(|k| k.common.key_id.as_deref() == Some(kid)).cloned(),
            None if keys.len() == 1 => keys.first().cloned(),
            None => None,
        };
        if let Some(k) = find(&self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner)) {
            return Some(k);
        }
        let due = !self.config.jwks_url.trim().is_empty()
            && self.fetched.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_none_or(|t| t.elapsed() >= Duration::from_secs(self.config.jwks_refresh_secs));
        if !due {
            return None;
        }
        match self.load() {
            Ok(keys) if !keys.is_empty() => {
                tracing::info!(keys = keys.len(), "JWKS fetched again for an unknown key id");
                let found = find(&keys);
                *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
                found
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "JWKS could not be fetched again");
                None
            }
        }
    }

    fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let claims = self.claims(token, self.config.audience.trim())?;
        self.principal(&claims)
    }

    /// The claims of `token`, signed by a JWKS key, issued by the issuer to `audience`, and
    /// current.
    fn claims(&self, token: &str, audience: &str) -> Result<serde_json::Value, AuthError> {
        let reject = |m: String| AuthError::Rejected(m);
        let header = jsonwebtoken::decode_header(token).map_err(|e| reject(format!("not a JWT: {e}")))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(reject(format!("algorithm {:?} is not accepted (RS256, ES256)", header.alg)));
        }
        let jwk = self.key(header.kid.as_deref()).ok_or_else(|| reject(format!("no key {:?} in the JWKS", header.kid)))?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| reject(format!("JWKS key: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.config.issuer.trim()]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.config.leeway_secs;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).map_err(|e| reject(format!("JWT: {e}")))?;
        Ok(data.claims)
    }

    /// The principal `claims` name, with its groups.
    fn principal(&self, claims: &serde_json::Value) -> Result<Principal, AuthError> {
        let reject = |m: String| AuthError::Rejected(m);
        let name = claims
            .get(&self.config.name_claim)
            .and_then(|v| v.as_str())
            .or_else(|| claims.get("sub").and_then(|v| v.as_str()))
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| reject(format!("no {:?} or \"sub\" claim", self.config.name_claim)))?;
        let groups = match claims.get(&self.config.groups_claim) {
            Some(serde_json::Value::Array(items)) => items.iter().filter_map(|g| g.as_str().map(str::to_string)).collect(),
            Some(serde_json::Value::String(g)) => vec![g.clone()],
            _ => Vec::new(),
        };
        Ok(Principal { name: name.to_string(), groups })
    }
}

/// Seconds a JWKS fetch may take.
const JWKS_TIMEOUT_SECS: u64 = 10;

/// The body of `url` (blocking).
fn fetch(what: &str, url: &str) -> Result<String, String> {
    // reqwest's TLS has no built-in crypto provider: ring, as everywhere in the service.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(JWKS_TIMEOUT_SECS)).build().map_err(|e| format!("{what}: {e}"))?;
    let resp = client.get(url).send().map_err(|e| format!("{what} {url}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("{what} {url}: HTTP {}", resp.status()));
    }
    resp.text().map_err(|e| format!("{what} {url}: {e}"))
}

#[cfg(test)]
mod tests {
    use byraad_core::config::TokenConfig;

    use super::*;

    fn config(required: bool) -> AuthConfig {
        let mut c = byraad_core::config::Config::default().auth;
        c.required = required;
        c.tokens = vec![
            TokenConfig { name: "medlem".into(), sha256: hex::encode(Sha256::digest(b"hemmelig-1")), groups: vec!["byraadet".into()] },
            TokenConfig { name: "sekretariat".into(), sha256: hex::encode(Sha256::digest(b"hemmelig-2")).to_uppercase(), groups: vec![] },
        ];
        c
    }

    #[test]
    fn static_tokens_name_their_principal() {
        let auth = Authenticator::from_config(&config(true)).unwrap();
        let p = auth.authenticate(Some("Bearer hemmelig-1")).unwrap();
        assert_eq!((p.name.as_str(), p.groups.as_slice()), ("medlem", &["byraadet".to_string()][..]));
        assert_eq!(auth.authenticate(Some("Bearer hemmelig-2")).unwrap().name, "sekretariat", "hex digits in either case");
        assert_eq!(auth.authenticate(None), Err(AuthError::Missing));
        assert!(matches!(auth.authenticate(Some("Bearer hemmelig-3")), Err(AuthError::Rejected(_))));
        assert!(matches!(auth.authenticate(Some("Basic aGVtbWVsaWctMQ==")), Err(AuthError::Rejected(_))));
        assert!(matches!(auth.authenticate(Some("Bearer ")), Err(AuthError::Rejected(_))));
        // A JWT-shaped token without OIDC configured is an unknown token.
        assert!(matches!(auth.authenticate(Some("Bearer a.b.c")), Err(AuthError::Rejected(_))));
    }

    #[test]
    fn without_required_auth_no_token_is_anonymous_but_a_wrong_one_is_refused() {
        let auth = Authenticator::from_config(&config(false)).unwrap();
        assert_eq!(auth.authenticate(None).unwrap(), Principal::anonymous());
        assert!(auth.authenticate(Some("Bearer forkert")).is_err());
        assert!(format!("{auth:?}").contains("tokens: 2"));
    }

    #[test]
    fn a_missing_jwks_file_is_a_start_error_naming_it() {
        let mut c = config(true);
        c.oidc.jwks_file = "/nonexistent/jwks.json".into();
        c.oidc.issuer = "https://sso".into();
        c.oidc.audience = "byraad".into();
        let err = Authenticator::from_config(&c).unwrap_err();
        assert!(err.contains("/nonexistent/jwks.json"), "{err}");
    }
}
