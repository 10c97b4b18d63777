"""The predictor scripts/gpu-check.sh serves: a small transformer built from a config with random
weights (nothing is downloaded), moved to the device in setup(). Every answer says which device
ran it, so a check can tell a GPU run from a silent CPU fallback.

    mode "infer"  one forward pass over `tokens` tokens (the measured request)
    mode "long"   `seconds` of device work in short steps (a cancel lands between two of them)
    mode "crash"  takes `megabytes` on the device, then os._exit(3): the worker dies holding it

COG_GPU_CHECK_DEVICE picks the device ("cuda", the default, or "cpu"); asking for cuda where
PyTorch sees none fails setup() rather than falling back to the CPU.
"""
import asyncio
import json
import os
import threading
import time

import torch

import cog
from cog import BaseRunner


class Model:
    def __init__(self):
        wanted = os.environ.get("COG_GPU_CHECK_DEVICE", "cuda")
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError("COG_GPU_CHECK_DEVICE=cuda but torch.cuda.is_available() is False")
        self.device = torch.device(wanted)
        self.device_name = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"
        torch.manual_seed(0)
        layer = torch.nn.TransformerEncoderLayer(d_model=256, nhead=8, dim_feedforward=1024, batch_first=True)
        self.net = torch.nn.Sequential(torch.nn.Embedding(1000, 256), torch.nn.TransformerEncoder(layer, num_layers=4))
        self.net = self.net.to(self.device).eval()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.in_flight_max = 0
        self.infer(16)  # the device context and the first kernels belong to setup, not to a request

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def infer(self, tokens):
        with torch.inference_mode():
            ids = torch.arange(tokens, device=self.device).remainder(1000).unsqueeze(0)
            return float(self.net(ids).float().mean())  # .item() waits for the device

    def long(self, seconds):
        size = 4096 if self.device.type == "cuda" else 512
        matrix = torch.randn(size, size, device=self.device) / size**0.5
        steps, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            matrix = torch.tanh(matrix @ matrix)
            self.sync()
            steps += 1
        return steps

    def crash(self, megabytes):
        hold = torch.ones(megabytes * 2**20, dtype=torch.uint8, device=self.device)
        self.sync()
        print(f"holding {hold.numel() >> 20} MiB on {self.device}; exiting without cleanup", flush=True)
        os._exit(3)

    def handle(self, mode, tokens, seconds, megabytes):
        with self.lock:
            self.in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self.in_flight)
        try:
            begin = time.perf_counter()
            if mode == "infer":
                value = self.infer(tokens)
            elif mode == "long":
                value = self.long(seconds)
            elif mode == "crash":
                value = self.crash(megabytes)
            else:
                raise ValueError(f"unknown mode {mode!r}: infer, long or crash")
            result = {"device": str(self.device), "device_name": self.device_name, "pid": os.getpid(),
                      "value": value, "seconds": time.perf_counter() - begin, "in_flight_max": self.in_flight_max,
                      "torch": torch.__version__, "torch_cuda": torch.version.cuda,
                      "threads": torch.get_num_threads(),
                      "main_thread": threading.current_thread() is threading.main_thread()}
            if self.device.type == "cuda":
                result["memory_allocated"] = torch.cuda.memory_allocated(self.device)
            return json.dumps(result)
        finally:
            with self.lock:
                self.in_flight -= 1


class Runner(BaseRunner):
    def setup(self):
        self.model = Model()

    def run(self, mode: str = "infer", tokens: int = 32, seconds: float = 0.0, megabytes: int = 0) -> str:
        return self.model.handle(mode, tokens, seconds, megabytes)


class AsyncRunner(BaseRunner):
    """Eight slots sharing one device: each call's device work runs in a thread, so slots overlap."""

    def setup(self):
        self.model = Model()

    @cog.concurrent(max=8)
    async def run(self, mode: str = "infer", tokens: int = 32, seconds: float = 0.0, megabytes: int = 0) -> str:
        return await asyncio.to_thread(self.model.handle, mode, tokens, seconds, megabytes)
