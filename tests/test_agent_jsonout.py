"""Tests for jaeger_lite.agent.jsonout: the Jaeger UI's JSON trace file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jaeger_lite.agent.collect import Trace
from jaeger_lite.agent.jsonout import JsonFile, trace_to_json
from jaeger_lite.agent.model import FOLLOWS_FROM, Process, SpanRecord, Tag
from tests.agent_batches import NOW_US, record

TRACE = 0x0AF7651916CD43DD8448EB211C80319C


def trace() -> Trace:
    spans = [
        record(TRACE, 0xB7AD6B7169203331, 0, "root", service="front"),
        record(TRACE, 2, 0xB7AD6B7169203331, "child", 10, service="back"),
        record(
            TRACE,
            3,
            0xB7AD6B7169203331,
            "job",
            20,
            service="front",
            refs=((FOLLOWS_FROM, 0xB7AD6B7169203331),),
        ),
    ]
    return Trace(TRACE, spans)


def test_trace_has_the_query_api_shape() -> None:
    """traceID, spans and processes with the field names the UI reads."""
    doc = trace_to_json(TRACE, trace().spans)
    assert doc["traceID"] == "0af7651916cd43dd8448eb211c80319c"
    root = doc["spans"][0]
    keys = "traceID spanID operationName references startTime duration tags logs processID warnings"
    assert set(root) >= set(keys.split())
    assert root["spanID"] == "b7ad6b7169203331" and root["startTime"] == NOW_US
    assert doc["processes"] == {
        "p1": {"serviceName": "front", "tags": []},
        "p2": {"serviceName": "back", "tags": []},
    }
    assert [s["processID"] for s in doc["spans"]] == ["p1", "p2", "p1"]


def test_parent_span_id_becomes_a_child_of_reference() -> None:
    """The UI builds its tree from references, so parentSpanId is turned into one."""
    child = trace_to_json(TRACE, trace().spans)["spans"][1]
    assert child["references"] == [
        {
            "refType": "CHILD_OF",
            "traceID": "0af7651916cd43dd8448eb211c80319c",
            "spanID": "b7ad6b7169203331",
        }
    ]


def test_follows_from_reference_is_kept_as_is() -> None:
    """A parent already named by a FOLLOWS_FROM ref gets no extra CHILD_OF ref."""
    job = trace_to_json(TRACE, trace().spans)["spans"][2]
    assert [r["refType"] for r in job["references"]] == ["FOLLOWS_FROM"]


def test_64_bit_trace_ids_use_16_digits() -> None:
    """A trace id without a high half is written as 16 hex digits, as Jaeger does."""
    doc = trace_to_json(5, [record(5, 1)])
    assert doc["traceID"] == "0000000000000005" and doc["spans"][0]["traceID"] == "0000000000000005"


def test_tag_values_are_valid_json_of_their_type() -> None:
    """Each tag keeps its type name; binary is base64 and NaN becomes a string."""
    tags = (
        Tag("s", "string", "x"), Tag("b", "bool", True), Tag("i", "int64", -3),
        Tag("f", "float64", float("nan")), Tag("bin", "binary", b"\x00\x01"),
    )  # fmt: skip
    span = SpanRecord(1, 1, 0, "op", (), 1, NOW_US, 5, tags, (), Process("p", tags[:1]))
    text = json.dumps(trace_to_json(1, [span]), allow_nan=False)
    got = json.loads(text)
    assert [(t["key"], t["type"], t["value"]) for t in got["spans"][0]["tags"]] == [
        ("s", "string", "x"), ("b", "bool", True), ("i", "int64", -3), ("f", "float64", "nan"),
        ("bin", "binary", "AAE="),
    ]  # fmt: skip


def test_file_is_one_loadable_document_after_each_append(tmp_path: Path) -> None:
    """Appending keeps {"data": [...]} valid, one trace per element."""
    path = tmp_path / "traces.json"
    out = JsonFile(str(path))
    out.append(trace())
    assert [t["traceID"] for t in json.loads(path.read_text())["data"]] == [
        "0af7651916cd43dd8448eb211c80319c"
    ]
    out.append(Trace(7, [record(7, 1)]))
    assert len(json.loads(path.read_text())["data"]) == 2


def test_existing_file_of_ours_is_appended_to(tmp_path: Path) -> None:
    """A new agent run keeps the traces an earlier run wrote."""
    path = tmp_path / "traces.json"
    JsonFile(str(path)).append(trace())
    JsonFile(str(path)).append(Trace(7, [record(7, 1)]))
    assert [t["traceID"] for t in json.loads(path.read_text())["data"]] == [
        "0af7651916cd43dd8448eb211c80319c", "0000000000000007",
    ]  # fmt: skip


def test_other_jaeger_document_is_kept(tmp_path: Path) -> None:
    """A Jaeger UI download ({"data": [...]}, any layout) keeps its traces."""
    path = tmp_path / "download.json"
    path.write_text('{"data":[{"traceID":"abc","spans":[],"processes":{}}]}')
    JsonFile(str(path)).append(trace())
    assert [t["traceID"] for t in json.loads(path.read_text())["data"]] == [
        "abc",
        "0af7651916cd43dd8448eb211c80319c",
    ]


def test_unrelated_file_is_not_overwritten(tmp_path: Path) -> None:
    """A file that is not a trace document raises instead of being clobbered."""
    path = tmp_path / "notes.txt"
    path.write_text("my notes")
    with pytest.raises(ValueError, match="not a Jaeger JSON trace file"):
        JsonFile(str(path))
    assert path.read_text() == "my notes"


def test_late_spans_rewrite_the_whole_trace(tmp_path: Path) -> None:
    """The last entry for a trace id (the one the UI keeps) has all its spans."""
    path = tmp_path / "t.json"
    out = JsonFile(str(path))
    out.append(Trace(7, [record(7, 1)]))
    out.append(Trace(7, [record(7, 2, 1)], late=True))
    data = json.loads(path.read_text())["data"]
    assert [len(t["spans"]) for t in data] == [1, 2]
