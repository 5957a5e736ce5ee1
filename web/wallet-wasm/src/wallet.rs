//! `WebWallet`: the wallet core's flows as JavaScript methods, one per command of the
//! `corroborate-wallet` CLI, returning what that command prints with `--json` (member names in
//! camelCase, [`crate::shape`]). Nothing is decided here: each method reads its arguments,
//! drives [`Agent`] or [`Wallet`], and shapes the answer.
//!
//! Every asynchronous method returns a Promise and borrows the open wallet while it runs. The
//! ones that change the wallet itself (`changePassphrase`, `splitRecovery`, `enablePasskey`,
//! `forgetPasskey`, `erase`) need it alone: started while another call runs, they fail (code
//! `busy`) rather than wait; so does a call started while one of them runs. A locked or erased wallet fails with code `locked`.
//!
//! Nothing here panics or throws while a borrow is held: a JavaScript exception unwinds no Rust
//! frame, so the borrow would stay taken and every later call would fail as busy.

// A borrow held across an await is the point: it is how a call keeps the wallet while the
// browser runs other tasks; conflicting calls get a failure from `try_borrow`, never a panic.
#![allow(clippy::await_holding_refcell_ref)]

use crate::browser::{BrowserStorage, FetchTransport, JsClock, JsEntropy, JsStore};
use crate::failure::Failure;
use crate::shape::{self, camel};
use corroborate_wallet::client::check_service_url;
use corroborate_wallet::flows::{Agent, Ask, Env, Shown, Target, disagreements};
use corroborate_wallet::identity;
use corroborate_wallet::passkey::passkeys_of;
use corroborate_wallet::platform::{Clock, EntropyRng, Storage};
use corroborate_wallet::records::{
    CachedRecord, CredentialRecord, GivenRecord, IdentityRecord, PresentationRecord, ReceiptRecord,
    RequestRecord, SettingsRecord,
};
use corroborate_wallet::resolve::Offline;
use corroborate_wallet::store::{HEADER_KEY, KdfParams, META_TABLE, Wallet, kdf_params_of};
use js_sys::{Promise, Uint8Array};
use serde::Deserialize;
use serde::Serialize;
use serde_json::{Value, json};
use std::cell::{Ref, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use zeroize::Zeroizing;

type WebEnv = Env<FetchTransport, JsClock, JsEntropy>;

/// An open wallet and what it acts with.
struct State {
    wallet: Wallet<BrowserStorage>,
    env: WebEnv,
    /// The service's base URL, without a trailing slash.
    service: String,
}

impl State {
    fn agent(&self) -> Agent<'_, BrowserStorage, FetchTransport, JsClock, JsEntropy> {
        Agent::new(&self.wallet, &self.env, &self.service)
    }

    async fn me(&self, which: Option<&str>) -> Result<IdentityRecord, Failure> {
        Ok(identity::find(&self.wallet, which).await?)
    }
}

type Job<'a> = Pin<Box<dyn Future<Output = Result<JsValue, Failure>> + 'a>>;

/// An open wallet, in JavaScript. Its keys are wiped when it is locked (`lock()`), erased, or
/// freed (`free()`).
#[wasm_bindgen(js_name = WebWallet)]
pub struct WebWallet {
    state: Rc<RefCell<Option<State>>>,
}

fn env() -> WebEnv {
    Env {
        transport: FetchTransport,
        clock: JsClock,
        entropy: JsEntropy,
    }
}

fn busy() -> Failure {
    Failure::new(
        "busy",
        "another operation on this wallet is still running; try again when it is done",
    )
}

fn locked() -> Failure {
    Failure::new("locked", "this wallet is locked or erased: open it again")
}

/// The most memory a key derivation may ask for here, in KiB (1 GiB): a WebAssembly module has
/// at most 4 GiB in all, and browsers give far less on a phone. The native wallet allows 4 GiB.
pub const MAX_BROWSER_KDF_KIB: u32 = 1024 * 1024;

/// Refuses, before deriving anything, a cost read from an untrusted header (a backup file, a
/// store) that a browser cannot pay.
pub fn within_browser_limits(params: KdfParams, what: &str) -> Result<(), Failure> {
    if params.memory_kib > MAX_BROWSER_KDF_KIB {
        return Err(Failure::invalid(format!(
            "{what} asks for {} MiB of memory to derive its key, more than a browser gives \
             (at most {} MiB): open it with the corroborate-wallet program instead",
            params.memory_kib / 1024,
            MAX_BROWSER_KDF_KIB / 1024
        )));
    }
    Ok(())
}

fn read(state: &RefCell<Option<State>>) -> Result<Ref<'_, State>, Failure> {
    let guard = state.try_borrow().map_err(|_| busy())?;
    Ref::filter_map(guard, Option::as_ref).map_err(|_| locked())
}

/// A JSON value as a JavaScript value.
fn to_js(value: &Value) -> Result<JsValue, Failure> {
    js_sys::JSON::parse(&value.to_string())
        .map_err(|e| Failure::new("invalid", crate::browser::describe(&e)))
}

fn record<T: Serialize>(value: &T) -> Result<Value, Failure> {
    serde_json::to_value(value).map_err(|e| Failure::new("storage", e.to_string()))
}

/// A JavaScript value (an object, or JSON text) as strict JSON: duplicate members refused,
/// size and depth bounded, as the CLI reads a file.
fn from_js(value: &JsValue) -> Result<Value, Failure> {
    if value.is_undefined() || value.is_null() {
        return Ok(Value::Null);
    }
    let text = match value.as_string() {
        Some(text) => text,
        None => js_sys::JSON::stringify(value)
            .map_err(|e| Failure::invalid(crate::browser::describe(&e)))?
            .into(),
    };
    corroborate_verifier::json::parse_str(&text, &Default::default())
        .map_err(|e| Failure::invalid(format!("not acceptable JSON: {e}")))
}

/// A list of ids: an array of strings, nothing else (not null, not a single id).
fn ids(value: &JsValue) -> Result<Vec<String>, Failure> {
    let refused = || Failure::invalid("the credentials to present must be a list of their ids");
    match from_js(value)? {
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(id) => Ok(id),
                _ => Err(refused()),
            })
            .collect(),
        _ => Err(refused()),
    }
}

fn options<T: for<'de> Deserialize<'de>>(value: &JsValue, what: &str) -> Result<T, Failure> {
    let value = match from_js(value)? {
        Value::Null => json!({}),
        other => other,
    };
    serde_json::from_value(value).map_err(|e| Failure::invalid(format!("{what}: {e}")))
}

/// The origin of the page, the default service (the pages are served by it).
fn page_origin() -> Option<String> {
    let location = js_sys::Reflect::get(&js_sys::global(), &"location".into()).ok()?;
    js_sys::Reflect::get(&location, &"origin".into())
        .ok()?
        .as_string()
}

fn service_url(given: Option<String>, saved: Option<String>) -> Result<String, Failure> {
    let service = given
        .filter(|s| !s.is_empty())
        .or(saved)
        .or_else(page_origin)
        .ok_or_else(|| Failure::invalid("no service URL: name the service"))?;
    check_service_url(&service).map_err(Failure::invalid)?;
    Ok(service.trim_end_matches('/').to_owned())
}

fn kdf(fast: bool) -> KdfParams {
    if fast {
        KdfParams::INSECURE_FAST
    } else {
        KdfParams::STRONG
    }
}

/// The job as a Promise. Without secure randomness nothing it made leaves (see
/// [`crate::browser::JsEntropy`]): neither before nor after it ran.
fn promise(job: impl Future<Output = Result<JsValue, Failure>> + 'static) -> Promise {
    future_to_promise(async move {
        crate::browser::randomness()?;
        let result = job.await;
        crate::browser::randomness()?;
        result.map_err(JsValue::from)
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateOptions {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    fast_kdf: bool,
}

/// What the consent screen showed (`presentShow`'s `ask`; other members are ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShownOptions {
    verifier: String,
    policy: String,
    policy_version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequestOptions {
    fact_type: String,
    claims: Value,
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    open: bool,
    #[serde(default)]
    expires_in_days: Option<i64>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignOptions {
    role: String,
    #[serde(default)]
    since: Option<String>,
    /// A few words on the relation (the CLI's `--description`); `note` is the same.
    #[serde(default, alias = "note")]
    description: Option<String>,
    #[serde(default)]
    suite: Option<String>,
    /// The review the attester was shown: nothing is signed if the request changed since.
    #[serde(default)]
    reviewed: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IssueOptions {
    subject: String,
    fact_type: String,
    claims: Value,
    role: String,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    suite: Option<String>,
}

impl WebWallet {
    fn from_state(state: State) -> WebWallet {
        WebWallet {
            state: Rc::new(RefCell::new(Some(state))),
        }
    }

    /// Runs `job` with the open wallet.
    fn act(&self, job: impl for<'a> FnOnce(&'a State) -> Job<'a> + 'static) -> Promise {
        let state = self.state.clone();
        promise(async move {
            let guard = read(&state)?;
            job(&guard).await
        })
    }
}

async fn opened(
    wallet: Wallet<BrowserStorage>,
    env: WebEnv,
    service: Option<String>,
) -> Result<JsValue, Failure> {
    let saved = wallet
        .get::<SettingsRecord>("settings")
        .await?
        .unwrap_or_default()
        .service;
    let service = service_url(service, saved)?;
    Ok(WebWallet::from_state(State {
        wallet,
        env,
        service,
    })
    .into())
}

#[wasm_bindgen(js_class = WebWallet)]
impl WebWallet {
    /// Whether `store` holds a wallet. → `Promise<boolean>`
    pub fn exists(store: JsStore) -> Promise {
        promise(async move {
            let header = BrowserStorage(store).get(META_TABLE, HEADER_KEY).await?;
            Ok(header.is_some().into())
        })
    }

    /// Creates a wallet in an empty `store` with a first identity, protected by `passphrase`:
    /// `options` = `{label = "me", service = the page's origin, fastKdf = false}`. The
    /// passphrase is its own argument so it never goes through JSON; it is wiped after use.
    /// Fails with code `exists` if the store holds a wallet, also one written meanwhile.
    /// → `Promise<WebWallet>`
    pub fn create(store: JsStore, options: JsValue, passphrase: String) -> Promise {
        let passphrase = Zeroizing::new(passphrase);
        promise(async move {
            let options: CreateOptions = self::options(&options, "the wallet's options")?;
            let service = service_url(options.service, None)?;
            let env = env();
            let mut rng = EntropyRng(&env.entropy);
            let wallet = Wallet::create(
                BrowserStorage(store),
                &passphrase,
                kdf(options.fast_kdf),
                &mut rng,
                env.clock.now(),
            )
            .await?;
            let settings = SettingsRecord {
                service: Some(service.clone()),
            };
            wallet.put(&settings, &mut rng).await?;
            let label = options.label.unwrap_or_else(|| "me".to_owned());
            identity::create(&wallet, &label, &mut rng, env.clock.now()).await?;
            opened(wallet, env, Some(service)).await
        })
    }

    /// Opens the wallet in `store`; `service` overrides the one it was set up with.
    /// → `Promise<WebWallet>`; a wrong passphrase fails with code `wrong_passphrase`.
    pub fn open(store: JsStore, passphrase: String, service: Option<String>) -> Promise {
        let passphrase = Zeroizing::new(passphrase);
        promise(async move {
            let storage = BrowserStorage(store);
            within_browser_limits(kdf_params_of(&storage).await?, "this wallet")?;
            let wallet = Wallet::open(storage, &passphrase).await?;
            opened(wallet, env(), service).await
        })
    }

    /// The passkeys enrolled in the wallet in `store`, read without opening it (what the unlock
    /// screen asks the authenticator for). → `Promise<[{id, salt, added}]>` (base64url)
    #[wasm_bindgen(js_name = passkeysOf)]
    pub fn passkeys_of(store: JsStore) -> Promise {
        promise(async move {
            let listed = passkeys_of(&BrowserStorage(store)).await?;
            to_js(&record(&listed)?)
        })
    }

    /// Opens the wallet in `store` with the PRF output (`secret`, 32 bytes) the passkey `id`
    /// gave for its input. → `Promise<WebWallet>`; a passkey that does not open it fails with
    /// code `wrong_passkey`, one never enrolled here with `not_found`.
    #[wasm_bindgen(js_name = openWithPasskey)]
    pub fn open_with_passkey(
        store: JsStore,
        id: String,
        secret: Uint8Array,
        service: Option<String>,
    ) -> Promise {
        let secret = Zeroizing::new(secret.to_vec());
        promise(async move {
            let wallet = Wallet::open_with_passkey(BrowserStorage(store), &id, &secret).await?;
            opened(wallet, env(), service).await
        })
    }

    /// Restores a backup (made under `passphrase`) into an empty `store`. → `Promise<WebWallet>`
    pub fn restore(
        store: JsStore,
        backup: Uint8Array,
        passphrase: String,
        service: Option<String>,
    ) -> Promise {
        let passphrase = Zeroizing::new(passphrase);
        promise(async move {
            let backup = backup.to_vec();
            within_browser_limits(
                corroborate_wallet::backup::kdf_params(&backup)?,
                "this backup",
            )?;
            let wallet = Wallet::restore(BrowserStorage(store), &backup, &passphrase).await?;
            opened(wallet, env(), service).await
        })
    }

    /// Recovers with recovery shares: from `backup` into an empty `store`, or, with `backup`
    /// null, the wallet in `store`; it then opens with `newPassphrase`. → `Promise<WebWallet>`
    pub fn recover(
        store: JsStore,
        backup: Option<Uint8Array>,
        shares: Vec<String>,
        new_passphrase: String,
        service: Option<String>,
        fast_kdf: Option<bool>,
    ) -> Promise {
        let passphrase = Zeroizing::new(new_passphrase);
        promise(async move {
            let backup = backup.map(|b| b.to_vec());
            let env = env();
            let wallet = Wallet::recover(
                BrowserStorage(store),
                backup.as_deref(),
                &shares,
                &passphrase,
                kdf(fast_kdf.unwrap_or(false)),
                &mut EntropyRng(&env.entropy),
            )
            .await?;
            opened(wallet, env, service).await
        })
    }

    /// `{id, created, service, kdf: {memoryKib, iterations, parallelism},
    /// recovery: {threshold, shares} | null, passkeys: [{id, salt, added}]}`
    pub fn info(&self) -> Result<JsValue, JsValue> {
        let state = read(&self.state)?;
        let wallet = &state.wallet;
        let params = wallet.kdf_params();
        let info = json!({
            "id": wallet.id(),
            "created": wallet.created(),
            "service": state.service,
            "kdf": {
                "memoryKib": params.memory_kib,
                "iterations": params.iterations,
                "parallelism": params.parallelism,
            },
            "recovery": wallet.recovery_set().map(|(_, threshold, shares)| {
                json!({"threshold": threshold, "shares": shares})
            }),
            "passkeys": record(&wallet.passkeys())?,
        });
        Ok(to_js(&info)?)
    }

    /// Wipes the keys from memory; the wallet must be opened again.
    pub fn lock(&self) -> Result<(), JsValue> {
        let mut state = self.state.try_borrow_mut().map_err(|_| busy())?;
        *state = None;
        Ok(())
    }

    /// → `[{label, did, created}]`
    pub fn identities(&self) -> Promise {
        self.act(|s| {
            Box::pin(async move {
                let all = s.wallet.all::<IdentityRecord>().await?;
                let list: Vec<Value> = all
                    .iter()
                    .map(|i| json!({"did": i.did, "label": i.label, "created": i.created}))
                    .collect();
                to_js(&Value::Array(list))
            })
        })
    }

    /// → `{label, did}`
    #[wasm_bindgen(js_name = newIdentity)]
    pub fn new_identity(&self, label: String) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let created = identity::create(
                    &s.wallet,
                    &label,
                    &mut EntropyRng(&s.env.entropy),
                    s.env.clock.now(),
                )
                .await?;
                to_js(&json!({"did": created.did, "label": created.label}))
            })
        })
    }

    /// Signs in as the identity `who` (label or DID; the only one when absent).
    /// → `Promise<string>`, a bearer token
    pub fn token(&self, who: Option<String>) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let me = s.me(who.as_deref()).await?;
                let session = s.agent().sign_in(&me).await?;
                Ok(session.token.into())
            })
        })
    }

    /// Asks attesters: `{factType, claims, to: [did], open, expiresInDays?, note?}`.
    /// → the request as kept: `{id, service, holder, factType, claims, addressedTo, link,
    /// created, expires, closed}`
    #[wasm_bindgen(js_name = requestCreate)]
    pub fn request_create(&self, ask: JsValue, who: Option<String>) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let ask: RequestOptions = options(&ask, "the request")?;
                let me = s.me(who.as_deref()).await?;
                let ask = Ask {
                    fact_type: ask.fact_type,
                    claims: ask.claims,
                    addressed_to: ask.to,
                    open_link: ask.open,
                    expires_in_days: ask.expires_in_days,
                    note: ask.note,
                };
                let made = s.agent().request(&me, &ask).await?;
                to_js(&camel(record(&made)?))
            })
        })
    }

    /// → the requests I made (as `requestCreate` returns them)
    pub fn requests(&self) -> Promise {
        self.act(|s| {
            Box::pin(async move {
                let all = s.wallet.all::<RequestRecord>().await?;
                to_js(&camel(record(&all)?))
            })
        })
    }

    /// → the request's progress as the service sees it now
    #[wasm_bindgen(js_name = requestShow)]
    pub fn request_show(&self, id: String) -> Promise {
        self.act(move |s| Box::pin(async move { to_js(&camel(s.agent().progress(&id).await?)) }))
    }

    /// → `{state, stored: [{id, issuer}], refused: [{attester, reason}],
    /// declined: [{attester, reason}]}`
    #[wasm_bindgen(js_name = requestCollect)]
    pub fn request_collect(&self, id: String) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let collection = s.agent().collect(&id).await?;
                to_js(&json!({
                    "state": collection.state,
                    "stored": collection.stored.iter()
                        .map(|c| json!({"id": c.id, "issuer": c.issuer})).collect::<Vec<_>>(),
                    "refused": collection.refused.iter()
                        .map(|(a, r)| json!({"attester": a, "reason": r.to_string()}))
                        .collect::<Vec<_>>(),
                    "declined": collection.declined.iter()
                        .map(|(a, r)| json!({"attester": a, "reason": r})).collect::<Vec<_>>(),
                }))
            })
        })
    }

    /// → `null`
    #[wasm_bindgen(js_name = requestWithdraw)]
    pub fn request_withdraw(&self, id: String) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                s.agent().withdraw(&id).await?;
                Ok(JsValue::NULL)
            })
        })
    }

    /// → the requests addressed to me, as the service lists them
    pub fn inbox(&self, who: Option<String>) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let me = s.me(who.as_deref()).await?;
                to_js(&camel(Value::Array(s.agent().inbox(&me).await?)))
            })
        })
    }

    /// A request (its id, an open link, or `open:TOKEN`) exactly as it would be signed.
    pub fn review(&self, target: String, who: Option<String>) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let me = s.me(who.as_deref()).await?;
                let view = s.agent().review(&me, &Target::parse(&target)).await?;
                to_js(&camel(view))
            })
        })
    }

    /// Signs what a request asks and sends it:
    /// `{role, since?, description? (or note), suite?: "rdfc" | "jcs", reviewed?}` where
    /// `reviewed` is what `review` returned and was shown. → the attestation given (`given()`)
    #[wasm_bindgen(js_name = attestSign)]
    pub fn attest_sign(&self, target: String, sign: JsValue, who: Option<String>) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let sign: SignOptions = options(&sign, "the signature's options")?;
                let suite = shape::suite(sign.suite.as_deref()).map_err(Failure::invalid)?;
                let relation = shape::relation(
                    &sign.role,
                    sign.since.as_deref(),
                    sign.description.as_deref(),
                );
                let reviewed = sign.reviewed.as_ref().map(shape::reviewed);
                let me = s.me(who.as_deref()).await?;
                let given = s
                    .agent()
                    .attest_reviewed(
                        &me,
                        &Target::parse(&target),
                        reviewed.as_ref(),
                        relation,
                        suite,
                    )
                    .await?;
                to_js(&camel(record(&given)?))
            })
        })
    }

    /// → `null`
    #[wasm_bindgen(js_name = attestDecline)]
    pub fn attest_decline(
        &self,
        target: String,
        reason: Option<String>,
        who: Option<String>,
    ) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let me = s.me(who.as_deref()).await?;
                s.agent()
                    .decline(&me, &Target::parse(&target), reason.as_deref())
                    .await?;
                Ok(JsValue::NULL)
            })
        })
    }

    /// Signs an attestation directly: `{subject, factType, claims, role, since?, suite?}`.
    /// → the signed credential (for the subject to import)
    #[wasm_bindgen(js_name = attestIssue)]
    pub fn attest_issue(&self, issue: JsValue, who: Option<String>) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let issue: IssueOptions = options(&issue, "the attestation")?;
                let suite = shape::suite(issue.suite.as_deref()).map_err(Failure::invalid)?;
                let relation = shape::relation(&issue.role, issue.since.as_deref(), None);
                let me = s.me(who.as_deref()).await?;
                let (credential, _) = s
                    .agent()
                    .issue(
                        &me,
                        &issue.subject,
                        &issue.fact_type,
                        &issue.claims,
                        relation,
                        suite,
                    )
                    .await?;
                to_js(&credential)
            })
        })
    }

    /// → the attestations I gave: `[{id, attester, subject, factType, request, signed, list,
    /// index, revoked}]`
    pub fn given(&self) -> Promise {
        self.act(|s| {
            Box::pin(async move {
                let all = s.wallet.all::<GivenRecord>().await?;
                to_js(&camel(record(&all)?))
            })
        })
    }

    /// Revokes an attestation I gave. → it, revoked
    pub fn revoke(&self, given_id: String) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let given = s.agent().revoke(&given_id).await?;
                to_js(&camel(record(&given)?))
            })
        })
    }

    /// What a verifier asks (its challenge or URL) and what would be disclosed:
    /// `{ask: {challenge, verifier, policy, policyVersion, policyTitle, policyOwner, factType,
    /// expires, domain}, disclose: [credential], disagreements: [string]}`
    #[wasm_bindgen(js_name = presentShow)]
    pub fn present_show(&self, challenge: String, who: Option<String>) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let me = s.me(who.as_deref()).await?;
                let agent = s.agent();
                let ask = agent.presentation_request(&challenge).await?;
                let policy = agent.policy(&ask).await?;
                let selection = agent.selection(&me, &policy, &[]).await?;
                to_js(&json!({
                    "ask": {
                        "challenge": ask.challenge,
                        "verifier": ask.verifier,
                        "policy": ask.policy,
                        "policyVersion": ask.policy_version,
                        "policyTitle": ask.policy_title,
                        "policyOwner": ask.policy_owner,
                        "factType": ask.fact_type,
                        "expires": ask.expires,
                        "domain": ask.domain,
                    },
                    "disclose": camel(record(&selection)?),
                    "disagreements": disagreements(&selection, &policy),
                }))
            })
        })
    }

    /// Presents, after consent, exactly what the consent screen showed: `credentialIds` (the
    /// ids it listed and the person kept, never null) to `shown.verifier` under
    /// `shown.policy` `shown.policyVersion` (`presentShow`'s `ask`). If the request or its
    /// policy changed since, nothing is sent (code `invalid`). → `{record, decision, status}`
    /// (`record` as in `log()`, `decision` as the service returned it, `status` the status
    /// credential kept, or null)
    #[wasm_bindgen(js_name = presentSend)]
    pub fn present_send(
        &self,
        challenge: String,
        credential_ids: JsValue,
        shown: JsValue,
        who: Option<String>,
    ) -> Promise {
        let chosen = ids(&credential_ids);
        let shown = options::<ShownOptions>(&shown, "what the consent screen showed");
        self.act(move |s| {
            Box::pin(async move {
                let (chosen, shown) = (chosen?, shown?);
                let shown = Shown {
                    verifier: shown.verifier,
                    policy: shown.policy,
                    policy_version: shown.policy_version,
                };
                let me = s.me(who.as_deref()).await?;
                let agent = s.agent();
                let ask = agent.presentation_request(&challenge).await?;
                ask.check_consent(&shown, &chosen)?;
                let policy = agent.policy(&ask).await?;
                let selection = agent.selection(&me, &policy, &chosen).await?;
                let presented = agent.present(&me, &ask, &selection).await?;
                to_js(&json!({
                    "record": camel(record(&presented.record)?),
                    "decision": presented.decision,
                    "status": match &presented.status {
                        Some(status) => camel(record(status)?),
                        None => Value::Null,
                    },
                }))
            })
        })
    }

    /// Presents the credentials `credentialIds` without the network, to a verifier that checks
    /// on its side: signed here, bound to its `challenge` and domain (`verifier`), and logged
    /// with the outcome `offline` (as `corroborate-wallet present offline`).
    /// → `{presentation, record}` (the signed presentation, to hand over as a file)
    #[wasm_bindgen(js_name = presentOffline)]
    pub fn present_offline(
        &self,
        verifier: String,
        challenge: String,
        credential_ids: JsValue,
        who: Option<String>,
    ) -> Promise {
        let chosen = ids(&credential_ids);
        self.act(move |s| {
            Box::pin(async move {
                let chosen = chosen?;
                let me = s.me(who.as_deref()).await?;
                let (presentation, logged) = s
                    .agent()
                    .present_offline(&me, &verifier, &challenge, &chosen)
                    .await?;
                to_js(&json!({
                    "presentation": presentation,
                    "record": camel(record(&logged)?),
                }))
            })
        })
    }

    /// → `[{id, kind: "attestation" | "status", holder, issuer, factType, received, source,
    /// credential, statusCheckedAt}]`; `statusCheckedAt` is when its status list was last
    /// fetched (the oldest, when it names several), or null.
    pub fn credentials(&self) -> Promise {
        self.act(|s| {
            Box::pin(async move {
                let all = s.wallet.all::<CredentialRecord>().await?;
                let cached = s.wallet.all::<CachedRecord>().await?;
                let mut list = Vec::with_capacity(all.len());
                for held in &all {
                    let checked = shape::status_lists(&held.credential)
                        .iter()
                        .filter_map(|url| cached.iter().find(|c| &c.id == url))
                        .map(|c| c.fetched)
                        .min();
                    let mut item = camel(record(held)?);
                    item["statusCheckedAt"] = record(&checked)?;
                    list.push(item);
                }
                to_js(&Value::Array(list))
            })
        })
    }

    /// → the full credential (VC JSON)
    pub fn credential(&self, id: String) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let held = s
                    .wallet
                    .get::<CredentialRecord>(&id)
                    .await?
                    .ok_or_else(|| {
                        Failure::new("not_found", format!("this wallet holds no credential {id}"))
                    })?;
                to_js(&held.credential)
            })
        })
    }

    /// Keeps a credential (an object or JSON text) after checking it is about me and verifies
    /// in full. → `{id, issuer}`
    #[wasm_bindgen(js_name = importCredential)]
    pub fn import_credential(&self, credential: JsValue, who: Option<String>) -> Promise {
        let value = from_js(&credential);
        self.act(move |s| {
            Box::pin(async move {
                let value = value?;
                let me = s.me(who.as_deref()).await?;
                let kept = s.agent().import(&me, &value).await?;
                to_js(&json!({"id": kept.id, "issuer": kept.issuer}))
            })
        })
    }

    /// Verifies a credential offline (a stored one's id, or a credential) with what the wallet
    /// kept. → the verification report (`verdict`, `checks`…); it is a result, not a failure,
    /// when the credential does not verify.
    pub fn verify(&self, credential: JsValue) -> Promise {
        let id = credential.as_string();
        let given = from_js(&credential);
        self.act(move |s| {
            Box::pin(async move {
                let stored = match &id {
                    Some(id) => s.wallet.get::<CredentialRecord>(id).await?,
                    None => None,
                };
                let value = match stored {
                    Some(held) => held.credential,
                    None => given?,
                };
                let offline = Offline::new(s.wallet.all::<CachedRecord>().await?);
                let mut options =
                    corroborate_verifier::verification::VerifyOptions::at(s.env.clock.now())
                        .with_status(&offline);
                options.require_schema = true;
                let report = corroborate_verifier::verification::verify_credential(
                    value, &options, &offline,
                )
                .await;
                let mut shown = camel(record(&report)?);
                shown["valid"] = report.is_valid().into();
                to_js(&shown)
            })
        })
    }

    /// Fetches, checks and keeps the anchoring receipt of a status credential I hold.
    /// → the receipt
    #[wasm_bindgen(js_name = receiptFetch)]
    pub fn receipt_fetch(&self, credential_id: String) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let status = held(&s.wallet, &credential_id).await?;
                let holder = s
                    .wallet
                    .all::<IdentityRecord>()
                    .await?
                    .into_iter()
                    .find(|i| i.did == status.holder)
                    .ok_or_else(|| {
                        Failure::new(
                            "not_found",
                            format!("this wallet no longer holds the identity {}", status.holder),
                        )
                    })?;
                let kept = s.agent().receipt(&holder, &status).await?;
                to_js(&kept.receipt)
            })
        })
    }

    /// Checks a kept receipt again, offline. → the receipt
    #[wasm_bindgen(js_name = receiptShow)]
    pub fn receipt_show(&self, credential_id: String) -> Promise {
        self.act(move |s| {
            Box::pin(async move {
                let kept = s
                    .wallet
                    .get::<ReceiptRecord>(&credential_id)
                    .await?
                    .ok_or_else(|| {
                        Failure::new(
                            "not_found",
                            format!(
                                "this wallet keeps no receipt for {credential_id}; fetch it first"
                            ),
                        )
                    })?;
                let status = held(&s.wallet, &credential_id).await?;
                let receipt: corroborate_verifier::anchor::Receipt =
                    serde_json::from_value(kept.receipt.clone())
                        .map_err(|e| Failure::new("bad_receipt", e.to_string()))?;
                let trust = corroborate_wallet::flows::trust_of(&kept.trust)
                    .map_err(|e| Failure::new("bad_receipt", e))?;
                corroborate_verifier::anchor::verify_receipt(
                    &receipt,
                    Some(&status.credential),
                    &trust,
                    s.env.clock.now().timestamp().max(0) as u64,
                )
                .map_err(|e| {
                    Failure::new(
                        "bad_receipt",
                        format!("the kept receipt does not verify: {e}"),
                    )
                })?;
                to_js(&kept.receipt)
            })
        })
    }

    /// My presentations: `[{challenge, service, holder, verifier, policy, policyVersion,
    /// presented, disclosed: [{credential, issuer, factType}], decision, outcome}]`
    pub fn log(&self) -> Promise {
        self.act(|s| {
            Box::pin(async move {
                let all = s.wallet.all::<PresentationRecord>().await?;
                to_js(&camel(record(&all)?))
            })
        })
    }

    /// The whole wallet, encrypted: it opens with this passphrase, or with recovery shares.
    /// → `Promise<Uint8Array>`
    pub fn backup(&self) -> Promise {
        self.act(|s| {
            Box::pin(async move {
                let bytes = s.wallet.backup(&mut EntropyRng(&s.env.entropy)).await?;
                Ok(Uint8Array::from(bytes.as_slice()).into())
            })
        })
    }

    /// Makes a new recovery set: any `threshold` of the `shares` recover the wallet.
    /// → `Promise<string[]>`
    #[wasm_bindgen(js_name = splitRecovery)]
    pub fn split_recovery(&self, threshold: u8, shares: u8) -> Promise {
        let state = self.state.clone();
        promise(async move {
            let mut guard = state.try_borrow_mut().map_err(|_| busy())?;
            let State { wallet, env, .. } = guard.as_mut().ok_or_else(locked)?;
            let made = wallet
                .split_recovery(threshold, shares, &mut EntropyRng(&env.entropy))
                .await?;
            to_js(&json!(made))
        })
    }

    /// Checks `passphrase` against this wallet (before a passkey is created, so a mistyped one
    /// leaves no passkey behind on the device). → `null`; code `wrong_passphrase` if it is not
    #[wasm_bindgen(js_name = checkPassphrase)]
    pub fn check_passphrase(&self, passphrase: String) -> Promise {
        let passphrase = Zeroizing::new(passphrase);
        self.act(move |s| {
            Box::pin(async move {
                s.wallet.check_passphrase(&passphrase)?;
                Ok(JsValue::NULL)
            })
        })
    }

    /// Enrols a passkey: `id` its credential id and `salt` the PRF input (base64url), `secret`
    /// the 32 bytes its PRF gave for that input. Adding a way in asks for the passphrase again
    /// (code `wrong_passphrase`). → `Promise<[{id, salt, added}]>`
    #[wasm_bindgen(js_name = enablePasskey)]
    pub fn enable_passkey(
        &self,
        passphrase: String,
        id: String,
        salt: String,
        secret: Uint8Array,
    ) -> Promise {
        let passphrase = Zeroizing::new(passphrase);
        let secret = Zeroizing::new(secret.to_vec());
        let state = self.state.clone();
        promise(async move {
            let mut guard = state.try_borrow_mut().map_err(|_| busy())?;
            let State { wallet, env, .. } = guard.as_mut().ok_or_else(locked)?;
            let now = env.clock.now();
            let mut rng = EntropyRng(&env.entropy);
            wallet
                .add_passkey(&passphrase, &id, &salt, &secret, &mut rng, now)
                .await?;
            to_js(&record(&wallet.passkeys())?)
        })
    }

    /// Forgets the passkey `id`: it no longer opens this wallet. → `Promise<[{id, salt, added}]>`
    #[wasm_bindgen(js_name = forgetPasskey)]
    pub fn forget_passkey(&self, id: String) -> Promise {
        let state = self.state.clone();
        promise(async move {
            let mut guard = state.try_borrow_mut().map_err(|_| busy())?;
            let State { wallet, .. } = guard.as_mut().ok_or_else(locked)?;
            wallet.remove_passkey(&id).await?;
            to_js(&record(&wallet.passkeys())?)
        })
    }

    /// Protects the wallet with a new passphrase, at the same cost. → `null`
    #[wasm_bindgen(js_name = changePassphrase)]
    pub fn change_passphrase(&self, new_passphrase: String) -> Promise {
        let state = self.state.clone();
        promise(async move {
            let new = Zeroizing::new(new_passphrase);
            let mut guard = state.try_borrow_mut().map_err(|_| busy())?;
            let State { wallet, env, .. } = guard.as_mut().ok_or_else(locked)?;
            let params = wallet.kdf_params();
            wallet
                .change_passphrase(&new, params, &mut EntropyRng(&env.entropy))
                .await?;
            Ok(JsValue::NULL)
        })
    }

    /// Asks the service to erase what it holds about each of my identities, then deletes this
    /// wallet's store. If the service refuses or cannot be reached for any identity, nothing
    /// local is deleted. → `{erased: [{did, erasure}]}` (`erasure`: the service's record)
    pub fn erase(&self) -> Promise {
        let state = self.state.clone();
        promise(async move {
            let mut guard = state.try_borrow_mut().map_err(|_| busy())?;
            let open = guard.as_ref().ok_or_else(locked)?;
            let mut erased = Vec::new();
            for me in open.wallet.all::<IdentityRecord>().await? {
                let erasure = open.agent().erase(&me).await?;
                erased.push(json!({"did": me.did, "erasure": camel(erasure)}));
            }
            let storage = open.wallet.storage().clone();
            *guard = None;
            storage.destroy().await?;
            to_js(&json!({ "erased": erased }))
        })
    }
}

async fn held(
    wallet: &Wallet<BrowserStorage>,
    credential: &str,
) -> Result<CredentialRecord, Failure> {
    wallet
        .get::<CredentialRecord>(credential)
        .await?
        .ok_or_else(|| {
            Failure::new(
                "not_found",
                format!("this wallet holds no credential {credential}"),
            )
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;

    #[test]
    fn a_cost_a_browser_cannot_pay_is_refused_before_deriving() {
        let check = |memory_kib: u32| {
            within_browser_limits(
                KdfParams {
                    memory_kib,
                    ..KdfParams::STRONG
                },
                "this backup",
            )
            .map_err(|f| (f.code, f.message))
        };
        assert_eq!(check(KdfParams::STRONG.memory_kib), Ok(()));
        assert_eq!(check(MAX_BROWSER_KDF_KIB), Ok(()));
        let (code, message) = check(MAX_BROWSER_KDF_KIB + 1).expect_err("refused");
        assert_eq!(code, "invalid");
        assert!(
            message.contains("this backup asks for 1024 MiB"),
            "{message}"
        );
        assert!(check(4 * 1024 * 1024).is_err());
    }
}
