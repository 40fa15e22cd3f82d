"""The engine's floor: parse a generated bundle's JSON evidence and run one plain-Python
predicate per check of the generated catalog (what a hand-written script would do)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REGIONS = {"us-east-1", "us-east-2", "us-west-1", "us-west-2"}


def main() -> None:
    folder = Path(sys.argv[1])
    kinds = {p.stem: json.loads(p.read_bytes()) for p in sorted((folder / "evidence").glob("*.json"))}
    passed = 0
    checks = 0
    for index in range(1000):
        records = list(kinds.values())[index % len(kinds)]
        passed += all(not r["protected"] or r["region"] in REGIONS for r in records)
        passed += all(r["mfa"] or not r["privileged"] for r in records)
        checks += 2
    print(f"{passed}/{checks}")


if __name__ == "__main__":
    main()
