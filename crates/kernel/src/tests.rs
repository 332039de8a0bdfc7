//! Kernel tests that need a real database, run on SQLite and PostgreSQL alike.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::clock::{FixedClock, SharedClock};
use crate::events::{self, DomainEvent, EventDispatcher, NewEvent};
use crate::list::{FieldKind, FieldSpec, ListSpec};
use crate::migrate::KERNEL;
use crate::{db_test, on_pool, on_tx};

fn clock() -> SharedClock {
    Arc::new(FixedClock::new(
        DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .expect("valid")
            .with_timezone(&Utc),
    ))
}

fn event(record_id: Uuid, event_type: &str, n: i64) -> NewEvent {
    NewEvent {
        event_type: event_type.to_owned(),
        org_id: Uuid::nil(),
        actor: Some("test".to_owned()),
        record_type: "deal".to_owned(),
        record_id,
        data: serde_json::json!({ "n": n }),
    }
}

type Seen = Arc<Mutex<Vec<DomainEvent>>>;

fn recording_dispatcher(db: &crate::Db, seen: &Seen) -> EventDispatcher {
    let mut dispatcher = EventDispatcher::new(db.clone(), clock());
    let sink = seen.clone();
    dispatcher.subscribe("recorder", move |e| {
        let sink = sink.clone();
        async move {
            sink.lock().expect("lock").push(e);
            Ok(())
        }
    });
    dispatcher
}

db_test!(
    events_only_exist_when_the_change_commits,
    [KERNEL],
    |test| {
        let db = &test.db;
        let clock = clock();
        let record = Uuid::now_v7();

        let mut rolled_back = db.begin().await.expect("begin");
        events::record(&mut rolled_back, &clock, event(record, "deal.created", 0))
            .await
            .expect("record");
        rolled_back.rollback().await.expect("rollback");

        let mut tx = db.begin().await.expect("begin");
        events::record(&mut tx, &clock, event(record, "deal.created", 1))
            .await
            .expect("record");
        tx.commit().await.expect("commit");

        let seen: Seen = Arc::default();
        let dispatcher = recording_dispatcher(db, &seen);
        assert_eq!(dispatcher.deliver_pending().await.expect("deliver"), 1);
        assert_eq!(
            dispatcher.deliver_pending().await.expect("again"),
            0,
            "delivered once"
        );
        let seen = seen.lock().expect("lock");
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].data["n"], 1);
        assert_eq!(seen[0].event_type, "deal.created");
        assert_eq!(seen[0].record.id, record);
        assert_eq!(seen[0].occurred_at, clock.now());
    }
);

db_test!(
    failed_delivery_is_retried_in_order_per_record,
    [KERNEL],
    |test| {
        let db = &test.db;
        let clock = clock();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut tx = db.begin().await.expect("begin");
        for (record, n) in [(a, 1), (b, 2), (a, 3), (b, 4)] {
            events::record(&mut tx, &clock, event(record, "deal.updated", n))
                .await
                .expect("record");
        }
        tx.commit().await.expect("commit");

        // The handler fails the first time it sees event 1 (record a).
        let failed_once = Arc::new(Mutex::new(false));
        let seen: Seen = Arc::default();
        let mut dispatcher = EventDispatcher::new(db.clone(), clock.clone());
        let (sink, flag) = (seen.clone(), failed_once.clone());
        dispatcher.subscribe("flaky", move |e| {
            let (sink, flag) = (sink.clone(), flag.clone());
            async move {
                let mut failed = flag.lock().expect("lock");
                if e.data["n"] == 1 && !*failed {
                    *failed = true;
                    return Err("temporary outage".to_owned());
                }
                sink.lock().expect("lock").push(e);
                Ok(())
            }
        });
        assert_eq!(
            dispatcher.deliver_pending().await.expect("pass 1"),
            2,
            "b's events only"
        );
        assert_eq!(
            dispatcher.deliver_pending().await.expect("pass 2"),
            2,
            "a's events after retry"
        );
        let order: Vec<i64> = seen
            .lock()
            .expect("lock")
            .iter()
            .map(|e| e.data["n"].as_i64().expect("n"))
            .collect();
        assert_eq!(order, vec![2, 4, 1, 3], "record a's events stay in order");
    }
);

db_test!(undelivered_events_survive_a_restart, [KERNEL], |test| {
    let db = &test.db;
    let clock = clock();
    let mut tx = db.begin().await.expect("begin");
    events::record(&mut tx, &clock, event(Uuid::now_v7(), "deal.created", 7))
        .await
        .expect("record");
    tx.commit().await.expect("commit");

    // "Restart": a new dispatcher over a new pool on the same database.
    let reopened = crate::Db::connect(&test.url, &crate::db::PoolSettings::default())
        .await
        .expect("reopen");
    let seen: Seen = Arc::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = recording_dispatcher(&reopened, &seen)
        .with_poll_interval(Duration::from_millis(20))
        .spawn(stopped);
    for _ in 0..200 {
        if !seen.lock().expect("lock").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen.lock().expect("lock").len(), 1);

    // A commit wakes the running dispatcher.
    let mut tx = reopened.begin().await.expect("begin");
    events::record(&mut tx, &clock, event(Uuid::now_v7(), "deal.won", 8))
        .await
        .expect("record");
    tx.commit().await.expect("commit");
    for _ in 0..200 {
        if seen.lock().expect("lock").len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen.lock().expect("lock").len(), 2);
    stop.send(true).expect("stop");
    task.await.expect("dispatcher ends");
});

const WIDGET_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "name",
        column: "name",
        kind: FieldKind::Text,
        sortable: true,
        filterable: true,
    },
    FieldSpec {
        name: "qty",
        column: "qty",
        kind: FieldKind::Integer,
        sortable: true,
        filterable: true,
    },
];
const WIDGETS: ListSpec = ListSpec {
    fields: WIDGET_FIELDS,
    default_sort: "name",
    default_limit: 3,
    max_limit: 50,
    id_column: "id",
};

#[derive(Debug, serde::Serialize, sqlx::FromRow)]
struct Widget {
    id: Uuid,
    name: String,
    qty: i64,
}

db_test!(list_plan_pages_through_a_real_table, [KERNEL], |test| {
    let db = &test.db;
    let ddl = match db.backend() {
        crate::Backend::Sqlite => {
            "CREATE TABLE widgets (org_id BLOB NOT NULL, id BLOB NOT NULL, name TEXT NOT NULL, qty BIGINT NOT NULL, PRIMARY KEY (org_id, id))"
        }
        crate::Backend::Postgres => {
            "CREATE TABLE widgets (org_id UUID NOT NULL, id UUID NOT NULL, name TEXT NOT NULL, qty BIGINT NOT NULL, PRIMARY KEY (org_id, id))"
        }
    };
    on_pool!(db, |p| sqlx::query(ddl)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
    .expect("create");
    let org = Uuid::now_v7();
    let other_org = Uuid::now_v7();
    let mut tx = db.begin().await.expect("begin");
    for (i, name) in [
        "delta", "alpha", "echo", "bravo", "charlie", "alpha", "foxtrot",
    ]
    .iter()
    .enumerate()
    {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO widgets (org_id, id, name, qty) VALUES ($1, $2, $3, $4)"
        )
        .bind(org)
        .bind(Uuid::now_v7())
        .bind(*name)
        .bind(i as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
        .expect("insert");
    }
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO widgets (org_id, id, name, qty) VALUES ($1, $2, 'alpha', 1)"
    )
    .bind(other_org)
    .bind(Uuid::now_v7())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
    .expect("insert");
    tx.commit().await.expect("commit");

    async fn fetch(
        db: &crate::Db,
        org: Uuid,
        query: &BTreeMap<String, String>,
    ) -> crate::list::Page<Widget> {
        let plan = WIDGETS.plan(query, &[]).expect("valid query");
        let sql = plan.sql(2);
        let text = format!(
            "SELECT id, name, qty FROM widgets WHERE org_id = $1{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<Widget> = on_pool!(db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone())).bind(org);
            crate::bind_values!(q, &sql.binds).fetch_all(p).await
        })
        .expect("query");
        plan.page(rows)
    }

    // Walk every page sorted by name; the duplicate "alpha" is ordered by id.
    let mut names = Vec::new();
    let mut query = BTreeMap::new();
    loop {
        let page = fetch(db, org, &query).await;
        names.extend(page.data.iter().map(|w| w.name.clone()));
        match page.meta.next_cursor {
            Some(cursor) => {
                query.insert("cursor".to_owned(), cursor);
            }
            None => break,
        }
    }
    assert_eq!(
        names,
        [
            "alpha", "alpha", "bravo", "charlie", "delta", "echo", "foxtrot"
        ]
    );

    // Filter + descending sort, still scoped to the org.
    let query: BTreeMap<String, String> = [("qty[gte]", "2"), ("sort", "-qty"), ("limit", "10")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let page = fetch(db, org, &query).await;
    let qtys: Vec<i64> = page.data.iter().map(|w| w.qty).collect();
    assert_eq!(qtys, vec![6, 5, 4, 3, 2]);
    assert!(page.meta.next_cursor.is_none());

    let query: BTreeMap<String, String> = [("name[contains]", "PH"), ("qty[in]", "1,5,6")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let page = fetch(db, org, &query).await;
    assert_eq!(page.data.len(), 2, "alpha(1) and alpha(5) of this org only");
});

fn audit_entry(org: Uuid, action: &str) -> crate::audit::AuditEntry {
    crate::audit::AuditEntry {
        org_id: org,
        actor: "user:test".to_owned(),
        action: action.to_owned(),
        entity_type: "deal".to_owned(),
        entity_id: Some("42".to_owned()),
        changes: serde_json::json!({"stage": {"before": "New", "after": "Won"}}),
        request: crate::tenancy::RequestMeta {
            ip: Some("127.0.0.1".to_owned()),
            user_agent: Some("tests".to_owned()),
            request_id: Some("req-1".to_owned()),
        },
    }
}

db_test!(
    audit_verify_catches_edited_and_deleted_rows,
    [KERNEL],
    |test| {
        use crate::audit;
        let db = &test.db;
        let clock = clock();
        let (org, other) = (Uuid::now_v7(), Uuid::now_v7());
        for i in 0..5 {
            audit::append_now(db, &clock, audit_entry(org, &format!("deal.updated.{i}")))
                .await
                .expect("append");
        }
        audit::append_now(db, &clock, audit_entry(other, "deal.created"))
            .await
            .expect("append");
        let clean = audit::verify(db, None).await.expect("verify");
        assert_eq!((clean.chains, clean.rows), (2, 6));
        assert!(clean.breaks.is_empty(), "{:?}", clean.breaks);

        // Someone edits row 3 directly in the database.
        on_pool!(db, |p| sqlx::query(
            "UPDATE audit_log SET actor = 'user:mallory' WHERE org_id = $1 AND seq = 3"
        )
        .bind(org)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .expect("tamper");
        let report = audit::verify(db, Some(org)).await.expect("verify");
        assert_eq!(report.breaks.len(), 1);
        assert_eq!(report.breaks[0].seq, 3);
        assert!(
            report.breaks[0].reason.contains("altered"),
            "{:?}",
            report.breaks[0]
        );

        // The other organisation's chain is untouched; now delete one of its rows... it has
        // only one, so delete from the first chain instead after restoring it.
        assert!(
            audit::verify(db, Some(other))
                .await
                .expect("verify")
                .breaks
                .is_empty()
        );
        on_pool!(db, |p| sqlx::query(
            "UPDATE audit_log SET actor = 'user:test' WHERE org_id = $1 AND seq = 3"
        )
        .bind(org)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .expect("restore");
        assert!(
            audit::verify(db, Some(org))
                .await
                .expect("verify")
                .breaks
                .is_empty()
        );
        on_pool!(db, |p| sqlx::query(
            "DELETE FROM audit_log WHERE org_id = $1 AND seq = 2"
        )
        .bind(org)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .expect("delete");
        let report = audit::verify(db, Some(org)).await.expect("verify");
        assert_eq!(report.breaks.len(), 1);
        assert_eq!(report.breaks[0].seq, 3, "the row after the gap is named");
        assert!(
            report.breaks[0].reason.contains("missing"),
            "{:?}",
            report.breaks[0]
        );
    }
);

db_test!(
    audit_appends_in_a_rolled_back_transaction_vanish,
    [KERNEL],
    |test| {
        use crate::audit;
        let db = &test.db;
        let clock = clock();
        let org = Uuid::now_v7();
        let mut tx = db.begin().await.expect("begin");
        audit::append(&mut tx, &clock, audit_entry(org, "deal.updated"))
            .await
            .expect("append");
        tx.rollback().await.expect("rollback");
        let row = audit::append_now(db, &clock, audit_entry(org, "deal.updated"))
            .await
            .expect("append");
        assert_eq!(row.seq, 1, "the rolled-back row left no trace in the chain");
        assert_eq!(row.prev_hash, audit::GENESIS_HASH);
    }
);

db_test!(
    bulk_events_are_delivered_in_batches_once_and_in_order,
    [KERNEL],
    |test| {
        let db = &test.db;
        let clock = clock();
        let record = Uuid::now_v7();
        let mut tx = db.begin().await.expect("begin");
        events::record_many(
            &mut tx,
            &clock,
            (0..2_500)
                .map(|n| event(record, "deal.updated", n))
                .collect(),
        )
        .await
        .expect("record");
        tx.commit().await.expect("commit");
        let seen: Seen = Arc::default();
        let dispatcher = recording_dispatcher(db, &seen);
        assert_eq!(dispatcher.deliver_pending().await.expect("deliver"), 2_500);
        // Events recorded after the floor moved past the first ones still arrive.
        let mut tx = db.begin().await.expect("begin");
        events::record(&mut tx, &clock, event(record, "deal.updated", 2_500))
            .await
            .expect("record");
        tx.commit().await.expect("commit");
        assert_eq!(dispatcher.deliver_pending().await.expect("again"), 1);
        assert_eq!(dispatcher.deliver_pending().await.expect("idle"), 0);
        let order: Vec<i64> = seen
            .lock()
            .expect("lock")
            .iter()
            .map(|e| e.data["n"].as_i64().expect("n"))
            .collect();
        assert_eq!(order, (0..=2_500).collect::<Vec<i64>>());
        let deliveries: i64 = on_pool!(db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox_deliveries"
        )
        .fetch_one(p)
        .await)
        .expect("count");
        assert_eq!(deliveries, 2_501);
    }
);

db_test!(
    an_event_committed_late_below_the_high_water_mark_arrives_at_the_next_pass,
    [KERNEL],
    |test| {
        let db = &test.db;
        let clock = clock();
        let record = Uuid::now_v7();
        let seen: Seen = Arc::default();
        // No periodic full pass during the test: only the gap lookup can find the event.
        let dispatcher =
            recording_dispatcher(db, &seen).with_full_pass_every(Duration::from_secs(3_600));
        assert_eq!(dispatcher.deliver_pending().await.expect("first pass"), 0);
        let mut early = db.begin().await.expect("begin early");
        events::record(&mut early, &clock, event(record, "deal.created", 0))
            .await
            .expect("record early");
        let mut early = Some(early);
        if db.backend() == crate::db::Backend::Sqlite
            && let Some(early) = early.take()
        {
            // SQLite's writers take turns: the early transaction commits before the late
            // one can start, so numbers become visible in order.
            early.commit().await.expect("commit early");
        }
        let mut late = db.begin().await.expect("begin late");
        events::record(&mut late, &clock, event(Uuid::now_v7(), "deal.created", 1))
            .await
            .expect("record late");
        late.commit().await.expect("commit late");
        let expected_now = match db.backend() {
            // The late transaction's event, with a higher number, is visible first.
            crate::db::Backend::Postgres => 1,
            crate::db::Backend::Sqlite => 2,
        };
        assert_eq!(
            dispatcher.deliver_pending().await.expect("pass"),
            expected_now
        );
        if db.backend() == crate::db::Backend::Postgres {
            assert_eq!(dispatcher.deliver_pending().await.expect("pass"), 0);
            if let Some(early) = early.take() {
                early.commit().await.expect("commit early");
            }
            // Below the high-water mark, found through the gap the first pass saw.
            assert_eq!(
                dispatcher
                    .deliver_pending()
                    .await
                    .expect("pass after the late commit"),
                1
            );
        }
        let order: Vec<i64> = seen
            .lock()
            .expect("lock")
            .iter()
            .map(|e| e.data["n"].as_i64().unwrap_or(-1))
            .collect();
        let expected_order = match db.backend() {
            crate::db::Backend::Postgres => vec![1, 0],
            crate::db::Backend::Sqlite => vec![0, 1],
        };
        assert_eq!(order, expected_order);
        // Nothing is delivered twice.
        assert_eq!(dispatcher.deliver_pending().await.expect("last pass"), 0);
    }
);

db_test!(
    an_event_visible_late_below_the_high_water_mark_arrives_at_the_next_full_pass,
    [KERNEL],
    |test| {
        let db = &test.db;
        let clock = clock();
        let record = Uuid::now_v7();
        let mut tx = db.begin().await.expect("begin");
        events::record_many(
            &mut tx,
            &clock,
            (0..3).map(|n| event(record, "deal.updated", n)).collect(),
        )
        .await
        .expect("record");
        tx.commit().await.expect("commit");
        let seen: Seen = Arc::default();
        let dispatcher =
            recording_dispatcher(db, &seen).with_full_pass_every(Duration::from_millis(300));
        assert_eq!(dispatcher.deliver_pending().await.expect("first pass"), 3);
        // The first event undelivered again: what a PostgreSQL transaction that took a lower
        // sequence number and committed after the others looks like to the dispatcher.
        on_pool!(db, |p| sqlx::query(
            "DELETE FROM outbox_deliveries WHERE event_seq = (SELECT MIN(seq) FROM outbox_events)"
        )
        .execute(p)
        .await
        .map(|_| ()))
        .expect("undeliver");
        // An ordinary pass reads only above the high-water mark.
        assert_eq!(
            dispatcher.deliver_pending().await.expect("ordinary pass"),
            0
        );
        tokio::time::sleep(Duration::from_millis(350)).await;
        // The full pass reads from the floor: on PostgreSQL the floor trails behind and the
        // event arrives; on SQLite the floor had already passed it (its writers are
        // serialised, so this cannot happen there).
        let expected = match db.backend() {
            crate::db::Backend::Postgres => 1,
            crate::db::Backend::Sqlite => 0,
        };
        assert_eq!(
            dispatcher.deliver_pending().await.expect("full pass"),
            expected
        );
        assert_eq!(seen.lock().expect("lock").len(), 3 + expected);
    }
);
