import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.manifest import load_manifest, parse_manifest
from valuespectrum.personas import resolve_personas
from valuespectrum.values import Value


def test_example_manifest_is_valid() -> None:
    m = load_manifest("manifests/text_probes.yaml")
    assert m.models[0].spec == "mock" and m.controls.reverse_labels


def test_bad_yaml_names_file_and_line(tmp_path) -> None:
    p = tmp_path / "m.yaml"
    p.write_text("name: x\nmodels: [\n  - spec: mock\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"m\.yaml: invalid YAML at line \d+"):
        load_manifest(p)


def test_unknown_field_and_missing_models(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"field 'modles': unknown field"):
        parse_manifest({"modles": [{"spec": "mock"}]}, "m.yaml")
    with pytest.raises(ConfigError, match=r"m\.yaml: field 'models': required field is missing"):
        parse_manifest({"name": "x"}, "m.yaml")


def test_unknown_value_lists_valid_ones() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_manifest({"models": [{"spec": "mock"}], "probes": {"values": ["Powr"]}}, "m.yaml")
    msg = str(exc.value)
    assert "probes.values" in msg and "'Powr'" in msg and "Universalism" in msg


def test_values_accept_aliases() -> None:
    m = parse_manifest({"models": [{"spec": "mock"}], "probes": {"values": ["power", "SD"]}})
    assert m.probes.values == [Value.POWER, Value.SELF_DIRECTION]


def test_unknown_persona_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown persona 'value-powr'; valid personas are: none, neutral"):
        resolve_personas(["value-powr"])


def test_duplicate_model_labels_refused() -> None:
    with pytest.raises(ConfigError, match="labels must be unique"):
        parse_manifest({"models": [{"spec": "mock"}, {"spec": "mock"}]}, "m.yaml")


def test_top_level_not_mapping() -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_manifest(["a"], "m.yaml")
