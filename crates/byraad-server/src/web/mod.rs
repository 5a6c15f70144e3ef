//! The members' own page at `/` (Danish): ask the archive and read where the answer comes from.
//! Server-rendered HTML with one stylesheet and one script, embedded in the binary and served
//! under their content hash (cached for good, a new build a new URL); a strict
//! Content-Security-Policy (no inline script or style) and the same security headers on every
//! response of the server.

use std::sync::LazyLock;

use axum::extract::{Extension, Path, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::Digest;

use crate::ApiError;
use crate::session::Visitor;

mod rules;
mod search;
mod signin;

pub(crate) use rules::rules_page;
pub(crate) use search::search_page;
pub(crate) use signin::{callback, sign_in_page, sign_in_with_token, sign_out, single_sign_on};

/// An embedded asset: its bytes, content type and hashed file name.
struct Asset {
    bytes: &'static [u8],
    kind: &'static str,
    name: String,
}

impl Asset {
    fn new(stem: &str, ext: &str, bytes: &'static [u8], kind: &'static str) -> Self {
        let hash = hex::encode(&sha2::Sha256::digest(bytes)[..6]);
        Self { bytes, kind, name: format!("{stem}.{hash}.{ext}") }
    }
}

static ASSETS: LazyLock<[Asset; 3]> = LazyLock::new(|| {
    [
        Asset::new("app", "css", include_bytes!("../../assets/app.css"), "text/css; charset=utf-8"),
        Asset::new("app", "js", include_bytes!("../../assets/app.js"), "text/javascript; charset=utf-8"),
        Asset::new("draft", "js", include_bytes!("../../assets/draft.js"), "text/javascript; charset=utf-8"),
    ]
});

/// The policy of the server's own pages: scripts and styles from this origin only, nothing
/// inline, no framing.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A page of the site: the header with its menu (`current` marked) and who is signed in, then
/// `main`.
pub(crate) fn layout(visitor: &Visitor, title: &str, current: &str, main: &str, script: Option<&str>) -> Response {
    let [css, _, _] = &*ASSETS;
    let nav: String = [("/", "Spørg"), ("/sog", "Søg"), ("/regler", "Regler"), ("/forespoergsel", "Forespørgsel")]
        .iter()
        .map(|(href, name)| {
            let here = if *href == current { " aria-current=\"page\"" } else { "" };
            format!("<li><a href=\"{href}\"{here}>{name}</a></li>")
        })
        .collect();
    let script = script
        .and_then(|stem| ASSETS.iter().find(|a| a.name.starts_with(&format!("{stem}.")) && a.name.ends_with(".js")))
        .map(|js| format!("<script src=\"/assets/{}\" defer></script>\n", js.name))
        .unwrap_or_default();
    let account = account(visitor, current);
    let csrf = visitor.csrf.as_deref().map(|t| format!("<meta name=\"csrf-token\" content=\"{t}\">\n")).unwrap_or_default();
    let ended = if visitor.session_ended {
        "<p class=\"notice\" role=\"status\">Du er blevet logget ud, fordi din session er udløbet. Log ind igen for at se de lukkede dokumenter, du har adgang til.</p>\n"
    } else {
        ""
    };
    let html = format!(
        r##"<!doctype html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – byråds-GPT</title>
<link rel="stylesheet" href="/assets/{css}">
{csrf}{script}</head>
<body>
<a class="skip" href="#indhold">Gå til indhold</a>
<header>
<p class="brand">byråds-GPT</p>
<nav aria-label="Hovedmenu"><ul>{nav}</ul></nav>
{account}</header>
<main id="indhold">
{ended}{main}
</main>
</body>
</html>
"##,
        title = escape(title),
        css = css.name,
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], html).into_response()
}

/// Who is signed in, with the sign-out button; or the way to sign in.
fn account(visitor: &Visitor, current: &str) -> String {
    let name = &visitor.principal.name;
    match &visitor.csrf {
        Some(csrf) => format!(
            "<form class=\"account\" method=\"post\" action=\"/logud\"><span>Logget ind som <strong>{}</strong></span><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\" class=\"link\">Log ud</button></form>\n",
            escape(name)
        ),
        None if name != byraad_core::ANONYMOUS => format!("<p class=\"account\">Logget ind som <strong>{}</strong></p>\n", escape(name)),
        None if visitor.can_sign_in && current != "/logind" => "<p class=\"account\"><a href=\"/logind\">Log ind</a></p>\n".to_string(),
        None => String::new(),
    }
}

/// `text` safe inside HTML text and attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The ask page.
pub(crate) async fn index(Extension(visitor): Extension<Visitor>) -> Response {
    let main = r#"<h1>Spørg arkivet</h1>
<p>Svarene citerer dagsordener, referater, bilag og regler ordret, med et link til stedet i dokumentet. Står svaret ikke i arkivet, siger byråds-GPT det.</p>
<div id="conversation"></div>
<form id="ask-form" class="ask">
<label for="question">Dit spørgsmål</label>
<textarea id="question" name="question" rows="3" maxlength="4000" required placeholder="Fx: Hvornår skal dagsordenen sendes ud?"></textarea>
<button type="submit">Spørg</button>
</form>
<p id="status" class="status" role="status" aria-live="polite"></p>"#;
    layout(&visitor, "Spørg arkivet", "/", main, Some("app"))
}

/// The forespørgsel page: the member's words in, the draft out.
pub(crate) async fn draft_page(Extension(visitor): Extension<Visitor>) -> Response {
    let today = chrono::Local::now().date_naive();
    let main = format!(
        r#"<h1>Skriv en 10-dages forespørgsel</h1>
<p>Skriv med dine egne ord, hvad du vil vide. byråds-GPT finder den rette modtager, beregner svarfristen, stiller spørgsmålene præcist og viser først, hvad arkivet allerede siger.</p>
<form id="draft-form" class="ask">
<div class="filters">
<div><label for="member">Dit navn</label><input type="text" id="member" name="member" required maxlength="200" autocomplete="name"></div>
<div><label for="party">Parti</label><input type="text" id="party" name="party" required maxlength="200"></div>
<div><label for="date">Dato</label><input type="date" id="date" name="date" value="{today}"></div>
<div><label for="addressee">Modtager (valgfri)</label><input type="text" id="addressee" name="addressee" maxlength="200" placeholder="Fx MTM; tom: fra arkivet"></div>
</div>
<label for="text">Hvad vil du vide?</label>
<textarea id="text" name="text" rows="5" required maxlength="4000"></textarea>
<button type="submit">Skriv udkast</button>
</form>
<p id="status" class="status" role="status" aria-live="polite"></p>
<section id="draft" aria-live="polite"></section>"#
    );
    layout(&visitor, "Forespørgsel", "/forespoergsel", &main, Some("draft"))
}

/// An embedded asset by its hashed name, cached for good.
pub(crate) async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    let asset = ASSETS.iter().find(|a| a.name == file).ok_or_else(|| ApiError::NotFound(format!("no asset {file:?}")))?;
    Ok(([(header::CONTENT_TYPE, asset.kind), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")], asset.bytes).into_response())
}

/// The security headers of every response: a Content-Security-Policy (the page's own policy
/// unless a handler set a stricter one), no MIME sniffing, no referrer, no framing.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_named_by_their_content() {
        let [css, js, _] = &*ASSETS;
        assert!(css.name.starts_with("app.") && css.name.ends_with(".css") && css.name.len() == "app..css".len() + 12, "{}", css.name);
        assert_ne!(css.name, js.name);
    }
}
