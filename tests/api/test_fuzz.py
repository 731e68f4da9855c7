"""Property-based fuzz of the API from its own OpenAPI document, in process, every check on.

Schemathesis generates requests from ``/api/openapi.json``: valid ones (positive) and ones that break
the document on purpose (negative: wrong types, out-of-range numbers, missing fields, patterns broken).
Every answer goes through all of schemathesis's checks: no 5xx, the status code is one the document
lists, the content type, body and headers match the documented schema, a request that breaks the
document is refused with a 4xx, a request the document allows is not refused.

That last check needs one qualification, narrow and stated here: a few rules cannot be said in JSON
Schema and the document says them in words. A request that breaks one of them is a 400 that names the
field, and the check counts that 400 as expected only for these fields:

- a day that is not in the calendar (``2026-02-30``) in ``at`` and the week parameters;
- the rows of a posted demand or of candidate sites (points inside Chengdu, a CSV's header and cells);
- ``highway`` on a layer that is not ``roads``;
- a viewport's ``bbox``: longitudes within -180..180, latitudes within -90..90, each min below its max;
- a report's what-if: hypothetical stations (``added``) inside Chengdu, removed stations (``removed``) that exist;
- the place of an Open311 report (a point inside Chengdu's districts, a station or compound that exists, the
  kinds a place takes, an amenity the station has) and its photo's content (a JPEG or PNG that opens).

A valid request beyond what one request may cost is the documented 422 ``limit_exceeded``.

The number of examples per operation is bounded so the sweep stays within a few minutes on two cores;
the seed is fixed so a failure reproduces.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

EXAMPLES_PER_OPERATION = 40

#: Fields whose rule the document states in words, anywhere, and per operation.
DAYS = {"at", "week_start", "normal_week", "holiday_week", "start_date", "end_date"}
ROWS = {"POST /api/v1/coverage": {"invalid_rows", "invalid_body"}, "POST /api/v1/siting": {"invalid_rows"}}
HIGHWAY_ON_ANOTHER_LAYER = ("GET /api/v1/layers/{layer}", "highway")
VIEW_BBOX = ("GET /api/v1/stations/view", "bbox")
REPORT_WHAT_IF = ("GET /api/v1/reports/", {"added", "removed"})
OPEN311_PLACE = ("POST /api/open311/v2/requests.json",
                 {"lat", "long", "attribute[station_id]", "attribute[compound_id]", "attribute[amenity]", "media"})


def _error(response) -> dict:
    try:
        body = response.json()
        return body[0] if isinstance(body, list) else body["error"]   # Open311 answers a list of errors
    except (ValueError, KeyError, TypeError, IndexError):
        return {}


def _stated_in_words(case, response) -> bool:
    if response.status_code != 400:
        return False
    error = _error(response)
    label, field = case.operation.label, str(error.get("field") or "")
    return (field in DAYS or error.get("code") in ROWS.get(label, ())
            or (label, field) in (HIGHWAY_ON_ANOTHER_LAYER, VIEW_BBOX)
            or (label.startswith(REPORT_WHAT_IF[0]) and field in REPORT_WHAT_IF[1])
            or (label == OPEN311_PLACE[0] and field in OPEN311_PLACE[1]))


@schemathesis.check
def documented_request_accepted(ctx, response, case):
    """Schemathesis's positive-data check, with the refusals above and the cost limit expected."""
    if _stated_in_words(case, response):
        return True
    if response.status_code == 422 and _error(response).get("code") == "limit_exceeded":
        return True
    return positive_data_acceptance(ctx, response, case)


@pytest.fixture(scope="module")
def api_schema(dash_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", dash_app.server)


def _operations(schema):
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    return operations


def _has_input(operation) -> bool:
    return bool(operation.definition.raw.get("parameters") or operation.definition.raw.get("requestBody"))


#: The operations are swept in this many shards (every SHARDS-th operation each), so that parallel test
#: workers (make test: pytest -n 2) share the sweep instead of one worker taking all of it.
SHARDS = 4


@pytest.mark.parametrize("shard", range(SHARDS), ids=lambda k: f"shard{k}")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_every_operation_answers_as_documented(api_schema, mode, shard):
    failures = {}
    for operation in _operations(api_schema)[shard::SHARDS]:
        if mode is GenerationMode.NEGATIVE and not _has_input(operation):
            continue  # nothing to break: no parameter, no body

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case):
            # the test client does not undo Content-Encoding as a real client does: ask for none
            case.call_and_validate(headers={"Accept-Encoding": "identity"},
                                   excluded_checks=[positive_data_acceptance],
                                   additional_checks=[documented_request_accepted])

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # one operation's failure must not hide another's
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    assert failures == {}, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
