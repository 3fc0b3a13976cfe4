"""Self-tests of conformance/run_scim2_tester.py: its verdict and its reporting.

They use only the standard library (the scim2 packages are imported by the runner
only when it talks to a server), so they run without the conformance venv:
    python3 -m unittest discover -s conformance/tests
"""

import io
import os
import sys
import unittest
from contextlib import redirect_stderr
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import run_scim2_tester as runner  # noqa: E402


class Status(Enum):
    """Stands in for scim2_tester.Status: the runner reads only `.name`."""

    SUCCESS = 1
    ACCEPTABLE = 2
    DEVIATION = 3
    ERROR = 4
    CRITICAL = 5
    SKIPPED = 6


@dataclass
class Result:
    status: Status
    resource_type: str | None = None
    title: str = "check"
    description: str | None = None
    reason: str | None = None
    data: Any = None
    tags: set = field(default_factory=set)


class TallyTests(unittest.TestCase):
    def test_all_passing_statuses_with_both_resource_types_succeed(self):
        results = [
            Result(Status.SUCCESS),
            Result(Status.ACCEPTABLE, "User"),
            Result(Status.SUCCESS, "Group"),
        ]
        tally = runner.tally_results(results, ["User", "Group"])
        self.assertEqual((tally.passed, tally.failed, tally.skipped), (3, 0, 0))
        self.assertTrue(tally.succeeded)

    def test_error_critical_and_deviation_each_fail_the_run(self):
        for status in (Status.ERROR, Status.CRITICAL, Status.DEVIATION):
            results = [Result(Status.SUCCESS, "User"), Result(status, "Group")]
            tally = runner.tally_results(results, ["User", "Group"])
            self.assertEqual(tally.failed, 1, status)
            self.assertFalse(tally.succeeded, status)

    def test_skipped_checks_are_counted_but_do_not_fail(self):
        results = [Result(Status.SKIPPED, "User"), Result(Status.SUCCESS, "Group")]
        tally = runner.tally_results(results, ["User", "Group"])
        self.assertEqual((tally.passed, tally.failed, tally.skipped), (1, 0, 1))
        self.assertTrue(tally.succeeded)

    def test_a_resource_type_never_exercised_is_a_failure(self):
        results = [Result(Status.SUCCESS), Result(Status.SUCCESS, "User")]
        tally = runner.tally_results(results, ["User", "Group"])
        self.assertEqual(tally.missing_resource_types, ["Group"])
        self.assertEqual(tally.failed, 1)
        self.assertFalse(tally.succeeded)

    def test_no_results_is_not_a_pass(self):
        self.assertFalse(runner.tally_results([], []).succeeded)


class ReportingTests(unittest.TestCase):
    def test_description_keeps_first_sentence_and_rfc_citation(self):
        docstring = """Validate retrieval of all resource types.

        Tests the endpoint. :rfc:`RFC 7644 Section 4 - Discovery <7644#section-4>` "An HTTP GET"
        """
        self.assertEqual(
            runner.summarize_description(docstring),
            "Validate retrieval of all resource types (RFC 7644 Section 4 - Discovery)",
        )

    def test_description_of_nothing_is_empty(self):
        self.assertEqual(runner.summarize_description(None), "")

    def test_preview_truncates_long_data(self):
        text = runner.preview({"detail": "x" * 5000})
        self.assertLess(len(text), runner.DATA_PREVIEW_CHARS + 40)
        self.assertIn("chars)", text)

    def test_preview_dumps_models_and_falls_back_to_repr(self):
        class Model:
            def model_dump(self, **_):
                return {"status": "404"}

        self.assertEqual(runner.preview(Model()), '{"status": "404"}')
        self.assertEqual(runner.preview(None), "")
        self.assertIn("ValueError", runner.preview(ValueError("boom")))


class ArgumentTests(unittest.TestCase):
    def setUp(self):
        self.saved = {k: os.environ.pop(k, None) for k in ("SCIM_URL", "SCIM_TOKEN")}

    def tearDown(self):
        for key, value in self.saved.items():
            if value is not None:
                os.environ[key] = value

    def test_missing_url_or_token_cannot_start(self):
        with redirect_stderr(io.StringIO()):
            self.assertEqual(runner.run(runner.parse_args([])), 2)
            self.assertEqual(runner.run(runner.parse_args(["--url", "http://127.0.0.1:1/x"])), 2)


if __name__ == "__main__":
    unittest.main()
