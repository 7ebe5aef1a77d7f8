"""The production deployment files agree with the code they deploy.

There is no Docker engine in development or CI, so nothing here builds or starts a
container: the Dockerfile, docker-compose.yml and the postgres init script are parsed and
compared with what the code routes, names and starts. Renaming a module, adding a queue or
a service then fails here instead of in production.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from services.cli.run import CELERY_LAUNCHER, DEFAULT_PORTS, plan
from services.common import celery_launch
from services.common.celery_app import queue_of, worker_queues
from services.common.config import SERVICES
from services.common.contracts import ALL_CONTRACTS
from services.notify.delivery import DELIVER_SMS

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
POSTGRES_INIT_SQL = REPO / "deploy" / "postgres" / "init-databases.sql"
INFRASTRUCTURE = {"redis", "postgres", "flower"}  # in compose, but not a `make run` process
LAUNCHER = CELERY_LAUNCHER[-1]  # runs celery's worker or beat command alone (record 0031)
GUNICORN_APP = re.compile(r"^(?P<module>[\w.]+):(?P<factory>\w+)\(\)$")


# --- reading the files -------------------------------------------------------------------


@cache
def compose_services() -> dict[str, dict[str, Any]]:
    """The `services:` of docker-compose.yml, with YAML anchors and merges resolved."""
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict), "docker-compose.yml is not a mapping"
    services: dict[str, dict[str, Any]] = document["services"]
    return services


def app_containers() -> list[str]:
    """The compose services that run Fengqiao code, as opposed to Redis and PostgreSQL."""
    return [name for name in compose_services() if name not in {"redis", "postgres"}]


def commands_of(container: str) -> list[list[str]]:
    """A container's command as argv lists, one per command of a `sh -c` script."""
    command = compose_services()[container].get("command")
    if command is None:  # the image's own default, e.g. postgres
        return []
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if words[:2] == ["sh", "-c"]:
        words = shlex.split(words[2])
    commands: list[list[str]] = [[]]
    for word in words:
        if word in {"&&", ";"}:
            commands.append([])
        elif word != "exec":
            commands[-1].append(word)
    return [argv for argv in commands if argv]


def compose_argvs() -> list[list[str]]:
    """Every command line of every compose service."""
    return [argv for name in compose_services() for argv in commands_of(name)]


def environment_of(container: str) -> dict[str, str]:
    environment = compose_services()[container].get("environment", {})
    assert isinstance(environment, dict), f"{container}: write `environment` as a mapping"
    return {str(key): str(value) for key, value in environment.items()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


# --- reading command lines ---------------------------------------------------------------


def option_values(argv: list[str], *names: str) -> list[str]:
    """The values given to an option, written `--name value` or `--name=value`."""
    values = []
    for index, word in enumerate(argv):
        for name in names:
            if word == name and index + 1 < len(argv):
                values.append(argv[index + 1])
            elif word.startswith(name + "="):
                values.append(word.removeprefix(name + "="))
    return values


def celery_program(argv: list[str]) -> str | None:
    """What runs a celery command line: `celery`, or the launcher's module; else None."""
    for word in argv:
        if Path(word).name == "celery" or word == LAUNCHER:
            return Path(word).name
    return None


def celery_subcommand(argv: list[str]) -> str | None:
    """`worker`, `beat`, `flower`... for a celery command line; None for anything else."""
    program = celery_program(argv)
    programs = [index for index, word in enumerate(argv) if Path(word).name == program]
    if not programs:
        return None
    rest = iter(argv[programs[0] + 1 :])
    for word in rest:
        if word in {"-A", "--app"}:
            next(rest, None)
        elif not word.startswith("-"):
            return word
    return None


def consumed_queues(argvs: list[list[str]]) -> set[str]:
    """The queues the celery workers among these command lines consume."""
    queues: set[str] = set()
    for argv in argvs:
        if celery_subcommand(argv) == "worker":
            for value in option_values(argv, "--queues", "-Q"):
                queues.update(queue for queue in value.split(",") if queue)
    return queues


def routed_queues() -> set[str]:
    """Every queue a message can be sent to: contracts, notify's delivery, periodic tasks."""
    from services.beat import beat_schedule  # beat sets up its process when imported

    tasks = {contract.task for contract in ALL_CONTRACTS}
    tasks.add(DELIVER_SMS.task)
    periodic = {entry["options"]["queue"] for entry in beat_schedule(1.0).values()}
    return {queue_of(task) for task in tasks} | periodic


# --- finding code without importing it ----------------------------------------------------


def referenced_code(argv: list[str]) -> list[tuple[str, str | None]]:
    """(module, factory) pairs a command line loads: `-A module` and gunicorn's `m:f()`."""
    references: list[tuple[str, str | None]] = [
        (module, None) for module in option_values(argv, "-A", "--app")
    ]
    for word in argv:
        if match := GUNICORN_APP.match(word):
            references.append((match["module"], match["factory"]))
    return references


def repo_source(module: str) -> Path | None:
    """The file in this repository that defines `module`, if there is one."""
    base = REPO.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def is_importable(module: str) -> bool:
    # find_spec imports the parent packages only; the worker modules themselves connect to
    # the database and broker when imported, so they must not be.
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def defines_function(source: Path, name: str) -> bool:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in tree.body)


# --- docker-compose.yml -------------------------------------------------------------------


def test_compose_file_parses() -> None:
    assert compose_services(), "docker-compose.yml defines no services"


def test_compose_roles_match_the_processes_make_run_starts() -> None:
    roles = set(compose_services()) - INFRASTRUCTURE
    assert roles == {process.name for process in plan()}
    assert set(compose_services()) >= INFRASTRUCTURE


def test_redis_keeps_queued_messages() -> None:
    redis = compose_services()["redis"]
    argv = commands_of("redis")[0]
    assert option_values(argv, "--appendonly") == ["yes"], "a restart would lose the queues"
    assert option_values(argv, "--maxmemory-policy") == ["noeviction"], (
        "a full Redis would evict queued messages"
    )
    assert any(volume.endswith(":/data") for volume in redis["volumes"]), "AOF not on a volume"


def test_postgres_creates_one_database_per_service() -> None:
    sql = re.sub(r"--[^\n]*", "", POSTGRES_INIT_SQL.read_text(encoding="utf-8"))
    created = re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)\"?", sql, flags=re.IGNORECASE)
    assert sorted(created) == sorted(SERVICES)
    mounts = compose_services()["postgres"]["volumes"]
    assert any(
        mount.startswith("./deploy/postgres:/docker-entrypoint-initdb.d") for mount in mounts
    )


@pytest.mark.parametrize("service", SERVICES)
def test_containers_get_only_their_own_database(service: str) -> None:
    postgres_password = environment_of("postgres")["POSTGRES_PASSWORD"]
    for container in (f"{service}-api", f"{service}-worker"):
        environment = environment_of(container)
        database_urls = {key for key in environment if key.endswith("_DATABASE_URL")}
        assert database_urls == {f"{service.upper()}_DATABASE_URL"}, container
        url = urlsplit(environment[f"{service.upper()}_DATABASE_URL"])
        assert (url.hostname, url.path) == ("postgres", f"/{service}"), container
        assert url.password == postgres_password, f"{container}: not the postgres password"


def test_app_containers_use_the_compose_redis() -> None:
    for container in app_containers():
        assert urlsplit(environment_of(container)["REDIS_URL"]).hostname == "redis", container


@pytest.mark.parametrize("service", SERVICES)
def test_api_container_serves_its_own_service(service: str) -> None:
    argvs = commands_of(f"{service}-api")
    assert ["fengqiao", "migrate", "--service", service] in argvs
    gunicorn = next(argv for argv in argvs if Path(argv[0]).name == "gunicorn")
    assert option_values(gunicorn, "--bind", "-b") == [f"0.0.0.0:{DEFAULT_PORTS[service]}"]
    assert referenced_code(gunicorn) == [(f"services.{service}", "create_app")]
    probe = " ".join(compose_services()[f"{service}-api"]["healthcheck"]["test"])
    assert f":{DEFAULT_PORTS[service]}/readyz" in probe


@pytest.mark.parametrize("service", SERVICES)
def test_worker_container_consumes_its_own_queue(service: str) -> None:
    argvs = commands_of(f"{service}-worker")
    assert consumed_queues(argvs) == set(worker_queues(service))
    assert [module for argv in argvs for module, _ in referenced_code(argv)] == [
        f"services.{service}.worker"
    ]


def test_workers_and_beat_start_through_the_launcher() -> None:
    """`celery` itself would load every command it has into each of them (record 0031)."""
    argvs = compose_argvs() + [process.argv for process in plan()]
    started = [argv for argv in argvs if celery_subcommand(argv) in {"worker", "beat"}]
    # Four workers and beat, in compose and in `fengqiao run`.
    assert len(started) == 2 * (len(SERVICES) + 1)
    for argv in started:
        assert celery_program(argv) == LAUNCHER, argv
        assert argv[argv.index(LAUNCHER) - 1] == "-m", f"run it as `python -m`: {argv}"
    # Flower is a celery plugin: only the `celery` command has it.
    assert [celery_program(argv) for argv in commands_of("flower")] == ["celery"]


def with_compose_defaults(argv: list[str]) -> list[str]:
    """`${NAME:-default}` replaced by its default, as compose does with NAME unset."""
    return [re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", word) for word in argv]


def test_the_launcher_takes_every_option_it_is_given() -> None:
    """It stops on an option it does not know: a container would restart for ever."""
    argvs = [with_compose_defaults(argv) for argv in compose_argvs()]
    argvs += [process.argv for process in plan()]
    launched = [argv for argv in argvs if celery_program(argv) == LAUNCHER]
    assert launched
    for argv in launched:
        _, command, options = celery_launch.parse(argv[argv.index(LAUNCHER) + 1 :])
        read = celery_launch.worker_options if command == "worker" else celery_launch.beat_options
        read(options)  # raises SystemExit on an unknown option or a bad value


def test_every_routed_queue_has_a_compose_worker() -> None:
    missing = routed_queues() - consumed_queues(compose_argvs())
    assert not missing, f"no worker in docker-compose.yml consumes {sorted(missing)}"


def test_every_service_has_a_periodic_queue_its_compose_worker_consumes() -> None:
    for service in SERVICES:
        assert f"{service}_periodic" in consumed_queues(commands_of(f"{service}-worker"))


def test_every_routed_queue_has_a_make_run_worker() -> None:
    missing = routed_queues() - consumed_queues([process.argv for process in plan()])
    assert not missing, f"no worker in services.cli.run.plan() consumes {sorted(missing)}"


@pytest.mark.parametrize("container", ["flower", *(process.name for process in plan())])
def test_container_runs_code_that_exists(container: str) -> None:
    references = [ref for argv in commands_of(container) for ref in referenced_code(argv)]
    assert references, f"{container} names no module to run"
    for module, factory in references:
        source = repo_source(module)
        assert source is not None, f"{container}: {module} is not in this repository"
        assert is_importable(module), f"{container}: {module} cannot be imported"
        if factory is not None:
            assert defines_function(source, factory), f"{container}: {module} has no {factory}"


def test_apis_and_workers_can_be_scaled() -> None:
    for container in compose_services():
        if container.endswith(("-api", "-worker")):
            spec = compose_services()[container]
            assert "container_name" not in spec, f"{container}: a fixed name allows one replica"
            assert "ports" not in spec, f"{container}: a fixed host port allows one replica"


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile_installs_the_project_without_dev_extras() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [arguments for keyword, arguments in instructions if keyword == "RUN"]
    assert any(re.search(r"\bpip install \.(\s|$)", run) for run in runs)
    assert not any("[dev]" in run for run in runs)


def test_dockerfile_runs_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    users = [index for index, (keyword, _) in enumerate(instructions) if keyword == "USER"]
    assert users, "the image runs as root"
    # The last USER is the one the containers run as.
    user = instructions[users[-1]][1].split(":")[0]
    assert user not in {"root", "0"}


def test_dockerfile_sets_unbuffered_output_and_no_secrets() -> None:
    variables: dict[str, str] = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword in {"ENV", "ARG"}:
            for assignment in shlex.split(arguments):
                name, _, value = assignment.partition("=")
                variables[name] = value
    assert variables.get("PYTHONUNBUFFERED") == "1", "log lines would arrive late"
    secrets = [name for name in variables if re.search(r"PASSWORD|SECRET|TOKEN|_KEY", name)]
    assert not secrets, f"the image carries default secrets: {secrets}"


# --- restarts, stopping and logging (decision record 0013) ---------------------------------


def seconds(duration: str) -> float:
    """A compose duration such as `15s`, `1m30s`."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a duration: {duration}"
    unit = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(number) * unit[u] for number, u in parts)


@pytest.mark.parametrize("container", sorted(compose_services()))
def test_every_container_is_restarted_when_its_process_dies(container: str) -> None:
    policy = compose_services()[container].get("restart", "no")
    # Docker waits longer before each restart (doubling from 0.1 s), as `fengqiao run` does.
    assert policy in {"always", "unless-stopped"} or policy.startswith("on-failure"), container


@pytest.mark.parametrize("service", SERVICES)
def test_an_api_container_has_time_to_finish_its_requests(service: str) -> None:
    container = compose_services()[f"{service}-api"]
    gunicorn = next(argv for argv in commands_of(f"{service}-api") if argv[0] == "gunicorn")
    graceful = float(option_values(gunicorn, "--graceful-timeout")[0])
    # Docker's default is 10 s: exactly gunicorn's grace, so a request could be cut off.
    assert seconds(container["stop_grace_period"]) > graceful


@pytest.mark.parametrize("service", SERVICES)
def test_every_api_logs_through_the_masking_config(service: str) -> None:
    api = next(process for process in plan() if process.name == f"{service}-api")
    compose = next(argv for argv in commands_of(f"{service}-api") if argv[0] == "gunicorn")
    for argv in (api.argv, compose):
        assert option_values(argv, "--config", "-c") == ["python:services.common.gunicorn_config"]
    assert is_importable("services.common.gunicorn_config")
