# The same one-thread rule as the training tests (tiny models, two busy cores).
from training.conftest import one_thread  # noqa: F401
