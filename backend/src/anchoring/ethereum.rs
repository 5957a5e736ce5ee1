//! The `ethereum` connector: anchors a batch root on any EVM ledger reached over JSON-RPC
//! (Hyperledger Besu, GoQuorum, a public chain) as the data of one plain transaction.
//!
//! The transaction goes from the configured signer to `anchor_address` (by default the signer
//! itself), with value 0 and calldata [`TAG`] ‖ root: 36 bytes, nothing else. No contract is
//! deployed or called by default; the transaction hash is the ledger reference (`docs/ledgers.md` says why,
//! with the gas it costs). EIP-1559 when the node's latest block has a base fee, legacy
//! (EIP-155) otherwise.
//!
//! Exactly-once anchoring across a crash rests on the nonce: `prepare` signs the transaction
//! locally with the account's pending nonce, the batcher stores the raw bytes, and `send` only
//! ever broadcasts those bytes. Sending them again is answered by the node as "already known"
//! (still pooled) or "nonce too low" (mined): both are success when the node knows this very
//! hash; a nonce taken by another transaction is refused, since that batch must be prepared
//! again. So the caller must not prepare a batch while an earlier prepared one is unsent (not
//! even one postponed after an error): two prepared transactions would share a nonce.
//!
//! `mode = "contract"` (optional) sends the same data to [`ANCHOR_CONTRACT`], a 9-byte contract
//! whose event makes a root findable by `eth_getLogs` ([`EthereumConnector::find`]).
//!
//! Finality: a transaction is `final` when its block and the blocks on top of it number at
//! least `confirmations` (the block holding it counts as one, so 0 and 1 both mean "final on
//! inclusion", right for IBFT/QBFT networks) and the node's canonical block at that height still
//! has the hash the receipt names.

use std::fmt::Write as _;
use std::future::IntoFuture;
use std::str::FromStr;
use std::time::Duration;

use alloy::consensus::{SignableTransaction, Transaction as _, TxEip1559, TxEnvelope, TxLegacy};
use alloy::eips::{BlockNumberOrTag, Decodable2718, Encodable2718};
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, B256, Bytes, TxKind, U64, U256, keccak256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::client::RpcClient;
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::{Http, reqwest};
use alloy::transports::{RpcError, TransportError, TransportErrorKind};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::connector::{
    Batch, Connector, ConnectorError, Hash, LedgerCheck, LedgerState, Prepared,
};

/// The first bytes of every anchoring transaction's data, before the 32-byte root: ASCII
/// "CRB1" (Corroborate, format 1). A reader scanning a chain finds our anchors by it.
pub const TAG: [u8; 4] = *b"CRB1";

/// The calldata anchoring `root`: [`TAG`] ‖ root.
pub fn anchor_data(root: &Hash) -> Vec<u8> {
    let mut data = Vec::with_capacity(TAG.len() + root.len());
    data.extend_from_slice(&TAG);
    data.extend_from_slice(root);
    data
}

/// `anchoring.ethereum` in the settings.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EthereumSettings {
    /// The node's JSON-RPC endpoint, `http://` or `https://`. It may carry an API key in its
    /// path: messages only ever show its scheme, host and port.
    pub rpc_url: String,
    /// When set, the node's `eth_chainId` must be this (a wrong endpoint is refused).
    pub chain_id: Option<u64>,
    /// The hex secp256k1 private key of the account that signs and pays for anchoring.
    pub signer_key: Option<secrecy::SecretString>,
    /// Where anchoring transactions go; default: the signer's own address.
    pub anchor_address: Option<String>,
    /// Blocks, counting the one holding the transaction, before a batch is `final`.
    pub confirmations: u64,
    /// Per JSON-RPC call, in milliseconds.
    pub timeout_ms: u64,
    /// `data` (default): plain transaction data. `contract`: the same data sent to the
    /// [`ANCHOR_CONTRACT`] at `anchor_address`, whose event lets `eth_getLogs` find a root.
    pub mode: AnchorMode,
}

/// How a root is written (`docs/ledgers.md`, "Plain transaction data, not a contract").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnchorMode {
    #[default]
    Data,
    Contract,
}

/// The optional anchoring contract's runtime code, hand-assembled (9 bytes, no Solidity, nothing
/// to audit beyond this line): `LOG1(offset 0, size 0, topic = calldata[4..36]); STOP`, i.e.
/// `PUSH1 4 CALLDATALOAD PUSH1 0 PUSH1 0 LOG1 STOP`. It accepts any call and emits one event
/// whose only topic is the root; the event's address is the contract, its transaction the sender.
pub const ANCHOR_CONTRACT: [u8; 9] = [0x60, 0x04, 0x35, 0x60, 0x00, 0x60, 0x00, 0xa1, 0x00];

/// The creation code deploying [`ANCHOR_CONTRACT`]: `CODECOPY` it to memory and `RETURN` it.
pub fn anchor_contract_initcode() -> Vec<u8> {
    let len = ANCHOR_CONTRACT.len() as u8;
    // PUSH1 len PUSH1 12 PUSH1 0 CODECOPY PUSH1 len PUSH1 0 RETURN: 12 bytes, then the runtime.
    let mut code = vec![
        0x60, len, 0x60, 12, 0x60, 0x00, 0x39, 0x60, len, 0x60, 0x00, 0xf3,
    ];
    code.extend_from_slice(&ANCHOR_CONTRACT);
    code
}

impl Default for EthereumSettings {
    fn default() -> Self {
        EthereumSettings {
            rpc_url: "http://127.0.0.1:8545".to_owned(),
            chain_id: None,
            signer_key: None,
            anchor_address: None,
            confirmations: 2,
            timeout_ms: 10_000,
            mode: AnchorMode::Data,
        }
    }
}

pub struct EthereumConnector {
    provider: RootProvider,
    signer: PrivateKeySigner,
    to: Address,
    expected_chain_id: Option<u64>,
    /// The node's chain id, read (and checked) on the first call that reaches the node.
    chain_id: OnceCell<u64>,
    confirmations: u64,
    timeout: Duration,
    mode: AnchorMode,
    /// The endpoint as messages show it (scheme, host, port) and the full URL they must not show.
    endpoint: String,
    secret_url: String,
}

impl std::fmt::Debug for EthereumConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EthereumConnector")
            .field("endpoint", &self.endpoint)
            .field("from", &self.signer.address())
            .field("to", &self.to)
            .field("confirmations", &self.confirmations)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl EthereumConnector {
    /// Checks the settings (key present and valid, addresses, URL) and, when the node answers,
    /// its chain id (and in `contract` mode the contract's code). A node that is down does not
    /// stop the service from starting: these are then checked by the first call that reaches it,
    /// and calls until then are `Unavailable`. A node on another chain than `chain_id`, or an
    /// `anchor_address` without the anchoring contract in `contract` mode, is `Refused`.
    pub async fn connect(settings: &EthereumSettings) -> Result<EthereumConnector, ConnectorError> {
        let key = settings.signer_key.as_ref().ok_or_else(|| {
            ConnectorError::Refused(
                "anchoring.ethereum.signer_key is not set: the hex private key of the account \
                 that signs and pays for anchoring transactions"
                    .to_owned(),
            )
        })?;
        let key = key.expose_secret().trim();
        let signer =
            PrivateKeySigner::from_str(key.strip_prefix("0x").unwrap_or(key)).map_err(|_| {
                ConnectorError::Refused(
                    "anchoring.ethereum.signer_key is not a secp256k1 private key (64 hex digits)"
                        .to_owned(),
                )
            })?;
        let to = match &settings.anchor_address {
            Some(text) => parse_address(text).map_err(|why| {
                ConnectorError::Refused(format!("anchoring.ethereum.anchor_address {why}"))
            })?,
            None if settings.mode == AnchorMode::Contract => {
                return Err(ConnectorError::Refused(
                    "anchoring.ethereum.mode = \"contract\" needs anchor_address: the address of \
                     the deployed anchoring contract (EthereumConnector::deploy_contract)"
                        .to_owned(),
                ));
            }
            None => signer.address(),
        };
        if settings.timeout_ms == 0 {
            return Err(ConnectorError::Refused(
                "anchoring.ethereum.timeout_ms must be more than 0".to_owned(),
            ));
        }
        let url = reqwest::Url::parse(&settings.rpc_url).map_err(|e| {
            ConnectorError::Refused(format!("anchoring.ethereum.rpc_url is not a URL: {e}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConnectorError::Refused(
                "anchoring.ethereum.rpc_url must be an http:// or https:// URL with a host"
                    .to_owned(),
            ));
        }
        let endpoint = match url.port() {
            Some(port) => format!("{}://{}:{port}", url.scheme(), url.host_str().unwrap_or("")),
            None => format!("{}://{}", url.scheme(), url.host_str().unwrap_or("")),
        };
        let timeout = Duration::from_millis(settings.timeout_ms);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConnectorError::Refused(format!("no HTTP client: {e}")))?;
        let is_local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        let secret_url = url.to_string();
        let client = RpcClient::new(Http::with_client(http, url), is_local);
        let connector = EthereumConnector {
            provider: RootProvider::new(client),
            signer,
            to,
            expected_chain_id: settings.chain_id,
            chain_id: OnceCell::new(),
            confirmations: settings.confirmations,
            timeout,
            mode: settings.mode,
            endpoint,
            secret_url,
        };
        match connector.chain_id().await {
            Ok(_) => {}
            Err(ConnectorError::Unavailable(why)) => {
                tracing::warn!(%why, "the Ethereum node does not answer yet; its chain id will be checked on first use");
            }
            Err(refused) => return Err(refused),
        }
        Ok(connector)
    }

    /// The account that signs and pays.
    /// The sending account the settings' key gives (checksummed), without connecting: what a
    /// receipt's verifier must see as the transaction's sender.
    pub fn sender_of(settings: &EthereumSettings) -> Option<String> {
        use secrecy::ExposeSecret;
        let key = settings.signer_key.as_ref()?;
        let key = key.expose_secret();
        PrivateKeySigner::from_str(key.strip_prefix("0x").unwrap_or(key))
            .ok()
            .map(|signer| signer.address().to_checksum(None))
    }

    pub fn from_address(&self) -> Address {
        self.signer.address()
    }

    /// Where anchoring transactions go.
    pub fn anchor_address(&self) -> Address {
        self.to
    }

    /// Deploys [`ANCHOR_CONTRACT`] from the signer and returns its address once mined (waiting
    /// at most `wait`), for `mode = "contract"`. A one-off act of the operator, from a
    /// connector in `data` mode; the address then goes into `anchor_address`.
    pub async fn deploy_contract(&self, wait: Duration) -> Result<Address, ConnectorError> {
        let chain_id = self.chain_id().await?;
        let input = Bytes::from(anchor_contract_initcode());
        let (envelope, nonce) = self.signed(chain_id, TxKind::Create, input).await?;
        let hash = *envelope.tx_hash();
        let raw = envelope.encoded_2718();
        // The receipt is polled below, with our timeout on each call.
        let _pending = self
            .rpc(
                "eth_sendRawTransaction",
                self.provider.send_raw_transaction(&raw),
            )
            .await?;
        let address = self.signer.address().create(nonce);
        let started = std::time::Instant::now();
        loop {
            if let Some(receipt) = self.receipt(hash).await?
                && receipt.block_number.is_some()
            {
                if !receipt.succeeded() {
                    return Err(ConnectorError::Refused(format!(
                        "the anchoring contract's deployment {hash} failed"
                    )));
                }
                let code = self
                    .rpc("eth_getCode", self.provider.get_code_at(address))
                    .await?;
                if code.as_ref() != ANCHOR_CONTRACT.as_slice() {
                    return Err(ConnectorError::Refused(format!(
                        "{address} does not hold the anchoring contract after its deployment {hash}"
                    )));
                }
                return Ok(address);
            }
            if started.elapsed() >= wait {
                return Err(ConnectorError::Unavailable(format!(
                    "the anchoring contract's deployment {hash} (to {address}) was not mined within {} s",
                    wait.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The anchoring transactions of `root`, found by the contract's event (`mode = "contract"`
    /// only: plain data is not indexed by nodes), as references `{chainId, tx, blockNumber,
    /// blockHash}`. Public nodes may bound `eth_getLogs` ranges: there, a receipt's hash is the
    /// way in.
    pub async fn find(&self, root: &Hash) -> Result<Vec<Value>, ConnectorError> {
        if self.mode != AnchorMode::Contract {
            return Err(ConnectorError::Refused(
                "finding a root by its event needs anchoring.ethereum.mode = \"contract\""
                    .to_owned(),
            ));
        }
        let chain_id = self.chain_id().await?;
        let filter = json!({
            "address": self.to,
            "topics": [B256::from(*root)],
            "fromBlock": "earliest",
            "toBlock": "latest",
        });
        let logs: Vec<WireLog> = self
            .rpc(
                "eth_getLogs",
                self.provider.raw_request("eth_getLogs".into(), (filter,)),
            )
            .await?;
        Ok(logs
            .into_iter()
            .filter(|log| !log.removed)
            .map(|log| {
                json!({
                    "chainId": chain_id,
                    "tx": log.transaction_hash.map(|h| h.to_string()),
                    "blockNumber": log.block_number.map(|n| n.to::<u64>()),
                    "blockHash": log.block_hash.map(|h| h.to_string()),
                })
            })
            .collect())
    }

    async fn chain_id(&self) -> Result<u64, ConnectorError> {
        self.chain_id
            .get_or_try_init(|| async {
                let id = self
                    .rpc("eth_chainId", self.provider.get_chain_id())
                    .await?;
                if let Some(expected) = self.expected_chain_id
                    && expected != id
                {
                    return Err(ConnectorError::Refused(format!(
                        "the node at {} is on chain {id}, not on the configured chain {expected}",
                        self.endpoint
                    )));
                }
                if self.mode == AnchorMode::Contract {
                    let code = self
                        .rpc("eth_getCode", self.provider.get_code_at(self.to))
                        .await?;
                    if code.as_ref() != ANCHOR_CONTRACT.as_slice() {
                        return Err(ConnectorError::Refused(format!(
                            "anchoring.ethereum.anchor_address {} on chain {id} does not hold the anchoring contract (its code is {} bytes, not the 9 of ANCHOR_CONTRACT); deploy it with EthereumConnector::deploy_contract",
                            self.to,
                            code.len()
                        )));
                    }
                }
                Ok(id)
            })
            .await
            .copied()
    }

    /// One JSON-RPC call, bounded by the timeout, its error said in our terms.
    async fn rpc<T, F>(&self, method: &str, call: F) -> Result<T, ConnectorError>
    where
        F: IntoFuture<Output = Result<T, TransportError>>,
    {
        match tokio::time::timeout(self.timeout, call.into_future()).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.classify(method, &error)),
            Err(_) => Err(ConnectorError::Unavailable(format!(
                "{} did not answer {method} within {} ms",
                self.endpoint,
                self.timeout.as_millis()
            ))),
        }
    }

    /// Transport failures, timeouts, HTTP 5xx/429/408 and node-side errors that may pass are
    /// `Unavailable`; the rest (HTTP 4xx, unknown method, bad request, no funds) is `Refused`.
    fn classify(&self, method: &str, error: &TransportError) -> ConnectorError {
        let text = self.redact(&error_chain(error));
        match error {
            RpcError::Transport(TransportErrorKind::HttpError(http)) => {
                if http.status >= 500 || http.status == 429 || http.status == 408 {
                    ConnectorError::Unavailable(format!(
                        "{} answered {method} with HTTP {}",
                        self.endpoint, http.status
                    ))
                } else {
                    ConnectorError::Refused(format!(
                        "{} answered {method} with HTTP {} (check anchoring.ethereum.rpc_url and its credentials)",
                        self.endpoint, http.status
                    ))
                }
            }
            RpcError::Transport(_) | RpcError::NullResp | RpcError::DeserError { .. } => {
                ConnectorError::Unavailable(format!("{method} at {}: {text}", self.endpoint))
            }
            RpcError::ErrorResp(payload) => {
                let message = payload.message.to_lowercase();
                if message.contains("insufficient funds") {
                    ConnectorError::Refused(format!(
                        "the anchoring account {} cannot pay for gas on this chain: {}",
                        self.signer.address(),
                        clip(&payload.message)
                    ))
                } else if payload.code == -32601 || payload.code == -32602 {
                    ConnectorError::Refused(format!(
                        "{} does not support {method}: {}",
                        self.endpoint,
                        clip(&payload.message)
                    ))
                } else if transient_node_error(&message) || payload.code == -32603 {
                    ConnectorError::Unavailable(format!(
                        "{} failed {method}: {}",
                        self.endpoint,
                        clip(&payload.message)
                    ))
                } else {
                    ConnectorError::Refused(format!(
                        "{} refused {method}: {} (code {})",
                        self.endpoint,
                        clip(&payload.message),
                        payload.code
                    ))
                }
            }
            _ => ConnectorError::Refused(format!("{method}: {text}")),
        }
    }

    fn redact(&self, text: &str) -> String {
        text.replace(&self.secret_url, &self.endpoint)
            .replace(self.secret_url.trim_end_matches('/'), &self.endpoint)
    }

    /// The canonical block at `number`: its hash and time.
    async fn canonical_block(
        &self,
        number: u64,
    ) -> Result<Option<(B256, DateTime<Utc>)>, ConnectorError> {
        let block = self.block(BlockNumberOrTag::Number(number)).await?;
        Ok(block.map(|block| {
            let at = i64::try_from(block.timestamp.to::<u64>())
                .ok()
                .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            (block.hash, at)
        }))
    }

    /// Blocks from `number` to the node's latest, both included (at least 1).
    async fn depth(&self, number: u64) -> Result<u64, ConnectorError> {
        let latest = self
            .rpc("eth_blockNumber", self.provider.get_block_number())
            .await?;
        Ok(latest.saturating_sub(number).saturating_add(1))
    }

    async fn block(&self, tag: BlockNumberOrTag) -> Result<Option<WireBlock>, ConnectorError> {
        self.rpc(
            "eth_getBlockByNumber",
            self.provider
                .raw_request("eth_getBlockByNumber".into(), (tag, false)),
        )
        .await
    }

    async fn receipt(&self, hash: B256) -> Result<Option<WireReceipt>, ConnectorError> {
        self.rpc(
            "eth_getTransactionReceipt",
            self.provider
                .raw_request("eth_getTransactionReceipt".into(), (hash,)),
        )
        .await
    }

    async fn transaction(&self, hash: B256) -> Result<Option<WireTransaction>, ConnectorError> {
        self.rpc(
            "eth_getTransactionByHash",
            self.provider
                .raw_request("eth_getTransactionByHash".into(), (hash,)),
        )
        .await
    }

    /// A transaction from the signer, value 0, signed locally with the pending nonce, the
    /// estimated gas and the node's fees: EIP-1559 where the latest block has a base fee,
    /// legacy (EIP-155) otherwise. No effect on the ledger.
    async fn signed(
        &self,
        chain_id: u64,
        to: TxKind,
        input: Bytes,
    ) -> Result<(TxEnvelope, u64), ConnectorError> {
        let from = self.signer.address();
        let latest = self.block(BlockNumberOrTag::Latest).await?.ok_or_else(|| {
            ConnectorError::Unavailable(format!("{} has no latest block yet", self.endpoint))
        })?;
        let nonce = self
            .rpc(
                "eth_getTransactionCount",
                self.provider.get_transaction_count(from).pending(),
            )
            .await?;
        let request = TransactionRequest {
            from: Some(from),
            to: Some(to),
            value: Some(U256::ZERO),
            input: input.clone().into(),
            ..TransactionRequest::default()
        };
        let gas_limit = self
            .rpc("eth_estimateGas", self.provider.estimate_gas(request))
            .await?;
        let envelope = if latest.base_fee_per_gas.is_some() {
            let fees = self
                .rpc("eth_feeHistory", self.provider.estimate_eip1559_fees())
                .await?;
            let mut tx = TxEip1559 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: fees.max_fee_per_gas,
                max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
                to,
                value: U256::ZERO,
                access_list: Default::default(),
                input,
            };
            let signature = self.sign(&mut tx)?;
            TxEnvelope::from(tx.into_signed(signature))
        } else {
            // No fee market (a pre-London network, GoQuorum): a legacy EIP-155 transaction.
            let gas_price = self
                .rpc("eth_gasPrice", self.provider.get_gas_price())
                .await?;
            let mut tx = TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price,
                gas_limit,
                to,
                value: U256::ZERO,
                input,
            };
            let signature = self.sign(&mut tx)?;
            TxEnvelope::from(tx.into_signed(signature))
        };
        Ok((envelope, nonce))
    }

    fn is_final(&self, depth: u64) -> bool {
        depth >= self.confirmations
    }
}

#[async_trait]
impl Connector for EthereumConnector {
    fn name(&self) -> &'static str {
        "ethereum"
    }

    async fn prepare(&self, batch: &Batch) -> Result<Prepared, ConnectorError> {
        let chain_id = self.chain_id().await?;
        let from = self.signer.address();
        let input = Bytes::from(anchor_data(&batch.root));
        let (envelope, nonce) = self.signed(chain_id, TxKind::Call(self.to), input).await?;
        let hash = *envelope.tx_hash();
        Ok(Prepared {
            reference: json!({
                "chainId": chain_id,
                "from": from.to_string(),
                "to": self.to.to_string(),
                "nonce": nonce,
                "tx": hash.to_string(),
            }),
            payload: Some(envelope.encoded_2718()),
        })
    }

    async fn send(&self, batch: &Batch, prepared: &Prepared) -> Result<(), ConnectorError> {
        let chain_id = self.chain_id().await?;
        let hash = reference_tx(&prepared.reference)?;
        let raw = prepared.payload.as_deref().ok_or_else(|| {
            ConnectorError::Refused(format!(
                "batch {}: no signed transaction was stored with it; prepare it again",
                batch.id
            ))
        })?;
        check_payload(raw, hash, chain_id, &batch.root).map_err(|why| {
            ConnectorError::Refused(format!("batch {}: the stored transaction {why}", batch.id))
        })?;
        let error = match tokio::time::timeout(
            self.timeout,
            self.provider.send_raw_transaction(raw),
        )
        .await
        {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(error)) => error,
            Err(_) => {
                return Err(ConnectorError::Unavailable(format!(
                    "{} did not answer eth_sendRawTransaction within {} ms (sending again is safe)",
                    self.endpoint,
                    self.timeout.as_millis()
                )));
            }
        };
        let RpcError::ErrorResp(payload) = &error else {
            return Err(self.classify("eth_sendRawTransaction", &error));
        };
        let message = payload.message.to_lowercase();
        // The node already holds this very transaction (by hash): it was sent before a crash.
        if [
            "already known",
            "known transaction",
            "already imported",
            "already exists",
        ]
        .iter()
        .any(|known| message.contains(known))
        {
            return Ok(());
        }
        let known = self.transaction(hash).await?;
        if known.is_some() {
            return Ok(());
        }
        if message.contains("underpriced") || message.contains("replacement") {
            // A full pool or a fee rise, not proof that the nonce went elsewhere: the same
            // transaction may still be alive on other nodes. Retry it as it is.
            return Err(ConnectorError::Unavailable(format!(
                "{} did not take {hash} now ({}); it will be sent again",
                self.endpoint,
                clip(&payload.message)
            )));
        }
        if message.contains("nonce too low") || message.contains("nonce has already been used") {
            let nonce = prepared.reference.get("nonce").and_then(Value::as_u64);
            return Err(ConnectorError::Refused(format!(
                "batch {}: nonce {} of {} is already used by another transaction, so {hash} can never be included; prepare the batch again ({})",
                batch.id,
                nonce.map_or_else(|| "?".to_owned(), |n| n.to_string()),
                self.signer.address(),
                clip(&payload.message)
            )));
        }
        Err(self.classify("eth_sendRawTransaction", &error))
    }

    async fn state(
        &self,
        batch: &Batch,
        prepared: &Prepared,
    ) -> Result<LedgerState, ConnectorError> {
        let chain_id = self.chain_id().await?;
        let hash = reference_tx(&prepared.reference)?;
        let Some(receipt) = self.receipt(hash).await? else {
            // Not mined. If the node no longer knows it (a restart, an eviction from its pool),
            // send the very same transaction again: its nonce still allows one inclusion.
            if self.transaction(hash).await?.is_none() {
                self.send(batch, prepared).await?;
            }
            return Ok(LedgerState::Submitted);
        };
        let (Some(number), Some(block_hash)) = (
            receipt.block_number.map(|n| n.to::<u64>()),
            receipt.block_hash,
        ) else {
            return Ok(LedgerState::Submitted);
        };
        if !receipt.succeeded() {
            return Err(ConnectorError::Refused(format!(
                "transaction {hash} reverted in block {number}: {} is a contract that does not accept anchoring data; set anchoring.ethereum.anchor_address to an account without code",
                self.to
            )));
        }
        // A receipt read during a reorganization may name a block that is no longer canonical.
        let Some((canonical, at)) = self.canonical_block(number).await? else {
            return Ok(LedgerState::Submitted);
        };
        if canonical != block_hash {
            return Ok(LedgerState::Submitted);
        }
        let depth = self.depth(number).await?;
        let reference = json!({
            "chainId": chain_id,
            "tx": hash.to_string(),
            "blockNumber": number,
            "blockHash": block_hash.to_string(),
            "from": receipt.from.to_string(),
            "to": receipt.to.map(|to| to.to_string()),
            "nonce": prepared.reference.get("nonce").cloned().unwrap_or(Value::Null),
        });
        Ok(if self.is_final(depth) {
            LedgerState::Final { reference, at }
        } else {
            LedgerState::Included { reference, at }
        })
    }

    async fn check(&self, root: &Hash, reference: &Value) -> Result<LedgerCheck, ConnectorError> {
        let chain_id = self.chain_id().await?;
        if let Some(theirs) = reference.get("chainId")
            && theirs.as_u64() != Some(chain_id)
        {
            return Err(ConnectorError::Refused(format!(
                "the reference is for chain {theirs}, this connector reads chain {chain_id}"
            )));
        }
        let hash = reference_tx(reference)?;
        let root_hex = hex::encode(root);
        let Some(tx) = self.transaction(hash).await? else {
            return Ok(LedgerCheck::Mismatch {
                detail: format!("chain {chain_id} has no transaction {hash}"),
            });
        };
        let expected = anchor_data(root);
        if tx.input.as_ref() != expected.as_slice() {
            return Ok(LedgerCheck::Mismatch {
                detail: format!(
                    "transaction {hash} carries {}, not the anchor of root {root_hex}",
                    clip(&format!("0x{}", hex::encode(&tx.input)))
                ),
            });
        }
        for (field, actual) in [("to", tx.to), ("from", Some(tx.from))] {
            if let Some(named) = reference.get(field).and_then(Value::as_str) {
                let named = parse_address(named).map_err(|why| {
                    ConnectorError::Refused(format!("the reference's {field} {why}"))
                })?;
                if actual != Some(named) {
                    return Ok(LedgerCheck::Mismatch {
                        detail: format!(
                            "transaction {hash} is {field} {}, not {named} as the reference says",
                            actual.map_or_else(|| "no address".to_owned(), |a| a.to_string())
                        ),
                    });
                }
            }
        }
        let (Some(number), Some(block_hash)) =
            (tx.block_number.map(|n| n.to::<u64>()), tx.block_hash)
        else {
            return Ok(LedgerCheck::Pending {
                detail: format!(
                    "transaction {hash} carries root {root_hex} but is not in a block yet"
                ),
            });
        };
        if let Some(named) = reference.get("blockHash").and_then(Value::as_str)
            && B256::from_str(named).ok() != Some(block_hash)
        {
            return Ok(LedgerCheck::Mismatch {
                detail: format!(
                    "transaction {hash} is in block {number} ({block_hash}), not in block {named} the reference names: the chain was reorganized"
                ),
            });
        }
        let receipt = self.receipt(hash).await?;
        if receipt.as_ref().is_some_and(|r| !r.succeeded()) {
            return Ok(LedgerCheck::Mismatch {
                detail: format!("transaction {hash} reverted: it anchors nothing"),
            });
        }
        // Sent to the anchoring contract: its event must name the root.
        if self.mode == AnchorMode::Contract
            && tx.to == Some(self.to)
            && !receipt.as_ref().is_some_and(|r| {
                r.logs
                    .iter()
                    .any(|log| log.address == self.to && log.topics == [B256::from(*root)])
            })
        {
            return Ok(LedgerCheck::Mismatch {
                detail: format!(
                    "transaction {hash} to the anchoring contract {} has no event for root {root_hex}",
                    self.to
                ),
            });
        }
        let Some((canonical, at)) = self.canonical_block(number).await? else {
            return Ok(LedgerCheck::Pending {
                detail: format!(
                    "block {number} of transaction {hash} is not on the node's chain yet"
                ),
            });
        };
        if canonical != block_hash {
            return Ok(LedgerCheck::Pending {
                detail: format!(
                    "block {number} ({block_hash}) of transaction {hash} is not canonical on the node right now"
                ),
            });
        }
        let depth = self.depth(number).await?;
        let mut detail = format!(
            "root {root_hex} is in transaction {hash} from {} in block {number} ({block_hash}) of chain {chain_id}, {}, {depth} block(s) deep",
            tx.from,
            at.to_rfc3339()
        );
        Ok(if self.is_final(depth) {
            LedgerCheck::Confirmed { detail }
        } else {
            let _ = write!(detail, " of the {} required", self.confirmations);
            LedgerCheck::Pending { detail }
        })
    }
}

impl EthereumConnector {
    fn sign(
        &self,
        tx: &mut dyn SignableTransaction<alloy::primitives::Signature>,
    ) -> Result<alloy::primitives::Signature, ConnectorError> {
        self.signer.sign_transaction_sync(tx).map_err(|e| {
            ConnectorError::Refused(format!("could not sign the anchoring transaction: {e}"))
        })
    }
}

/// The few fields read of a block, a receipt and a transaction: nodes differ in the rest (older
/// GoQuorum receipts lack `effectiveGasPrice`, some chains add fields or transaction types), and
/// a field we do not need must never make a ledger unreadable.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBlock {
    hash: B256,
    timestamp: U64,
    #[serde(default)]
    base_fee_per_gas: Option<U256>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireReceipt {
    #[serde(default)]
    block_number: Option<U64>,
    #[serde(default)]
    block_hash: Option<B256>,
    /// 1 success, 0 reverted; absent before Byzantium (then only success is recorded).
    #[serde(default)]
    status: Option<U64>,
    from: Address,
    #[serde(default)]
    to: Option<Address>,
    #[serde(default)]
    logs: Vec<WireLog>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLog {
    address: Address,
    #[serde(default)]
    topics: Vec<B256>,
    #[serde(default)]
    transaction_hash: Option<B256>,
    #[serde(default)]
    block_number: Option<U64>,
    #[serde(default)]
    block_hash: Option<B256>,
    #[serde(default)]
    removed: bool,
}

impl WireReceipt {
    fn succeeded(&self) -> bool {
        self.status.is_none_or(|status| status != U64::ZERO)
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTransaction {
    #[serde(alias = "data")]
    input: Bytes,
    #[serde(default)]
    to: Option<Address>,
    from: Address,
    #[serde(default)]
    block_number: Option<U64>,
    #[serde(default)]
    block_hash: Option<B256>,
}

/// The stored raw transaction must be the one the reference names, on this chain, anchoring
/// this batch's root: a damaged or swapped row is never broadcast.
fn check_payload(raw: &[u8], hash: B256, chain_id: u64, root: &Hash) -> Result<(), String> {
    if keccak256(raw) != hash {
        return Err(format!(
            "does not hash to {hash}, the transaction its reference names"
        ));
    }
    let envelope = TxEnvelope::decode_2718(&mut &raw[..])
        .map_err(|e| format!("is not a signed transaction: {e}"))?;
    if envelope.chain_id() != Some(chain_id) {
        return Err(format!("is not for chain {chain_id}"));
    }
    if envelope.input().as_ref() != anchor_data(root).as_slice() {
        return Err("does not carry this batch's root".to_owned());
    }
    Ok(())
}

fn reference_tx(reference: &Value) -> Result<B256, ConnectorError> {
    reference
        .get("tx")
        .and_then(Value::as_str)
        .and_then(|text| B256::from_str(text).ok())
        .ok_or_else(|| {
            ConnectorError::Refused(format!(
                "the ledger reference has no transaction hash (\"tx\": \"0x…\"): {}",
                clip(&reference.to_string())
            ))
        })
}

/// An address in hex; mixed case must carry a valid EIP-55 checksum (a typo is refused, not
/// sent to).
fn parse_address(text: &str) -> Result<Address, String> {
    let text = text.trim();
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let mixed = digits.chars().any(|c| c.is_ascii_lowercase())
        && digits.chars().any(|c| c.is_ascii_uppercase());
    if mixed {
        Address::parse_checksummed(text, None)
            .map_err(|_| format!("{text} has a wrong EIP-55 checksum"))
    } else {
        Address::from_str(text).map_err(|_| format!("{text} is not a 20-byte hex address"))
    }
}

/// Node messages about a passing condition: a later retry may succeed.
fn transient_node_error(message: &str) -> bool {
    [
        "pool is full",
        "txpool is full",
        "rate limit",
        "too many requests",
        "timeout",
        "timed out",
        "busy",
        "try again",
        "header not found",
    ]
    .iter()
    .any(|m| message.contains(m))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            let _ = write!(text, ": {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// A message from outside, bounded for logs and problem details.
fn clip(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_data_is_the_tag_then_the_root() {
        let root = [7u8; 32];
        let data = anchor_data(&root);
        assert_eq!(data.len(), 36);
        assert_eq!(&data[..4], b"CRB1");
        assert_eq!(&data[4..], &root);
    }

    #[test]
    fn addresses_with_a_wrong_checksum_are_refused() {
        let cases = [
            ("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", true),
            ("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", true),
            ("0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266", true),
            ("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92267", false),
            ("0xf39FD6e51aad88F6F4ce6aB8827279cffFb92266", false),
            ("0x1234", false),
        ];
        for (text, ok) in cases {
            assert_eq!(parse_address(text).is_ok(), ok, "{text}");
        }
    }

    #[test]
    fn settings_refuse_unknown_fields_and_default_the_rest() {
        let settings: EthereumSettings =
            serde_json::from_value(json!({"rpc_url": "http://node:8545", "confirmations": 0}))
                .unwrap();
        assert_eq!(settings.rpc_url, "http://node:8545");
        assert_eq!(settings.confirmations, 0);
        assert_eq!(settings.timeout_ms, 10_000);
        assert_eq!(settings.mode, AnchorMode::Data);
        let contract: EthereumSettings =
            serde_json::from_value(json!({"mode": "contract"})).unwrap();
        assert_eq!(contract.mode, AnchorMode::Contract);
        assert!(serde_json::from_value::<EthereumSettings>(json!({"rpc": "x"})).is_err());
        assert!(serde_json::from_value::<EthereumSettings>(json!({"mode": "event"})).is_err());
    }

    #[test]
    fn the_contract_initcode_returns_the_runtime() {
        let code = anchor_contract_initcode();
        assert_eq!(code.len(), 12 + ANCHOR_CONTRACT.len());
        assert_eq!(&code[12..], &ANCHOR_CONTRACT);
        assert_eq!(
            (code[1], code[3], code[8]),
            (9, 12, 9),
            "length, offset, length"
        );
    }

    #[test]
    fn long_messages_are_clipped() {
        assert_eq!(clip("short"), "short");
        assert_eq!(clip(&"é".repeat(300)).chars().count(), 201);
    }
}
