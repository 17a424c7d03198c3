"""Release bundles of the production stand-in, synthesised for any version (docs/production.md).

`<version>.tar.gz` unpacks to `<version>/`:

- `manifest.json`: {"version": v, "components": ["backend", "frontend", "schema"]}
- `backend/VERSION`: the version the backend reads at start
- `frontend/index.html` (meta app-version) and `frontend/version.json`
- `migrations/up.sql`: creates table `release_<v>` and sets `schema_state.release = v`;
  `migrations/down.sql`: drops it and sets `schema_state.release` back to psql variable `:'previous'`.
  Both are meant for `psql -1 -v ON_ERROR_STOP=1` (one transaction each).

Stdlib only: the artifacts image runs it as its server's library, the prodhost and proddb images
run it at build time (`python3 bundles.py unpack|sql ...`) to install release 1.0.0, and the
harness's tests import it by path.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import sys
import tarfile
from pathlib import Path

COMPONENTS = ("backend", "frontend", "schema")
MIGRATION_FAILS = "migration-fails"
FAULTS = (MIGRATION_FAILS,)
# The line a faulted up.sql fails on; the harness proves the fault from a downloaded bundle by it.
FAULT_MARKER = "deploy-chaos fault migration-fails"
# Versions become file names and SQL identifiers: no path separators, no quotes, and
# "release_" + the version must fit PostgreSQL's 63-byte identifiers.
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,54}")
_RELEASE_COLUMNS = "id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now()"
_FIXED_MTIME = 1_700_000_000  # reproducible bundles: the same version and faults give the same bytes


class BadVersion(ValueError):
    """A version that cannot name a release (file name, SQL identifier)."""


def check_version(version: str) -> str:
    """`version` if it can name a release, else BadVersion saying what is allowed."""
    if not _VERSION.fullmatch(version) or ".." in version:
        raise BadVersion(
            f"bad release version {version!r}: use letters, digits, '.', '-' and '_' "
            "(at most 55 characters, starting with a letter or digit)"
        )
    return version


def table_name(version: str) -> str:
    """The table release `version`'s migration creates: release_<v with . and - as _>."""
    return "release_" + re.sub(r"[.-]", "_", check_version(version))


def manifest(version: str) -> dict[str, object]:
    """The bundle's manifest.json content."""
    return {"version": check_version(version), "components": list(COMPONENTS)}


def frontend_index(version: str) -> str:
    """The frontend's index.html, carrying its version in a meta tag."""
    v = check_version(version)
    return (
        "<!doctype html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '  <meta charset="utf-8">\n'
        f'  <meta name="app-version" content="{v}">\n'
        f"  <title>app {v}</title>\n"
        "</head>\n"
        f"<body><h1>app {v}</h1></body>\n"
        "</html>\n"
    )


def up_sql(version: str, *, migration_fails: bool = False) -> str:
    """The forward migration; with `migration_fails` it raises after its first statement, so the
    transaction (psql -1) aborts and the schema is left unchanged."""
    v, table = check_version(version), table_name(version)
    lines = [
        f"-- release {v}: up (run with psql -1 -v ON_ERROR_STOP=1)",
        f"CREATE TABLE IF NOT EXISTS {table} ({_RELEASE_COLUMNS});",
    ]
    if migration_fails:
        lines.append(f"DO $$ BEGIN RAISE EXCEPTION '{FAULT_MARKER}: the migration of release {v} fails'; END $$;")
    lines.append(f"UPDATE schema_state SET release = '{v}';")
    return "\n".join(lines) + "\n"


def down_sql(version: str) -> str:
    """The backward migration: needs psql variable `previous` (the release to go back to)."""
    v, table = check_version(version), table_name(version)
    return (
        f"-- release {v}: down (run with psql -1 -v ON_ERROR_STOP=1 -v previous=<release to go back to>)\n"
        f"DROP TABLE IF EXISTS {table};\n"
        "UPDATE schema_state SET release = :'previous';\n"
    )


def bundle_files(version: str, *, migration_fails: bool = False) -> dict[str, str]:
    """Path inside the bundle (under `<version>/`) -> text content."""
    v = check_version(version)
    return {
        f"{v}/manifest.json": json.dumps(manifest(v)) + "\n",
        f"{v}/backend/VERSION": v + "\n",
        f"{v}/frontend/index.html": frontend_index(v),
        f"{v}/frontend/version.json": json.dumps({"version": v}) + "\n",
        f"{v}/migrations/up.sql": up_sql(v, migration_fails=migration_fails),
        f"{v}/migrations/down.sql": down_sql(v),
    }


def make_bundle(version: str, *, migration_fails: bool = False) -> bytes:
    """`<version>.tar.gz`: the bundle's files, with their folders, owned by root, mode 0644/0755."""
    files = bundle_files(version, migration_fails=migration_fails)
    folders = sorted({str(Path(p).parent) for p in files} | {check_version(version)})
    raw = io.BytesIO()
    # mtime 0 in the gzip header and fixed member mtimes: byte-identical bundles for the same input
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for folder in folders:
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, _FIXED_MTIME
            tar.addfile(info)
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, _FIXED_MTIME
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def unpack(bundle: bytes, into: Path) -> Path:
    """Unpack a bundle under `into` (refusing members outside `<version>/`); return the release folder."""
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        names = tar.getnames()
        top = {n.split("/", 1)[0] for n in names}
        if len(top) != 1 or any(n.startswith("/") or ".." in n.split("/") for n in names):
            raise ValueError(f"not a release bundle: members {names[:5]}")
        # the "data" filter where this Python has it (3.11.4+); the member check above covers older ones
        tar.extractall(into, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return into / top.pop()


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    bundle = sub.add_parser("bundle", help="write <version>.tar.gz to stdout")
    bundle.add_argument("version")
    bundle.add_argument("--migration-fails", action="store_true")
    unpack_cmd = sub.add_parser("unpack", help="unpack a release into a folder (image builds)")
    unpack_cmd.add_argument("version")
    unpack_cmd.add_argument("into", type=Path)
    sql = sub.add_parser("sql", help="print a migration (image builds)")
    sql.add_argument("direction", choices=["up", "down"])
    sql.add_argument("version")
    args = parser.parse_args(argv)
    if args.command == "bundle":
        sys.stdout.buffer.write(make_bundle(args.version, migration_fails=args.migration_fails))
    elif args.command == "unpack":
        print(unpack(make_bundle(args.version), args.into))
    else:
        sys.stdout.write(up_sql(args.version) if args.direction == "up" else down_sql(args.version))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
