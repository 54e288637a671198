"""Shared page pieces that need no page: messages shown as written."""

import widgets


def test_plain_text_shows_markdown_characters_as_written_and_links_web_addresses_as_they_are():
    assert widgets.plain("flowers/*/my_photo.jpg") == "flowers/\\*/my\\_photo.jpg"
    message = "Could not download 'https://example.org/a_b/c_d.tgz' (no network). Or see https://x.org/e_f."
    assert widgets.plain(message) == ("Could not download '<https://example.org/a_b/c_d.tgz>' (no network). "
                                      "Or see <https://x.org/e_f>.")
    assert widgets.plain("(https://x.org/p_q)") == "(<https://x.org/p_q>)"


def test_a_gallery_shows_class_names_as_typed(tmp_path):
    from streamlit.testing.v1 import AppTest
    from make_images import jpeg
    photo = tmp_path / "a.jpg"
    photo.write_bytes(jpeg())

    def page(path):
        import widgets
        widgets.gallery_ui([(path, "*hot* cup → [pen](x) (85%)")])

    at = AppTest.from_function(page, args=(str(photo),)).run()
    assert not at.exception, at.exception
    (image,) = at.get("image")
    assert image.proto.imgs[0].caption == r"\*hot\* cup → \[pen\](x) (85%)", "not italic, not a link"


def test_a_list_of_typed_names_is_written_as_the_language_lists_and_each_name_as_typed():
    from hubdemo import i18n
    with i18n.speaking("en"):
        assert widgets.name_list(["*hot* cup", "pen", "a_b"]) == r"\*hot\* cup, pen, and a\_b"
    with i18n.speaking("zh_CN"):
        assert widgets.name_list(["雏菊", "*玫瑰*"]) == r"雏菊和\*玫瑰\*"


def test_a_gallery_shows_its_first_photos_and_says_how_many_there_are(tmp_path):
    from streamlit.testing.v1 import AppTest
    from make_images import jpeg
    photo = tmp_path / "a.jpg"
    photo.write_bytes(jpeg())

    def page(path, n):
        import widgets
        widgets.gallery_ui([(path, f"photo {i}") for i in range(n)])

    at = AppTest.from_function(page, args=(str(photo), 31)).run()
    assert len(at.get("image")) == widgets.GALLERY_AT_MOST == 30
    assert [c.value for c in at.caption] == ["The first 30 of 31."]
    at = AppTest.from_function(page, args=(str(photo), 30)).run()
    assert len(at.get("image")) == 30 and not at.caption, "all shown: nothing to say"
