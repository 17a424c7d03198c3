"""The pipeline's postgres exporter query (monitoring/postgres-exporter/queries.yaml) on a real PostgreSQL.

No Docker: the session's throwaway cluster (tests/pipeline/conftest.py). The exporter itself runs
in prod-db (tests/topology/test_production_stand_in.py); here its SQL: one row per open deploy
transaction, none (and no error) before the pipeline created deploy_txn.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.pipeline.fake_host import PgCluster

ROOT = Path(__file__).resolve().parents[2]
QUERIES = yaml.safe_load((ROOT / "pipeline/monitoring/postgres-exporter/queries.yaml").read_text())
QUERY = QUERIES["deploy_lock"]["query"]
TABLE = (
    "CREATE TABLE deploy_txn (id bigserial primary key, from_release text, to_release text not null, runner text, "
    "phase text not null, snapshot jsonb, started_at timestamptz not null default now(), "
    "heartbeat_at timestamptz not null default now(), ended_at timestamptz)"
)


def rows(cluster: PgCluster, database: str) -> list[list[str]]:
    out = cluster.psql(database, QUERY)
    return [line.split("|") for line in out.splitlines() if line]


def test_the_columns_are_the_declared_metrics() -> None:
    declared = [name for metric in QUERIES["deploy_lock"]["metrics"] for name in metric]
    assert declared == ["txn_id", "holder", "to_release", "open", "age_seconds", "heartbeat_age_seconds"]


def test_no_deploy_txn_table_yet_gives_no_row_and_no_error(pg_cluster: PgCluster, app_db: str) -> None:
    assert rows(pg_cluster, app_db) == []


def test_one_row_per_open_transaction_with_its_age_and_heartbeat_age(pg_cluster: PgCluster, app_db: str) -> None:
    pg_cluster.psql(app_db, TABLE)
    pg_cluster.psql(
        app_db,
        "INSERT INTO deploy_txn (to_release, runner, phase, started_at, heartbeat_at) VALUES "
        "('2.0.0', 'runner-primary/run-1/attempt-1', 'committed', now() - interval '1 hour', now()), "
        "('2.1.0', 'runner-<a>&\"b/run-2/attempt-1', 'open', now() - interval '100 seconds', now() - interval '3 s')",
    )
    ((txn_id, holder, to_release, is_open, age, heartbeat_age),) = rows(pg_cluster, app_db)
    assert (txn_id, holder, to_release, is_open) == ("2", 'runner-<a>&"b/run-2/attempt-1', "2.1.0", "1")
    assert 100 <= float(age) < 110 and 3 <= float(heartbeat_age) < 13
