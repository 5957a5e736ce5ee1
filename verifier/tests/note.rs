//! Signed notes, checkpoints and cosignatures (`src/note.rs`): the Go reference's published
//! keys and notes, the C2SP specification's examples, round trips, every way a note, key or
//! checkpoint is refused, and how `verify_checkpoint` counts witnesses.
//!
//! Keys of our own come from fixed seeds, so every run signs the same bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use corroborate_verifier::note::{
    COSIGNATURE_V1, Checkpoint, ED25519, MAX_CLOCK_SKEW_SECS, MAX_SIGNATURE_BYTES, MAX_SIGNATURES,
    NoteError, NoteSigner, NoteVerifier, SignatureLine, SignedNote, cosign, cosignature_message,
    parse_signature_lines, sign_note, verify_checkpoint, verify_log_signature,
};
use ed25519_dalek::{Signature, SigningKey, Verifier as _};

// golang.org/x/mod/sumdb/note, note_test.go: keys and a note signed by the Go implementation.
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

const NOW: u64 = 1_750_000_000;
const ORIGIN: &str = "log.corroborate.example/test";

fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn log_signer() -> NoteSigner {
    NoteSigner::new(ORIGIN, ED25519, signing_key(1)).unwrap()
}

fn witness(seed: u8) -> NoteSigner {
    NoteSigner::new(
        &format!("witness{seed}.example"),
        COSIGNATURE_V1,
        signing_key(seed),
    )
    .unwrap()
}

fn checkpoint(size: u64) -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: [size as u8; 32],
        extensions: vec![],
    }
}

/// A checkpoint signed by the log and cosigned by `witnesses` at `timestamp`.
fn cosigned(checkpoint: &Checkpoint, witnesses: &[&NoteSigner], timestamp: u64) -> String {
    let body = checkpoint.body();
    let mut signatures = vec![sign_note(&log_signer(), &body).unwrap()];
    for w in witnesses {
        signatures.push(cosign(w, checkpoint, timestamp).unwrap());
    }
    SignedNote { body, signatures }.to_text()
}

fn verifiers(signers: &[&NoteSigner]) -> Vec<NoteVerifier> {
    signers.iter().map(|s| s.verifier()).collect()
}

// ---- independent vectors ----------------------------------------------------------------------

#[test]
fn the_go_reference_note_verifies() {
    let peter = NoteVerifier::parse(PETER_VKEY).unwrap();
    assert_eq!(peter.name(), "PeterNeumann");
    assert_eq!(peter.key_id(), [0xc7, 0x4f, 0x20, 0xa3]);
    assert_eq!(peter.kind(), ED25519);
    assert_eq!(peter.to_vkey(), PETER_VKEY);
    assert_eq!(peter.to_string(), PETER_VKEY);

    let note = SignedNote::parse(&format!("{GO_TEXT}\n{PETER_SIG}{ENOCH_SIG}")).unwrap();
    assert_eq!(note.body, GO_TEXT);
    assert_eq!(note.signatures.len(), 2);
    verify_log_signature(&note, &peter).unwrap();
    // Enoch's line is of another key: ignored by Peter's verifier, verified by Enoch's own.
    let enoch = NoteVerifier::parse(ENOCH_VKEY).unwrap();
    verify_log_signature(&note, &enoch).unwrap();
}

#[test]
fn signing_with_the_go_reference_key_gives_the_go_signature_byte_for_byte() {
    let signer = NoteSigner::parse(PETER_SKEY).unwrap();
    assert_eq!(signer.to_skey(), PETER_SKEY);
    assert_eq!(signer.verifier().to_vkey(), PETER_VKEY);
    let line = sign_note(&signer, GO_TEXT).unwrap();
    assert_eq!(line.to_line(), PETER_SIG);
    let note = SignedNote {
        body: GO_TEXT.into(),
        signatures: vec![line],
    };
    assert_eq!(note.to_text(), format!("{GO_TEXT}\n{PETER_SIG}"));
}

#[test]
fn the_go_reference_note_fails_once_changed() {
    let peter = NoteVerifier::parse(PETER_VKEY).unwrap();
    let changed = format!("{GO_TEXT}\n{PETER_SIG}").replace("cryptography", "cryptographY");
    let note = SignedNote::parse(&changed).unwrap();
    assert!(matches!(
        verify_log_signature(&note, &peter),
        Err(NoteError::InvalidSignature { .. })
    ));
}

/// As the Go test does: every proper substring of the keys, and every key with one byte
/// incremented, is refused.
#[test]
fn mangled_go_reference_keys_are_refused() {
    for (key, parse) in [
        (
            PETER_VKEY,
            (|k: &str| NoteVerifier::parse(k).is_ok()) as fn(&str) -> bool,
        ),
        (PETER_SKEY, |k: &str| NoteSigner::parse(k).is_ok()),
    ] {
        assert!(parse(key));
        let bytes = key.as_bytes();
        for i in 0..bytes.len() {
            for j in i + 1..=bytes.len() {
                if (i, j) != (0, bytes.len()) {
                    let part = std::str::from_utf8(&bytes[i..j]).unwrap();
                    assert!(!parse(part), "{part:?} was accepted");
                }
            }
        }
        for i in 0..bytes.len() {
            let mut changed = bytes.to_vec();
            changed[i] = changed[i].wrapping_add(1);
            if let Ok(changed) = String::from_utf8(changed) {
                assert!(!parse(&changed), "{changed:?} was accepted");
            }
        }
    }
    // From the Go test: a key of the wrong length and an unknown algorithm, each with its key id
    // adjusted to match.
    assert!(
        NoteVerifier::parse(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
        .is_err()
    );
    assert_eq!(
        NoteVerifier::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(NoteError::UnsupportedKeyType(0x65))
    );
}

#[test]
fn published_cosignature_keys_parse() {
    // A cosignature/v1 witness key from transparency-dev/formats' tests.
    let remora =
        NoteVerifier::parse("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
            .unwrap();
    assert_eq!(remora.kind(), COSIGNATURE_V1);
    assert_eq!(remora.key_id(), [0xda, 0x77, 0xad, 0xe7]);
    // The same key material under type 0x01 has another key id.
    let as_ed25519 =
        NoteVerifier::new(remora.name(), ED25519, ed25519_key(&remora.public_key())).unwrap();
    assert_ne!(as_ed25519.key_id(), remora.key_id());
}

fn ed25519_key(bytes: &[u8; 32]) -> ed25519_dalek::VerifyingKey {
    ed25519_dalek::VerifyingKey::from_bytes(bytes).unwrap()
}

#[test]
fn published_cosignatures_carry_their_timestamps() {
    // The cosigned checkpoint of c2sp.org/tlog-cosignature, whose message example says
    // "time 1679315147".
    let spec = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
                — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
                — witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
    let note = SignedNote::parse(spec).unwrap();
    let checkpoint = Checkpoint::parse_body(&note.body).unwrap();
    assert_eq!(checkpoint.size, 20852163);
    assert_eq!(note.signatures[1].name, "witness.example.com/w1");
    assert_eq!(note.signatures[1].cosignature_timestamp(), Some(1679315147));
    // The log's plain Ed25519 signature is not of the cosignature length.
    assert_eq!(note.signatures[0].cosignature_timestamp(), None);
    // transparency-dev/formats: a cosignature at 1727964367.
    let line = SignatureLine::parse("— w ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==").unwrap();
    assert_eq!(line.cosignature_timestamp(), Some(1727964367));
}

// ---- round trips --------------------------------------------------------------------------------

#[test]
fn keys_round_trip() {
    for kind in [ED25519, COSIGNATURE_V1] {
        let signer = NoteSigner::new("example.com/key", kind, signing_key(9)).unwrap();
        let again = NoteSigner::parse(&signer.to_skey()).unwrap();
        assert_eq!(again.to_skey(), signer.to_skey());
        let verifier = signer.verifier();
        assert_eq!(verifier.kind(), kind);
        assert_eq!(NoteVerifier::parse(&verifier.to_vkey()).unwrap(), verifier);
        assert_eq!(
            verifier.to_vkey().parse::<NoteVerifier>().unwrap(),
            verifier
        );
    }
    let seeded = NoteSigner::from_seed("example.com/key", ED25519, &[9; 32]).unwrap();
    assert_eq!(
        seeded.to_skey(),
        NoteSigner::new("example.com/key", ED25519, signing_key(9))
            .unwrap()
            .to_skey()
    );
    // A type 0x01 key may cosign once turned into a type 0x04 signer.
    let cosigner = NoteSigner::parse(PETER_SKEY)
        .unwrap()
        .with_kind(COSIGNATURE_V1)
        .unwrap();
    assert_eq!(cosigner.kind(), COSIGNATURE_V1);
    assert_ne!(cosigner.verifier().key_id(), [0xc7, 0x4f, 0x20, 0xa3]);
}

#[test]
fn the_signer_never_shows_its_secret() {
    let signer = NoteSigner::new("example.com/key", ED25519, signing_key(9)).unwrap();
    let shown = format!("{signer:?}");
    let skey = signer.to_skey();
    let secret = skey.rsplit('+').next().unwrap();
    assert!(
        !shown.contains(secret) && !shown.contains("PRIVATE"),
        "{shown}"
    );
    assert!(shown.contains(&signer.verifier().to_vkey()), "{shown}");
}

#[test]
fn checkpoints_and_notes_round_trip() {
    let with_extensions = Checkpoint {
        extensions: vec!["ext one".into(), "— two".into()],
        ..checkpoint(42)
    };
    for cp in [checkpoint(0), checkpoint(42), with_extensions] {
        let body = cp.body();
        assert_eq!(Checkpoint::parse_body(&body).unwrap(), cp);
        let text = cosigned(&cp, &[&witness(2)], NOW);
        let note = SignedNote::parse(&text).unwrap();
        assert_eq!(note.body, body);
        assert_eq!(note.to_text(), text);
        let verified = verify_checkpoint(
            &text,
            &log_signer().verifier(),
            &verifiers(&[&witness(2)]),
            1,
            NOW,
        )
        .unwrap();
        assert_eq!(verified.checkpoint, cp);
        assert_eq!(verified.cosigners, vec![("witness2.example".into(), NOW)]);
    }
    assert_eq!(
        checkpoint(5).body(),
        format!("{ORIGIN}\n5\n{}\n", STANDARD.encode([5u8; 32]))
    );
}

#[test]
fn a_note_text_may_hold_blank_lines() {
    let body = "first\n\nthird\n";
    let line = sign_note(&log_signer(), body).unwrap();
    let text = SignedNote {
        body: body.into(),
        signatures: vec![line],
    }
    .to_text();
    let note = SignedNote::parse(&text).unwrap();
    assert_eq!(note.body, body);
    verify_log_signature(&note, &log_signer().verifier()).unwrap();
}

// ---- the cosignature message ---------------------------------------------------------------------

#[test]
fn a_cosignature_signs_exactly_the_v1_message() {
    let cp = Checkpoint {
        extensions: vec!["extension".into()],
        ..checkpoint(20852163)
    };
    let body = cp.body();
    let expected = format!("cosignature/v1\ntime 1679315147\n{body}");
    assert_eq!(cosignature_message(&body, 1679315147), expected);

    let w = witness(2);
    let line = cosign(&w, &cp, 1679315147).unwrap();
    assert_eq!(line.name, "witness2.example");
    assert_eq!(line.key_id, w.verifier().key_id());
    assert_eq!(line.signature.len(), 72);
    assert_eq!(line.signature[..8], 1679315147u64.to_be_bytes());
    // Checked with Ed25519 directly, over the message written out here.
    let signature = Signature::from_slice(&line.signature[8..]).unwrap();
    signing_key(2)
        .verifying_key()
        .verify(expected.as_bytes(), &signature)
        .unwrap();
    // Not over the body alone, nor another time.
    assert!(
        signing_key(2)
            .verifying_key()
            .verify(body.as_bytes(), &signature)
            .is_err()
    );
    assert!(
        signing_key(2)
            .verifying_key()
            .verify(
                cosignature_message(&body, 1679315148).as_bytes(),
                &signature
            )
            .is_err()
    );
    // The key id is SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[:4].
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"witness2.example\n\x04");
    hasher.update(signing_key(2).verifying_key().as_bytes());
    assert_eq!(line.key_id, hasher.finalize()[..4]);
}

#[test]
fn each_key_signs_only_its_own_kind() {
    let cp = checkpoint(3);
    assert!(matches!(
        cosign(&log_signer(), &cp, NOW),
        Err(NoteError::WrongKeyKind { expected: 0x04, .. })
    ));
    assert!(matches!(
        sign_note(&witness(2), &cp.body()),
        Err(NoteError::WrongKeyKind { expected: 0x01, .. })
    ));
    assert_eq!(
        cosign(&witness(2), &cp, 1 << 63),
        Err(NoteError::TimestampTooLarge(1 << 63))
    );
    let broken = Checkpoint {
        origin: "two\nlines".into(),
        ..cp
    };
    assert!(cosign(&witness(2), &broken, NOW).is_err());
    assert_eq!(
        sign_note(&log_signer(), "no newline"),
        Err(NoteError::MissingFinalNewline)
    );
}

// ---- corruption ----------------------------------------------------------------------------------

#[test]
fn a_flipped_bit_anywhere_fails() {
    let w = witness(2);
    let log = log_signer().verifier();
    let text = cosigned(&checkpoint(7), &[&w], NOW);
    let ws = verifiers(&[&w]);
    verify_checkpoint(&text, &log, &ws, 1, NOW).unwrap();

    // In the body: the size 7 becomes 6.
    let body_flipped = text.replacen("\n7\n", "\n6\n", 1);
    assert!(matches!(
        verify_checkpoint(&body_flipped, &log, &ws, 0, NOW),
        Err(NoteError::InvalidSignature { .. })
    ));
    // In each signature: every bit of the signature proper (not the key id or timestamp, which
    // give other reasons) is flipped in turn.
    let note = SignedNote::parse(&text).unwrap();
    for index in 0..2 {
        let start = if index == 0 { 0 } else { 8 };
        for bit in (start * 8..note.signatures[index].signature.len() * 8).step_by(37) {
            let mut bad = note.clone();
            bad.signatures[index].signature[bit / 8] ^= 1 << (bit % 8);
            let result = verify_checkpoint(&bad.to_text(), &log, &ws, 1, NOW);
            assert!(
                matches!(result, Err(NoteError::InvalidSignature { .. })),
                "signature {index}, bit {bit}: {result:?}"
            );
        }
    }
    // A cosignature whose timestamp was changed no longer verifies.
    let mut bad = note.clone();
    bad.signatures[1].signature[7] ^= 1;
    assert!(matches!(
        verify_checkpoint(&bad.to_text(), &log, &ws, 1, NOW),
        Err(NoteError::InvalidSignature { .. })
    ));
    // In the key: the log's key with a bit flipped is another key, whose id differs, so the
    // log's signature is not there for it.
    let other = (0..256)
        .find_map(|bit| {
            let mut key = log.public_key();
            key[bit / 8] ^= 1 << (bit % 8);
            let key = ed25519_dalek::VerifyingKey::from_bytes(&key).ok()?;
            NoteVerifier::new(ORIGIN, ED25519, key).ok()
        })
        .unwrap();
    assert!(matches!(
        verify_checkpoint(&text, &other, &ws, 0, NOW),
        Err(NoteError::NoLogSignature { .. })
    ));
    // The same key id with another key (an attacker computing a collision) is a key whose
    // signature fails, not an unknown one.
    let mut colliding = note.clone();
    colliding.signatures[0] = sign_note(
        &NoteSigner::new(ORIGIN, ED25519, signing_key(3)).unwrap(),
        &note.body,
    )
    .unwrap();
    colliding.signatures[0].key_id = log.key_id();
    assert!(matches!(
        verify_checkpoint(&colliding.to_text(), &log, &ws, 0, NOW),
        Err(NoteError::InvalidSignature { .. })
    ));
    // A flipped bit in a vkey's key material is refused when parsing (key id mismatch).
    let vkey = w.verifier().to_vkey();
    let (head, encoded) = vkey.rsplit_once('+').unwrap();
    let mut raw = STANDARD.decode(encoded).unwrap();
    raw[5] ^= 0x10;
    let flipped = format!("{head}+{}", STANDARD.encode(raw));
    assert!(NoteVerifier::parse(&flipped).is_err());
}

// ---- counting witnesses --------------------------------------------------------------------------

#[test]
fn lines_of_unknown_keys_are_ignored_not_counted() {
    let (w2, w3) = (witness(2), witness(3));
    let log = log_signer().verifier();
    let cp = checkpoint(9);
    let good = cosign(&w2, &cp, NOW).unwrap();
    // w3's real cosignature relabelled: w2's name with w3's id, and w3's name with w2's id.
    let mut wrong_name = cosign(&w3, &cp, NOW).unwrap();
    wrong_name.name = w2.name().into();
    let mut wrong_id = cosign(&w3, &cp, NOW).unwrap();
    wrong_id.key_id = w2.verifier().key_id();
    wrong_id.name = "someone.else".into();
    // An unknown line of another signature type, and one from nobody configured at all.
    let unknown_type = SignatureLine {
        name: "pq.example".into(),
        key_id: [1, 2, 3, 4],
        signature: vec![7; 2420],
    };
    let stranger = cosign(&witness(4), &cp, NOW).unwrap();
    let note = SignedNote {
        body: cp.body(),
        signatures: vec![
            sign_note(&log_signer(), &cp.body()).unwrap(),
            wrong_name,
            wrong_id,
            unknown_type,
            stranger,
            good,
        ],
    };
    let text = note.to_text();
    let ws = verifiers(&[&w2, &w3]);
    let verified = verify_checkpoint(&text, &log, &ws, 1, NOW).unwrap();
    assert_eq!(verified.cosigners, vec![("witness2.example".into(), NOW)]);
    assert_eq!(
        verify_checkpoint(&text, &log, &ws, 2, NOW),
        Err(NoteError::QuorumNotMet {
            needed: 2,
            found: 1
        })
    );
}

#[test]
fn a_witness_counts_once() {
    let w2 = witness(2);
    let log = log_signer().verifier();
    let cp = checkpoint(11);
    // The same witness twice, at two times: one cosigner, at the later time.
    let body = cp.body();
    let note = SignedNote {
        body: body.clone(),
        signatures: vec![
            sign_note(&log_signer(), &body).unwrap(),
            cosign(&w2, &cp, NOW - 100).unwrap(),
            cosign(&w2, &cp, NOW - 5).unwrap(),
        ],
    };
    let ws = verifiers(&[&w2, &witness(3)]);
    let verified = verify_checkpoint(&note.to_text(), &log, &ws, 1, NOW).unwrap();
    assert_eq!(
        verified.cosigners,
        vec![("witness2.example".into(), NOW - 5)]
    );
    assert_eq!(
        verify_checkpoint(&note.to_text(), &log, &ws, 2, NOW),
        Err(NoteError::QuorumNotMet {
            needed: 2,
            found: 1
        })
    );
    // The same key configured under two names: cosignature/v1 does not sign the name, so one
    // signature would pass for both; it counts once.
    let alias = NoteSigner::new("alias.example", COSIGNATURE_V1, signing_key(2)).unwrap();
    let mut aliased = note.clone();
    let mut relabelled = aliased.signatures[1].clone();
    relabelled.name = alias.name().into();
    relabelled.key_id = alias.verifier().key_id();
    aliased.signatures.push(relabelled);
    let ws = verifiers(&[&w2, &alias]);
    let verified = verify_checkpoint(&aliased.to_text(), &log, &ws, 1, NOW).unwrap();
    assert_eq!(verified.cosigners.len(), 1);
    assert!(matches!(
        verify_checkpoint(&aliased.to_text(), &log, &ws, 2, NOW),
        Err(NoteError::QuorumNotMet { found: 1, .. })
    ));
    // The same witness listed twice in the configuration: still once.
    let ws = verifiers(&[&w2, &w2]);
    assert!(matches!(
        verify_checkpoint(&note.to_text(), &log, &ws, 2, NOW),
        Err(NoteError::QuorumNotMet { found: 1, .. })
    ));
}

#[test]
fn quorums_are_counted_over_distinct_witnesses() {
    let (w2, w3, w4) = (witness(2), witness(3), witness(4));
    let log = log_signer().verifier();
    let ws = verifiers(&[&w2, &w3, &w4]);
    let cp = checkpoint(12);
    let two = cosigned(&cp, &[&w2, &w4], NOW);
    assert_eq!(
        verify_checkpoint(&two, &log, &ws, 2, NOW)
            .unwrap()
            .cosigners
            .len(),
        2
    );
    assert_eq!(
        verify_checkpoint(&two, &log, &ws, 3, NOW),
        Err(NoteError::QuorumNotMet {
            needed: 3,
            found: 2
        })
    );
    // The log's signature alone satisfies a quorum of zero, and nothing satisfies a log
    // signature that is missing.
    let bare = cosigned(&cp, &[], NOW);
    verify_checkpoint(&bare, &log, &ws, 0, NOW).unwrap();
    let unsigned_by_log = SignedNote {
        body: cp.body(),
        signatures: vec![cosign(&w2, &cp, NOW).unwrap()],
    }
    .to_text();
    assert!(matches!(
        verify_checkpoint(&unsigned_by_log, &log, &ws, 1, NOW),
        Err(NoteError::NoLogSignature { .. })
    ));
}

#[test]
fn cosignatures_from_the_future_do_not_count() {
    let (w2, w3) = (witness(2), witness(3));
    let log = log_signer().verifier();
    let ws = verifiers(&[&w2, &w3]);
    let cp = checkpoint(13);
    let body = cp.body();
    let note = SignedNote {
        body: body.clone(),
        signatures: vec![
            sign_note(&log_signer(), &body).unwrap(),
            cosign(&w2, &cp, NOW + MAX_CLOCK_SKEW_SECS).unwrap(),
            cosign(&w3, &cp, NOW + MAX_CLOCK_SKEW_SECS + 1).unwrap(),
        ],
    };
    let verified = verify_checkpoint(&note.to_text(), &log, &ws, 1, NOW).unwrap();
    assert_eq!(
        verified.cosigners,
        vec![("witness2.example".into(), NOW + MAX_CLOCK_SKEW_SECS)]
    );
    assert!(matches!(
        verify_checkpoint(&note.to_text(), &log, &ws, 2, NOW),
        Err(NoteError::QuorumNotMet { found: 1, .. })
    ));
}

#[test]
fn configurations_that_cannot_be_checked_are_refused() {
    let log = log_signer().verifier();
    let text = cosigned(&checkpoint(1), &[&witness(2)], NOW);
    // A witness key that is not a cosignature key.
    let plain = NoteSigner::new("witness2.example", ED25519, signing_key(2)).unwrap();
    assert!(matches!(
        verify_checkpoint(&text, &log, &[plain.verifier()], 0, NOW),
        Err(NoteError::WrongKeyKind { .. })
    ));
    // A log key named otherwise than the origin.
    let renamed = NoteSigner::new("other.example/log", ED25519, signing_key(1)).unwrap();
    assert!(matches!(
        verify_checkpoint(&text, &renamed.verifier(), &[], 0, NOW),
        Err(NoteError::OriginMismatch { .. })
    ));
}

// ---- strict parsing ------------------------------------------------------------------------------

#[test]
fn checkpoint_texts_are_parsed_strictly() {
    let root = STANDARD.encode([1u8; 32]);
    let ok = |size: &str, root: &str| format!("example.com/log\n{size}\n{root}\n");
    for (body, expected) in [
        (ok("0", &root), None),
        (ok("18446744073709551615", &root), None),
        (format!("{}ext\n", ok("1", &root)), None),
        (
            ok("01", &root),
            Some(NoteError::InvalidTreeSize("01".into())),
        ),
        (
            ok("00", &root),
            Some(NoteError::InvalidTreeSize("00".into())),
        ),
        (
            ok("+1", &root),
            Some(NoteError::InvalidTreeSize("+1".into())),
        ),
        (
            ok(" 1", &root),
            Some(NoteError::InvalidTreeSize(" 1".into())),
        ),
        (
            ok("0x10", &root),
            Some(NoteError::InvalidTreeSize("0x10".into())),
        ),
        (
            ok("18446744073709551616", &root),
            Some(NoteError::InvalidTreeSize("18446744073709551616".into())),
        ),
        (
            ok("1", &root.replace('=', "")),
            Some(NoteError::InvalidRootHash("not canonical standard base64")),
        ),
        (
            ok("1", &root.replace("AQE=", "AQF=")),
            Some(NoteError::InvalidRootHash("not canonical standard base64")),
        ),
        (
            ok("1", &STANDARD.encode([1u8; 32]).replace('A', "-")),
            Some(NoteError::InvalidRootHash("not canonical standard base64")),
        ),
        (
            ok(
                "1",
                &base64::engine::general_purpose::URL_SAFE.encode([0xffu8; 32]),
            ),
            Some(NoteError::InvalidRootHash("not canonical standard base64")),
        ),
        (
            ok("1", &STANDARD.encode([1u8; 31])),
            Some(NoteError::InvalidRootHash("not 32 bytes")),
        ),
        (
            ok("1", &STANDARD.encode([1u8; 33])),
            Some(NoteError::InvalidRootHash("not 32 bytes")),
        ),
        (
            format!("example.com/log\n1\n{root}"),
            Some(NoteError::MissingFinalNewline),
        ),
        (
            "example.com/log\n1\n".into(),
            Some(NoteError::TooFewLines { found: 2 }),
        ),
        (
            format!("\n1\n{root}\n"),
            Some(NoteError::EmptyLine { line: 1 }),
        ),
        (
            format!("{}\next\n", ok("1", &root)),
            Some(NoteError::EmptyLine { line: 4 }),
        ),
        (
            format!("{}\n", ok("1", &root)),
            Some(NoteError::EmptyLine { line: 4 }),
        ),
        (
            ok("1", &root).replace("example.com/log", "example\r.com"),
            Some(NoteError::ControlCharacter {
                offset: 7,
                code: 13,
            }),
        ),
    ] {
        let result = Checkpoint::parse_body(&body);
        match expected {
            None => assert!(result.is_ok(), "{body:?}: {result:?}"),
            Some(error) => assert_eq!(result, Err(error), "{body:?}"),
        }
    }
}

#[test]
fn malformed_notes_are_refused() {
    let long_name = format!(
        "— name {}\n",
        STANDARD.encode(vec![0u8; MAX_SIGNATURE_BYTES + 1])
    );
    for (text, expected) in [
        // The Go reference's malformed notes.
        (GO_TEXT.to_owned(), "NoSignatures"),
        (format!("{GO_TEXT}\n"), "NoSignatures"),
        (
            format!("{GO_TEXT}\n{}", PETER_SIG.trim_end()),
            "MissingFinalNewline",
        ),
        (format!("\x01{GO_TEXT}\n{PETER_SIG}"), "ControlCharacter"),
        (
            format!(
                "{GO_TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
            ),
            "MalformedSignatureLine",
        ),
        (
            format!("{GO_TEXT}\n{PETER_SIG}Unexpected line.\n"),
            "MalformedSignatureLine",
        ),
        // Ours.
        (format!("{GO_TEXT}\n{PETER_SIG}\n"), "NoSignatures"),
        (format!("{GO_TEXT}\r\n{PETER_SIG}"), "ControlCharacter"),
        (
            format!("{GO_TEXT}\n{}", PETER_SIG.replace('—', "-")),
            "MalformedSignatureLine",
        ),
        (
            format!("{GO_TEXT}\n— PeterNeumann\n"),
            "MalformedSignatureLine",
        ),
        (
            format!("{GO_TEXT}\n— PeterNeumann \n"),
            "MalformedSignatureLine",
        ),
        (
            format!("{GO_TEXT}\n— PeterNeumann AAAAAA==\n"),
            "MalformedSignatureLine",
        ),
        (
            format!("{GO_TEXT}\n— Peter+Neumann AAAAAAA=\n"),
            "MalformedSignatureLine",
        ),
        (
            format!("{GO_TEXT}\n—  AAAAAAA=\n"),
            "MalformedSignatureLine",
        ),
        (
            format!("{GO_TEXT}\n— PeterNeumann AAAAAAA\n"),
            "MalformedSignatureLine",
        ),
        (
            format!("{GO_TEXT}\n— PeterNeumann AAAA AAA=\n"),
            "MalformedSignatureLine",
        ),
        (format!("{GO_TEXT}\n{long_name}"), "SignatureTooLarge"),
        (
            format!("{GO_TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES + 1)),
            "TooManySignatures",
        ),
        (format!("{}\n{PETER_SIG}", "a".repeat(1 << 20)), "TooLarge"),
    ] {
        let result = SignedNote::parse(&text);
        let shown = format!("{result:?}");
        assert!(
            shown.starts_with(&format!("Err({expected}")),
            "{:?}…: expected {expected}, got {shown}",
            &text[..text.len().min(80)]
        );
    }
    // The limits themselves are accepted.
    let most = format!("{GO_TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES));
    assert_eq!(
        SignedNote::parse(&most).unwrap().signatures.len(),
        MAX_SIGNATURES
    );
    let largest = format!(
        "{GO_TEXT}\n— name {}\n",
        STANDARD.encode(vec![0u8; MAX_SIGNATURE_BYTES])
    );
    SignedNote::parse(&largest).unwrap();
}

#[test]
fn witness_answers_parse_as_signature_lines() {
    let cp = checkpoint(4);
    let lines = [
        cosign(&witness(2), &cp, NOW).unwrap(),
        cosign(&witness(3), &cp, NOW).unwrap(),
    ];
    let answer: String = lines.iter().map(SignatureLine::to_line).collect();
    assert_eq!(parse_signature_lines(&answer).unwrap(), lines);
    assert_eq!(parse_signature_lines(""), Err(NoteError::NoSignatures));
    assert_eq!(
        parse_signature_lines(answer.trim_end()),
        Err(NoteError::MissingFinalNewline)
    );
    assert!(parse_signature_lines(&format!("{answer}\n")).is_err());
    assert!(parse_signature_lines(&format!("junk\n{answer}")).is_err());
}

#[test]
fn key_names_and_key_strings_are_checked() {
    let key = signing_key(5);
    for name in ["", "a b", "a+b", "tab\there", "nbsp\u{a0}"] {
        assert!(matches!(
            NoteSigner::new(name, ED25519, key.clone()),
            Err(NoteError::InvalidKeyName { .. })
        ));
    }
    assert_eq!(
        NoteSigner::new("x", 0x02, key.clone()).map(|_| ()),
        Err(NoteError::UnsupportedKeyType(0x02))
    );
    let vkey = NoteSigner::new("x", ED25519, key)
        .unwrap()
        .verifier()
        .to_vkey();
    let (name, rest) = vkey.split_once('+').unwrap();
    let (id, material) = rest.split_once('+').unwrap();
    for bad in [
        format!("{name}+{}+{material}", &id[..7]),
        format!("{name}+{id}0+{material}"),
        format!("{name}+zzzzzzzz+{material}"),
        format!("{name}+00000000+{material}"),
        format!("{name}+{id}"),
        format!("{name}+{id}+{material}\n"),
        format!("{name}+{id}+"),
        format!("y+{id}+{material}"),
        format!("PRIVATE+KEY+{vkey}"),
    ] {
        assert!(NoteVerifier::parse(&bad).is_err(), "{bad:?} was accepted");
    }
    // A verifier key is not a signer key.
    assert!(NoteSigner::parse(&vkey).is_err());
    // A small-order public key is refused, its key id right or not.
    let weak = [0u8; 32];
    let mut raw = vec![ED25519];
    raw.extend_from_slice(&weak);
    use sha2::{Digest, Sha256};
    let id = hex::encode(&Sha256::digest([b"x\n".as_slice(), &raw].concat())[..4]);
    assert!(matches!(
        NoteVerifier::parse(&format!("x+{id}+{}", STANDARD.encode(&raw))),
        Err(NoteError::InvalidKey(_))
    ));
}
