import pytest
from pydantic import ValidationError

from refinery.filters.metadata_filter import MetadataFilter, url_host
from refinery.filters.options import MetadataFilterOptions


def test_url_host():
    assert url_host("https://WWW.Example.com:8080/a?b") == "www.example.com"
    assert url_host("example.org/page") == "example.org"
    assert url_host("http://[::1") is None


def test_reasons(make_doc):
    f = MetadataFilter(blocked_domains=["www.spam.example", "Bad.Org"], blocked_url_patterns=[r"/tag/\d+"],
                       blocked_title_patterns=[r"^page not found$"], required_keys=["source"])
    cases = {
        "missing_metadata:source": make_doc("t", url="https://ok.example/"),
        "blocked_domain": make_doc("t", source="s", url="http://news.spam.example/x"),
        "blocked_url_pattern": make_doc("t", source="s", url="https://ok.example/tag/12"),
        "blocked_title": make_doc("t", source="s", title="Page Not Found"),
    }
    for reason, doc in cases.items():
        assert f.filter(doc) == (False, reason)
    assert f.filter(make_doc("t", source="s", url="https://bad.org.ok.example/", title="Home")) is True
    assert f.filter(make_doc("t", source="s", url="https://BAD.org/")) == (False, "blocked_domain")
    assert f.filter(make_doc("t", source="s")) is True  # no url/title: those rules do not apply
    assert f.filter(make_doc("t", source="")) == (False, "missing_metadata:source")


def test_custom_keys(make_doc):
    f = MetadataFilter(blocked_domains=["x.com"], url_key="link", title_key="name",
                       blocked_title_patterns=["draft"])
    assert f.filter(make_doc("t", link="https://x.com")) == (False, "blocked_domain")
    assert f.filter(make_doc("t", name="DRAFT v2")) == (False, "blocked_title")


def test_options_reject_bad_regex():
    with pytest.raises(ValidationError):
        MetadataFilterOptions(blocked_url_patterns=["("])
    assert not MetadataFilterOptions().has_rules()
    assert MetadataFilterOptions(required_keys=["source"]).has_rules()
