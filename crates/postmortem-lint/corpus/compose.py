#!/usr/bin/env python3
"""Composes the generated part of the blameless-language corpus (`composed.jsonl`).

A one-off authoring aid, not part of the build: it crosses hand-written sentence shapes
with hand-written people, systems, actions and industries, so the corpus covers many
voices (we, passive, timeline fragments, bullets, action items) without one person typing
three thousand lines. The hand-written batches (`batch-*.txt`) are the other half.
Deterministic: `python3 compose.py > composed.jsonl` always gives the same file.
"""
import json
import random

rng = random.Random(20261205)

PEOPLE = ["Priya", "Omar", "Lee", "Dana", "Sam", "Alex", "Chen", "Fatima", "Jonas", "Mei",
          "Ravi", "Ana", "Kofi", "Ines", "Tomasz", "Yuki", "Bruno", "Aisha", "Mateo", "Olga",
          "Kenji", "Sofia", "Hamid", "Lucia", "Nils", "Zara", "Diego", "Hana", "Pavel", "Amara",
          "Grace", "Wei", "Femi", "Marta", "Rahul", "Ingrid", "Jorge", "Noor", "Eitan", "Beth"]
ROLES = ["the on-call engineer", "the DBA", "the release manager", "the SRE on shift",
         "the intern", "the new hire", "the vendor's engineer", "the support lead",
         "the dispatcher", "the night shift", "the contractor", "the pharmacist on duty",
         "the shift supervisor", "the duty manager", "the build cop", "the reviewer",
         "the incident commander", "the network engineer", "the store manager",
         "the lab technician", "the first responder", "the payroll admin"]
TEAMS = ["ops", "the platform team", "the network team", "the QA team", "the security team",
         "the data team", "the payments team", "the frontend team", "the mobile team",
         "the infra team", "the DBAs", "support", "the warehouse crew", "the release team",
         "the vendor", "marketing", "the night shift", "the devs", "the SRE team"]
SYSTEMS = ["the payments API", "the checkout service", "the billing queue", "the primary database",
           "the DNS zone", "the load balancer", "the CDN config", "the Kafka cluster",
           "the search index", "the auth service", "the ETL job", "the scanner fleet",
           "the point-of-sale terminals", "the dispatch console", "the patient-records sync",
           "the trading gateway", "the plant historian", "the baggage sorter",
           "the feature flag service", "the certificate rotation job", "the backup job",
           "the Terraform state", "the Kubernetes cluster", "the cron scheduler",
           "the SMS gateway", "the ledger reconciliation", "the video transcoder",
           "the ticketing site", "the telemetry pipeline", "the VPN concentrator",
           "the email relay", "the ride-matching service", "the inventory sync",
           "the lab results interface", "the booking engine", "the LMS gradebook",
           "the smart-meter uplink", "the claims portal", "the app store build"]
ACTIONS = [("pushed the config change", "pushing the config change", "push the config change"),
           ("ran the migration", "running the migration", "run the migration"),
           ("deployed the release", "deploying the release", "deploy the release"),
           ("restarted the primary", "restarting the primary", "restart the primary"),
           ("rotated the certificate", "rotating the certificate", "rotate the certificate"),
           ("merged the pull request", "merging the pull request", "merge the pull request"),
           ("applied the Terraform plan", "applying the Terraform plan", "apply the Terraform plan"),
           ("flipped the feature flag", "flipping the feature flag", "flip the feature flag"),
           ("drained the node", "draining the node", "drain the node"),
           ("deleted the old index", "deleting the old index", "delete the old index"),
           ("scaled the cluster down", "scaling the cluster down", "scale the cluster down"),
           ("approved the change", "approving the change", "approve the change"),
           ("edited the DNS record", "editing the DNS record", "edit the DNS record"),
           ("truncated the table", "truncating the table", "truncate the table"),
           ("silenced the alert", "silencing the alert", "silence the alert"),
           ("updated the firewall rule", "updating the firewall rule", "update the firewall rule"),
           ("reimaged the kiosk", "reimaging the kiosk", "reimage the kiosk"),
           ("changed the price file", "changing the price file", "change the price file"),
           ("uploaded the route plan", "uploading the route plan", "upload the route plan")]
OMISSIONS = [("check the replica lag", "checked the replica lag", "checking the replica lag"),
             ("read the diff", "read the diff", "reading the diff"),
             ("test the restore", "tested the restore", "testing the restore"),
             ("look at the dashboard", "looked at the dashboard", "looking at the dashboard"),
             ("follow the runbook", "followed the runbook", "following the runbook"),
             ("escalate to the vendor", "escalated to the vendor", "escalating to the vendor"),
             ("page the database team", "paged the database team", "paging the database team"),
             ("verify the backup", "verified the backup", "verifying the backup"),
             ("do a dry run", "done a dry run", "doing a dry run"),
             ("read the release notes", "read the release notes", "reading the release notes"),
             ("answer the page", "answered the page", "answering the page"),
             ("wait for the canary", "waited for the canary", "waiting for the canary"),
             ("confirm the target host", "confirmed the target host", "confirming the target host"),
             ("announce the maintenance", "announced the maintenance", "announcing the maintenance"),
             ("double-check the row count", "double-checked the row count", "double-checking the row count"),
             ("ask for a second review", "asked for a second review", "asking for a second review")]
OUTCOMES = ["refunds stopped for a day", "checkout was down for two hours",
            "40,000 customers could not log in", "the warehouse shipped nothing on Monday",
            "we lost a whole Saturday", "orders were charged twice", "the pharmacy queue froze",
            "search returned empty pages all morning", "payroll ran a day late",
            "the app crashed on launch for every Android user", "dispatch fell back to paper",
            "the trading desk was blind for 18 minutes", "emails bounced overnight",
            "six hours of events never reached the lake", "boarding passes would not print",
            "the call centre queue hit 900", "students could not submit exams",
            "meter readings stopped for a region"]
OUTCOME_NOUNS = ["our lost Saturday", "the two-hour checkout outage", "the double charges",
                 "a night of pages", "the empty search results", "the frozen pharmacy queue",
                 "the late payroll", "the bounced emails", "the paper dispatch day",
                 "six hours of missing events", "the failed exam submissions"]
CHANGES = ["config push", "schema change", "hotfix", "cleanup script", "Friday deploy",
           "firewall edit", "one-line change", "manual failover", "shortcut", "quick fix",
           "\"small\" refactor", "cron tweak", "rushed migration"]
ALERTS = ["disk alert", "lag warning", "certificate expiry notice", "error-rate page",
          "capacity warning", "low-stock alarm", "temperature alarm", "queue-depth alert"]
DURS = ["three hours", "forty minutes", "the whole night", "two days", "most of the shift",
        "half an hour", "a week"]
TIMES = ["02:13", "09:47", "14:02", "17:30", "23:58", "06:05", "11:11", "T+12m", "T+3h",
         "Day 2, 08:00"]
DATES = ["2024-05-01", "the end of the sprint", "next Friday", "2025-03-14", "Q3",
         "the next release", "2024-11-30"]
FACTS = ["the replica was hours behind", "the disk would fill before midnight",
         "the certificate expired on Sunday", "the flag was still on in production",
         "the new index had not finished building", "the vendor's endpoint was down",
         "the backup had not run in a week", "both tabs pointed at production"]
HOSTS = ["db-2", "api-7", "edge-3", "pos-114", "kafka-1", "node-19", "lb-east", "wms-4"]
METRICS = ["queue depth", "replica lag", "certificate expiry", "disk inodes",
           "p99 latency", "consumer lag", "dropped scans", "retry rate"]
FIXES = ["a confirmation prompt to the failover tool", "an alert on replica lag",
         "a dry-run mode to the cleanup script", "a canary stage to the config pipeline",
         "a restore drill to the quarterly calendar", "an owner to the billing queue",
         "a second approver for production schema changes", "a diff preview to the deploy page",
         "a rate limit to the retry loop", "a check that blocks deletes on live indexes",
         "expiry warnings 30 days ahead for every certificate", "a staging copy of the vendor API"]
MECHS = ["its error threshold was averaged over a 10-minute window",
         "the retry loop had no backoff", "both clusters share one DNS name",
         "the health check only probes the TCP port", "the cache key ignored the locale",
         "the migration held a table lock for the whole run",
         "the timeout was longer than the client's", "the queue consumer swallowed exceptions",
         "the two commands differ only in one letter", "the dashboard averaged away the spike"]
SYSACTIONS = [("failed to trip", "trip"), ("failed to detect the stale cache", "detect the stale cache"),
              ("failed to page anyone", "page anyone"), ("failed to start", "start"),
              ("failed to renew the certificate", "renew the certificate"),
              ("failed to drain the queue", "drain the queue"),
              ("failed over to the wrong region", "fail over to the right region")]
SHAPES_BLAME = {}
SHAPES_CLEAN = {}


def person():
    r = rng.random()
    if r < 0.6:
        return rng.choice(PEOPLE)
    if r < 0.85:
        return rng.choice(ROLES)
    return rng.choice(TEAMS)


def cap(s):
    return s[0].upper() + s[1:]


def pick(xs):
    return rng.choice(xs)


def blame(cat):
    def deco(f):
        SHAPES_BLAME.setdefault(cat, []).append(f)
        return f
    return deco


def clean(cat):
    def deco(f):
        SHAPES_CLEAN.setdefault(cat, []).append(f)
        return f
    return deco


# ---- person_failure -------------------------------------------------------------------
@blame("person_failure")
def _():
    o = pick(OMISSIONS); a = pick(ACTIONS)
    return f"{cap(person())} failed to {o[0]} before {a[1]}."

@blame("person_failure")
def _():
    return f"{cap(person())} never once tried to {pick(OMISSIONS)[0]}."

@blame("person_failure")
def _():
    return f"{cap(person())} sat on the ticket for {pick(DURS)} while {pick(OUTCOMES)}."

@blame("person_failure")
def _():
    return f"{cap(person())} {pick(ACTIONS)[0]} without reading the diff."

@blame("person_failure")
def _():
    return f"{cap(person())} forgot to {pick(OMISSIONS)[0]}, and {pick(OUTCOMES)}."

@blame("person_failure")
def _():
    return f"{cap(person())} neglected to {pick(OMISSIONS)[0]}."

@blame("person_failure")
def _():
    return f"{cap(person())} missed the {pick(ALERTS)} for {pick(DURS)}."

@blame("person_failure")
def _():
    o = pick(OMISSIONS); a = pick(ACTIONS)
    return f"Instead of {o[2]}, {person()} went ahead and {a[0]}."

@blame("person_failure")
def _():
    return f"{cap(person())} let the certificate expire and {pick(OUTCOMES)}."

@blame("person_failure")
def _():
    return f"{cap(person())} took down {pick(SYSTEMS)} by {pick(ACTIONS)[1]} at peak."

@blame("person_failure")
def _():
    return f"{pick(TIMES)} {person()} fails to {pick(OMISSIONS)[0]}."

@blame("person_failure")
def _():
    return f"{cap(person())} dropped the ball on {pick(SYSTEMS)}."

@blame("person_failure")
def _():
    return f"{cap(person())} broke {pick(SYSTEMS)} again."

@blame("person_failure")
def _():
    return f"- {person()} didn't {pick(OMISSIONS)[0]}"

# ---- counterfactual -------------------------------------------------------------------
@blame("counterfactual")
def _():
    return f"{cap(person())} should have {pick(OMISSIONS)[1]} before {pick(ACTIONS)[1]}."

@blame("counterfactual")
def _():
    return f"If {person()} had {pick(OMISSIONS)[1]}, {pick(OUTCOMES)} would never have happened." \
        .replace("would never have happened", "") if False else \
        f"If {person()} had {pick(OMISSIONS)[1]}, none of this would have happened."

@blame("counterfactual")
def _():
    return f"A more attentive {pick(['operator', 'engineer', 'reviewer', 'pharmacist', 'dispatcher', 'DBA'])} would have {pick(OMISSIONS)[1]}."

@blame("counterfactual")
def _():
    return f"With a bit more care from {pick(PEOPLE)}, {pick(OUTCOMES)} could have been avoided." \
        if False else f"With a bit more care from {pick(PEOPLE)}, the outage could have been avoided."

@blame("counterfactual")
def _():
    return f"{cap(person())} could easily have prevented this by {pick(OMISSIONS)[2]}."

@blame("counterfactual")
def _():
    return f"Had {person()} {pick(OMISSIONS)[1]}, we would not be writing this."

@blame("counterfactual")
def _():
    return f"{cap(person())} ought to have known that {pick(FACTS)}."

@blame("counterfactual")
def _():
    return f"If only {person()} had {pick(OMISSIONS)[1]}."

@blame("counterfactual")
def _():
    return f"{cap(person())} needed to {pick(OMISSIONS)[0]} and didn't."

@blame("counterfactual")
def _():
    return f"{cap(person())} could have just {pick(OMISSIONS)[1]}."

@blame("counterfactual")
def _():
    return f"- {person()} should of {pick(OMISSIONS)[1]} first"

# ---- human_error ----------------------------------------------------------------------
@blame("human_error")
def _():
    return f"Root cause: {pick(['human error', 'operator error', 'user error', 'a human mistake'])}."

@blame("human_error")
def _():
    return f"The root cause was {pick(['human', 'operator', 'admin'])} error by {person()} during the {pick(['migration', 'failover', 'cutover', 'rollout', 'maintenance'])}."

@blame("human_error")
def _():
    return f"The outage came down to a mistake by {person()}."

@blame("human_error")
def _():
    return f"{pick(PEOPLE)}'s mistake meant {pick(OUTCOMES)}."

@blame("human_error")
def _():
    return f"Cause: a careless slip by {person()} while {pick(ACTIONS)[1]}."

@blame("human_error")
def _():
    return f"A fat-finger by {person()} took {pick(SYSTEMS)} offline."

@blame("human_error")
def _():
    return f"The incident was due to a typo by {person()}."

@blame("human_error")
def _():
    return f"This was human error, plain and simple: {person()} {pick(ACTIONS)[0]} on the wrong host."

@blame("human_error")
def _():
    return f"{cap(person())} made an error while {pick(ACTIONS)[1]}, which caused the outage."

@blame("human_error")
def _():
    return f"* Trigger: operator mistake ({pick(PEOPLE)})"

# ---- character ------------------------------------------------------------------------
@blame("character")
def _():
    return f"{cap(person())} was careless with {pick(SYSTEMS)}."

@blame("character")
def _():
    return f"{cap(person())} showed little rigour when {pick(ACTIONS)[1]}."

@blame("character")
def _():
    return f"{cap(person())} had become complacent about {pick(METRICS)}."

@blame("character")
def _():
    return f"{cap(person())} acted recklessly by {pick(ACTIONS)[1]} during peak hours."

@blame("character")
def _():
    return f"{cap(person())} treated {pick(SYSTEMS)} as someone else's problem."

@blame("character")
def _():
    return f"{pick(PEOPLE)}'s sloppy work on {pick(SYSTEMS)} caused the outage."

@blame("character")
def _():
    return f"{cap(person())} could not be bothered to {pick(OMISSIONS)[0]}."

@blame("character")
def _():
    return f"{cap(person())} casually {pick(ACTIONS)[0]} in production."

@blame("character")
def _():
    return f"{cap(person())} cut corners on {pick(SYSTEMS)}."

@blame("character")
def _():
    return f"{cap(person())} was negligent in {pick(OMISSIONS)[2]}."

@blame("character")
def _():
    return f"{cap(person())} simply does not care about {pick(METRICS)}."

@blame("character")
def _():
    return f"{cap(person())} lazily {pick(ACTIONS)[0]} without a plan."

@blame("character")
def _():
    return f"{cap(person())} was too lazy to {pick(OMISSIONS)[0]}."

# ---- hindsight ------------------------------------------------------------------------
@blame("hindsight")
def _():
    return f"It was plain as day that {pick(FACTS)}."

@blame("hindsight")
def _():
    return f"Anyone could have seen that {pick(FACTS)}."

@blame("hindsight")
def _():
    return f"There is no excuse for not {pick(OMISSIONS)[2]}."

@blame("hindsight")
def _():
    return f"{cap(person())} had one job: {pick(OMISSIONS)[0]}."

@blame("hindsight")
def _():
    return f"Obviously {person()} should have {pick(OMISSIONS)[1]}."

@blame("hindsight")
def _():
    return f"Any competent engineer would have {pick(OMISSIONS)[1]}."

@blame("hindsight")
def _():
    return f"All {person()} had to do was {pick(OMISSIONS)[0]}."

@blame("hindsight")
def _():
    return f"The warning signs were obvious to everyone except {person()}."

@blame("hindsight")
def _():
    return f"How {person()} missed the {pick(ALERTS)} is beyond me."

@blame("hindsight")
def _():
    return f"It should have been obvious to {person()} that {pick(FACTS)}."

@blame("hindsight")
def _():
    return f"Even a first-year student knows you {pick(OMISSIONS)[0]} first."

# ---- fault ----------------------------------------------------------------------------
@blame("fault")
def _():
    return f"The outage goes back to {pick(PEOPLE)}'s {pick(CHANGES)}."

@blame("fault")
def _():
    return f"We can thank {person()} for {pick(OUTCOME_NOUNS)}."

@blame("fault")
def _():
    return f"Culprit: {person()}."

@blame("fault")
def _():
    return f"Thanks to {pick(PEOPLE)}'s brilliant {pick(CHANGES)}, {pick(OUTCOMES)}."

@blame("fault")
def _():
    return f"This incident is on {person()}."

@blame("fault")
def _():
    return f"{cap(person())} is responsible for {pick(OUTCOME_NOUNS)}."

@blame("fault")
def _():
    return f"Blame lies squarely with {person()}."

@blame("fault")
def _():
    return f"{cap(pick(OUTCOMES))}, courtesy of {person()}."

@blame("fault")
def _():
    return f"Caused by: {person()}"

@blame("fault")
def _():
    return f"{pick(PEOPLE)}'s {pick(CHANGES)} is what broke {pick(SYSTEMS)}."

@blame("fault")
def _():
    return f"Once again {pick(TEAMS)} managed to take down {pick(SYSTEMS)}."

@blame("fault")
def _():
    return f"Congratulations to {pick(TEAMS)} on yet another outage."

@blame("fault")
def _():
    return f"{cap(person())} is the reason {pick(OUTCOMES)}."

@blame("fault")
def _():
    return f"The whole thing was {pick(PEOPLE)}'s fault."

# ---- passive_blame --------------------------------------------------------------------
@blame("passive_blame")
def _():
    return f"The checklist was skipped by {pick(TEAMS)}, again."

@blame("passive_blame")
def _():
    return f"The {pick(ALERTS)} was ignored for {pick(DURS)}."

@blame("passive_blame")
def _():
    return f"Mistakes were made during the {pick(['migration', 'failover', 'cutover', 'rollout', 'maintenance window'])}."

@blame("passive_blame")
def _():
    return f"The runbook was not followed, and {pick(OUTCOMES)}."

@blame("passive_blame")
def _():
    return f"The change was rushed through review by {pick(TEAMS)}."

@blame("passive_blame")
def _():
    return f"Warnings from {pick(TEAMS)} were brushed aside."

@blame("passive_blame")
def _():
    return f"The dashboard was not even looked at until {pick(TIMES)}."

@blame("passive_blame")
def _():
    return f"Safety checks were bypassed by {pick(TEAMS)} to save time."

@blame("passive_blame")
def _():
    return f"The ticket was left to rot in the {pick(TEAMS).replace('the ', '')} queue."

@blame("passive_blame")
def _():
    return f"The page was acknowledged by {person()} and then simply forgotten."

@blame("passive_blame")
def _():
    return f"Known risks in {pick(SYSTEMS)} were swept under the rug."

@blame("passive_blame")
def _():
    return f"The team must be far more careful with {pick(SYSTEMS)} from now on."

@blame("passive_blame")
def _():
    return f"- Action: {person()} must pay more attention when {pick(ACTIONS)[1]}."

@blame("passive_blame")
def _():
    return f"Engineers need to be reminded to {pick(OMISSIONS)[0]}."

# ---- clean: facts, beliefs, actions items, plans ---------------------------------------
@clean("clean")
def _():
    return f"{pick(TIMES)} {person()} {pick(ACTIONS)[0]} on {pick(HOSTS)}."

@clean("clean")
def _():
    return f"{cap(person())} believed {pick(FACTS).replace('was', 'was not', 1) if rng.random() < 0.5 else 'the alert was a duplicate'} because {pick(MECHS)}."

@clean("clean")
def _():
    return f"{cap(person())} will add {pick(FIXES)} by {pick(DATES)}."

@clean("clean")
def _():
    return f"- [ ] {cap(pick(FIXES))} (owner: {pick(PEOPLE)}, due {pick(DATES)})"

@clean("clean")
def _():
    return f"We did not have alerting on {pick(METRICS)}, so the first signal was a customer ticket."

@clean("clean")
def _():
    return f"Nothing in the console told {person()} that {pick(FACTS)}."

@clean("clean")
def _():
    return f"{pick(TIMES)} {person()} paged {pick(TEAMS)} and opened the incident channel."

@clean("clean")
def _():
    return f"The {pick(['first', 'second'])} signal came at {pick(TIMES)}, when {pick(OUTCOMES)}."

@clean("clean")
def _():
    return f"From {pick(PEOPLE)}'s screen, the {pick(ALERTS)} looked like the one that had fired falsely twice that week."

@clean("clean")
def _():
    return f"{cap(pick(SYSTEMS))} has no owner listed in the service catalogue."

@clean("clean")
def _():
    return f"Impact: {pick(OUTCOMES)}."

@clean("clean")
def _():
    return f"We will ask {pick(TEAMS)} how they decide when to {pick(OMISSIONS)[0]}."

@clean("clean")
def _():
    return f"{cap(person())} {pick(ACTIONS)[0]} after the change had passed review and the canary looked healthy."

@clean("clean")
def _():
    return f"The runbook step to {pick(OMISSIONS)[0]} was on page four, after the step that broke."

@clean("clean")
def _():
    return f"{cap(person())} and {pick(PEOPLE)} agreed to {pick(ACTIONS)[2]} because {pick(MECHS)}."

# ---- trap: trigger words used innocently -----------------------------------------------
@clean("trap")
def _():
    s = pick(SYSACTIONS)
    return f"{cap(pick(SYSTEMS))} {s[0]} because {pick(MECHS)}."

@clean("trap")
def _():
    return f"We should talk to {pick(TEAMS)} about {pick(METRICS)} before the next release."

@clean("trap")
def _():
    return f"An incident commander could have helped coordinate {pick(TEAMS)} and {pick(TEAMS)}."

@clean("trap")
def _():
    return f"A canary stage would have caught the bad {pick(CHANGES).strip(chr(34))} before it reached {pick(SYSTEMS)}."

@clean("trap")
def _():
    return f"No service uses that path outside production, so our tests did not catch it."

@clean("trap")
def _():
    return f"Calling this {pick(PEOPLE)}'s slip would miss the point: {pick(MECHS)}."

@clean("trap")
def _():
    return f"We looked past the easy 'human error' label and asked why {pick(MECHS)}."

@clean("trap")
def _():
    return f"The API returned a 500 error for {rng.randint(2, 60)}% of requests to {pick(SYSTEMS)}."

@clean("trap")
def _():
    return f"The job failed with exit code {pick(['137', '1', '143', '2'])} after {pick(DURS)}."

@clean("trap")
def _():
    return f"{pick(TIMES)} The error rate on {pick(HOSTS)} rose to {rng.randint(2, 90)}%."

@clean("trap")
def _():
    return f"The {pick(['error budget', 'monthly error budget', 'SLO error budget'])} for {pick(SYSTEMS)} was exhausted by {pick(TIMES)}."

@clean("trap")
def _():
    return f"The {pick(METRICS)} alert should fire on the p99, not the average."

@clean("trap")
def _():
    return f"{cap(pick(SYSTEMS))} should refuse to start when {pick(FACTS)}."

@clean("trap")
def _():
    return f"{pick(TIMES)} The deploy had just finished when {pick(OUTCOMES)}."

@clean("trap")
def _():
    return f"A disk fault on {pick(HOSTS)} started the cascade."

@clean("trap")
def _():
    return f"Fault injection in staging reproduced the deadlock in {pick(SYSTEMS)}."

@clean("trap")
def _():
    return f"`git blame` shows the line in {pick(['config.yaml', 'deploy.sh', 'main.tf', 'retry.go', 'nginx.conf'])} dates from 2019."

@clean("trap")
def _():
    return f"The primary must be drained before {pick(SYSTEMS)} is switched over."

@clean("trap")
def _():
    return f"It is easy to mistake the staging tab for production because both are red."

@clean("trap")
def _():
    return f"Nothing on the screen obviously distinguished {pick(HOSTS)} from {pick(HOSTS)}."

@clean("trap")
def _():
    return f"In hindsight the {pick(ALERTS)} looks obvious, but at {pick(TIMES)} it was one graph among forty."

@clean("trap")
def _():
    return f"Nobody was careless here; {pick(MECHS)}."

@clean("trap")
def _():
    return f"We removed the word 'careless' from the first draft, because it explained nothing."

@clean("trap")
def _():
    return f"The health check failed {rng.randint(2, 9)} times in a row before {pick(SYSTEMS)} was marked down."

@clean("trap")
def _():
    return f"If the {pick(['deploy tool', 'failover script', 'console', 'migration tool'])} had asked for confirmation, the {pick(['rollout', 'cutover', 'deletion'])} would have stopped at the first host."

@clean("trap")
def _():
    return f"We should add {pick(FIXES)}."

@clean("trap")
def _():
    return f"Our staging environment has no {pick(METRICS)} data, so the change was never exercised under load."

@clean("trap")
def _():
    return f"The retry failed, and the error was logged as a warning, so no page went out."

@clean("trap")
def _():
    return f"Who was on call matters less than why {pick(MECHS)}; this review does not assign fault."

@clean("trap")
def _():
    return f"{cap(person())} should be invited to the review, since {pick(PEOPLE)} knows {pick(SYSTEMS)} best."

@clean("trap")
def _():
    return f"The {pick(['error', 'failure', 'fault'])} message pointed at {pick(HOSTS)}, which had been renamed."

@clean("trap")
def _():
    return f"The vendor's status page just said 'degraded' for {pick(DURS)}."

@clean("trap")
def _():
    return f"A test that fails when {pick(FACTS)} must exist before we re-enable the job."


PREFIXES = ["", "", "", "", "", "- ", "* ", "Note: ", "In short, "]


def voice(text, cat):
    """Varies the surface a little: bullets, lower-case fragments, trailing clauses."""
    r = rng.random()
    if text.startswith(("- ", "* ", "T+", "Day", "0", "1", "2")):
        return text
    p = rng.choice(PREFIXES)
    if ":" in text[:14]:
        p = ""
    if p in ("- ", "* ") and rng.random() < 0.5:
        text = text.rstrip(".")
    if p == "In short, ":
        text = text[0].lower() + text[1:] if not text.startswith(("I ", "API", "DNS", "CDN", "ETL", "SMS", "VPN", "LMS", "Kafka", "Terraform", "Kubernetes")) and not text.split()[0] in PEOPLE else text
    if r < 0.08:
        text = text.rstrip(".") + ", according to the timeline."
    elif r < 0.14 and text.endswith("."):
        text = text.rstrip(".") + " during the Black Friday peak."
    return p + text


def main():
    seen = set()
    rows = []
    plan = [(1, cat, 150) for cat in SHAPES_BLAME] + [(0, "clean", 450), (0, "trap", 650)]
    for label, cat, n in plan:
        shapes = SHAPES_BLAME[cat] if label else SHAPES_CLEAN[cat]
        made = 0
        tries = 0
        while made < n and tries < n * 40:
            tries += 1
            text = voice(rng.choice(shapes)(), cat)
            if text in seen:
                continue
            seen.add(text)
            made += 1
            rows.append({"text": text, "label": label, "category": cat,
                         "section": rng.choice(["summary", "timeline", "causes", "response", "lessons", "impact", "action_items"])})
    for i, row in enumerate(rows, 1):
        row = {"id": f"g{i:04d}", **row}
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
