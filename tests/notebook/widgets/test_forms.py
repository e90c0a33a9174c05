"""The ipywidgets forms: one per catalog model, the same payload as the magic, submit."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import ipywidgets as w
import pytest
from IPython.utils.capture import capture_output

if __package__:  # tests/notebook as a package or as a rootdir-inserted folder
    from ..media_helpers import JPEG, MP3, MP4, SAMPLE_BY_NAME, image_outputs, last_html
else:
    from media_helpers import JPEG, MP3, MP4, SAMPLE_BY_NAME, image_outputs, last_html

from yjnb.notebook import form
from yjnb.notebook.arguments import split_words
from yjnb.notebook.services.media_request import check_request, split_params
from yjnb.notebook.widgets.form_fields import upload_item
from yjnb.notebook.widgets.forms import TaskForm
from yjnb.protocols import create

YJ = create("yuanjing")
MEDIA_SPECS = [s for s in YJ.catalog.specs() if s.catelog in ("t2i", "t2v", "i2v", "ref2v")]


def _form_for(s: Any, magics: Any) -> TaskForm:
    f = form("image" if s.catelog == "t2i" else "video", session=magics.session)
    f.catelog.value = s.catelog
    f.model.value = s.id
    return f


@pytest.mark.parametrize("s", MEDIA_SPECS, ids=lambda s: f"{s.id}-{s.catelog}")
def test_a_form_for_every_catalog_model(s: Any, magics: Any) -> None:
    f = _form_for(s, magics)
    assert list(f.fields) == [p.name for p in s.params]
    for p in s.params:
        widget = f.fields[p.name].input
        if p.type in ("file", "files"):
            assert isinstance(widget, w.FileUpload) and widget.multiple == (p.type == "files")
            assert (f.fields[p.name].url is not None) == (p.type == "file" and p.accepts_url)
            if p.max_files:
                assert f"≤{p.max_files}" in f.fields[p.name].label.value
        elif p.type == "yn":
            assert isinstance(widget, w.ToggleButtons) and widget.value == p.default
        elif p.choices is not None:
            assert isinstance(widget, w.Dropdown) and widget.value == p.default
            assert [o for o in widget.options if o is not None][-len(p.choices) :]
        elif p.type == "int":
            assert widget.value == p.default
            if p.max is not None:
                assert isinstance(widget, w.IntSlider) and (widget.min, widget.max) == (
                    p.min,
                    p.max,
                )
            else:
                assert isinstance(widget, w.IntText)
        else:
            assert isinstance(widget, w.Textarea) and widget.value == (p.default or "")
    assert f.submit_button.disabled  # no prompt yet
    f.prompt.value = "a cat"
    required_files = [p for p in s.params if p.required and p.type in ("file", "files")]
    assert f.submit_button.disabled == bool(required_files)


def _fill(f: TaskForm, s: Any) -> None:
    """A non-default value in every field; files uploaded and also written next to the notebook."""
    f.prompt.value = "a cat on the moon, slowly"
    for p in s.params:
        field = f.fields[p.name]
        if p.type in ("file", "files"):
            count = 2 if p.type == "files" else 1
            items = []
            for i in range(count):
                sample = SAMPLE_BY_NAME.get(p.name, JPEG)
                name = f"{p.name}{i}" + {MP4: ".mp4", MP3: ".mp3"}.get(sample, ".jpg")
                data = sample + p.name.encode() + bytes([i])
                Path(name).write_bytes(data)
                items.append(upload_item(name, data))
            field.input.value = tuple(items)
        elif p.type == "yn":
            field.input.value = "Y"
        elif p.choices is not None:
            field.input.value = next(c for c in p.choices if c != p.default)
        elif p.type == "int":
            field.input.value = (p.default or 1) + 1 if p.max is None or p.default < p.max else 1
        else:
            field.input.value = "blurry, low quality"


@pytest.mark.parametrize("s", MEDIA_SPECS, ids=lambda s: f"{s.id}-{s.catelog}")
def test_form_payload_is_what_the_magic_line_sends(s: Any, magics: Any) -> None:
    f = _form_for(s, magics)
    _fill(f, s)
    assert not f.problems() and not f.submit_button.disabled
    ours = f.payload()

    line = f.magic_line()
    assert line.startswith(f"%yj_{'image' if s.catelog == 't2i' else 'video'} -m {s.id} ")
    words = split_words(line.split(" ", 1)[1])  # as the magic splits its line
    assert words[:2] == ["-m", s.id]
    kind = "image" if s.catelog == "t2i" else "video"
    params, prompt = split_params(kind, s.id, words[2:], catalog=YJ.catalog)
    theirs = check_request(YJ, "yuanjing", f.kind, s.id, " ".join(prompt), params).request

    assert (ours.model, ours.catelog, ours.prompt) == (theirs.model, theirs.catelog, theirs.prompt)
    assert ours.fields == theirs.fields
    assert [(wire, bytes(v)) for wire, v in ours.files] == [
        (wire, Path(v).read_bytes()) for wire, v in theirs.files
    ]


def test_invalid_input_disables_submit_and_says_why_next_to_the_field(magics: Any) -> None:
    f = form("video", session=magics.session, model="happyhorse-1.0-r2v")
    assert f.catelog.value == "ref2v"
    f.prompt.value = "a cat"
    assert "images is required" in f.fields["images"].error.value
    f.fields["images"].input.value = tuple(upload_item(f"{i}.jpg", JPEG) for i in range(10))
    assert f.submit_button.disabled
    assert "10 files given" in f.fields["images"].error.value
    f.fields["images"].input.value = (upload_item("a.jpg", JPEG),)
    f.fields["duration"].input.value = 0  # IntText: no documented maximum, minimum 1
    assert f.submit_button.disabled and "out of range" in f.fields["duration"].error.value
    f.fields["duration"].input.value = 6
    assert not f.submit_button.disabled and f.fields["duration"].error.value == ""
    f.prompt.value = "  "
    assert f.submit_button.disabled and "prompt" in f.prompt_error.value


def test_changing_catelog_or_model_rebuilds_the_fields(magics: Any) -> None:
    f = form("video", session=magics.session)
    assert f.model.value == "viduq3-pro" and "off_peak" in f.fields
    f.prompt.value = "kept"
    f.model.value = "wan2.6-t2v"
    assert list(f.fields) == ["negative_prompt", "size", "duration"]
    f.catelog.value = "ref2v"
    assert "happyhorse-1.0-r2v" in f.model.options and "images" in f.fields
    assert f.prompt.value == "kept"


def test_copy_as_magic_shows_the_line(magics: Any) -> None:
    f = form("video", session=magics.session)
    f.prompt.value = "a cat"
    f.fields["duration"].input.value = 4
    f.copy_button.value = True
    assert f.magic_text.value == "%yj_video -m viduq3-pro duration=4 'a cat'"
    assert f.magic_text.layout.display is None
    f.prompt.value = "x=1\nsecond line"
    assert f.magic_text.value == "%%yj_video -m viduq3-pro duration=4\nx=1\nsecond line"


def test_submit_shows_its_card_and_image_as_ordinary_outputs(magics: Any, emulator: Any) -> None:
    f = form("image", session=magics.session)
    f.prompt.value = "a <b>red</b> apple"
    f.fields["negative_prompt"].input.value = "blurry"
    with capture_output() as captured:
        watcher = f.submit_button.click() or f.watchers[-1]
        task = watcher.result(timeout=30)
    assert task.status == "SUCCEEDED" and task.params == {"negative_prompt": "blurry"}
    # Plain display data (saved with the notebook), not a widget that needs its kernel.
    assert all("application/vnd.jupyter.widget-view+json" not in o.data for o in captured.outputs)
    html = last_html(captured)
    assert ">ok</span>" in html and "a &lt;b&gt;red&lt;/b&gt; apple" in html
    assert f"href='media/{task.taskid}.png'" in html
    (embedded,) = image_outputs(captured)
    assert base64.b64decode(embedded["image/png"]) == Path(task.local_paths["image"]).read_bytes()
    assert emulator.count("POST /llmage/v1/image/generations") == 1


def test_a_clicks_results_go_to_the_cell_that_displayed_the_form(magics: Any) -> None:
    """In a kernel a click is handled under the comm message's header, not a cell's: the
    results must be published under the header of the cell that displayed the form."""
    shell = magics.session.shell
    display_cell = {"msg_id": "cell-1", "msg_type": "execute_request"}
    click = {"msg_id": "click-1", "msg_type": "comm_msg"}
    f = form("image", session=magics.session)
    shell.parent_header = display_cell  # what `get_parent` answers in ipykernel
    try:
        with capture_output():
            f._ipython_display_()
        assert f.display_parent is display_cell
        shell.parent_header = click
        assert f._result_parent() is display_cell
        later_cell = {"msg_id": "cell-2", "msg_type": "execute_request"}
        shell.parent_header = later_cell  # `form.submit()` called from code in another cell
        assert f._result_parent() is later_cell
    finally:
        del shell.parent_header


def test_submit_with_no_balance_says_so_in_the_form(magics: Any, emulator: Any) -> None:
    emulator.set_balance(emulator.api_key, 0)
    f = form("video", session=magics.session)
    f.prompt.value = "a cat"
    with capture_output() as captured:
        assert f.submit() is None
    assert "Insufficient balance" in f.status.value and f.watchers == []
    assert captured.outputs == []


def test_yjnb_form_from_python(ip: Any, emulator: Any) -> None:
    import yjnb

    f = yjnb.form("image")
    assert f.session is ip.magics_manager.registry["YJMagics"].session
    assert list(f.model.options) == [s.id for s in YJ.catalog.specs("t2i")]
    assert f.catelog.disabled


def test_a_form_on_a_cells_last_line_is_displayed_without_an_out_prompt(ip: Any) -> None:
    """`yjnb.form(...)` as a cell's last expression: display data, no `execute_result`."""
    import yjnb

    f = yjnb.form("image")
    with capture_output() as captured:
        data, _ = ip.displayhook.compute_format_data(f)
    assert data == {}, "nothing for an Out[n] prompt"
    (shown,) = captured.outputs
    assert "application/vnd.jupyter.widget-view+json" in shown.data
    assert shown.data["application/vnd.jupyter.widget-view+json"]["model_id"] == f.model_id
