"""Detours around closures: the turn check, the quickest path, the repair policy (pure)."""

from __future__ import annotations

from trafficai.core.detours import RouteRepairs, first_broken_step, quickest_path, repaired_route

# a ring a -> b -> c -> d -> a with a shortcut b -> d; e is a dead end reachable from c
GRAPH = {"a": {"b"}, "b": {"c", "d"}, "c": {"d", "e"}, "d": {"a"}, "e": set()}
COST = {"a": 10.0, "b": 10.0, "c": 10.0, "d": 30.0, "e": 5.0}.__getitem__


def test_only_steps_touching_a_closed_edge_are_checked() -> None:
    cut = {**GRAPH, "b": {"d"}}  # the turn b -> c is gone
    assert first_broken_step(("a", "b", "c", "d"), 0, cut, touched={"b"}) == 1
    assert first_broken_step(("a", "b", "c", "d"), 2, cut, touched={"b"}) is None  # already past it
    # an untouched step is trusted even if the graph lacks it (SUMO's own route, not our closure)
    assert first_broken_step(("x", "y"), 0, cut, touched={"b"}) is None


def test_quickest_path_takes_the_cheaper_way_and_knows_dead_ends() -> None:
    assert quickest_path(GRAPH, COST, "a", "d") == ("a", "b", "d")  # b + d = 40 beats b + c + d = 50
    assert quickest_path({**GRAPH, "b": {"c"}}, COST, "a", "d") == ("a", "b", "c", "d")
    assert quickest_path(GRAPH, COST, "e", "a") is None
    assert quickest_path(GRAPH, COST, "c", "c") == ("c",)


def test_a_cut_route_gets_a_detour_from_where_the_vehicle_is() -> None:
    cut = {**GRAPH, "b": {"d"}}
    new, reaches = repaired_route(("a", "b", "c", "e"), 0, 1, cut, COST)
    assert reaches is False and new == ("a", "b")  # e only through c: the trip ends at b's end
    new, reaches = repaired_route(("a", "b", "c", "d"), 0, 1, cut, COST)
    assert reaches and new == ("a", "b", "d")


def test_a_vehicle_inside_a_junction_keeps_the_edge_it_is_bound_for() -> None:
    cut = {"a": {"b"}, "b": {"c", "d"}, "c": {"e"}, "d": {"a"}, "e": {"a"}}  # c -> d gone
    cost = {"a": 10.0, "b": 10.0, "c": 10.0, "d": 30.0, "e": 50.0}.__getitem__
    route = ("b", "c", "d", "a")
    assert repaired_route(route, 0, 1, cut, cost) == (("b", "d", "a"), True)  # on b: the quick way
    assert repaired_route(route, 0, 1, cut, cost, committed=1) == (("b", "c", "e", "a"), True)
    no_way = {**cut, "e": set()}
    assert repaired_route(route, 0, 1, no_way, cost, committed=1) == (("b", "c"), False)


def test_repairs_add_up_and_describe_themselves() -> None:
    total = RouteRepairs(2, 1, 0) + RouteRepairs(1, 0, 1)
    assert total == RouteRepairs(3, 1, 1) and total - RouteRepairs(3, 1, 1) == RouteRepairs()
    assert not RouteRepairs() and bool(total)
    text = total.describe()
    assert "3 vehicle(s) rerouted" in text and "1 end their trip" in text and "teleport" in text
