//! Intermittent demand: Croston's method (classic, alpha 0.1, as statsforecast's
//! `CrostonClassic`) and Teunter-Syntetos-Babai (TSB), whose demand probability decays
//! through periods without demand. Both forecast a flat demand rate; intervals come
//! from the empirical quantiles of the in-sample one-step errors (there is no
//! stochastic model behind these methods), the same width at every step.

use super::optim::{self, Options};
use super::stats::{self, Band};

/// Croston's smoothing constant.
pub(crate) const CROSTON_ALPHA: f64 = 0.1;

/// A fitted flat-rate model: the forecast and the in-sample one-step errors.
pub(crate) struct FlatRate {
    /// The forecast demand per period.
    pub rate: f64,
    errors: Vec<f64>,
}

impl FlatRate {
    /// `h` copies of the rate.
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        vec![self.rate; h]
    }

    /// Bounds from the error quantiles around the rate (the rate itself with fewer
    /// than two errors).
    pub fn bands(&self, h: usize) -> Vec<Band> {
        let band = if self.errors.len() < 2 {
            Band::normal(self.rate, 0.0)
        } else {
            Band::from_sample(&mut self.errors.clone()).shifted(self.rate)
        };
        vec![band; h]
    }
}

/// Croston: demand sizes and intervals between demands smoothed separately (both
/// starting at the first demand, the first interval counted from the start of the
/// series), forecast = size / interval. `None` when `y` has no demand.
pub(crate) fn croston(y: &[f64], alpha: f64) -> Option<FlatRate> {
    let first = y.iter().position(|&v| v != 0.0)?;
    let mut z = y[first];
    let mut p = (first + 1) as f64;
    let mut since = 0usize;
    let mut errors = Vec::with_capacity(y.len() - first);
    for &v in &y[first + 1..] {
        errors.push(v - z / p);
        since += 1;
        if v != 0.0 {
            z += alpha * (v - z);
            p += alpha * (since as f64 - p);
            since = 0;
        }
    }
    let rate = z / p;
    // A demand at the very end leaves no one-step error after it: the rate's errors over
    // the whole series instead (a zero-width band would claim certainty from nothing).
    if errors.len() < 2 {
        errors = y.iter().map(|v| v - rate).collect();
    }
    Some(FlatRate { rate, errors })
}

/// TSB with given smoothing constants for the size (`alpha`) and the probability
/// (`beta`): the size starts at the mean demand, the probability at the share of
/// periods with demand. Returns the final state and the sum of squared one-step errors.
fn tsb_run(y: &[f64], alpha: f64, beta: f64, errors: Option<&mut Vec<f64>>) -> (f64, f64) {
    let demands: Vec<f64> = y.iter().copied().filter(|&v| v != 0.0).collect();
    let mut z = stats::mean(&demands);
    let mut p = demands.len() as f64 / y.len() as f64;
    let mut sse = 0.0;
    let mut errors = errors;
    for &v in y {
        let e = v - p * z;
        sse += e * e;
        if let Some(errs) = errors.as_deref_mut() {
            errs.push(e);
        }
        if v != 0.0 {
            z += alpha * (v - z);
            p += beta * (1.0 - p);
        } else {
            p -= beta * p;
        }
    }
    (p * z, sse)
}

/// TSB with both constants fitted in [0.01, 0.5] by least squares on the one-step
/// errors. `None` when `y` has no demand.
pub(crate) fn tsb(y: &[f64]) -> Option<FlatRate> {
    if y.iter().all(|&v| v == 0.0) {
        return None;
    }
    let opts = Options {
        max_evals: 300,
        ..Options::default()
    };
    let best = optim::minimize(
        |x| tsb_run(y, x[0], x[1], None).1,
        &[0.1, 0.1],
        &[0.1, 0.1],
        &[0.01, 0.01],
        &[0.5, 0.5],
        opts,
    );
    let mut errors = Vec::with_capacity(y.len());
    let (rate, _) = tsb_run(y, best.x[0], best.x[1], Some(&mut errors));
    Some(FlatRate { rate, errors })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn croston_exact_on_a_hand_example() {
        // y = 0 0 3 0 5 0 0 0 2 0, alpha = 0.1.
        // First demand 3 at period 3: size z = 3, interval p = 3.
        // Demand 5 two periods later: z = 3 + 0.1 (5 - 3) = 3.2, p = 3 + 0.1 (2 - 3) = 2.9.
        // Demand 2 four periods later: z = 3.2 + 0.1 (2 - 3.2) = 3.08,
        // p = 2.9 + 0.1 (4 - 2.9) = 3.01. Forecast = 3.08 / 3.01 = 308 / 301.
        let y = [0.0, 0.0, 3.0, 0.0, 5.0, 0.0, 0.0, 0.0, 2.0, 0.0];
        let fit = croston(&y, CROSTON_ALPHA).unwrap();
        assert!((fit.rate - 308.0 / 301.0).abs() < 1e-12, "{}", fit.rate);
        assert_eq!(fit.forecast(3), vec![fit.rate; 3]);
        assert!(croston(&[0.0; 5], CROSTON_ALPHA).is_none());
    }

    /// Regression: 35 zeros then one demand of 50 had no error after its first demand,
    /// and a zero-width band at the rate.
    #[test]
    fn croston_with_one_late_demand_has_a_band() {
        let mut y = vec![0.0; 35];
        y.push(50.0);
        let fit = croston(&y, CROSTON_ALPHA).unwrap();
        // z = 50, p = 36: rate 50 / 36.
        assert!((fit.rate - 50.0 / 36.0).abs() < 1e-12, "{}", fit.rate);
        let b = &fit.bands(1)[0];
        // The errors over the whole series: 35 of -50/36 and one of 50 - 50/36. The
        // band was the rate alone (zero width) before.
        assert!(b.hi95 > fit.rate + 1.0 && b.hi95 > b.hi80, "{b:?}");
        assert!(b.lo95 < fit.rate, "{b:?}");
    }

    #[test]
    fn tsb_decays_after_demand_stops() {
        let mut y = vec![0.0, 4.0, 0.0, 4.0, 0.0, 0.0, 4.0, 0.0, 4.0, 0.0, 0.0, 4.0];
        let before = tsb(&y).unwrap().rate;
        y.extend([0.0; 12]);
        let after = tsb(&y).unwrap().rate;
        assert!(before > 1.0 && after < before, "{before} {after}");
    }
}
