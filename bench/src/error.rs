//! The bench's one error type.

/// Why a bench command could not run (an operation that fails during a load is not
/// an error: it is counted and reported).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The target URL is not on the loopback interface.
    #[error("refusing target {url}: only 127.0.0.1, ::1 and localhost may be load-tested")]
    NotLoopback {
        /// The URL given.
        url: String,
    },
    /// The target URL does not parse or has no host.
    #[error("invalid target URL {url}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The bearer token cannot be sent in a header (a control character in it).
    #[error("the bearer token is not a valid HTTP header value")]
    BadToken,
    /// The HTTP client failed (connection refused, timeout, ...).
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// A request that must succeed for the scenario to make sense did not.
    #[error("{what}: HTTP {status}: {body}")]
    Unexpected {
        /// The request.
        what: String,
        /// The status received.
        status: u16,
        /// The start of the body received.
        body: String,
    },
    /// Reading or writing a file, spawning a process.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A results file or response is not the JSON expected.
    #[error("{context}: {source}")]
    Json {
        /// What was being read.
        context: String,
        /// The cause.
        source: serde_json::Error,
    },
    /// A measurement could not be completed.
    #[error("{0}")]
    Measurement(String),
}

impl BenchError {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> BenchError {
        BenchError::Io {
            context: context.into(),
            source,
        }
    }

    /// A JSON error with what was being read.
    pub fn json(context: impl Into<String>, source: serde_json::Error) -> BenchError {
        BenchError::Json {
            context: context.into(),
            source,
        }
    }
}
