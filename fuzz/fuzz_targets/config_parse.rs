#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| siteconf_fuzz::entry::config_parse(data));
