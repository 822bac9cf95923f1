"""What a result was measured on: the machine, the versions, and the server options."""

from __future__ import annotations

import ast
import importlib.metadata
import platform
import subprocess
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
# Reported when installed: the server stack under Broadsheet and under the ceiling.
DEPENDENCIES = (
    "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic", "orjson",
    "sqlalchemy", "asyncpg", "aiosqlite", "asyncmy", "pymongo", "psutil",
)  # fmt: skip


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    return {
        "cpu": model or platform.processor(),
        "cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
    }


def _output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    except OSError:
        return "n/a"
    return (done.stdout or done.stderr).strip()


def versions(wrk: str) -> dict[str, Any]:
    installed = {}
    for name in DEPENDENCIES:
        try:
            installed[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    dirty = bool(_output(["git", "status", "--porcelain", "--untracked-files=no"]))
    return {
        "python": platform.python_version(),
        "broadsheet_commit": _output(["git", "rev-parse", "HEAD"]) + ("+dirty" if dirty else ""),
        "dependencies": installed,
        "wrk": " ".join(_output([wrk, "-v"]).split()[:2]),  # "wrk debian/4.1.0-3+b2"
    }


def broadsheet_server_options() -> dict[str, str]:
    """The loop and HTTP implementation ``broadsheet serve`` gives uvicorn, read from its
    source (the benchmark imports nothing of Broadsheet): constant keyword arguments of the
    ``uvicorn.run`` call in ``cli.py``, else uvicorn's default, ``auto``."""
    options = {"loop": "auto", "http": "auto"}
    tree = ast.parse((ROOT / "src" / "broadsheet" / "cli.py").read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "run"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "uvicorn"
        ):
            for keyword in node.keywords:
                if (
                    keyword.arg in options
                    and isinstance(keyword.value, ast.Constant)
                    and isinstance(keyword.value.value, str)
                ):
                    options[keyword.arg] = keyword.value.value
    return options


def resolved(options: dict[str, str]) -> dict[str, str]:
    """What uvicorn's ``auto`` picks here: uvloop and httptools when they are installed."""

    def installed(name: str) -> bool:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return False
        return True

    loop, http = options["loop"], options["http"]
    if loop == "auto":
        loop = "uvloop" if installed("uvloop") else "asyncio"
    if http == "auto":
        http = "httptools" if installed("httptools") else "h11"
    return {"loop": loop, "http": http}
