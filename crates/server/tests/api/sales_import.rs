//! Sales-data imports through HTTP and the CLI: the exact bad-row report (spreadsheet row
//! numbers, source column names), all or nothing, skip_invalid, dry runs, idempotent
//! re-import, saved mappings, background jobs, typo-catching reference lists, roles,
//! tenancy, and `meridian import sales` exit status and output. Fixtures are built here.

use kernel::on_pool;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestServer, problem};
use crate::identity::{PASSWORD, audit_actions, call, create_user, login, org};
use crate::identity_test;

const HEADER: [&str; 11] = [
    "Date",
    "Region",
    "Province",
    "Precision Area",
    "Outlet Code",
    "Outlet Name",
    "Channel",
    "Pack Type",
    "SKU",
    "Sales Qty",
    "Sales Value",
];

const CSV: &str = "text/csv";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A valid row of the seed's layout.
fn row(date: &str, outlet: &str, sku: &str, qty: &str, value: &str) -> [String; 11] {
    [
        date,
        "Greater Accra",
        "Accra",
        "Osu",
        outlet,
        &format!("Shop {outlet}"),
        "Retail",
        "Can",
        sku,
        qty,
        value,
    ]
    .map(str::to_owned)
}

fn csv(rows: &[[String; 11]]) -> Vec<u8> {
    let mut text = HEADER.join(",");
    text.push('\n');
    for r in rows {
        text.push_str(&r.join(","));
        text.push('\n');
    }
    text.into_bytes()
}

/// Four good rows: two outlets × two SKUs on two days, one of them a zero sale.
fn good_rows() -> Vec<[String; 11]> {
    vec![
        row("2026-11-02", "OUT-1", "COLA-330", "12", "60.00"),
        row("2026-11-02", "OUT-1", "WATER-500", "0", "0"),
        row("2026-11-02", "OUT-2", "COLA-330", "3.5", "17.50"),
        row("2026-11-03", "OUT-2", "COLA-330", "4", "20"),
    ]
}

async fn upload(
    server: &TestServer,
    token: &str,
    query: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    server
        .client
        .post(server.url(&format!("/api/v1/sales/imports{query}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("send")
}

async fn import_ok(server: &TestServer, token: &str, query: &str, bytes: Vec<u8>) -> Value {
    let response = upload(server, token, query, CSV, bytes).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "import{query}: {body}");
    body["data"].clone()
}

async fn token_of(server: &TestServer, email: &str) -> String {
    login(server, email, PASSWORD, None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// (facts, sum of quantities ×10,000) of an organisation, from the facts table.
async fn facts_of(server: &TestServer, org: Uuid) -> (i64, i64) {
    on_pool!(server.database.db, |p| sqlx::query_as::<_, (i64, i64)>(
        "SELECT COUNT(*), CAST(COALESCE(SUM(qty_scaled), 0) AS BIGINT) FROM sales_facts WHERE org_id = $1"
    )
    .bind(org)
    .fetch_one(p)
    .await)
    .expect("count facts")
}

/// (records, zero records, quantity ×10,000) of the daily rollup.
async fn rollup_of(server: &TestServer, org: Uuid) -> (i64, i64, i64) {
    on_pool!(server.database.db, |p| sqlx::query_as::<_, (i64, i64, i64)>(
        "SELECT CAST(COALESCE(SUM(records), 0) AS BIGINT), CAST(COALESCE(SUM(zero_records), 0) AS BIGINT), \
         CAST(COALESCE(SUM(qty_scaled), 0) AS BIGINT) FROM sales_daily_rollup WHERE org_id = $1"
    )
    .bind(org)
    .fetch_one(p)
    .await)
    .expect("rollup")
}

async fn events_of(server: &TestServer, event_type: &str) -> i64 {
    on_pool!(server.database.db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM outbox_events WHERE event_type = $1"
    )
    .bind(event_type)
    .fetch_one(p)
    .await)
    .expect("count events")
}

fn error_lines(errors: &Value) -> Vec<String> {
    errors
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            format!(
                "row {}, column {}: {}",
                e["row"],
                e["column"].as_str().expect("column"),
                e["reason"].as_str().expect("reason")
            )
        })
        .collect()
}

/// The file of the bad-row tests: rows 2, 4 and 7 are good, the others are not (row 6
/// is blank and skipped, but still counted, like Excel counts it).
fn file_with_bad_rows() -> Vec<u8> {
    let mut text = HEADER.join(",");
    text.push('\n');
    let lines = [
        row("2026-11-02", "OUT-1", "COLA-330", "12", "60"),
        row("2026-13-02", "OUT-1", "WATER-500", "-1", "0"),
        row("2026-11-02", "OUT-2", "COLA-330", "3", "15"),
        row("2026-11-02", "OUT-1", "COLA-330", "5", "25"),
    ];
    for l in &lines {
        text.push_str(&l.join(","));
        text.push('\n');
    }
    text.push('\n');
    let mut missing_name = row("2026-11-03", "OUT-3", "COLA-330", "1", "abc");
    missing_name[5] = String::new();
    let good = row("2026-11-03", "OUT-2", "COLA-330", "2", "10");
    for l in [&good, &missing_name] {
        text.push_str(&l.join(","));
        text.push('\n');
    }
    text.into_bytes()
}

const BAD_ROW_REPORT: [&str; 5] = [
    "row 3, column Date: `2026-13-02` is not a date (expected YYYY-MM-DD)",
    "row 3, column Sales Qty: -1 is negative",
    "row 5, column SKU: duplicate of row 2 (same outlet, SKU and date)",
    "row 8, column Outlet Name: is required",
    "row 8, column Sales Value: `abc` is not a number",
];

identity_test!(
    sales_import_bad_rows_are_reported_exactly_and_nothing_is_written,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let response = upload(
            &server,
            t,
            "?file_name=november.csv",
            CSV,
            file_with_bad_rows(),
        )
        .await;
        let body = problem(response, 422).await;
        assert_eq!(error_lines(&body["errors"]), BAD_ROW_REPORT);
        assert!(
            body["detail"]
                .as_str()
                .expect("detail")
                .contains("3 of 6 rows are invalid"),
            "{body}"
        );
        // All or nothing: the three good rows were not written either.
        assert_eq!(facts_of(&server, acme.id).await, (0, 0));
        assert_eq!(rollup_of(&server, acme.id).await, (0, 0, 0));
        assert_eq!(events_of(&server, "sales.data_imported").await, 0);
        // The log keeps the rejected import with its report.
        let id = body["import_id"].as_str().expect("import id");
        let logged = call(
            &server,
            Method::GET,
            &format!("/api/v1/sales/imports/{id}"),
            t,
            None,
        )
        .await;
        assert_eq!(logged.status(), 200);
        let logged: Value = logged.json().await.expect("json");
        assert_eq!(logged["data"]["status"], "rejected");
        assert_eq!(logged["data"]["file_name"], "november.csv");
        assert_eq!(logged["data"]["rows_total"], 6);
        assert_eq!(logged["data"]["rows_invalid"], 3);
        assert_eq!(error_lines(&logged["data"]["errors"]), BAD_ROW_REPORT);

        // The same report from an XLSX: typed cells, spreadsheet row numbers.
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_row(0, 0, HEADER).expect("header");
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 11, 2).expect("date");
        let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        for (r, (outlet, qty)) in [("OUT-1", 5.0), ("OUT-2", -2.0)].iter().enumerate() {
            // Rows 2 and 4 (row 3 left empty).
            let r = (r * 2 + 1) as u32;
            sheet
                .write_datetime_with_format(r, 0, &date, &date_format)
                .expect("date");
            for (c, text) in [
                "Greater Accra",
                "Accra",
                "Osu",
                outlet,
                "Shop",
                "Retail",
                "Can",
                "COLA-330",
            ]
            .iter()
            .enumerate()
            {
                sheet.write(r, c as u16 + 1, *text).expect("text");
            }
            sheet.write(r, 9, *qty).expect("qty");
            sheet.write(r, 10, 12.5).expect("value");
        }
        let bytes = workbook.save_to_buffer().expect("xlsx");
        let response = upload(&server, t, "", XLSX, bytes).await;
        let body = problem(response, 422).await;
        assert_eq!(
            error_lines(&body["errors"]),
            ["row 4, column Sales Qty: -2 is negative"]
        );

        // A file missing a column: one error naming it, on row 1.
        let text = "Date,Region,Province,Precision Area,Outlet Code,Outlet Name,Channel,Pack Type,SKU,Sales Value\n2026-11-02,A,B,C,D,E,F,G,H,1\n";
        let response = upload(&server, t, "", CSV, text.as_bytes().to_vec()).await;
        let body = problem(response, 422).await;
        assert_eq!(
            error_lines(&body["errors"]),
            ["row 1, column Sales Qty: required column is missing (mapping `sheet6`)"]
        );
        // Not a spreadsheet at all, or not a spreadsheet type: 4xx naming the problem.
        let response = upload(&server, t, "", XLSX, b"not a zip".to_vec()).await;
        assert_eq!(problem(response, 422).await["errors"][0]["field"], "file");
        let response = upload(&server, t, "", "application/json", b"{}".to_vec()).await;
        problem(response, 415).await;
        let response = upload(&server, t, "?dry_run=maybe", CSV, csv(&good_rows())).await;
        assert_eq!(
            problem(response, 400).await["errors"][0]["field"],
            "dry_run"
        );
    }
);

identity_test!(sales_import_dry_run_and_skip_invalid, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let t = &acme.admin_token;
    // A dry run of a good file validates and writes nothing.
    let dry = import_ok(&server, t, "?dry_run=true", csv(&good_rows())).await;
    assert_eq!(dry["status"], "validated");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["rows_total"], 4);
    assert_eq!(dry["rows_inserted"], 0);
    assert_eq!(dry["period_from"], "2026-11-02");
    assert_eq!(dry["period_to"], "2026-11-03");
    assert_eq!(facts_of(&server, acme.id).await, (0, 0));
    // A dry run of a bad file answers 200 with the report (status rejected).
    let dry = import_ok(&server, t, "?dry_run=true", file_with_bad_rows()).await;
    assert_eq!(dry["status"], "rejected");
    assert_eq!(error_lines(&dry["errors"]), BAD_ROW_REPORT);
    assert_eq!(facts_of(&server, acme.id).await, (0, 0));

    // skip_invalid imports the three good rows and reports the others.
    let done = import_ok(&server, t, "?skip_invalid=true", file_with_bad_rows()).await;
    assert_eq!(done["status"], "committed");
    assert_eq!(done["rows_total"], 6);
    assert_eq!(done["rows_invalid"], 3);
    assert_eq!(done["rows_inserted"], 3);
    assert_eq!(error_lines(&done["errors"]), BAD_ROW_REPORT);
    assert_eq!(facts_of(&server, acme.id).await, (3, (12 + 3 + 2) * 10_000));
    assert_eq!(rollup_of(&server, acme.id).await, (3, 0, 170_000));

    // The log lists the imports, newest first, with the kernel's list conventions.
    let list = call(
        &server,
        Method::GET,
        "/api/v1/sales/imports?limit=2",
        t,
        None,
    )
    .await;
    assert_eq!(list.status(), 200);
    let list: Value = list.json().await.expect("json");
    let statuses: Vec<&str> = list["data"]
        .as_array()
        .expect("page")
        .iter()
        .map(|i| i["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["committed", "rejected"]);
    let cursor = list["meta"]["next_cursor"].as_str().expect("more pages");
    let rest = call(
        &server,
        Method::GET,
        &format!("/api/v1/sales/imports?limit=2&cursor={cursor}"),
        t,
        None,
    )
    .await;
    let rest: Value = rest.json().await.expect("json");
    assert_eq!(rest["data"][0]["status"], "validated");
    let filtered = call(
        &server,
        Method::GET,
        "/api/v1/sales/imports?status=committed",
        t,
        None,
    )
    .await;
    let filtered: Value = filtered.json().await.expect("json");
    assert_eq!(filtered["data"].as_array().expect("page").len(), 1);
});

identity_test!(
    sales_import_twice_replaces_instead_of_doubling,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let first = import_ok(&server, t, "?file_name=nov.csv", csv(&good_rows())).await;
        assert_eq!(first["status"], "committed");
        assert_eq!(first["rows_inserted"], 4);
        assert_eq!(first["rows_replaced"], 0);
        assert_eq!(first["same_file_as"], Value::Null);
        let totals = facts_of(&server, acme.id).await;
        assert_eq!(totals, (4, 195_000));
        let rollup = rollup_of(&server, acme.id).await;
        assert_eq!(rollup, (4, 1, 195_000), "the zero sale is a record");

        // The very same file again: every row replaces itself; the file is recognised.
        let second = import_ok(&server, t, "", csv(&good_rows())).await;
        assert_eq!(second["status"], "committed");
        assert_eq!(second["rows_inserted"], 0);
        assert_eq!(second["rows_replaced"], 4);
        assert_eq!(second["same_file_as"], first["id"]);
        assert_eq!(facts_of(&server, acme.id).await, totals);
        assert_eq!(rollup_of(&server, acme.id).await, rollup);

        // The same period with a corrected quantity and one new row: replaced, not added.
        let mut rows = good_rows();
        rows[0][9] = "10".to_owned();
        rows.push(row("2026-11-03", "OUT-1", "COLA-330", "1", "5"));
        let third = import_ok(&server, t, "", csv(&rows)).await;
        assert_eq!(third["rows_inserted"], 1);
        assert_eq!(third["rows_replaced"], 4);
        assert_eq!(third["same_file_as"], Value::Null);
        assert_eq!(facts_of(&server, acme.id).await, (5, 185_000));
        assert_eq!(rollup_of(&server, acme.id).await, (5, 1, 185_000));

        // One audit row and one event per committed import, with the counts and period.
        let audits = audit_actions(&server, t, "sales.data_imported").await;
        assert_eq!(audits.len(), 3);
        assert_eq!(events_of(&server, "sales.data_imported").await, 3);
        let data: Value = on_pool!(server.database.db, |p| sqlx::query_scalar::<_, String>(
        "SELECT CAST(data AS TEXT) FROM outbox_events WHERE event_type = 'sales.data_imported' AND record_id = $1"
    )
    .bind(Uuid::parse_str(first["id"].as_str().expect("id")).expect("uuid"))
    .fetch_one(p)
    .await)
    .map(|s| serde_json::from_str(&s).expect("json"))
    .expect("event");
        assert_eq!(data["rows_inserted"], 4);
        assert_eq!(data["period_from"], "2026-11-02");
    }
);

identity_test!(
    sales_import_mappings_background_and_reference_lists,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        // sheet6 is built in and read-only.
        let list = call(
            &server,
            Method::GET,
            "/api/v1/sales/import-mappings",
            t,
            None,
        )
        .await;
        let list: Value = list.json().await.expect("json");
        assert_eq!(list["data"][0]["name"], "sheet6");
        assert_eq!(list["data"][0]["built_in"], true);
        assert_eq!(list["data"][0]["columns"]["sales_qty"], "Sales Qty");
        // A saved mapping for another layout, day-first dates.
        let columns = json!({"date": "Day", "region": "Reg", "province": "Prov", "precision_area": "Area",
        "outlet_code": "Code", "outlet_name": "Name", "channel": "Chan", "pack_type": "Pack",
        "sku": "Item", "sales_qty": "Units", "sales_value": "Amount"});
        let response = call(
            &server,
            Method::POST,
            "/api/v1/sales/import-mappings",
            t,
            Some(json!({"name": "Distributor B", "columns": columns, "date_format": "dd/mm/yyyy"})),
        )
        .await;
        assert_eq!(response.status(), 201);
        let mapping: Value = response.json().await.expect("json");
        let mapping_id = mapping["data"]["id"].as_str().expect("id").to_owned();
        let mut bad = columns.clone();
        bad["sku"] = json!("Code");
        let response = call(
            &server,
            Method::POST,
            "/api/v1/sales/import-mappings",
            t,
            Some(json!({"name": "Twice", "columns": bad})),
        )
        .await;
        assert_eq!(
            problem(response, 422).await["errors"][0]["field"],
            "columns.sku"
        );
        let response = call(
            &server,
            Method::POST,
            "/api/v1/sales/import-mappings",
            t,
            Some(json!({"name": "sheet6", "columns": columns})),
        )
        .await;
        assert_eq!(problem(response, 422).await["errors"][0]["field"], "name");

        let text = "Item,Units,Amount,Day,Reg,Prov,Area,Code,Name,Chan,Pack\n\
                COLA-330,2,10,31/10/2026,Greater Accra,Accra,Osu,OUT-1,Shop,Retail,Can\n\
                COLA-330,1,5,01/11/2026,Greater Accra,Accra,Osu,OUT-1,Shop,Retail,Can\n";
        let done = import_ok(
            &server,
            t,
            "?mapping=Distributor%20B",
            text.as_bytes().to_vec(),
        )
        .await;
        assert_eq!(done["status"], "committed");
        assert_eq!(done["mapping"], "Distributor B");
        assert_eq!(done["period_from"], "2026-10-31");
        let response = upload(&server, t, "?mapping=nope", CSV, text.as_bytes().to_vec()).await;
        assert_eq!(
            problem(response, 422).await["errors"][0]["field"],
            "mapping"
        );
        // Renaming needs the version; deleting removes it.
        let path = format!("/api/v1/sales/import-mappings/{mapping_id}");
        let response = call(
            &server,
            Method::PATCH,
            &path,
            t,
            Some(json!({"name": "Distributor C"})),
        )
        .await;
        assert_eq!(
            problem(response, 422).await["errors"][0]["field"],
            "version"
        );
        let response = call(
            &server,
            Method::PATCH,
            &path,
            t,
            Some(json!({"name": "Distributor C", "version": 1})),
        )
        .await;
        assert_eq!(response.status(), 200);
        let response = call(
            &server,
            Method::PATCH,
            &path,
            t,
            Some(json!({"name": "Distributor D", "version": 1})),
        )
        .await;
        problem(response, 412).await;
        let response = call(&server, Method::DELETE, &path, t, None).await;
        assert_eq!(response.status(), 204);
        let response = call(&server, Method::GET, &path, t, None).await;
        problem(response, 404).await;

        // Regions and pack types are now known: a typo is caught, with a suggestion...
        let mut rows = good_rows();
        rows[1][1] = "Greater Acra".to_owned();
        rows[1][4] = "OUT-9".to_owned();
        rows[2][7] = "Bottle".to_owned();
        rows[2][8] = "COLA-1L".to_owned();
        let response = upload(&server, t, "", CSV, csv(&rows)).await;
        let body = problem(response, 422).await;
        assert_eq!(
            error_lines(&body["errors"]),
            [
                "row 3, column Region: `Greater Acra` is not a known region (did you mean `Greater Accra`?)",
                "row 4, column Pack Type: `Bottle` is not a known pack type",
            ]
        );
        // ...and accepted as new, with a warning, when the caller says so.
        let done = import_ok(&server, t, "?allow_new_values=true", csv(&rows)).await;
        assert_eq!(done["status"], "committed");
        assert_eq!(done["warnings"].as_array().expect("warnings").len(), 2);

        // A background import answers 202 at once; polling shows the outcome.
        let response = upload(&server, t, "?background=true", CSV, csv(&good_rows())).await;
        assert_eq!(response.status(), 202);
        let job: Value = response.json().await.expect("json");
        assert_eq!(job["data"]["status"], "running");
        let path = format!(
            "/api/v1/sales/imports/{}",
            job["data"]["id"].as_str().expect("id")
        );
        let mut last = Value::Null;
        for _ in 0..200 {
            let now: Value = call(&server, Method::GET, &path, t, None)
                .await
                .json()
                .await
                .expect("json");
            last = now["data"].clone();
            if last["status"] != "running" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert_eq!(last["status"], "committed", "{last}");
        assert_eq!(last["processed_rows"], 4);
        assert_eq!(last["rows_replaced"], 2);
        assert_eq!(last["rows_inserted"], 2);
        // A background import of a file that cannot be read ends `failed`, saying why.
        let response = upload(&server, t, "?background=true", XLSX, b"not a zip".to_vec()).await;
        assert_eq!(response.status(), 202);
        let job: Value = response.json().await.expect("json");
        let path = format!(
            "/api/v1/sales/imports/{}",
            job["data"]["id"].as_str().expect("id")
        );
        for _ in 0..200 {
            let now: Value = call(&server, Method::GET, &path, t, None)
                .await
                .json()
                .await
                .expect("json");
            last = now["data"].clone();
            if last["status"] != "running" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert_eq!(last["status"], "failed", "{last}");
        assert!(
            last["failure"].as_str().expect("failure").contains("XLSX"),
            "{last}"
        );
    }
);

identity_test!(sales_import_roles_and_tenancy, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let t = &acme.admin_token;
    create_user(&server, t, "rep@acme.test", "Sales Rep").await;
    create_user(&server, t, "boss@acme.test", "Manager").await;
    let rep = token_of(&server, "rep@acme.test").await;
    let boss = token_of(&server, "boss@acme.test").await;
    // A Sales Rep reads imports but cannot import or save mappings.
    let response = upload(&server, &rep, "", CSV, csv(&good_rows())).await;
    problem(response, 403).await;
    let columns = json!({"date": "D", "region": "R", "province": "P",
            "precision_area": "A", "outlet_code": "OC", "outlet_name": "ON", "channel": "C",
            "pack_type": "PT", "sku": "S", "sales_qty": "Q", "sales_value": "V"});
    let response = call(
        &server,
        Method::POST,
        "/api/v1/sales/import-mappings",
        &rep,
        Some(json!({"name": "Mine", "columns": columns})),
    )
    .await;
    problem(response, 403).await;
    assert_eq!(facts_of(&server, acme.id).await, (0, 0));
    // A Manager imports.
    let done = import_ok(&server, &boss, "", csv(&good_rows())).await;
    assert_eq!(done["status"], "committed");
    let path = format!("/api/v1/sales/imports/{}", done["id"].as_str().expect("id"));
    let response = call(&server, Method::GET, &path, &rep, None).await;
    assert_eq!(response.status(), 200);

    // Another organisation sees none of it.
    let other = org(&server, "Other", "admin@other.test").await;
    let response = call(&server, Method::GET, &path, &other.admin_token, None).await;
    problem(response, 404).await;
    let list: Value = call(
        &server,
        Method::GET,
        "/api/v1/sales/imports",
        &other.admin_token,
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(list["data"].as_array().expect("page").len(), 0);
    let response = call(
        &server,
        Method::POST,
        "/api/v1/sales/import-mappings",
        t,
        Some(json!({"name": "Acme layout", "columns": columns})),
    )
    .await;
    let mapping: Value = response.json().await.expect("json");
    let mapping_path = format!(
        "/api/v1/sales/import-mappings/{}",
        mapping["data"]["id"].as_str().expect("id")
    );
    let response = call(
        &server,
        Method::GET,
        &mapping_path,
        &other.admin_token,
        None,
    )
    .await;
    problem(response, 404).await;
    let response = call(
        &server,
        Method::DELETE,
        &mapping_path,
        &other.admin_token,
        None,
    )
    .await;
    problem(response, 404).await;
    let response = upload(
        &server,
        &other.admin_token,
        "?mapping=Acme%20layout",
        CSV,
        csv(&good_rows()),
    )
    .await;
    assert_eq!(
        problem(response, 422).await["errors"][0]["field"],
        "mapping"
    );
    // The other organisation's import of the same rows is its own: Acme's totals stand.
    let theirs = import_ok(&server, &other.admin_token, "", csv(&good_rows())).await;
    assert_eq!(theirs["rows_inserted"], 4);
    assert_eq!(theirs["same_file_as"], Value::Null);
    assert_eq!(facts_of(&server, acme.id).await, (4, 195_000));
});

const BIN: &str = env!("CARGO_BIN_EXE_meridian");

fn meridian_import(
    url: &str,
    org: Uuid,
    file: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let dir = file.parent().expect("folder");
    let mut command = std::process::Command::new(BIN);
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("MERIDIAN_LOG_FORMAT")
        .env("MERIDIAN_LOG", "warn")
        .args(["import", "sales"])
        .arg(file)
        .args(["--org", &org.to_string(), "--database-url", url])
        .args(extra);
    command.output().expect("run meridian")
}

identity_test!(
    sales_import_cli_exit_status_and_report_lines,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let dir = tempfile::tempdir().expect("tempdir");
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, file_with_bad_rows()).expect("write");
        let url = server.database.url.clone();
        let out = tokio::task::spawn_blocking({
            let (url, bad) = (url.clone(), bad.clone());
            move || meridian_import(&url, acme.id, &bad, &[])
        })
        .await
        .expect("cli");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("row ")).collect();
        assert_eq!(lines, BAD_ROW_REPORT, "{stdout}");
        assert!(
            stdout.contains(": rejected (6 rows, 3 invalid, 0 inserted"),
            "{stdout}"
        );
        assert!(
            stderr.contains("3 of 6 rows are invalid: rejected, nothing was imported"),
            "{stderr}"
        );
        assert_eq!(facts_of(&server, acme.id).await, (0, 0));

        // A dry run of a good file exits 0 and writes nothing; the import exits 0 and writes.
        let good = dir.path().join("good.csv");
        std::fs::write(&good, csv(&good_rows())).expect("write");
        let out = tokio::task::spawn_blocking({
            let (url, good) = (url.clone(), good.clone());
            move || meridian_import(&url, acme.id, &good, &["--dry-run"])
        })
        .await
        .expect("cli");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains(": validated (4 rows, 0 invalid, 0 inserted, 0 replaced, period 2026-11-02 to 2026-11-03, mapping sheet6, dry run)"), "{stdout}");
        assert_eq!(facts_of(&server, acme.id).await, (0, 0));
        let out = tokio::task::spawn_blocking({
            let (url, good) = (url.clone(), good.clone());
            move || meridian_import(&url, acme.id, &good, &[])
        })
        .await
        .expect("cli");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .contains(": committed (4 rows, 0 invalid, 4 inserted")
        );
        assert_eq!(facts_of(&server, acme.id).await, (4, 195_000));
        // skip_invalid from the CLI: the good rows go in, the bad ones are listed, exit 0.
        let out = tokio::task::spawn_blocking({
            let (url, bad) = (url.clone(), bad.clone());
            move || meridian_import(&url, acme.id, &bad, &["--skip-invalid"])
        })
        .await
        .expect("cli");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{stdout}");
        assert_eq!(stdout.lines().filter(|l| l.starts_with("row ")).count(), 5);
        // An unknown organisation is refused before anything is read.
        let out =
            tokio::task::spawn_blocking(move || meridian_import(&url, Uuid::now_v7(), &good, &[]))
                .await
                .expect("cli");
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no organisation"));
    }
);

identity_test!(
    sales_import_watched_folder_moves_files_with_their_report,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("good.csv"), csv(&good_rows())).expect("write");
        std::fs::write(dir.path().join("bad.csv"), file_with_bad_rows()).expect("write");
        std::fs::write(dir.path().join("notes.txt"), b"ignored").expect("write");
        let importer = sales::import::SalesImporter::new(
            server.database.db.clone(),
            std::sync::Arc::new(kernel::SystemClock),
        );
        let settings = server::sales_import_cli::WatchSettings {
            dir: dir.path().to_path_buf(),
            org: acme.id,
            interval: std::time::Duration::from_secs(60),
            mapping: "sheet6".to_owned(),
        };
        let mut sizes = std::collections::HashMap::new();
        // The first scan only notes the sizes (a file may still be arriving).
        let n = server::sales_import_cli::scan_once(&importer, &settings, &mut sizes)
            .await
            .expect("scan");
        assert_eq!(n, 0);
        let n = server::sales_import_cli::scan_once(&importer, &settings, &mut sizes)
            .await
            .expect("scan");
        assert_eq!(n, 2);
        assert!(dir.path().join("done/good.csv").is_file());
        assert!(dir.path().join("rejected/bad.csv").is_file());
        assert!(dir.path().join("notes.txt").is_file());
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("rejected/bad.csv.report.json"))
                .expect("report"),
        )
        .expect("json");
        assert_eq!(error_lines(&report["errors"]), BAD_ROW_REPORT);
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("done/good.csv.report.json")).expect("report"),
        )
        .expect("json");
        assert_eq!(report["status"], "committed");
        assert_eq!(report["source"], "watch");
        assert_eq!(facts_of(&server, acme.id).await, (4, 195_000));
    }
);

identity_test!(
    a_committed_import_raises_its_distribution_gap_alert_once,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        // Four observations of cans in Osu, three of them zero: 75% > 60%, a HIGH gap.
        let rows = vec![
            row("2026-11-02", "OUT-1", "COLA-330", "5", "25"),
            row("2026-11-02", "OUT-2", "COLA-330", "0", "0"),
            row("2026-11-02", "OUT-3", "COLA-330", "0", "0"),
            row("2026-11-03", "OUT-4", "COLA-330", "0", "0"),
        ];
        let dry = import_ok(&server, t, "?dry_run=true", csv(&rows)).await;
        assert_eq!(dry["status"], "validated");
        assert_eq!(
            events_of(&server, "sales.distribution_gap").await,
            0,
            "a dry run raises nothing"
        );
        import_ok(&server, t, "", csv(&rows)).await;
        assert_eq!(events_of(&server, "sales.distribution_gap").await, 1);
        // The same data again: the gap is the same gap of the same period, raised once.
        import_ok(&server, t, "", csv(&rows)).await;
        assert_eq!(events_of(&server, "sales.distribution_gap").await, 1);
        let response = call(&server, Method::GET, "/api/v1/sales/alerts", t, None).await;
        assert_eq!(response.status(), 200);
        let alerts: Value = response.json().await.expect("json");
        let alerts = alerts["data"].as_array().expect("alerts").clone();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0]["priority"], "CRITICAL", "{alerts:?}");
    }
);
