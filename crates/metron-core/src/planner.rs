//! The randomized boundary planner (SPEC E2).
//!
//! Each interval's planned length is drawn uniformly from an integer range (default 40..=80 s,
//! mean 60 s) so consecutive intervals differ and a boundary can't be predicted. The RNG is
//! injected: production seeds it from OS entropy, tests and `replay` from a seed.

use rand::{Rng, RngCore};
use std::ops::RangeInclusive;

use crate::model::MAX_INTERVAL_SECS;

/// The range of E2's default: mean 60 s.
pub const DEFAULT_RANGE: RangeInclusive<u32> = 40..=80;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlannerError {
    #[error("interval range {min}..{max} is empty: the first number must not exceed the second")]
    Empty { min: u32, max: u32 },
    #[error("interval range {min}..{max} must lie within 1..{MAX_INTERVAL_SECS} seconds")]
    OutOfBounds { min: u32, max: u32 },
    #[error("interval range '{0}' is not of the form MIN..MAX (whole seconds, e.g. 40..80)")]
    Syntax(String),
}

/// Parses "MIN..MAX" or "MIN..=MAX" (both inclusive) into a checked range.
pub fn parse_range(text: &str) -> Result<RangeInclusive<u32>, PlannerError> {
    let syntax = || PlannerError::Syntax(text.to_string());
    let (min, max) = text.split_once("..").ok_or_else(syntax)?;
    let max = max.strip_prefix('=').unwrap_or(max);
    let min: u32 = min.trim().parse().map_err(|_| syntax())?;
    let max: u32 = max.trim().parse().map_err(|_| syntax())?;
    check_range(min..=max)
}

fn check_range(range: RangeInclusive<u32>) -> Result<RangeInclusive<u32>, PlannerError> {
    let (min, max) = (*range.start(), *range.end());
    if min > max {
        return Err(PlannerError::Empty { min, max });
    }
    if min < 1 || max > MAX_INTERVAL_SECS {
        return Err(PlannerError::OutOfBounds { min, max });
    }
    Ok(range)
}

/// Draws planned interval durations and the random part of interval ids.
pub struct IntervalPlanner {
    range: RangeInclusive<u32>,
    rng: Box<dyn RngCore + Send>,
}

impl IntervalPlanner {
    pub fn new(
        range: RangeInclusive<u32>,
        rng: Box<dyn RngCore + Send>,
    ) -> Result<Self, PlannerError> {
        Ok(IntervalPlanner {
            range: check_range(range)?,
            rng,
        })
    }

    pub fn range(&self) -> RangeInclusive<u32> {
        self.range.clone()
    }

    /// The planned length D of the next interval, in seconds.
    pub fn next_duration(&mut self) -> u32 {
        self.rng.random_range(self.range.clone())
    }

    /// A UUIDv7 for an interval opening at `unix_millis`; the random bits come from the
    /// injected RNG so a seeded run produces the same ids every time.
    pub fn next_id(&mut self, unix_millis: u64) -> uuid::Uuid {
        let mut random = [0u8; 10];
        self.rng.fill_bytes(&mut random);
        uuid::Builder::from_unix_timestamp_millis(unix_millis, &random).into_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn planner(range: RangeInclusive<u32>, seed: u64) -> IntervalPlanner {
        IntervalPlanner::new(range, Box::new(StdRng::seed_from_u64(seed))).unwrap()
    }

    #[test]
    fn ten_thousand_durations_average_sixty_and_stay_in_range() {
        let mut p = planner(DEFAULT_RANGE, 7);
        let draws: Vec<u32> = (0..10_000).map(|_| p.next_duration()).collect();
        let mean = draws.iter().map(|&d| d as f64).sum::<f64>() / draws.len() as f64;
        assert!((mean - 60.0).abs() <= 1.0, "mean {mean}");
        assert!(draws.iter().all(|d| DEFAULT_RANGE.contains(d)));
        // Both ends of the range are reachable, and consecutive draws are not all equal.
        assert!(draws.contains(&40) && draws.contains(&80));
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn the_same_seed_plans_the_same_boundaries() {
        let a: Vec<u32> = {
            let mut p = planner(DEFAULT_RANGE, 42);
            (0..50).map(|_| p.next_duration()).collect()
        };
        let b: Vec<u32> = {
            let mut p = planner(DEFAULT_RANGE, 42);
            (0..50).map(|_| p.next_duration()).collect()
        };
        let c: Vec<u32> = {
            let mut p = planner(DEFAULT_RANGE, 43);
            (0..50).map(|_| p.next_duration()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn ids_are_version_7_and_distinct() {
        let mut p = planner(DEFAULT_RANGE, 1);
        let a = p.next_id(1_700_000_000_000);
        let b = p.next_id(1_700_000_000_000);
        assert_eq!(a.get_version_num(), 7);
        assert_ne!(a, b);
    }

    #[test]
    fn ranges_parse_and_bad_ones_say_why() {
        assert_eq!(parse_range("2..4").unwrap(), 2..=4);
        assert_eq!(parse_range("40..=80").unwrap(), 40..=80);
        assert!(matches!(
            parse_range("9..3"),
            Err(PlannerError::Empty { .. })
        ));
        assert!(matches!(
            parse_range("0..3"),
            Err(PlannerError::OutOfBounds { .. })
        ));
        assert!(matches!(
            parse_range("10..901"),
            Err(PlannerError::OutOfBounds { .. })
        ));
        assert!(matches!(parse_range("ten"), Err(PlannerError::Syntax(_))));
    }
}
