import pytest
from pydantic import ValidationError

from refinery.filters.options import DEFAULT_PII_PLACEHOLDERS, PIIOptions
from refinery.filters.pii import PIIRedactor, find_pii, luhn_valid, redact_pii
from tests.filters import pii_snippets

PII = {
    "email": ["john.doe@gmail.com", "a.b+tag@mail.co.uk"],
    "phone": ["(555) 123-4567", "555-123-4567", "555.123.4567", "+44 20 7946 0958", "+1 (555) 123-4567",
              "1-800-555-1234", "+49 30 12345678", "+33 1 23 45 67 89", "+15551234567", "+44 (0)20 7946 0958"],
    "ip_address": ["192.168.1.10", "93.184.216.34", "2a00:1450:4001:82b::200e", "fe80::1", "::ffff:93.184.216.34",
                   "2001:4860:4860:0000:0000:0000:0000:8888"],
    "credit_card": ["4111 1111 1111 1111", "4111-1111-1111-1111", "5500 0000 0000 0004", "3782 822463 10005"],
    "us_ssn": ["123-45-6789", "078-05-1120"],
}

NOT_PII = [
    "2024-01-15", "01/15/2024", "15.01.2024", "2024-01-15T10:30:00Z", "2024-01-15T10:30:00+02:00",
    "2024-01-15 10:30:00", "version 1.2.3", "v2.10.4567", "1.2.3.4.5", "version 1.2.3.4", "5551234567",
    "12:30:45", "00:1a:2b:3c:4d:5e", "std::vector", "x :: Int", "ISBN 978-0-306-40615-7", "1234567890123",
    "256.1.1.1", "192.168.01.1", "call me at 555-1234", "+3 points", "UTC+05:30", "room 101",
    # section numbers, versions, figures, timestamps (precision on technical text)
    "Section 14.2.2.1", "§ 3.1.4.1", "chapter 10.1.2.3", "release 3.8.8.3", "1.098 320 3762", "20240115103000",
    "4111111111111111", "1.2.3.4", "::4", "2147483647", "+12345.000",
    # Luhn-invalid cards
    "4111 1111 1111 1112", "4111111111111112", "1234 5678 9012 3456",
    # SSNs in never-issued ranges
    "000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000",
]


@pytest.mark.parametrize("kind,value", [(k, v) for k, vs in PII.items() for v in vs])
def test_each_kind_is_found_and_redacted(kind, value):
    text = f"Contact: {value}. Thanks"
    assert find_pii(text) == [(kind, 9, 9 + len(value))]
    redacted, counts = redact_pii(text)
    assert redacted == f"Contact: {DEFAULT_PII_PLACEHOLDERS[kind]}. Thanks"
    assert counts[kind] == 1 and sum(counts.values()) == 1


@pytest.mark.parametrize("value", NOT_PII)
def test_lookalikes_are_left_alone(value):
    text = f"See {value} here."
    assert find_pii(text) == []
    assert redact_pii(text)[0] == text


def test_luhn():
    assert luhn_valid("4111111111111111") and luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")


def test_redactor_step_placeholders_stats_and_metadata(make_doc):
    text = ("Mail jane@corp.acme.io or call (555) 123-4567 / +44 20 7946 0958 from 10.0.0.1; "
            "card 4111 1111 1111 1111, SSN 123-45-6789. Meeting on 2024-03-05 at 10:30, release 2.4.1.")
    placeholders = {"email": "[EMAIL]", "phone": "[PHONE]", "ip_address": "[IP]", "credit_card": "[CARD]",
                    "us_ssn": "[SSN]"}
    step = PIIRedactor(placeholders=placeholders)
    doc, clean = make_doc(text), make_doc("Nothing to see.")
    out = list(step.run(iter([doc, clean])))
    assert out[0].text == ("Mail [EMAIL] or call [PHONE] / [PHONE] from [IP]; card [CARD], SSN [SSN]. "
                           "Meeting on 2024-03-05 at 10:30, release 2.4.1.")
    assert out[0].metadata["pii_redactions"] == {"email": 1, "phone": 2, "ip_address": 1, "credit_card": 1,
                                                 "us_ssn": 1}
    assert out[1].metadata["pii_redactions"] == dict.fromkeys(placeholders, 0)
    assert find_pii(out[0].text) == []
    stats = step.stats.stats
    assert stats["pii_phone"].total == 2 and stats["pii_email"].total == 1 and stats["pii_us_ssn"].total == 1
    assert stats["pii_documents"].total == 1


def test_only_configured_kinds(make_doc):
    step = PIIRedactor(kinds=["email"])
    doc = list(step.run(iter([make_doc("a@b.io and 555-123-4567")])))[0]
    assert doc.text == "<EMAIL> and 555-123-4567"
    assert doc.metadata["pii_redactions"] == {"email": 1}
    assert find_pii(doc.text, ["email"]) == [] and find_pii(doc.text) != []


def test_overlaps_keep_the_longest_span():
    assert find_pii("write to 555-123-4567@pager.acme.io now") == [("email", 9, 35)]
    # a kept value still occupies its span: the digits inside an example address are no phone number
    assert find_pii("write to 555-123-4567@pager.example now") == []
    assert find_pii("write to 555-123-4567@pager.example now", keep_documentation_values=False) == [
        ("email", 9, 35)]


def test_redacted_output_never_matches():
    # space-separated: adjacent numbers must not swallow each other
    text = " ".join(v for vs in PII.values() for v in vs) + " " + " ".join(NOT_PII)
    redacted, counts = redact_pii(text)
    assert find_pii(redacted) == []
    assert sum(counts.values()) == sum(len(vs) for vs in PII.values())
    for placeholder in DEFAULT_PII_PLACEHOLDERS.values():
        assert find_pii(f"{placeholder}{placeholder} {placeholder}") == []


def test_placeholders_that_look_like_pii_are_rejected():
    with pytest.raises(ValueError, match="itself detected"):
        PIIRedactor(placeholders={"email": "redacted@example.com"})
    with pytest.raises(ValidationError):
        PIIOptions(placeholders={"phone": "555-000-1234"})
    with pytest.raises(ValidationError):
        PIIOptions(kinds=["passport"])
    with pytest.raises(ValueError, match="unknown PII kinds"):
        find_pii("x", ["passport"])


def test_longest_valid_shape_wins():
    text = "+44 20 7946 0958 2023 and 4111 1111 1111 1111 2024"
    assert [text[s:e] for _, s, e in find_pii(text)] == ["+44 20 7946 0958", "4111 1111 1111 1111"]


def test_email_edges():
    text = "Write to 'jane.doe@corp.acme.io', mailto:x_y@z.io. or user@[10.0.0.1]; not @handle or a@b"
    assert [text[s:e] for _, s, e in find_pii(text)] == ["jane.doe@corp.acme.io", "x_y@z.io", "user@[10.0.0.1]"]


def test_pathological_input_stays_linear():
    import time

    t0 = time.perf_counter()
    for pattern in ("a-", "1.", "+1", "ff:", "a@a."):
        find_pii(pattern * 100_000)
    assert time.perf_counter() - t0 < 10  # a backtracking regression takes minutes here


# --- precision on technical text: real passages from Debian's documentation packages (pii_snippets.py)

def _found(text, **keep):
    return [text[s:e] for _, s, e in find_pii(text, **keep)]


@pytest.mark.parametrize("name", list(pii_snippets.NOT_PII))
def test_real_manual_passages_hold_no_pii(name):
    text = pii_snippets.NOT_PII[name]
    assert find_pii(text) == []
    assert redact_pii(text)[0] == text


@pytest.mark.parametrize("name", list(pii_snippets.PII))
def test_real_contact_data_in_manuals_is_found(name):
    text, values = pii_snippets.PII[name]
    assert _found(text) == values
    redacted, _ = redact_pii(text)
    assert not any(v in redacted for v in values) and find_pii(redacted) == []


@pytest.mark.parametrize("name", list(pii_snippets.PRIVATE))
def test_private_addresses_are_redacted_unless_kept(name):
    text, values = pii_snippets.PRIVATE[name]
    assert _found(text) == values
    assert _found(text, keep_private_ips=True) == []


@pytest.mark.parametrize("text,values", pii_snippets.PLANTED)
def test_pii_planted_in_real_sentences_is_found(text, values):
    assert _found(text) == values


DOC_VALUES = {  # reserved for documentation (RFC 5737, 3849, 2606, 6761), loopback, placeholders
    "ip_address": ["192.0.2.1", "198.51.100.23", "203.0.113.254", "2001:db8::8a2e:370:7334",
                   "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::ffff:192.0.2.1", "127.0.0.1", "::1", "255.255.255.255",
                   "224.0.0.251", "255.255.255.0"],
    "email": ["john.doe@example.com", "ops@mail.example.org", "a@b.example", "x@host.test", "joe@foo.com",
              "you@yourdomain.com", "user@gmail.com"],
}


@pytest.mark.parametrize("kind,value", [(k, v) for k, vs in DOC_VALUES.items() for v in vs])
def test_documentation_values_are_kept_by_default(kind, value):
    text = f"Contact: {value}. Thanks"
    assert find_pii(text) == []
    assert find_pii(text, keep_documentation_values=False) == [(kind, 9, 9 + len(value))]
    assert redact_pii(text, keep_documentation_values=False)[0] == f"Contact: {DEFAULT_PII_PLACEHOLDERS[kind]}. Thanks"


def test_ip_context():
    assert _found("connect to 10.1.2.3") == ["10.1.2.3"]
    assert _found("host 172.16.5.4 port 22") == ["172.16.5.4"]
    assert _found("IP address 8.8.4.4, or 1.1.1.1:53, or 4.2.2.0/24") == ["8.8.4.4", "1.1.1.1", "4.2.2.0"]
    assert _found("ping 8.8.8.8") == ["8.8.8.8"] and _found("see 8.8.8.8") == []
    for heading in ("14.2.2.1 Title of the section", "## 3.1.4.1 Networking", "- 1.2.3.4. Item", "  2.3.1.1 Intro"):
        assert _found(heading) == [], heading
    assert _found("10.0.0.1 localhost") == ["10.0.0.1"]  # a hosts file, not a heading
    assert _found("listen on 0.0.0.0:8080") == [] and _found("listen on 0.0.0.0:8080", keep_documentation_values=False)
    assert _found("Contents: 3.1.4.1 Foo, 3.1.4.2 Bar, 3.1.4.3 Baz") == []


def test_phone_shapes_and_context():
    assert _found("| 1.098 320 3762 | 2.114 118 2210 |") == []  # benchmark figures
    assert _found("Tel: 030 1234567") == ["030 1234567"]
    assert _found("Mobile: 06 12 34 56 78") == ["06 12 34 56 78"]
    assert _found("030 1234567") == []  # national numbers need a phone word
    assert _found("call 555 123 4567") == ["555 123 4567"] and _found("sizes 555 123 4567") == []
    assert _found("phone 5551234567") == ["5551234567"]
    for value in ("+44 20 7946 0958", "(555) 123-4567", "555-123-4567", "555.123.4567"):  # distinctive alone
        assert _found(f"x {value} x") == [value]


def test_card_layout_and_context():
    assert _found("card 4111111111111111") == ["4111111111111111"]
    assert _found("Visa: 4111111111111111") == ["4111111111111111"]
    assert _found("payment 20240115103000") == []  # Luhn-valid or not, a timestamp is no card
    assert _found("4111 1111 1111 1111 and 4111-1111-1111-1111") == ["4111 1111 1111 1111", "4111-1111-1111-1111"]
    assert _found("4111 1111-1111 1111") == []  # mixed separators
    assert _found("3782 822463 10005") == ["3782 822463 10005"]


def test_keep_options_reach_the_redactor(make_doc):
    text = "gateway 192.168.0.1, docs 192.0.2.7, joe@example.com, mail ana@acme.io"
    default = list(PIIRedactor().run(iter([make_doc(text)])))[0].text
    assert default == "gateway <IP_ADDRESS>, docs 192.0.2.7, joe@example.com, mail <EMAIL>"
    kept = list(PIIRedactor(keep_private_ips=True).run(iter([make_doc(text)])))[0].text
    assert kept == "gateway 192.168.0.1, docs 192.0.2.7, joe@example.com, mail <EMAIL>"
    strict = PIIRedactor(keep_documentation_values=False).format(text)
    assert strict == "gateway <IP_ADDRESS>, docs <IP_ADDRESS>, <EMAIL>, mail <EMAIL>"
    assert PIIRedactor(kept_email_domains=["acme.io"]).format(text) == \
        "gateway <IP_ADDRESS>, docs 192.0.2.7, joe@example.com, mail ana@acme.io"
    opts = PIIOptions(keep_private_ips=True)
    assert PIIRedactor(**opts.detector_args()).format(text) == kept


def test_placeholders_are_checked_with_nothing_kept():
    # an example.com placeholder is kept by default, but would be PII with keep_documentation_values=False
    with pytest.raises(ValueError, match="itself detected"):
        PIIRedactor(placeholders={"ip_address": "192.0.2.0"})
