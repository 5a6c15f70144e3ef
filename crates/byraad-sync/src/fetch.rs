//! HTTP as a polite client: conditional requests (ETag, Last-Modified), robots.txt read once per
//! host and obeyed, at most one request per host per delay, a size limit on every body.

use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use texting_robots::Robot;

use crate::sources::Settings;

/// What a conditional GET gave.
#[derive(Debug)]
pub enum Fetched {
    /// 200: the body and its validators.
    Body { bytes: Vec<u8>, content_type: Option<String>, etag: Option<String>, last_modified: Option<String> },
    /// 304: unchanged since the validators sent.
    NotModified,
    /// 404 or 410: the source is gone.
    Gone,
    /// robots.txt does not allow it.
    Disallowed,
    /// Anything else (a timeout, a 5xx, a refused connection, a body over the limit): the
    /// previous copy is kept.
    Failed(String),
}

/// Validators of the copy held.
#[derive(Debug, Default, Clone)]
pub struct Validators {
    /// The ETag the server gave.
    pub etag: Option<String>,
    /// The Last-Modified the server gave.
    pub last_modified: Option<String>,
}

/// What robots.txt says for one host.
enum Rules {
    /// Parsed rules.
    Robot(Box<Robot>),
    /// No robots.txt (4xx): everything allowed.
    AllowAll,
    /// robots.txt could not be read (5xx, timeout): nothing is fetched from the host this run.
    Unreachable(String),
}

/// The client of one sync run.
pub struct Fetcher {
    client: reqwest::blocking::Client,
    agent: String,
    delay: Duration,
    max_bytes: u64,
    robots: HashMap<String, Rules>,
    last: HashMap<String, Instant>,
    /// Requests sent this run, robots.txt included.
    pub requests: usize,
    /// Bytes of the bodies received this run.
    pub bytes: u64,
}

impl Fetcher {
    /// A client with `settings`' agent, timeout, delay and size limit.
    pub fn new(settings: &Settings) -> Result<Self, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .user_agent(settings.user_agent.clone())
            .timeout(Duration::from_secs_f64(settings.timeout_secs))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            agent: settings.user_agent.clone(),
            delay: Duration::from_millis(settings.delay_ms),
            max_bytes: settings.max_file_mib << 20,
            robots: HashMap::new(),
            last: HashMap::new(),
            requests: 0,
            bytes: 0,
        })
    }

    /// GET `url`, conditional on `validators`, if robots.txt allows it.
    pub fn get(&mut self, url: &url::Url, validators: &Validators) -> Fetched {
        let host = host_key(url);
        if !self.robots.contains_key(&host) {
            let rules = self.read_robots(url);
            self.robots.insert(host.clone(), rules);
        }
        match self.robots.get(&host) {
            Some(Rules::Robot(robot)) if !robot.allowed(url.as_str()) => return Fetched::Disallowed,
            Some(Rules::Unreachable(why)) => return Fetched::Failed(format!("robots.txt of {host} could not be read ({why}): nothing fetched from it")),
            _ => {}
        }
        let mut request = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, lm);
        }
        self.pace(&host);
        let response = match request.send() {
            Ok(r) => r,
            Err(e) => return Fetched::Failed(describe(&e)),
        };
        match response.status() {
            StatusCode::NOT_MODIFIED => Fetched::NotModified,
            StatusCode::NOT_FOUND | StatusCode::GONE => Fetched::Gone,
            s if s.is_success() => {
                let header = |name| response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_string);
                let (content_type, etag, last_modified) = (header(CONTENT_TYPE), header(ETAG), header(LAST_MODIFIED));
                let mut bytes = Vec::new();
                match response.take(self.max_bytes + 1).read_to_end(&mut bytes) {
                    Ok(_) if bytes.len() as u64 > self.max_bytes => Fetched::Failed(format!("larger than the limit of {} MiB", self.max_bytes >> 20)),
                    Ok(_) => {
                        self.bytes += bytes.len() as u64;
                        Fetched::Body { bytes, content_type, etag, last_modified }
                    }
                    Err(e) => Fetched::Failed(format!("reading the body: {e}")),
                }
            }
            s => Fetched::Failed(format!("HTTP {s}")),
        }
    }

    /// Waits until this host's delay (or its Crawl-delay, when longer) has passed since the last
    /// request to it.
    fn pace(&mut self, host: &str) {
        let crawl_delay = match self.robots.get(host) {
            Some(Rules::Robot(r)) => r.delay.map(|d| Duration::from_secs_f32(d.clamp(0.0, 60.0))),
            _ => None,
        };
        let delay = crawl_delay.map_or(self.delay, |d| d.max(self.delay));
        if let Some(last) = self.last.get(host) {
            let wait = delay.saturating_sub(last.elapsed());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        }
        self.last.insert(host.to_string(), Instant::now());
        self.requests += 1;
    }

    fn read_robots(&mut self, url: &url::Url) -> Rules {
        let host = host_key(url);
        let Ok(robots_url) = url.join("/robots.txt") else { return Rules::AllowAll };
        self.pace(&host);
        match self.client.get(robots_url).send() {
            Ok(r) if r.status().is_success() => {
                let mut body = Vec::new();
                if let Err(e) = r.take(512 * 1024).read_to_end(&mut body) {
                    return Rules::Unreachable(e.to_string());
                }
                match Robot::new(&self.agent, &body) {
                    Ok(robot) => Rules::Robot(Box::new(robot)),
                    // Unparseable rules are no rules (as search engines read them).
                    Err(_) => Rules::AllowAll,
                }
            }
            Ok(r) if r.status().is_client_error() => Rules::AllowAll,
            Ok(r) => Rules::Unreachable(format!("HTTP {}", r.status())),
            Err(e) => Rules::Unreachable(describe(&e)),
        }
    }
}

/// scheme://host:port, the unit of robots.txt and of pacing.
fn host_key(url: &url::Url) -> String {
    format!("{}://{}:{}", url.scheme(), url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        format!("cannot connect: {e}")
    } else {
        e.to_string()
    }
}
