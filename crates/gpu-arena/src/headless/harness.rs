//! [`Harness`]: one test body on every adapter, for GPU tests in CI.
//!
//! A GPU test that runs on one adapter says little about the others: lavapipe and
//! llvmpipe differ in limits, features and bugs, and a hardware GPU differs again.
//! The harness opens a device on every adapter the descriptor accepts, runs the body
//! on each (a panic, from an `assert!`, is a failure), prints one line per adapter,
//! and fails the test if any adapter failed. A known driver quirk is declared as a
//! named [`ExpectedFailure`] keyed on backend or adapter name, never skipped
//! silently; one that stops failing is reported too, so the list stays true. With no
//! adapter at all the harness fails with what to install.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::{Headless, HeadlessDescriptor, HeadlessError};

/// A known failure on some adapters: the body is expected to fail there.
///
/// ```
/// use gpu_arena::headless::ExpectedFailure;
/// let quirk = ExpectedFailure { backend: Some(wgpu::Backend::Gl), adapter: None, reason: "GL lacks X" };
/// assert_eq!(quirk.reason, "GL lacks X");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpectedFailure {
    /// The backend it concerns (`None`: any).
    pub backend: Option<wgpu::Backend>,
    /// A case-insensitive substring of the adapter name (`None`: any).
    pub adapter: Option<&'static str>,
    /// Why it fails: the driver bug or missing feature, for the report.
    pub reason: &'static str,
}

impl ExpectedFailure {
    /// Whether this expectation applies to the adapter `info` describes.
    ///
    /// ```
    /// # let gpu = gpu_arena::headless::Headless::shared().unwrap();
    /// let any = gpu_arena::headless::ExpectedFailure { backend: None, adapter: None, reason: "all" };
    /// assert!(any.matches(&gpu.info));
    /// ```
    pub fn matches(&self, info: &wgpu::AdapterInfo) -> bool {
        self.backend.is_none_or(|b| b == info.backend)
            && self
                .adapter
                .is_none_or(|n| info.name.to_lowercase().contains(&n.to_lowercase()))
    }
}

/// What happened on one adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The body ran to the end.
    Passed,
    /// The body panicked; the panic message.
    Failed(String),
    /// The body failed where an [`ExpectedFailure`] said it would; its reason.
    FailedAsExpected(&'static str),
    /// The body passed where an [`ExpectedFailure`] said it would fail; its reason.
    UnexpectedPass(&'static str),
}

impl Outcome {
    /// Whether this outcome lets the test pass.
    ///
    /// ```
    /// use gpu_arena::headless::Outcome;
    /// assert!(Outcome::FailedAsExpected("quirk").is_ok());
    /// assert!(!Outcome::UnexpectedPass("quirk").is_ok());
    /// ```
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Passed | Outcome::FailedAsExpected(_))
    }
}

/// One test's outcome on every adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The test's name.
    pub test: String,
    /// Each adapter (`name (backend, type)`) and what happened there.
    pub results: Vec<(String, Outcome)>,
}

impl Report {
    /// Whether the test passed on every adapter (failures that were expected count
    /// as passes; unexpected passes do not).
    ///
    /// ```
    /// let report = gpu_arena::headless::Report { test: "t".into(), results: vec![] };
    /// assert!(!report.is_ok(), "no adapter is a failure");
    /// ```
    pub fn is_ok(&self) -> bool {
        !self.results.is_empty() && self.results.iter().all(|(_, o)| o.is_ok())
    }

    /// Panics with the report unless [`Self::is_ok`].
    ///
    /// ```
    /// use gpu_arena::headless::{Outcome, Report};
    /// let report = Report { test: "t".into(), results: vec![("lavapipe".into(), Outcome::Passed)] };
    /// report.assert_ok();
    /// ```
    pub fn assert_ok(&self) {
        assert!(self.is_ok(), "{self}");
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.results.is_empty() {
            return write!(f, "{}: ran on no adapter", self.test);
        }
        for (adapter, outcome) in &self.results {
            match outcome {
                Outcome::Passed => writeln!(f, "  ok      {} on {adapter}", self.test)?,
                Outcome::Failed(message) => {
                    writeln!(f, "  FAILED  {} on {adapter}: {message}", self.test)?
                }
                Outcome::FailedAsExpected(reason) => writeln!(
                    f,
                    "  xfail   {} on {adapter} (expected: {reason})",
                    self.test
                )?,
                Outcome::UnexpectedPass(reason) => writeln!(
                    f,
                    "  XPASS   {} on {adapter}: expected to fail ({reason}) but passed; update the expectation",
                    self.test
                )?,
            }
        }
        Ok(())
    }
}

/// A device on every adapter found, for running test bodies on each.
///
/// ```
/// use gpu_arena::headless::Harness;
/// let harness = Harness::new(&Default::default()).expect("a GPU or Mesa's software drivers");
/// harness.check("buffers can be created", &[], |gpu| {
///     let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
///         label: None, size: 16, usage: wgpu::BufferUsages::COPY_DST, mapped_at_creation: false,
///     });
///     assert_eq!(buffer.size(), 16);
/// });
/// ```
pub struct Harness {
    gpus: Vec<Headless>,
}

impl Harness {
    /// Opens a device on every adapter `desc` accepts (see [`Headless::all`]).
    ///
    /// # Errors
    /// [`HeadlessError::NoAdapter`], with what to install, when there is none.
    ///
    /// ```
    /// let harness = gpu_arena::headless::Harness::new(&Default::default()).unwrap();
    /// assert!(!harness.adapters().is_empty());
    /// ```
    pub fn new(desc: &HeadlessDescriptor) -> Result<Harness, HeadlessError> {
        Ok(Harness {
            gpus: Headless::all(desc)?,
        })
    }

    /// The devices, one per adapter, best first.
    ///
    /// ```
    /// let harness = gpu_arena::headless::Harness::new(&Default::default()).unwrap();
    /// for gpu in harness.adapters() {
    ///     println!("{}", gpu.describe());
    /// }
    /// ```
    pub fn adapters(&self) -> &[Headless] {
        &self.gpus
    }

    /// Runs `body` on every adapter and reports what happened on each; `expected`
    /// names the adapters where it is known to fail.
    ///
    /// ```
    /// use gpu_arena::headless::{ExpectedFailure, Harness, Outcome};
    /// let harness = Harness::new(&Default::default()).unwrap();
    /// let everywhere = [ExpectedFailure { backend: None, adapter: None, reason: "demonstration" }];
    /// let report = harness.run("always fails", &everywhere, |_| panic!("boom"));
    /// assert!(report.is_ok());
    /// assert!(report.results.iter().all(|(_, o)| *o == Outcome::FailedAsExpected("demonstration")));
    /// ```
    pub fn run(
        &self,
        test: &str,
        expected: &[ExpectedFailure],
        body: impl Fn(&Headless),
    ) -> Report {
        let results = self
            .gpus
            .iter()
            .map(|gpu| {
                let expectation = expected.iter().find(|e| e.matches(&gpu.info));
                let ran = catch_unwind(AssertUnwindSafe(|| body(gpu)));
                let outcome = match (ran, expectation) {
                    (Ok(()), None) => Outcome::Passed,
                    (Ok(()), Some(e)) => Outcome::UnexpectedPass(e.reason),
                    (Err(_), Some(e)) => Outcome::FailedAsExpected(e.reason),
                    (Err(payload), None) => Outcome::Failed(panic_message(payload.as_ref())),
                };
                (gpu.describe(), outcome)
            })
            .collect();
        let report = Report {
            test: test.to_owned(),
            results,
        };
        eprint!("{report}");
        report
    }

    /// [`Self::run`], then fails (panics with the report) unless every adapter passed
    /// or failed as expected.
    ///
    /// ```
    /// let harness = gpu_arena::headless::Harness::new(&Default::default()).unwrap();
    /// harness.check("limits are positive", &[], |gpu| assert!(gpu.device.limits().max_buffer_size > 0));
    /// ```
    pub fn check(&self, test: &str, expected: &[ExpectedFailure], body: impl Fn(&Headless)) {
        self.run(test, expected, body).assert_ok();
    }
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panicked with a non-string payload".to_owned()
    }
}
