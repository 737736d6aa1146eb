"""The feedback pages' exporter: nbconvert's HTML exporter without its BeautifulSoup pass."""

from __future__ import annotations

import base64

import jinja2
import nbformat
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.course import REPO_ROOT
from autograder.grading.feedback import COMPILED_TEMPLATES, NO_ALT_TEXT, FeedbackExporter
from autograder.grading.feedback_warm_up import course_exporter, tiny_graded_notebook, warm_up

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5d2c3b00000000049454e44ae426082")).decode()


def _notebook():
    figure = new_code_cell("plt.plot(x)", outputs=[new_output("display_data", data={"image/png": PNG})])
    described = new_code_cell("HTML(...)", outputs=[new_output(
        "display_data", data={"text/html": '<p>Courbe</p><img alt="la courbe" src="data:image/png;base64,AAAA">'})])
    return new_notebook(cells=[new_markdown_cell("# Retours\n\nUne *phrase*."), figure, described,
                               new_code_cell("x = 1\nprint(x)", outputs=[new_output("stream", text="1\n")])],
                        metadata={"language_info": {"name": "python"}})


def test_every_image_has_a_french_description_unless_it_had_one():
    html, _ = FeedbackExporter(template_name="classic").from_notebook_node(_notebook())
    images = BeautifulSoup(html, features="html.parser").find_all("img")
    assert [image.get("alt") for image in images] == [NO_ALT_TEXT, "la courbe"]


def test_the_page_is_nbconverts_but_for_its_reserialization_and_the_descriptions():
    notebook = _notebook()
    ours, _ = FeedbackExporter(template_name="classic").from_notebook_node(notebook)
    stock, _ = HTMLExporter(template_name="classic").from_notebook_node(nbformat.from_dict(notebook))
    english = "No description has been provided for this image"
    assert english in stock and english not in ours
    assert str(BeautifulSoup(ours.replace(NO_ALT_TEXT, english), features="html.parser")) == stock


def test_only_image_tags_get_a_description_never_scripts_styles_or_comments():
    from autograder.grading.feedback import describe_images

    html = ('<p><img src="a.png"></p><IMG SRC="b.png"/><img alt="" src="c.png">'
            '<script>var s = "<img src=x>";</script><style>/* <img> */</style><!-- <img src=y> -->'
            '<textarea><img src=z></textarea><img\nsrc="d.png">')
    described = describe_images(html)
    assert described == (f'<p><img alt="{NO_ALT_TEXT}" src="a.png"></p><img alt="{NO_ALT_TEXT}" SRC="b.png"/>'
                         '<img alt="" src="c.png">'
                         '<script>var s = "<img src=x>";</script><style>/* <img> */</style><!-- <img src=y> -->'
                         f'<textarea><img src=z></textarea><img alt="{NO_ALT_TEXT}"\nsrc="d.png">')


def _compilations(monkeypatch) -> list[str]:
    """The names of the templates Jinja compiles from now on."""
    compiled: list[str] = []
    original = jinja2.Environment.compile

    def counted(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return original(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    return compiled


def test_when_the_warm_server_compiled_the_templates_then_a_writer_compiles_none(monkeypatch):
    warm_up(REPO_ROOT)
    compiled = _compilations(monkeypatch)
    notebook, resources = tiny_graded_notebook()
    html, _ = course_exporter(REPO_ROOT).from_notebook_node(notebook, resources=resources)
    assert "Titre" in html and "<h1" in html
    assert compiled == []


def test_when_a_template_changes_then_it_is_compiled_again_never_taken_from_memory(monkeypatch):
    compiled = _compilations(monkeypatch)
    pages = []
    for text in ("un", "deux", "deux"):
        environment = jinja2.Environment(loader=jinja2.DictLoader({"page.j2": text}),
                                         bytecode_cache=COMPILED_TEMPLATES)
        pages.append(environment.get_template("page.j2").render())
    assert pages == ["un", "deux", "deux"]
    assert compiled == ["page.j2", "page.j2"]  # the third one is the second's, kept
