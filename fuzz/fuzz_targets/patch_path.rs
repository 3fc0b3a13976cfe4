//! Parses arbitrary UTF-8 as a PATCH path (RFC 7644 §3.5.2). Whatever parses must
//! print to text that parses back to the same path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimd_protocol::filter::FilterLimits;
use scimd_protocol::path::PatchPath;

fuzz_target!(|input: &str| {
    let limits = FilterLimits::default();
    if let Ok(path) = PatchPath::parse(input, &limits) {
        let printed = path.to_string();
        let reparsed = PatchPath::parse(&printed, &limits)
            .unwrap_or_else(|e| panic!("{input:?} printed as {printed:?} does not parse: {e}"));
        assert_eq!(reparsed, path, "{input:?} printed as {printed:?}");
    }
});
