//! The sync engine's only window on the network: a [`Transport`] sends one HTTP request and
//! hands back the answer. The real one is [`HttpTransport`] (reqwest over rustls); tests and the
//! deterministic simulation plug in their own (the server's router in-process, with faults).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::time::Duration;

use handoff_core::protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION, Poke};
use tokio::sync::mpsc;

/// A boxed, sendable future (object-safe async in traits).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An HTTP method the protocol uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`: reads (blobs, events, health).
    Get,
    /// `POST`: JSON calls (push, pull, auth).
    Post,
    /// `PUT`: blob uploads.
    Put,
    /// `DELETE`: revoking tokens and removing members.
    Delete,
}

/// One request: a path under the server URL, an optional bearer token and a body.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// The HTTP method.
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Bearer token.
    pub token: Option<String>,
    /// Body bytes (JSON or raw blob content).
    pub body: Vec<u8>,
    /// `Content-Type` of `body`.
    pub content_type: &'static str,
    /// `Range: bytes=N-` for resumed downloads.
    pub range_from: Option<u64>,
}

impl HttpRequest {
    /// A JSON request.
    pub fn json(method: Method, path: impl Into<String>, token: Option<&str>, body: Vec<u8>) -> Self {
        Self {
            method,
            path: path.into(),
            token: token.map(str::to_owned),
            body,
            content_type: "application/json",
            range_from: None,
        }
    }
}

/// An answer: status and body.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// What was wrong with a server's TLS certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsProblem {
    /// Signed by no authority this machine trusts (self-signed, a private CA not installed).
    Untrusted,
    /// Expired, or not valid yet.
    Expired,
    /// Issued for another host name than the one in the server address.
    WrongName,
    /// Another TLS failure (protocol, handshake).
    Other,
}

/// Why a request got no answer: no route, nothing listening, a name that does not resolve,
/// a certificate this machine does not accept, a proxy that failed. Each names its cause, so
/// a person is never told "offline" when the server is up but not trusted.
#[derive(Clone, Debug, thiserror::Error)]
pub enum TransportError {
    /// The server could not be reached, or the connection broke.
    #[error("cannot reach the server: {0}")]
    Unreachable(String),
    /// Nothing listens at the server's address and port.
    #[error(
        "the server at {0} refused the connection: nothing is listening there; is the server running, and is the port right?"
    )]
    Refused(String),
    /// The server's host name does not resolve.
    #[error("the server's name {0} does not resolve (DNS); check the address and this machine's network")]
    Dns(String),
    /// The TLS handshake failed because of the server's certificate (or TLS itself).
    #[error("{}", tls_words(*problem, host, detail))]
    Tls {
        /// What was wrong.
        problem: TlsProblem,
        /// The host in the server address.
        host: String,
        /// The TLS library's words.
        detail: String,
    },
    /// A proxy is configured and the connection through it failed.
    #[error(
        "cannot reach the server through the proxy {proxy}: {detail}; check the proxy settings (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)"
    )]
    Proxy {
        /// The proxy, from the environment.
        proxy: String,
        /// What failed.
        detail: String,
    },
    /// No answer in time.
    #[error("the server did not answer in time")]
    Timeout,
    /// The transport cannot do this (for example, a test transport without event streams).
    #[error("not supported by this transport: {0}")]
    Unsupported(&'static str),
}

/// Receives a download's bytes as they arrive, with the answer's status (200 for the whole
/// content, 206 for the rest of a resumed one).
pub type ChunkSink<'a> = &'a mut (dyn FnMut(u16, &[u8]) -> std::io::Result<()> + Send);

/// Sends requests to one server.
pub trait Transport: Send + Sync {
    /// Sends one request and waits for the whole answer.
    fn send(&self, req: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>>;

    /// Sends a request whose answer may be large, feeding the body to `sink` as it arrives;
    /// returns the status. The default buffers the whole answer via [`Transport::send`].
    fn download<'a>(&'a self, req: HttpRequest, sink: ChunkSink<'a>) -> BoxFuture<'a, Result<u16, TransportError>> {
        Box::pin(async move {
            let resp = self.send(req).await?;
            if (200..300).contains(&resp.status) {
                sink(resp.status, &resp.body)
                    .map_err(|e| TransportError::Unreachable(format!("cannot store the download: {e}")))?;
            }
            Ok(resp.status)
        })
    }

    /// Uploads a file's content with `PUT path`, reporting bytes sent so far; returns the
    /// status and body. The default reads the file and uses [`Transport::send`].
    fn upload_file<'a>(
        &'a self,
        path: String,
        token: Option<String>,
        file: PathBuf,
        progress: Arc<dyn Fn(u64) + Send + Sync>,
    ) -> BoxFuture<'a, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let body = tokio::task::spawn_blocking(move || std::fs::read(&file))
                .await
                .map_err(|e| TransportError::Unreachable(e.to_string()))?
                .map_err(|e| TransportError::Unreachable(format!("cannot read the blob to upload: {e}")))?;
            let len = body.len() as u64;
            let resp = self
                .send(HttpRequest {
                    method: Method::Put,
                    path,
                    token,
                    body,
                    content_type: "application/octet-stream",
                    range_from: None,
                })
                .await?;
            progress(len);
            Ok(resp)
        })
    }

    /// Opens the server's event stream (`GET /v1/events`): pokes arrive on the channel until
    /// the stream ends (the channel closes).
    fn events(&self, _token: String) -> BoxFuture<'_, Result<mpsc::Receiver<Poke>, TransportError>> {
        Box::pin(async { Err(TransportError::Unsupported("event streams")) })
    }
}

/// The real transport: HTTP(S) with reqwest and rustls (ring).
#[derive(Clone, Debug)]
pub struct HttpTransport {
    base: String,
    http: reqwest::Client,
    /// A client without an overall timeout, for blob transfers and the event stream.
    long: reqwest::Client,
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err only when some other part of the process installed one first: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl HttpTransport {
    /// A transport to the server at `base_url` (`https://…` or `http://…`).
    pub fn new(base_url: &str) -> Result<Self, TransportError> {
        install_crypto_provider();
        let build = |timeout: Option<Duration>| {
            let mut b = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("handoff/", env!("CARGO_PKG_VERSION")));
            if let Some(t) = timeout {
                b = b.timeout(t);
            } else {
                b = b.read_timeout(Duration::from_secs(120));
            }
            b.build().map_err(|e| TransportError::Unreachable(format!("cannot set up HTTP: {e}")))
        };
        Ok(Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http: build(Some(Duration::from_secs(120)))?,
            long: build(None)?,
        })
    }

    fn builder(&self, client: &reqwest::Client, req: &HttpRequest) -> reqwest::RequestBuilder {
        let url = format!("{}{}", self.base, req.path);
        let mut b = match req.method {
            Method::Get => client.get(url),
            Method::Post => client.post(url),
            Method::Put => client.put(url),
            Method::Delete => client.delete(url),
        };
        b = b.header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string());
        if let Some(t) = &req.token {
            b = b.bearer_auth(t);
        }
        if let Some(from) = req.range_from {
            b = b.header("range", format!("bytes={from}-"));
        }
        if !req.body.is_empty() || matches!(req.method, Method::Post | Method::Put) {
            b = b.header("content-type", req.content_type);
        }
        b
    }
}

fn tls_words(problem: TlsProblem, host: &str, detail: &str) -> String {
    match problem {
        TlsProblem::Untrusted => format!(
            "the server {host} answered with a certificate this machine does not trust ({detail}); if the server uses a private certificate authority, install its certificate in the system's trust store"
        ),
        TlsProblem::Expired => {
            format!("the server {host}'s certificate has expired or is not valid yet ({detail}); its administrator must renew it")
        }
        TlsProblem::WrongName => format!(
            "the server's certificate is not for {host} ({detail}); check the address, or ask its administrator for a certificate naming this host"
        ),
        TlsProblem::Other => format!("the secure connection to {host} failed: {detail}"),
    }
}

/// The proxy a request to `url` goes through, from the environment (what reqwest reads).
fn proxy_for(url: &reqwest::Url) -> Option<String> {
    let vars: &[&str] = if url.scheme() == "https" {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    vars.iter().find_map(|v| std::env::var(v).ok().filter(|p| !p.trim().is_empty()))
}

fn tls_problem(e: &rustls::Error) -> TlsProblem {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer | C::BadSignature => TlsProblem::Untrusted,
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => TlsProblem::Expired,
            C::NotValidForName | C::NotValidForNameContext { .. } => TlsProblem::WrongName,
            _ => TlsProblem::Other,
        },
        _ => TlsProblem::Other,
    }
}

/// Names the cause of a request that got no answer, from the error's chain.
fn net_error(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        return TransportError::Timeout;
    }
    let host = e.url().and_then(|u| u.host_str()).unwrap_or("the server").to_owned();
    let address = e.url().map_or_else(|| host.clone(), |u| format!("{}:{}", host, u.port_or_known_default().unwrap_or(0)));
    if e.is_connect()
        && let Some(proxy) = e.url().and_then(proxy_for)
    {
        return TransportError::Proxy { proxy, detail: e.to_string() };
    }
    // Walk the chain, and into io errors, which wrap their cause (hyper wraps rustls's
    // error in an io error inside another) without listing it as a source.
    let mut pending: Vec<&(dyn std::error::Error + 'static)> = vec![&e];
    while let Some(err) = pending.pop() {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return TransportError::Tls { problem: tls_problem(tls), host, detail: tls.to_string() };
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return TransportError::Refused(address);
            }
            if let Some(inner) = io.get_ref() {
                pending.push(inner);
            }
        }
        let text = err.to_string();
        if text.starts_with("dns error") || text.contains("failed to lookup address") {
            return TransportError::Dns(host);
        }
        if let Some(next) = err.source() {
            pending.push(next);
        }
    }
    TransportError::Unreachable(e.to_string())
}

impl TransportError {
    /// The stable code: `offline` only when there is no route to the server.
    pub fn code(&self) -> crate::code::Code {
        use crate::code::Code;
        match self {
            TransportError::Unreachable(_) | TransportError::Timeout | TransportError::Unsupported(_) => Code::Offline,
            TransportError::Refused(_) => Code::ConnectionRefused,
            TransportError::Dns(_) => Code::DnsFailed,
            TransportError::Tls { problem: TlsProblem::Untrusted, .. } => Code::TlsUntrusted,
            TransportError::Tls { problem: TlsProblem::Expired, .. } => Code::TlsExpired,
            TransportError::Tls { problem: TlsProblem::WrongName, .. } => Code::TlsWrongName,
            TransportError::Tls { problem: TlsProblem::Other, .. } => Code::TlsFailed,
            TransportError::Proxy { .. } => Code::ProxyFailed,
        }
    }

    /// Whether waiting may fix it by itself (a server restarting, a network coming back);
    /// a certificate or a proxy needs a person.
    pub fn is_transient(&self) -> bool {
        !matches!(self, TransportError::Tls { .. } | TransportError::Proxy { .. })
    }
}

impl Transport for HttpTransport {
    fn send(&self, req: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let b = self.builder(&self.http, &req).body(req.body);
            let resp = b.send().await.map_err(net_error)?;
            let status = resp.status().as_u16();
            let body = resp.bytes().await.map_err(net_error)?.to_vec();
            Ok(HttpResponse { status, body })
        })
    }

    fn download<'a>(&'a self, req: HttpRequest, sink: ChunkSink<'a>) -> BoxFuture<'a, Result<u16, TransportError>> {
        Box::pin(async move {
            let mut resp = self.builder(&self.long, &req).send().await.map_err(net_error)?;
            let status = resp.status().as_u16();
            if !(200..300).contains(&status) {
                return Ok(status);
            }
            while let Some(chunk) = resp.chunk().await.map_err(net_error)? {
                sink(status, &chunk).map_err(|e| TransportError::Unreachable(format!("cannot store the download: {e}")))?;
            }
            Ok(status)
        })
    }

    fn upload_file<'a>(
        &'a self,
        path: String,
        token: Option<String>,
        file: PathBuf,
        progress: Arc<dyn Fn(u64) + Send + Sync>,
    ) -> BoxFuture<'a, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let f = tokio::fs::File::open(&file)
                .await
                .map_err(|e| TransportError::Unreachable(format!("cannot read the blob to upload: {e}")))?;
            let len = f.metadata().await.map(|m| m.len()).unwrap_or(0);
            let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let stream = futures_util::stream::unfold(Some(f), move |state| {
                let progress = progress.clone();
                let sent = sent.clone();
                async move {
                    use tokio::io::AsyncReadExt;
                    let mut f = state?;
                    let mut buf = vec![0u8; 256 * 1024];
                    match f.read(&mut buf).await {
                        Ok(0) => None,
                        Ok(n) => {
                            buf.truncate(n);
                            let total = sent.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed) + n as u64;
                            progress(total);
                            Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), Some(f)))
                        }
                        Err(e) => Some((Err(e), None)),
                    }
                }
            });
            let req = HttpRequest {
                method: Method::Put,
                path,
                token,
                body: Vec::new(),
                content_type: "application/octet-stream",
                range_from: None,
            };
            let b =
                self.builder(&self.long, &req).header("content-length", len.to_string()).body(reqwest::Body::wrap_stream(stream));
            let resp = b.send().await.map_err(net_error)?;
            let status = resp.status().as_u16();
            let body = resp.bytes().await.map_err(net_error)?.to_vec();
            Ok(HttpResponse { status, body })
        })
    }

    fn events(&self, token: String) -> BoxFuture<'_, Result<mpsc::Receiver<Poke>, TransportError>> {
        Box::pin(async move {
            let req = HttpRequest {
                method: Method::Get,
                path: "/v1/events".into(),
                token: Some(token),
                body: Vec::new(),
                content_type: "",
                range_from: None,
            };
            let mut resp =
                self.builder(&self.long, &req).header("accept", "text/event-stream").send().await.map_err(net_error)?;
            if !resp.status().is_success() {
                return Err(TransportError::Unreachable(format!("the event stream answered {}", resp.status())));
            }
            let (tx, rx) = mpsc::channel(64);
            tokio::spawn(async move {
                let mut buf = String::new();
                while let Ok(Some(chunk)) = resp.chunk().await {
                    buf.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buf.find('\n') {
                        let line: String = buf.drain(..=end).collect();
                        if let Some(data) = line.trim_end().strip_prefix("data:")
                            && let Ok(poke) = serde_json::from_str::<Poke>(data.trim())
                            && tx.send(poke).await.is_err()
                        {
                            return;
                        }
                    }
                }
            });
            Ok(rx)
        })
    }
}
