//! Helpers for the tests and the fan-out benchmark: the app served on a loopback port
//! ([`serve_on_loopback`]), and a throwaway `redis-server`.
//!
//! [`RedisProcess::start`] runs Debian's `redis-server` on a free loopback port with no
//! automatic persistence (`--save '' --appendonly no`) in a fresh temporary directory,
//! and [`Drop`] kills it by PID and removes the directory, also when a test panics.
//! [`RedisProcess::stop_saving`] and [`RedisProcess::restart`] stop it with `SHUTDOWN
//! SAVE` and start it again on the same port from the saved data: an outage that
//! closes every connection but keeps what Redis acknowledged.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Serves `state`'s app on a free loopback port until the state's shutdown signal, in
/// the background; returns its base URL, `http://127.0.0.1:<port>`.
///
/// # Errors
///
/// Why no loopback port could be bound.
pub async fn serve_on_loopback(state: &crate::AppState) -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot bind a port on 127.0.0.1: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let router = crate::app(state.clone());
    let signal = state.shutdown_signal();
    let config = state.config();
    let (max_connections, header_timeout) = (config.connection_cap(), config.header_timeout);
    tokio::spawn(crate::serve::serve(
        listener,
        router,
        max_connections,
        header_timeout,
        signal,
    ));
    Ok(format!("http://{addr}"))
}

/// How long `redis-server` may take to answer after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The message when `redis-server` cannot be run.
pub const NOT_INSTALLED: &str =
    "redis-server is not installed (or not on PATH); run `bash scripts/setup.sh` to install it";

/// What [`RedisProcess::start`] says of a port another redis-server answers on.
const TAKEN: &str = "is another redis-server's";

/// A `redis-server` child process on `127.0.0.1:port`.
#[derive(Debug)]
pub struct RedisProcess {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot read the free port: {e}"))
}

impl RedisProcess {
    /// Starts `redis-server` on a free loopback port and waits until it answers.
    ///
    /// # Errors
    ///
    /// [`NOT_INSTALLED`] when there is no `redis-server`, or why it did not start.
    pub fn start() -> Result<Self, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wes-redis-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut redis = Self {
            child: None,
            port: free_port()?,
            dir,
        };
        // (A port another test's server took meanwhile: another port, twice at most.)
        for _ in 0..2 {
            match redis.spawn() {
                Err(e) if e.contains(TAKEN) => redis.port = free_port()?,
                done => return done.map(|()| redis),
            }
        }
        redis.spawn().map(|()| redis)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn spawn(&mut self) -> Result<(), String> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--dbfilename", "dump.rdb", "--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => NOT_INSTALLED.to_owned(),
                _ => format!("cannot start redis-server: {e}"),
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            // The answer must be this child's: another test's redis-server that took
            // the port first (`free_port` lets it go before the child binds it) would
            // answer too, while this one fails to bind and exits. (`redis-server` must
            // be the server itself, as Debian's is, not a wrapper that starts it as a
            // child: its process id would never match.)
            if self.ping().is_ok() {
                let id = self.server_pid();
                if id.is_some() && id == self.pid() {
                    return Ok(());
                }
                if let Some(other) = id {
                    let _ = self.child.as_mut().map(Child::kill);
                    let _ = self.child.as_mut().map(Child::wait);
                    self.child = None;
                    return Err(format!(
                        "port {} {TAKEN} (process {other}): try again",
                        self.port
                    ));
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return Err(format!(
                    "redis-server exited at start ({status}); is port {} taken?",
                    self.port
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "redis-server did not answer on port {} within {START_TIMEOUT:?}",
                    self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn connection(&self) -> Result<redis::Connection, String> {
        let client = redis::Client::open(self.url()).map_err(|e| e.to_string())?;
        client
            .get_connection_with_timeout(Duration::from_secs(2))
            .map_err(|e| e.to_string())
    }

    /// The process id the server on the port reports (`INFO server`), if it answers.
    fn server_pid(&self) -> Option<u32> {
        let info: String = self.query(redis::cmd("INFO").arg("server")).ok()?;
        info.lines()
            .find_map(|line| line.strip_prefix("process_id:"))
            .and_then(|id| id.trim().parse().ok())
    }

    /// Sends `PING`.
    ///
    /// # Errors
    ///
    /// When it does not answer.
    pub fn ping(&self) -> Result<(), String> {
        let mut conn = self.connection()?;
        redis::cmd("PING")
            .query::<String>(&mut conn)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Runs one command and returns its reply.
    ///
    /// # Errors
    ///
    /// When Redis cannot be reached or answers with an error.
    pub fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, String> {
        let mut conn = self.connection()?;
        cmd.query(&mut conn).map_err(|e| e.to_string())
    }

    /// Stops it with `SHUTDOWN SAVE` (its data is written to its directory) and waits
    /// for the process to exit.
    ///
    /// # Errors
    ///
    /// When it cannot be told to stop or does not exit in time.
    pub fn stop_saving(&mut self) -> Result<(), String> {
        let mut conn = self.connection()?;
        // The connection closes instead of answering.
        let _ = redis::cmd("SHUTDOWN").arg("SAVE").query::<()>(&mut conn);
        let deadline = Instant::now() + START_TIMEOUT;
        while let Some(child) = self.child.as_mut() {
            match child.try_wait() {
                Ok(Some(_)) => self.child = None,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => return Err("redis-server did not stop after SHUTDOWN SAVE".into()),
                Err(e) => return Err(format!("cannot wait for redis-server: {e}")),
            }
        }
        Ok(())
    }

    /// Starts it again on the same port and directory (so with the data saved by
    /// [`RedisProcess::stop_saving`]) and waits until it answers.
    ///
    /// # Errors
    ///
    /// As [`RedisProcess::start`].
    pub fn restart(&mut self) -> Result<(), String> {
        if self.child.is_some() {
            return Err("redis-server is still running; stop it first".into());
        }
        self.spawn()
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A global allocator for the unit tests that counts, per thread, the bytes allocated
/// and not freed yet, so that a test can measure what a structure holds against what
/// it counts.
#[cfg(test)]
pub(crate) mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
    }

    fn add(bytes: isize) {
        // (A thread being torn down may have lost its slot: nothing to count then.)
        let _ = LIVE.try_with(|live| live.set(live.get() + bytes));
    }

    fn size(bytes: usize) -> isize {
        isize::try_from(bytes).unwrap_or(isize::MAX)
    }

    /// [`System`], counting.
    pub(crate) struct Counting;

    // SAFETY: every call goes to `System` as it came; only sizes are counted.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's guarantees, passed on.
            let ptr = unsafe { System.alloc(layout) };
            if !ptr.is_null() {
                add(size(layout.size()));
            }
            ptr
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's guarantees, passed on.
            let ptr = unsafe { System.alloc_zeroed(layout) };
            if !ptr.is_null() {
                add(size(layout.size()));
            }
            ptr
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the caller's guarantees, passed on.
            unsafe { System.dealloc(ptr, layout) };
            add(-size(layout.size()));
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: the caller's guarantees, passed on.
            let new = unsafe { System.realloc(ptr, layout, new_size) };
            if !new.is_null() {
                add(size(new_size) - size(layout.size()));
            }
            new
        }
    }

    /// Bytes this thread allocated and did not free yet (a block freed on another
    /// thread counts there): the difference between two calls is what the code run on
    /// this thread in between keeps.
    pub(crate) fn live() -> isize {
        LIVE.with(Cell::get)
    }
}
