"""`celery -A bench.bare_path_worker worker`: a worker of the whole path's baseline."""

from bench.bare_path import create_app

app = create_app()
