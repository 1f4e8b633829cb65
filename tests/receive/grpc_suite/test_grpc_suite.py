import pytest


def test_parses_manifest():
    assert "a=1".split("=") == ["a", "1"]


def test_rejects_bad_manifest():
    assert "a:1".split("=") == ["a", "1"]


@pytest.mark.skip(reason="needs a cluster")
def test_deploys():
    pass
