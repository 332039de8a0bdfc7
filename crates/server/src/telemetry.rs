//! Logging: human-readable lines by default, JSON with `MERIDIAN_LOG_FORMAT=json`.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Default filter: our info, libraries' warnings.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=warn";

/// Installs the global subscriber (a second call is a no-op) and a panic hook that logs
/// panics through it, inside the request's span, so they carry the request id.
pub fn init(format: LogFormat, filter: Option<&str>) -> Result<(), crate::config::ConfigError> {
    let filter = EnvFilter::try_new(filter.unwrap_or(DEFAULT_FILTER)).map_err(|e| {
        crate::config::ConfigError {
            setting: "--log / MERIDIAN_LOG / log".to_owned(),
            reason: e.to_string(),
        }
    })?;
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(panic = %info.payload_as_str().unwrap_or("non-string payload"), %location, "panic");
    }));
    Ok(())
}
