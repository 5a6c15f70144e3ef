//! A small OpenID Connect identity provider run by the tests: a discovery document, an
//! authorization endpoint (a page with one button that signs in its one user), a token endpoint
//! that checks the code, the client, the redirect URI and the PKCE verifier (S256) before it
//! issues an RS256-signed ID token, and the JWKS with its public key.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use serde_json::{Value, json};
use sha2::Digest;

/// The client id the service is registered with.
pub const CLIENT_ID: &str = "byraads-gpt-web";

/// A sign-in the provider has approved, waiting for its code to be exchanged.
struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: String,
}

struct Inner {
    issuer: String,
    key: EncodingKey,
    jwks: String,
    user: (String, Vec<String>),
    /// Authorization requests shown, by ticket.
    tickets: HashMap<String, (String, String, Grant)>,
    /// Codes issued, each good once.
    codes: HashMap<String, Grant>,
    counter: u64,
    /// Token requests refused, with why.
    refused: Vec<String>,
}

/// The provider, serving on a free loopback port until the test ends.
#[derive(Clone)]
pub struct Idp {
    inner: Arc<Mutex<Inner>>,
    pub issuer: String,
}

impl Idp {
    /// A provider whose one user is `name` with `groups`.
    pub fn start(name: &str, groups: &[&str]) -> Idp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let rsa = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let key = EncodingKey::from_rsa_der(rsa.to_pkcs1_der().unwrap().as_bytes());
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
        jwk.common.key_id = Some("idp-1".into());
        let jwks = serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap();
        let inner = Inner {
            issuer: issuer.clone(),
            key,
            jwks,
            user: (name.to_string(), groups.iter().map(|g| g.to_string()).collect()),
            tickets: HashMap::new(),
            codes: HashMap::new(),
            counter: 0,
            refused: Vec::new(),
        };
        let idp = Idp { inner: Arc::new(Mutex::new(inner)), issuer };
        let served = idp.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let idp = served.clone();
                std::thread::spawn(move || idp.serve(stream));
            }
        });
        idp
    }

    /// Token requests the provider refused, with why.
    pub fn refused(&self) -> Vec<String> {
        self.inner.lock().unwrap().refused.clone()
    }

    /// The service's configuration for this provider.
    pub fn config(&self) -> String {
        format!("\n[auth.oidc]\nissuer = {:?}\nclient_id = {CLIENT_ID:?}\nleeway_secs = 5\n", self.issuer)
    }

    fn serve(&self, stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            return;
        }
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        let target = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let (status, kind, extra, text) = self.route(path, &form(query), &form(&String::from_utf8_lossy(&body)));
        let mut stream = stream;
        let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n{text}", text.len());
    }

    fn route(&self, path: &str, query: &HashMap<String, String>, body: &HashMap<String, String>) -> (&'static str, &'static str, String, String) {
        let json_kind = "application/json";
        let mut s = self.inner.lock().unwrap();
        match path {
            "/.well-known/openid-configuration" => {
                let i = &s.issuer;
                let doc = json!({"issuer": i, "authorization_endpoint": format!("{i}/authorize"), "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks"),
                    "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"], "id_token_signing_alg_values_supported": ["RS256"]});
                ("200 OK", json_kind, String::new(), doc.to_string())
            }
            "/jwks" => ("200 OK", json_kind, String::new(), s.jwks.clone()),
            "/authorize" => {
                let q = |k: &str| query.get(k).cloned().unwrap_or_default();
                if q("response_type") != "code" || q("client_id") != CLIENT_ID || q("code_challenge_method") != "S256" || q("code_challenge").len() < 43 || q("state").is_empty() || q("nonce").is_empty() || !q("scope").split(' ').any(|x| x == "openid") {
                    return ("400 Bad Request", "text/plain", String::new(), format!("bad authorization request: {query:?}"));
                }
                s.counter += 1;
                let ticket = format!("t{}", s.counter);
                let grant = Grant { redirect_uri: q("redirect_uri"), challenge: q("code_challenge"), nonce: q("nonce") };
                s.tickets.insert(ticket.clone(), (q("redirect_uri"), q("state"), grant));
                let page = format!("<!doctype html><html lang=\"da\"><head><title>Aarhus Kommune login</title></head><body><main><h1>Aarhus Kommune login</h1><p><a id=\"approve\" href=\"/approve?ticket={ticket}\">Log ind som {}</a></p></main></body></html>", s.user.0);
                ("200 OK", "text/html; charset=utf-8", String::new(), page)
            }
            "/approve" => {
                let Some((redirect_uri, state, grant)) = query.get("ticket").and_then(|t| s.tickets.remove(t)) else {
                    return ("400 Bad Request", "text/plain", String::new(), "unknown ticket".into());
                };
                s.counter += 1;
                let code = format!("code-{}-{:016x}", s.counter, rand::random::<u64>());
                s.codes.insert(code.clone(), grant);
                let sep = if redirect_uri.contains('?') { '&' } else { '?' };
                let location = format!("{redirect_uri}{sep}code={}&state={}", enc(&code), enc(&state));
                ("302 Found", "text/plain", format!("location: {location}\r\n"), String::new())
            }
            "/token" => {
                let f = |k: &str| body.get(k).cloned().unwrap_or_default();
                let refuse = |s: &mut Inner, why: String| {
                    s.refused.push(why.clone());
                    ("400 Bad Request", json_kind, String::new(), json!({"error": "invalid_grant", "error_description": why}).to_string())
                };
                if f("grant_type") != "authorization_code" || f("client_id") != CLIENT_ID {
                    return refuse(&mut s, format!("grant_type/client_id: {body:?}"));
                }
                let Some(grant) = s.codes.remove(&f("code")) else {
                    return refuse(&mut s, "unknown or used code".into());
                };
                if grant.redirect_uri != f("redirect_uri") {
                    return refuse(&mut s, "redirect_uri differs".into());
                }
                let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(f("code_verifier").as_bytes()));
                if challenge != grant.challenge {
                    return refuse(&mut s, "PKCE verifier does not match the challenge".into());
                }
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
                let claims = json!({"iss": s.issuer, "aud": CLIENT_ID, "sub": "u-1", "preferred_username": s.user.0, "groups": s.user.1, "nonce": grant.nonce, "iat": now, "exp": now + 300});
                let mut header = Header::new(Algorithm::RS256);
                header.kid = Some("idp-1".into());
                let id_token = jsonwebtoken::encode(&header, &claims, &s.key).unwrap();
                let tokens = json!({"access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": id_token});
                ("200 OK", json_kind, "cache-control: no-store\r\n".into(), tokens.to_string())
            }
            _ => ("404 Not Found", "text/plain", String::new(), "not found".into()),
        }
    }
}

/// `a=1&b=2` decoded.
fn form(s: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The claims of a JWT, unverified (for assertions).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
