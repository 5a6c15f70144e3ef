//! The JSON body of a request: an object (never an array or a scalar a struct would also
//! accept), with `Content-Type: application/json`, received within the body timeout, within the
//! size limit.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::{ApiError, AppState};

/// A request body that is a JSON object deserialised into `T`.
pub(crate) struct JsonObject<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonObject<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| { let v = v.trim(); v == "application/json" || v.ends_with("+json") });
        if !json {
            return Err(ApiError::BadRequest("expected a JSON body with Content-Type: application/json".into()));
        }
        let timeout = state.request_limits.body_timeout;
        let bytes = match tokio::time::timeout(timeout, Bytes::from_request(req, state)).await {
            Err(_) => return Err(ApiError::BodyTimeout(timeout.as_secs())),
            Ok(Err(r)) if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => return Err(ApiError::TooLarge(state.max_body_bytes)),
            Ok(Err(r)) => return Err(ApiError::BadRequest(format!("the request body could not be read: {}", r.body_text()))),
            Ok(Ok(bytes)) => bytes,
        };
        if std::str::from_utf8(&bytes).is_err() {
            return Err(ApiError::BadRequest("the request body is not valid UTF-8".into()));
        }
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => {}
            None => return Err(ApiError::BadRequest("the request body is empty; expected a JSON object".into())),
            Some(_) => return Err(ApiError::BadRequest("the request body must be a JSON object ({...})".into())),
        }
        let Json(value) = Json::<T>::from_bytes(&bytes)?;
        Ok(Self(value))
    }
}
