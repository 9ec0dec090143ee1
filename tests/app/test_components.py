"""The shared registration of ConvLab's browser components: each reads its code beside its module."""

from app import components


def test_register_reads_the_js_and_css_beside_the_module(monkeypatch, tmp_path):
    (tmp_path / "widget.js").write_text("export default function () {}", encoding="utf-8")
    (tmp_path / "widget.css").write_text(".w { color: red }", encoding="utf-8")
    seen = {}
    monkeypatch.setattr(components.st.components.v2, "component", lambda name, **kw: seen.update(name=name, **kw))
    components.register("convlab_widget", str(tmp_path / "widget.py"), "widget")
    assert seen == {
        "name": "convlab_widget",
        "js": "export default function () {}",
        "css": ".w { color: red }",
        "isolate_styles": False,
    }
    components.register("convlab_hidden", str(tmp_path / "widget.py"), "widget", css=".h { display: none }")
    assert seen["css"] == ".h { display: none }"  # no stylesheet file needed
