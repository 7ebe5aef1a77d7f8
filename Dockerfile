# One image for every Fengqiao process; docker-compose.yml picks the role by command.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    FENGQIAO_VAR_DIR=/var/lib/fengqiao

# A fixed UID/GID so volume ownership stays the same across rebuilds and hosts.
RUN groupadd --system --gid 10001 fengqiao \
    && useradd --system --uid 10001 --gid fengqiao --create-home --home-dir /home/fengqiao fengqiao \
    && install -d -o fengqiao -g fengqiao /var/lib/fengqiao

# Only what the wheel is built from; the source tree is deleted after installing so that the
# code running is the installed package, not a stray copy on sys.path.
WORKDIR /tmp/fengqiao-src
COPY pyproject.toml ./
COPY services ./services
RUN pip install . && rm -rf /tmp/fengqiao-src

# Gunicorn puts its working directory on sys.path: keep it empty and not writable by the app.
WORKDIR /app

USER fengqiao

CMD ["fengqiao", "--help"]
