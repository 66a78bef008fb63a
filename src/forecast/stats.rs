//! Small statistics shared by the models: interval bands, quantiles, least squares,
//! autocorrelation and classical seasonal decomposition.

/// Standard normal quantile for a central 80 % interval (the 0.9 quantile).
pub(crate) const Z80: f64 = 1.281_551_565_544_600_4;
/// Standard normal quantile for a central 95 % interval (the 0.975 quantile).
pub(crate) const Z95: f64 = 1.959_963_984_540_054;

/// The 80 % and 95 % bounds of one forecast step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Band {
    pub lo80: f64,
    pub hi80: f64,
    pub lo95: f64,
    pub hi95: f64,
}

impl Band {
    /// Normal bounds around `mean` with standard deviation `sd`.
    pub fn normal(mean: f64, sd: f64) -> Band {
        Band {
            lo80: mean - Z80 * sd,
            hi80: mean + Z80 * sd,
            lo95: mean - Z95 * sd,
            hi95: mean + Z95 * sd,
        }
    }

    /// Bounds from the empirical quantiles of a sample (sorted in place).
    pub fn from_sample(sample: &mut [f64]) -> Band {
        sample.sort_by(f64::total_cmp);
        Band {
            lo80: quantile_sorted(sample, 0.1),
            hi80: quantile_sorted(sample, 0.9),
            lo95: quantile_sorted(sample, 0.025),
            hi95: quantile_sorted(sample, 0.975),
        }
    }

    /// The band shifted by `by`.
    pub fn shifted(self, by: f64) -> Band {
        Band {
            lo80: self.lo80 + by,
            hi80: self.hi80 + by,
            lo95: self.lo95 + by,
            hi95: self.hi95 + by,
        }
    }

    /// The band with every bound at least zero.
    pub fn clamped(self) -> Band {
        Band {
            lo80: self.lo80.max(0.0),
            hi80: self.hi80.max(0.0),
            lo95: self.lo95.max(0.0),
            hi95: self.hi95.max(0.0),
        }
    }
}

/// Linear-interpolation quantile (R's type 7) of a sorted, non-empty sample.
pub(crate) fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * p;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// Mean of a slice (0 when empty).
pub(crate) fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        0.0
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

/// Least-squares line through `(t0 + i, x[i])`: `(intercept at t = 0, slope)`.
pub(crate) fn ols_line(x: &[f64], t0: f64) -> (f64, f64) {
    let n = x.len() as f64;
    if x.len() < 2 {
        return (x.first().copied().unwrap_or(0.0), 0.0);
    }
    let tbar = t0 + (n - 1.0) / 2.0;
    let xbar = mean(x);
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in x.iter().enumerate() {
        let dt = t0 + i as f64 - tbar;
        sxy += dt * (v - xbar);
        sxx += dt * dt;
    }
    let slope = sxy / sxx;
    (xbar - slope * tbar, slope)
}

/// Intercept and slope of the least-squares fit of `x` on `1, t, cos(2 pi t / m)` and
/// `sin(2 pi t / m)` for `t = 1..=n` (the sine left out when `m` is 2, where it is zero):
/// the trend of a short seasonal series (R's and statsforecast's `initstate` below
/// three seasons). `None` when the system is singular.
pub(crate) fn fourier_trend(x: &[f64], m: usize) -> Option<(f64, f64)> {
    let k = if m == 2 { 3 } else { 4 };
    let mut a = [[0.0f64; 5]; 4];
    for (i, &v) in x.iter().enumerate() {
        let t = (i + 1) as f64;
        let w = 2.0 * std::f64::consts::PI * t / m as f64;
        let row = [1.0, t, w.cos(), w.sin()];
        for r in 0..k {
            for c in 0..k {
                a[r][c] += row[r] * row[c];
            }
            a[r][4] += row[r] * v;
        }
    }
    for c in 0..k {
        let p = (c..k).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, p);
        let pivot = a[c];
        for (r, row) in a.iter_mut().enumerate().take(k) {
            if r != c {
                let f = row[c] / pivot[c];
                for (v, p) in row.iter_mut().zip(pivot).skip(c) {
                    *v -= f * p;
                }
            }
        }
    }
    Some((a[0][4] / a[0][0], a[1][4] / a[1][1]))
}

/// Sample autocorrelation at lag `k`.
pub(crate) fn acf(x: &[f64], k: usize) -> f64 {
    let xbar = mean(x);
    let den: f64 = x.iter().map(|v| (v - xbar).powi(2)).sum();
    if den <= 0.0 || k >= x.len() {
        return 0.0;
    }
    let num: f64 = (0..x.len() - k)
        .map(|t| (x[t] - xbar) * (x[t + k] - xbar))
        .sum();
    num / den
}

/// The 90 % autocorrelation test for seasonality at lag `m` used by the Theta method
/// (Hyndman and Billah; R's `thetaf`): `|r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n)`.
pub(crate) fn is_seasonal(x: &[f64], m: usize) -> bool {
    if m < 2 || x.len() < 2 * m {
        return false;
    }
    let n = x.len() as f64;
    let sum: f64 = (1..m).map(|k| acf(x, k).powi(2)).sum();
    let lim = 1.645 * ((1.0 + 2.0 * sum) / n).sqrt();
    acf(x, m).abs() > lim
}

/// Seasonal indices by classical decomposition (centred moving average of order `m`,
/// 2 x m when `m` is even), index `j` for the periods `t` with `t % m == j`; normalised
/// to mean 1 (multiplicative) or 0 (additive). `None` when `x` has fewer than `2 m`
/// points or (multiplicative) a non-positive trend value.
pub(crate) fn seasonal_indices(x: &[f64], m: usize, multiplicative: bool) -> Option<Vec<f64>> {
    let n = x.len();
    if m < 2 || n < 2 * m {
        return None;
    }
    let half = m / 2;
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    for t in half..n - half {
        let trend = if m.is_multiple_of(2) {
            (0.5 * x[t - half] + x[t + 1 - half..t + half].iter().sum::<f64>() + 0.5 * x[t + half])
                / m as f64
        } else {
            x[t - half..=t + half].iter().sum::<f64>() / m as f64
        };
        let d = if multiplicative {
            if trend <= 0.0 {
                return None;
            }
            x[t] / trend
        } else {
            x[t] - trend
        };
        sums[t % m] += d;
        counts[t % m] += 1;
    }
    if counts.contains(&0) {
        return None;
    }
    let mut idx: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| s / c as f64)
        .collect();
    normalise(&mut idx, multiplicative);
    Some(idx)
}

fn normalise(idx: &mut [f64], multiplicative: bool) {
    let avg = mean(idx);
    for v in idx.iter_mut() {
        if multiplicative {
            *v /= avg;
        } else {
            *v -= avg;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_r_type_7() {
        // R: quantile(1:10, c(.025, .1, .9, .975)) = 1.225 1.900 9.100 9.775
        let mut x: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        let b = Band::from_sample(&mut x);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(b.lo95, 1.225) && close(b.lo80, 1.9), "{b:?}");
        assert!(close(b.hi80, 9.1) && close(b.hi95, 9.775), "{b:?}");
    }

    #[test]
    fn least_squares_line_and_decomposition() {
        let (a, b) = ols_line(&[3.0, 5.0, 7.0], 1.0);
        assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
        // A pure additive season on a linear trend is recovered exactly.
        let season = [4.0, -1.0, -2.0, -1.0];
        let x: Vec<f64> = (0..16)
            .map(|t| 10.0 + 0.5 * t as f64 + season[t % 4])
            .collect();
        let idx = seasonal_indices(&x, 4, false).unwrap();
        for (i, s) in idx.iter().zip(season) {
            assert!((i - s).abs() < 1e-9, "{idx:?}");
        }
        assert!(is_seasonal(&x, 4));
    }

    #[test]
    fn fourier_trend_separates_a_line_from_a_season() {
        // A line plus one exact sine/cosine pair: the fit returns the line exactly,
        // for m = 12 and for m = 2 (where the sine column is left out).
        for m in [12usize, 2] {
            let x: Vec<f64> = (1..=30)
                .map(|t| {
                    let w = 2.0 * std::f64::consts::PI * t as f64 / m as f64;
                    5.0 + 0.7 * t as f64 + 3.0 * w.cos() + if m > 2 { 2.0 * w.sin() } else { 0.0 }
                })
                .collect();
            let (a, b) = fourier_trend(&x, m).unwrap();
            assert!(
                (a - 5.0).abs() < 1e-9 && (b - 0.7).abs() < 1e-9,
                "m {m}: {a} {b}"
            );
        }
    }
}
