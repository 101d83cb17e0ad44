//! metron-core: the pure heart of Metron.
//!
//! It owns the tracking engine (a state machine advanced once per second, rules E1-E5 of
//! SPEC.md), the randomized boundary planner (E2), the interval model and its wire format (E4),
//! the privacy filter applied to every window sample (E6), what a device reports about itself,
//! the window and input events a
//! task miner reads (open/switch/update, and HID events by the 1-minute rule), the API v1 wire types and the checks
//! of an announced client release, the retry backoff of delivery (S4), and the report math: the
//! daily report (R1) and the productivity rules it classifies time by (R2), computed from stored
//! intervals without touching storage.
//!
//! It must stay pure: no tokio, no SQL, no HTTP, no OS calls and no clock or entropy reads.
//! Time comes in as values (`Now`), randomness as an injected `RngCore`, so every rule is
//! testable with scripted time and a seeded RNG, and `metron-agent replay` is deterministic.

pub mod backoff;
pub mod device;
pub mod engine;
pub mod events;
pub mod limits;
pub mod model;
pub mod planner;
pub mod privacy;
pub mod release;
pub mod report;
pub mod timesheet;
pub mod window;
pub mod wire;

pub use engine::{Engine, EngineConfig, Event, Now, StopCause};
pub use model::{
    Counts, EndReason, Input, Interval, IntervalEvent, InvalidInterval, Sample, WindowInfo,
    WindowSegment,
};
pub use planner::{IntervalPlanner, PlannerError};
pub use privacy::{PrivacyPolicy, UrlPolicy};
pub use report::{daily_report, Class, Classifier, DailyReport, Rule, RuleError};
