//! The marketing calendar: campaigns with channel, dates, budget and the return they are built to
//! show. The spring promotion each year also lifts order volume while it runs.

use chrono::NaiveDate;

use super::calendar::ymd;

/// One marketing campaign.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Campaign {
    pub name: &'static str,
    /// `online` or `offline`.
    pub channel: &'static str,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Budget in USD at scale 1.
    pub budget: u32,
    /// Attributed revenue the campaign is built to bring, in percent of its budget.
    pub roas_pct: u32,
    /// A sales promotion: orders run 35 % above normal on its days.
    pub promo: bool,
}

/// Orders placed from a campaign's start to this many days after its end may be attributed to it.
pub(crate) const ATTRIBUTION_DAYS: u64 = 30;

/// Relative order volume on a promotion day (percent).
pub(crate) const PROMO_LIFT_PCT: u32 = 135;

#[allow(clippy::too_many_arguments)]
const fn campaign(
    name: &'static str,
    channel: &'static str,
    start: (i32, u32, u32),
    end: (i32, u32, u32),
    budget: u32,
    roas_pct: u32,
    promo: bool,
) -> Campaign {
    Campaign {
        name,
        channel,
        start: ymd(start.0, start.1, start.2),
        end: ymd(end.0, end.1, end.2),
        budget,
        roas_pct,
        promo,
    }
}

/// The campaigns, `CMP-01` to `CMP-20` in this order (by start date).
#[rustfmt::skip]
pub(crate) const CAMPAIGNS: [Campaign; 20] = [
    campaign("Spring Office Refresh 2022", "online", (2022, 3, 14), (2022, 4, 10), 18_000, 450, true),
    campaign("Trade Show Chicago 2022", "offline", (2022, 5, 16), (2022, 5, 20), 25_000, 300, false),
    campaign("Back to School Paper 2022", "online", (2022, 8, 1), (2022, 8, 31), 8_000, 400, false),
    campaign("Year-End Tech Upgrade 2022", "online", (2022, 11, 1), (2022, 12, 15), 20_000, 400, false),
    campaign("Spring Office Refresh 2023", "online", (2023, 3, 13), (2023, 4, 9), 20_000, 450, true),
    campaign("Direct Mail Catalogue 2023", "offline", (2023, 6, 5), (2023, 7, 14), 15_000, 250, false),
    campaign("Regional Roadshow 2023", "offline", (2023, 9, 11), (2023, 10, 20), 60_000, 45, false),
    campaign("Year-End Tech Upgrade 2023", "online", (2023, 11, 1), (2023, 12, 15), 22_000, 400, false),
    campaign("Spring Office Refresh 2024", "online", (2024, 3, 11), (2024, 4, 7), 22_000, 450, true),
    campaign("Trade Show Chicago 2024", "offline", (2024, 5, 13), (2024, 5, 17), 28_000, 300, false),
    campaign("Back to School Paper 2024", "online", (2024, 8, 1), (2024, 8, 31), 9_000, 400, false),
    campaign("Customer Referral Email 2024", "online", (2024, 10, 1), (2024, 10, 31), 4_000, 1_400, false),
    campaign("Year-End Tech Upgrade 2024", "online", (2024, 11, 4), (2024, 12, 15), 24_000, 400, false),
    campaign("Spring Office Refresh 2025", "online", (2025, 3, 10), (2025, 4, 6), 24_000, 450, true),
    campaign("Trade Show Chicago 2025", "offline", (2025, 5, 12), (2025, 5, 16), 30_000, 300, false),
    campaign("Webinar Series 2025", "online", (2025, 9, 1), (2025, 10, 31), 12_000, 350, false),
    campaign("Year-End Tech Upgrade 2025", "online", (2025, 11, 3), (2025, 12, 14), 26_000, 400, false),
    campaign("Spring Office Refresh 2026", "online", (2026, 3, 9), (2026, 4, 5), 26_000, 450, true),
    campaign("Trade Show Chicago 2026", "offline", (2026, 5, 11), (2026, 5, 15), 32_000, 300, false),
    campaign("Back to School Paper 2026", "online", (2026, 8, 3), (2026, 8, 31), 10_000, 400, false),
];

/// `CMP-01`... for a campaign index.
pub(crate) fn campaign_id(index: usize) -> String {
    format!("CMP-{:02}", index + 1)
}

/// Whether `date` is a day of a sales promotion.
pub(crate) fn in_promotion(date: NaiveDate) -> bool {
    CAMPAIGNS
        .iter()
        .any(|c| c.promo && c.start <= date && date <= c.end)
}
