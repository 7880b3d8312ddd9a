//! Phrase banks: titles, timeline lines, factors, actions and notes, with `{placeholders}`.
//!
//! Text lives here as data so it can be read and extended without touching the generator.
//! Every line must stay blameless: systems, numbers and what people believed, never who failed.

use postmortem_core::{ActionKind as A, FactorCategory as F, Source as S};

/// Titles per kind, each with the factor category of its trigger so the title and the trigger
/// tell the same story.
pub(crate) const OUTAGE_TITLES: &[(&str, F)] = &[
    (
        "{Svc} returning 503s after {svc2} connection pool exhaustion",
        F::Capacity,
    ),
    (
        "{Svc} unavailable in {region} after config push to {svc2}",
        F::ChangeManagement,
    ),
    (
        "{Svc} crash-looping after the {ver} rollout",
        F::ChangeManagement,
    ),
    (
        "{Svc} down for {min} minutes after certificate expiry on {svc2}",
        F::Alerting,
    ),
    (
        "{Svc} outage after {svc2} database failover stalled",
        F::UnrehearsedPath,
    ),
    (
        "Stale DNS records for {svc} after resolver failover",
        F::HiddenDependency,
    ),
    (
        "{Svc} requests timing out after a {svc2} migration locked a table",
        F::InsufficientTesting,
    ),
    (
        "{Svc} unreachable after {svc2} network policy change",
        F::ChangeManagement,
    ),
    (
        "{Svc} out of memory during a traffic surge in {region}",
        F::Capacity,
    ),
    (
        "Login failures across {svc} after {svc2} key rotation",
        F::RiskyDefault,
    ),
    (
        "{Svc} outage during the {region} node pool upgrade",
        F::UnrehearsedPath,
    ),
    (
        "{Svc} down after an upstream incident at {vendor}",
        F::ThirdParty,
    ),
    (
        "{Svc} disks full on {n} nodes after log level was left at debug",
        F::RiskyDefault,
    ),
    (
        "{Svc} taken out of rotation by a misread readiness probe setting",
        F::ConfusingInterface,
    ),
    (
        "{Svc} and {svc2} down after a shared Redis cluster ran out of memory",
        F::HiddenDependency,
    ),
];

pub(crate) const DEGRADATION_TITLES: &[(&str, F)] = &[
    (
        "{Svc} latency spike after {svc2} connection pool exhaustion",
        F::Capacity,
    ),
    (
        "Elevated error rate on {svc} after the {ver} deploy",
        F::ChangeManagement,
    ),
    (
        "{Svc} p99 latency above {ms} ms during {svc2} reindex",
        F::Capacity,
    ),
    (
        "Slow {svc} responses after a cache eviction storm in {svc2}",
        F::HiddenDependency,
    ),
    (
        "Delayed {svc} jobs while {svc2} consumer lag grew to {n}k messages",
        F::Capacity,
    ),
    (
        "{Svc} serving stale data during {svc2} replication lag",
        F::HiddenDependency,
    ),
    (
        "Intermittent 502s from {svc} behind {svc2}",
        F::ConfusingInterface,
    ),
    (
        "Partial {svc} degradation in {region} after the autoscaler hit its ceiling",
        F::RiskyDefault,
    ),
    ("{Svc} throttled by {vendor} rate limits", F::ThirdParty),
    ("Retry storm from {svc} overloaded {svc2}", F::RiskyDefault),
    (
        "{Svc} background work {pct}% behind after {svc2} queue misrouting",
        F::ChangeManagement,
    ),
    (
        "Noisy alerts hid a {svc} degradation for {min} minutes",
        F::Alerting,
    ),
    (
        "Incomplete {svc} results after a {svc2} mapping change",
        F::InsufficientTesting,
    ),
    (
        "{Svc} slow after a runbook step restarted all {svc2} replicas at once",
        F::OutdatedDocs,
    ),
    (
        "Degraded {svc} during an on-call handover while {svc2} was also paging",
        F::Overload,
    ),
    (
        "{Svc} error rate at {pct}% in {region} after a DNS TTL change",
        F::ChangeManagement,
    ),
];

pub(crate) const DATA_LOSS_TITLES: &[(&str, F)] = &[
    (
        "{n} hours of {svc} events lost after a {svc2} retention change",
        F::ChangeManagement,
    ),
    (
        "Customer uploads removed from {svc} by a lifecycle rule",
        F::RiskyDefault,
    ),
    (
        "{Svc} records overwritten by a replayed {svc2} migration",
        F::UnrehearsedPath,
    ),
    (
        "Missing {svc} audit entries after a {svc2} buffer overflow",
        F::Capacity,
    ),
    (
        "Backups of {svc} silently incomplete for {n} days",
        F::Alerting,
    ),
    (
        "Unsaved {svc} drafts lost when {svc2} evicted sessions",
        F::HiddenDependency,
    ),
    (
        "{Svc} rows dropped by a {svc2} deduplication job in {region}",
        F::InsufficientTesting,
    ),
];

pub(crate) const SECURITY_TITLES: &[(&str, F)] = &[
    (
        "API tokens for {svc} written to {svc2} logs",
        F::RiskyDefault,
    ),
    (
        "{Svc} admin endpoint reachable without auth in {region}",
        F::ConfusingInterface,
    ),
    (
        "Expired {svc} signing key accepted by {svc2} for {n} hours",
        F::InsufficientTesting,
    ),
    (
        "Credential stuffing against {svc} login: {n}k attempts in an hour",
        F::Alerting,
    ),
    (
        "Over-broad IAM role on {svc} used by a {svc2} job",
        F::UnclearOwnership,
    ),
    (
        "Vulnerable dependency in {svc} probed by an external scanner",
        F::ThirdParty,
    ),
    (
        "Internal {svc} dashboard exposed publicly through {svc2}",
        F::ChangeManagement,
    ),
];

pub(crate) const NEAR_MISS_TITLES: &[(&str, F)] = &[
    (
        "Near miss: certificate for {svc} renewed {n} hours before expiry",
        F::Alerting,
    ),
    (
        "Near miss: {svc} disk at {pct}% before the cleanup job caught up",
        F::Capacity,
    ),
    (
        "Near miss: {svc2} failover drill nearly promoted a stale replica for {svc}",
        F::UnrehearsedPath,
    ),
    (
        "Near miss: {svc} migration caught in staging on production-sized data",
        F::InsufficientTesting,
    ),
    (
        "Near miss: {svc} quota at {vendor} reached {pct}% on a Friday evening",
        F::ThirdParty,
    ),
    (
        "Near miss: wrong cluster selected in the {svc2} console while draining {svc}",
        F::ConfusingInterface,
    ),
    (
        "Near miss: {svc} config change reverted before reaching {region}",
        F::ChangeManagement,
    ),
    (
        "Near miss: nobody held the {svc} pager during a team reorganisation",
        F::UnclearOwnership,
    ),
    (
        "Near miss: {svc} restore path untested for {n} months",
        F::UnrehearsedPath,
    ),
    (
        "Near miss: an old runbook for {svc} nearly deleted live {svc2} volumes",
        F::OutdatedDocs,
    ),
];

pub(crate) const REGIONS: &[&str] = &["eu-west-1", "eu-central-1", "us-east-1", "ap-south-1"];

pub(crate) const VENDORS: &[&str] = &[
    "the payment processor",
    "the SMS provider",
    "the CDN provider",
    "the email provider",
    "the maps API",
    "the identity provider",
];

/// The first entry: when impact (or, for near misses, the risk) began.
pub(crate) const STARTS: &[(&str, S)] = &[
    (
        "Deploy {ver} of {svc} started rolling out to {region} (PR #{pr}).",
        S::Deploy,
    ),
    (
        "Config change to {svc2} applied in {region} by the pipeline (PR #{pr}).",
        S::Deploy,
    ),
    (
        "Traffic to {svc} in {region} rose to {n}x the usual weekday peak.",
        S::Alert,
    ),
    (
        "{Svc2} began returning errors to {svc}; the first failed request is in the access log.",
        S::Manual,
    ),
    (
        "Scheduled maintenance on {svc2} started in {region}.",
        S::Manual,
    ),
    (
        "Nightly batch job on {svc2} started {min} minutes later than usual and overlapped peak traffic.",
        S::Alert,
    ),
];

pub(crate) const NEAR_MISS_STARTS: &[(&str, S)] = &[
    (
        "{Svc} crossed its {pct}% warning threshold in {region}; nothing visible to users yet.",
        S::Alert,
    ),
    (
        "Change to {svc} merged and queued for rollout to {region} (PR #{pr}).",
        S::Deploy,
    ),
    (
        "Renewal job for {svc} failed silently for the {n}th night in a row.",
        S::Manual,
    ),
    (
        "Drill on {svc2} started with {svc} as the first target.",
        S::Manual,
    ),
];

pub(crate) const DETECTIONS: &[(&str, S)] = &[
    (
        "Alert `{svc}-error-rate` fired: {pct}% of requests failing in {region}.",
        S::Alert,
    ),
    (
        "Page for `{svc}-latency-p99` ({ms} ms against a 300 ms objective) acknowledged by on-call.",
        S::Alert,
    ),
    (
        "Customer support posted in #incidents that users could not complete requests on {svc}.",
        S::Chat,
    ),
    (
        "Synthetic check for {svc} in {region} failed three times in a row.",
        S::Alert,
    ),
    (
        "Noticed the {svc} dashboard showing {pct}% fewer requests than the same hour last week.",
        S::Manual,
    ),
    (
        "The {svc2} team asked in #{team}-oncall whether {svc} was having trouble.",
        S::Chat,
    ),
];

pub(crate) const NEAR_MISS_DETECTIONS: &[(&str, S)] = &[
    (
        "Warning for {svc} spotted during the weekly capacity review, {n} hours of margin left.",
        S::Manual,
    ),
    (
        "Low-priority ticket alert for {svc} escalated by hand after a second look.",
        S::Alert,
    ),
    (
        "A reviewer on PR #{pr} asked what the change would do to {svc2}.",
        S::Chat,
    ),
];

/// Plain entries in between: facts and observations.
pub(crate) const HAPPENED: &[(&str, S)] = &[
    ("Opened #inc-{svc} and paged the {team} secondary.", S::Chat),
    (
        "Ran `kubectl rollout undo deployment/{svc} -n {svc}` in {region}.",
        S::Manual,
    ),
    (
        "Scaled {svc} up by {n} replicas with `kubectl scale`.",
        S::Manual,
    ),
    (
        "Paused the deploy pipeline for {svc2} so no further rollouts would start.",
        S::Deploy,
    ),
    (
        "Posted a status page update: degraded performance for {svc}.",
        S::Chat,
    ),
    (
        "Disabled the feature flag for the new {svc} code path.",
        S::Manual,
    ),
    (
        "Opened a ticket with {vendor} and shared the request ids from the alert.",
        S::Chat,
    ),
    (
        "Drained {region} at the load balancer and shifted traffic to the other region.",
        S::Manual,
    ),
    (
        "Reverted PR #{pr} on {svc2} and redeployed the last known good config.",
        S::Deploy,
    ),
    (
        "Handed incident command to the {team} lead so the on-call engineer could debug.",
        S::Chat,
    ),
];

pub(crate) const OBSERVED: &[(&str, S)] = &[
    (
        "`kubectl get pods -n {svc}` showed {n} pods in CrashLoopBackOff.",
        S::Manual,
    ),
    (
        "Connections on {svc2} flat at the configured maximum of {n}00.",
        S::Alert,
    ),
    (
        "Error budget burn for {svc} reached {pct}% of the monthly budget.",
        S::Alert,
    ),
    (
        "Grafana showed p99 latency on {svc} at {ms} ms, up from 180 ms.",
        S::Manual,
    ),
    (
        "Found `max_connections` on {svc2} still at the default of 100.",
        S::Manual,
    ),
    (
        "Traced the slow requests to {svc2} using the request id from the alert.",
        S::Manual,
    ),
    (
        "Queue depth on {svc2} stopped growing at {n}k messages.",
        S::Alert,
    ),
    (
        "Error rate on {svc} dropped to {pct}% of its peak after the change.",
        S::Alert,
    ),
];

/// What people believed, and why it made sense at the time.
pub(crate) const BELIEVED: &[&str] = &[
    "Assumed the alert was a duplicate of the {at} page because both had the same title.",
    "Believed the errors came from {svc2}, because its dashboard was the first one to turn red.",
    "Thought the deploy was unrelated: it had passed canary in {region} for {min} minutes.",
    "Expected the autoscaler to add capacity on its own; it had done so in every load test.",
    "Believed restarting {svc} was safe because the runbook lists it as the first step.",
    "Assumed {svc2} was owned by {team}, so waited for their on-call before acting.",
    "Thought the spike was the weekly batch job, which usually causes a short bump at this hour.",
    "Believed failover would be automatic because the console showed the replica as healthy.",
    "Read the errors as client timeouts rather than a server fault, because the status code was 499.",
    "Judged a rollback riskier than waiting, since the migration in {ver} could not be reversed.",
    "Believed the certificate renewed itself, as the renewal job had succeeded last quarter.",
    "Assumed the {region} numbers lagged behind, because the metrics pipeline had been slow all week.",
];

pub(crate) const MITIGATIONS: &[(&str, S)] = &[
    (
        "Rolled {svc} back to the previous release; error rate back under 1%.",
        S::Deploy,
    ),
    (
        "Raised the {svc2} connection pool from 100 to {n}00; latency recovered within minutes.",
        S::Deploy,
    ),
    (
        "Traffic shifted out of {region}; customers no longer affected.",
        S::Manual,
    ),
    (
        "Disabled the failing job; {svc} serving normally from cache.",
        S::Manual,
    ),
    (
        "Restarted {svc2} consumers with the corrected config; backlog draining at {n}k per minute.",
        S::Manual,
    ),
    (
        "Blocked the offending client at the edge; request rate on {svc} back to normal.",
        S::Chat,
    ),
];

pub(crate) const NEAR_MISS_MITIGATIONS: &[(&str, S)] = &[
    (
        "Applied the fix to {svc} by hand before any user-facing impact.",
        S::Manual,
    ),
    (
        "Stopped the rollout to {region}; nothing reached production traffic.",
        S::Deploy,
    ),
    (
        "Freed {pct}% headroom on {svc} with the documented cleanup command.",
        S::Manual,
    ),
];

pub(crate) const RESOLUTIONS: &[(&str, S)] = &[
    (
        "Backlog drained and {svc} metrics at baseline for 30 minutes; closing the incident.",
        S::Manual,
    ),
    (
        "Permanent fix deployed in {ver}; monitoring quiet for an hour. Incident closed.",
        S::Deploy,
    ),
    (
        "{Svc2} confirmed healthy in all regions; status page set to resolved.",
        S::Chat,
    ),
    (
        "Reconciliation finished for {n} affected accounts; incident resolved.",
        S::Manual,
    ),
];

/// Factor descriptions, per category: conditions of the system, not of a person.
pub(crate) fn factor_texts(category: F) -> &'static [&'static str] {
    match category {
        F::UnclearOwnership => &[
            "{Svc2} had no owning team in the service catalogue, so the alert routed to a shared channel nobody watched at night.",
            "Two teams each believed the other owned the {svc} pager rotation after the reorganisation.",
            "The {svc} runbook named a team that no longer exists, so escalation took {min} minutes.",
        ],
        F::AwkwardTooling => &[
            "Rolling back {svc} needs four manual steps across two consoles; there is no single command.",
            "The deploy tool shows only the last five releases, so finding the known good {svc} version meant reading Git history.",
            "Log search for {svc} times out on queries wider than one hour, which slowed diagnosis.",
        ],
        F::Alerting => &[
            "The {svc} error-rate alert fires at {pct}% for 10 minutes, too coarse to catch a partial failure.",
            "{Svc} paged {n} times that week for noise, so a real page looked like more of the same.",
            "No alert watched certificate expiry for {svc}; the renewal job failed without telling anyone.",
        ],
        F::Overload => &[
            "The {team} on-call had been paged {n} times in the previous 24 hours.",
            "The incident started during a release freeze week when most of {team} was handling a launch.",
            "One person was both incident commander and the only engineer who knew {svc2}.",
        ],
        F::ConfusingInterface => &[
            "The {svc2} console lists production and staging clusters with the same names and colours.",
            "`failover --force` and `failover --forced-sync` differ by one word and do opposite things.",
            "The readiness probe setting for {svc} is in seconds in one file and milliseconds in another.",
        ],
        F::RiskyDefault => &[
            "{Svc2} ships with a connection pool of 100, far below what {svc} needs at peak.",
            "Client retries on {svc} default to unbounded with no jitter, so a slow dependency multiplies load.",
            "New buckets default to a 7-day lifecycle rule, which applied to {svc} uploads without anyone choosing it.",
        ],
        F::HiddenDependency => &[
            "{Svc} reads session data from {svc2} on every request, which no diagram showed.",
            "{Svc} and {svc2} share one Redis cluster, so eviction in one slowed the other.",
            "{Svc} resolves {svc2} through an internal resolver whose cache outlived the failover.",
        ],
        F::OutdatedDocs => &[
            "The {svc} failover runbook still described the pre-migration topology.",
            "The runbook told responders to restart all {svc2} replicas at once, written when there were two.",
            "The {svc} dashboard links pointed at a retired metrics backend.",
        ],
        F::UnrehearsedPath => &[
            "Failover for {svc2} had not been exercised in {n} months and needed a manual promotion step.",
            "Restoring {svc} from backup had never been done at production size.",
            "The {region} evacuation procedure for {svc} existed only on paper.",
        ],
        F::InsufficientTesting => &[
            "The {svc} migration was tested on a dataset {pct} times smaller than production.",
            "Integration tests for {svc} mock {svc2}, so the new timeout never met the real dependency.",
            "The load test for {svc} stops at {n}x normal traffic; the surge went beyond it.",
        ],
        F::Capacity => &[
            "{Svc} ran at {pct}% of its memory limit on a normal day, leaving little room for a surge.",
            "{Svc2} connection pool saturated at peak; requests queued until they timed out.",
            "Disk growth on {svc} outpaced the cleanup job by {n} GB a day.",
        ],
        F::ChangeManagement => &[
            "The {svc2} config change went to every region at once instead of through the canary.",
            "PR #{pr} changed {svc} behaviour and a dependency version in one deploy, so rollback reverted both.",
            "The {ver} release of {svc} went out during peak hours because the deploy window is not enforced.",
        ],
        F::Communication => &[
            "Status updates went to #incidents while support watched #{team}-oncall, so customers heard late.",
            "The {svc2} team changed the API contract in a channel {svc} does not follow.",
            "Handover notes between shifts did not mention the open {svc} mitigation.",
        ],
        F::ThirdParty => &[
            "{Vendor} had a partial outage that its status page reported {min} minutes late.",
            "{Svc} depends on a single region of {vendor} with no fallback.",
            "{Vendor} lowered its rate limit for our account without notice.",
        ],
        F::Other => &[
            "A leap-second smear in {svc2} made timestamps briefly go backwards.",
            "A planned network change by the data centre overlapped the {svc} release.",
        ],
    }
}

/// Action items per category, with their kind.
pub(crate) fn action_texts(category: F) -> &'static [(&'static str, A)] {
    match category {
        F::UnclearOwnership => &[
            (
                "Record an owning team for {svc2} in the service catalogue",
                A::Process,
            ),
            ("Route {svc} alerts to the owning team's pager", A::Detect),
        ],
        F::AwkwardTooling => &[
            ("Add a one-command rollback for {svc}", A::Mitigate),
            (
                "Show the last 30 releases of {svc} in the deploy tool",
                A::Mitigate,
            ),
        ],
        F::Alerting => &[
            ("Alert on {svc} certificate expiry 14 days ahead", A::Detect),
            ("Split the {svc} error-rate alert by endpoint", A::Detect),
            ("Remove the {n} noisiest {svc} alerts", A::Detect),
        ],
        F::Overload => &[
            (
                "Add a second on-call for {team} during launch weeks",
                A::Process,
            ),
            (
                "Cap pages per shift for {team} and review weekly",
                A::Process,
            ),
        ],
        F::ConfusingInterface => &[
            (
                "Colour production clusters red in the {svc2} console",
                A::Prevent,
            ),
            (
                "Add a confirmation prompt naming the cluster to {svc2} failover",
                A::Prevent,
            ),
        ],
        F::RiskyDefault => &[
            (
                "Size the {svc2} connection pool from load test results",
                A::Prevent,
            ),
            (
                "Add jittered, bounded retries to the {svc} client",
                A::Prevent,
            ),
            ("Make lifecycle rules opt-in for new buckets", A::Prevent),
        ],
        F::HiddenDependency => &[
            (
                "Document the {svc} to {svc2} dependency in the service map",
                A::Process,
            ),
            ("Give {svc} its own cache cluster", A::Prevent),
        ],
        F::OutdatedDocs => &[
            (
                "Rewrite the {svc} failover runbook for the current topology",
                A::Process,
            ),
            (
                "Add a last-verified date to every {team} runbook",
                A::Process,
            ),
        ],
        F::UnrehearsedPath => &[
            ("Run a quarterly failover drill for {svc2}", A::Process),
            (
                "Automate the {svc} restore test at production size",
                A::Detect,
            ),
        ],
        F::InsufficientTesting => &[
            (
                "Test {svc} migrations on a production-sized snapshot",
                A::Prevent,
            ),
            ("Add a contract test between {svc} and {svc2}", A::Prevent),
        ],
        F::Capacity => &[
            (
                "Raise {svc} memory limits and add headroom alerts",
                A::Prevent,
            ),
            ("Autoscale {svc2} on queue depth", A::Mitigate),
            ("Plan {svc} capacity for {n}x peak", A::Prevent),
        ],
        F::ChangeManagement => &[
            ("Send {svc2} config changes through the canary", A::Prevent),
            ("Enforce the deploy window for {svc}", A::Process),
        ],
        F::Communication => &[
            (
                "Post status updates to the channel support watches",
                A::Process,
            ),
            (
                "Add handover notes to the {team} shift template",
                A::Process,
            ),
        ],
        F::ThirdParty => &[
            ("Add a fallback provider for {svc}", A::Mitigate),
            ("Alert on {vendor} error rates from our side", A::Detect),
        ],
        F::Other => &[("Review time handling in {svc2}", A::Prevent)],
    }
}

pub(crate) const VERIFICATIONS: &[&str] = &[
    "Failover drill on {date} completed in 4 minutes with the new prompt.",
    "Load test on {date} held {n}x peak on {svc} with p99 under 250 ms.",
    "The new alert fired in staging on {date} and paged the right team.",
    "Rollback of {svc} rehearsed on {date}: one command, 3 minutes.",
    "Restore of {svc} from backup verified on {date}; checksums matched.",
    "No repeat in the {n} weeks since the change shipped on {date}.",
];

pub(crate) const WONT_DO_REASONS: &[&str] = &[
    "Superseded by the platform-wide migration to managed connection pooling.",
    "{Svc} is being retired next quarter; the cost outweighs the remaining risk.",
    "Covered by an existing action item from an earlier incident on {svc2}.",
    "The vendor fixed this on their side and confirmed it in writing.",
    "Decided in review that the alert would add noise without changing the response.",
];

pub(crate) const APPROVAL_COMMENTS: &[&str] = &[
    "Clear timeline, and the response section explains why each step made sense. Thanks.",
    "Good factor analysis; the link between the trigger and the conditions is easy to follow.",
    "Approved. The action items are specific enough to verify later.",
];

pub(crate) const CHANGE_REQUESTS: &[&str] = &[
    "Could the response section say what on-call believed when the second alert fired?",
    "The summary names a person as the cause; please describe the condition instead.",
    "Please add a contributing factor besides the trigger: what let it bite?",
    "Impact needs numbers: how many customers, and for how long?",
];
