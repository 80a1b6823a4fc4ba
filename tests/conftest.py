import os

# The test models are tiny, and on a 2-core machine torch's intra-op threads cost far more in
# synchronisation than they gain (here: ResNet-18 forward 0.96 s with 2 threads, 0.08 s with 1).
# Set before torch is first imported, so subprocesses (examples, DDP workers) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
