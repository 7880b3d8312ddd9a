//! Insights across incidents: the counts behind `/insights`, each one `GROUP BY` in SQL so a
//! request holds a few hundred rows whatever the number of incidents.
//!
//! Part of the SQL written once for both backends; see the parent module. Restricted
//! incidents the reader may not see are counted (flagged `hidden`) only in the factor cells of
//! an unnarrowed report; `postmortem_core::insights` decides what of them may be shown.

macro_rules! sql_insights {
    ($store:ident, $db:ty, $backend:expr) => {
        /// The narrowing of an insights report, as SQL on `incidents i`.
        fn push_insight_filter(qb: &mut QueryBuilder<'static, $db>, filter: &postmortem_core::insights::InsightFilter) {
            if let Some(severity) = filter.severity {
                qb.push(" AND i.severity = ").push_bind(i64::from(severity.level()));
            }
            if let Some(kind) = filter.kind {
                qb.push(" AND i.kind = ").push_bind(kind.as_str());
            }
            if let Some(service) = &filter.service {
                qb.push(" AND EXISTS (SELECT 1 FROM incident_services s WHERE s.incident_id = i.id AND s.name = ")
                    .push_bind(service.as_str().to_owned())
                    .push(")");
            }
            if let Some(team) = &filter.team {
                qb.push(" AND EXISTS (SELECT 1 FROM incident_teams t WHERE t.incident_id = i.id AND t.name = ")
                    .push_bind(team.as_str().to_owned())
                    .push(")");
            }
            if let Some(from) = filter.from {
                qb.push(" AND i.sort_at >= ").push_bind(day_start_ms(from));
            }
            if let Some(to) = filter.to {
                qb.push(" AND i.sort_at < ").push_bind(day_start_ms(to) + 86_400_000);
            }
        }

        /// The first millisecond of a UTC day.
        fn day_start_ms(day: time::Date) -> i64 {
            to_ms(day.midnight().assume_utc())
        }

        /// `CASE … END`: the index of the quarter `i.sort_at` falls in, or -1. The bounds are
        /// numbers this code made, so they are written into the statement.
        fn quarter_case(quarters: &[postmortem_core::insights::Quarter]) -> String {
            let mut case = String::from("CAST(CASE");
            if let Some(first) = quarters.first() {
                case.push_str(&format!(" WHEN i.sort_at < {} THEN -1", day_start_ms(first.first_day())));
            }
            for (index, quarter) in quarters.iter().enumerate() {
                case.push_str(&format!(" WHEN i.sort_at < {} THEN {index}", day_start_ms(quarter.end())));
            }
            case.push_str(" ELSE -1 END AS BIGINT)");
            case
        }

        /// `CASE … END`: the histogram bucket of `expr` for upper bounds in `unit_ms`.
        fn bucket_case(expr: &str, bounds: &[i64], unit_ms: i64) -> String {
            let mut case = String::from("CAST(CASE");
            for (index, bound) in bounds.iter().enumerate() {
                case.push_str(&format!(" WHEN {expr} < {} THEN {index}", bound * unit_ms));
            }
            case.push_str(&format!(" ELSE {} END AS BIGINT)", bounds.len()));
            case
        }

        /// `1` for a restricted incident the reader may not see, else `0`.
        fn push_hidden(qb: &mut QueryBuilder<'static, $db>, visibility: Visibility) {
            match visibility {
                Visibility::Everything => {
                    qb.push("CAST(0 AS BIGINT)");
                }
                Visibility::Person(user) => {
                    qb.push("CAST(CASE WHEN i.restricted = ").push_bind(false).push(" OR ");
                    push_membership(qb, user);
                    qb.push(" THEN 0 ELSE 1 END AS BIGINT)");
                }
            }
        }

        fn count(row: &DbRow, column: &str) -> Result<u64> {
            u64::try_from(row.try_get::<i64, _>(column)?).map_err(StoreError::corrupt)
        }

        fn index(row: &DbRow, column: &str) -> Result<usize> {
            usize::try_from(row.try_get::<i64, _>(column)?).map_err(StoreError::corrupt)
        }

        impl $store {
            /// The counts behind an insights report for `filter`, as `visibility` sees it.
            async fn insight_counts(
                &self,
                filter: &postmortem_core::insights::InsightFilter,
                visibility: Visibility,
                today: time::Date,
            ) -> Result<postmortem_core::insights::InsightCounts> {
                use postmortem_core::insights::*;
                let mut conn = self.reader().acquire().await?;
                let scoped = |select: &str| {
                    let mut qb = QueryBuilder::<'static, $db>::new(select.to_owned());
                    push_insight_filter(&mut qb, filter);
                    push_visibility(&mut qb, visibility);
                    qb
                };

                let mut qb = scoped("SELECT MIN(i.sort_at) AS first_at, MAX(i.sort_at) AS last_at FROM incidents i WHERE 1 = 1");
                let row = qb.build().fetch_one(&mut *conn).await?;
                let (Some(first), Some(last)) = (row.try_get::<Option<i64>, _>("first_at")?, row.try_get::<Option<i64>, _>("last_at")?) else {
                    return Ok(InsightCounts::default());
                };
                let quarters = Quarter::span(from_ms(first)?.date(), from_ms(last)?.date());
                let q = quarter_case(&quarters);
                let mut counts = InsightCounts { quarters, ..InsightCounts::default() };

                // Factors by category and quarter; hidden incidents only in an unnarrowed report.
                let mut qb = QueryBuilder::<'static, $db>::new(format!(
                    "SELECT f.category AS category, {q} AS q, "
                ));
                if filter.is_everything() {
                    push_hidden(&mut qb, visibility);
                } else {
                    qb.push("CAST(0 AS BIGINT)");
                }
                qb.push(" AS h, COUNT(DISTINCT CASE WHEN f.is_trigger THEN i.id END) AS as_trigger, \
                    COUNT(DISTINCT CASE WHEN NOT f.is_trigger THEN i.id END) AS as_condition, \
                    COUNT(DISTINCT i.id) AS n \
                    FROM factors f JOIN incidents i ON i.id = f.incident_id WHERE 1 = 1");
                push_insight_filter(&mut qb, filter);
                if !filter.is_everything() {
                    push_visibility(&mut qb, visibility);
                }
                qb.push(" GROUP BY f.category, q, h");
                for row in qb.build().fetch_all(&mut *conn).await? {
                    let Ok(quarter) = usize::try_from(row.try_get::<i64, _>("q")?) else { continue };
                    counts.factors.push(FactorCell {
                        category: stored(FactorCategory::parse(&row.try_get::<String, _>("category")?))?,
                        quarter,
                        hidden: row.try_get::<i64, _>("h")? == 1,
                        as_trigger: count(&row, "as_trigger")?,
                        as_condition: count(&row, "as_condition")?,
                        incidents: count(&row, "n")?,
                    });
                }

                // The factor × service pairs that meet most.
                let mut qb = scoped(
                    "SELECT f.category AS category, s.name AS service, COUNT(DISTINCT i.id) AS n \
                     FROM factors f JOIN incidents i ON i.id = f.incident_id \
                     JOIN incident_services s ON s.incident_id = i.id WHERE 1 = 1",
                );
                qb.push(" GROUP BY f.category, s.name ORDER BY n DESC, f.category, s.name LIMIT 10");
                for row in qb.build().fetch_all(&mut *conn).await? {
                    counts.factor_services.push(FactorService {
                        category: stored(FactorCategory::parse(&row.try_get::<String, _>("category")?))?,
                        service: stored(Name::parse_field("service", row.try_get::<String, _>("service")?))?,
                        incidents: count(&row, "n")?,
                    });
                }

                // Durations from the start of impact to each marker, as histograms.
                let bucket = bucket_case("x.d", &DURATION_BUCKETS_MINUTES, 60_000);
                for metric in DurationMetric::ALL {
                    let mut qb = QueryBuilder::<'static, $db>::new(format!(
                        "SELECT x.severity AS severity, x.q AS q, {bucket} AS b, COUNT(*) AS n FROM (\
                         SELECT i.severity AS severity, {q} AS q, \
                         (SELECT MIN(t.at) FROM timeline_entries t WHERE t.incident_id = i.id AND t.marker = '{marker}') - \
                         COALESCE((SELECT MIN(t.at) FROM timeline_entries t WHERE t.incident_id = i.id AND t.marker = 'impact_start'), i.started_at) AS d \
                         FROM incidents i WHERE 1 = 1",
                        marker = metric.marker(),
                    ));
                    push_insight_filter(&mut qb, filter);
                    push_visibility(&mut qb, visibility);
                    qb.push(") x WHERE x.d IS NOT NULL AND x.d >= 0 GROUP BY x.severity, x.q, b");
                    for row in qb.build().fetch_all(&mut *conn).await? {
                        let Ok(quarter) = usize::try_from(row.try_get::<i64, _>("q")?) else { continue };
                        counts.durations.push(DurationCell {
                            metric,
                            severity: severity(row.try_get("severity")?)?,
                            quarter,
                            bucket: index(&row, "b")?,
                            incidents: count(&row, "n")?,
                        });
                    }
                }

                // Near misses beside incidents, per team and quarter.
                let mut qb = scoped(&format!(
                    "SELECT t.name AS team, {q} AS q, CAST(CASE WHEN i.kind = 'near_miss' THEN 1 ELSE 0 END AS BIGINT) AS nm, \
                     COUNT(DISTINCT i.id) AS n FROM incidents i LEFT JOIN incident_teams t ON t.incident_id = i.id WHERE 1 = 1"
                ));
                qb.push(" GROUP BY t.name, q, nm");
                for row in qb.build().fetch_all(&mut *conn).await? {
                    let Ok(quarter) = usize::try_from(row.try_get::<i64, _>("q")?) else { continue };
                    counts.kinds.push(KindCell {
                        team: row.try_get::<Option<String>, _>("team")?.map(|t| stored(Name::parse_field("team", t))).transpose()?,
                        quarter,
                        near_miss: row.try_get::<i64, _>("nm")? == 1,
                        incidents: count(&row, "n")?,
                    });
                }

                // Recorded to published.
                let bucket = bucket_case("(i.pm_published_at - i.created_at)", &LEAD_TIME_BUCKETS_DAYS, 86_400_000);
                let mut qb = scoped(&format!("SELECT {bucket} AS b, COUNT(*) AS n FROM incidents i WHERE i.pm_published_at IS NOT NULL"));
                qb.push(" GROUP BY b");
                for row in qb.build().fetch_all(&mut *conn).await? {
                    counts.lead_times.push((index(&row, "b")?, count(&row, "n")?));
                }

                // Action items by outcome; "recurred" asks whether a later incident the reader
                // may see shares a service of the item's incident and the category of a factor
                // the item addresses (any of its incident's factors when it names none).
                let due_end = match $backend {
                    Backend::Sqlite => "((CAST(strftime('%s', a.due_on) AS INTEGER) + 86400) * 1000)",
                    Backend::Postgres => "(EXTRACT(EPOCH FROM CAST(a.due_on AS DATE) + 1) * 1000)",
                };
                let mut qb = QueryBuilder::<'static, $db>::new(
                    "WITH last_seen AS (SELECT s.name AS service, f.category AS category, MAX(i.sort_at) AS last_at \
                     FROM incidents i JOIN incident_services s ON s.incident_id = i.id \
                     JOIN factors f ON f.incident_id = i.id WHERE 1 = 1",
                );
                push_visibility(&mut qb, visibility);
                qb.push(format!(
                    " GROUP BY s.name, f.category) \
                     SELECT a.kind AS kind, a.team AS team, a.status AS status, \
                     CAST(CASE WHEN a.verification IS NOT NULL AND a.verification <> '' THEN 1 ELSE 0 END AS BIGINT) AS verified, \
                     CAST(CASE WHEN a.due_on IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS due, \
                     CAST(CASE WHEN a.status = 'done' AND a.due_on IS NOT NULL AND a.completed_at IS NOT NULL AND a.completed_at < {due_end} THEN 1 ELSE 0 END AS BIGINT) AS on_time, \
                     CAST(CASE WHEN a.status = 'done' AND a.completed_at IS NOT NULL AND EXISTS (\
                       SELECT 1 FROM incident_services s JOIN factors f ON f.incident_id = s.incident_id \
                       JOIN last_seen l ON l.service = s.name AND l.category = f.category \
                       WHERE s.incident_id = a.incident_id AND l.last_at > a.completed_at \
                       AND (NOT EXISTS (SELECT 1 FROM action_factors af WHERE af.action_id = a.id) \
                         OR EXISTS (SELECT 1 FROM action_factors af WHERE af.action_id = a.id AND af.factor_id = f.id))\
                     ) THEN 1 ELSE 0 END AS BIGINT) AS recurred, \
                     CAST(CASE WHEN a.status IN ('open', 'in_progress') AND a.due_on IS NOT NULL AND a.due_on < "
                ));
                qb.push_bind(postmortem_core::format_date(today));
                qb.push(" THEN 1 ELSE 0 END AS BIGINT) AS overdue, COUNT(*) AS n FROM actions a JOIN incidents i ON i.id = a.incident_id WHERE 1 = 1");
                push_insight_filter(&mut qb, filter);
                push_visibility(&mut qb, visibility);
                qb.push(" GROUP BY a.kind, a.team, a.status, verified, due, on_time, recurred, overdue");
                for row in qb.build().fetch_all(&mut *conn).await? {
                    counts.actions.push(ActionCell {
                        kind: stored(ActionKind::parse(&row.try_get::<String, _>("kind")?))?,
                        team: row.try_get::<Option<String>, _>("team")?.map(|t| stored(Name::parse_field("team", t))).transpose()?,
                        status: stored(ActionStatus::parse(&row.try_get::<String, _>("status")?))?,
                        verified: row.try_get::<i64, _>("verified")? == 1,
                        overdue: row.try_get::<i64, _>("overdue")? == 1,
                        due: row.try_get::<i64, _>("due")? == 1,
                        on_time: row.try_get::<i64, _>("on_time")? == 1,
                        recurred: row.try_get::<i64, _>("recurred")? == 1,
                        actions: count(&row, "n")?,
                    });
                }

                // Themes: the pairs that met at least three times, looked at one by one.
                let pairs: Vec<FactorService> = counts.factor_services.iter().filter(|p| p.incidents >= 3).take(8).cloned().collect();
                for pair in pairs {
                    counts.themes.push(Self::theme_facts(&mut conn, filter, visibility, pair).await?);
                }
                Ok(counts)
            }

            /// What a theme (a service and a factor category that keep meeting) holds.
            async fn theme_facts(
                conn: &mut <$db as sqlx::Database>::Connection,
                filter: &postmortem_core::insights::InsightFilter,
                visibility: Visibility,
                pair: postmortem_core::insights::FactorService,
            ) -> Result<postmortem_core::insights::ThemeFacts> {
                let theme = |select: &str| {
                    let mut qb = QueryBuilder::<'static, $db>::new(select.to_owned());
                    push_insight_filter(&mut qb, filter);
                    push_visibility(&mut qb, visibility);
                    qb.push(" AND EXISTS (SELECT 1 FROM incident_services ts WHERE ts.incident_id = i.id AND ts.name = ")
                        .push_bind(pair.service.as_str().to_owned())
                        .push(") AND EXISTS (SELECT 1 FROM factors tf WHERE tf.incident_id = i.id AND tf.category = ")
                        .push_bind(pair.category.as_str())
                        .push(")");
                    qb
                };
                let row = theme("SELECT MIN(i.sort_at) AS first_at, MAX(i.sort_at) AS last_at FROM incidents i WHERE 1 = 1")
                    .build()
                    .fetch_one(&mut *conn)
                    .await?;
                let first = from_ms(row.try_get::<Option<i64>, _>("first_at")?.unwrap_or_default())?.date();
                let last = from_ms(row.try_get::<Option<i64>, _>("last_at")?.unwrap_or_default())?.date();
                let mut qb = theme("SELECT DISTINCT t.name AS name FROM incident_teams t JOIN incidents i ON i.id = t.incident_id WHERE 1 = 1");
                qb.push(" ORDER BY t.name LIMIT 10");
                let teams = qb
                    .build()
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|r| stored(Name::parse_field("team", r.try_get::<String, _>("name")?)))
                    .collect::<Result<Vec<_>>>()?;
                let mut qb = theme("SELECT i.title AS title FROM incidents i WHERE 1 = 1");
                qb.push(" ORDER BY i.sort_at DESC, i.id DESC LIMIT 30");
                let titles = qb
                    .build()
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|r| Ok(r.try_get::<String, _>("title")?))
                    .collect::<Result<Vec<_>>>()?;
                let row = theme("SELECT COUNT(*) AS n, COUNT(CASE WHEN a.status = 'done' THEN 1 END) AS done FROM actions a JOIN incidents i ON i.id = a.incident_id WHERE 1 = 1")
                    .build()
                    .fetch_one(&mut *conn)
                    .await?;
                let (actions, actions_done) = (count(&row, "n")?, count(&row, "done")?);
                // The fix that should have held: the earliest prevent item done that addresses
                // the theme's condition (or names no factor, so addresses its whole incident).
                let mut qb = theme("SELECT a.title AS title, a.completed_at AS completed_at FROM actions a JOIN incidents i ON i.id = a.incident_id \
                    WHERE a.status = 'done' AND a.kind = 'prevent' AND a.completed_at IS NOT NULL");
                qb.push(" AND (NOT EXISTS (SELECT 1 FROM action_factors af WHERE af.action_id = a.id) \
                    OR EXISTS (SELECT 1 FROM action_factors af JOIN factors ff ON ff.id = af.factor_id WHERE af.action_id = a.id AND ff.category = ")
                    .push_bind(pair.category.as_str())
                    .push("))");
                qb.push(" ORDER BY a.completed_at, a.id LIMIT 1");
                let earliest = qb.build().fetch_optional(&mut *conn).await?;
                let (earliest_done, incidents_after_done) = match earliest {
                    Some(row) => {
                        let completed_at: i64 = row.try_get("completed_at")?;
                        let mut qb = theme("SELECT COUNT(*) AS n FROM incidents i WHERE 1 = 1");
                        qb.push(" AND i.sort_at > ").push_bind(completed_at);
                        let after = count(&qb.build().fetch_one(&mut *conn).await?, "n")?;
                        (Some((row.try_get::<String, _>("title")?, from_ms(completed_at)?.date())), after)
                    }
                    None => (None, 0),
                };
                Ok(postmortem_core::insights::ThemeFacts {
                    category: pair.category,
                    service: pair.service,
                    incidents: pair.incidents,
                    first,
                    last,
                    teams,
                    titles,
                    actions,
                    actions_done,
                    earliest_done,
                    incidents_after_done,
                })
            }
        }
    };
}
