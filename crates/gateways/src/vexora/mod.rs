//! Vexora (Taiwan checkout): header `merchantNo`, JSON bodies of strings, MD5 `sign`,
//! amounts in whole New Taiwan dollars. Only signing and amount conversion exist so far.

pub mod signing;
pub mod transformers;
