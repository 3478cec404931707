"""One fetch in a process of its own, for the kill tests: ``python -m tests.fetch.child SPEC``.

SPEC is JSON: site, db, out, first, last, and FetchRequest options (limit, publish_every,
ingest). The client is the tests' fast one (no delay: the test-only floor)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from etl.fetch.run import FetchRequest, fetch
from etl.settings import Settings
from tests.fetch.conftest import fast_client


def main(spec: dict[str, object]) -> int:
    request = FetchRequest(
        first=dt.date.fromisoformat(str(spec.pop("first"))),
        last=dt.date.fromisoformat(str(spec.pop("last"))),
        out=Path(str(spec.pop("out"))),
        site=str(spec.pop("site")),
        **spec.pop("options", {}),  # type: ignore[arg-type]
    )
    settings = Settings(db=Path(str(spec.pop("db"))), jobs=0)
    with fast_client() as client:
        summary = fetch(request, settings, client=client)
    print(json.dumps({"line": summary.line(), "ok": summary.ok}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(json.loads(sys.argv[1])))
