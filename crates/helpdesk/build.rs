// sqlx::migrate! embeds the migration folders; rebuild when a file is added to them.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
