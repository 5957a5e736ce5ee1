//! Anchoring on the embedded transparency log, end to end: an established status gets its
//! outbox row in the decision's transaction; the batcher cuts a batch, appends its root to the
//! log and signs a checkpoint; the citizen's receipt verifies offline with the keys the service
//! publishes, and fails for anything tampered with. The log is append-only (every published head
//! extends the earlier ones; rewriting is refused by the database). Erasure forgets the salts.
//! Nothing personal of the scenario reaches the log.

use crate::derivation::{Scenario, address};
use crate::on_both;
use crate::support::Dialect;
use chrono::Utc;
use corroborate_backend::anchoring::batcher::Round;
use corroborate_backend::db::schema::{
    anchor_batches, anchor_records, log_checkpoints, log_leaves,
};
use corroborate_verifier::anchor::{
    LedgerReport, Receipt, ReceiptError, RecordCheck, Trust, verify_receipt,
};
use corroborate_verifier::merkle;
use corroborate_verifier::note::{Checkpoint, NoteVerifier, SignedNote};
use diesel::prelude::*;
use serde_json::Value;

fn now() -> u64 {
    Utc::now().timestamp() as u64
}

/// The trust a receipt verifier takes from the service's `/anchoring/trust`.
async fn trust(world: &Scenario) -> Trust {
    let view = world.app.get("/anchoring/trust", None).await.expect(200);
    let keys = |field: &str| -> Vec<NoteVerifier> {
        view[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| NoteVerifier::parse(k.as_str().unwrap()).unwrap())
            .collect()
    };
    Trust {
        logs: keys("logs"),
        witnesses: keys("witnesses"),
        quorum: view["quorum"].as_u64().unwrap() as usize,
    }
}

/// Runs batcher rounds until nothing moves any more; returns the rounds' sum.
async fn settle(world: &Scenario) -> Round {
    let batcher = world.app.state.anchoring.batcher(&world.app.state.db);
    let mut total = Round::default();
    for _ in 0..10 {
        let round = batcher.round(Utc::now()).await.unwrap();
        total.cut += round.cut;
        total.sent += round.sent;
        total.advanced += round.advanced;
        total.failed += round.failed;
        if round == Round::default() {
            break;
        }
    }
    total
}

async fn receipt_of(world: &Scenario, decision: &str, token: &str) -> Receipt {
    let body = world
        .app
        .get(&format!("/decisions/{decision}/receipt"), Some(token))
        .await
        .expect(200);
    serde_json::from_value(body).unwrap()
}

on_both!(a_status_is_anchored_and_its_receipt_verifies_offline);
async fn a_status_is_anchored_and_its_receipt_verifies_offline(dialect: Dialect) {
    let world = Scenario::with(dialect, |s| s.anchoring.batch_size = 2).await;
    let app = &world.app;
    let (citizen, result) = world.established(&address("27", "1050")).await;
    let decision = result["decision"]["id"].as_str().unwrap().to_owned();
    let credential = result["status_credential"].clone();

    // One pending row, written with the decision; no batch yet (the size trigger is 2).
    let pending = batch_of(&world, &credential).await;
    assert_eq!(pending, None);
    assert_eq!(
        settle(&world).await.cut,
        0,
        "one fingerprint does not fill a batch of 2"
    );
    app.get(
        &format!("/decisions/{decision}/receipt"),
        Some(&citizen.token),
    )
    .await
    .expect_problem(409, "conflict");

    // A second status fills the batch: cut, appended to the log, final (no witnesses: quorum 0).
    let (_, second) = world.established(&address("29", "1050")).await;
    let rounds = settle(&world).await;
    assert_eq!(
        (rounds.cut, rounds.sent, rounds.failed),
        (1, 1, 0),
        "{rounds:?}"
    );
    let batch = batch_of(&world, &credential).await.unwrap();
    assert_eq!(
        batch,
        batch_of(&world, &second["status_credential"])
            .await
            .unwrap()
    );
    assert_eq!(batch_state(&world, &batch).await, "final");

    let receipt = receipt_of(&world, &decision, &citizen.token).await;
    let trust = trust(&world).await;
    let report = verify_receipt(&receipt, Some(&credential), &trust, now()).unwrap();
    assert_eq!(report.record, RecordCheck::Matched);
    assert_eq!(receipt.batch.size, 2);
    match &report.anchors[0].ledger {
        LedgerReport::LogVerified { tree_size, .. } => assert_eq!(*tree_size, 1),
        other => panic!("not verified in the log: {other:?}"),
    }
    // The verifier that decided may read it too; another citizen may not.
    let gov = receipt_of(&world, &decision, world.gov_token()).await;
    assert_eq!(gov, receipt);
    let stranger = world.established(&address("31", "1050")).await.0;
    app.get(
        &format!("/decisions/{decision}/receipt"),
        Some(&stranger.token),
    )
    .await
    .expect_problem(404, "not_found");

    // Whatever is tampered with fails.
    let mut other_record = credential.clone();
    other_record["credentialSubject"]["established"]["residence"]["address"]["houseNumber"] =
        Value::from("28");
    assert!(matches!(
        verify_receipt(&receipt, Some(&other_record), &trust, now()),
        Err(ReceiptError::RecordMismatch)
    ));
    let mut wrong_index = receipt.clone();
    wrong_index.batch.leaf_index ^= 1;
    assert!(matches!(
        verify_receipt(&wrong_index, Some(&credential), &trust, now()),
        Err(ReceiptError::Proof { .. })
    ));
    let mut other_salt = receipt.clone();
    other_salt.salt = Some("00".repeat(32));
    assert!(matches!(
        verify_receipt(&other_salt, Some(&credential), &trust, now()),
        Err(ReceiptError::RecordMismatch)
    ));
    let mut forged_root = receipt.clone();
    forged_root.batch.root = "11".repeat(32);
    assert!(verify_receipt(&forged_root, None, &trust, now()).is_err());
    // A log key the verifier does not trust, or a checkpoint it signed over another tree, fails.
    let untrusting = Trust {
        logs: Vec::new(),
        ..trust.clone()
    };
    assert!(matches!(
        verify_receipt(&receipt, None, &untrusting, now()),
        Err(ReceiptError::UntrustedLog(_))
    ));
    let mut tampered_checkpoint = receipt.clone();
    let reference = tampered_checkpoint.anchor.reference.as_mut().unwrap();
    let text = reference["checkpoint"]
        .as_str()
        .unwrap()
        .replacen("\n1\n", "\n2\n", 1);
    reference["checkpoint"] = Value::from(text);
    assert!(matches!(
        verify_receipt(&tampered_checkpoint, None, &trust, now()),
        Err(ReceiptError::Checkpoint(_))
    ));
}

async fn batch_of(world: &Scenario, credential: &Value) -> Option<String> {
    let id = credential["id"].as_str().unwrap().to_owned();
    world
        .app
        .state
        .db
        .read(move |conn| {
            Ok(anchor_records::table
                .filter(anchor_records::record_id.eq(&id))
                .select(anchor_records::batch_id)
                .first::<Option<String>>(conn)?)
        })
        .await
        .unwrap()
}

async fn batch_state(world: &Scenario, batch: &str) -> String {
    let batch = batch.to_owned();
    world
        .app
        .state
        .db
        .read(move |conn| {
            Ok(anchor_batches::table
                .filter(anchor_batches::id.eq(&batch))
                .select(anchor_batches::state)
                .first::<String>(conn)?)
        })
        .await
        .unwrap()
}

on_both!(the_log_is_append_only);
async fn the_log_is_append_only(dialect: Dialect) {
    let world = Scenario::with(dialect, |s| s.anchoring.batch_size = 1).await;
    let app = &world.app;
    for number in ["1", "3", "5"] {
        world.established(&address(number, "1050")).await;
        settle(&world).await;
    }
    // Every published head extends every earlier one.
    let mut heads = Vec::new();
    for size in 1..=3u64 {
        let note = raw_text(app, &format!("/log/checkpoints/{size}")).await;
        let parsed = SignedNote::parse(&note).unwrap();
        heads.push(Checkpoint::parse_body(&parsed.body).unwrap());
    }
    for first in &heads {
        for second in heads.iter().filter(|h| h.size >= first.size) {
            let proof = app
                .get(
                    &format!(
                        "/log/consistency?first={}&second={}",
                        first.size, second.size
                    ),
                    None,
                )
                .await
                .expect(200);
            let proof: Vec<merkle::Hash> = proof["proof"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    hex::decode(h.as_str().unwrap())
                        .unwrap()
                        .try_into()
                        .unwrap()
                })
                .collect();
            merkle::verify_consistency(first.size, second.size, &first.root, &second.root, &proof)
                .unwrap();
        }
    }
    app.get("/log/consistency?first=3&second=2", None)
        .await
        .expect_problem(400, "invalid_parameter");
    app.get("/log/consistency?first=1&second=9", None)
        .await
        .expect_problem(400, "invalid_parameter");

    // Rewriting is refused by the database itself, whoever tries.
    let refused = world
        .app
        .state
        .db
        .read(|conn| {
            let update = diesel::update(log_leaves::table.filter(log_leaves::leaf_index.eq(0)))
                .set(log_leaves::data.eq("00".repeat(32)))
                .execute(conn)
                .is_err();
            let delete = diesel::delete(log_leaves::table).execute(conn).is_err();
            let head = diesel::update(log_checkpoints::table.filter(log_checkpoints::size.eq(2)))
                .set(log_checkpoints::root.eq("00".repeat(32)))
                .execute(conn)
                .is_err();
            let head_delete = diesel::delete(log_checkpoints::table)
                .execute(conn)
                .is_err();
            let note_rewrite =
                diesel::update(log_checkpoints::table.filter(log_checkpoints::size.eq(2)))
                    .set(log_checkpoints::note.eq("another tree head\n"))
                    .execute(conn)
                    .is_err();
            let second_leaf = diesel::insert_into(log_leaves::table)
                .values((
                    log_leaves::leaf_index.eq(1),
                    log_leaves::batch_id.eq("forged"),
                    log_leaves::data.eq("00".repeat(32)),
                    log_leaves::appended_at.eq(0),
                ))
                .execute(conn)
                .is_err();
            Ok([update, delete, head, head_delete, note_rewrite, second_leaf])
        })
        .await
        .unwrap();
    assert_eq!(
        refused, [true; 6],
        "update, delete, head rewrite, head delete, note rewrite, second leaf"
    );
    let leaves = app.get("/log/leaves", None).await.expect(200);
    assert_eq!(leaves["leaves"].as_array().unwrap().len(), 3);
}

async fn raw_text(app: &crate::support::TestApp, path: &str) -> String {
    app.client
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

on_both!(erasure_forgets_the_salts_and_nothing_personal_reaches_the_log);
async fn erasure_forgets_the_salts_and_nothing_personal_reaches_the_log(dialect: Dialect) {
    let world = Scenario::with(dialect, |s| {
        s.anchoring.batch_size = 1;
        s.anchoring.decision_records = true;
    })
    .await;
    let app = &world.app;
    let (citizen, result) = world.established(&address("27", "1050")).await;
    let decision = result["decision"]["id"].as_str().unwrap().to_owned();
    let credential = result["status_credential"].clone();
    settle(&world).await;
    let kept = receipt_of(&world, &decision, &citizen.token).await;
    let trust = trust(&world).await;
    assert_eq!(
        verify_receipt(&kept, Some(&credential), &trust, now())
            .unwrap()
            .record,
        RecordCheck::Matched
    );
    // The decision record is anchored too (configured), and its receipt comes with the record.
    let both = app
        .get(
            &format!("/decisions/{decision}/receipt?record=decision"),
            Some(&citizen.token),
        )
        .await
        .expect(200);
    let decision_receipt: Receipt = serde_json::from_value(both["receipt"].clone()).unwrap();
    assert_eq!(
        verify_receipt(&decision_receipt, Some(&both["record"]), &trust, now())
            .unwrap()
            .record,
        RecordCheck::Matched
    );

    // Nothing personal of the scenario is in what went to the log (leaves, signed heads) or in
    // the batches' ledger references.
    let personal: Vec<String> = vec![
        citizen.id.did.clone(),
        credential["issuer"].as_str().unwrap().to_owned(),
        "Rue de la Brasserie".into(),
        "Brouwerijstraat".into(),
        "Ixelles".into(),
        "Elsene".into(),
        "1050".into(),
        "2021-09-01".into(),
        decision.clone(),
        credential["id"].as_str().unwrap().to_owned(),
    ];
    let published = world
        .app
        .state
        .db
        .read(|conn| {
            let mut all: Vec<String> = log_leaves::table.select(log_leaves::data).load(conn)?;
            all.extend(
                log_checkpoints::table
                    .select(log_checkpoints::note)
                    .load::<String>(conn)?,
            );
            let batches: Vec<(String, Option<String>, Option<String>)> = anchor_batches::table
                .select((
                    anchor_batches::root,
                    anchor_batches::prepared,
                    anchor_batches::reference,
                ))
                .load(conn)?;
            for (root, prepared, reference) in batches {
                all.push(root);
                all.extend(prepared);
                all.extend(reference);
            }
            Ok(all)
        })
        .await
        .unwrap();
    assert!(published.len() >= 4, "leaves, heads and batches were read");
    for text in &published {
        for value in &personal {
            assert!(
                !contains_token(text, value),
                "{value:?} is in what was published: {text}"
            );
        }
    }
    // The scan does find a value that is there (it is not blind).
    assert!(contains_token(
        &format!("x {} y", personal[0]),
        &personal[0]
    ));

    // Erasure deletes our salts: the service can no longer link the anchored fingerprint to the
    // citizen's data; the receipt the citizen kept still can.
    app.post(
        "/erasure-requests",
        Some(&citizen.token),
        &serde_json::json!({"did": citizen.id.did}),
    )
    .await
    .expect(201);
    let salts: Vec<Option<String>> = world
        .app
        .state
        .db
        .read(move |conn| {
            Ok(anchor_records::table
                .filter(anchor_records::decision_id.eq(&decision))
                .select(anchor_records::salt)
                .load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(
        salts,
        vec![None, None],
        "both the status's and the decision's salts are gone"
    );
    let decision = result["decision"]["id"].as_str().unwrap();
    let after = receipt_of(&world, decision, world.gov_token()).await;
    assert_eq!(after.salt, None);
    assert_eq!(after.fingerprint, kept.fingerprint);
    assert!(matches!(
        verify_receipt(&after, Some(&credential), &trust, now()),
        Err(ReceiptError::NoSalt)
    ));
    assert_eq!(
        verify_receipt(&kept, Some(&credential), &trust, now())
            .unwrap()
            .record,
        RecordCheck::Matched
    );
}

/// `value` occurs in `text` as a whole token (not inside a longer run of letters and digits,
/// so that "1050" inside a hex hash does not count).
fn contains_token(text: &str, value: &str) -> bool {
    text.match_indices(value).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + value.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Moving from the log to Ethereum: new batches go to the new ledger; the old receipt still
/// verifies from the log; re-anchoring carries the old root to Ethereum with a link that the
/// receipt then includes, and the ledger confirms it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_to_another_ledger_keeps_receipts_and_reanchors_old_roots() {
    use corroborate_backend::anchoring::reanchor::reanchor_in;
    use corroborate_backend::anchoring::{Anchoring, ConnectorKind, LedgerCheck};
    let world = Scenario::with(Dialect::Sqlite, |s| s.anchoring.batch_size = 1).await;
    let app = &world.app;
    let (citizen, result) = world.established(&address("27", "1050")).await;
    let decision = result["decision"]["id"].as_str().unwrap().to_owned();
    let credential = result["status_credential"].clone();
    settle(&world).await;
    let trust = trust(&world).await;
    let before = receipt_of(&world, &decision, &citizen.token).await;
    assert!(before.reanchored.is_empty());

    // The operator switches the connector (a restart with new settings, here a second
    // `Anchoring` over the same database).
    let anvil = crate::ethereum::Anvil::start(&[]).await;
    let mut settings = app.state.settings.anchoring.clone();
    settings.connector = ConnectorKind::Ethereum;
    settings.ethereum.rpc_url = anvil.url.clone();
    settings.ethereum.signer_key = Some(secrecy::SecretString::from(crate::ethereum::ACCOUNT_KEY));
    settings.ethereum.confirmations = 1;
    let moved = Anchoring::build(
        &settings,
        &app.state.db,
        &app.state.sealer,
        &app.state.public_url,
    )
    .unwrap();
    let batcher = moved.batcher(&app.state.db);
    let reanchored = app
        .state
        .db
        .write::<_, corroborate_backend::anchoring::reanchor::ReanchorError, _>(|conn| {
            reanchor_in(conn, "ethereum", 1000, Utc::now())
        })
        .await
        .unwrap()
        .expect("one old root to carry over");
    assert_eq!(reanchored.roots, 1);
    for _ in 0..10 {
        batcher.round(Utc::now()).await.unwrap();
    }
    // Nothing left to carry over: a second run cuts nothing.
    let again = app
        .state
        .db
        .write::<_, corroborate_backend::anchoring::reanchor::ReanchorError, _>(|conn| {
            reanchor_in(conn, "ethereum", 1000, Utc::now())
        })
        .await
        .unwrap();
    assert_eq!(again, None);

    let after = receipt_of(&world, &decision, &citizen.token).await;
    assert_eq!(
        after.batch, before.batch,
        "the original anchoring is unchanged"
    );
    assert_eq!(after.reanchored.len(), 1);
    assert_eq!(after.reanchored[0].anchor.connector, "ethereum");
    assert_eq!(after.reanchored[0].anchor.state, "final");
    let report = verify_receipt(&after, Some(&credential), &trust, now()).unwrap();
    assert!(matches!(
        report.anchors[0].ledger,
        LedgerReport::LogVerified { .. }
    ));
    let LedgerReport::NeedsLedger { reference } = &report.anchors[1].ledger else {
        panic!("the Ethereum anchor needs the ledger: {report:?}");
    };
    let new_root: merkle::Hash = hex::decode(&after.reanchored[0].batch.root)
        .unwrap()
        .try_into()
        .unwrap();
    let connector = moved.slot.get().await.unwrap();
    assert!(matches!(
        connector.check(&new_root, reference).await.unwrap(),
        LedgerCheck::Confirmed { .. }
    ));
    // A link to a root it does not hold fails offline.
    let mut broken = after.clone();
    broken.reanchored[0].batch.leaf_index = 1;
    assert!(verify_receipt(&broken, None, &trust, now()).is_err());
}

/// With witnesses configured (3, quorum 2), a checkpoint is final only once two of them have
/// cosigned it; while they are down the batch stays `included` and its receipt does not verify
/// under the quorum; as they come back, cosignatures are collected (with consistency proofs from
/// what each saw last) and the receipt verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_is_final_only_with_a_quorum_of_witnesses() {
    use corroborate_backend::anchoring::WitnessSettings;
    use corroborate_backend::witness::{Witness, WitnessConfig};
    use corroborate_verifier::note::{COSIGNATURE_V1, NoteSigner};
    let signers: Vec<NoteSigner> = (1..=3u8)
        .map(|i| {
            NoteSigner::from_seed(
                &format!("witness.example.org/w{i}"),
                COSIGNATURE_V1,
                &[i; 32],
            )
            .unwrap()
        })
        .collect();
    let ports: Vec<u16> = (0..3).map(|_| crate::ethereum::free_port()).collect();
    let configured: Vec<WitnessSettings> = signers
        .iter()
        .zip(&ports)
        .map(|(signer, port)| WitnessSettings {
            key: signer.verifier().to_vkey(),
            url: format!("http://127.0.0.1:{port}"),
        })
        .collect();
    let world = Scenario::with(Dialect::Sqlite, |s| {
        s.anchoring.batch_size = 1;
        s.anchoring.log.witnesses = configured;
        s.anchoring.log.quorum = 2;
        s.anchoring.log.timeout_ms = 500;
    })
    .await;
    let trust = trust(&world).await;
    assert_eq!((trust.witnesses.len(), trust.quorum), (3, 2));
    let (citizen, result) = world.established(&address("27", "1050")).await;
    let decision = result["decision"]["id"].as_str().unwrap().to_owned();
    let credential = result["status_credential"].clone();

    // No witness answers: appended and signed, not final.
    settle(&world).await;
    let batch = batch_of(&world, &credential).await.unwrap();
    assert_eq!(batch_state(&world, &batch).await, "included");
    let receipt = receipt_of(&world, &decision, &citizen.token).await;
    assert_eq!(receipt.anchor.state, "included");
    assert!(matches!(
        verify_receipt(&receipt, Some(&credential), &trust, now()),
        Err(ReceiptError::Checkpoint(_))
    ));

    let dir =
        crate::support::TempDir(std::env::temp_dir().join(crate::support::unique("witnesses-")));
    std::fs::create_dir_all(&dir.0).unwrap();
    let log = trust.logs[0].clone();
    let mut running = Vec::new();
    for (i, signer) in signers.into_iter().enumerate() {
        let witness = Witness::start(WitnessConfig {
            listen: format!("127.0.0.1:{}", ports[i]),
            signer,
            logs: vec![log.clone()],
            state_file: dir.0.join(format!("w{i}.state")),
        })
        .await
        .unwrap();
        running.push(witness);
        settle(&world).await;
        let state = batch_state(&world, &batch).await;
        if i == 0 {
            assert_eq!(state, "included", "one cosignature is not the quorum");
        } else {
            assert_eq!(state, "final", "{} witnesses up", i + 1);
        }
    }
    let receipt = receipt_of(&world, &decision, &citizen.token).await;
    let report = verify_receipt(&receipt, Some(&credential), &trust, now()).unwrap();
    let LedgerReport::LogVerified { cosigners, .. } = &report.anchors[0].ledger else {
        panic!("{report:?}");
    };
    assert!(cosigners.len() >= 2, "{cosigners:?}");

    // The next checkpoint extends the first; the witnesses check that and cosign it too.
    let (second_citizen, second) = world.established(&address("29", "1050")).await;
    settle(&world).await;
    let second_batch = batch_of(&world, &second["status_credential"])
        .await
        .unwrap();
    assert_eq!(batch_state(&world, &second_batch).await, "final");
    let second_receipt = receipt_of(
        &world,
        second["decision"]["id"].as_str().unwrap(),
        &second_citizen.token,
    )
    .await;
    let report = verify_receipt(
        &second_receipt,
        Some(&second["status_credential"]),
        &trust,
        now(),
    )
    .unwrap();
    match &report.anchors[0].ledger {
        LedgerReport::LogVerified {
            tree_size,
            cosigners,
            ..
        } => {
            assert_eq!(*tree_size, 2);
            assert_eq!(cosigners.len(), 3);
        }
        other => panic!("{other:?}"),
    }
    // `corroborate receipt verify`'s tests use a receipt made here: regenerate them with
    // CORROBORATE_WRITE_RECEIPT_FIXTURES=cli/tests/fixtures/anchoring.
    if let Some(dir) = std::env::var_os("CORROBORATE_WRITE_RECEIPT_FIXTURES") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, value: &Value| {
            std::fs::write(dir.join(name), serde_json::to_string_pretty(value).unwrap()).unwrap()
        };
        write(
            "receipt.json",
            &serde_json::to_value(&second_receipt).unwrap(),
        );
        write("status-credential.json", &second["status_credential"]);
        write(
            "trust.json",
            &world.app.get("/anchoring/trust", None).await.expect(200),
        );
    }
    for witness in running {
        witness.stop().await;
    }
}
