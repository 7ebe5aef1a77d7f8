from services.common.migrations import run_env
from services.console.models import Base

run_env(Base.metadata)
