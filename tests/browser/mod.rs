//! A real Chromium for the browser tests, driven over W3C WebDriver: `chromedriver` started on a
//! free port, one session per `Browser`, and the few commands page tests need (navigate, find,
//! wait, click, type, read, run a script, screenshot, go offline). Each `Browser` has its own
//! profile folder and its own `HOME`, whose NSS database trusts the facility CA given to it the way
//! a phone does once `ca.pem` is installed.
//!
//! It must never make Chromium skip certificate checks (`--ignore-certificate-errors`,
//! `acceptInsecureCerts`): a page only loads over HTTPS when the CA in its NSS database vouches for
//! the server. It never leaves a browser or driver running: both are stopped on drop.
//!
//! A test target uses it with `mod common; mod browser;` (it reads `crate::common`).
#![allow(dead_code)]

use crate::common::{on_path, required_tool};
use base64::Engine as _;
use serde_json::{Value, json};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The viewport every page test sees, in CSS pixels: a small Android phone. As on a phone, it is
/// the layout width only for a page that declares `<meta name="viewport"
/// content="width=device-width">`; a page without it is laid out 980 px wide and shrunk.
pub const VIEWPORT_WIDTH_PX: u32 = 360;
pub const VIEWPORT_HEIGHT_PX: u32 = 740;
/// Device pixels per CSS pixel, so that screenshots look as sharp as on the phone.
const PIXEL_RATIO: u32 = 2;

/// How long chromedriver may take to answer `/status` as ready after it starts.
const DRIVER_READY_TIMEOUT_SECS: u64 = 20;
/// How long one WebDriver command may take over HTTP (a navigation waits for the page to load).
const COMMAND_TIMEOUT_SECS: u64 = 90;
/// What the driver itself waits for a page load and for a script's result.
const PAGE_LOAD_TIMEOUT_MILLIS: u64 = 30_000;
const SCRIPT_TIMEOUT_MILLIS: u64 = 30_000;
/// How often `wait_for` and `wait_for_text` look again.
const POLL_INTERVAL_MILLIS: u64 = 50;
/// A screenshot of a long page is a few MB of base64; anything past this is not a screenshot.
const RESPONSE_LIMIT_BYTES: u64 = 64 * 1024 * 1024;
/// How many free ports to try when chromedriver loses the race for the one it was given.
const DRIVER_START_ATTEMPTS: u32 = 3;

/// The key W3C WebDriver gives an element reference under.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How to install what the browser tests need on Debian (`.ci/run` does).
pub const INSTALL: &str = "apt-get install chromium chromium-driver libnss3-tools";

/// Whether Chromium, chromedriver and certutil are all on PATH. Under CI a missing one fails the
/// test (`required_tool`); elsewhere it prints that `test` did not run, and the test returns.
pub fn available(test: &str) -> bool {
    required_tool(test, &["chromium", "chromium-browser"], INSTALL).is_some()
        && required_tool(test, &["chromedriver"], INSTALL).is_some()
        && required_tool(test, &["certutil"], INSTALL).is_some()
}

/// A failed WebDriver command: what was asked, and the driver's own error code and message (or
/// why the driver could not be reached).
pub struct DriverError {
    pub command: String,
    /// The W3C error code (`no such element`, `unknown error`, …), or `transport` / `protocol`.
    pub error: String,
    pub message: String,
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.command, self.error, self.message)
    }
}

// Debug is what `expect` prints: the same readable line, not a struct dump.
impl fmt::Debug for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

pub type Result<T> = std::result::Result<T, DriverError>;

fn local_error(command: &str, error: &str, message: impl Into<String>) -> DriverError {
    DriverError {
        command: command.to_owned(),
        error: error.to_owned(),
        message: message.into(),
    }
}

/// One headless Chromium with its own profile, `HOME` and chromedriver.
pub struct Browser {
    driver: Child,
    /// The process group chromedriver leads: Chromium and its helpers are in it too, so that
    /// drop stops all of them even when the session did not end cleanly.
    group: u32,
    agent: ureq::Agent,
    /// What command paths are below: the driver's root (`http://127.0.0.1:PORT`) until the
    /// session exists, then the session's (`…/session/ID`).
    session: String,
    log: PathBuf,
}

impl Browser {
    /// Starts chromedriver and a Chromium session whose profile and `HOME` live in `profile_dir`
    /// (created if missing; one folder per browser, so that two can run at once). With `ca_pem`,
    /// that CA is a trust anchor in the NSS database Chromium reads (`HOME/.pki/nssdb`); without
    /// it, the database is empty and no local CA is trusted.
    pub fn start(profile_dir: &Path, ca_pem: Option<&Path>) -> Result<Browser> {
        let tool = |names: &[&str]| {
            on_path(names).ok_or_else(|| {
                local_error(
                    "start",
                    "missing tool",
                    format!("`{}` is not on PATH ({INSTALL})", names.join("` or `")),
                )
            })
        };
        let chromium = tool(&["chromium", "chromium-browser"])?;
        let chromedriver = tool(&["chromedriver"])?;
        let certutil = tool(&["certutil"])?;
        let home = profile_dir.join("home");
        trust_only(&certutil, &home, ca_pem)?;
        let log = profile_dir.join("chromedriver.log");
        let mut last = None;
        for _ in 0..DRIVER_START_ATTEMPTS {
            match Self::launch(&chromedriver, &chromium, profile_dir, &home, &log) {
                Ok(browser) => return Ok(browser),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| local_error("start", "transport", "no attempt made")))
    }

    fn launch(
        chromedriver: &Path,
        chromium: &Path,
        profile_dir: &Path,
        home: &Path,
        log: &Path,
    ) -> Result<Browser> {
        let port = free_port()?;
        let mut command = Command::new(chromedriver);
        command
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            // Chromium inherits this environment: its NSS database, config and cache are the
            // profile's, never the user's.
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command
            .spawn()
            .map_err(|e| local_error("start", "transport", format!("chromedriver: {e}")))?;
        let group = driver.id();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(COMMAND_TIMEOUT_SECS)))
            // The driver is on loopback: a proxy named in the environment must not sit between.
            .proxy(None)
            .build()
            .into();
        let mut browser = Browser {
            driver,
            group,
            agent,
            session: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
        };
        browser.wait_until_ready()?;
        let answer = browser.call("POST", "/session", &capabilities(chromium, profile_dir))?;
        let id = answer["sessionId"].as_str().ok_or_else(|| {
            local_error(
                "new session",
                "protocol",
                format!("no sessionId in {answer}"),
            )
        })?;
        browser.session = format!("{}/session/{id}", browser.session);
        browser.call(
            "POST",
            "/timeouts",
            &json!({"pageLoad": PAGE_LOAD_TIMEOUT_MILLIS, "script": SCRIPT_TIMEOUT_MILLIS,
                    "implicit": 0}),
        )?;
        Ok(browser)
    }

    /// Polls chromedriver's `/status` until it says ready, or fails with its log.
    fn wait_until_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(DRIVER_READY_TIMEOUT_SECS);
        loop {
            if let Ok(Some(status)) = self.driver.try_wait() {
                return Err(local_error(
                    "start",
                    "transport",
                    format!("chromedriver exited ({status}); log: {}", self.driver_log()),
                ));
            }
            if self
                .call("GET", "/status", &Value::Null)
                .is_ok_and(|v| v["ready"] == true)
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(local_error(
                    "start",
                    "timeout",
                    format!(
                        "chromedriver not ready after {DRIVER_READY_TIMEOUT_SECS} s; log: {}",
                        self.driver_log()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MILLIS));
        }
    }

    /// The last lines of chromedriver's log, for error messages.
    pub fn driver_log(&self) -> String {
        const TAIL_LINES: usize = 40;
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
    }

    /// One HTTP request to the driver at `path` (below the driver's root before the session
    /// exists, below the session after); answers the response's `value`.
    fn call(&self, method: &str, path: &str, body: &Value) -> Result<Value> {
        let command = format!("{method} {path}");
        let url = format!("{}{path}", self.session);
        let sent = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self
                .agent
                .post(&url)
                .content_type("application/json")
                .send(body.to_string()),
        };
        let mut response = sent.map_err(|e| local_error(&command, "transport", e.to_string()))?;
        let text = response
            .body_mut()
            .with_config()
            .limit(RESPONSE_LIMIT_BYTES)
            .read_to_string()
            .map_err(|e| local_error(&command, "transport", e.to_string()))?;
        let mut answer: Value = serde_json::from_str(&text)
            .map_err(|e| local_error(&command, "protocol", format!("{e}: {text}")))?;
        let value = answer["value"].take();
        if response.status().is_success() {
            return Ok(value);
        }
        Err(DriverError {
            command,
            error: value["error"].as_str().unwrap_or("unknown").to_owned(),
            message: value["message"].as_str().unwrap_or_default().to_owned(),
        })
    }

    /// Navigates and waits for the page to load. A page Chromium refuses (a certificate it does
    /// not trust, a server that is down) is an error naming Chromium's `net::ERR_…`.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.call("POST", "/url", &json!({ "url": url })).map(drop)
    }

    pub fn current_url(&self) -> Result<String> {
        string(self.call("GET", "/url", &Value::Null)?, "url")
    }

    pub fn page_source(&self) -> Result<String> {
        string(self.call("GET", "/source", &Value::Null)?, "source")
    }

    /// The text a person reads on the page (`document.body.innerText`; empty without a body).
    pub fn body_text(&self) -> Result<String> {
        string(
            self.execute("return document.body ? document.body.innerText : ''", &[])?,
            "body text",
        )
    }

    /// The first element `css` matches; `no such element` when none does.
    pub fn find(&self, css: &str) -> Result<Element<'_>> {
        let v = self.call(
            "POST",
            "/element",
            &json!({"using": "css selector", "value": css}),
        )?;
        Element::from_reference(self, &v)
    }

    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        let v = self.call(
            "POST",
            "/elements",
            &json!({"using": "css selector", "value": css}),
        )?;
        let list = v
            .as_array()
            .ok_or_else(|| local_error("find_all", "protocol", format!("not a list: {v}")))?;
        list.iter()
            .map(|r| Element::from_reference(self, r))
            .collect()
    }

    /// The first element `css` matches, once one does; the last error after `timeout`.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element<'_>> {
        self.poll(timeout, &format!("wait_for {css}"), || {
            self.find(css).map(Some)
        })
    }

    /// The first element `css` matches once its text contains `text`.
    pub fn wait_for_text(&self, css: &str, text: &str, timeout: Duration) -> Result<Element<'_>> {
        let mut seen = None;
        let found = self.poll(timeout, &format!("wait_for_text {css} {text:?}"), || {
            let element = self.find(css)?;
            let now = element.text()?;
            let matched = now.contains(text);
            seen = Some(now);
            Ok(matched.then_some(element))
        });
        found.map_err(|mut e| {
            if let Some(now) = seen {
                e.message = format!("{}; its text was {now:?}", e.message);
            }
            e
        })
    }

    /// Calls `probe` every `POLL_INTERVAL_MILLIS` until it answers `Some`; after `timeout`, fails
    /// with the last error it gave (or says the condition never held).
    fn poll<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut probe: impl FnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("the condition never held");
        loop {
            match probe() {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => {}
                Err(e) => last = e.to_string(),
            }
            if Instant::now() >= deadline {
                return Err(local_error(
                    what,
                    "timeout",
                    format!("after {timeout:?}: {last}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MILLIS));
        }
    }

    /// Runs `script` as a function body with `args` as `arguments`; answers what it returns. A
    /// returned promise is awaited (W3C WebDriver), so `return (async () => { … })()` works; a
    /// rejection or a throw is a `javascript error` with its message.
    pub fn execute(&self, script: &str, args: &[Value]) -> Result<Value> {
        self.call(
            "POST",
            "/execute/sync",
            &json!({"script": script, "args": args}),
        )
    }

    /// Runs `script` with `args` and a callback as its last argument; answers what the script
    /// passes to the callback (`arguments[arguments.length - 1](value)`).
    pub fn execute_async(&self, script: &str, args: &[Value]) -> Result<Value> {
        self.call(
            "POST",
            "/execute/async",
            &json!({"script": script, "args": args}),
        )
    }

    /// Writes a PNG of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        let encoded = string(self.call("GET", "/screenshot", &Value::Null)?, "screenshot")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| local_error("screenshot", "protocol", e.to_string()))?;
        std::fs::write(path, png)
            .map_err(|e| local_error("screenshot", "io", format!("{}: {e}", path.display())))
    }

    /// A Chrome DevTools Protocol command, through chromedriver's `goog/cdp/execute`.
    pub fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        self.call(
            "POST",
            "/goog/cdp/execute",
            &json!({"cmd": cmd, "params": params}),
        )
    }

    /// Takes the page's network away (or gives it back), as a phone losing its signal: requests
    /// fail and `navigator.onLine` is false.
    pub fn set_offline(&self, offline: bool) -> Result<()> {
        // The emulation applies only once the Network domain is enabled (without it Chromium
        // accepts the command and fetches still go out).
        self.cdp("Network.enable", json!({}))?;
        // -1: no throttling; only reachability changes.
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({"offline": offline, "latency": 0,
                   "downloadThroughput": -1, "uploadThroughput": -1}),
        )
        .map(drop)
    }

    /// The page is no wider than the viewport: nothing to scroll sideways on a phone.
    pub fn no_sideways_scroll(&self) -> std::result::Result<(), String> {
        let v = self
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth]",
                &[],
            )
            .map_err(|e| e.to_string())?;
        let (scroll, inner) = (v[0].as_u64(), v[1].as_u64());
        match (scroll, inner) {
            (Some(s), Some(w)) if s <= w => Ok(()),
            (Some(s), Some(w)) => Err(format!(
                "the page is {s} px wide in a {w} px viewport: it scrolls sideways"
            )),
            _ => Err(format!("unexpected widths {v}")),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium; killing the group catches whatever did not close.
        let _ = self.call("DELETE", "", &Value::Null);
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.group)])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// An element of the current page, as the driver refers to it.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

impl<'b> Element<'b> {
    fn from_reference(browser: &'b Browser, v: &Value) -> Result<Self> {
        let id = v[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| local_error("element", "protocol", format!("not an element: {v}")))?;
        Ok(Element {
            browser,
            id: id.to_owned(),
        })
    }

    fn at(&self, method: &str, what: &str, body: &Value) -> Result<Value> {
        self.browser
            .call(method, &format!("/element/{}{what}", self.id), body)
    }

    pub fn click(&self) -> Result<()> {
        self.at("POST", "/click", &json!({})).map(drop)
    }

    /// Types `text` into the element, as keystrokes.
    pub fn send_keys(&self, text: &str) -> Result<()> {
        self.at("POST", "/value", &json!({ "text": text }))
            .map(drop)
    }

    pub fn clear(&self) -> Result<()> {
        self.at("POST", "/clear", &json!({})).map(drop)
    }

    /// The element's rendered text (what a person sees, not hidden parts).
    pub fn text(&self) -> Result<String> {
        string(self.at("GET", "/text", &Value::Null)?, "text")
    }

    /// The attribute `name`, or `None` when the element has none.
    pub fn attribute(&self, name: &str) -> Result<Option<String>> {
        let v = self.at("GET", &format!("/attribute/{name}"), &Value::Null)?;
        Ok(v.as_str().map(str::to_owned))
    }

    pub fn is_displayed(&self) -> Result<bool> {
        let v = self.at("GET", "/displayed", &Value::Null)?;
        v.as_bool()
            .ok_or_else(|| local_error("displayed", "protocol", format!("not a boolean: {v}")))
    }

    /// The element as a script argument (`arguments[i]` is the DOM element).
    pub fn as_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

fn string(v: Value, what: &str) -> Result<String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| local_error(what, "protocol", format!("not a string: {v}")))
}

/// A port nothing listens on right now (the OS picks it; chromedriver binds it a moment later,
/// and `start` tries again with another if something took it in between).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| local_error("start", "transport", format!("no free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| local_error("start", "transport", e.to_string()))
}

/// Makes `home/.pki/nssdb`, the NSS database Chromium on Linux reads trust anchors from, holding
/// `ca_pem` (trusted to identify servers: `C,,`) and nothing else.
fn trust_only(certutil: &Path, home: &Path, ca_pem: Option<&Path>) -> Result<()> {
    let db = home.join(".pki/nssdb");
    std::fs::create_dir_all(&db)
        .map_err(|e| local_error("start", "io", format!("{}: {e}", db.display())))?;
    let db_arg = format!("sql:{}", db.display());
    let run = |args: &[&str]| -> Result<()> {
        let out = Command::new(certutil)
            .args(args)
            .output()
            .map_err(|e| local_error("certutil", "io", e.to_string()))?;
        if out.status.success() {
            return Ok(());
        }
        Err(local_error(
            &format!("certutil {}", args.join(" ")),
            "failed",
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    };
    if !db.join("cert9.db").exists() {
        run(&["-N", "--empty-password", "-d", &db_arg])?;
    }
    if let Some(ca) = ca_pem {
        let ca = ca
            .to_str()
            .ok_or_else(|| local_error("start", "io", format!("not UTF-8: {}", ca.display())))?;
        run(&[
            "-A",
            "-t",
            "C,,",
            "-n",
            "custody-ca",
            "-i",
            ca,
            "-d",
            &db_arg,
        ])?;
    }
    Ok(())
}

/// Where a session started with `profile_dir` saves what the page downloads.
pub fn downloads(profile_dir: &Path) -> std::path::PathBuf {
    profile_dir.join("downloads")
}

/// The new-session request: headless Chromium with the phone's viewport, its profile in
/// `profile_dir/chrome`, downloads saved without asking into `downloads(profile_dir)`,
/// certificate errors left as errors.
fn capabilities(chromium: &Path, profile_dir: &Path) -> Value {
    let args = vec![
        "--headless=new".to_owned(),
        // Tests may run as root (CI containers), where Chromium's sandbox cannot start.
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        // QUIC would be tried against the server's port; the server speaks TCP only.
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        format!("--user-data-dir={}", profile_dir.join("chrome").display()),
        format!("--window-size={VIEWPORT_WIDTH_PX},{VIEWPORT_HEIGHT_PX}"),
    ];
    json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "acceptInsecureCerts": false,
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": args,
            "prefs": {
                "download.default_directory": downloads(profile_dir).display().to_string(),
                "download.prompt_for_download": false,
            },
            "mobileEmulation": {"deviceMetrics": {
                "width": VIEWPORT_WIDTH_PX, "height": VIEWPORT_HEIGHT_PX,
                "pixelRatio": PIXEL_RATIO}},
        },
    }}})
}
