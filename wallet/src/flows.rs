//! The wallet's flows with the service, for each role a person plays:
//!
//! - **citizen**: ask attesters for an attestation ([`Agent::request`]), follow the answers
//!   ([`Agent::progress`]), collect them, each checked before it is kept ([`Agent::collect`]);
//!   present to a government verifier exactly the credentials its policy needs, bound to its
//!   challenge and audience, and keep the status credential it issues ([`Agent::present`]);
//! - **person attester** (neighbour, parent, physician): review a request ([`Agent::review`]),
//!   sign it with my own key and an entry on my own revocation list ([`Agent::attest`]) or
//!   decline it; later revoke what I signed by re-signing my list ([`Agent::revoke`]).
//!
//! Every flow reads the clock and randomness through the platform traits, and writes what it
//! keeps in one batch after the service has answered: a failure leaves the wallet as it was.

use crate::check::{Accepted, Expectation, Refusal, check_received};
use crate::client::{ClientError, Service, Session, text_of};
use crate::identity::{self, IdentityError, Signer};
use crate::platform::{Clock, Entropy, EntropyRng, Method, Storage, Transport};
use crate::records::{
    CachedRecord, CredentialKind, CredentialRecord, Disclosed, GivenRecord, IdentityRecord,
    PresentationRecord, ReceiptRecord, RequestRecord, StatusListRecord,
};
use crate::resolve::Online;
use crate::store::{Batch, Wallet, WalletError};
use chrono::{DateTime, Utc};
use corroborate_verifier::credential::{Credential, VC_V2_CONTEXT, rfc3339};
use corroborate_verifier::did::LocalResolver;
use corroborate_verifier::fact::agreement_key;
use corroborate_verifier::policy::Policy;
use corroborate_verifier::presentation::{Binding, sign_presentation};
use corroborate_verifier::proof::{self, Cryptosuite, ProofOptions};
use corroborate_verifier::schema::CORROBORATE_V1_CONTEXT_URL;
use corroborate_verifier::status::{
    BitstringBuilder, StatusPurpose, decode_list, status_list_credential,
};
use corroborate_verifier::verification::{Check, CheckOutcome, VerifyOptions, verify_credential};
use serde_json::{Map, Value, json};

/// The platform the flows run on.
pub struct Env<T: Transport, C: Clock, E: Entropy> {
    pub transport: T,
    pub clock: C,
    pub entropy: E,
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Wallet(#[from] WalletError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Service(#[from] ClientError),
    #[error("this wallet has no {what} {id}")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Invalid(String),
    #[error("the credential was refused: {0}")]
    Refused(#[from] Refusal),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("this request is {0}: it takes no more answers")]
    RequestClosed(String),
    #[error(
        "you are not accredited to attest on this service, so you cannot keep a revocation list \
         there: an administrator accredits persons, and the neighbour accreditation comes with \
         your own established residence"
    )]
    NotAccredited,
    #[error(
        "this status is not anchored yet: it waits for its batch (at most a minute or so); ask \
         again later"
    )]
    NotAnchoredYet,
    #[error("the service's anchoring receipt does not hold: {0}")]
    BadReceipt(String),
}

impl FlowError {
    /// A stable code for front ends to translate: `wrong_passphrase`, `no_wallet`, `exists`,
    /// `not_found`, `invalid`, `refused`, `request_closed`, `not_accredited`,
    /// `not_anchored_yet`, `bad_receipt`, `service` (the service answered with a problem, or
    /// with something unexpected), `redirect` (the service answered with a redirect),
    /// `network` (no answer), `storage`, `signing`.
    pub fn code(&self) -> &'static str {
        match self {
            FlowError::Wallet(e) => e.code(),
            FlowError::Identity(e) => e.code(),
            FlowError::Service(ClientError::Transport(_)) => "network",
            FlowError::Service(ClientError::Redirect { .. }) => "redirect",
            FlowError::Service(ClientError::Signing(_)) | FlowError::Signing(_) => "signing",
            FlowError::Service(_) => "service",
            FlowError::NotFound { .. } => "not_found",
            FlowError::Invalid(_) => "invalid",
            FlowError::Refused(_) => "refused",
            FlowError::RequestClosed(_) => "request_closed",
            FlowError::NotAccredited => "not_accredited",
            FlowError::NotAnchoredYet => "not_anchored_yet",
            FlowError::BadReceipt(_) => "bad_receipt",
        }
    }
}

/// What a citizen asks attesters for.
#[derive(Debug, Clone)]
pub struct Ask {
    pub fact_type: String,
    /// Members of the credential subject the attesters are asked to state.
    pub claims: Value,
    pub addressed_to: Vec<String>,
    /// Also make a one-time link, for an attester whose DID I do not know.
    pub open_link: bool,
    pub expires_in_days: Option<i64>,
    pub note: Option<String>,
}

/// What a collection brought.
#[derive(Debug)]
pub struct Collection {
    /// Checked and stored.
    pub stored: Vec<CredentialRecord>,
    /// Refused, with the attester and why: not stored.
    pub refused: Vec<(String, Refusal)>,
    /// Attesters who declined, with their reason.
    pub declined: Vec<(String, Option<String>)>,
    /// The request's state afterwards.
    pub state: String,
}

/// A request an attester is looking at: by its id (addressed to me) or its open link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Addressed(String),
    /// The link's token (the last segment of the link).
    Link(String),
}

impl Target {
    /// A request id, or an open link (its URL or token).
    pub fn parse(text: &str) -> Target {
        let text = text.trim();
        match text.split_once("/attestation-requests/open/") {
            Some((_, token)) => Target::Link(token.trim_end_matches('/').to_owned()),
            None if text.starts_with("open:") => {
                Target::Link(text.trim_start_matches("open:").to_owned())
            }
            None => Target::Addressed(text.to_owned()),
        }
    }

    fn review_path(&self) -> String {
        match self {
            Target::Addressed(id) => format!("/attestation-requests/{}", encode_segment(id)),
            Target::Link(token) => format!("/attestation-requests/open/{}", encode_segment(token)),
        }
    }

    fn answer_path(&self) -> String {
        match self {
            Target::Addressed(id) => {
                format!("/attestation-requests/{}/responses", encode_segment(id))
            }
            Target::Link(token) => format!(
                "/attestation-requests/open/{}/responses",
                encode_segment(token)
            ),
        }
    }
}

/// A verifier's request for a presentation, as the wallet shows it before consent.
#[derive(Debug, Clone)]
pub struct PresentationAsk {
    pub challenge: String,
    pub domain: String,
    pub verifier: String,
    pub policy: String,
    pub policy_version: String,
    pub policy_title: String,
    pub policy_owner: String,
    pub fact_type: String,
    pub expires: String,
    pub submit: String,
}

/// What the consent screen showed of a [`PresentationAsk`]: who asks and under which policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub verifier: String,
    pub policy: String,
    pub policy_version: String,
}

impl PresentationAsk {
    /// Consent holds only for what was shown: the same verifier and policy version, and the
    /// credentials the screen listed (named, never "whatever is valid now"). Nothing is sent
    /// otherwise.
    pub fn check_consent(&self, shown: &Shown, chosen: &[String]) -> Result<(), FlowError> {
        let changed = |what: &str, then: &str, now: &str| {
            Err(FlowError::Invalid(format!(
                "the request changed after it was shown: its {what} was {then:?} and is now \
                 {now:?}; nothing was sent, look at it again"
            )))
        };
        if self.verifier != shown.verifier {
            return changed("verifier", &shown.verifier, &self.verifier);
        }
        if self.policy != shown.policy {
            return changed("policy", &shown.policy, &self.policy);
        }
        if self.policy_version != shown.policy_version {
            return changed(
                "policy version",
                &shown.policy_version,
                &self.policy_version,
            );
        }
        if chosen.is_empty() {
            return Err(FlowError::Invalid(
                "no credential was chosen to present: nothing was sent".into(),
            ));
        }
        Ok(())
    }
}

/// What came of a presentation.
#[derive(Debug)]
pub struct Presented {
    pub record: PresentationRecord,
    /// The decision as the verifier returned it, with its explanation.
    pub decision: Value,
    /// The status credential, checked and stored, when the fact was established.
    pub status: Option<CredentialRecord>,
}

/// A wallet acting with one service.
pub struct Agent<'a, S: Storage, T: Transport, C: Clock, E: Entropy> {
    pub wallet: &'a Wallet<S>,
    pub env: &'a Env<T, C, E>,
    pub service: Service<'a, T>,
}

impl<'a, S: Storage, T: Transport, C: Clock, E: Entropy> Agent<'a, S, T, C, E> {
    pub fn new(wallet: &'a Wallet<S>, env: &'a Env<T, C, E>, service: &str) -> Self {
        Agent {
            wallet,
            env,
            service: Service::new(service, &env.transport),
        }
    }

    fn rng(&self) -> EntropyRng<'_, E> {
        EntropyRng(&self.env.entropy)
    }

    fn now(&self) -> DateTime<Utc> {
        self.env.clock.now()
    }

    /// Fetches the anchoring receipt of my status credential `status`, checks it against the
    /// credential and the keys the service publishes (the fingerprint must be this credential's,
    /// the proofs must lead to a checkpoint signed by the log and its witnesses' quorum), and
    /// keeps it.
    pub async fn receipt(
        &self,
        holder: &IdentityRecord,
        status: &CredentialRecord,
    ) -> Result<ReceiptRecord, FlowError> {
        use corroborate_verifier::anchor::{Receipt, RecordCheck, verify_receipt};
        if status.kind != CredentialKind::Status {
            return Err(FlowError::Invalid(format!(
                "{} is not a status credential: only statuses are anchored",
                status.id
            )));
        }
        let session = self.sign_in(holder).await?;
        let path = format!("/decisions/{}/receipt", encode_segment(&status.source));
        let body = match self.service.get(&path, Some(&session.token)).await {
            Ok(body) => body,
            Err(error) if error.code() == Some("conflict") => {
                return Err(FlowError::NotAnchoredYet);
            }
            Err(error) => return Err(error.into()),
        };
        let trust_view = self.service.get("/anchoring/trust", None).await?;
        let receipt: Receipt = serde_json::from_value(body.clone())
            .map_err(|e| FlowError::BadReceipt(format!("not a receipt: {e}")))?;
        if receipt.record.id != status.id {
            return Err(FlowError::BadReceipt(format!(
                "it is about {}, not {}",
                receipt.record.id, status.id
            )));
        }
        let trust = trust_of(&trust_view).map_err(FlowError::BadReceipt)?;
        let now = self.now().timestamp().max(0) as u64;
        let report = verify_receipt(&receipt, Some(&status.credential), &trust, now)
            .map_err(|e| FlowError::BadReceipt(e.to_string()))?;
        if report.record != RecordCheck::Matched {
            return Err(FlowError::BadReceipt(
                "it was not matched to the credential".into(),
            ));
        }
        let record = ReceiptRecord {
            credential: status.id.clone(),
            decision: status.source.clone(),
            service: self.service.base().to_owned(),
            receipt: body,
            trust: trust_view,
            fetched: self.now(),
        };
        self.wallet.put(&record, &mut self.rng()).await?;
        Ok(record)
    }

    /// Signs `identity` in.
    pub async fn sign_in(&self, identity: &IdentityRecord) -> Result<Session, FlowError> {
        let signer = identity::signer(identity)?;
        Ok(self.service.sign_in(&signer, self.now()).await?)
    }

    /// Asks the service to erase the personal data it holds about `identity` (GDPR art. 17):
    /// its requests and their answers, its sessions, and, anonymised, the decisions about it.
    /// Returns the service's record of the erasure. The wallet's own records are not touched.
    pub async fn erase(&self, identity: &IdentityRecord) -> Result<Value, FlowError> {
        let session = self.sign_in(identity).await?;
        Ok(self
            .service
            .post(
                "/erasure-requests",
                Some(&session.token),
                json!({"did": identity.did}),
            )
            .await?)
    }

    // --- Citizen -------------------------------------------------------------------------

    /// Asks attesters for an attestation about `holder`; keeps the request to follow it.
    pub async fn request(
        &self,
        holder: &IdentityRecord,
        ask: &Ask,
    ) -> Result<RequestRecord, FlowError> {
        let session = self.sign_in(holder).await?;
        let mut body = json!({
            "fact_type": ask.fact_type,
            "claims": ask.claims,
            "addressed_to": ask.addressed_to,
            "open": ask.open_link,
        });
        if let Some(days) = ask.expires_in_days {
            body["expires_in_days"] = json!(days);
        }
        if let Some(note) = &ask.note {
            body["note"] = json!(note);
        }
        let created = self
            .service
            .post("/attestation-requests", Some(&session.token), body)
            .await?;
        let what = "POST /attestation-requests";
        let record = RequestRecord {
            id: text_of(&created, "id", what)?,
            service: self.service.base().to_owned(),
            holder: holder.did.clone(),
            fact_type: ask.fact_type.clone(),
            claims: ask.claims.clone(),
            addressed_to: ask.addressed_to.clone(),
            link: created
                .get("link")
                .and_then(Value::as_str)
                .map(str::to_owned),
            created: self.now(),
            expires: text_of(&created, "expires", what)?,
            closed: None,
        };
        self.wallet.put(&record, &mut self.rng()).await?;
        Ok(record)
    }

    async fn own_request(&self, id: &str) -> Result<(RequestRecord, IdentityRecord), FlowError> {
        let request =
            self.wallet
                .get::<RequestRecord>(id)
                .await?
                .ok_or_else(|| FlowError::NotFound {
                    what: "attestation request",
                    id: id.to_owned(),
                })?;
        let holder = identity::find(self.wallet, Some(&request.holder)).await?;
        Ok((request, holder))
    }

    /// The request as the service sees it now: every attester's progress.
    pub async fn progress(&self, id: &str) -> Result<Value, FlowError> {
        let (_, holder) = self.own_request(id).await?;
        let session = self.sign_in(&holder).await?;
        Ok(self
            .service
            .get(
                &format!("/attestation-requests/{}", encode_segment(id)),
                Some(&session.token),
            )
            .await?)
    }

    /// Collects the answers to a request: each credential is checked (proof, schema, status,
    /// about me, stating what I asked, from the attester who answered) and only then stored,
    /// together, in one batch. The service keeps a collection repeatable for a while, so a
    /// failure here loses nothing: collecting again gets the same answers.
    pub async fn collect(&self, id: &str) -> Result<Collection, FlowError> {
        let (mut request, holder) = self.own_request(id).await?;
        let session = self.sign_in(&holder).await?;
        let collected = self
            .service
            .post(
                &format!("/attestation-requests/{}/collect", encode_segment(id)),
                Some(&session.token),
                json!({}),
            )
            .await?;
        let claims = request.claims.as_object().cloned().unwrap_or_default();
        let online = Online::new(self.service.base(), &self.env.transport, self.now());
        let mut stored = Vec::new();
        let mut refused = Vec::new();
        for answer in array(&collected, "credentials") {
            let attester = answer
                .get("attester")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let credential = answer.get("credential").cloned().unwrap_or(Value::Null);
            let expected = Expectation {
                subject: &holder.did,
                fact_type: Some(&request.fact_type),
                issuer: Some(&attester),
                claims: Some(&claims),
            };
            match check_received(&credential, &expected, &online, &online, self.now()).await {
                Ok(accepted) => {
                    let record = self.credential_record(
                        &accepted,
                        CredentialKind::Attestation,
                        &holder.did,
                        &request.id,
                    );
                    match self.admit(record, &stored).await? {
                        Ok(Some(record)) => stored.push(record),
                        Ok(None) => {}
                        Err(refusal) => refused.push((attester, refusal)),
                    }
                }
                Err(refusal) => refused.push((attester, refusal)),
            }
        }
        let declined = array(&collected, "declined")
            .iter()
            .map(|d| {
                (
                    d.get("attester")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    d.get("reason").and_then(Value::as_str).map(str::to_owned),
                )
            })
            .collect();
        let state = collected
            .get("state")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let mut batch = Batch::new();
        let mut rng = self.rng();
        for record in &stored {
            batch.put(self.wallet, record, &mut rng)?;
        }
        if matches!(state.as_str(), "closed" | "expired") {
            request.closed = Some(self.now());
        }
        batch.put(self.wallet, &request, &mut rng)?;
        self.cache(&mut batch, online.fetched())?;
        self.wallet.commit(batch).await?;
        Ok(Collection {
            stored,
            refused,
            declined,
            state,
        })
    }

    /// Keeps a credential handed over outside the exchange (an organisation's portal, a file),
    /// after the same checks as a collected one: it must be about `holder` and verify in full.
    pub async fn import(
        &self,
        holder: &IdentityRecord,
        credential: &Value,
    ) -> Result<CredentialRecord, FlowError> {
        let online = Online::new(self.service.base(), &self.env.transport, self.now());
        let expected = Expectation {
            subject: &holder.did,
            fact_type: None,
            issuer: None,
            claims: None,
        };
        let accepted = check_received(credential, &expected, &online, &online, self.now()).await?;
        let kind = if accepted.credential.fact_type() == Some("DerivedStatusCredential") {
            CredentialKind::Status
        } else {
            CredentialKind::Attestation
        };
        let record = self.credential_record(&accepted, kind, &holder.did, "import");
        let record = match self.admit(record.clone(), &[]).await? {
            Ok(_) => record,
            Err(refusal) => return Err(refusal.into()),
        };
        let mut batch = Batch::new();
        batch.put(self.wallet, &record, &mut self.rng())?;
        self.cache(&mut batch, online.fetched())?;
        self.wallet.commit(batch).await?;
        Ok(record)
    }

    /// Withdraws a request: the service deletes it, and the wallet marks it closed.
    pub async fn withdraw(&self, id: &str) -> Result<(), FlowError> {
        let (mut request, holder) = self.own_request(id).await?;
        let session = self.sign_in(&holder).await?;
        self.service
            .call(
                Method::Delete,
                &format!("/attestation-requests/{}", encode_segment(id)),
                Some(&session.token),
                None,
            )
            .await?;
        request.closed = Some(self.now());
        self.wallet.put(&request, &mut self.rng()).await?;
        Ok(())
    }

    fn credential_record(
        &self,
        accepted: &Accepted,
        kind: CredentialKind,
        holder: &str,
        source: &str,
    ) -> CredentialRecord {
        let credential = &accepted.credential;
        CredentialRecord {
            id: credential
                .id()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("sha256:{}", credential.fingerprint())),
            kind,
            holder: holder.to_owned(),
            issuer: credential.issuer().to_owned(),
            fact_type: credential.fact_type().unwrap_or_default().to_owned(),
            received: self.now(),
            source: source.to_owned(),
            credential: credential.json().clone(),
        }
    }

    /// Whether a checked credential may be kept: `Ok(Some)` to store, `Ok(None)` when the very
    /// same credential is held already (or is in `pending`), a refusal when another credential
    /// holds its id — an id chosen by an issuer must not replace what the wallet holds.
    async fn admit(
        &self,
        record: CredentialRecord,
        pending: &[CredentialRecord],
    ) -> Result<Result<Option<CredentialRecord>, Refusal>, FlowError> {
        let held = match pending.iter().find(|p| p.id == record.id) {
            Some(p) => Some(p.clone()),
            None => self.wallet.get::<CredentialRecord>(&record.id).await?,
        };
        Ok(match held {
            None => Ok(Some(record)),
            Some(held) if held.credential == record.credential => Ok(None),
            Some(_) => Err(Refusal::DuplicateId(record.id)),
        })
    }

    fn cache(&self, batch: &mut Batch, fetched: Vec<CachedRecord>) -> Result<(), FlowError> {
        let mut rng = self.rng();
        for cached in &fetched {
            batch.put(self.wallet, cached, &mut rng)?;
        }
        Ok(())
    }

    // --- Attester ------------------------------------------------------------------------

    /// The requests addressed to `attester`.
    pub async fn inbox(&self, attester: &IdentityRecord) -> Result<Vec<Value>, FlowError> {
        let session = self.sign_in(attester).await?;
        let inbox = self
            .service
            .get("/attestation-requests/inbox", Some(&session.token))
            .await?;
        Ok(match inbox {
            Value::Array(items) => items,
            other => array(&other, "requests"),
        })
    }

    /// One request, exactly as the attester will be asked to sign it.
    pub async fn review(
        &self,
        attester: &IdentityRecord,
        target: &Target,
    ) -> Result<Value, FlowError> {
        let session = self.sign_in(attester).await?;
        self.review_with(&session, target).await
    }

    async fn review_with(&self, session: &Session, target: &Target) -> Result<Value, FlowError> {
        Ok(self
            .service
            .get(&target.review_path(), Some(&session.token))
            .await?)
    }

    /// Signs what `target` asks, as `attester` in `relation` (`{"role": "neighbour", "since":
    /// "2019-04-01"}`), with an entry on my own revocation list, and sends it. Keeps a note of
    /// it so I can revoke it later.
    pub async fn attest(
        &self,
        attester: &IdentityRecord,
        target: &Target,
        relation: Value,
        suite: Cryptosuite,
    ) -> Result<GivenRecord, FlowError> {
        self.attest_reviewed(attester, target, None, relation, suite)
            .await
    }

    /// [`Agent::attest`], refusing to sign unless the request still asks exactly what the
    /// attester reviewed (`reviewed`: the answer of [`Agent::review`] they were shown).
    pub async fn attest_reviewed(
        &self,
        attester: &IdentityRecord,
        target: &Target,
        reviewed: Option<&Value>,
        relation: Value,
        suite: Cryptosuite,
    ) -> Result<GivenRecord, FlowError> {
        let session = self.sign_in(attester).await?;
        let request = self.review_with(&session, target).await?;
        if let Some(reviewed) = reviewed {
            let part = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
            if ["id", "subject", "fact_type", "claims"]
                .iter()
                .any(|k| part(&request, k) != part(reviewed, k))
            {
                return Err(FlowError::Invalid(
                    "the request changed after you reviewed it: nothing was signed; review it \
                     again"
                        .into(),
                ));
            }
        }
        let what = "the request";
        let subject = text_of(&request, "subject", what)?;
        let fact_type = text_of(&request, "fact_type", what)?;
        let request_id = text_of(&request, "id", what)?;
        // Refused here rather than by the service after a list index is spent on it.
        if let Some(state @ ("closed" | "expired")) = request.get("state").and_then(Value::as_str) {
            return Err(FlowError::RequestClosed(state.to_owned()));
        }
        let Some(Value::Object(claims)) = request.get("claims") else {
            return Err(FlowError::Invalid(
                "the request no longer holds its claims (closed or expired): there is nothing to \
                 sign"
                    .into(),
            ));
        };
        if subject == attester.did {
            return Err(FlowError::Invalid(
                "this request is about you: you cannot attest for yourself".into(),
            ));
        }
        let (signed, given, batch) = self
            .sign_for(
                attester,
                &session,
                &subject,
                &fact_type,
                claims,
                relation,
                suite,
                &request_id,
            )
            .await?;
        self.service
            .post(
                &target.answer_path(),
                Some(&session.token),
                json!({"credential": signed}),
            )
            .await?;
        self.wallet.commit(batch).await?;
        Ok(given)
    }

    /// Signs an attestation about `subject` directly, without a request (an organisation's own
    /// signer, or a person handing it over in another way), with an entry on my revocation list.
    /// Returns the signed credential; the wallet keeps a note of it for revocation.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue(
        &self,
        attester: &IdentityRecord,
        subject: &str,
        fact_type: &str,
        claims: &Value,
        relation: Value,
        suite: Cryptosuite,
    ) -> Result<(Value, GivenRecord), FlowError> {
        let Value::Object(claims) = claims else {
            return Err(FlowError::Invalid(
                "the claims must be a JSON object".into(),
            ));
        };
        if subject == attester.did {
            return Err(FlowError::Invalid(
                "you cannot attest a fact about yourself".into(),
            ));
        }
        let session = self.sign_in(attester).await?;
        let (signed, given, batch) = self
            .sign_for(
                attester, &session, subject, fact_type, claims, relation, suite, "direct",
            )
            .await?;
        // Checked as a citizen's wallet will check it, before it leaves this one.
        let online = Online::new(self.service.base(), &self.env.transport, self.now());
        let expected = Expectation {
            subject,
            fact_type: Some(fact_type),
            issuer: Some(&attester.did),
            claims: Some(claims),
        };
        check_received(&signed, &expected, &online, &online, self.now()).await?;
        self.wallet.commit(batch).await?;
        Ok((signed, given))
    }

    /// Builds and signs an attestation with a fresh entry on my list; the batch holds what the
    /// wallet keeps of it, to commit once it is delivered.
    #[allow(clippy::too_many_arguments)]
    async fn sign_for(
        &self,
        attester: &IdentityRecord,
        session: &Session,
        subject: &str,
        fact_type: &str,
        claims: &Map<String, Value>,
        relation: Value,
        suite: Cryptosuite,
        request_id: &str,
    ) -> Result<(Value, GivenRecord, Batch), FlowError> {
        let (list, mut batch) = self.own_list(attester, session).await?;
        let index = self.reserve(&list, session).await?;
        let id = format!("urn:uuid:{}", uuid_v4(&self.env.entropy));
        let mut credential_subject = Map::new();
        credential_subject.insert("id".into(), json!(subject));
        credential_subject.insert("attesterRelation".into(), relation);
        credential_subject.extend(claims.iter().map(|(k, v)| (k.clone(), v.clone())));
        let now = self.now();
        let credential = json!({
            "@context": [VC_V2_CONTEXT, CORROBORATE_V1_CONTEXT_URL],
            "id": id,
            "type": ["VerifiableCredential", fact_type],
            "issuer": attester.did,
            "validFrom": rfc3339(now),
            "credentialSubject": credential_subject,
            "credentialStatus": {
                "id": format!("{}#{index}", list.url),
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": index.to_string(),
                "statusListCredential": list.url,
            },
        });
        let signer = identity::signer(attester)?;
        let signed = sign(&credential, &signer, suite, now).await?;
        let given = GivenRecord {
            id,
            attester: attester.did.clone(),
            subject: subject.to_owned(),
            fact_type: fact_type.to_owned(),
            request: request_id.to_owned(),
            signed: now,
            list: list.id.clone(),
            index,
            revoked: None,
        };
        batch.put(self.wallet, &given, &mut self.rng())?;
        Ok((signed, given, batch))
    }

    /// Declines what `target` asks, with a reason for the citizen.
    pub async fn decline(
        &self,
        attester: &IdentityRecord,
        target: &Target,
        reason: Option<&str>,
    ) -> Result<(), FlowError> {
        let session = self.sign_in(attester).await?;
        self.service
            .post(
                &target.answer_path(),
                Some(&session.token),
                json!({"decline": {"reason": reason}}),
            )
            .await?;
        Ok(())
    }

    /// My revocation list on this service, created (and its first, empty version signed and
    /// published) when I have none. The batch holds the new list's record, to be committed
    /// with what uses it.
    async fn own_list(
        &self,
        attester: &IdentityRecord,
        session: &Session,
    ) -> Result<(StatusListRecord, Batch), FlowError> {
        let mut batch = Batch::new();
        if let Some(mut list) = self
            .wallet
            .all::<StatusListRecord>()
            .await?
            .into_iter()
            .find(|list| list.owner == attester.did && list.service == self.service.base())
        {
            if !list.published {
                // Created earlier, but its first publication failed: publish it now, or the
                // credentials pointing at it could not be checked.
                self.publish(attester, &list, session).await?;
                list.published = true;
                batch.put(self.wallet, &list, &mut self.rng())?;
            }
            return Ok((list, batch));
        }
        let created = self
            .service
            .post(
                "/status-lists",
                Some(&session.token),
                json!({"purpose": "revocation"}),
            )
            .await
            .map_err(|error| match error.code() {
                Some("forbidden") => FlowError::NotAccredited,
                _ => error.into(),
            })?;
        let mut list = StatusListRecord {
            id: text_of(&created, "id", "POST /status-lists")?,
            service: self.service.base().to_owned(),
            url: text_of(&created, "url", "POST /status-lists")?,
            owner: attester.did.clone(),
            revoked: Vec::new(),
            published: false,
        };
        // Kept at once: the list exists on the service from now on.
        self.wallet.put(&list, &mut self.rng()).await?;
        self.publish(attester, &list, session).await?;
        list.published = true;
        batch.put(self.wallet, &list, &mut self.rng())?;
        Ok((list, batch))
    }

    async fn reserve(&self, list: &StatusListRecord, session: &Session) -> Result<u64, FlowError> {
        let reserved = self
            .service
            .post(
                &format!("/status-lists/{}/entries", encode_segment(&list.id)),
                Some(&session.token),
                json!({}),
            )
            .await?;
        reserved
            .get("index")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                FlowError::Service(ClientError::Unexpected {
                    what: "POST /status-lists/{id}/entries".into(),
                    reason: "no `index`".into(),
                })
            })
    }

    /// Signs the list as it stands in the wallet and has the service publish it.
    async fn publish(
        &self,
        owner: &IdentityRecord,
        list: &StatusListRecord,
        session: &Session,
    ) -> Result<(), FlowError> {
        let mut bits = BitstringBuilder::minimum();
        // Bits the service already publishes stay set: a wallet restored from an older backup
        // does not know of later revocations, and a revocation is never undone.
        let mut revoked = list.revoked.clone();
        revoked.extend(self.published_bits(owner, list).await);
        for index in &revoked {
            bits.set(*index)
                .map_err(|e| FlowError::Invalid(format!("index {index}: {e}")))?;
        }
        // A second earlier than now: the service refuses a list valid only in the future.
        let valid_from = self.now() - chrono::Duration::seconds(1);
        let unsigned = status_list_credential(
            &owner.did,
            &list.url,
            StatusPurpose::Revocation,
            &bits,
            valid_from,
        );
        let signer = identity::signer(owner)?;
        let signed = sign(&unsigned, &signer, Cryptosuite::EddsaJcs2022, self.now()).await?;
        self.service
            .call(
                Method::Put,
                &format!("/status-lists/{}", encode_segment(&list.id)),
                Some(&session.token),
                Some(signed),
            )
            .await?;
        Ok(())
    }

    /// The indexes set on the list as the service publishes it, when it publishes a version
    /// this identity signed; none otherwise (not yet published, unreachable, not mine).
    async fn published_bits(&self, owner: &IdentityRecord, list: &StatusListRecord) -> Vec<u64> {
        let Ok(published) = self.service.get(&list.url, None).await else {
            return Vec::new();
        };
        if published.get("issuer").and_then(Value::as_str) != Some(owner.did.as_str()) {
            return Vec::new();
        }
        let report = verify_credential(
            published.clone(),
            &VerifyOptions::at(self.now()),
            &LocalResolver,
        )
        .await;
        let proof_passed = report
            .checks
            .iter()
            .any(|c| c.check == Check::Proof && c.outcome == CheckOutcome::Passed);
        if !proof_passed {
            return Vec::new();
        }
        let Some(encoded) = published
            .pointer("/credentialSubject/encodedList")
            .and_then(Value::as_str)
        else {
            return Vec::new();
        };
        match decode_list(encoded) {
            Ok(bitstring) => (0..bitstring.len_bits())
                .filter(|&i| bitstring.get(i) == Some(true))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Revokes an attestation I gave: sets its bit on my list, re-signs the list in this wallet
    /// and has the service publish it. Publishing again is harmless, so a failure after the
    /// service took the list is repaired by revoking again.
    pub async fn revoke(&self, given_id: &str) -> Result<GivenRecord, FlowError> {
        let mut given = self
            .wallet
            .get::<GivenRecord>(given_id)
            .await?
            .ok_or_else(|| FlowError::NotFound {
                what: "attestation given with id",
                id: given_id.to_owned(),
            })?;
        let mut list = self
            .wallet
            .get::<StatusListRecord>(&given.list)
            .await?
            .ok_or_else(|| FlowError::NotFound {
                what: "status list",
                id: given.list.clone(),
            })?;
        let attester = identity::find(self.wallet, Some(&given.attester)).await?;
        if !list.revoked.contains(&given.index) {
            list.revoked.push(given.index);
            list.revoked.sort_unstable();
        }
        let session = self.sign_in(&attester).await?;
        self.publish(&attester, &list, &session).await?;
        given.revoked.get_or_insert(self.now());
        let mut batch = Batch::new();
        let mut rng = self.rng();
        batch.put(self.wallet, &list, &mut rng)?;
        batch.put(self.wallet, &given, &mut rng)?;
        self.wallet.commit(batch).await?;
        Ok(given)
    }

    // --- Presenting ----------------------------------------------------------------------

    /// What a verifier asks: `challenge` is the challenge or the request's URL.
    pub async fn presentation_request(
        &self,
        challenge: &str,
    ) -> Result<PresentationAsk, FlowError> {
        let challenge = match challenge.split_once("/presentation-requests/") {
            Some((_, rest)) => rest
                .trim_end_matches('/')
                .trim_end_matches("/presentations"),
            None => challenge.trim(),
        };
        let path = format!("/presentation-requests/{}", encode_segment(challenge));
        let asked = self.service.get(&path, None).await?;
        let what = "the presentation request";
        let policy = asked.get("policy").cloned().unwrap_or(Value::Null);
        let ask = PresentationAsk {
            challenge: text_of(&asked, "challenge", what)?,
            domain: text_of(&asked, "domain", what)?,
            verifier: text_of(&asked, "verifier", what)?,
            policy: text_of(&policy, "id", what)?,
            policy_version: text_of(&policy, "version", what)?,
            policy_title: text_of(&policy, "title", what)?,
            policy_owner: text_of(&policy, "owner", what)?,
            fact_type: text_of(&policy, "fact_type", what)?,
            expires: text_of(&asked, "expires", what)?,
            submit: text_of(&asked, "submit", what)?,
        };
        // What the consent screen names is what the proof is bound to, and the credentials go
        // to this service only.
        if ask.domain != ask.verifier {
            return Err(FlowError::Invalid(format!(
                "the request names the verifier {} but asks for a presentation to {}: refused",
                ask.verifier, ask.domain
            )));
        }
        let expected_submit = format!(
            "{}/presentation-requests/{}/presentations",
            self.service.base(),
            encode_segment(&ask.challenge)
        );
        if ask.submit != expected_submit {
            return Err(FlowError::Invalid(format!(
                "the request would send the presentation to {}, not to this service: refused",
                ask.submit
            )));
        }
        self.check_not_expired(&ask)?;
        Ok(ask)
    }

    fn check_not_expired(&self, ask: &PresentationAsk) -> Result<(), FlowError> {
        match corroborate_verifier::credential::parse_date_time(&ask.expires) {
            Some(expires) if expires > self.now() => Ok(()),
            Some(_) => Err(FlowError::RequestClosed("expired".into())),
            None => Err(FlowError::Invalid(format!(
                "the request's expiry {:?} is not a date-time",
                ask.expires
            ))),
        }
    }

    /// The policy a verifier asks under, as the service publishes it.
    pub async fn policy(&self, ask: &PresentationAsk) -> Result<Policy, FlowError> {
        let all = self.service.get("/policies", None).await?;
        let document = all
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| {
                p.get("id").and_then(Value::as_str) == Some(&ask.policy)
                    && p.get("version").and_then(Value::as_str) == Some(&ask.policy_version)
            })
            .ok_or_else(|| FlowError::NotFound {
                what: "published policy on the service named",
                id: format!("{} {}", ask.policy, ask.policy_version),
            })?;
        Policy::from_json(document).map_err(|e| {
            FlowError::Invalid(format!(
                "the service's policy {} {} does not parse: {e}",
                ask.policy, ask.policy_version
            ))
        })
    }

    /// What `holder` would disclose under `policy`: by default only what it can count — their
    /// attestations of its fact type, valid now and not older than its freshness limit; or
    /// exactly the credentials named in `chosen` (ids), each of which must be such.
    pub async fn selection(
        &self,
        holder: &IdentityRecord,
        policy: &Policy,
        chosen: &[String],
    ) -> Result<Vec<CredentialRecord>, FlowError> {
        let now = self.now();
        // A limit too far back for the calendar is no limit.
        let oldest = chrono::Duration::try_days(i64::from(policy.freshness.max_age_days))
            .and_then(|age| now.checked_sub_signed(age));
        let all = self.wallet.all::<CredentialRecord>().await?;
        let usable = |record: &CredentialRecord| {
            record.holder == holder.did
                && record.kind == CredentialKind::Attestation
                && record.fact_type == policy.fact_type
                && Credential::from_value(record.credential.clone()).is_ok_and(|c| {
                    c.check_validity_period(now).is_ok()
                        && oldest
                            .is_none_or(|oldest| c.valid_from().is_none_or(|from| from >= oldest))
                })
        };
        if chosen.is_empty() {
            return Ok(all.into_iter().filter(usable).collect());
        }
        chosen
            .iter()
            .map(|id| {
                let record =
                    all.iter()
                        .find(|r| &r.id == id)
                        .ok_or_else(|| FlowError::NotFound {
                            what: "credential",
                            id: id.clone(),
                        })?;
                if usable(record) {
                    Ok(record.clone())
                } else {
                    Err(FlowError::Invalid(format!(
                        "credential {id} cannot be presented here: it must be a valid {} about \
                         {}, at most {} days old",
                        policy.fact_type, holder.label, policy.freshness.max_age_days
                    )))
                }
            })
            .collect()
    }

    /// Presents `credentials` for `ask` as `holder`, bound to its challenge and audience; logs
    /// what was disclosed to whom; checks and keeps the status credential that comes back.
    pub async fn present(
        &self,
        holder: &IdentityRecord,
        ask: &PresentationAsk,
        credentials: &[CredentialRecord],
    ) -> Result<Presented, FlowError> {
        if credentials.is_empty() {
            return Err(FlowError::Invalid(format!(
                "there is nothing to present: this wallet holds no valid {} about {}",
                ask.fact_type, holder.label
            )));
        }
        self.check_not_expired(ask)?;
        let presentation = self
            .sign_bound(holder, credentials.iter(), &ask.challenge, &ask.domain)
            .await?;
        let mut record = PresentationRecord {
            challenge: ask.challenge.clone(),
            service: self.service.base().to_owned(),
            holder: holder.did.clone(),
            verifier: ask.verifier.clone(),
            policy: ask.policy.clone(),
            policy_version: ask.policy_version.clone(),
            presented: self.now(),
            disclosed: credentials.iter().map(disclosed).collect(),
            decision: None,
            outcome: None,
        };
        let answer = self
            .service
            .post(&ask.submit, None, json!({"presentation": presentation}))
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                // The verifier may have seen it: the log says so whatever the answer.
                record.outcome = Some(format!("not decided: {}", error.code().unwrap_or("error")));
                self.wallet.put(&record, &mut self.rng()).await?;
                return Err(error.into());
            }
        };
        let decision = answer.get("decision").cloned().unwrap_or(Value::Null);
        record.decision = decision
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        record.outcome = decision
            .get("outcome")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let online = Online::new(self.service.base(), &self.env.transport, self.now());
        let status = match answer.get("status_credential") {
            Some(credential) if !credential.is_null() => {
                // It must be the status this decision established, for this policy, issued by
                // an issuer the service hosts.
                let mut claims = Map::new();
                claims.insert(
                    "derivedStatus".into(),
                    json!({
                        "factType": ask.fact_type,
                        "outcome": "established",
                        "policy": ask.policy,
                        "policyVersion": ask.policy_version,
                        "decision": decision.get("url").cloned().unwrap_or(Value::Null),
                    }),
                );
                let expected = Expectation {
                    subject: &holder.did,
                    fact_type: Some("DerivedStatusCredential"),
                    issuer: None,
                    claims: Some(&claims),
                };
                let issuer = credential
                    .get("issuer")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if online.hosted_by_service(issuer) {
                    match check_received(credential, &expected, &online, &online, self.now()).await
                    {
                        Ok(accepted) => {
                            let status = self.credential_record(
                                &accepted,
                                CredentialKind::Status,
                                &holder.did,
                                record.decision.as_deref().unwrap_or(&ask.challenge),
                            );
                            self.admit(status, &[]).await?
                        }
                        Err(refusal) => Err(refusal),
                    }
                } else {
                    Err(Refusal::WrongIssuer {
                        expected: format!("an issuer hosted by {}", self.service.base()),
                        found: issuer.to_owned(),
                    })
                }
            }
            _ => Ok(None),
        };
        // The verifier decided: the log says so, whether or not its status credential is kept.
        let mut batch = Batch::new();
        let mut rng = self.rng();
        batch.put(self.wallet, &record, &mut rng)?;
        if let Ok(Some(status)) = &status {
            batch.put(self.wallet, status, &mut rng)?;
        }
        self.cache(&mut batch, online.fetched())?;
        self.wallet.commit(batch).await?;
        let status = status?;
        Ok(Presented {
            record,
            decision,
            status,
        })
    }

    /// Presents `chosen` (credential ids) to a verifier without the network: signed here, bound
    /// to the challenge the verifier gave and to its domain, and handed over as a file; the
    /// verifier checks it on its side (`corroborate verify-presentation` or `decide
    /// --presentation`). Each credential must be about `holder` and valid now. The log keeps
    /// what was disclosed to whom, with the outcome `offline` (no decision comes back here).
    pub async fn present_offline(
        &self,
        holder: &IdentityRecord,
        verifier: &str,
        challenge: &str,
        chosen: &[String],
    ) -> Result<(Value, PresentationRecord), FlowError> {
        let verifier = offline_field(verifier, "the verifier's domain")?;
        let challenge = offline_field(challenge, "the verifier's challenge")?;
        if chosen.is_empty() {
            return Err(FlowError::Invalid(
                "choose at least one credential to present".to_owned(),
            ));
        }
        let now = self.now();
        let all = self.wallet.all::<CredentialRecord>().await?;
        let mut credentials = Vec::new();
        for id in chosen {
            let record = all
                .iter()
                .find(|r| &r.id == id)
                .ok_or_else(|| FlowError::NotFound {
                    what: "credential",
                    id: id.clone(),
                })?;
            let valid_now = Credential::from_value(record.credential.clone())
                .is_ok_and(|c| c.check_validity_period(now).is_ok());
            if record.holder != holder.did || !valid_now {
                return Err(FlowError::Invalid(format!(
                    "credential {id} cannot be presented: it must be about {} and valid now",
                    holder.label
                )));
            }
            if !credentials
                .iter()
                .any(|c: &&CredentialRecord| c.id == record.id)
            {
                credentials.push(record);
            }
        }
        let presentation = self
            .sign_bound(holder, credentials.iter().copied(), &challenge, &verifier)
            .await?;
        let record = PresentationRecord {
            challenge,
            service: String::new(),
            holder: holder.did.clone(),
            verifier,
            policy: String::new(),
            policy_version: String::new(),
            presented: now,
            disclosed: credentials.iter().copied().map(disclosed).collect(),
            decision: None,
            outcome: Some(OFFLINE_OUTCOME.to_owned()),
        };
        self.wallet.put(&record, &mut self.rng()).await?;
        Ok((presentation, record))
    }

    /// A presentation of `credentials` by `holder`, bound to a verifier's challenge and domain.
    async fn sign_bound(
        &self,
        holder: &IdentityRecord,
        credentials: impl Iterator<Item = &CredentialRecord>,
        challenge: &str,
        domain: &str,
    ) -> Result<Value, FlowError> {
        let signer = identity::signer(holder)?;
        sign_presentation(
            &holder.did,
            credentials.map(|c| c.credential.clone()).collect(),
            &signer.key,
            &signer.verification_method,
            Cryptosuite::EddsaJcs2022,
            &Binding::for_decision(challenge, domain),
            self.now(),
        )
        .await
        .map_err(|e| FlowError::Signing(e.to_string()))
    }
}

/// How a presented credential is remembered in the log.
fn disclosed(credential: &CredentialRecord) -> Disclosed {
    Disclosed {
        credential: credential.id.clone(),
        issuer: credential.issuer.clone(),
        fact_type: credential.fact_type.clone(),
    }
}

/// The outcome logged for a presentation handed over without the network.
pub const OFFLINE_OUTCOME: &str = "offline";

/// A verifier's domain or challenge as typed or scanned: trimmed, one line, not empty, at most
/// 512 characters.
fn offline_field(value: &str, what: &str) -> Result<String, FlowError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FlowError::Invalid(format!("{what} is missing")));
    }
    if value.chars().count() > 512 || value.chars().any(char::is_control) {
        return Err(FlowError::Invalid(format!(
            "{what} must be one line of at most 512 characters"
        )));
    }
    Ok(value.to_owned())
}

/// Signs a credential with an assertion proof.
pub async fn sign(
    credential: &Value,
    signer: &Signer,
    suite: Cryptosuite,
    now: DateTime<Utc>,
) -> Result<Value, FlowError> {
    proof::add_proof(
        credential,
        &signer.key,
        &ProofOptions::assertion(suite, signer.verification_method.clone(), now),
    )
    .await
    .map_err(|e| FlowError::Signing(e.to_string()))
}

fn array(value: &Value, member: &str) -> Vec<Value> {
    value
        .get(member)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A random (version 4) UUID from the platform's entropy.
pub fn uuid_v4(entropy: &impl Entropy) -> String {
    let mut bytes = [0u8; 16];
    entropy.fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The claim paths the policy wants to agree on where `credentials` state different values
/// (after normalization): presenting them all will make the verifier see a contradiction.
pub fn disagreements(credentials: &[CredentialRecord], policy: &Policy) -> Vec<String> {
    policy
        .agree
        .iter()
        .filter(|path| {
            let mut seen: Vec<Value> = Vec::new();
            for record in credentials {
                let value = record
                    .credential
                    .get("credentialSubject")
                    .and_then(Value::as_object)
                    .and_then(|subject| path.select(subject))
                    .map(|v| agreement_key(&v))
                    .unwrap_or(Value::Null);
                if !seen.contains(&value) {
                    seen.push(value);
                }
            }
            seen.len() > 1
        })
        .map(|path| path.as_str().to_owned())
        .collect()
}

/// A path segment from a value that came from a link, an argument or the service:
/// percent-encoded, so it cannot leave its place in the path.
/// The keys `GET /anchoring/trust` lists, as a receipt verifier's trust.
pub fn trust_of(view: &Value) -> Result<corroborate_verifier::anchor::Trust, String> {
    use corroborate_verifier::note::NoteVerifier;
    let keys = |field: &str| -> Result<Vec<NoteVerifier>, String> {
        view.get(field)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|key| {
                let text = key.as_str().unwrap_or_default();
                NoteVerifier::parse(text).map_err(|e| format!("the {field} key {text:?}: {e}"))
            })
            .collect()
    };
    Ok(corroborate_verifier::anchor::Trust {
        logs: keys("logs")?,
        witnesses: keys("witnesses")?,
        quorum: view.get("quorum").and_then(Value::as_u64).unwrap_or(0) as usize,
    })
}

pub fn encode_segment(text: &str) -> String {
    urlencoding::encode(text).into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;

    #[test]
    fn every_failure_has_the_code_front_ends_translate() {
        use crate::platform::{StorageError, TransportError};
        let cases: Vec<(FlowError, &str)> = vec![
            (WalletError::WrongPassphrase.into(), "wrong_passphrase"),
            (WalletError::NoWallet.into(), "no_wallet"),
            (WalletError::AlreadyExists.into(), "exists"),
            (
                WalletError::Storage(StorageError("quota".into())).into(),
                "storage",
            ),
            (WalletError::EmptyPassphrase.into(), "invalid"),
            (IdentityError::None.into(), "not_found"),
            (
                IdentityError::LabelTaken("me".into(), "did:key:z".into()).into(),
                "exists",
            ),
            (
                IdentityError::Wallet(WalletError::WrongPassphrase).into(),
                "wrong_passphrase",
            ),
            (
                ClientError::Transport(TransportError {
                    url: "https://x".into(),
                    reason: "refused".into(),
                })
                .into(),
                "network",
            ),
            (
                ClientError::Problem {
                    status: 403,
                    code: "forbidden".into(),
                    title: "Forbidden".into(),
                    detail: None,
                    body: Value::Null,
                }
                .into(),
                "service",
            ),
            (ClientError::Signing("no".into()).into(), "signing"),
            (
                ClientError::Redirect {
                    what: "GET /policies".into(),
                }
                .into(),
                "redirect",
            ),
            (
                FlowError::NotFound {
                    what: "credential",
                    id: "c".into(),
                },
                "not_found",
            ),
            (
                FlowError::Refused(Refusal::Malformed("x".into())),
                "refused",
            ),
            (FlowError::RequestClosed("expired".into()), "request_closed"),
            (FlowError::NotAccredited, "not_accredited"),
            (FlowError::NotAnchoredYet, "not_anchored_yet"),
            (FlowError::BadReceipt("x".into()), "bad_receipt"),
        ];
        for (error, code) in cases {
            assert_eq!(error.code(), code, "{error}");
        }
    }

    #[test]
    fn consent_holds_only_for_what_was_shown() {
        let ask = PresentationAsk {
            challenge: "c".into(),
            domain: "did:web:v".into(),
            verifier: "did:web:v".into(),
            policy: "residence".into(),
            policy_version: "2".into(),
            policy_title: "Residence".into(),
            policy_owner: "Town".into(),
            fact_type: "Residence".into(),
            expires: "2030-01-01T00:00:00Z".into(),
            submit: "https://x/presentation-requests/c/presentations".into(),
        };
        let shown = Shown {
            verifier: "did:web:v".into(),
            policy: "residence".into(),
            policy_version: "2".into(),
        };
        let ids = ["urn:uuid:1".to_owned()];
        let check = |shown: Shown, chosen: &[String], expected: Option<&str>| {
            let result = ask.check_consent(&shown, chosen).map_err(|e| e.to_string());
            match expected {
                None => assert_eq!(result, Ok(()), "{shown:?}"),
                Some(part) => {
                    let message = result.expect_err("refused");
                    assert!(message.contains(part), "{shown:?}: {message}");
                }
            }
        };
        check(shown.clone(), &ids, None);
        let other = |f: fn(&mut Shown)| {
            let mut s = shown.clone();
            f(&mut s);
            s
        };
        check(
            other(|s| s.verifier = "did:web:w".into()),
            &ids,
            Some("verifier"),
        );
        check(
            other(|s| s.policy = "other".into()),
            &ids,
            Some("its policy was"),
        );
        check(
            other(|s| s.policy_version = "1".into()),
            &ids,
            Some("policy version"),
        );
        check(shown.clone(), &[], Some("no credential was chosen"));
    }

    #[test]
    fn a_request_is_named_by_its_id_or_its_open_link() {
        let check = |text: &str, expected: Target| assert_eq!(Target::parse(text), expected);
        check("0b6d-42", Target::Addressed("0b6d-42".into()));
        check(" 0b6d-42\n", Target::Addressed("0b6d-42".into()));
        check(
            "http://127.0.0.1:8080/attestation-requests/open/tok_en-1",
            Target::Link("tok_en-1".into()),
        );
        check(
            "https://corroborate.example/attestation-requests/open/abc/",
            Target::Link("abc".into()),
        );
        check("open:abc", Target::Link("abc".into()));
        assert_eq!(
            Target::Link("abc".into()).answer_path(),
            "/attestation-requests/open/abc/responses"
        );
        assert_eq!(
            Target::Addressed("r1".into()).review_path(),
            "/attestation-requests/r1"
        );
    }

    struct Counter(std::cell::Cell<u8>);

    impl Entropy for Counter {
        fn fill(&self, dest: &mut [u8]) {
            for byte in dest {
                *byte = self.0.get();
                self.0.set(self.0.get().wrapping_add(0x11));
            }
        }
    }

    #[test]
    fn uuids_are_version_4_variant_1() {
        let entropy = Counter(std::cell::Cell::new(0xff));
        let uuid = uuid_v4(&entropy);
        assert_eq!(uuid.len(), 36);
        assert_eq!(uuid.as_bytes()[14], b'4', "{uuid}");
        assert!(
            matches!(uuid.as_bytes()[19], b'8' | b'9' | b'a' | b'b'),
            "{uuid}"
        );
        assert_ne!(uuid, uuid_v4(&entropy));
    }
}
