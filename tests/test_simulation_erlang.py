"""Erlang C against textbook values and the closed forms of M/M/1 and M/M/2."""

from __future__ import annotations

import math

import pytest

from hub.simulation.erlang import (
    mean_wait_minutes,
    offered_load,
    p_wait,
    p_wait_longer,
    servers_needed,
    wait_quantile_minutes,
)


def direct_c(servers: int, load: float) -> float:
    """The textbook formula with factorials, to check the recursion against."""
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    return top / (sum(load**k / math.factorial(k) for k in range(servers)) + top)


def test_three_servers_two_erlangs_is_four_ninths() -> None:
    # The classic worked example (and Wolfram's ErlangC[3, 2]): M/M/3 at ρ = 2/3.
    assert p_wait(3, 2.0) == pytest.approx(4 / 9)


def test_shop_with_ten_assistants_waits_one_time_in_ten() -> None:
    # 120 customers an hour, 3 minutes each, 10 assistants: a = 6 erlangs, "from the Erlang C
    # curve the probability of waiting is about 0.10".
    assert offered_load(120, 3) == pytest.approx(6)
    assert p_wait(10, 6.0) == pytest.approx(0.1013, abs=5e-4)


def test_support_centre_needs_six_for_ninety_per_cent_undelayed() -> None:
    # 30 calls an hour, 5 minutes each (a = 2.5): the fewest staff with P(delay) ≤ 0.1 is 6
    # (C = 0.130 with 5, 0.047 with 6). A wait quantile of 0 at q = 0.9 is that condition.
    assert p_wait(5, 2.5) == pytest.approx(0.1304, abs=5e-4)
    assert p_wait(6, 2.5) == pytest.approx(0.0474, abs=5e-4)
    assert servers_needed(30, 5, target_minutes=0.0) == 6


def test_published_table_row_for_ten_erlangs() -> None:
    for servers, c in [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)]:
        assert p_wait(servers, 10.0) == pytest.approx(c, abs=5e-5)


@pytest.mark.parametrize(("servers", "load"), [(1, 0.5), (4, 3.2), (30, 27.5), (80, 70.0)])
def test_recursion_equals_the_factorial_formula(servers: int, load: float) -> None:
    assert p_wait(servers, load) == pytest.approx(direct_c(servers, load), rel=1e-9)


def test_mm1_closed_form() -> None:
    # λ = 6/h, 8 minutes each: ρ = 0.8, P(wait) = ρ, W_q = ρ/(μ−λ) = 0.8/(7.5−6)/h = 32 min.
    assert p_wait(1, 0.8) == pytest.approx(0.8)
    assert mean_wait_minutes(1, 6, 8) == pytest.approx(32.0)
    # P(W > t) = ρ e^{−(μ−λ)t}; p90 = ln(ρ/0.1)/(μ−λ) = ln 8 / 0.025 per minute.
    assert p_wait_longer(1, 6, 8, 10) == pytest.approx(0.8 * math.exp(-0.025 * 10))
    assert wait_quantile_minutes(1, 6, 8) == pytest.approx(math.log(8) / 0.025)


def test_mm2_closed_form() -> None:
    # M/M/2 with ρ = λ/(2μ): C = 2ρ²/(1+ρ). Two lines, 150 packets/s of 10 ms: ρ = 0.75.
    assert p_wait(2, 1.5) == pytest.approx(2 * 0.75**2 / 1.75)


def test_quantile_is_the_inverse_of_the_tail() -> None:
    t = wait_quantile_minutes(3, 30, 5, 0.9)
    assert p_wait_longer(3, 30, 5, t) == pytest.approx(0.1)
    assert servers_needed(30, 5, target_minutes=t) == 3
    assert servers_needed(30, 5, target_minutes=t - 0.01) == 4


def test_unstable_empty_and_bad_inputs() -> None:
    assert p_wait(2, 2.0) == 1.0
    assert mean_wait_minutes(2, 24, 5) == math.inf
    assert wait_quantile_minutes(2, 24, 5) == math.inf
    assert p_wait_longer(2, 24, 5, 100) == 1.0
    assert servers_needed(0, 5, 20) == 0
    assert wait_quantile_minutes(1, 0, 5) == 0.0
    with pytest.raises(ValueError):
        wait_quantile_minutes(1, 1, 5, q=1.0)
    with pytest.raises(ValueError):
        servers_needed(1e9, 5, 20)
