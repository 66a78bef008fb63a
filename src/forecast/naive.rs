//! Naive and seasonal naive forecasts: the floor every other model must beat, with the
//! analytic normal intervals of Hyndman and Athanasopoulos (FPP3, section 5.5).

use super::stats::Band;

/// The last value repeated; `sd_h = sigma sqrt(h)` with `sigma` the root mean square of
/// the one-step differences. `None` on an empty series.
pub(crate) fn naive(y: &[f64], h: usize) -> Option<(Vec<f64>, Vec<Band>)> {
    let last = *y.last()?;
    let sigma = rms_diff(y, 1);
    let bands = (1..=h)
        .map(|k| Band::normal(last, sigma * (k as f64).sqrt()))
        .collect();
    Some((vec![last; h], bands))
}

/// The value of the same period of the last season; `sd_h = sigma sqrt(floor((h-1)/m)
/// + 1)` with `sigma` the root mean square of the lag-`m` differences. `None` with
/// fewer than `m` points or `m < 2`.
pub(crate) fn seasonal_naive(y: &[f64], m: usize, h: usize) -> Option<(Vec<f64>, Vec<Band>)> {
    let n = y.len();
    if m < 2 || n < m {
        return None;
    }
    let sigma = rms_diff(y, m);
    let mut mean = Vec::with_capacity(h);
    let mut bands = Vec::with_capacity(h);
    for k in 1..=h {
        let v = y[n - m + (k - 1) % m];
        mean.push(v);
        bands.push(Band::normal(v, sigma * (((k - 1) / m + 1) as f64).sqrt()));
    }
    Some((mean, bands))
}

/// Root mean square of `y[t] - y[t - lag]` (0 when there is no such pair).
fn rms_diff(y: &[f64], lag: usize) -> f64 {
    if y.len() <= lag {
        return 0.0;
    }
    let ss: f64 = (lag..y.len()).map(|t| (y[t] - y[t - lag]).powi(2)).sum();
    (ss / (y.len() - lag) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::stats::Z95;

    #[test]
    fn seasonal_naive_exact_on_a_hand_example() {
        // Two seasons of 4; the second is the first plus 1, so every lag-4 residual is 1
        // and sigma = 1. Forecasts repeat the last season: 11 21 31 41 11 21; the
        // standard deviation is 1 for h = 1..4 and sqrt(2) for h = 5, 6.
        let y = [10.0, 20.0, 30.0, 40.0, 11.0, 21.0, 31.0, 41.0];
        let (mean, bands) = seasonal_naive(&y, 4, 6).unwrap();
        assert_eq!(mean, vec![11.0, 21.0, 31.0, 41.0, 11.0, 21.0]);
        assert_eq!(bands[0].lo95, 11.0 - Z95);
        assert_eq!(bands[3].hi95, 41.0 + Z95);
        assert!((bands[4].hi95 - (11.0 + Z95 * 2f64.sqrt())).abs() < 1e-12);
        assert!(seasonal_naive(&y[..3], 4, 6).is_none());
    }

    #[test]
    fn naive_repeats_the_last_value() {
        // Differences 2, -1, 3: sigma = sqrt((4 + 1 + 9) / 3).
        let (mean, bands) = naive(&[1.0, 3.0, 2.0, 5.0], 4).unwrap();
        assert_eq!(mean, vec![5.0; 4]);
        let sigma = (14.0f64 / 3.0).sqrt();
        assert!((bands[3].hi95 - (5.0 + Z95 * sigma * 2.0)).abs() < 1e-12);
    }
}
