//! The output of `hopcheck plan`: a table of scenarios, every route's cost under each, what each scenario
//! needs, and the recommendation (human), or the same as versioned JSON.

use super::table;
use crate::plan::Plan;
use crate::rules::fmt_ms;

pub fn json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_else(|e| {
        // Serialising plain structs cannot fail; say so in the output rather than panic.
        format!("{{\"version\":1,\"error\":\"{e}\"}}")
    });
    text.push('\n');
    text
}

pub fn human(plan: &Plan) -> String {
    let mut out = String::new();
    let ms = |x: f64| format!("{} ms", fmt_ms(x));

    let mut rows = vec![vec![
        "scenario".to_string(),
        "routes over budget".into(),
        "median route".into(),
        "worst route".into(),
    ]];
    for s in &plan.scenarios {
        rows.push(vec![
            s.name.to_string(),
            s.over_budget.to_string(),
            ms(s.median_ms),
            ms(s.worst_ms),
        ]);
    }
    out.push_str(&table(&rows, &[1, 2, 3]));

    // Every route, a column per scenario; `!` marks a cost over its budget.
    let several = plan.deployments.len() > 1;
    let mut header = vec!["route".to_string(), "handler".into()];
    if several {
        header.push("from".into());
    }
    header.extend(plan.scenarios.iter().map(|s| s.name.to_string()));
    header.push("budget".into());
    let mut rows = vec![header];
    if let Some(first) = plan.scenarios.first() {
        for (i, r) in first.routes.iter().enumerate() {
            let name = match (&r.method, &r.path) {
                (Some(m), Some(p)) => format!("{m} {p}"),
                _ => format!("{} (no route found)", r.handler),
            };
            let mut row = vec![name, r.handler.clone()];
            if several {
                row.push(r.deployment.clone());
            }
            for s in &plan.scenarios {
                let Some(x) = s.routes.get(i) else {
                    row.push(String::new());
                    continue;
                };
                let cell = if x.static_files && s.name == "cdn" {
                    "edge".to_string()
                } else {
                    ms(x.estimated_ms)
                };
                row.push(if x.over_budget {
                    format!("{cell} !")
                } else {
                    format!("{cell}  ")
                });
            }
            row.push(ms(r.budget_ms));
            rows.push(row);
        }
    }
    let first_number = if several { 3 } else { 2 };
    let numbers: Vec<usize> = (first_number..rows[0].len()).collect();
    out.push('\n');
    out.push_str(&table(&rows, &numbers));
    out.push_str("(! over budget)\n");

    out.push_str("\nWhat each scenario is and needs:\n");
    for s in &plan.scenarios {
        let indent = " ".repeat(17);
        out.push_str(&wrap(&format!("  {:<14} ", s.name), &s.summary, &indent));
        for c in &s.changes {
            out.push_str(&wrap(&format!("{indent}- "), c, &format!("{indent}  ")));
        }
    }
    out.push('\n');
    out.push_str(&wrap("Recommendation: ", &plan.recommendation, ""));
    out
}

/// How wide the plan's prose runs.
const WIDTH: usize = 110;

/// `head` then `body` wrapped at spaces to [`WIDTH`] columns, the lines after the first starting with
/// `indent`; a word longer than a line stays whole. Ends with a newline.
fn wrap(head: &str, body: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = head.to_string();
    let mut empty = true;
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = indent.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}
