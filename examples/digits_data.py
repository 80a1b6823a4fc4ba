"""scikit-learn's bundled 8×8 digits (no download) as torch tensors, and a small training loop
with a progress bar, shared by the examples."""
from __future__ import annotations

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

# These models are tiny: one thread beats several, whose synchronisation costs more than the
# arithmetic (on a 2-core machine, 30× slower per step with 2 threads).
torch.set_num_threads(1)


def digits(classes=range(10), seed: int = 0):
    """(x_train, y_train, x_test, y_test): images [N, 1, 8, 8] scaled to [0, 1], labels 0..k-1
    re-indexed over `classes`, a stratified 75/25 split."""
    data = load_digits()
    keep = [i for i, label in enumerate(data.target) if label in classes]
    images = torch.tensor(data.images[keep] / 16.0, dtype=torch.float32).unsqueeze(1)
    index = {c: k for k, c in enumerate(classes)}
    labels = torch.tensor([index[int(t)] for t in data.target[keep]])
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.25, random_state=seed, stratify=labels)
    return x_train, y_train, x_test, y_test


def train(model: torch.nn.Module, x, y, epochs: int, loss_fn, lr: float = 3e-3, batch: int = 64,
          desc: str = "training") -> None:
    """Adam on mini-batches, with a progress bar showing the running loss."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    generator = torch.Generator().manual_seed(0)
    model.train()
    with tqdm(total=epochs * ((len(x) + batch - 1) // batch), desc=desc, unit="step") as bar:
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=generator)
            for start in range(0, len(x), batch):
                idx = order[start:start + batch]
                loss = loss_fn(model(x[idx]), y[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                bar.set_postfix(loss=f"{loss.item():.3f}")
                bar.update()


@torch.no_grad()
def accuracy(model: torch.nn.Module, x, y) -> float:
    model.eval()
    return (model(x).argmax(dim=1) == y).float().mean().item()
