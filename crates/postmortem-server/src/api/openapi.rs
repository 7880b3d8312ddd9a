//! The OpenAPI 3 document at `/api/v1/openapi.json`, generated from the handlers' annotations
//! and the input types, with bearer tokens as the security scheme.

use super::{
    access, admin, audit, external, follow_through, import, incidents, insights, integrations,
    items, lint, markdown, schema, search, tokens, writing,
};
use crate::live;
use axum::Json;
use postmortem_app::{
    ActionInput, ActionPatch, CommentInput, ExternalInput, ExternalPatch, FactorInput, FactorPatch,
    FactsPatch, FieldChange, ImpactPatch, ImportOutcome, Imported, IncidentInput, IntegrationInput,
    PublishInput, QuoteInput, ReplacementInput, RoleInput, TeamInput, TimelineInput, TimelinePatch,
    TransitionInput,
};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
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
        incidents::update,
        markdown::markdown,
        external::read,
        external::create,
        external::edit,
        external::publish,
        external::unpublish,
        import::import,
        writing::save_sections,
        writing::transition,
        writing::add_timeline_entry,
        writing::add_factor,
        writing::add_action,
        writing::update_action,
        writing::add_comment,
        writing::resolve_comment,
        writing::reopen_comment,
        items::update_timeline_entry,
        items::remove_timeline_entry,
        items::update_factor,
        items::remove_factor,
        items::remove_action,
        live::api_events,
        follow_through::actions,
        follow_through::owed,
        follow_through::figures,
        insights::insights,
        insights::insights_csv,
        admin::list,
        admin::create,
        admin::update,
        admin::deliveries,
        integrations::list,
        integrations::create,
        integrations::remove,
        integrations::deliveries,
        integrations::replay,
        integrations::changes,
        integrations::add_change,
        integrations::chat_preview,
        integrations::chat_import,
        audit::log,
        audit::history,
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
        search::suggest,
        lint::lint,
        tokens::list,
        tokens::create,
        tokens::revoke,
    ),
    components(schemas(
        Imported, ImportOutcome, FieldChange, IncidentInput, FactsPatch, ImpactPatch, TimelineInput, FactorInput, ActionInput, ActionPatch, TimelinePatch, FactorPatch, TransitionInput,
        CommentInput, QuoteInput, writing::SectionsInput, admin::WebhookInput, admin::WebhookPatch,
        TeamInput, RoleInput, schema::TeamView,
        schema::ErrorBody, schema::ErrorDetail, schema::UserView, schema::IncidentView,
        schema::IncidentPageView, schema::IncidentSummaryView, schema::PostmortemSummaryView,
        schema::PostmortemView, schema::TimelineEntryView, schema::FactorView, schema::ActionView,
        schema::ReviewView, schema::CommentView, schema::RevisionView, schema::PostmortemSaved, schema::Transition,
        schema::Resolved, schema::ActionPageView, schema::ActionListItemView, schema::OwedView,
        schema::OwedIncidentView, schema::SearchResultsView, schema::SearchHitView,
        schema::SuggestionsView, schema::SuggestedIncidentView, schema::SuggestedWordView,
        schema::FacetsView, schema::FacetCountView, schema::WebhookListView, schema::WebhookView,
        schema::WebhookCreated, schema::WebhookState, schema::DeliveryListView, schema::DeliveryView,
        schema::FiguresReportView, schema::FiguresView, schema::TeamFiguresView,
        audit::AuditEventView, audit::AuditPageView,
        lint::LintInput, lint::LintResult, lint::FindingView, lint::ByteRange,
        IntegrationInput, schema::IntegrationView, schema::IntegrationListView,
        schema::IntegrationCreated, schema::HookDeliveryView, schema::HookDeliveryListView,
        schema::ReceivedView, schema::ChangeListView, schema::ChangeView, schema::ChangeNotAdded,
        ExternalInput, ExternalPatch, PublishInput, ReplacementInput, schema::ExternalDraftView,
        schema::ExternalSpecView, schema::RedactionEdit, schema::RedactionView, schema::PublishedView,
        tokens::TokenInput, tokens::TokenView, tokens::TokenList, tokens::CreatedToken,
    )),
    modifiers(&BearerScheme, &JsonBodyRefusals),
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
                        "An API token, created on the account page, with `POST /api/v1/tokens`, or with `postmortem user create ... --token`",
                    ))
                    .build(),
            ),
        );
    }
}

/// Documents the refusals every JSON body can meet before its handler runs (`ApiJson`): a
/// body that is not JSON, one sent without `Content-Type: application/json`, one whose
/// JSON does not have the documented shape, and one larger than the route's limit
/// (`limits.rs`, which gives the limit in the description). Added here once, so no operation that takes a
/// body can forget them.
struct JsonBodyRefusals;

impl Modify for JsonBodyRefusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        const REFUSALS: [(&str, &str); 3] = [
            ("400", "The body is not valid JSON"),
            (
                "415",
                "The body was not sent as `Content-Type: application/json`",
            ),
            (
                "422",
                "The JSON does not have the documented shape; the message says where",
            ),
        ];
        for (path, item) in openapi.paths.paths.iter_mut() {
            let limit = crate::limits::limit_for(path);
            let too_large = format!(
                "The body is larger than this route's limit of {}; the message says how large it was, e.g. \"{}\"",
                crate::limits::in_words(limit.bytes),
                limit.refusal(Some(limit.bytes * 5 + limit.bytes / 5)),
            );
            let operations = [&mut item.post, &mut item.put, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                let Operation {
                    request_body: Some(_),
                    responses,
                    ..
                } = operation
                else {
                    continue;
                };
                let refusals = REFUSALS.into_iter().chain([("413", too_large.as_str())]);
                for (status, description) in refusals {
                    responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description(description)
                                    .content(
                                        "application/json",
                                        ContentBuilder::new()
                                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                                            .build(),
                                    )
                                    .build(),
                            )
                        });
                }
            }
        }
    }
}

/// The document itself; it describes the API, so reading it needs no credentials.
pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
