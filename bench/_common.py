"""Shared helpers for the bench scripts: a private venv with the peers, and the binary."""

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV = BENCH / ".venv"
PEERS = ["statsforecast", "scikit-learn", "pandas", "numpy"]


def ensure_venv():
    """Re-run the calling script inside bench/.venv, creating it (and installing the
    peer libraries from PyPI) on first use."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} and installing {', '.join(PEERS)} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PEERS], check=True)
    os.execv(str(py), [str(py), *sys.argv])


def meridian_binary(explicit=None):
    """Path of a release `meridian`, building it when not given."""
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    print("building meridian (cargo build --release -p server) ...", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "server"], cwd=REPO, check=True)
    return target / "release" / "meridian"


def shared_data(sub):
    return (REPO / ".." / "shared" / "data" / sub).resolve()
