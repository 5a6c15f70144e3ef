//! The MCP server at `/mcp` (Streamable HTTP, the official Rust SDK `rmcp`): the archive as
//! tools for the intranet's AI platform (AarhusAI / Open WebUI), Copilot, Claude and ChatGPT
//! connectors.
//!
//! Tools: `search`, `fetch` (the pair ChatGPT's connectors and deep research expect), `ask`,
//! `lookup_rule`, `search_inquiries`, `draft_inquiry`, `get_case` (a case's treatments in date order),
//! `get_meeting` (a meeting's items, cases and decisions), `get_draft` (a stored draft, as the caller
//! may read it). Names, descriptions and argument schemas
//! are in Danish where a model reads them. Bad arguments (an unknown kind or body, a bad date, a
//! missing question) are tool results with `isError: true` naming what is wrong and what is
//! allowed, never a transport failure. Every call runs as the request's principal (the same
//! bearer token or OIDC JWT as the API, checked by the same middleware), with its clearance
//! inside retrieval, and is written to the audit log (`mcp <tool>`, the arguments' query, the
//! documents returned and cited) before its result is sent. Each hit and citation is a content
//! item of its own with title, URL (opening the passage), page and quote, and the whole result
//! is also structured content.

use std::sync::Arc;

use byraad_core::{ChatRequest, Clearance, Filters, Kind, Message, ChatRole, Principal, SearchRequest};
use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, InitializeResult, ListToolsResult, PaginatedRequestParams, ServerCapabilities, Tool, ToolAnnotations};
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServerHandler};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::links::{original_url, passage_url};
use crate::{AppState, AuditInfo};

/// Most hits a search tool returns.
const MAX_LIMIT: usize = 20;

/// The MCP service mounted at `/mcp`.
pub fn service(state: AppState) -> StreamableHttpService<Tools, LocalSessionManager> {
    let mut config = StreamableHttpServerConfig::default();
    // DNS rebinding: a browser's Origin must be one of the configured ones (none by default).
    config.allowed_origins = state.mcp_origins.clone();
    if config.allowed_origins.is_empty() {
        config = config.enforce_origin_validation();
    }
    config.allowed_hosts = allowed_hosts(&state.public_url);
    config.max_request_body_bytes = state.max_body_bytes;
    StreamableHttpService::new(move || Ok(Tools { state: state.clone() }), LocalSessionManager::default().into(), config)
}

/// The hosts requests may name: loopback, and the public URL's host.
fn allowed_hosts(public_url: &str) -> Vec<String> {
    let mut hosts = vec!["localhost".to_string(), "127.0.0.1".to_string(), "[::1]".to_string(), "::1".to_string()];
    let authority = public_url.split("://").nth(1).unwrap_or(public_url).split('/').next().unwrap_or_default();
    let host = authority.rsplit_once(':').filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit())).map_or(authority, |(h, _)| h);
    if !host.is_empty() && !hosts.iter().any(|h| h == host) {
        hosts.push(host.to_string());
    }
    hosts
}

/// The tools, for one session.
#[derive(Clone)]
pub struct Tools {
    state: AppState,
}

/// Filters of the archive, as a model gives them.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(description = "Afgrænsning: dokumenttyper, organer, datoer og sagsnummer.")]
struct FilterArgs {
    /// Kun disse dokumenttyper: dagsorden, referat, bilag, betaenkning, lov, haandbog, notat, henvendelse, forespoergsel, oversigt.
    #[serde(default)]
    kind: Vec<String>,
    /// Kun dokumenter fra disse organer (byråd, udvalg), fx "Teknisk Udvalg".
    #[serde(default)]
    body: Vec<String>,
    /// Kun dokumenter dateret denne dag eller senere (ÅÅÅÅ-MM-DD).
    date_from: Option<String>,
    /// Kun dokumenter dateret denne dag eller før (ÅÅÅÅ-MM-DD).
    date_to: Option<String>,
    /// Kun dette sagsnummer (EMN-ÅÅÅÅ-NNNNNN).
    case: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    /// Hvad der søges efter, med almindelige ord.
    query: String,
    /// Afgrænsning af søgningen.
    #[serde(default)]
    filters: Option<FilterArgs>,
    /// Højst så mange resultater (1-20, standard 8).
    limit: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CaseArgs {
    /// Sagsnummeret, fx »22-011409« (search giver det som case).
    case: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FetchArgs {
    /// Dokumentets id, som søgningen gav det.
    id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AskArgs {
    /// Spørgsmålet til arkivet, på dansk.
    question: String,
    /// Afgrænsning af de kilder, svaret må bygge på.
    #[serde(default)]
    filters: Option<FilterArgs>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RuleArgs {
    /// En henvisning ("§ 20, stk. 6", "KL § 9") eller et spørgsmål med egne ord ("må jeg stemme om min kones forening?").
    query: String,
    /// Kun dette regelsæt, fx "kommunestyrelsesloven" eller "forretningsorden".
    law: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct InquiryArgs {
    /// Hvad forespørgslen handler om.
    query: String,
    /// Kun forespørgsler fra dette parti, fx "SF".
    party: Option<String>,
    /// Kun forespørgsler besvaret af denne magistratsafdeling, fx "Teknik og Miljø".
    addressee: Option<String>,
    /// Kun besvarelser dateret denne dag eller senere (ÅÅÅÅ-MM-DD).
    date_from: Option<String>,
    /// Kun besvarelser dateret denne dag eller før (ÅÅÅÅ-MM-DD).
    date_to: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DraftArgs {
    /// Byrådsmedlemmet, der stiller forespørgslen.
    member: String,
    /// Medlemmets parti.
    party: String,
    /// Hvad medlemmet vil vide, med egne ord.
    text: String,
    /// Forespørgslens dato (ÅÅÅÅ-MM-DD); standard i dag.
    date: Option<String>,
    /// Modtageren: BA, MBU, MKB, MSB, MSO, MTM eller fri tekst; standard efter arkivet.
    addressee: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct GetDraftArgs {
    /// Udkastets id, som draft_inquiry gav det.
    id: String,
}

/// A tool's description and its arguments' schema.
fn tool<T: JsonSchema>(name: &'static str, title: &str, description: &'static str) -> Tool {
    let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_else(|_| json!({"type": "object"}));
    let schema = schema.as_object().cloned().unwrap_or_default();
    let mut tool = Tool::new(name, description, Arc::new(schema));
    tool.title = Some(title.to_string());
    tool.annotations = Some(ToolAnnotations::from_raw(Some(title.to_string()), Some(name != "draft_inquiry"), Some(false), Some(true), Some(false)));
    tool
}

fn tools() -> Vec<Tool> {
    vec![
        tool::<SearchArgs>("search", "Søg i arkivet", "Søger i Aarhus Byråds arkiv (dagsordener, referater, bilag, betænkninger, regler, forespørgsler) og giver de bedste passager med titel, dato, organ, punkt, side, teksten og en URL, der åbner dokumentet ved passagen."),
        tool::<FetchArgs>("fetch", "Hent dokument", "Henter et helt dokument fra arkivet med dets metadata ud fra id'et, som search gav."),
        tool::<AskArgs>("ask", "Spørg arkivet", "Besvarer et spørgsmål ud fra arkivet med ordrette citater og kildehenvisninger, eller siger, at arkivet ikke indeholder svaret."),
        tool::<RuleArgs>("lookup_rule", "Slå en regel op", "Finder bestemmelsen i kommunestyrelsesloven eller byrådets egne regler, ud fra en henvisning eller et spørgsmål med egne ord, med henvisning, ordlyd og de stykker, der fuldender den."),
        tool::<InquiryArgs>("search_inquiries", "Søg i tidligere forespørgsler", "Søger i tidligere 10-dages forespørgsler og deres svar."),
        tool::<DraftArgs>("draft_inquiry", "Udkast til forespørgsel", "Skriver et udkast til en 10-dages forespørgsel ud fra medlemmets egne ord: modtager, svarfrist, nummererede spørgsmål, hvad arkivet allerede siger, advarsler, og en URL til Word-dokumentet."),
        tool::<CaseArgs>("get_case", "Sagsforløb", "Viser en sags forløb: hvert møde, der har behandlet sagen (fagudvalg, Økonomiudvalget, Byrådet), i datoorden med indstilling og beslutning. Følg sagsnumre: en sags seneste behandling rummer sjældent hele historien."),
        tool::<FetchArgs>("get_meeting", "Hent møde", "Henter et møde (dagsorden eller referat) ud fra dets id: udvalg, dato og hvert punkt med nummer, titel, sagsnummer og beslutning."),
        tool::<GetDraftArgs>("get_draft", "Hent udkast", "Henter et gemt udkast til en forespørgsel (eget eller partiets) ud fra dets id, uden det fra arkivet, som du ikke har adgang til."),
    ]
}

impl ServerHandler for Tools {
    fn get_info(&self) -> InitializeResult {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("byraads-gpt", env!("CARGO_PKG_VERSION")))
            .with_instructions("byråds-GPT: Aarhus Byråds arkiv, regler og forespørgsler. Brug search og fetch til at finde dokumenter, ask til citerede svar, lookup_rule til regler og draft_inquiry til udkast til 10-dages forespørgsler. Citér kun det, værktøjerne giver, og vis kilderne.")
    }

    async fn list_tools(&self, _: Option<PaginatedRequestParams>, _: RequestContext<RoleServer>) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, ErrorData> {
        let principal = context.extensions.get::<axum::http::request::Parts>().and_then(|p| p.extensions.get::<Principal>()).cloned().unwrap_or_else(Principal::anonymous);
        let started = std::time::Instant::now();
        let args = Value::Object(request.arguments.unwrap_or_default());
        let name = request.name.to_string();
        let outcome = self.run(&name, args, principal.clone()).await;
        let (result, info, status) = match outcome {
            Ok((result, info)) => (result, info, 200),
            Err(message) => (CallToolResult::error(vec![ContentBlock::text(message)]), AuditInfo::default(), 400),
        };
        // Recorded before it is sent; a result that cannot be recorded is not sent.
        let audit = self.state.audit.clone();
        let entry = audit.entry(&principal.name, &format!("mcp {name}"), info, status, u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        let written = tokio::task::spawn_blocking(move || audit.write(&entry)).await.map_err(|e| e.to_string()).and_then(|r| r);
        if written.is_err() {
            return Ok(CallToolResult::error(vec![ContentBlock::text("Revisionsloggen kan ikke skrives; resultatet holdes tilbage.")]).into());
        }
        Ok(result.into())
    }
}

/// Parses `args` as `T`, or says in Danish what is wrong.
fn parse<T: for<'de> Deserialize<'de>>(tool: &str, args: Value) -> Result<T, String> {
    serde_json::from_value(args).map_err(|e| format!("Ugyldige argumenter til {tool}: {e}"))
}

impl Tools {
    /// Runs tool `name` for `principal`: its result and what the audit log records, or an error
    /// message for the model.
    async fn run(&self, name: &str, args: Value, principal: Principal) -> Result<(CallToolResult, AuditInfo), String> {
        let state = self.state.clone();
        let clearance = principal.clearance();
        let base = state.public_url.clone();
        match name {
            "search" => {
                let a: SearchArgs = parse(name, args)?;
                let query = nonempty("query", &a.query)?;
                let limit = a.limit.unwrap_or(8);
                if !(1..=MAX_LIMIT).contains(&limit) {
                    return Err(format!("limit skal være mellem 1 og {MAX_LIMIT}, ikke {limit}."));
                }
                let filters = self.filters(a.filters, &clearance).await?;
                let req = SearchRequest { query: query.clone(), limit: Some(limit), filters, mode: None, clearance };
                let search = state.search.clone();
                let found = blocking(move || search.search(&req)).await?;
                let items: Vec<Value> = found.hits.iter().map(|h| hit_json(&base, h)).collect();
                let mut content = vec![ContentBlock::text(format!("{} resultater for »{query}«.", items.len()))];
                content.extend(items.iter().map(item_text));
                let info = AuditInfo::query(query).returned(found.hits.iter().map(|h| h.doc_id.as_str()));
                Ok((structured(content, json!({"results": items})), info))
            }
            "fetch" => {
                let a: FetchArgs = parse(name, args)?;
                let id = nonempty("id", &a.id)?;
                let doc = readable_document(&state, &id, clearance).await?.ok_or_else(|| format!("Intet dokument med id »{id}«."))?;
                let m = &doc.meta;
                let value = json!({
                    "id": m.doc_id, "title": m.title, "text": doc.text, "url": passage_url(&base, &m.doc_id, None),
                    "metadata": {"kind": m.kind.as_str(), "body": m.body, "date": m.date.map(|d| d.to_string()), "source": m.source, "original": original_url(&base, &m.doc_id, None), "pages": doc.page_breaks.len() + 1},
                });
                let content = vec![ContentBlock::text(format!("{} ({}{})\n{}\n\n{}", m.title, m.kind.as_str(), m.date.map(|d| format!(", {d}")).unwrap_or_default(), passage_url(&base, &m.doc_id, None), doc.text))];
                Ok((structured(content, value), AuditInfo::query(id.clone()).returned([id.as_str()])))
            }
            "ask" => {
                let a: AskArgs = parse(name, args)?;
                let question = nonempty("question", &a.question)?;
                let filters = self.filters(a.filters, &clearance).await?;
                let service = state.chat.clone().ok_or("Svar er ikke sat op på denne server.")?;
                let req = ChatRequest { messages: vec![Message { role: ChatRole::User, content: question.clone() }], filters, clearance, ..ChatRequest::default() };
                let resp = blocking(move || service.chat(&req, &mut crate::handler::Discard)).await?.ok_or("Svaret blev afbrudt.")?;
                let citations: Vec<Value> = resp
                    .citations
                    .iter()
                    .map(|c| json!({"n": c.n, "title": c.title, "doc_id": c.doc_id, "item": c.item, "page": c.page, "date": c.date, "quote": c.quote, "url": passage_url(&base, &c.doc_id, Some(c.span)), "original": original_url(&base, &c.doc_id, c.page)}))
                    .collect();
                let mut content = vec![ContentBlock::text(resp.answer.clone())];
                content.extend(citations.iter().map(|c| ContentBlock::text(format!("[{}] {}{}: »{}«\n{}", c["n"], c["title"].as_str().unwrap_or_default(), c["page"].as_u64().map(|p| format!(", s. {p}")).unwrap_or_default(), c["quote"].as_str().unwrap_or_default(), c["url"].as_str().unwrap_or_default()))));
                let value = json!({"answer": resp.answer, "abstained": resp.abstained, "mode": resp.mode, "citations": citations, "warning": resp.warning});
                Ok((structured(content, value), crate::handler::chat_audit(question, &resp)))
            }
            "lookup_rule" => {
                let a: RuleArgs = parse(name, args)?;
                let query = nonempty("query", &a.query)?;
                let rules = state.rules.clone().ok_or("Regelopslag er ikke sat op på denne server.")?;
                let limit = state.rules_limit;
                let q = query.clone();
                let law = a.law.clone();
                let found = tokio::task::spawn_blocking(move || rules.lookup(&q, limit, law.as_deref(), &clearance)).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
                let items: Vec<Value> = found.iter().map(|p| json!({"citation": p.citation, "lead": p.lead, "text": p.text, "completed_by": p.completed_by, "title": p.title, "doc_id": p.doc_id, "url": passage_url(&base, &p.doc_id, Some(p.span))})).collect();
                let mut content = vec![ContentBlock::text(format!("{} bestemmelser for »{query}«.", items.len()))];
                content.extend(found.iter().map(|p| ContentBlock::text(format!("{}\n{}\n{}", p.lead, p.text, passage_url(&base, &p.doc_id, Some(p.span))))));
                Ok((structured(content, json!({"results": items})), AuditInfo::query(query).returned(found.iter().map(|p| p.doc_id.as_str()))))
            }
            "search_inquiries" => {
                let a: InquiryArgs = parse(name, args)?;
                let query = nonempty("query", &a.query)?;
                let mut filters = Filters { kind: vec![Kind::Forespoergsel], date_from: a.date_from, date_to: a.date_to, ..Filters::default() };
                filters.date_from().and_then(|_| filters.date_to()).map_err(|e| e.to_string())?;
                if let Some(addressee) = a.addressee.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    let department = byraad_inquiry::Department::by_code(addressee).map_or(addressee.to_string(), |d| d.name.to_string());
                    filters.body = vec![department];
                }
                let req = SearchRequest { query: query.clone(), limit: Some(MAX_LIMIT), filters, mode: None, clearance };
                let search = state.search.clone();
                let found = blocking(move || search.search(&req)).await?;
                let party = a.party.as_deref().map(|p| format!("fra {} ", p.trim().to_lowercase()));
                let hits: Vec<&byraad_core::Hit> = found.hits.iter().filter(|h| party.as_ref().is_none_or(|p| h.title.to_lowercase().contains(p.as_str()))).take(8).collect();
                let items: Vec<Value> = hits.iter().map(|h| hit_json(&base, h)).collect();
                let mut content = vec![ContentBlock::text(format!("{} tidligere forespørgsler for »{query}«.", items.len()))];
                content.extend(items.iter().map(item_text));
                Ok((structured(content, json!({"results": items})), AuditInfo::query(query).returned(hits.iter().map(|h| h.doc_id.as_str()))))
            }
            "draft_inquiry" => {
                let a: DraftArgs = parse(name, args)?;
                let mut req = byraad_inquiry::DraftRequest { member: a.member, party: a.party, text: a.text, date: a.date, addressee: a.addressee, clearance: clearance.clone() };
                let date = req.validate(chrono::Local::now().date_naive()).map_err(|e| e.to_string())?;
                let service = state.inquiries.clone().ok_or("Udkast er ikke sat op på denne server.")?;
                req.clearance = clearance;
                let (text, party) = (req.text.clone(), req.party.clone());
                let draft = tokio::task::spawn_blocking(move || service.draft(&req, date)).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
                let drafts = state.drafts.clone().ok_or("Udkast gemmes ikke på denne server (ingen database).")?;
                let id = drafts.put(&principal, &party, &draft).await.map_err(|e| e.to_string())?;
                let info = AuditInfo::query(text).cited(draft.related.iter().map(|r| r.doc_id.as_str()));
                Ok((draft_result(&base, &id, &draft), info))
            }
            "get_draft" => {
                let a: GetDraftArgs = parse(name, args)?;
                let id = nonempty("id", &a.id)?;
                let unknown = || format!("Intet udkast med id »{id}«.");
                let drafts = state.drafts.clone().ok_or_else(unknown)?;
                // Another party's draft is answered exactly like an unknown one.
                let draft = drafts.get(&id, &principal, state.search.clone()).await.map_err(|e| e.to_string())?.ok_or_else(unknown)?;
                let info = AuditInfo::query(id.clone()).cited(draft.related.iter().map(|r| r.doc_id.as_str())).returned(draft.sources());
                Ok((draft_result(&base, &id, &draft), info))
            }
            "get_case" => {
                let a: CaseArgs = parse(name, args)?;
                let case = nonempty("case", &a.case)?;
                let history = crate::cases::history(&state, &case, &principal).await.map_err(|e| e.to_string())?.ok_or_else(|| format!("Intet møde har behandlet sag »{case}«."))?;
                let treatments: Vec<Value> = history.treatments.iter().map(|t| json!({"title": t.title, "body": t.body, "date": t.date, "kind": t.kind.as_str(), "item": t.item, "heading": t.heading, "recommendation": t.recommendation, "decision": t.decision, "doc_id": t.doc_id, "url": passage_url(&base, &t.doc_id, Some(t.span))})).collect();
                let mut content = vec![ContentBlock::text(format!("Sag {case} er behandlet på {} møder.", treatments.len()))];
                content.extend(history.treatments.iter().map(|t| ContentBlock::text(format!("{} ({}){}{}\n{}", t.title, t.heading, t.recommendation.as_deref().map(|r| format!("\nIndstilling: {r}")).unwrap_or_default(), t.decision.as_deref().map(|d| format!("\nBeslutning: {d}")).unwrap_or_default(), passage_url(&base, &t.doc_id, Some(t.span))))));
                let info = AuditInfo::query(case.clone()).returned(history.treatments.iter().map(|t| t.doc_id.as_str()));
                Ok((structured(content, json!({"case": case, "treatments": treatments})), info))
            }
            "get_meeting" => {
                let a: FetchArgs = parse(name, args)?;
                let id = nonempty("id", &a.id)?;
                let doc = readable_document(&state, &id, clearance).await?.ok_or_else(|| format!("Intet møde med id »{id}«."))?;
                let m = &doc.meta;
                let items: Vec<Value> = doc
                    .sections
                    .iter()
                    .filter(|s| s.item.is_some())
                    .map(|s| {
                        let text = &doc.text[s.span.start..s.span.end];
                        let decision = if s.closed { None } else { byraad_core::case::sub_section(text, "Beslutning") };
                        json!({"item": s.item, "title": s.heading.join(" › "), "case": s.case, "closed": s.closed, "decision": decision, "url": passage_url(&base, &m.doc_id, Some(s.span))})
                    })
                    .collect();
                let mut content = vec![ContentBlock::text(format!("{} ({}{}), {} punkter\n{}", m.title, m.kind.as_str(), m.date.map(|d| format!(", {d}")).unwrap_or_default(), items.len(), passage_url(&base, &m.doc_id, None)))];
                content.extend(items.iter().map(|i| ContentBlock::text(format!("{}{}{}", i["title"].as_str().unwrap_or_default(), i["case"].as_str().map(|c| format!(" (sag {c})")).unwrap_or_default(), i["decision"].as_str().map(|d| format!("\nBeslutning: {d}")).unwrap_or_default()))));
                let value = json!({"id": m.doc_id, "title": m.title, "body": m.body, "date": m.date.map(|d| d.to_string()), "kind": m.kind.as_str(), "items": items, "url": passage_url(&base, &m.doc_id, None)});
                Ok((structured(content, value), AuditInfo::query(id.clone()).returned([id.as_str()])))
            }
            other => Err(format!("Intet værktøj hedder »{other}«; værktøjerne er search, fetch, ask, lookup_rule, search_inquiries, draft_inquiry, get_case, get_meeting og get_draft.")),
        }
    }

    /// `args` as retrieval filters, checked: kinds and bodies must exist (an unknown value is an
    /// error naming the allowed ones, never an unfiltered search), dates must be dates.
    async fn filters(&self, args: Option<FilterArgs>, clearance: &Clearance) -> Result<Filters, String> {
        let Some(a) = args else { return Ok(Filters::default()) };
        let mut kinds = Vec::new();
        for k in &a.kind {
            let kind = k.parse::<Kind>().map_err(|_| format!("kind »{k}« findes ikke; de mulige er: {}.", Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")))?;
            kinds.push(kind);
        }
        if !a.body.is_empty() {
            let search = self.state.search.clone();
            let c = clearance.clone();
            let bodies = blocking(move || search.bodies(&c)).await?;
            for b in &a.body {
                if !bodies.iter().any(|known| known.eq_ignore_ascii_case(b.trim())) {
                    return Err(format!("body »{b}« findes ikke; de mulige er: {}.", bodies.join(", ")));
                }
            }
        }
        let filters = Filters { kind: kinds, body: a.body, date_from: a.date_from, date_to: a.date_to, case: a.case };
        filters.date_from().and_then(|_| filters.date_to()).map_err(|e| e.to_string())?;
        Ok(filters)
    }
}

/// The document `id` as `clearance` may read it: one it may not read is answered exactly like an
/// unknown one (`None`).
async fn readable_document(state: &AppState, id: &str, clearance: Clearance) -> Result<Option<byraad_core::Document>, String> {
    let (search, id) = (state.search.clone(), id.to_string());
    blocking(move || search.document(&id, &clearance)).await
}

fn nonempty(field: &str, value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() { Err(format!("{field} må ikke være tom.")) } else { Ok(v.to_string()) }
}

/// Runs retrieval work off the async workers, its error as a message.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> byraad_index::Result<T> + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())
}

/// A hit as a tool result shows it.
fn hit_json(base: &str, h: &byraad_core::Hit) -> Value {
    json!({
        "id": h.doc_id, "chunk_id": h.chunk_id, "title": h.title, "kind": h.kind.as_str(), "date": h.date, "body": h.body, "item": h.item, "page": h.page,
        "case": h.case, "heading": h.heading, "text": h.text, "url": passage_url(base, &h.doc_id, Some(h.span)), "original": original_url(base, &h.doc_id, h.page), "also": h.also,
    })
}

/// A hit as a content item of its own.
fn item_text(v: &Value) -> ContentBlock {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    let mut head = s("title");
    for (k, prefix) in [("date", ", "), ("body", ", "), ("item", ", punkt ")] {
        if let Some(x) = v[k].as_str().filter(|x| !x.is_empty()) {
            head.push_str(prefix);
            head.push_str(x);
        }
    }
    if let Some(p) = v["page"].as_u64() {
        head.push_str(&format!(", s. {p}"));
    }
    ContentBlock::text(format!("{head}\n{}\n\n{}", s("url"), s("text")))
}

/// A draft as a tool result: its Markdown and the address of its Word document, and the whole
/// draft as structured content.
fn draft_result(base: &str, id: &str, draft: &byraad_inquiry::DraftResponse) -> CallToolResult {
    let docx = format!("{base}/v1/inquiries/drafts/{id}.docx");
    let value = json!({"id": id, "docx_url": docx, "markdown": draft.markdown, "draft": draft.draft, "addressee": draft.addressee, "warnings": draft.warnings, "related": draft.related});
    structured(vec![ContentBlock::text(draft.markdown.clone()), ContentBlock::text(format!("Word-dokument: {docx}"))], value)
}

/// A result with `content` items and the same as structured content.
fn structured(content: Vec<ContentBlock>, value: Value) -> CallToolResult {
    let mut result = CallToolResult::success(content);
    result.structured_content = Some(value);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_loopback_and_the_public_one() {
        assert!(allowed_hosts("https://byraadsgpt.intra.aarhus.dk").contains(&"byraadsgpt.intra.aarhus.dk".to_string()));
        assert!(allowed_hosts("http://127.0.0.1:8080").contains(&"127.0.0.1".to_string()));
    }

    #[test]
    fn every_tool_has_a_danish_description_and_an_object_schema() {
        let tools = tools();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, ["search", "fetch", "ask", "lookup_rule", "search_inquiries", "draft_inquiry", "get_case", "get_meeting", "get_draft"]);
        for t in &tools {
            assert_eq!(t.input_schema.get("type").and_then(Value::as_str), Some("object"), "{}", t.name);
            assert!(t.input_schema.get("properties").is_some(), "{}", t.name);
        }
        assert!(parse::<SearchArgs>("search", json!({"query": "x", "limitt": 3})).unwrap_err().contains("limitt"));
    }
}
