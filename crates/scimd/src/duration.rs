//! Token lifetimes on the command line; the parser is shared with the admin API.

pub use scimd_server::duration::parse_duration;
