//! The chaos suite on the embedded SQLite store (see `chaos_kit::chaos`); a
//! database is made unreachable by putting a directory where its file was.

mod chaos_kit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_stay_local_on_sqlite() {
    chaos_kit::chaos(chaos_kit::Store::Sqlite).await;
}
