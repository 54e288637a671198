"""Desks: a reloaded page takes up its work again; nobody else's page can, and a left desk goes in the end."""

from hubdemo.desks import Desks


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_reload_sits_at_the_same_desk_once_the_old_page_has_gone():
    desks = Desks()
    first, resumed = desks.sit("page-1", None, connected={"page-1"})
    assert not resumed and len(first.name) >= 24, "a new desk, named long enough to be a key"
    first.state = {"runs": ["run 1"]}
    again, resumed = desks.sit("page-2", first.name, connected={"page-2"})  # page-1 was reloaded: gone.
    assert resumed and again is first and again.holder == "page-2" and again.state == {"runs": ["run 1"]}


def test_a_desk_in_use_is_never_shared():
    desks = Desks()
    first, _ = desks.sit("page-1", None, connected={"page-1"})
    copy, resumed = desks.sit("page-2", first.name, connected={"page-1", "page-2"})  # Same address, second tab.
    assert not resumed and copy.name != first.name and first.holder == "page-1"
    unknown, resumed = desks.sit("page-3", first.name, connected=None)  # Who is connected is not known.
    assert not resumed and unknown.name != first.name
    made_up, resumed = desks.sit("page-4", "0123456789abcdef01234567", connected={"page-4"})
    assert not resumed and made_up.name != "0123456789abcdef01234567", "a name is given, never chosen"


def test_a_desk_is_taken_up_only_from_the_network_address_it_was_used_from():
    desks = Desks()
    phone, _ = desks.sit("page-1", None, connected={"page-1"}, address="192.168.1.23")
    elsewhere, resumed = desks.sit("page-2", phone.name, connected={"page-2"}, address="192.168.1.40")
    assert not resumed and elsewhere.name != phone.name, "an address copied to another computer: a new desk"
    again, resumed = desks.sit("page-3", phone.name, connected={"page-2", "page-3"}, address="192.168.1.23")
    assert resumed and again is phone, "the phone's own reload"


def test_the_same_page_keeps_its_desk():
    desks = Desks()
    desk, _ = desks.sit("page-1", None, connected={"page-1"})
    assert desks.sit("page-1", desk.name, connected={"page-1"}) == (desk, False)


def test_a_left_desk_is_kept_for_a_while_then_let_go():
    clock = Clock()
    desks = Desks(keep_seconds=600, clock=clock)
    held, _ = desks.sit("page-1", None, connected={"page-1"})
    left, _ = desks.sit("page-2", None, connected={"page-1", "page-2"})
    assert desks.kept({"page-1", "page-2"}) == {held.name, left.name}
    clock.now += 10
    assert desks.kept({"page-1"}) == {held.name, left.name}, "page-2 has just gone: its desk waits"
    clock.now += 599
    assert desks.kept({"page-1"}) == {held.name, left.name}
    clock.now += 2
    assert desks.kept({"page-1"}) == {held.name}, "gone for longer than keep_seconds"
    assert desks.get(left.name) is None
    back, resumed = desks.sit("page-3", left.name, connected={"page-1", "page-3"})
    assert not resumed and back.name != left.name, "too late: a new desk"


def test_coming_back_in_time_resets_the_wait():
    clock = Clock()
    desks = Desks(keep_seconds=600, clock=clock)
    desk, _ = desks.sit("page-1", None, connected={"page-1"})
    desks.kept(set())
    clock.now += 500
    desks.sit("page-2", desk.name, connected={"page-2"})
    assert desks.kept({"page-2"}) == {desk.name}
    clock.now += 500
    assert desks.kept({"page-2"}) == {desk.name}, "held again: no clock running"


def test_no_more_than_max_left_desks_wait():
    clock = Clock()
    desks = Desks(max_left=2, clock=clock)
    names = []
    for number in range(4):
        names.append(desks.sit(f"page-{number}", None, connected={f"page-{number}"})[0].name)
        desks.kept({f"page-{number}"})
        clock.now += 1
    held, _ = desks.sit("page-9", None, connected={"page-9"})
    assert desks.kept({"page-9"}) == {names[2], names[3], held.name}, "the two left last, and the one held"


def test_a_restarted_server_gives_each_desk_back_to_its_own_page_with_its_settings(tmp_path):
    """The server stops (a crash, the laptop's battery): the desks, their files and settings wait for their pages."""
    store, clock, wall = tmp_path / "desks.json", Clock(), Clock()
    before = Desks(store=store, clock=clock, wall_clock=wall)
    phone, _ = before.sit("page-1", None, connected={"page-1"}, address="192.168.1.23")
    phone.state = {"kept_dataset_source": "Build your own", "kept_epochs": 5, "runs": object(),
                   "kept_model": object()}  # A run and a model live in memory only.
    before.save()
    closed, _ = before.sit("page-2", None, connected={"page-1", "page-2"})
    clock.now += 60
    before.kept(connected={"page-1"})  # page-2 closed a minute ago.
    wall.now += 20 * 60  # The server comes back 20 minutes later.

    after = Desks(store=store, clock=Clock(), wall_clock=wall)
    again, resumed = after.sit("page-9", phone.name, connected={"page-9"}, address="192.168.1.23")
    assert resumed and again.name == phone.name
    assert again.state == {"kept_dataset_source": "Build your own", "kept_epochs": 5}, "settings, not runs"
    other, resumed = after.sit("page-10", closed.name, connected={"page-9", "page-10"}, address="192.168.1.40")
    assert not resumed and other.name != closed.name, "still only from its own address"
    assert {phone.name, closed.name} <= after.kept(connected={"page-9", "page-10"})

    wall.now += 11 * 60  # The closed tab's desk has now waited its 30 minutes (before and after the restart).
    later = Desks(store=store, clock=Clock(), wall_clock=wall)
    assert later.get(closed.name) is None and later.get(phone.name) is not None


def test_a_damaged_desks_file_starts_empty_and_is_written_anew(tmp_path):
    store = tmp_path / "desks.json"
    for damaged in ("{not json", '{"a": 1}', '[{"name": "../../etc", "left_at": null}, 7]'):
        store.write_text(damaged)
        desks = Desks(store=store)
        assert desks.kept(connected=set()) == set()
    desk, _ = desks.sit("page-1", None, connected={"page-1"})
    assert [e["name"] for e in __import__("json").loads(store.read_text())] == [desk.name]
