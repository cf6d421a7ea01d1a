//! Rule `rack-position-shared`: two racks at one place on the floor.
//!
//! **What it does.** Reports (SC0403, a warning) a rack whose `room`, `row`
//! and `position` are all those of a rack declared before it. Racks without
//! a `position` are not compared.
//!
//! **Why it matters.** The floor position is how technicians find a rack
//! and how the rack diagrams are laid out; two racks at one spot means one
//! of them (and every machine in it) is on the floor plan in the wrong
//! place — usually a copied rack block whose position was not changed.
//!
//! **Example.**
//! ```kdl
//! rack r01 { room hall-1; row A; position 1; height 42; }
//! rack r02 { room hall-1; row A; position 1; height 42; }   // SC0403
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "rack-position-shared",
    codes: &[Code::RackPositionShared],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let place_of = |r: &'_ crate::model::Rack| {
        let pos = r.position.as_ref()?;
        Some((
            r.room.as_ref().map(|x| x.value.clone()),
            r.row.as_ref().map(|x| x.value.clone()),
            pos.value,
        ))
    };
    for (prev, r) in super::repeats(&cx.site.racks, place_of, |r| r.name.as_str()) {
        let Some(pos) = &r.position else { continue };
        let key = (
            r.room.as_ref().map(|x| x.as_str()),
            r.row.as_ref().map(|x| x.as_str()),
        );
        let place = match (key.0, key.1) {
            (Some(room), Some(row)) => {
                format!("room `{room}`, row `{row}`, position {}", pos.value)
            }
            (Some(room), None) => format!("room `{room}`, position {}", pos.value),
            (None, Some(row)) => format!("row `{row}`, position {}", pos.value),
            (None, None) => format!("position {}", pos.value),
        };
        let prev_pos = prev
            .position
            .as_ref()
            .map(|p| p.span)
            .unwrap_or(prev.name.span);
        diags.push(
            Diagnostic::warning(
                Code::RackPositionShared,
                format!(
                    "rack `{}` is at {place}, where rack `{}` already is",
                    r.name.value, prev.name.value
                ),
            )
            .label(pos.span, "the same floor position")
            .label(prev_pos, format!("rack `{}` is here", prev.name.value))
            .help("give each rack its own `position` in its row (or its own `row` or `room`)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;

    #[test]
    fn two_racks_at_one_position_warn_and_different_rows_do_not() {
        let base = r#"site dc1 { domain "dc1.example.net"; dns-servers "10.0.0.2"; }
"#;
        let same = format!(
            "{base}rack r01 {{ room a; row A; position 1; height 42; }}\nrack r02 {{ room a; row A; position 1; height 42; }}\n"
        );
        assert!(codes(&same).contains(&"SC0403"));
        let other = format!(
            "{base}rack r01 {{ room a; row A; position 1; height 42; }}\nrack r02 {{ room a; row B; position 1; height 42; }}\n"
        );
        assert!(!codes(&other).contains(&"SC0403"));
    }
}
