import os
import sys
from pathlib import Path

# The test models are tiny, and on a 2-core machine torch's intra-op threads cost far more in
# synchronisation than they gain (here: ResNet-18 forward 0.96 s with 2 threads, 0.08 s with 1).
# Set before torch is first imported, so subprocesses (examples, DDP workers) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# The tests are grouped by component in folders (tests/frontend, tests/lowering, ...); the
# helpers they share (lowering_support, reference_executor, lowering_ddp_worker) are in
# tests/support, importable by their module names from any folder.
SUPPORT = str(Path(__file__).resolve().parent / "support")
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)


def pytest_collection_modifyitems(session, config, items):
    """The fuzz suite (tests/robustness) runs first. It forks a child per case under a 4 GB
    address-space limit (tools/fuzz_campaign.py's run_isolated); once the lowering tests have run
    torch (compiled modules, thread pools) the parent's address space alone comes near that, and
    the children cannot start their deep-input thread. In the flat layout it ran before them by
    name; here it runs first on purpose."""
    robustness = Path(__file__).resolve().parent / "robustness"
    items.sort(key=lambda item: not Path(str(item.path)).is_relative_to(robustness))
