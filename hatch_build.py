"""Build hook: the wheel ships the shipped rules and guide already validated (advisor/_data/*.pickle).

`advisor.precompiled` explains the file and when it is used. It is made by running the
advisor from this source tree, so the build needs PyYAML (pyproject's build-system requires).
Editable installs skip it: `scripts/setup` writes build/ruleset.pickle for a checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompiledRulesHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        out = Path(tempfile.mkdtemp(prefix="advisor-build-")) / "ruleset.pickle"
        env = {**os.environ, "PYTHONPATH": self.root}
        subprocess.run([sys.executable, "-m", "advisor.precompiled", str(out)], cwd=self.root, env=env, check=True)
        build_data["force_include"][str(out)] = "advisor/_data/ruleset.pickle"
        # Written beside it by the same run (advisor.precompiled.main).
        build_data["force_include"][str(out.with_name("guide.pickle"))] = "advisor/_data/guide.pickle"
