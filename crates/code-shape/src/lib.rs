//! Reads a crate's sources with `syn` and reports two things about their shape:
//!
//! - **module cycles**: two sibling modules (or longer rings of them) that reach into each other.
//!   A reference from module `a::x` to `b::y` counts as an edge `a → b` between the children of
//!   their nearest common ancestor. A module using its own ancestors' or descendants' items (a
//!   `mod.rs` facade and its children) is not an edge: that is how Rust nests modules.
//! - **long functions**: free functions, methods and trait default bodies over a line limit,
//!   outside `#[cfg(test)]` modules.
//!
//! `#[cfg(test)]` modules are left out of both: tests may reach anywhere.
//!
//! References are read from `use` trees and from every path in the code (`crate::…`,
//! `super::…`, `self::…` and a child module's name), following `pub use` re-exports, so that
//! `crate::Store` counts as a reference to the module that defines `Store`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module's path from the crate root (`[]` is the root).
pub type ModPath = Vec<String>;

/// Where a reference was written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Witness {
    pub file: PathBuf,
    pub line: usize,
    pub path: String,
}

/// One module's file and what it refers to.
#[derive(Debug, Default)]
struct Module {
    file: PathBuf,
    /// `use` and inline paths, as written, with their line.
    references: Vec<(Vec<String>, usize)>,
    /// `pub use` names: name → path as written (relative to this module).
    reexports: BTreeMap<String, Vec<String>>,
}

/// The modules of one crate.
#[derive(Debug, Default)]
pub struct CrateSources {
    modules: BTreeMap<ModPath, Module>,
    functions: Vec<Function>,
}

/// A function and its length in lines (signature to closing brace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub file: PathBuf,
    pub name: String,
    pub line: usize,
    pub lines: usize,
}

/// A set of sibling modules that reach each other, with one reference per edge as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub modules: Vec<String>,
    pub edges: Vec<(String, String, Witness)>,
}

fn has_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Flattens a `use` tree into full paths; `(path, alias)` where alias is the name it binds.
fn flatten_use(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, String)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                if let Some(last) = prefix.last() {
                    out.push((prefix.clone(), last.clone()));
                }
            } else {
                let mut p = prefix.clone();
                p.push(name.clone());
                out.push((p, name));
            }
        }
        syn::UseTree::Rename(r) => {
            let mut p = prefix.clone();
            let name = r.ident.to_string();
            if name != "self" {
                p.push(name);
            }
            out.push((p, r.rename.to_string()));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), "*".into())),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix, out);
            }
        }
    }
}

/// Collects the paths of one module's items (not descending into inline modules, which are
/// modules of their own).
#[derive(Default)]
struct PathCollector {
    references: Vec<(Vec<String>, usize)>,
    reexports: BTreeMap<String, Vec<String>>,
    inline_modules: Vec<syn::ItemMod>,
    functions: Vec<(String, usize, usize)>,
    in_test: bool,
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut flat = Vec::new();
        flatten_use(&u.tree, &mut Vec::new(), &mut flat);
        let line = u.use_token.span.start().line;
        let public = !matches!(u.vis, syn::Visibility::Inherited);
        for (path, alias) in flat {
            if public && alias != "*" {
                self.reexports.insert(alias, path.clone());
            }
            self.references.push((path, line));
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.segments.len() >= 2 {
            let segs = p.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = p
                .segments
                .first()
                .map_or(0, |s| s.ident.span().start().line);
            self.references.push((segs, line));
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if m.content.is_some() {
            self.inline_modules.push(m.clone());
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.function(&f.sig, f.block.brace_token.span.close().end().line);
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.function(&f.sig, f.block.brace_token.span.close().end().line);
        syn::visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.function(&f.sig, block.brace_token.span.close().end().line);
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}

impl PathCollector {
    fn function(&mut self, sig: &syn::Signature, end: usize) {
        if self.in_test {
            return;
        }
        let start = sig.fn_token.span.start().line;
        self.functions
            .push((sig.ident.to_string(), start, end.saturating_sub(start) + 1));
    }
}

impl CrateSources {
    /// Reads the crate whose sources are under `src` (starting at `lib.rs`, else `main.rs`).
    pub fn load(src: &Path) -> Result<CrateSources, String> {
        let mut sources = CrateSources::default();
        for root in ["lib.rs", "main.rs"] {
            let file = src.join(root);
            if file.exists() {
                sources.load_file(Vec::new(), &file, src.to_path_buf(), false)?;
            }
        }
        if sources.modules.is_empty() {
            return Err(format!("{}: no lib.rs or main.rs", src.display()));
        }
        Ok(sources)
    }

    fn load_file(
        &mut self,
        module: ModPath,
        file: &Path,
        dir: PathBuf,
        in_test: bool,
    ) -> Result<(), String> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let parsed =
            syn::parse_file(&text).map_err(|e| format!("cannot parse {}: {e}", file.display()))?;
        self.load_items(module, file, dir, &parsed.items, in_test)
    }

    fn load_items(
        &mut self,
        module: ModPath,
        file: &Path,
        dir: PathBuf,
        items: &[syn::Item],
        in_test: bool,
    ) -> Result<(), String> {
        let mut collector = PathCollector {
            in_test,
            ..PathCollector::default()
        };
        let mut declared = Vec::new();
        for item in items {
            if let syn::Item::Mod(m) = item {
                if m.content.is_none() {
                    declared.push(m.clone());
                    continue;
                }
            }
            collector.visit_item(item);
        }
        for (name, line, lines) in collector.functions.drain(..) {
            self.functions.push(Function {
                file: file.to_path_buf(),
                name,
                line,
                lines,
            });
        }
        let entry = self.modules.entry(module.clone()).or_default();
        entry.file = file.to_path_buf();
        // Test modules may reach anywhere: they are not part of the crate's structure.
        if !in_test {
            entry.references.append(&mut collector.references);
        }
        entry.reexports.append(&mut collector.reexports);
        for m in collector.inline_modules {
            let mut child = module.clone();
            child.push(m.ident.to_string());
            let test = in_test || has_cfg_test(&m.attrs);
            if let Some((_, items)) = &m.content {
                self.load_items(child, file, dir.join(m.ident.to_string()), items, test)?;
            }
        }
        for m in declared {
            let name = m.ident.to_string();
            let mut child = module.clone();
            child.push(name.clone());
            let test = in_test || has_cfg_test(&m.attrs);
            let (child_file, child_dir) = match path_attr(&m.attrs) {
                Some(p) => {
                    let f = dir.join(p);
                    let d = f.parent().map(Path::to_path_buf).unwrap_or_default();
                    (f, d)
                }
                None => {
                    let flat = dir.join(format!("{name}.rs"));
                    if flat.exists() {
                        (flat, dir.join(&name))
                    } else {
                        (dir.join(&name).join("mod.rs"), dir.join(&name))
                    }
                }
            };
            self.load_file(child, &child_file, child_dir, test)?;
        }
        Ok(())
    }

    /// The module a path written in `from` lands in, or `None` for another crate's.
    fn resolve(&self, from: &ModPath, path: &[String], depth: usize) -> Option<ModPath> {
        let (first, _) = path.split_first()?;
        let (mut current, rest): (ModPath, &[String]) = match first.as_str() {
            "crate" => (Vec::new(), path.get(1..)?),
            "self" => (from.clone(), path.get(1..)?),
            "super" => {
                let mut base = from.clone();
                let mut i = 0;
                while path.get(i).is_some_and(|s| s == "super") {
                    base.pop();
                    i += 1;
                }
                (base, path.get(i..)?)
            }
            name => {
                let mut child = from.clone();
                child.push(name.to_owned());
                if !self.modules.contains_key(&child) {
                    return None;
                }
                (from.clone(), path)
            }
        };
        for (i, seg) in rest.iter().enumerate() {
            let mut next = current.clone();
            next.push(seg.clone());
            if self.modules.contains_key(&next) {
                current = next;
                continue;
            }
            let Some(target) = self
                .modules
                .get(&current)
                .and_then(|m| m.reexports.get(seg))
            else {
                return Some(current);
            };
            if depth > 8 || target.last() == Some(seg) && target.len() == 1 {
                return Some(current);
            }
            let mut full = target.clone();
            full.extend(rest.get(i + 1..).unwrap_or_default().iter().cloned());
            return self.resolve(&current, &full, depth + 1).or(Some(current));
        }
        Some(current)
    }

    /// Rings of sibling modules that refer to each other.
    pub fn cycles(&self) -> Vec<Cycle> {
        // (a, b) sibling edge → first witness
        let mut edges: BTreeMap<(ModPath, ModPath), Witness> = BTreeMap::new();
        for (from, module) in &self.modules {
            for (path, line) in &module.references {
                let Some(to) = self.resolve(from, path, 0) else {
                    continue;
                };
                if to.starts_with(from) || from.starts_with(&to) {
                    continue;
                }
                let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
                let (Some(a), Some(b)) = (from.get(..=common), to.get(..=common)) else {
                    continue;
                };
                edges
                    .entry((a.to_vec(), b.to_vec()))
                    .or_insert_with(|| Witness {
                        file: module.file.clone(),
                        line: *line,
                        path: path.join("::"),
                    });
            }
        }
        strongly_connected(&edges)
    }

    /// Functions longer than `max_lines`, longest first.
    pub fn long_functions(&self, max_lines: usize) -> Vec<Function> {
        let mut long: Vec<Function> = self
            .functions
            .iter()
            .filter(|f| f.lines > max_lines)
            .cloned()
            .collect();
        long.sort_by_key(|f| std::cmp::Reverse(f.lines));
        long
    }

    /// How many modules were read.
    pub fn module_count(&self) -> usize {
        self.modules.len()
    }
}

fn name(m: &ModPath) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

/// Tarjan's algorithm over the sibling edges; components of two or more modules are cycles.
fn strongly_connected(edges: &BTreeMap<(ModPath, ModPath), Witness>) -> Vec<Cycle> {
    let mut nodes: BTreeSet<&ModPath> = BTreeSet::new();
    let mut next: BTreeMap<&ModPath, Vec<&ModPath>> = BTreeMap::new();
    for (a, b) in edges.keys() {
        nodes.insert(a);
        nodes.insert(b);
        next.entry(a).or_default().push(b);
    }
    struct Tarjan<'a> {
        next: &'a BTreeMap<&'a ModPath, Vec<&'a ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        components: Vec<Vec<&'a ModPath>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a ModPath) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for &w in self.next.get(v).map(Vec::as_slice).unwrap_or_default() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low.get(w).copied().unwrap_or(usize::MAX);
                    if let Some(lv) = self.low.get_mut(v) {
                        *lv = (*lv).min(lw);
                    }
                } else if self.on_stack.contains(w) {
                    let iw = self.index.get(w).copied().unwrap_or(usize::MAX);
                    if let Some(lv) = self.low.get_mut(v) {
                        *lv = (*lv).min(iw);
                    }
                }
            }
            if self.low.get(v) == self.index.get(v) {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                self.components.push(component);
            }
        }
    }
    let mut t = Tarjan {
        next: &next,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in &nodes {
        if !t.index.contains_key(*v) {
            t.visit(v);
        }
    }
    t.components
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let members: BTreeSet<&ModPath> = c.iter().copied().collect();
            let mut modules: Vec<String> = c.iter().map(|m| name(m)).collect();
            modules.sort();
            let edges = edges
                .iter()
                .filter(|((a, b), _)| members.contains(a) && members.contains(b))
                .map(|((a, b), w)| (name(a), name(b), w.clone()))
                .collect();
            Cycle { modules, edges }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("code-shape-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn finds_a_cycle_through_a_reexport_and_ignores_parent_and_child() {
        let dir = temp("cycle");
        write(
            &dir,
            &[
                (
                    "lib.rs",
                    "pub mod a; pub mod b; pub mod c; pub use b::Thing;",
                ),
                (
                    "a/mod.rs",
                    "mod inner; pub fn f() { crate::Thing::new(); inner::g(); }",
                ),
                ("a/inner.rs", "pub fn g() { super::f(); }"),
                ("b.rs", "use crate::a::inner; pub struct Thing;"),
                ("c.rs", "use crate::a; use super::b::Thing;"),
            ],
        );
        let sources = CrateSources::load(&dir).unwrap();
        let cycles = sources.cycles();
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert_eq!(cycles[0].modules, vec!["a", "b"]);
        assert!(
            cycles[0]
                .edges
                .iter()
                .any(|(a, b, w)| a == "a" && b == "b" && w.line == 1)
        );
    }

    #[test]
    fn no_cycle_when_references_go_one_way() {
        let dir = temp("acyclic");
        write(
            &dir,
            &[
                ("lib.rs", "pub mod a; pub mod b;"),
                ("a.rs", "use crate::b::X; pub fn f() -> X { X }"),
                (
                    "b.rs",
                    "pub struct X; #[cfg(test)] mod tests { use crate::a::f; }",
                ),
            ],
        );
        // A test module may use anything; outside tests, `b` using `a` closes a ring.
        assert!(CrateSources::load(&dir).unwrap().cycles().is_empty());
        write(
            &dir,
            &[("b.rs", "pub struct X; pub fn g() { crate::a::f(); }")],
        );
        assert_eq!(CrateSources::load(&dir).unwrap().cycles().len(), 1);
    }

    #[test]
    fn measures_functions_outside_tests() {
        let dir = temp("long");
        let body = "    let x = 1;\n".repeat(120);
        let text = format!(
            "pub fn long() {{\n{body}}}\npub fn short() {{}}\n#[cfg(test)]\nmod tests {{\n    fn also_long() {{\n{body}    }}\n}}\n"
        );
        write(&dir, &[("lib.rs", &text)]);
        let long = CrateSources::load(&dir).unwrap().long_functions(100);
        assert_eq!(long.len(), 1);
        assert_eq!(long[0].name, "long");
        assert_eq!(long[0].lines, 122);
    }
}
