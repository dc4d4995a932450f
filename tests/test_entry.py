"""The console script: a Ctrl-C while the command's modules load ends in one line and exit 130."""

import importlib.abc
import subprocess
import sys

import consolidate.__main__ as entry
from consolidate.errors import EXIT_INTERRUPTED


class _InterruptedImport(importlib.abc.MetaPathFinder):
    """Stands for the user pressing Ctrl-C while ``consolidate.cli`` is being imported."""

    def find_spec(self, name, path=None, target=None):
        if name == "consolidate.cli":
            raise KeyboardInterrupt
        return None


def test_ctrl_c_while_importing_is_one_line_and_exit_130(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "consolidate.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptedImport(), *sys.meta_path])
    assert entry.main() == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "consolidate: interrupted\n"


def test_python_dash_m_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "consolidate", "catalog", "--json"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.lstrip().startswith("[")
