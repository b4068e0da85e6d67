//! The hostile corpus (`tests/hostile/*.toml`): scenarios written to break
//! vpcsim, each run through `validate`, `check` and `run --pcap` as a user
//! would run a file nobody has read, with a memory cap and a time limit.
//!
//! For every file: no panic, no hang, no escape sequence reaches the
//! terminal, output stays bounded, nothing is written outside the pcap
//! directory (a link planted there is replaced, never written through), every
//! pcap `run` reports is there and nothing else is, and a refused file is
//! refused by all three commands with a located error, simulating nothing.
//!
//! Each file says what it expects in comment lines at its top:
//! - `# expect: valid`, `# expect: invalid [LINE:COLUMN]`, or `# expect: any`
//!   (refused with a located error, or runs cleanly);
//! - `# message: TEXT`: the error says TEXT; `# never: TEXT`: nothing printed
//!   says TEXT (a file's contents that must not be echoed);
//! - `# max-output: BYTES` (default 1 MiB for each command's output);
//! - `# setup: fifo NAME | symlink NAME TARGET | file NAME TEXT... | big NAME CHARS`:
//!   made beside the scenario before it runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Per command. A hang is a failure, not a wait.
const TIME_LIMIT: Duration = Duration::from_secs(120);
/// Address space per command.
const MEMORY_LIMIT: u64 = 4 << 30;
const DEFAULT_MAX_OUTPUT: u64 = 1 << 20;

#[derive(Debug, PartialEq)]
enum Expect {
    Valid,
    Invalid(Option<(usize, usize)>),
    Any,
}

struct Case {
    name: String,
    text: String,
    expect: Expect,
    messages: Vec<String>,
    never: Vec<String>,
    max_output: u64,
    setups: Vec<Vec<String>>,
}

fn parse(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name").to_string();
    let mut case = Case {
        name,
        text: text.clone(),
        expect: Expect::Any,
        messages: Vec::new(),
        never: Vec::new(),
        max_output: DEFAULT_MAX_OUTPUT,
        setups: Vec::new(),
    };
    let mut said = false;
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let Some((key, value)) = line.trim_start_matches('#').trim().split_once(':') else { continue };
        let value = value.trim();
        match key {
            "expect" => {
                said = true;
                let mut words = value.split_whitespace();
                case.expect = match words.next() {
                    Some("valid") => Expect::Valid,
                    Some("any") => Expect::Any,
                    Some("invalid") => Expect::Invalid(words.next().map(|at| {
                        let (l, c) = at.split_once(':').expect("LINE:COLUMN");
                        (l.parse().expect("a line"), c.parse().expect("a column"))
                    })),
                    other => panic!("{}: unknown expectation {other:?}", case.name),
                };
            }
            "message" => case.messages.push(value.to_string()),
            "never" => case.never.push(value.to_string()),
            "max-output" => case.max_output = value.parse().expect("a byte count"),
            "setup" => case.setups.push(value.split_whitespace().map(str::to_string).collect()),
            _ => {}
        }
    }
    assert!(said, "{}: no `# expect:` line", case.name);
    case
}

/// What one command did.
struct Ran {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Ran {
    fn text(&self) -> String {
        format!("{}{}", String::from_utf8_lossy(&self.stdout), String::from_utf8_lossy(&self.stderr))
    }
}

fn vpcsim(case: &Case, dir: &Path, args: &[&str]) -> Ran {
    let out = dir.join("out.txt");
    let err = dir.join("err.txt");
    let mut command = Command::new(env!("CARGO_BIN_EXE_vpcsim"));
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("an output file"))
        .stderr(std::fs::File::create(&err).expect("an output file"));
    limit_memory(&mut command);
    let mut child = command.spawn().expect("the vpcsim binary runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for vpcsim") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{}: `vpcsim {}` still running after {TIME_LIMIT:?}", case.name, args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let ran = Ran {
        code: status.code(),
        stdout: std::fs::read(&out).expect("the output"),
        stderr: std::fs::read(&err).expect("the output"),
    };
    let _ = std::fs::remove_file(out);
    let _ = std::fs::remove_file(err);
    let what = format!("{}: `vpcsim {}`", case.name, args.join(" "));
    assert!(ran.code.is_some(), "{what} was killed by a signal ({status:?}): {}", ran.text());
    assert!(!ran.text().contains("panicked"), "{what} panicked: {}", ran.text());
    for (stream, bytes) in [("stdout", &ran.stdout), ("stderr", &ran.stderr)] {
        assert!(
            bytes.len() as u64 <= case.max_output,
            "{what}: {} bytes on {stream}, more than {}",
            bytes.len(),
            case.max_output
        );
        assert!(!bytes.contains(&0x1b), "{what}: an escape character reached {stream}");
    }
    for never in &case.never {
        assert!(!ran.text().contains(never.as_str()), "{what} printed {never:?}: {}", ran.text());
    }
    ran
}

#[cfg(unix)]
fn limit_memory(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child
    // between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: MEMORY_LIMIT, rlim_max: MEMORY_LIMIT };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn limit_memory(_: &mut Command) {}

/// Every file under `root` with its contents (links as their targets).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a readable directory") {
            let path = entry.expect("an entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).expect("a link");
                files.insert(path, format!("-> {}", target.display()).into_bytes());
            } else if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                files.insert(path.clone(), std::fs::read(&path).expect("a readable file"));
            } else {
                files.insert(path, b"(special)".to_vec());
            }
        }
    }
    files
}

fn setup(case: &Case, dir: &Path) {
    for words in &case.setups {
        let what = words.first().map(String::as_str);
        let name = dir.join(words.get(1).unwrap_or_else(|| panic!("{}: setup without a name", case.name)));
        match what {
            #[cfg(unix)]
            Some("fifo") => {
                let c = std::ffi::CString::new(name.to_str().expect("UTF-8").as_bytes()).expect("no NUL");
                // SAFETY: a valid C string; mkfifo only creates a file.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
            }
            #[cfg(unix)]
            Some("symlink") => std::os::unix::fs::symlink(&words[2], &name).expect("a symlink"),
            Some("file") => std::fs::write(&name, words[2..].join(" ")).expect("a file"),
            Some("big") => {
                let n: usize = words[2].parse().expect("a size");
                std::fs::write(&name, format!("{{\"Statement\": \"{}\"}}", "x".repeat(n))).expect("a file")
            }
            other => panic!("{}: unknown setup {other:?}", case.name),
        }
    }
}

fn run_case(case: &Case, root: &Path) {
    let dir = root.join("scenario");
    std::fs::create_dir_all(&dir).expect("a case directory");
    std::fs::write(dir.join(&case.name), &case.text).expect("the scenario");
    setup(case, &dir);
    // A link planted where a capture will go, pointing outside: it must be
    // replaced, and what it points to left alone.
    let pcaps = dir.join("pcap");
    std::fs::create_dir_all(&pcaps).expect("the pcap directory");
    let victim = root.join("victim");
    std::fs::write(&victim, b"not a pcap").expect("the victim");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, pcaps.join("internet.pcap")).expect("a planted link");
    let before = snapshot(root);

    let file = case.name.as_str();
    let validate = vpcsim(case, &dir, &["validate", file]);
    let refused = match (&case.expect, validate.code) {
        (Expect::Valid, Some(0)) | (Expect::Any, Some(0)) => false,
        (Expect::Invalid(_), Some(2)) | (Expect::Any, Some(2)) => true,
        (expect, code) => panic!("{file}: expected {expect:?}, validate exited {code:?}: {}", validate.text()),
    };
    let check = vpcsim(case, &dir, &["check", file]);
    let run = vpcsim(case, &dir, &["run", file, "--pcap", "pcap"]);
    let after = snapshot(root);
    assert_eq!(std::fs::read(&victim).expect("the victim"), b"not a pcap", "{file}: written through a link");

    if refused {
        let stderr = String::from_utf8_lossy(&validate.stderr);
        let located = match case.expect {
            Expect::Invalid(Some((line, column))) => format!("{file}:{line}:{column}: error: "),
            _ => format!("{file}:"),
        };
        assert!(stderr.starts_with(&located), "{file}: not located as {located}: {stderr}");
        let first = stderr.lines().next().unwrap_or("");
        let position: Vec<&str> = first.trim_start_matches(&format!("{file}:")).splitn(3, ':').collect();
        assert!(
            position.len() == 3
                && position[0].parse::<usize>().is_ok_and(|l| l > 0)
                && position[1].parse::<usize>().is_ok(),
            "{file}: the error has no line and column: {first}"
        );
        for m in &case.messages {
            assert!(stderr.contains(m.as_str()), "{file}: the error does not say {m:?}: {stderr}");
        }
        for (command, ran) in [("check", &check), ("run", &run)] {
            assert_eq!(ran.code, Some(2), "{file}: {command} of an invalid file: {}", ran.text());
        }
        assert_eq!(before, after, "{file}: an invalid file changed files");
        return;
    }

    assert!(matches!(check.code, Some(0 | 1)), "{file}: check exited {:?}: {}", check.code, check.text());
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(stdout.lines().last().is_some_and(|l| l.ends_with(" failed")), "{file}: check has no summary: {stdout}");
    assert_eq!(run.code, Some(0), "{file}: run: {}", run.text());
    // Every pcap reported is in the directory, and nothing else changed.
    let out = String::from_utf8_lossy(&run.stdout);
    let mut reported = Vec::new();
    for line in out.lines().filter_map(|l| l.strip_prefix("wrote ")) {
        let path = line.rsplit_once(" (").map_or(line, |(p, _)| p);
        let path = dir.join(path);
        assert_eq!(path.parent(), Some(pcaps.as_path()), "{file}: a pcap outside the directory: {line}");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{file}: {line}: {e}"));
        assert_eq!(bytes.get(..4), Some(&0xa1b2_c3d4u32.to_le_bytes()[..]), "{file}: {line} is no pcap");
        reported.push(path);
    }
    let mut changed: Vec<&PathBuf> =
        after.iter().filter(|(p, bytes)| before.get(*p) != Some(bytes)).map(|(p, _)| p).collect();
    changed.sort();
    reported.sort();
    reported.dedup();
    let expected: Vec<&PathBuf> = reported.iter().collect();
    assert_eq!(changed, expected, "{file}: files changed other than the pcaps reported");
    let gone: Vec<&PathBuf> = before.keys().filter(|p| !after.contains_key(*p)).collect();
    assert!(gone.is_empty(), "{file}: files removed: {gone:?}");
}

#[test]
fn the_hostile_corpus() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("tests/hostile")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus has {} files", files.len());
    let root = std::env::temp_dir().join(format!("vpcsim-hostile-{}", std::process::id()));
    let mut failures = Vec::new();
    for path in &files {
        let case = parse(path);
        let dir = root.join(case.name.trim_end_matches(".toml"));
        let _ = std::fs::remove_dir_all(&dir);
        // Each case on its own, so one failure does not hide the others.
        let outcome = std::panic::catch_unwind(|| run_case(&case, &dir));
        match outcome {
            Ok(()) => {
                let _ = std::fs::remove_dir_all(&dir);
            }
            Err(e) => {
                let message = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(message);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    assert!(
        failures.is_empty(),
        "{} of {} hostile files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[test]
fn a_device_named_on_the_command_line_is_read_only_up_to_the_limit() {
    let out = Command::new(env!("CARGO_BIN_EXE_vpcsim")).args(["validate", "/dev/zero"]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/dev/zero: error: the file is larger than 64 MiB"), "{stderr}");
}

#[test]
fn a_pcap_directory_that_cannot_be_written_is_refused_before_simulating() {
    let root = std::env::temp_dir().join(format!("vpcsim-hostile-dir-{}", std::process::id()));
    std::fs::create_dir_all(&root).expect("a directory");
    let blocker = root.join("file");
    std::fs::write(&blocker, b"").expect("a file");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/public-private.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .arg("run")
        .arg(&scenario)
        .arg("--pcap")
        .arg(blocker.join("pcaps"))
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&root);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write pcaps into"), "{stderr}");
    assert!(!stdout.contains("simulated"), "it simulated first: {stdout}");
}

/// One rule over both corpora: a probe that ends `dropped` says why. Every
/// expectation of every bundled scenario and every valid hostile file, and
/// from each of a scenario's first hosts to the others a probe on a port no
/// one listens on and a ping, through the real engine.
#[test]
fn every_dropped_probe_carries_a_reason() {
    use std::sync::Arc;
    use vpcsim_engine::{ProbeSpec, SimConfig, check_one, run_probe};
    use vpcsim_model::{Destination, ExpectedResult, HostIdx, Protocol};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = ["scenarios", "tests/hostile"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).expect("a corpus").map(|e| e.expect("an entry").path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let (mut probes, mut dropped) = (0, 0);
    for path in &files {
        let Ok(t) = vpcsim_scenario::load_file(path) else { continue };
        let t = Arc::new(t);
        let mut outcomes: Vec<vpcsim_engine::ProbeOutcome> =
            t.expectations.iter().map(|e| check_one(&t, e, SimConfig::default()).outcome).collect();
        let hosts: Vec<HostIdx> =
            (0..t.hosts.len()).map(HostIdx::from_index).filter(|&h| t.host(h).service.is_none()).take(4).collect();
        for &from in &hosts {
            for &to in hosts.iter().filter(|&&h| h != from) {
                for (proto, port) in [(Protocol::Tcp, Some(9)), (Protocol::Icmp, None)] {
                    let spec = ProbeSpec {
                        from,
                        to: Destination::Host(to),
                        proto,
                        port,
                        at: std::time::Duration::ZERO,
                        timeout: std::time::Duration::from_secs(1),
                        size: None,
                        request: None,
                    };
                    outcomes.push(run_probe(Arc::clone(&t), &spec, SimConfig::default()));
                }
            }
        }
        for o in &outcomes {
            probes += 1;
            if o.result == ExpectedResult::Dropped {
                dropped += 1;
                let reason = o.drop.as_ref().map(|d| d.reason.as_str()).unwrap_or("");
                assert!(!reason.is_empty(), "{}: a dropped probe without a reason:\n{}", path.display(), o.render());
            }
        }
    }
    eprintln!("{probes} probes, {dropped} dropped");
    assert!(probes > 500 && dropped > 100, "{probes} probes, {dropped} dropped: the corpora reach too little");
}
