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


MUTATIONS = int(os.environ.get("SITEGEN_FUZZ_MUTATIONS", "12"))


@pytest.fixture(scope="module")
def mail_site(tmp_path_factory):
    from mail_fixtures import make_mail_site

    return make_mail_site(tmp_path_factory.mktemp("mutate") / "hospital")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["values", "characters", "themes"])
def test_a_site_with_mistakes_made_at_random_builds_or_names_them(mail_site, tmp_path, kind):
    """tests/mutate_site.py: wrong kinds of values, YAML syntax typed in, broken theme overrides. Each build ends in a
    site or a reported error, never in sitegen's internal error (`bench/bench_mutate.py` runs many more)."""
    from mutate_site import mutated_site, outcome

    seen = []
    for number in range(MUTATIONS):
        seen.append(outcome(mutated_site(tmp_path / f"s{number}", kind, number, mail_site)))  # raises on an internal error
    assert set(seen) - {"built"}, seen  # the mistakes are found, not all ignored
