#!/usr/bin/env python3
"""Run every scim2-tester check against one live scimd tenant.

scim2-tester (python-scim) discovers the server through /ServiceProviderConfig,
/ResourceTypes and /Schemas (RFC 7644 §4), then creates, reads, lists, replaces,
patches and deletes resources of every resource type it found (RFC 7644 §3.3-§3.6).

Each check is printed with its status. The run fails (exit 1) when any check ends
in ERROR, CRITICAL or DEVIATION, or when a resource type scimd must serve (User and
Group, RFC 7643 §4) was never exercised: a run that silently tests nothing is a
failure too. SKIPPED checks are printed with the tester's reason and do not fail
the run; they are counted so a reader can see what was not exercised.

Usage:
    SCIM_URL=http://127.0.0.1:8080/scim/v2/acme SCIM_TOKEN=... run_scim2_tester.py
    run_scim2_tester.py --url URL --token-file FILE [--include-tag crud] ...

Exit codes: 0 all checks passed, 1 some check failed, 2 the run could not start.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

# Statuses that mean the server broke the RFC. DEVIATION is a SHOULD that was not
# followed; scimd aims to follow the SHOULDs the IdPs rely on, so it fails too.
FAILING_STATUSES = {"ERROR", "CRITICAL", "DEVIATION"}
# Statuses that mean the server behaved as the RFC requires or allows.
PASSING_STATUSES = {"SUCCESS", "COMPLIANT", "ACCEPTABLE"}

# How much of a failing check's debugging data is printed, in characters.
DATA_PREVIEW_CHARS = 1500
# Seconds one HTTP request may take before the check fails.
REQUEST_TIMEOUT_SECONDS = 30.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("SCIM_URL"),
        help="the tenant's SCIM base URL (default: $SCIM_URL)",
    )
    parser.add_argument(
        "--token-file",
        help="a file holding the bearer token (default: $SCIM_TOKEN); a file keeps "
        "the token out of the process list",
    )
    parser.add_argument(
        "--include-tag",
        action="append",
        default=[],
        help="run only checks with this tag (discovery, crud, crud:read, patch, misc, ...);"
        " repeatable",
    )
    parser.add_argument(
        "--exclude-tag", action="append", default=[], help="skip checks with this tag"
    )
    parser.add_argument(
        "--resource-type",
        action="append",
        default=[],
        help="test only this resource type (User, Group); repeatable",
    )
    parser.add_argument(
        "--expect-resource-type",
        action="append",
        default=None,
        help="fail unless checks ran for this resource type (default: User and Group,"
        " or the --resource-type values)",
    )
    parser.add_argument(
        "--json-report", help="also write every check's result to this JSON file"
    )
    return parser.parse_args(argv)


def read_token(args: argparse.Namespace) -> str | None:
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as handle:
            return handle.read().strip() or None
    return os.environ.get("SCIM_TOKEN") or None


def preview(data: Any) -> str:
    """Renders a check's debugging data (a payload, a model, an exception) briefly."""
    if data is None:
        return ""
    if hasattr(data, "model_dump"):
        try:
            data = data.model_dump(mode="json", exclude_none=True)
        except Exception:  # a model that cannot dump itself is shown by repr
            data = repr(data)
    try:
        text = json.dumps(data, default=repr, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(data)
    if len(text) > DATA_PREVIEW_CHARS:
        text = text[:DATA_PREVIEW_CHARS] + f"... ({len(text)} chars)"
    return text


def summarize_description(description: str | None) -> str:
    """The first sentence of a check's docstring, plus the RFC section it cites."""
    text = " ".join((description or "").split())
    first_sentence = text.split(". ", 1)[0].rstrip(".")
    citation = re.search(r"RFC \d+ Section [\d.]+[^<]*", text)
    if citation:
        first_sentence += f" ({citation.group(0).strip()})"
    return first_sentence


def status_name(result: Any) -> str:
    return getattr(result.status, "name", str(result.status))


def print_result(index: int, result: Any) -> None:
    status = status_name(result)
    scope = f"[{result.resource_type}] " if result.resource_type else ""
    line = f"{index:3d}. {status:<10} {scope}{result.title}"
    if result.reason:
        line += f": {result.reason}"
    print(line)
    if status in FAILING_STATUSES:
        purpose = summarize_description(result.description)
        if purpose:
            print(f"       checks: {purpose}")
        data = preview(result.data)
        if data:
            print(f"       data:   {data}")


def write_json_report(path: str, results: list[Any]) -> None:
    report = [
        {
            "status": status_name(r),
            "title": r.title,
            "resource_type": r.resource_type,
            "reason": r.reason,
            "tags": sorted(r.tags or []),
            "data": preview(r.data),
        }
        for r in results
    ]
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, ensure_ascii=False)


@dataclass
class Tally:
    """How a run went: counts per status, and the verdict."""

    counts: Counter
    passed: int
    failed: int
    skipped: int
    missing_resource_types: list[str]

    @property
    def succeeded(self) -> bool:
        # No result at all means nothing was checked: that is not a pass.
        return self.failed == 0 and sum(self.counts.values()) > 0


def tally_results(results: list[Any], expected_resource_types: list[str]) -> Tally:
    """Counts results by status; a resource type no check ran for counts as a failure."""
    counts = Counter(status_name(r) for r in results)
    exercised = {r.resource_type for r in results if r.resource_type}
    missing = [name for name in expected_resource_types if name not in exercised]
    return Tally(
        counts=counts,
        passed=sum(counts[s] for s in PASSING_STATUSES),
        failed=sum(counts[s] for s in FAILING_STATUSES) + len(missing),
        skipped=counts["SKIPPED"],
        missing_resource_types=missing,
    )


def run(args: argparse.Namespace) -> int:
    if not args.url:
        print("run_scim2_tester: no SCIM URL (--url or $SCIM_URL)", file=sys.stderr)
        return 2
    token = read_token(args)
    if not token:
        print("run_scim2_tester: no token (--token-file or $SCIM_TOKEN)", file=sys.stderr)
        return 2

    try:
        import httpx2
        from scim2_client.engines.httpx2 import SyncSCIMClient
        from scim2_tester import check_server
    except ImportError as exc:
        print(
            f"run_scim2_tester: {exc}; install conformance/requirements.txt",
            file=sys.stderr,
        )
        return 2

    # The base URL must end with '/' so relative endpoints ("Users") resolve under
    # the tenant rather than replacing its last path segment.
    base_url = args.url.rstrip("/") + "/"
    http = httpx2.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    with http:
        client = SyncSCIMClient(http)
        results = check_server(
            client,
            include_tags=set(args.include_tag) or None,
            exclude_tags=set(args.exclude_tag) or None,
            resource_types=args.resource_type or None,
        )

    print(f"scim2-tester against {base_url}")
    for index, result in enumerate(results, start=1):
        print_result(index, result)

    if args.json_report:
        write_json_report(args.json_report, results)

    expected = args.expect_resource_type
    if expected is None:
        expected = args.resource_type or ["User", "Group"]
    if args.include_tag and all(t in {"discovery", "misc"} for t in args.include_tag):
        expected = []  # a discovery-only run exercises no resource type by design
    tally = tally_results(results, expected)
    for name in tally.missing_resource_types:
        print(f"FAILED: no check ran for resource type {name}; discovery did not expose it")

    breakdown = ", ".join(f"{name} {tally.counts[name]}" for name in sorted(tally.counts))
    print(f"scim2-tester statuses: {breakdown or 'no checks ran'}")
    print(f"scim2-tester: {tally.passed} passed, {tally.failed} failed, {tally.skipped} skipped")
    return 0 if tally.succeeded else 1


def main() -> int:
    return run(parse_args(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
