//! Rule `dns-servers`: the site block names no DNS servers.
//!
//! **What it does.** Reports a `site` block without `dns-servers` (SC0005).
//!
//! **Why it matters.** Every DNS zone siteconf builds (the forward zone of
//! the site's domain and a reverse zone per network) needs name servers for
//! its SOA and NS records, and nodes get their resolvers from the same list
//! (netplan, DHCP). Without it `check` would pass and `build` would fail on
//! the first zone; CI that runs only `check` must see it.
//!
//! **Example.**
//! ```kdl
//! site dc1 {
//!     domain "dc1.example.net"
//!     // dns-servers "10.0.0.2" "10.0.0.3"   ← missing
//! }
//! ```

use super::super::{Ctx, Rule};
use crate::diag::{Code, Diagnostic, Diagnostics};

pub static RULE: Rule = Rule {
    name: "dns-servers",
    codes: &[Code::MissingField],
    check,
    resolved: false,
};

fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let Some(site) = &cx.site.site else {
        // `missing-site` reports that.
        return;
    };
    if !site.dns_servers.is_empty() {
        return;
    }
    diags.push(
        Diagnostic::error(
            Code::MissingField,
            format!("site `{}` declares no `dns-servers`", site.name.value),
        )
        .label(site.name.span, "this site block has no `dns-servers`")
        .help("the DNS zones need name servers for their NS records, and nodes use them as resolvers: add e.g. `dns-servers \"10.0.0.2\" \"10.0.0.3\"` to the site block"),
    );
}
