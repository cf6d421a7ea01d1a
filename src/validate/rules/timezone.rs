//! Rule `timezone`: a site `timezone` that is not a tzdata zone.
//!
//! **What it does.** Reports (SC0044) a `timezone` of the site block that
//! is not a zone or link name of tzdata (`Europe/Berln`, `CEST`, `UTC+2`),
//! with the closest name as a hint. The names are data:
//! `data/tzdata-2025b-zones.txt`, generated from Debian's tzdata 2025b (its
//! header says how).
//!
//! **Why it matters.** The value goes into every node's cloud-init
//! `timezone`, which must name a file under /usr/share/zoneinfo: with a
//! typo, cloud-init fails that module on first boot and the node keeps the
//! image's zone — logs and cron then disagree across the fleet.
//!
//! **Example.**
//! ```kdl
//! site dc1 { domain "dc1.example.net"; timezone "Europe/Berln" }   // SC0044: did you mean `Europe/Berlin`?
//! ```

use super::super::{Ctx, Rule};
use super::suggest;
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "timezone",
    codes: &[Code::InvalidTimezone],
    check,
    resolved: false,
};

const DATA: &str = include_str!("../../../data/tzdata-2025b-zones.txt");

/// Every zone and link name, sorted.
fn zones() -> impl Iterator<Item = &'static str> + Clone {
    DATA.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
}

/// Whether `name` is a tzdata zone or link name.
pub(crate) fn is_zone(name: &str) -> bool {
    zones().any(|z| z == name)
}

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(tz) = cx.site.site.as_ref().and_then(|s| s.timezone.as_ref()) else {
        return;
    };
    if is_zone(&tz.value) {
        return;
    }
    let hint = suggest(&tz.value, zones(), || {
        "use a tzdata name such as `Etc/UTC` or `Europe/Berlin` (`timedatectl list-timezones` lists them)".into()
    });
    diags.push(
        Diagnostic::error(
            Code::InvalidTimezone,
            format!("`{}` is not a time zone of tzdata", tz.value),
        )
        .label(tz.span, "cloud-init cannot set this zone")
        .help(hint),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names() {
        assert!(is_zone("Etc/UTC"));
        assert!(is_zone("Europe/Berlin"));
        assert!(is_zone("UTC"));
        assert!(!is_zone("Europe/Berln"));
        assert!(!is_zone("europe/berlin"));
        assert!(!is_zone(""));
        assert!(zones().count() > 500);
    }
}
