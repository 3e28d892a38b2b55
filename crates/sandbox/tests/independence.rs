//! The emulator is written from the providers' documents, never from the clients: nothing
//! in the sandbox may name a provider module of `paydesk-gateways` (its signers, constants,
//! status tables or types), or a shared mistake would pass every test. Only the demo set-up
//! types and the redacting `ApiSecret` wrapper cross over. (Its tests and benchmarks drive
//! the clients against it: that is their point, so only `src/` is held to this.)

use std::path::{Path, PathBuf};

/// What the sandbox may use of `paydesk_gateways`: nothing that knows a provider.
const ALLOWED: &[&str] = &["ApiSecret", "demo"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Each name used right after `paydesk_gateways::` (both `a::b` and `{a, b::c}` forms).
fn names_used(source: &str) -> Vec<String> {
    let text: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    let mut names = Vec::new();
    for (at, _) in text.match_indices("paydesk_gateways") {
        let rest = &text[at + "paydesk_gateways".len()..];
        if rest.starts_with("as") {
            names.push("an alias of the whole crate".into());
            continue;
        }
        let Some(rest) = rest.strip_prefix("::") else { continue };
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            names.extend(group.split(',').map(|item| item.split("::").next().unwrap_or("").to_string()));
        } else {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            names.push(rest[..end].to_string());
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

#[test]
fn the_sandbox_names_no_provider_module_of_the_clients() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut offences = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        for name in names_used(&source) {
            if !ALLOWED.contains(&name.as_str()) {
                offences.push(format!("{}: paydesk_gateways::{name}", file.strip_prefix(root).unwrap().display()));
            }
        }
    }
    assert!(files.len() > 10, "the scan found the sources ({} files)", files.len());
    assert!(offences.is_empty(), "the sandbox uses the clients' code:\n{}", offences.join("\n"));
}

#[test]
fn the_scan_sees_every_form_of_import() {
    assert_eq!(names_used("use paydesk_gateways::pockyt::signing;"), ["pockyt"]);
    assert_eq!(names_used("use paydesk_gateways::{ApiSecret, paykka::gateway as api};"), ["ApiSecret", "paykka"]);
    assert_eq!(names_used("let x = paydesk_gateways :: vexora :: QUERY_PATH;"), ["vexora"]);
    assert_eq!(names_used("use paydesk_gateways as g;"), ["an alias of the whole crate"]);
}
