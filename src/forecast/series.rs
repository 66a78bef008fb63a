//! The series a forecast is made from: one value per period, gaps filled with explicit zeros.
//!
//! Periods are plain integers (e.g. months since year 0 as `year * 12 + month - 1`, or
//! ISO weeks numbered consecutively); the caller maps them to and from dates. A series
//! is dense: every period from [`Series::start`] to [`Series::end`] has a value, and the
//! number of periods that were missing from the input and filled with zero is kept in
//! [`Series::filled`] so it can be reported.

use super::ForecastError;

/// One measure over consecutive periods.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    start: i64,
    values: Vec<f64>,
    non_negative: bool,
    filled: usize,
}

impl Series {
    /// A dense series whose first value is at period `start`.
    ///
    /// `non_negative` says the measure can never be below zero (units, revenue): its
    /// forecasts and interval bounds are then clamped at zero. Fails on a value that is
    /// not a finite number.
    pub fn new(start: i64, values: Vec<f64>, non_negative: bool) -> Result<Self, ForecastError> {
        if let Some((i, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ForecastError::NonFinite {
                period: start + i as i64,
                value,
            });
        }
        Ok(Series {
            start,
            values,
            non_negative,
            filled: 0,
        })
    }

    /// A series from `(period, value)` observations in any order; every period missing
    /// between the first and the last observation gets an explicit zero, counted in
    /// [`Series::filled`]. Fails on a period given twice (aggregate first) or a value
    /// that is not a finite number. No observations give an empty series starting at 0.
    pub fn from_observations(
        observations: &[(i64, f64)],
        non_negative: bool,
    ) -> Result<Self, ForecastError> {
        let mut obs = observations.to_vec();
        obs.sort_by_key(|&(period, _)| period);
        if let Some(w) = obs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ForecastError::DuplicatePeriod { period: w[0].0 });
        }
        if let Some(&(period, value)) = obs.iter().find(|(_, v)| !v.is_finite()) {
            return Err(ForecastError::NonFinite { period, value });
        }
        let (Some(&(first, _)), Some(&(last, _))) = (obs.first(), obs.last()) else {
            return Ok(Series {
                start: 0,
                values: Vec::new(),
                non_negative,
                filled: 0,
            });
        };
        let len = usize::try_from(last - first + 1).map_err(|_| ForecastError::Spec {
            message: format!("period range {first}..={last} is too long"),
        })?;
        let mut values = vec![0.0; len];
        for &(period, value) in &obs {
            values[(period - first) as usize] = value;
        }
        Ok(Series {
            start: first,
            filled: len - obs.len(),
            values,
            non_negative,
        })
    }

    /// Extends the series with explicit zeros up to and including period `end` (the
    /// last closed period of the run), counting them in [`Series::filled`]: a product
    /// that stopped selling has zeros, not a shorter history. An empty series becomes a
    /// single zero at `end`. Does nothing when `end` is not after the last period.
    pub fn fill_to(mut self, end: i64) -> Self {
        if self.values.is_empty() {
            self.start = end;
            self.values.push(0.0);
            self.filled += 1;
            return self;
        }
        let last = self.end();
        if end > last {
            let extra = (end - last) as usize;
            self.values.resize(self.values.len() + extra, 0.0);
            self.filled += extra;
        }
        self
    }

    /// The period of the first value.
    pub fn start(&self) -> i64 {
        self.start
    }

    /// The period of the last value (`start - 1` when empty).
    pub fn end(&self) -> i64 {
        self.start + self.values.len() as i64 - 1
    }

    /// The values, one per period from [`Series::start`].
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The number of periods.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the series has no period.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether forecasts are clamped at zero.
    pub fn non_negative(&self) -> bool {
        self.non_negative
    }

    /// How many periods were missing from the observations and filled with zero.
    pub fn filled(&self) -> usize {
        self.filled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_filled_with_counted_zeros() {
        let s = Series::from_observations(&[(14, 5.0), (10, 1.0), (11, 2.0)], true).unwrap();
        assert_eq!(s.start(), 10);
        assert_eq!(s.end(), 14);
        assert_eq!(s.values(), &[1.0, 2.0, 0.0, 0.0, 5.0]);
        assert_eq!(s.filled(), 2);
        let s = s.fill_to(16);
        assert_eq!(s.values(), &[1.0, 2.0, 0.0, 0.0, 5.0, 0.0, 0.0]);
        assert_eq!(s.filled(), 4);
        assert_eq!(s.clone().fill_to(3), s);
    }

    #[test]
    fn empty_series_filled_to_the_as_of_period() {
        let s = Series::from_observations(&[], true).unwrap().fill_to(7);
        assert_eq!((s.start(), s.values(), s.filled()), (7, &[0.0][..], 1));
    }

    #[test]
    fn duplicate_and_non_finite_values_are_errors() {
        let err = Series::from_observations(&[(3, 1.0), (3, 2.0)], false).unwrap_err();
        assert_eq!(err, ForecastError::DuplicatePeriod { period: 3 });
        assert!(err.to_string().contains("period 3"));
        let err = Series::new(5, vec![1.0, f64::NAN], false).unwrap_err();
        assert!(matches!(err, ForecastError::NonFinite { period: 6, .. }));
    }
}
