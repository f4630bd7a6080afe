//! The platform's own RFC 3161 Time-Stamp Authority, with ECDSA P-256 / SHA-256.
//!
//! [`TsaCredentials::generate`] creates a self-signed CA certificate and a TSA certificate
//! (`keyUsage` critical digitalSignature, `extendedKeyUsage` critical id-kp-timeStamping)
//! signed by that CA. [`Tsa::timestamp`] issues a DER `TimeStampToken`: CMS SignedData over a
//! TSTInfo whose messageImprint is SHA-256 of the stamped data, signed attributes
//! contentType, messageDigest and signing-certificate-v2 (ESSCertIDv2), with the TSA
//! certificate embedded. `openssl ts -verify` accepts these tokens.
//!
//! Keys are PKCS#8 documents (ECDSA via `ring`); the caller stores them (encrypted).
//! Key identifiers are the first 20 bytes of SHA-256 of the public key (RFC 7093 method 1).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use sha2::{Digest, Sha256};

use crate::der::{self, context, octet_string, oid, sequence, set_of};
use crate::{Result, SealError};

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_PRIME256V1: &str = "1.2.840.10045.3.1.7";
const OID_ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const OID_COMMON_NAME: &str = "2.5.4.3";
const OID_ORGANIZATION: &str = "2.5.4.10";
const OID_COUNTRY: &str = "2.5.4.6";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EXT_KEY_USAGE: &str = "2.5.29.37";
const OID_SUBJECT_KEY_ID: &str = "2.5.29.14";
const OID_AUTHORITY_KEY_ID: &str = "2.5.29.35";
const OID_KP_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_CT_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const OID_ATTR_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const OID_ATTR_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const OID_ATTR_SIGNING_CERT_V2: &str = "1.2.840.113549.1.9.16.2.47";

/// Default TSA policy: a UUID-derived OID (ITU-T X.667, no registration needed).
pub const DEFAULT_POLICY_OID: &str = "2.25.211934412306651342826371432497361526723";

fn key_error(what: &str) -> SealError {
    SealError::TsaKey(what.to_string())
}

/// An ECDSA P-256 key pair held as its PKCS#8 document.
pub struct EcKey {
    pkcs8: Vec<u8>,
    pair: EcdsaKeyPair,
}

impl EcKey {
    /// Generates a fresh key.
    pub fn generate() -> Result<Self> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| key_error("generazione della chiave non riuscita"))?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Loads a key from PKCS#8 DER.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
            .map_err(|e| key_error(&format!("chiave PKCS#8 rifiutata: {e}")))?;
        Ok(EcKey {
            pkcs8: pkcs8.to_vec(),
            pair,
        })
    }

    /// PKCS#8 DER of the key (secret: store encrypted).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// Uncompressed public point (65 bytes).
    pub fn public_point(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// DER ECDSA-Sig-Value over SHA-256 of `msg`.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        let rng = SystemRandom::new();
        self.pair
            .sign(&rng, msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| key_error("firma ECDSA non riuscita"))
    }

    fn subject_public_key_info(&self) -> Result<Vec<u8>> {
        let alg = sequence(&[&oid(OID_EC_PUBLIC_KEY)?, &oid(OID_PRIME256V1)?]);
        Ok(sequence(&[&alg, &der::bit_string(0, self.public_point())]))
    }

    fn key_identifier(&self) -> Vec<u8> {
        Sha256::digest(self.public_point())[..20].to_vec()
    }
}

fn algorithm(oid_str: &str) -> Result<Vec<u8>> {
    Ok(sequence(&[&oid(oid_str)?]))
}

/// X.501 Name: C, O, CN (each RDN a single attribute).
fn name(country: &str, organization: &str, common_name: &str) -> Result<Vec<u8>> {
    let rdn = |o: &str, v: Vec<u8>| -> Result<Vec<u8>> { Ok(set_of(&[&sequence(&[&oid(o)?, &v])])) };
    Ok(sequence(&[
        &rdn(OID_COUNTRY, der::printable_string(country))?,
        &rdn(OID_ORGANIZATION, der::utf8_string(organization))?,
        &rdn(OID_COMMON_NAME, der::utf8_string(common_name))?,
    ]))
}

fn extension(oid_str: &str, critical: bool, value: &[u8]) -> Result<Vec<u8>> {
    let id = oid(oid_str)?;
    let v = octet_string(value);
    Ok(if critical {
        sequence(&[&id, &der::boolean(true), &v])
    } else {
        sequence(&[&id, &v])
    })
}

fn random_serial() -> u128 {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[0] &= 0x7f;
    b[0] |= 0x01 << 6; // never tiny, always positive
    u128::from_be_bytes(b)
}

/// Builds and signs an X.509 v3 certificate.
#[allow(clippy::too_many_arguments)]
fn certificate(
    serial: u128,
    issuer: &[u8],
    subject: &[u8],
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    subject_key: &EcKey,
    extensions: &[Vec<u8>],
    issuer_key: &EcKey,
) -> Result<Vec<u8>> {
    let sig_alg = algorithm(OID_ECDSA_WITH_SHA256)?;
    let ext_refs: Vec<&[u8]> = extensions.iter().map(Vec::as_slice).collect();
    let tbs = sequence(&[
        &context(0, &der::integer(2)),
        &der::integer(serial),
        &sig_alg,
        issuer,
        &sequence(&[&der::x509_time(&not_before), &der::x509_time(&not_after)]),
        subject,
        &subject_key.subject_public_key_info()?,
        &context(3, &sequence(&ext_refs)),
    ]);
    let signature = issuer_key.sign(&tbs)?;
    Ok(sequence(&[&tbs, &sig_alg, &der::bit_string(0, &signature)]))
}

/// PEM armor for a DER certificate.
pub fn cert_pem(der_bytes: &[u8]) -> String {
    let b64 = B64.encode(der_bytes);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Everything a TSA needs, as generated by the setup: CA and TSA keys and certificates.
pub struct TsaCredentials {
    /// The CA key (keep offline; only needed to re-issue the TSA certificate).
    pub ca_key: EcKey,
    /// Self-signed CA certificate (DER): the trust anchor auditors use.
    pub ca_cert: Vec<u8>,
    /// The TSA signing key.
    pub tsa_key: EcKey,
    /// TSA certificate (DER), issued by the CA.
    pub tsa_cert: Vec<u8>,
}

impl TsaCredentials {
    /// Generates a CA and a TSA certificate valid from one hour ago for `years` years.
    pub fn generate(organization: &str, years: u32) -> Result<Self> {
        let now = Utc::now();
        let not_before = now - Duration::hours(1);
        let not_after = now + Duration::days(365 * i64::from(years.max(1)));

        let ca_key = EcKey::generate()?;
        let ca_name = name("IT", organization, &format!("{organization} Root CA"))?;
        let ca_kid = ca_key.key_identifier();
        let ca_exts = vec![
            extension(OID_BASIC_CONSTRAINTS, true, &sequence(&[&der::boolean(true)]))?,
            // keyCertSign (bit 5) and cRLSign (bit 6): 0b0000_0110, 1 unused bit.
            extension(OID_KEY_USAGE, true, &der::bit_string(1, &[0x06]))?,
            extension(OID_SUBJECT_KEY_ID, false, &octet_string(&ca_kid))?,
        ];
        let ca_cert = certificate(
            random_serial(),
            &ca_name,
            &ca_name,
            not_before,
            not_after,
            &ca_key,
            &ca_exts,
            &ca_key,
        )?;

        let tsa_key = EcKey::generate()?;
        let tsa_name = name("IT", organization, &format!("{organization} Time-Stamp Authority"))?;
        let tsa_exts = vec![
            extension(OID_BASIC_CONSTRAINTS, false, &sequence(&[]))?,
            // digitalSignature (bit 0): 0b1000_0000, 7 unused bits.
            extension(OID_KEY_USAGE, true, &der::bit_string(7, &[0x80]))?,
            extension(OID_EXT_KEY_USAGE, true, &sequence(&[&oid(OID_KP_TIME_STAMPING)?]))?,
            extension(OID_SUBJECT_KEY_ID, false, &octet_string(&tsa_key.key_identifier()))?,
            extension(OID_AUTHORITY_KEY_ID, false, &sequence(&[&der::tlv(0x80, &ca_kid)]))?,
        ];
        let tsa_cert = certificate(
            random_serial(),
            &ca_name,
            &tsa_name,
            not_before,
            not_after,
            &tsa_key,
            &tsa_exts,
            &ca_key,
        )?;
        Ok(TsaCredentials {
            ca_key,
            ca_cert,
            tsa_key,
            tsa_cert,
        })
    }

    /// A TSA signing with these credentials under the default policy.
    pub fn into_tsa(self) -> Result<Tsa> {
        Tsa::new(self.tsa_key, self.tsa_cert, DEFAULT_POLICY_OID)
    }
}

/// Issuer name and serial number, read from a DER certificate.
struct CertIds {
    issuer: Vec<u8>,
    serial: Vec<u8>,
}

/// Reads the issuer Name and serial INTEGER (full TLVs) from a certificate we produced
/// (or any v3 certificate): Certificate → tbsCertificate → [0] version, serial, alg, issuer.
fn cert_ids(cert: &[u8]) -> Result<CertIds> {
    let tbs_seq = der::contents(cert)?;
    let tbs = der::contents(tbs_seq)?;
    let mut fields = Vec::new();
    let mut rest = tbs;
    while !rest.is_empty() && fields.len() < 4 {
        let len = element_len(rest)?;
        fields.push(&rest[..len]);
        rest = &rest[len..];
    }
    let has_version = fields.first().is_some_and(|f| f[0] == 0xa0);
    let start = usize::from(has_version);
    match (fields.get(start), fields.get(start + 2)) {
        (Some(serial), Some(issuer)) => Ok(CertIds {
            issuer: issuer.to_vec(),
            serial: serial.to_vec(),
        }),
        _ => Err(SealError::DerMalformed("certificato incompleto".into())),
    }
}

/// Total length (header + value) of the first TLV in `data`.
fn element_len(data: &[u8]) -> Result<usize> {
    let value = der::contents(data)?;
    let header = value.as_ptr() as usize - data.as_ptr() as usize;
    Ok(header + value.len())
}

/// The TSA: a signing key, its certificate and a policy.
pub struct Tsa {
    key: EcKey,
    cert: Vec<u8>,
    policy: String,
    ids: CertIds,
}

impl Tsa {
    /// A TSA from its key, its certificate (DER) and a policy OID (dotted).
    pub fn new(key: EcKey, cert: Vec<u8>, policy_oid: &str) -> Result<Self> {
        oid(policy_oid)?;
        let ids = cert_ids(&cert)?;
        Ok(Tsa {
            key,
            cert,
            policy: policy_oid.to_string(),
            ids,
        })
    }

    /// The TSA certificate (DER).
    pub fn cert(&self) -> &[u8] {
        &self.cert
    }

    /// Issues a DER TimeStampToken for a SHA-256 `digest`, with a random serial and now as
    /// genTime.
    pub fn timestamp_now(&self, digest: &[u8; 32]) -> Result<Vec<u8>> {
        self.timestamp(digest, random_serial(), Utc::now())
    }

    /// Issues a DER TimeStampToken for a SHA-256 `digest` with the given serial and time.
    pub fn timestamp(&self, digest: &[u8; 32], serial: u128, gen_time: DateTime<Utc>) -> Result<Vec<u8>> {
        let sha256 = algorithm(OID_SHA256)?;
        let tst_info = sequence(&[
            &der::integer(1),
            &oid(&self.policy)?,
            &sequence(&[&sha256, &octet_string(digest)]),
            &der::integer(serial),
            &der::generalized_time_fraction(&gen_time),
        ]);

        // Signed attributes.
        let content_type = sequence(&[&oid(OID_ATTR_CONTENT_TYPE)?, &set_of(&[&oid(OID_CT_TST_INFO)?])]);
        let message_digest = sequence(&[
            &oid(OID_ATTR_MESSAGE_DIGEST)?,
            &set_of(&[&octet_string(&Sha256::digest(&tst_info))]),
        ]);
        // ESSCertIDv2: hashAlgorithm omitted (DEFAULT sha256), certHash, issuerSerial.
        let issuer_serial = sequence(&[&sequence(&[&context(4, &self.ids.issuer)]), &self.ids.serial]);
        let ess_cert_id = sequence(&[&octet_string(&Sha256::digest(&self.cert)), &issuer_serial]);
        let signing_cert_v2 = sequence(&[
            &oid(OID_ATTR_SIGNING_CERT_V2)?,
            &set_of(&[&sequence(&[&sequence(&[&ess_cert_id])])]),
        ]);
        // The signature covers the attributes encoded as a SET OF (tag 0x31) ...
        let signed_attrs = set_of(&[&content_type, &message_digest, &signing_cert_v2]);
        let signature = self.key.sign(&signed_attrs)?;
        // ... and they are carried as [0] IMPLICIT.
        let signed_attrs_implicit = der::retag(signed_attrs, 0xa0);

        let signer_info = sequence(&[
            &der::integer(1),
            &sequence(&[&self.ids.issuer, &self.ids.serial]),
            &sha256,
            &signed_attrs_implicit,
            &algorithm(OID_ECDSA_WITH_SHA256)?,
            &octet_string(&signature),
        ]);
        let signed_data = sequence(&[
            &der::integer(3),
            &set_of(&[&sha256]),
            &sequence(&[&oid(OID_CT_TST_INFO)?, &context(0, &octet_string(&tst_info))]),
            &context(0, &self.cert),
            &set_of(&[&signer_info]),
        ]);
        Ok(sequence(&[&oid(OID_SIGNED_DATA)?, &context(0, &signed_data)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn openssl_available() -> bool {
        Command::new("openssl")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("seal-tsa-{tag}-{}-{}", std::process::id(), random_serial()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn openssl_verify(dir: &Path) -> (bool, String) {
        let out = Command::new("openssl")
            .args(["ts", "-verify", "-data"])
            .arg(dir.join("data.bin"))
            .arg("-in")
            .arg(dir.join("token.der"))
            .arg("-token_in")
            .arg("-CAfile")
            .arg(dir.join("ca.pem"))
            .arg("-untrusted")
            .arg(dir.join("tsa.pem"))
            .output()
            .expect("run openssl");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (text.contains("Verification: OK"), text)
    }

    #[test]
    fn openssl_ts_verify_accepts_token_and_rejects_changed_data() {
        if !openssl_available() {
            eprintln!("SKIPPED: the `openssl` binary is not installed; RFC 3161 interop not checked");
            return;
        }
        let creds = TsaCredentials::generate("Centrale Test", 5).expect("credentials");
        let dir = temp_dir("verify");
        std::fs::write(dir.join("ca.pem"), cert_pem(&creds.ca_cert)).expect("write");
        std::fs::write(dir.join("tsa.pem"), cert_pem(&creds.tsa_cert)).expect("write");
        let tsa = creds.into_tsa().expect("tsa");

        let data = b"centrale-receipt/v1\ntender gara-1\n".to_vec();
        let digest: [u8; 32] = Sha256::digest(&data).into();
        let token = tsa.timestamp_now(&digest).expect("token");
        std::fs::write(dir.join("data.bin"), &data).expect("write");
        std::fs::write(dir.join("token.der"), &token).expect("write");

        let (ok, text) = openssl_verify(&dir);
        assert!(ok, "openssl did not verify the token:\n{text}");

        let mut changed = data.clone();
        changed[5] ^= 0x01;
        std::fs::write(dir.join("data.bin"), &changed).expect("write");
        let (ok, text) = openssl_verify(&dir);
        assert!(!ok && text.contains("FAILED"), "changed data still verified:\n{text}");

        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn openssl_reads_certificates_and_token_fields() {
        if !openssl_available() {
            eprintln!("SKIPPED: the `openssl` binary is not installed");
            return;
        }
        let creds = TsaCredentials::generate("Centrale Test", 1).expect("credentials");
        let dir = temp_dir("fields");
        std::fs::write(dir.join("tsa.pem"), cert_pem(&creds.tsa_cert)).expect("write");
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(dir.join("tsa.pem"))
            .output()
            .expect("openssl x509");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(text.contains("Time Stamping"), "{text}");
        assert!(text.contains("X509v3 Extended Key Usage: critical"), "{text}");
        assert!(text.contains("X509v3 Key Usage: critical"), "{text}");
        assert!(text.contains("Digital Signature"), "{text}");

        let tsa = creds.into_tsa().expect("tsa");
        let token = tsa.timestamp(&[0x42; 32], 12345, Utc::now()).expect("token");
        std::fs::write(dir.join("token.der"), &token).expect("write");
        let out = Command::new("openssl")
            .args(["ts", "-reply", "-token_in", "-token_out", "-text", "-in"])
            .arg(dir.join("token.der"))
            .output()
            .expect("openssl ts -reply");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(text.contains(DEFAULT_POLICY_OID), "{text}");
        assert!(text.contains("Serial number: 0x3039"), "{text}");
        assert!(text.contains("42 42 42 42"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn keys_roundtrip_through_pkcs8() {
        let k = EcKey::generate().expect("key");
        let k2 = EcKey::from_pkcs8(k.pkcs8_der()).expect("reload");
        assert_eq!(k.public_point(), k2.public_point());
        assert_eq!(k.public_point().len(), 65);
        assert!(EcKey::from_pkcs8(b"not a key").is_err());
    }
}
