"""Configuration value parsers (jaeger-client-go syntax)."""

from __future__ import annotations

import pytest

from jaeger_lite import ConfigError
from jaeger_lite.config.options import (
    parse_bool,
    parse_duration,
    parse_float,
    parse_int,
    parse_tags,
)


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True", " true "])
def test_go_true_spellings(text: str) -> None:
    """Every spelling strconv.ParseBool accepts as true."""
    assert parse_bool("X", text) is True


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_go_false_spellings(text: str) -> None:
    """Every spelling strconv.ParseBool accepts as false."""
    assert parse_bool("X", text) is False


@pytest.mark.parametrize("value", ["yes", "on", "2", "", "tRuE", 2, None])
def test_other_booleans_are_rejected_naming_the_option(value: object) -> None:
    """Anything else is an error that names the option and the value."""
    with pytest.raises(ConfigError, match="JAEGER_DISABLED="):
        parse_bool("JAEGER_DISABLED", value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("1s", 1.0),
        ("500ms", 0.5),
        ("1m", 60.0),
        ("1m30s", 90.0),
        ("1.5h", 5400.0),
        ("2h45m", 9900.0),
        ("250us", 0.00025),
        ("100ns", 1e-7),
        (".5s", 0.5),
        ("+1s", 1.0),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    """Go's time.ParseDuration syntax, in seconds."""
    assert parse_duration("X", text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "1x", "-1s", "ms", "1s2", "1 s", "abc", "1.2.3s"])
def test_bad_durations_are_rejected(text: str) -> None:
    """Missing units, unknown units, negatives and garbage are errors."""
    with pytest.raises(ConfigError, match="JAEGER_REPORTER_FLUSH_INTERVAL="):
        parse_duration("JAEGER_REPORTER_FLUSH_INTERVAL", text)


def test_numbers_are_durations_in_seconds() -> None:
    """Keyword options may give a duration as a number of seconds."""
    assert parse_duration("reporter_flush_interval", 0.25) == 0.25
    with pytest.raises(ConfigError):
        parse_duration("reporter_flush_interval", -1)


def test_integers_within_bounds() -> None:
    """Whole numbers, as text (trimmed) or as a whole float."""
    assert parse_int("X", " 42 ") == 42
    assert parse_int("X", 7.0) == 7


@pytest.mark.parametrize("bad", ["4.5", "0x10", True, 4.5, "", "99999"], ids=repr)
def test_integers_rejected(bad: object) -> None:
    """Fractions, hex, booleans, blanks and values past the bound are errors."""
    with pytest.raises(ConfigError):
        parse_int("X", bad, maximum=65535)


def test_floats_within_bounds() -> None:
    """Finite numbers within the bounds."""
    assert parse_float("X", "0.25", maximum=1.0) == 0.25


@pytest.mark.parametrize("bad", ["nan", "inf", "abc", "-0.1", True], ids=repr)
def test_floats_rejected(bad: object) -> None:
    """Not-a-number, infinities, words, negatives and booleans are errors."""
    with pytest.raises(ConfigError):
        parse_float("X", bad)


def test_tags_from_the_go_syntax() -> None:
    """k=v pairs, trimmed, with ${VAR} and ${VAR:default} expansion."""
    env = {"HOST": "web-1", "EMPTY": ""}
    tags = parse_tags(
        "JAEGER_TAGS",
        " region = eu , host=${HOST}, zone=${EMPTY:z1}, missing=${NOPE}, dflt=${NOPE:d}",
        env,
    )
    assert tags == {"region": "eu", "host": "web-1", "zone": "z1", "missing": "", "dflt": "d"}


def test_tags_values_may_contain_equals_signs() -> None:
    """Only the first = separates key and value."""
    assert parse_tags("X", "query=a=b", {}) == {"query": "a=b"}


@pytest.mark.parametrize("text", ["novalue", "=v", "a=1,,=2"])
def test_malformed_tags_are_rejected(text: str) -> None:
    """An entry without a key or without = is an error."""
    with pytest.raises(ConfigError, match="JAEGER_TAGS="):
        parse_tags("JAEGER_TAGS", text, {})


def test_tags_from_a_mapping() -> None:
    """Keyword tags may be a dict; values keep their types."""
    assert parse_tags("tags", {"n": 1, "ok": True}) == {"n": 1, "ok": True}
