"""刷身份证取号's pure rules (hub/engine/persons.py): the GB 11643 check character, the birth
date and the age, the one masking function, and the per-person issue rules in the engine."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.engine import DomainError
from hub.engine.model import Channel, TicketStatus, public_fields
from hub.engine.persons import (
    Identified,
    IdentityRefused,
    age_on,
    birth_from_number,
    mask_name,
    valid_id_number,
)

from .engine_helpers import BASE_CONFIG, NOW, TODAY, Hall, hall_config, replay

# GB 11643-1999's own example, and numbers made with its check character (not real people).
GOOD = ["11010519491231002X", "440524188001010014"]


def with_check(first17: str) -> str:
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


@pytest.mark.parametrize("number", GOOD)
def test_numbers_with_their_check_character_are_valid(number):
    assert valid_id_number(number)
    assert valid_id_number(number.lower())  # an x typed in lower case


@pytest.mark.parametrize("number", [
    "110105194912310021",  # the example with a wrong check character
    "11010519491231002",  # 17
    "11010519491231002XX",  # 19
    "1101051949123100２X",  # a full-width digit
    "11010519491331002X",  # month 13 (check character made right below)
    "",
    "ABCDEFGHIJKLMNOPQR",
])
def test_wrong_numbers_are_refused(number):
    assert not valid_id_number(number)


def test_a_right_check_character_does_not_make_a_false_birth_date_valid():
    assert not valid_id_number(with_check("11010519491331002"))
    assert not valid_id_number(with_check("11010520230229002"))  # 2023 had no 29 February
    assert valid_id_number(with_check("11010520240229002"))


def test_birth_date_and_age():
    assert birth_from_number("11010519491231002X") == dt.date(1949, 12, 31)
    assert birth_from_number("110105194913310021") is None
    born = dt.date(1961, 11, 24)
    assert age_on(born, dt.date(2026, 11, 23)) == 64
    assert age_on(born, dt.date(2026, 11, 24)) == 65
    leap = dt.date(1960, 2, 29)
    assert age_on(leap, dt.date(2025, 2, 28)) == 64
    assert age_on(leap, dt.date(2025, 3, 1)) == 65


@pytest.mark.parametrize(("name", "masked"), [
    ("欧阳修", "欧阳*"), ("诸葛亮", "诸葛*"), ("司马相如", "司马**"), ("张三", "张*"),
    ("王", "*"), ("李小龙", "李**"), ("上官婉儿", "上官**"), ("欧阳", "*"),
    ("令狐冲", "令狐*"), ("阿依古丽·买买提", "阿*******"), (" 张 三 ", "张*"), ("", ""),
])
def test_mask_name_keeps_the_surname_only(name, masked):
    assert mask_name(name) == masked


def test_a_masked_name_never_holds_a_character_of_the_given_name():
    for name in ("欧阳修", "司马相如", "张三丰", "慕容复"):
        kept = mask_name(name).rstrip("*")
        assert not set(name[len(kept):]) & set(mask_name(name))


# --- the issue rules in the engine -------------------------------------------------------


def person(p: str = "p1", elderly: bool = False) -> Identified:
    return Identified(persons=(p,), elderly=elderly)


def test_one_open_ticket_per_person_per_item_then_again_once_it_is_finished():
    hall = Hall()
    first = hall.issue("biz_change", identity=person())
    assert first.identified and first.person == "p1"
    with pytest.raises(IdentityRefused) as refused:
        hall.issue("biz_change", identity=person())
    assert refused.value.code == "identity_open_ticket"
    assert hall.issue("social", identity=person()).identified  # another item: fine
    assert not hall.issue("biz_change").identified  # anyone without a card: fine
    hall.staff(2)
    assert hall.call(2).ticket_id == first.ticket_id
    hall.do("finish", 2)
    assert hall.issue("biz_change", identity=person()).person == "p1"


def test_the_daily_cap_counts_every_item_and_says_the_next_working_day():
    hall = Hall(hall_config(identity={"per_day": 2}),
                now=dt.datetime(2026, 11, 25, 10, 0, tzinfo=NOW.tzinfo))  # Wednesday
    hall.issue("biz_change", identity=person())
    hall.issue("social", identity=person())
    with pytest.raises(IdentityRefused) as refused:
        hall.issue("permit", identity=person())
    err = refused.value
    assert err.code == "identity_daily_cap"
    assert err.return_on == dt.date(2026, 11, 27)  # Thursday 26 is a holiday
    assert err.retry_after_s == 14 * 3600
    assert "p1" not in err.message and "2026-11-27" in err.message
    assert hall.issue("permit", identity=person("p2")).identified  # someone else


def test_a_previous_key_pseudonym_counts_for_the_same_person():
    hall = Hall()
    hall.issue("biz_change", identity=person("old"))
    with pytest.raises(IdentityRefused):
        hall.issue("biz_change", identity=Identified(persons=("new", "old")))


def test_an_elderly_card_gets_an_elderly_priority_ticket_that_counts_against_the_quota():
    hall = Hall()
    for _ in range(2):
        hall.issue("id_card")
    old = hall.issue("id_card", identity=person(elderly=True))
    assert (old.channel, old.priority) == (Channel.ELDERLY, True)
    assert hall.state.issued["id_card"] == 3
    with pytest.raises(DomainError) as refused:
        hall.issue("id_card", identity=person("p9", elderly=True))
    assert refused.value.code == "quota_exhausted"
    hall.staff(3)
    assert hall.call(3).ticket_id == old.ticket_id  # ahead of the two normal ones


def test_elderly_tickets_are_held_to_the_fairness_ratio():
    hall = Hall()  # fairness ratio 2
    normal = hall.issue("biz_change")
    for i in range(3):
        hall.issue("biz_change", identity=person(f"e{i}", elderly=True))
    hall.staff(2)
    calls = []
    for _ in range(4):
        called = hall.call(2)
        calls.append(hall.ticket(called.ticket_id).channel)
        hall.do("finish", 2)
    assert calls == [Channel.ELDERLY, Channel.ELDERLY, Channel.NORMAL, Channel.ELDERLY]
    assert hall.ticket(normal.ticket_id).status is TicketStatus.DONE


def test_id_required_never_optional_required():
    cfg = hall_config()
    raw_services = [{**s, "id_required": r} for s, r in zip(
        BASE_CONFIG["services"], ["required", "never", "optional", "optional", "optional"],
        strict=True)]
    hall = Hall(hall_config(services=raw_services))
    assert cfg.service("biz_reg").id_required == "optional"
    with pytest.raises(DomainError) as refused:
        hall.issue("biz_reg")
    assert refused.value.code == "identity_required"
    assert hall.issue("biz_reg", identity=person()).identified
    ignored = hall.issue("biz_change", identity=person(elderly=True))
    assert not ignored.identified and ignored.person is None and ignored.channel is Channel.NORMAL
    hall.do("grant_green_pass", "G1", "重点项目", "office")
    assert hall.issue("biz_reg", channel=Channel.GREEN, reference="G1").channel is Channel.GREEN


def test_the_person_index_is_rebuilt_by_replay_and_emptied_by_the_day_s_end():
    hall = Hall()
    hall.issue("biz_change", identity=person())
    hall.issue("social", identity=person())
    again = replay(hall.cfg, hall.start, hall.events)
    assert again.persons == hall.state.persons == {"p1": list(hall.state.tickets)}
    assert all(t.identified for t in again.tickets.values())
    hall.now = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(10), NOW.tzinfo)
    hall.do("rollover")
    assert hall.state.persons == {}
    assert hall.issue("biz_change", identity=person()).identified


def test_the_public_event_says_identified_and_never_the_person():
    hall = Hall()
    event = hall.issue("biz_change", identity=person())
    data = public_fields(event)
    assert data["identified"] is True and "person" not in data
    assert "identified" not in public_fields(hall.issue("biz_reg"))  # omitted when false

