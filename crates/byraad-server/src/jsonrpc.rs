//! JSON-RPC's own errors at `/mcp`, for the messages the MCP transport would otherwise refuse
//! with a bare HTTP status or a wrong code: a body that is not JSON is a parse error (-32700),
//! a batch or a message that is not JSON-RPC an invalid request (-32600; MCP does not take
//! batches), and a known method with parameters of the wrong shape invalid params (-32602),
//! where the transport answered 415 or "method not found" (-32601). Each with HTTP 400 and the
//! request's id where it has one, as the Streamable HTTP transport prescribes.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{CallToolRequestParams, ClientJsonRpcMessage, InitializeRequestParams, PaginatedRequestParams};
use serde_json::{Value, json};

/// JSON-RPC's code for a body that is not JSON.
pub(crate) const PARSE_ERROR: i64 = -32700;
/// JSON-RPC's code for JSON that is not a request.
pub(crate) const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC's code for parameters a method does not take.
pub(crate) const INVALID_PARAMS: i64 = -32602;

/// Answers a POSTed message the MCP transport cannot take with JSON-RPC's error for it; passes
/// the rest on. The body was received whole by `limits::bounds`.
pub(crate) async fn checked(req: Request, next: Next) -> Response {
    // What is not a POST of JSON is the transport's to answer (405, 415).
    let json = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if req.method() != Method::POST || !json {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return error(Value::Null, PARSE_ERROR, "the request body could not be read".into());
    };
    if let Err((id, code, message)) = check(&bytes) {
        return error(id, code, message);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// `Ok` for a message the transport takes; else the id, code and message of its error.
fn check(bytes: &[u8]) -> Result<(), (Value, i64, String)> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| (Value::Null, PARSE_ERROR, format!("Parse error: the body is not JSON ({e})")))?;
    let object = match &value {
        Value::Object(o) => o,
        Value::Array(_) => return Err((Value::Null, INVALID_REQUEST, "Invalid Request: batches are not supported; send one message per request".into())),
        _ => return Err((Value::Null, INVALID_REQUEST, "Invalid Request: expected a JSON-RPC message (an object)".into())),
    };
    let id = object.get("id").filter(|id| id.is_string() || id.is_number()).cloned().unwrap_or(Value::Null);
    if let Some(method) = object.get("method").and_then(Value::as_str) {
        let params = object.get("params").filter(|p| !p.is_null()).cloned().unwrap_or_else(|| json!({}));
        let shape = match method {
            "initialize" => serde_json::from_value::<InitializeRequestParams>(params).map(drop),
            "tools/call" => serde_json::from_value::<CallToolRequestParams>(params).map(drop),
            "tools/list" => serde_json::from_value::<PaginatedRequestParams>(params).map(drop),
            _ => Ok(()),
        };
        shape.map_err(|e| (id.clone(), INVALID_PARAMS, format!("Invalid params for {method}: {e}")))?;
    }
    serde_json::from_value::<ClientJsonRpcMessage>(value.clone()).map_err(|e| (id, INVALID_REQUEST, format!("Invalid Request: not a JSON-RPC 2.0 message ({e})")))?;
    Ok(())
}

fn error(id: Value, code: i64, message: String) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> Option<i64> {
        check(body.as_bytes()).err().map(|(_, code, _)| code)
    }

    #[test]
    fn each_bad_message_gets_its_json_rpc_code() {
        assert_eq!(code("{\"jsonrpc\": \"2.0\", \"id\": 1,"), Some(PARSE_ERROR));
        assert_eq!(code("not json"), Some(PARSE_ERROR));
        assert_eq!(code("[{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"ping\"}]"), Some(INVALID_REQUEST));
        assert_eq!(code("42"), Some(INVALID_REQUEST));
        let bad_params = r#"{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"arguments": {"query": "x"}}}"#;
        assert_eq!(check(bad_params.as_bytes()).err().map(|(id, code, _)| (id, code)), Some((json!(7), INVALID_PARAMS)), "a call without the tool's name");
        assert_eq!(code(r#"{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "search", "arguments": {"query": "x"}}}"#), None);
        assert_eq!(code(r#"{"jsonrpc": "2.0", "id": 3, "method": "tools/list"}"#), None);
        assert_eq!(code(r#"{"jsonrpc": "2.0", "method": "notifications/initialized"}"#), None);
    }
}
