//! Server configuration and command-line parsing.

use std::path::PathBuf;
use std::time::Duration;

/// Port used when neither `--port` nor `PORT` is given.
pub const DEFAULT_PORT: u16 = 8080;

/// Interval of the built-in `ticker` channel when `--ticker-ms` is not given.
pub const DEFAULT_TICKER: Duration = Duration::from_secs(1);

/// Default [`Config::channel_budget`]: 64 MiB.
pub const DEFAULT_CHANNEL_BUDGET: usize = 64 * 1024 * 1024;

/// Default [`Config::log_budget`]: 64 MiB.
pub const DEFAULT_LOG_BUDGET: usize = 64 * 1024 * 1024;

/// Default [`Config::max_requests`].
pub const DEFAULT_MAX_REQUESTS: usize = 10_000;

/// The connections held beyond [`Config::max_requests`] when
/// [`Config::max_connections`] is not set: room for requests over their cap to reach it
/// (and get its 503), and for idle keep-alive connections.
pub const CONNECTIONS_OVER_REQUESTS: usize = 1024;

/// Default [`Config::header_timeout`]: 10 seconds.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Usage text printed by `--help` and after an argument error.
pub const USAGE: &str = "\
usage: wasm-eventsource-server [--port N] [--www DIR] [--pkg DIR] [--examples DIR]
                               [--ticker-ms MS] [--channel-budget BYTES] [--log-budget BYTES]
                               [--max-requests N] [--max-connections N] [--redis URL]
                               [--flask-sse]

  --port N                port to listen on at 127.0.0.1 (env PORT; default 8080; 0 picks a free port)
  --www DIR               static files served at / (default: <workspace>/www)
  --pkg DIR               the built package served at /pkg/ (default: <workspace>/pkg-web)
  --examples DIR          the built examples served at /examples/ (default: <workspace>/examples-dist)
  --ticker-ms MS          interval of the `ticker` channel in milliseconds (default 1000; 0 disables)
  --channel-budget BYTES  bytes of replay buffer for all channels together (default 67108864,
                          at least 1024; with --redis, of the live entries each instance keeps
                          for its streams)
  --log-budget BYTES      bytes of scenario request logs for all tokens together (default 67108864,
                          at least 1024)
  --max-requests N        requests answered at once, an open stream counting until it ends
                          (default 10000); the next ones get a 503
  --max-connections N     connections held at once (default: --max-requests + 1024); the next
                          ones wait until one closes. A connection that sends no request for
                          10 s is closed, a request body not there 10 s after its head a 408
  --redis URL             keep channels in Redis streams shared by every instance using the same
                          Redis, e.g. redis://127.0.0.1:6379/0 (env REDIS_URL; default: in memory)
  --flask-sse             also turn Flask-SSE's pub/sub messages into events (needs --redis)
  --help                  print this text

On start the server prints one line to stdout: `listening on http://127.0.0.1:PORT`.";

/// What the server serves besides its routes, and the built-in publishers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Directory served as static files at `/`. Defaults to `<workspace>/www`.
    pub www_dir: PathBuf,
    /// Directory served as static files at `/pkg/`. Defaults to `<workspace>/pkg-web`.
    pub pkg_dir: PathBuf,
    /// Directory served as static files at `/examples/`. Defaults to
    /// `<workspace>/examples-dist`.
    pub examples_dir: PathBuf,
    /// Interval between `tick` events on the `ticker` channel; `None` disables the
    /// ticker. Defaults to one second.
    pub ticker: Option<Duration>,
    /// Bytes of replay buffer all channels may hold together, counting each event's
    /// type, id and data plus a fixed overhead (and each channel's id of its newest
    /// evicted event); over it, the globally oldest events are evicted first. With the
    /// Redis broker, it bounds the live entries this instance keeps for its streams
    /// instead (besides each channel's last page read). Defaults to
    /// [`DEFAULT_CHANNEL_BUDGET`].
    pub channel_budget: usize,
    /// Bytes of scenario request records all tokens may hold together, counting each
    /// record's JSON size, its token and a fixed overhead; over it, the globally oldest
    /// records are evicted first. Defaults to [`DEFAULT_LOG_BUDGET`].
    pub log_budget: usize,
    /// Most requests answered at once, a streaming response counting until its body
    /// ends (so every open `/events` stream counts); over it, a request gets a 503 with
    /// a JSON error. At least 1. Defaults to [`DEFAULT_MAX_REQUESTS`].
    pub max_requests: usize,
    /// Most connections held at once (by [`crate::serve::serve`]), idle keep-alive ones
    /// included; the next ones wait in the operating system's queue until one closes.
    /// At least 1. `None` (the default): [`Config::max_requests`] and
    /// [`CONNECTIONS_OVER_REQUESTS`] more (see [`Config::connection_cap`]).
    pub max_connections: Option<usize>,
    /// How long a connection may take to send a request's head, from when it opens or
    /// its previous response ends; then it is closed (by [`crate::serve::serve`]). A
    /// request's body has as long again from its head; then the request fails (`/publish`
    /// answers 408). Not a command-line flag. Defaults to [`DEFAULT_HEADER_TIMEOUT`].
    pub header_timeout: Duration,
    /// The Redis URL of the shared broker (`redis://HOST:PORT/DB`); `None` keeps events
    /// in this process. Defaults to `None`.
    pub redis: Option<String>,
    /// Whether to bridge Flask-SSE's Redis pub/sub messages into channels (needs
    /// [`Config::redis`]). Defaults to `false`.
    pub flask_sse: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            www_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www")),
            pkg_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../pkg-web")),
            examples_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples-dist")),
            ticker: Some(DEFAULT_TICKER),
            channel_budget: DEFAULT_CHANNEL_BUDGET,
            log_budget: DEFAULT_LOG_BUDGET,
            max_requests: DEFAULT_MAX_REQUESTS,
            max_connections: None,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            redis: None,
            flask_sse: false,
        }
    }
}

impl Config {
    /// The most connections held at once: [`Config::max_connections`], or else
    /// [`Config::max_requests`] and [`CONNECTIONS_OVER_REQUESTS`] more, so that a
    /// request over the request cap still reaches it and gets its 503.
    pub fn connection_cap(&self) -> usize {
        self.max_connections
            .unwrap_or_else(|| self.max_requests.saturating_add(CONNECTIONS_OVER_REQUESTS))
    }
}

/// Everything the binary needs to start serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Port to bind on 127.0.0.1; 0 asks the OS for a free one.
    pub port: u16,
    /// The application configuration.
    pub config: Config,
}

/// The outcome of parsing the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start the server with these arguments.
    Serve(Args),
    /// Print [`USAGE`] and exit.
    Help,
}

/// Parses the command line (without the program name) and the value of the `PORT`
/// environment variable, as [`parse_args_with_redis`] with no `REDIS_URL`.
///
/// # Errors
///
/// A lowercase sentence naming the bad argument and what to pass instead.
pub fn parse_args<I>(args: I, env_port: Option<&str>) -> Result<Command, String>
where
    I: IntoIterator<Item = String>,
{
    parse_args_with_redis(args, env_port, None)
}

/// Parses the command line (without the program name) and the values of the `PORT` and
/// `REDIS_URL` environment variables. `--port` wins over `PORT`: an invalid `PORT` is
/// an error only when `--port` is not given; `--redis` wins over `REDIS_URL` (an empty
/// one counts as unset). Both `--flag value` and `--flag=value` are accepted.
///
/// # Errors
///
/// A lowercase sentence naming the bad argument and what to pass instead.
pub fn parse_args_with_redis<I>(
    args: I,
    env_port: Option<&str>,
    env_redis: Option<&str>,
) -> Result<Command, String>
where
    I: IntoIterator<Item = String>,
{
    let mut config = Config::default();
    let mut port = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        if flag == "--help" || flag == "-h" {
            return Ok(Command::Help);
        }
        if flag == "--flask-sse" && inline.is_none() {
            config.flask_sse = true;
            continue;
        }
        if !matches!(
            flag.as_str(),
            "--port"
                | "--www"
                | "--pkg"
                | "--examples"
                | "--ticker-ms"
                | "--channel-budget"
                | "--log-budget"
                | "--max-requests"
                | "--max-connections"
                | "--redis"
        ) {
            return Err(format!(
                "unknown argument `{flag}`; see --help for the accepted flags"
            ));
        }
        let value = match inline.or_else(|| args.next()) {
            Some(value) => value,
            None => return Err(format!("`{flag}` needs a value; see --help")),
        };
        match flag.as_str() {
            "--port" => port = Some(parse_port(&value, "--port")?),
            // (An empty path would serve the working directory, dotfiles and all.)
            "--www" | "--pkg" | "--examples" if value.is_empty() => {
                return Err(format!("`{flag}` needs a directory, got an empty value"));
            }
            "--www" => config.www_dir = PathBuf::from(value),
            "--pkg" => config.pkg_dir = PathBuf::from(value),
            "--examples" => config.examples_dir = PathBuf::from(value),
            "--channel-budget" => config.channel_budget = parse_bytes(&value, "--channel-budget")?,
            "--log-budget" => config.log_budget = parse_bytes(&value, "--log-budget")?,
            "--max-requests" => config.max_requests = parse_count(&value, "--max-requests")?,
            "--max-connections" => {
                config.max_connections = Some(parse_count(&value, "--max-connections")?);
            }
            "--redis" => config.redis = Some(value),
            _ => {
                let ms: u64 = value.parse().map_err(|_| {
                    format!("--ticker-ms must be a whole number of milliseconds, got `{value}`")
                })?;
                config.ticker = (ms > 0).then(|| Duration::from_millis(ms));
            }
        }
    }
    let port = match (port, env_port) {
        (Some(port), _) => port,
        (None, Some(value)) => parse_port(value, "the PORT environment variable")?,
        (None, None) => DEFAULT_PORT,
    };
    if config.redis.is_none() {
        config.redis = env_redis
            .filter(|url| !url.trim().is_empty())
            .map(str::to_owned);
    }
    if let Some(url) = &config.redis {
        crate::broker::redis::check_url(url)?;
    }
    if config.flask_sse && config.redis.is_none() {
        return Err(
            "--flask-sse needs a redis broker; add --redis URL or set REDIS_URL".to_owned(),
        );
    }
    Ok(Command::Serve(Args { port, config }))
}

/// The least a byte budget may be: under it, it keeps no event or record at all
/// (every one evicted as it comes), and what waits for one waits for good.
const MIN_BUDGET: usize = 1024;

fn parse_bytes(value: &str, flag: &str) -> Result<usize, String> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|n| *n >= MIN_BUDGET)
        .ok_or_else(|| {
            format!("{flag} must be a whole number of bytes, at least {MIN_BUDGET}, got `{value}`")
        })
}

fn parse_count(value: &str, flag: &str) -> Result<usize, String> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{flag} must be a whole number of at least 1, got `{value}`"))
}

fn parse_port(value: &str, source: &str) -> Result<u16, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{source} must be a port number from 0 to 65535, got `{value}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: Option<&str>) -> Result<Command, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()), env)
    }

    fn serve(args: &[&str], env: Option<&str>) -> Args {
        match parse(args, env) {
            Ok(Command::Serve(args)) => args,
            other => panic!("expected Serve, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let args = serve(&[], None);
        assert_eq!(args.port, 8080);
        assert_eq!(args.config, Config::default());
        assert!(args.config.www_dir.ends_with("www"));
    }

    #[test]
    fn an_empty_directory_is_refused() {
        // What broke (a review): `--www=` (a variable that was not set) served the
        // working directory, `.git` included, while the server said it served 404s.
        for flag in ["--www=", "--pkg=", "--examples="] {
            assert!(
                parse(&[flag], None).is_err_and(|e| e.contains("needs a directory")),
                "{flag}"
            );
        }
        assert!(parse(&["--www", ""], None).is_err());
        assert!(parse(&["--www", "site"], None).is_ok());
    }

    #[test]
    fn flag_wins_over_env() {
        assert_eq!(serve(&[], Some("9000")).port, 9000);
        assert_eq!(serve(&["--port", "0"], Some("9000")).port, 0);
        assert_eq!(serve(&["--port=1234"], None).port, 1234);
    }

    // Regression: an invalid PORT was an error even when --port overrode it.
    #[test]
    fn invalid_env_port_is_ignored_when_the_flag_is_given() {
        assert_eq!(serve(&["--port", "1234"], Some("not a port")).port, 1234);
        assert_eq!(serve(&["--port=0"], Some("70000")).port, 0);
        assert!(parse(&[], Some("not a port")).is_err_and(|e| e.contains("PORT")));
    }

    #[test]
    fn budgets() {
        let args = serve(&["--channel-budget", "1024", "--log-budget=2048"], None);
        assert_eq!(args.config.channel_budget, 1024);
        assert_eq!(args.config.log_budget, 2048);
        assert_eq!(serve(&[], None).config.log_budget, DEFAULT_LOG_BUDGET);
        assert!(parse(&["--log-budget", "-1"], None).is_err_and(|e| e.contains("--log-budget")));
        // What broke (a review): a budget of 0 was taken, and kept nothing: every record
        // went as it was logged, and a test waiting for one waited for good.
        for flag in ["--log-budget=0", "--channel-budget=1023"] {
            assert!(
                parse(&[flag], None).is_err_and(|e| e.contains("at least 1024")),
                "{flag}"
            );
        }
        assert_eq!(serve(&["--max-requests=5"], None).config.max_requests, 5);
        assert_eq!(serve(&[], None).config.max_requests, DEFAULT_MAX_REQUESTS);
        assert_eq!(
            serve(&["--max-connections", "3"], None)
                .config
                .connection_cap(),
            3
        );
        // Requests over their cap still reach it (and its 503) by default.
        assert_eq!(
            serve(&["--max-requests", "5"], None)
                .config
                .connection_cap(),
            5 + CONNECTIONS_OVER_REQUESTS
        );
        for bad in ["0", "x"] {
            assert!(parse(&["--max-requests", bad], None).is_err_and(|e| e.contains("at least 1")));
        }
    }

    #[test]
    fn directories_and_ticker() {
        let args = serve(
            &[
                "--www",
                "/a",
                "--pkg=/b",
                "--examples",
                "/c",
                "--ticker-ms",
                "0",
            ],
            None,
        );
        assert_eq!(args.config.www_dir, PathBuf::from("/a"));
        assert_eq!(args.config.pkg_dir, PathBuf::from("/b"));
        assert_eq!(args.config.examples_dir, PathBuf::from("/c"));
        assert_eq!(args.config.ticker, None);
        let args = serve(&["--ticker-ms", "250"], None);
        assert_eq!(args.config.ticker, Some(Duration::from_millis(250)));
    }

    #[test]
    fn redis() {
        let with = |args: &[&str], env: Option<&str>| {
            parse_args_with_redis(args.iter().map(|s| (*s).to_owned()), None, env)
        };
        let Ok(Command::Serve(args)) =
            with(&["--redis", "redis://127.0.0.1:1/0"], Some("redis://x"))
        else {
            panic!("--redis");
        };
        assert_eq!(args.config.redis.as_deref(), Some("redis://127.0.0.1:1/0"));
        assert!(!args.config.flask_sse);
        let Ok(Command::Serve(args)) = with(&["--flask-sse"], Some("redis://127.0.0.1:2")) else {
            panic!("REDIS_URL");
        };
        assert_eq!(args.config.redis.as_deref(), Some("redis://127.0.0.1:2"));
        assert!(args.config.flask_sse);
        assert_eq!(serve(&[], None).config.redis, None);
        let Ok(Command::Serve(args)) = with(&[], Some("")) else {
            panic!("empty REDIS_URL");
        };
        assert_eq!(args.config.redis, None);
        assert!(with(&["--flask-sse"], None).is_err_and(|e| e.contains("--redis")));
        assert!(with(&["--redis", "http://x"], None).is_err_and(|e| e.contains("redis url")));
    }

    #[test]
    fn errors_are_sentences() {
        assert!(parse(&["--port", "x"], None).is_err_and(|e| e.contains("--port")));
        assert!(parse(&[], Some("70000")).is_err_and(|e| e.contains("PORT")));
        assert!(parse(&["--bogus"], None).is_err_and(|e| e.contains("--bogus")));
        assert!(parse(&["--www"], None).is_err_and(|e| e.contains("needs a value")));
        assert_eq!(parse(&["--help"], None), Ok(Command::Help));
    }
}
