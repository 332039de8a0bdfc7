//! Anomaly detection.
