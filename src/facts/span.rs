//! The span of an expression, from its first and last tokens. syn's `Spanned::span` prints the whole
//! expression back to tokens to find them, which is most of what locating a long method chain costs; the
//! shapes a round trip takes (calls, method calls, paths, fields, `?`, `.await`) know their ends
//! directly. Anything else, or anything with attributes, goes through syn, so the answer is always the
//! same as `Spanned::span`'s.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Member, PathArguments, UnOp};

/// The same span as `expr.span()`.
pub fn of(expr: &Expr) -> Span {
    match (first(expr), last(expr)) {
        (Some(a), Some(b)) => a.join(b).unwrap_or(a),
        _ => expr.span(),
    }
}

/// The same span as `call.span()` for a method call.
pub fn of_method_call(call: &syn::ExprMethodCall) -> Span {
    match first(&call.receiver) {
        Some(a) if call.attrs.is_empty() => a.join(call.paren_token.span.close()).unwrap_or(a),
        _ => call.span(),
    }
}

/// The same span as `call.span()` for a function call.
pub fn of_call(call: &syn::ExprCall) -> Span {
    match first(&call.func) {
        Some(a) if call.attrs.is_empty() => a.join(call.paren_token.span.close()).unwrap_or(a),
        _ => call.span(),
    }
}

/// The span of the first token of `expr`, when its shape says it without printing.
fn first(expr: &Expr) -> Option<Span> {
    match expr {
        Expr::MethodCall(m) if m.attrs.is_empty() => first(&m.receiver),
        Expr::Call(c) if c.attrs.is_empty() => first(&c.func),
        Expr::Field(f) if f.attrs.is_empty() => first(&f.base),
        Expr::Await(a) if a.attrs.is_empty() => first(&a.base),
        Expr::Try(t) if t.attrs.is_empty() => first(&t.expr),
        Expr::Index(i) if i.attrs.is_empty() => first(&i.expr),
        Expr::Path(p) if p.attrs.is_empty() && p.qself.is_none() => match &p.path.leading_colon {
            Some(colons) => Some(colons.spans[0]),
            None => p.path.segments.first().map(|s| s.ident.span()),
        },
        Expr::Macro(m) if m.attrs.is_empty() => match &m.mac.path.leading_colon {
            Some(colons) => Some(colons.spans[0]),
            None => m.mac.path.segments.first().map(|s| s.ident.span()),
        },
        Expr::Paren(p) if p.attrs.is_empty() => Some(p.paren_token.span.join()),
        Expr::Lit(l) if l.attrs.is_empty() => Some(l.lit.span()),
        Expr::Reference(r) if r.attrs.is_empty() => Some(r.and_token.spans[0]),
        Expr::Unary(u) if u.attrs.is_empty() => Some(match &u.op {
            UnOp::Deref(t) => t.spans[0],
            UnOp::Not(t) => t.spans[0],
            UnOp::Neg(t) => t.spans[0],
            _ => return None,
        }),
        _ => None,
    }
}

/// The span of the last token of `expr`, when its shape says it without printing.
fn last(expr: &Expr) -> Option<Span> {
    match expr {
        Expr::MethodCall(m) if m.attrs.is_empty() => Some(m.paren_token.span.close()),
        Expr::Call(c) if c.attrs.is_empty() => Some(c.paren_token.span.close()),
        Expr::Field(f) if f.attrs.is_empty() => Some(match &f.member {
            Member::Named(i) => i.span(),
            Member::Unnamed(i) => i.span,
        }),
        Expr::Await(a) if a.attrs.is_empty() => Some(a.await_token.span),
        Expr::Try(t) if t.attrs.is_empty() => Some(t.question_token.spans[0]),
        Expr::Index(i) if i.attrs.is_empty() => Some(i.bracket_token.span.close()),
        Expr::Path(p) if p.attrs.is_empty() && p.qself.is_none() => {
            let seg = p.path.segments.last()?;
            match &seg.arguments {
                PathArguments::None => Some(seg.ident.span()),
                PathArguments::AngleBracketed(a) => Some(a.gt_token.spans[0]),
                PathArguments::Parenthesized(_) => None,
            }
        }
        Expr::Macro(m) if m.attrs.is_empty() => Some(match &m.mac.delimiter {
            syn::MacroDelimiter::Paren(d) => d.span.close(),
            syn::MacroDelimiter::Brace(d) => d.span.close(),
            syn::MacroDelimiter::Bracket(d) => d.span.close(),
        }),
        Expr::Paren(p) if p.attrs.is_empty() => Some(p.paren_token.span.join()),
        Expr::Lit(l) if l.attrs.is_empty() => Some(l.lit.span()),
        Expr::Reference(r) if r.attrs.is_empty() => last(&r.expr),
        Expr::Unary(u) if u.attrs.is_empty() => last(&u.expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(span: Span) -> (usize, usize, usize, usize) {
        let (a, b) = (span.start(), span.end());
        (a.line, a.column, b.line, b.column)
    }

    /// Every expression of a body, outermost first.
    fn exprs(src: &str) -> Vec<Expr> {
        struct All(Vec<Expr>);
        impl<'a> syn::visit::Visit<'a> for All {
            fn visit_expr(&mut self, e: &'a Expr) {
                self.0.push(e.clone());
                syn::visit::visit_expr(self, e);
            }
        }
        let file = syn::parse_file(src).expect("parses");
        let mut all = All(Vec::new());
        syn::visit::visit_file(&mut all, &file);
        all.0
    }

    #[test]
    fn spans_are_those_syn_gives() {
        let src = r#"
            async fn f(state: State) {
                let a = sqlx::query_as::<_, User>("SELECT 1")
                    .bind(&x.0)
                    .fetch_one(&*state.db)
                    .await?;
                let b = ::std::mem::take(&mut v[i]).len();
                let c = -(!flag as i32) + vec![1, 2][0];
                let d = Foo::<T>::new().0.name;
                let e = #[allow(x)] call(1);
                let g = (async { 1 }).await;
                let h = <Vec<u8> as Default>::default();
                let k = Fn::<(u8,), Output = ()>::call;
                let m = client.get("http://x").send().await.unwrap().json::<V>().await;
            }
        "#;
        let all = exprs(src);
        assert!(all.len() > 40, "{}", all.len());
        for e in &all {
            assert_eq!(ends(of(e)), ends(e.span()), "{}", quote::quote!(#e));
            match e {
                Expr::MethodCall(m) => assert_eq!(ends(of_method_call(m)), ends(m.span())),
                Expr::Call(c) => assert_eq!(ends(of_call(c)), ends(c.span())),
                _ => {}
            }
        }
    }
}
