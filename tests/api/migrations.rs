//! Every migration applies and reverts cleanly.

use crate::api_tests;
use crate::helpers::TestApp;

api_tests![every_migration_reverts_and_reapplies_cleanly];

async fn every_migration_reverts_and_reapplies_cleanly(app: TestApp) {
    // The app has migrated its database at start-up.
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let migrated = duban::db::migrations::table_names(&mut conn).unwrap();
    assert!(migrated.contains(&"users".to_string()) && migrated.contains(&"units".to_string()));
    let reverted = duban::db::migrations::revert_all(&mut conn).unwrap();
    assert!(!reverted.is_empty());
    assert_eq!(
        duban::db::migrations::table_names(&mut conn).unwrap(),
        Vec::<String>::new()
    );
    let applied = duban::db::migrations::run(&mut conn).unwrap();
    assert_eq!(applied.len(), reverted.len());
    assert_eq!(
        duban::db::migrations::table_names(&mut conn).unwrap(),
        migrated
    );
    assert!(
        duban::db::migrations::run(&mut conn).unwrap().is_empty(),
        "nothing pending"
    );
}
