#!/usr/bin/env python3
"""scripts/gen_unicode_tables.py UCD_DIR CONFUSABLES_TXT > src/base/unicode_tables.c

Writes the C tables behind src/base/unicode_norm.c from Unicode's data files:
  UCD_DIR/UnicodeData.txt               decompositions, canonical combining classes
  UCD_DIR/DerivedNormalizationProps.txt Full_Composition_Exclusion
  UCD_DIR/DerivedCoreProperties.txt     Default_Ignorable_Code_Point
  UCD_DIR/PropList.txt                  White_Space
  UCD_DIR/CaseFolding.txt               full case folding (status C and F)
  CONFUSABLES_TXT                       UTS #39 confusables (prototypes)
The versions are read from the files' headers and written into the output's.
scripts/unicode_tables.sh fetches the pinned inputs from Debian and runs this.
Deterministic: the same inputs give the same bytes.
"""
import re
import sys


def parse_ranges(path, prop):
    """[(lo, hi)] of the code points that have `prop` in a UCD property file."""
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(";")]
        if fields[1] != prop:
            continue
        lo, _, hi = fields[0].partition("..")
        out.append((int(lo, 16), int(hi or lo, 16)))
    return merge(sorted(out))


def merge(ranges):
    out = []
    for lo, hi in ranges:
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


def parse_unicode_data(path):
    """ccc {cp: class}, decomp {cp: (is_compat, [cps])} from UnicodeData.txt."""
    ccc, decomp = {}, {}
    for line in open(path, encoding="utf-8"):
        f = line.rstrip("\n").split(";")
        cp = int(f[0], 16)
        if int(f[3]):
            if f[1].endswith(", First>"):
                raise SystemExit("range with a combining class: unexpected")
            ccc[cp] = int(f[3])
        if f[5]:
            parts = f[5].split()
            compat = parts[0].startswith("<")
            if compat:
                parts = parts[1:]
            decomp[cp] = (compat, [int(p, 16) for p in parts])
    return ccc, decomp


def full_decomp(cp, decomp, compat, memo):
    """The full (recursive) canonical or compatibility decomposition of cp."""
    key = (cp, compat)
    if key in memo:
        return memo[key]
    d = decomp.get(cp)
    if d is None or (d[0] and not compat):
        res = [cp]
    else:
        res = []
        for c in d[1]:
            res.extend(full_decomp(c, decomp, compat, memo))
    memo[key] = res
    return res


def parse_case_folding(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = [x.strip() for x in line.split(";")]
        if f[1] in ("C", "F"):
            out[int(f[0], 16)] = [int(x, 16) for x in f[2].split()]
    return out


def parse_confusables(path):
    out = {}
    for line in open(path, encoding="utf-8-sig"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = [x.strip() for x in line.split(";")]
        out[int(f[0], 16)] = [int(x, 16) for x in f[1].split()]
    return out


def version_of(path, pattern):
    for line in open(path, encoding="utf-8-sig"):
        m = re.search(pattern, line)
        if m:
            return m.group(1)
    raise SystemExit(f"{path}: no version line matching {pattern}")


class Pool:
    """One array of code points that every mapping points into."""

    def __init__(self):
        self.cps, self.index = [], {}

    def add(self, seq):
        key = tuple(seq)
        if key not in self.index:
            self.index[key] = len(self.cps)
            self.cps.extend(seq)
        return self.index[key]


def emit(items, _per_line, out):
    """Items packed greedily into lines of at most 118 characters."""
    line = "   "
    for item in items:
        if len(line) + 1 + len(item) > 118:
            out.append(line)
            line = "   "
        line += " " + item
    if line.strip():
        out.append(line)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    ucd, conf_path = sys.argv[1], sys.argv[2]
    ccc, decomp = parse_unicode_data(f"{ucd}/UnicodeData.txt")
    excl = parse_ranges(f"{ucd}/DerivedNormalizationProps.txt", "Full_Composition_Exclusion")
    ignorable = parse_ranges(f"{ucd}/DerivedCoreProperties.txt", "Default_Ignorable_Code_Point")
    space = parse_ranges(f"{ucd}/PropList.txt", "White_Space")
    fold = parse_case_folding(f"{ucd}/CaseFolding.txt")
    conf = parse_confusables(conf_path)
    ucd_version = version_of(f"{ucd}/DerivedCoreProperties.txt", r"DerivedCoreProperties-([0-9.]+)\.txt")
    conf_version = version_of(conf_path, r"Version: ([0-9.]+)")

    def excluded(cp):
        return any(lo <= cp <= hi for lo, hi in excl)

    pool, memo = Pool(), {}
    drows, comps = [], []
    for cp in sorted(decomp):
        nfd = full_decomp(cp, decomp, False, memo)
        nfkd = full_decomp(cp, decomp, True, memo)
        nfd_off, nfd_len = (pool.add(nfd), len(nfd)) if nfd != [cp] else (0, 0)
        drows.append(f"{{0x{cp:X},{nfd_off},{nfd_len},{pool.add(nfkd)},{len(nfkd)}}},")
        compat, parts = decomp[cp]
        if not compat and len(parts) == 2 and not excluded(cp):
            comps.append((parts[0], parts[1], cp))
    comps.sort()
    frows = [f"{{0x{cp:X},{pool.add(fold[cp])},{len(fold[cp])}}}," for cp in sorted(fold)]
    crows = [f"{{0x{cp:X},{pool.add(conf[cp])},{len(conf[cp])}}}," for cp in sorted(conf)]

    ccc_ranges = []
    for cp in sorted(ccc):
        if ccc_ranges and ccc_ranges[-1][1] == cp - 1 and ccc_ranges[-1][2] == ccc[cp]:
            ccc_ranges[-1][1] = cp
        else:
            ccc_ranges.append([cp, cp, ccc[cp]])

    out = [
        "/* unicode_tables.c: GENERATED, do not edit. Unicode "
        f"{ucd_version} (UCD) and UTS #39 confusables {conf_version}.",
        " * Made by: bash scripts/unicode_tables.sh (Debian unicode-data 15.0.0-1 and the",
        " * confusables.txt of Debian's icu 72.1 source, both sha256-pinned), which runs",
        " *   python3 scripts/gen_unicode_tables.py UCD_DIR confusables.txt > src/base/unicode_tables.c",
        " * Read by unicode_norm.c (see unicode_norm.h for what each table means). */",
        '#include "base/unicode_tables.h"',
        "",
        f'const char gt_uni_version[] = "{ucd_version}";',
        f'const char gt_uni_confusables_version[] = "{conf_version}";',
        "",
        f"const uint32_t gt_uni_pool[{len(pool.cps)}] = {{",
    ]
    emit([f"0x{c:X}," for c in pool.cps], 12, out)
    out += ["};", f"const size_t gt_uni_pool_len = {len(pool.cps)};", ""]
    out.append(f"const gt_uni_decomp gt_uni_decomps[{len(drows)}] = {{")
    emit(drows, 4, out)
    out += ["};", f"const size_t gt_uni_n_decomps = {len(drows)};", ""]
    out.append(f"const gt_uni_comp gt_uni_comps[{len(comps)}] = {{")
    emit([f"{{0x{a:X},0x{b:X},0x{c:X}}}," for a, b, c in comps], 5, out)
    out += ["};", f"const size_t gt_uni_n_comps = {len(comps)};", ""]
    out.append(f"const gt_uni_ccc_range gt_uni_cccs[{len(ccc_ranges)}] = {{")
    emit([f"{{0x{lo:X},0x{hi:X},{c}}}," for lo, hi, c in ccc_ranges], 6, out)
    out += ["};", f"const size_t gt_uni_n_cccs = {len(ccc_ranges)};", ""]
    for name, rows in (("folds", frows), ("confusables", crows)):
        out.append(f"const gt_uni_map gt_uni_{name}[{len(rows)}] = {{")
        emit(rows, 6, out)
        out += ["};", f"const size_t gt_uni_n_{name} = {len(rows)};", ""]
    for name, ranges in (("ignorables", ignorable), ("spaces", space)):
        out.append(f"const gt_uni_range gt_uni_{name}[{len(ranges)}] = {{")
        emit([f"{{0x{lo:X},0x{hi:X}}}," for lo, hi in ranges], 6, out)
        out += ["};", f"const size_t gt_uni_n_{name} = {len(ranges)};", ""]
    sys.stdout.write("\n".join(out))


main()
