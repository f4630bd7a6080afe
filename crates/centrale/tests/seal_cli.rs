//! The offline key tools, run as custodians and a bidder would: `centrale keys
//! custodian-keygen`, `keys contribute`, `keys ack`, `seal`, `keys decrypt-share`. The server's
//! part (the roster, the key computed from the commitments) is played here with the same
//! public functions. Two of three custodians' shares open what `centrale seal` sealed; one
//! does not, and no single run of the CLI ever prints the key.

use std::path::Path;
use std::process::Command;

use offerte::custody::{CeremonyCustodian, Contributions, DealerContribution, OpeningShareUpload, TenderKey};
use seal::custody::{self as dkg, ThresholdIdentity};
use uuid::Uuid;

fn centrale(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_centrale"))
        .args(args)
        .output()
        .expect("centrale runs");
    assert!(
        out.status.success(),
        "centrale {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn a_two_of_three_dealerless_ceremony_seal_and_opening_with_the_cli() {
    let dir = std::env::temp_dir().join(format!("centrale-seal-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bando = Uuid::new_v4();
    let keys: Vec<_> = (1..=3).map(|i| dir.join(format!("c{i}.key"))).collect();
    let custodians: Vec<CeremonyCustodian> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| CeremonyCustodian {
            user_id: Uuid::new_v4(),
            index: i as u32 + 1,
            transport_key: Some(
                centrale(&["keys", "custodian-keygen", "--out", path(k)])
                    .trim()
                    .to_string(),
            ),
            contributed: false,
            acked: false,
        })
        .collect();
    let view = TenderKey {
        bando_id: bando,
        ceremony_id: Some(Uuid::new_v4()),
        status: "contributing".into(),
        k: 2,
        n: 3,
        submission_deadline: None,
        custodians: custodians.clone(),
        recipients: Default::default(),
        leaf_hash: None,
        completed_at: None,
    };
    let view_path = dir.join("sigillo.json");
    std::fs::write(&view_path, serde_json::to_string(&view).expect("json")).expect("write");
    let mut contributions = Vec::new();
    for c in &custodians {
        let out = centrale(&["keys", "contribute", "--ceremony", path(&view_path)]);
        assert!(!out.contains("AGE-SECRET-KEY"), "no secret leaves a contribution");
        let upload: offerte::custody::ContributionUpload = serde_json::from_str(&out).expect("contribution");
        for (kind, kc) in upload.kinds {
            contributions.push(DealerContribution {
                dealer_user_id: c.user_id,
                dealer_index: c.index,
                kind,
                commitments: kc.commitments,
                shares: kc.shares,
            });
        }
    }
    let all = Contributions {
        bando_id: bando,
        ceremony_id: Uuid::new_v4(),
        k: 2,
        n: 3,
        custodians,
        contributions,
    };
    let all_path = dir.join("contributi.json");
    std::fs::write(&all_path, serde_json::to_string(&all).expect("json")).expect("write");
    for k in &keys {
        let ack = centrale(&["keys", "ack", "--identity", path(k), "--contributions", path(&all_path)]);
        assert!(ack.contains("\"A\"") && ack.contains("\"C\""), "{ack}");
    }
    // The tender key of C, as the server computes it from the commitments.
    let commitments: Vec<Vec<_>> = all
        .contributions
        .iter()
        .filter(|c| c.kind == "C")
        .map(|c| {
            c.commitments
                .iter()
                .map(|p| dkg::parse_point(p).expect("point"))
                .collect()
        })
        .collect();
    let x = dkg::tender_public_key(&commitments);
    let recipient = dkg::recipient_of(&x).expect("recipient");
    let plain = dir.join("c.json");
    std::fs::write(&plain, "Offerta economica: ribasso 12,345%").expect("write");
    let sealed = dir.join("c.age");
    centrale(&[
        "seal",
        "--recipient",
        &recipient,
        "--in",
        path(&plain),
        "--out",
        path(&sealed),
    ]);
    let ciphertext = std::fs::read(&sealed).expect("sealed");

    let share = |i: usize| -> (u32, dkg::Scalar) {
        let out = centrale(&[
            "keys",
            "decrypt-share",
            "--identity",
            path(&keys[i]),
            "--contributions",
            path(&all_path),
            "--kind",
            "C",
        ]);
        let s: OpeningShareUpload = serde_json::from_str(&out).expect("share json");
        (i as u32 + 1, dkg::parse_scalar(&s.share).expect("scalar"))
    };
    let (first, third) = (share(0), share(2));
    assert!(dkg::combine(&[first], 2).is_err(), "one share must not open");
    let id = ThresholdIdentity::new(dkg::combine(&[first, third], 2).expect("two shares"), &x).expect("key of C");
    let mut opened = Vec::new();
    seal::envelope::open_stream(&id, &ciphertext[..], &mut opened).expect("opens");
    assert_eq!(
        String::from_utf8(opened).expect("utf-8"),
        "Offerta economica: ribasso 12,345%"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
