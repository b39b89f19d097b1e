"""Ollama Cloud usage and balance as ollama.com sends them today (issue 23): the emulator serves
the documented shapes of ``/api/usage`` and ``/api/balance`` and nothing else, and ``_quota`` reads
any shape defensively, labelling what is used and what is left."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math

import pytest
import requests
from corpus.routes import PayloadRoutes
from kernel_helpers import Kernel

from ollama_nb import Client
from ollama_nb._errors import ResponseError
from ollama_nb._quota import account_rows, quota_rows
from ollama_nb.testing import Emulator

KEY = "quota-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
USAGE_FIELDS = {"range", "scope", "granularity", "from", "until", "totals", "buckets"}
TOTALS = {"request_count", "usage_usd", "input_tokens", "cached_input_tokens", "output_tokens"}


@pytest.fixture(scope="module")
def cloud():
    with Emulator(key=KEY) as emulator:
        yield emulator


def get(cloud: Emulator, path: str) -> requests.Response:
    return requests.get(cloud.url + path, headers=AUTH, timeout=10)


@pytest.mark.parametrize(("window", "granularity", "count"), [("24h", "hour", 25), ("7d", "day", 8), ("30d", "day", 31)])
def test_usage_has_the_documented_fields_and_buckets(cloud, window, granularity, count):
    report = get(cloud, f"/api/usage?range={window}&scope=self").json()
    assert set(report) == USAGE_FIELDS and report["range"] == window and report["granularity"] == granularity
    assert set(report["totals"]) == TOTALS
    buckets = report["buckets"]
    assert len(buckets) in (count, count - 1)  # a request exactly on the hour has no partial bucket
    assert all(set(b) - {"partial"} == {"from", "until"} | TOTALS for b in buckets)
    assert [b.get("partial") for b in buckets] == [None] * (len(buckets) - 1) + [True]
    assert buckets[0]["from"] == report["from"] and buckets[-1]["until"] == report["until"]
    assert all(a["until"] == b["from"] for a, b in itertools.pairwise(buckets))
    for field in TOTALS - {"usage_usd"}:
        assert report["totals"][field] == sum(b[field] for b in buckets)
    assert "resets_at" not in json.dumps(report) and "limits" not in report  # never an invented field


def test_usage_defaults_to_7d_and_refuses_a_bad_query(cloud):
    assert get(cloud, "/api/usage").json()["range"] == "7d"
    for query in ("range=1y", "scope=everyone", "range=7d&range=24h"):
        assert get(cloud, f"/api/usage?{query}").status_code == 400


def test_balance_on_a_credit_plan_and_on_a_legacy_plan():
    with Emulator(key=KEY) as cloud:
        cloud.set_balance(balance_usd=72.5, allowance_usd=100, purchased_usd=25)
        now = get(cloud, "/api/balance").json()
        assert set(now) == {"included", "purchased"} and set(now["included"]) == {"balance_usd", "allowance_usd", "period"}
        assert now["included"]["balance_usd"] == 72.5 and now["purchased"] == {"balance_usd": 25}
        assert set(now["included"]["period"]) == {"from", "until"}
        cloud.set_legacy_quota(session_left=75, weekly_left=40)
        legacy = get(cloud, "/api/balance").json()["included"]
        assert set(legacy) == {"session", "weekly"}
        assert legacy["session"]["remaining_percent"] == 75 and set(legacy["weekly"]) == {"remaining_percent", "resets_at"}
        rows = account_rows(Client(cloud.url, api_key=KEY))
    by = {r["limit"]: r for r in rows}
    assert by["session"]["used"] == "25.0% used · 75.0% left" and by["session"]["fraction"] == 0.25  # LEFT is 75
    assert by["weekly"]["fraction"] == pytest.approx(0.6) and by["weekly"]["resets"] == "in 4 days"
    assert by["purchased credits"]["used"] == "$25.00 left" and by["last 7 days"]["used"] == "3 requests · $0.01"


def test_account_unavailable_is_a_503_from_api_me(cloud):
    cloud.set_account_unavailable()
    try:
        answer = requests.post(cloud.url + "/api/me", headers=AUTH, timeout=10)
        assert answer.status_code == 503 and answer.json() == {"error": "account unavailable"}
    finally:
        cloud.set_account_unavailable(False)
    assert requests.post(cloud.url + "/api/me", headers=AUTH, timeout=10).status_code == 200


def test_retired_cloud_models_are_gone(cloud):
    names = [m["name"] for m in get(cloud, "/api/tags").json()["models"]]
    body = {"model": "qwen3-coder:480b", "messages": [{"role": "user", "content": "hi"}], "stream": False}
    assert requests.post(cloud.url + "/api/chat", json=body, headers=AUTH, timeout=10).status_code == 404
    assert not any(n.startswith(("qwen3-coder:480b", "deepseek-v3.1")) for n in names)
    body["model"] = "qwen3.5:397b"
    assert requests.post(cloud.url + "/api/chat", json=body, headers=AUTH, timeout=10).status_code == 200


def test_a_local_server_without_the_routes_gives_no_rows():
    with Emulator() as local:
        assert account_rows(Client(local.url)) == []


def test_an_error_other_than_missing_reaches_the_caller():
    with Emulator(key=KEY) as cloud, pytest.raises(ResponseError) as caught:
        account_rows(Client(cloud.url, api_key="wrong"))
    assert caught.value.status_code == 401


# A fixed clock: one read at import made "in 5 h" an "in 4 h" when the run reached this test late.
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
SOON = (NOW + dt.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(("balance", "usage", "expected"), [
    # today's credit plan
    ({"included": {"balance_usd": 4.37, "allowance_usd": 5, "period": {"from": "x", "until": SOON}}},
     None, [("included credits", pytest.approx(0.126), "$0.63 of $5.00 used · $4.37 left", "in 5 h")]),
    # a balance over the allowance (credits carried over) is 0 used, not negative
    ({"included": {"balance_usd": 7, "allowance_usd": 5}}, None, [("included credits", 0.0, "$0.00 of $5.00 used · $7.00 left", "")]),
    ({"included": {"balance_usd": 3}}, None, [("included credits", None, "$3.00 left", "")]),
    # legacy plans, with a monthly window as reports mention, in the plans' order
    ({"included": {"monthly": {"remaining_percent": 10}, "session": {"remaining_percent": 100}}}, None,
     [("session", 0.0, "0.0% used · 100.0% left", ""), ("monthly", pytest.approx(0.9), "90.0% used · 10.0% left", "")]),
    # the older /api/usage shape: usage is the share USED
    (None, {"limits": {"weekly": {"usage": 0.335}}}, [("weekly", 0.335, "33.5% used · 66.5% left", "")]),
    (None, {"range": "24h", "totals": {"request_count": 15, "usage_usd": 0.01718}},
     [("last 24 hours", None, "15 requests · $0.02", "")]),
])
def test_shapes_are_read_as_they_come(balance, usage, expected):
    assert [(r["limit"], r["fraction"], r["used"], r["resets"]) for r in quota_rows(balance, usage, now=NOW)] == expected


HOSTILE_VALUES = [None, True, False, "75", "NaN", float("nan"), float("inf"), -float("inf"), -5, 1e308, [], {},
                  "<img src=x onerror=alert(1)>", "\x1b]52;c;ZWNobyBwd25lZA==\x07", "2026-13-45T99:99:99Z"]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
def test_hostile_and_unknown_values_never_break_or_invent(value):
    shapes = [
        {"included": {"balance_usd": value, "allowance_usd": value, "period": {"until": value}}, "purchased": {"balance_usd": value}},
        {"included": {"session": {"remaining_percent": value, "resets_at": value}}, "purchased": value},
        {"included": value, "purchased": {"balance_usd": value}},
        value,
    ]
    for balance in shapes:
        for usage in ({"limits": {"weekly": {"usage": value, "resets_at": value}}}, {"totals": value, "range": value},
                      {"totals": {"request_count": value, "usage_usd": value}}, {"limits": value}, value):
            for row in quota_rows(balance, usage):
                assert set(row) == {"limit", "fraction", "used", "resets"}
                assert row["fraction"] is None or (0.0 <= row["fraction"] <= 1.0 and math.isfinite(row["fraction"]))
                assert isinstance(row["used"], str) and isinstance(row["resets"], str)
                assert "nan" not in row["used"].lower() and "inf" not in row["used"].lower()
                if isinstance(value, str):
                    assert value not in row["used"] + row["resets"]  # text is never shown as a number or a time


def test_names_of_unknown_windows_are_kept_as_text_for_the_views_to_escape():
    name = "<b>daily</b>\x1b[2J"
    rows = quota_rows({"included": {name: {"remaining_percent": 50}}})
    assert rows == [{"limit": name, "fraction": 0.5, "used": "50.0% used · 50.0% left", "resets": ""}]


def usage_output(cloud: Emulator) -> tuple[str, str]:
    """``%ollama usage`` in a real kernel, as a teacher runs it: (text/plain, text/html)."""
    with Kernel(env={"OLLAMA_HOST": cloud.url, "OLLAMA_API_KEY": KEY}, unset=("OLLAMA_NB_MODEL",)) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        shown = kernel.run(f"%ollama usage --host {cloud.url}").check().displays
    data = shown[-1]["content"]["data"]
    return data["text/plain"], data["text/html"]


@pytest.mark.kernel
def test_ollama_usage_shows_a_credit_plan_used_and_left():
    with Emulator(key=KEY) as cloud:
        cloud.set_balance(balance_usd=4.37, allowance_usd=5, purchased_usd=2)
        plain, html = usage_output(cloud)
    assert "included credits" in plain and "$0.63 of $5.00 used · $4.37 left" in plain
    assert "purchased credits" in plain and "$2.00 left" in plain and "last 7 days" in plain
    assert 'style="width:12.6%"' in html and KEY not in plain + html


@pytest.mark.kernel
def test_ollama_usage_keeps_hostile_fields_text():
    hostile = "<img src=x onerror=alert(1)>"
    with Emulator(key=KEY) as cloud:
        PayloadRoutes({"p1": [hostile]}, usage=True).install(cloud)
        plain, html = usage_output(cloud)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert hostile in plain and "–" in plain  # a name shown as text; no number, so no share
