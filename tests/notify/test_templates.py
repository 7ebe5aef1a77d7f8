"""SMS text: the signature, forbidden brackets, parameters, length and segments."""

from __future__ import annotations

import pytest

from services.notify.templates import TEMPLATES, TemplateError, count_segments, render

SIGNATURE = "【魏村派出所】"


def test_a_message_starts_with_the_signature() -> None:
    rendered = render(
        signature=SIGNATURE, template_name="report_received", params={"tracking_code": "WC1"}
    )
    assert rendered.text.startswith(SIGNATURE)
    assert "WC1" in rendered.text
    assert rendered.segments == 1


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (500, 8)]
)
def test_segments_are_70_for_one_and_67_per_part_beyond(length: int, segments: int) -> None:
    assert count_segments("字" * length) == segments


def test_a_missing_parameter_is_refused_by_name() -> None:
    with pytest.raises(TemplateError, match="due"):
        render(
            signature=SIGNATURE,
            template_name="case_assigned",
            params={"tracking_code": "WC1", "village": "weicun-1"},
        )


def test_brackets_reserved_for_the_signature_are_refused_in_the_body() -> None:
    with pytest.raises(TemplateError, match="【"):
        render(
            signature=SIGNATURE,
            template_name="report_received",
            params={"tracking_code": "【假冒】"},
        )


def test_a_message_over_500_characters_is_refused() -> None:
    with pytest.raises(TemplateError, match="500"):
        render(
            signature=SIGNATURE,
            template_name="report_received",
            params={"tracking_code": "码" * 480},
        )


def test_an_unknown_template_is_refused() -> None:
    with pytest.raises(TemplateError, match="unknown template"):
        render(signature=SIGNATURE, template_name="lottery_win", params={})


# A link is as long as the station's address makes it: those messages are counted with a
# real one (tests/intake/test_acknowledgement_link.py).
@pytest.mark.parametrize(
    "template", sorted(t for t in TEMPLATES if "track_url" not in TEMPLATES[t].fields)
)
def test_every_template_fits_one_segment_with_typical_values(template: str) -> None:
    params = {name: "WC12345678" for name in TEMPLATES[template].fields}
    assert render(signature=SIGNATURE, template_name=template, params=params).segments == 1
