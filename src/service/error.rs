//! Errors of the HTTP API and the JSON extractor that reports in their format.
//!
//! # Overview
//!
//! Every error the service answers goes through [`ApiError`]: one `match`
//! ([`ApiError::status_and_code`]) gives its status and stable `code`, and the body is always
//! `{"error": {"code": "...", "message": "..."}}`. [`AppJson`] is axum's `Json` extractor
//! with its rejections converted into `ApiError`, so malformed JSON, a wrong content type or
//! an oversized body are reported in the same format. Responses carry an [`ErrorCode`]
//! extension so the metrics middleware can count errors by code without parsing bodies.

use std::time::Duration;

use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use thiserror::Error;
use tower::BoxError;

/// An error answered by the API.
#[derive(Debug, Error)]
pub(crate) enum ApiError {
    /// Occurs when the body is not well-formed JSON (bad syntax, invalid UTF-8, a lone
    /// surrogate in a `\u` escape).
    #[error("{0}")]
    MalformedJson(String),
    /// Occurs when the body cannot be read (the client stopped sending, say).
    #[error("{0}")]
    BadBody(String),
    /// Occurs when the next piece of the body does not arrive within
    /// `server.body_timeout_secs`.
    #[error("the request body stopped arriving; send it whole, without pauses")]
    BodyTimeout,
    /// Occurs when the request lacks `Content-Type: application/json`.
    #[error("expected a request with `Content-Type: application/json`")]
    UnsupportedMediaType,
    /// Occurs when the body is larger than `limits.max_body_bytes`.
    #[error("the request body is larger than this server accepts")]
    PayloadTooLarge,
    /// Occurs when the JSON does not fit the request schema (unknown field, wrong type, both
    /// `text` and `texts`…).
    #[error("{0}")]
    InvalidField(String),
    /// Occurs when the request has neither `text` nor any of `texts`.
    #[error("the request needs `text` (a string) or `texts` (a non-empty array of strings)")]
    MissingText,
    /// Occurs when a text is the empty string.
    #[error("{} is empty", describe_text(*index))]
    EmptyText {
        /// Position in `texts`, or `None` for `text`.
        index: Option<usize>,
    },
    /// Occurs when a text has more characters than `limits.max_text_chars`.
    #[error("{} has {chars} characters; the limit is {limit}", describe_text(*index))]
    TextTooLong {
        /// Position in `texts`, or `None` for `text`.
        index: Option<usize>,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        limit: usize,
    },
    /// Occurs when `texts` holds more than `limits.max_batch_texts` texts.
    #[error("`texts` holds {count} texts; the limit is {limit}")]
    TooManyTexts {
        /// How many were sent.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Occurs when `components` names a component the pipeline lacks.
    #[error("unknown component `{name}`; this pipeline has: [{available}]")]
    UnknownComponent {
        /// The requested name.
        name: String,
        /// The pipeline's components, comma-separated.
        available: String,
    },
    /// Occurs when no route matches the path.
    #[error("no route matches this path; see openapi.yaml")]
    NotFound,
    /// Occurs when the route exists but not for this method.
    #[error("this route does not accept this method; see openapi.yaml")]
    MethodNotAllowed,
    /// Occurs when every worker is busy and the queue is full.
    #[error("the server is at capacity; retry later")]
    Overloaded {
        /// Sent as `Retry-After`.
        retry_after: Duration,
    },
    /// Occurs when a request takes longer than `server.request_timeout_secs`.
    #[error("the request took longer than this server allows")]
    Timeout,
    /// Occurs on a bug (a panic, a failed invariant). The cause is logged, not answered.
    #[error("internal error")]
    Internal(String),
}

fn describe_text(index: Option<usize>) -> String {
    index.map_or_else(|| "`text`".to_owned(), |i| format!("`texts[{i}]`"))
}

/// The `code` of an error response, attached to it as a response extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ErrorCode(pub(crate) &'static str);

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    /// The HTTP status and stable error code of this error.
    pub(crate) fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Self::BadBody(_) => (StatusCode::BAD_REQUEST, "bad_body"),
            Self::BodyTimeout => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::InvalidField(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            Self::MissingText => (StatusCode::UNPROCESSABLE_ENTITY, "missing_text"),
            Self::EmptyText { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "empty_text"),
            Self::TextTooLong { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "text_too_long"),
            Self::TooManyTexts { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "too_many_texts"),
            Self::UnknownComponent { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unknown_component")
            }
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            Self::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// Classifies an error raised by a tower middleware (timeout, load shedding).
    pub(crate) fn from_middleware(err: &BoxError, retry_after: Duration) -> Self {
        if err.is::<tower::timeout::error::Elapsed>() {
            Self::Timeout
        } else if err.is::<tower::load_shed::error::Overloaded>() {
            Self::Overloaded { retry_after }
        } else {
            Self::Internal(format!("middleware failed: {err}"))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::Internal(cause) = &self {
            tracing::error!(cause = %cause, "internal error");
        }
        let message = self.to_string();
        let body = ErrorBody { error: ErrorDetail { code, message: &message } };
        let mut response = (status, axum::Json(body)).into_response();
        if let Self::Overloaded { retry_after } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs()));
        }
        response.extensions_mut().insert(ErrorCode(code));
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonSyntaxError(err) => Self::MalformedJson(err.body_text()),
            JsonRejection::JsonDataError(err) => Self::InvalidField(err.body_text()),
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            JsonRejection::BytesRejection(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge
            }
            JsonRejection::BytesRejection(err) => Self::BadBody(err.body_text()),
            other => Self::Internal(format!("unexpected JSON rejection: {}", other.body_text())),
        }
    }
}

/// axum's `Json` extractor, rejecting in the API's error format.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub(crate) struct AppJson<T>(pub(crate) T);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_distinct_code_and_a_fitting_status() {
        let cases = [
            (ApiError::MalformedJson("x".into()), 400),
            (ApiError::BadBody("x".into()), 400),
            (ApiError::BodyTimeout, 408),
            (ApiError::UnsupportedMediaType, 415),
            (ApiError::PayloadTooLarge, 413),
            (ApiError::InvalidField("x".into()), 422),
            (ApiError::MissingText, 422),
            (ApiError::EmptyText { index: None }, 422),
            (ApiError::TextTooLong { index: Some(1), chars: 9, limit: 8 }, 422),
            (ApiError::TooManyTexts { count: 9, limit: 8 }, 422),
            (ApiError::UnknownComponent { name: "x".into(), available: String::new() }, 422),
            (ApiError::NotFound, 404),
            (ApiError::MethodNotAllowed, 405),
            (ApiError::Overloaded { retry_after: Duration::from_secs(1) }, 503),
            (ApiError::Timeout, 504),
            (ApiError::Internal("x".into()), 500),
        ];
        let mut codes: Vec<_> = cases.iter().map(|(e, _)| e.status_and_code().1).collect();
        for (error, status) in &cases {
            assert_eq!(error.status_and_code().0.as_u16(), *status, "{error:?}");
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), cases.len());
    }

    #[test]
    fn messages_name_the_offending_text() {
        let cases = [
            (ApiError::EmptyText { index: None }, "`text` is empty"),
            (ApiError::EmptyText { index: Some(3) }, "`texts[3]` is empty"),
            (
                ApiError::TextTooLong { index: Some(0), chars: 12, limit: 10 },
                "`texts[0]` has 12 characters; the limit is 10",
            ),
            (ApiError::Internal("secret cause".into()), "internal error"),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn responses_carry_code_extension_and_retry_after() {
        let response = ApiError::Overloaded { retry_after: Duration::from_secs(2) }.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        assert_eq!(response.extensions().get::<ErrorCode>(), Some(&ErrorCode("overloaded")));
    }

    #[test]
    fn middleware_errors_are_classified() {
        let second = Duration::from_secs(1);
        let elapsed: BoxError = Box::new(tower::timeout::error::Elapsed::new());
        let shed: BoxError = Box::new(tower::load_shed::error::Overloaded::new());
        let other: BoxError = "boom".into();
        assert!(matches!(ApiError::from_middleware(&elapsed, second), ApiError::Timeout));
        assert!(matches!(ApiError::from_middleware(&shed, second), ApiError::Overloaded { .. }));
        assert!(matches!(ApiError::from_middleware(&other, second), ApiError::Internal(_)));
    }
}
