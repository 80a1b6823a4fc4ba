"""The worker of the DistributedDataParallel test (tests/lowering/test_lowering_deploy.py): a
process that builds a spec with archc, wraps it in DDP over gloo and trains a few steps on its own
data."""
from __future__ import annotations

import os
from pathlib import Path


def train(rank: int, world: int, port: int, spec: str, params: dict, out_dir: str) -> None:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    import archc

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        torch.manual_seed(rank)  # different initial weights: DDP must broadcast rank 0's
        model = archc.build(spec, params=params)
        ddp = DistributedDataParallel(model)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.05)
        torch.manual_seed(100 + rank)  # each rank its own batch
        for _ in range(3):
            out = ddp(torch.randn(4, 3, 12, 12), torch.randn(4, 5))
            loss = out["logits"].square().mean() + out["mask"].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        torch.save({k: v.detach().clone() for k, v in model.named_parameters()},
                   Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()
