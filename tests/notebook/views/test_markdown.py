"""`neutralise_markdown`: model Markdown that cannot carry script, and renders as before.

Cases follow the sections of the CommonMark spec (0.31) on links, link reference definitions,
images, autolinks, raw HTML and HTML blocks, each form filled with hostile destinations, plus
the findings of issue #13. "Safe" is judged by `markdown_oracle`: renderers that trust the text,
and an HTML check written apart from the code under test.
"""

from __future__ import annotations

import pytest
from markdown_oracle import RENDERERS, links, problems

from yjnb.notebook.views import markdown as markdown_module
from yjnb.notebook.views.html import is_safe_destination
from yjnb.notebook.views.markdown import neutralise_markdown

HOSTILE = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript&#x3A;alert(1)",
    "java&#x09;script:alert(1)",
    "java&#10;script:alert(1)",
    "jav&Tab;ascript:alert(1)",
    "javascript&colon;alert(1)",
    "&#32;javascript:alert(1)",
    "&#1;javascript:alert(1)",  # left alone by CommonMark, decoded by mistune
    "javascript\\:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
]
# Forms of the spec's link, image and reference sections; {d} is the destination.
FORMS = {
    "inline": "[a]({d})",
    "pointy": "[a](<{d}>)",
    "titled": '[a]({d} "title")',
    "title in parentheses": "[a]({d} (title))",
    "spread over lines": '[a](   {d}\n  "title"  )',
    "rich label": "x [a *b* `c`]({d}) y",
    "inside emphasis": "**[a]({d})**",
    "image in a link": "[![i](https://x.test/i.png)]({d})",
    "label over two lines": "[a\nb]({d})",
    "nested brackets": "[link [foo [bar]]]({d})",
    "escaped bracket in label": "[link \\[bar]({d})",
    "after an escaped backslash": "\\\\[a]({d})",
    "two links": "[a](https://ok.test)[b]({d})",
    "image": "![a]({d})",
    "image, titled": '![a]({d} "t")',
    "image in a link label": "[![a]({d})](https://ok.test)",
    "link in alt text": "![[a]({d})](https://ok.test)",
    "in a quote": "> [a]({d})",
    "in a list in a quote": "1. > - [a]({d})",
    "in a heading": "# [a]({d}) #",
    "in a setext heading": "[a]({d})\n===",
    "in a table cell": "| h |\n|---|\n| [a]({d}) |",
    "after an escaped pipe": "| h | i |\n|---|---|\n| x \\| [a]({d}) | y |",
    "in strikethrough": "~~[a]({d})~~",
    "full reference": "[a][r]\n\n[r]: {d}",
    "collapsed reference": "[a][]\n\n[a]: {d}",
    "shortcut reference": "[a]\n\n[a]: {d}",
    "case-folded label": "[A][R]\n\n[r]: {d}",
    "definition first": "[r]: {d}\n\n[a][r]",
    "pointy definition": "[a][r]\n\n[r]: <{d}>",
    "definition on two lines": '[a][r]\n\n[r]:\n{d}\n"title"',
    "indented definition": "[a][r]\n\n   [r]: {d}",
    "definition in a quote": "[a][r]\n\n> [r]: {d}",
    "definition in a list": "[a][r]\n\n- [r]: {d}",
    "label over lines": "[a][Foo bar]\n\n[Foo\n  bar]: {d}",
    "image reference": "![a][r]\n\n[r]: {d}",
    "Unicode case folding": "[ẞ]\n\n[SS]: {d}",
    "second definition": "[a][r]\n\n[r]: https://ok.test\n[r]: {d}",
    "reference in a table": "| h |\n|---|\n| [a][r] |\n\n[r]: {d}",
}
AUTOLINKS = [
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "x <vbscript:msgbox(1)> y",
    "**<data:text/html,x>**",
    "[<javascript:alert(1)>](https://ok.test)",
    "| <javascript:alert(1)> |\n|---|",
    "<a+b+c:d>",
    "<made-up-scheme://foo,bar>",
    "<localhost:5001/foo>",
]
RAW_HTML = [
    "<a><bab><c2c>",
    "<a/><b2/>",
    '<a  /><b2\ndata="foo" >',
    '<a foo="bar" bam = \'baz <em>"</em>\'\n_boolean zoop:33=zoop:33 />',
    'Foo <responsive-image src="foo.jpg" />',
    "</a></foo >",
    "foo <!-- a comment -->",
    "foo <?php echo $a; ?>",
    "foo <!ELEMENT br EMPTY>",
    "foo <![CDATA[>&<]]>",
    "x <img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)>",
    "<img/src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<style>*{}</style>",
    "<textarea>\n\n<b onclick=x>\n</textarea>",
    "<!-- x\n\n<b onclick=y>\n-->",
    "<![CDATA[\n<b onclick=y>\n]]>",
    "<div>\n*x*\n\n<b onclick=1>y</b>",
    "<details open ontoggle=alert(1)>",
    "<custom-tag onclick=alert(1)>\n\nx",
    "   <div onclick=x>",
    "> <script>alert(1)</script>",
    "- <img src=x onerror=alert(1)>",
    "1. <div>\n   <b onclick=x>y</b>",
    '<a href="javascript:alert(1)">x</a>',
    '<iframe srcdoc="<script>alert(1)</script>">',
    "# <img onerror=alert(1) src=x>",
    "x <b\nonclick=alert(1)>y</b>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "| a | b |\n|---|---|\n| `x | <img onerror=alert(1) src=x>` | y |",
    "| a `| b |\n|---|---|\n| ` <img onerror=alert(1) src=x> ` | y |",
    "<div>\n[x](javascript:alert(1))\n</div>",
    '<a title="[x](javascript:alert(1))">',
    "<a title=\"<a title='<b onclick=x>'>\">",
    "<div>\n" * 30 + "<b onclick=x>",
]
# The findings of issue #13: the neutraliser this replaces let these through.
ISSUE_13 = [
    "[x][r]\n\n> [r]: javascript:alert(1)",
    "[x][r]\n\n[r]: &#106;avascript:alert(1)",
    "[x](&#106;avascript:alert(1))",
    "\\`<img src=x onerror=alert(1)>`",
    "``` a`b\n<img src=x onerror=alert(1)>\n```",
]


def _assert_safe(text: str) -> str:
    out = neutralise_markdown(text)
    assert problems(out) == {}, (text, out)
    return out


@pytest.mark.parametrize("text", ISSUE_13)
def test_the_findings_of_issue_13_are_neutralised(text: str) -> None:
    assert problems(text)  # hostile as given
    _assert_safe(text)


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_no_form_of_link_carries_another_scheme(form: str) -> None:
    for destination in HOSTILE:
        text = form.format(d=destination)
        out = _assert_safe(text)
        assert not [href for href in links(out) if "alert" in href or "passwd" in href]


@pytest.mark.parametrize("text", AUTOLINKS + RAW_HTML)
def test_autolinks_to_other_schemes_and_raw_html_show_as_text(text: str) -> None:
    out = _assert_safe(text)
    assert "&lt;" in out


@pytest.mark.parametrize(
    "text",
    [
        '[link](/uri "title")\n\n[link](</my uri>)\n\n[a](<b)c>)\n\n[link](foo(and(bar)))',
        "[link](#fragment) [link](https://example.com?foo=3#frag) [](./target.md) [link]()",
        "[link [foo [bar]]](/uri) *[foo*](/uri) [foo *bar](baz*) [link](\\(foo\\))",
        '[foo][bar]\n\n[bar]: /url "title"\n\n[Foo][]\n\n[foo]: https://example.com/a',
        '![foo](/url "title") ![foo *bar*][]\n\n[foo *bar*]: train.jpg "train & tracks"',
        "<http://foo.bar.baz> <https://foo.bar.baz/test?q=hello&id=22&boolean>",
        "<MAILTO:FOO@BAR.BAZ> <foo@bar.example.com> [mail](mailto:a@b.example)",
        "# Title\n\nSome *emphasis*, **strong**, `code` and ~~struck~~ text.\n\n"
        "- one\n- two\n  1. nested\n\n> quoted\n\n---\n\n| a | b |\n|:--|--:|\n| 1 | 2 |",
        "```python\nif a < b and c > d:\n    print('<b>')\n```\n\n    <indented code>\n\n"
        "Inline `x<y>` and `` `<b>` `` stay code.",
        "Line one  \nline two\\\nline three",
        "- [ ] a task, [1] a citation and a[0] an index",
    ],
)
def test_safe_markdown_is_left_as_it_is(text: str) -> None:
    assert neutralise_markdown(text) == text


def test_a_less_than_sign_in_text_renders_the_same() -> None:
    text = "If a < b then <3, and \\< stays; see <https://ok.test>.\n\n| x<y | z |\n|---|---|\n"
    out = neutralise_markdown(text)
    assert "a &lt; b" in out and "&lt;3" in out and "<https://ok.test>" in out
    for render in RENDERERS.values():
        assert render(out) == render(text)


# -- what viewers read apart from CommonMark -----------------------------------------------------


def test_a_backslash_before_a_tab_ends_a_destination() -> None:
    # markdown-it reads on through `\<tab>`; CommonMark (cmark, GitHub) ends the destination
    # there, so the rest is text, and the tag a tag.
    assert "&lt;img" in _assert_safe("[a](-\\\t<img src=x onerror=alert(1)>)")
    out = _assert_safe("[r]: -\\\tb\n\t<img src=x onerror=alert(1)>\n\n[r]")
    assert "&lt;img" in out


def test_unbalanced_parentheses_cmark_accepts_are_neutralised() -> None:
    assert neutralise_markdown("[x](javascript:a(b )") == "\\[x](javascript:a(b )"
    assert neutralise_markdown("[r]: javascript:a(b \n\n[r]").startswith("\\[r]:")


def test_code_glued_to_a_bare_url_is_escaped() -> None:
    # mistune and marked link bare URLs while parsing and swallow the backtick.
    out = _assert_safe("see http://x.test/`<img src=x onerror=alert(1)>` and `a<b>`")
    assert out == "see http://x.test/`&lt;img src=x onerror=alert(1)>` and `a&lt;b>`"
    assert neutralise_markdown("`http://x.test`,`a<b>`") == "`http://x.test`,`a<b>`"


def test_code_a_strikethrough_cuts_is_escaped() -> None:
    # mistune strikes `~~x `a~~` first and reads the rest of the code as Markdown.
    out = _assert_safe("~~x `a~~ <img src=x onerror=alert(1)>` and `b<c>`")
    assert out == "~~x `a~~ &lt;img src=x onerror=alert(1)>` and `b&lt;c>`"


def test_a_bare_www_link_cannot_reach_code_through_escaped_tags() -> None:
    # GFM links `www.` while parsing, up to a space or a `<`; `&lt;` does not stop it.
    out = _assert_safe("www.x.test</b>`<img src=x onerror=alert(1)>`")
    assert out == "www.x.test&lt;/b>`&lt;img src=x onerror=alert(1)>`"


def test_indented_code_after_a_definition_is_text_to_cmark() -> None:
    # markdown-it: a definition, then indented code; cmark: one paragraph, the definition
    # read out of it, the indented line its text.
    text = "[r]: /u\n    <img src=x onerror=alert(1)> [x](javascript:alert(1))"
    assert _assert_safe(text) == (
        "[r]: /u\n    &lt;img src=x onerror=alert(1)> &#91;x](javascript:alert(1))"
    )


def test_indented_code_with_a_tab_in_its_indent_is_escaped() -> None:
    # mistune counts the tab otherwise and reads `> > \t<img …>` as a paragraph.
    assert _assert_safe("> > \t<img src=x onerror=alert(1)>") == (
        "> > \t&lt;img src=x onerror=alert(1)>"
    )
    assert neutralise_markdown("    if a < b: pass") == "    if a < b: pass"


def test_an_escaped_less_than_sign_becomes_an_entity() -> None:
    assert neutralise_markdown("http://x.test\\<img src=x onerror=alert(1)>") == (
        "http://x.test&lt;img src=x onerror=alert(1)>"
    )


# -- limits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [">" * 40 + " <img src=x onerror=alert(1)>", "[" * 40 + "x](javascript:alert(1))"],
    ids=["quotes", "brackets"],
)
def test_nesting_deeper_than_any_answer_is_shown_as_code(text: str) -> None:
    out = _assert_safe(text)
    assert out == f"~~~\n{text}\n~~~\n"


def test_an_answer_that_keeps_uncovering_is_shown_as_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markdown_module, "_MAX_PASSES", 1)
    text = "[[a](javascript:alert(1))](javascript:alert(2)) ~~~~"
    assert _assert_safe(text) == f"~~~~~\n{text}\n~~~~~\n"


def test_line_breaks_and_nul_are_normalised_first() -> None:
    out = _assert_safe("a\r\n<b onclick=x>\rc\0")
    assert out == "a\n&lt;b onclick=x>\nc\ufffd"


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/a?b=1", True),
        ("HTTP://EXAMPLE.COM", True),
        ("mailto:a@b.test", True),
        ("relative/path.png", True),
        ("/absolute", True),
        ("#fragment", True),
        ("a/b:c", True),  # a colon after a slash is no scheme
        ("javascript:alert(1)", False),
        ("  JavaScript:alert(1)", False),
        ("\x01javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("&#1;javascript:alert(1)", False),
        ("vbscript:x", False),
        ("data:image/png;base64,AA==", False),
        ("irc://foo.bar", False),
    ],
)
def test_is_safe_destination(url: str, safe: bool) -> None:
    assert is_safe_destination(url) is safe
