"""String library functions: Unicode (grapheme clusters), encodings, conversions."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_ast.stdlib import LibError
from shared_ast.stdlib.string_fns import graphemes
from shared_ast.values import Char, ok
from tests.stdlib_ctx import call

E_ACUTE = "e\u0301"  # e + combining acute accent: one character
FLAG = "🇵🇹"  # two regional indicators: one character
FAMILY = "👨\u200d👩\u200d👧"  # three people joined by ZWJ: one character
ascii_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


@pytest.mark.parametrize(
    ("s", "n"),
    [("", 0), ("abc", 3), (E_ACUTE, 1), (FLAG, 1), (FAMILY, 1), ("é", 1),
     (f"a{FLAG}b{FAMILY}c{E_ACUTE}", 6), ("\r\n", 1), ("a\r\nb", 3), ("日本語", 3)],
)
def test_length_counts_grapheme_clusters(s: str, n: int) -> None:
    assert call("String::length_v1", s) == n
    assert len(call("String::toList_v1", s)) == n


@given(ascii_text, ascii_text)
def test_length_of_concatenation_is_additive_for_ascii(a: str, b: str) -> None:
    assert call("String::length_v1", call("String::append_v1", a, b)) == (
        call("String::length_v1", a) + call("String::length_v1", b)
    )


def test_to_list_and_from_list() -> None:
    s = f"a{FLAG}{E_ACUTE}"
    chars = call("String::toList_v1", s)
    assert chars == (Char("a"), Char(FLAG), Char(E_ACUTE))
    assert call("String::fromList_v1", chars) == s
    assert call("String::toList_v1", "") == ()
    assert call("String::fromList_v1", ()) == ""
    assert call("String::fromChar_v1", Char(FAMILY)) == FAMILY
    with pytest.raises(LibError, match=r"element 1 .*String"):
        call("String::fromList_v1", (Char("a"), "b"))


@given(st.text(max_size=20))
def test_to_list_then_from_list_is_identity(s: str) -> None:
    assert call("String::fromList_v1", call("String::toList_v1", s)) == s


def test_foreach() -> None:
    upper = lambda c: Char(c.text.upper())  # noqa: E731
    assert call("String::foreach_v1", "abc", upper) == "ABC"
    assert call("String::foreach_v1", "", upper) == ""
    seen: list[str] = []
    call("String::foreach_v1", f"x{FLAG}", lambda c: seen.append(c.text) or c)
    assert seen == ["x", FLAG]
    with pytest.raises(LibError, match=r"return a Char.*String"):
        call("String::foreach_v1", "a", lambda c: c.text)


def test_reverse_keeps_clusters_whole() -> None:
    assert call("String::reverse_v0", "abc") == "cba"
    assert call("String::reverse_v0", f"a{E_ACUTE}{FLAG}") == f"{FLAG}{E_ACUTE}a"
    assert call("String::reverse_v0", "") == ""


@given(st.text(max_size=20))
def test_reverse_reverses_the_characters_and_twice_is_identity(s: str) -> None:
    reversed_ = call("String::reverse_v0", s)
    assert reversed_ == "".join(graphemes(s)[::-1])
    if graphemes(reversed_) == graphemes(s)[::-1]:
        assert call("String::reverse_v0", reversed_) == s
    # Otherwise the reversed characters join up differently (a combining mark first, as
    # in "\U000E0100" + "0", attaches to what now precedes it): no reversal undoes that.


def test_a_leading_combining_mark_joins_its_neighbour_once_reversed() -> None:
    s = "\U000E0100" + "0"
    assert call("String::reverse_v0", s) == "0\U000E0100"
    assert graphemes(call("String::reverse_v0", s)) == ["0\U000E0100"]


def test_first_last_drop() -> None:
    s = f"{FLAG}a{E_ACUTE}b"
    assert call("String::first_v0", s, 2) == f"{FLAG}a"
    assert call("String::last_v0", s, 2) == f"{E_ACUTE}b"
    assert call("String::dropFirst_v0", s, 1) == f"a{E_ACUTE}b"
    assert call("String::dropLast_v0", s, 2) == f"{FLAG}a"
    assert call("String::first_v0", s, 99) == s
    assert call("String::last_v0", s, 99) == s
    assert call("String::dropFirst_v0", s, 99) == ""
    assert call("String::dropLast_v0", s, 99) == ""
    for fn in ("first", "last"):
        assert call(f"String::{fn}_v0", s, 0) == ""
        assert call(f"String::{fn}_v0", s, -1) == ""
    for fn in ("dropFirst", "dropLast"):
        assert call(f"String::{fn}_v0", s, 0) == s
        assert call(f"String::{fn}_v0", s, -3) == s


@given(st.text(max_size=15), st.integers(-3, 20))
def test_first_plus_drop_first_is_whole(s: str, n: int) -> None:
    assert call("String::first_v0", s, n) + call("String::dropFirst_v0", s, n) == s
    assert call("String::dropLast_v0", s, n) + call("String::last_v0", s, n) == s


def test_slice() -> None:
    s = f"ab{FLAG}cd"
    assert call("String::slice_v0", s, 1, 3) == f"b{FLAG}"
    assert call("String::slice_v0", s, -2, 5) == "cd"
    assert call("String::slice_v0", s, 0, -1) == f"ab{FLAG}c"
    assert call("String::slice_v0", s, 3, 1) == ""
    assert call("String::slice_v0", s, -100, 100) == s
    assert call("String::slice_v0", "", 0, 1) == ""


def test_pad() -> None:
    assert call("String::padStart_v0", "5", "0", 3) == "005"
    assert call("String::padEnd_v0", "5", ".", 3) == "5.."
    assert call("String::padStart_v0", "12345", "0", 3) == "12345"
    assert call("String::padStart_v0", E_ACUTE, "*", 2) == f"*{E_ACUTE}"
    assert call("String::padEnd_v0", "a", FLAG, 3) == f"a{FLAG}{FLAG}"
    assert call("String::padStart_v0", "a", "x", -5) == "a"
    for bad in ("", "ab", f"{FLAG}{FLAG}"):
        with pytest.raises(LibError, match="exactly one character"):
            call("String::padStart_v0", "a", bad, 5)
        with pytest.raises(LibError, match="exactly one character"):
            call("String::padEnd_v0", "a", bad, 5)


def test_pad_refuses_enormous_lengths() -> None:
    with pytest.raises(LibError, match="goalLength"):
        call("String::padStart_v0", "a", "x", 2**62)


def test_building() -> None:
    assert call("String::append_v1", "ab", "cd") == "abcd"
    assert call("String::prepend_v0", "world", "hello ") == "hello world"
    assert call("String::join_v0", ("a", "b", "c"), ", ") == "a, b, c"
    assert call("String::join_v0", (), ",") == ""
    with pytest.raises(LibError, match=r"element 1 .*Int"):
        call("String::join_v0", ("a", 1), ",")
    assert call("String::newline_v0") == "\n"
    assert call("String::isEmpty_v0", "") is True
    assert call("String::isEmpty_v0", " ") is False


def test_searching() -> None:
    assert call("String::contains_v0", "hello", "ell") is True
    assert call("String::contains_v0", "hello", "") is True
    assert call("String::contains_v0", "hello", "Hell") is False
    assert call("String::isSubstring_v1", "hello", "ell") is True
    assert call("String::startsWith_v0", "hello", "he") is True
    assert call("String::startsWith_v0", "hello", "lo") is False
    assert call("String::endsWith_v0", "hello", "lo") is True
    assert call("String::endsWith_v0", "", "") is True


def test_replace_all() -> None:
    assert call("String::replaceAll_v0", "a-b-c", "-", "+") == "a+b+c"
    assert call("String::replaceAll_v0", "aaa", "aa", "b") == "ba"
    assert call("String::replaceAll_v0", "abc", "x", "y") == "abc"
    with pytest.raises(LibError, match="non-empty"):
        call("String::replaceAll_v0", "abc", "", "y")


def test_split() -> None:
    assert call("String::split_v1", "a,b,,c", ",") == ("a", "b", "", "c")
    assert call("String::split_v1", "abc", ",") == ("abc",)
    assert call("String::split_v1", "", ",") == ("",)
    assert call("String::split_v1", f"a{FLAG}{E_ACUTE}", "") == ("a", FLAG, E_ACUTE)
    assert call("String::split_v1", "", "") == ()


@given(ascii_text, st.sampled_from([",", "ab", " "]))
def test_split_then_join_is_identity(s: str, sep: str) -> None:
    assert call("String::join_v0", call("String::split_v1", s, sep), sep) == s


def test_case_and_trim() -> None:
    assert call("String::toUppercase_v1", "straße é") == "STRASSE É"
    assert call("String::toLowercase_v1", "ÀBC") == "àbc"
    assert call("String::trim_v0", " \t a b \n\u00a0") == "a b"
    assert call("String::trimStart_v0", "  a  ") == "a  "
    assert call("String::trimEnd_v0", "  a  ") == "  a"
    assert call("String::trim_v0", "") == ""


@pytest.mark.parametrize(
    ("s", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("  --Already--slugged--  ", "already-slugged"),
        ("snake_case and   spaces", "snake-case-and-spaces"),
        ("Crème Brûlée 2", "crème-brûlée-2"),
        ("!!!", ""),
        ("", ""),
    ],
)
def test_slugify(s: str, slug: str) -> None:
    assert call("String::slugify_v2", s) == slug


def test_html_escape() -> None:
    assert call("String::htmlEscape_v0", "<a href=\"x\">Tom & Jerry's</a>") == (
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#x27;s&lt;&#x2F;a&gt;"
    )
    assert call("String::htmlEscape_v0", "plain") == "plain"


def test_base64() -> None:
    assert call("String::base64Encode_v0", "") == ""
    assert call("String::base64Encode_v0", "hello") == "aGVsbG8="
    # URL-safe alphabet: these bytes give + and / in the standard one.
    assert base64.b64encode("ÿþ?".encode()).decode() == "w7/Dvj8="
    assert call("String::base64Encode_v0", "ÿþ?") == "w7_Dvj8="
    for encoded in ("aGVsbG8=", "aGVsbG8", "w7_Dvj8=", "w7/Dvj8=", "w7_Dvj8"):
        expect = "hello" if encoded.startswith("aG") else "ÿþ?"
        assert call("String::base64Decode_v0", encoded) == expect
    assert call("String::base64Decode_v0", "") == ""


@pytest.mark.parametrize("bad", ["a", "abcde", "ab c", "a=b=", "***", "aGVsbG8==="])
def test_base64_decode_rejects_invalid(bad: str) -> None:
    with pytest.raises(LibError, match="base64"):
        call("String::base64Decode_v0", bad)


def test_base64_decode_rejects_non_utf8() -> None:
    with pytest.raises(LibError, match="UTF-8"):
        call("String::base64Decode_v0", base64.b64encode(b"\xff\xfe").decode())


@given(st.text(max_size=30))
def test_base64_round_trips(s: str) -> None:
    try:
        encoded = call("String::base64Encode_v0", s)
    except LibError:  # lone surrogates are not text
        return
    assert call("String::base64Decode_v0", encoded) == s


def test_digests_are_unpadded_url_safe_base64() -> None:
    def b64(d: bytes) -> str:
        return base64.urlsafe_b64encode(d).decode().rstrip("=")

    assert call("String::sha256_v0", "abc") == b64(hashlib.sha256(b"abc").digest())
    assert call("String::sha384_v0", "abc") == b64(hashlib.sha384(b"abc").digest())
    assert call("String::digest_v0", "abc") == b64(hashlib.sha384(b"abc").digest())
    assert call("String::sha256_v0", "") == "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
    assert call("String::sha256_v0", FLAG) == b64(hashlib.sha256(FLAG.encode()).digest())


def test_lone_surrogate_is_an_error_not_a_crash() -> None:
    with pytest.raises(LibError, match="surrogate"):
        call("String::sha256_v0", "a\ud800")


def test_to_uuid() -> None:
    u = uuid.UUID("3e8a1f1c-8c3b-4bb5-9f54-0a3b6a1f2c7d")
    assert call("String::toUUID_v1", str(u)) == ok(u)
    assert call("String::toUUID_v1", str(u).upper()) == ok(u)
    for bad in ("", "nope", str(u)[:-1], str(u) + "0"):
        r = call("String::toUUID_v1", bad)
        assert r.name == "Error" and "UUID" in r.args[0]


def test_to_int_and_to_float_return_results() -> None:
    assert call("String::toInt_v1", "12") == ok(12)
    assert call("String::toInt_v1", "1.5").name == "Error"
    assert call("String::toFloat_v1", "1.5") == ok(1.5)
    assert call("String::toFloat_v1", "x").name == "Error"
