"""The checks of scripts/gpu-check.sh once everything is built: runs bench/gpu/predictor (a
PyTorch transformer) on the device through our runtime in host mode (cog-server + cog-worker
embedding --python), then the same predictor under the real Cog runtime (coglet), and our GPU
logic (cog-gpu-probe) beside the real driver. Writes results.json and results.md to --out and
prints the markdown. Standard library only: it runs under the machine's own Python.

    python3 bench/gpu/check.py --build-dir B --python P --coglet-site S --device cuda|cpu --out DIR

Each check is "pass", "FAIL", "no driver" (CPU mode, no NVIDIA driver: reported, not failed) or
"skipped"; the exit status is 1 when any check FAILs.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import pathlib
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
SOURCE_DIR = HERE.parents[1]
PREDICTOR = HERE / "predictor"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
COG_VERSION = "0.23.1"  # coglet's, as in tests/e2e/coglet_helpers.py


def log(text):
    print(f"gpu-check: {text}", flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port, method, path, body=None, headers=None, timeout=120):
    """(status, parsed JSON or text) of one request; (None, error text) when the server did not answer."""
    data = None if body is None else json.dumps(body).encode()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request(method, path, body=data,
                           headers={"Content-Type": "application/json", **(headers or {})} if data else (headers or {}))
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        connection.close()
    except OSError as error:
        return None, str(error)
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text


class Server:
    """Ours (cog-server) or coglet (`python -m cog.server.http`) on one project, output to a log."""

    def __init__(self, kind, project, args, concurrency=1, tag=""):
        self.kind = kind
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("COG_") and k != "PYTHONPATH"}
        env.update({"PORT": str(self.port), "COG_PREDICT_TYPE_STUB": project_ref(project),
                    "COG_GPU_CHECK_DEVICE": args.device, "PYTHONUNBUFFERED": "1"})
        if concurrency > 1:
            env["COG_MAX_CONCURRENCY"] = str(concurrency)  # what `cog build` bakes from @concurrent
        if kind == "ours":
            # What `cog serve --local --python P` sets up: the SDK, the worker, P's site-packages.
            env.update({"COG_SDK_DIR": str(SOURCE_DIR / "runtime" / "python"), "COG_WORKER_BIN": str(args.worker),
                        "PYTHONPATH": ":".join(args.site_paths)})
            command = [str(args.server), "--host", "127.0.0.1"]
        else:
            # coglet spawns its worker as `python3` from PATH: the machine's Python, with torch.
            env["PATH"] = f"{args.python_bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
            env["PYTHONPATH"] = str(args.coglet_site)
            command = [str(args.python), "-m", "cog.server.http", "--host", "127.0.0.1"]
        self.log_path = args.work / f"{kind}-{project.name}{tag}-{self.port}.log"
        self.log = open(self.log_path, "wb")
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, cwd=project, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=120):
        """Seconds from process start to READY; raises with the log's tail otherwise."""
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CheckFailed(f"{self.kind} exited with {self.process.returncode} before READY: {self.tail()}")
            status, body = request(self.port, "GET", "/health-check", timeout=5)
            state = body.get("status") if isinstance(body, dict) else None
            if state == "READY":
                return time.monotonic() - self.started
            if state in ("SETUP_FAILED", "DEFUNCT"):
                raise CheckFailed(f"{self.kind} health is {state}: {self.tail()}")
            time.sleep(0.02)
        raise CheckFailed(f"{self.kind} not READY after {timeout} s: {self.tail()}")

    def tail(self, lines=15):
        self.log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return " | ".join(text[-lines:])

    def predict(self, inputs, timeout=300):
        return request(self.port, "POST", "/predictions", {"input": inputs}, timeout=timeout)

    def cpu_seconds(self, tree=True):
        """User + system CPU of the server process (and, with tree, its live descendants: the worker)."""
        total, pending = 0, [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
                if tree:
                    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
                        pending += [int(c) for c in (task / "children").read_text().split()]
            except (OSError, IndexError, ValueError):
                pass
        return total / CLOCK_TICKS

    def stop(self):
        if self.process.poll() is None:
            request(self.port, "POST", "/shutdown", headers={"Content-Length": "0"}, timeout=5)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class CheckFailed(Exception):
    pass


def project_ref(project):
    for line in (project / "cog.yaml").read_text().splitlines():
        key, _, value = line.partition(":")
        if key == "run":
            return value.strip().strip('"')
    raise CheckFailed(f"no run: in {project}/cog.yaml")


def prepare_projects(args):
    """torch_sync (Runner) and torch_async (AsyncRunner, 8 slots), each with the OpenAPI schema
    `cog build` would bake (coglet reads it), written by our static generator."""
    projects = {}
    for name, runner in (("torch_sync", "Runner"), ("torch_async", "AsyncRunner")):
        dest = args.work / name
        shutil.copytree(PREDICTOR, dest, ignore=shutil.ignore_patterns("__pycache__", ".cog"))
        yaml = (dest / "cog.yaml").read_text().replace('"predict.py:Runner"', f'"predict.py:{runner}"')
        (dest / "cog.yaml").write_text(yaml)
        env = {k: v for k, v in os.environ.items() if not k.startswith("COG_")}
        env["PYTHONPATH"] = str(SOURCE_DIR / "runtime" / "python")
        schema = subprocess.run([str(args.python), "-m", "cog.command.openapi_schema", "--static", "--project-dir",
                                 str(dest), "--version", COG_VERSION, "--ref", f"predict.py:{runner}"],
                                cwd=dest, env=env, capture_output=True, text=True)
        if schema.returncode != 0:
            raise CheckFailed(f"schema of {name}: {schema.stderr.strip()[-400:]}")
        (dest / ".cog").mkdir(exist_ok=True)
        (dest / ".cog" / "openapi_schema.json").write_text(schema.stdout)
        projects[name] = dest
    return projects


def output_of(status, body):
    """The predictor's JSON output of a succeeded prediction, else raises."""
    if status != 200 or not isinstance(body, dict) or body.get("status") != "succeeded":
        raise CheckFailed(f"prediction answered {status}: {str(body)[:300]}")
    return json.loads(body["output"])


# ---------------------------------------------------------------------------------------------
# The device: nvidia-smi's view, for the memory checks and the driver comparison.

def nvidia_smi(*query):
    if not shutil.which("nvidia-smi"):
        return None
    result = subprocess.run(["nvidia-smi", *query], capture_output=True, text=True, timeout=30)
    return result.stdout if result.returncode == 0 else None


def gpu_memory_used_mib():
    text = nvidia_smi("--query-gpu=memory.used", "--format=csv,noheader,nounits")
    return int(text.split()[0]) if text else None


def gpu_process_memory():
    """{pid: MiB} of the compute processes nvidia-smi lists (empty where it cannot see pids)."""
    text = nvidia_smi("--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits") or ""
    found = {}
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0].isdigit():
            found[int(parts[0])] = int(parts[1]) if parts[1].isdigit() else parts[1]
    return found


# ---------------------------------------------------------------------------------------------
# The checks. Each returns (status, detail, data).

def check_device(args, projects):
    server = Server("ours", projects["torch_sync"], args)
    try:
        ready = server.wait_ready()
        output = output_of(*server.predict({"mode": "infer", "tokens": 32}))
    finally:
        server.stop()
    ok = output["device"].startswith(args.device)
    detail = (f"ran on {output['device']} ({output['device_name']}), torch {output['torch']} with "
              f"{output['threads']} CPU threads, READY in {ready:.1f} s")
    return ("pass" if ok else "FAIL"), detail, {"ready_s": ready, "output": output}


def check_async_slots(args, projects):
    server = Server("ours", projects["torch_async"], args, concurrency=8)
    try:
        server.wait_ready()
        begin = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: server.predict({"mode": "long", "seconds": 1.0}), range(8)))
        wall = time.monotonic() - begin
        outputs = [output_of(*answer) for answer in answers]
    finally:
        server.stop()
    overlap = max(o["in_flight_max"] for o in outputs)
    devices = sorted({o["device"] for o in outputs})
    pids = sorted({o["pid"] for o in outputs})
    ok = overlap >= 2 and len(pids) == 1 and all(d.startswith(args.device) for d in devices)
    detail = (f"8 predictions of 1 s on {','.join(devices)} in {wall:.1f} s, up to {overlap} in flight at once "
              f"in one worker")
    return ("pass" if ok else "FAIL"), detail, {"wall_s": wall, "in_flight_max": overlap, "devices": devices}


def check_cancel(args, projects):
    server = Server("ours", projects["torch_sync"], args)
    try:
        server.wait_ready()
        result = {}

        def long_prediction():
            result["answer"] = request(server.port, "PUT", "/predictions/gpu-check-cancel",
                                       {"input": {"mode": "long", "seconds": 120}}, timeout=150)
            result["finished"] = time.monotonic()

        thread = threading.Thread(target=long_prediction)
        thread.start()
        time.sleep(2.0)  # well inside the device loop
        cancel_sent = time.monotonic()
        cancel_status, _ = request(server.port, "POST", "/predictions/gpu-check-cancel/cancel", timeout=10)
        thread.join(timeout=60)
        if thread.is_alive():
            raise CheckFailed("the canceled prediction still runs 60 s after the cancel")
        status, body = result["answer"]
        latency = result["finished"] - cancel_sent
        state = body.get("status") if isinstance(body, dict) else None
        after = output_of(*server.predict({"mode": "infer"}))  # the worker serves on
    finally:
        server.stop()
    ok = cancel_status == 200 and state == "canceled" and latency < 10
    detail = f"cancel answered {cancel_status}; prediction {state} {latency * 1000:.0f} ms after it; next prediction ran on {after['device']}"
    return ("pass" if ok else "FAIL"), detail, {"cancel_to_canceled_ms": latency * 1000, "state": state}


def check_crash(args, projects):
    baseline = gpu_memory_used_mib()
    server = Server("ours", projects["torch_sync"], args, tag="-crash")
    data = {"gpu_memory_used_mib_before_start": baseline}
    try:
        server.wait_ready()
        first = output_of(*server.predict({"mode": "infer"}))
        worker_pid = first["pid"]
        data["worker_pid"] = worker_pid
        data["worker_gpu_mib_before_crash"] = gpu_process_memory().get(worker_pid)
        megabytes = 2048 if args.device.startswith("cuda") else 256
        status, body = server.predict({"mode": "crash", "megabytes": megabytes}, timeout=120)
        data["crash_answer"] = {"status": status,
                                "prediction": body.get("status") if isinstance(body, dict) else str(body)[:200]}
        gone = False
        for _ in range(200):  # the worker's exit, then the driver's release of its memory
            gone = not pathlib.Path(f"/proc/{worker_pid}").exists()
            if gone and worker_pid not in gpu_process_memory():
                break
            time.sleep(0.05)
        health_status, health = request(server.port, "GET", "/health-check", timeout=10)
        root_status, _ = request(server.port, "GET", "/", timeout=10)
        again_status, again = server.predict({"mode": "infer"}, timeout=30)
        data.update({"health": health.get("status") if isinstance(health, dict) else health,
                     "health_http": health_status, "root_http": root_status, "worker_gone": gone,
                     "predict_after_http": again_status, "server_alive": server.process.poll() is None})
        time.sleep(1.0)
        data["gpu_memory_used_mib_after_crash"] = gpu_memory_used_mib()
        data["worker_in_nvidia_smi_after"] = worker_pid in gpu_process_memory()
    finally:
        server.stop()
    ok = data["health"] == "DEFUNCT" and data["server_alive"] and root_status == 200 and gone
    memory = "the worker process is gone"
    if baseline is not None:
        after = data["gpu_memory_used_mib_after_crash"]
        freed = after is not None and after <= baseline + 256 and not data["worker_in_nvidia_smi_after"]
        ok = ok and freed
        memory = (f"GPU memory used {baseline} MiB before start, {after} MiB after the crash "
                  f"(worker held {data['worker_gpu_mib_before_crash']} MiB before the {megabytes} MiB crash)")
    detail = (f"os._exit in the worker: crash answered {status} {data['crash_answer']['prediction']}; health "
              f"{data['health']}, / answers {root_status}, a new prediction gets {again_status}; {memory}")
    return ("pass" if ok else "FAIL"), detail, data


def check_driver(args):
    """Our dlopen of libcuda, our refusal of a too-new image CUDA and the OCI spec of --gpus all,
    beside nvidia-smi and PyTorch."""
    probe = subprocess.run([str(args.probe)], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        raise CheckFailed(f"cog-gpu-probe exited {probe.returncode}: {probe.stderr.strip()[-300:]}")
    ours = json.loads(probe.stdout)
    smi = nvidia_smi()
    smi_cuda = re.search(r"CUDA Version:\s*([\d.]+)", smi or "")
    smi_driver = re.search(r"Driver Version:\s*([\d.]+)", smi or "")
    torch_info = subprocess.run([str(args.python), "-c",
                                 "import json, torch; print(json.dumps({'torch': torch.__version__, "
                                 "'cuda': torch.version.cuda, 'available': torch.cuda.is_available(), "
                                 "'name': torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}))"],
                                capture_output=True, text=True, timeout=120)
    torch_json = json.loads(torch_info.stdout) if torch_info.returncode == 0 else {"error": torch_info.stderr[-300:]}
    libcuda = subprocess.run(["sh", "-c", "ldconfig -p | grep 'libcuda.so.1 ' | head -1"], capture_output=True,
                             text=True).stdout.strip()
    real = {"nvidia_smi_cuda": smi_cuda.group(1) if smi_cuda else None,
            "nvidia_smi_driver": smi_driver.group(1) if smi_driver else None,
            "torch": torch_json, "libcuda_in_ldconfig": libcuda.split("=>")[-1].strip() if libcuda else None,
            "nvidia_ctk": shutil.which("nvidia-ctk"), "dev_nodes": sorted(str(p) for p in pathlib.Path("/dev").glob("nvidia*"))}
    torch_text = (f"torch {torch_json['torch']} built for CUDA {torch_json['cuda']} sees {torch_json['name']}"
                  if "torch" in torch_json else f"torch failed: {torch_json['error'].strip()[-160:]}")
    results = []
    driver = ours["driver"]
    if driver["status"] != "ok":
        status = "FAIL" if args.device.startswith("cuda") else "no driver"
        results.append(("driver CUDA version (our dlopen)", status, f"{driver.get('detail', '')}; nvidia-smi: "
                        f"{real['nvidia_smi_cuda'] or 'absent'}"))
    else:
        same = real["nvidia_smi_cuda"] == driver["cuda"]
        results.append(("driver CUDA version (our dlopen)", "pass" if same else "FAIL",
                        f"ours {driver['cuda']} ({driver['cuda_version']}), nvidia-smi {real['nvidia_smi_cuda']} "
                        f"(driver {real['nvidia_smi_driver']}); {torch_text}"))
    refusal = ours["refusal"]
    if refusal["status"] == "no driver":
        results.append(("image CUDA newer than the driver: refused", "FAIL" if args.device.startswith("cuda")
                        else "no driver", "no driver to compare with"))
    else:
        results.append(("image CUDA newer than the driver: refused", "pass" if refusal["status"] == "ok" else "FAIL",
                        f"CUDA {refusal['image_cuda_newer']}: {refusal.get('newer_error', 'NOT refused')}; "
                        f"the driver's own accepted: {refusal['same_accepted']}"))
    access = ours["access"]
    if access["status"] != "ok":
        status = "FAIL" if args.device.startswith("cuda") else "no driver"
        results.append(("--gpus all: OCI spec", status, access["error"]))
    else:
        spec = ours["oci_spec"]
        devices = [d["path"] for d in spec["devices"]]
        mounts = [m["destination"] for m in spec["driver_mounts"]]
        missing = [node for node in real["dev_nodes"] if re.match(r"/dev/nvidia(\d+|ctl|-uvm)$", node)
                   and node not in devices and access["method"] == "device-nodes"]
        libs = ("driver libraries mounted: " + ", ".join(mounts[:6]) + ("..." if len(mounts) > 6 else "")) if mounts \
            else "no driver libraries in the spec (the image must bring libcuda)"
        results.append(("--gpus all: OCI spec", "pass" if devices and not missing else "FAIL",
                        f"method {access['method']} (nvidia-ctk {'present' if real['nvidia_ctk'] else 'absent'}, "
                        f"hook {ours['host']['nvidia_hook'] or 'absent'}, {len(ours['host']['cdi_specs'])} CDI specs); "
                        f"devices {', '.join(devices)}; {libs}" + (f"; MISSING {missing}" if missing else "")))
    return results, {"ours": ours, "real": real}


# ---------------------------------------------------------------------------------------------
# Side by side: ours and coglet, same predictor, same machine, alternating rounds.

def load(args, server, connections, requests):
    body = args.work / "infer.json"
    command = [str(args.loadgen), "--port", str(server.port), "--body-file", str(body), "--connections",
               str(connections), "--requests", str(requests), "--warmup", str(args.warmup), "--expect",
               '"status":"succeeded"']
    cpu_server, cpu_total = server.cpu_seconds(tree=False), server.cpu_seconds()
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    cpu_server, cpu_total = server.cpu_seconds(tree=False) - cpu_server, server.cpu_seconds() - cpu_total
    try:
        stats = json.loads(result.stdout)
    except ValueError:
        raise CheckFailed(f"loadgen against {server.kind}: {result.stderr.strip()[-300:]} ({server.tail(5)})")
    if result.returncode != 0:
        raise CheckFailed(f"loadgen against {server.kind}: {stats.get('unexpected')} unexpected answers, first "
                          f"{str(stats.get('first_unexpected'))[:200]!r} ({server.tail(5)})")
    served = stats["requests"] + args.warmup * connections
    stats["server_cpu_us_per_request"] = cpu_server / served * 1e6
    stats["total_cpu_us_per_request"] = cpu_total / served * 1e6
    return stats


def measure(args, project, connections, requests):
    servers, rounds = {}, {"ours": [], "coglet": []}
    try:
        for kind in rounds:
            servers[kind] = Server(kind, project, args, concurrency=connections, tag="-bench")
            servers[kind].wait_ready()
        device_of = {kind: output_of(*servers[kind].predict({"mode": "infer"}))["device"] for kind in rounds}
        for n in range(args.rounds):
            for kind in (("ours", "coglet") if n % 2 == 0 else ("coglet", "ours")):
                rounds[kind].append(load(args, servers[kind], connections, requests))
    finally:
        for server in servers.values():
            server.stop()
    keys = ("p50_us", "p99_us", "rps", "server_cpu_us_per_request", "total_cpu_us_per_request")
    return {kind: {**{key: statistics.median(r[key] for r in rounds[kind]) for key in keys},
                   "device": device_of[kind]} for kind in rounds}


def measure_ready(args, project):
    times = {"ours": [], "coglet": []}
    for _ in range(args.starts):
        for kind in times:
            server = Server(kind, project, args, tag="-start")
            try:
                times[kind].append(server.wait_ready())
            finally:
                server.stop()
    return {kind: statistics.median(values) for kind, values in times.items()}


def benchmark(args, projects):
    (args.work / "infer.json").write_text(json.dumps({"input": {"mode": "infer", "tokens": 32}}))
    log(f"side by side, c=1 (sync runner): {args.rounds} rounds of {args.requests} requests each ...")
    sync = measure(args, projects["torch_sync"], 1, args.requests)
    log(f"side by side, c=8 (async runner, 8 slots): {args.rounds} rounds of {args.requests * 4} requests each ...")
    parallel = measure(args, projects["torch_async"], 8, args.requests * 4)
    log(f"time to READY (torch import, device context, model on the device): {args.starts} starts each ...")
    ready = measure_ready(args, projects["torch_sync"])
    return {"c1": sync, "c8": parallel, "ready_s": ready}


def bench_rows(bench):
    rows = []
    for label, key in (("c=1", "c1"), ("c=8", "c8")):
        ours, coglet = bench[key]["ours"], bench[key]["coglet"]
        rows += [(f"{label} p50 latency (ms)", ours["p50_us"] / 1000, coglet["p50_us"] / 1000, "lower"),
                 (f"{label} p99 latency (ms)", ours["p99_us"] / 1000, coglet["p99_us"] / 1000, "lower"),
                 (f"{label} predictions/s", ours["rps"], coglet["rps"], "higher"),
                 (f"{label} server CPU per prediction (µs)", ours["server_cpu_us_per_request"],
                  coglet["server_cpu_us_per_request"], "lower"),
                 (f"{label} server + worker CPU per prediction (µs)", ours["total_cpu_us_per_request"],
                  coglet["total_cpu_us_per_request"], "lower")]
    rows.append(("time to READY, incl. device context (s)", bench["ready_s"]["ours"], bench["ready_s"]["coglet"],
                 "lower"))
    return rows


def number(value):
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def markdown(args, checks, bench, machine, failures):
    lines = [f"# GPU check ({'CPU mode' if not args.device.startswith('cuda') else 'GPU'}: device {args.device})", "",
             f"Machine: {machine['cpu']}; GPU: {machine['gpu'] or 'none'}; Python {machine['python']} "
             f"({args.python}); torch {machine['torch']}.", "",
             "| check | result | detail |", "| --- | --- | --- |"]
    for name, status, detail in checks:
        lines.append(f"| {name} | {status} | {' '.join(detail.replace('|', '/').split())} |")
    if bench:
        lines += ["", f"Ours (cog-server + cog-worker) beside coglet {COG_VERSION} (the real Cog runtime), the same "
                  f"predictor on {bench['c1']['ours']['device']}; medians of {args.rounds} alternating rounds. "
                  "ratio = ours / coglet.", "",
                  "| metric | ours | coglet | ratio | ours is |", "| --- | ---: | ---: | ---: | --- |"]
        for metric, ours, coglet, better in bench_rows(bench):
            ratio = ours / coglet if coglet else float("nan")
            wins = (ours < coglet) if better == "lower" else (ours > coglet)
            lines.append(f"| {metric} | {number(ours)} | {number(coglet)} | {ratio:.2f} | "
                         f"{'better' if wins else 'worse' if ours != coglet else 'same'} |")
    lines += ["", f"{len(failures)} check(s) failed." if failures else "All checks passed."]
    return "\n".join(lines) + "\n"


def machine_info(args):
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    gpu = nvidia_smi("--query-gpu=name,driver_version,memory.total", "--format=csv,noheader")
    version = subprocess.run([str(args.python), "-c", "import sys, torch; print(sys.version.split()[0], torch.__version__)"],
                             capture_output=True, text=True).stdout.split()
    return {"cpu": f"{os.cpu_count()} CPUs ({cpu})", "gpu": gpu.strip() if gpu else None,
            "python": version[0] if version else "?", "torch": version[1] if len(version) > 1 else "?",
            "kernel": platform.release()}


def main():
    parser = argparse.ArgumentParser(prog="bench/gpu/check.py", description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=pathlib.Path, required=True)
    parser.add_argument("--python", type=pathlib.Path, required=True, help="the interpreter with torch")
    parser.add_argument("--coglet-site", type=pathlib.Path, help="a --target dir holding cog and coglet")
    parser.add_argument("--device", default="cuda", help="cuda (the default) or cpu")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--requests", type=int, default=300, help="measured requests per round at c=1 (x4 at c=8)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--starts", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per connection")
    args = parser.parse_args()
    args.server = args.build_dir / "runtime" / "cog-server"
    args.worker = args.build_dir / "runtime" / "cog-worker"
    args.loadgen = args.build_dir / "bench" / "cog-bench-loadgen"
    args.probe = args.build_dir / "bench" / "cog-gpu-probe"
    args.python_bin_dir = args.python.parent
    args.out.mkdir(parents=True, exist_ok=True)
    args.work = pathlib.Path(tempfile.mkdtemp(prefix="cog-gpu-check-"))
    site = subprocess.run([str(args.python), "-c", "import json, site; print(json.dumps(site.getsitepackages()))"],
                          capture_output=True, text=True, check=True)
    args.site_paths = json.loads(site.stdout)

    machine = machine_info(args)
    checks, data, failures = [], {"machine": machine, "device": args.device}, []

    bench = None

    def save():
        """results.json and results.md as they stand: a run stopped at its time limit leaves them."""
        data["checks"] = [{"name": n, "status": s, "detail": d} for n, s, d in checks]
        (args.out / "results.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
        report = markdown(args, checks, bench, machine, failures)
        (args.out / "results.md").write_text(report)
        # One file of the servers' logs (the device tool brings back only a few files).
        with open(args.out / "server-logs.txt", "w") as logs:
            for log_file in sorted(args.work.glob("*.log")):
                lines = log_file.read_text(errors="replace").splitlines()
                logs.write(f"==> {log_file.name} (last 200 of {len(lines)} lines)\n")
                logs.write("\n".join(lines[-200:]) + "\n")
        return report

    def run(name, function, *function_args):
        log(f"{name} ...")
        begin = time.monotonic()
        try:
            status, detail, result = function(*function_args)
        except CheckFailed as error:
            status, detail, result = "FAIL", str(error), None
        checks.append((name, status, detail))
        data[name] = {"status": status, "detail": detail, "data": result, "seconds": time.monotonic() - begin}
        log(f"{name}: {status}: {detail}")
        if status == "FAIL":
            failures.append(name)
        save()

    try:
        projects = prepare_projects(args)
        run(f"predictor runs on {args.device} under cog-server", check_device, args, projects)
        run("async runner, 8 slots share the device", check_async_slots, args, projects)
        run("cancel during a long device call", check_cancel, args, projects)
        run("worker crash (os._exit) holding device memory", check_crash, args, projects)
        log("our GPU logic beside the driver ...")
        try:
            driver_checks, driver_data = check_driver(args)
        except CheckFailed as error:
            driver_checks, driver_data = [("GPU logic probe", "FAIL", str(error))], None
        for name, status, detail in driver_checks:
            checks.append((name, status, detail))
            log(f"{name}: {status}: {detail}")
            if status == "FAIL":
                failures.append(name)
        data["driver"] = driver_data
        save()
        if args.coglet_site:
            try:
                bench = benchmark(args, projects)
                data["bench"] = bench
            except CheckFailed as error:
                checks.append(("side by side with coglet", "FAIL", str(error)))
                failures.append("side by side with coglet")
        else:
            checks.append(("side by side with coglet", "skipped", "no --coglet-site (cog and coglet wheels)"))
        report = save()
        print()
        print(report)
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
