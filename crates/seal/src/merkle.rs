//! RFC 6962 / RFC 9162 Merkle tree hashing, inclusion proofs and consistency proofs.
//!
//! - leaf hash: `SHA-256(0x00 || data)`
//! - node hash: `SHA-256(0x01 || left || right)`
//! - root of the empty tree: `SHA-256("")`
//!
//! Proof generation reads leaf hashes through the [`LeafSource`] trait, so the same code
//! works over an in-memory slice (`[Hash]`, `Vec<Hash>`) and over a database-backed store.
//! A store may override [`LeafSource::subtree_root`] to serve cached hashes of complete
//! subtrees instead of rehashing leaves.
//!
//! Verification follows the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2 and needs no store.

use sha2::{Digest, Sha256};

use crate::{Result, SealError};

/// A SHA-256 hash: a leaf hash, a node hash or a tree root.
pub type Hash = [u8; 32];

/// Hash of a leaf's data: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// Hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Largest power of two strictly smaller than `n` (requires `n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Where proof generation reads leaf hashes from.
pub trait LeafSource {
    /// Number of leaves currently available.
    fn leaf_count(&self) -> u64;

    /// Hash of leaf `index` (already `SHA-256(0x00 || data)`).
    fn leaf_hash_at(&self, index: u64) -> Result<Hash>;

    /// Merkle tree hash of the leaves `start..end` (`start < end`).
    ///
    /// The default recomputes it from the leaves; a store with cached subtree hashes may
    /// override it (it must return exactly what the default would).
    fn subtree_root(&self, start: u64, end: u64) -> Result<Hash> {
        debug_assert!(start < end);
        if end - start == 1 {
            return self.leaf_hash_at(start);
        }
        let k = split_point(end - start);
        let left = self.subtree_root(start, start + k)?;
        let right = self.subtree_root(start + k, end)?;
        Ok(node_hash(&left, &right))
    }
}

impl LeafSource for [Hash] {
    fn leaf_count(&self) -> u64 {
        self.len() as u64
    }

    fn leaf_hash_at(&self, index: u64) -> Result<Hash> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.get(i))
            .copied()
            .ok_or(SealError::IndexOutOfRange {
                index,
                size: self.len() as u64,
            })
    }
}

impl LeafSource for Vec<Hash> {
    fn leaf_count(&self) -> u64 {
        self.as_slice().leaf_count()
    }

    fn leaf_hash_at(&self, index: u64) -> Result<Hash> {
        self.as_slice().leaf_hash_at(index)
    }
}

fn check_size<S: LeafSource + ?Sized>(source: &S, tree_size: u64) -> Result<()> {
    let available = source.leaf_count();
    if tree_size > available {
        return Err(SealError::IndexOutOfRange {
            index: tree_size,
            size: available,
        });
    }
    Ok(())
}

/// Root of the tree made of the first `tree_size` leaves of `source`.
pub fn tree_root<S: LeafSource + ?Sized>(source: &S, tree_size: u64) -> Result<Hash> {
    check_size(source, tree_size)?;
    if tree_size == 0 {
        return Ok(empty_root());
    }
    source.subtree_root(0, tree_size)
}

/// Inclusion proof (audit path) of leaf `index` in the tree of the first `tree_size` leaves,
/// ordered from the leaf's sibling up to the root's child (RFC 6962 §2.1.1).
pub fn inclusion_proof<S: LeafSource + ?Sized>(source: &S, index: u64, tree_size: u64) -> Result<Vec<Hash>> {
    check_size(source, tree_size)?;
    if index >= tree_size {
        return Err(SealError::IndexOutOfRange { index, size: tree_size });
    }
    let mut proof = Vec::new();
    path(source, index, 0, tree_size, &mut proof)?;
    Ok(proof)
}

/// PATH(m, D[start..end]); `m` is relative to `start`. Appends deepest sibling first.
fn path<S: LeafSource + ?Sized>(source: &S, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) -> Result<()> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(source, m, start, start + k, out)?;
        out.push(source.subtree_root(start + k, end)?);
    } else {
        path(source, m - k, start + k, end, out)?;
        out.push(source.subtree_root(start, start + k)?);
    }
    Ok(())
}

/// Consistency proof between the trees of the first `old_size` and `new_size` leaves
/// (RFC 6962 §2.1.2). Empty when `old_size` is 0 or equals `new_size`.
pub fn consistency_proof<S: LeafSource + ?Sized>(source: &S, old_size: u64, new_size: u64) -> Result<Vec<Hash>> {
    check_size(source, new_size)?;
    if old_size > new_size {
        return Err(SealError::InvalidTreeSizes {
            old: old_size,
            new: new_size,
        });
    }
    let mut proof = Vec::new();
    if old_size > 0 && old_size < new_size {
        subproof(source, old_size, 0, new_size, true, &mut proof)?;
    }
    Ok(proof)
}

/// SUBPROOF(m, D[start..end], complete); `m` is relative to `start`.
fn subproof<S: LeafSource + ?Sized>(
    source: &S,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<()> {
    let n = end - start;
    if m == n {
        if !complete {
            out.push(source.subtree_root(start, end)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(source, m, start, start + k, complete, out)?;
        out.push(source.subtree_root(start + k, end)?);
    } else {
        subproof(source, m - k, start + k, end, false, out)?;
        out.push(source.subtree_root(start, start + k)?);
    }
    Ok(())
}

/// Root that an inclusion proof leads to (RFC 9162 §2.1.3.2, steps 1–3).
pub fn root_from_inclusion_proof(leaf: &Hash, index: u64, tree_size: u64, proof: &[Hash]) -> Result<Hash> {
    if index >= tree_size {
        return Err(SealError::InclusionProofInvalid);
    }
    let mut f_n = index;
    let mut s_n = tree_size - 1;
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return Err(SealError::InclusionProofInvalid);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(SealError::InclusionProofInvalid);
    }
    Ok(r)
}

/// Checks that `leaf` is at `index` in the tree of size `tree_size` whose root is `root`.
pub fn verify_inclusion(leaf: &Hash, index: u64, tree_size: u64, proof: &[Hash], root: &Hash) -> Result<()> {
    let computed = root_from_inclusion_proof(leaf, index, tree_size, proof)?;
    if &computed != root {
        return Err(SealError::InclusionProofInvalid);
    }
    Ok(())
}

/// Checks that the tree (`new_size`, `new_root`) extends the tree (`old_size`, `old_root`)
/// (RFC 9162 §2.1.4.2). An empty old tree is consistent with any tree (empty proof); equal
/// sizes need equal roots and an empty proof.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<()> {
    let invalid = Err(SealError::ConsistencyProofInvalid);
    if old_size > new_size {
        return Err(SealError::InvalidTreeSizes {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 {
        return if proof.is_empty() && (new_size > 0 || old_root == new_root) {
            Ok(())
        } else {
            invalid
        };
    }
    if old_size == new_size {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            invalid
        };
    }
    if proof.is_empty() {
        return invalid;
    }
    // Step 2: when old_size is a power of two, the old root itself starts the path.
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(old_root);
    }
    path.extend(proof.iter());

    let mut f_n = old_size - 1;
    let mut s_n = new_size - 1;
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let mut f_r = *path[0];
    let mut s_r = *path[0];
    for c in &path[1..] {
        if s_n == 0 {
            return invalid;
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if &f_r == old_root && &s_r == new_root && s_n == 0 {
        Ok(())
    } else {
        invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Hash {
        let v = hex::decode(s).expect("hex");
        v.try_into().expect("32 bytes")
    }

    /// The leaves of the RFC 6962 / certificate-transparency reference test tree.
    fn reference_leaves() -> Vec<Hash> {
        let data: [&[u8]; 8] = [
            b"",
            &[0x00],
            &[0x10],
            &[0x20, 0x21],
            &[0x30, 0x31],
            &[0x40, 0x41, 0x42, 0x43],
            &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
            &[
                0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
            ],
        ];
        data.iter().map(|d| leaf_hash(d)).collect()
    }

    const REFERENCE_ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn empty_tree_root_is_sha256_of_nothing() {
        let leaves: Vec<Hash> = vec![];
        assert_eq!(
            tree_root(&leaves, 0).expect("root"),
            h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }

    #[test]
    fn reference_roots() {
        let leaves = reference_leaves();
        for (i, expected) in REFERENCE_ROOTS.iter().enumerate() {
            assert_eq!(
                tree_root(&leaves, i as u64 + 1).expect("root"),
                h(expected),
                "size {}",
                i + 1
            );
        }
    }

    #[test]
    fn reference_inclusion_proofs() {
        let leaves = reference_leaves();
        // (leaf index, tree size, expected path) from the CT reference tests.
        let cases: Vec<(u64, u64, Vec<&str>)> = vec![
            (0, 1, vec![]),
            (
                0,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                vec![
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                vec!["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                vec![
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (index, size, expected) in cases {
            let proof = inclusion_proof(&leaves, index, size).expect("proof");
            let expected: Vec<Hash> = expected.iter().map(|s| h(s)).collect();
            assert_eq!(proof, expected, "leaf {index} in tree {size}");
            let root = h(REFERENCE_ROOTS[size as usize - 1]);
            verify_inclusion(&leaves[index as usize], index, size, &proof, &root).expect("verifies");
        }
    }

    #[test]
    fn reference_consistency_proofs() {
        let leaves = reference_leaves();
        let cases: Vec<(u64, u64, Vec<&str>)> = vec![
            (1, 1, vec![]),
            (
                1,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                vec![
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                vec![
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (old, new, expected) in cases {
            let proof = consistency_proof(&leaves, old, new).expect("proof");
            let expected: Vec<Hash> = expected.iter().map(|s| h(s)).collect();
            assert_eq!(proof, expected, "{old} -> {new}");
            let old_root = h(REFERENCE_ROOTS[old as usize - 1]);
            let new_root = h(REFERENCE_ROOTS[new as usize - 1]);
            verify_consistency(old, new, &old_root, &new_root, &proof).expect("verifies");
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    fn flip(mut x: Hash) -> Hash {
        x[7] ^= 0x40;
        x
    }

    #[test]
    fn every_inclusion_proof_up_to_20_verifies_and_tampering_fails() {
        let all = leaves(20);
        for n in 1..=20u64 {
            let root = tree_root(&all, n).expect("root");
            for m in 0..n {
                let leaf = all[m as usize];
                let proof = inclusion_proof(&all, m, n).expect("proof");
                verify_inclusion(&leaf, m, n, &proof, &root).expect("valid proof");

                // Wrong leaf, wrong index, wrong size, wrong root.
                assert!(verify_inclusion(&flip(leaf), m, n, &proof, &root).is_err());
                if n > 1 {
                    let other = (m + 1) % n;
                    assert!(verify_inclusion(&leaf, other, n, &proof, &root).is_err(), "m={m} n={n}");
                }
                // The same path against the next, larger tree (a tree size is only meaningful
                // together with its own root, as in a signed checkpoint).
                if n < 20 {
                    let next_root = tree_root(&all, n + 1).expect("root");
                    assert!(verify_inclusion(&leaf, m, n + 1, &proof, &next_root).is_err());
                }
                assert!(verify_inclusion(&leaf, m, n, &proof, &flip(root)).is_err());
                // Each proof element altered, dropped, or an extra one appended.
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(bad[i]);
                    assert!(verify_inclusion(&leaf, m, n, &bad, &root).is_err());
                }
                if !proof.is_empty() {
                    let short = &proof[..proof.len() - 1];
                    assert!(verify_inclusion(&leaf, m, n, short, &root).is_err());
                }
                let mut long = proof.clone();
                long.push(root);
                assert!(verify_inclusion(&leaf, m, n, &long, &root).is_err());
            }
            assert!(inclusion_proof(&all, n, n).is_err());
        }
        assert!(inclusion_proof(&all, 0, 21).is_err());
    }

    #[test]
    fn every_consistency_proof_up_to_20_verifies_and_tampering_fails() {
        let all = leaves(20);
        let roots: Vec<Hash> = (0..=20).map(|n| tree_root(&all, n).expect("root")).collect();
        for n in 1..=20u64 {
            for m in 1..=n {
                let proof = consistency_proof(&all, m, n).expect("proof");
                let (old_root, new_root) = (roots[m as usize], roots[n as usize]);
                verify_consistency(m, n, &old_root, &new_root, &proof).expect("valid proof");

                assert!(verify_consistency(m, n, &flip(old_root), &new_root, &proof).is_err());
                assert!(verify_consistency(m, n, &old_root, &flip(new_root), &proof).is_err());
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(bad[i]);
                    assert!(
                        verify_consistency(m, n, &old_root, &new_root, &bad).is_err(),
                        "m={m} n={n} i={i}"
                    );
                }
                if !proof.is_empty() {
                    let short = &proof[..proof.len() - 1];
                    assert!(verify_consistency(m, n, &old_root, &new_root, short).is_err());
                }
                let mut long = proof.clone();
                long.push(new_root);
                assert!(verify_consistency(m, n, &old_root, &new_root, &long).is_err());
                if m < n {
                    // A proof for different sizes does not fit.
                    if n < 20 {
                        let next_root = roots[n as usize + 1];
                        assert!(verify_consistency(m, n + 1, &old_root, &next_root, &proof).is_err());
                    }
                    // A rewritten history (different leaf m-1) is not consistent.
                    let mut forged = all.clone();
                    forged[(m - 1) as usize] = flip(forged[(m - 1) as usize]);
                    let forged_root = tree_root(&forged, n).expect("root");
                    let forged_proof = consistency_proof(&forged, m, n).expect("proof");
                    assert!(verify_consistency(m, n, &old_root, &forged_root, &forged_proof).is_err());
                }
            }
            // The empty tree is consistent with any tree, with an empty proof only.
            verify_consistency(0, n, &roots[0], &roots[n as usize], &[]).expect("empty old tree");
            assert!(verify_consistency(0, n, &roots[0], &roots[n as usize], &[roots[0]]).is_err());
        }
        assert!(consistency_proof(&all, 5, 4).is_err());
        assert!(consistency_proof(&all, 5, 21).is_err());
    }

    /// A store that overrides `subtree_root` must give the same proofs.
    struct CachedStore(Vec<Hash>);
    impl LeafSource for CachedStore {
        fn leaf_count(&self) -> u64 {
            self.0.len() as u64
        }
        fn leaf_hash_at(&self, index: u64) -> Result<Hash> {
            self.0.leaf_hash_at(index)
        }
        fn subtree_root(&self, start: u64, end: u64) -> Result<Hash> {
            // Independent iterative computation for complete (power-of-two, aligned) subtrees.
            let n = end - start;
            if n.is_power_of_two() && start & (n - 1) == 0 {
                let mut level: Vec<Hash> = self.0[start as usize..end as usize].to_vec();
                while level.len() > 1 {
                    level = level.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
                }
                return Ok(level[0]);
            }
            let k = split_point(n);
            Ok(node_hash(
                &self.subtree_root(start, start + k)?,
                &self.subtree_root(start + k, end)?,
            ))
        }
    }

    #[test]
    fn overridden_subtree_roots_agree() {
        let all = leaves(19);
        let store = CachedStore(all.clone());
        for n in 1..=19 {
            assert_eq!(tree_root(&store, n).expect("r"), tree_root(&all, n).expect("r"));
            for m in 0..n {
                assert_eq!(
                    inclusion_proof(&store, m, n).expect("p"),
                    inclusion_proof(&all, m, n).expect("p")
                );
                assert_eq!(
                    consistency_proof(&store, m, n).expect("p"),
                    consistency_proof(&all, m, n).expect("p")
                );
            }
        }
    }
}
