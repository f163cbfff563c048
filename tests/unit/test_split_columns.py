"""`_split_columns`, the fast path of a CSV block's clean rows, against what it stands in for: the csv module.

The oracle is the csv module as `_clean_rows` runs it when the fast path says None: the block's lines decoded one by
one, read with `strict=True`; a run only when nothing raises, every line is one row and every row is `width` cells.
The fast path may always answer None; what it must never do is answer columns the oracle would not give (other cells,
or columns where the oracle gives no run at all). And for the plainest lines (no quote before the last cell, the last
cell plain or quoted whole) it must answer: that is the point of it.

Blocks are made as `_clean_rows` hands them over: lines ending in \\n, no \\r anywhere."""

from __future__ import annotations

import csv
from itertools import product

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from courier.sources.files import MAX_LINE_BYTES, _split_columns, unquoted

Columns = list[tuple[str, ...]]


# The oracle


def csv_columns(data: bytes, width: int) -> Columns | None:
    """The block's columns as the csv module reads it, or None when it is no run."""
    lines = data.splitlines(keepends=True)
    try:
        rows = list(csv.reader(map(bytes.decode, lines), strict=True))
    except (UnicodeDecodeError, csv.Error):
        return None
    if len(rows) != len(lines) or any(len(row) != width for row in rows):
        return None
    return list(zip(*rows, strict=True))


def fast_columns(data: bytes, width: int) -> Columns | None:
    """The fast path, called as `_clean_rows` calls it (its precondition checked, so no case is made outside it)."""
    assert b"\r" not in data
    assert data.endswith(b"\n")
    return _split_columns(data, len(data.splitlines(keepends=True)), width)


def assert_sound(data: bytes, width: int) -> Columns | None:
    """The fast path answers None, or exactly the csv module's columns (as lists of tuples of str)."""
    fast = fast_columns(data, width)
    if fast is not None:
        expected = csv_columns(data, width)
        assert expected is not None, f"the fast path gave {fast!r} where the csv module gives no run"
        assert type(fast) is list
        assert all(type(column) is tuple for column in fast)
        assert all(type(cell) is str for column in fast for cell in column)
        assert fast == expected
    return fast


def block(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


# What blocks are made of

# Text that is neither a comma, a quote nor a line end: ASCII, JSON punctuation, NUL, tabs, non-ASCII (two, three and
# four UTF-8 bytes), and characters str.splitlines would take for line ends though neither bytes nor csv does.
PLAIN_PIECES = [
    "a",
    "bc",
    "7",
    " ",
    "  ",
    "{",
    "}",
    ":",
    "[1]",
    "\x00",
    "\t",
    "é",
    "²",
    "\U0001f600",
    "\u2028",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x85",
    "\ufeff",
]
# Bytes no UTF-8 decoder takes: a lone continuation byte, 0xff, a sequence cut short, a surrogate, an overlong form.
BROKEN_PIECES = [b"\x80", b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf0\x9f\x98"]

plain_text = st.lists(st.sampled_from(PLAIN_PIECES), max_size=5).map("".join)
plain_text_not_empty = st.lists(st.sampled_from(PLAIN_PIECES), min_size=1, max_size=5).map("".join)
plain_bytes = plain_text.map(str.encode)
broken_bytes = st.lists(
    st.one_of(plain_bytes, plain_bytes, st.sampled_from(BROKEN_PIECES)), min_size=1, max_size=4
).map(b"".join)
# What may stand inside a quoted cell: text, commas, doubled quotes, line ends (the row then spans lines), and now and
# then a lone quote (which closes the cell early: what follows it must be a comma or the line end).
quoted_inner = st.lists(
    st.one_of(plain_bytes, plain_bytes, st.sampled_from([b",", b'""', b'""""', b"\n", b'"', b"\n\n", b'",'])),
    max_size=6,
).map(b"".join)

cells = st.one_of(
    plain_bytes,  # a plain cell (empty ones among them)
    plain_bytes,
    st.builds(lambda inner: b'"' + inner + b'"', quoted_inner),  # quoted whole (or not quite, with a lone quote)
    st.builds(lambda inner: b'"' + inner + b'"', quoted_inner),
    st.builds(lambda inner: b'"' + inner, quoted_inner),  # a quote opened and never closed on this line
    st.builds(lambda a, b: a + b'"' + b, plain_bytes, plain_bytes),  # a quote in the middle of an unquoted cell
    st.builds(lambda a, b: b'"' + a + b'"' + b, plain_bytes, plain_bytes),  # text after a closing quote
    st.builds(lambda a: a + b'"', plain_bytes),  # a quote ending an unquoted cell
    st.builds(lambda a: b' "' + a + b'"', plain_bytes),  # a space before the opening quote
    broken_bytes,  # invalid UTF-8
    st.sampled_from([b'"', b'""', b'"""', b'""""', b'"a"""', b'"""a"', b'"a""b"', b",", b'","', b'"\n"']),
)

# A last cell quoted whole may hold anything but a line end: commas, quotes (doubled when written), JSON.
quoted_content = st.lists(
    st.one_of(plain_text, plain_text, st.sampled_from([",", '"', '""', '{"a":1}', '","', '"x"'])), max_size=6
).map("".join)
last_cells = st.one_of(plain_bytes, quoted_content.map(lambda text: ('"' + text.replace('"', '""') + '"').encode()))


@st.composite
def rows_and_width(draw: st.DrawFn) -> tuple[list[bytes], int]:
    """1 to 8 lines of `width` plain cells (the last one plain or quoted whole), then broken in 0 to 3 places: a cell
    made any of the cells above, a cell dropped or added, a line blanked, a nasty bit put anywhere in a line."""
    width = draw(st.integers(1, 6))
    count = draw(st.integers(1, 8))
    lines = [
        b",".join([*draw(st.lists(plain_bytes, min_size=width - 1, max_size=width - 1)), draw(last_cells)])
        for _ in range(count)
    ]
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3]))):
        at = draw(st.integers(0, count - 1))
        line = lines[at]
        kind = draw(st.sampled_from(["cell", "cell", "cell", "drop", "add", "blank", "bit"]))
        if kind == "cell":  # one cell (first, middle or last) made anything
            parts = line.split(b",", width - 1)
            parts[draw(st.integers(0, len(parts) - 1))] = draw(cells)
            lines[at] = b",".join(parts)
        elif kind == "drop":
            lines[at] = line.rsplit(b",", 1)[0] if b"," in line else b""
        elif kind == "add":
            lines[at] = line + b"," + draw(cells)
        elif kind == "blank":
            lines[at] = b""
        else:
            where = draw(st.integers(0, len(line)))
            bit = draw(st.sampled_from([b",", b'"', b"\n", b'""', b'",', b',"', b'"\n', b"\n\n", *BROKEN_PIECES]))
            lines[at] = line[:where] + bit + line[where:]
    return lines, width


# Bits that go together anyhow, for blocks no structure foresees.
SOUP = [b",", b'"', b'""', b"\n", b"a", b" ", b"\x00", "é".encode(), b"\xff", b"\xc3", b"{", b"}", b":", b'",', b',"']


# The property: never anything but the csv module's columns


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(made=rows_and_width())
@example(made=([b"a,b", b"c,d"], 2))
@example(made=([b'x,"a', b'b"'], 2))
@example(made=([b'x,"', b'"'], 2))
@example(made=([b'x,"', b',"'], 2))
@example(made=([b""], 1))
def test_the_fast_path_never_gives_columns_the_csv_module_does_not(made: tuple[list[bytes], int]) -> None:
    # Given any block of 1 to 8 lines, plain but for a few places (cells quoted, half quoted, broken, lines too
    # narrow, too wide or blank, rows spanning lines)
    lines, width = made
    data = block(lines)
    # When the fast path splits it
    # Then it answers None, or the columns the csv module reads
    fast = assert_sound(data, width)
    event("the fast path: columns" if fast is not None else "the fast path: None")


@settings(max_examples=3000, deadline=None)
@given(data=st.lists(st.sampled_from(SOUP), min_size=1, max_size=24).map(lambda bits: b"".join(bits) + b"\n"))
@example(data=b'a,"\n')
@example(data=b'"\n"\n')
def test_the_fast_path_never_gives_columns_the_csv_module_does_not_for_any_soup_of_bits(data: bytes) -> None:
    # Given any mix of commas, quotes, line ends, text and broken bytes
    for width in range(1, 7):
        # When the fast path splits it, for any width
        # Then it answers None, or the columns the csv module reads
        fast = assert_sound(data, width)
        event("the fast path: columns" if fast is not None else "the fast path: None")


# Every small block: exhaustively, over the characters that matter


def plainest(data: bytes, width: int) -> bool:
    """Whether every line is `width` cells as the csv module reads it, with no quote, comma or line end in any cell but
    the last, and the last written plain or quoted whole (the shape the fast path is for)."""
    columns = csv_columns(data, width)
    if columns is None:
        return False
    for line, row in zip(data.splitlines(), zip(*columns, strict=True), strict=True):
        *first, last = row
        if any(mark in cell for cell in first for mark in '",\n'):
            return False
        plain = "," not in last and '"' not in last and line.decode() == ",".join([*first, last])
        if not plain and line.decode() != ",".join([*first, '"' + last.replace('"', '""') + '"']):
            return False
    return True


def test_every_block_of_up_to_seven_commas_quotes_line_ends_letters_and_spaces() -> None:
    # Given every block of up to 7 characters out of , " \n a and a space, then a line end
    given = columns_given = 0
    for length in range(8):
        for bits in product(',"\na ', repeat=length):
            data = ("".join(bits) + "\n").encode()
            for width in range(1, 5):
                # When the fast path splits it, for widths 1 to 4
                fast = assert_sound(data, width)
                # Then it answers None or the csv module's columns, and never None for the plainest lines
                assert fast is not None or not plainest(data, width), (data, width)
                given += 1
                columns_given += fast is not None
    assert given == 4 * sum(5**length for length in range(8))
    assert columns_given > 5_000


# The property: the plainest lines are split by the fast path


@st.composite
def plain_rows(draw: st.DrawFn) -> tuple[list[bytes], int, list[list[str]]]:
    """1 to 8 lines of `width` cells: plain cells, the last one plain or quoted whole; and the cells they stand for."""
    width = draw(st.integers(1, 6))
    lines, rows = [], []
    for _ in range(draw(st.integers(1, 8))):
        row = draw(st.lists(plain_text, min_size=width - 1, max_size=width - 1))
        if draw(st.booleans()):
            last = draw(quoted_content)
            written = '"' + last.replace('"', '""') + '"'
        else:
            last = draw(plain_text_not_empty if width == 1 else plain_text)  # a blank line is no row
            written = last
        lines.append(",".join([*row, written]).encode())
        rows.append([*row, last])
    return lines, width, rows


@settings(max_examples=1500, deadline=None)
@given(made=plain_rows())
@example(made=([b'""'], 1, [[""]]))
@example(made=([b'a,""'], 2, [["a", ""]]))
@example(made=([b'a,"x"""'], 2, [["a", 'x"']]))
@example(made=([b'"a,b"'], 1, [["a,b"]]))
@example(made=([b",,"], 3, [["", "", ""]]))
def test_the_plainest_lines_are_split_by_the_fast_path(made: tuple[list[bytes], int, list[list[str]]]) -> None:
    # Given lines of `width` cells with no quote before the last cell, which is plain or quoted whole
    lines, width, rows = made
    data = block(lines)
    # When the fast path splits them
    fast = fast_columns(data, width)
    # Then it does (no None), and gives the csv module's columns: the cells the lines were written from
    assert fast is not None
    assert fast == csv_columns(data, width)
    assert fast == list(zip(*rows, strict=True))


# Examples


def test_a_single_column_line_with_a_comma_is_no_run() -> None:
    # Given a one-column block whose second line has a comma (two cells)
    data = block([b"a", b"b,c", b"d"])
    # When it is split
    # Then it is no run, for the fast path as for the csv module
    assert fast_columns(data, 1) is None
    assert csv_columns(data, 1) is None


def test_a_single_column_cell_quoted_with_a_comma_is_one_cell() -> None:
    # Given a one-column block whose cell is quoted, a comma inside
    data = block([b'"b,c"', b"d"])
    # When it is split
    # Then the comma is the cell's
    assert fast_columns(data, 1) == [("b,c", "d")] == csv_columns(data, 1)


def test_an_empty_quoted_last_cell_is_an_empty_cell() -> None:
    # Given a last cell written `""`
    data = block([b'a,""', b'b,"x"'])
    # When it is split
    # Then it is an empty cell (not a quote)
    assert fast_columns(data, 2) == [("a", "b"), ("", "x")] == csv_columns(data, 2)


def test_a_doubled_quote_before_the_closing_one_is_a_quote_of_the_cell() -> None:
    # Given a last cell written `"a"""`: a, a doubled quote, then the closing quote
    data = block([b'1,"a"""'])
    # When it is split
    # Then the cell is a"
    assert fast_columns(data, 2) == [("1",), ('a"',)] == csv_columns(data, 2)


@pytest.mark.parametrize(
    ("lines", "width"),
    [
        pytest.param(
            [b'1,"'], 2, id="a last cell that is one quote: a quoted cell opened on the last line, never closed"
        ),
        pytest.param([b'1,"""', b"2,x"], 2, id='a last cell `"""`: opened, a doubled quote, never closed'),
        pytest.param(
            [b'1,"', b',"'],
            2,
            id="lines of two cells each, where the first line's last cell is a quote and the next line's too",
        ),
        pytest.param([b"a", b"", b"b"], 1, id="a one-column block with a blank line (no row to the csv module)"),
        pytest.param([b"a,b", b"c,d", b"e,f"], 3, id="lines of two cells each, for a header of three"),
        pytest.param([b"a,b,c", b"d,e,f,g", b"h,i,j"], 3, id="one line of four cells among lines of three"),
        pytest.param([b"a,\xc3", b"b,c"], 2, id="a cell cut in the middle of a UTF-8 sequence"),
    ],
)
def test_blocks_the_csv_module_reads_as_no_run_are_no_run(lines: list[bytes], width: int) -> None:
    # Given a block the csv module does not read as lines each one row as wide as the header (see the case's id)
    data = block(lines)
    # When it is split
    # Then it is no run, for the fast path as for the csv module
    assert fast_columns(data, width) is None
    assert csv_columns(data, width) is None


def test_a_last_cell_whose_quote_goes_on_to_the_next_line_is_no_run() -> None:
    # Given a quoted last cell opened on one line and closed on the next, each line as wide as the header on its own
    data = block([b'1,"a', b'2,b"', b"3,c"])
    # When it is split
    # Then it is no run (the csv module reads two rows of three lines, the first with a line end in a cell)
    assert fast_columns(data, 2) is None
    assert csv_columns(data, 2) is None
    assert list(csv.reader(map(bytes.decode, data.splitlines(keepends=True)), strict=True)) == [
        ["1", "a\n2,b"],
        ["3", "c"],
    ]


def test_a_quote_in_the_middle_of_an_earlierunquoted_cell_leaves_it_to_the_csv_module() -> None:
    # Given a quote in the middle of an unquoted first cell (the csv module takes it as text)
    data = block([b'a"b,c'])
    # When it is split
    # Then the fast path leaves it (None), the csv module reading it as the text it is
    assert fast_columns(data, 2) is None
    assert csv_columns(data, 2) == [('a"b',), ("c",)]


def test_a_comma_inside_an_earlier_quoted_cell_is_never_split_at() -> None:
    # Given a first cell quoted with a comma in it: three commas, three cells
    data = block([b'"a,b",c,d'])
    # When it is split as four columns (as many as its commas make)
    # Then it is no run, as the csv module reads three cells
    assert fast_columns(data, 4) is None
    assert csv_columns(data, 4) is None
    # And as three columns the fast path leaves it to the csv module, which reads the quoted comma as the cell's
    assert fast_columns(data, 3) is None
    assert csv_columns(data, 3) == [("a,b",), ("c",), ("d",)]


def test_text_after_a_closing_quote_is_no_run() -> None:
    # Given a quoted last cell followed by text, and one followed by a space
    for line in (b'1,"a"b', b'1,"a" '):
        data = block([line])
        # When it is split
        # Then it is no run: the strict csv module raises
        assert fast_columns(data, 2) is None
        assert csv_columns(data, 2) is None


def test_nul_and_non_ascii_cells_are_split_as_the_csv_module_reads_them() -> None:
    # Given cells with NUL, non-ASCII text, an emoji and JSON in a quoted last cell
    data = block(['a\x00,é²,"{""k"":""\U0001f600""}"'.encode(), b'\x00,,""'])
    # When it is split
    # Then it gives the csv module's cells
    expected = [("a\x00", "\x00"), ("é²", ""), ('{"k":"\U0001f600"}', "")]
    assert csv_columns(data, 3) == expected
    assert fast_columns(data, 3) == expected


def test_a_last_cell_isunquoted_only_when_quoted_whole() -> None:
    # Given last cells as written, plain, quoted whole or not
    # Then unquoted gives the csv module's cell, or None when the csv module would not read it as one cell
    assert unquoted("abc") == "abc"
    assert unquoted("a,b") is None
    assert unquoted('""') == ""
    assert unquoted('""""') == '"'
    assert unquoted('"a""b"') == 'a"b'
    assert unquoted('"a,b"') == "a,b"
    assert unquoted('"') is None
    assert unquoted('"""') is None
    assert unquoted('"a"b"') is None
    assert unquoted('"a""') is None
    assert unquoted('a"') is None
    assert unquoted(' "a"') is None


def test_no_line_the_reader_hands_over_holds_a_cell_past_the_csv_modules_limit() -> None:
    # Given the fast path, which never looks at csv.field_size_limit(), and the longest line the reader hands over
    longest_cell = MAX_LINE_BYTES - 1  # its line end included, a line is at most MAX_LINE_BYTES
    # Then the csv module would read that line's cell too: the two cannot part on a cell's size
    assert csv.field_size_limit() >= longest_cell
