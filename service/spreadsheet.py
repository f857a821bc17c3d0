"""XLSX exports: XlsxWriter writes a workbook to a file, not to a stream, so the rows go, batch by
batch, to a temporary file in a worker thread (constant-memory mode flushes each row as the next
begins); the finished file is opened, unlinked at once (it lives while open, and vanishes however
the response ends), and streamed in chunks.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import xlsxwriter

from service.export import Presentation, Table

# Excel's limit, the header row included; a longer export goes on in another sheet.
SHEET_ROWS = 1_048_576
CHUNK = 64 * 1024
WIDTHS = {"title": 30, "description": 40, "note": 40, "data": 40}
TIME_WIDTH = 19


class _Book:
    """A workbook being written: one worker thread at a time calls it, never the event loop."""

    def __init__(self, path: Path, table: Table, shown: Presentation, sheet_rows: int):
        self.path, self.table, self.shown, self.sheet_rows = path, table, shown, sheet_rows
        self.book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "tmpdir": str(path.parent),
                # Every cell is written by its type below; these keep a text that looks like a formula,
                # a link or a number exactly the text it is.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,  # times arrive in the department's zone: keep their wall-clock reading
            },
        )
        self.bold = self.book.add_format({"bold": True})
        self.time = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.sheets = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self.sheets += 1
        title = self.table.title(self.shown)
        self.sheet = self.book.add_worksheet(title if self.sheets == 1 else f"{title} {self.sheets}")
        self.sheet.freeze_panes(1, 0)
        for index, column in enumerate(self.table.columns):
            self.sheet.set_column(index, index, TIME_WIDTH if column.time else WIDTHS.get(column.name, 14))
        self.sheet.write_row(0, 0, self.table.header(self.shown), self.bold)
        self.row = 1

    def write(self, records: list[dict[str, Any]]) -> None:
        for values in self.table.rows(records, self.shown):
            if self.row == self.sheet_rows:
                self._new_sheet()
            for index, value in enumerate(values):
                self._cell(index, value)
            self.row += 1

    def _cell(self, column: int, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, str):
            self.sheet.write_string(self.row, column, value)
        elif isinstance(value, datetime):
            self.sheet.write_datetime(self.row, column, value, self.time)
        else:
            self.sheet.write_number(self.row, column, value)

    def close(self) -> BinaryIO:
        self.book.close()
        return self.path.open("rb")


async def xlsx_file(table: Table, batches: AsyncIterator[list[dict[str, Any]]], shown: Presentation, sheet_rows: int = SHEET_ROWS) -> BinaryIO:
    """The finished workbook, open for reading and already unlinked; the caller closes it."""
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="casework-export-"))
    try:
        book = await asyncio.to_thread(_Book, folder / "export.xlsx", table, shown, sheet_rows)
        async for batch in batches:
            await asyncio.to_thread(book.write, batch)
        return await asyncio.to_thread(book.close)
    finally:
        # Also when the client went away or a read failed: XlsxWriter's own row files are in there too.
        shutil.rmtree(folder, ignore_errors=True)


def size(file: BinaryIO) -> int:
    return os.fstat(file.fileno()).st_size


async def chunks(file: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk
    finally:
        file.close()
