"""A CSV table kept in a spreadsheet (the partner list, content/clinics.csv): its rows as dicts, at their lines.

Excel's byte-order mark, CRLF and old-Mac CR-only line ends all read. The header must name the required
columns and no unknown ones; a row with another number of cells is reported at its line and skipped; blank
rows are ignored. Every problem is collected, none stops the reading.
"""
from __future__ import annotations

import csv
import io

from sitegen.errors import Location, ProblemList


def rows(text: str, shown: str, columns: tuple[str, ...], required: tuple[str, ...],
         problems: ProblemList) -> list[tuple[int, dict[str, str]]] | None:
    """(line, {column: cell}) for every non-blank row, or None when the header itself is wrong."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        problems.error(Location(shown, 1), "", "the list is empty")
        return None
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h not in columns]
    if missing or unknown:
        problems.error(Location(shown, 1), "", f"columns must be {', '.join(columns)}"
                       + (f"; missing {', '.join(missing)}" if missing else "")
                       + (f"; unknown {', '.join(unknown)}" if unknown else ""))
        return None
    out = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.error(Location(shown, line), "", f"expected {len(header)} columns, found {len(values)}")
            continue
        out.append((line, dict(zip(header, values))))
    return out
