//! The permission catalogue and the built-in roles (DESIGN.md section 5; seeds 002–004).
//!
//! A permission is `resource:action`. Modules check them with
//! [`kernel::TenantContext::authorize`]; custom roles and API keys may only use names from
//! this catalogue, so a typo cannot silently grant nothing.

/// Resources that permissions apply to (present and announced modules).
pub const RESOURCES: &[&str] = &[
    "org",
    "users",
    "roles",
    "api_keys",
    "audit",
    "pii",
    "companies",
    "contacts",
    "leads",
    "deals",
    "pipelines",
    "activities",
    "tickets",
    "kb",
    "sla",
    "stores",
    "products",
    "orders",
    "invoices",
    "payments",
    "sales",
    "items",
    "stock",
    "purchase_orders",
    "vendors",
    "equipment",
    "work_orders",
    "sensors",
    "analytics",
    "automations",
];

/// Actions on a resource.
pub const ACTIONS: &[&str] = &[
    "read", "create", "update", "delete", "manage", "import", "export",
];

/// A built-in role: name, description, permissions.
pub struct BuiltinRole {
    /// Name.
    pub name: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// Granted permissions.
    pub permissions: &'static [&'static str],
}

/// Built-in roles, created in every new organisation. They cannot be edited; copy one
/// into a custom role instead.
pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        name: "Admin",
        description: "Everything, including users, roles, API keys and the audit log.",
        permissions: &["*"],
    },
    BuiltinRole {
        name: "Manager",
        description: "Runs a team: all business records, reads users and the audit log.",
        permissions: &[
            "org:read",
            "users:read",
            "roles:read",
            "audit:read",
            "pii:read",
            "companies:*",
            "contacts:*",
            "leads:*",
            "deals:*",
            "pipelines:*",
            "activities:*",
            "tickets:*",
            "kb:*",
            "sla:*",
            "stores:*",
            "products:*",
            "orders:*",
            "invoices:*",
            "payments:*",
            "sales:*",
            "items:*",
            "stock:*",
            "purchase_orders:*",
            "vendors:*",
            "equipment:*",
            "work_orders:*",
            "sensors:read",
            "analytics:read",
            "automations:read",
        ],
    },
    BuiltinRole {
        name: "Sales Rep",
        description: "Works their own pipeline, stores and orders: creates records, changes only their own.",
        permissions: &[
            "org:read",
            "pii:read",
            "companies:read",
            "companies:create",
            "companies:update:own",
            "contacts:read",
            "contacts:create",
            "contacts:update:own",
            "leads:read",
            "leads:create",
            "leads:update:own",
            "deals:read",
            "deals:create",
            "deals:update:own",
            "pipelines:read",
            "activities:read",
            "activities:create",
            "activities:update:own",
            "stores:read",
            "products:read",
            "orders:read",
            "orders:create",
            "orders:update:own",
            "invoices:read",
            "payments:read",
            "sales:read",
            "tickets:read",
        ],
    },
    BuiltinRole {
        name: "Support Agent",
        description: "Works the helpdesk inbox and the knowledge base.",
        permissions: &[
            "org:read",
            "pii:read",
            "tickets:*",
            "kb:read",
            "kb:create",
            "kb:update",
            "kb:manage",
            "sla:read",
            "companies:read",
            "contacts:read",
            "activities:*",
            "equipment:read",
        ],
    },
    BuiltinRole {
        name: "Engineer",
        description: "Maintains equipment: work orders, sensors, spare parts.",
        permissions: &[
            "org:read",
            "equipment:*",
            "work_orders:*",
            "sensors:*",
            "tickets:read",
            "tickets:update",
            "items:read",
            "stock:read",
            "analytics:read",
        ],
    },
    BuiltinRole {
        name: "Viewer",
        description: "Reads everything except personal data; changes nothing.",
        permissions: &[
            "org:read",
            "users:read",
            "roles:read",
            "companies:read",
            "contacts:read",
            "leads:read",
            "deals:read",
            "pipelines:read",
            "activities:read",
            "tickets:read",
            "kb:read",
            "sla:read",
            "stores:read",
            "products:read",
            "orders:read",
            "invoices:read",
            "payments:read",
            "sales:read",
            "items:read",
            "stock:read",
            "purchase_orders:read",
            "vendors:read",
            "equipment:read",
            "work_orders:read",
            "sensors:read",
            "analytics:read",
        ],
    },
];

/// Checks a permission name against the catalogue; `Err` says why.
pub fn validate(permission: &str) -> Result<(), String> {
    if permission == "*" {
        return Ok(());
    }
    // `resource:action:own` limits an action to records the caller owns.
    let base = permission.strip_suffix(":own").unwrap_or(permission);
    let Some((resource, action)) = base.split_once(':') else {
        return Err(format!(
            "`{permission}` is not of the form resource:action[:own]"
        ));
    };
    if action == "*" && base.len() != permission.len() {
        return Err(format!(
            "`{permission}`: `:own` applies to one action, not `*`"
        ));
    }
    if !RESOURCES.contains(&resource) {
        return Err(format!("unknown resource `{resource}`"));
    }
    if action != "*" && !ACTIONS.contains(&action) {
        return Err(format!(
            "unknown action `{action}` (use {} or *)",
            ACTIONS.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_roles_use_only_catalogue_names() {
        for role in BUILTIN_ROLES {
            for p in role.permissions {
                assert_eq!(validate(p), Ok(()), "{} grants {p}", role.name);
            }
        }
        let names: Vec<&str> = BUILTIN_ROLES.iter().map(|r| r.name).collect();
        assert_eq!(
            names,
            [
                "Admin",
                "Manager",
                "Sales Rep",
                "Support Agent",
                "Engineer",
                "Viewer"
            ]
        );
    }

    #[test]
    fn viewer_cannot_read_pii_or_write() {
        let viewer = BUILTIN_ROLES
            .iter()
            .find(|r| r.name == "Viewer")
            .expect("viewer");
        assert!(!viewer.permissions.contains(&"pii:read"));
        assert!(viewer.permissions.iter().all(|p| p.ends_with(":read")));
    }

    #[test]
    fn validation_messages() {
        assert!(validate("deals:update").is_ok());
        assert!(validate("deals:*").is_ok());
        assert!(validate("deal:update").is_err());
        assert!(validate("deals:fly").is_err());
        assert!(validate("deals").is_err());
        assert!(validate("deals:update:own").is_ok());
        assert!(validate("deals:*:own").is_err());
        assert!(validate("deals:update:mine").is_err());
    }
}
