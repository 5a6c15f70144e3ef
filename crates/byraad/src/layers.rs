//! The workspace's modules import in one direction: within each crate, no module reaches (by
//! `crate::…`) a module that reaches it back, however far round. Checked over the sources as
//! they are; the crate root, which declares every module, and test modules are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each module of the crate in `src` and the modules of the same crate it names.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    collect(src, &mut files);
    let module_of = |file: &Path| file.strip_prefix(src).ok().and_then(|rel| rel.iter().next()).map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string());
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).filter(|m| m != "lib" && m != "main").collect();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(file).filter(|m| modules.contains(m)) else { continue };
        let text = std::fs::read_to_string(file).expect("a readable source file");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            for named in named_modules(&without_strings(line)) {
                if named != module && modules.contains(&named) {
                    out.entry(module.clone()).or_default().insert(named);
                }
            }
        }
    }
    out
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `line` with its string literals emptied.
fn without_strings(line: &str) -> String {
    let (mut out, mut quoted, mut escaped) = (String::new(), false, false);
    for c in line.chars() {
        match (quoted, escaped, c) {
            (true, false, '\\') => escaped = true,
            (true, true, _) => escaped = false,
            (_, _, '"') => quoted = !quoted,
            (false, _, c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// The first path segment after each `crate::` of `line`, in braces (`crate::{a, b::c}`) too.
fn named_modules(line: &str) -> Vec<String> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    let mut out = Vec::new();
    for (at, _) in line.match_indices("crate::") {
        let rest = &line[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(group.split(',').map(|item| ident(item.trim())));
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|m| m.starts_with(|c: char| c.is_ascii_lowercase()));
    out
}

/// The circles of `graph`, each as the modules round it.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<Vec<String>> {
    fn walk(graph: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, found: &mut BTreeSet<Vec<String>>) {
        let Some(last) = path.last().cloned() else { return };
        for next in graph.get(&last).into_iter().flatten() {
            if let Some(i) = path.iter().position(|m| m == next) {
                let mut circle = path[i..].to_vec();
                // One circle, whichever module it is read from.
                let start = circle.iter().enumerate().min_by_key(|(_, m)| (*m).clone()).map_or(0, |(i, _)| i);
                circle.rotate_left(start);
                found.insert(circle);
            } else {
                path.push(next.clone());
                walk(graph, path, found);
                path.pop();
            }
        }
    }
    let mut found = BTreeSet::new();
    for module in graph.keys() {
        walk(graph, &mut vec![module.clone()], &mut found);
    }
    found
}

#[test]
fn no_module_imports_a_module_that_imports_it() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut all = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&crates).expect("the crates folder").flatten() {
        let src = entry.path().join("src");
        if !src.is_dir() {
            continue;
        }
        checked += 1;
        for circle in circles(&imports(&src)) {
            all.push(format!("{}: {}", entry.file_name().to_string_lossy(), circle.join(" → ")));
        }
    }
    assert!(checked >= 10, "only {checked} crates found under {}", crates.display());
    assert!(all.is_empty(), "modules importing each other:\n{}", all.join("\n"));
}

#[test]
fn a_circle_is_found_however_it_is_written() {
    let graph: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")].iter().fold(BTreeMap::new(), |mut g, (from, to)| {
        g.entry(from.to_string()).or_default().insert(to.to_string());
        g
    });
    assert_eq!(circles(&graph).into_iter().collect::<Vec<_>>(), vec![vec!["a".to_string(), "b".into(), "c".into()]]);
    assert_eq!(named_modules("use crate::{maintenance, output::lines, Error};"), vec!["maintenance", "output"]);
    assert_eq!(named_modules("let x = crate::links::encode(\"crate::pages\");"), vec!["links", "pages"]);
    assert_eq!(named_modules(&without_strings("let x = crate::links::encode(\"crate::pages\");")), vec!["links"]);
}
