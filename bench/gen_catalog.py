"""Generate a large synthetic control catalog (and matching evidence) for benchmarks.

    python bench/gen_catalog.py --controls 1000 -o /tmp/big-catalog
    python bench/gen_catalog.py --controls 1000 --records 1000000 -o /tmp/big   # + evidence set

Controls are spread over families of 100; each has two `each`/`assert` checks and one
`expr` check over one evidence kind (the common shapes of the shipped catalog:
membership in a parameter list, equality, comparisons, boolean fields, size). Kinds
scale with the catalog: ``--per-kind`` controls read each kind (default 10, the
realistic shape: 1,000 controls, 100 kinds); ``--per-kind 100`` gives the older
shape of ten kinds shared by 100 controls each. With ``--records`` a bundle folder
(``bundle/``) with that many records spread evenly over the kinds is written too, as
JSON lists, with a manifest (sealed by auditkit).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def kinds(controls: int, per_kind: int) -> list[str]:
    return [f"asset-list-{i}" for i in range(max(1, -(-controls // per_kind)))]

REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2"]

CHECKS = [
    ("region", "r.region in params.approved_regions", "r.protected"),
    ("operator", "r.operator == params.operator", None),
    ("size", "r.size_gb <= params.max_size_gb", "r.protected"),
    ("mfa", "r.mfa || !r.privileged", None),
    ("age", "r.age_days < params.max_age", None),
]


def control(family: str, number: int, rng: random.Random, kind: str) -> dict:
    var = kind.replace("-", "_")
    picks = rng.sample(CHECKS, 2)
    checks = []
    for i, (name, assertion, where) in enumerate(picks, start=1):
        check = {"id": f"{family}-{number}.{i}", "title": f"Every record passes the {name} rule",
                 "each": f"{var}.records", "assert": assertion}
        if where:
            check["where"] = where
        checks.append(check)
    checks.append({"id": f"{family}-{number}.3", "title": "Evidence is not empty",
                   "expr": f"size({var}.records) > 0"})
    return {
        "id": f"{family}-{number}",
        "title": f"Synthetic control {family}-{number}",
        "objective": "Every asset of the kind meets the rules.",
        "severity": rng.choice(["low", "medium", "high", "critical"]),
        "references": {"nist_800_53": ["CM-8"]},
        "params": {
            "approved_regions": {"type": "list[string]", "default": REGIONS},
            "operator": {"type": "string", "default": "trusted-provider"},
            "max_size_gb": {"type": "integer", "default": 900},
            "max_age": {"type": "integer", "default": 400},
        },
        "evidence": [{"kind": kind, "formats": ["json"], "max_age_days": 60}],
        "checks": checks,
        "procedures": [{"id": f"{family}-{number}.p1", "method": "examine", "prompt": "Inspect a sample."}],
        "remediation": "Fix the offending assets.",
    }


def write_catalog(out: Path, count: int, per_kind: int = 10, seed: int = 7) -> None:
    import yaml

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: object) -> bool:
            return True

    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    families = (count + 99) // 100
    names = kinds(count, per_kind)
    for f in range(families):
        family = "X" + chr(ord("A") + f // 26) + chr(ord("A") + f % 26)
        controls = [control(family, n, rng, names[(f * 100 + n - 1) % len(names)])
                    for n in range(1, min(100, count - f * 100) + 1)]
        doc = {"family": {"id": family, "title": f"Synthetic family {family}", "version": "bench"},
               "controls": controls}
        text = yaml.dump(doc, Dumper=_NoAliases, sort_keys=False, width=200)
        (out / f"family-{family.lower()}.yaml").write_text(text)


def records(kind_index: int, count: int, rng: random.Random) -> list[dict]:
    out = []
    for i in range(count):
        out.append({
            "id": f"k{kind_index}-{i}",
            "region": REGIONS[i % 4],
            "operator": "trusted-provider",
            "protected": i % 3 == 0,
            "size_gb": rng.randrange(1, 902),  # a few over the 900 limit: offenders
            "mfa": True,
            "privileged": i % 7 == 0,
            "age_days": rng.randrange(0, 401),
        })
    return out


def write_bundle(out: Path, total: int, names: list[str], seed: int = 11) -> None:
    rng = random.Random(seed)
    evidence = out / "evidence"
    evidence.mkdir(parents=True, exist_ok=True)
    items = []
    per_kind = total // len(names)
    for index, kind in enumerate(names):
        path = evidence / f"{kind}.json"
        path.write_text(json.dumps(records(index, per_kind, rng), separators=(",", ":")))
        items.append(f"  - {{path: evidence/{kind}.json, kind: {kind}, collected_at: 2026-09-30T00:00:00Z, "
                     f"period: {{start: 2026-07-01, end: 2026-09-30}}, source: synthetic}}")
    manifest = "\n".join([
        "bundle:",
        "  id: bench-bundle",
        "  organization: Bench Org",
        "  period: {start: 2026-07-01, end: 2026-09-30}",
        "  submitted_by: {name: Bench, email: bench@example.org}",
        "  created: 2026-10-01T00:00:00Z",
        "items:",
        *items,
    ]) + "\n"
    (out / "manifest.yaml").write_text(manifest)
    from auditkit.evidence import seal_bundle

    seal_bundle(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--controls", type=int, default=1000)
    parser.add_argument("--records", type=int, default=0, help="also write a bundle with this many records")
    parser.add_argument("--per-kind", type=int, default=10, help="controls reading each evidence kind")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    write_catalog(args.output / "controls", args.controls, args.per_kind)
    if args.records:
        write_bundle(args.output / "bundle", args.records, kinds(args.controls, args.per_kind))
    print(f"wrote {args.controls} controls" + (f" and {args.records} records" if args.records else "")
          + f" under {args.output}")


if __name__ == "__main__":
    main()
