//! Scoring speed of `insight::sentiment` alone (no CSV, no process start), one core.
//!
//! `cargo run --release -p insight --example sentiment_speed [-- path/to/tweets_GroundTruth.txt [rounds]]`
//!
//! Reads VADER's tweets corpus (TAB separated `id, mean, text`, CRLF; default
//! `../shared/data/sentiment_vader_tweets/tweets_GroundTruth.txt`), scores every text
//! `rounds` times (default 50) with one reusable analyzer and prints texts per second.
//! With `--dump` instead of `rounds` it prints `id<TAB>neg<TAB>neu<TAB>pos<TAB>compound`
//! once per text, for comparison with the Python package.

use std::hint::black_box;
use std::time::Instant;

use insight::sentiment::SentimentAnalyzer;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().map_or(
        "../shared/data/sentiment_vader_tweets/tweets_GroundTruth.txt",
        |s| s.as_str(),
    );
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let rows: Vec<(&str, &str)> = text
        .split("\r\n")
        .filter_map(|line| {
            let mut f = line.splitn(3, '\t');
            Some((f.next()?, f.nth(1)?))
        })
        .collect();
    let mut analyzer = SentimentAnalyzer::new();
    if args.get(1).map(String::as_str) == Some("--dump") {
        for (id, t) in &rows {
            let s = analyzer.polarity_scores(t);
            println!("{id}\t{}\t{}\t{}\t{}", s.neg, s.neu, s.pos, s.compound);
        }
        return;
    }
    let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(50);
    // Warm-up: parse the lexicons and grow the buffers.
    for (_, t) in &rows {
        black_box(analyzer.polarity_scores(t));
    }
    let start = Instant::now();
    for _ in 0..rounds {
        for (_, t) in &rows {
            black_box(analyzer.polarity_scores(black_box(t)));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = rows.len() * rounds;
    println!(
        "{n} texts in {secs:.3} s: {:.0} texts/s on one core ({:.2} µs per text)",
        n as f64 / secs,
        secs * 1e6 / n as f64
    );
}
