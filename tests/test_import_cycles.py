"""scripts/import_cycles.py finds a cycle of any length, and the project's own import graph has none."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "import_cycles.py"
spec = importlib.util.spec_from_file_location("import_cycles", SCRIPT)
import_cycles = importlib.util.module_from_spec(spec)
spec.loader.exec_module(import_cycles)


def test_finds_cycles_of_every_length_and_nothing_else():
    edges = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a", "d"},  # a -> b -> c -> a
        "d": set(),
        "pkg": {"pkg.routes"},
        "pkg.routes": {"pkg"},  # a package and its own module
        "e": {"d"},
    }
    assert sorted(import_cycles.cycles(edges)) == [["a", "b", "c"], ["pkg", "pkg.routes"]]
    assert import_cycles.cycles({"x": {"y"}, "y": set()}) == []


def test_the_project_has_no_import_cycle(capsys):
    assert import_cycles.main() == 0
    assert "0 cycles" in capsys.readouterr().out
