//! Callback signatures: lowercase hex SHA-1 over the byte-wise sorted,
//! concatenated parts.
//!
//! `signature` covers the token, `timestamp` and `nonce` and comes with every
//! callback. `msg_signature` adds the `Encrypt` text and authenticates the
//! body of an encrypted callback; it also signs encrypted replies.

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// Computes the lowercase hex SHA-1 of `parts` sorted byte-wise and
/// concatenated without separator.
pub fn compute_signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));

    let mut hasher = Sha1::new();
    for part in sorted {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Computes `msg_signature` over the token, timestamp, nonce and the
/// `Encrypt` text exactly as it appears in the XML.
pub fn compute_msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    compute_signature(&[token, timestamp, nonce, encrypt])
}

/// Checks the `signature` query parameter against the token, `timestamp`
/// and `nonce`. The comparison is constant-time; a signature in uppercase hex
/// does not match.
pub fn verify_signature(token: &str, timestamp: &str, nonce: &str, signature: &str) -> bool {
    let expected = compute_signature(&[token, timestamp, nonce]);
    constant_time_eq(&expected, signature)
}

/// Checks `msg_signature` against the token, `timestamp`, `nonce` and the
/// `Encrypt` text as it appears in the body (trimmed, never decoded). The
/// comparison is constant-time.
pub fn verify_msg_signature(
    token: &str,
    timestamp: &str,
    nonce: &str,
    encrypt: &str,
    msg_signature: &str,
) -> bool {
    let expected = compute_msg_signature(token, timestamp, nonce, encrypt);
    constant_time_eq(&expected, msg_signature)
}

fn constant_time_eq(expected: &str, actual: &str) -> bool {
    // NB: `ct_eq` on slices of different lengths returns false at once. The
    // length of a SHA-1 hex string is public, so that leaks nothing.
    expected.as_bytes().ct_eq(actual.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_check_official_vector() {
        let signature = compute_signature(&["AAAAA", "1714036504", "1514711492"]);
        assert_eq!(signature, "f464b24fc39322e44b38aa78f5edd27bd1441696");
        assert!(verify_signature(
            "AAAAA",
            "1714036504",
            "1514711492",
            "f464b24fc39322e44b38aa78f5edd27bd1441696"
        ));
    }

    #[test]
    fn plaintext_post_official_vector() {
        assert!(verify_signature(
            "AAAAA",
            "1714037059",
            "486452656",
            "899cf89e464efb63f54ddac96b0a0a235f53aa78"
        ));
    }

    #[test]
    fn safe_mode_official_signatures() {
        let encrypt = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=";
        assert!(verify_signature(
            "AAAAA",
            "1714112445",
            "415670741",
            "6c5c811b55cc85e0e1b54100749188c20beb3f5d"
        ));
        assert!(verify_msg_signature(
            "AAAAA",
            "1714112445",
            "415670741",
            encrypt,
            "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
        ));
    }

    #[test]
    fn fake_account_signature() {
        let signature = compute_signature(&["faketoken", "1700000000", "987"]);
        assert_eq!(signature, "f23f4565bb544914f16b58ba08bab18be027e3c2");
    }

    #[test]
    fn fake_account_msg_signature() {
        let signature =
            compute_msg_signature("faketoken", "1700000000", "987", "ENCRYPTED+BASE64/VALUE==");
        assert_eq!(signature, "960745901c430b5751ab140e44118026bbccbf31");
    }

    #[test]
    fn signature_never_substitutes_msg_signature() {
        let encrypt = "ENCRYPTED+BASE64/VALUE==";
        let signature = "f23f4565bb544914f16b58ba08bab18be027e3c2";
        let msg_signature = "960745901c430b5751ab140e44118026bbccbf31";

        assert!(!verify_msg_signature(
            "faketoken",
            "1700000000",
            "987",
            encrypt,
            signature
        ));
        assert!(!verify_signature(
            "faketoken",
            "1700000000",
            "987",
            msg_signature
        ));
    }

    #[test]
    fn tampered_nonce_rejected() {
        let encrypt = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==";
        let msg_signature = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96";
        assert!(verify_msg_signature(
            "123456",
            "1411443780",
            "437374425",
            encrypt,
            msg_signature
        ));
        assert!(!verify_msg_signature(
            "123456",
            "1411443780",
            "437374424",
            encrypt,
            msg_signature
        ));
    }

    #[test]
    fn uppercase_or_truncated_rejected() {
        let upper = "F23F4565BB544914F16B58BA08BAB18BE027E3C2";
        assert!(!verify_signature("faketoken", "1700000000", "987", upper));
        assert!(!verify_signature("faketoken", "1700000000", "987", "f23f"));
        assert!(!verify_signature("faketoken", "1700000000", "987", ""));
    }

    #[test]
    fn sort_is_bytewise() {
        // Byte order puts uppercase before lowercase and digits first.
        let signature = compute_signature(&["b", "A", "1"]);
        assert_eq!(signature, compute_signature(&["1Ab"]));
    }
}
