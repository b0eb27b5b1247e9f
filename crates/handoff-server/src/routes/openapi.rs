//! `GET /v1/openapi.json`: the hand-written OpenAPI 3 document of this server.

use axum::http::header;
use axum::response::IntoResponse;

/// The document, embedded at build time.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// `GET /v1/openapi.json`
pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::ROUTES;

    #[test]
    fn every_route_is_in_the_document() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid json");
        for (method, path) in ROUTES {
            assert!(doc["paths"][path][method].is_object(), "{method} {path} is missing from openapi.json");
        }
        let documented: usize =
            doc["paths"].as_object().expect("paths").values().map(|p| p.as_object().map_or(0, |o| o.len())).sum();
        assert_eq!(documented, ROUTES.len(), "openapi.json documents a route the router lacks");
    }
}
