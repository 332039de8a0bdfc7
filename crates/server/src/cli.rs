//! The `meridian` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use kernel::{Db, SystemClock};

use crate::config::{self, ConfigError, FileSettings, LogFormat};
use crate::http::{self, AppState, HttpSettings};

/// Meridian: CRM, helpdesk, supply chain, sales analytics and maintenance in one server.
#[derive(Debug, Parser)]
#[command(name = "meridian", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// TOML file with settings (flags and environment variables override it).
    /// Default: ./meridian.toml if it exists.
    #[arg(long, global = true, env = "MERIDIAN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Log output: `text` (default) or `json`.
    #[arg(long, global = true, env = "MERIDIAN_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,

    /// Log filter, e.g. `info` or `info,meridian::events=debug` (default: info).
    #[arg(long, global = true, env = "MERIDIAN_LOG", value_name = "FILTER")]
    log: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API and web UI. Applies pending migrations first unless --no-migrate.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit (a no-op when there are none).
    Migrate(MigrateArgs),
    /// Print the OpenAPI 3.1 document of the API to standard output.
    Openapi,
}

#[derive(Debug, Args)]
struct DatabaseArgs {
    /// Database URL: sqlite://PATH (created with its folder if missing) or
    /// postgres://USER@HOST:PORT/DB. Default: sqlite://./data/meridian.db
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,

    /// Maximum database connections (default: 16 for PostgreSQL, 8 for SQLite).
    #[arg(long, env = "MERIDIAN_DB_MAX_CONNECTIONS", value_name = "N")]
    db_max_connections: Option<u32>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on. Default: 127.0.0.1:8080
    #[arg(long, env = "MERIDIAN_ADDR", value_name = "HOST:PORT")]
    addr: Option<String>,

    #[command(flatten)]
    database: DatabaseArgs,

    /// Do not apply pending migrations at start (start fails if any are pending).
    #[arg(long)]
    no_migrate: bool,

    /// Largest accepted request body, e.g. 2MiB (default) or 512KiB.
    #[arg(long, env = "MERIDIAN_BODY_LIMIT", value_name = "SIZE")]
    body_limit: Option<String>,

    /// Longest a request may run before it gets a 503 problem, e.g. 30s (default).
    #[arg(long, env = "MERIDIAN_REQUEST_TIMEOUT", value_name = "DURATION")]
    request_timeout: Option<String>,

    /// Serve the web UI from this folder (a `web/dist` build) instead of the embedded one.
    #[arg(long, env = "MERIDIAN_WEB_DIR", value_name = "DIR")]
    web_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    #[command(flatten)]
    database: DatabaseArgs,

    /// List applied and pending migrations instead of applying them.
    #[arg(long)]
    status: bool,
}

/// A failure of a command, printed as one line.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("database: {0}")]
    Db(#[from] kernel::db::DbError),
    #[error("migrations: {0}")]
    Migration(#[from] kernel::migrate::MigrationError),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) => 2,
            _ => 1,
        }
    }
}

/// Parses the command line and runs the command; errors are one line on stderr.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = err.print();
                return ExitCode::SUCCESS;
            }
            // clap's first line names the flag and the bad value; the rest is a usage hint.
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("meridian: {}", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("meridian: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("meridian: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let file = config::load_file(cli.config.as_deref())?;
    let log_format = cli.log_format.or(file.log_format).unwrap_or_default();
    let log_filter = cli.log.clone().or_else(|| file.log.clone());
    match cli.command {
        Command::Openapi => {
            let doc = crate::http::openapi::document();
            let json = doc
                .to_pretty_json()
                .map_err(|e| CliError::Refused(format!("cannot render OpenAPI: {e}")))?;
            println!("{json}");
            Ok(())
        }
        Command::Migrate(args) => {
            crate::telemetry::init(log_format, log_filter.as_deref())?;
            let db = open_db(&args.database, &file).await?;
            if args.status {
                print_status(&db).await
            } else {
                let applied = kernel::migrate::run(&db, &crate::MODULES).await?;
                println!("applied {applied} migration(s); database is up to date");
                db.close().await;
                Ok(())
            }
        }
        Command::Serve(args) => {
            crate::telemetry::init(log_format, log_filter.as_deref())?;
            serve(args, &file).await
        }
    }
}

async fn open_db(args: &DatabaseArgs, file: &FileSettings) -> Result<Db, CliError> {
    let url = config::resolve_database_url(args.database_url.as_deref(), file)?;
    let pool = config::resolve_pool(args.db_max_connections, file, &url)?;
    Ok(Db::connect(&url, &pool).await?)
}

async fn print_status(db: &Db) -> Result<(), CliError> {
    let status = kernel::migrate::status(db, &crate::MODULES).await?;
    println!(
        "{:<8} {:<16} {:<10} DESCRIPTION",
        "STATE", "VERSION", "MODULE"
    );
    for m in &status.migrations {
        let state = match (m.applied, m.checksum_mismatch) {
            (true, false) => "applied",
            (true, true) => "CHANGED",
            (false, _) => "pending",
        };
        println!(
            "{state:<8} {:<16} {:<10} {}",
            m.version, m.module, m.description
        );
    }
    for version in &status.unknown_applied {
        println!(
            "{:<8} {version:<16} {:<10} (applied, but no module ships it)",
            "unknown", "?"
        );
    }
    let pending = status.pending().count();
    println!(
        "{} applied, {pending} pending",
        status.migrations.len() - pending
    );
    db.close().await;
    Ok(())
}

async fn serve(args: ServeArgs, file: &FileSettings) -> Result<(), CliError> {
    let addr = config::resolve_addr(args.addr.as_deref(), file)?;
    let http_settings = HttpSettings {
        body_limit: config::resolve_body_limit(args.body_limit.as_deref(), file)?,
        request_timeout: config::resolve_request_timeout(args.request_timeout.as_deref(), file)?,
        web_dir: config::resolve_web_dir(args.web_dir.as_deref(), file)?,
    };
    let db = open_db(&args.database, file).await?;
    if args.no_migrate {
        let status = kernel::migrate::status(&db, &crate::MODULES).await?;
        let pending = status.pending().count();
        if pending > 0 {
            return Err(CliError::Refused(format!(
                "{pending} migration(s) pending and --no-migrate given; run `meridian migrate` first"
            )));
        }
        if let Some(changed) = status.migrations.iter().find(|m| m.checksum_mismatch) {
            return Err(CliError::Refused(format!(
                "migration {} ({}) was edited after it was applied",
                changed.version, changed.description
            )));
        }
    } else {
        let applied = kernel::migrate::run(&db, &crate::MODULES).await?;
        if applied > 0 {
            tracing::info!(applied, "applied pending migrations");
        }
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Refused(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr()?;
    tracing::info!(
        address = %format!("http://{local}"),
        database = db.backend().name(),
        version = env!("CARGO_PKG_VERSION"),
        "Meridian is listening"
    );
    let state = AppState {
        db,
        clock: Arc::new(SystemClock),
        http: Arc::new(http_settings),
    };
    http::serve(listener, state, None, http::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
