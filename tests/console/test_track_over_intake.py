"""The residents' /track page over intake's own lookup, served over HTTP: the two halves of
the contract that were built apart meet here (the other tests of the page use a stand-in)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from services.common.clock import FrozenClock
from services.intake.runtime import IntakeRuntime
from tests.console.fake_intake import serve
from tests.console.pages import text
from tests.console.test_track_page import look_up, track_app
from tests.intake.client import client_for
from tests.intake.residents import add_event, submit


def test_a_resident_finds_his_report_and_a_wrong_pair_is_told_nothing(
    tmp_path: Path, clock: FrozenClock, intake: IntakeRuntime
) -> None:
    behind_console = replace(intake, rules=replace(intake.rules, trusted_proxies=1))
    report = submit(behind_console)
    clock.advance(timedelta(hours=2))
    add_event(behind_console, report, "case_accepted")

    with serve(client_for(behind_console).application) as intake_url:
        app = track_app(tmp_path, clock, intake_url=intake_url)
        resident = app.test_client()
        found = look_up(resident, report.tracking_code, report.reporter_phone[-4:])
        wrong = look_up(
            resident,
            report.tracking_code,
            "0000" if report.reporter_phone[-4:] != "0000" else "1111",
        )
        app.extensions["console"].intake.close()

    assert found.status_code == 200
    page = text(found)
    assert report.tracking_code in page
    assert "正在办理" in page
    assert "社区民警已受理，将组织调解。" in page
    assert "陈先生" not in page and report.reporter_phone not in page
    assert wrong.status_code == 404
    assert "查询码或手机号后四位不正确" in text(wrong)
