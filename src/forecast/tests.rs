//! Tests of the whole forecasting path: model choice, intervals, fallbacks, parallel
//! determinism. Series are simulated from seeded ChaCha generators.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

fn params(alpha: f64, beta: f64, gamma: f64) -> EtsParams {
    EtsParams {
        alpha,
        beta,
        gamma,
        phi: 1.0,
    }
}

fn init(level: f64, trend: f64, season: &[f64]) -> EtsState {
    EtsState {
        level,
        trend,
        season: season.to_vec(),
    }
}

const ANN: EtsForm = EtsForm::new(ErrorType::Additive, TrendType::None, SeasonType::None);
const ANA: EtsForm = EtsForm::new(ErrorType::Additive, TrendType::None, SeasonType::Additive);

/// Quarterly series with a strong additive season: ETS(A,N,A).
fn seasonal(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    let s = init(100.0, 0.0, &[15.0, -5.0, -12.0, 2.0]);
    simulate(ANA, &params(0.2, 0.0, 0.1), &s, n, 3.0, rng)
}

/// A level that wanders: ETS(A,N,N) with alpha 0.5.
fn smooth(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    simulate(
        ANN,
        &params(0.5, 0.0, 0.0),
        &init(100.0, 0.0, &[0.0]),
        n,
        3.0,
        rng,
    )
}

/// Demand in about one period of four, 1 to 8 units.
fn intermittent(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            if rng.random_bool(0.25) {
                f64::from(rng.random_range(1..=8))
            } else {
                0.0
            }
        })
        .collect()
}

fn quarterly(horizon: usize) -> ForecastSpec {
    ForecastSpec {
        horizon,
        season_length: 4,
        ..ForecastSpec::default()
    }
}

fn is_seasonal_model(f: &SeriesForecast) -> bool {
    match f.kind {
        ModelKind::SeasonalNaive => true,
        ModelKind::Ets => f.model.ends_with(",A)") || f.model.ends_with(",M)"),
        ModelKind::Theta => f.model.contains("seasonal"),
        // "ETS(A,N,A) + theta": seasonal when either part is.
        ModelKind::EtsTheta => {
            f.model.contains(",A) +") || f.model.contains(",M) +") || f.model.contains("seasonal")
        }
        _ => false,
    }
}

#[test]
fn seasonal_naive_exact_through_forecast_series() {
    let y = vec![10.0, 20.0, 30.0, 40.0, 11.0, 21.0, 31.0, 41.0];
    let s = Series::new(100, y, true).unwrap();
    let spec = ForecastSpec {
        horizon: 6,
        season_length: 4,
        candidates: vec![ModelKind::SeasonalNaive],
        ..ForecastSpec::default()
    };
    let f = forecast_series(&s, &spec).unwrap();
    let points: Vec<(i64, f64)> = f.points.iter().map(|p| (p.period, p.point)).collect();
    assert_eq!(
        points,
        vec![
            (108, 11.0),
            (109, 21.0),
            (110, 31.0),
            (111, 41.0),
            (112, 11.0),
            (113, 21.0)
        ]
    );
    assert_eq!(f.kind, ModelKind::SeasonalNaive);
    assert_eq!(f.intervals, IntervalMethod::Analytic);
    // One origin (8 points leave 6 to train, 2 to score): trained on 10 20 30 40 11 21,
    // it forecasts 30 40 for actuals 31 41, so bias -1.
    let acc = f.accuracy.unwrap();
    assert_eq!((acc.origins, acc.horizon, acc.bias), (1, 2, -1.0));
}

#[test]
fn model_choice_picks_the_generating_family() {
    let spec = quarterly(4);
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let (mut seasonal_ok, mut smooth_ok, mut intermittent_ok) = (0, 0, 0);
    const N: usize = 30;
    for _ in 0..N {
        let f = forecast_series(
            &Series::new(0, seasonal(&mut rng, 40), true).unwrap(),
            &spec,
        )
        .unwrap();
        seasonal_ok += usize::from(is_seasonal_model(&f));
        let f =
            forecast_series(&Series::new(0, smooth(&mut rng, 40), false).unwrap(), &spec).unwrap();
        smooth_ok += usize::from(!is_seasonal_model(&f) && !f.kind.intermittent());
        let f = forecast_series(
            &Series::new(0, intermittent(&mut rng, 40), true).unwrap(),
            &spec,
        )
        .unwrap();
        intermittent_ok += usize::from(f.kind.intermittent());
        assert!(f.reason.contains("intermittent demand"), "{}", f.reason);
    }
    eprintln!(
        "seasonal {seasonal_ok}/{N}, smooth {smooth_ok}/{N}, intermittent {intermittent_ok}/{N}"
    );
    assert!(seasonal_ok >= N * 9 / 10, "seasonal {seasonal_ok}/{N}");
    assert!(smooth_ok >= N * 8 / 10, "smooth {smooth_ok}/{N}");
    assert_eq!(intermittent_ok, N);
}

#[test]
fn interval_coverage_95_between_90_and_99_percent_over_1000_series() {
    // Half random walks, half ETS(A,N,N) with alpha 0.3; 30 points, the next 3 held
    // out. Whatever model is chosen, about 95 % of the held-out values should fall in
    // its 95 % interval (less for estimation error, which short series have).
    let spec = ForecastSpec {
        horizon: 3,
        season_length: 1,
        ..ForecastSpec::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(95);
    let (mut inside95, mut inside80, mut total) = (0, 0, 0);
    for i in 0..1000usize {
        let alpha = if i.is_multiple_of(2) { 1.0 } else { 0.3 };
        let y = simulate(
            ANN,
            &params(alpha, 0.0, 0.0),
            &init(50.0, 0.0, &[0.0]),
            33,
            2.0,
            &mut rng,
        );
        let f = forecast_series(&Series::new(0, y[..30].to_vec(), false).unwrap(), &spec).unwrap();
        for (p, actual) in f.points.iter().zip(&y[30..]) {
            inside95 += usize::from(p.lo95 <= *actual && *actual <= p.hi95);
            inside80 += usize::from(p.lo80 <= *actual && *actual <= p.hi80);
            total += 1;
        }
    }
    let c95 = inside95 as f64 / total as f64;
    let c80 = inside80 as f64 / total as f64;
    eprintln!("coverage: 95 % interval {c95:.3}, 80 % interval {c80:.3}");
    assert!((0.90..=0.99).contains(&c95), "95 % coverage {c95}");
    assert!((0.70..=0.90).contains(&c80), "80 % coverage {c80}");
}

#[test]
fn results_are_identical_with_1_and_4_threads() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let series: Vec<Series> = (0..24)
        .map(|i| {
            let y = match i % 3 {
                0 => seasonal(&mut rng, 36),
                1 => smooth(&mut rng, 30),
                _ => intermittent(&mut rng, 40),
            };
            Series::new(0, y, true).unwrap()
        })
        .collect();
    let spec = quarterly(6);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| fit_many(&series, &spec)).unwrap()
    };
    let (one, four) = (run(1), run(4));
    let bits = |fs: &[SeriesForecast]| -> Vec<(String, String, Vec<u64>)> {
        fs.iter()
            .map(|f| {
                let mut b = Vec::new();
                for p in &f.points {
                    b.extend([p.point, p.lo80, p.hi80, p.lo95, p.hi95].map(f64::to_bits));
                }
                for a in &f.candidates {
                    b.extend([a.mase, a.bias, a.wape.unwrap_or(-1.0)].map(f64::to_bits));
                }
                (f.model.clone(), f.reason.clone(), b)
            })
            .collect()
    };
    assert_eq!(bits(&one), bits(&four));
    assert_eq!(one.len(), series.len());
}

#[test]
fn short_empty_and_constant_series_fall_back_with_a_reason() {
    let spec = quarterly(3);
    let empty = Series::from_observations(&[], true).unwrap();
    let f = forecast_series(&empty, &spec).unwrap();
    assert!(f.points.iter().all(|p| p.point == 0.0 && p.hi95 == 0.0));
    assert!(f.reason.contains("no history"), "{}", f.reason);

    let f = forecast_series(&Series::new(0, vec![5.0; 20], true).unwrap(), &spec).unwrap();
    assert!(f.reason.contains("constant series"), "{}", f.reason);
    assert!(f.points.iter().all(|p| p.point == 5.0 && p.lo95 == 5.0));

    let f = forecast_series(&Series::new(0, vec![1.0, 4.0, 2.0], true).unwrap(), &spec).unwrap();
    assert_eq!(f.kind, ModelKind::Naive);
    assert!(
        f.reason.contains("too short for a backtest"),
        "{}",
        f.reason
    );

    // 13 quarterly points: the first backtest window has 13 - 3 - 2 = 8, and one origin
    // leaves 10, too short for any seasonal ETS form (11); a window of 11 would score 2
    // periods, less than the horizon of 3: the seasonal forms are dropped, which is said.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let f = forecast_series(
        &Series::new(0, seasonal(&mut rng, 13), true).unwrap(),
        &spec,
    )
    .unwrap();
    assert!(
        f.reason.contains("seasonal ETS forms dropped"),
        "{}",
        f.reason
    );
    assert!(f.accuracy.is_some());
    // A long horizon (10 quarters) on 20 points: the window of 11 the seasonal forms
    // need leaves 9 periods to score, more than a season: it scores those instead of
    // dropping the season.
    let long = ForecastSpec {
        horizon: 10,
        ..spec.clone()
    };
    let f = forecast_series(
        &Series::new(0, seasonal(&mut rng, 20), true).unwrap(),
        &long,
    )
    .unwrap();
    assert!(
        f.reason.contains(
            "backtest scores 9 periods ahead instead of 10 for a longer first window (11 points"
        ),
        "{}",
        f.reason
    );
    assert!(
        !f.reason.contains("seasonal ETS forms dropped"),
        "{}",
        f.reason
    );
    let acc = f.accuracy.unwrap();
    assert_eq!((acc.origins, acc.horizon), (1, 9));
    // One point: too short, said so (it read as a constant series).
    let f = forecast_series(&Series::new(0, vec![141.0], true).unwrap(), &spec).unwrap();
    assert!(
        f.reason.contains("only 1 point, too short for a backtest"),
        "{}",
        f.reason
    );
}

#[test]
fn gaps_are_reported_and_non_negative_forecasts_clamped() {
    // A falling series: unclamped, its trend forecast goes below zero.
    let obs: Vec<(i64, f64)> = (0..24)
        .filter(|t| t % 7 != 3)
        .map(|t| {
            (
                t,
                60.0 - 2.5 * t as f64 + if t % 2 == 0 { 1.0 } else { -1.0 },
            )
        })
        .collect();
    let spec = ForecastSpec {
        horizon: 12,
        season_length: 1,
        candidates: vec![ModelKind::Ets],
        ..ForecastSpec::default()
    };
    let free = forecast_series(&Series::from_observations(&obs, false).unwrap(), &spec).unwrap();
    assert!(free.points.iter().any(|p| p.point < 0.0 || p.lo95 < 0.0));
    let s = Series::from_observations(&obs, true).unwrap();
    assert_eq!(s.filled(), 3);
    let f = forecast_series(&s, &spec).unwrap();
    assert_eq!(f.filled, 3);
    assert!(
        f.reason.starts_with("3 missing periods filled with 0"),
        "{}",
        f.reason
    );
    for p in &f.points {
        assert!(
            p.point >= 0.0 && p.lo80 >= 0.0 && p.lo95 >= 0.0 && p.hi95 >= p.point,
            "{p:?}"
        );
    }
    assert_eq!(f.points[0].period, 24);
}

#[test]
fn wape_metric_chooses_when_asked() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let spec = ForecastSpec {
        metric: Metric::Wape,
        ..quarterly(4)
    };
    let f = forecast_series(
        &Series::new(0, seasonal(&mut rng, 40), true).unwrap(),
        &spec,
    )
    .unwrap();
    assert!(f.reason.contains("lowest backtest WAPE"), "{}", f.reason);
    let best = f.accuracy.unwrap().wape.unwrap();
    assert!(f.candidates.iter().all(|a| a.wape.unwrap() >= best));
}

#[test]
fn invalid_spec_reports_every_problem() {
    let spec = ForecastSpec {
        horizon: 0,
        candidates: Vec::new(),
        ..ForecastSpec::default()
    };
    let err = fit_many(&[], &spec).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`horizon`") && text.contains("`candidates`"),
        "{text}"
    );
}

#[test]
fn ets_theta_is_the_mean_of_ets_and_theta() {
    // Each model alone, then their combination: points and bounds are the means.
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let s = Series::new(0, seasonal(&mut rng, 40), true).unwrap();
    let only = |kind: ModelKind| {
        let spec = ForecastSpec {
            candidates: vec![kind],
            ..quarterly(6)
        };
        forecast_series(&s, &spec).unwrap()
    };
    let (ets, theta, both) = (
        only(ModelKind::Ets),
        only(ModelKind::Theta),
        only(ModelKind::EtsTheta),
    );
    assert_eq!(both.kind, ModelKind::EtsTheta);
    assert_eq!(both.model, format!("{} + {}", ets.model, theta.model));
    for ((e, t), c) in ets.points.iter().zip(&theta.points).zip(&both.points) {
        for (a, b, m) in [
            (e.point, t.point, c.point),
            (e.lo95, t.lo95, c.lo95),
            (e.hi80, t.hi80, c.hi80),
        ] {
            assert!((m - (a + b) / 2.0).abs() < 1e-9, "{e:?} {t:?} {c:?}");
        }
    }
    // Its backtest reuses the two models' origin forecasts: the bias is their mean
    // when no forecast is clamped (positive data far from zero).
    let bias = |f: &SeriesForecast| f.accuracy.as_ref().unwrap().bias;
    assert!((bias(&both) - (bias(&ets) + bias(&theta)) / 2.0).abs() < 1e-9);
}

/// A backtested candidate with the given absolute error per origin (horizon 1, so its
/// MASE is the mean error when the scale is 1).
fn scored(fitter: Fitter, errors: &[f64]) -> Scored {
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    Scored {
        fitter,
        accuracy: Accuracy {
            kind: fitter.kind(),
            model: fitter.label(),
            mase: mean,
            wape: Some(mean / 100.0),
            bias: 0.0,
            origins: errors.len(),
            horizon: 1,
        },
        window_errors: errors.to_vec(),
    }
}

#[test]
fn choose_keeps_the_combination_unless_beaten_at_every_origin() {
    let combination = scored(Fitter::EtsTheta(ANN), &[10.0, 10.0, 10.0]);
    // Naive: the lowest mean (7) but worse than the combination at the third origin.
    let naive = scored(Fitter::Naive, &[5.0, 5.0, 11.0]);
    // Theta: mean 9.17, better at every origin.
    let theta = scored(Fitter::Theta, &[9.0, 9.0, 9.5]);
    // Seasonal naive: better at every origin too, mean 9.13, under theta's.
    let snaive = scored(Fitter::SeasonalNaive, &[8.0, 9.5, 9.9]);
    // ETS alone: equal at the first origin, so not better at every one (mean 8.67).
    let ets = scored(Fitter::Ets(ANN), &[10.0, 8.0, 8.0]);
    let beaten = Choice::BeatsCombination("ETS(A,N,N) + theta".to_string());
    for metric in [Metric::Mase, Metric::Wape] {
        let pick = |list: &[&Scored]| {
            let list: Vec<Scored> = list.iter().map(|s| (*s).clone()).collect();
            let (i, why) = choose(&list, metric);
            (list[i].accuracy.model.clone(), why)
        };
        assert_eq!(
            pick(&[&naive, &ets, &combination]),
            ("ETS(A,N,N) + theta".to_string(), Choice::Combination)
        );
        assert_eq!(
            pick(&[&naive, &combination, &theta]),
            ("theta".to_string(), beaten.clone())
        );
        assert_eq!(
            pick(&[&naive, &snaive, &ets, &theta, &combination]),
            ("seasonal_naive".to_string(), beaten.clone())
        );
        // Without the combination, the lowest mean: naive.
        assert_eq!(
            pick(&[&theta, &naive, &ets]),
            ("naive".to_string(), Choice::Lowest)
        );
        // Equal means: the earlier candidate.
        let theta_too = scored(Fitter::Theta, &[5.0, 5.0, 11.0]);
        assert_eq!(
            pick(&[&naive, &theta_too]),
            ("naive".to_string(), Choice::Lowest)
        );
    }
}

#[test]
fn plan_drops_early_origins_until_the_first_window_fits_a_season() {
    let spec = quarterly(3);
    // 14 points, 3 origins one period apart: windows of 9, 10 and 11 points.
    let plan = Plan::new(14, &spec).unwrap();
    assert_eq!((plan.origins, plan.first, plan.horizon), (3, 9, 3));
    // Seasonal ETS needs 11 at season 4 (6 parameters, sigma, 4 more).
    let need = ANA.min_len(4);
    assert_eq!(need, 11);
    let kept = plan.keeping(need, 4);
    assert_eq!((kept.origins, kept.first), (1, 11));
    // Long enough already: unchanged. Step 2, 19 points: windows of 10, 12, 14 and 16,
    // the last three kept for 11.
    assert_eq!(plan.keeping(9, 4).origins, 3);
    let wide = Plan::new(
        19,
        &ForecastSpec {
            origins: 4,
            step: 2,
            ..spec.clone()
        },
    )
    .unwrap();
    assert_eq!((wide.origins, wide.first), (4, 10));
    let kept = wide.keeping(11, 4);
    assert_eq!((kept.origins, kept.first), (3, 12));
    // Too short even at the last origin: one origin, the longest window.
    assert_eq!(
        (wide.keeping(30, 4).origins, wide.keeping(30, 4).first),
        (1, 16)
    );

    // Through forecast_series: a 14-point quarterly series keeps its seasonal ETS forms
    // with one origin, and says so.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let f = forecast_series(
        &Series::new(0, seasonal(&mut rng, 14), true).unwrap(),
        &spec,
    )
    .unwrap();
    assert!(
        f.reason
            .contains("backtest origins reduced from 3 to 1 for a longer first window (11 points"),
        "{}",
        f.reason
    );
    assert!(
        !f.reason.contains("seasonal ETS forms dropped"),
        "{}",
        f.reason
    );
    assert_eq!(f.accuracy.unwrap().origins, 1);
}

#[test]
fn combination_theta_is_seasonal_when_the_ets_form_is() {
    // Three years of a trending monthly series with a clear season: the trend makes
    // every autocorrelation high, so Theta's test (limit 1.645 sqrt((1 + 2 sum r_k^2)
    // / n) over 11 lags) misses the season, while AICc picks a seasonal ETS form. The
    // combination then uses the seasonally adjusted Theta (a flat one would halve the
    // season), and its forecast follows the season.
    let mut rng = ChaCha8Rng::seed_from_u64(36);
    let season = |t: usize| 12.0 * (2.0 * std::f64::consts::PI * t as f64 / 12.0).sin();
    let y: Vec<f64> = (0..48)
        .map(|t| 100.0 + 3.0 * t as f64 + season(t) + rng.random_range(-1.0..1.0))
        .collect();
    let train = &y[..36];
    assert!(!stats::is_seasonal(train, 12));
    let s = Series::new(0, train.to_vec(), true).unwrap();
    let only = |kind: ModelKind| {
        let spec = ForecastSpec {
            candidates: vec![kind],
            ..ForecastSpec::default()
        };
        forecast_series(&s, &spec).unwrap()
    };
    let (ets, theta, both) = (
        only(ModelKind::Ets),
        only(ModelKind::Theta),
        only(ModelKind::EtsTheta),
    );
    assert!(is_seasonal_model(&ets), "{}", ets.model);
    assert_eq!(theta.model, "theta");
    assert_eq!(
        both.model,
        format!("{} + theta (seasonally adjusted)", ets.model)
    );
    // Against the held-out year (the season's mean absolute value is 7.6): the
    // seasonal combination's error is 4.4, the mean of ETS and the flat Theta's 8.2.
    let mae = |p: &[f64]| -> f64 {
        p.iter()
            .zip(&y[36..])
            .map(|(p, a)| (p - a).abs())
            .sum::<f64>()
            / 12.0
    };
    let points = |f: &SeriesForecast| f.points.iter().map(|p| p.point).collect::<Vec<_>>();
    let flat_mix: Vec<f64> = points(&ets)
        .iter()
        .zip(points(&theta))
        .map(|(a, b)| (a + b) / 2.0)
        .collect();
    let (seasonal, flat) = (mae(&points(&both)), mae(&flat_mix));
    assert!(
        seasonal < 6.0 && seasonal < 0.75 * flat,
        "{seasonal} {flat}"
    );
}

#[test]
fn naive_is_not_a_default_candidate_and_a_random_walk_still_ends_on_its_last_value() {
    // ETS(A,N,N) with alpha = 1 is naive: on random walks the ETS candidate should fit
    // alpha near 1 and forecast about the last value, so leaving naive out of the
    // default candidates loses nothing there.
    let spec = ForecastSpec {
        horizon: 3,
        season_length: 1,
        ..ForecastSpec::default()
    };
    assert!(!spec.candidates.contains(&ModelKind::Naive));
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let sigma = 2.0;
    let mut gaps = Vec::new();
    for _ in 0..100 {
        let y = simulate(
            ANN,
            &params(1.0, 0.0, 0.0),
            &init(50.0, 0.0, &[0.0]),
            40,
            sigma,
            &mut rng,
        );
        let s = Series::new(0, y.clone(), false).unwrap();
        let f = forecast_series(&s, &spec).unwrap();
        assert!(
            f.candidates.iter().all(|a| a.model != "naive"),
            "{}",
            f.reason
        );
        assert_ne!(f.kind, ModelKind::Naive);
        gaps.push((f.points[0].point - y[39]).abs() / sigma);
    }
    gaps.sort_by(f64::total_cmp);
    let median = gaps[50];
    eprintln!("median |first point - last value| = {median:.3} sigma");
    assert!(median < 0.25, "median gap {median} sigma");

    // Listed, naive competes as before.
    let listed = ForecastSpec {
        candidates: vec![ModelKind::Naive, ModelKind::Ets],
        ..spec
    };
    let y = smooth(&mut rng, 40);
    let f = forecast_series(&Series::new(0, y, false).unwrap(), &listed).unwrap();
    assert!(
        f.candidates.iter().any(|a| a.model == "naive"),
        "{}",
        f.reason
    );
}

#[test]
fn an_eighteen_point_series_is_backtested_not_forecast_naively() {
    // Horizon 12 on 18 points used to leave a first window of 6, too short for every
    // fitted model, so the series fell back to its last value.
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let y = smooth(&mut rng, 18);
    let f = forecast_series(&Series::new(0, y, true).unwrap(), &ForecastSpec::default()).unwrap();
    assert_ne!(f.kind, ModelKind::Naive, "{}", f.reason);
    assert!(!f.reason.contains("no candidate"), "{}", f.reason);
    let acc = f.accuracy.unwrap();
    assert_eq!((acc.origins, acc.horizon), (1, 11));
}
