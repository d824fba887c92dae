//! WeChat message encryption: AES-256-CBC over
//! `random(16) ‖ msg_len (u32, big-endian) ‖ msg ‖ appid`, padded PKCS#7-style
//! to 32-byte blocks, with the IV equal to the first 16 key bytes.

use std::fmt;

use aes::Aes256;
use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};

use super::error::{CryptoError, KeyError};

/// Number of characters in an `EncodingAESKey`.
pub const ENCODING_AES_KEY_LEN: usize = 43;

/// WeChat pads to multiples of 32 bytes, twice the AES block size.
const PAD_BLOCK: usize = 32;

/// Random prefix plus the 4-byte length field.
const HEADER_LEN: usize = 20;

/// Decodes the key's 43 characters. The 43rd character carries 2 spare bits
/// that WeChat does not clear, so the decoder must accept non-zero spare bits.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// The 32-byte AES key of an account. `Debug` does not show the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey([u8; 32]);

impl AesKey {
    /// Decodes an `EncodingAESKey`: exactly 43 characters of `[A-Za-z0-9]`,
    /// read as base64 with one `=` appended.
    ///
    /// Returns [`KeyError::WrongLength`] or [`KeyError::InvalidCharacter`];
    /// neither error contains any part of the key.
    pub fn from_encoding_aes_key(encoding_aes_key: &str) -> Result<Self, KeyError> {
        let found = encoding_aes_key.chars().count();
        if found != ENCODING_AES_KEY_LEN {
            return Err(KeyError::WrongLength { found });
        }
        if let Some(index) = encoding_aes_key
            .chars()
            .position(|c| !c.is_ascii_alphanumeric())
        {
            return Err(KeyError::InvalidCharacter {
                position: index + 1,
            });
        }

        let mut padded = String::with_capacity(ENCODING_AES_KEY_LEN + 1);
        padded.push_str(encoding_aes_key);
        padded.push('=');
        let mut key = [0u8; 32];
        // 43 alphanumeric characters and one `=` always decode to 32 bytes.
        match KEY_ENGINE.decode_slice(padded.as_bytes(), &mut key) {
            Ok(32) => Ok(Self(key)),
            _ => Err(KeyError::WrongLength { found }),
        }
    }

    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Returns the raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.0[..16]);
        iv
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey(<redacted>)")
    }
}

/// Encrypts and decrypts the messages of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageCrypto {
    /// The decoded `EncodingAESKey`.
    pub key: AesKey,
    /// The id written after each message: the account's AppID, or the
    /// component AppID when a third-party platform receives for the account.
    pub appid: String,
}

impl MessageCrypto {
    /// Creates the crypto for an account.
    pub fn new(key: AesKey, appid: impl Into<String>) -> Self {
        Self {
            key,
            appid: appid.into(),
        }
    }

    /// Decrypts the text of an `Encrypt` element and returns the message
    /// bytes. ASCII whitespace around the text is ignored.
    ///
    /// # Errors
    ///
    /// - [`CryptoError::InvalidBase64`]: the text is not standard base64.
    /// - [`CryptoError::InvalidLength`]: the ciphertext is empty or not a
    ///   multiple of 32 bytes.
    /// - [`CryptoError::InvalidPadding`]: the pad byte is outside 1..=32 or
    ///   the pad bytes differ, which usually means a wrong key.
    /// - [`CryptoError::InvalidMessageLength`]: the length field points past
    ///   the data.
    /// - [`CryptoError::AppIdMismatch`]: the trailing id differs byte-wise
    ///   from [`MessageCrypto::appid`].
    pub fn decrypt(&self, encrypt_b64: &str) -> Result<Vec<u8>, CryptoError> {
        let text = encrypt_b64.trim_ascii();
        let mut data = STANDARD
            .decode(text)
            .map_err(|_| CryptoError::InvalidBase64)?;
        if data.is_empty() || data.len() % PAD_BLOCK != 0 {
            return Err(CryptoError::InvalidLength { len: data.len() });
        }

        let len = data.len();
        let decryptor =
            cbc::Decryptor::<Aes256>::new(self.key.as_bytes().into(), &self.key.iv().into());
        let plain = decryptor
            .decrypt_padded_mut::<NoPadding>(&mut data)
            .map_err(|_| CryptoError::InvalidLength { len })?;
        let unpadded = unpad(plain)?;

        let (msg, appid) = split_message(unpadded)?;
        if appid != self.appid.as_bytes() {
            return Err(CryptoError::AppIdMismatch);
        }
        Ok(msg.to_vec())
    }

    /// Encrypts `msg` with the given 16 random bytes and returns the base64
    /// text for an `Encrypt` element. Callers pass fresh random bytes for
    /// every reply, and tests pass fixed bytes to get fixed output.
    ///
    /// When the plaintext is already a multiple of 32 bytes, a full block of
    /// 32 pad bytes is added. Returns [`CryptoError::MessageTooLong`] for a
    /// message that does not fit a u32 length.
    pub fn encrypt(&self, msg: &[u8], random: [u8; 16]) -> Result<String, CryptoError> {
        let msg_len =
            u32::try_from(msg.len()).map_err(|_| CryptoError::MessageTooLong { len: msg.len() })?;

        let mut data = Vec::with_capacity(HEADER_LEN + msg.len() + self.appid.len() + PAD_BLOCK);
        data.extend_from_slice(&random);
        data.extend_from_slice(&msg_len.to_be_bytes());
        data.extend_from_slice(msg);
        data.extend_from_slice(self.appid.as_bytes());
        let pad = PAD_BLOCK - data.len() % PAD_BLOCK;
        // `pad` is 1..=32, so the cast is lossless.
        data.resize(data.len() + pad, pad as u8);

        let len = data.len();
        let encryptor =
            cbc::Encryptor::<Aes256>::new(self.key.as_bytes().into(), &self.key.iv().into());
        let cipher = encryptor
            .encrypt_padded_mut::<NoPadding>(&mut data, len)
            .map_err(|_| CryptoError::InvalidLength { len })?;
        Ok(STANDARD.encode(cipher))
    }
}

/// Strips the 1..=32 pad bytes, which must all equal the pad length.
fn unpad(plain: &[u8]) -> Result<&[u8], CryptoError> {
    let pad = usize::from(*plain.last().ok_or(CryptoError::InvalidPadding)?);
    if !(1..=PAD_BLOCK).contains(&pad) || pad > plain.len() {
        return Err(CryptoError::InvalidPadding);
    }
    let (body, padding) = plain.split_at(plain.len() - pad);
    if padding.iter().any(|&b| usize::from(b) != pad) {
        return Err(CryptoError::InvalidPadding);
    }
    Ok(body)
}

/// Splits the unpadded plaintext into the message and the trailing id.
fn split_message(unpadded: &[u8]) -> Result<(&[u8], &[u8]), CryptoError> {
    let header = unpadded
        .get(16..HEADER_LEN)
        .ok_or(CryptoError::InvalidMessageLength)?;
    let mut len_bytes = [0u8; 4];
    len_bytes.copy_from_slice(header);
    let msg_len = usize::try_from(u32::from_be_bytes(len_bytes))
        .map_err(|_| CryptoError::InvalidMessageLength)?;

    let msg_end = HEADER_LEN
        .checked_add(msg_len)
        .filter(|&end| end <= unpadded.len())
        .ok_or(CryptoError::InvalidMessageLength)?;
    Ok((&unpadded[HEADER_LEN..msg_end], &unpadded[msg_end..]))
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    const F1_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const F1_APPID: &str = "wx1234567890abcdef";

    const T3_ENCRYPT: &str = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=";
    const T5_ENCRYPT: &str = "rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnhqbk+kIQ7rZiwny9D7NUrTgA5kpX3KsZvrXzUZyP2x9YOlxbgm572lmxKvM7HAQQhIQ/p6HBmoY30bGXFK0BtIu1pW9TjhOYrLQoU18nWYjWqDA1ynkmOytpv7QRI1P1+0NoxL0q2zO1DgeSvnE8CZGo/o5Ap/WHK5W2RAsinpzN4/LjPnmB6U01I5XCoJoC0GK/yMZycd2Oh8Nq6+wBkC1U85oy0ktOY4nLvsQMLrourmMGdZHuTbqpeJ8Ao/5PRYJ+WBvRUwPfGKBL2+2IKZF49vAJqkcGWSHGE76ZN2erXeuNazf/o9o3lIE3q739o4c8t9QGPe31GT2Go/rOz1BsrASwvauNulCh+++yz+CQzBIuikA==";
    const T6_ENCRYPT: &str = "2gUBUpAeuPFKBS+gkcvrR1cBq1VjTOQluB7+FQF00VnybRpYR3xko4S4wh0qD+64cWmJfF93ZNLm+HLZBexjHLAdJBs5RBG2rP1AJnU0/1vQU/Ac9Q1Nq7vfC4l3ciF8YwhQW0o/GE4MYWWakgdwnp0hQ7aVVwqMLd67A5bsURQHJiFY/cH0fVlsKe6J3aazGhRXFCxceOq2VTJ2Eulc8aBDVSM5/lAIUA/JPq5Z2RzomM0+aoa5XIfGyAtAdlBXD0ADTemxgfYAKI5EMfKtH5za3dKV2UWbGAlJQZ0fwrwPx6Rs8MsoEtyxeQ52gO94gafA+/kIVjamKTVLSgudLLz5rAdGneKkBVhXyfyfousm1DoDRjQdAdqMWpwbeG5hanoJyJiH+humW/1q8PAAiaEfA+BOuvBk/a5xL0Q2l2k=";
    const T7_ENCRYPT: &str = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==";
    const T8A_ENCRYPT: &str =
        "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==";
    const T8B_ENCRYPT: &str = "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=";

    fn crypto(key: &str, appid: &str) -> MessageCrypto {
        MessageCrypto::new(AesKey::from_encoding_aes_key(key).unwrap(), appid)
    }

    fn sha256_hex(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    /// Decrypts without unpadding, to inspect the pad bytes.
    fn raw_plaintext(crypto: &MessageCrypto, encrypt: &str) -> Vec<u8> {
        let mut data = STANDARD.decode(encrypt).unwrap();
        let key = crypto.key.as_bytes();
        cbc::Decryptor::<Aes256>::new(key.into(), &crypto.key.iv().into())
            .decrypt_padded_mut::<NoPadding>(&mut data)
            .unwrap()
            .to_vec()
    }

    #[test]
    fn key_with_spare_bits_decodes() {
        let key = AesKey::from_encoding_aes_key(F1_KEY).unwrap();
        assert_eq!(
            hex::encode(key.as_bytes()),
            "69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051"
        );
    }

    #[test]
    fn key_all_a_is_zero() {
        let key = AesKey::from_encoding_aes_key(&"A".repeat(43)).unwrap();
        assert_eq!(key.as_bytes(), &[0u8; 32]);
    }

    #[test]
    fn key_wrong_length_rejected() {
        let short = AesKey::from_encoding_aes_key(&F1_KEY[..42]);
        assert_eq!(short, Err(KeyError::WrongLength { found: 42 }));
        let long = AesKey::from_encoding_aes_key(&format!("{F1_KEY}H"));
        assert_eq!(long, Err(KeyError::WrongLength { found: 44 }));
        let padded = AesKey::from_encoding_aes_key(&format!("{F1_KEY}="));
        assert_eq!(padded, Err(KeyError::WrongLength { found: 44 }));
    }

    #[test]
    fn key_invalid_character_rejected() {
        let key = format!("{}-{}", &F1_KEY[..10], &F1_KEY[11..]);
        let err = AesKey::from_encoding_aes_key(&key).unwrap_err();
        assert_eq!(err, KeyError::InvalidCharacter { position: 11 });
        let message = err.to_string();
        assert!(!message.contains("abcdefghij"), "{message}");
        let plus = format!("{}+", &F1_KEY[..42]);
        let err = AesKey::from_encoding_aes_key(&plus).unwrap_err();
        assert_eq!(err, KeyError::InvalidCharacter { position: 43 });
    }

    #[test]
    fn key_debug_is_redacted() {
        let key = AesKey::from_encoding_aes_key(F1_KEY).unwrap();
        assert_eq!(format!("{key:?}"), "AesKey(<redacted>)");
    }

    #[test]
    fn decrypt_safe_mode_official() {
        let crypto = crypto(&"A".repeat(43), "wxba5fad812f8e6fb9");
        let msg = crypto.decrypt(T3_ENCRYPT).unwrap();
        assert_eq!(msg.len(), 167);
        assert_eq!(
            sha256_hex(&msg),
            "b8cdb59cbc11acd1fb47e01fd913bf41ea801ed121b35dc87b97d5b56f3282e4"
        );
        let raw = raw_plaintext(&crypto, T3_ENCRYPT);
        assert_eq!(raw.len(), 224);
        assert_eq!(&raw[..16], b"a8eedb185eb2fecf");
        assert_eq!(raw[223], 19);
    }

    #[test]
    fn encrypt_safe_mode_reply_official() {
        let crypto = crypto(&"A".repeat(43), "wxba5fad812f8e6fb9");
        let encrypt = crypto
            .encrypt(br#"{"demo_resp":"good luck"}"#, *b"707722b803182950")
            .unwrap();
        assert_eq!(
            encrypt,
            "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ=="
        );
    }

    #[test]
    fn encrypt_tencent_sample_short() {
        let crypto = crypto(F1_KEY, "wxb11529c136998cb6");
        let encrypt = crypto
            .encrypt("我是中文abcd123".as_bytes(), *b"aaaabbbbccccdddd")
            .unwrap();
        assert_eq!(
            encrypt,
            "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
        );
    }

    #[test]
    fn encrypt_tencent_sample_video_reply() {
        let msg = "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>";
        assert_eq!(msg.len(), 435);
        assert_eq!(
            sha256_hex(msg.as_bytes()),
            "cb24bd0d8e4a76cb2c3f2f0c1efd56a35aa975f06f014ab3f478283388669737"
        );
        let crypto = crypto(F1_KEY, "wxb11529c136998cb6");
        let encrypt = crypto
            .encrypt(msg.as_bytes(), *b"aaaabbbbccccdddd")
            .unwrap();
        assert_eq!(
            encrypt,
            "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb"
        );
    }

    #[test]
    fn decrypt_signed_xml_callback() {
        let crypto = crypto(F1_KEY, "wxb11529c136998cb6");
        let msg = crypto.decrypt(T5_ENCRYPT).unwrap();
        assert_eq!(msg.len(), 293);
        assert_eq!(
            sha256_hex(&msg),
            "7b20fb27d6baf4a8d1b6e2a15f8802bd07bde53d5f3decefeb728211d428da0d"
        );
        let raw = raw_plaintext(&crypto, T5_ENCRYPT);
        assert_eq!(raw.len(), 352);
        assert_eq!(raw[351], 21);
        assert_eq!(&raw[..16], b"d43123b161a4ba84");
    }

    #[test]
    fn decrypt_wrong_appid_is_mismatch() {
        let crypto = crypto(F1_KEY, "invalid appid");
        assert_eq!(crypto.decrypt(T5_ENCRYPT), Err(CryptoError::AppIdMismatch));
    }

    #[test]
    fn decrypt_compatible_mode_capture() {
        let crypto = crypto(
            "mNnY5GekpChwqhy2c4NBH90g3hND6GeI4gii2YCvKLY",
            "wx669ef95216eef885",
        );
        let msg = crypto.decrypt(T6_ENCRYPT).unwrap();
        assert_eq!(msg.len(), 279);
        assert_eq!(
            sha256_hex(&msg),
            "215603abb5f59c648b20834c170d4506651891fb818f9b9d15a5449c21850508"
        );
        let raw = raw_plaintext(&crypto, T6_ENCRYPT);
        assert_eq!((raw.len(), raw[319]), (320, 3));
    }

    #[test]
    fn decrypt_tencent_corp_sample() {
        let crypto = crypto(
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
            "wx5823bf96d3bd56c7",
        );
        let msg = crypto.decrypt(T7_ENCRYPT).unwrap();
        assert_eq!(msg.len(), 284);
        assert_eq!(
            sha256_hex(&msg),
            "62f23e2db9188b2883215b599af3d8ffcaa3fae68770c8f84529cfc560683f32"
        );
        let raw = raw_plaintext(&crypto, T7_ENCRYPT);
        assert_eq!((raw.len(), raw[351]), (352, 30));
    }

    #[test]
    fn decrypt_wechatpy_vectors() {
        let crypto = crypto(
            "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
            "wx49f0ab532d5d035a",
        );
        assert_eq!(crypto.decrypt(T8A_ENCRYPT).unwrap(), b"5927782489442352469");
        let raw = raw_plaintext(&crypto, T8A_ENCRYPT);
        assert_eq!(raw[raw.len() - 1], 7);

        let msg = crypto.decrypt(T8B_ENCRYPT).unwrap();
        assert_eq!(msg.len(), 281);
        assert_eq!(
            sha256_hex(&msg),
            "34c99671cfe71447c7e7f8b6d8d581d5960b956ddcb8ce6a603f546fd6172a97"
        );
        let raw = raw_plaintext(&crypto, T8B_ENCRYPT);
        assert_eq!(raw[raw.len() - 1], 1);
    }

    #[test]
    fn decrypt_trims_ascii_whitespace() {
        let crypto = crypto(&"A".repeat(43), "wxba5fad812f8e6fb9");
        let padded = format!("\r\n    {T3_ENCRYPT}\n  ");
        assert_eq!(crypto.decrypt(&padded).unwrap().len(), 167);
    }

    #[test]
    fn pad_19_and_32_round_trip() {
        let crypto = crypto(F1_KEY, F1_APPID);
        for (len, pad) in [(7usize, 19u8), (199, 19), (26, 32), (58, 32), (13, 13)] {
            let msg: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let encrypt = crypto.encrypt(&msg, *b"0123456789abcdef").unwrap();
            let raw = raw_plaintext(&crypto, &encrypt);
            assert_eq!(raw[raw.len() - 1], pad, "len {len}");
            assert_eq!(crypto.decrypt(&encrypt).unwrap(), msg, "len {len}");
        }
    }

    #[test]
    fn aligned_message_gets_one_full_pad_block() {
        let crypto = crypto(F1_KEY, F1_APPID);
        let msg = [b'x'; 58];
        let encrypt = crypto.encrypt(&msg, *b"0123456789abcdef").unwrap();
        let raw = raw_plaintext(&crypto, &encrypt);
        let pre_pad = 16 + 4 + msg.len() + F1_APPID.len();
        assert_eq!(pre_pad % 32, 0);
        assert_eq!(raw.len(), pre_pad + 32);
        assert_eq!(&raw[pre_pad..], &[0x20u8; 32]);
        assert_eq!(&raw[pre_pad - F1_APPID.len()..pre_pad], F1_APPID.as_bytes());
    }

    #[test]
    fn foreign_appid_rejected() {
        let sender = crypto(F1_KEY, "wxffffffffffffffff");
        let encrypt = sender
            .encrypt(b"<xml></xml>", *b"0123456789abcdef")
            .unwrap();
        let receiver = crypto(F1_KEY, F1_APPID);
        assert_eq!(receiver.decrypt(&encrypt), Err(CryptoError::AppIdMismatch));
    }

    #[test]
    fn multibyte_message_accepted() {
        let crypto = crypto(F1_KEY, F1_APPID);
        let msg = "<xml><Content><![CDATA[你好]]></Content></xml>".as_bytes();
        let encrypt = crypto.encrypt(msg, *b"0123456789abcdef").unwrap();
        assert_eq!(crypto.decrypt(&encrypt).unwrap(), msg);
    }

    #[test]
    fn invalid_ciphertexts_rejected() {
        let crypto = crypto(F1_KEY, F1_APPID);
        assert_eq!(
            crypto.decrypt(""),
            Err(CryptoError::InvalidLength { len: 0 })
        );
        assert_eq!(
            crypto.decrypt("  \n"),
            Err(CryptoError::InvalidLength { len: 0 })
        );
        assert_eq!(
            crypto.decrypt("not base64!"),
            Err(CryptoError::InvalidBase64)
        );
        let short = STANDARD.encode([0u8; 16]);
        assert_eq!(
            crypto.decrypt(&short),
            Err(CryptoError::InvalidLength { len: 16 })
        );
        let odd = STANDARD.encode([0u8; 48]);
        assert_eq!(
            crypto.decrypt(&odd),
            Err(CryptoError::InvalidLength { len: 48 })
        );
    }

    #[test]
    fn bad_padding_rejected() {
        let crypto = crypto(F1_KEY, F1_APPID);
        // A block that decrypts to pad byte 0, then one with unequal pad bytes.
        for last in [0u8, 33, 255] {
            let encrypt = encrypt_raw(&crypto, &[last; 64]);
            assert_eq!(crypto.decrypt(&encrypt), Err(CryptoError::InvalidPadding));
        }
        let mut plain = [7u8; 64];
        plain[60] = 6;
        let encrypt = encrypt_raw(&crypto, &plain);
        assert_eq!(crypto.decrypt(&encrypt), Err(CryptoError::InvalidPadding));
    }

    #[test]
    fn length_field_past_end_rejected() {
        let crypto = crypto(F1_KEY, F1_APPID);
        let mut plain = [1u8; 64];
        plain[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        let encrypt = encrypt_raw(&crypto, &plain);
        assert_eq!(
            crypto.decrypt(&encrypt),
            Err(CryptoError::InvalidMessageLength)
        );
        // Pad 32 over 32 bytes leaves nothing for the 20-byte header.
        let encrypt = encrypt_raw(&crypto, &[32u8; 32]);
        assert_eq!(
            crypto.decrypt(&encrypt),
            Err(CryptoError::InvalidMessageLength)
        );
    }

    #[test]
    fn flipped_base64_never_panics() {
        let crypto = crypto(&"A".repeat(43), "wxba5fad812f8e6fb9");
        // Characters from 278 on encode only the last 16-byte block, which
        // holds the pad bytes, so every flip there must be rejected.
        let last_block = 278;
        let mut accepted_in_last_block = Vec::new();
        for index in 0..T3_ENCRYPT.len() {
            for replacement in ['A', 'z', '+', '/', '=', '-'] {
                let mut text = T3_ENCRYPT.as_bytes().to_vec();
                if text[index] == replacement as u8 {
                    continue;
                }
                text[index] = replacement as u8;
                let text = String::from_utf8(text).unwrap();
                let result = crypto.decrypt(&text);
                if index >= last_block && result.is_ok() {
                    accepted_in_last_block.push((index, replacement));
                }
            }
        }
        assert_eq!(accepted_in_last_block, []);
    }

    fn encrypt_raw(crypto: &MessageCrypto, plain: &[u8]) -> String {
        let mut data = plain.to_vec();
        let len = data.len();
        let key = crypto.key.as_bytes();
        let cipher = cbc::Encryptor::<Aes256>::new(key.into(), &crypto.key.iv().into())
            .encrypt_padded_mut::<NoPadding>(&mut data, len)
            .unwrap();
        STANDARD.encode(cipher)
    }
}
