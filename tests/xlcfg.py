"""A parser of Xen's xl guest configs as xl.cfg(5) states their syntax and as xl's own lexer and
grammar read it (xen-project/xen, tools/libxl/libxlu_cfg_l.l and libxlu_cfg_y.y), for the export tests:

- tokens: a key ``[a-z][_0-9a-z]*``; a number ``[0-9][0-9a-fx]*``; a string in double or
  single quotes, on one line, with backslash escapes; ``= , [ ] ;``; a newline, or a comment
  ``#`` to the end of its line (a comment must end in a newline); blanks are spaces and tabs
  only (a carriage return is a lexical error); anything else is a lexical error;
- settings ``KEY = VALUE`` end at a newline or ``;`` (the last one may end the file); a value is
  a string, a number, or a list in brackets of strings and numbers, which may span lines and end
  in a comma.

One check is stricter than xl: a key set twice is refused (xl would keep the last).
"""

import re

_TOKEN = re.compile(
    r"""(?P<blank>[ \t]+)|(?P<newline>\n|\#[^\n]*\n)|(?P<key>[a-z][_0-9a-z]*)|(?P<number>[0-9][0-9a-fx]*)"""
    r"""|(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(?P<punct>[=,\[\];])"""
)
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def xl_tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        assert match, f"xl.cfg: lexical error at {text[position:position + 30]!r} (offset {position})"
        kind = match.lastgroup if match.lastgroup != "punct" else match.group()
        if kind != "blank":
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens + [("end", "")]


def _dequote(word: str) -> str:
    out, chars = [], iter(word[1:-1])
    for c in chars:
        if c == "\\":
            escaped = next(chars)
            assert escaped in _ESCAPES, f"xl.cfg: escape \\{escaped} in {word!r} is not one this parser knows"
            out.append(_ESCAPES[escaped])
        else:
            out.append(c)
    return "".join(out)


def _number(word: str) -> int:
    assert re.fullmatch(r"0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*", word), f"xl.cfg: {word!r} is not a number"
    return int(word, 16) if word.startswith("0x") else int(word, 8) if word.startswith("0") and word != "0" else int(word)


def parse_xl_cfg(text: str) -> dict:
    """Every setting of an xl guest config: key -> a string (dequoted), an int, or a list of them."""
    tokens, values, i = xl_tokens(text), {}, 0

    def skip_newlines(i: int) -> int:
        while tokens[i][0] == "newline":
            i += 1
        return i

    def atom(i: int):
        kind, word = tokens[i]
        if kind == "string":
            return _dequote(word), i + 1
        if kind == "number":
            return _number(word), i + 1
        raise AssertionError(f"xl.cfg: {word!r} is not a value (a string is quoted)")

    def value(i: int):
        if tokens[i][0] != "[":
            return atom(i)
        items, i = [], skip_newlines(i + 1)
        while tokens[i][0] != "]":
            item, i = atom(i)
            items.append(item)
            i = skip_newlines(i)
            if tokens[i][0] == ",":
                i = skip_newlines(i + 1)
            else:
                assert tokens[i][0] == "]", f"xl.cfg: a list item is followed by {tokens[i][1]!r}, not , or ]"
        return items, i + 1

    while tokens[i][0] != "end":
        if tokens[i][0] in ("newline", ";"):
            i += 1
            continue
        assert tokens[i][0] == "key", f"xl.cfg: expected a key, got {tokens[i][1]!r}"
        key = tokens[i][1]
        assert tokens[i + 1][0] == "=", f"xl.cfg: {key} is not followed by ="
        assert key not in values, f"xl.cfg: {key} set twice"
        values[key], i = value(i + 2)
        assert tokens[i][0] in ("newline", ";", "end"), f"xl.cfg: {key} = ... is followed by {tokens[i][1]!r}"
    return values
