//! Top-down reconciliation by forecast proportions (Athanasopoulos, Ahmed and Hyndman
//! 2009; Hyndman and Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed.,
//! section 11.2).
//!
//! Series that are each too noisy to show a season (one rep's monthly revenue, about a
//! dozen orders) often add up to a total where it is plain (the company's December).
//! Forecast alone, each picks a model without the season and their sum loses it. Here
//! the total of all series is forecast as one more series, with the same candidates and
//! backtest, and each period's total forecast is shared out in the proportions of the
//! series' own forecasts: at period `h` every series' point and interval bounds are
//! multiplied by the same factor `total_h / sum_i point_i,h`. The series then add up to
//! the total's forecast and keep their shares of it.
//!
//! Proportions need shares that are not negative: a period where any series' forecast
//! is below zero (a measure that can be negative) or where they add up to zero (nothing
//! to share out), or whose total is negative, is left as it was and counted in
//! [`TopDown::kept`].

use std::collections::BTreeMap;

use super::{forecast_series, ForecastError, ForecastSpec, Series, SeriesForecast};

/// The total's forecast and what reconciliation did.
#[derive(Debug, Clone, PartialEq)]
pub struct TopDown {
    /// The forecast of the total of all series.
    pub total: SeriesForecast,
    /// The factor applied per period of the horizon, in period order (1 where kept).
    pub factors: Vec<(i64, f64)>,
    /// Periods left as they were.
    pub kept: usize,
}

/// The sum of `series`, period by period, from the earliest start to the latest end; a
/// series contributes nothing before its start or after its end. `None` when empty.
pub fn total(series: &[Series]) -> Option<Series> {
    let start = series.iter().map(Series::start).min()?;
    let end = series.iter().map(Series::end).max()?;
    let mut values = vec![0.0; usize::try_from(end - start + 1).ok()?];
    for s in series {
        let offset = (s.start() - start) as usize;
        for (v, x) in values[offset..].iter_mut().zip(s.values()) {
            *v += x;
        }
    }
    let non_negative = series.iter().all(Series::non_negative);
    Series::new(start, values, non_negative).ok()
}

/// Forecasts the total of `series` with `spec` and scales `fits` (the forecasts of
/// `series`, in the same order) to it. Nothing is done, and `None` returned, for fewer
/// than two series.
pub fn top_down(
    series: &[Series],
    fits: &mut [SeriesForecast],
    spec: &ForecastSpec,
) -> Result<Option<TopDown>, ForecastError> {
    if series.len() < 2 {
        return Ok(None);
    }
    let Some(sum) = total(series) else {
        return Ok(None);
    };
    let total = forecast_series(&sum, spec)?;
    // Per period: the sum of the series' points, and whether any is negative.
    let mut bottom: BTreeMap<i64, (f64, bool)> = BTreeMap::new();
    for f in fits.iter() {
        for p in &f.points {
            let e = bottom.entry(p.period).or_insert((0.0, false));
            e.0 += p.point;
            e.1 |= p.point < 0.0;
        }
    }
    let mut factors = Vec::with_capacity(total.points.len());
    let mut scaled: Vec<f64> = Vec::new();
    let mut scaled_periods = std::collections::BTreeSet::new();
    let mut kept = 0;
    for t in &total.points {
        let (parts, negative) = bottom.get(&t.period).copied().unwrap_or((0.0, false));
        let factor = t.point / parts;
        if !negative && parts > 0.0 && factor.is_finite() && factor >= 0.0 {
            factors.push((t.period, factor));
            scaled.push(factor);
            scaled_periods.insert(t.period);
        } else {
            factors.push((t.period, 1.0));
            kept += 1;
        }
    }
    let by_period: BTreeMap<i64, f64> = factors.iter().copied().collect();
    let range = if scaled.is_empty() {
        "no period scaled".to_string()
    } else {
        let lo = scaled.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("by factors {lo:.3} to {hi:.3}")
    };
    let note = format!(
        "; top-down: scaled to the forecast of the total of all series ({}), {range}{}",
        total.model,
        if kept > 0 {
            format!(
                ", {kept} period(s) left as they were (a series forecast below zero, or \
                 the series adding up to zero or the total below it: no proportions)"
            )
        } else {
            String::new()
        }
    );
    for f in fits.iter_mut() {
        for p in &mut f.points {
            let k = by_period.get(&p.period).copied().unwrap_or(1.0);
            p.point *= k;
            p.lo80 *= k;
            p.hi80 *= k;
            p.lo95 *= k;
            p.hi95 *= k;
        }
        // Named top-down only when some period of it was scaled.
        if f.points.iter().any(|p| scaled_periods.contains(&p.period)) {
            f.model = format!("{}, top-down", f.model);
        }
        f.reason.push_str(&note);
    }
    Ok(Some(TopDown {
        total,
        factors,
        kept,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::forecast::{fit_many, ModelKind};

    fn spec(candidates: Vec<ModelKind>) -> ForecastSpec {
        ForecastSpec {
            horizon: 4,
            season_length: 4,
            candidates,
            ..ForecastSpec::default()
        }
    }

    #[test]
    fn the_total_adds_series_of_different_spans() {
        let a = Series::new(10, vec![1.0, 2.0, 3.0], true).unwrap();
        let b = Series::new(11, vec![10.0, 20.0, 30.0, 40.0], true).unwrap();
        let t = total(&[a, b]).unwrap();
        assert_eq!(t.start(), 10);
        assert_eq!(t.values(), &[1.0, 12.0, 23.0, 30.0, 40.0]);
        assert!(t.non_negative());
    }

    #[test]
    fn series_are_scaled_to_the_totals_season_keeping_their_shares() {
        // Two flat series, 30 and 10 a period, forecast by naive, add up to a total of
        // 40 with a season 0.5, 1, 1, 1.5 in its last four periods: seasonal naive on
        // the total repeats them (20, 40, 40, 60), and each series gets its share, 3/4
        // and 1/4, of each period: exactly 15, 30, 30, 45 and 5, 10, 10, 15.
        let season = [0.5, 1.0, 1.0, 1.5];
        let a: Vec<f64> = (0..16).map(|t| 30.0 * season[t % 4]).collect();
        let b: Vec<f64> = (0..16).map(|t| 10.0 * season[t % 4]).collect();
        let series = vec![
            Series::new(0, a, true).unwrap(),
            Series::new(0, b, true).unwrap(),
        ];
        // The series themselves by naive: flat at their last value.
        let mut fits = fit_many(&series, &spec(vec![ModelKind::Naive])).unwrap();
        assert!(fits[0].points.iter().all(|p| p.point == 45.0));
        let before = fits.clone();
        // The total by seasonal naive, as the same spec would choose on a clean season.
        let td = top_down(&series, &mut fits, &spec(vec![ModelKind::SeasonalNaive])).unwrap();
        let td = td.unwrap();
        assert_eq!(td.kept, 0);
        let factors = [20.0 / 60.0, 40.0 / 60.0, 40.0 / 60.0, 1.0];
        for (&(_, got), want) in td.factors.iter().zip(factors) {
            assert!((got - want).abs() < 1e-12, "{:?}", td.factors);
        }
        let got = |i: usize| fits[i].points.iter().map(|p| p.point).collect::<Vec<_>>();
        let close = |got: Vec<f64>, want: [f64; 4]| {
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-9, "{got:?} vs {want:?}");
            }
        };
        close(got(0), [15.0, 30.0, 30.0, 45.0]);
        close(got(1), [5.0, 10.0, 10.0, 15.0]);
        // The bounds are scaled by the same factor as the point.
        for (f, b) in fits.iter().zip(&before) {
            for ((p, q), k) in f.points.iter().zip(&b.points).zip(factors) {
                for (x, y) in [
                    (p.lo80, q.lo80),
                    (p.hi80, q.hi80),
                    (p.lo95, q.lo95),
                    (p.hi95, q.hi95),
                ] {
                    assert!((x - y * k).abs() < 1e-9, "{p:?} vs {q:?} x {k}");
                }
            }
        }
        assert!(fits[0].model.ends_with(", top-down"), "{}", fits[0].model);
        assert!(
            fits[1]
                .reason
                .contains("top-down: scaled to the forecast of the total"),
            "{}",
            fits[1].reason
        );
    }

    #[test]
    fn nothing_to_share_out_leaves_the_period_as_it_was() {
        let series = vec![
            Series::new(0, vec![0.0; 12], true).unwrap(),
            Series::new(0, vec![0.0; 12], true).unwrap(),
        ];
        let mut fits = fit_many(&series, &spec(ModelKind::defaults())).unwrap();
        let before = fits.clone();
        let td = top_down(&series, &mut fits, &spec(ModelKind::defaults()))
            .unwrap()
            .unwrap();
        assert_eq!(td.kept, 4);
        for (a, b) in fits.iter().zip(&before) {
            assert_eq!(a.points, b.points);
        }
    }

    #[test]
    fn a_period_with_a_negative_series_forecast_is_left_as_it_was() {
        // Margin-like series: one positive, one negative, forecast flat by naive at 100
        // and -95. Their sum, 5, would give a factor of 20 from a total near 5: no
        // proportions exist with a negative share, so nothing is scaled.
        let series = vec![
            Series::new(
                0,
                vec![90.0, 110.0, 100.0, 95.0, 105.0, 100.0, 100.0, 100.0],
                false,
            )
            .unwrap(),
            Series::new(
                0,
                vec![-90.0, -100.0, -95.0, -97.0, -93.0, -95.0, -95.0, -95.0],
                false,
            )
            .unwrap(),
        ];
        let naive = spec(vec![ModelKind::Naive]);
        let mut fits = fit_many(&series, &naive).unwrap();
        let before = fits.clone();
        let td = top_down(&series, &mut fits, &naive).unwrap().unwrap();
        assert_eq!(td.kept, 4);
        for (a, b) in fits.iter().zip(&before) {
            assert_eq!(a.points, b.points);
            // Nothing scaled: not named top-down.
            assert_eq!(a.model, b.model);
        }
        assert!(
            fits[0].reason.ends_with("no period scaled, 4 period(s) left as they were (a series forecast below zero, or the series adding up to zero or the total below it: no proportions)"),
            "{}",
            fits[0].reason
        );
    }

    #[test]
    fn one_series_is_not_reconciled() {
        let series = vec![Series::new(0, vec![1.0, 2.0, 3.0], true).unwrap()];
        let mut fits = fit_many(&series, &ForecastSpec::default()).unwrap();
        let before = fits.clone();
        assert!(top_down(&series, &mut fits, &ForecastSpec::default())
            .unwrap()
            .is_none());
        assert_eq!(fits, before);
    }
}
