//! Each provider as its own documents describe it (`shared/reference/*.txt`, copied into
//! the conformance fixtures), written here a second time on purpose: the emulator shares no
//! code, constant, signer or status table with the clients in `paydesk-gateways`, so a
//! mistake made in a client cannot pass every test by being made in the emulator too. Where
//! the documents are silent the emulator accepts what a real provider might send; the
//! README lists those assumptions.

pub mod money;
pub mod paykka;
pub mod pockyt;
pub mod vexora;

/// Lowercase hex of MD5, as both Pockyt and Vexora write their signatures.
pub(crate) fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(data))
}

/// Equal without telling by how long it took (a signature is a secret's MAC).
pub(crate) fn same(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}
