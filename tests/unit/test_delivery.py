"""How a session's stream is delivered: broadcast mode, the cut, and its interpretation
languages."""

from __future__ import annotations

import datetime as dt

import pytest

from sessions.delivery import (
    MAX_LANGUAGES,
    BroadcastChanged,
    CutChanged,
    Delivery,
    DeliveryError,
    InterpretationChanged,
    SetBroadcast,
    SetCut,
    SetInterpretation,
)

NOW = dt.datetime(2026, 5, 11, 10, tzinfo=dt.UTC)


def test_switches_say_only_what_changed() -> None:
    delivery = Delivery()
    assert delivery.apply(SetBroadcast("panel", "mod", True), NOW) == [
        BroadcastChanged("panel", True)
    ]
    assert delivery.apply(SetBroadcast("panel", "mod", True), NOW) == []
    assert delivery.apply(SetCut("panel", "mod", True), NOW) == [CutChanged("panel", True, "mod")]
    assert delivery.is_broadcast("panel") and delivery.is_cut("panel")
    assert not delivery.is_broadcast("side")


def test_interpretation_languages_are_codes_each_once_in_order() -> None:
    delivery = Delivery()
    declared = delivery.apply(SetInterpretation("panel", "mod", (" FR", "de", "fr")), NOW)
    assert declared == [InterpretationChanged("panel", ("fr", "de"))]
    assert delivery.languages("panel") == ("fr", "de")
    assert delivery.apply(SetInterpretation("panel", "mod", ("fr", "de")), NOW) == []
    assert delivery.apply(SetInterpretation("panel", "mod", ()), NOW) == [
        InterpretationChanged("panel", ())
    ]
    assert delivery.languages("side") == ()


@pytest.mark.parametrize(
    ("languages", "code"),
    [
        (("fr", "français"), "delivery.language_invalid"),
        (("f",), "delivery.language_invalid"),
        (("fr-CA",), "delivery.language_invalid"),
        (tuple(f"l{chr(97 + i)}" for i in range(MAX_LANGUAGES + 1)), "delivery.too_many_languages"),
    ],
)
def test_a_bad_language_list_is_refused_and_changes_nothing(
    languages: tuple[str, ...], code: str
) -> None:
    delivery = Delivery()
    delivery.apply(SetInterpretation("panel", "mod", ("fr",)), NOW)
    with pytest.raises(DeliveryError) as refused:
        delivery.apply(SetInterpretation("panel", "mod", languages), NOW)
    assert refused.value.code == code and refused.value.kind == "invalid"
    assert delivery.languages("panel") == ("fr",)
