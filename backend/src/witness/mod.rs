//! A transparency-log witness ([tlog-witness]): an HTTP service that cosigns a log's checkpoints
//! (`cosignature/v1`) only when each extends, by a verified consistency proof, the last one it
//! cosigned for that log. Run by institutions independent of the log's operator, witnesses make
//! a forked or rewritten log visible: a client that requires a quorum of cosignatures cannot be
//! shown a history that the witnesses did not see grow append-only.
//!
//! The witness keeps, per log origin, the latest (size, root) it cosigned in a JSON state file,
//! replaced atomically (temporary file, fsync, rename, fsync of the folder) *before* it answers;
//! checking a request against that state and recording the new state happen under one mutex, so
//! two checkpoints that disagree can never both be cosigned. [`client`] is the log's side.
//!
//! [tlog-witness]: https://c2sp.org/tlog-witness

pub mod client;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use corroborate_verifier::merkle::{Hash, verify_consistency};
use corroborate_verifier::note::{
    COSIGNATURE_V1, Checkpoint, ED25519, MAX_NOTE_BYTES, NoteSigner, NoteVerifier, SignedNote,
    cosign, verify_log_signature,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The most consistency proof lines a request may carry (tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;
/// The largest `add-checkpoint` request body: a note of the largest size, the old size line
/// and the proof lines.
pub const MAX_REQUEST_BYTES: usize = MAX_NOTE_BYTES + 4096;
/// The content type of a 409 answer: the witness's latest size for the log.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// What a witness is started with.
pub struct WitnessConfig {
    /// The address to listen on (`host:port`; port 0 picks a free one).
    pub listen: String,
    /// The witness's key. A type 0x01 key is used as a `cosignature/v1` key of the same name.
    pub signer: NoteSigner,
    /// The log keys it witnesses (type 0x01); a log's origin is its key's name.
    pub logs: Vec<NoteVerifier>,
    /// Where the latest cosigned checkpoint of each log is kept.
    pub state_file: PathBuf,
}

/// A running witness.
pub struct Witness {
    url: String,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Witness {
    /// Binds (port 0 allowed) and returns the running server; `url()` gives http://addr.
    pub async fn start(config: WitnessConfig) -> anyhow::Result<Witness> {
        let signer = if config.signer.kind() == COSIGNATURE_V1 {
            config.signer
        } else {
            config
                .signer
                .with_kind(COSIGNATURE_V1)
                .context("turning the witness key into a cosignature key")?
        };
        let mut logs = HashMap::new();
        for log in config.logs {
            if log.kind() != ED25519 {
                bail!(
                    "the log key {log} is not an Ed25519 note key (type 0x01), the only kind of \
                     log signature this witness checks"
                );
            }
            if let Some(previous) = logs.insert(log.name().to_owned(), log.clone()) {
                bail!(
                    "two log keys share the origin {}: {previous} and {log}",
                    log.name()
                );
            }
        }
        let state = State::load(&config.state_file)?;
        let listener = TcpListener::bind(&config.listen)
            .with_context(|| format!("binding {}", config.listen))?;
        let address = listener.local_addr()?;
        let shared = web::Data::new(Shared {
            signer,
            logs,
            state_file: config.state_file,
            state: tokio::sync::Mutex::new(state),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .app_data(web::PayloadConfig::new(MAX_REQUEST_BYTES))
                .route("/add-checkpoint", web::post().to(add_checkpoint))
        })
        .workers(2)
        .disable_signals()
        .shutdown_timeout(5)
        .listen(listener)
        .context("listening")?
        .run();
        let handle = server.handle();
        let task = tokio::spawn(server);
        Ok(Witness {
            url: format!("http://{address}"),
            handle,
            task,
        })
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Stops accepting requests, lets those under way finish, and returns once stopped.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "the witness server task ended abnormally");
        }
    }
}

struct Shared {
    signer: NoteSigner,
    /// By origin (the key's name).
    logs: HashMap<String, NoteVerifier>,
    state_file: PathBuf,
    state: tokio::sync::Mutex<State>,
}

/// The state file: per origin, the latest checkpoint cosigned.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    version: u32,
    logs: BTreeMap<String, Seen>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Seen {
    size: u64,
    /// Standard base64 of the 32-byte root hash, as in the checkpoint.
    root: String,
}

const STATE_VERSION: u32 = 1;

impl State {
    /// Reads the state file; a missing file means nothing was cosigned yet.
    fn load(path: &Path) -> anyhow::Result<State> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(State {
                    version: STATE_VERSION,
                    logs: BTreeMap::new(),
                });
            }
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("reading the witness state {}", path.display()));
            }
        };
        let state: State = serde_json::from_slice(&bytes)
            .with_context(|| format!("parsing the witness state {}", path.display()))?;
        if state.version != STATE_VERSION {
            bail!(
                "the witness state {} is of version {}, this witness reads version {STATE_VERSION}",
                path.display(),
                state.version
            );
        }
        for (origin, seen) in &state.logs {
            decode_root(&seen.root).with_context(|| {
                format!(
                    "the witness state {} has a bad root hash for {origin}",
                    path.display()
                )
            })?;
        }
        Ok(state)
    }

    fn latest(&self, origin: &str) -> Option<(u64, Hash)> {
        let seen = self.logs.get(origin)?;
        Some((seen.size, decode_root(&seen.root).ok()?))
    }

    /// Replaces the file atomically: a temporary file beside it, written and synced, renamed
    /// over it, then the folder synced so that the rename itself survives a crash.
    fn save(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(self)?;
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let mut file = std::fs::File::create(&temporary)
            .with_context(|| format!("creating {}", temporary.display()))?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {}", temporary.display()))?;
        drop(file);
        std::fs::rename(&temporary, path)
            .with_context(|| format!("replacing {}", path.display()))?;
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        std::fs::File::open(folder)
            .and_then(|folder| folder.sync_all())
            .with_context(|| format!("syncing the folder {}", folder.display()))?;
        Ok(())
    }
}

fn decode_root(text: &str) -> anyhow::Result<Hash> {
    let bytes = STANDARD.decode(text).context("not standard base64")?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("not 32 bytes"))
}

/// Why a request gets no cosignature.
enum Refusal {
    /// 409 with the latest size.
    Conflict(u64),
    Status(StatusCode, String),
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal::Status(status, message.into())
}

async fn add_checkpoint(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    match witness(&shared, &body).await {
        Ok(lines) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(lines),
        Err(Refusal::Conflict(size)) => HttpResponse::Conflict()
            .content_type(SIZE_CONTENT_TYPE)
            .body(format!("{size}\n")),
        Err(Refusal::Status(status, message)) => HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(format!("{message}\n")),
    }
}

/// The checks of tlog-witness `add-checkpoint`, in its order; the cosignature line on success.
async fn witness(shared: &Shared, body: &[u8]) -> Result<String, Refusal> {
    let text = std::str::from_utf8(body)
        .map_err(|_| refuse(StatusCode::BAD_REQUEST, "the request is not UTF-8"))?;
    let request = Request::parse(text).map_err(|e| refuse(StatusCode::BAD_REQUEST, e))?;
    let note = SignedNote::parse(request.note).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            format!("the checkpoint is not a signed note: {e}"),
        )
    })?;
    let checkpoint = Checkpoint::parse_body(&note.body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            format!("the note is not a checkpoint: {e}"),
        )
    })?;
    let log = shared.logs.get(&checkpoint.origin).ok_or_else(|| {
        refuse(
            StatusCode::NOT_FOUND,
            format!(
                "this witness does not witness the log {}",
                checkpoint.origin
            ),
        )
    })?;
    verify_log_signature(&note, log).map_err(|e| {
        refuse(
            StatusCode::FORBIDDEN,
            format!("the checkpoint is not signed by the log's key: {e}"),
        )
    })?;
    if request.old > checkpoint.size {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "the old size {} is larger than the checkpoint's size {}",
                request.old, checkpoint.size
            ),
        ));
    }

    // From here to the saved state, one request at a time.
    let mut state = shared.state.lock().await;
    let latest = state.latest(&checkpoint.origin);
    let (latest_size, latest_root) = latest.unwrap_or((0, [0; 32]));
    if request.old != latest_size {
        return Err(Refusal::Conflict(latest_size));
    }
    if latest.is_some() && checkpoint.size == latest_size && checkpoint.root != latest_root {
        tracing::warn!(
            origin = %checkpoint.origin, size = checkpoint.size,
            "a validly signed checkpoint has the size of the one cosigned but another root: the log forked"
        );
        return Err(Refusal::Conflict(latest_size));
    }
    if let Err(error) = verify_consistency(
        latest_size,
        checkpoint.size,
        &latest_root,
        &checkpoint.root,
        &request.proof,
    ) {
        tracing::warn!(
            origin = %checkpoint.origin, old = latest_size, new = checkpoint.size, %error,
            "a validly signed checkpoint came with a consistency proof that does not verify"
        );
        return Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the consistency proof from size {latest_size} to {} does not verify: {error}",
                checkpoint.size
            ),
        ));
    }
    if latest.is_none() || checkpoint.size > latest_size {
        let mut next = state.clone();
        next.logs.insert(
            checkpoint.origin.clone(),
            Seen {
                size: checkpoint.size,
                root: STANDARD.encode(checkpoint.root),
            },
        );
        let path = shared.state_file.clone();
        let saved = web::block(move || next.save(&path).map(|()| next))
            .await
            .map_err(anyhow::Error::from)
            .and_then(|result| result);
        match saved {
            Ok(next) => *state = next,
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "saving the witness state failed"
                );
                return Err(refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the witness could not record the checkpoint",
                ));
            }
        }
    }
    drop(state);

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    let line = cosign(&shared.signer, &checkpoint, now).map_err(|e| {
        tracing::error!(error = %e, "cosigning failed");
        refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the witness could not cosign",
        )
    })?;
    tracing::info!(origin = %checkpoint.origin, size = checkpoint.size, "cosigned");
    Ok(line.to_line())
}

/// An `add-checkpoint` body: `old <size>`, up to 63 base64 proof hashes, an empty line, the
/// signed checkpoint; every line ending in a newline.
struct Request<'a> {
    old: u64,
    proof: Vec<Hash>,
    note: &'a str,
}

impl<'a> Request<'a> {
    fn parse(text: &'a str) -> Result<Request<'a>, String> {
        let (first, mut rest) = text
            .split_once('\n')
            .ok_or("the request has no `old <size>` line")?;
        let old = first.strip_prefix("old ").and_then(parse_size).ok_or(
            "the first line must be `old <size>`, the size in decimal without leading zeros",
        )?;
        let mut proof = Vec::new();
        loop {
            let (line, after) = rest
                .split_once('\n')
                .ok_or("the request has no empty line before the checkpoint")?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(format!(
                    "the request has more than {MAX_PROOF_LINES} consistency proof lines"
                ));
            }
            let hash = STANDARD
                .decode(line)
                .ok()
                .and_then(|bytes| Hash::try_from(bytes).ok())
                .ok_or_else(|| {
                    format!(
                        "consistency proof line {} is not the base64 of a 32-byte hash",
                        proof.len() + 1
                    )
                })?;
            proof.push(hash);
        }
        Ok(Request {
            old,
            proof,
            note: rest,
        })
    }
}

/// A tree size: ASCII decimal without leading zeros (`0` itself allowed).
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_parsed_strictly() {
        let hash = STANDARD.encode([7u8; 32]);
        let ok = Request::parse("old 0\n\nnote\n").unwrap();
        assert_eq!((ok.old, ok.proof.len(), ok.note), (0, 0, "note\n"));
        let text = format!("old 12\n{hash}\n{hash}\n\nnote\n\n— x y\n");
        let ok = Request::parse(&text).unwrap();
        assert_eq!((ok.old, ok.proof.len()), (12, 2));
        assert_eq!(ok.note, "note\n\n— x y\n");
        let too_many = format!("old 1\n{}\nnote\n", format!("{hash}\n").repeat(64));
        for bad in [
            "",
            "old 1",
            "old 01\n\nn\n",
            "old -1\n\nn\n",
            "old  1\n\nn\n",
            "new 1\n\nn\n",
            "old 1\nAAAA\n\nn\n",
            "old 1\nnot base64\n\nn\n",
            "old 1\n",
            too_many.as_str(),
        ] {
            assert!(Request::parse(bad).is_err(), "{bad:?}");
        }
    }
}
