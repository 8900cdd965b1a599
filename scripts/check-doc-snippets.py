#!/usr/bin/env python3
"""Every C++ block in the docs is compiled code.

Checks that each fenced C++ block (```cpp or ```c++) in README.md and
docs/*.md equals a snippet region of a compiled source file, so the docs
cannot drift from code that builds and runs (CTest: doc_snippets_check).

Regions live in docs/snippets/ and examples/:

    // [snippet name]
    ...code shown in the docs...
    // [end name]

A region may be split into parts (the same name opened and closed again
further down), so scaffolding the reader does not need to see (setup,
checks) can sit between them; the parts are joined in file order. Each part
is dedented by the indentation of its opening marker, so a part inside a
function body lines up with one at namespace scope.

A doc block matches when, after removing the fence's indentation and
trailing whitespace and surrounding blank lines, it equals a region's text.
A block preceded by `<!-- snippet: name -->` must equal region `name`;
`--sync` rewrites such blocks from the source. Blocks not yet converted can
be listed in docs/snippets/pending.txt as `<doc path> <hash>`; the hash is
printed for every failing block. A pending entry matching no block, and a
region no doc shows, are errors too (so neither can go stale).

Exit status: 0 if every block matches, 1 otherwise (each failure is reported
as file:line), 2 on usage errors. Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
MARKER = re.compile(r"^[ \t]*<!--[ \t]*snippet:[ \t]*(?P<name>[\w.\-]+)[ \t]*-->[ \t]*$")
REGION_OPEN = re.compile(r"^(?P<indent>[ \t]*)//[ \t]*\[snippet[ \t]+(?P<name>[\w.\-]+)\][ \t]*$")
REGION_CLOSE = re.compile(r"^[ \t]*//[ \t]*\[end[ \t]+(?P<name>[\w.\-]+)\][ \t]*$")
CPP_INFO = {"cpp", "c++"}
SOURCE_SUFFIXES = {".cpp", ".hpp", ".h", ".cc"}


def normalise(lines: list[str]) -> str:
    """Trailing whitespace removed per line, surrounding blank lines dropped."""
    out = [l.rstrip() for l in lines]
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def block_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def dedent_by(line: str, indent: str) -> str:
    if line.startswith(indent):
        return line[len(indent):]
    return line.lstrip(" \t")  # less indented than its marker: take what is there


@dataclass
class Region:
    name: str
    path: Path
    line: int  # first opening marker
    parts: list[list[str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return normalise([l for part in self.parts for l in part])


@dataclass
class Block:
    path: Path
    line: int  # the opening fence, 1-based
    start: int  # index of the first content line
    end: int  # index of the closing fence
    indent: str
    marker: str | None
    text: str


def read_regions(root: Path, paths: list[Path], errors: list[str]) -> dict[str, Region]:
    regions: dict[str, Region] = {}
    for path in paths:
        lines = (root / path).read_text(encoding="utf-8").splitlines()
        open_name, open_indent, part = None, "", []
        for i, line in enumerate(lines, 1):
            if m := REGION_OPEN.match(line):
                if open_name:
                    errors.append(f"{path}:{i}: region '{m['name']}' opens inside region '{open_name}'")
                    continue
                open_name, open_indent, part = m["name"], m["indent"], []
                r = regions.get(open_name)
                if r is None:
                    regions[open_name] = Region(open_name, path, i)
                elif r.path != path:
                    errors.append(f"{path}:{i}: region '{open_name}' is also defined in {r.path}:{r.line}")
            elif m := REGION_CLOSE.match(line):
                if m["name"] != open_name:
                    errors.append(f"{path}:{i}: '[end {m['name']}]' does not close an open region")
                    continue
                regions[open_name].parts.append(part)
                open_name = None
            elif open_name:
                part.append(dedent_by(line, open_indent))
        if open_name:
            errors.append(f"{path}: region '{open_name}' is never closed")
    return regions


def read_blocks(path: Path, lines: list[str], errors: list[str]) -> list[Block]:
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent = m["fence"], m["indent"]
        info = m["info"].split()[0].lower() if m["info"].split() else ""
        close = re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        if j == len(lines):
            errors.append(f"{path}:{i + 1}: fence is never closed")
            return blocks
        if info in CPP_INFO:
            marker = None
            k = i - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            if k >= 0 and (mm := MARKER.match(lines[k])):
                marker = mm["name"]
            body = [dedent_by(l, indent) for l in lines[i + 1 : j]]
            blocks.append(Block(path, i + 1, i + 1, j, indent, marker, normalise(body)))
        i = j + 1
    return blocks


def read_pending(path: Path, errors: list[str]) -> set[tuple[str, str]]:
    pending: set[tuple[str, str]] = set()
    if not path.exists():
        return pending
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            errors.append(f"{path}:{n}: expected '<doc path> <hash>'")
            continue
        pending.add((parts[0], parts[1]))
    return pending


def first_difference(a: str, b: str) -> str:
    al, bl = a.split("\n"), b.split("\n")
    for n, (x, y) in enumerate(zip(al, bl), 1):
        if x != y:
            return f"line {n} of the block: doc {x!r} vs source {y!r}"
    return f"the doc block has {len(al)} lines, the region {len(bl)}"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                    help="repository root (default: this script's parent directory)")
    ap.add_argument("--sync", action="store_true",
                    help="rewrite blocks preceded by <!-- snippet: name --> from region `name`")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    if not (root / "README.md").is_file():
        print(f"check-doc-snippets: {root} has no README.md", file=sys.stderr)
        return 2

    errors: list[str] = []
    sources = sorted(p.relative_to(root) for d in ("docs/snippets", "examples") if (root / d).is_dir()
                     for p in (root / d).rglob("*") if p.suffix in SOURCE_SUFFIXES)
    regions = read_regions(root, sources, errors)
    by_text: dict[str, list[Region]] = {}
    for r in regions.values():
        by_text.setdefault(r.text, []).append(r)
    pending_file = root / "docs/snippets/pending.txt"
    pending = read_pending(pending_file, errors)
    used_pending: set[tuple[str, str]] = set()
    shown: set[str] = set()  # regions some doc block equals

    docs = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    checked = synced = 0
    for doc in docs:
        rel = doc.relative_to(root).as_posix()
        lines = doc.read_text(encoding="utf-8").splitlines()
        blocks = read_blocks(Path(rel), lines, errors)
        edits: list[tuple[Block, list[str]]] = []
        for b in blocks:
            checked += 1
            h = block_hash(b.text)
            if (rel, h) in pending:
                used_pending.add((rel, h))
                continue
            shown.update(r.name for r in by_text.get(b.text, []))
            if b.marker:
                shown.add(b.marker)
                r = regions.get(b.marker)
                if r is None:
                    errors.append(f"{rel}:{b.line}: <!-- snippet: {b.marker} --> names no region "
                                  f"in docs/snippets/ or examples/ (block hash {h})")
                elif r.text != b.text:
                    if args.sync:
                        edits.append((b, [(b.indent + l) if l else "" for l in r.text.split("\n")]))
                    else:
                        errors.append(f"{rel}:{b.line}: block differs from region '{r.name}' "
                                      f"({r.path}:{r.line}): "
                                      f"{first_difference(b.text, r.text)} (edit the region, then run --sync)")
            elif b.text not in by_text:
                errors.append(f"{rel}:{b.line}: C++ block has no compiled twin (no region in "
                              f"docs/snippets/ or examples/ has this text; block hash {h})")
        if edits:
            for b, new in reversed(edits):
                lines[b.start : b.end] = new
                synced += 1
            doc.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in sorted(set(regions) - shown):
        r = regions[name]
        errors.append(f"{r.path}:{r.line}: region '{name}' is shown in no doc (delete it, or mark the "
                      f"doc block with <!-- snippet: {name} -->)")
    for rel, h in sorted(pending - used_pending):
        errors.append(f"{pending_file.relative_to(root)}: pending entry '{rel} {h}' matches no block "
                      "(the block changed or was converted: remove the entry)")

    for e in errors:
        print(e, file=sys.stderr)
    summary = f"check-doc-snippets: {checked} C++ blocks, {len(regions)} regions, " \
              f"{len(used_pending)} pending"
    if synced:
        summary += f", {synced} rewritten from source"
    print(summary + (f", {len(errors)} problem(s)" if errors else ", all compiled"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
