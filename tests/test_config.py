"""Option resolution: keyword > environment > default, validation and error messages."""

from __future__ import annotations

import pytest

from jaeger_lite import ConfigError
from jaeger_lite.config import OPTIONS, resolve_options


def test_defaults() -> None:
    """With only a service name: UDP to localhost:6831, remote sampling, jaeger format."""
    options = resolve_options("svc", environ={})
    assert (options.agent_host, options.agent_port) == ("localhost", 6831)
    assert options.endpoint is None
    assert (options.sampler_type, options.sampler_param) == ("remote", 0.001)
    assert options.effective_sampling_endpoint == "http://127.0.0.1:5778/sampling"
    assert options.sampler_refresh_interval == 60.0
    assert options.reporter_flush_interval == 1.0
    assert options.propagation == ("jaeger",)
    assert not options.disabled and not options.traceid_128bit


def test_every_variable_is_read_from_the_environment() -> None:
    """Each option has a JAEGER_* variable that sets it."""
    env = {
        "JAEGER_SERVICE_NAME": "from-env",
        "JAEGER_DISABLED": "false",
        "JAEGER_AGENT_HOST": "agent.local",
        "JAEGER_AGENT_PORT": "6832",
        "JAEGER_AGENT_MAX_PACKET_SIZE": "9216",
        "JAEGER_ENDPOINT": "http://collector:14268/api/traces",
        "JAEGER_USER": "u",
        "JAEGER_PASSWORD": "p",
        "JAEGER_TAGS": "a=1",
        "JAEGER_SAMPLER_TYPE": "probabilistic",
        "JAEGER_SAMPLER_PARAM": "0.5",
        "JAEGER_SAMPLING_ENDPOINT": "http://sampler:5778/sampling",
        "JAEGER_SAMPLER_MANAGER_HOST_PORT": "old:5778",
        "JAEGER_SAMPLER_REFRESH_INTERVAL": "30s",
        "JAEGER_SAMPLER_MAX_OPERATIONS": "10",
        "JAEGER_REPORTER_MAX_QUEUE_SIZE": "500",
        "JAEGER_REPORTER_FLUSH_INTERVAL": "250ms",
        "JAEGER_REPORTER_LOG_SPANS": "true",
        "JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED": "true",
        "JAEGER_REPORTER_ATTEMPT_RECONNECT_INTERVAL": "1m",
        "JAEGER_TRACEID_128BIT": "1",
        "JAEGER_PROPAGATION": "w3c, b3",
    }
    options = resolve_options(environ=env)
    jaeger = [o for o in OPTIONS if o.env.startswith("JAEGER_")]
    assert [o.name for o in jaeger if options.sources[o.name] != "env"] == ["auth_token"]
    assert options.service_name == "from-env"
    assert options.agent_max_packet_size == 9216
    assert options.sampler_param == 0.5
    assert options.sampler_refresh_interval == 30.0
    assert options.reporter_flush_interval == 0.25
    assert options.reporter_attempt_reconnect_interval == 60.0
    assert options.propagation == ("w3c", "b3")
    assert options.effective_sampling_endpoint == "http://sampler:5778/sampling"


def test_keywords_win_over_the_environment() -> None:
    """A keyword option overrides its variable; strings are parsed like the env."""
    env = {"JAEGER_AGENT_PORT": "1111", "JAEGER_REPORTER_FLUSH_INTERVAL": "5s"}
    options = resolve_options("svc", environ=env, agent_port=2222, reporter_flush_interval="100ms")
    assert options.agent_port == 2222 and options.reporter_flush_interval == 0.1
    assert options.sources["agent_port"] == "keyword"


def test_service_name_argument_wins_over_the_variable() -> None:
    """init_tracer('name') beats JAEGER_SERVICE_NAME."""
    assert resolve_options("arg", environ={"JAEGER_SERVICE_NAME": "env"}).service_name == "arg"


def test_empty_variables_count_as_unset() -> None:
    """JAEGER_AGENT_HOST= (empty) falls back to the default."""
    assert resolve_options("svc", environ={"JAEGER_AGENT_HOST": " "}).agent_host == "localhost"


def test_unknown_keyword_suggests_the_closest_option() -> None:
    """A typo names the key and the option it probably meant."""
    with pytest.raises(ConfigError, match="'sampler_parm'.*'sampler_param'"):
        resolve_options("svc", environ={}, sampler_parm=1)


def test_bad_environment_values_name_the_variable() -> None:
    """The error names the variable and its value."""
    with pytest.raises(ConfigError, match="JAEGER_AGENT_PORT='70000'"):
        resolve_options("svc", environ={"JAEGER_AGENT_PORT": "70000"})
    with pytest.raises(ConfigError, match="JAEGER_SAMPLER_TYPE='sometimes'"):
        resolve_options("svc", environ={"JAEGER_SAMPLER_TYPE": "sometimes"})
    with pytest.raises(ConfigError, match="JAEGER_ENDPOINT='collector:14268'"):
        resolve_options("svc", environ={"JAEGER_ENDPOINT": "collector:14268"})


def test_service_name_is_required_unless_disabled() -> None:
    """No service name is an error, except for a disabled tracer."""
    with pytest.raises(ConfigError, match="service_name is required"):
        resolve_options(environ={})
    assert resolve_options(environ={"JAEGER_DISABLED": "true"}).disabled


def test_credentials_must_be_consistent() -> None:
    """User and password go together; a token excludes them. jaeger-client-go refuses
    JAEGER_USER without JAEGER_PASSWORD (or with an empty one) too: "you must set
    JAEGER_USER and JAEGER_PASSWORD env vars together" (config_env.go)."""
    with pytest.raises(ConfigError, match="JAEGER_USER and JAEGER_PASSWORD"):
        resolve_options("svc", environ={"JAEGER_USER": "u"})
    endpoint = {"JAEGER_ENDPOINT": "http://collector:14268/api/traces"}
    with pytest.raises(ConfigError, match="JAEGER_USER and JAEGER_PASSWORD"):
        resolve_options("svc", environ={**endpoint, "JAEGER_USER": "u", "JAEGER_PASSWORD": ""})
    with pytest.raises(ConfigError, match="not both"):
        resolve_options("svc", environ={}, user="u", password="p", auth_token="t")


@pytest.mark.parametrize(
    ("kind", "expected"), [("const", 1.0), ("ratelimiting", 1.0), ("probabilistic", 0.001)]
)
def test_sampler_param_default_depends_on_the_type(kind: str, expected: float) -> None:
    """An unset param never means 'sample nothing'."""
    assert resolve_options("svc", environ={}, sampler_type=kind).sampler_param == expected


def test_sampler_param_is_validated_for_its_type() -> None:
    """const takes 0/1 and rates live in [0, 1]."""
    with pytest.raises(ConfigError, match="const"):
        resolve_options("svc", environ={}, sampler_type="const", sampler_param=2)
    with pytest.raises(ConfigError, match="JAEGER_SAMPLER_PARAM"):
        resolve_options(
            "svc", environ={"JAEGER_SAMPLER_TYPE": "probabilistic", "JAEGER_SAMPLER_PARAM": "1.5"}
        )
    assert resolve_options("svc", environ={}, sampler_type="rate_limiting").sampler_type == (
        "ratelimiting"
    )


def test_sampling_endpoint_follows_the_agent_host() -> None:
    """Setting the agent host moves the sampling URL to it (as in jaeger-client-go)."""
    options = resolve_options("svc", environ={"JAEGER_AGENT_HOST": "::1"})
    assert options.effective_sampling_endpoint == "http://[::1]:5778/sampling"


@pytest.mark.parametrize(
    ("manager", "url"),
    [("old:5778", "http://old:5778/sampling"), ("http://old:5778", "http://old:5778/sampling")],
)
def test_deprecated_sampler_manager_host_port(manager: str, url: str) -> None:
    """Java's host:port and Go's URL forms both work."""
    options = resolve_options("svc", environ={"JAEGER_SAMPLER_MANAGER_HOST_PORT": manager})
    assert options.effective_sampling_endpoint == url


def test_propagation_names_are_validated() -> None:
    """Unknown format names are rejected."""
    with pytest.raises(ConfigError, match="JAEGER_PROPAGATION='zipkin'"):
        resolve_options("svc", environ={"JAEGER_PROPAGATION": "zipkin"})


@pytest.mark.parametrize(
    ("variable", "option", "values"),
    [
        ("JAEGER_REPORTER_MAX_QUEUE_SIZE", "reporter_max_queue_size", ["0", "-1", " -0 "]),
        ("JAEGER_REPORTER_FLUSH_INTERVAL", "reporter_flush_interval", ["0", "0s", "-1s", "-0.5ms"]),
        ("JAEGER_SAMPLER_REFRESH_INTERVAL", "sampler_refresh_interval", ["0", "0ms", "-1m"]),
        ("JAEGER_SAMPLER_MAX_OPERATIONS", "sampler_max_operations", ["0", "-5"]),
        (
            "JAEGER_REPORTER_ATTEMPT_RECONNECT_INTERVAL",
            "reporter_attempt_reconnect_interval",
            ["0"],
        ),
    ],
)
def test_zero_or_negative_means_the_default_as_in_jaeger_client_go(
    variable: str, option: str, values: list[str]
) -> None:
    """jaeger-client-go replaces these zero or negative values with its defaults (its
    RemoteReporter, remote sampler options, per-operation sampler, UDP client): here such a
    variable counts as unset, so the default applies."""
    default = getattr(resolve_options("svc", environ={}), option)
    for value in values:
        resolved = resolve_options("svc", environ={variable: value})
        assert getattr(resolved, option) == default, value
        assert resolved.sources[option] == "default"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("JAEGER_REPORTER_MAX_QUEUE_SIZE", "none"),
        ("JAEGER_REPORTER_MAX_QUEUE_SIZE", "-1.5"),
        ("JAEGER_REPORTER_FLUSH_INTERVAL", "-soon"),
        ("JAEGER_SAMPLER_MAX_OPERATIONS", "-"),
        # Go panics on a negative reconnect interval (time.NewTicker); no port 0 default.
        ("JAEGER_REPORTER_ATTEMPT_RECONNECT_INTERVAL", "-1s"),
        ("JAEGER_AGENT_PORT", "0"),
        ("JAEGER_AGENT_PORT", "-1"),
        ("JAEGER_AGENT_MAX_PACKET_SIZE", "0"),
        ("JAEGER_SAMPLER_PARAM", "-1"),
    ],
)
def test_what_go_does_not_default_stays_an_error(variable: str, value: str) -> None:
    """A value that is no number, and a zero or negative one Go has no default for, is
    still a ConfigError naming the variable and the value."""
    with pytest.raises(ConfigError, match=f"{variable}={value!r}"):
        resolve_options("svc", environ={variable: value, "JAEGER_SAMPLER_TYPE": "probabilistic"})
