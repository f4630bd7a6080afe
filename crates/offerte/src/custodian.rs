//! The custodian's side of the ceremony, run on his own machine (`centrale keys contribute`,
//! `ack`, `decrypt-share`): no database, no trust in the server. The server's answers
//! (`GET /bandi/{id}/sigillo`, `/sigillo/contributi`) go in; what to post comes out.

use std::collections::BTreeMap;

use curve25519_dalek::scalar::Scalar;
use seal::custody::{self as dkg, Participant};
use seal::envelope::{parse_recipient, AgeIdentity};
use zeroize::Zeroizing;

use crate::custody::{
    AckUpload, ContributionUpload, Contributions, KindContribution, OpeningShareUpload, ProofWire, SealedShare,
    TenderKey, KINDS,
};
use crate::OfferteError;

fn complaint(message: String) -> OfferteError {
    OfferteError::invalid("custody_complaint", "contributions", message)
}

/// A fresh contribution for every kind, to the custodians' registered transport keys.
pub fn contribution(view: &TenderKey) -> Result<ContributionUpload, OfferteError> {
    let mut participants = Vec::with_capacity(view.custodians.len());
    for c in &view.custodians {
        let key = c.transport_key.as_deref().ok_or_else(|| {
            OfferteError::conflict(
                "transport_keys_missing",
                format!("Il custode {} non ha ancora registrato la chiave di trasporto", c.index),
            )
        })?;
        participants.push(Participant {
            index: c.index,
            transport_key: parse_recipient(key)?,
        });
    }
    let mut kinds = BTreeMap::new();
    for kind in KINDS {
        let c = dkg::contribute(view.k, &participants)?;
        kinds.insert(
            kind.to_string(),
            KindContribution {
                commitments: c.commitments.iter().map(dkg::point_hex).collect(),
                shares: c
                    .shares
                    .iter()
                    .map(|(index, ct)| SealedShare {
                        index: *index,
                        ciphertext: dkg::b64(ct),
                    })
                    .collect(),
            },
        );
    }
    Ok(ContributionUpload { kinds })
}

/// The caller's custodian number: the one whose transport key is this identity's.
fn my_index(identity: &AgeIdentity, all: &Contributions) -> Result<u32, OfferteError> {
    let me = identity.to_public().to_string();
    all.custodians
        .iter()
        .find(|c| c.transport_key.as_deref() == Some(me.as_str()))
        .map(|c| c.index)
        .ok_or_else(|| complaint(format!("Nessun custode ha registrato la chiave di trasporto {me}")))
}

/// Decrypts and checks (Feldman) every share sent to custodian `j` for `kind`, and sums them.
/// A share that fails names its dealer: the ceremony must be redone.
fn combined_share(
    identity: &AgeIdentity,
    all: &Contributions,
    j: u32,
    kind: &str,
) -> Result<Zeroizing<Scalar>, OfferteError> {
    let mut sum = Zeroizing::new(Scalar::ZERO);
    let mut cheaters = Vec::new();
    let mut dealers = 0;
    for c in all.contributions.iter().filter(|c| c.kind == kind) {
        dealers += 1;
        let verdict = (|| -> Result<bool, OfferteError> {
            let commitments = c
                .commitments
                .iter()
                .map(|p| dkg::parse_point(p))
                .collect::<Result<Vec<_>, _>>()?;
            if commitments.len() != all.k {
                return Ok(false);
            }
            let Some(sealed) = c.shares.iter().find(|s| s.index == j) else {
                return Ok(false);
            };
            let share = Zeroizing::new(dkg::open_share(identity, &dkg::unb64(&sealed.ciphertext)?)?);
            if !dkg::share_is_consistent(&commitments, j, &share) {
                return Ok(false);
            }
            *sum += *share;
            Ok(true)
        })();
        if !matches!(verdict, Ok(true)) {
            cheaters.push(format!(
                "custode {} ({}), busta {kind}",
                c.dealer_index, c.dealer_user_id
            ));
        }
    }
    if !cheaters.is_empty() {
        return Err(complaint(format!(
            "Reclamo: la quota ricevuta non è coerente con gli impegni pubblicati da {}. Non confermare: il RUP deve azzerare la cerimonia",
            cheaters.join("; ")
        )));
    }
    if dealers != all.n {
        return Err(OfferteError::conflict(
            "contributions_missing",
            format!("Busta {kind}: contributi ricevuti {dealers} su {}", all.n),
        ));
    }
    Ok(sum)
}

/// The acknowledgement to post: every share checked, a proof of knowledge per kind.
pub fn acknowledgement(identity: &AgeIdentity, all: &Contributions) -> Result<AckUpload, OfferteError> {
    let j = my_index(identity, all)?;
    let mut kinds = BTreeMap::new();
    for kind in KINDS {
        let s = combined_share(identity, all, j, kind)?;
        let proof = dkg::prove(&s, &dkg::proof_context(&all.bando_id.to_string(), kind, j));
        kinds.insert(
            kind.to_string(),
            ProofWire {
                commitment: dkg::point_hex(&proof.commitment),
                response: dkg::scalar_hex(&proof.response),
            },
        );
    }
    Ok(AckUpload { kinds })
}

/// The custodian's share of `kind`, to post at its opening (and only then).
pub fn opening_share(
    identity: &AgeIdentity,
    all: &Contributions,
    kind: &str,
) -> Result<OpeningShareUpload, OfferteError> {
    let kind = crate::submit::parse_kind(kind)?;
    let j = my_index(identity, all)?;
    let s = combined_share(identity, all, j, kind.as_str())?;
    Ok(OpeningShareUpload {
        share: dkg::scalar_hex(&s),
    })
}
