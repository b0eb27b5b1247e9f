//! Errors that name their cause (issue #17), against real listeners: the real server binary
//! serving HTTPS with certificates made here (from a CA this machine does not trust, expired,
//! for another name), a closed port, and a proxy that does not answer. The CLI's `--json`
//! error must carry the cause's code, never `offline`, and its words must say what to do.

use std::path::Path;
use std::process::Output;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, date_time_ymd};

use super::procs::{Cli, Server, binaries, free_port};

/// A certificate authority: its certificate (PEM), and what signs with it.
struct Authority {
    pem: String,
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn authority(name: &str) -> Authority {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    let key = KeyPair::generate().expect("ca key");
    let cert = params.self_signed(&key).expect("ca cert");
    Authority { pem: cert.pem(), cert, key }
}

/// A server certificate for `names`, valid from `from` to `until` (year, month, day), signed
/// by `ca`; written as `cert.pem`/`key.pem` into `dir`.
fn server_cert(dir: &Path, ca: &Authority, names: &[&str], from: (i32, u8, u8), until: (i32, u8, u8)) {
    let mut params = CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).expect("params");
    params.not_before = date_time_ymd(from.0, from.1, from.2);
    params.not_after = date_time_ymd(until.0, until.1, until.2);
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &ca.cert, &ca.key).expect("sign");
    std::fs::create_dir_all(dir).expect("dir");
    std::fs::write(dir.join("cert.pem"), cert.pem()).expect("cert");
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).expect("key");
}

/// The real server on HTTPS with the certificate in `dir`.
fn https_server(root: &Path, dir: &Path) -> Server {
    let (_, server_bin) = binaries();
    let mut server = Server { bin: server_bin, data: root.join("server"), port: free_port(), child: None };
    let (cert, key) = (dir.join("cert.pem").to_string_lossy().into_owned(), dir.join("key.pem").to_string_lossy().into_owned());
    server.start_with(&["--tls-cert", &cert, "--tls-key", &key]);
    server
}

/// `handoff --json join` against `url`, trusting only `trusted` (a PEM bundle), with `env`.
fn join(root: &Path, url: &str, trusted: &Path, env: &[(&str, &str)]) -> Output {
    let (cli_bin, _) = binaries();
    let cli = Cli::new(cli_bin, root.join(format!("client-{}", free_port())));
    let mut cmd =
        cli.cmd(&["--json", "join", "--server", url, "--invite", "not-a-real-code", "--email", "ana@net.io", "--name", "Ana"]);
    cmd.env("SSL_CERT_FILE", trusted).env_remove("SSL_CERT_DIR");
    for var in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run handoff")
}

/// The `{code, message}` a failed `--json` command printed.
fn error_of(out: &Output) -> (String, String) {
    assert!(!out.status.success(), "the command failed: {}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8_lossy(&out.stderr);
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("a JSON error, not {text:?}: {e}"));
    (v["code"].as_str().unwrap_or_default().to_owned(), v["message"].as_str().unwrap_or_default().to_owned())
}

#[test]
fn each_cause_of_a_failed_connection_has_its_own_code_and_words() {
    let root = tempfile::tempdir().expect("root");
    let root = root.path();
    let ca = authority("Handoff test CA");
    let trusted = root.join("trusted.pem");
    std::fs::write(&trusted, &ca.pem).expect("trusted bundle");

    // Control: a valid certificate from the trusted CA is accepted (the invite is fake, so
    // the server itself refuses it), which shows the trust bundle is the one in use.
    server_cert(&root.join("good"), &ca, &["127.0.0.1", "localhost"], (2025, 1, 1), (2035, 1, 1));
    let mut good = https_server(&root.join("s-good"), &root.join("good"));
    let (code, _) = error_of(&join(root, &format!("https://127.0.0.1:{}", good.port), &trusted, &[]));
    assert_eq!(code, "invite_invalid", "a trusted certificate gets through to the server");

    // A certificate from an authority this machine does not trust.
    let stranger = authority("Someone else's CA");
    server_cert(&root.join("untrusted"), &stranger, &["127.0.0.1"], (2025, 1, 1), (2035, 1, 1));
    let mut untrusted = https_server(&root.join("s-untrusted"), &root.join("untrusted"));
    let (code, message) = error_of(&join(root, &format!("https://127.0.0.1:{}", untrusted.port), &trusted, &[]));
    assert_eq!(code, "tls_untrusted", "{message}");
    assert!(message.contains("does not trust") && message.contains("trust store"), "{message}");

    // Expired.
    server_cert(&root.join("expired"), &ca, &["127.0.0.1"], (2020, 1, 1), (2021, 1, 1));
    let mut expired = https_server(&root.join("s-expired"), &root.join("expired"));
    let (code, message) = error_of(&join(root, &format!("https://127.0.0.1:{}", expired.port), &trusted, &[]));
    assert_eq!(code, "tls_expired", "{message}");
    assert!(message.contains("expired"), "{message}");

    // For another name.
    server_cert(&root.join("misnamed"), &ca, &["handoff.other.example"], (2025, 1, 1), (2035, 1, 1));
    let mut misnamed = https_server(&root.join("s-misnamed"), &root.join("misnamed"));
    let (code, message) = error_of(&join(root, &format!("https://127.0.0.1:{}", misnamed.port), &trusted, &[]));
    assert_eq!(code, "tls_wrong_name", "{message}");
    assert!(message.contains("not for 127.0.0.1"), "{message}");

    // Nothing listening.
    let closed = free_port();
    let (code, message) = error_of(&join(root, &format!("http://127.0.0.1:{closed}"), &trusted, &[]));
    assert_eq!(code, "connection_refused", "{message}");
    assert!(message.contains(&format!("127.0.0.1:{closed}")) && message.contains("nothing is listening"), "{message}");

    // A proxy that does not answer, in front of a server that would.
    let proxy = format!("http://127.0.0.1:{}", free_port());
    let (code, message) =
        error_of(&join(root, &format!("https://127.0.0.1:{}", good.port), &trusted, &[("HTTPS_PROXY", proxy.as_str())]));
    assert_eq!(code, "proxy_failed", "{message}");
    assert!(message.contains(&proxy), "{message}");

    for s in [&mut good, &mut untrusted, &mut expired, &mut misnamed] {
        s.kill();
    }
}
