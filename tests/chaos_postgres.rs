//! The chaos suite on PostgreSQL (see `chaos_kit::chaos`): every service killed
//! in turn, one stopped and continued, each database refusing connections, all
//! under load; nothing else restarts, no unexpected status, no acknowledged write lost.

mod chaos_kit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_stay_local_on_postgres() {
    chaos_kit::chaos(chaos_kit::Store::Postgres).await;
}
