//! The analysis page (`GET /` and its assets) and `POST /render`, served when `server.ui`
//! is on.
//!
//! # Overview
//!
//! The page is three files built into the binary (`assets/ui/`): `index.html`, `app.js`
//! and `app.css`, plus the pictures' style sheet ([`render::STYLE_SHEET`]). The script
//! calls `/parse` and `/render` and fills the page; it is a file of its own, never inline,
//! so every page response carries a strict [`PAGE_CSP`] (no `unsafe-inline`, nothing from
//! another origin) and `X-Content-Type-Options: nosniff`.
//!
//! `POST /render` ([`RenderRequest`]: `{"text": ..., "style": "dep" | "ent"}`) runs the
//! `/parse` [`Job`] on the same layers (body limit, load shedding, memory zone, NLP
//! workers) and answers the standalone picture: `image/svg+xml` for `dep`, an HTML page for
//! `ent`. Pictures have no script; their [`PICTURE_CSP`] allows only their own inline style
//! sheet. With `"standalone": false` it answers the bare `<svg>` or `<div>`, without style
//! sheet, as the page inserts it (an inline `<style>` would break the page's policy), in
//! the manner of displaCy's `page=False`.

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tracing::instrument;

use super::AppState;
use super::error::{ApiError, AppJson};
use super::parse::{Job, deserialize_object_only};
use super::zone_layer::RequestZone;
use crate::render::{self, Style};

/// The Content-Security-Policy of the page and its assets: scripts, styles and requests
/// from this origin only, no inline script or style, no plugin, frame, form target or base
/// change.
pub(super) const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The Content-Security-Policy of a picture from `POST /render`: its own inline style sheet
/// and nothing else (it has no script).
pub(super) const PICTURE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'";

/// The page's files: path, content type, body.
pub(super) const ASSETS: [(&str, &str, &str); 4] = [
    ("/", "text/html; charset=utf-8", include_str!("../../assets/ui/index.html")),
    ("/ui/app.js", "text/javascript; charset=utf-8", include_str!("../../assets/ui/app.js")),
    ("/ui/app.css", "text/css; charset=utf-8", include_str!("../../assets/ui/app.css")),
    ("/ui/render.css", "text/css; charset=utf-8", render::STYLE_SHEET),
];

/// The body of `POST /render`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub(crate) struct RenderRequest {
    /// The text to draw, checked as `/parse` checks `text`.
    text: String,
    /// Which picture.
    style: Style,
    /// A document of its own (the default), or the bare element for a page to insert.
    #[serde(default = "standalone_by_default")]
    standalone: bool,
}

fn standalone_by_default() -> bool {
    true
}

deserialize_object_only!(RenderRequest);

/// Headers every response of the page and of `/render` carries, beside its content type.
fn security_headers(csp: &'static str) -> [(HeaderName, HeaderValue); 3] {
    [
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    ]
}

/// One of the page's [`ASSETS`].
pub(super) fn asset(content_type: &'static str, body: &'static str) -> Response {
    let content_type = [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))];
    (security_headers(PAGE_CSP), content_type, body).into_response()
}

/// `POST /render`. See the module docs.
#[instrument(skip_all, fields(n_texts, n_chars))]
pub(super) async fn render(
    State(state): State<AppState>,
    zone: RequestZone,
    AppJson(request): AppJson<RenderRequest>,
) -> Result<Response, ApiError> {
    let RenderRequest { text, style, standalone } = request;
    let job = Job::picture(text, style, standalone, &state.settings.limits, state.pipeline())?;
    let mut response = job.respond(&state, zone).await?;
    response.headers_mut().extend(security_headers(PICTURE_CSP));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_requests_need_an_object_with_text_and_style() {
        let ok: RenderRequest =
            serde_json::from_str(r#"{"text": "a", "style": "ent"}"#).expect("valid");
        assert_eq!((ok.text.as_str(), ok.style, ok.standalone), ("a", Style::Ent, true));
        let bare: RenderRequest =
            serde_json::from_str(r#"{"text": "a", "style": "dep", "standalone": false}"#)
                .expect("valid");
        assert!(!bare.standalone);
        for body in [
            r#"{"text": "a"}"#,
            r#"{"style": "dep"}"#,
            r#"{"text": "a", "style": "svg"}"#,
            r#"{"text": null, "style": "dep"}"#,
            r#"{"text": "a", "style": "dep", "standalone": null}"#,
            r#"{"text": "a", "style": "dep", "output": "json"}"#,
            r#"["a", "dep"]"#,
        ] {
            assert!(serde_json::from_str::<RenderRequest>(body).is_err(), "{body}");
        }
    }

    #[test]
    fn the_page_policy_allows_no_inline_code_and_nothing_from_elsewhere() {
        assert!(!PAGE_CSP.contains("unsafe"), "{PAGE_CSP}");
        assert!(!PAGE_CSP.contains("http"), "{PAGE_CSP}");
        assert!(!PICTURE_CSP.contains("script"), "{PICTURE_CSP}");
        for (path, _, body) in ASSETS {
            if path == "/" {
                // The page's only script is the file, and it has no inline handler.
                assert!(body.contains(r#"<script src="/ui/app.js" defer></script>"#));
                assert_eq!(body.matches("<script").count(), 1, "{path}");
                assert!(!has_handler(body), "{path} has an inline event handler");
                assert!(!body.contains("style="), "{path} has an inline style");
            }
        }
    }

    /// Whether `html` has an inline event handler attribute (`onclick="…"`).
    fn has_handler(html: &str) -> bool {
        html.split(|c: char| c.is_whitespace()).any(|word| {
            word.starts_with("on") && word.split_once('=').is_some_and(|(name, _)| name.len() > 2)
        })
    }
}
