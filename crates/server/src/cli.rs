//! The `meridian` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use kernel::{Db, SystemClock, TenantContext};

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

    /// TOML file with the data, index and token keys (see `meridian keys generate`).
    /// Environment variables MERIDIAN_DATA_KEY etc. take precedence; without either, a
    /// development key file is created in ./data (refused when MERIDIAN_ENV=production).
    #[arg(long, global = true, env = "MERIDIAN_KEY_FILE", value_name = "FILE")]
    key_file: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the largest variant (serve's settings) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API and web UI. Applies pending migrations first unless --no-migrate.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit (a no-op when there are none).
    Migrate(MigrateArgs),
    /// Print the OpenAPI 3.1 document of the API to standard output.
    Openapi,
    /// Forecast every series of a long-format CSV (`unique_id, ds, y`) with prediction
    /// intervals: seasonal naive, ETS, Theta, Croston/SBA/TSB or their ensemble.
    Forecast(crate::insight_cli::ForecastArgs),
    /// Score every point of every series of a long-format CSV for anomaly, with a
    /// severity and a reason.
    Anomalies(crate::insight_cli::AnomaliesArgs),
    /// Score the sentiment of every text in a CSV column (VADER: neg, neu, pos, compound,
    /// label).
    Sentiment(crate::sentiment_cli::SentimentArgs),
    /// Train and evaluate the helpdesk's ticket classifier (priority, type) on a labelled
    /// CSV with a fixed stratified split: accuracy, macro-F1, majority baseline.
    HelpdeskEval(crate::helpdesk_eval_cli::HelpdeskEvalArgs),
    /// Evaluate the sales predictions on real data (next order, basket, upsell, call
    /// priority on an order history; monthly forecasts), each metric with its baseline.
    SalesEval(crate::sales_eval_cli::SalesEvalArgs),
    /// Create an organisation (with the built-in roles) and its first admin; prints the
    /// organisation id. Run again with another name for another organisation.
    Init(InitArgs),
    /// Create a demo organisation with a year of generated CRM data (companies, contacts,
    /// deals on the board, leads, activities) and sales data (products, stores, two sales
    /// reps, 13 months of imported sales, orders, market totals). Does nothing if it
    /// exists already.
    Demo(DemoArgs),
    /// Import data files into an organisation.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage users of an organisation.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Generate keys, or re-encrypt stored personal data under the current data key.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Args)]
struct InitArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Name of the organisation.
    #[arg(long)]
    org_name: String,
    /// Email of its first admin.
    #[arg(long)]
    admin_email: String,
    /// Display name of the admin (default: the part of the email before @).
    #[arg(long)]
    admin_name: Option<String>,
    /// Admin password; prefer the environment variable or the prompt (never echoed).
    #[arg(long, env = "MERIDIAN_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
}

#[derive(Debug, Args)]
struct DemoArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Name of the demo organisation.
    #[arg(long, default_value = "Demo Distributors")]
    org_name: String,
    /// Sign-in email of its admin.
    #[arg(long, default_value = "admin@demo.meridian")]
    admin_email: String,
    /// Admin password (default: "meridian demo password"); prefer the environment variable.
    #[arg(long, env = "MERIDIAN_DEMO_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// Companies to generate.
    #[arg(long, default_value_t = 300)]
    companies: usize,
    /// Contacts to generate.
    #[arg(long, default_value_t = 2000)]
    contacts: usize,
    /// Deals to generate.
    #[arg(long, default_value_t = 400)]
    deals: usize,
    /// Leads to generate.
    #[arg(long, default_value_t = 250)]
    leads: usize,
    /// Activities to generate.
    #[arg(long, default_value_t = 1500)]
    activities: usize,
    /// Stores to make from the first companies (with their sales history); 0 leaves out
    /// the sales data.
    #[arg(long, default_value_t = 60)]
    stores: usize,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import sales data (CSV or XLSX, one row per outlet × SKU × day) with the same
    /// rules as the API: prints a summary and every bad cell as `row N, column C: reason`;
    /// exits non-zero when the file is rejected (then nothing is imported).
    Sales {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        args: crate::sales_import_cli::ImportSalesArgs,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user (or add an existing person) with a role.
    Create {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Organisation id or slug.
        #[arg(long)]
        org: String,
        /// Email.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Role name (Admin, Manager, Sales Rep, Support Agent, Engineer, Viewer, or custom).
        #[arg(long)]
        role: String,
        /// Password; prefer MERIDIAN_USER_PASSWORD or the prompt.
        #[arg(long, env = "MERIDIAN_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List the users of an organisation.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Organisation id or slug.
        #[arg(long)]
        org: String,
    },
    /// Deactivate a user: no more sign-ins, live tokens refused at once.
    Deactivate {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Organisation id or slug.
        #[arg(long)]
        org: String,
        /// Email of the user.
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the hash chains; exits non-zero naming the first broken row.
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Only this organisation (id or slug).
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print a new key file (TOML) to standard output.
    Generate,
    /// Re-encrypt personal data written under previous data keys with the current one.
    Rotate {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Rows per transaction.
        #[arg(long, default_value_t = 500)]
        batch: i64,
    },
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

    /// Sustained requests per second allowed per caller (API key or user). Default: 100
    #[arg(long, env = "MERIDIAN_RATE_LIMIT", value_name = "N")]
    rate_limit: Option<u32>,

    /// Burst allowed per caller above the sustained rate. Default: 200
    #[arg(long, env = "MERIDIAN_RATE_LIMIT_BURST", value_name = "N")]
    rate_limit_burst: Option<u32>,

    /// Folder where helpdesk attachments are stored. Default: ./data/attachments
    #[arg(long, env = "MERIDIAN_ATTACHMENTS_DIR", value_name = "DIR")]
    attachments_dir: Option<PathBuf>,

    /// Largest helpdesk attachment accepted (e.g. 10MiB). Default: 10MiB
    #[arg(long, env = "MERIDIAN_ATTACHMENT_LIMIT", value_name = "SIZE")]
    attachment_limit: Option<String>,

    /// Where helpdesk attachments are kept: `local` (the attachments folder) or `s3` (an
    /// S3-compatible bucket; credentials from MERIDIAN_S3_ACCESS_KEY_ID and
    /// MERIDIAN_S3_SECRET_ACCESS_KEY, else the standard AWS_* variables). Default: local
    #[arg(long, env = "MERIDIAN_ATTACHMENTS_STORE", value_name = "local|s3")]
    attachments_store: Option<String>,

    /// Bucket of the S3 attachment store.
    #[arg(long, env = "MERIDIAN_ATTACHMENTS_S3_BUCKET", value_name = "BUCKET")]
    attachments_s3_bucket: Option<String>,

    /// Key prefix inside the bucket (e.g. meridian/attachments). Default: none
    #[arg(long, env = "MERIDIAN_ATTACHMENTS_S3_PREFIX", value_name = "PREFIX")]
    attachments_s3_prefix: Option<String>,

    /// Endpoint URL of an S3-compatible server such as MinIO (e.g. http://127.0.0.1:9000);
    /// requests are path-style. Default: AWS
    #[arg(long, env = "MERIDIAN_ATTACHMENTS_S3_ENDPOINT", value_name = "URL")]
    attachments_s3_endpoint: Option<String>,

    /// Region of the bucket. Default: us-east-1
    #[arg(long, env = "MERIDIAN_ATTACHMENTS_S3_REGION", value_name = "REGION")]
    attachments_s3_region: Option<String>,

    /// Folder of sales files (.csv, .xlsx) imported on a schedule; each file moves to
    /// done/ or rejected/ with its report beside it. Default: none
    #[arg(long, env = "MERIDIAN_SALES_WATCH_DIR", value_name = "DIR")]
    sales_watch_dir: Option<PathBuf>,

    /// Organisation (id or slug) the watched sales files belong to.
    #[arg(long, env = "MERIDIAN_SALES_WATCH_ORG", value_name = "ORG")]
    sales_watch_org: Option<String>,

    /// Time between scans of the sales watch folder. Default: 1m
    #[arg(long, env = "MERIDIAN_SALES_WATCH_INTERVAL", value_name = "DURATION")]
    sales_watch_interval: Option<String>,
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
    #[error(transparent)]
    Insight(#[from] crate::insight_cli::InsightCliError),
    #[error(transparent)]
    Sentiment(#[from] crate::sentiment_cli::SentimentCliError),
    #[error(transparent)]
    HelpdeskEval(#[from] crate::helpdesk_eval_cli::HelpdeskEvalError),
    #[error(transparent)]
    SalesEval(#[from] crate::sales_eval_cli::SalesEvalError),
    #[error(transparent)]
    SalesImport(#[from] crate::sales_import_cli::SalesImportCliError),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) => 2,
            CliError::Sentiment(e) => e.exit_code(),
            CliError::HelpdeskEval(e) => e.exit_code(),
            CliError::SalesEval(e) => e.exit_code(),
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
            serve(args, &file, cli.key_file.as_deref()).await
        }
        // Pure computation over files: no database, no keys; rayon uses every core.
        Command::Forecast(args) => Ok(tokio::task::block_in_place(|| {
            crate::insight_cli::run_forecast(&args)
        })?),
        Command::Anomalies(args) => Ok(tokio::task::block_in_place(|| {
            crate::insight_cli::run_anomalies(&args)
        })?),
        Command::Sentiment(args) => Ok(tokio::task::block_in_place(|| {
            crate::sentiment_cli::run(&args)
        })?),
        Command::HelpdeskEval(args) => Ok(tokio::task::block_in_place(|| {
            crate::helpdesk_eval_cli::run(&args)
        })?),
        Command::SalesEval(args) => Ok(tokio::task::block_in_place(|| {
            crate::sales_eval_cli::run(&args)
        })?),
        Command::Keys(KeysCommand::Generate) => {
            let keys = crate::keys::KeyFile::generate()?;
            let text = toml::to_string(&keys).map_err(|e| CliError::Refused(e.to_string()))?;
            println!(
                "# Meridian keys: keep this file secret (chmod 600); see README, Configuration.\n{text}"
            );
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate { database, batch }) => {
            crate::telemetry::init(log_format, log_filter.as_deref())?;
            let identity = open_identity(&database, &file, cli.key_file.as_deref()).await?;
            let rewritten = identity
                .rotate_pii(batch.max(1), |done| {
                    eprintln!("re-encrypted {done} value(s)...")
                })
                .await
                .map_err(identity_error)?;
            let crm = crm::Crm::new(
                identity.db().clone(),
                Arc::new(SystemClock),
                identity.keys().ring().clone(),
            );
            let crm_rewritten = crm
                .rotate_pii(batch.max(1), |done| {
                    eprintln!("re-encrypted {done} CRM value(s)...")
                })
                .await
                .map_err(|e| CliError::Refused(e.to_string()))?;
            println!(
                "re-encrypted {} value(s) under the current data key",
                rewritten + crm_rewritten
            );
            Ok(())
        }
        Command::Init(args) => {
            crate::telemetry::init(log_format, log_filter.as_deref())?;
            let identity = open_identity(&args.database, &file, cli.key_file.as_deref()).await?;
            let password = match args.admin_password {
                Some(p) => p,
                None => prompt_password("Admin password: ")?,
            };
            let name = args.admin_name.unwrap_or_else(|| {
                args.admin_email
                    .split('@')
                    .next()
                    .unwrap_or("Admin")
                    .to_owned()
            });
            let (org, user) = identity
                .create_org(&args.org_name, &args.admin_email, &name, &password)
                .await
                .map_err(identity_error)?;
            println!("{org}");
            eprintln!(
                "created organisation {org} with admin {} (user {user})",
                args.admin_email
            );
            Ok(())
        }
        Command::Demo(args) => {
            crate::telemetry::init(log_format, log_filter.as_deref())?;
            let identity = open_identity(&args.database, &file, cli.key_file.as_deref()).await?;
            let password = args
                .admin_password
                .unwrap_or_else(|| "meridian demo password".to_owned());
            let size = crate::demo::DemoSize {
                companies: args.companies.max(1),
                contacts: args.contacts,
                deals: args.deals,
                leads: args.leads,
                activities: args.activities,
                stores: args.stores,
            };
            let started = std::time::Instant::now();
            let demo = crate::demo::create(
                &identity,
                &args.org_name,
                &args.admin_email,
                &password,
                size,
                |what, done, of| {
                    eprintln!("demo: {what} {done}/{of}");
                },
            )
            .await
            .map_err(CliError::Refused)?;
            if demo.existed {
                println!(
                    "demo organisation already exists ({}); sign in as {}",
                    demo.org_id, demo.admin_email
                );
            } else {
                println!(
                    "created demo organisation {} in {:.1} s; sign in as {} with password \"{password}\"",
                    demo.org_id,
                    started.elapsed().as_secs_f64(),
                    demo.admin_email
                );
                if !demo.sales_reps.is_empty() {
                    println!(
                        "sales reps (same password; their calls at /sales/calls): {}",
                        demo.sales_reps.join(", ")
                    );
                }
            }
            Ok(())
        }
        Command::Import(ImportCommand::Sales { database, args }) => {
            crate::telemetry::init(log_format, log_filter.as_deref())?;
            let db = open_db(&database, &file).await?;
            kernel::migrate::run(&db, &crate::MODULES).await?;
            let org = find_org_id(&db, &args.org).await?;
            let importer = sales::import::SalesImporter::new(db.clone(), Arc::new(SystemClock));
            let outcome = crate::sales_import_cli::run(&importer, org, &args).await;
            db.close().await;
            Ok(outcome?)
        }
        Command::User(command) => {
            crate::telemetry::init(log_format, log_filter.as_deref())?;
            user_command(command, &file, cli.key_file.as_deref()).await
        }
        Command::Audit(AuditCommand::Verify { database, org }) => {
            crate::telemetry::init(log_format, log_filter.as_deref())?;
            let db = open_db(&database, &file).await?;
            let org = match org {
                Some(o) => Some(find_org_id(&db, &o).await?),
                None => None,
            };
            let report = kernel::audit::verify(&db, org)
                .await
                .map_err(kernel::db::DbError::from)?;
            db.close().await;
            match report.breaks.first() {
                None => {
                    println!(
                        "audit trail intact: {} row(s) in {} chain(s)",
                        report.rows, report.chains
                    );
                    Ok(())
                }
                Some(first) => Err(CliError::Refused(format!(
                    "audit trail broken: organisation {}, row seq {} (id {}): {}",
                    first.org_id, first.seq, first.id, first.reason
                ))),
            }
        }
    }
}

fn identity_error(err: identity::IdentityError) -> CliError {
    match err {
        identity::IdentityError::Validation(errors) => CliError::Refused(
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => CliError::Refused(other.to_string()),
    }
}

fn prompt_password(prompt: &str) -> Result<String, CliError> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Refused(
            "no password given: pass it in the environment variable or run in a terminal to be prompted".to_owned(),
        ));
    }
    let first = rpassword::prompt_password(prompt)?;
    let second = rpassword::prompt_password("Repeat: ")?;
    if first != second {
        return Err(CliError::Refused("the passwords differ".to_owned()));
    }
    Ok(first)
}

async fn open_identity(
    database: &DatabaseArgs,
    file: &FileSettings,
    key_file: Option<&std::path::Path>,
) -> Result<identity::Identity, CliError> {
    let keys = crate::keys::resolve(key_file)?.to_keys()?;
    let db = open_db(database, file).await?;
    kernel::migrate::run(&db, &crate::MODULES).await?;
    Ok(identity::Identity::new(
        db,
        Arc::new(SystemClock),
        Arc::new(keys),
        identity::IdentitySettings::default(),
    ))
}

async fn find_org_id(db: &Db, id_or_slug: &str) -> Result<uuid::Uuid, CliError> {
    let found: Option<uuid::Uuid> = match uuid::Uuid::parse_str(id_or_slug) {
        Ok(id) => kernel::on_pool!(db, |p| sqlx::query_scalar(
            "SELECT id FROM orgs WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await),
        Err(_) => kernel::on_pool!(db, |p| sqlx::query_scalar(
            "SELECT id FROM orgs WHERE slug = $1"
        )
        .bind(id_or_slug.to_lowercase())
        .fetch_optional(p)
        .await),
    }
    .map_err(kernel::db::DbError::from)?;
    found.ok_or_else(|| CliError::Refused(format!("no organisation `{id_or_slug}`")))
}

async fn user_command(
    command: UserCommand,
    file: &FileSettings,
    key_file: Option<&std::path::Path>,
) -> Result<(), CliError> {
    match command {
        UserCommand::Create {
            database,
            org,
            email,
            name,
            role,
            password,
        } => {
            let identity = open_identity(&database, file, key_file).await?;
            let org = find_org_id(identity.db(), &org).await?;
            let password = match password {
                Some(p) => p,
                None => prompt_password("Password: ")?,
            };
            let user = identity
                .create_user(
                    &TenantContext::system(org),
                    identity::model::NewUser {
                        email,
                        name,
                        password,
                        role,
                        site_ids: vec![],
                        division_ids: vec![],
                    },
                )
                .await
                .map_err(identity_error)?;
            println!("{}", user.id);
            Ok(())
        }
        UserCommand::List { database, org } => {
            let identity = open_identity(&database, file, key_file).await?;
            let org = find_org_id(identity.db(), &org).await?;
            let users = identity
                .operator_list_users(org)
                .await
                .map_err(identity_error)?;
            println!(
                "{:<36}  {:<8}  {:<14}  {:<30}  NAME",
                "ID", "ACTIVE", "ROLE", "EMAIL"
            );
            for u in users {
                println!(
                    "{:<36}  {:<8}  {:<14}  {:<30}  {}",
                    u.id,
                    if u.active { "yes" } else { "no" },
                    u.role,
                    u.email,
                    u.name
                );
            }
            Ok(())
        }
        UserCommand::Deactivate {
            database,
            org,
            email,
        } => {
            let identity = open_identity(&database, file, key_file).await?;
            let org = find_org_id(identity.db(), &org).await?;
            let id = identity
                .find_member_by_email(org, &email)
                .await
                .map_err(identity_error)?
                .ok_or_else(|| {
                    CliError::Refused(format!("no user {email} in that organisation"))
                })?;
            identity
                .deactivate_user(&TenantContext::system(org), id)
                .await
                .map_err(identity_error)?;
            println!("deactivated {email}");
            Ok(())
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

async fn serve(
    args: ServeArgs,
    file: &FileSettings,
    key_file: Option<&std::path::Path>,
) -> Result<(), CliError> {
    let addr = config::resolve_addr(args.addr.as_deref(), file)?;
    // Credentials come from the environment only (never a flag, so never in `ps`).
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let helpdesk_settings = config::resolve_helpdesk(
        &config::AttachmentFlags {
            dir: args.attachments_dir,
            limit: args.attachment_limit,
            store: args.attachments_store,
            s3_bucket: args.attachments_s3_bucket,
            s3_prefix: args.attachments_s3_prefix,
            s3_endpoint: args.attachments_s3_endpoint,
            s3_region: args.attachments_s3_region,
            s3_access_key_id: env("MERIDIAN_S3_ACCESS_KEY_ID"),
            s3_secret_access_key: env("MERIDIAN_S3_SECRET_ACCESS_KEY"),
        },
        file,
    )?;
    let http_settings = HttpSettings {
        body_limit: config::resolve_body_limit(args.body_limit.as_deref(), file)?,
        request_timeout: config::resolve_request_timeout(args.request_timeout.as_deref(), file)?,
        web_dir: config::resolve_web_dir(args.web_dir.as_deref(), file)?,
        rate_limit_per_second: config::resolve_positive(
            args.rate_limit,
            file.rate_limit,
            config::DEFAULT_RATE_LIMIT_PER_SECOND,
            "--rate-limit / MERIDIAN_RATE_LIMIT / rate_limit",
        )?,
        rate_limit_burst: config::resolve_positive(
            args.rate_limit_burst,
            file.rate_limit_burst,
            config::DEFAULT_RATE_LIMIT_BURST,
            "--rate-limit-burst / MERIDIAN_RATE_LIMIT_BURST / rate_limit_burst",
        )?,
    };
    let sales_watch = config::resolve_sales_watch(
        args.sales_watch_dir.as_deref(),
        args.sales_watch_org.as_deref(),
        args.sales_watch_interval.as_deref(),
        file,
    )?;
    // Check every setting before touching keys or the database.
    config::resolve_database_url(args.database.database_url.as_deref(), file)?;
    config::resolve_addr(args.addr.as_deref(), file)?;
    let keys = crate::keys::resolve(key_file)?.to_keys()?;
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
    let state = AppState::new(
        db,
        Arc::new(SystemClock),
        http_settings,
        keys,
        identity::IdentitySettings::default(),
    )
    .with_helpdesk_settings(helpdesk_settings);
    if let Some(watch) = sales_watch {
        let org = find_org_id(&state.db, &watch.org).await?;
        tracing::info!(dir = %watch.dir.display(), every = ?watch.interval, "watching for sales files");
        tokio::spawn(crate::sales_import_cli::watch_folder(
            state.sales.importer().clone(),
            crate::sales_import_cli::WatchSettings {
                dir: watch.dir,
                org,
                interval: watch.interval,
                mapping: watch.mapping,
            },
        ));
    }
    http::serve(listener, state, None, http::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
