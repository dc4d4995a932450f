"""Build hook: compile the numba kernels into the wheel, so that a fresh install's first plan
does not spend half a minute compiling them (consolidate/warmup.py). Everything else about the
package is in pyproject.toml."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithKernels(build_py):
    """``build_py``, then numba's cache of every kernel written next to the built modules."""

    def run(self):
        super().run()
        # A build folder left by an earlier build may hold caches of other sources: start clean.
        for stale in Path(self.build_lib).glob("consolidate/**/__pycache__/*.nb[ic]"):
            stale.unlink()
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
        # Keep pip's PYTHONPATH: it is how the isolated build environment finds numba and the rest.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.abspath(self.build_lib), os.environ.get("PYTHONPATH")]))
        with tempfile.TemporaryDirectory() as cwd:
            done = subprocess.run([sys.executable, "-m", "consolidate.warmup"], env=env, cwd=cwd)
        if done.returncode:
            # The package works without the cache: its first plan compiles the kernels instead.
            self.warn("could not compile the numba kernels; the first plan will compile them")


setup(cmdclass={"build_py": BuildPyWithKernels})
