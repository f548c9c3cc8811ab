//! How many items, at most, the list a function hands back holds, when its body says: `vec![a]` and a
//! `push` under an `if` hand back at most two; `Vec::new()` none. A loop over what such a function returns
//! (`for s in associated_streams(t)`) runs that many times, not the assumed number of rows.
//!
//! Read from the body alone: each list the function builds is a local bound to `vec![..]`, `Vec::new()` or
//! `Vec::with_capacity(..)`, grown only by `push` outside any loop or closure; every way out of the body hands
//! back one of those locals or a list written out (also inside `Ok(..)`/`Some(..)`). Anything else (a push
//! in a loop, `extend`, the list handed to another function, a value from elsewhere) leaves it unknown.

use std::collections::HashMap;

use syn::visit::Visit;
use syn::Expr;

/// The most items the list a function hands back can hold, when it returns a `Vec` (also in a `Result` or an
/// `Option`) and every way out of its body is read.
pub(super) fn of(sig: &syn::Signature, block: &syn::Block) -> Option<u32> {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    names_vec(ty).then(|| returned_len(block)).flatten()
}

/// `Vec<T>`, `Result<Vec<T>, E>`, `Option<Vec<T>>`.
fn names_vec(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    if last.ident == "Vec" {
        return true;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    matches!(args.args.first(), Some(syn::GenericArgument::Type(inner)) if names_vec(inner))
}

/// The most items the list `block` hands back can hold, when every way out of it is read.
fn returned_len(block: &syn::Block) -> Option<u32> {
    let mut lists = Lists::default();
    lists.visit_block(block);
    if lists.unknown {
        return None;
    }
    let mut most = None;
    for e in &lists.returns {
        let n = lists.len_of(e)?;
        most = Some(most.map_or(n, |m: u32| m.max(n)));
    }
    let tail = match block.stmts.last()? {
        syn::Stmt::Expr(e, None) => e,
        _ => return None,
    };
    let n = lists.len_of(tail)?;
    Some(most.map_or(n, |m| m.max(n)))
}

#[derive(Default)]
struct Lists<'a> {
    /// Locals bound to a list, with the most items each can hold so far.
    lens: HashMap<String, u32>,
    /// The values of `return` expressions.
    returns: Vec<&'a Expr>,
    /// How deep in loops and closures the walk is: a push there adds an unknown number of items.
    repeated: usize,
    /// A list is grown or handed on in a way not counted.
    unknown: bool,
}

impl Lists<'_> {
    /// The most items `e` holds, when it is a counted list.
    fn len_of(&self, e: &Expr) -> Option<u32> {
        match e {
            Expr::Paren(p) => self.len_of(&p.expr),
            Expr::Path(p) => self.lens.get(&p.path.get_ident()?.to_string()).copied(),
            Expr::Call(c) if wraps(c) => self.len_of(c.args.first()?),
            e => fresh_len(e),
        }
    }
}

/// `Ok(list)`, `Some(list)`.
fn wraps(c: &syn::ExprCall) -> bool {
    matches!(&*c.func, Expr::Path(p) if p.path.is_ident("Ok") || p.path.is_ident("Some"))
        && c.args.len() == 1
}

/// The items of a list made here: `vec![a, b]`, `vec![]`, `Vec::new()`, `Vec::with_capacity(n)`.
fn fresh_len(e: &Expr) -> Option<u32> {
    match e {
        Expr::Macro(m) if m.mac.path.is_ident("vec") => {
            let items = m
                .mac
                .parse_body_with(
                    syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated,
                )
                .ok()?;
            u32::try_from(items.len()).ok()
        }
        Expr::Call(c) if c.args.len() <= 1 => {
            let Expr::Path(p) = &*c.func else { return None };
            let segs = super::driver::path_segments(&p.path);
            match segs.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                [.., "Vec", "new"] if c.args.is_empty() => Some(0),
                [.., "Vec", "with_capacity"] => Some(0),
                _ => None,
            }
        }
        _ => None,
    }
}

impl<'a> Visit<'a> for Lists<'a> {
    fn visit_local(&mut self, l: &'a syn::Local) {
        if let Some(init) = &l.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
        if let syn::Pat::Ident(p) = &l.pat {
            let name = p.ident.to_string();
            match l.init.as_ref().and_then(|i| fresh_len(&i.expr)) {
                Some(n) if self.repeated == 0 => {
                    self.lens.insert(name, n);
                }
                _ => {
                    self.lens.remove(&name);
                }
            }
        }
    }

    fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
        if let Expr::Path(p) = &*m.receiver {
            if let Some(name) = p.path.get_ident().map(|i| i.to_string()) {
                if let Some(n) = self.lens.get_mut(&name) {
                    let method = m.method.to_string();
                    match method.as_str() {
                        "push" if self.repeated == 0 => *n += 1,
                        // Reading it, or taking items away: never more than it holds.
                        "len" | "is_empty" | "iter" | "first" | "last" | "contains" | "get"
                        | "pop" | "clear" | "retain" | "truncate" | "sort" | "sort_unstable"
                        | "dedup" | "reverse" | "clone" => {}
                        _ => self.unknown = true,
                    }
                }
            }
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_return(&mut self, r: &'a syn::ExprReturn) {
        match &r.expr {
            Some(e) if self.repeated == 0 => self.returns.push(e),
            // `return` inside a closure leaves the closure, not the function.
            Some(_) => {}
            None => self.unknown = true,
        }
        syn::visit::visit_expr_return(self, r);
    }

    fn visit_expr_reference(&mut self, r: &'a syn::ExprReference) {
        // `&mut list` handed on: it may grow there.
        if r.mutability.is_some() {
            if let Expr::Path(p) = &*r.expr {
                if p.path
                    .get_ident()
                    .is_some_and(|i| self.lens.contains_key(&i.to_string()))
                {
                    self.unknown = true;
                }
            }
        }
        syn::visit::visit_expr_reference(self, r);
    }

    fn visit_expr_assign(&mut self, a: &'a syn::ExprAssign) {
        if let Expr::Path(p) = &*a.left {
            if let Some(name) = p.path.get_ident().map(|i| i.to_string()) {
                if self.lens.contains_key(&name) {
                    match fresh_len(&a.right) {
                        Some(n) if self.repeated == 0 => {
                            let held = self.lens.get_mut(&name).expect("checked above");
                            *held = (*held).max(n);
                        }
                        _ => self.unknown = true,
                    }
                }
            }
        }
        syn::visit::visit_expr_assign(self, a);
    }

    fn visit_expr_for_loop(&mut self, e: &'a syn::ExprForLoop) {
        self.repeated += 1;
        syn::visit::visit_expr_for_loop(self, e);
        self.repeated -= 1;
    }

    fn visit_expr_while(&mut self, e: &'a syn::ExprWhile) {
        self.repeated += 1;
        syn::visit::visit_expr_while(self, e);
        self.repeated -= 1;
    }

    fn visit_expr_loop(&mut self, e: &'a syn::ExprLoop) {
        self.repeated += 1;
        syn::visit::visit_expr_loop(self, e);
        self.repeated -= 1;
    }

    fn visit_expr_closure(&mut self, c: &'a syn::ExprClosure) {
        self.repeated += 1;
        syn::visit::visit_expr_closure(self, c);
        self.repeated -= 1;
    }

    fn visit_item(&mut self, _: &'a syn::Item) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(code: &str) -> Option<u32> {
        let f: syn::ItemFn = syn::parse_str(code).unwrap();
        of(&f.sig, &f.block)
    }

    #[test]
    fn a_list_written_out_and_grown_outside_loops_holds_at_most_that_many() {
        assert_eq!(
            len("fn f(t: T) -> Vec<String> {
                if !t.has() { return Vec::new(); }
                let mut v = vec![a(t)];
                if t.traced() { v.push(b(t)); }
                v
            }"),
            Some(2)
        );
        assert_eq!(len("fn f() -> Vec<u8> { vec![1, 2, 3] }"), Some(3));
        // Not a list: not read.
        assert_eq!(len("fn f() -> [u8; 3] { [1, 2, 3] }"), None);
        assert_eq!(
            len("fn f() -> Result<Vec<u8>, E> { let v = Vec::new(); Ok(v) }"),
            Some(0)
        );
    }

    #[test]
    fn a_list_grown_in_a_loop_or_handed_on_is_not_counted() {
        assert_eq!(
            len("fn f(xs: &[u8]) -> Vec<u8> { let mut v = Vec::new(); for x in xs { v.push(*x); } v }"),
            None
        );
        assert_eq!(
            len("fn f() -> Vec<u8> { let mut v = vec![1]; fill(&mut v); v }"),
            None
        );
        assert_eq!(
            len("fn f(o: Vec<u8>) -> Vec<u8> { let mut v = vec![1]; v.extend(o); v }"),
            None
        );
        assert_eq!(len("fn f(o: Vec<u8>) -> Vec<u8> { o }"), None);
        assert_eq!(
            len("fn f(o: Vec<u8>) -> Vec<u8> { let v = vec![1]; if o.is_empty() { return o; } v }"),
            None
        );
    }
}
