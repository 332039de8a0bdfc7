//! `meridian helpdesk-eval`: trains and evaluates the helpdesk's text classifier
//! (`insight::text_classifier`, the model behind predicted priority) on a labelled CSV,
//! with a fixed, stratified train/test split, and prints accuracy, macro-F1 and the
//! majority-class baseline — for both class priors the model supports.
//!
//! ```text
//! meridian helpdesk-eval --input ../shared/data/support_tickets/hadoop_jira_bugs.csv \
//!     --text-columns Summary,Description --label-column Priority
//! ```

use std::path::{Path, PathBuf};

use clap::Args;
use insight::text_classifier::{
    self, FeatureOptions, Metrics, NaiveBayes, Prior, TrainOptions, majority_label,
    stratified_split,
};

/// `meridian helpdesk-eval`.
#[derive(Args, Debug, Clone)]
pub struct HelpdeskEvalArgs {
    /// Input CSV with a header row (quoted multi-line fields are fine).
    #[arg(long)]
    pub input: PathBuf,
    /// Columns whose texts are joined into the document, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub text_columns: Vec<String>,
    /// Column holding the label (rows with an empty label are skipped).
    #[arg(long)]
    pub label_column: String,
    /// Share of each label held out for the test set.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Seed of the split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Smoothing of the Naive Bayes model (above 0).
    #[arg(long, default_value_t = 0.5)]
    pub alpha: f64,
    /// Words only (no word bigrams).
    #[arg(long)]
    pub no_bigrams: bool,
}

/// Why `meridian helpdesk-eval` failed (one line).
#[derive(Debug, thiserror::Error)]
pub enum HelpdeskEvalError {
    /// The input could not be read or parsed.
    #[error("{path}: {message}")]
    Input {
        /// Input path.
        path: PathBuf,
        /// What went wrong (with the line for bad rows).
        message: String,
    },
    /// A column named on the command line is not in the header.
    #[error("{path}: no column `{name}`; the header has: {header}")]
    MissingColumn {
        /// Input path.
        path: PathBuf,
        /// Column looked for.
        name: String,
        /// Columns present.
        header: String,
    },
    /// The data or the options cannot be evaluated.
    #[error("{0}")]
    Usage(String),
}

impl HelpdeskEvalError {
    /// 2 when the command line does not fit the file, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            HelpdeskEvalError::MissingColumn { .. } | HelpdeskEvalError::Usage(_) => 2,
            HelpdeskEvalError::Input { .. } => 1,
        }
    }
}

fn read(
    path: &Path,
    text_columns: &[String],
    label_column: &str,
) -> Result<(Vec<String>, Vec<String>), HelpdeskEvalError> {
    let input_error = |message: String| HelpdeskEvalError::Input {
        path: path.into(),
        message,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| input_error(e.to_string()))?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| input_error(e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| HelpdeskEvalError::MissingColumn {
                path: path.into(),
                name: name.to_owned(),
                header: header.join(", "),
            })
    };
    let text_idx: Vec<usize> = text_columns
        .iter()
        .map(|c| find(c))
        .collect::<Result<_, _>>()?;
    let label_idx = find(label_column)?;
    let (mut texts, mut labels) = (Vec::new(), Vec::new());
    for record in rdr.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            input_error(format!("line {line}: {e}"))
        })?;
        let label = record.get(label_idx).unwrap_or_default().trim();
        if label.is_empty() {
            continue;
        }
        let text: Vec<&str> = text_idx
            .iter()
            .map(|i| record.get(*i).unwrap_or_default())
            .collect();
        texts.push(text.join("\n"));
        labels.push(label.to_owned());
    }
    Ok((texts, labels))
}

fn print_metrics(name: &str, m: &Metrics) {
    println!(
        "{name:<44} accuracy {:.4}   macro-F1 {:.4}",
        m.accuracy, m.macro_f1
    );
}

/// Runs the evaluation and prints the report on standard output.
pub fn run(args: &HelpdeskEvalArgs) -> Result<(), HelpdeskEvalError> {
    if !(args.alpha.is_finite() && args.alpha > 0.0) {
        return Err(HelpdeskEvalError::Usage(
            "--alpha must be a positive number".to_owned(),
        ));
    }
    let started = std::time::Instant::now();
    let (texts, labels) = read(&args.input, &args.text_columns, &args.label_column)?;
    let (train, test) = stratified_split(&labels, args.test_fraction, args.seed)
        .map_err(|e| HelpdeskEvalError::Usage(e.to_string()))?;
    if train.is_empty() || test.is_empty() {
        return Err(HelpdeskEvalError::Usage(format!(
            "{} labelled rows are too few to split",
            labels.len()
        )));
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for label in &labels {
        match counts.iter_mut().find(|(l, _)| l == label) {
            Some((_, n)) => *n += 1,
            None => counts.push((label.clone(), 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    println!(
        "input: {} ({} labelled rows; text: {}; label: {})",
        args.input.display(),
        labels.len(),
        args.text_columns.join(" + "),
        args.label_column
    );
    println!(
        "classes: {}",
        counts
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "split: stratified, {:.0}% test, seed {} -> train {}, test {}",
        args.test_fraction * 100.0,
        args.seed,
        train.len(),
        test.len()
    );
    let features = FeatureOptions {
        bigrams: !args.no_bigrams,
        ..FeatureOptions::default()
    };
    let x: Vec<Vec<u32>> = texts
        .iter()
        .map(|t| text_classifier::text_features(t, &features))
        .collect();
    let train_x: Vec<Vec<u32>> = train.iter().map(|i| x[*i].clone()).collect();
    let train_y: Vec<String> = train.iter().map(|i| labels[*i].clone()).collect();
    let test_y: Vec<String> = test.iter().map(|i| labels[*i].clone()).collect();

    let majority = majority_label(&train_y).unwrap_or_default();
    let baseline = text_classifier::evaluate(&test_y, &vec![majority.clone(); test_y.len()])
        .map_err(|e| HelpdeskEvalError::Usage(e.to_string()))?;
    print_metrics(
        &format!("majority baseline (always \"{majority}\")"),
        &baseline,
    );
    let mut best: Option<(Prior, Metrics)> = None;
    for prior in [Prior::Empirical, Prior::Uniform] {
        let options = TrainOptions {
            features,
            alpha: args.alpha,
            prior,
        };
        let model = NaiveBayes::fit(&train_x, &train_y, options)
            .map_err(|e| HelpdeskEvalError::Usage(e.to_string()))?;
        let predicted: Vec<String> = test
            .iter()
            .map(|i| model.classes[model.predict_features(&x[*i]).best].clone())
            .collect();
        let m = text_classifier::evaluate(&test_y, &predicted)
            .map_err(|e| HelpdeskEvalError::Usage(e.to_string()))?;
        let name = match prior {
            Prior::Empirical => "naive bayes, empirical prior (as deployed)",
            Prior::Uniform => "naive bayes, uniform prior",
        };
        print_metrics(name, &m);
        if prior == Prior::Empirical {
            best = Some((prior, m));
        }
    }
    if let Some((_, m)) = best {
        println!("per class (empirical prior): label, precision, recall, F1, support");
        for c in &m.per_class {
            println!(
                "  {:<12} {:.3}  {:.3}  {:.3}  {}",
                c.label, c.precision, c.recall, c.f1, c.support
            );
        }
        println!(
            "vs baseline: accuracy {:+.4}, macro-F1 {:+.4}",
            m.accuracy - baseline.accuracy,
            m.macro_f1 - baseline.macro_f1
        );
    }
    println!("time: {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(input: PathBuf, label: &str) -> HelpdeskEvalArgs {
        HelpdeskEvalArgs {
            input,
            text_columns: vec!["title".to_owned(), "body".to_owned()],
            label_column: label.to_owned(),
            test_fraction: 0.25,
            seed: 1,
            alpha: 0.5,
            no_bigrams: false,
        }
    }

    #[test]
    fn evaluates_a_small_file_and_names_missing_columns() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("tickets.csv");
        let mut text = String::from("title,body,label\n");
        for i in 0..20 {
            text.push_str(&format!("Outage {i},\"server down,\nurgent\",High\n"));
            text.push_str(&format!("Avatar {i},how do I change it,Low\n"));
        }
        text.push_str("No label,skipped,\n");
        std::fs::write(&path, text).expect("write");
        let (texts, labels) =
            read(&path, &args(path.clone(), "label").text_columns, "label").expect("read");
        assert_eq!(texts.len(), 40);
        assert_eq!(labels.iter().filter(|l| *l == "High").count(), 20);
        assert!(texts[0].contains("server down,\nurgent"));
        run(&args(path.clone(), "label")).expect("evaluation runs");

        let missing = run(&args(path.clone(), "priority")).expect_err("no such column");
        assert_eq!(missing.exit_code(), 2);
        assert!(missing.to_string().contains("no column `priority`"));
        let mut bad = args(path, "label");
        bad.alpha = 0.0;
        assert_eq!(run(&bad).expect_err("bad alpha").exit_code(), 2);
        let absent = run(&args(dir.path().join("absent.csv"), "label")).expect_err("absent");
        assert_eq!(absent.exit_code(), 1);
    }
}
