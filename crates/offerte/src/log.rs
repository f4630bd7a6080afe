//! The transparency log in the database: pending leaves, integrated leaves, signed
//! checkpoints, and the proofs the API serves. Leaves are served as hashes only.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use seal::checkpoint::{sign_checkpoint, Checkpoint};
use seal::merkle::{self, Hash, LeafSource};
use serde::Serialize;
use uuid::Uuid;

use crate::log_cache::CachedLeaves;
use crate::schema::{log_checkpoints, log_leaves};
use crate::{OfferteError, SealService};

/// Leaf kinds (the `kind` column); the leaf data starts with the matching header line.
pub mod kind {
    pub const TENDER_PUBLISHED: &str = "tender_published";
    pub const ENVELOPE_RECEIVED: &str = "envelope_received";
    pub const BID_WITHDRAWN: &str = "bid_withdrawn";
    pub const TENDER_CLOSED: &str = "tender_closed";
    pub const ENVELOPE_OPENED: &str = "envelope_opened";
    /// A decision of the evaluation and award (issue 6 point 9), appended by `aggiudicazione`
    /// through [`super::append_leaf`]; data from [`super::decision_leaf_data`].
    pub const DECISION: &str = "decision";
    /// The candidates of an invitation rotation draw, committed before its beacon exists
    /// (`centrale-invitation-commit/v1`, written by the registry through [`super::LogBeacon`]).
    pub const INVITATION_COMMITTED: &str = "invitation_committed";
}

/// Kinds that other areas may append with [`append_leaf`]; the seal's own kinds are written
/// only by this crate.
pub const EXTERNAL_KINDS: &[&str] = &[kind::DECISION];

/// SHA-256 (hex) of a decision's JSON, serialized by `serde_json` with object keys sorted
/// (the workspace's `serde_json` has no `preserve_order`), no whitespace.
pub fn decision_digest(details: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(details).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// The canonical data of a `decision` leaf (`centrale-decision/v1`), five lines each ending in
/// `\n`:
///
/// ```text
/// centrale-decision/v1
/// tender <uuid>
/// action <audit action, e.g. aggiudicazione.aggiudicata>
/// at <RFC 3339 UTC, microseconds, Z>
/// details-sha256 <hex SHA-256 of the decision's JSON, see decision_digest>
/// ```
///
/// The same JSON is the `details` of the audit event recorded with the decision, so anyone who
/// reads the audit trail can recompute the leaf and ask its inclusion proof; the public log
/// itself serves only the leaf hash.
pub fn decision_leaf_data(bando: Uuid, action: &str, at: DateTime<Utc>, details: &serde_json::Value) -> Vec<u8> {
    format!(
        "centrale-decision/v1\ntender {bando}\naction {action}\nat {}\ndetails-sha256 {}\n",
        seal::receipt::canonical_time(&at),
        decision_digest(details)
    )
    .into_bytes()
}

/// Appends a pending leaf of an [`EXTERNAL_KINDS`] kind in the caller's transaction (the
/// sequencer integrates it); returns its row id and leaf hash.
pub fn append_leaf(
    conn: &mut PgConnection,
    kind: &str,
    bando: Option<Uuid>,
    data: &[u8],
    at: DateTime<Utc>,
) -> Result<(i64, Hash), OfferteError> {
    if !EXTERNAL_KINDS.contains(&kind) {
        return Err(OfferteError::Internal(format!("tipo di foglia non ammesso: {kind}")));
    }
    append_pending(conn, kind, bando, data, at)
}

/// Any 32-byte value from a `bytea` column.
pub(crate) fn hash_of(bytes: &[u8]) -> Result<Hash, OfferteError> {
    bytes
        .try_into()
        .map_err(|_| OfferteError::Internal("hash di lunghezza errata nel registro".into()))
}

/// Stores a pending leaf in the caller's transaction; returns its row id and hash.
pub(crate) fn append_pending(
    conn: &mut PgConnection,
    kind: &str,
    bando: Option<Uuid>,
    data: &[u8],
    at: DateTime<Utc>,
) -> Result<(i64, Hash), OfferteError> {
    let hash = merkle::leaf_hash(data);
    let id = diesel::insert_into(log_leaves::table)
        .values((
            log_leaves::kind.eq(kind),
            log_leaves::bando_id.eq(bando),
            log_leaves::data.eq(data),
            log_leaves::leaf_hash.eq(hash.to_vec()),
            log_leaves::created_at.eq(at),
        ))
        .returning(log_leaves::id)
        .get_result(conn)?;
    Ok((id, hash))
}

/// Number of integrated leaves (indices are gap-free: `0..size`). Read as the highest index
/// plus one, an index-only look at the end of `leaf_index`'s unique index, not a count of
/// every integrated leaf (issue 15: the sequencer asks at every tick and every commit).
pub fn tree_size(conn: &mut PgConnection) -> Result<u64, OfferteError> {
    let last: Option<i64> = log_leaves::table
        .select(diesel::dsl::max(log_leaves::leaf_index))
        .first(conn)?;
    Ok(last.map_or(0, |i| i as u64 + 1))
}

/// Leaf hashes of the first `size` integrated leaves, in index order.
pub struct DbLeaves(Vec<Hash>);

impl DbLeaves {
    pub fn load(conn: &mut PgConnection, size: u64) -> Result<Self, OfferteError> {
        let rows: Vec<Vec<u8>> = log_leaves::table
            .filter(log_leaves::leaf_index.is_not_null())
            .filter(log_leaves::leaf_index.lt(size as i64))
            .order(log_leaves::leaf_index.asc())
            .select(log_leaves::leaf_hash)
            .load(conn)?;
        Ok(DbLeaves(rows.iter().map(|r| hash_of(r)).collect::<Result<_, _>>()?))
    }
}

impl LeafSource for DbLeaves {
    fn leaf_count(&self) -> u64 {
        self.0.len() as u64
    }

    fn leaf_hash_at(&self, index: u64) -> seal::Result<Hash> {
        self.0
            .get(index as usize)
            .copied()
            .ok_or(seal::SealError::LeafUnavailable {
                index,
                reason: "foglia assente".into(),
            })
    }
}

/// Signs and stores the checkpoint of the current tree (in the caller's transaction).
pub(crate) fn sign_current(
    conn: &mut PgConnection,
    svc: &SealService,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<Checkpoint, OfferteError> {
    let size = tree_size(conn)?;
    let root = merkle::tree_root(&CachedLeaves::new(conn, size), size)?;
    let checkpoint = Checkpoint::new(svc.origin(), size, root);
    let note = sign_checkpoint(&checkpoint, svc.note_signer())?;
    diesel::insert_into(log_checkpoints::table)
        .values((
            log_checkpoints::tree_size.eq(size as i64),
            log_checkpoints::root_hash.eq(root.to_vec()),
            log_checkpoints::note.eq(&note),
            log_checkpoints::reason.eq(reason),
            log_checkpoints::created_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(checkpoint)
}

/// A stored signed checkpoint.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredCheckpoint {
    pub tree_size: u64,
    /// The C2SP signed note.
    pub note: String,
    pub created_at: DateTime<Utc>,
}

/// The latest signed checkpoint, or the one at exactly `size`.
pub fn checkpoint(conn: &mut PgConnection, size: Option<u64>) -> Result<StoredCheckpoint, OfferteError> {
    let mut q = log_checkpoints::table
        .select((
            log_checkpoints::tree_size,
            log_checkpoints::note,
            log_checkpoints::created_at,
        ))
        .order(log_checkpoints::tree_size.desc())
        .into_boxed();
    if let Some(s) = size {
        q = q.filter(log_checkpoints::tree_size.eq(s as i64));
    }
    let (tree_size, note, created_at): (i64, String, DateTime<Utc>) = q
        .first(conn)
        .optional()?
        .ok_or(OfferteError::NotFound { what: "Checkpoint" })?;
    Ok(StoredCheckpoint {
        tree_size: tree_size as u64,
        note,
        created_at,
    })
}

/// The checkpoint signed when the sequencer appended `TenderClosed` for `bando` (at its
/// deadline, before any envelope can be opened): the public beacon of the tender's draws.
/// `None` while the tender is not closed in the log.
pub fn closing_checkpoint(conn: &mut PgConnection, bando: Uuid) -> Result<Option<StoredCheckpoint>, OfferteError> {
    use crate::schema::seal_closures;
    let size: Option<i64> = seal_closures::table
        .find(bando)
        .select(seal_closures::tree_size)
        .first(conn)
        .optional()?;
    size.map(|s| checkpoint(conn, Some(s as u64))).transpose()
}

/// The log as a beacon for the crates below it (the registry's invitation rotation): the
/// commitment is an `invitation_committed` leaf, integrated at once with everything pending,
/// followed by a signed checkpoint (see `domain::draw::Beacon`).
pub struct LogBeacon<'a>(pub &'a SealService);

impl domain::draw::Beacon<PgConnection> for LogBeacon<'_> {
    fn commit(
        &self,
        conn: &mut PgConnection,
        data: &[u8],
        at: DateTime<Utc>,
    ) -> Result<domain::draw::Committed, String> {
        let (index, checkpoint) = crate::sequencer::commit_now(conn, self.0, kind::INVITATION_COMMITTED, data, at)
            .map_err(|e| e.to_string())?;
        Ok(domain::draw::Committed {
            leaf_index: index,
            beacon: domain::draw::BeaconText {
                text: checkpoint.note,
                tree_size: checkpoint.tree_size,
            },
        })
    }
}

/// An inclusion proof, as served.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Hex SHA-256.
    pub leaf_hash: String,
    /// Hex hashes, from the leaf's sibling upwards.
    pub proof: Vec<String>,
}

/// Index of an integrated leaf with this hash.
pub fn index_of(conn: &mut PgConnection, leaf_hash: &Hash) -> Result<Option<u64>, OfferteError> {
    let idx: Option<Option<i64>> = log_leaves::table
        .filter(log_leaves::leaf_hash.eq(leaf_hash.to_vec()))
        .filter(log_leaves::leaf_index.is_not_null())
        .select(log_leaves::leaf_index)
        .first(conn)
        .optional()?;
    Ok(idx.flatten().map(|i| i as u64))
}

fn out_of_range(e: seal::SealError) -> OfferteError {
    match e {
        seal::SealError::IndexOutOfRange { .. } | seal::SealError::InvalidTreeSizes { .. } => {
            OfferteError::invalid("proof_out_of_range", "tree_size", e.to_string())
        }
        other => other.into(),
    }
}

pub fn inclusion_proof(conn: &mut PgConnection, index: u64, tree_size: u64) -> Result<InclusionProof, OfferteError> {
    let available = self::tree_size(conn)?;
    if available < tree_size {
        return Err(OfferteError::invalid(
            "proof_out_of_range",
            "tree_size",
            format!("Il registro ha solo {available} foglie"),
        ));
    }
    let leaves = CachedLeaves::new(conn, tree_size);
    let proof = merkle::inclusion_proof(&leaves, index, tree_size).map_err(out_of_range)?;
    Ok(InclusionProof {
        leaf_index: index,
        tree_size,
        leaf_hash: hex::encode(leaves.leaf_hash_at(index)?),
        proof: proof.iter().map(hex::encode).collect(),
    })
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub proof: Vec<String>,
}

pub fn consistency_proof(conn: &mut PgConnection, first: u64, second: u64) -> Result<ConsistencyProof, OfferteError> {
    let available = tree_size(conn)?;
    if available < second {
        return Err(OfferteError::invalid(
            "proof_out_of_range",
            "second",
            format!("Il registro ha solo {available} foglie"),
        ));
    }
    let leaves = CachedLeaves::new(conn, second);
    let proof = merkle::consistency_proof(&leaves, first, second).map_err(out_of_range)?;
    Ok(ConsistencyProof {
        first,
        second,
        proof: proof.iter().map(hex::encode).collect(),
    })
}

/// A leaf as the public sees it: its index and hash, never its data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicLeaf {
    pub index: u64,
    pub leaf_hash: String,
}

pub const MAX_LEAVES_PAGE: u64 = 1000;

pub fn leaves(conn: &mut PgConnection, start: u64, end: u64) -> Result<Vec<PublicLeaf>, OfferteError> {
    let end = end.min(start.saturating_add(MAX_LEAVES_PAGE));
    let rows: Vec<(Option<i64>, Vec<u8>)> = log_leaves::table
        .filter(log_leaves::leaf_index.ge(start as i64))
        .filter(log_leaves::leaf_index.lt(end as i64))
        .order(log_leaves::leaf_index.asc())
        .select((log_leaves::leaf_index, log_leaves::leaf_hash))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(i, h)| {
            i.map(|i| PublicLeaf {
                index: i as u64,
                leaf_hash: hex::encode(h),
            })
        })
        .collect())
}

/// Inclusion proof of the leaf at `index`, or of the integrated leaf with hex hash `leaf_hash`.
pub fn inclusion_proof_for(
    conn: &mut PgConnection,
    index: Option<u64>,
    leaf_hash: Option<&str>,
    tree_size: u64,
) -> Result<InclusionProof, OfferteError> {
    let index = match (index, leaf_hash) {
        (Some(i), _) => i,
        (None, Some(h)) => {
            let hash: Hash = hex::decode(h.trim())
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| {
                    OfferteError::invalid("leaf_hash_invalid", "leaf_hash", "Hash della foglia non valido")
                })?;
            index_of(conn, &hash)?.ok_or(OfferteError::NotFound { what: "Foglia" })?
        }
        (None, None) => {
            return Err(OfferteError::invalid(
                "index_required",
                "index",
                "Indicare index o leaf_hash",
            ))
        }
    };
    inclusion_proof(conn, index, tree_size)
}
