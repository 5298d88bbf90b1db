"""Signed, expiring packet links: a good link opens; anything changed, expired or foreign is refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bot.core.packet.links import LinkRefused, sign_packet_link, verify_packet_link

SECRET = b"test-secret-not-for-production"
NOW = 1_800_000_000
EXP = NOW + 3600


def parts(url: str) -> tuple[str, str, str, str]:
    split = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(split.query).items()}
    return split.path.rsplit("/", 1)[1], query["team"], query["exp"], query["sig"]


def refused(*args: object, **kwargs: object) -> str:
    with pytest.raises(LinkRefused) as info:
        verify_packet_link(*args, **kwargs)  # type: ignore[arg-type]
    return info.value.reason


def test_good_link_shape_and_verify() -> None:
    url = sign_packet_link("https://readiness.example.com/", 42, "T0TEAM01", SECRET, EXP)
    assert url.startswith("https://readiness.example.com/packets/42?team=T0TEAM01&exp=")
    packet_id, team, exp, sig = parts(url)
    assert "=" not in sig and len(sig) == 43
    verify_packet_link(packet_id, team, exp, sig, SECRET, NOW)
    verify_packet_link(42, team, int(exp), sig, SECRET.decode(), NOW, expected_team="T0TEAM01")


@pytest.mark.parametrize(
    "field, value",
    [("id", "43"), ("team", "T0OTHER1"), ("exp", str(EXP + 86400)), ("sig", None)],
)
def test_tampered_parts_are_refused(field: str, value: str | None) -> None:
    packet_id, team, exp, sig = parts(sign_packet_link("https://r.example", 42, "T0TEAM01", SECRET, EXP))
    if field == "sig":
        value = ("A" if sig[0] != "A" else "B") + sig[1:]
    changed = {"id": packet_id, "team": team, "exp": exp, "sig": sig} | {field: value}
    assert refused(changed["id"], changed["team"], changed["exp"], changed["sig"], SECRET, NOW) == "tampered"


def test_other_secret_is_refused() -> None:
    packet_id, team, exp, sig = parts(sign_packet_link("https://r.example", 42, "T0TEAM01", SECRET, EXP))
    assert refused(packet_id, team, exp, sig, b"another-secret", NOW) == "tampered"


def test_expired_link_is_refused() -> None:
    packet_id, team, exp, sig = parts(sign_packet_link("https://r.example", 42, "T0TEAM01", SECRET, EXP))
    verify_packet_link(packet_id, team, exp, sig, SECRET, EXP - 1)
    assert refused(packet_id, team, exp, sig, SECRET, EXP) == "expired"
    assert refused(packet_id, team, exp, sig, SECRET, EXP + 10) == "expired"


def test_link_of_another_workspace_is_refused() -> None:
    packet_id, team, exp, sig = parts(sign_packet_link("https://r.example", 42, "T0TEAM01", SECRET, EXP))
    assert refused(packet_id, team, exp, sig, SECRET, NOW, expected_team="T0OTHER1") == "wrong-team"


@pytest.mark.parametrize(
    "args, reason",
    [
        ((None, "T0TEAM01", EXP, "x" * 43), "missing"),
        (("42", "", EXP, "x" * 43), "missing"),
        (("42", "T0TEAM01", None, "x" * 43), "missing"),
        (("42", "T0TEAM01", EXP, ""), "missing"),
        (("4x", "T0TEAM01", EXP, "x" * 43), "malformed"),
        (("042", "T0TEAM01", EXP, "x" * 43), "malformed"),
        (("42", "T0TEAM01", "soon", "x" * 43), "malformed"),
        (("42", "T0 TEAM", EXP, "x" * 43), "malformed"),
        (("42", "T0TEAM01", EXP, "short"), "malformed"),
    ],
)
def test_missing_or_malformed_parts_are_refused(args: tuple[object, ...], reason: str) -> None:
    assert refused(*args, SECRET, NOW) == reason


def test_signing_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        sign_packet_link("https://r.example", 42, "T0TEAM01", b"", EXP)
    with pytest.raises(ValueError):
        sign_packet_link("https://r.example", 0, "T0TEAM01", SECRET, EXP)
    with pytest.raises(ValueError):
        sign_packet_link("https://r.example", 42, "T0&x=1", SECRET, EXP)


def test_the_signature_is_the_documented_hmac():
    import base64
    import hashlib
    import hmac

    url = sign_packet_link("https://r.example", 42, "T0TEAM01", SECRET, EXP)
    digest = hmac.new(SECRET, f"42|T0TEAM01|{EXP}".encode(), hashlib.sha256).digest()
    assert parts(url)[3] == base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_the_expiry_is_the_last_moment_excluded_and_is_signed():
    packet_id, team, exp, sig = parts(sign_packet_link("https://r.example", 42, "T0TEAM01", SECRET, EXP))
    verify_packet_link(packet_id, team, exp, sig, SECRET, EXP - 0.001)
    assert refused(packet_id, team, exp, sig, SECRET, EXP) == "expired"
    assert refused(packet_id, team, exp, sig, SECRET, EXP + 0.5) == "expired"
    # an expired link whose exp is pushed forward is refused as changed, not honoured
    assert refused(packet_id, team, str(EXP + 3600), sig, SECRET, EXP + 10) == "tampered"
    # an expired link is refused before the workspace is compared
    assert refused(packet_id, team, exp, sig, SECRET, EXP, expected_team="T0OTHER1") == "expired"
    verify_packet_link(packet_id, team, exp, sig, SECRET, EXP - 1, expected_team="T0TEAM01")


def test_packet_one_is_a_good_id_and_zero_or_a_boolean_is_not():
    url = sign_packet_link("https://r.example", 1, "T0TEAM01", SECRET, EXP)
    assert url.startswith("https://r.example/packets/1?team=T0TEAM01&exp=")
    verify_packet_link(*parts(url), SECRET, NOW)
    _, team, exp, sig = parts(url)
    assert refused("0", team, exp, sig, SECRET, NOW) == "malformed"
    assert refused("-1", team, exp, sig, SECRET, NOW) == "malformed"
    for bad in (0, -3, True, "7"):
        with pytest.raises(ValueError, match=r"^packet_id must be a positive integer$"):
            sign_packet_link("https://r.example", bad, "T0TEAM01", SECRET, EXP)  # type: ignore[arg-type]


def test_signing_names_what_is_wrong_and_keeps_the_base_url():
    with pytest.raises(ValueError, match=r"^team_id must be a workspace id$"):
        sign_packet_link("https://r.example", 42, "T0&x=1", SECRET, EXP)
    with pytest.raises(ValueError, match=r"^the link secret must not be empty$"):
        sign_packet_link("https://r.example", 42, "T0TEAM01", "", EXP)
    url = sign_packet_link("https://r.example/BOX//", 42, "T0TEAM01", SECRET, EXP)
    assert url.startswith("https://r.example/BOX/packets/42?")


def test_empty_parts_are_missing_not_malformed():
    packet_id, team, exp, sig = parts(sign_packet_link("https://r.example", 42, "T0TEAM01", SECRET, EXP))
    assert refused("", team, exp, sig, SECRET, NOW) == "missing"
    assert refused(packet_id, team, "", sig, SECRET, NOW) == "missing"


def test_a_refusal_says_why_in_words():
    from bot.core.packet.links import REASONS

    for reason, text in REASONS.items():
        refusal = LinkRefused(reason)
        assert (refusal.reason, str(refusal)) == (reason, text)
    assert str(LinkRefused("something else")) == "something else"
    with pytest.raises(LinkRefused, match=r"^The link has expired\. Ask for a new one in Slack\.$"):
        verify_packet_link(*parts(sign_packet_link("https://r.example", 42, "T0TEAM01", SECRET, EXP)), SECRET, EXP)
