//! Corroborate's wallet in the browser: the same core as the `corroborate-wallet` command
//! (crate `corroborate-wallet`), compiled to WebAssembly, with the browser as its platform —
//! IndexedDB through a JavaScript store object, `fetch`, `Date.now()` and
//! `crypto.getRandomValues` ([`browser`]). [`wallet`] exposes the CLI's commands as the methods
//! of `WebWallet`; [`shape`] turns the core's records into what the pages read; [`failure`]
//! turns errors into `WalletFailure {code, message}`. The pages use it through
//! `web/static/common/core.js`.

pub mod browser;
pub mod failure;
pub mod shape;
pub mod wallet;

use wasm_bindgen::prelude::*;

/// A QR code of `text` as SVG markup (black on white, with its quiet zone).
#[wasm_bindgen(js_name = qrSvg)]
pub fn qr_svg(text: &str) -> Result<String, JsValue> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| {
        JsValue::from(failure::Failure::invalid(format!(
            "no QR code for this text: {e}"
        )))
    })?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}
