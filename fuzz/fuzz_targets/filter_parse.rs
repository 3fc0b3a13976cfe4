//! Parses arbitrary UTF-8 as a SCIM filter (RFC 7644 §3.4.2.2). Whatever parses must
//! print to canonical text that parses back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimd_protocol::filter::{parse, FilterLimits};

fuzz_target!(|input: &str| {
    let limits = FilterLimits::default();
    if let Ok(filter) = parse(input, &limits) {
        let printed = filter.to_string();
        let reparsed = parse(&printed, &limits)
            .unwrap_or_else(|e| panic!("{input:?} printed as {printed:?} does not parse: {e}"));
        assert_eq!(reparsed, filter, "{input:?} printed as {printed:?}");
    }
});
