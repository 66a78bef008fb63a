//! The sales force: reps, teams nested in regions, team leads, and assignment history (one rep
//! moves region mid-span, one joins late), plus which rep owns a customer account on a day.

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::calendar::{random_date, ymd};
use super::company::REGIONS;

/// Number of reps, `R001` to `R025`.
pub(crate) const REP_COUNT: usize = 25;

/// Teams: two per region, `(name, region)`.
pub(crate) const TEAMS: [(&str, usize); 10] = [
    ("North A", 0),
    ("North B", 0),
    ("South A", 1),
    ("South B", 1),
    ("East A", 2),
    ("East B", 2),
    ("West A", 3),
    ("West B", 3),
    ("Central A", 4),
    ("Central B", 4),
];

/// Team leads (rep index per team); a lead has no manager in the extract.
const LEADS: [usize; 10] = [0, 5, 1, 6, 2, 17, 3, 8, 4, 9];

/// The rep who moves region: `R008`, East B -> West B.
pub(crate) const MOVER: usize = 7;
/// The day the mover starts in the new region.
pub(crate) const MOVED_ON: NaiveDate = ymd(2024, 7, 1);
/// The rep who joins late: `R025`, Central B.
pub(crate) const LATE_JOINER: usize = 24;
/// The late joiner's first day.
pub(crate) const JOINED_ON: NaiveDate = ymd(2024, 4, 1);

const FIRST_NAMES: [&str; 25] = [
    "Avery", "Blake", "Camila", "Dmitri", "Elena", "Farah", "Gavin", "Hana", "Isaac", "Jonas",
    "Keiko", "Liam", "Maya", "Nikhil", "Olivia", "Pablo", "Quinn", "Rosa", "Samir", "Tessa",
    "Umar", "Vera", "Wesley", "Ximena", "Yusuf",
];
const LAST_NAMES: [&str; 25] = [
    "Adler",
    "Brooks",
    "Castillo",
    "Dumont",
    "Ellison",
    "Fischer",
    "Greene",
    "Hayashi",
    "Ibsen",
    "Jensen",
    "Kaur",
    "Lindqvist",
    "Mensah",
    "Novak",
    "Ortega",
    "Price",
    "Quintero",
    "Reyes",
    "Sato",
    "Thornton",
    "Ueda",
    "Valdez",
    "Whitaker",
    "Xu",
    "Young",
];

/// One row of `sales/reps.csv`: a rep in a team for a period.
#[derive(Clone, Debug)]
pub(crate) struct Assignment {
    pub rep: usize,
    pub team: usize,
    pub from: NaiveDate,
    /// Last day, or `None` while current.
    pub to: Option<NaiveDate>,
}

/// The sales force.
#[derive(Clone, Debug)]
pub(crate) struct Roster {
    pub names: Vec<String>,
    pub hired: Vec<NaiveDate>,
    /// Ordered by rep, then `from`.
    pub assignments: Vec<Assignment>,
}

/// The rep id for a zero-based rep index.
pub(crate) fn rep_id(rep: usize) -> String {
    format!("R{:03}", rep + 1)
}

/// Region of a team.
pub(crate) fn team_region(team: usize) -> usize {
    TEAMS[team.min(TEAMS.len() - 1)].1
}

/// The team's lead (rep index).
pub(crate) fn team_lead(team: usize) -> usize {
    LEADS[team.min(LEADS.len() - 1)]
}

/// Original team of reps `R001`-`R024`: region `r % 5`, A or B by `r / 5` parity.
fn original_team(rep: usize) -> usize {
    let region = rep % REGIONS.len();
    region * 2 + (rep / REGIONS.len()) % 2
}

impl Roster {
    /// The fixed organisation with randomly drawn names and hire dates.
    pub(crate) fn new(rng: &mut ChaCha8Rng) -> Self {
        let mut first: Vec<usize> = (0..FIRST_NAMES.len()).collect();
        let mut last: Vec<usize> = (0..LAST_NAMES.len()).collect();
        for k in 0..first.len() {
            let j = rng.random_range(k..first.len());
            first.swap(k, j);
            let j = rng.random_range(k..last.len());
            last.swap(k, j);
        }
        let names = (0..REP_COUNT)
            .map(|r| format!("{} {}", FIRST_NAMES[first[r]], LAST_NAMES[last[r]]))
            .collect();
        let hired: Vec<NaiveDate> = (0..REP_COUNT)
            .map(|r| {
                if r == LATE_JOINER {
                    JOINED_ON
                } else {
                    random_date(rng, ymd(2012, 1, 1), ymd(2021, 10, 31))
                }
            })
            .collect();
        let mut assignments = Vec::new();
        for (rep, &hired_on) in hired.iter().enumerate() {
            if rep == LATE_JOINER {
                assignments.push(Assignment {
                    rep,
                    team: 9,
                    from: JOINED_ON,
                    to: None,
                });
            } else if rep == MOVER {
                assignments.push(Assignment {
                    rep,
                    team: original_team(rep),
                    from: hired_on,
                    to: MOVED_ON.pred_opt(),
                });
                assignments.push(Assignment {
                    rep,
                    team: 7,
                    from: MOVED_ON,
                    to: None,
                });
            } else {
                assignments.push(Assignment {
                    rep,
                    team: original_team(rep),
                    from: hired_on,
                    to: None,
                });
            }
        }
        Roster {
            names,
            hired,
            assignments,
        }
    }

    /// The rep's team on `date`, if employed then.
    pub(crate) fn team_on(&self, rep: usize, date: NaiveDate) -> Option<usize> {
        self.assignments
            .iter()
            .find(|a| a.rep == rep && a.from <= date && a.to.is_none_or(|to| date <= to))
            .map(|a| a.team)
    }

    /// The rep's region on `date`, if employed then.
    pub(crate) fn region_on(&self, rep: usize, date: NaiveDate) -> Option<usize> {
        self.team_on(rep, date).map(team_region)
    }

    /// Every rep who ever sells in `region`, by index.
    pub(crate) fn reps_ever_in(&self, region: usize) -> Vec<usize> {
        let mut reps: Vec<usize> = self
            .assignments
            .iter()
            .filter(|a| team_region(a.team) == region)
            .map(|a| a.rep)
            .collect();
        reps.sort_unstable();
        reps.dedup();
        reps
    }

    /// Reps selling in `region` on `date`.
    pub(crate) fn reps_in(&self, region: usize, date: NaiveDate) -> Vec<usize> {
        (0..REP_COUNT)
            .filter(|&r| self.region_on(r, date) == Some(region))
            .collect()
    }

    /// The account owner on `date`: the first rep of the customer's preference list who sells in
    /// the region then (so a rep leaving or joining only moves their own accounts).
    pub(crate) fn account_rep(
        &self,
        preference: &[usize],
        region: usize,
        date: NaiveDate,
    ) -> usize {
        preference
            .iter()
            .copied()
            .find(|&r| self.region_on(r, date) == Some(region))
            .or_else(|| preference.first().copied())
            .unwrap_or(0)
    }

    /// The manager (team lead) of an assignment; `None` for the lead.
    pub(crate) fn manager(&self, a: &Assignment) -> Option<usize> {
        let lead = team_lead(a.team);
        (lead != a.rep).then_some(lead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn roster_history_moves_and_joins() {
        let roster = Roster::new(&mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(roster.assignments.len(), REP_COUNT + 1);
        assert_eq!(roster.region_on(MOVER, ymd(2024, 6, 30)), Some(2));
        assert_eq!(roster.region_on(MOVER, ymd(2024, 7, 1)), Some(3));
        assert_eq!(roster.region_on(LATE_JOINER, ymd(2024, 3, 31)), None);
        assert_eq!(roster.region_on(LATE_JOINER, ymd(2024, 4, 1)), Some(4));
        assert_eq!(roster.reps_ever_in(3).len(), 6);
        for team in 0..TEAMS.len() {
            let lead = team_lead(team);
            assert_eq!(
                roster.team_on(lead, ymd(2022, 1, 1)),
                Some(team),
                "team {team}"
            );
        }
        let pref = [MOVER, 2];
        assert_eq!(roster.account_rep(&pref, 2, ymd(2023, 1, 1)), MOVER);
        assert_eq!(roster.account_rep(&pref, 2, ymd(2025, 1, 1)), 2);
    }
}
