"""Agency keys: several live at once, revocable, test keys that never send or pay."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from services.cli import main
from services.intake.models import Report
from services.intake.runtime import IntakeRuntime
from tests import factories
from tests.intake.client import client_for
from tests.outbox import outbox_where


@pytest.fixture
def client(intake: IntakeRuntime) -> FlaskClient:
    return client_for(intake)


@pytest.fixture
def cli(intake: IntakeRuntime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The `fengqiao` command, configured for the test's intake database."""
    monkeypatch.setenv("INTAKE_DATABASE_URL", intake.settings.database_url)
    monkeypatch.setenv("BROKER_URL", intake.settings.broker_url)
    monkeypatch.setenv("FENGQIAO_VAR_DIR", str(intake.settings.var_dir))
    return CliRunner()


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def submit(client: FlaskClient, key: str, body: Any | None = None) -> Any:
    return client.post(
        "/v1/reports", json=body or factories.dispute(), headers={"Authorization": f"Bearer {key}"}
    )


def test_an_agency_rotates_keys_and_revokes_the_old_one(
    cli: CliRunner, client: FlaskClient
) -> None:
    name = f"网格站-{uuid.uuid4().hex[:8]}"
    created = cli.invoke(main, ["agency", "create", name, "--kind", "grid"])
    assert created.exit_code == 0, created.output
    old = last_line(created.output)
    added = cli.invoke(main, ["agency", "add-key", name, "--label", "new system"])
    new = last_line(added.output)

    assert submit(client, old).status_code == 202  # both live during the rotation
    assert submit(client, new).status_code == 202
    revoked = cli.invoke(main, ["agency", "revoke-key", old.split("_")[1]])
    assert revoked.exit_code == 0, revoked.output

    assert submit(client, old).status_code == 401
    assert submit(client, new).status_code == 202
    listed = cli.invoke(main, ["agency", "keys", name]).output
    assert old.split("_")[1] in listed and "revoked" in listed
    assert new.split("_", 2)[2] not in listed  # the secret half is never shown again


def test_revoking_an_unknown_key_is_a_clear_error(cli: CliRunner) -> None:
    result = cli.invoke(main, ["agency", "revoke-key", "0123456789abcdef"])
    assert result.exit_code != 0
    assert "no such live key" in result.output


def test_creating_an_agency_twice_is_refused(cli: CliRunner) -> None:
    cli.invoke(main, ["agency", "create", "重名机构", "--kind", "school"])
    again = cli.invoke(main, ["agency", "create", "重名机构", "--kind", "school"])
    assert again.exit_code != 0
    assert "exists already" in again.output


def test_a_test_key_report_is_routed_but_marked_test(
    cli: CliRunner, client: FlaskClient, intake: IntakeRuntime
) -> None:
    name = f"测试机构-{uuid.uuid4().hex[:8]}"
    cli.invoke(main, ["agency", "create", name, "--kind", "volunteer"])
    key = last_line(cli.invoke(main, ["agency", "add-key", name, "--test"]).output)

    accepted = submit(client, key).json
    assert accepted["status"] == "received"

    with intake.db.sessions() as session:
        assert session.get_one(Report, accepted["id"]).test is True
    messages = outbox_where(intake, "report_id", equals=accepted["id"])
    assert sorted(task for task, _ in messages) == ["mediation.open_case", "notify.send_sms"]
    assert all(body["test"] is True for _, body in messages)
    report: Any = client.get(accepted["links"]["self"], headers={"Authorization": f"Bearer {key}"})
    assert report.json["test"] is True


def test_a_live_key_report_is_not_test(client: FlaskClient, intake: IntakeRuntime) -> None:
    accepted = submit(client, factories.agency_key(intake)).json
    messages = outbox_where(intake, "report_id", equals=accepted["id"])
    assert all(body["test"] is False for _, body in messages)
