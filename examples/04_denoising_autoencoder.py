"""A denoising convolutional autoencoder (specs/denoising_autoencoder.arch) on the digits:
train it to map noisy images to clean ones, and save a PNG grid of noisy / denoised / clean.

    python examples/04_denoising_autoencoder.py [--out build/denoising.png]
"""
import argparse
import struct
import zlib
from pathlib import Path

import torch
from torch import nn

import archc
from digits_data import digits, train

ROOT = Path(__file__).resolve().parent.parent

parser = argparse.ArgumentParser()
parser.add_argument("--out", default=str(ROOT / "build" / "denoising.png"))
parser.add_argument("--epochs", type=int, default=30)
args = parser.parse_args()


def write_png(path: str, pixels: torch.Tensor) -> None:
    """A grey-scale PNG from a [H, W] tensor in [0, 1] (no imaging library needed)."""
    rows = (pixels.clamp(0, 1) * 255).round().to(torch.uint8).tolist()
    raw = b"".join(b"\x00" + bytes(row) for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    height, width = len(rows), len(rows[0])
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(png)


def grid(rows: list[torch.Tensor], scale: int = 8, gap: int = 2) -> torch.Tensor:
    """Image rows of [K, 1, 8, 8] images, each pixel scaled up, with white gaps."""
    lines = []
    for images in rows:
        big = images[:, 0].repeat_interleave(scale, 1).repeat_interleave(scale, 2)
        tiles = [torch.cat([tile, torch.ones(tile.shape[0], gap)], 1) for tile in big]
        lines += [torch.cat(tiles, 1), torch.ones(gap, len(tiles) * (big.shape[2] + gap))]
    return torch.cat(lines, 0)


torch.manual_seed(0)
# The spec's input size is a parameter; 8×8 meets its constraint (size % 4 == 0).
model = archc.build(ROOT / "specs" / "denoising_autoencoder.arch", params={"size": 8})
x_train, _, x_test, _ = digits()
noisy_train = (x_train + 0.3 * torch.randn_like(x_train)).clamp(0, 1)
train(model, noisy_train, x_train, epochs=args.epochs, loss_fn=nn.MSELoss(), desc="autoencoder")

model.eval()
noisy_test = (x_test + 0.3 * torch.randn_like(x_test)).clamp(0, 1)
with torch.no_grad():
    denoised = model(noisy_test)
noisy_mse = nn.functional.mse_loss(noisy_test, x_test).item()
denoised_mse = nn.functional.mse_loss(denoised, x_test).item()
print(f"test MSE to the clean images: noisy {noisy_mse:.4f}, denoised {denoised_mse:.4f}")
write_png(args.out, grid([noisy_test[:10], denoised[:10], x_test[:10]]))
print(f"wrote {args.out} (rows: noisy, denoised, clean)")
