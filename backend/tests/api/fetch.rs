//! Outbound fetches: the address guard, the size cap, the timeout, redirects, strict JSON and the
//! cache, against a real HTTP server on loopback (allowed only where a test says so). No
//! database: these run once.

use corroborate_backend::fetch::{FetchError, Fetcher};
use corroborate_backend::settings::Fetch;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A tiny HTTP/1.1 server answering by path; counts the requests it serves.
fn serve() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            // One thread per connection: a slow answer holds up no other.
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                let n = stream.read(&mut buffer).unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..n]).to_string();
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, body): (&str, Vec<u8>) = match path.as_str() {
                    "/ok.json" => ("200 OK", br#"{"id": "did:example:1"}"#.to_vec()),
                    "/big.json" => (
                        "200 OK",
                        [b"{\"x\": \"".to_vec(), vec![b'a'; 10_000], b"\"}".to_vec()].concat(),
                    ),
                    "/duplicate.json" => ("200 OK", br#"{"a": 1, "a": 2}"#.to_vec()),
                    "/text" => ("200 OK", b"not json".to_vec()),
                    "/redirect" => ("302 Found", Vec::new()),
                    "/slow.json" => {
                        std::thread::sleep(std::time::Duration::from_millis(1500));
                        ("200 OK", b"{}".to_vec())
                    }
                    _ => ("404 Not Found", Vec::new()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nLocation: http://10.0.0.1/\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    (format!("http://{address}"), hits)
}

fn fetcher(allow_private: bool) -> Fetcher {
    Fetcher::new(&Fetch {
        timeout_ms: 500,
        max_bytes: 4096,
        cache_ttl_secs: 60,
        allow_private,
    })
    .unwrap()
}

#[tokio::test]
async fn private_and_loopback_addresses_are_refused() {
    let guarded = fetcher(false);
    let (base, hits) = serve();
    let port = base.rsplit(':').next().unwrap();
    for url in [
        format!("https://127.0.0.1:{port}/ok.json"),
        format!("https://[::1]:{port}/ok.json"),
        format!("https://localhost:{port}/ok.json"),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://10.1.2.3/list".to_owned(),
    ] {
        let error = guarded.get_json(&url).await.unwrap_err();
        assert!(matches!(error, FetchError::Forbidden(_)), "{url}: {error}");
    }
    // Plain HTTP is refused outright.
    let error = guarded
        .get_json(&format!("{base}/ok.json"))
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::NotHttps(_)), "{error}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the server");
}

#[tokio::test]
async fn limits_hold_where_fetching_is_allowed() {
    let open = fetcher(true);
    let (base, hits) = serve();
    let (document, _) = open.get_json(&format!("{base}/ok.json")).await.unwrap();
    assert_eq!(document["id"], "did:example:1");
    // Cached: the second read does not reach the server.
    open.get_json(&format!("{base}/ok.json")).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    type Expected = fn(&FetchError) -> bool;
    let cases: [(&str, Expected); 5] = [
        ("/big.json", |e| matches!(e, FetchError::TooLarge { .. })),
        ("/duplicate.json", |e| {
            matches!(e, FetchError::NotJson { .. })
        }),
        ("/text", |e| matches!(e, FetchError::NotJson { .. })),
        // Redirects are not followed (the Location points at a private address).
        ("/redirect", |e| {
            matches!(e, FetchError::Status { status: 302, .. })
        }),
        ("/slow.json", |e| matches!(e, FetchError::Failed { .. })),
    ];
    for (path, expected) in cases {
        let error = open.get_json(&format!("{base}{path}")).await.unwrap_err();
        assert!(expected(&error), "{path}: {error}");
    }
    let missing = open.get_json(&format!("{base}/missing")).await.unwrap_err();
    assert!(
        matches!(missing, FetchError::Status { status: 404, .. }),
        "{missing}"
    );
}
