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

/// `centrale seal` with several files: the envelope decrypts to exactly the shared fixture
/// bytes of `centrale-busta/1` (same inputs as crates/offerte/tests/fixtures/busta-a.tar);
/// envelope C without a valid economic offer is refused and leaves no file behind.
#[test]
fn seal_packs_several_files_into_the_contract_archive_and_c_needs_its_offer() {
    let dir = std::env::temp_dir().join(format!("centrale-seal-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let key = dir.join("k.key");
    let recipient = centrale(&["keys", "custodian-keygen", "--out", path(&key)])
        .trim()
        .to_string();
    let identity = std::fs::read_to_string(&key).expect("key");
    let identity = seal::envelope::parse_identity(identity.lines().last().expect("secret")).expect("identity");
    std::fs::write(dir.join("domanda.txt"), "Domanda di partecipazione\n").expect("write");
    std::fs::write(dir.join("dgue.xml"), "<dgue/>\n").expect("write");
    let sealed = dir.join("busta-a.age");
    let bando = "00000000-0000-0000-0000-000000000001";
    let out = centrale(&[
        "seal",
        "--recipient",
        &recipient,
        "--bando",
        bando,
        "--busta",
        "A",
        "--file",
        path(&dir.join("domanda.txt")),
        "--file",
        path(&dir.join("dgue.xml")),
        "--output",
        path(&sealed),
    ]);
    assert!(out.contains(" 8 dgue.xml") && out.contains(" 26 domanda.txt"), "{out}");
    let mut plain = Vec::new();
    seal::envelope::open_stream(&identity, &std::fs::read(&sealed).expect("sealed")[..], &mut plain).expect("opens");
    let fixture = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../offerte/tests/fixtures/busta-a.tar"))
        .expect("fixture");
    assert!(plain == fixture, "the sealed archive differs from the shared fixture");

    // Envelope C: the offer is required, checked, and packed as offerta-economica.json.
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_centrale"))
            .args(args)
            .output()
            .expect("centrale runs")
    };
    let c = dir.join("busta-c.age");
    let no_offer = run(&[
        "seal",
        "--recipient",
        &recipient,
        "--bando",
        bando,
        "--busta",
        "C",
        "--file",
        path(&dir.join("domanda.txt")),
        "--output",
        path(&c),
    ]);
    assert!(!no_offer.status.success());
    assert!(String::from_utf8_lossy(&no_offer.stderr).contains("offerta-economica.json"));
    std::fs::write(dir.join("offerta.json"), r#"{"discount":"dodici"}"#).expect("write");
    let bad = run(&[
        "seal",
        "--recipient",
        &recipient,
        "--bando",
        bando,
        "--busta",
        "C",
        "--offerta",
        path(&dir.join("offerta.json")),
        "--output",
        path(&c),
    ]);
    assert!(!bad.status.success());
    assert!(!c.exists(), "nothing written for a refused envelope");
    std::fs::write(
        dir.join("offerta.json"),
        r#"{"discount":"12.5","labour_costs":"41000","safety_costs":"2500"}"#,
    )
    .expect("write");
    centrale(&[
        "seal",
        "--recipient",
        &recipient,
        "--bando",
        bando,
        "--busta",
        "C",
        "--offerta",
        path(&dir.join("offerta.json")),
        "--file",
        path(&dir.join("dgue.xml")),
        "--output",
        path(&c),
    ]);
    let mut plain = Vec::new();
    seal::envelope::open_stream(&identity, &std::fs::read(&c).expect("sealed")[..], &mut plain).expect("opens");
    let m = offerte::archive::validate(&plain[..]).expect("a valid archive");
    assert_eq!(m.busta, "C");
    let names: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["dgue.xml", "offerta-economica.json"]);
    // A file named like the manifest, or twice the same name, is refused.
    std::fs::create_dir_all(dir.join("x")).expect("dir");
    std::fs::write(dir.join("x/dgue.xml"), "altro").expect("write");
    let dup = run(&[
        "seal",
        "--recipient",
        &recipient,
        "--bando",
        bando,
        "--busta",
        "A",
        "--file",
        path(&dir.join("dgue.xml")),
        "--file",
        path(&dir.join("x/dgue.xml")),
        "--output",
        path(&c),
    ]);
    assert!(String::from_utf8_lossy(&dup.stderr).contains("due volte"), "{dup:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
