//! The code's shape, checked from its own `mod`/`use` lines: no file of a crate takes from
//! a file that takes (through any others) from it, and no ES module of the window imports
//! itself round. A circle makes every change on it dearer; this fails the day one appears.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Every `.rs` file under `src`, by its module path (`""` for the root, `a::b`).
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            if path.is_dir() {
                let mut inner = prefix.to_vec();
                inner.push(name);
                walk(&path, &inner, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut module = prefix.to_vec();
                if !["lib", "main", "mod"].contains(&name.as_str()) {
                    module.push(name);
                }
                out.insert(module.join("::"), path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, &[], &mut out);
    out
}

/// The code of a file without its comments and its `#[cfg(test)]` module (tests may reach
/// anywhere).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => &text,
    };
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// The paths a file names from its own crate: `crate::a::b`, `super::x`, `$crate::a`, and
/// the items of `use crate::{a, b::c}`, each as segments from the crate's root.
fn named_paths(code: &str, here: &str, is_dir_module: bool) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let parent: Vec<String> = {
        let mut segments: Vec<String> = here.split("::").filter(|s| !s.is_empty()).map(String::from).collect();
        if !is_dir_module {
            segments.pop();
        }
        segments
    };
    let bytes = code.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    for (start, base) in [("crate::", Vec::new()), ("super::", parent)] {
        for (at, _) in code.match_indices(start) {
            if at > 0 && (word(bytes[at - 1]) || bytes[at - 1] == b':') && bytes[at - 1] != b'$' {
                continue;
            }
            let rest = &code[at + start.len()..];
            for tail in expand(rest) {
                let mut segments = base.clone();
                segments.extend(tail);
                found.push(segments);
            }
        }
    }
    found
}

/// `a::b::Name`, or `{a, b::{c, D}}`: every path it spells out, as segments.
fn expand(rest: &str) -> Vec<Vec<String>> {
    let rest = rest.trim_start();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let mut items = Vec::new();
        let mut depth = 0;
        let mut from = 0;
        let body = &inner[..end];
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&body[from..i]);
                    from = i + 1;
                }
                _ => {}
            }
        }
        items.push(&body[from..]);
        return items.into_iter().filter(|i| !i.trim().is_empty()).flat_map(expand).collect();
    }
    let mut segments = Vec::new();
    let mut tail = rest;
    loop {
        let name: String = tail.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if name.is_empty() {
            break;
        }
        tail = &tail[name.len()..];
        segments.push(name);
        match tail.strip_prefix("::") {
            Some(after) if after.starts_with('{') => {
                return expand(after).into_iter().map(|t| segments.iter().cloned().chain(t).collect()).collect();
            }
            Some(after) => tail = after,
            None => break,
        }
    }
    vec![segments]
}

/// What the crate's root re-exports (`pub use a::{X, Y}`): a name at the root stands for
/// the module it comes from.
fn reexports(root: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in root.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else { continue };
        let rest = rest.trim_end_matches(';');
        if rest.starts_with("crate::") || rest.contains("::") && !rest.starts_with(char::is_uppercase) {
            let rest = rest.trim_start_matches("crate::");
            for path in expand(rest) {
                if path.len() >= 2 {
                    out.insert(path.last().unwrap().clone(), path[0].clone());
                }
            }
        }
    }
    out
}

/// The files of one crate and which take from which (edges to the root left out: the root
/// declares every module).
fn crate_edges(src: &Path) -> (BTreeMap<String, PathBuf>, BTreeMap<String, BTreeSet<String>>) {
    let modules = modules(src);
    let root = modules.get("").map(|p| std::fs::read_to_string(p).unwrap()).unwrap_or_default();
    let reexported = reexports(&root);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &modules {
        if module.is_empty() {
            continue;
        }
        let is_dir_module = path.file_name().is_some_and(|n| n == "mod.rs");
        for segments in named_paths(&code_of(path), module, is_dir_module) {
            // The longest prefix that is a module of this crate; else a root re-export.
            let target = (1..=segments.len())
                .rev()
                .map(|n| segments[..n].join("::"))
                .find(|m| modules.contains_key(m))
                .or_else(|| segments.first().and_then(|first| reexported.get(first).cloned()));
            if let Some(target) =
                target.filter(|t| !t.is_empty() && t != module && !module.starts_with(&format!("{t}::")))
            {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    (modules, edges)
}

/// Tarjan's strongly connected components with more than one member: the circles.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on_stack: BTreeSet<String>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: &str) {
            self.index.insert(v.to_string(), self.next);
            self.low.insert(v.to_string(), self.next);
            self.next += 1;
            self.stack.push(v.to_string());
            self.on_stack.insert(v.to_string());
            for w in self.edges.get(v).cloned().unwrap_or_default() {
                if !self.index.contains_key(&w) {
                    self.visit(&w);
                    let low = self.low[v].min(self.low[&w]);
                    self.low.insert(v.to_string(), low);
                } else if self.on_stack.contains(&w) {
                    let low = self.low[v].min(self.index[&w]);
                    self.low.insert(v.to_string(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(&w);
                    let done = w == v;
                    component.push(w);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    let nodes: BTreeSet<String> =
        edges.iter().flat_map(|(k, v)| std::iter::once(k.clone()).chain(v.iter().cloned())).collect();
    for node in nodes {
        if !walk.index.contains_key(&node) {
            walk.visit(&node);
        }
    }
    walk.found
}

fn crate_sources() -> Vec<PathBuf> {
    let root = workspace();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    sources.push(root.join("src-tauri/src"));
    sources.sort();
    sources
}

#[test]
fn no_file_of_a_crate_takes_from_itself_round_a_circle() {
    let mut found = Vec::new();
    let mut files = 0;
    for src in crate_sources() {
        let (modules, edges) = crate_edges(&src);
        files += modules.len();
        for circle in circles(&edges) {
            let ties: Vec<String> = circle
                .iter()
                .flat_map(|a| edges[a].iter().filter(|b| circle.contains(b)).map(move |b| format!("{a} -> {b}")))
                .collect();
            found.push(format!("{}: {}", src.strip_prefix(workspace()).unwrap().display(), ties.join(", ")));
        }
    }
    assert!(files > 60, "read every crate's files ({files})");
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn no_module_of_the_window_imports_itself_round_a_circle() {
    let ui = workspace().join("ui");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&ui).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "js") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices("from './") {
            let rest = &text[at + "from './".len()..];
            let target: String = rest.chars().take_while(|c| *c != '\'').collect();
            edges.entry(name.clone()).or_default().insert(target);
        }
    }
    assert!(edges.len() > 5, "read the window's modules");
    assert!(circles(&edges).is_empty(), "import circles in ui/: {:?}", circles(&edges));
}

#[test]
fn the_reader_sees_a_circle_when_there_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\nmod c;\npub use c::Thing;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::{b::helper, Thing};\n").unwrap();
    std::fs::write(src.join("b.rs"), "pub fn helper() { super::a::x(); }\n").unwrap();
    std::fs::write(src.join("c.rs"), "pub struct Thing;\n// crate::a::not_code\n").unwrap();
    let (_, edges) = crate_edges(src);
    assert_eq!(circles(&edges), [vec!["a".to_string(), "b".to_string()]]);
    assert!(edges["a"].contains("c"), "a root re-export is its module: {edges:?}");
}

/// Names between double quotes in `text`, from `start` to the first `end` after it.
fn quoted_between(text: &str, start: &str, end: &str) -> BTreeSet<String> {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}")) + start.len();
    let to = from + text[from..].find(end).unwrap();
    text[from..to].split('"').skip(1).step_by(2).map(String::from).collect()
}

/// The window's commands are named in one list (`src-tauri/build.rs`): every command the
/// shell defines and hands to Tauri is in it, the main window's capability allows exactly
/// it, and the window calls nothing outside it.
#[test]
fn every_command_is_named_once_and_allowed_exactly() {
    let root = workspace();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let listed = quoted_between(&read("src-tauri/build.rs"), "const COMMANDS: &[&str] = &[", "];");
    assert!(listed.len() > 40, "the list: {listed:?}");

    let mut defined = BTreeSet::new();
    for entry in std::fs::read_dir(root.join("src-tauri/src")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "unavailable.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices("#[tauri::command") {
            let after = &text[at..];
            let fn_at = after.find("fn ").unwrap() + 3;
            let name: String = after[fn_at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            defined.insert(name);
        }
    }
    assert_eq!(defined, listed, "the commands the shell defines are the list");

    let lib = read("src-tauri/src/lib.rs");
    let from = lib.find("generate_handler![").unwrap();
    let to = from + lib[from..].find("])").unwrap();
    let handed: BTreeSet<String> = lib[from + "generate_handler![".len()..to]
        .split(',')
        .map(|p| p.trim().rsplit("::").next().unwrap().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    assert_eq!(handed, listed, "Tauri is handed exactly the list");

    let allowed: BTreeSet<String> =
        quoted_between(&read("src-tauri/capabilities/main-window.json"), "\"permissions\"", "]")
            .into_iter()
            .filter_map(|p| p.strip_prefix("allow-").map(|c| c.replace('-', "_")))
            .collect();
    assert_eq!(allowed, listed, "the main window may call exactly the list");

    let mut invoked = BTreeSet::new();
    for entry in std::fs::read_dir(root.join("ui")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "js") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices("invoke('") {
                let name: String = text[at + 8..].chars().take_while(|c| *c != '\'').collect();
                if !name.starts_with("plugin:") {
                    invoked.insert(name);
                }
            }
        }
    }
    let unknown: Vec<_> = invoked.difference(&listed).collect();
    assert!(unknown.is_empty(), "the window calls commands nobody defined: {unknown:?}");
}

/// Files a person reads whole: a crate's source file at most 600 lines, a host's (the
/// window's shell, the CLI) at most 400, their work being to hand over to the core.
#[test]
fn no_source_file_outgrows_its_reading() {
    let root = workspace();
    let mut too_long = Vec::new();
    for src in crate_sources() {
        let host = src.ends_with("src-tauri/src") || src.ends_with("crates/cli/src");
        let limit = if host { 400 } else { 600 };
        for file in modules(&src).values() {
            let lines = std::fs::read_to_string(file).unwrap().lines().count();
            if lines > limit {
                too_long.push(format!("{} ({lines} > {limit})", file.strip_prefix(&root).unwrap().display()));
            }
        }
    }
    assert!(too_long.is_empty(), "too long to read whole: {too_long:?}");
}

/// The window knows providers only from what the core declares: no file of `ui/` names one.
#[test]
fn the_window_names_no_provider() {
    let names: Vec<String> = paydesk_gateways::registry::PROVIDERS
        .iter()
        .flat_map(|p| [p.capabilities().provider.to_lowercase(), p.capabilities().label.to_lowercase()])
        .collect();
    assert!(names.len() >= 6);
    let mut named = Vec::new();
    for entry in std::fs::read_dir(workspace().join("ui")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
        for name in &names {
            if text.contains(name.as_str()) {
                named.push(format!("{} names {name}", path.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert!(named.is_empty(), "{named:?}");
}

/// Every file under `dir` (recursively), as a list.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A provider is one folder: outside its own (`crates/gateways/src/<p>/`,
/// `crates/sandbox/src/<p>*`), its translations, tests, benches and docs, at most two files
/// name it: the gateways' registry (its `mod` line and its place in `PROVIDERS`) and the
/// sandbox's mount. Adding a provider then touches those two lines and its folders.
#[test]
fn no_provider_is_named_outside_its_folders() {
    let root = workspace();
    let mut files: Vec<PathBuf> = crate_sources().iter().flat_map(|src| files_under(src)).collect();
    for dir in ["ui", "scripts", "src-tauri/capabilities"] {
        files.extend(files_under(&root.join(dir)));
    }
    files.push(root.join("tauri.conf.json"));
    assert!(files.len() > 100, "the walk found {} files", files.len());
    let mut report = Vec::new();
    for provider in paydesk_gateways::registry::PROVIDERS {
        let id = provider.capabilities().provider;
        let own = [format!("crates/gateways/src/{id}/"), format!("crates/sandbox/src/{id}")];
        assert!(root.join("crates/gateways/src").join(id).is_dir(), "{id} has its folder");
        let mut naming = Vec::new();
        for file in &files {
            let shown = file.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            if own.iter().any(|o| shown.starts_with(o.as_str())) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(file) else { continue };
            // A file's unit tests are tests: they may name whom they test (they come last).
            let text = match text.find("#[cfg(test)]\nmod ") {
                Some(at) if shown.ends_with(".rs") => &text[..at],
                _ => &text[..],
            };
            if text.to_lowercase().contains(id) {
                naming.push(shown);
            }
        }
        naming.sort();
        if naming.len() > 2
            || naming.iter().any(|f| f != "crates/gateways/src/lib.rs" && f != "crates/sandbox/src/lib.rs")
        {
            report.push(format!("{id}: {naming:?}"));
        }
    }
    assert!(report.is_empty(), "providers named outside their folders and the two registry files: {report:#?}");
}

/// A file's test modules come after all its code, so that what reads a file's code up to
/// its first test module (the circle reader, the provider count) reads all of it.
#[test]
fn test_modules_come_last() {
    let root = workspace();
    let mut late = Vec::new();
    for src in crate_sources() {
        for file in modules(&src).values() {
            let text = std::fs::read_to_string(file).unwrap();
            let Some(at) = text.find("#[cfg(test)]\nmod ") else { continue };
            let after_tests = text[at..].lines().find(|line| {
                let starts_an_item = !line.is_empty() && !line.starts_with([' ', '}', '#', '/', ')', ']']);
                starts_an_item && !line.starts_with("mod ") && !line.starts_with("pub mod ")
            });
            if let Some(line) = after_tests {
                late.push(format!("{}: {line}", file.strip_prefix(&root).unwrap().display()));
            }
        }
    }
    assert!(late.is_empty(), "code after a test module: {late:#?}");
}
