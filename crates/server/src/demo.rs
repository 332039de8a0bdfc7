//! `meridian demo`: a realistic, generated demo organisation so a newcomer sees a working
//! CRM and sales module at once. Records go through the same service functions as the API
//! (audit rows, events, search postings included), dated over the past year by a demo
//! clock. The sales part (catalogue, stores, reps, imported sales facts, orders, market
//! totals) is [`crate::demo_sales`].

use std::sync::Arc;

use chrono::{Duration, Utc};
use crm::Crm;
use crm::model::{NewActivity, NewCompany, NewContact, NewDeal, NewLead};
use identity::Identity;
use kernel::clock::FixedClock;
use kernel::tenancy::{Actor, PermissionSet, RequestMeta, Scope, TenantContextInner};
use kernel::{SharedClock, TenantContext};
use uuid::Uuid;

/// Sizes of the generated data set.
#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    /// Companies.
    pub companies: usize,
    /// Contacts (spread over the companies).
    pub contacts: usize,
    /// Deals.
    pub deals: usize,
    /// Leads.
    pub leads: usize,
    /// Activities.
    pub activities: usize,
    /// Stores (made from the first companies; 0 leaves out the whole sales part).
    pub stores: usize,
}

impl Default for DemoSize {
    fn default() -> Self {
        Self {
            companies: 300,
            contacts: 2000,
            deals: 400,
            leads: 250,
            activities: 1500,
            stores: 60,
        }
    }
}

/// What was created.
#[derive(Debug, Clone)]
pub struct DemoOrg {
    /// Organisation id.
    pub org_id: Uuid,
    /// Sign-in email of its admin.
    pub admin_email: String,
    /// Sign-in emails of its sales reps (same password as the admin); empty when the
    /// organisation existed or the sales part was left out.
    pub sales_reps: Vec<String>,
    /// Whether it already existed (nothing generated).
    pub existed: bool,
}

/// A generated company, as the sales part needs it.
#[derive(Debug, Clone)]
pub(crate) struct DemoCompany {
    pub id: Uuid,
    pub name: String,
    pub industry: String,
    pub created_at: chrono::DateTime<Utc>,
}

/// A small deterministic generator (xorshift64*), so every demo looks the same.
pub(crate) struct Dice(pub u64);

impl Dice {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

const FIRST: &[&str] = &[
    "Ahmed", "Fatima", "John", "Maria", "Wei", "Aisha", "Carlos", "Elena", "Omar", "Priya", "Lars",
    "Sofia", "Kenji", "Amara", "David", "Leila", "Mateo", "Hannah", "Yusuf", "Chloe", "Ravi",
    "Nadia", "Lucas", "Ingrid", "Tariq", "Mei", "Diego", "Zara", "Felix", "Noura",
];
const LAST: &[&str] = &[
    "Al-Sayed",
    "Smith",
    "Garcia",
    "Chen",
    "Khan",
    "Müller",
    "Rossi",
    "Haddad",
    "Okafor",
    "Tanaka",
    "Nielsen",
    "Silva",
    "Patel",
    "Kowalski",
    "Dubois",
    "Schmidt",
    "Fernandes",
    "Ahmed",
    "Larsen",
    "Nakamura",
    "Osei",
    "Petrov",
    "Rahman",
    "Costa",
    "Hughes",
];
const COMPANY_A: &[&str] = &[
    "Gulf",
    "Northern",
    "Atlas",
    "Crescent",
    "Summit",
    "Oasis",
    "Harbor",
    "Delta",
    "Pioneer",
    "Evergreen",
    "Falcon",
    "Granite",
    "Sunrise",
    "Coastal",
    "Red Sea",
    "Desert",
    "Horizon",
    "Metro",
    "Union",
    "Golden",
];
const COMPANY_B: &[&str] = &[
    "Retail",
    "Beverages",
    "Foods",
    "Markets",
    "Trading",
    "Hypermarket",
    "Distribution",
    "Supplies",
    "Stores",
    "Wholesale",
    "Sugar",
    "Logistics",
    "Catering",
    "Hospitality",
];
const INDUSTRIES: &[&str] = &[
    "Retail",
    "Hospitality",
    "Food service",
    "Wholesale",
    "Manufacturing",
    "Convenience",
];
const SOURCES: &[&str] = &[
    "web form",
    "trade fair",
    "referral",
    "cold call",
    "partner",
    "campaign",
];
const SUBJECTS: &[&str] = &[
    "Intro call",
    "Price list sent",
    "Store visit",
    "Follow-up on samples",
    "Negotiated shelf space",
    "Quarterly review",
    "Promo planning",
    "Delivery issue resolved",
    "Contract renewal",
    "New listing proposal",
];
const KINDS: &[&str] = &["call", "email", "meeting", "note", "task"];

fn admin_context(org: Uuid, user: Uuid) -> TenantContext {
    TenantContext::new(TenantContextInner {
        org_id: org,
        actor: Actor::User(user),
        role: "Admin".to_owned(),
        permissions: PermissionSet::new(["*"]),
        scope: Scope::default(),
        request: RequestMeta {
            ip: None,
            user_agent: Some("meridian demo".to_owned()),
            request_id: None,
        },
    })
}

/// Creates the demo organisation unless it exists; `progress` is told what is being made.
pub async fn create(
    identity: &Identity,
    org_name: &str,
    admin_email: &str,
    password: &str,
    size: DemoSize,
    mut progress: impl FnMut(&str, usize, usize),
) -> Result<DemoOrg, String> {
    let slug: String = org_name
        .trim()
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if let Some(existing) = identity.find_org(&slug).await.map_err(|e| e.to_string())? {
        return Ok(DemoOrg {
            org_id: existing.id,
            admin_email: admin_email.to_owned(),
            sales_reps: Vec::new(),
            existed: true,
        });
    }
    let (org, admin) = identity
        .create_org(org_name, admin_email, "Demo Admin", password)
        .await
        .map_err(|e| e.to_string())?;
    // Records are dated over the past year: the demo clock walks forward as they are made.
    let start = Utc::now() - Duration::days(365);
    let clock = Arc::new(FixedClock::new(start));
    let shared: SharedClock = clock.clone();
    let crm = Crm::new(
        identity.db().clone(),
        shared,
        identity.keys().ring().clone(),
    );
    let ctx = admin_context(org, admin);
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    let total = size.companies + size.contacts + size.deals + size.leads + size.activities;
    let step = Duration::seconds((365 * 24 * 3600 / total.max(1)) as i64);
    let tick = |clock: &FixedClock| clock.advance(step);

    let mut companies = Vec::with_capacity(size.companies);
    let mut demo_companies = Vec::with_capacity(size.companies);
    for i in 0..size.companies {
        let name = format!(
            "{} {} {}",
            dice.pick(COMPANY_A),
            dice.pick(COMPANY_B),
            ["LLC", "Co", "Ltd", "Group", "& Sons"][dice.below(5)]
        );
        let company = crm
            .create_company(
                &ctx,
                NewCompany {
                    name,
                    domain: None,
                    industry: Some(dice.pick(INDUSTRIES).to_owned()),
                    site_id: None,
                    owner_id: None,
                    custom_fields: Default::default(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        companies.push(company.id);
        demo_companies.push(DemoCompany {
            id: company.id,
            name: company.name,
            industry: company.industry.unwrap_or_default(),
            created_at: company.created_at,
        });
        tick(&clock);
        if i % 50 == 0 {
            progress("companies", i, size.companies);
        }
    }
    let mut contacts = Vec::with_capacity(size.contacts);
    for i in 0..size.contacts {
        let (first, last) = (dice.pick(FIRST), dice.pick(LAST));
        let email = format!(
            "{}.{}{}@example.com",
            first.to_lowercase(),
            last.to_lowercase().replace(['-', 'ü'], ""),
            i
        );
        let phone = format!(
            "+966 5{} {:03} {:04}",
            dice.below(10),
            dice.below(1000),
            dice.below(10_000)
        );
        let company = companies[dice.below(companies.len())];
        let contact = crm
            .create_contact(
                &ctx,
                NewContact {
                    first_name: first.to_owned(),
                    last_name: last.to_owned(),
                    email: Some(email),
                    phone: Some(phone),
                    title: None,
                    company_id: Some(company),
                    owner_id: None,
                    custom_fields: Default::default(),
                    // Generated names repeat; the demo wants them all.
                    allow_duplicate: true,
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        contacts.push(contact.id);
        tick(&clock);
        if i % 200 == 0 {
            progress("contacts", i, size.contacts);
        }
    }
    let pipelines = crm.list_pipelines(&ctx).await.map_err(|e| e.to_string())?;
    let stages: Vec<Uuid> = pipelines
        .first()
        .map(|p| p.stages.iter().map(|s| s.id).collect())
        .unwrap_or_default();
    let mut deals = Vec::with_capacity(size.deals);
    for i in 0..size.deals {
        let amount = crm::Decimal::new((dice.below(400) as i64 + 5) * 25_000, 2);
        let stage = stages.get(dice.below(stages.len())).copied();
        let company = companies[dice.below(companies.len())];
        let deal = crm
            .create_deal(
                &ctx,
                NewDeal {
                    title: format!(
                        "{} – {}",
                        [
                            "Listing",
                            "Promo",
                            "Annual supply",
                            "Cooler placement",
                            "New SKUs"
                        ][dice.below(5)],
                        i + 1
                    ),
                    amount,
                    currency: ["SAR", "USD", "EUR"][dice.below(3)].to_owned(),
                    stage_id: stage,
                    company_id: Some(company),
                    expected_close_date: Some(
                        (Utc::now() + Duration::days(dice.below(120) as i64)).date_naive(),
                    ),
                    owner_id: None,
                    custom_fields: Default::default(),
                    contact_ids: vec![contacts[dice.below(contacts.len())]],
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        deals.push(deal.id);
        tick(&clock);
        if i % 50 == 0 {
            progress("deals", i, size.deals);
        }
    }
    for i in 0..size.leads {
        crm.create_lead(
            &ctx,
            NewLead {
                first_name: dice.pick(FIRST).to_owned(),
                last_name: dice.pick(LAST).to_owned(),
                company_name: Some(format!("{} {}", dice.pick(COMPANY_A), dice.pick(COMPANY_B))),
                email: Some(format!("lead{i}@example.org")),
                phone: None,
                source: Some(dice.pick(SOURCES).to_owned()),
                owner_id: None,
                custom_fields: Default::default(),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        tick(&clock);
        if i % 50 == 0 {
            progress("leads", i, size.leads);
        }
    }
    for i in 0..size.activities {
        let (record_type, record_id) = match dice.below(3) {
            0 => ("company", companies[dice.below(companies.len())]),
            1 => ("contact", contacts[dice.below(contacts.len())]),
            _ => ("deal", deals[dice.below(deals.len().max(1))]),
        };
        crm.create_activity(
            &ctx,
            NewActivity {
                kind: dice.pick(KINDS).to_owned(),
                subject: dice.pick(SUBJECTS).to_owned(),
                body: None,
                due_at: None,
                record_type: record_type.to_owned(),
                record_id,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        tick(&clock);
        if i % 200 == 0 {
            progress("activities", i, size.activities);
        }
    }
    let sales_reps = if size.stores > 0 {
        crate::demo_sales::create(
            identity,
            &ctx,
            admin_email,
            password,
            &demo_companies,
            size.stores,
            &mut progress,
        )
        .await?
    } else {
        Vec::new()
    };
    Ok(DemoOrg {
        org_id: org,
        admin_email: admin_email.to_owned(),
        sales_reps,
        existed: false,
    })
}
