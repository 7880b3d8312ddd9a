//! The demo organisation: teams, the services they own, and the people who respond.

use crate::rng::{pick, rng_for};
use postmortem_core::{DisplayName, FactorCategory, Handle, Name, Role};
use rand::Rng;
use time::UtcOffset;

/// A person of the demo organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoPerson {
    pub handle: Handle,
    pub display_name: DisplayName,
    pub role: Role,
    pub team: Name,
    /// The offset this person writes timeline entries in, so timelines mix time zones.
    pub utc_offset: UtcOffset,
}

/// A service of the demo organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoService {
    pub name: Name,
    /// The team that owns it.
    pub team: Name,
    /// The contributing factor this service keeps running into, so the library shows
    /// "what keeps happening" patterns (e.g. `search-indexer` and `capacity`).
    pub weak_spot: FactorCategory,
}

/// Teams, services and people: everything incidents are generated from.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOrg {
    pub people: Vec<DemoPerson>,
    pub teams: Vec<Name>,
    pub services: Vec<DemoService>,
}

impl DemoOrg {
    /// The person with `handle`, if they belong to the organisation.
    pub fn person(&self, handle: &Handle) -> Option<&DemoPerson> {
        self.people.iter().find(|p| &p.handle == handle)
    }
}

use FactorCategory as F;

/// Teams and their services. Fixed rather than seeded, so demo screenshots, docs and
/// benchmarks name the same services whatever the seed; only the people vary.
const SERVICES: &[(&str, &[(&str, FactorCategory)])] = &[
    (
        "payments",
        &[
            ("payments-api", F::Capacity),
            ("ledger", F::ChangeManagement),
            ("fraud-scoring", F::ThirdParty),
        ],
    ),
    (
        "checkout",
        &[
            ("checkout-web", F::InsufficientTesting),
            ("cart-service", F::Capacity),
            ("pricing", F::RiskyDefault),
            ("promotions", F::ChangeManagement),
        ],
    ),
    (
        "search",
        &[
            ("search-api", F::Alerting),
            ("search-indexer", F::Capacity),
            ("recommendations", F::HiddenDependency),
        ],
    ),
    (
        "identity",
        &[
            ("auth-service", F::RiskyDefault),
            ("session-store", F::UnrehearsedPath),
            ("sso-gateway", F::ThirdParty),
        ],
    ),
    (
        "platform",
        &[
            ("deploy-pipeline", F::AwkwardTooling),
            ("service-mesh", F::ConfusingInterface),
            ("config-service", F::ChangeManagement),
            ("k8s-cluster", F::UnrehearsedPath),
        ],
    ),
    (
        "data",
        &[
            ("postgres-main", F::OutdatedDocs),
            ("kafka-events", F::Capacity),
            ("warehouse-etl", F::UnclearOwnership),
        ],
    ),
    (
        "edge",
        &[
            ("edge-gateway", F::RiskyDefault),
            ("cdn-config", F::ChangeManagement),
            ("dns-resolver", F::HiddenDependency),
            ("tls-certs", F::Alerting),
        ],
    ),
    (
        "mobile",
        &[
            ("mobile-api", F::InsufficientTesting),
            ("push-gateway", F::ThirdParty),
            ("app-config", F::Communication),
        ],
    ),
    (
        "notifications",
        &[
            ("email-sender", F::ThirdParty),
            ("sms-gateway", F::OutdatedDocs),
            ("notification-hub", F::Overload),
            ("webhook-dispatcher", F::Capacity),
        ],
    ),
    (
        "sre",
        &[
            ("alertmanager", F::Alerting),
            ("metrics-pipeline", F::Capacity),
            ("log-shipper", F::UnclearOwnership),
        ],
    ),
    (
        "billing",
        &[
            ("invoicing", F::OutdatedDocs),
            ("subscriptions", F::HiddenDependency),
            ("tax-engine", F::ThirdParty),
        ],
    ),
    (
        "storage",
        &[
            ("object-store", F::Capacity),
            ("backup-runner", F::UnrehearsedPath),
            ("blob-cache", F::RiskyDefault),
        ],
    ),
];

/// First names as (display, ASCII for the handle).
const FIRST: &[(&str, &str)] = &[
    ("Alex", "alex"),
    ("Dana", "dana"),
    ("Priya", "priya"),
    ("Tomás", "tomas"),
    ("Mei", "mei"),
    ("Kwame", "kwame"),
    ("Sofia", "sofia"),
    ("Lukas", "lukas"),
    ("Amara", "amara"),
    ("Jonas", "jonas"),
    ("Yuki", "yuki"),
    ("Ravi", "ravi"),
    ("Chloé", "chloe"),
    ("Mateo", "mateo"),
    ("Ingrid", "ingrid"),
    ("Omar", "omar"),
    ("Zanele", "zanele"),
    ("Hannah", "hannah"),
    ("Diego", "diego"),
    ("Aisha", "aisha"),
    ("Sam", "sam"),
    ("Noor", "noor"),
    ("Björn", "bjorn"),
    ("Leila", "leila"),
    ("Kenji", "kenji"),
    ("Fatima", "fatima"),
    ("Marco", "marco"),
    ("Ana", "ana"),
    ("Tariq", "tariq"),
    ("Elif", "elif"),
    ("Grace", "grace"),
    ("Nikhil", "nikhil"),
    ("Olga", "olga"),
    ("Pedro", "pedro"),
    ("Rosa", "rosa"),
    ("Wei", "wei"),
];

const LAST: &[(&str, &str)] = &[
    ("Kim", "kim"),
    ("Okafor", "okafor"),
    ("Sharma", "sharma"),
    ("García", "garcia"),
    ("Chen", "chen"),
    ("Mensah", "mensah"),
    ("Rossi", "rossi"),
    ("Weber", "weber"),
    ("Nakamura", "nakamura"),
    ("Iyer", "iyer"),
    ("Dubois", "dubois"),
    ("Silva", "silva"),
    ("Larsen", "larsen"),
    ("Haddad", "haddad"),
    ("Novak", "novak"),
    ("Ndlovu", "ndlovu"),
    ("Murphy", "murphy"),
    ("Yilmaz", "yilmaz"),
    ("Tanaka", "tanaka"),
    ("Kowalski", "kowalski"),
    ("Müller", "muller"),
    ("Osei", "osei"),
    ("Patel", "patel"),
    ("Andersson", "andersson"),
];

const PEOPLE: usize = 80;
const ADMINS: usize = 3;
const REVIEWERS: usize = 15;
const VIEWERS: usize = 8;

/// The offsets people write in: most of the organisation in Europe, some in New York and India.
fn offset(index: usize) -> UtcOffset {
    let (hours, minutes) = [(0, 0), (1, 0), (1, 0), (-5, 0), (5, 30), (0, 0)][index % 6];
    UtcOffset::from_hms(hours, minutes, 0).expect("offsets in the table are valid")
}

/// The demo organisation: 12 teams, 40 services, 80 people (3 admins, 15 reviewers, 54
/// contributors, 8 viewers). The seed chooses the people's names; teams and services are fixed.
pub fn organisation(seed: u64) -> DemoOrg {
    let mut rng = rng_for(seed, u64::MAX);
    let teams: Vec<Name> = SERVICES
        .iter()
        .map(|(team, _)| Name::parse(*team).expect("team names in the table are valid"))
        .collect();
    let services = SERVICES
        .iter()
        .zip(&teams)
        .flat_map(|((_, services), team)| {
            services.iter().map(move |(name, weak_spot)| DemoService {
                name: Name::parse(*name).expect("service names in the table are valid"),
                team: team.clone(),
                weak_spot: *weak_spot,
            })
        })
        .collect();

    // Every (first, last) pair once, in a seeded order, so handles are unique without retries.
    let mut pairs: Vec<(usize, usize)> = (0..FIRST.len())
        .flat_map(|f| (0..LAST.len()).map(move |l| (f, l)))
        .collect();
    for i in (1..pairs.len()).rev() {
        let j = rng.gen_range(0..=i as u32) as usize;
        pairs.swap(i, j);
    }

    let people = (0..PEOPLE)
        .map(|i| {
            let (f, l) = pairs[i];
            // The first twelve reviewers land one per team, so every team can review its own.
            let role = if i < REVIEWERS {
                Role::Reviewer
            } else if i < REVIEWERS + ADMINS {
                Role::Admin
            } else if i >= PEOPLE - VIEWERS {
                Role::Viewer
            } else {
                Role::Contributor
            };
            let team = teams[i % teams.len()].clone();
            DemoPerson {
                handle: Handle::parse(format!("{}.{}", FIRST[f].1, LAST[l].1))
                    .expect("ASCII first.last handles are valid"),
                display_name: DisplayName::parse(format!("{} {}", FIRST[f].0, LAST[l].0))
                    .expect("display names from the tables are valid"),
                role,
                team,
                utc_offset: offset(i + pick(&mut rng, 6)),
            }
        })
        .collect();

    DemoOrg {
        people,
        teams,
        services,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_organisation_has_every_role_and_mostly_contributors() {
        let org = organisation(7);
        let count = |role| org.people.iter().filter(|p| p.role == role).count();
        assert_eq!(org.people.len(), 80);
        assert_eq!(count(Role::Admin), 3);
        assert_eq!(count(Role::Reviewer), 15);
        assert_eq!(count(Role::Viewer), 8);
        assert_eq!(count(Role::Contributor), 54);
    }

    #[test]
    fn handles_are_unique_and_every_team_has_a_reviewer() {
        let org = organisation(7);
        let handles: HashSet<_> = org.people.iter().map(|p| &p.handle).collect();
        assert_eq!(handles.len(), org.people.len());
        assert_eq!(org.teams.len(), 12);
        assert_eq!(org.services.len(), 40);
        for team in &org.teams {
            assert!(
                org.people
                    .iter()
                    .any(|p| &p.team == team && p.role == Role::Reviewer),
                "{team}"
            );
        }
    }

    #[test]
    fn the_seed_chooses_the_people() {
        assert_eq!(organisation(1), organisation(1));
        assert_ne!(organisation(1).people, organisation(2).people);
    }
}
