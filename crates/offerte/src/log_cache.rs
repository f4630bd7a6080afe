//! A leaf source for proofs and checkpoints that does not read the whole log (issue 11, heavy
//! inputs): leaves are read in aligned chunks of [`CHUNK`] only where a proof needs them, and
//! the hash of every complete aligned subtree of at least [`CHUNK`] leaves is kept in
//! `log_subtree_hashes` once computed. An inclusion or consistency proof at size n then costs
//! O(log n) small queries and at most a few chunks of hashing, instead of n leaves per request.
//!
//! Sound because the log is append-only with gap-free indices: leaves `0..tree_size` never
//! change, so neither does a complete subtree among them. Rows are written in the caller's
//! transaction (a rolled-back integration takes its cache rows with it) and only for subtrees
//! whose last leaf is below the size the caller established.

use std::cell::RefCell;
use std::collections::HashMap;

use diesel::prelude::*;
use seal::merkle::{node_hash, Hash, LeafSource};

use crate::log::hash_of;
use crate::schema::{log_leaves, log_subtree_hashes};
use crate::OfferteError;

/// Leaves read per query, and the smallest subtree whose hash is stored.
pub const CHUNK: u64 = 256;

pub struct CachedLeaves<'c> {
    conn: RefCell<&'c mut PgConnection>,
    size: u64,
    leaves: RefCell<HashMap<u64, Hash>>,
}

impl<'c> CachedLeaves<'c> {
    /// A source of the first `size` integrated leaves (the caller checked they exist).
    pub fn new(conn: &'c mut PgConnection, size: u64) -> Self {
        Self {
            conn: RefCell::new(conn),
            size,
            leaves: RefCell::new(HashMap::new()),
        }
    }

    fn unavailable(index: u64, e: impl std::fmt::Display) -> seal::SealError {
        seal::SealError::LeafUnavailable {
            index,
            reason: e.to_string(),
        }
    }

    fn load_chunk(&self, index: u64) -> seal::Result<()> {
        let start = index - index % CHUNK;
        let end = (start + CHUNK).min(self.size);
        let rows: Vec<(Option<i64>, Vec<u8>)> = log_leaves::table
            .filter(log_leaves::leaf_index.ge(start as i64))
            .filter(log_leaves::leaf_index.lt(end as i64))
            .select((log_leaves::leaf_index, log_leaves::leaf_hash))
            .load(*self.conn.borrow_mut())
            .map_err(|e| Self::unavailable(index, e))?;
        let mut leaves = self.leaves.borrow_mut();
        for (i, h) in rows {
            let i = i.unwrap_or_default() as u64;
            leaves.insert(i, hash_of(&h).map_err(|e| Self::unavailable(i, e))?);
        }
        Ok(())
    }

    fn stored(&self, start: u64, size: u64) -> seal::Result<Option<Hash>> {
        let row: Option<Vec<u8>> = log_subtree_hashes::table
            .find((start as i64, size as i64))
            .select(log_subtree_hashes::hash)
            .first(*self.conn.borrow_mut())
            .optional()
            .map_err(|e| Self::unavailable(start, e))?;
        row.map(|h| hash_of(&h).map_err(|e: OfferteError| Self::unavailable(start, e)))
            .transpose()
    }

    fn store(&self, start: u64, size: u64, hash: &Hash) -> seal::Result<()> {
        diesel::insert_into(log_subtree_hashes::table)
            .values((
                log_subtree_hashes::start_index.eq(start as i64),
                log_subtree_hashes::size.eq(size as i64),
                log_subtree_hashes::hash.eq(hash.to_vec()),
            ))
            .on_conflict_do_nothing()
            .execute(*self.conn.borrow_mut())
            .map_err(|e| Self::unavailable(start, e))?;
        Ok(())
    }
}

/// Largest power of two strictly smaller than `n` (`n >= 2`), as RFC 6962 splits a tree.
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

impl LeafSource for CachedLeaves<'_> {
    fn leaf_count(&self) -> u64 {
        self.size
    }

    fn leaf_hash_at(&self, index: u64) -> seal::Result<Hash> {
        if index >= self.size {
            return Err(seal::SealError::IndexOutOfRange { index, size: self.size });
        }
        if let Some(h) = self.leaves.borrow().get(&index) {
            return Ok(*h);
        }
        self.load_chunk(index)?;
        self.leaves
            .borrow()
            .get(&index)
            .copied()
            .ok_or_else(|| Self::unavailable(index, "foglia assente"))
    }

    fn subtree_root(&self, start: u64, end: u64) -> seal::Result<Hash> {
        let n = end - start;
        if n == 1 {
            return self.leaf_hash_at(start);
        }
        let complete = n.is_power_of_two() && start.is_multiple_of(n) && n >= CHUNK && end <= self.size;
        if complete {
            if let Some(h) = self.stored(start, n)? {
                return Ok(h);
            }
        }
        let k = split_point(n);
        let hash = node_hash(
            &self.subtree_root(start, start + k)?,
            &self.subtree_root(start + k, end)?,
        );
        if complete {
            self.store(start, n, &hash)?;
        }
        Ok(hash)
    }
}
