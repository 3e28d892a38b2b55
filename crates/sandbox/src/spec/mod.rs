//! What the emulated providers' documents share (money in wire form, MD5 hex). Each
//! provider's own documents (`shared/reference/*.txt`, copied into the conformance
//! fixtures) are transcribed in its folder's `spec.rs`, written a second time on purpose:
//! the emulator shares no code, constant, signer or status table with the clients in
//! `paydesk-gateways`, so a mistake made in a client cannot pass every test by being made
//! in the emulator too. Where
//! the documents are silent the emulator accepts what a real provider might send; the
//! README lists those assumptions.

pub mod money;

/// Lowercase hex of MD5, as the MD5-signing providers write their signatures.
pub(crate) fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(data))
}

/// Equal without telling by how long it took (a signature is a secret's MAC).
pub(crate) fn same(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}
