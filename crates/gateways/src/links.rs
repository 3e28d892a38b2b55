//! Which links a provider returns may become a QR code or a clickable link. A provider (or
//! whoever sits between us and it) could answer `javascript:…` or an address inside the
//! shop's network; only what a customer's phone should open passes.

use crate::{RuleId, ValidationError};
use std::net::IpAddr;

/// The longest link we store or draw (a QR code of more is unreadable anyway).
pub const MAX_LINK_LEN: usize = 2048;

/// Checks `link` before it is stored or shown:
/// - `https:` to a host the address rule allows (see [`reach_of`]): public; private only
///   for a `private_network` profile; loopback only when the profile's own base URL is;
/// - a wallet scheme the provider documents (`wallet_schemes`, e.g. WeChat Pay's `weixin`);
/// - `http:` only when the profile's own base URL is plain http (the sandbox, also on a
///   LAN address for paying from a phone) and the link points at that same host and port.
pub fn check_payment_link(
    link: &str,
    base_url: &str,
    wallet_schemes: &[&str],
    private_network: bool,
) -> Result<(), ValidationError> {
    let refused = |why: &str| ValidationError::new("link", format!("{why} (got '{}')", excerpt(link)));
    let refuse = |why: &str| Err(refused(why));
    if link.len() > MAX_LINK_LEN {
        return Err(refused(&format!("is longer than {MAX_LINK_LEN} characters")).because(RuleId::TooLong));
    }
    if link.chars().any(|c| c.is_whitespace() || crate::text::is_forbidden(c)) {
        return Err(refused("contains spaces or control characters").because(RuleId::Characters));
    }
    let Ok(url) = url::Url::parse(link) else {
        return refuse("is not a valid URL");
    };
    let scheme = url.scheme();
    if wallet_schemes.contains(&scheme) {
        return Ok(());
    }
    match scheme {
        "https" => {
            if !url.username().is_empty() || url.password().is_some() {
                return refuse("carries credentials");
            }
            let Some(host) = url.host() else { return refuse("has no host") };
            match reach_of(&host) {
                Reach::Public => Ok(()),
                Reach::Private if private_network => Ok(()),
                Reach::Loopback if base_is_loopback(base_url) => Ok(()),
                reach => {
                    Err(ValidationError::new("link", format!("points at {} (got '{}')", reach.words(), excerpt(link))))
                }
            }
        }
        "http" => {
            let same_origin = url::Url::parse(base_url).ok().is_some_and(|base| {
                base.scheme() == "http"
                    && base.host_str().is_some()
                    && base.host_str() == url.host_str()
                    && base.port_or_known_default() == url.port_or_known_default()
            });
            if same_origin && url.username().is_empty() && url.password().is_none() {
                Ok(())
            } else {
                refuse("is plain http to another host than the profile's own")
            }
        }
        _ => refuse(&format!("uses the '{scheme}:' scheme, which no payment page uses")),
    }
}

/// Where an address leads, after normalising the forms that hide one: IPv4 written in
/// decimal, hex or octal (the URL parser rewrites those), IPv4-mapped and -compatible IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Public,
    /// This computer (127/8, ::1, localhost).
    Loopback,
    /// The shop's own network: RFC 1918, shared address space (100.64/10), unique local.
    Private,
    /// Never a payment's business: link-local (cloud metadata), multicast, unspecified,
    /// broadcast, reserved.
    Internal,
}

impl Reach {
    fn words(self) -> &'static str {
        match self {
            Reach::Public => "a public address",
            Reach::Loopback => "this computer (loopback), which only a local emulator's profile may use",
            Reach::Private => "a private network address, which only a --private-network profile may use",
            Reach::Internal => "a link-local, multicast or unspecified address",
        }
    }
}

pub fn reach_of(host: &url::Host<&str>) -> Reach {
    match host {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" || d.ends_with(".localhost") {
                Reach::Loopback
            } else {
                Reach::Public
            }
        }
        url::Host::Ipv4(v4) => reach_of_ip(IpAddr::V4(*v4)),
        url::Host::Ipv6(v6) => reach_of_ip(IpAddr::V6(*v6)),
    }
}

pub fn reach_of_ip(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Reach::Loopback
            } else if v4.is_private() || (a == 100 && (64..128).contains(&b)) {
                Reach::Private
            } else if v4.is_link_local()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || a == 0
                || a >= 240
            {
                Reach::Internal
            } else {
                Reach::Public
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return reach_of_ip(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            // IPv4-compatible (::a.b.c.d, deprecated but still parsed by some stacks).
            if seg[..6].iter().all(|s| *s == 0) && !v6.is_loopback() && !v6.is_unspecified() {
                return reach_of_ip(IpAddr::V4(std::net::Ipv4Addr::new(
                    (seg[6] >> 8) as u8,
                    seg[6] as u8,
                    (seg[7] >> 8) as u8,
                    seg[7] as u8,
                )));
            }
            if v6.is_loopback() {
                Reach::Loopback
            } else if (seg[0] & 0xfe00) == 0xfc00 {
                Reach::Private
            } else if v6.is_unspecified() || v6.is_multicast() || (seg[0] & 0xffc0) == 0xfe80 {
                Reach::Internal
            } else {
                Reach::Public
            }
        }
    }
}

/// Whether a profile's base URL is on this computer (a local emulator).
pub fn base_is_loopback(base_url: &str) -> bool {
    url::Url::parse(base_url).ok().and_then(|u| u.host().map(|h| reach_of(&h))) == Some(Reach::Loopback)
}

/// A URL the provider calls or sends the customer back to (notifications, return): http(s)
/// with a host, no credentials, and an address the rule allows — public; private only for
/// a `private_network` profile; loopback only when the profile's base URL is loopback too
/// (its emulator runs here and can reach it).
pub fn check_callback_url(
    field: &'static str,
    value: &str,
    base_url: &str,
    private_network: bool,
) -> Result<(), ValidationError> {
    let refuse = |why: String| Err(ValidationError::new(field, format!("{why} (got '{}')", excerpt(value))));
    let Ok(url) = url::Url::parse(value) else { return refuse("must be an http(s) URL".into()) };
    if !matches!(url.scheme(), "http" | "https") {
        return refuse("must be an http(s) URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("must not carry a user name or password".into());
    }
    let Some(host) = url.host() else { return refuse("must have a host".into()) };
    match reach_of(&host) {
        Reach::Public => Ok(()),
        Reach::Private if private_network => Ok(()),
        Reach::Loopback if base_is_loopback(base_url) => Ok(()),
        reach => refuse(format!("points at {}", reach.words())),
    }
}

/// What an error message may quote of a link: short and printable.
fn excerpt(link: &str) -> String {
    let shown: String = link.chars().filter(|c| !crate::text::is_forbidden(*c)).take(80).collect();
    if shown.len() < link.len() {
        format!("{shown}…")
    } else {
        shown
    }
}

/// A URL a provider is told to call or send the customer to (notifications, return):
/// required, http(s), with a host, no spaces.
pub fn check_http_url(field: &'static str, url: &str) -> Result<(), ValidationError> {
    check_required_url(field, url, "the provider")
}

/// Whether a profile's base URL is one we may send requests to: http(s), a host, no
/// credentials, and not a link-local address (cloud metadata services live there).
/// Loopback is allowed (a local emulator); private addresses only for a
/// `private_network` profile.
pub fn check_base_url(field: &'static str, base_url: &str, private_network: bool) -> Result<(), ValidationError> {
    let refused = |why: &str| ValidationError::new(field, format!("{why} (got '{}')", excerpt(base_url)));
    let refuse = |why: &str| Err(refused(why));
    if base_url.chars().any(|c| c.is_whitespace() || crate::text::is_forbidden(c)) {
        return Err(refused("must not contain spaces or control characters").because(RuleId::Characters));
    }
    let Ok(url) = url::Url::parse(base_url) else {
        return refuse("must be an http(s) URL");
    };
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return refuse("must be an http(s) URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("must not carry a user name or password; the API secret goes to the OS keyring");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return refuse("must not have a query or fragment");
    }
    match url.host().map(|h| reach_of(&h)) {
        Some(Reach::Public | Reach::Loopback) => Ok(()),
        Some(Reach::Private) if private_network => Ok(()),
        Some(reach) => refuse(&format!("must not point at {}", reach.words())),
        None => refuse("must be an http(s) URL"),
    }
}
/// A notification or return URL a provider requires with every payment: present, and
/// http(s) with a host. `provider` names who requires it.
pub fn check_required_url(field: &'static str, url: &str, provider: &str) -> Result<(), ValidationError> {
    if url.trim().is_empty() {
        return Err(ValidationError::new(field, format!("is required by {provider}")).because(RuleId::Required));
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !url.contains(char::is_whitespace) => Ok(()),
        _ => Err(ValidationError::new(field, format!("must be an http(s) URL (got '{url}')"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SANDBOX: &str = "http://127.0.0.1:8787";

    #[test]
    fn only_payment_pages_pass() {
        let ok = |l: &str| check_payment_link(l, SANDBOX, &["weixin"], false);
        assert!(ok("https://qr.alipay.com/bax01234").is_ok());
        assert!(ok("weixin://wxpay/bizpayurl?pr=abc").is_ok());
        assert!(ok("http://127.0.0.1:8787/cashier/3001").is_ok(), "the sandbox's own page");
        for bad in [
            "javascript:alert(document.cookie)",
            "http://169.254.169.254/latest/meta-data/",
            "https://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:9999/cashier/1",
            "http://evil.example/cashier/1",
            "file:///etc/passwd",
            "data:text/html,<script>alert(1)</script>",
            "https://user:pw@pay.example/x",
            "https://pay.example/a b",
            "https://pay.example/\u{1b}[2J",
            "alipays://platformapi/startapp",
        ] {
            let e = ok(bad).unwrap_err();
            assert_eq!(e.field, "link", "{bad}");
        }
        assert!(ok(&format!("https://pay.example/{}", "a".repeat(MAX_LINK_LEN))).is_err());
        // A production profile (https) never accepts plain http.
        assert!(check_payment_link("http://mapi.yuansfer.com/x", "https://mapi.yuansfer.com", &[], false).is_err());
        // The LAN sandbox: same host and port as the profile.
        assert!(
            check_payment_link("http://192.168.1.20:8787/cashier/1", "http://192.168.1.20:8787", &[], false).is_ok()
        );
    }

    #[test]
    fn base_urls_with_credentials_or_link_local_hosts_are_refused() {
        assert!(check_base_url("base_url", "https://mapi.yuansfer.com", false).is_ok());
        assert!(check_base_url("base_url", "http://127.0.0.1:8787", false).is_ok());
        for bad in [
            "https://user:secret@mapi.yuansfer.com",
            "http://169.254.169.254",
            "http://[fe80::1]:80",
            "ftp://mapi.yuansfer.com",
            "https://",
            "https://x.example/?token=1",
            "mapi.yuansfer.com",
        ] {
            assert_eq!(check_base_url("base_url", bad, false).unwrap_err().field, "base_url", "{bad}");
        }
    }

    #[test]
    fn one_address_rule_sees_through_every_spelling() {
        let prod = "https://mapi.yuansfer.com";
        // Hidden internal and private addresses: mapped IPv6, decimal, hex, octal IPv4.
        for bad in [
            "https://[::ffff:169.254.169.254]/",
            "https://[::ffff:127.0.0.1]:8080/",
            "https://192.168.1.1/admin",
            "https://10.0.0.1/pay",
            "https://172.16.5.4/pay",
            "https://100.64.0.1/pay",
            "https://[fd00::1]/pay",
            "https://[fe80::1]/pay",
            "https://[ff02::1]/pay",
            "https://0.0.0.0/pay",
            "https://2130706433/pay",
            "https://0x7f000001/pay",
            "https://0177.0.0.1/pay",
            "https://3232235777/pay",
            "https://localhost/pay",
            "https://[::127.0.0.1]/pay",
        ] {
            assert!(check_payment_link(bad, prod, &[], false).is_err(), "{bad}");
        }
        assert!(check_payment_link("https://pay.example/x", prod, &[], false).is_ok());
        // The shop's own network only when the profile says so; loopback only for a local emulator.
        assert!(check_payment_link("https://192.168.1.1/pay", prod, &[], true).is_ok());
        assert!(check_payment_link("https://[fe80::1]/pay", prod, &[], true).is_err(), "link-local never");
        assert!(check_payment_link("https://127.0.0.1:9443/pay", "http://127.0.0.1:8787", &[], false).is_ok());
        assert!(check_payment_link("https://[::ffff:127.0.0.1]:8080/", prod, &[], true).is_err());

        assert!(check_base_url("base_url", "http://[::ffff:169.254.169.254]/", false).is_err());
        assert!(check_base_url("base_url", "http://[::ffff:169.254.169.254]/", true).is_err());
        assert!(check_base_url("base_url", "http://192.168.1.20:8787", false).is_err());
        assert!(check_base_url("base_url", "http://192.168.1.20:8787", true).is_ok());
        assert!(check_base_url("base_url", "http://localhost:8787", false).is_ok());

        let cb = |u: &str, base: &str, private: bool| check_callback_url("ipn_url", u, base, private);
        assert!(cb("https://shop.example/ipn", prod, false).is_ok());
        assert!(cb("https://user:pw@shop.example/ipn", prod, false).is_err());
        assert!(cb("http://127.0.0.1:8788/notify", prod, false).is_err());
        assert!(cb("http://127.0.0.1:8788/notify", "http://127.0.0.1:8787", false).is_ok());
        assert!(cb("http://10.0.0.5/notify", prod, false).is_err());
        assert!(cb("http://10.0.0.5/notify", prod, true).is_ok());
        assert!(cb("ftp://shop.example/x", prod, false).is_err());
    }
}
