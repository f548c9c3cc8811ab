//! A GraphQL field's route runs the endpoint that executes the schema.
//!
//! `POST /graphql` reads the session, opens a transaction, runs the schema (`schema.execute(req)`,
//! `juniper::execute(..)`) and commits: the resolvers the query names run where the schema does. Each
//! field of a query or mutation root is a route of its own (`GRAPHQL /Query/user`), and a request for it
//! pays the endpoint's work too, in order: what the endpoint does before it runs the schema, the field's
//! resolver, then what it does after. So a field's route runs a copy of the endpoint (with its
//! extractors and middleware where it is a route's handler) whose schema run calls the resolver.
//!
//! The endpoint is the route handler whose body runs a schema; where none does (a handler dispatches
//! to a function that does, `handle_api(req, ctx)`), the functions that run one. Several endpoints
//! (a GET and a POST handler) are alternatives: a field's request goes through one of them.

use std::collections::HashMap;

use super::{add_copy, Model};
use crate::facts::{walk_mut, Call, Callee, Step};

/// Puts each GraphQL field's resolver behind the endpoint that runs the schema.
pub(super) fn run_fields_through_endpoints(model: &mut Model) {
    let graphql = |r: &super::Route| r.method.as_deref() == Some("GRAPHQL");
    if !model.routes.iter().any(graphql) {
        return;
    }
    let mut endpoints: Vec<usize> = Vec::new();
    for r in model.routes.iter().filter(|r| !graphql(r)) {
        if !endpoints.contains(&r.handler) && runs_schema(&model.func(r.handler).body) {
            endpoints.push(r.handler);
        }
    }
    if endpoints.is_empty() {
        endpoints = (0..model.fns.len())
            .filter(|&id| {
                let f = model.func(id);
                !f.is_test && runs_schema(&f.body)
            })
            .collect();
    }
    if endpoints.is_empty() {
        return;
    }
    // Per resolver, the route's run: the endpoint, with the resolver (the function itself, which
    // keeps its own findings) where the endpoint runs the schema.
    let mut runs: HashMap<usize, usize> = HashMap::new();
    for i in 0..model.routes.len() {
        if !graphql(&model.routes[i]) {
            continue;
        }
        let h = model.routes[i].handler;
        if let Some(&run) = runs.get(&h) {
            model.routes[i].handler = run;
            continue;
        }
        let loc = model.func(h).loc;
        let mut arms: Vec<Vec<Step>> = Vec::new();
        for (k, &endpoint) in endpoints.iter().enumerate() {
            let through = add_copy(model, endpoint, |f| {
                walk_mut(&mut f.body, &mut |s| {
                    if let Step::Call(c) = s {
                        if c.runs_schema {
                            c.resolved = Some(h);
                            c.chosen = true;
                            c.opaque = false;
                            c.runs_schema = false;
                        }
                    }
                });
            });
            let name = model.func(endpoint).name.clone();
            arms.push(vec![Step::Call(Call {
                resolved: Some(through),
                chosen: true,
                // Apart from the extractors', the pool guards' and the middleware's ids.
                ..Call::new(u32::MAX - 12288 - k as u32, loc, Callee::Path(vec![name]))
            })]);
        }
        let body = match arms.len() {
            1 => arms.pop().unwrap_or_default(),
            _ => vec![Step::Branch(arms)],
        };
        let run = add_copy(model, h, |f| f.body = body);
        runs.insert(h, run);
        model.routes[i].handler = run;
    }
}

/// Whether these steps run a GraphQL schema.
fn runs_schema(body: &[Step]) -> bool {
    let mut found = false;
    for step in body {
        step.walk(&mut |s| found |= matches!(s, Step::Call(c) if c.runs_schema));
    }
    found
}
