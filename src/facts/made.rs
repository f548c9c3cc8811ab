//! What a function that hands back a trait object makes: `fn coordinator() -> Box<dyn Db>` whose arms
//! are `Box::<NatsDb>::default()` and `Box::new(SqliteDb::new())` makes a `NatsDb` or a `SqliteDb`, never
//! the `PostgresDb` that also implements `Db`. A call on its value then runs one of those two
//! implementations, not the costliest of all.
//!
//! Read from the function's tail: `match`/`if` arms, blocks, `.await`, references, and `Box::new`,
//! `Arc::new` or `Rc::new` around a value whose type the code spells (`X { .. }`, `X::new(..)`, `X`); a
//! call of another function (`default().await`) or a lazily initialised static filled by one
//! (`DEFAULT.get_or_init(default).await`) makes what that function makes, which the resolution stage
//! reads. Anything else (a `return` elsewhere in the body, a value from a parameter or a field) leaves
//! it unknown, and the call is priced as before.

use syn::Expr;

use super::Made;

/// What the function makes, when its signature returns a trait object and every way out of its body
/// is read.
pub(super) fn of(sig: &syn::Signature, block: &syn::Block) -> Option<Made> {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    if !quote::ToTokens::to_token_stream(ty)
        .to_string()
        .contains("dyn")
    {
        return None;
    }
    if has_return(block) {
        return None;
    }
    let mut made = Made::default();
    block_tail(block, &mut made)?;
    made.types.sort();
    made.types.dedup();
    made.via.sort();
    made.via.dedup();
    Some(made)
}

fn has_return(block: &syn::Block) -> bool {
    struct Finds(bool);
    impl<'e> syn::visit::Visit<'e> for Finds {
        fn visit_expr_return(&mut self, _: &'e syn::ExprReturn) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'e syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'e syn::Item) {}
    }
    let mut f = Finds(false);
    syn::visit::Visit::visit_block(&mut f, block);
    f.0
}

fn block_tail(block: &syn::Block, made: &mut Made) -> Option<()> {
    match block.stmts.last()? {
        syn::Stmt::Expr(e, None) => tail(e, made),
        // `panic!`, `unreachable!`: no value.
        syn::Stmt::Macro(m) if diverges(&m.mac) => Some(()),
        _ => None,
    }
}

fn diverges(mac: &syn::Macro) -> bool {
    let name = super::driver::last_segment(&mac.path);
    matches!(
        name.as_str(),
        "panic" | "unreachable" | "todo" | "unimplemented"
    )
}

/// The types an expression in tail position hands back.
fn tail(e: &Expr, made: &mut Made) -> Option<()> {
    match e {
        Expr::Match(m) => m.arms.iter().try_for_each(|a| tail(&a.body, made)),
        Expr::If(i) => {
            block_tail(&i.then_branch, made)?;
            tail(&i.else_branch.as_ref()?.1, made)
        }
        Expr::Block(b) => block_tail(&b.block, made),
        Expr::Paren(p) => tail(&p.expr, made),
        Expr::Group(g) => tail(&g.expr, made),
        Expr::Await(a) => tail(&a.base, made),
        Expr::Reference(r) => tail(&r.expr, made),
        Expr::Macro(m) if diverges(&m.mac) => Some(()),
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else {
                return None;
            };
            let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
            let wrapper =
                |s: &syn::PathSegment| matches!(s.ident.to_string().as_str(), "Box" | "Arc" | "Rc");
            match segs.as_slice() {
                // `Box::new(value)`.
                [.., w, f] if wrapper(w) && f.ident == "new" => value(c.args.first()?, made),
                // `Box::<X>::default()`.
                [.., w, f] if wrapper(w) && f.ident == "default" => {
                    let syn::PathArguments::AngleBracketed(args) = &w.arguments else {
                        return None;
                    };
                    match args.args.first()? {
                        syn::GenericArgument::Type(syn::Type::Path(t)) => {
                            made.types.push(super::driver::last_segment(&t.path));
                            Some(())
                        }
                        _ => None,
                    }
                }
                // Another function's value: what it makes.
                _ => {
                    made.via.push(path_of(&p.path));
                    Some(())
                }
            }
        }
        // `DEFAULT.get_or_init(default).await`: the static holds what its initialiser makes.
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "get_or_init" | "get_or_try_init" | "call_once_force"
            ) =>
        {
            match m.args.first()? {
                Expr::Path(p) => {
                    made.via.push(path_of(&p.path));
                    Some(())
                }
                Expr::Closure(c) => tail(&c.body, made),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The type of a value handed to `Box::new(..)`, as the code spells it.
fn value(e: &Expr, made: &mut Made) -> Option<()> {
    match e {
        Expr::Struct(s) => {
            made.types.push(super::driver::last_segment(&s.path));
            Some(())
        }
        Expr::Paren(p) => value(&p.expr, made),
        // `X::new(..)`, `nats::NatsDb::super_cluster()`: the type is the segment before the function.
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else {
                return None;
            };
            let segs: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let ty = segs.iter().rev().nth(1)?;
            ty.starts_with(char::is_uppercase)
                .then(|| made.types.push(ty.clone()))
        }
        // A unit struct: `Box::new(NoopDb)`.
        Expr::Path(p) => {
            let name = super::driver::last_segment(&p.path);
            name.starts_with(char::is_uppercase)
                .then(|| made.types.push(name))
        }
        _ => None,
    }
}

fn path_of(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(code: &str) -> Option<Made> {
        let f: syn::ItemFn = syn::parse_str(code).unwrap();
        of(&f.sig, &f.block)
    }

    #[test]
    fn the_arms_of_a_factory_name_the_types_it_makes() {
        let m = made(
            "async fn coordinator() -> Box<dyn Db> {
                if local() { match kind() { A => Box::<sqlite::SqliteDb>::default(), _ => Box::new(SqliteDb::new()) } }
                else { Box::new(nats::NatsDb { url: u }) }
            }",
        )
        .unwrap();
        assert_eq!(m.types, ["NatsDb", "SqliteDb"]);
        assert!(m.via.is_empty());
    }

    #[test]
    fn a_static_filled_by_a_function_makes_what_that_function_makes() {
        let m = made(
            "pub async fn get_db() -> &'static Box<dyn Db> { DEFAULT.get_or_init(default).await }",
        )
        .unwrap();
        assert_eq!(m.via, [vec!["default".to_string()]]);
        let m = made("async fn c() -> &'static Box<dyn Db> { super::db::get_coordinator().await }")
            .unwrap();
        assert_eq!(m.via, [vec!["super", "db", "get_coordinator"]]);
    }

    #[test]
    fn what_the_code_does_not_say_stays_unknown() {
        // Not a trait object; a value from a parameter; a `return` elsewhere.
        assert!(made("fn f() -> Box<Db> { Box::new(X) }").is_none());
        assert!(made("fn f(d: Box<dyn Db>) -> Box<dyn Db> { d }").is_none());
        assert!(
            made("fn f(a: bool) -> Box<dyn Db> { if a { return Box::new(X); } Box::new(Y) }")
                .is_none()
        );
        assert!(made("fn f() -> Box<dyn Db> { Box::new(make()) }").is_none());
    }
}
