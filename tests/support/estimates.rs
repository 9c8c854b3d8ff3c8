//! Criterion's estimates read back after a run, so that the benchmarks can print
//! ratios measured side by side in that same run.

use std::time::SystemTime;

/// Mean time in nanoseconds of benchmark `group/name`, from the estimates file
/// criterion wrote in this run (after `since`); `None` for one a filter skipped.
pub fn mean_ns(group: &str, name: &str, since: SystemTime) -> Option<f64> {
    let path = format!("target/criterion/{group}/{name}/new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let at = text.find("\"mean\"")?;
    let rest = &text[at..];
    let p = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    rest[p..].split([',', '}']).next()?.trim().parse().ok()
}
