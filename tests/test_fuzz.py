"""Fuzz (hypothesis, fixed seed): hostile text in a department's body and fields and a news item never crashes the
build, never takes longer than a bound, and never puts a script into a page. `bench/bench_fuzz.py` runs it longer."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, seed, settings

from fuzz_site import BOUND_SECONDS, build_with, field, text

EXAMPLES = int(os.environ.get("SITEGEN_FUZZ_EXAMPLES", "25"))


@pytest.mark.slow
@seed(20261203)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=False, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=text, summary=field, name=field, title=field, condition=field)
def test_hostile_text_builds_or_is_a_content_error_and_never_scripts(tmp_path, body, summary, name, title, condition):
    outcome, seconds, found = build_with(tmp_path, body, summary, name, title, condition)
    assert outcome in ("built", "content error")  # anything else raised out of the build fails the test
    assert seconds < BOUND_SECONDS, seconds
    assert not found, found[:5]
