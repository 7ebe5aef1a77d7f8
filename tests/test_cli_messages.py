"""`fengqiao messages`: parked messages listed with phones masked, and replayed."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner
from marshmallow import ValidationError

from services.cli import main
from services.common.contracts import OPEN_CASE
from services.mediation.models import DeadLetter
from services.mediation.runtime import MediationRuntime
from tests import messages
from tests.outbox import outbox_where


@pytest.fixture
def cli(
    mediation: MediationRuntime, pg_urls: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    """The `fengqiao` command, configured for the test's databases and Redis."""
    for service, url in pg_urls.items():
        monkeypatch.setenv(f"{service.upper()}_DATABASE_URL", url)
    monkeypatch.setenv("BROKER_URL", mediation.settings.broker_url)
    monkeypatch.setenv("FENGQIAO_VAR_DIR", str(mediation.settings.var_dir))
    return CliRunner()


def park_a_case(mediation: MediationRuntime) -> uuid.UUID:
    wire = OPEN_CASE.dump(messages.open_case())
    return mediation.messaging.park(
        task=OPEN_CASE.task,
        message=wire,
        error=ValidationError({"summary": ["too long"]}),
        attempts=1,
    )


def status_of(mediation: MediationRuntime, message_id: uuid.UUID) -> str:
    with mediation.db.sessions() as session:
        row = session.get(DeadLetter, message_id)
        assert row is not None
        return row.status


def test_the_list_shows_each_parked_message_with_phones_masked(
    cli: CliRunner, mediation: MediationRuntime
) -> None:
    message_id = park_a_case(mediation)

    listed = cli.invoke(main, ["messages", "dead", "mediation"])

    assert listed.exit_code == 0, listed.output
    entry = listed.output.split(str(message_id), 1)[1].split("\n\n", 1)[0]
    assert "mediation.open_case" in entry and "waiting" in entry
    assert "tries 1" in entry
    assert "ValidationError: {'summary': ['too long']}" in entry
    assert "139****9000" in entry  # a party's phone, masked
    assert "13900139000" not in listed.output
    assert "parked message" in listed.output


def test_one_message_is_replayed_through_the_outbox(
    cli: CliRunner, mediation: MediationRuntime
) -> None:
    message_id = park_a_case(mediation)

    replayed = cli.invoke(main, ["messages", "replay", str(message_id)])

    assert replayed.exit_code == 0, replayed.output
    assert f"{message_id}  mediation  replayed" in replayed.output
    assert status_of(mediation, message_id) == "replayed"
    [(task, payload)] = outbox_where(mediation, "message_id", equals=str(message_id))
    assert task == OPEN_CASE.task
    assert payload["message_id"] == str(message_id)  # the consumer still knows it


def test_all_waiting_messages_of_a_service_are_replayed(
    cli: CliRunner, mediation: MediationRuntime
) -> None:
    parked = [park_a_case(mediation), park_a_case(mediation)]

    replayed = cli.invoke(main, ["messages", "replay", "--all", "--service", "mediation"])

    assert replayed.exit_code == 0, replayed.output
    assert [status_of(mediation, message_id) for message_id in parked] == ["replayed"] * 2
    listed = cli.invoke(main, ["messages", "dead", "mediation"]).output
    assert not any(str(message_id) in listed for message_id in parked)


def test_replaying_a_message_that_does_not_wait_says_so(cli: CliRunner) -> None:
    unknown = uuid.uuid4()

    answer = cli.invoke(main, ["messages", "replay", str(unknown)])
    neither = cli.invoke(main, ["messages", "replay"])

    assert answer.exit_code == 1
    assert f"no waiting parked message {unknown}" in answer.output
    assert neither.exit_code == 2 and "give one MESSAGE_ID or --all" in neither.output
