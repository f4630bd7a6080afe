//! The public transparency log (issue 5): signed checkpoints, inclusion and consistency
//! proofs, leaf hashes (never leaf data), the platform's public keys and TSA certificates.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use offerte::log::{self, ConsistencyProof, InclusionProof, PublicLeaf};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(checkpoint, inclusion, consistency, leaves, keys, tsa_certificates),
    components(schemas(InclusionProof, ConsistencyProof, PublicLeaf, LogKeys, TsaCertificates)),
    tags((name = "log", description = "The append-only transparency log (RFC 6962, C2SP checkpoints)"))
)]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(checkpoint)
        .service(inclusion)
        .service(consistency)
        .service(leaves)
        .service(keys)
        .service(tsa_certificates);
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CheckpointQuery {
    /// A stored checkpoint of exactly this tree size (default: the latest).
    pub size: Option<u64>,
}

/// The latest signed checkpoint (C2SP tlog-checkpoint in a signed note), as text.
#[utoipa::path(get, path = "/api/v1/log/checkpoint", tag = "log", params(CheckpointQuery),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = Problem)))]
#[get("/log/checkpoint")]
pub async fn checkpoint(
    state: web::Data<AppState>,
    query: web::Query<CheckpointQuery>,
) -> Result<HttpResponse, ApiError> {
    let size = query.size;
    let cp = state.db(move |conn| log::checkpoint(conn, size)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(cp.note))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// Leaf index; or give `leaf_hash`.
    pub index: Option<u64>,
    /// Hex leaf hash (e.g. from a receipt holding a promise).
    pub leaf_hash: Option<String>,
    pub tree_size: u64,
}

/// Inclusion proof of a leaf (by index or hash) in the tree of `tree_size` leaves.
#[utoipa::path(get, path = "/api/v1/log/proof/inclusion", tag = "log", params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[get("/log/proof/inclusion")]
pub async fn inclusion(
    state: web::Data<AppState>,
    query: web::Query<InclusionQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let proof = state
        .db(move |conn| log::inclusion_proof_for(conn, q.index, q.leaf_hash.as_deref(), q.tree_size))
        .await?;
    Ok(HttpResponse::Ok().json(proof))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    pub first: u64,
    pub second: u64,
}

/// Consistency proof between the trees of `first` and `second` leaves.
#[utoipa::path(get, path = "/api/v1/log/proof/consistency", tag = "log", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 422, body = Problem)))]
#[get("/log/proof/consistency")]
pub async fn consistency(
    state: web::Data<AppState>,
    query: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let proof = state
        .db(move |conn| log::consistency_proof(conn, q.first, q.second))
        .await?;
    Ok(HttpResponse::Ok().json(proof))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LeavesQuery {
    pub start: u64,
    /// Exclusive; at most 1000 leaves per page.
    pub end: u64,
}

/// Leaf hashes `start..end` (hashes only: a leaf's content is never public).
#[utoipa::path(get, path = "/api/v1/log/leaves", tag = "log", params(LeavesQuery),
    responses((status = 200, body = Vec<PublicLeaf>)))]
#[get("/log/leaves")]
pub async fn leaves(state: web::Data<AppState>, query: web::Query<LeavesQuery>) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    if q.end < q.start {
        return Err(
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "range_invalid", "end precede start").with_field("end"),
        );
    }
    let found = state.db(move |conn| log::leaves(conn, q.start, q.end)).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogKeys {
    /// Log origin (first line of every checkpoint).
    pub origin: String,
    /// Signed-note verifier key of the log (`name+hash+base64`).
    pub log_key: String,
    /// Base64 Ed25519 public key that signs receipts and promises.
    pub platform_key: String,
}

/// The public keys auditors pin.
#[utoipa::path(get, path = "/api/v1/log/keys", tag = "log", responses((status = 200, body = LogKeys)))]
#[get("/log/keys")]
pub async fn keys(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(LogKeys {
        origin: state.seal.origin().to_string(),
        log_key: state.seal.log_verifier().to_vkey(),
        platform_key: state.seal.public_key_b64(),
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TsaCertificates {
    /// The trust anchor for `openssl ts -verify -CAfile`.
    pub ca_pem: String,
    /// The TSA certificate for `openssl ts -verify -untrusted`.
    pub tsa_pem: String,
}

/// The platform TSA's certificates (PEM), to check receipt tokens with `openssl ts -verify`.
#[utoipa::path(get, path = "/api/v1/log/tsa-certificates", tag = "log", responses((status = 200, body = TsaCertificates)))]
#[get("/log/tsa-certificates")]
pub async fn tsa_certificates(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(TsaCertificates {
        ca_pem: state.seal.tsa_ca_cert_pem(),
        tsa_pem: state.seal.tsa_cert_pem(),
    })
}
