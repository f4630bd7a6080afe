//! `make bench`: throughput of the seal's hot paths. Plain timing with `Instant` (no bench
//! framework) so the suite's build stays light; numbers go to docs/performance.md.

use std::io::{self, Read};
use std::time::Instant;

use seal::merkle::{inclusion_proof, leaf_hash, tree_root, Hash};

/// Yields `remaining` pseudo-random bytes without allocating them all.
struct Generator {
    remaining: u64,
    state: u64,
}

impl Read for Generator {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.remaining as usize);
        for b in &mut buf[..n] {
            self.state = self
                .state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (self.state >> 56) as u8;
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn main() {
    let size: u64 = 256 << 20;
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public();
    let started = Instant::now();
    let info = seal::envelope::seal_stream(
        &recipient,
        Generator {
            remaining: size,
            state: 1,
        },
        io::sink(),
    )
    .expect("seal");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seal_stream: {} MiB sealed and hashed in {:.2} s = {:.0} MiB/s (ciphertext {} bytes)",
        size >> 20,
        secs,
        (size >> 20) as f64 / secs,
        info.size
    );

    let leaves: Vec<Hash> = (0u64..200_000).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let started = Instant::now();
    let root = tree_root(leaves.as_slice(), leaves.len() as u64).expect("root");
    println!(
        "merkle: root of {} leaves in {:.1} ms ({})",
        leaves.len(),
        started.elapsed().as_secs_f64() * 1e3,
        hex::encode(&root[..4])
    );
    let started = Instant::now();
    let proofs = 200;
    for i in 0..proofs {
        inclusion_proof(leaves.as_slice(), i * 997, leaves.len() as u64).expect("proof");
    }
    println!(
        "merkle: {proofs} inclusion proofs over {} leaves in {:.1} ms (no cached subtrees)",
        leaves.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
}
