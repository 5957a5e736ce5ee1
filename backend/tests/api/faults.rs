//! Faults in anchoring. The backend process killed with SIGKILL in the middle of a batch (after
//! its submission was prepared and stored, before it was sent) and restarted: every record is
//! anchored exactly once, on the transparency log and on Ethereum (Anvil). A ledger node that is
//! down: the API keeps serving, anchoring waits and retries, nothing is lost, and everything
//! pending is anchored once the node is back.

use crate::derivation::{Scenario, address};
use crate::ethereum::{ACCOUNT_KEY, Anvil};
use crate::support::{Dialect, TempDir, unique};
use chrono::Utc;
use corroborate_backend::anchoring::ethereum::anchor_data;
use corroborate_backend::anchoring::outbox;
use corroborate_backend::anchoring::{ConnectorKind, LedgerCheck};
use corroborate_backend::db::schema::{anchor_batches, anchor_records, log_leaves};
use corroborate_backend::db::{DatabaseUrl, Db};
use corroborate_verifier::anchor::{LedgerReport, Receipt, Trust, verify_receipt};
use diesel::prelude::*;
use secrecy::SecretString;
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RECORDS: usize = 20;
const BATCH: usize = 5;

/// The service binary with its settings in the environment, as an operator runs it.
fn start(dir: &std::path::Path, env: &[(String, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_corroborate-backend"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("db.sqlite").display()),
        )
        .env("CORROBORATE__LISTEN", "127.0.0.1:0")
        .env("CORROBORATE__DATA_DIR", dir)
        .env(
            "CORROBORATE__MASTER_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .env("CORROBORATE__MAINTENANCE_INTERVAL_SECS", "0")
        .env("CORROBORATE__ANCHORING__BATCH_SIZE", BATCH.to_string())
        .env("CORROBORATE__ANCHORING__MAX_BATCH", BATCH.to_string())
        .env("CORROBORATE__ANCHORING__POLL_INTERVAL_MS", "50")
        .env("CORROBORATE__ANCHORING__RETRY_BASE_MS", "50")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the service starts")
}

async fn open(dir: &std::path::Path) -> Db {
    let url = SecretString::from(format!("sqlite://{}", dir.join("db.sqlite").display()));
    Db::open(&DatabaseUrl::parse(&url).unwrap(), 2).unwrap()
}

/// (batched records, pending batches with a stored submission, final batches, batches)
async fn progress(db: &Db) -> (i64, i64, i64, i64) {
    db.read(|conn| {
        let batched = anchor_records::table
            .filter(anchor_records::batch_id.is_not_null())
            .count()
            .get_result(conn)?;
        let prepared = anchor_batches::table
            .filter(anchor_batches::state.eq("pending"))
            .filter(anchor_batches::prepared.is_not_null())
            .count()
            .get_result(conn)?;
        let finals = anchor_batches::table
            .filter(anchor_batches::state.eq("final"))
            .count()
            .get_result(conn)?;
        let all = anchor_batches::table.count().get_result(conn)?;
        Ok((batched, prepared, finals, all))
    })
    .await
    .unwrap()
}

async fn wait_for(db: &Db, what: &str, done: impl Fn((i64, i64, i64, i64)) -> bool) {
    let started = Instant::now();
    loop {
        let now = progress(db).await;
        if done(now) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "waiting for {what}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Kills the service three times while a batch's submission is prepared but not sent, then
/// lets it finish; returns the batches' (id, root).
async fn kill_mid_batch(dir: &std::path::Path, env: &[(String, String)]) -> Vec<(String, String)> {
    let db = open(dir).await;
    db.write::<_, corroborate_backend::db::StoreError, _>(|conn| {
        for i in 0..RECORDS {
            outbox::enqueue_in(
                conn,
                outbox::STATUS_CREDENTIAL,
                &format!("urn:uuid:record-{i}"),
                &format!("decision-{i}"),
                &serde_json::json!({"record": i}),
                Utc::now(),
            )?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let mut pausing = env.to_vec();
    pausing.push((
        "CORROBORATE__ANCHORING__PAUSE_BEFORE_SEND_MS".into(),
        "1000".into(),
    ));
    // Three kills, each while a different batch's submission is prepared and stored, not sent.
    let mut killed: BTreeSet<String> = BTreeSet::new();
    while killed.len() < 3 {
        let mut service = start(dir, &pausing);
        let started = Instant::now();
        let target = loop {
            let known = killed.clone();
            let prepared: Vec<String> = db
                .read(|conn| {
                    Ok(anchor_batches::table
                        .filter(anchor_batches::state.eq("pending"))
                        .filter(anchor_batches::prepared.is_not_null())
                        .select(anchor_batches::id)
                        .load(conn)?)
                })
                .await
                .unwrap();
            if let Some(id) = prepared.into_iter().find(|id| !known.contains(id)) {
                break id;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no new prepared batch to kill on: {:?}",
                progress(&db).await
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        service.kill().unwrap(); // SIGKILL
        service.wait().unwrap();
        killed.insert(target);
    }
    let mut service = start(dir, env);
    let expected = RECORDS.div_ceil(BATCH) as i64;
    wait_for(&db, "every batch final", |(batched, _, finals, all)| {
        batched == RECORDS as i64 && finals == expected && all == expected
    })
    .await;
    service.kill().unwrap();
    service.wait().unwrap();
    db.read(|conn| {
        Ok(anchor_batches::table
            .select((anchor_batches::id, anchor_batches::root))
            .load(conn)?)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_batch_anchors_every_record_exactly_once_on_the_log() {
    let dir = TempDir(std::env::temp_dir().join(unique("corroborate-kill-log-")));
    std::fs::create_dir_all(&dir.0).unwrap();
    let batches = kill_mid_batch(&dir.0, &[]).await;
    let db = open(&dir.0).await;
    let leaves: Vec<(String, String)> = db
        .read(|conn| {
            Ok(log_leaves::table
                .select((log_leaves::batch_id, log_leaves::data))
                .load(conn)?)
        })
        .await
        .unwrap();
    let mut from_log: Vec<(String, String)> = leaves;
    from_log.sort();
    let mut expected = batches.clone();
    expected.sort();
    assert_eq!(
        from_log, expected,
        "each batch root is in the log exactly once"
    );
    assert_every_record_once(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_batch_anchors_every_record_exactly_once_on_ethereum() {
    let anvil = Anvil::start(&[]).await;
    let dir = TempDir(std::env::temp_dir().join(unique("corroborate-kill-eth-")));
    std::fs::create_dir_all(&dir.0).unwrap();
    let env = vec![
        (
            "CORROBORATE__ANCHORING__CONNECTOR".into(),
            "ethereum".into(),
        ),
        (
            "CORROBORATE__ANCHORING__ETHEREUM__RPC_URL".into(),
            anvil.url.clone(),
        ),
        (
            "CORROBORATE__ANCHORING__ETHEREUM__SIGNER_KEY".into(),
            ACCOUNT_KEY.into(),
        ),
        (
            "CORROBORATE__ANCHORING__ETHEREUM__CONFIRMATIONS".into(),
            "1".into(),
        ),
    ];
    let batches = kill_mid_batch(&dir.0, &env).await;
    for (id, root) in &batches {
        let root: [u8; 32] = hex::decode(root).unwrap().try_into().unwrap();
        let carrying = anvil.transactions_carrying(&anchor_data(&root)).await;
        assert_eq!(
            carrying.len(),
            1,
            "batch {id}'s root is on chain exactly once"
        );
    }
    let db = open(&dir.0).await;
    assert_every_record_once(&db).await;
}

async fn assert_every_record_once(db: &Db) {
    let rows: Vec<(String, Option<String>, Option<i64>)> = db
        .read(|conn| {
            Ok(anchor_records::table
                .select((
                    anchor_records::record_id,
                    anchor_records::batch_id,
                    anchor_records::leaf_index,
                ))
                .load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), RECORDS);
    let places: BTreeSet<(String, i64)> = rows
        .iter()
        .map(|(_, batch, index)| (batch.clone().unwrap(), index.unwrap()))
        .collect();
    assert_eq!(
        places.len(),
        RECORDS,
        "every record has its own place in one batch"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_that_is_down_delays_anchoring_and_loses_nothing() {
    let port = crate::ethereum::free_port();
    let world = Scenario::with(Dialect::Sqlite, |s| {
        s.anchoring.connector = ConnectorKind::Ethereum;
        s.anchoring.ethereum.rpc_url = format!("http://127.0.0.1:{port}");
        s.anchoring.ethereum.signer_key = Some(SecretString::from(ACCOUNT_KEY));
        s.anchoring.ethereum.confirmations = 1;
        s.anchoring.batch_size = 1;
        s.anchoring.retry_base_ms = 10;
        s.anchoring.retry_max_ms = 20;
    })
    .await;
    let batcher = world.app.state.anchoring.batcher(&world.app.state.db);
    // The node is down: the service still decides and issues; anchoring fails and waits.
    let (citizen, result) = world.established(&address("27", "1050")).await;
    let round = batcher.round(Utc::now()).await.unwrap();
    assert_eq!(
        (round.cut, round.sent, round.failed),
        (1, 0, 1),
        "{round:?}"
    );
    let (_, second) = world.established(&address("29", "1050")).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let round = batcher.round(Utc::now()).await.unwrap();
    assert_eq!(
        (round.cut, round.sent, round.failed),
        (1, 0, 1),
        "{round:?}"
    );
    let (attempts, error): (i32, Option<String>) = world
        .app
        .state
        .db
        .read(|conn| {
            Ok(anchor_batches::table
                .order(anchor_batches::created_at.asc())
                .select((anchor_batches::attempts, anchor_batches::last_error))
                .first(conn)?)
        })
        .await
        .unwrap();
    assert!(attempts >= 2, "retried: {attempts}");
    assert!(error.unwrap().contains("unavailable"));

    // The node comes back. While the first batch waits for its retry, the second is not
    // submitted ahead of it (an account's nonces go in order).
    let anvil = Anvil::start_on(port, &[]).await;
    let waiting: i64 = world
        .app
        .state
        .db
        .read(|conn| {
            Ok(anchor_batches::table
                .select(diesel::dsl::min(anchor_batches::next_attempt_at))
                .first::<Option<i64>>(conn)?
                .unwrap())
        })
        .await
        .unwrap();
    let before_retry = corroborate_backend::db::from_millis(waiting - 1);
    let round = batcher.round(before_retry).await.unwrap();
    assert_eq!((round.sent, round.failed), (0, 0), "{round:?}");
    // Then everything pending is anchored, each once.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut finals = 0;
    for _ in 0..20 {
        batcher.round(Utc::now()).await.unwrap();
        finals = world
            .app
            .state
            .db
            .read(|conn| {
                Ok(anchor_batches::table
                    .filter(anchor_batches::state.eq("final"))
                    .count()
                    .get_result::<i64>(conn)?)
            })
            .await
            .unwrap();
        if finals == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(finals, 2);
    for done in [&result, &second] {
        let decision = done["decision"]["id"].as_str().unwrap();
        let receipt: Receipt = serde_json::from_value(
            world
                .app
                .get(
                    &format!("/decisions/{decision}/receipt"),
                    Some(world.gov_token()),
                )
                .await
                .expect(200),
        )
        .unwrap();
        let report = verify_receipt(
            &receipt,
            Some(&done["status_credential"]),
            &Trust::default(),
            0,
        )
        .unwrap();
        let LedgerReport::NeedsLedger { reference } = &report.anchors[0].ledger else {
            panic!("an Ethereum anchor needs the ledger: {report:?}");
        };
        let root: [u8; 32] = hex::decode(&receipt.batch.root)
            .unwrap()
            .try_into()
            .unwrap();
        let connector = world.app.state.anchoring.slot.get().await.unwrap();
        assert!(matches!(
            connector.check(&root, reference).await.unwrap(),
            LedgerCheck::Confirmed { .. }
        ));
        assert_eq!(
            anvil.transactions_carrying(&anchor_data(&root)).await.len(),
            1
        );
    }
    let _ = citizen;
}
