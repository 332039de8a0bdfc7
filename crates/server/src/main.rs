//! THROWAWAY entry point for branch `insight`: only the two insight subcommands.

mod insight_cli;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "meridian", about = "Meridian business platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Forecast every series of a long-format CSV.
    Forecast(insight_cli::ForecastArgs),
    /// Score every point of every series of a long-format CSV for anomaly.
    Anomalies(insight_cli::AnomaliesArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Forecast(a) => insight_cli::run_forecast(a),
        Command::Anomalies(a) => insight_cli::run_anomalies(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
