"""The extraction bench's reading of real pages, on small synthetic pages: what a page shows."""

from __future__ import annotations

from bench.extraction_data import page_text


def test_page_text_leaves_out_the_head_and_every_script_of_the_body() -> None:
    # A head with a script of its own, then scripts in the body: dropping elements while lxml
    # walked the tree left the body's scripts in, and a lead held only in their JSON was "shown".
    html = (
        "<html><head><title>Page</title><script>var tracking = 1</script>"
        "<meta name='description' content='Only in the head'></head>"
        '<body><script>var ads = 2</script><script>{"lead":"Only in a script"}</script>'
        "<p>Visible story.</p><noscript>Enable JavaScript</noscript><p>More story.</p></body></html>"
    )
    text = page_text(html)
    assert "Visible story." in text and "More story." in text
    for hidden in ("tracking", "ads", "Only in a script", "Only in the head", "Enable JavaScript"):
        assert hidden not in text


def test_page_text_of_what_is_no_document_is_empty() -> None:
    assert page_text("") == ""
