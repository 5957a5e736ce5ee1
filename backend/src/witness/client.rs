//! The log's side of tlog-witness: asking a witness to cosign a checkpoint (`add-checkpoint`)
//! and telling apart what to do next: retry from the witness's size (409), give up on this
//! checkpoint (4xx), or retry later (network, 5xx). The cosignature lines returned are parsed,
//! not verified: the caller verifies them against the witness keys it trusts
//! (`corroborate_verifier::note::verify_checkpoint`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use corroborate_verifier::note::{SignatureLine, parse_signature_lines};

/// The largest answer read from a witness: far more than a few cosignature lines.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// How much of a refusal's text is kept.
const MAX_DETAIL_CHARS: usize = 500;

/// Why a witness did not cosign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddCheckpointError {
    /// 409: the witness's latest size for this log differs; retry with this old size.
    #[error("the witness's latest checkpoint of this log has size {latest_size}; retry from it")]
    Conflict { latest_size: u64 },
    /// 422 (consistency proof refused), 403 (log key unknown / signature), 404 (origin unknown), 400: refused with the status and body text.
    ///
    /// Also a 409 whose size is the old size sent (the witness holds another tree of that size:
    /// retrying cannot help), and a 200 without cosignature lines.
    #[error("the witness refused the checkpoint (HTTP {status}): {detail}")]
    Refused { status: u16, detail: String },
    /// network, timeout, 5xx: retry later.
    #[error("the witness is unavailable: {0}")]
    Unavailable(String),
}

/// POST <base_url>/add-checkpoint with body "old <size>\n<base64 proof hashes one per line>\n\n<signed checkpoint text>";
/// returns the witness's cosignature line(s) parsed.
pub async fn add_checkpoint(
    client: &reqwest::Client,
    base_url: &str,
    old_size: u64,
    proof: &[[u8; 32]],
    signed_checkpoint: &str,
) -> Result<Vec<SignatureLine>, AddCheckpointError> {
    let url = format!("{}/add-checkpoint", base_url.trim_end_matches('/'));
    let mut body = format!("old {old_size}\n");
    for hash in proof {
        body.push_str(&STANDARD.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(signed_checkpoint);

    let mut response = client
        .post(&url)
        .body(body)
        .send()
        .await
        .map_err(|e| AddCheckpointError::Unavailable(format!("POST {url}: {e}")))?;
    let status = response.status().as_u16();
    let mut answer = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if answer.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(AddCheckpointError::Unavailable(format!(
                        "the answer of {url} is larger than {MAX_ANSWER_BYTES} bytes"
                    )));
                }
                answer.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return Err(AddCheckpointError::Unavailable(format!(
                    "reading the answer of {url}: {e}"
                )));
            }
        }
    }
    let text = String::from_utf8_lossy(&answer);
    match status {
        200 => parse_signature_lines(&text).map_err(|e| AddCheckpointError::Refused {
            status,
            detail: format!("the answer holds no well-formed cosignature lines: {e}"),
        }),
        409 => match text.strip_suffix('\n').and_then(super::parse_size) {
            Some(latest_size) if latest_size != old_size => {
                Err(AddCheckpointError::Conflict { latest_size })
            }
            Some(_) => Err(AddCheckpointError::Refused {
                status,
                detail: format!(
                    "the witness has cosigned another tree of size {old_size}: the log's \
                     history differs from what the witness saw"
                ),
            }),
            None => Err(AddCheckpointError::Refused {
                status,
                detail: detail(&text),
            }),
        },
        408 | 429 | 500..=599 => Err(AddCheckpointError::Unavailable(format!(
            "HTTP {status}: {}",
            detail(&text)
        ))),
        _ => Err(AddCheckpointError::Refused {
            status,
            detail: detail(&text),
        }),
    }
}

/// A refusal's text, shortened and without control characters, for logs and messages.
fn detail(text: &str) -> String {
    let cleaned: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DETAIL_CHARS)
        .collect();
    if cleaned.is_empty() {
        "(no explanation given)".to_owned()
    } else {
        cleaned
    }
}
