// The entry point that scripts/vendor-web.sh bundles into
// crates/portal/assets/vendor/age/age.bundle.js: the only cryptography the portal's own
// modules (crates/portal/assets/js/) use. Nothing here is written by hand.
//
// - age-encryption: Encrypter.encrypt(ReadableStream) returns a ReadableStream (64 KiB
//   STREAM chunks through a TransformStream), so an envelope of any size is sealed with
//   constant memory. Decrypter opens the custodians' shares (custody.js) and serves the
//   tests' round trip.
// - @noble/hashes sha256: incremental (sha256.create().update().digest()), which Web
//   Crypto's one-shot digest() is not; the files and the ciphertext are hashed as they stream.
// - @noble/curves ed25519: receipt and checkpoint signatures; Web Crypto's Ed25519 is not
//   available in every browser the portal supports. Its Edwards points are also the group of
//   the custodians' key ceremony (custody.js).
// - @noble/hashes sha512: the ceremony's Schnorr challenge (seal::custody's transcript).
// - @scure/base bech32 (age-encryption's own dependency): a kind's recipient (age1…)
//   recomputed from the published commitments, to check the key the server announces.
export { Encrypter, Decrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
export { sha256, sha512 } from "@noble/hashes/sha2.js";
export { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
export { ed25519 } from "@noble/curves/ed25519.js";
export { bech32 } from "@scure/base";
