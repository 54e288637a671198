"""Shared page pieces that need no page: messages shown as written."""

import widgets


def test_plain_text_shows_markdown_characters_as_written_and_links_web_addresses_as_they_are():
    assert widgets.plain("flowers/*/my_photo.jpg") == "flowers/\\*/my\\_photo.jpg"
    message = "Could not download 'https://example.org/a_b/c_d.tgz' (no network). Or see https://x.org/e_f."
    assert widgets.plain(message) == ("Could not download '<https://example.org/a_b/c_d.tgz>' (no network). "
                                      "Or see <https://x.org/e_f>.")
    assert widgets.plain("(https://x.org/p_q)") == "(<https://x.org/p_q>)"
