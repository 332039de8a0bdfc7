//! The OpenAPI 3.1 document, generated from the routes themselves: a route registered
//! through [`router`] cannot be missing from the document.

use kernel::{FieldError, Problem};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::system;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Meridian API",
        description = "REST API of Meridian. Lists return `{data, meta}`, single resources `{data}`; \
every error is `application/problem+json` with a stable `code`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    // CustomerTickets: the shape of the customer 360 view's `tickets.data` (served by the
    // helpdesk through kernel::sections, so no route names it).
    components(schemas(Problem, FieldError, helpdesk::model::CustomerTickets)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "system", description = "Liveness, readiness, metrics"),
        (name = "auth", description = "Sign-in, tokens, second factor"),
        (name = "users", description = "Users of the organisation"),
        (name = "roles", description = "Roles and permissions"),
        (name = "api-keys", description = "Integration keys"),
        (name = "orgs", description = "The organisation, its sites and divisions"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "crm", description = "Companies, contacts, pipelines and deals"),
        (name = "helpdesk", description = "Tickets, conversations, attachments, SLA policies and calendars"),
        (name = "sales", description = "Stores, products and price lists, sales orders, invoices, payments, credit notes")
    )
)]
struct ApiDoc;

/// Declares `Authorization: Bearer <access token or API key>`.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or API key")
                    .build(),
            ),
        );
    }
}

/// Every documented route of the server.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::health))
        .routes(routes!(system::ready))
        .routes(routes!(system::metrics))
        .merge(identity::routes::router())
        .merge(crm::routes::router())
        .merge(helpdesk::routes::router())
        .merge(sales::routes::router())
}

/// The routes and the OpenAPI document (what `/api/v1/openapi.json` serves).
pub fn split() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = router().split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    (routes, doc)
}

/// The OpenAPI document alone (`meridian openapi` prints it).
pub fn document() -> utoipa::openapi::OpenApi {
    split().1
}
