#!/usr/bin/env python3
"""tests/nodes/planner/make_config.py: builds the planner tests' config file
from the tool registry, one JSON file per tool in sandbox/tools/.

Nodes cannot read files, so the registry reaches them through ctx.config:
the config holds {"tools": {name: spec}} (later the CLI will load
sandbox/tools itself). Checks that each file is a JSON object whose "name"
equals the file name.

    python3 tests/nodes/planner/make_config.py [TOOLS_DIR] [OUT]
defaults: sandbox/tools and tests/nodes/planner/config.json (from the repo root).
"""
import glob, json, os, sys

tools_dir = sys.argv[1] if len(sys.argv) > 1 else "sandbox/tools"
out = sys.argv[2] if len(sys.argv) > 2 else "tests/nodes/planner/config.json"
tools = {}
for f in sorted(glob.glob(os.path.join(tools_dir, "*.json"))):
    spec = json.load(open(f))
    name = os.path.basename(f)[:-5]
    if not isinstance(spec, dict) or spec.get("name") != name:
        sys.exit(f"{f}: not a tool spec named {name!r}")
    tools[name] = spec
if not tools:
    sys.exit(f"no tool specs in {tools_dir}")
with open(out, "w") as fh:
    json.dump({"tools": tools}, fh, indent=2, sort_keys=True, ensure_ascii=False)
    fh.write("\n")
print(f"{out}: {len(tools)} tools")
