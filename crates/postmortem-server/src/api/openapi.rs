//! The OpenAPI 3 document at `/api/v1/openapi.json`, generated from the handlers' annotations
//! and the input types, with bearer tokens as the security scheme.

use super::{access, admin, follow_through, incidents, lint, schema, search, writing};
use crate::live;
use crate::service::{
    ActionInput, ActionPatch, CommentInput, FactorInput, IncidentInput, RoleInput, TeamInput,
    TimelineInput, TransitionInput,
};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "postmortem",
        description = "Write, review and learn from blameless incident post-mortems. Every request authenticates with `Authorization: Bearer TOKEN` (or the browser's session cookie); roles decide who may write.",
    ),
    paths(
        super::me,
        incidents::list,
        incidents::create,
        incidents::read,
        writing::save_sections,
        writing::transition,
        writing::add_timeline_entry,
        writing::add_factor,
        writing::add_action,
        writing::update_action,
        writing::add_comment,
        writing::resolve_comment,
        live::api_events,
        follow_through::actions,
        follow_through::owed,
        follow_through::figures,
        admin::list,
        admin::create,
        admin::update,
        admin::deliveries,
        access::teams,
        access::create_team,
        access::team,
        access::add_team_member,
        access::remove_team_member,
        access::users,
        access::set_role,
        access::add_incident_member,
        access::remove_incident_member,
        search::search,
        lint::lint,
    ),
    components(schemas(
        IncidentInput, TimelineInput, FactorInput, ActionInput, ActionPatch, TransitionInput,
        CommentInput, writing::SectionsInput, admin::WebhookInput, admin::WebhookPatch,
        TeamInput, RoleInput, schema::TeamView,
        schema::ErrorBody, schema::ErrorDetail, schema::UserView, schema::IncidentView,
        schema::IncidentPageView, schema::IncidentSummaryView, schema::PostmortemSummaryView,
        schema::PostmortemView, schema::TimelineEntryView, schema::FactorView, schema::ActionView,
        schema::ReviewView, schema::CommentView, schema::PostmortemSaved, schema::Transition,
        schema::Resolved,
        lint::LintInput, lint::LintResult, lint::FindingView, lint::ByteRange,
    )),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
)]
pub(crate) struct ApiDoc;

/// Declares the `bearer` security scheme the operations refer to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token, created with `postmortem user create ... --token`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document itself; it describes the API, so reading it needs no credentials.
pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
