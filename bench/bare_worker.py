"""`celery_launch -A bench.bare_worker worker`: the baseline's worker process."""

from bench.bare_celery import create_app

app = create_app()
