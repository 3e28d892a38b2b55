//! Which links a provider returns may become a QR code or a clickable link. A provider (or
//! whoever sits between us and it) could answer `javascript:…` or an address inside the
//! shop's network; only what a customer's phone should open passes.

use crate::ValidationError;
use std::net::IpAddr;

/// The longest link we store or draw (a QR code of more is unreadable anyway).
pub const MAX_LINK_LEN: usize = 2048;

/// Checks `link` before it is stored or shown:
/// - `https:` with a host that is not a link-local, loopback or unspecified address;
/// - a wallet scheme the provider documents (`wallet_schemes`, e.g. WeChat Pay's `weixin`);
/// - `http:` only when the profile's own base URL is plain http (the sandbox, also on a
///   LAN address for paying from a phone) and the link points at that same host and port.
pub fn check_payment_link(link: &str, base_url: &str, wallet_schemes: &[&str]) -> Result<(), ValidationError> {
    let refuse = |why: &str| Err(ValidationError::new("link", format!("{why} (got '{}')", excerpt(link))));
    if link.len() > MAX_LINK_LEN {
        return refuse(&format!("is longer than {MAX_LINK_LEN} characters"));
    }
    if link.chars().any(|c| c.is_whitespace() || crate::text::is_forbidden(c)) {
        return refuse("contains spaces or control characters");
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
            match url.host() {
                None => refuse("has no host"),
                Some(url::Host::Domain(_)) => Ok(()),
                Some(url::Host::Ipv4(ip)) => check_public(IpAddr::V4(ip), link),
                Some(url::Host::Ipv6(ip)) => check_public(IpAddr::V6(ip), link),
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

fn check_public(ip: IpAddr, link: &str) -> Result<(), ValidationError> {
    let internal = match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4.is_loopback() || v4.is_unspecified() || v4.is_broadcast(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xffc0) == 0xfe80,
    };
    if internal {
        Err(ValidationError::new("link", format!("points at an internal address (got '{}')", excerpt(link))))
    } else {
        Ok(())
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
    crate::pockyt::check_url(field, url)
}

/// Whether a profile's base URL is one we may send requests to: http(s), a host, no
/// credentials, and not a link-local address (cloud metadata services live there).
pub fn check_base_url(field: &'static str, base_url: &str) -> Result<(), ValidationError> {
    let refuse = |why: &str| Err(ValidationError::new(field, format!("{why} (got '{}')", excerpt(base_url))));
    if base_url.chars().any(|c| c.is_whitespace() || crate::text::is_forbidden(c)) {
        return refuse("must not contain spaces or control characters");
    }
    let Ok(url) = url::Url::parse(base_url) else {
        return refuse("must be an http(s) URL");
    };
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return refuse("must be an http(s) URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("must not carry a user name or password; the API token goes to the OS keyring");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return refuse("must not have a query or fragment");
    }
    let link_local = match url.host() {
        Some(url::Host::Ipv4(v4)) => v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast(),
        Some(url::Host::Ipv6(v6)) => (v6.segments()[0] & 0xffc0) == 0xfe80 || v6.is_unspecified(),
        _ => false,
    };
    if link_local {
        return refuse("must not point at a link-local address");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SANDBOX: &str = "http://127.0.0.1:8787";

    #[test]
    fn only_payment_pages_pass() {
        let ok = |l: &str| check_payment_link(l, SANDBOX, &["weixin"]);
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
        assert!(check_payment_link("http://mapi.yuansfer.com/x", "https://mapi.yuansfer.com", &[]).is_err());
        // The LAN sandbox: same host and port as the profile.
        assert!(check_payment_link("http://192.168.1.20:8787/cashier/1", "http://192.168.1.20:8787", &[]).is_ok());
    }

    #[test]
    fn base_urls_with_credentials_or_link_local_hosts_are_refused() {
        assert!(check_base_url("base_url", "https://mapi.yuansfer.com").is_ok());
        assert!(check_base_url("base_url", "http://127.0.0.1:8787").is_ok());
        for bad in [
            "https://user:secret@mapi.yuansfer.com",
            "http://169.254.169.254",
            "http://[fe80::1]:80",
            "ftp://mapi.yuansfer.com",
            "https://",
            "https://x.example/?token=1",
            "mapi.yuansfer.com",
        ] {
            assert_eq!(check_base_url("base_url", bad).unwrap_err().field, "base_url", "{bad}");
        }
    }
}

/// A notification or return URL a provider requires with every payment: present, and
/// http(s) with a host. `provider` names who requires it.
pub fn check_required_url(field: &'static str, url: &str, provider: &str) -> Result<(), ValidationError> {
    if url.trim().is_empty() {
        return Err(ValidationError::new(field, format!("is required by {provider}")));
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !url.contains(char::is_whitespace) => Ok(()),
        _ => Err(ValidationError::new(field, format!("must be an http(s) URL (got '{url}')"))),
    }
}
