//! The witness (`backend/src/witness/`): real witness servers on port 0 with state files in a
//! temporary folder, asked through the log's client (`witness::client::add_checkpoint`) to cosign
//! checkpoints of logs built here with `merkle::Tree` and signed with a `NoteSigner`. No database.
//!
//! The story: an honest log is cosigned as it grows; a forked history under the same origin and
//! key gets no cosignature from a witness that saw the honest one, so a quorum of two of three
//! holds for the honest log and not for the fork, also after a witness restarts from its state.

use crate::support::TempDir;
use corroborate_backend::witness::client::{AddCheckpointError, add_checkpoint};
use corroborate_backend::witness::{Witness, WitnessConfig};
use corroborate_verifier::merkle::{Hash, Tree, leaf_hash};
use corroborate_verifier::note::{
    COSIGNATURE_V1, Checkpoint, ED25519, NoteError, NoteSigner, NoteVerifier, SignatureLine,
    SignedNote, sign_note, verify_checkpoint,
};
use rand::RngCore;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

const ORIGIN: &str = "log.corroborate.example/witness-test";

/// A log history: its leaves, signed by one key.
struct Log {
    signer: NoteSigner,
    leaves: Vec<Hash>,
}

impl Log {
    /// `size` leaves; those from `fork_at` on differ from the honest history's.
    fn new(signer: NoteSigner, size: usize, fork_at: usize) -> Log {
        let leaves = (0..size)
            .map(|i| {
                let history = if i >= fork_at { "fork" } else { "honest" };
                leaf_hash(format!("{history} leaf {i}").as_bytes())
            })
            .collect();
        Log { signer, leaves }
    }

    fn tree(&self, size: u64) -> Tree {
        Tree::new(self.leaves[..size as usize].to_vec())
    }

    fn checkpoint(&self, size: u64) -> Checkpoint {
        Checkpoint {
            origin: self.signer.name().to_owned(),
            size,
            root: self.tree(size).root(),
            extensions: vec![],
        }
    }

    /// The checkpoint of the first `size` leaves, signed by the log.
    fn signed(&self, size: u64) -> String {
        let body = self.checkpoint(size).body();
        SignedNote {
            signatures: vec![sign_note(&self.signer, &body).unwrap()],
            body,
        }
        .to_text()
    }

    fn proof(&self, old: u64, new: u64) -> Vec<Hash> {
        self.tree(new).consistency_proof(old).unwrap()
    }
}

fn log_signer() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, ED25519, &[1; 32]).unwrap()
}

fn witness_signer(seed: u8) -> NoteSigner {
    NoteSigner::from_seed(
        &format!("witness{seed}.example"),
        COSIGNATURE_V1,
        &[seed; 32],
    )
    .unwrap()
}

fn temp_dir() -> TempDir {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let dir = std::env::temp_dir().join(format!("corroborate-witness-{}", hex::encode(bytes)));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

async fn start(seed: u8, state_file: PathBuf, logs: Vec<NoteVerifier>) -> Witness {
    Witness::start(WitnessConfig {
        listen: "127.0.0.1:0".into(),
        signer: witness_signer(seed),
        logs,
        state_file,
    })
    .await
    .unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Asks `witness` to cosign `log`'s checkpoint of `new` leaves, from `old`.
async fn ask(
    client: &reqwest::Client,
    witness: &Witness,
    log: &Log,
    old: u64,
    new: u64,
) -> Result<Vec<SignatureLine>, AddCheckpointError> {
    add_checkpoint(
        client,
        &witness.url(),
        old,
        &log.proof(old, new),
        &log.signed(new),
    )
    .await
}

/// The signed checkpoint with the cosignature lines appended.
fn with_cosignatures(signed: &str, lines: &[SignatureLine]) -> String {
    let mut note = SignedNote::parse(signed).unwrap();
    note.signatures.extend(lines.iter().cloned());
    note.to_text()
}

fn refused_with(result: Result<Vec<SignatureLine>, AddCheckpointError>, status: u16) {
    match result {
        Err(AddCheckpointError::Refused {
            status: s,
            ref detail,
        }) if s == status => {
            assert!(!detail.is_empty());
        }
        other => panic!("expected a refusal with HTTP {status}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witnesses_cosign_the_honest_log_and_refuse_a_fork() {
    let dir = temp_dir();
    let client = reqwest::Client::new();
    let logs = vec![log_signer().verifier()];
    let state = |name: &str| dir.0.join(format!("{name}.json"));
    let a = start(21, state("a"), logs.clone()).await;
    let b = start(22, state("b"), logs.clone()).await;
    let c = start(23, state("c"), logs.clone()).await;
    let witness_keys: Vec<NoteVerifier> = [21, 22, 23]
        .map(|seed| witness_signer(seed).verifier())
        .to_vec();

    let honest = Log::new(log_signer(), 12, usize::MAX);
    let fork = Log::new(log_signer(), 12, 4);
    assert_eq!(honest.tree(4).root(), fork.tree(4).root());
    assert_ne!(honest.tree(7).root(), fork.tree(7).root());

    // A first checkpoint (old 0, no proof): every witness cosigns it, once, with its key.
    let mut first = Vec::new();
    for w in [&a, &b, &c] {
        let lines = ask(&client, w, &honest, 0, 4).await.unwrap();
        assert_eq!(lines.len(), 1);
        first.extend(lines);
    }
    let text = with_cosignatures(&honest.signed(4), &first);
    let verified = verify_checkpoint(&text, &logs[0], &witness_keys, 3, now()).unwrap();
    assert_eq!(verified.checkpoint.size, 4);
    assert_eq!(verified.cosigners.len(), 3);

    // A consistent extension, shown to A and B only.
    let mut honest_seven = Vec::new();
    for w in [&a, &b] {
        honest_seven.extend(ask(&client, w, &honest, 4, 7).await.unwrap());
    }
    let honest_text = with_cosignatures(&honest.signed(7), &honest_seven);

    // A stale old size: the witness says which size it holds.
    assert_eq!(
        ask(&client, &a, &honest, 4, 9).await.unwrap_err(),
        AddCheckpointError::Conflict { latest_size: 7 }
    );
    assert_eq!(
        ask(&client, &a, &honest, 0, 9).await.unwrap_err(),
        AddCheckpointError::Conflict { latest_size: 7 }
    );

    // The fork, same origin and key: of the same size as what A and B hold (another root: 409
    // at the size sent, so not worth retrying), or larger (its proof does not start from the
    // root they hold: 422). C, which only saw the common first four leaves, cannot tell.
    for w in [&a, &b] {
        refused_with(ask(&client, w, &fork, 7, 7).await, 409);
        refused_with(ask(&client, w, &fork, 7, 9).await, 422);
        assert_eq!(
            ask(&client, w, &fork, 0, 9).await.unwrap_err(),
            AddCheckpointError::Conflict { latest_size: 7 }
        );
    }
    let fork_lines = ask(&client, &c, &fork, 4, 7).await.unwrap();
    let fork_text = with_cosignatures(&fork.signed(7), &fork_lines);

    // Two of three: the honest log has them, the fork has one.
    let honest_verified =
        verify_checkpoint(&honest_text, &logs[0], &witness_keys, 2, now()).unwrap();
    assert_eq!(honest_verified.checkpoint.root, honest.tree(7).root());
    assert_eq!(
        verify_checkpoint(&fork_text, &logs[0], &witness_keys, 2, now()),
        Err(NoteError::QuorumNotMet {
            needed: 2,
            found: 1
        })
    );
    // C now holds the fork and refuses the honest history in turn.
    refused_with(ask(&client, &c, &honest, 7, 9).await, 422);

    // A restarted from its state file still holds the honest tree of 7.
    a.stop().await;
    let saved = std::fs::read_to_string(state("a")).unwrap();
    assert!(
        saved.contains(ORIGIN) && saved.contains("\"size\": 7"),
        "{saved}"
    );
    let a = start(21, state("a"), logs.clone()).await;
    refused_with(ask(&client, &a, &fork, 7, 7).await, 409);
    refused_with(ask(&client, &a, &fork, 7, 9).await, 422);
    assert_eq!(
        ask(&client, &a, &fork, 4, 9).await.unwrap_err(),
        AddCheckpointError::Conflict { latest_size: 7 }
    );
    let lines = ask(&client, &a, &honest, 7, 9).await.unwrap();
    verify_checkpoint(
        &with_cosignatures(&honest.signed(9), &lines),
        &logs[0],
        &witness_keys,
        1,
        now(),
    )
    .unwrap();
    // The same checkpoint again (old = new, same root) is cosigned again.
    ask(&client, &a, &honest, 9, 9).await.unwrap();

    for w in [a, b, c] {
        w.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witnesses_refuse_what_they_cannot_check() {
    let dir = temp_dir();
    let client = reqwest::Client::new();
    let logs = vec![log_signer().verifier()];
    let w = start(31, dir.0.join("state.json"), logs.clone()).await;
    let honest = Log::new(log_signer(), 12, usize::MAX);
    ask(&client, &w, &honest, 0, 5).await.unwrap();

    // Signed by another key under the log's name: 403.
    let impostor = Log::new(
        NoteSigner::from_seed(ORIGIN, ED25519, &[9; 32]).unwrap(),
        12,
        usize::MAX,
    );
    refused_with(ask(&client, &w, &impostor, 5, 8).await, 403);
    // The log's own signature, damaged: 403.
    let mut note = SignedNote::parse(&honest.signed(8)).unwrap();
    note.signatures[0].signature[10] ^= 1;
    refused_with(
        add_checkpoint(&client, &w.url(), 5, &honest.proof(5, 8), &note.to_text()).await,
        403,
    );
    // A log this witness does not witness: 404.
    let stranger = Log::new(
        NoteSigner::from_seed("other.example/log", ED25519, &[1; 32]).unwrap(),
        12,
        usize::MAX,
    );
    refused_with(ask(&client, &w, &stranger, 0, 3).await, 404);
    // A consistency proof that does not verify: 422.
    let mut proof = honest.proof(5, 8);
    proof[0][0] ^= 1;
    refused_with(
        add_checkpoint(&client, &w.url(), 5, &proof, &honest.signed(8)).await,
        422,
    );
    // A proof where none is due (from 0): 422.
    let fresh = start(32, dir.0.join("fresh.json"), logs.clone()).await;
    refused_with(
        add_checkpoint(&client, &fresh.url(), 0, &[[7; 32]], &honest.signed(3)).await,
        422,
    );
    // An old size larger than the checkpoint's: 400.
    refused_with(
        add_checkpoint(&client, &w.url(), 9, &[], &honest.signed(8)).await,
        400,
    );
    // Not a request at all, or a checkpoint that is not one: 400.
    for body in [
        "hello".to_owned(),
        format!("old 05\n\n{}", honest.signed(8)),
        format!(
            "old 5\n\n{}",
            honest.signed(8).replacen("\n8\n", "\n08\n", 1)
        ),
    ] {
        let response = client
            .post(format!("{}/add-checkpoint", w.url()))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
    }
    // Nothing refused moved the state: the honest extension from 5 is still cosigned.
    ask(&client, &w, &honest, 5, 8).await.unwrap();

    // The wire format: 409 says the size as text/x.tlog.size; 200 is text/plain lines.
    let response = client
        .post(format!("{}/add-checkpoint", w.url()))
        .body(format!("old 0\n\n{}", honest.signed(9)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(response.headers()["content-type"], "text/x.tlog.size");
    assert_eq!(response.text().await.unwrap(), "8\n");
    let mut body = "old 8\n".to_owned();
    for hash in honest.proof(8, 9) {
        use base64::Engine as _;
        body.push_str(&base64::engine::general_purpose::STANDARD.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(&honest.signed(9));
    let response = client
        .post(format!("{}/add-checkpoint", w.url()))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(
        text.starts_with("— witness31.example ") && text.ends_with('\n'),
        "{text}"
    );

    // A witness that is not there is unavailable, not refusing.
    let url = w.url();
    w.stop().await;
    fresh.stop().await;
    assert!(matches!(
        add_checkpoint(&client, &url, 9, &[], &honest.signed(9)).await,
        Err(AddCheckpointError::Unavailable(_))
    ));
}

/// Two different checkpoints of one size sent at once to a witness that has seen neither: the
/// check and the record are one step, so exactly one is cosigned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_conflicting_checkpoints_get_one_cosignature() {
    let dir = temp_dir();
    let client = reqwest::Client::new();
    let logs = vec![log_signer().verifier()];
    let honest = Log::new(log_signer(), 6, usize::MAX);
    let fork = Log::new(log_signer(), 6, 2);
    for round in 0..5 {
        let w = start(40, dir.0.join(format!("race{round}.json")), logs.clone()).await;
        let (one, two) = tokio::join!(
            ask(&client, &w, &honest, 0, 6),
            ask(&client, &w, &fork, 0, 6)
        );
        assert_eq!(
            usize::from(one.is_ok()) + usize::from(two.is_ok()),
            1,
            "round {round}: {one:?} / {two:?}"
        );
        w.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_refuses_a_state_file_it_cannot_read() {
    let dir = temp_dir();
    let path = dir.0.join("state.json");
    std::fs::write(&path, "{not json").unwrap();
    let error = Witness::start(WitnessConfig {
        listen: "127.0.0.1:0".into(),
        signer: witness_signer(50),
        logs: vec![log_signer().verifier()],
        state_file: path,
    })
    .await
    .err()
    .unwrap();
    assert!(
        format!("{error:#}").contains("parsing the witness state"),
        "{error:#}"
    );
    // A witness key given as a plain Ed25519 note key cosigns as cosignature/v1.
    let plain = NoteSigner::from_seed("witness51.example", ED25519, &[51; 32]).unwrap();
    let w = Witness::start(WitnessConfig {
        listen: "127.0.0.1:0".into(),
        signer: plain,
        logs: vec![log_signer().verifier()],
        state_file: dir.0.join("other.json"),
    })
    .await
    .unwrap();
    let honest = Log::new(log_signer(), 3, usize::MAX);
    let lines = ask(&reqwest::Client::new(), &w, &honest, 0, 3)
        .await
        .unwrap();
    let key = NoteSigner::from_seed("witness51.example", COSIGNATURE_V1, &[51; 32])
        .unwrap()
        .verifier();
    verify_checkpoint(
        &with_cosignatures(&honest.signed(3), &lines),
        &log_signer().verifier(),
        &[key],
        1,
        now(),
    )
    .unwrap();
    w.stop().await;
}
