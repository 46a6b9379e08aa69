"""The Wikidata client against the replay server: normal answers and every way Wikidata fails."""

from __future__ import annotations

import json

import pytest

from cowkg.errors import BackendUnavailable, InputError
from cowkg.wikidata.cache import DiskCache
from cowkg.wikidata.client import BATCH_SIZE, parse_retry_after, user_agent
from cowkg.wikidata.model import WDTime

from .replay import entity


def test_user_agent_names_tool_version_contact_and_library():
    ua = user_agent("ops@example.org")
    assert ua.startswith("cowkg-bot/")
    assert "ops@example.org" in ua and "python-requests/" in ua


def test_every_action_api_call_sends_user_agent_and_maxlag(wd, replay):
    wd.search("France")
    wd.get_entities(["Q142"])
    calls = replay.api_calls()
    assert len(calls) == 2
    for call in calls:
        assert call.headers["User-Agent"].startswith("cowkg-bot/")
        assert call.params["maxlag"] == ["5"]
        assert call.params["format"] == ["json"]


def test_search_recorded_answer_is_parsed(wd):
    hits = wd.search("abc")
    assert [h.id for h in hits][:3] == ["Q169889", "Q286874", "Q781365"]
    assert hits[0].match_type == "alias" and hits[0].match_text == "ABC"
    assert hits[1].description == "Wikimedia disambiguation page"


def test_empty_search_is_an_empty_list(wd):
    assert wd.search("some search string with no results") == []
    assert wd.search("   ") == []


def test_get_entities_parses_labels_claims_and_times(wd):
    batch = wd.get_entities(["Q142", "Q42"])
    france, adams = batch.get("Q142"), batch.get("Q42")
    assert france.label() == "France" and "French Republic" in france.names()
    assert "Q3624078" in france.item_values("P31")
    assert adams.item_values("P31") == ["Q5"]  # the 2015 format: numeric-id only
    assert adams.times("P570") == [WDTime(2001, 5, 11, 11)]
    assert batch.missing == [] and batch.redirects == {}


def test_missing_ids_are_reported_not_raised(wd):
    batch = wd.get_entities(["Q6", "Q142"])
    assert batch.missing == ["Q6"]
    assert "Q142" in batch.entities
    assert any("Q6 does not exist" in n for n in wd.notices)


def test_malformed_ids_are_reported_without_asking_wikidata(wd, replay):
    batch = wd.get_entities(["bogus", "Q0"])
    assert batch.missing == ["bogus", "Q0"]
    assert replay.api_calls() == []


def test_redirected_id_is_followed_and_reported(wd):
    batch = wd.get_entities(["Q16231742"])
    assert batch.redirects == {"Q16231742": "Q3571994"}
    assert batch.get("Q16231742").id == "Q3571994"
    assert batch.get("Q16231742").label() == "Kangnam"
    assert "Q16231742 redirects to Q3571994 (followed)" in wd.notices


def test_entitydata_redirect_answer_is_keyed_by_target(wd):
    batch = wd.entity_data("Q16231742")  # the recorded Special:EntityData answer
    assert batch.redirects == {"Q16231742": "Q3571994"}
    assert wd.entity_data("Q8646").get("Q8646").coordinates() == [(22.278333333333, 114.15861111111)]
    assert wd.entity_data("Q6").missing == ["Q6"]


def test_batches_hold_at_most_50_ids(wd, replay):
    for n in range(1, 121):
        replay.add_entity(entity(f"Q{1000 + n}", f"Thing {n}"))
    batch = wd.get_entities([f"Q{1000 + n}" for n in range(1, 121)])
    assert len(batch.entities) == 120
    sizes = [len(c.params["ids"][0].split("|")) for c in replay.api_calls("wbgetentities")]
    assert sizes == [BATCH_SIZE, BATCH_SIZE, 20]


def test_fresh_cache_answers_without_a_request(wd, replay):
    wd.get_entities(["Q142"])
    wd.search("France")
    before = len(replay.seen)
    wd.get_entities(["Q142"])
    wd.search("France")
    assert len(replay.seen) == before


def test_expired_cache_is_refetched(make_client, replay, tmp_path):
    clock = [1000.0]
    cache = DiskCache(tmp_path / "aging", ttl=60, clock=lambda: clock[0])
    wd = make_client(cache=cache)
    wd.get_entities(["Q142"])
    clock[0] += 61
    wd.get_entities(["Q142"])
    assert len(replay.api_calls("wbgetentities")) == 2


def test_maxlag_error_is_retried_after_retry_after(wd, replay, sleeps):
    replay.fail("/w/api.php", body=replay.sample("error-maxlag-full.json"), headers={"Retry-After": "3"})
    assert wd.get_entities(["Q142"]).get("Q142").label() == "France"
    assert sleeps == [3.0]


def test_maxlag_without_retry_after_waits_the_reported_lag(wd, replay, sleeps):
    replay.fail("/w/api.php", body=replay.sample("error-maxlag-full.json"))
    wd.search("France")
    assert sleeps == [3.45]


def test_persistent_maxlag_gives_up_with_a_clear_error(make_client, replay):
    replay.fail("/w/api.php", body=replay.sample("error-maxlag-short.json"), times=5)
    with pytest.raises(BackendUnavailable, match="lagging"):
        make_client(retries=2).search("France")


def test_429_retry_after_is_honoured(wd, replay, sleeps):
    replay.fail("/sparql", 429, headers={"Retry-After": "2", "Content-Type": "text/html"},
                body=replay.sample("wdqs-429-too-many-requests.body.html"))
    result = wd.sparql("SELECT ?l WHERE { <http://www.wikidata.org/entity/Q142> rdfs:label ?l } LIMIT 1")
    assert result["results"]["bindings"]
    assert sleeps == [2.0]


def test_429_asking_for_too_long_a_wait_fails_fast(make_client, replay, sleeps):
    replay.fail("/w/api.php", 429, headers={"Retry-After": "3600"})
    with pytest.raises(BackendUnavailable, match="more than wikidata_max_wait"):
        make_client(max_wait=60).search("France")
    assert sleeps == []


def test_503_and_500_back_off_exponentially(wd, replay, sleeps):
    replay.fail("/w/api.php", 503)
    replay.fail("/w/api.php", 500)
    assert wd.search("France")[0].id == "Q142"
    assert sleeps == [0.5, 1.0]


def test_5xx_until_retries_are_spent_is_backend_unavailable(make_client, replay):
    replay.fail("/w/api.php", 502, times=10)
    with pytest.raises(BackendUnavailable) as err:
        make_client(retries=2).get_entities(["Q142"])
    assert "HTTP 502" in err.value.message and err.value.exit_code == 4


def test_timeout_is_retried_then_reported(make_client, replay):
    replay.fail("/w/api.php", delay=0.6, passthrough=True, times=3)
    with pytest.raises(BackendUnavailable, match="no answer within 0.2 s"):
        make_client(timeout=0.2, retries=2).search("France")


def test_one_slow_answer_is_survived(make_client, replay):
    replay.fail("/w/api.php", delay=1.6, passthrough=True)
    assert make_client(timeout=1.0).search("France")[0].id == "Q142"  # generous: CI machines are busy


def test_malformed_json_is_retried(wd, replay, sleeps):
    replay.fail("/w/api.php", body=b'{"entities": {"Q142": {"id": "Q1')
    assert wd.get_entities(["Q142"]).get("Q142") is not None
    assert len(sleeps) == 1


def test_connection_cut_mid_body_is_retried(wd, replay):
    replay.fail("/wiki/", body=b'{"entities":', cut=True)
    assert wd.entity_data("Q142").get("Q142").label() == "France"


def test_server_going_away_mid_run_falls_back_to_cache(wd, replay):
    wd.get_entities(["Q142"])
    wd.search("France")
    replay.stop()
    assert wd.get_entities(["Q142"]).get("Q142").label() == "France"  # fresh cache: no request at all
    with pytest.raises(BackendUnavailable, match="unreachable: connection failed"):
        wd.get_entities(["Q42"])


def test_unreachable_wikidata_uses_stale_cache_and_says_so(make_client, replay, tmp_path):
    clock = [1000.0]
    cache = DiskCache(tmp_path / "stale", ttl=60, clock=lambda: clock[0])
    make_client(cache=cache).get_entities(["Q142", "Q6"])
    replay.stop()
    clock[0] += 86400 * 3
    wd = make_client(cache=cache, retries=1)
    batch = wd.get_entities(["Q142", "Q6"])
    assert batch.get("Q142").label() == "France" and batch.missing == ["Q6"]
    assert any("unreachable" in n and "using cached entities" in n for n in wd.notices)


def test_offline_mode_never_touches_the_network(make_client, replay):
    make_client().search("France")
    count = len(replay.seen)
    offline = make_client(offline=True)
    assert offline.search("France")[0].id == "Q142"
    with pytest.raises(BackendUnavailable, match="offline"):
        offline.search("Hong Kong")
    assert len(replay.seen) == count


def _aged_cache(make_client, tmp_path, days: float) -> DiskCache:
    """A cache holding a search for France and the entity Q142, ``days`` old (past the 60 s TTL)."""
    clock = [1000.0]
    cache = DiskCache(tmp_path / "aged", ttl=60, clock=lambda: clock[0])
    online = make_client(cache=cache)
    online.search("France")
    online.get_entities(["Q142"])
    clock[0] += 86400 * days
    return cache


def test_offline_stale_hit_says_the_cached_answer_was_used_and_how_old(make_client, replay, tmp_path):
    offline = make_client(cache=_aged_cache(make_client, tmp_path, days=3), offline=True)
    count = len(replay.seen)
    assert offline.search("France")[0].id == "Q142"
    assert offline.get_entities(["Q142"]).get("Q142").label() == "France"
    assert offline.notices == [
        "offline: search 'France' answered from the cache, 3 days old (older than wikidata_cache_ttl, 60 s)",
        "offline: 1 entity answered from the cache, up to 3 days old (older than wikidata_cache_ttl, 60 s)"]
    assert not any("not in the cache" in n for n in offline.notices)
    assert len(replay.seen) == count


def test_offline_miss_says_what_is_not_cached_and_adds_no_notice(make_client, replay, tmp_path):
    offline = make_client(cache=_aged_cache(make_client, tmp_path, days=3), offline=True)
    with pytest.raises(BackendUnavailable) as err:
        offline.search("Hong Kong")
    assert err.value.message == "offline: search 'Hong Kong' is not in the cache"
    with pytest.raises(BackendUnavailable) as err:
        offline.get_entities(["Q142", "Q8646", "Q42"])
    assert err.value.message == "offline: Q8646, Q42 are not in the cache"
    assert offline.notices == []


def test_sparql_recorded_answer(wd, samples):
    query = (samples / "sparql-results-item-labels-descriptions-aliases.rq").read_text()
    result = wd.sparql(query)
    assert len(result["results"]["bindings"]) == 50
    assert "itemAltLabel" in result["head"]["vars"]


def test_sparql_syntax_error_is_input_error(wd):
    with pytest.raises(InputError, match="rejected the query"):
        wd.sparql("SELEKT nothing")


def test_long_sparql_is_posted(wd, replay):
    values = " ".join(f"wd:Q{n}" for n in range(1, 400))
    query = (f"PREFIX wd: <http://www.wikidata.org/entity/>\nSELECT ?x WHERE {{ VALUES ?x {{ {values} }} "
             f"?x <http://www.w3.org/2000/01/rdf-schema#label> ?l }}")
    wd.sparql(query)
    assert replay.seen[-1].method == "POST"
    assert replay.seen[-1].headers["Accept"] == "application/sparql-results+json"


def test_non_json_200_from_wdqs_is_an_error(make_client, replay):
    replay.fail("/sparql", body=json.dumps({"unexpected": True}))
    with pytest.raises(BackendUnavailable, match="not SPARQL results JSON"):
        make_client().sparql("ASK {}")


@pytest.mark.parametrize("header, expected", [("5", 5.0), ("0", 0.0), ("soon", None), (None, None),
                                              ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header) == expected


def test_unwritable_cache_is_not_fatal(make_client, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    wd = make_client(cache=DiskCache(blocker / "cache", ttl=60))
    assert wd.search("France")[0].id == "Q142"
