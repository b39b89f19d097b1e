"""The guard around ipykernel's private comm routing (ollama_nb/_widgets/_kernel.py), in this process.

Real ipykernel comms (the class ``comm.create_comm()`` makes inside a kernel), with the version or
the private hook changed to simulate the releases this machine does not have. What the routing does
in a running kernel is tests/test_widget_subshells.py's job; ``./dev test`` runs both files against
the newest and the oldest supported ipykernel.
"""

from __future__ import annotations

import warnings

import comm as comm_package
import ipykernel
import pytest
from ipykernel.comm.comm import BaseComm

from ollama_nb import ChatWidget, ModelBrowser
from ollama_nb._widgets import _kernel
from ollama_nb._widgets._kernel import HOOK, KernelRoutingWarning, keep_view_messages_on_their_subshell, routing

INSTALLED = tuple(int(p) for p in ipykernel.__version__.split(".")[:2])


@pytest.fixture(autouse=True)
def fresh_warning(monkeypatch):
    """Each test starts as a new kernel process would: no warning given yet."""
    monkeypatch.setattr(_kernel, "_warned", False)


def as_version(monkeypatch, text: str) -> None:
    major, minor = (int(p) for p in text.split(".")[:2])
    monkeypatch.setattr(_kernel, "ipykernel_version", lambda: (text, (major, minor)))


def kernel_comm() -> BaseComm:
    return BaseComm(target_name="ollama-nb-test", primary=True)


def routing_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, KernelRoutingWarning)]


def test_the_installed_ipykernel_takes_the_path_its_version_needs():
    c = kernel_comm()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = keep_view_messages_on_their_subshell(c)
    assert routing_warnings(record) == []
    if INSTALLED >= (7, 4):
        # 7.4 would answer with the subshell the comm last sent from (here: the main shell, None)
        # instead of the view's; ours answers with the view's.
        assert result == "kept" and routing(c) == "kept"
        assert getattr(BaseComm, HOOK)(kernel_comm(), {"method": "custom"}, "subshell-of-the-view") == "subshell-of-the-view"
        c._reply_subshell_id = None  # what 7.4's publish_msg records for a send from the main shell
        assert getattr(BaseComm, HOOK)(c, {"method": "custom"}, "subshell-of-the-view") is None
        assert getattr(c, HOOK)({"method": "custom"}, "subshell-of-the-view") == "subshell-of-the-view"
    else:
        assert result == "by-header" and routing(c) == "by-header"
        assert not hasattr(c, HOOK)  # nothing to change: the kernel routes by the view's subshell id


def test_a_release_that_needs_the_hook_but_lacks_it_falls_back_with_one_warning(monkeypatch):
    """The simulated missing attribute: a 7.4+ kernel whose comms have no _reply_subshell_for."""
    as_version(monkeypatch, "7.4.0")
    if hasattr(BaseComm, HOOK):
        monkeypatch.delattr(BaseComm, HOOK)
    first, second = kernel_comm(), kernel_comm()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert keep_view_messages_on_their_subshell(first) == "fallback"
        assert keep_view_messages_on_their_subshell(second) == "fallback"
    messages = routing_warnings(record)
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"ipykernel 7.4.0 has no comm.{HOOK}()")
    assert "take effect only when that cell ends" in messages[0] and "interrupt button" in messages[0]
    assert HOOK not in vars(first) and HOOK not in vars(second)  # nothing was patched in


def test_a_hook_of_another_shape_is_left_alone(monkeypatch):
    as_version(monkeypatch, "7.5.0")

    class Changed(BaseComm):
        def _reply_subshell_for(self, data):  # one argument fewer than 7.4's (data, default)
            return "their choice"

    c = Changed(target_name="ollama-nb-test", primary=True)
    with pytest.warns(KernelRoutingWarning, match=r"ipykernel 7\.5\.0 changed comm\._reply_subshell_for\(\)"):
        assert keep_view_messages_on_their_subshell(c) == "fallback"
    assert c._reply_subshell_for({}) == "their choice"


def test_a_newer_major_release_is_left_to_its_own_routing(monkeypatch):
    as_version(monkeypatch, "8.0.0")
    c = kernel_comm()
    before = getattr(c, HOOK, None)
    with pytest.warns(KernelRoutingWarning, match=r"ipykernel 8\.0\.0 is newer than the 7\.x releases"):
        assert keep_view_messages_on_their_subshell(c) == "fallback"
    assert getattr(c, HOOK, None) == before


@pytest.mark.parametrize("version", ["7.1.0", "7.3.0", "6.29.5"])
def test_releases_before_the_hook_route_by_the_views_subshell_id_themselves(monkeypatch, version):
    as_version(monkeypatch, version)
    if hasattr(BaseComm, HOOK):
        monkeypatch.delattr(BaseComm, HOOK)
    c = kernel_comm()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert keep_view_messages_on_their_subshell(c) == "by-header"
    assert routing_warnings(record) == [] and HOOK not in vars(c)


def test_what_is_not_an_ipykernel_comm_is_not_touched():
    class Lookalike:
        def _reply_subshell_for(self, data, default):
            return "theirs"

    dummy = comm_package.create_comm(target_name="x")  # outside a kernel: comm's DummyComm
    lookalike = Lookalike()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for thing in (None, dummy, lookalike):
            assert keep_view_messages_on_their_subshell(thing) == "no-kernel"
    assert routing_warnings(record) == []
    assert lookalike._reply_subshell_for({}, "view") == "theirs"


def test_both_widgets_apply_it_to_every_comm_they_get(client):
    expected = "kept" if INSTALLED >= (7, 4) else "by-header"
    chat, browser = ChatWidget(client=client, model="llama3.2"), ModelBrowser(client=client)
    try:
        for widget in (chat, browser):
            assert routing(widget.comm) == "no-kernel"  # outside a kernel: comm's DummyComm
            widget.comm = kernel_comm()  # as in a kernel (and again if ipywidgets re-opens it)
            assert routing(widget.comm) == expected
    finally:
        chat.close()
        browser.close()
