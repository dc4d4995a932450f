"""Make kubev2v-example1-trimmed.xlsx from the RVTools example workbook (see PROVENANCE.md).

    python data/samples/formats/rvtools/trim.py SOURCE.xlsx data/samples/formats/rvtools/kubev2v-example1-trimmed.xlsx

Keeps the sheets vInfo, vCPU, vMemory and vHost, every row that holds a value, cell values as
the source stores them (text booleans, numbers, dates); drops the styles and the other sheets.
The source was re-saved by an office program that padded each sheet down to row 1,048,576:
the copy keeps that with one empty formatted cell at the last row of vInfo and of vCPU.
"""

import sys

import openpyxl
from openpyxl.styles import Font

SHEETS = ("vInfo", "vCPU", "vMemory", "vHost")
PADDED = ("vInfo", "vCPU")
LAST_ROW = 1_048_576


def main(source: str, target: str) -> None:
    book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    out = openpyxl.Workbook()
    out.remove(out.active)
    for name in SHEETS:
        sheet = book[name]
        sheet.reset_dimensions()
        copy = out.create_sheet(name)
        for row in sheet.iter_rows(values_only=True):
            if row and any(v is not None for v in row):
                copy.append(list(row))
        if name in PADDED:
            copy.cell(LAST_ROW, 1).font = Font(bold=True)  # formatted, empty: written, as the padding is
    out.save(target)


if __name__ == "__main__":
    main(*sys.argv[1:3])
