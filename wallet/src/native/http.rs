//! The HTTP [`Transport`] for native builds: reqwest with rustls, time limits, no redirects, no
//! proxy from the environment, and a cap on the size of what it reads.

use crate::client::MAX_BODY;
use crate::platform::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use std::time::Duration;

pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    pub fn new() -> Result<HttpTransport, TransportError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("corroborate-wallet/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError {
                url: String::new(),
                reason: format!("the HTTP client could not be built: {e}"),
            })?;
        Ok(HttpTransport { client })
    }
}

impl Transport for HttpTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let failed = |reason: String| TransportError {
            url: request.url.clone(),
            reason,
        };
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.client.request(method, &request.url);
        if let Some(token) = &request.bearer {
            builder = builder.bearer_auth(token);
        }
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let mut response = builder.send().await.map_err(|e| failed(describe(&e)))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(describe(&e)))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(failed(format!(
                    "the answer is larger than {MAX_BODY} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            content_type,
            body,
        })
    }
}

/// reqwest's message with its causes, which say what actually went wrong (refused, timed out).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
