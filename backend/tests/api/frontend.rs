//! The web front ends served beside the API: content types, security headers, caching and
//! conditional requests, no traversal out of `web.dir` and no directory listings, the page `/`
//! shows while the front ends are not built, and the API's JSON 404 for everything else.
//! Serving files touches no database, so these run on SQLite only.

use crate::support::{Dialect, TestApp, spawn, spawn_with};
use reqwest::StatusCode;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "not-for-the-web-3f9a";
/// A file worth compressing.
const BIG: &str = concat!(
    "export const words = [\"corroborate\", \"attest\", \"present\", \"decide\"];\n",
    "export const words = [\"corroborate\", \"attest\", \"present\", \"decide\"];\n",
    "export const words = [\"corroborate\", \"attest\", \"present\", \"decide\"];\n",
    "export const words = [\"corroborate\", \"attest\", \"present\", \"decide\"];\n",
    "export const words = [\"corroborate\", \"attest\", \"present\", \"decide\"];\n",
    "export const words = [\"corroborate\", \"attest\", \"present\", \"decide\"];\n",
    "export const words = [\"corroborate\", \"attest\", \"present\", \"decide\"];\n",
    "export const words = [\"corroborate\", \"attest\", \"present\", \"decide\"];\n",
);

/// A small built front end in `<data_dir>/web`, and a secret file beside it that no request may
/// reach.
fn write_site(root: &Path) {
    let files: &[(&str, &str)] = &[
        ("index.html", "<!doctype html><title>landing</title>"),
        ("favicon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
        ("release.json", "{\"version\":\"dev\",\"files\":{}}"),
        ("app/index.html", "<!doctype html><title>wallet</title>"),
        ("app/app.js", "export const app = 1;"),
        ("app/sw.js", "self.addEventListener('install', () => {});"),
        ("app/manifest.webmanifest", "{\"name\":\"Corroborate\"}"),
        ("app/i18n/en.json", "{}"),
        ("app/empty/.keep", ""),
        ("common/style.css", "body { margin: 0; }"),
        ("common/big.js", BIG),
        ("pkg/core_bg.wasm", "\0asm\u{1}\0\0\0"),
        ("portal/index.html", "<!doctype html><title>portal</title>"),
        (
            "dashboard/index.html",
            "<!doctype html><title>dashboard</title>",
        ),
        (".hidden", SECRET),
    ];
    for (path, content) in files {
        let path = root.join("web").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    std::fs::write(root.join("secret.txt"), SECRET).unwrap();
}

async fn spawn_site() -> TestApp {
    spawn_with(Dialect::Sqlite, |settings| {
        write_site(&settings.data_dir);
        settings.web.dir = settings.data_dir.join("web");
    })
    .await
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A request sent byte for byte, so that `..` and encoded dots reach the server as written
/// (HTTP clients normalise them away). Returns the status code and the whole answer.
async fn raw_get(app: &TestApp, target: &str) -> (u16, String) {
    let address = app.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_front_ends_with_their_types_and_security_headers() {
    let app = spawn_site().await;
    let cases = [
        ("/", "text/html", "landing"),
        ("/index.html", "text/html", "landing"),
        ("/app/", "text/html", "wallet"),
        ("/portal/", "text/html", "portal"),
        ("/dashboard/", "text/html", "dashboard"),
        ("/app/app.js", "text/javascript", "export"),
        ("/app/sw.js", "text/javascript", "install"),
        (
            "/app/manifest.webmanifest",
            "application/manifest+json",
            "Corroborate",
        ),
        ("/app/i18n/en.json", "application/json", "{}"),
        ("/common/style.css", "text/css", "margin"),
        ("/pkg/core_bg.wasm", "application/wasm", "asm"),
        ("/favicon.svg", "image/svg+xml", "svg"),
        ("/release.json", "application/json", "version"),
    ];
    for (path, content_type, content) in cases {
        let response = app
            .client
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            header(&response, "content-type").starts_with(content_type),
            "{path}: {}",
            header(&response, "content-type")
        );
        let csp = header(&response, "content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer");
        assert_eq!(header(&response, "permissions-policy"), "camera=(self)");
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        assert!(!header(&response, "etag").is_empty(), "{path}");
        assert!(response.text().await.unwrap().contains(content), "{path}");
    }

    // A folder without its slash is redirected to it; its index.html is its page.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirects
        .get(format!("{}/app", app.url))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(header(&response, "location"), "/app/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_and_conditional_get_answer_without_the_body() {
    let app = spawn_site().await;
    let url = format!("{}/pkg/core_bg.wasm", app.url);
    let head = app.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, "content-type"), "application/wasm");
    let etag = header(&head, "etag").to_owned();
    assert!(!etag.is_empty());
    assert!(head.bytes().await.unwrap().is_empty());

    let again = app
        .client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(
        !header(&again, "content-security-policy").is_empty(),
        "headers on every answer"
    );
    assert!(again.bytes().await.unwrap().is_empty());

    let changed = app
        .client
        .get(&url)
        .header("If-None-Match", "\"another\"")
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outside_the_folder_and_no_listings() {
    let app = spawn_site().await;
    for target in [
        "/../secret.txt",
        "/app/../../secret.txt",
        "/app/%2e%2e/%2e%2e/secret.txt",
        "/app/..%2f..%2fsecret.txt",
        "/common/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/pkg/....//....//secret.txt",
        "/.hidden",
        "/app/%2ehidden/../../.hidden",
        "/app/empty/",
        "/app/empty/.keep",
        "/pkg/",
    ] {
        let (status, answer) = raw_get(&app, target).await;
        assert!(
            status == 404 || status == 400,
            "{target}: {status}\n{answer}"
        );
        assert!(!answer.contains(SECRET), "{target}: {answer}");
        assert!(!answer.contains(".keep"), "no listing: {target}: {answer}");
    }
    // `..` that stays inside the folder is merely resolved.
    let (status, answer) = raw_get(&app, "/app/../portal/").await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("portal"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keeps_priority_and_its_json_not_found() {
    let app = spawn_site().await;
    app.get("/health/live", None).await.expect(200);
    app.get("/decisions", None)
        .await
        .expect_problem(401, "unauthenticated");
    app.get("/no-such-endpoint", None)
        .await
        .expect_problem(404, "not_found");
    app.get("/app/no-such-file.js", None)
        .await
        .expect_problem(404, "not_found");
    app.post("/app/app.js", None, &serde_json::json!({}))
        .await
        .expect_problem(404, "not_found");
    let docs = app.client.get(format!("{}/docs", app.url)).send().await;
    assert_eq!(docs.unwrap().status(), StatusCode::OK);
    let api = app.get("/openapi.json", None).await.expect(200);
    assert!(api["paths"]["/decisions"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_end_files_are_compressed_and_api_answers_are_not() {
    use std::io::Read;
    let app = spawn_site().await;
    let get = |path: &str, encoding: &str| {
        app.client
            .get(format!("{}{path}", app.url))
            .header("accept-encoding", encoding)
            .send()
    };
    let gzipped = get("/common/big.js", "gzip").await.unwrap();
    assert_eq!(gzipped.status(), StatusCode::OK);
    assert_eq!(header(&gzipped, "content-encoding"), "gzip");
    assert!(!header(&gzipped, "content-security-policy").is_empty());
    let body = gzipped.bytes().await.unwrap();
    assert!(
        body.len() < BIG.len() / 2,
        "{} bytes for {}",
        body.len(),
        BIG.len()
    );
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut decoded)
        .unwrap();
    assert_eq!(
        decoded, BIG,
        "the bytes integrity hashes cover, once decoded"
    );
    // Without Accept-Encoding, the file as it is.
    let plain = get("/common/big.js", "identity").await.unwrap();
    assert_eq!(header(&plain, "content-encoding"), "");
    assert_eq!(plain.text().await.unwrap(), BIG);
    // The API's answers are never compressed (BREACH), even when asked.
    let health = get("/health/live", "gzip, br").await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(header(&health, "content-encoding"), "");
    let refused = get("/decisions", "gzip, br").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&refused, "content-encoding"), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_build_the_landing_page_says_how_to_make_one() {
    let app = spawn(Dialect::Sqlite).await;
    assert!(!app.state.settings.web.dir.exists());
    let response = app.client.get(&app.url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, "content-type").starts_with("text/html"));
    assert!(!header(&response, "content-security-policy").is_empty());
    let page = response.text().await.unwrap();
    assert!(page.contains("scripts/build-web"), "{page}");
    app.get("/app/", None)
        .await
        .expect_problem(404, "not_found");
    app.get("/no-such-endpoint", None)
        .await
        .expect_problem(404, "not_found");
    app.get("/health/live", None).await.expect(200);
}
