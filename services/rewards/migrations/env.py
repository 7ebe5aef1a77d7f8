from services.common.migrations import run_env
from services.rewards.models import Base

run_env(Base.metadata)
