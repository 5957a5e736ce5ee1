//! The wallet core's platform in the browser: [`BrowserStorage`] over a JavaScript store object
//! (`IdbStore`, IndexedDB), [`FetchTransport`] over `fetch`, [`JsClock`] over `Date.now()` and
//! [`JsEntropy`] over `crypto.getRandomValues` (through `getrandom`).
//!
//! The store is duck-typed: any object with these methods, each returning a Promise, will do:
//! - `get(table, key)` → `Uint8Array` or `undefined`;
//! - `list(table)` → `[[key, Uint8Array], …]`, ordered by key;
//! - `commit(writes)` applies `[{op: "put", table, key, value: Uint8Array} | {op: "delete",
//!   table, key}, …]` all or nothing (one IndexedDB read-write transaction);
//! - `destroy()` deletes everything (the database).

use crate::failure::Failure;
use chrono::{DateTime, Utc};
use corroborate_wallet::client::MAX_BODY;
use corroborate_wallet::platform::{
    Clock, Entropy, HttpRequest, HttpResponse, Storage, StorageError, Transport, TransportError,
    Write,
};
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use std::cell::Cell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The JavaScript store (see the module documentation).
    #[derive(Clone)]
    pub type JsStore;

    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_row(this: &JsStore, table: &str, key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = list)]
    fn list_rows(this: &JsStore, table: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = commit)]
    fn commit_writes(this: &JsStore, writes: &Array) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = destroy)]
    fn destroy_all(this: &JsStore) -> Result<Promise, JsValue>;

    /// The global `fetch`, in a window or a worker alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &web_sys::Request) -> Promise;
}

/// The text of a JavaScript failure (an `Error`'s message, or the value as a string).
pub fn describe(error: &JsValue) -> String {
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    error.as_string().unwrap_or_else(|| format!("{error:?}"))
}

async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(promise?).await
}

/// The core's [`Storage`] over a [`JsStore`].
#[derive(Clone)]
pub struct BrowserStorage(pub JsStore);

impl BrowserStorage {
    /// Deletes the whole store.
    pub async fn destroy(&self) -> Result<(), StorageError> {
        settle(self.0.destroy_all())
            .await
            .map(drop)
            .map_err(|e| StorageError(describe(&e)))
    }
}

fn bytes(value: &JsValue, what: &str) -> Result<Vec<u8>, StorageError> {
    value
        .dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| StorageError(format!("the store gave {what} that is not a Uint8Array")))
}

impl Storage for BrowserStorage {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let value = settle(self.0.get_row(table, key))
            .await
            .map_err(|e| StorageError(describe(&e)))?;
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        bytes(&value, "a row").map(Some)
    }

    async fn list(&self, table: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let rows = settle(self.0.list_rows(table))
            .await
            .map_err(|e| StorageError(describe(&e)))?;
        let rows = rows
            .dyn_into::<Array>()
            .map_err(|_| StorageError("the store's list is not an array".into()))?;
        let mut out = Vec::with_capacity(rows.length() as usize);
        for row in rows.iter() {
            let pair = row
                .dyn_into::<Array>()
                .map_err(|_| StorageError("the store's row is not a [key, value] pair".into()))?;
            let key = pair
                .get(0)
                .as_string()
                .ok_or_else(|| StorageError("the store's row key is not a string".into()))?;
            out.push((key, bytes(&pair.get(1), "a row")?));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    async fn commit(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        randomness().map_err(|f| StorageError(f.message))?;
        let array = Array::new();
        for write in &writes {
            array.push(
                &write_object(write)
                    .map_err(|e| StorageError(describe(&e)))?
                    .into(),
            );
        }
        settle(self.0.commit_writes(&array))
            .await
            .map(drop)
            .map_err(|e| StorageError(describe(&e)))
    }
}

fn write_object(write: &Write) -> Result<Object, JsValue> {
    let object = Object::new();
    let set = |name: &str, value: &JsValue| Reflect::set(&object, &name.into(), value).map(drop);
    match write {
        Write::Put { table, key, value } => {
            set("op", &"put".into())?;
            set("table", &table.into())?;
            set("key", &key.into())?;
            set("value", &Uint8Array::from(value.as_slice()).into())?;
        }
        Write::Delete { table, key } => {
            set("op", &"delete".into())?;
            set("table", &table.into())?;
            set("key", &key.into())?;
        }
    }
    Ok(object)
}

/// `fetch`, as the native transport: JSON bodies, a bearer token, no redirects (a redirect
/// comes back as an error), time limits, and at most [`MAX_BODY`] bytes read.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchTransport;

/// Connection and answer together, as the native transport's overall timeout.
const TIMEOUT_MS: u32 = 60_000;

impl Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let failed = |reason: String| TransportError {
            url: request.url.clone(),
            reason,
        };
        let js = |e: JsValue| failed(describe(&e));
        randomness().map_err(|f| failed(f.message))?;
        let init = web_sys::RequestInit::new();
        init.set_method(&request.method.to_string());
        init.set_redirect(web_sys::RequestRedirect::Manual);
        init.set_credentials(web_sys::RequestCredentials::Omit);
        init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(TIMEOUT_MS)));
        let headers = web_sys::Headers::new().map_err(js)?;
        headers.set("Accept", "application/json").map_err(js)?;
        if let Some(token) = &request.bearer {
            headers
                .set("Authorization", &format!("Bearer {token}"))
                .map_err(js)?;
        }
        if let Some(body) = &request.body {
            headers
                .set("Content-Type", "application/json")
                .map_err(js)?;
            init.set_body(&JsValue::from_str(&body.to_string()));
        }
        init.set_headers(&headers);
        let fetch_request =
            web_sys::Request::new_with_str_and_init(&request.url, &init).map_err(js)?;
        let response: web_sys::Response = JsFuture::from(global_fetch(&fetch_request))
            .await
            .map_err(js)?
            .dyn_into()
            .map_err(|_| failed("fetch gave something that is not a Response".into()))?;
        if response.type_() == web_sys::ResponseType::Opaqueredirect {
            // The browser hides a redirect's status and target; any 3xx tells the core it was
            // one (`ClientError::Redirect`, code `redirect`), and nothing is followed.
            return Ok(HttpResponse {
                status: 300,
                content_type: None,
                body: Vec::new(),
            });
        }
        let status = response.status();
        let content_type = response.headers().get("Content-Type").ok().flatten();
        let body = match response.body() {
            Some(stream) => read_capped(&stream).await.map_err(failed)?,
            None => Vec::new(),
        };
        Ok(HttpResponse {
            status,
            content_type,
            body,
        })
    }
}

/// Reads a body chunk by chunk, stopping at [`MAX_BODY`] bytes.
async fn read_capped(stream: &web_sys::ReadableStream) -> Result<Vec<u8>, String> {
    let reader = web_sys::ReadableStreamDefaultReader::new(stream).map_err(|e| describe(&e))?;
    let mut body = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| describe(&e))?;
        let done = Reflect::get(&chunk, &"done".into())
            .map_err(|e| describe(&e))?
            .is_truthy();
        if done {
            return Ok(body);
        }
        let value = Reflect::get(&chunk, &"value".into()).map_err(|e| describe(&e))?;
        let value = value
            .dyn_into::<Uint8Array>()
            .map_err(|_| "the answer's body is not bytes".to_owned())?;
        if body.len() + value.length() as usize > MAX_BODY {
            // Nothing more is wanted; a failure to cancel changes nothing for the caller.
            let _ = reader.cancel();
            return Err(format!("the answer is larger than {MAX_BODY} bytes"));
        }
        body.extend(value.to_vec());
    }
}

/// The browser's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsClock;

impl Clock for JsClock {
    fn now(&self) -> DateTime<Utc> {
        let millis = js_sys::Date::now();
        // Date.now() is an integral number of milliseconds within ±8.64e15: always in range.
        DateTime::from_timestamp_millis(millis as i64).unwrap_or_default()
    }
}

/// `crypto.getRandomValues`, through `getrandom`.
///
/// The core's entropy cannot fail, and throwing here would unwind no Rust frame (the wallet's
/// borrow would stay taken for good). So a failure zeroes the bytes and marks the module: from
/// then on nothing made here leaves it — every storage commit, every request and every
/// Promise of `WebWallet` fails with code `signing` ([`randomness`]) until the page reloads.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsEntropy;

thread_local! {
    static NO_RANDOMNESS: Cell<bool> = const { Cell::new(false) };
}

impl Entropy for JsEntropy {
    fn fill(&self, dest: &mut [u8]) {
        if getrandom::getrandom(dest).is_err() {
            dest.fill(0);
            NO_RANDOMNESS.with(|failed| failed.set(true));
        }
    }
}

/// Whether secure randomness never failed here; see [`JsEntropy`].
pub fn randomness() -> Result<(), Failure> {
    if NO_RANDOMNESS.with(Cell::get) {
        return Err(Failure::new(
            "signing",
            "this browser gave no secure randomness: nothing was kept or sent; reload the page",
        ));
    }
    Ok(())
}
