//! The offline key tools, run as a custodian and a bidder would: `centrale keys
//! custodian-keygen`, `keys ceremony`, `seal`, `keys decrypt-share`. Two of three shares
//! rebuild the tender key and open what `centrale seal` sealed; one share does not.

use std::path::Path;
use std::process::Command;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use seal::custody::{combine_for_recipient, KeyShare};

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

fn last_line_starting(text: &str, prefix: &str) -> String {
    text.lines()
        .map(str::trim)
        .rfind(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix} in {text}"))
        .to_string()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn a_two_of_three_ceremony_seal_and_opening_with_the_cli() {
    let dir = std::env::temp_dir().join(format!("centrale-seal-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut custodians = Vec::new();
    for i in 0..3 {
        let identity = dir.join(format!("c{i}.key"));
        let public = last_line_starting(
            &centrale(&["keys", "custodian-keygen", "--out", path(&identity)]),
            "age1",
        );
        custodians.push((uuid::Uuid::new_v4().to_string(), public, identity));
    }
    let mut args = vec!["keys".to_string(), "ceremony".into(), "-k".into(), "2".into()];
    for (user, public, _) in &custodians {
        args.push("--custodian".into());
        args.push(format!("{user}={public}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ceremony_json = centrale(&args);
    let ceremony: serde_json::Value = serde_json::from_str(&ceremony_json).expect("ceremony JSON");
    let recipient = ceremony["recipient"].as_str().expect("recipient").to_string();
    assert!(recipient.starts_with("age1"));
    assert!(
        !ceremony_json.contains("AGE-SECRET-KEY"),
        "the tender's private key never leaves the ceremony"
    );
    let ceremony_path = dir.join("ceremony.json");
    std::fs::write(&ceremony_path, &ceremony_json).expect("write ceremony");

    let plain = dir.join("offerta.txt");
    std::fs::write(&plain, "Offerta economica: ribasso 12,345%").expect("write plaintext");
    let sealed = dir.join("offerta.age");
    centrale(&[
        "seal",
        "--recipient",
        &recipient,
        "--in",
        path(&plain),
        "--out",
        path(&sealed),
    ]);
    let ciphertext = std::fs::read(&sealed).expect("sealed file");
    assert!(!String::from_utf8_lossy(&ciphertext).contains("ribasso"));

    let share = |i: usize| -> KeyShare {
        let out = centrale(&[
            "keys",
            "decrypt-share",
            "--identity",
            path(&custodians[i].2),
            "--share",
            path(&ceremony_path),
        ]);
        let b64 = out.lines().map(str::trim).rfind(|l| !l.is_empty()).expect("share line");
        KeyShare::from_bytes(&B64.decode(b64).expect("base64 share")).expect("a share")
    };
    let (first, third) = (share(0), share(2));
    assert!(
        combine_for_recipient(std::slice::from_ref(&first), 2, &recipient).is_err(),
        "one share must not open"
    );
    let key = combine_for_recipient(&[first, third], 2, &recipient).expect("two shares rebuild the tender key");
    let mut opened = Vec::new();
    seal::envelope::open_stream(&key, &ciphertext[..], &mut opened).expect("opens");
    assert_eq!(
        String::from_utf8(opened).expect("utf-8"),
        "Offerta economica: ribasso 12,345%"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
