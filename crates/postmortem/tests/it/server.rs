//! `postmortem serve` as a real process: started on a free port, its stderr followed line by
//! line, stopped (or killed) by the test.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// A running `postmortem serve`.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Every line the server wrote to stderr so far, and the ones still to come.
    pub lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Server {
    /// Starts `postmortem serve` on a free port with `args` (and `env`), and waits until it
    /// says where it listens.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::start_at("127.0.0.1:0", args, env)
    }

    /// Starts `postmortem serve` listening on `addr`.
    pub fn start_at(addr: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_postmortem"));
        command
            .args(["serve", "--addr", addr])
            .args(args)
            .env_remove("POSTMORTEM_DATABASE_URL")
            .env_remove("POSTMORTEM_CONFIG")
            .env_remove("POSTMORTEM_LOG")
            .env_remove("POSTMORTEM_LOG_FORMAT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("the binary starts");
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            lines,
            seen: Vec::new(),
        };
        let line = server.wait_for("listening on http://", Duration::from_secs(30));
        let at = line.find("http://").unwrap();
        server.base = line[at..]
            .split(|c: char| c == '"' || c.is_whitespace())
            .next()
            .unwrap()
            .to_owned();
        server
    }

    /// The first line (from now on) containing `text`; panics with what was seen after
    /// `timeout`.
    pub fn wait_for(&mut self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {text:?}; the server wrote: {:#?}", self.seen),
            }
        }
    }

    /// Kills the server (SIGKILL) and returns everything it wrote to stderr.
    pub fn kill(mut self) -> Vec<String> {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let rest: Vec<String> = self.lines.iter().collect();
        self.seen.extend(rest);
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
