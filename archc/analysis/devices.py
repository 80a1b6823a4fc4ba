"""Named devices for roofline estimates: published peak compute and memory bandwidth. A layer's
time is estimated as max(FLOPs / peak FLOP/s, bytes moved / bandwidth): a lower bound that
ignores launch overheads, caches and kernel efficiency, always reported as an estimate."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    name: str
    title: str
    kind: str  # "cuda" or "cpu": whose kernels' saving rules apply
    float32_flops: float  # peak FLOP/s for float32 (dense, no sparsity)
    low_precision_flops: float  # peak FLOP/s for bf16/fp16 tensor-core math (dense)
    bandwidth: float  # bytes/s of main (HBM/GDDR/DRAM) memory
    memory: int  # bytes
    source: str

    def roofline_time(self, flops: int, bytes_moved: int, low_precision: bool) -> float:
        peak = self.low_precision_flops if low_precision else self.float32_flops
        return max(flops / peak, bytes_moved / self.bandwidth)


DEVICES = {d.name: d for d in (
    # NVIDIA H100 Tensor Core GPU datasheet (H100 SXM column): FP32 67 TFLOPS, BF16/FP16 Tensor
    # Core 1,979 TFLOPS with sparsity (989.5 dense), GPU memory 80 GB, bandwidth 3.35 TB/s.
    Device("H100", "NVIDIA H100 SXM 80GB", "cuda", 67e12, 989.5e12, 3.35e12, 80 * 10 ** 9,
           "NVIDIA H100 Tensor Core GPU datasheet, SXM: FP32 67 TFLOPS, BF16 989.5 TFLOPS dense, 3.35 TB/s"),
    # NVIDIA A100 Tensor Core GPU datasheet (A100 80GB SXM): FP32 19.5 TFLOPS, BF16/FP16 Tensor
    # Core 312 TFLOPS (624 with sparsity), GPU memory bandwidth 2,039 GB/s.
    Device("A100", "NVIDIA A100 SXM 80GB", "cuda", 19.5e12, 312e12, 2.039e12, 80 * 10 ** 9,
           "NVIDIA A100 datasheet, 80GB SXM: FP32 19.5 TFLOPS, BF16 312 TFLOPS dense, 2,039 GB/s"),
    # NVIDIA L4 Tensor Core GPU datasheet: FP32 30.3 TFLOPS, BF16/FP16 Tensor Core 242 TFLOPS
    # with sparsity (121 dense), 24 GB GDDR6 at 300 GB/s.
    Device("L4", "NVIDIA L4 24GB", "cuda", 30.3e12, 121e12, 300e9, 24 * 10 ** 9,
           "NVIDIA L4 datasheet: FP32 30.3 TFLOPS, BF16 121 TFLOPS dense, 300 GB/s"),
    # AMD EPYC 9654 (96 Zen 4 cores, 2.4 GHz base; AMD product page): two 256-bit FMA pipes per
    # core = 32 float32 FLOPs per cycle, 96 × 2.4e9 × 32 = 7.37 TFLOPS; AVX-512 BF16 dot
    # products double that; 12 channels of DDR5-4800 = 460.8 GB/s.
    Device("CPU", "AMD EPYC 9654 (96 cores)", "cpu", 7.37e12, 14.7e12, 460.8e9, 384 * 10 ** 9,
           "AMD EPYC 9654: 96 cores × 2.4 GHz × 32 FLOP/cycle; 12 × DDR5-4800 = 460.8 GB/s"),
)}


def device_spec(name: str) -> Device:
    """A device by name (case-insensitive): H100, A100, L4, CPU."""
    for key, device in DEVICES.items():
        if key.lower() == name.lower():
            return device
    raise ValueError(f"unknown device {name!r}: use one of {', '.join(DEVICES)}")
