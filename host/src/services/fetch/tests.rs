//! The fetch service against a small HTTP server on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;

use super::*;

const LONG: Duration = Duration::from_secs(10);

/// Starts the test server; returns its address and its request counter.
async fn serve() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new()
        .route(
            "/ok",
            get(|| async { "hello" }).post(|body: String| async move { format!("got {body}") }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                "late"
            }),
        )
        .route("/big", get(|| async { "x".repeat(2000) }))
        .route(
            "/fail",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }),
        )
        .route(
            "/redirect",
            get(|query: Query<Vec<(String, String)>>| async move {
                let to = query.0.first().map(|(_, v)| v.clone()).unwrap_or_default();
                let mut headers = HeaderMap::new();
                headers.insert(header::LOCATION, to.parse().expect("valid location"));
                (StatusCode::FOUND, headers)
            }),
        )
        .route(
            "/count",
            get(move || {
                let counter = counter.clone();
                async move { (counter.fetch_add(1, Ordering::SeqCst) + 1).to_string() }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (address, hits)
}

fn service(allow: &[String], tune: impl FnOnce(&mut FetchConfig)) -> FetchService {
    let mut config = FetchConfig {
        allow: allow.to_vec(),
        ..FetchConfig::default()
    };
    tune(&mut config);
    FetchService::new("probe", &config).expect("service builds")
}

fn get_request(url: &str) -> FetchRequest {
    FetchRequest {
        method: FetchMethod::Get,
        url: url.to_owned(),
        headers: Vec::new(),
        body: None,
        timeout: None,
    }
}

#[tokio::test]
async fn allowed_loopback_answers() {
    let (address, _) = serve().await;
    let fetch = service(&[address.to_string()], |_| {});
    let response = fetch
        .send(get_request(&format!("http://{address}/ok")), LONG)
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"hello");

    let post = FetchRequest {
        method: FetchMethod::Post,
        body: Some(b"abc".to_vec()),
        headers: vec![("content-type".to_owned(), "text/plain".to_owned())],
        ..get_request(&format!("http://{address}/ok"))
    };
    let response = fetch.send(post, LONG).await.unwrap();
    assert_eq!(response.body, b"got abc");
}

#[tokio::test]
async fn unlisted_targets_refused() {
    let (address, hits) = serve().await;
    let fetch = service(&["qa.internal.example:8443".to_owned()], |_| {});
    let cases = [
        (
            format!("http://{address}/count"),
            FetchError::BlockedAddress,
        ),
        ("http://10.0.0.8/".to_owned(), FetchError::BlockedAddress),
        (
            "http://192.168.1.1:8080/".to_owned(),
            FetchError::BlockedAddress,
        ),
        ("http://[::1]:9200/".to_owned(), FetchError::BlockedAddress),
        (
            "http://169.254.169.254/latest".to_owned(),
            FetchError::BlockedAddress,
        ),
        (
            "https://other.example/".to_owned(),
            FetchError::NotPermitted(
                "other.example:443 is not on the plugin's fetch allow list".to_owned(),
            ),
        ),
        (
            "http://8.8.8.8/".to_owned(),
            FetchError::NotPermitted(
                "8.8.8.8:80 is not on the plugin's fetch allow list".to_owned(),
            ),
        ),
        (
            "https://qa.internal.example/".to_owned(),
            FetchError::NotPermitted(
                "qa.internal.example:443 is not on the plugin's fetch allow list".to_owned(),
            ),
        ),
        (
            "ftp://qa.internal.example:8443/".to_owned(),
            FetchError::NotPermitted("scheme \"ftp\" is not allowed; use http or https".to_owned()),
        ),
    ];
    for (url, expected) in cases {
        assert_eq!(
            fetch.send(get_request(&url), LONG).await,
            Err(expected),
            "{url}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn name_resolving_to_loopback_blocked() {
    let (address, hits) = serve().await;
    let entry = format!("localhost:{}", address.port());
    let url = format!("http://localhost:{}/count", address.port());

    let fetch = service(std::slice::from_ref(&entry), |_| {});
    assert_eq!(
        fetch.send(get_request(&url), LONG).await,
        Err(FetchError::BlockedAddress)
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    let private_ok = service(&[entry], |config| {
        config.allow_private = vec!["localhost".to_owned()];
    });
    // localhost may also resolve to ::1, where nothing listens; the client
    // then tries the next address.
    let response = private_ok.send(get_request(&url), LONG).await.unwrap();
    assert_eq!(response.body, b"1");
}

#[tokio::test]
async fn reserved_header_refused() {
    let (address, _) = serve().await;
    let fetch = service(&[address.to_string()], |_| {});
    let request = FetchRequest {
        headers: vec![("Host".to_owned(), "evil.example".to_owned())],
        ..get_request(&format!("http://{address}/ok"))
    };
    assert_eq!(
        fetch.send(request, LONG).await,
        Err(FetchError::NotPermitted(
            "header \"Host\" is set by the host".to_owned()
        ))
    );
}

#[tokio::test]
async fn redirect_off_list_refused() {
    let (address, hits) = serve().await;
    let fetch = service(&[address.to_string()], |_| {});
    let off_list = format!("http://{address}/redirect?to=http://10.1.2.3/");
    assert_eq!(
        fetch.send(get_request(&off_list), LONG).await,
        Err(FetchError::BlockedAddress)
    );
    let on_list = format!("http://{address}/redirect?to=http://{address}/count");
    let response = fetch.send(get_request(&on_list), LONG).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"1");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn slow_answer_times_out() {
    let (address, _) = serve().await;
    let fetch = service(&[address.to_string()], |config| config.timeout_ms = 100);
    let url = format!("http://{address}/slow");
    assert_eq!(
        fetch.send(get_request(&url), LONG).await,
        Err(FetchError::Timeout)
    );

    // The plugin's remaining deadline also bounds the wait.
    let patient = service(&[address.to_string()], |_| {});
    assert_eq!(
        patient
            .send(get_request(&url), Duration::from_millis(100))
            .await,
        Err(FetchError::Timeout)
    );
}

#[tokio::test]
async fn long_body_too_large() {
    let (address, _) = serve().await;
    let fetch = service(&[address.to_string()], |config| {
        config.max_response_bytes = 1999;
    });
    let url = format!("http://{address}/big");
    assert_eq!(
        fetch.send(get_request(&url), LONG).await,
        Err(FetchError::TooLarge)
    );
    let roomy = service(&[address.to_string()], |config| {
        config.max_response_bytes = 2000;
    });
    assert_eq!(
        roomy
            .send(get_request(&url), LONG)
            .await
            .unwrap()
            .body
            .len(),
        2000
    );
}

#[tokio::test]
async fn breaker_opens_on_5xx() {
    let (address, _) = serve().await;
    let fetch = service(&[address.to_string()], |config| {
        config.breaker_failures = 2;
        config.breaker_cooldown_ms = 200;
    });
    let fail = format!("http://{address}/fail");
    for _ in 0..2 {
        let response = fetch.send(get_request(&fail), LONG).await.unwrap();
        assert_eq!(response.status, 503);
    }
    let ok = format!("http://{address}/ok");
    assert_eq!(
        fetch.send(get_request(&ok), LONG).await,
        Err(FetchError::CircuitOpen)
    );

    tokio::time::sleep(Duration::from_millis(250)).await;
    let response = fetch.send(get_request(&ok), LONG).await.unwrap();
    assert_eq!(response.body, b"hello");
}

#[tokio::test]
async fn identical_requests_cached() {
    let (address, hits) = serve().await;
    let fetch = service(&[address.to_string()], |_| {});
    let url = format!("http://{address}/count");
    for _ in 0..3 {
        let response = fetch.send(get_request(&url), LONG).await.unwrap();
        assert_eq!(response.body, b"1");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let uncached = service(&[address.to_string()], |config| config.cache_ttl_secs = 0);
    uncached.send(get_request(&url), LONG).await.unwrap();
    let response = uncached.send(get_request(&url), LONG).await.unwrap();
    assert_eq!(response.body, b"3");
}

#[test]
fn blocking_send_outside_runtime() {
    let fetch = service(&["qa.internal.example:8443".to_owned()], |_| {});
    assert_eq!(
        fetch.send_blocking(get_request("http://127.0.0.1:9/"), LONG),
        Err(FetchError::BlockedAddress)
    );
}
