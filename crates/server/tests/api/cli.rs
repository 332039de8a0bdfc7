//! The `meridian` binary as an operator runs it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kernel::testing::TestDatabase;

const BIN: &str = env!("CARGO_BIN_EXE_meridian");

fn meridian(dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("MERIDIAN_ADDR")
        .env_remove("MERIDIAN_LOG_FORMAT")
        .env("RUST_BACKTRACE", "1");
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until `/health` answers (or panics after 20 s).
fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ =
                stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut reply = String::new();
            let _ = stream.read_to_string(&mut reply);
            if reply.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("server on port {port} never became healthy");
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[test]
fn version_and_help_explain_the_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = meridian(dir.path()).arg("--version").output().expect("run");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("meridian {}", env!("CARGO_PKG_VERSION"))
    );
    let out = meridian(dir.path()).arg("--help").output().expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "migrate", "openapi"] {
        assert!(help.contains(command), "{command} in help: {help}");
    }
    let out = meridian(dir.path())
        .args(["serve", "--help"])
        .output()
        .expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for setting in [
        "MERIDIAN_ADDR",
        "DATABASE_URL",
        "MERIDIAN_BODY_LIMIT",
        "--no-migrate",
    ] {
        assert!(help.contains(setting), "{setting} in serve help");
    }
}

#[test]
fn bad_settings_fail_with_one_line_naming_the_setting() {
    let dir = tempfile::tempdir().expect("tempdir");
    // (arguments, environment, the setting the message must name)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["serve", "--addr", "not-an-address"], vec![], "--addr"),
        (
            vec!["serve"],
            vec![("MERIDIAN_ADDR", "999.1.1.1:80")],
            "MERIDIAN_ADDR",
        ),
        (
            vec!["serve"],
            vec![("DATABASE_URL", "mysql://x/y")],
            "DATABASE_URL",
        ),
        (
            vec!["serve"],
            vec![("MERIDIAN_REQUEST_TIMEOUT", "forever")],
            "MERIDIAN_REQUEST_TIMEOUT",
        ),
        (
            vec!["serve", "--db-max-connections", "many"],
            vec![],
            "--db-max-connections",
        ),
        (vec!["serve", "--log-format", "xml"], vec![], "--log-format"),
    ];
    for (args, env, named) in cases {
        let mut command = meridian(dir.path());
        command.args(&args);
        for (k, v) in &env {
            command.env(k, v);
        }
        let out = command.output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(named), "{named} named in: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    std::fs::write(dir.path().join("meridian.toml"), "adr = 1\n").expect("write");
    let out = meridian(dir.path()).arg("serve").output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("adr"), "{stderr}");
}

#[test]
fn migrate_twice_is_a_no_op_and_status_lists_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = meridian(dir.path())
        .args(["migrate", "--status"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("pending") && text.contains("outbox"),
        "{text}"
    );

    // serve --no-migrate refuses a database with pending migrations.
    let refused = meridian(dir.path())
        .args(["serve", "--no-migrate"])
        .output()
        .expect("run");
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pending"));

    let first = meridian(dir.path()).arg("migrate").output().expect("run");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.starts_with("applied ") && !stdout.starts_with("applied 0"),
        "{stdout}"
    );
    let second = meridian(dir.path()).arg("migrate").output().expect("run");
    assert!(String::from_utf8_lossy(&second.stdout).contains("applied 0 migration"));
    let status = meridian(dir.path())
        .args(["migrate", "--status"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("applied  20261125000001"), "{text}");
    assert!(text.contains("0 pending"), "{text}");
    assert!(
        dir.path().join("data/meridian.db").exists(),
        "default database created with its folder"
    );
}

#[test]
fn serve_logs_json_with_request_ids_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut child = meridian(dir.path())
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("MERIDIAN_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_healthy(port);
    {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .write_all(b"GET /api/v1/unknown HTTP/1.1\r\nHost: x\r\nx-request-id: find-me-7\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("read");
        assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
    }
    terminate(&child);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "SIGTERM exits 0");
    let stderr = child.stderr.take().expect("stderr");
    let lines: Vec<String> = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("JSON log line: {line}"));
        assert!(parsed["level"].is_string());
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("find-me-7") && l.contains("404")),
        "the request's log line carries its id: {lines:#?}"
    );
}

#[tokio::test]
async fn the_same_binary_runs_on_postgresql_with_only_database_url() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut child = meridian(dir.path())
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &database.url)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    tokio::task::spawn_blocking(move || wait_healthy(port))
        .await
        .expect("join");
    // reqwest is built without a default TLS provider (the S3 store installs ring).
    helpdesk::store::install_tls_provider();
    let ready: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/ready"))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["database"], "postgres");
    terminate(&child);
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    let status = kernel::migrate::status(&database.db, &server::MODULES)
        .await
        .expect("status");
    assert_eq!(status.pending().count(), 0, "serve applied the migrations");
}

#[tokio::test]
async fn init_users_and_audit_verify_from_the_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = meridian(dir.path())
        .args(["keys", "generate"])
        .output()
        .expect("run");
    assert!(keys.status.success());
    std::fs::write(dir.path().join("keys.toml"), &keys.stdout).expect("write keys");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = meridian(dir.path());
        command
            .args(args)
            .env("MERIDIAN_KEY_FILE", dir.path().join("keys.toml"));
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().expect("run")
    };
    let password = ("MERIDIAN_ADMIN_PASSWORD", "a long and unusual passphrase");
    let init = run(
        &[
            "init",
            "--org-name",
            "Acme Sugar",
            "--admin-email",
            "admin@acme.test",
        ],
        &[password],
    );
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let org = String::from_utf8_lossy(&init.stdout).trim().to_owned();
    assert!(
        uuid::Uuid::parse_str(&org).is_ok(),
        "prints the organisation id: {org}"
    );
    // Without a password and without a terminal: a clear refusal, not a hang.
    let refused = run(
        &[
            "init",
            "--org-name",
            "Other",
            "--admin-email",
            "a@other.test",
        ],
        &[],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("password"));
    // A weak password is refused naming the rule.
    let weak = run(
        &["init", "--org-name", "Weak", "--admin-email", "a@weak.test"],
        &[("MERIDIAN_ADMIN_PASSWORD", "short")],
    );
    assert_eq!(weak.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));

    let created = run(
        &[
            "user",
            "create",
            "--org",
            "acme-sugar",
            "--email",
            "rep@acme.test",
            "--name",
            "Rep One",
            "--role",
            "Sales Rep",
        ],
        &[("MERIDIAN_USER_PASSWORD", "another long passphrase")],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let list = run(&["user", "list", "--org", &org], &[]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains("rep@acme.test")
            && text.contains("Sales Rep")
            && text.contains("admin@acme.test"),
        "{text}"
    );
    let off = run(
        &[
            "user",
            "deactivate",
            "--org",
            "acme-sugar",
            "--email",
            "rep@acme.test",
        ],
        &[],
    );
    assert!(
        off.status.success(),
        "{}",
        String::from_utf8_lossy(&off.stderr)
    );
    let list = run(&["user", "list", "--org", "acme-sugar"], &[]);
    assert!(
        String::from_utf8_lossy(&list.stdout)
            .lines()
            .any(|l| l.contains("rep@acme.test") && l.contains(" no "))
    );

    let verify = run(&["audit", "verify"], &[]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains("intact"));

    // Tamper with one row behind the server's back.
    let db = kernel::Db::connect(
        &format!("sqlite://{}/data/meridian.db", dir.path().display()),
        &kernel::db::PoolSettings::default(),
    )
    .await
    .expect("open");
    kernel::on_pool!(db, |p| sqlx::query(
        "UPDATE audit_log SET action = 'nothing.happened' WHERE seq = 2"
    )
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .expect("tamper");
    db.close().await;
    let verify = run(&["audit", "verify", "--org", "acme-sugar"], &[]);
    assert_eq!(verify.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&verify.stderr);
    assert!(
        stderr.contains("seq 2") && stderr.contains(&org),
        "{stderr}"
    );
}

#[test]
fn keys_rotate_re_encrypts_personal_data_under_the_new_key() {
    use server::keys::KeyFile;
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, keys: &KeyFile| {
        let path = dir.path().join(name);
        std::fs::write(&path, toml::to_string(keys).expect("toml")).expect("write");
        path
    };
    let old = KeyFile::generate().expect("keys");
    let fresh = KeyFile::generate().expect("keys");
    let run = |keys: &std::path::Path, args: &[&str]| {
        meridian(dir.path())
            .args(args)
            .env("MERIDIAN_KEY_FILE", keys)
            .env("MERIDIAN_ADMIN_PASSWORD", "a long and unusual passphrase")
            .output()
            .expect("run")
    };
    let old_path = write("old.toml", &old);
    let init = run(
        &old_path,
        &[
            "init",
            "--org-name",
            "Acme",
            "--admin-email",
            "admin@acme.test",
        ],
    );
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    // CRM personal data too: 3 contacts (email + phone) and 2 leads (email) in a demo org.
    let demo = run(
        &old_path,
        &[
            "demo",
            "--companies",
            "2",
            "--contacts",
            "3",
            "--deals",
            "1",
            "--leads",
            "2",
            "--activities",
            "1",
        ],
    );
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );

    // New data key current, old one kept for reading; the index key stays.
    let rotating = KeyFile {
        data_key: fresh.data_key.clone(),
        previous_data_keys: vec![old.data_key.clone()],
        index_key: old.index_key.clone(),
        jwt_secret: old.jwt_secret.clone(),
    };
    let rotating_path = write("rotating.toml", &rotating);
    let rotating_for_crm = rotating.clone();
    let rotate = run(&rotating_path, &["keys", "rotate", "--batch", "1"]);
    assert!(
        rotate.status.success(),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    let text = String::from_utf8_lossy(&rotate.stdout);
    // 2 admins and the demo's 2 sales reps × (email, name) + 3 contacts × (email, phone)
    // + 2 leads × email.
    assert!(text.contains("re-encrypted 16 value(s)"), "{text}");
    let again = run(&rotating_path, &["keys", "rotate"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("re-encrypted 0 value(s)"));

    // The old key can now be dropped: the data reads with the new key alone.
    let new_only = write(
        "new.toml",
        &KeyFile {
            previous_data_keys: vec![],
            ..rotating
        },
    );
    let list = run(&new_only, &["user", "list", "--org", "acme"]);
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    assert!(String::from_utf8_lossy(&list.stdout).contains("admin@acme.test"));
    // The CRM's contacts decrypt with the new key alone as well.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let keys = KeyFile {
            previous_data_keys: vec![],
            ..rotating_for_crm
        }
        .to_keys()
        .expect("keys");
        let db = kernel::Db::connect(
            &format!("sqlite://{}/data/meridian.db", dir.path().display()),
            &kernel::db::PoolSettings::default(),
        )
        .await
        .expect("open");
        let org: uuid::Uuid = kernel::on_pool!(db, |p| sqlx::query_scalar(
            "SELECT id FROM orgs WHERE slug = 'demo-distributors'"
        )
        .fetch_one(p)
        .await)
        .expect("demo org");
        let crm = crm::Crm::new(
            db.clone(),
            std::sync::Arc::new(kernel::SystemClock),
            keys.ring().clone(),
        );
        let contacts = crm
            .list_contacts(
                &kernel::TenantContext::system(org),
                &std::collections::BTreeMap::new(),
            )
            .await
            .expect("contacts decrypt with the new key");
        assert_eq!(contacts.data.len(), 3);
        assert!(contacts.data.iter().all(|c| {
            c.email
                .as_deref()
                .is_some_and(|e| e.ends_with("@example.com"))
        }));
        db.close().await;
    });
    // And the old key alone no longer can.
    let stale = run(&old_path, &["user", "list", "--org", "acme"]);
    assert_eq!(
        stale.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&stale.stdout)
    );
}

#[test]
fn forecast_and_anomalies_from_the_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut csv = String::from("unique_id,ds,y\n");
    for series in ["a", "b"] {
        for t in 1..=48 {
            let seasonal = [10.0, 12.0, 14.0, 13.0][t % 4];
            let level = if series == "a" { 100.0 } else { 50.0 };
            csv.push_str(&format!(
                "{series},{t},{}\n",
                level + seasonal + t as f64 * 0.5
            ));
        }
    }
    std::fs::write(dir.path().join("in.csv"), &csv).expect("write");
    let out = meridian(dir.path())
        .args([
            "forecast",
            "--input",
            "in.csv",
            "--horizon",
            "4",
            "--season-length",
            "4",
            "--model",
            "ensemble",
            "--output",
            "out.csv",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("out.csv")).expect("output");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("unique_id,ds,model,mean,lo_80,hi_80,lo_95,hi_95")
    );
    assert_eq!(lines.count(), 8, "2 series × 4 steps");

    let scored = meridian(dir.path())
        .args(["anomalies", "--input", "in.csv", "--output", "scores.csv"])
        .output()
        .expect("run");
    assert!(
        scored.status.success(),
        "{}",
        String::from_utf8_lossy(&scored.stderr)
    );
    let scores = std::fs::read_to_string(dir.path().join("scores.csv")).expect("scores");
    assert!(scores.starts_with("unique_id,ds,y,score,is_anomaly,reason"));
    assert_eq!(scores.lines().count(), 1 + 96);

    // A bad row: named by line and column, and no output file left behind.
    std::fs::write(
        dir.path().join("bad.csv"),
        "unique_id,ds,y\na,1,3.5\na,2,lots\n",
    )
    .expect("write");
    let bad = meridian(dir.path())
        .args([
            "forecast",
            "--input",
            "bad.csv",
            "--horizon",
            "2",
            "--output",
            "bad-out.csv",
        ])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("`y`"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1);
    assert!(!dir.path().join("bad-out.csv").exists());
}

#[test]
fn sentiment_from_the_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("messages.csv"),
        "ticket,text\nT-1,\"Great support, thank you!\"\n\
         T-2,The app is not working and I am angry 😠\nT-3,Where is my order?\n",
    )
    .expect("write");
    let run = |text_column: &str| {
        meridian(dir.path())
            .args([
                "sentiment",
                "--input",
                "messages.csv",
                "--text-column",
                text_column,
                "--id-column",
                "ticket",
                "--threads",
                "1",
                "--output",
                "scores.csv",
            ])
            .output()
            .expect("run")
    };
    // A missing column: one line naming it, exit status 2, no output.
    let missing = run("body");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("`body`"), "{stderr}");
    assert!(!dir.path().join("scores.csv").exists());

    let out = run("text");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The Python package's scores for the same texts.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("scores.csv")).expect("output"),
        "ticket,neg,neu,pos,compound,label\n\
         T-1,0.0,0.094,0.906,0.8622,positive\n\
         T-2,0.423,0.577,0.0,-0.765,negative\n\
         T-3,0.0,1.0,0.0,0.0,neutral\n"
    );
}

#[test]
fn demo_data_is_created_once_and_usable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = || meridian(dir.path()).args(SMALL_DEMO).output().expect("run");
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(
        text.contains("created demo organisation") && text.contains("admin@demo.meridian"),
        "{text}"
    );
    assert!(
        text.contains("sara.rep@demo.meridian") && text.contains("omar.rep@demo.meridian"),
        "the sales reps' logins are printed: {text}"
    );
    let second = run();
    assert!(String::from_utf8_lossy(&second.stdout).contains("already exists"));
    let list = meridian(dir.path())
        .args(["user", "list", "--org", "demo-distributors"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&list.stdout).contains("admin@demo.meridian"));
    // The records went through the services: audited, and the chain verifies.
    let verify = meridian(dir.path())
        .args(["audit", "verify", "--org", "demo-distributors"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success() && text.contains("intact"), "{text}");
    let rows: usize = text
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or(0);
    assert!(rows >= 8 + 20 + 12 + 5 + 30, "{text}");

    // The sales screens of the demo have data, seen by the admin and a rep over HTTP.
    let (_server, port) = serve(dir.path(), &[]);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(demo_sales_screens_have_data(port));
}

/// The demo's sizes in these tests: 8 companies, hence 8 stores (all the sales data).
const SMALL_DEMO: [&str; 11] = [
    "demo",
    "--companies",
    "8",
    "--contacts",
    "20",
    "--deals",
    "12",
    "--leads",
    "5",
    "--activities",
    "30",
];

#[tokio::test]
async fn demo_sales_data_on_postgresql() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = meridian(dir.path())
        .args(SMALL_DEMO)
        .env("DATABASE_URL", &database.url)
        .output()
        .expect("run");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let path = dir.path().to_path_buf();
    let url = database.url.clone();
    let (_server, port) =
        tokio::task::spawn_blocking(move || serve(&path, &[("DATABASE_URL", url.as_str())]))
            .await
            .expect("join");
    demo_sales_screens_have_data(port).await;
}

/// A `meridian serve` that is stopped (SIGTERM, then waited for) when dropped, also when a
/// check fails.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        terminate(&self.0);
        let _ = self.0.wait();
    }
}

/// Serves the working directory `dir` (its data and keys) on a free port once healthy.
fn serve(dir: &std::path::Path, env: &[(&str, &str)]) -> (Serving, u16) {
    let port = free_port();
    let mut command = meridian(dir);
    command
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let server = Serving(command.spawn().expect("spawn"));
    wait_healthy(port);
    (server, port)
}

/// Signs in (demo password) and returns the access token.
async fn sign_in(client: &reqwest::Client, port: u16, email: &str) -> String {
    let response = client
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": "meridian demo password"}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200, "sign-in of {email}");
    let tokens: serde_json::Value = response.json().await.expect("tokens");
    tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

/// GET `path` with `token`; must answer 200; returns its `data`.
async fn data(client: &reqwest::Client, port: u16, token: &str, path: &str) -> serde_json::Value {
    let response = client
        .get(format!("http://127.0.0.1:{port}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200, "GET {path}");
    let body: serde_json::Value = response.json().await.expect("json");
    body["data"].clone()
}

/// What `meridian demo` promises of its sales part, through the API the web app calls:
/// distribution gaps with a HIGH one, a trend, market share with erosion, the import in
/// the import log, orders in several states, and a rep's call list whose stores have a
/// purchase history (next order) and show the decline factor.
async fn demo_sales_screens_have_data(port: u16) {
    // reqwest is built without a default TLS provider (the S3 store installs ring).
    helpdesk::store::install_tls_provider();
    let client = reqwest::Client::new();
    let admin = sign_in(&client, port, "admin@demo.meridian").await;
    let rep = sign_in(&client, port, "sara.rep@demo.meridian").await;

    let gaps = data(&client, port, &admin, "/api/v1/sales/distribution-gaps").await;
    let rows = gaps["rows"].as_array().expect("gap rows");
    assert!(
        rows.iter().any(|r| r["urgency"] == "HIGH"),
        "a gap above 60%: {gaps}"
    );

    let trends = data(&client, port, &admin, "/api/v1/sales/trends").await;
    let series = trends["series"].as_array().expect("series");
    assert!(!series.is_empty(), "{trends}");
    let total: Vec<f64> = trends["total"]["values"]
        .as_array()
        .expect("total")
        .iter()
        .filter_map(|v| v.as_str()?.parse().ok())
        .collect();
    assert!(
        total.len() >= 12 && total.iter().all(|v| *v > 0.0),
        "{trends}"
    );

    let share = data(
        &client,
        port,
        &admin,
        "/api/v1/sales/market-share?by=region",
    )
    .await;
    let series = share["series"].as_array().expect("share series");
    assert!(
        series
            .iter()
            .any(|s| s["key"] == "Western" && s["eroding"] == true),
        "{share}"
    );

    let imports = data(&client, port, &admin, "/api/v1/sales/imports").await;
    assert_eq!(imports[0]["status"], "committed", "{imports}");
    assert!(
        imports[0]["rows_inserted"].as_u64().unwrap_or(0) > 1000,
        "{imports}"
    );

    let orders = data(&client, port, &admin, "/api/v1/sales-orders").await;
    let statuses: Vec<&str> = orders
        .as_array()
        .expect("orders")
        .iter()
        .filter_map(|o| o["status"].as_str())
        .collect();
    for status in ["draft", "confirmed", "delivered", "invoiced"] {
        assert!(statuses.contains(&status), "{status} in {statuses:?}");
    }

    let calls = data(&client, port, &rep, "/api/v1/sales/call-list").await;
    let stores = calls["stores"].as_array().expect("call list");
    assert!(!stores.is_empty(), "{calls}");
    assert!(
        stores
            .iter()
            .any(|s| s["reasons"].as_array().is_some_and(|r| r
                .iter()
                .any(|r| r["factor"] == "decline" && r["points"].as_f64().unwrap_or(0.0) > 0.0))),
        "a declining store: {calls}"
    );
    let mut seen = 0;
    for store in stores {
        let id = store["store_id"].as_str().expect("store id");
        let next = data(
            &client,
            port,
            &rep,
            &format!("/api/v1/stores/{id}/next-order"),
        )
        .await;
        if next["orders_seen"].as_u64().unwrap_or(0) > 0 {
            seen += 1;
        }
    }
    assert_eq!(seen, stores.len(), "every store has a purchase history");
}
