//! The standard Theta method (Assimakopoulos and Nikolopoulos 2000) as shown by Hyndman
//! and Billah (2003) to be simple exponential smoothing with drift, implemented like R's
//! `forecast::thetaf`: a 90 % autocorrelation test for seasonality at lag `m`, classical
//! decomposition (multiplicative for positive data, else additive) to adjust, SES
//! fitted by likelihood on the adjusted series, half the least-squares slope added as
//! drift, the season put back. Intervals are SES's (class 1), shifted by the drift and
//! reseasonalised.

use super::ets::{ErrorType, EtsForm, EtsModel, SeasonType, TrendType};
use super::stats::{self, Band};

const SES: EtsForm = EtsForm::new(ErrorType::Additive, TrendType::None, SeasonType::None);

/// A fitted Theta model.
pub(crate) struct Theta {
    ses: EtsModel,
    /// Seasonal indices for positions `t % m` and whether they multiply.
    season: Option<(Vec<f64>, bool)>,
    /// Half the slope of the least-squares line through the adjusted series.
    drift: f64,
    n: usize,
}

impl Theta {
    /// The fewest points Theta is fitted on.
    pub fn min_len() -> usize {
        SES.min_len(1)
    }

    /// Fits Theta to `y` with season length `m`; `None` when `y` is too short.
    pub fn fit(y: &[f64], m: usize) -> Option<Theta> {
        Theta::fit_with(y, m, false)
    }

    /// [`Theta::fit`], seasonally adjusted also when `seasonal` is true (and the series
    /// holds two seasons), whatever the autocorrelation test finds.
    pub fn fit_with(y: &[f64], m: usize, seasonal: bool) -> Option<Theta> {
        let n = y.len();
        let season = if (seasonal && m >= 2) || stats::is_seasonal(y, m) {
            let mult = y.iter().all(|&v| v > 0.0);
            stats::seasonal_indices(y, m, mult).map(|idx| (idx, mult))
        } else {
            None
        };
        let adjusted: Vec<f64> = match &season {
            Some((idx, true)) => y.iter().enumerate().map(|(t, v)| v / idx[t % m]).collect(),
            Some((idx, false)) => y.iter().enumerate().map(|(t, v)| v - idx[t % m]).collect(),
            None => y.to_vec(),
        };
        let ses = EtsModel::fit(&adjusted, 1, SES)?;
        let (_, slope) = stats::ols_line(&adjusted, 0.0);
        Some(Theta {
            ses,
            season,
            drift: slope / 2.0,
            n,
        })
    }

    /// True when the series was seasonally adjusted.
    pub fn is_seasonal(&self) -> bool {
        self.season.is_some()
    }

    fn drift(&self, k: usize) -> f64 {
        let a = self.ses.params.alpha.max(1e-10);
        self.drift * ((k - 1) as f64 + (1.0 - (1.0 - a).powi(self.n as i32)) / a)
    }

    fn reseason(&self, k: usize, v: f64) -> f64 {
        match &self.season {
            Some((idx, true)) => v * idx[(self.n + k - 1) % idx.len()],
            Some((idx, false)) => v + idx[(self.n + k - 1) % idx.len()],
            None => v,
        }
    }

    /// Point forecasts for the next `h` periods.
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let level = self.ses.forecast(h);
        (1..=h)
            .map(|k| self.reseason(k, level[k - 1] + self.drift(k)))
            .collect()
    }

    /// 80 % and 95 % intervals for the next `h` periods.
    pub fn bands(&self, h: usize) -> Vec<Band> {
        let (ses, _) = self.ses.bands(h);
        ses.into_iter()
            .enumerate()
            .map(|(i, b)| {
                let b = b.shifted(self.drift(i + 1));
                Band {
                    lo80: self.reseason(i + 1, b.lo80),
                    hi80: self.reseason(i + 1, b.hi80),
                    lo95: self.reseason(i + 1, b.lo95),
                    hi95: self.reseason(i + 1, b.hi95),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theta_on_a_line_follows_the_slope() {
        // On an exact line SES tracks the last value (alpha near 1) and the drift adds
        // half the slope per step: 2 + (k - 1) + 1 for slope 2 is close to the line's
        // continuation at half speed, the standard Theta extrapolation.
        let y: Vec<f64> = (0..20).map(|t| 10.0 + 2.0 * t as f64).collect();
        let th = Theta::fit(&y, 1).unwrap();
        let f = th.forecast(3);
        assert!(f[0] > 48.0 && f[0] < 51.0, "{f:?}");
        assert!(((f[2] - f[1]) - 1.0).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn theta_keeps_a_clear_season() {
        let season = [1.3, 0.8, 0.9, 1.0];
        let y: Vec<f64> = (0..24).map(|t| 100.0 * season[t % 4]).collect();
        let th = Theta::fit(&y, 4).unwrap();
        let f = th.forecast(4);
        for (v, s) in f.iter().zip(season) {
            assert!((v - 100.0 * s).abs() < 1.0, "{f:?}");
        }
    }
}
