//! The `log` connector: an append-only transparency log in our own database. Each anchored batch
//! root is one leaf; every append signs a checkpoint (C2SP tlog-checkpoint, an Ed25519 signed
//! note) over the new tree, in the same transaction, after checking that the new tree extends
//! the last signed one. Configured witnesses are then asked to cosign the newest checkpoint
//! (C2SP tlog-witness); each checks consistency with the last checkpoint it cosigned, so a
//! rewritten or forked log gets no cosignature. A checkpoint is final with `quorum` of them.
//!
//! Append-only is enforced three times: the code only inserts at the next index, the table's
//! primary key refuses a second leaf at an index, and database triggers refuse any update or
//! deletion of a leaf or of a signed tree head (`migrations/*/…_anchoring`).

use super::LogSettings;
use super::connector::{
    Batch, Connector, ConnectorError, Hash, LedgerCheck, LedgerState, Prepared,
};
use crate::db::schema::{log_checkpoints, log_identity, log_leaves, log_witness_state};
use crate::db::{AnyConnection, Db, StoreError, from_millis, millis};
use crate::keys::Sealer;
use crate::witness::client::{AddCheckpointError, add_checkpoint};
use async_trait::async_trait;
use chrono::Utc;
use corroborate_verifier::anchor::LogReference;
use corroborate_verifier::merkle::{self, Tree};
use corroborate_verifier::note::{
    self, Checkpoint, ED25519, NoteSigner, NoteVerifier, SignedNote, verify_checkpoint,
};
use diesel::prelude::*;
use serde_json::json;
use std::time::Duration;

/// The key id under which the log's signing key is sealed.
const SEAL_ID: &str = "transparency-log";

/// A witness the log asks for cosignatures.
#[derive(Debug, Clone)]
pub struct WitnessPeer {
    pub key: NoteVerifier,
    pub url: String,
}

pub struct LogConnector {
    db: Db,
    origin: String,
    signer: std::sync::Arc<NoteSigner>,
    witnesses: Vec<WitnessPeer>,
    quorum: usize,
    client: reqwest::Client,
    /// One cosigning round at a time.
    cosigning: tokio::sync::Mutex<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("a configured witness key is not a note verifier key: {0}")]
    WitnessKey(String),
    #[error("the log's key: {0}")]
    Key(String),
    #[error("quorum {quorum} cannot be met by {witnesses} configured witnesses")]
    Quorum { quorum: usize, witnesses: usize },
    #[error("the log's stored state is damaged: {0}")]
    Damaged(String),
    #[error(
        "refused: the new tree head does not extend the last signed one (the log would be rewritten)"
    )]
    NotAppendOnly,
}

impl LogConnector {
    /// Opens the log, creating its identity (origin and Ed25519 key, sealed under the master key)
    /// on first use. The origin is fixed then; later settings cannot rename the log.
    pub fn open(
        db: Db,
        sealer: &Sealer,
        settings: &LogSettings,
        public_url: &str,
    ) -> Result<LogConnector, LogError> {
        let mut witnesses = Vec::new();
        for configured in &settings.witnesses {
            let key = NoteVerifier::parse(&configured.key)
                .map_err(|e| LogError::WitnessKey(format!("{}: {e}", configured.key)))?;
            if key.kind() != note::COSIGNATURE_V1 {
                return Err(LogError::WitnessKey(format!(
                    "{} is not a cosignature/v1 key (type 0x04)",
                    configured.key
                )));
            }
            witnesses.push(WitnessPeer {
                key,
                url: configured.url.trim_end_matches('/').to_owned(),
            });
        }
        if settings.quorum > witnesses.len() {
            return Err(LogError::Quorum {
                quorum: settings.quorum,
                witnesses: witnesses.len(),
            });
        }
        let origin = if settings.origin.is_empty() {
            let host = public_url
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or(public_url);
            format!("{}/log", host.trim_end_matches('/'))
        } else {
            settings.origin.clone()
        };
        let signer =
            db.write_blocking::<_, LogError, _>(|conn| identity_in(conn, sealer, &origin))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| LogError::Key(format!("building the witness client: {e}")))?;
        Ok(LogConnector {
            db,
            origin: signer.verifier().name().to_owned(),
            signer: std::sync::Arc::new(signer),
            witnesses,
            quorum: settings.quorum,
            client,
            cosigning: tokio::sync::Mutex::new(()),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The log's public key as a note verifier key.
    pub fn verifier(&self) -> NoteVerifier {
        self.signer.verifier()
    }

    pub fn witnesses(&self) -> &[WitnessPeer] {
        &self.witnesses
    }

    pub fn quorum(&self) -> usize {
        self.quorum
    }

    /// Appends `data` (a batch root) as the leaf of `batch_id` unless it is there already, and
    /// signs a checkpoint over the new tree, in the caller's transaction. Returns the leaf's
    /// index.
    pub fn append_in(
        &self,
        conn: &mut AnyConnection,
        batch_id: &str,
        data: &Hash,
    ) -> Result<u64, LogError> {
        append_with(conn, &self.signer, self.quorum, batch_id, data)
    }

    /// Asks every witness that has not cosigned the newest checkpoint to do so; stores what they
    /// return and marks the checkpoint final at the quorum. Witness errors are logged and
    /// retried at the next round.
    pub async fn cosign(&self) -> Result<(), LogError> {
        if self.witnesses.is_empty() {
            return Ok(());
        }
        let _round = self.cosigning.lock().await;
        let db = self.db.clone();
        let latest = db
            .read(|conn| {
                let row: Option<(i64, String, Option<i64>)> = log_checkpoints::table
                    .order(log_checkpoints::size.desc())
                    .select((
                        log_checkpoints::size,
                        log_checkpoints::note,
                        log_checkpoints::final_at,
                    ))
                    .first(conn)
                    .optional()?;
                let seen: Vec<(String, i64)> = log_witness_state::table
                    .select((log_witness_state::witness, log_witness_state::size))
                    .load(conn)?;
                Ok((row, seen))
            })
            .await?;
        let (Some((size, text, _)), seen) = latest else {
            return Ok(());
        };
        let size = size as u64;
        let mut note = SignedNote::parse(&text).map_err(|e| LogError::Damaged(e.to_string()))?;
        let mut changed = false;
        for peer in &self.witnesses {
            let name = peer.key.name();
            if note
                .signatures
                .iter()
                .any(|s| s.name == name && s.key_id == peer.key.key_id())
            {
                continue;
            }
            let mut old = seen
                .iter()
                .find(|(w, _)| w == &peer.key.to_vkey())
                .map_or(0, |(_, s)| *s as u64);
            for _attempt in 0..2 {
                if old > size {
                    break;
                }
                let proof = self.consistency(old, size).await?;
                match add_checkpoint(&self.client, &peer.url, old, &proof, &text).await {
                    Ok(lines) => {
                        let mine: Vec<_> = lines
                            .into_iter()
                            .filter(|l| l.name == name && l.key_id == peer.key.key_id())
                            .collect();
                        let mut candidate = note.clone();
                        candidate.signatures.extend(mine);
                        let check = verify_checkpoint(
                            &candidate.to_text(),
                            &self.signer.verifier(),
                            std::slice::from_ref(&peer.key),
                            1,
                            Utc::now().timestamp().max(0) as u64,
                        );
                        match check {
                            Ok(_) => {
                                note = candidate;
                                changed = true;
                                self.remember(peer, size).await?;
                            }
                            Err(error) => {
                                tracing::warn!(witness = name, %error, "a witness returned a cosignature that does not verify")
                            }
                        }
                        break;
                    }
                    Err(AddCheckpointError::Conflict { latest_size }) if latest_size <= size => {
                        // The witness has seen another size: prove consistency from there.
                        self.remember(peer, latest_size).await?;
                        old = latest_size;
                    }
                    Err(AddCheckpointError::Conflict { latest_size }) => {
                        // Larger than the log has ever been: a fork shown to this witness, or
                        // a confused witness. Not remembered; worth an operator's look.
                        tracing::error!(
                            witness = name,
                            latest_size,
                            size,
                            "a witness claims to have cosigned a larger tree than this log: possible fork"
                        );
                        break;
                    }
                    Err(AddCheckpointError::Refused { status, detail }) => {
                        tracing::error!(
                            witness = name,
                            status,
                            detail,
                            "a witness refused to cosign the log's checkpoint"
                        );
                        break;
                    }
                    Err(AddCheckpointError::Unavailable(detail)) => {
                        tracing::warn!(
                            witness = name,
                            detail,
                            "a witness is unavailable; retrying later"
                        );
                        break;
                    }
                }
            }
        }
        if changed {
            let quorum = self.quorum;
            let witnesses: Vec<NoteVerifier> =
                self.witnesses.iter().map(|p| p.key.clone()).collect();
            let log = self.signer.verifier();
            let text = note.to_text();
            let now = Utc::now();
            let log_key = log;
            let witness_keys = witnesses;
            self.db
                .write::<_, LogError, _>(move |conn| {
                    // Another process may have added cosignatures meanwhile: append ours to what
                    // is stored now, so that the note only ever grows.
                    let stored: String = log_checkpoints::table
                        .filter(log_checkpoints::size.eq(size as i64))
                        .select(log_checkpoints::note)
                        .first(conn)?;
                    let mut merged =
                        SignedNote::parse(&stored).map_err(|e| LogError::Damaged(e.to_string()))?;
                    let ours =
                        SignedNote::parse(&text).map_err(|e| LogError::Damaged(e.to_string()))?;
                    for line in ours.signatures {
                        if !merged.signatures.contains(&line) {
                            merged.signatures.push(line);
                        }
                    }
                    let text = merged.to_text();
                    let cosigners = verify_checkpoint(
                        &text,
                        &log_key,
                        &witness_keys,
                        0,
                        now.timestamp().max(0) as u64,
                    )
                    .map(|v| v.cosigners.len())
                    .map_err(|e| LogError::Damaged(e.to_string()))?;
                    diesel::update(
                        log_checkpoints::table.filter(log_checkpoints::size.eq(size as i64)),
                    )
                    .set((
                        log_checkpoints::note.eq(&text),
                        log_checkpoints::cosigners.eq(cosigners as i32),
                    ))
                    .execute(conn)?;
                    if cosigners >= quorum {
                        diesel::update(
                            log_checkpoints::table
                                .filter(log_checkpoints::size.eq(size as i64))
                                .filter(log_checkpoints::final_at.is_null()),
                        )
                        .set(log_checkpoints::final_at.eq(Some(millis(now))))
                        .execute(conn)?;
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(())
    }

    async fn remember(&self, peer: &WitnessPeer, size: u64) -> Result<(), LogError> {
        let witness = peer.key.to_vkey();
        self.db
            .write::<_, LogError, _>(move |conn| {
                let updated = diesel::update(
                    log_witness_state::table.filter(log_witness_state::witness.eq(&witness)),
                )
                .set(log_witness_state::size.eq(size as i64))
                .execute(conn)?;
                if updated == 0 {
                    diesel::insert_into(log_witness_state::table)
                        .values((
                            log_witness_state::witness.eq(&witness),
                            log_witness_state::size.eq(size as i64),
                        ))
                        .execute(conn)?;
                }
                Ok(())
            })
            .await
    }

    /// The consistency proof between two sizes of the log.
    pub async fn consistency(&self, first: u64, second: u64) -> Result<Vec<Hash>, LogError> {
        if first == 0 || first == second {
            return Ok(Vec::new());
        }
        let tree = self.tree(second).await?;
        tree.consistency_proof(first).ok_or_else(|| {
            LogError::Damaged(format!("no consistency proof from {first} to {second}"))
        })
    }

    /// The tree of the log's first `size` leaves.
    pub async fn tree(&self, size: u64) -> Result<Tree, LogError> {
        let leaves = self.db.read(load_leaves).await?;
        if (leaves.len() as u64) < size {
            return Err(LogError::Damaged(format!(
                "the log has {} leaves, not {size}",
                leaves.len()
            )));
        }
        Ok(Tree::new(leaves.into_iter().take(size as usize).collect()))
    }

    /// The reference a receipt carries for the leaf at `index`: its inclusion proof under the
    /// smallest final checkpoint covering it, or else the newest checkpoint (not final).
    pub async fn reference(&self, index: u64) -> Result<Option<(bool, LogReference)>, LogError> {
        let rows: Vec<(i64, String, Option<i64>, i32)> = self
            .db
            .read(move |conn| {
                Ok(log_checkpoints::table
                    .filter(log_checkpoints::size.gt(index as i64))
                    .order(log_checkpoints::size.asc())
                    .select((
                        log_checkpoints::size,
                        log_checkpoints::note,
                        log_checkpoints::final_at,
                        log_checkpoints::cosigners,
                    ))
                    .load(conn)?)
            })
            .await?;
        // Final under the quorum configured now: a checkpoint made final under a weaker one
        // (before witnesses were configured) would not verify with today's trust.
        let quorum = self.quorum;
        let rows: Vec<(i64, String, Option<i64>)> = rows
            .into_iter()
            .map(|(size, note, final_at, cosigners)| {
                let enough = cosigners.max(0) as usize >= quorum;
                (size, note, final_at.filter(|_| enough))
            })
            .collect();
        let chosen = rows
            .iter()
            .find(|(_, _, final_at)| final_at.is_some())
            .map(|row| (true, row))
            .or_else(|| rows.last().map(|row| (false, row)));
        let Some((is_final, (size, text, _))) = chosen else {
            return Ok(None);
        };
        let tree = self.tree(*size as u64).await?;
        let proof = tree
            .inclusion_proof(index)
            .ok_or_else(|| LogError::Damaged(format!("no inclusion proof for leaf {index}")))?;
        Ok(Some((
            is_final,
            LogReference {
                origin: self.origin().to_owned(),
                leaf_index: index,
                tree_size: *size as u64,
                inclusion_proof: proof.iter().map(hex::encode).collect(),
                checkpoint: text.clone(),
            },
        )))
    }

    /// The log index of a batch's root, once appended.
    pub async fn leaf_index(&self, batch_id: &str) -> Result<Option<u64>, LogError> {
        Ok(self
            .leaf_of(batch_id.to_owned())
            .await?
            .map(|(index, _)| index))
    }

    async fn leaf_of(&self, batch_id: String) -> Result<Option<(u64, String)>, LogError> {
        Ok(self
            .db
            .read(move |conn| {
                let row: Option<(i64, String)> = log_leaves::table
                    .filter(log_leaves::batch_id.eq(&batch_id))
                    .select((log_leaves::leaf_index, log_leaves::data))
                    .first(conn)
                    .optional()?;
                Ok(row.map(|(i, d)| (i as u64, d)))
            })
            .await?)
    }
}

fn unavailable(error: LogError) -> ConnectorError {
    match error {
        LogError::Store(_) | LogError::Query(_) => ConnectorError::Unavailable(error.to_string()),
        other => ConnectorError::Refused(other.to_string()),
    }
}

#[async_trait]
impl Connector for LogConnector {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn prepare(&self, _batch: &Batch) -> Result<Prepared, ConnectorError> {
        Ok(Prepared {
            reference: json!({ "origin": self.origin() }),
            payload: None,
        })
    }

    async fn send(&self, batch: &Batch, _prepared: &Prepared) -> Result<(), ConnectorError> {
        let id = batch.id.clone();
        let root = batch.root;
        let db = self.db.clone();
        // The append runs in its own transaction; keyed by batch id, so sending twice appends once.
        let signer = self.signer.clone();
        let quorum = self.quorum;
        db.write::<_, LogError, _>(move |conn| {
            append_with(conn, &signer, quorum, &id, &root).map(|_| ())
        })
        .await
        .map_err(unavailable)
    }

    async fn state(
        &self,
        batch: &Batch,
        _prepared: &Prepared,
    ) -> Result<LedgerState, ConnectorError> {
        if let Err(error) = self.cosign().await {
            tracing::warn!(%error, "cosigning round failed");
        }
        let Some((index, _)) = self.leaf_of(batch.id.clone()).await.map_err(unavailable)? else {
            return Ok(LedgerState::Submitted);
        };
        match self.reference(index).await.map_err(unavailable)? {
            None => Ok(LedgerState::Submitted),
            Some((is_final, reference)) => {
                let reference = serde_json::to_value(reference)
                    .map_err(|e| ConnectorError::Refused(e.to_string()))?;
                let at = Utc::now();
                Ok(if is_final {
                    LedgerState::Final { reference, at }
                } else {
                    LedgerState::Included { reference, at }
                })
            }
        }
    }

    async fn check(
        &self,
        root: &Hash,
        reference: &serde_json::Value,
    ) -> Result<LedgerCheck, ConnectorError> {
        let reference: LogReference = serde_json::from_value(reference.clone())
            .map_err(|e| ConnectorError::Refused(format!("not a log reference: {e}")))?;
        if reference.origin != self.origin() {
            return Ok(LedgerCheck::Mismatch {
                detail: format!("this log is {}, not {}", self.origin(), reference.origin),
            });
        }
        let index = reference.leaf_index;
        let row: Option<String> = self
            .db
            .read(move |conn| {
                Ok(log_leaves::table
                    .filter(log_leaves::leaf_index.eq(index as i64))
                    .select(log_leaves::data)
                    .first(conn)
                    .optional()?)
            })
            .await
            .map_err(|e| ConnectorError::Unavailable(e.to_string()))?;
        if row.as_deref() != Some(hex::encode(root).as_str()) {
            return Ok(LedgerCheck::Mismatch {
                detail: format!("leaf {index} of the log does not hold this root"),
            });
        }
        match self.reference(index).await.map_err(unavailable)? {
            Some((true, r)) => Ok(LedgerCheck::Confirmed {
                detail: format!(
                    "leaf {index} under the final checkpoint of size {}",
                    r.tree_size
                ),
            }),
            _ => Ok(LedgerCheck::Pending {
                detail: format!("leaf {index}, no checkpoint covering it is final yet"),
            }),
        }
    }
}

fn append_with(
    conn: &mut AnyConnection,
    signer: &NoteSigner,
    quorum: usize,
    batch_id: &str,
    data: &Hash,
) -> Result<u64, LogError> {
    let existing: Option<i64> = log_leaves::table
        .filter(log_leaves::batch_id.eq(batch_id))
        .select(log_leaves::leaf_index)
        .first(conn)
        .optional()?;
    if let Some(index) = existing {
        return Ok(index as u64);
    }
    let mut leaves = load_leaves(conn)?;
    let index = leaves.len() as u64;
    let now = Utc::now();
    diesel::insert_into(log_leaves::table)
        .values((
            log_leaves::leaf_index.eq(index as i64),
            log_leaves::batch_id.eq(batch_id),
            log_leaves::data.eq(hex::encode(data)),
            log_leaves::appended_at.eq(millis(now)),
        ))
        .execute(conn)?;
    leaves.push(merkle::leaf_hash(data));
    let tree = Tree::new(leaves);
    // Defence in depth: never sign a head that does not extend the last one signed.
    if let Some((size, root)) = latest_head(conn)? {
        let proof = tree
            .consistency_proof(size)
            .ok_or(LogError::NotAppendOnly)?;
        merkle::verify_consistency(size, tree.size(), &root, &tree.root(), &proof)
            .map_err(|_| LogError::NotAppendOnly)?;
    }
    let checkpoint = Checkpoint {
        origin: signer.verifier().name().to_owned(),
        size: tree.size(),
        root: tree.root(),
        extensions: Vec::new(),
    };
    let body = checkpoint.body();
    let line = note::sign_note(signer, &body).map_err(|e| LogError::Key(e.to_string()))?;
    let text = SignedNote {
        body,
        signatures: vec![line],
    }
    .to_text();
    diesel::insert_into(log_checkpoints::table)
        .values((
            log_checkpoints::size.eq(tree.size() as i64),
            log_checkpoints::root.eq(hex::encode(tree.root())),
            log_checkpoints::note.eq(text),
            log_checkpoints::signed_at.eq(millis(now)),
            log_checkpoints::cosigners.eq(0),
            log_checkpoints::final_at.eq((quorum == 0).then_some(millis(now))),
        ))
        .execute(conn)?;
    Ok(index)
}

fn load_leaves(conn: &mut AnyConnection) -> Result<Vec<Hash>, StoreError> {
    let rows: Vec<(i64, String)> = log_leaves::table
        .order(log_leaves::leaf_index.asc())
        .select((log_leaves::leaf_index, log_leaves::data))
        .load(conn)?;
    rows.into_iter()
        .enumerate()
        .map(|(expected, (index, data))| {
            let bytes: Option<Hash> = hex::decode(&data).ok().and_then(|b| b.try_into().ok());
            match bytes {
                Some(bytes) if index as usize == expected => Ok(merkle::leaf_hash(&bytes)),
                _ => Err(StoreError::Migration(format!(
                    "the log's leaf {index} is damaged"
                ))),
            }
        })
        .collect()
}

fn latest_head(conn: &mut AnyConnection) -> Result<Option<(u64, Hash)>, LogError> {
    let row: Option<(i64, String)> = log_checkpoints::table
        .order(log_checkpoints::size.desc())
        .select((log_checkpoints::size, log_checkpoints::root))
        .first(conn)
        .optional()?;
    row.map(|(size, root)| {
        let root: Hash = hex::decode(&root)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| LogError::Damaged(format!("the head of size {size} is not a hash")))?;
        Ok((size as u64, root))
    })
    .transpose()
}

/// The log's identity, created on first use.
fn identity_in(
    conn: &mut AnyConnection,
    sealer: &Sealer,
    origin: &str,
) -> Result<NoteSigner, LogError> {
    let row: Option<(String, Vec<u8>)> = log_identity::table
        .select((log_identity::origin, log_identity::sealed_secret))
        .first(conn)
        .optional()?;
    if let Some((origin, sealed)) = row {
        let secret = sealer
            .open(SEAL_ID, &sealed)
            .map_err(|e| LogError::Key(e.to_string()))?;
        let seed: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| LogError::Key("the sealed key is not 32 bytes".into()))?;
        return NoteSigner::new(
            &origin,
            ED25519,
            ed25519_dalek::SigningKey::from_bytes(&seed),
        )
        .map_err(|e| LogError::Key(e.to_string()));
    }
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let signer = NoteSigner::new(origin, ED25519, key.clone())
        .map_err(|e| LogError::Key(format!("the origin {origin:?} cannot name a note key: {e}")))?;
    diesel::insert_into(log_identity::table)
        .values((
            log_identity::origin.eq(origin),
            log_identity::public_key.eq(signer.verifier().to_vkey()),
            log_identity::sealed_secret.eq(sealer.seal(SEAL_ID, key.as_bytes())),
            log_identity::created_at.eq(millis(Utc::now())),
        ))
        .execute(conn)?;
    Ok(signer)
}

pub fn head_time(ms: i64) -> chrono::DateTime<Utc> {
    from_millis(ms)
}
