//! Resolution: which function of the analysed code, or which client API, each call reaches. An index
//! of every function, module, `use` declaration, re-export, type, field and trait implementation, built
//! once from the facts; the model asks it for each call on a request path, by path (`crate::db::load`,
//! `Self::find`, `<T as Repo>::get`), by method name on a receiver whose type the facts name (a field,
//! a local, a parameter, what a call returns), and by trait (the one implementation, or the one
//! `[implementations]` names). Where the receiver's type cannot be read and several methods fit, the
//! call stays unresolved rather than reaching the costliest.
//!
//! It reads facts only (never syntax) and knows nothing of routes, costs or copies.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

// The index is hashed millions of times on a large workspace: the Fx hash, not SipHash. Its keys come
// from the analysed code, so a tree crafted to collide slows down only its own run.
use rustc_hash::{FxHashMap, FxHashSet};

use crate::facts::{Callee, FileFacts, FnFacts, Step, TypeRef};

/// A trait's implementations a call was priced over: their types' names, and their functions.
pub type Assumed = (BTreeSet<String>, BTreeSet<usize>);

/// The implementing types of a trait as met in calls: (type, crate folder) and the functions.
type Met = (BTreeSet<(String, String)>, BTreeSet<usize>);

/// A function in the model: which file, which function of that file.
#[derive(Debug, Clone, Copy)]
pub struct FnRef {
    pub file: usize,
    pub index: usize,
}

/// A struct's fields that hold a trait object, each with the module or crate its trait is named from.
type FieldQualifiers = FxHashMap<String, String>;

/// An awaited call on a client type, to be priced as a round trip.
pub(crate) struct ClientHop {
    pub(crate) api: String,
    pub(crate) service: bool,
    /// A call its entry says only reads.
    pub(crate) read: bool,
    /// The `hopcheck.toml` entry that names the client, if one does.
    pub(crate) origin: Option<u32>,
    /// A statement: the constant holding the named query it runs (`api_queries::get_pipelines`).
    pub(crate) query: Option<String>,
}

/// The named queries of the generated-SQL files among `files`, by stem (see [`Index::generated_query`]).
fn generated_queries(files: &[Arc<FileFacts>]) -> FxHashMap<String, Vec<String>> {
    let mut out: FxHashMap<String, Vec<String>> = FxHashMap::default();
    for file in files
        .iter()
        .filter(|f| f.kind == crate::facts::FileKind::GeneratedSql)
    {
        for (key, _) in &file.consts {
            if let Some((stem, name)) = key.split_once("::") {
                out.entry(stem.to_string())
                    .or_default()
                    .push(name.to_string());
            }
        }
    }
    out
}

/// Module → its `use` declarations as (local name, absolute path).
type Uses = FxHashMap<Vec<String>, Vec<(String, Vec<String>)>>;

/// A path resolution's key: (file, module of the caller, the type `Self` stands for there, the path as
/// written). A trait's default body is specialised per implementing type, so `Self::` differs per copy.
type PathKey = (usize, Vec<String>, Option<String>, Vec<String>);

/// How deep re-exports and aliases are followed.
const MAX_ALIAS_DEPTH: usize = 8;

/// How many locals deep a receiver's type is read through other locals' types (`let b = a.parent()`).
const MAX_TYPING_DEPTH: usize = 32;

/// Name lookups over all functions, modules, `use` declarations and types.
pub struct Index {
    by_name: FxHashMap<String, Vec<usize>>,
    /// Types some function is a method of (`impl UserRepository for PgUserRepository`), aliases among them.
    impl_types: FxHashSet<String>,
    /// (module, name) → free functions.
    by_path: FxHashMap<Vec<String>, Vec<usize>>,
    /// (type, name) → its associated functions and methods (trait default bodies under the trait).
    assoc: FxHashMap<String, FxHashMap<String, Vec<usize>>>,
    /// Module → its `use` declarations as (local name, absolute path); globs have the name `*`.
    uses: Uses,
    /// The same, per crate (its folder, see [`crate_dir`]): what a module of one crate imports is not
    /// what the module of the same path in another crate does (every crate's root is `[]`).
    crate_uses: FxHashMap<String, Uses>,
    /// Every module path that holds a function, and its prefixes.
    modules: FxHashSet<Vec<String>>,
    /// Struct name → field → type name.
    fields: FxHashMap<String, FxHashMap<String, String>>,
    /// Struct name → per file that declares one of that name, each field holding a trait object → the
    /// module or crate its trait is named from.
    dyn_qualifiers: FxHashMap<String, Vec<(usize, FieldQualifiers)>>,
    /// Struct name → field → the type arguments its type is written with (`roles: Table<'c, Role>`).
    field_args: FxHashMap<String, FxHashMap<String, Vec<String>>>,
    /// Type alias → the modules that define one of that name, each with the type it names there.
    aliases: FxHashMap<String, Vec<(Vec<String>, String)>>,
    /// Names of structs, enums and traits (not aliases): a name that is one of these and an alias in
    /// another module means the type where the alias is not in scope.
    defined_types: FxHashSet<String>,
    /// Struct → what its fields hold where the code leaves them out (`TypeFacts::defaults`).
    defaults: FxHashMap<String, Vec<(String, String)>>,
    /// `impl Deref for State { type Target = Inner; }`: State → Inner.
    derefs: FxHashMap<String, String>,
    /// The analysed code's traits.
    traits: FxHashSet<String>,
    /// Trait → the traits it requires (`trait FullRepo: AliasRepo + HashRepo`).
    supertraits: FxHashMap<String, Vec<String>>,
    /// How many traits the analysed code declares under each trait name.
    trait_decls: FxHashMap<String, usize>,
    /// Trait → the methods it declares without a default body.
    required: FxHashMap<String, Vec<String>>,
    /// The names the code gives types where it imports or re-exports them under another
    /// (`pub use services::ServicesEdge as Services;`): `Services` → `ServicesEdge`.
    renamed: FxHashMap<String, Vec<String>>,
    /// Trait → how many types of the analysed code implement it.
    implementors: FxHashMap<String, usize>,
    /// Traits the analysed code implements for every type with some bounds (`impl<T> Paginate for T`):
    /// extensions of other crates' values too.
    blanket_traits: FxHashSet<String>,
    /// (type, associated type) → what the type's trait implementation binds it to.
    assoc_types: FxHashMap<(String, String), String>,
    /// Static or constant → the type of its value.
    /// Statics by name, each with its module and type (modules may each have a `CLIENT` of their own).
    statics: FxHashMap<String, Vec<(Vec<String>, String)>>,
    /// Type → the traits it implements.
    traits_of: FxHashMap<String, FxHashSet<String>>,
    /// Every type the analysed code defines or implements.
    known_types: FxHashSet<String>,
    /// Types deriving one of the analysed code's own derives (see [`FileFacts::own_derived`]).
    own_derived: FxHashSet<String>,
    /// The crate folder of each function's file (`crates/api/` for `crates/api/src/x.rs`), to prefer
    /// functions of the caller's crate when a workspace repeats module paths.
    crate_of: Vec<String>,
    /// The name each file's crate is imported by, where its manifest says it.
    crate_names: Vec<Option<String>>,
    /// The names of the crates of the analysed code, with their folders.
    own_crates: FxHashMap<String, String>,
    pub(crate) file_of: Vec<usize>,
    /// The file of each copy the model made of a function (ids from `file_of.len()` on): a copy is in
    /// its original's file and crate, and resolves its calls there.
    copy_files: Vec<usize>,
    /// Each file's crate folder.
    file_crates: Vec<String>,
    /// Method names the catalog says are never the analysed code's (channels, locks, HTTP bodies).
    quiet: FxHashSet<String>,
    /// Methods the project's `[[no-round-trip]]` entries name: never resolved, not even to its own.
    told_quiet: FxHashSet<String>,
    /// Path resolutions already made, by (file, module, path): the same calls (`Ok(..)`, `Vec::new()`)
    /// recur throughout a file.
    pub(crate) path_cache: std::cell::RefCell<FxHashMap<PathKey, Option<usize>>>,
    /// Functions the catalog says are never round trips, as written there (`cache::get_or_load`).
    quiet_functions: Vec<String>,
    /// `[implementations]`: the type a trait object or generic stands for (`MCDatabase` → `Postgres`).
    pub(crate) implementations: BTreeMap<String, String>,
    /// Traits whose costliest implementation was taken, not knowing which one is deployed, with the
    /// implementing types seen.
    pub(crate) assumed: std::cell::RefCell<BTreeMap<String, Met>>,
    /// How deep [`Index::receiver_type`] is in reading types through other locals' types: locals typed
    /// by each other's methods (`let a = b.next(); let b = a.parent();` in a loop) end there.
    typing_depth: std::cell::Cell<usize>,
    /// The implementations the last resolved call may reach, when it goes through a trait object or a
    /// generic that several types implement and `[implementations]` does not pick one.
    pub(crate) alternatives: std::cell::RefCell<Vec<usize>>,
    /// The crate folder of the function whose call is being resolved.
    calling_crate: std::cell::RefCell<Option<String>>,
    /// Names of the functions that await a parameter themselves (`execute_query.await`), or call one.
    pub(crate) awaiting: FxHashSet<String>,
    /// Modules whose items the build writes, by crate folder (see `FileFacts::generated_modules`).
    generated_modules: FxHashMap<String, Vec<Vec<String>>>,
    /// The named queries of the `.sql` files a code generator turns into Rust at build time, by the
    /// file's stem, the module the generated code gives them (`api_queries` → `get_pipelines`, ..).
    generated_queries: FxHashMap<String, Vec<String>>,
    /// Functions under a `#[cfg(..)]` the build does not decide (`[build]` unsaid, or a target): one
    /// of several written under exclusive `cfg`s may be the one compiled in.
    undecided: FxHashSet<usize>,
    /// Names defined more than once under such `cfg`s: each is a choice priced at its costliest.
    pub(crate) cfg_choices: usize,
    /// Types the built code makes or holds outside their own methods (named in a path call such as
    /// `SqlAdaptor::new()`, a function's result, a local's or parameter's type, a generic's binding), and
    /// those only code the build leaves out does (`#[cfg(feature = "datastore")] fn create_adaptor() ->
    /// DatastoreAdaptor`). A trait's implementation by a type of the second kind is not the deployed one.
    made: FxHashSet<String>,
    made_only_outside: FxHashSet<String>,
}

impl Index {
    /// The index of `fns`; `build`: the deployed build, whose `#[cfg(..)]` decides which functions exist
    /// (`#[cfg(feature = "enterprise")] fn f` beside `#[cfg(not(..))] fn f`), where it is said.
    pub(crate) fn new(
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        catalog: &crate::catalog::Catalog,
        build: Option<&crate::build::Build>,
    ) -> Index {
        let mut index = Index {
            by_name: FxHashMap::default(),
            impl_types: FxHashSet::default(),
            by_path: FxHashMap::default(),
            assoc: FxHashMap::default(),
            uses: FxHashMap::default(),
            crate_uses: FxHashMap::default(),
            modules: FxHashSet::default(),
            fields: FxHashMap::default(),
            dyn_qualifiers: FxHashMap::default(),
            field_args: FxHashMap::default(),
            aliases: FxHashMap::default(),
            defined_types: FxHashSet::default(),
            defaults: FxHashMap::default(),
            derefs: FxHashMap::default(),
            traits: FxHashSet::default(),
            supertraits: FxHashMap::default(),
            trait_decls: FxHashMap::default(),
            required: FxHashMap::default(),
            renamed: FxHashMap::default(),
            implementors: FxHashMap::default(),
            blanket_traits: FxHashSet::default(),
            assoc_types: FxHashMap::default(),
            statics: FxHashMap::default(),
            traits_of: FxHashMap::default(),
            known_types: FxHashSet::default(),
            own_derived: files
                .iter()
                .flat_map(|f| f.own_derived.iter().cloned())
                .collect(),
            crate_of: fns
                .iter()
                .map(|r| crate_dir(&files[r.file].path).to_string())
                .collect(),
            crate_names: files.iter().map(|f| f.crate_name.clone()).collect(),
            own_crates: files
                .iter()
                .filter_map(|f| Some((f.crate_name.clone()?, crate_dir(&f.path).to_string())))
                .collect(),
            file_of: fns.iter().map(|r| r.file).collect(),
            copy_files: Vec::new(),
            file_crates: files
                .iter()
                .map(|f| crate_dir(&f.path).to_string())
                .collect(),
            quiet: catalog.quiet_methods.iter().cloned().collect(),
            told_quiet: catalog.told_quiet_methods.iter().cloned().collect(),
            path_cache: std::cell::RefCell::new(FxHashMap::default()),
            quiet_functions: catalog.quiet_functions.clone(),
            implementations: BTreeMap::new(),
            assumed: std::cell::RefCell::new(BTreeMap::new()),
            typing_depth: std::cell::Cell::new(0),
            alternatives: std::cell::RefCell::new(Vec::new()),
            calling_crate: std::cell::RefCell::new(None),
            awaiting: FxHashSet::default(),
            generated_queries: generated_queries(files),
            generated_modules: files
                .iter()
                .filter(|f| !f.generated_modules.is_empty())
                .fold(FxHashMap::default(), |mut out, f| {
                    out.entry(crate_dir(&f.path).to_string())
                        .or_default()
                        .extend(f.generated_modules.iter().cloned());
                    out
                }),
            undecided: FxHashSet::default(),
            cfg_choices: 0,
            made: FxHashSet::default(),
            made_only_outside: FxHashSet::default(),
        };
        let mut made_outside = FxHashSet::default();
        for (id, r) in fns.iter().enumerate() {
            let f = &files[r.file].functions[r.index];
            index.add_module(&f.module);
            if let Some(t) = &f.self_ty {
                index.known_types.insert(t.clone());
            }
            if f.is_test {
                continue;
            }
            // Left out of the deployed build: no call reaches it.
            let built = f.cfg.as_deref().map(|p| crate::build::holds(p, build));
            if build.is_some() && built == Some(Some(false)) {
                types_made(f, &mut made_outside);
                continue;
            }
            // (Only a build leaves code out: without one, no type is made only there.)
            if build.is_some() {
                types_made(f, &mut index.made);
            }
            if built == Some(None) {
                index.undecided.insert(id);
            }
            if !f.awaited_params.is_empty() || !f.param_calls.is_empty() || hands_param_on(f) {
                index.awaiting.insert(f.name.clone());
            }
            index.by_name.entry(f.name.clone()).or_default().push(id);
            if let Some(t) = &f.self_ty {
                index.impl_types.insert(t.clone());
                index
                    .assoc
                    .entry(t.clone())
                    .or_default()
                    .entry(f.name.clone())
                    .or_default()
                    .push(id);
            }
            if f.self_ty.is_none() {
                index
                    .by_path
                    .entry(f.module.iter().chain([&f.name]).cloned().collect())
                    .or_default()
                    .push(id);
            }
        }
        // A type's function written several times (`impl FromRequestParts<AppState> for BoxRepository`
        // beside a tool's `impl FromRequestParts<DummyState> for BoxRepository { .. unimplemented!() }`):
        // not the ones that only panic, nor test code, where another is left.
        let stub = |id: usize| {
            let r = fns[id];
            files[r.file].functions[r.index].is_stub()
        };
        for ids in index.assoc.values_mut().flat_map(|m| m.values_mut()) {
            if ids.len() > 1 && ids.iter().any(|&id| !stub(id)) {
                ids.retain(|&id| !stub(id));
            }
        }
        index.made_only_outside = made_outside
            .into_iter()
            .filter(|t| !index.made.contains(t))
            .collect();
        index.cfg_choices = index
            .by_path
            .values()
            .chain(index.assoc.values().flat_map(|m| m.values()))
            .filter(|ids| {
                let undecided = ids.iter().find(|id| index.undecided.contains(id));
                undecided.is_some_and(|&one| index.twins(ids, one).len() > 1)
            })
            .count();
        for (at, file) in files.iter().enumerate() {
            index.add_module(&file.module);
            for (name, ty) in &file.statics {
                index
                    .statics
                    .entry(name.clone())
                    .or_default()
                    .push((file.module.clone(), ty.clone()));
            }
            for t in &file.types {
                index.known_types.insert(t.name.clone());
                match &t.alias {
                    Some(a) => index
                        .aliases
                        .entry(t.name.clone())
                        .or_default()
                        .push((t.module.clone(), a.clone())),
                    None => {
                        index.defined_types.insert(t.name.clone());
                    }
                }
                if t.is_trait {
                    index.traits.insert(t.name.clone());
                    if !t.required.is_empty() {
                        index
                            .required
                            .entry(t.name.clone())
                            .or_default()
                            .extend(t.required.iter().cloned());
                    }
                    // Two traits of one name (a mint's `Database` and a wallet's): the supertraits of
                    // either.
                    if !t.supertraits.is_empty() {
                        let sups = index.supertraits.entry(t.name.clone()).or_default();
                        for sup in &t.supertraits {
                            if !sups.contains(sup) {
                                sups.push(sup.clone());
                            }
                        }
                    }
                    *index.trait_decls.entry(t.name.clone()).or_default() += 1;
                }
                if let Some(target) = &t.deref {
                    index.derefs.insert(t.name.clone(), target.clone());
                }
                let fields = index.fields.entry(t.name.clone()).or_default();
                fields.extend(t.fields.iter().cloned());
                if !t.dyn_qualifiers.is_empty() {
                    let fields = t.dyn_qualifiers.iter().cloned().collect();
                    let decls = index.dyn_qualifiers.entry(t.name.clone()).or_default();
                    decls.push((at, fields));
                }
                if !t.defaults.is_empty() {
                    index.defaults.insert(t.name.clone(), t.defaults.clone());
                }
                if !t.field_args.is_empty() {
                    let fields = index.field_args.entry(t.name.clone()).or_default();
                    fields.extend(t.field_args.iter().cloned());
                }
            }
            for (ty, name, target) in &file.assoc_types {
                index
                    .assoc_types
                    .entry((ty.clone(), name.clone()))
                    .or_insert_with(|| target.clone());
            }
            for (ty, tr) in &file.impls {
                let new = index
                    .traits_of
                    .entry(ty.clone())
                    .or_default()
                    .insert(tr.clone());
                if new {
                    *index.implementors.entry(tr.clone()).or_default() += 1;
                }
                index.known_types.insert(ty.clone());
                // A trait the analysed code implements (its own or another crate's): a receiver bound by
                // it reaches those implementations.
                index.known_types.insert(tr.clone());
            }
        }
        for file in files {
            for u in &file.uses {
                if let Some(original) = u.path.last() {
                    let named = |n: &str| n.starts_with(|c: char| c.is_ascii_uppercase());
                    if *original != u.name && named(original) && named(&u.name) {
                        let seen = index.renamed.entry(u.name.clone()).or_default();
                        if !seen.contains(original) {
                            seen.push(original.clone());
                        }
                    }
                }
                let abs = index.absolutize(&u.module, &u.path);
                index
                    .crate_uses
                    .entry(crate_dir(&file.path).to_string())
                    .or_default()
                    .entry(u.module.clone())
                    .or_default()
                    .push((u.name.clone(), abs.clone()));
                index
                    .uses
                    .entry(u.module.clone())
                    .or_default()
                    .push((u.name.clone(), abs));
            }
        }
        index.apply_blankets(files);
        index
    }

    /// `impl<T: DependOnRepo> GetUseCase for T {}`: each type the analysed code gives every bound that is
    /// one of its own traits gets the trait too (so its default bodies answer the type's calls), until
    /// nothing changes (a blanket may give the bound of another). A blanket bound by no trait of the
    /// analysed code would give its trait to every type, and gives it to none.
    fn apply_blankets(&mut self, files: &[Arc<FileFacts>]) {
        let blankets: Vec<&(String, String, Vec<String>)> =
            files.iter().flat_map(|f| f.blankets.iter()).collect();
        self.blanket_traits = blankets.iter().map(|(t, _, _)| t.clone()).collect();
        if blankets.is_empty() {
            return;
        }
        // The blankets' own type parameters (`T`), recorded as implementing types too: no type.
        let params: FxHashSet<&str> = blankets.iter().map(|(_, p, _)| p.as_str()).collect();
        loop {
            let mut added: Vec<(String, String)> = Vec::new();
            for (ty, traits) in &self.traits_of {
                if params.contains(ty.as_str()) {
                    continue;
                }
                for (tr, _, bounds) in &blankets {
                    let own: Vec<&String> =
                        bounds.iter().filter(|b| self.traits.contains(*b)).collect();
                    if !own.is_empty()
                        && !traits.contains(tr)
                        && own.iter().all(|b| self.implements(ty, b))
                    {
                        added.push((ty.clone(), tr.clone()));
                    }
                }
            }
            if added.is_empty() {
                return;
            }
            for (ty, tr) in added {
                if self.traits_of.entry(ty).or_default().insert(tr.clone()) {
                    *self.implementors.entry(tr).or_default() += 1;
                }
            }
        }
    }

    /// Records a module path and its prefixes (allocating only for those not seen yet).
    fn add_module(&mut self, module: &[String]) {
        for n in (0..=module.len()).rev() {
            if self.modules.contains(&module[..n]) {
                break;
            }
            self.modules.insert(module[..n].to_vec());
        }
    }

    /// A path written in `module` as an absolute module path: `crate::a` → `a`, `self::a` and child
    /// modules → `module::a`, `super::a` → the parent's `a`; anything else is taken as written.
    fn absolutize(&self, module: &[String], path: &[String]) -> Vec<String> {
        let Some(first) = path.first() else {
            return Vec::new();
        };
        match first.as_str() {
            "crate" => path[1..].to_vec(),
            "self" => module.iter().chain(&path[1..]).cloned().collect(),
            "super" => {
                let mut m = module.to_vec();
                let mut rest = path;
                while rest.first().map(String::as_str) == Some("super") {
                    m.pop();
                    rest = &rest[1..];
                }
                m.into_iter().chain(rest.iter().cloned()).collect()
            }
            _ => {
                let child: Vec<String> = module
                    .iter()
                    .chain(std::iter::once(first))
                    .cloned()
                    .collect();
                if !module.is_empty() && self.modules.contains(&child) {
                    module.iter().chain(path).cloned().collect()
                } else {
                    path.to_vec()
                }
            }
        }
    }

    /// Which of `candidates` some call outside tests resolves to. Only calls that name one of them
    /// (directly, or through a `use .. as ..` rename) are resolved.
    pub(crate) fn called_among(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        candidates: &[usize],
    ) -> HashSet<usize> {
        let mut called = HashSet::new();
        if candidates.is_empty() {
            return called;
        }
        let func = |id: usize| &files[fns[id].file].functions[fns[id].index];
        let mut names: HashSet<&str> = candidates
            .iter()
            .map(|&id| func(id).name.as_str())
            .collect();
        for uses in self.uses.values() {
            for (name, path) in uses {
                if path.last() != Some(name) {
                    names.insert(name);
                }
            }
        }
        let wanted: HashSet<usize> = candidates.iter().copied().collect();
        for id in (0..fns.len()).filter(|&id| !func(id).is_test) {
            for step in &func(id).body {
                step.walk(&mut |s| {
                    // A function only named as an argument (`.fallback(fallback)`) is not called here.
                    let Step::Call(c) = s else { return };
                    if c.named {
                        return;
                    }
                    let name = match &c.callee {
                        Callee::Path(segs) => segs.last(),
                        Callee::Method { name, .. } => Some(name),
                        Callee::Extractor(_) => None,
                    };
                    if name.is_some_and(|n| names.contains(n.as_str())) {
                        // A call to an async function that is not awaited here still makes its
                        // future for code that runs it (`set.spawn_local(migrate(..))`).
                        let target = self.resolve_call(files, fns, id, c).or_else(|| {
                            matches!(c.callee, Callee::Path(_))
                                .then(|| self.resolve(files, fns, id, &c.callee))
                                .flatten()
                        });
                        called.extend(target.filter(|t| wanted.contains(t)));
                    }
                });
            }
        }
        called
    }

    /// Resolves a call step: an awaited one to any function; one that is not awaited only to a
    /// synchronous function, and a method only through its receiver's known type (a bare name is too
    /// weak a clue for the many calls that are not awaited).
    pub(crate) fn resolve_call(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        call: &crate::facts::Call,
    ) -> Option<usize> {
        *self.calling_crate.borrow_mut() = self.crate_at(caller).cloned();
        let sync = |id: usize| {
            let r = fns[id];
            !files[r.file].functions[r.index].is_async
        };
        if let Callee::Path(segs) = &call.callee {
            let r = fns[caller];
            let from = &files[r.file].functions[r.index];
            let func = |id: usize| -> &FnFacts {
                let r = fns[id];
                &files[r.file].functions[r.index]
            };
            // `<T as Trait>::method(..)`, or `Trait::method(&value, ..)` on a value whose type is read:
            // that type's implementation.
            let ty = call.qself.clone().or_else(|| {
                let first = call.arg_paths.first().filter(|p| !p.is_empty())?;
                segs.first().filter(|t| self.traits.contains(*t))?;
                self.receiver_type(from, caller, first, &func)
            });
            let hit = ty.and_then(|ty| self.resolve_qualified(from, &ty, segs, &func));
            if let Some(hit) = hit.filter(|&id| call.qself.is_some() || func(id).has_self) {
                return Some(hit).filter(|&id| call.awaited || sync(id));
            }
        }
        if call.awaited {
            return self.resolve(files, fns, caller, &call.callee);
        }
        match &call.callee {
            Callee::Path(segs) => {
                let r = fns[caller];
                let from = &files[r.file].functions[r.index];
                let func = |id: usize| -> &FnFacts {
                    let r = fns[id];
                    &files[r.file].functions[r.index]
                };
                // `T::m(..)` with `T` a generic parameter depends on what the copy binds `T` to.
                let generic = segs.len() == 2 && from.generics.iter().any(|(g, _)| *g == segs[0]);
                let key = (
                    r.file,
                    from.module.clone(),
                    from.self_ty.clone(),
                    segs.clone(),
                );
                if let Some(hit) = self.path_cache.borrow().get(&key).filter(|_| !generic) {
                    return *hit;
                }
                // A path into another crate of the workspace (`use plume_models::inbox::inbox;`) is
                // followed as an awaited one is; a name alone is not guessed at.
                let hit = self
                    .function_at(from, caller, segs, &func)
                    .filter(|&id| sync(id));
                if !generic {
                    self.path_cache.borrow_mut().insert(key, hit);
                }
                hit
            }
            Callee::Method { receiver, .. } => {
                let r = fns[caller];
                let from = &files[r.file].functions[r.index];
                let func = |id: usize| -> &FnFacts {
                    let r = fns[id];
                    &files[r.file].functions[r.index]
                };
                let ty = self.receiver_type(from, caller, receiver, &func)?;
                if !self.known_types.contains(&ty) {
                    return None;
                }
                self.resolve(files, fns, caller, &call.callee)
                    .filter(|&id| sync(id))
            }
            Callee::Extractor(_) => None,
        }
    }

    /// Resolves a call made inside function `caller`.
    pub(crate) fn resolve(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        callee: &Callee,
    ) -> Option<usize> {
        let cr = fns[caller];
        let from = &files[cr.file].functions[cr.index];
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        match callee {
            // `handler(store, req)` where `handler` is a parameter typed as a function (`handler: F` with
            // `F: FnOnce(..)`, `impl Fn(..)`): what the caller hands in, not the analysed code's
            // function of that name.
            Callee::Path(segs) if matches!(segs.as_slice(), [name] if handed_in(from, name)) => {
                None
            }
            Callee::Path(segs) => {
                if self
                    .quiet_functions
                    .iter()
                    .any(|q| crate::catalog::path_matches(segs, q, false))
                {
                    return None;
                }
                // Exactly, then in the crate of the workspace the path names (`infra::table::list`,
                // or `table::list` after `use infra::table`), and only then by the path's last
                // segments: loosely, `db::list` itself would fit `infra::table::list`.
                self.function_at(from, caller, segs, &func).or_else(|| {
                    self.resolve_loosely(caller, from, segs, &func, |id| fns[id].file == cr.file)
                })
            }
            // The project says this method makes no round trip (`[[no-round-trip]]`).
            Callee::Method { name, .. } if self.told_quiet.contains(name) => None,
            Callee::Method {
                name,
                receiver,
                args,
            } => self.resolve_method(from, caller, name, receiver, *args, &func),
            Callee::Extractor(_) => None,
        }
    }

    /// The function a path names from `from`: exactly, else in the crate of the workspace the path names
    /// (`infra::table::list`, or `table::list` after `use infra::table`). What a call of it returns
    /// types a local as the call itself is resolved.
    fn function_at<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        segs: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        self.resolve_path(from, caller, segs, func)
            .or_else(|| self.in_other_crate(from, caller, segs, func))
    }

    fn resolve_path<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        segs: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        let first = segs.first()?;
        // `Self::helper` and `Type::helper`: associated functions.
        if segs.len() == 2 {
            let ty = if first == "Self" {
                from.self_ty.clone()
            } else {
                Some(first.clone())
            };
            // `T::read(..)` with `T` bound by the caller to a type (a turbofish): that type's.
            let bound_to = from
                .generics
                .iter()
                .find(|(g, _)| g == first)
                .and_then(|(_, b)| b.strip_prefix('='));
            let ty = match bound_to {
                Some(t) => Some(t.to_string()),
                None => ty,
            };
            // `T::read(..)` with `T: Readable` a generic parameter: the type is chosen by the caller, so
            // the implementations of the bound's method, as for a trait object (the costliest).
            if let Some((_, bound)) = from
                .generics
                .iter()
                .find(|(g, b)| g == first && !b.starts_with('='))
            {
                let impls = self.impls_of(bound, &segs[1], func);
                if let Some(hit) = self.implementation(bound, &impls, func) {
                    return Some(hit);
                }
            }
            if let Some(ty) = ty {
                // The type's own function, else a default body of a trait it implements. Of two types of
                // one name in two crates (`log::SystemRouter`, `system::SystemRouter`), the one of the
                // crate the caller's `use` names (`use service_hub::system::SystemRouter;`).
                let own = self.assoc_of(&ty, &segs[1]);
                let imported = own
                    .filter(|ids| ids.len() > 1)
                    .and_then(|ids| self.of_imported_crate(caller, from, first, ids));
                let hit = imported
                    .or_else(|| own.and_then(|ids| self.nearest(caller, ids)))
                    .or_else(|| {
                        let traits = self.traits_of.get(&ty)?;
                        traits.iter().find_map(|t| {
                            let ids = self.assoc_of(t, &segs[1])?;
                            let defaults: Vec<usize> = ids
                                .iter()
                                .copied()
                                .filter(|&id| func(id).trait_name.as_deref() == Some(t.as_str()))
                                .collect();
                            self.nearest(caller, &defaults)
                        })
                    });
                if hit.is_some() {
                    return hit;
                }
                // An actor's message (`addr.send(GetTags {})`): the `handle` of `impl Handler<GetTags>`.
                if segs[1] == crate::facts::ACTOR_HANDLE {
                    let handlers: Vec<usize> = self
                        .by_name
                        .get(crate::facts::ACTOR_HANDLE)
                        .into_iter()
                        .flatten()
                        .copied()
                        .filter(|&id| {
                            let f = func(id);
                            f.trait_name.as_deref() == Some("Handler")
                                && f.trait_args.first() == Some(&ty)
                                && !f.is_test
                        })
                        .collect();
                    if let Some(hit) = self.nearest(caller, &handlers) {
                        return Some(hit);
                    }
                }
            }
            // `UserBackend::get_user_groups(self, id)`, `<H as UserBackend>::get_user_groups(self, id)`:
            // a trait's method called by its path runs on the value it is given, whose type the caller
            // chooses: the one implementation the analysed code has, or the one `[implementations]`
            // names. Otherwise it stays unresolved (`ForeignFrom::foreign_from(x)` with a hundred).
            let mut impls = self.impls_of(first, &segs[1], func);
            impls.retain(|&id| !func(id).is_test);
            // A default body stands for the types that do not write their own.
            let own: Vec<usize> = impls
                .iter()
                .copied()
                .filter(|&id| func(id).self_ty.is_some())
                .collect();
            let impls = if own.is_empty() { impls } else { own };
            if impls.len() == 1 || self.implementations.contains_key(first) {
                if let Some(hit) = self.implementation(first, &impls, func) {
                    return Some(hit);
                }
            }
        }
        // `DB::Transaction::begin(conn)` with `DB` a generic parameter: a function of the type its bound
        // names for `Transaction`, which the code does not spell here; the implementations of the one
        // trait whose methods have that name, as for a trait object.
        if let [_, _, name] = segs {
            if from.generics.iter().any(|(g, _)| g == first) {
                let impls: Vec<usize> = self
                    .by_name
                    .get(name)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&id| func(id).trait_name.is_some() && !func(id).is_test)
                    .collect();
                // An associated function (`fn begin(conn: &mut DB)`) before methods of that name.
                let statics: Vec<usize> = impls
                    .iter()
                    .copied()
                    .filter(|&id| !func(id).has_self)
                    .collect();
                let impls = if statics.is_empty() { impls } else { statics };
                let traits: BTreeSet<&str> = impls
                    .iter()
                    .filter_map(|&id| func(id).trait_name.as_deref())
                    .collect();
                if let [tr] = traits.into_iter().collect::<Vec<_>>()[..] {
                    return self.implementation(tr, &impls, func);
                }
            }
        }
        // One name may be imported more than once under exclusive `cfg`s: the first import that leads to
        // a function of the analysed code is the one meant.
        let imports: Vec<&(String, Vec<String>)> = self
            .caller_uses(caller, &from.module)
            .into_iter()
            .flatten()
            .filter(|(n, _)| n == first)
            .collect();
        if imports.len() > 1 && !matches!(first.as_str(), "crate" | "self" | "super") {
            let hit = imports.iter().find_map(|(_, full)| {
                let abs: Vec<String> = full.iter().chain(&segs[1..]).cloned().collect();
                self.lookup(caller, &abs, 0, func)
            });
            if hit.is_some() {
                return hit;
            }
        }
        let alias = imports.first().copied();
        let abs = match (first.as_str(), alias) {
            ("crate" | "self" | "super", _) => self.absolutize(&from.module, segs),
            (_, Some((_, full))) => full.iter().chain(&segs[1..]).cloned().collect(),
            _ if segs.len() == 1 => {
                let local: Vec<String> = from.module.iter().chain(segs).cloned().collect();
                if let Some(hit) = self.lookup(caller, &local, 0, func) {
                    return Some(hit);
                }
                return self.through_globs(caller, &from.module, first, 0, func);
            }
            _ => {
                let abs = self.absolutize(&from.module, segs);
                if let Some(hit) = self.lookup(caller, &abs, 0, func) {
                    return Some(hit);
                }
                // `use routes::*;` then `stats::get_stats`: a module a glob brings in, also from
                // another crate of the analysed code (`use cac::api::*;` then `secrets::endpoints()`).
                return self
                    .caller_uses(caller, &from.module)
                    .into_iter()
                    .flatten()
                    .filter(|(n, _)| n == "*")
                    .find_map(|(_, target)| {
                        let path: Vec<String> = target.iter().chain(segs).cloned().collect();
                        self.lookup(caller, &path, 0, func)
                            .or_else(|| self.in_reexported_crate(&path, 0))
                    });
            }
        };
        self.lookup(caller, &abs, 0, func)
    }

    /// Is `f` a method of the project's own adapters of any future: a default body of a trait that
    /// requires `Future` (`trait WithTimeout: Future`), or a method implemented for every `F: Future`?
    pub(crate) fn adapts_futures(&self, f: &FnFacts) -> bool {
        let Some(ty) = &f.self_ty else {
            return false;
        };
        let future = |t: &str| t == "Future" || t == "TryFuture";
        let bound = f.generics.iter().any(|(g, b)| g == ty && future(b));
        let required = f.trait_name.as_ref() == Some(ty)
            && self
                .supertraits
                .get(ty)
                .is_some_and(|s| s.iter().any(|t| future(t)));
        f.has_self && (bound || required)
    }

    /// Are the project's methods called `name` all adapters of any future (see `adapts_futures`)? For a
    /// method called on a future, whose type no code spells.
    pub(crate) fn only_future_adapters<'f>(
        &self,
        name: &str,
        func: impl Fn(usize) -> &'f FnFacts,
    ) -> bool {
        self.by_name.get(name).is_some_and(|ids| {
            !ids.is_empty() && ids.iter().all(|&id| self.adapts_futures(func(id)))
        })
    }

    /// The functions that implement trait `tr`'s `method`, or give its default body.
    fn impls_of<'f>(
        &self,
        tr: &str,
        method: &str,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Vec<usize> {
        self.by_name
            .get(method)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&id| func(id).trait_name.as_deref() == Some(tr))
            .collect()
    }

    /// `<T as Trait>::method(..)`: the implementation of `Trait::method` by `T`, or, when `T` is a
    /// generic parameter bound by a trait (`impl<Handler: BackendHandler> Readonly for Handler`), by the
    /// one type of the analysed code that implements that bound and the trait. None when that is not
    /// one function.
    fn resolve_qualified<'f>(
        &self,
        from: &FnFacts,
        ty: &str,
        segs: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        let [.., tr, method] = segs else { return None };
        let ty = match ty {
            "Self" => from.self_ty.as_deref()?,
            other => other,
        };
        let bound = from.generics.iter().find(|(g, _)| g == ty).map(|(_, b)| b);
        let fits = |self_ty: &str| match bound {
            Some(b) => match b.strip_prefix('=') {
                Some(bound_to) => self_ty == bound_to,
                None => self.traits_of.get(self_ty).is_some_and(|t| t.contains(b)),
            },
            None => self_ty == ty,
        };
        let mut impls = self.impls_of(tr, method, func);
        impls.retain(|&id| !func(id).is_test && func(id).self_ty.as_deref().is_some_and(fits));
        match impls[..] {
            [one] => Some(one),
            // The implementation written once per build (`#[cfg(feature = "v1")]` and `"v2"`), whose
            // build is not known: each build's, as a call by path reaches twins.
            [first, ..]
                if self.twins(&impls, first).len() == impls.len()
                    && impls.iter().all(|id| self.undecided.contains(id)) =>
            {
                Some(self.with_twins(&impls, first))
            }
            _ => None,
        }
    }

    /// Takes in the copies the model has made of functions since: `fns` holds every function, copies
    /// after the originals.
    pub(crate) fn cover(&mut self, fns: &[FnRef]) {
        let known = self.file_of.len() + self.copy_files.len();
        if let Some(new) = fns.get(known..) {
            self.copy_files.extend(new.iter().map(|r| r.file));
        }
    }

    /// Forgets the copies of an earlier model (the index is kept for the next build).
    pub(crate) fn forget_copies(&mut self) {
        self.copy_files.clear();
    }

    /// The file of function `id`, an original or a copy.
    fn file_at(&self, id: usize) -> Option<usize> {
        match self.file_of.get(id) {
            Some(&file) => Some(file),
            None => self.copy_files.get(id - self.file_of.len()).copied(),
        }
    }

    /// The crate folder of function `id`, an original or a copy.
    fn crate_at(&self, id: usize) -> Option<&String> {
        match self.crate_of.get(id) {
            Some(dir) => Some(dir),
            None => self.file_crates.get(self.file_at(id)?),
        }
    }

    /// Among functions that fit, the one in the caller's file, else in its crate, else the first. A
    /// function written once per build (`#[cfg(feature = "ee")] fn f` beside `#[cfg(not(..))] fn f`)
    /// whose build is not known is each of them: they become [`Index::alternatives`].
    fn nearest(&self, caller: usize, ids: &[usize]) -> Option<usize> {
        let hit = ids
            .iter()
            .copied()
            .find(|&id| Some(self.file_of[id]) == self.file_at(caller))
            .or_else(|| {
                ids.iter()
                    .copied()
                    .find(|&id| Some(&self.crate_of[id]) == self.crate_at(caller))
            })
            .or_else(|| ids.first().copied())?;
        Some(self.with_twins(ids, hit))
    }

    /// Of `ids`, functions of types named `name` in several crates, the one whose crate the caller's
    /// `use` of `name` names (`use service_hub::system::SystemRouter;` names crate `system`), where one
    /// crate alone is named.
    fn of_imported_crate(
        &self,
        caller: usize,
        from: &FnFacts,
        name: &str,
        ids: &[usize],
    ) -> Option<usize> {
        let module = self.imported_from(caller, &from.module, name)?;
        let crate_name = |id: usize| -> Option<String> {
            let named = self.crate_names.get(self.file_of[id]).cloned().flatten();
            named.or_else(|| {
                let dir = self.crate_of[id].trim_end_matches('/');
                dir.rsplit('/').next().map(str::to_string)
            })
        };
        let named: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|&id| {
                crate_name(id).is_some_and(|c| {
                    let c = c.replace('-', "_");
                    module.contains(&c)
                })
            })
            .collect();
        match named[..] {
            [one] => Some(one),
            _ => None,
        }
    }

    /// `hit`, one of `ids`, noting its twins (the same function written once per build, whose build is
    /// not known) as [`Index::alternatives`].
    fn with_twins(&self, ids: &[usize], hit: usize) -> usize {
        if ids.len() > 1 && self.undecided.contains(&hit) {
            let twins = self.twins(ids, hit);
            if twins.len() > 1 {
                *self.alternatives.borrow_mut() = twins;
            }
        }
        hit
    }

    /// Among functions of one path, `one` (whose `#[cfg(..)]` the build does not decide) and the others
    /// of its file: the same function written once per build.
    fn twins(&self, ids: &[usize], one: usize) -> Vec<usize> {
        ids.iter()
            .copied()
            .filter(|&id| self.file_of[id] == self.file_of[one])
            .collect()
    }

    /// A function at an absolute path, following re-exports (`pub use a::f;`, `pub use a::*;`).
    fn lookup<'f>(
        &self,
        caller: usize,
        abs: &[String],
        depth: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        self.lookup_in(caller, abs, depth, func, &mut HashSet::new())
    }

    /// The analysed code's methods called `name` on a router's type (an extension trait's `impl ScopeExt
    /// for Scope { fn resource_routes(self) -> Self }`).
    pub(crate) fn router_methods(&self, name: &str) -> Vec<usize> {
        crate::facts::ROUTER_TYPES
            .iter()
            .filter_map(|ty| self.assoc_of(ty, name))
            .flatten()
            .copied()
            .collect()
    }

    /// The functions `ty::name` names: the type's (or trait's) own, with the default bodies of a trait.
    fn assoc_of(&self, ty: &str, name: &str) -> Option<&Vec<usize>> {
        self.assoc.get(ty)?.get(name)
    }

    /// `lookup`, remembering the paths already tried: glob re-exports (`pub use a::*` in preludes) form
    /// a graph that would otherwise be walked again and again.
    fn lookup_in<'f>(
        &self,
        caller: usize,
        abs: &[String],
        depth: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
        tried: &mut HashSet<Vec<String>>,
    ) -> Option<usize> {
        let (name, module) = abs.split_last()?;
        if tried.contains(abs) {
            return None;
        }
        tried.insert(abs.to_vec());
        if let Some(ids) = self.by_path.get(abs) {
            return self.nearest(caller, ids);
        }
        // `module::Type::method`
        if let Some((ty, _)) = module.split_last() {
            let hit = self
                .assoc_of(ty, name)
                .and_then(|ids| self.nearest(caller, ids));
            if hit.is_some() {
                return hit;
            }
        }
        if depth >= MAX_ALIAS_DEPTH {
            return None;
        }
        // Every `use` of the name, in turn: one name may be imported under exclusive `cfg`s
        // (`#[cfg(feature = "ee")] pub use ee::f;` beside `#[cfg(not(..))] pub use oss::f;`), and only
        // the one whose target is in the analysed code leads anywhere.
        let reexports = self.uses.get(module).into_iter().flatten();
        for (_, target) in reexports.filter(|(n, _)| n == name) {
            if target.as_slice() != abs {
                if let Some(hit) = self.in_reexported_crate(target, depth + 1) {
                    return Some(hit);
                }
                if let Some(hit) = self.lookup_in(caller, target, depth + 1, func, tried) {
                    return Some(hit);
                }
            }
        }
        if let Some(hit) = self.globs_in(caller, module, name, depth + 1, func, tried) {
            return Some(hit);
        }
        // A module reached through an alias (`pub use ducklake_maintenance_oss as ducklake_maintenance;`,
        // one per edition under exclusive `cfg`s): the path through each aliased module in turn.
        for k in 1..=module.len() {
            let (parent, seg) = (&module[..k - 1], &module[k - 1]);
            let aliases = self.uses.get(parent).into_iter().flatten();
            for (_, target) in aliases.filter(|(n, t)| n == seg && t.as_slice() != &module[..k]) {
                let path: Vec<String> = target
                    .iter()
                    .chain(&module[k..])
                    .chain(std::iter::once(name))
                    .cloned()
                    .collect();
                // `pub use palpo_data as data;` then `crate::data::user::f`: into that crate.
                if let Some(hit) = self.in_reexported_crate(&path, depth + 1) {
                    return Some(hit);
                }
                if let Some(hit) = self.lookup_in(caller, &path, depth + 1, func, tried) {
                    return Some(hit);
                }
            }
        }
        None
    }

    fn through_globs<'f>(
        &self,
        caller: usize,
        module: &[String],
        name: &String,
        depth: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        self.globs_in(caller, module, name, depth, func, &mut HashSet::new())
    }

    fn globs_in<'f>(
        &self,
        caller: usize,
        module: &[String],
        name: &String,
        depth: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
        tried: &mut HashSet<Vec<String>>,
    ) -> Option<usize> {
        if depth >= MAX_ALIAS_DEPTH {
            return None;
        }
        let globs = self.uses.get(module)?;
        glob_paths(globs, name).find_map(|path| {
            self.in_reexported_crate(&path, depth + 1)
                .or_else(|| self.lookup_in(caller, &path, depth + 1, func, tried))
        })
    }

    /// A re-exported path that starts with the name of another crate of the analysed code
    /// (`pub use windmill_alerting::{get_critical_alerts};`), looked up inside that crate.
    fn in_reexported_crate(&self, target: &[String], depth: usize) -> Option<usize> {
        let (first, rest) = target.split_first()?;
        if rest.is_empty() {
            return None;
        }
        let dir = self.own_crates.get(&first.replace('-', "_"))?;
        self.lookup_in_crate(dir, rest, depth)
    }

    /// The module function `caller`'s module imports type `name` from (`use crate::auth::frontend::Auth;`
    /// gives `auth::frontend`), spelled from its crate's root.
    pub(crate) fn imported_from(
        &self,
        caller: usize,
        module: &[String],
        name: &str,
    ) -> Option<&[String]> {
        let (_, full) = self
            .caller_uses(caller, module)?
            .iter()
            .find(|(n, _)| n == name)?;
        full.split_last().map(|(_, parent)| parent)
    }

    /// Whether an absolute path (see `absolutize`) starts in a crate that is not the analysed code's: no
    /// crate of it and no module of one is named so (`actix_web_httpauth::extractors::bearer`).
    pub(crate) fn in_another_library(&self, path: &[String]) -> bool {
        let Some(first) = path.first() else {
            return false;
        };
        !self.own_crates.contains_key(&first.replace('-', "_"))
            && !self.modules.contains(std::slice::from_ref(first))
    }

    /// The `use` declarations of module `module` of the caller's crate.
    fn caller_uses(&self, caller: usize, module: &[String]) -> Option<&Vec<(String, Vec<String>)>> {
        let krate = self.crate_at(caller)?;
        self.crate_uses.get(krate)?.get(module)
    }

    /// When exact resolution fails (workspaces, paths through external crate names): a function of that
    /// name whose module ends like the path's qualifier.
    fn resolve_loosely<'f>(
        &self,
        caller: usize,
        from: &FnFacts,
        segs: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
        same_file: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let path: Vec<String> = self.imported(caller, from, segs).unwrap_or_else(|| {
            segs.iter()
                .filter(|s| !matches!(s.as_str(), "crate" | "self" | "super"))
                .cloned()
                .collect()
        });
        let (name, qualifier) = path.split_last()?;
        let matching: Vec<usize> = self
            .by_name
            .get(name)?
            .iter()
            .copied()
            .filter(|&id| {
                let f = func(id);
                if qualifier.is_empty() {
                    return f.self_ty.is_none();
                }
                f.self_ty.is_none()
                    && !f.module.is_empty()
                    && (f.module.ends_with(qualifier) || qualifier.ends_with(&f.module))
            })
            .collect();
        pick(&matching, |id| {
            same_file(id) && func(id).module == from.module
        })
    }

    /// A path whose first segment the caller's module imports (`use database::collab;` then
    /// `collab::insert_bulk`), spelled in full.
    fn imported(&self, caller: usize, from: &FnFacts, segs: &[String]) -> Option<Vec<String>> {
        // The `use`s of the caller's own crate: another crate's root module is `[]` too (`pub use
        // route::api;` in crate `api` is no import of `api::api` in the crate calling it).
        let (_, full) = self
            .caller_uses(caller, &from.module)?
            .iter()
            .find(|(n, _)| Some(n) == segs.first())?;
        Some(full.iter().chain(&segs[1..]).cloned().collect())
    }

    /// `database::collab::insert_bulk` where another crate of the workspace re-exports it
    /// (`pub use collab_db_ops::*` in its `collab` module): the path inside that crate, whose modules are
    /// named from its root like this crate's.
    fn in_other_crate<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        segs: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        let path = self
            .imported(caller, from, segs)
            .unwrap_or_else(|| segs.to_vec());
        if path.len() < 2 || matches!(path[0].as_str(), "crate" | "self" | "super") {
            return None;
        }
        // The crate as its manifest names it, or its folder's name (`libs/database`,
        // `crates/diesel_models`).
        let wanted = path[0].replace('-', "_");
        let named = |hit: usize| {
            let file = self.file_of[hit];
            if let Some(name) = self.crate_names.get(file).and_then(Option::as_deref) {
                return name == wanted;
            }
            let dir = &self.crate_of[hit];
            let folder = dir.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            folder.replace('-', "_") == wanted
        };
        // Inside that crate, by its own modules and re-exports (every crate's root is `[]`).
        if let Some(dir) = self.own_crates.get(&wanted) {
            if let Some(hit) = self.lookup_in_crate(dir, &path[1..], 0) {
                return Some(hit);
            }
        }
        let hit = self.lookup(caller, &path[1..], 0, func)?;
        named(hit).then_some(hit)
    }

    /// A function at a path of the crate in folder `dir`, through that crate's re-exports and globs.
    fn lookup_in_crate(&self, dir: &str, abs: &[String], depth: usize) -> Option<usize> {
        if depth >= MAX_ALIAS_DEPTH {
            return None;
        }
        let (name, module) = abs.split_last()?;
        let in_crate = |ids: &Vec<usize>| {
            let hit = ids.iter().copied().find(|&id| self.crate_of[id] == dir)?;
            Some(self.with_twins(ids, hit))
        };
        if let Some(hit) = self.by_path.get(abs).and_then(in_crate) {
            return Some(hit);
        }
        if let Some((ty, _)) = module.split_last() {
            if let Some(hit) = self.assoc_of(ty, name).and_then(in_crate) {
                return Some(hit);
            }
        }
        let uses = self.crate_uses.get(dir)?.get(module)?;
        // As in `lookup_in`: the first of the name's `use`s that leads somewhere.
        let named = uses
            .iter()
            .filter(|(n, t)| n == name && t.as_slice() != abs)
            .find_map(|(_, t)| self.follow(dir, t, depth + 1));
        if named.is_some() {
            return named;
        }
        glob_paths(uses, name).find_map(|path| self.follow(dir, &path, depth + 1))
    }

    /// Where a `use` of the crate in folder `dir` leads: into another crate of the analysed code when its
    /// path starts with that crate's name (`pub use windmill_alerting::{get_critical_alerts};`,
    /// `pub use api_jobs::execution::*;`), else inside this crate.
    fn follow(&self, dir: &str, target: &[String], depth: usize) -> Option<usize> {
        match target.split_first() {
            Some((first, rest)) if !rest.is_empty() => {
                match self.own_crates.get(&first.replace('-', "_")) {
                    Some(other) if other != dir => self.lookup_in_crate(other, rest, depth),
                    _ => self.lookup_in_crate(dir, target, depth),
                }
            }
            _ => self.lookup_in_crate(dir, target, depth),
        }
    }

    /// The type a receiver path has: `self.repo` in `impl Svc` → the type of `Svc.repo`.
    fn receiver_type<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        receiver: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<String> {
        let depth = self.typing_depth.get();
        if depth >= MAX_TYPING_DEPTH {
            return None;
        }
        self.typing_depth.set(depth + 1);
        let ty = self.receiver_type_within(from, caller, receiver, func);
        self.typing_depth.set(depth);
        ty
    }

    fn receiver_type_within<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        receiver: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<String> {
        let first = receiver.first()?;
        let written = if first == "self" {
            from.self_ty.clone()?
        } else {
            match from.params.iter().find(|(n, _)| n == first) {
                Some((_, ty)) => ty.clone(),
                // A unit struct's value (`server_wrap(&pool, &ApiKeyAuth)`) is of its type.
                None if receiver.len() == 1
                    && self.known_types.contains(first)
                    && !self.traits.contains(first)
                    && !self.statics.contains_key(first) =>
                {
                    first.clone()
                }
                None => self.static_type(from, caller, first)?,
            }
        };
        let owned = |segs: &[&str]| -> Vec<String> { segs.iter().map(|s| s.to_string()).collect() };
        // A local bound by position from a tuple: `(Article,User)#1` is `User`.
        let (parsed, element) = match TypeRef::parse(&written)? {
            TypeRef::Element(inner, index) => (*inner, Some(index)),
            other => (other, None),
        };
        let mut made_by = None;
        let mut ty = match parsed {
            TypeRef::Named(name) => name.to_string(),
            // A tuple handed to a call: the tuple of its elements' types.
            TypeRef::Tuple(names) => {
                let elems: Option<Vec<String>> = names
                    .iter()
                    .map(|e| self.receiver_type(from, caller, &[e.to_string()], func))
                    .collect();
                let elems = elems.filter(|_| receiver.len() == 1 && element.is_none())?;
                return Some(format!("({})", elems.join(",")));
            }
            // A local bound to a place (`let db = &state.0.database;`): that place's type.
            TypeRef::Place(place) => {
                let mut path = owned(&place);
                if path.first() == Some(first) || element.is_some() {
                    return None;
                }
                path.extend(receiver[1..].iter().cloned());
                return self.receiver_type(from, caller, &path, func);
            }
            // A local made by a call (`let article = Article::find(conn, id)?`): what that function
            // returns.
            TypeRef::Returned(path) => {
                let id = self.function_at(from, caller, &owned(&path), func)?;
                made_by = Some(id);
                func(id).returns.clone()?
            }
            // A call handed values (`either(&Key, &Org { .. }, jwt)`): the one argument the function
            // hands back, else what it returns.
            TypeRef::CalledWith { path, args } => {
                let id = self.function_at(from, caller, &owned(&path), func)?;
                if let [p] = func(id).returns_params.as_slice() {
                    return self.receiver_type(from, caller, &owned(args.get(*p)?), func);
                }
                made_by = Some(id);
                func(id).returns.clone()?
            }
            // At the end of a chain on another crate's value (`table.filter(..).paginate_by(10, 1)`): the
            // one method of that name a blanket implementation of the analysed code adds to every type.
            TypeRef::MethodReturns { base, method, args }
                if base.as_slice() == [crate::facts::UNTYPED] =>
            {
                let id = self.extension_method(method, args, func)?;
                made_by = Some(id);
                func(id).returns.clone()?
            }
            // A getter's result (`state.store()`): what the method it resolves to returns.
            TypeRef::MethodReturns { base, method, args } => {
                let base = owned(&base);
                // Not a local typed by its own method (`let x = x.next()`, `for email in
                // email.recipients.iter()`): the earlier value's type is not kept.
                if base.first() == Some(first) {
                    return None;
                }
                let id = self.resolve_method(from, caller, method, &base, args, func)?;
                made_by = Some(id);
                let f = func(id);
                let returned = f.returns.clone()?;
                // `Self` of a blanket implementation (`impl<T: ..> DependOnQuery for T { type Query =
                // Self; fn query(&self) -> &Self::Query { self } }`): the receiver's own type.
                let blanket = f
                    .self_ty
                    .as_ref()
                    .is_some_and(|t| f.generics.iter().any(|(g, _)| g == t));
                if returned == "Self" && blanket {
                    return self.receiver_type(from, caller, &base, func);
                }
                returned
            }
            // A closure's parameter (`async |db| ..` handed to `transaction_http`): what the callee's
            // `Fn` bound on that argument says the closure takes.
            TypeRef::ClosureInput { callee, arg, input } => {
                let id = match *callee {
                    TypeRef::Returned(path) | TypeRef::CalledWith { path, .. } => {
                        self.function_at(from, caller, &owned(&path), func)?
                    }
                    TypeRef::MethodReturns { base, method, args } => {
                        self.resolve_method(from, caller, method, &owned(&base), args, func)?
                    }
                    _ => return None,
                };
                let callee = func(id);
                let (param, _) = callee.param_types.get(arg)?;
                let key = format!("{param}({input})");
                let (_, ty) = callee.generics.iter().find(|(g, _)| *g == key)?;
                return Some(self.concrete(from, ty.clone()));
            }
            TypeRef::Element(..) => return None,
        };
        if let Some(index) = element {
            let elems = ty.strip_prefix('(')?.strip_suffix(')')?;
            ty = elems.split(',').nth(index)?.to_string();
        }
        if ty == "Self" {
            ty = func(made_by?).self_ty.clone()?;
        }
        // `<PgDb>::Repo` (a getter's `&Self::Repo` where the implementation says `type Repo = <PgDb as
        // DependOnRepo>::Repo;`): what `PgDb`'s implementation binds it to.
        for _ in 0..MAX_ALIAS_DEPTH {
            let Some((of, name)) = crate::facts::assoc_of(&ty) else {
                break;
            };
            ty = self
                .assoc_types
                .get(&(of.to_string(), name.to_string()))?
                .clone();
        }
        // A type parameter the callee returns (`fn load_current<T: Crud>(..) -> ThothResult<T>`): the
        // caller's use picks it, one of the types that implement its bound.
        if let Some(id) = made_by {
            let bound = func(id).generics.iter().find(|(g, _)| *g == ty);
            if let Some((_, bound)) = bound.filter(|(_, b)| self.traits.contains(b)) {
                ty = bound.clone();
            }
        }
        // A parameter bound from a struct pattern: the type of that field.
        if let Some((owner, field)) = ty.split_once(crate::facts::FIELD) {
            let owner = self.concrete(from, owner.to_string());
            ty = self.field(&owner, field)?;
        }
        ty = self.concrete(from, ty);
        // A type imported under another name (`use crate::logger::ActivityLogger as Logger`).
        if !self.known_types.contains(&ty) {
            let alias = self
                .uses
                .get(&from.module)
                .and_then(|u| u.iter().find(|(n, _)| *n == ty));
            if let Some(real) = alias.and_then(|(_, path)| path.last()) {
                if self.known_types.contains(real) {
                    ty = real.clone();
                }
            }
        }
        // A trait object a factory made (`let db = get_coordinator().await;`): one of the types that
        // function makes, when the code says which.
        if let (Some(id), [_]) = (made_by, receiver) {
            if self.traits.contains(&ty) {
                if let Some(types) = self.made_types(id, func, 0) {
                    let types: Vec<String> = types.into_iter().collect();
                    return Some(format!("{ty}{}{}", crate::facts::ONE_OF, types.join(",")));
                }
            }
        }
        for field in &receiver[1..] {
            ty = self.field(&ty, field)?;
            ty = self.concrete(from, ty);
        }
        Some(ty)
    }

    /// The type of the static `name` a function of module `from.module` names: its own module's, else
    /// the one its `use` imports, else the only one (or the one type all of that name hold).
    fn static_type(&self, from: &FnFacts, caller: usize, name: &str) -> Option<String> {
        let all = self.statics.get(name)?;
        if let Some((_, ty)) = all.iter().find(|(m, _)| *m == from.module) {
            return Some(ty.clone());
        }
        let imported = self
            .caller_uses(caller, &from.module)
            .into_iter()
            .flatten()
            .find(|(n, _)| n == name)
            .and_then(|(_, path)| path.split_last())
            .and_then(|(_, module)| {
                let module: Vec<String> = match module.first().map(String::as_str) {
                    Some("crate") => module[1..].to_vec(),
                    _ => module.to_vec(),
                };
                all.iter()
                    .find(|(m, _)| !m.is_empty() && (m.ends_with(&module) || module.ends_with(m)))
            });
        if let Some((_, ty)) = imported {
            return Some(ty.clone());
        }
        let first = &all.first()?.1;
        all.iter().all(|(_, ty)| ty == first).then(|| first.clone())
    }

    /// The types function `id` makes, when it hands back a trait object and the code says which
    /// (`facts::Made`), following the functions whose values it hands on; `None` otherwise.
    fn made_types<'f>(
        &self,
        id: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
        depth: usize,
    ) -> Option<BTreeSet<String>> {
        if depth >= MAX_ALIAS_DEPTH {
            return None;
        }
        let f = func(id);
        let made = f.made.as_ref()?;
        let mut out: BTreeSet<String> = made.types.iter().cloned().collect();
        for via in &made.via {
            let next = self.function_at(f, id, via, func)?;
            out.extend(self.made_types(next, func, depth + 1)?);
        }
        (!out.is_empty()).then_some(out)
    }

    /// A struct value whose other fields take their defaults (`{GetUser..;username=?}`), with those
    /// defaults spelled out (`{GetUser;username=?;domain=None}`).
    pub(crate) fn with_defaults(&self, tag: &Option<String>) -> Option<String> {
        let tag = tag.as_ref()?;
        let Some(inner) = tag.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
            return Some(tag.clone());
        };
        let mut parts = inner.split(';');
        let head = parts.next().unwrap_or_default();
        let Some(ty) = head.strip_suffix("..") else {
            return Some(tag.clone());
        };
        let set: Vec<&str> = parts.collect();
        let mut out = format!("{{{ty}");
        for kv in &set {
            out.push(';');
            out.push_str(kv);
        }
        for (field, value) in self.defaults.get(ty).into_iter().flatten() {
            if !set
                .iter()
                .any(|kv| kv.split('=').next() == Some(field.as_str()))
            {
                out.push_str(&format!(";{field}={value}"));
            }
        }
        out.push('}');
        Some(out)
    }

    /// The type of `owner.field`, also where `owner` derefs to the struct that has the field.
    fn field(&self, owner: &str, field: &str) -> Option<String> {
        // `state.0` of an extractor or wrapper newtype (`State<AppState>` is read as `AppState`).
        if field == "0" && self.fields.get(owner).is_none_or(|f| !f.contains_key("0")) {
            return Some(owner.to_string());
        }
        let mut owner = owner;
        for _ in 0..4 {
            if let Some(ty) = self.fields.get(owner).and_then(|f| f.get(field)) {
                return Some(ty.clone());
            }
            owner = self.derefs.get(owner)?;
        }
        None
    }

    /// An awaited method call that no analysed function answers, on a receiver of a `[[clients]]` type:
    /// a call to another service.
    pub(crate) fn client_hop(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        call: &crate::facts::Call,
        catalog: &crate::catalog::Catalog,
    ) -> Option<ClientHop> {
        let Callee::Method { name, receiver, .. } = &call.callee else {
            return None;
        };
        if !call.awaited || catalog.clients.is_empty() {
            return None;
        }
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        let ty = self.receiver_type(func(caller), caller, receiver, &func)?;
        let spec = catalog.clients.iter().find(|c| c.matches(&ty, name))?;
        Some(ClientHop {
            api: format!("{ty}::{name}"),
            service: spec.endpoint != Some(crate::catalog::EndpointSpec::Database),
            read: spec.read_methods.iter().any(|m| m == name),
            origin: spec.origin,
            query: None,
        })
    }

    /// Whether a path from a function of module `from` names an item inside a module whose items the build
    /// writes (`queries::models::refresh(..)` with `mod queries { include!(..) }`): code not in the source.
    fn names_generated_item(&self, caller: usize, from: &[String], path: &[String]) -> bool {
        let Some(modules) = self
            .crate_at(caller)
            .and_then(|dir| self.generated_modules.get(dir))
        else {
            return false;
        };
        let within = |full: &[String]| {
            modules
                .iter()
                .any(|m| !m.is_empty() && full.len() > m.len() && full.starts_with(m))
        };
        within(path) || within(&[from, path].concat())
    }

    /// An awaited call of a function that a code generator made from a named query and that the analysed
    /// code therefore does not hold: the module is named as the `.sql` file and the function as the query,
    /// or as the query after one word (`api_queries::fetch_get_pipelines(&client, ..)` for `--!
    /// get_pipelines` in `queries/api_queries.sql`, where a generator names functions by what they do
    /// with the rows). A statement whose SQL is that query's.
    pub(crate) fn generated_query(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        call: &crate::facts::Call,
    ) -> Option<ClientHop> {
        let Callee::Path(segs) = &call.callee else {
            return None;
        };
        if !call.awaited || self.generated_queries.is_empty() {
            return None;
        }
        let r = fns[caller];
        let full = self.imported(caller, &files[r.file].functions[r.index], segs);
        let [.., module, f] = full.as_deref().unwrap_or(segs) else {
            return None;
        };
        let named = |q: &&String| {
            f == *q
                || f.strip_suffix(q.as_str())
                    .and_then(|p| p.strip_suffix('_'))
                    .is_some_and(|verb| !verb.is_empty() && !verb.contains('_'))
        };
        let query = self
            .generated_queries
            .get(module)?
            .iter()
            .filter(named)
            .max_by_key(|q| q.len())?;
        Some(ClientHop {
            api: format!("{module}::{f}(…)"),
            service: false,
            read: false,
            origin: None,
            query: Some(format!("{module}::{query}")),
        })
    }

    /// The types a call binds the callee's own type parameters to: by its turbofish, in order, and by
    /// the type of an argument handed to a parameter typed by one (`map<T>(&self, input: T)` called
    /// as `mapper.map(account)`). Only types of the analysed code are bound.
    pub(crate) fn bound_types(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        call: &crate::facts::Call,
        target: usize,
    ) -> Vec<Vec<(String, String)>> {
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        let callee = func(target);
        let from = func(caller);
        // `self.0.verify(..)` on a `Header<I>` whose caller knows what it holds (`Header(Key)`): the
        // impl's `I` is that.
        let mut out: Vec<(String, String)> = self.held_by_receiver(from, call, callee);
        // A parameter typed by a trait (`auth: &dyn Authenticate`, `impl Authenticate`) is bound like a
        // type parameter: which implementation runs is the one the caller hands over.
        let by_trait = |ty: &String| self.traits.contains(ty);
        if callee.type_params.is_empty() && !callee.param_types.iter().any(|(t, _)| by_trait(t)) {
            return if out.is_empty() {
                Vec::new()
            } else {
                vec![out]
            };
        }
        let known = |ty: &str| self.known_types.contains(ty) && !self.traits.contains(ty);
        out.extend(
            callee
                .type_params
                .iter()
                .zip(&call.turbofish)
                .filter(|(_, ty)| known(ty))
                .map(|(p, ty)| (p.clone(), ty.clone())),
        );
        // One parameter the caller may bind to one of several types (`either(&Key, &Org { .. })`).
        let mut several: Option<Vec<Vec<(String, String)>>> = None;
        // `Type::method(value, ..)` hands the receiver as the first argument.
        let skip = usize::from(matches!(call.callee, Callee::Path(_)) && callee.has_self);
        for ((ty, _), path) in callee
            .param_types
            .iter()
            .zip(call.arg_paths.iter().skip(skip))
        {
            let of_trait = by_trait(ty);
            if !(callee.type_params.contains(ty) || of_trait)
                || out.iter().any(|(p, _)| p == ty)
                || path.is_empty()
            {
                continue;
            }
            let implements = |arg: &String| !of_trait || self.implements(arg, ty);
            // `fn pluck<C: DatabaseExecutor>(self, conn: &C)` handed a guard that derefs to the
            // connection (`&*conn`, `conn: PooledResource<RM>`): the value is one of the bound's
            // implementations, not the guard.
            let bound = callee
                .generics
                .iter()
                .find(|(g, _)| g == ty)
                .map(|(_, b)| b)
                .filter(|b| self.traits.contains(*b));
            let bindings: Vec<Vec<(String, String)>> = self
                .argument_values(from, caller, path, &func)
                .into_iter()
                .filter_map(|value| {
                    let arg = self.receiver_type(from, caller, &value, &func)?;
                    // Handed on a named value typed by a trait (`conn: &mut W` with `W: DatabaseExecutor`,
                    // `repo: BoxRepository`, a `Box<dyn RepositoryAccess>`): one of that trait's
                    // implementations, as for a trait object. (What a call hands back, `impl Trait`, is
                    // one type the code may say: see `made_types`.)
                    let named = matches!(value.as_slice(), [name] if !name.contains(['(', '@']));
                    if let Some(b) = bound
                        .filter(|b| named && self.traits.contains(&arg) && self.extends(&arg, b))
                    {
                        return Some(vec![(ty.clone(), b.clone())]);
                    }
                    if !known(&arg) || !implements(&arg) {
                        return None;
                    }
                    let guard = self.derefs.contains_key(&arg);
                    if let Some(b) = bound.filter(|b| guard && !self.implements(&arg, b)) {
                        return Some(vec![(ty.clone(), b.clone())]);
                    }
                    let mut binding = vec![(ty.clone(), arg)];
                    // What a wrapper built in place holds (`Header(Key)`), for its impl's `I`.
                    if let [name] = value.as_slice() {
                        let held = self
                            .receiver_type(from, caller, &[format!("{name}<0>")], &func)
                            .or_else(|| held_in(from, name));
                        if let Some(held) = held.filter(|h| known(h)) {
                            binding.push((format!("{ty}<0>"), held));
                        }
                    }
                    Some(binding)
                })
                .collect();
            match bindings.len() {
                0 => {}
                1 => out.extend(bindings.into_iter().flatten()),
                _ if several.is_none() => several = Some(bindings),
                _ => {}
            }
        }
        match several {
            Some(choices) => choices
                .into_iter()
                .map(|choice| out.iter().cloned().chain(choice).collect())
                .collect(),
            None if out.is_empty() => Vec::new(),
            None => vec![out],
        }
    }

    /// Does the analysed code implement trait `tr` for type `ty`, itself or through a trait that has `tr`
    /// as a supertrait?
    fn implements(&self, ty: &str, tr: &str) -> bool {
        let Some(traits) = self.traits_of.get(ty) else {
            return false;
        };
        let mut queue: Vec<&String> = traits.iter().collect();
        let mut seen: FxHashSet<&String> = FxHashSet::default();
        while let Some(t) = queue.pop() {
            if t == tr {
                return true;
            }
            if seen.insert(t) {
                queue.extend(self.supertraits.get(t).into_iter().flatten());
            }
        }
        false
    }

    /// Is trait `tr` the trait `b`, or does it require it (through its supertraits)?
    fn extends(&self, tr: &str, b: &str) -> bool {
        let mut queue: Vec<&str> = vec![tr];
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        while let Some(t) = queue.pop() {
            if t == b {
                return true;
            }
            if seen.insert(t) {
                queue.extend(
                    self.supertraits
                        .get(t)
                        .into_iter()
                        .flatten()
                        .map(String::as_str),
                );
            }
        }
        false
    }

    /// The values an argument may be: itself, or, where it is what a function hands back of what it is
    /// given (`either(&Key, &Org { .. }, jwt)`), each argument the function may hand back.
    fn argument_values<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        path: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Vec<Vec<String>> {
        let written = match path {
            [name] => from.params.iter().find(|(n, _)| n == name).map(|(_, t)| t),
            _ => None,
        };
        if let Some(crate::facts::TypeRef::CalledWith { path: f, args }) =
            written.and_then(|w| crate::facts::TypeRef::parse(w))
        {
            let f: Vec<String> = f.iter().map(|s| s.to_string()).collect();
            if let Some(id) = self.function_at(from, caller, &f, func) {
                let returned = &func(id).returns_params;
                if returned.len() > 1 {
                    return returned
                        .iter()
                        .filter_map(|&p| args.get(p))
                        .filter(|a| !a.is_empty())
                        .map(|a| a.iter().map(|s| s.to_string()).collect())
                        .collect();
                }
            }
        }
        vec![path.to_vec()]
    }

    /// A method call on a value its caller's copy knows the contents of (`auth.verify(..)` with `auth`
    /// bound to a `Header` that holds a `Key`), reaching a method of an `impl` written over a type
    /// argument (`impl<I: Auth> Auth for Header<I>`): that argument bound to what the value holds.
    fn held_by_receiver(
        &self,
        from: &FnFacts,
        call: &crate::facts::Call,
        callee: &FnFacts,
    ) -> Vec<(String, String)> {
        let (Callee::Method { receiver, .. }, Some(arg)) = (&call.callee, callee.self_args.first())
        else {
            return Vec::new();
        };
        let [name] = receiver.as_slice() else {
            return Vec::new();
        };
        held_in(from, name)
            .map(|held| vec![(arg.clone(), held)])
            .unwrap_or_default()
    }

    /// A method call's receiver type, where it is one type of the analysed code (not a trait).
    pub(crate) fn method_receiver(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        call: &crate::facts::Call,
    ) -> Option<String> {
        let Callee::Method { receiver, .. } = &call.callee else {
            return None;
        };
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        let ty = self.receiver_type(func(caller), caller, receiver, &func)?;
        (self.known_types.contains(&ty) && !self.traits.contains(&ty)).then_some(ty)
    }

    /// Is the receiver a parameter typed by one of the function's own type parameters (`input: T`),
    /// that no caller bound to a type, with a bound several types of the analysed code implement? Each
    /// caller picks the implementation by the value it passes, so none is clearly meant.
    fn callers_choice(&self, from: &FnFacts, receiver: &[String]) -> bool {
        let Some(first) = receiver.first() else {
            return false;
        };
        from.params.iter().any(|(n, ty)| {
            n == first
                && from.type_params.contains(ty)
                && from.generics.iter().any(|(g, bound)| {
                    g == ty && !bound.starts_with('=') && self.implemented_by_several(bound)
                })
        })
    }

    /// Do several types implement the trait, or a trait it requires (`trait MapperMarker:
    /// IntoMastodon` with one blanket implementation and many of `IntoMastodon`)?
    fn implemented_by_several(&self, tr: &str) -> bool {
        let mut seen: BTreeSet<&str> = BTreeSet::from([tr]);
        let mut queue = vec![tr];
        while let Some(t) = queue.pop() {
            if self.implementors.get(t).is_some_and(|n| *n > 1) {
                return true;
            }
            for sup in self.supertraits.get(t).into_iter().flatten() {
                if seen.insert(sup) {
                    queue.push(sup);
                }
            }
        }
        false
    }

    /// A generic parameter's bound (or the type a caller bound it to), or an alias's target.
    fn concrete(&self, from: &FnFacts, ty: String) -> String {
        if let Some((_, bound)) = from.generics.iter().find(|(g, _)| *g == ty) {
            return bound.strip_prefix('=').unwrap_or(bound).to_string();
        }
        // Aliases of aliases (`type AppData = Data<ArcData>; type ArcData = Arc<State>;`); an alias the
        // code implements methods for (`type PgUserRepository = PgRepository<User>;` with `impl
        // UserRepository for PgUserRepository`) stays itself, its target's methods reached after its own.
        let mut ty = ty;
        let mut module = from.module.clone();
        for _ in 0..MAX_ALIAS_DEPTH {
            if self.impl_types.contains(&ty) && self.aliases.contains_key(&ty) {
                break;
            }
            match self.alias_in_scope(&module, &ty) {
                Some((at, next)) if *next != ty => {
                    module = at.clone();
                    ty = next.clone();
                }
                _ => break,
            }
        }
        ty
    }

    /// The alias `name` means in `module`: the one defined there, or the one it imports; one defined
    /// elsewhere only where no struct, enum or trait has that name and no other alias does
    /// (`type AppState = Arc<FolderService>` in one handler module is not the `AppState` of the rest).
    fn alias_in_scope(&self, module: &[String], name: &str) -> Option<&(Vec<String>, String)> {
        let aliases = self.aliases.get(name)?;
        if let Some(local) = aliases.iter().find(|(m, _)| m == module) {
            return Some(local);
        }
        let imported = self
            .uses
            .get(module)
            .and_then(|uses| uses.iter().find(|(n, _)| n == name));
        if let Some((_, path)) = imported {
            // The module the `use` names (`crate::AppData` is the crate root's).
            let from: Vec<&String> = path[..path.len().saturating_sub(1)]
                .iter()
                .filter(|s| !matches!(s.as_str(), "crate" | "self" | "super"))
                .collect();
            let named = aliases.iter().find(|(m, _)| {
                m.len() >= from.len()
                    && m.iter().rev().zip(from.iter().rev()).all(|(a, b)| a == *b)
                    && (!from.is_empty() || m.is_empty())
            });
            if named.is_some() {
                return named;
            }
        }
        // One alias, or one written once per build in one module (`#[cfg(not(feature = "cassandra"))]
        // type StorageState = DbState<PgPool, ..>;` beside the Cassandra one): all name one type.
        match aliases.as_slice() {
            [only] if !self.defined_types.contains(name) => Some(only),
            [first, rest @ ..]
                if !self.defined_types.contains(name)
                    && rest.iter().all(|(m, t)| *m == first.0 && *t == first.1) =>
            {
                Some(first)
            }
            _ => None,
        }
    }

    /// Of the methods of several traits that share a name (`book::Repository`, `publisher::Repository`),
    /// keeps those of the one a field's trait object names (`repo: Arc<dyn publisher::Repository>`), where
    /// the receiver is such a field and the implementations say which trait they implement.
    fn same_trait<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        receiver: &[String],
        candidates: &mut Vec<usize>,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) {
        let [base @ .., field] = receiver else { return };
        // Only where a candidate implements a trait whose name several traits share: the receiver's type
        // is read after that, not on every method call.
        let shared = |id: usize| {
            func(id)
                .trait_name
                .as_ref()
                .is_some_and(|t| self.trait_decls.get(t).is_some_and(|&n| n > 1))
        };
        if base.is_empty()
            || self.dyn_qualifiers.is_empty()
            || !candidates.iter().any(|&id| shared(id))
        {
            return;
        }
        let Some(owner) = self.receiver_type(from, caller, base, func) else {
            return;
        };
        // The struct declared in the caller's file, where several share its name, else the only one.
        let decls = self
            .dyn_qualifiers
            .get(&owner)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let here = self.file_at(caller);
        let decl = match decls.iter().find(|(file, _)| Some(*file) == here) {
            Some((_, fields)) => Some(fields),
            None if decls.len() == 1 => Some(&decls[0].1),
            None => None,
        };
        let Some(q) = decl.and_then(|f| f.get(field)) else {
            return;
        };
        let Some(tr) = self.fields.get(&owner).and_then(|f| f.get(field)) else {
            return;
        };
        if self.trait_decls.get(tr).is_none_or(|&n| n < 2) {
            return;
        }
        let other = |id: usize| {
            let f = func(id);
            f.trait_name.as_deref() == Some(tr.as_str())
                && f.trait_qualifier.as_ref().is_some_and(|own| own != q)
        };
        if candidates
            .iter()
            .any(|&id| func(id).trait_name.as_deref() == Some(tr.as_str()) && !other(id))
        {
            candidates.retain(|&id| !other(id));
        }
    }

    fn resolve_method<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        name: &str,
        receiver: &[String],
        args: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        let mut candidates = self.methods_named(name, args, func);
        if candidates.is_empty() {
            return None;
        }
        self.same_trait(from, caller, receiver, &mut candidates, func);
        let others: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&id| id != caller)
            .collect();
        // A value of the caller's type (`input: T`) that no caller bound here: which implementation
        // runs depends on the value, so none is guessed.
        if self.callers_choice(from, receiver) {
            return None;
        }
        // A tuple has no methods of the analysed code unless it implements one of its traits: a value
        // typed as one was taken apart by a pattern not read (`if let Some((scim, _)) = scim`), so its
        // type is not known.
        let ty = self
            .receiver_type(from, caller, receiver, func)
            .filter(|ty| !ty.starts_with('(') || self.known_types.contains(ty));
        match ty {
            // A trait object one of a few types makes: the method of each of those types.
            Some(ty) if ty.contains(crate::facts::ONE_OF) => {
                let (tr, types) = ty.split_once(crate::facts::ONE_OF)?;
                let hits: Vec<usize> = types
                    .split(',')
                    .filter_map(|t| self.method_on(caller, t.to_string(), name, &others, func, 0))
                    .collect::<BTreeSet<usize>>()
                    .into_iter()
                    .collect();
                match hits.as_slice() {
                    [] => None,
                    [one] => Some(*one),
                    _ => self.implementation(tr, &hits, func),
                }
            }
            // A wrapper of another crate's trait calling what it wraps (`self.inner.call(req)` in `impl<S:
            // Service<R>> Service<R> for Auth<S>`): the next layer or the handler, which the route runs
            // after it, not one of the trait's implementations.
            Some(ty)
                if from.trait_name.as_deref() == Some(ty.as_str())
                    && !self.traits.contains(&ty) =>
            {
                None
            }
            // A type of the analysed code: its own methods, then those of the traits it implements
            // (for a trait object, every implementation), then those of what it derefs to.
            // A method may call itself on another value of its own type (a repost's post, a comment's
            // parent): recursion, which the price cuts after one level. Through a trait, or on a
            // receiver of another type, the caller is not meant (a wrapper delegates to what it wraps).
            Some(ty) if self.known_types.contains(&ty) => {
                let own_type =
                    from.self_ty.as_deref() == Some(ty.as_str()) && !self.traits.contains(&ty);
                let candidates = if own_type { &candidates } else { &others };
                let candidates = self.by_type_args(from, caller, receiver, &ty, candidates, func);
                self.method_on(caller, ty, name, &candidates, func, 0)
            }
            // A type from elsewhere (`Next`, `PgPool`, `reqwest::Client`): not the analysed code's method.
            Some(_) => None,
            // An unknown receiver: only where one method of the analysed code fits is it clearly meant;
            // among several, none is guessed (`Call::unresolved`).
            None => self.one_candidate(name, &others),
        }
    }

    /// Methods of one name in `impl`s of a generic type for different type arguments (`impl Table<'c,
    /// Role>` and `impl Table<'c, User>` each with a `create`), called on a field whose type names its
    /// arguments (`roles: Arc<Table<'c, Role>>`): the `impl`s whose arguments are the field's, or are not
    /// types of the analysed code (generic parameters). Others, and every candidate elsewhere, stay.
    fn by_type_args<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        receiver: &[String],
        ty: &str,
        candidates: &[usize],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Vec<usize> {
        let specialised = |id: usize| {
            let f = func(id);
            f.self_ty.as_deref() == Some(ty)
                && f.self_args.iter().any(|a| self.known_types.contains(a))
        };
        if candidates.iter().filter(|&&id| specialised(id)).count() < 2 {
            return candidates.to_vec();
        }
        let args = match receiver {
            [owner @ .., field] if !owner.is_empty() => self
                .receiver_type(from, caller, owner, func)
                .and_then(|owner| self.field_args.get(&owner)?.get(field).cloned()),
            _ => None,
        };
        let Some(args) = args else {
            return candidates.to_vec();
        };
        candidates
            .iter()
            .copied()
            .filter(|&id| {
                !specialised(id)
                    || func(id)
                        .self_args
                        .iter()
                        .enumerate()
                        .all(|(i, a)| !self.known_types.contains(a) || args.get(i) == Some(a))
            })
            .collect()
    }

    /// A method of the analysed code called on a value of its type `ty` (`depth` derefs away from the
    /// written receiver).
    fn method_on<'f>(
        &self,
        caller: usize,
        ty: String,
        name: &str,
        candidates: &[usize],
        func: &impl Fn(usize) -> &'f FnFacts,
        depth: usize,
    ) -> Option<usize> {
        let traits = self.traits_of.get(&ty);
        let typed: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&id| {
                let f = func(id);
                f.self_ty.as_deref() == Some(ty.as_str())
                    || f.trait_name.as_deref() == Some(ty.as_str())
                    || f.trait_name
                        .as_ref()
                        .is_some_and(|t| traits.is_some_and(|ts| ts.contains(t)))
            })
            .collect();
        let own = typed
            .iter()
            .copied()
            .filter(|&id| func(id).self_ty.as_deref() == Some(ty.as_str()));
        let own: Vec<usize> = own.collect();
        // A trait object or generic bound by a trait whose methods a supertrait declares
        // (`Arc<dyn FullRepo>` with `trait FullRepo: AliasRepo`): that trait's implementations.
        if typed.is_empty() && self.traits.contains(&ty) {
            return match self.through_supertraits(&ty, candidates, func) {
                // Named (and chosen by `[implementations]`) as the trait the code names.
                Some((_, impls)) => self.implementation(&ty, &impls, func),
                None => self
                    .beside_bound(&ty, candidates, func)
                    .or_else(|| self.one_candidate(name, candidates)),
            };
        }
        if own.is_empty() && self.traits.contains(&ty) {
            // Two traits of one name, one declaring the method and the other requiring a supertrait that
            // does: the value may be either's, so each implementation is a way the call goes.
            let mut impls = typed;
            if self.trait_decls.get(&ty).is_some_and(|&n| n > 1) {
                if let Some((_, more)) = self.through_supertraits(&ty, candidates, func) {
                    for id in more {
                        if !impls.contains(&id) {
                            impls.push(id);
                        }
                    }
                }
            }
            return self.implementation(&ty, &impls, func);
        }
        // An alias kept for its own methods (see `concrete`): the methods of the type it names too.
        if typed.is_empty() && depth < MAX_ALIAS_DEPTH && self.impl_types.contains(&ty) {
            let module = &func(caller).module;
            if let Some((_, target)) = self.alias_in_scope(module, &ty).filter(|(_, t)| *t != ty) {
                return self.method_on(caller, target.clone(), name, candidates, func, depth + 1);
            }
        }
        // Method calls auto-deref: `db.fetch_user(id)` on `Database` with `impl Deref for Database {
        // type Target = dyn AbstractDatabase; }` is the trait's method.
        if typed.is_empty() && depth < MAX_ALIAS_DEPTH {
            if let Some(target) = self.derefs.get(&ty).filter(|t| **t != ty) {
                if self.known_types.contains(target) {
                    return self.method_on(
                        caller,
                        target.clone(),
                        name,
                        candidates,
                        func,
                        depth + 1,
                    );
                }
            }
        }
        // A name the code gives another type where it re-exports it (`pub use services::ServicesEdge as
        // Services;`) beside a type of that name of its own that has no such method: the renamed type's.
        if typed.is_empty() && depth < MAX_ALIAS_DEPTH {
            let hits: BTreeSet<usize> = self
                .renamed
                .get(&ty)
                .into_iter()
                .flatten()
                .filter(|o| **o != ty && self.known_types.contains(*o))
                .filter_map(|o| {
                    self.method_on(caller, o.clone(), name, candidates, func, depth + 1)
                })
                .collect();
            if let [one] = hits.iter().copied().collect::<Vec<_>>()[..] {
                return Some(one);
            }
        }
        // Two types of one name (`callers::Page`, `pages::Page`): the one the caller's module, else its
        // crate, defines; `#[cfg]` alternatives of one type stay a choice of the costliest.
        if own.len() > 1 {
            // One generic trait implemented several times for the type (`impl AsObject<User, Create> for
            // Comment`, `impl AsObject<User, Delete> for Comment`): in a copy run with types its caller
            // bound, the implementation whose trait arguments name the most of them, if one does.
            let bound: Vec<&str> = func(caller)
                .generics
                .iter()
                .filter_map(|(_, b)| b.strip_prefix('='))
                .collect();
            let named = |id: usize| {
                func(id)
                    .trait_args
                    .iter()
                    .filter(|a| bound.contains(&a.as_str()))
                    .count()
            };
            let most = own.iter().map(|&id| named(id)).max().unwrap_or(0);
            if most > 0 {
                if let [one] = own
                    .iter()
                    .copied()
                    .filter(|&id| named(id) == most)
                    .collect::<Vec<_>>()[..]
                {
                    return Some(one);
                }
            }
            let module = &func(caller).module;
            let krate = self.crate_at(caller);
            let near = |same: &dyn Fn(usize) -> bool| -> Option<usize> {
                match own
                    .iter()
                    .copied()
                    .filter(|&id| same(id))
                    .collect::<Vec<_>>()[..]
                {
                    [one] => Some(one),
                    _ => None,
                }
            };
            // A generic run with a type a caller named: the one that caller's module defines.
            let named_in = func(caller).bound_in.as_ref();
            let hit = named_in
                .and_then(|m| near(&|id| func(id).module == *m))
                .or_else(|| near(&|id| func(id).module == *module))
                .or_else(|| krate.and_then(|k| near(&|id| self.crate_of.get(id) == Some(k))));
            if hit.is_some() {
                return hit;
            }
        }
        costliest(if own.is_empty() { &typed } else { &own }, func)
    }

    /// The implementations of a method that a supertrait of `tr` declares (the nearest such trait, and
    /// its implementing functions among `candidates`).
    fn through_supertraits<'f>(
        &self,
        tr: &str,
        candidates: &[usize],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<(String, Vec<usize>)> {
        let mut seen: BTreeSet<&str> = BTreeSet::from([tr]);
        let mut queue: std::collections::VecDeque<&str> = std::collections::VecDeque::from([tr]);
        while let Some(t) = queue.pop_front() {
            for sup in self.supertraits.get(t).into_iter().flatten() {
                if !seen.insert(sup) {
                    continue;
                }
                queue.push_back(sup);
                let impls: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|&id| func(id).trait_name.as_deref() == Some(sup.as_str()))
                    .collect();
                if !impls.is_empty() {
                    return Some((sup.clone(), impls));
                }
            }
        }
        None
    }

    /// A value of a generic bound by `bound` (`T: Crud`, made by `fn load<T: Crud>(..) -> Result<T>`)
    /// whose method another trait declares (`contribution.change_ordinal(..)`, `Reorder`'s): the
    /// implementations of that trait's method by the types that implement `bound`, one of which the
    /// value is. None unless they are all one trait's.
    fn beside_bound<'f>(
        &self,
        bound: &str,
        candidates: &[usize],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        let impls: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&id| {
                let f = func(id);
                f.trait_name.is_some()
                    && f.self_ty.as_ref().is_some_and(|t| {
                        self.traits_of
                            .get(t)
                            .is_some_and(|ts| ts.iter().any(|b| b == bound))
                    })
            })
            .collect();
        let tr = func(*impls.first()?).trait_name.clone()?;
        if impls
            .iter()
            .any(|&id| func(id).trait_name.as_deref() != Some(tr.as_str()))
        {
            return None;
        }
        self.implementation(&tr, &impls, func)
    }

    /// The implementation a call through a trait object or a generic bound by `tr` reaches, among the
    /// implementing functions `impls`: the one `[implementations]` names; else the costliest, and the
    /// choice is recorded for the notes when several types implement it.
    fn implementation<'f>(
        &self,
        tr: &str,
        impls: &[usize],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        let concrete: Vec<usize> = impls
            .iter()
            .copied()
            .filter(|&id| !forwards(func(id)))
            .collect();
        let impls = if concrete.is_empty() {
            impls
        } else {
            &concrete
        };
        // An implementing type by its name, and by its crate's folder where two crates name it alike
        // (`db/db-sqlx-postgres/Database`).
        let named = |id: usize| -> Option<(String, String)> {
            let ty = func(id).self_ty.clone()?;
            let krate = self
                .crate_of
                .get(id)
                .map(|c| c.trim_end_matches('/').to_string())
                .unwrap_or_default();
            Some((ty, krate))
        };
        // Not the implementations of types only code the build leaves out makes.
        let built: Vec<usize> = impls
            .iter()
            .copied()
            .filter(|&id| {
                func(id)
                    .self_ty
                    .as_ref()
                    .is_none_or(|t| !self.made_only_outside.contains(t))
            })
            .collect();
        let impls = if built.is_empty() { impls } else { &built };
        // Two crates of a workspace each implement it for a type of one name (a client's
        // `TransferService` that asks the server by gRPC, the server's that queries): from the
        // caller's crate, its own.
        let caller = self.calling_crate.borrow().clone();
        let own: BTreeSet<String> = impls
            .iter()
            .filter(|&&id| caller.is_some() && self.crate_of.get(id) == caller.as_ref())
            .filter_map(|&id| func(id).self_ty.clone())
            .collect();
        let kept: Vec<usize> = impls
            .iter()
            .copied()
            .filter(|&id| {
                self.crate_of.get(id) == caller.as_ref()
                    || func(id).self_ty.as_ref().is_none_or(|t| !own.contains(t))
            })
            .collect();
        let impls = if own.is_empty() || kept.is_empty() {
            impls
        } else {
            &kept
        };
        let pairs: BTreeSet<(String, String)> = impls.iter().filter_map(|&id| named(id)).collect();
        if pairs.len() < 2 {
            return costliest(impls, func);
        }
        let unique_names =
            pairs.iter().map(|(t, _)| t).collect::<BTreeSet<_>>().len() == pairs.len();
        let shown = |(ty, krate): &(String, String)| {
            if unique_names || krate.is_empty() {
                ty.clone()
            } else {
                format!("{krate}/{ty}")
            }
        };
        if let Some(chosen) = self.implementations.get(tr) {
            let of_chosen: Vec<usize> = impls
                .iter()
                .copied()
                .filter(|&id| {
                    named(id).is_some_and(|p| {
                        p.0 == *chosen
                            || shown(&p) == *chosen
                            || chosen.ends_with(&format!("/{}", shown(&p)))
                    })
                })
                .collect();
            if !of_chosen.is_empty() {
                return costliest(&of_chosen, func);
            }
        }
        let mut assumed = self.assumed.borrow_mut();
        let entry = assumed.entry(tr.to_string()).or_default();
        entry.0.extend(pairs);
        entry.1.extend(impls.iter().copied());
        // Each implementation is a way the call may go: the price takes the costliest of them.
        *self.alternatives.borrow_mut() = impls.to_vec();
        costliest(impls, func)
    }

    /// The traits whose costliest implementation was taken, with their implementing types.
    /// A type is named alone unless two crates name theirs alike (`db/db-sqlx-postgres/Database`),
    /// judged over every call through the trait, so that one type is named one way.
    pub fn assumed_implementations(&self) -> BTreeMap<String, Assumed> {
        self.assumed
            .borrow()
            .iter()
            .map(|(tr, (pairs, fns))| {
                let unique_names =
                    pairs.iter().map(|(t, _)| t).collect::<BTreeSet<_>>().len() == pairs.len();
                let types = pairs
                    .iter()
                    .map(|(ty, krate)| {
                        if unique_names || krate.is_empty() {
                            ty.clone()
                        } else {
                            format!("{krate}/{ty}")
                        }
                    })
                    .collect();
                (tr.clone(), (types, fns.clone()))
            })
            .collect()
    }

    /// The methods named `name` that take `args` arguments (Rust has no overloading: `txn.execute(stmt)`
    /// is not a trait's `execute(&self, a, b, c)`).
    fn methods_named<'f>(
        &self,
        name: &str,
        args: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Vec<usize> {
        let Some(all) = self.by_name.get(name) else {
            return Vec::new();
        };
        all.iter()
            .copied()
            .filter(|&id| {
                let f = func(id);
                f.has_self && f.arity.is_none_or(|a| a == args)
            })
            .collect()
    }

    /// The one method named `name` (taking `args` arguments) of a trait the analysed code implements for
    /// every type (`impl<T> Paginate for T { fn paginate_by(self, ..) }`), if there is exactly one.
    fn extension_method<'f>(
        &self,
        name: &str,
        args: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        let hits: Vec<usize> = self
            .methods_named(name, args, func)
            .into_iter()
            .filter(|&id| {
                let f = func(id);
                !f.is_test
                    && f.trait_name
                        .as_ref()
                        .is_some_and(|t| self.blanket_traits.contains(t))
            })
            .collect();
        match hits.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// For a receiver of unknown type: the one method of the analysed code that fits, if only one does.
    fn one_candidate(&self, name: &str, candidates: &[usize]) -> Option<usize> {
        if self.quiet.contains(name) {
            return None;
        }
        match candidates {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// Is this method call, on a receiver of a type of the analysed code, answered by a method of that
    /// type (or of a trait it implements)?
    pub(crate) fn own_method(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        callee: &Callee,
    ) -> bool {
        let Callee::Method {
            name,
            receiver,
            args,
        } = callee
        else {
            return false;
        };
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        let from = func(caller);
        // Not the method itself: `self.deref().prepare_typed(..)` in `impl Client for
        // deadpool_postgres::Client` is the library's method, which the project's wraps.
        let itself = |id: usize| {
            let f = func(id);
            f.name == from.name && f.fn_line == from.fn_line && f.self_ty == from.self_ty
        };
        match self.receiver_type(from, caller, receiver, &func) {
            Some(ty) if self.known_types.contains(&ty) => self
                .resolve_method(from, caller, name, receiver, *args, &func)
                .is_some_and(|id| !itself(id)),
            _ => false,
        }
    }

    /// The functions of the analysed code an unresolved call may be, where `ambiguous` left it so for
    /// want of a choice among them: the implementations of a trait's method called by its path, or the
    /// methods of that name and arity where the receiver's type could not be read. None where it may be
    /// code hopcheck does not see (a function not found, a method a macro writes, an actor's message).
    pub(crate) fn candidates(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        call: &crate::facts::Call,
    ) -> Option<Vec<usize>> {
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        let found: Vec<usize> = match &call.callee {
            Callee::Path(segs) => match &segs[..] {
                [.., tr, method] if self.traits.contains(tr) => self
                    .impls_of(tr, method, &func)
                    .into_iter()
                    .filter(|&id| func(id).self_ty.is_some())
                    .collect(),
                _ => return None,
            },
            Callee::Method {
                name,
                receiver,
                args,
            } if name != "send" => {
                if self
                    .receiver_type(func(caller), caller, receiver, &func)
                    .is_some()
                {
                    return None;
                }
                self.fitting(name, *args, caller, &func)
            }
            _ => return None,
        };
        let found: Vec<usize> = found.into_iter().filter(|&id| !func(id).is_test).collect();
        (!found.is_empty()).then_some(found)
    }

    /// A call left unresolved although several functions of the analysed code could be meant: an awaited
    /// method on a receiver whose type could not be read.
    pub(crate) fn ambiguous(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        call: &crate::facts::Call,
    ) -> bool {
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        // `Notify::send(&target, ..)` with several implementations and no type to choose by.
        if let (Callee::Path(segs), true) = (&call.callee, call.awaited) {
            return match &segs[..] {
                [.., tr, method] if self.traits.contains(tr) => {
                    let mut impls = self.impls_of(tr, method, &func);
                    impls.retain(|&id| func(id).self_ty.is_some() && !func(id).is_test);
                    impls.len() > 1
                }
                // `B::Session::open(..)` with `B` a generic parameter, where the functions of several
                // traits have that name: which one runs depends on a type the code does not spell here.
                [g, _, method] if func(caller).generics.iter().any(|(p, _)| p == g) => {
                    let traits: BTreeSet<&str> = self
                        .by_name
                        .get(method)
                        .into_iter()
                        .flatten()
                        .filter(|&&id| !func(id).is_test)
                        .filter_map(|&id| func(id).trait_name.as_deref())
                        .collect();
                    traits.len() > 1
                }
                // `revolt_permissions::calculate_server_permissions(..)`: a function of a crate of the
                // analysed code that was not found is code hopcheck did not follow, not a library's.
                _ => {
                    let full = self.imported(caller, func(caller), segs);
                    let path = full.as_deref().unwrap_or(segs);
                    // Not a type's function the code does not spell out (`Form::new` of
                    // `#[derive(new)]`).
                    let of_type =
                        path.len() >= 3 && self.known_types.contains(&path[path.len() - 2]);
                    // `crate::sync::record(..)` too: a path into the analysed crate itself.
                    let own = matches!(path[0].as_str(), "crate" | "self" | "super")
                        || self.own_crates.contains_key(&path[0].replace('-', "_"));
                    // `Subject::update_is_del(..)` of a type that derives the analysed code's own
                    // derive: one it writes where its template could not be read.
                    let derived =
                        path.len() >= 2 && self.own_derived.contains(&path[path.len() - 2]);
                    path.len() >= 2 && !of_type && own
                        || derived
                        || self.names_generated_item(caller, &func(caller).module, path)
                }
            };
        }
        let Callee::Method {
            name,
            receiver,
            args,
        } = &call.callee
        else {
            return false;
        };
        // A message sent to one of the analysed code's actors (`addr.send(msg)`) whose type could not be
        // read: some `impl Handler<..>`'s `handle` answers it, awaited or not.
        if name == "send" && *args == 1 {
            let handlers = self.by_name.get(crate::facts::ACTOR_HANDLE);
            if handlers
                .into_iter()
                .flatten()
                .any(|&id| func(id).trait_name.as_deref() == Some("Handler") && !func(id).is_test)
            {
                return true;
            }
        }
        if self.quiet.contains(name) {
            return false;
        }
        if !call.awaited {
            return self.sync_choice(func(caller), caller, name, receiver, *args, &func);
        }
        if self.callers_choice(func(caller), receiver) {
            return self.by_name.contains_key(name.as_str());
        }
        let ty = self
            .receiver_type(func(caller), caller, receiver, &func)
            .filter(|ty| !ty.starts_with('(') || self.known_types.contains(ty));
        match ty {
            // A generic bound by a trait that does not itself declare the method: as unknown.
            Some(ty)
                if self.traits.contains(&ty)
                    && self
                        .resolve_method(func(caller), caller, name, receiver, *args, &func)
                        .is_none() => {}
            // A method that a trait of the analysed code requires, on a type that implements the trait
            // but writes no such method: a macro writes it (`#[with_conn_delegate]` on the trait), so
            // what it does is not seen.
            Some(ty) => {
                return self.known_types.contains(&ty)
                    && self.traits_of.get(&ty).is_some_and(|traits| {
                        traits.iter().any(|t| {
                            self.required
                                .get(t)
                                .is_some_and(|r| r.iter().any(|m| m == name))
                        })
                    })
                    && self
                        .resolve_method(func(caller), caller, name, receiver, *args, &func)
                        .is_none();
            }
            None => {}
        }
        self.fitting(name, *args, caller, &func).len() > 1
    }

    /// The analysed code's methods that a call `x.name(..)` with `args` arguments fits by name and
    /// arity alone (the caller itself aside).
    fn fitting<'f>(
        &self,
        name: &str,
        args: usize,
        caller: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Vec<usize> {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&id| {
                let f = func(id);
                f.has_self && id != caller && f.arity.is_none_or(|a| a == args)
            })
            .collect()
    }

    /// A synchronous method call (diesel, postgres, r2d2 code) on a receiver whose type could not be
    /// read, where several of the analysed code's methods of that name and arity fit and one of them
    /// works on a connection: `user.verify(email, token)` may be `UnverifiedUser::verify` (in memory)
    /// or `AuthenticatedUser::verify(&mut self, email, conn)` (three statements).
    fn sync_choice<'f>(
        &self,
        f: &'f FnFacts,
        caller: usize,
        name: &str,
        receiver: &[String],
        args: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> bool {
        if self.receiver_type(f, caller, receiver, func).is_some() {
            return false;
        }
        let fits: Vec<&FnFacts> = self
            .fitting(name, args, caller, func)
            .into_iter()
            .map(func)
            .filter(|c| !c.is_test)
            .collect();
        fits.len() > 1
            && fits.iter().any(|c| {
                !c.is_async
                    && (c.body.iter().any(|s| matches!(s, Step::Trip(_)))
                        || c.param_types
                            .iter()
                            .any(|(t, _)| crate::facts::driver::executor_type(t)))
            })
    }
}

/// Whether `name` is a parameter of `f` typed as a function: a generic bound by `Fn`, `FnMut` or `FnOnce`,
/// or one of those traits written in place.
fn handed_in(f: &FnFacts, name: &str) -> bool {
    let callable = |t: &str| matches!(t, "Fn" | "FnMut" | "FnOnce");
    f.params.iter().any(|(n, t)| {
        n == name
            && (callable(t)
                || f.generics
                    .iter()
                    .any(|(g, bound)| g == t && callable(bound)))
    })
}

/// For each glob import among a module's `uses` (`use a::*`): the path `name` has through it (`a::name`).
fn glob_paths<'u>(
    uses: &'u [(String, Vec<String>)],
    name: &'u String,
) -> impl Iterator<Item = Vec<String>> + 'u {
    uses.iter()
        .filter(|(n, _)| n == "*")
        .map(move |(_, target)| {
            target
                .iter()
                .chain(std::iter::once(name))
                .cloned()
                .collect()
        })
}

/// `crates/api/src/db.rs` → `crates/api/`: the folder of the crate a file belongs to.
pub(crate) fn crate_dir(path: &str) -> &str {
    match path.rfind("src/") {
        Some(i) => &path[..i],
        None => "",
    }
}

/// What the value of parameter `name` holds, where the copy of `from` a caller made knows it: the
/// parameter is typed by a trait or type parameter bound to a wrapper built around that type.
fn held_in(from: &FnFacts, name: &str) -> Option<String> {
    let (_, written) = from.params.iter().find(|(n, _)| n == name)?;
    let key = format!("{written}<0>");
    let (_, bound) = from.generics.iter().find(|(g, _)| *g == key)?;
    bound.strip_prefix('=').map(str::to_string)
}

/// An implementation for a smart pointer, a reference or a wrapper around any implementor (`impl<T:
/// AliasRepo> AliasRepo for Arc<T>`, `impl<R: Repository> Repository for MapErr<R, F>`): it hands the
/// call on to the type inside.
fn forwards(f: &FnFacts) -> bool {
    matches!(f.self_ty.as_deref(), Some("Arc" | "Box" | "Rc"))
        || f.self_ty.as_deref().is_some_and(|t| t.starts_with('&'))
        // `impl<R: Repository> Repository for MapErr<R, F>`: a wrapper around another implementation of
        // the same trait, which it hands the call on to.
        || f.trait_name.as_ref().is_some_and(|tr| {
            f.self_args
                .iter()
                .any(|a| f.generics.iter().any(|(g, b)| g == a && b == tr))
        })
}

/// Among methods of one name, the one that does the most I/O (the critical path takes the worst).
fn costliest<'f>(candidates: &[usize], func: &impl Fn(usize) -> &'f FnFacts) -> Option<usize> {
    let weight = |id: usize| {
        let mut n = 0usize;
        for step in &func(id).body {
            step.walk(&mut |s| n += usize::from(matches!(s, Step::Trip(_) | Step::Call(_))));
        }
        n
    };
    candidates
        .iter()
        .copied()
        .max_by_key(|&id| (weight(id), std::cmp::Reverse(id)))
}

/// The one candidate, or the one that `prefer` picks among several.
fn pick(candidates: &[usize], prefer: impl Fn(usize) -> bool) -> Option<usize> {
    match candidates {
        [] => None,
        [one] => Some(*one),
        many => many
            .iter()
            .copied()
            .find(|&id| prefer(id))
            .or(Some(many[0])),
    }
}

/// Adds the types a function makes or holds, its own type aside (`fn new() -> Self`): the types of its
/// result, parameters and locals, its generics' bindings, and those its path calls name (`SqlAdaptor::new()`).
fn types_made(f: &FnFacts, out: &mut FxHashSet<String>) {
    let own = f.self_ty.as_deref();
    let mut add = |ty: &str| {
        let ty = ty.trim_start_matches('=');
        if Some(ty) != own && ty != "Self" && ty.starts_with(|c: char| c.is_ascii_uppercase()) {
            out.insert(ty.to_string());
        }
    };
    f.returns.iter().for_each(|t| add(t));
    f.params.iter().for_each(|(_, t)| add(t));
    f.param_types.iter().for_each(|(t, _)| add(t));
    f.generics.iter().for_each(|(_, b)| add(b));
    f.made.iter().flat_map(|m| &m.types).for_each(|t| add(t));
    for step in &f.body {
        step.walk(&mut |s| {
            if let Step::Call(c) = s {
                if let Callee::Path(segs) = &c.callee {
                    if let [.., ty, _] = &segs[..] {
                        add(ty);
                    }
                }
            }
        });
    }
}

/// Whether a function hands one of its own parameters, as it is, to a call it makes
/// (`process_request(state, input, service)` inside `process_request_secured(.., service)`): the callee
/// may run it, so a function named where this one is called may run there too.
fn hands_param_on(f: &FnFacts) -> bool {
    f.body.iter().any(|s| {
        let mut found = false;
        s.walk(&mut |s| {
            if let Step::Call(c) = s {
                found |= c.consts.iter().flatten().any(|v| handed_param(v).is_some());
            }
        });
        found
    })
}

/// `param:2`, a parameter handed on whole (not a field of it): its position.
pub(crate) fn handed_param(value: &str) -> Option<usize> {
    value.strip_prefix("param:")?.parse().ok()
}
