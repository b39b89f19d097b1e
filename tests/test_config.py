"""Host parsing (the official client's table, minus its two traps) and settings."""

from __future__ import annotations

import pytest

from ollama_nb._config import Settings
from ollama_nb._hosts import cloud_model_name, is_cloud, is_loopback, parse_host


@pytest.mark.parametrize(
    "text,url",
    [
        (None, "http://127.0.0.1:11434"),
        ("", "http://127.0.0.1:11434"),
        ("1.2.3.4", "http://1.2.3.4:11434"),
        ("example.com", "http://example.com:11434"),
        (":56789", "http://127.0.0.1:56789"),
        ("example.com:56789", "http://example.com:56789"),
        ("http://example.com", "http://example.com"),
        ("https://example.com", "https://example.com"),
        ("https://example.com:56789/path/", "https://example.com:56789/path"),
        ("[::1]", "http://[::1]:11434"),
        ("[::1]:8080", "http://[::1]:8080"),
        ("https://[::1]", "https://[::1]"),
        # our two fixes: a bind address means this machine, ollama.com means the cloud over https
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("::", "http://[::1]:11434"),
        ("ollama.com", "https://ollama.com"),
        ("https://ollama.com", "https://ollama.com"),
        # the seed's base URLs end in /api
        ("http://localhost:11434/api", "http://localhost:11434"),
        ("https://ollama.com/api/", "https://ollama.com"),
        ("HTTP://Example.COM:8080", "http://example.com:8080"),
    ],
)
def test_parse_host(text, url):
    assert parse_host(text) == url


def test_parse_host_rejects_other_schemes():
    with pytest.raises(ValueError, match="http"):
        parse_host("ftp://example.com")


@pytest.mark.parametrize("url,loop", [
    ("http://127.0.0.1:11434", True), ("http://localhost:1", True), ("http://[::1]:1", True),
    ("http://127.8.9.1:1", True), ("http://10.0.0.1:1", False), ("https://ollama.com", False),
])
def test_is_loopback(url, loop):
    assert is_loopback(url) is loop


def test_cloud_names():
    assert is_cloud("https://ollama.com") and not is_cloud("http://127.0.0.1:11434")
    assert cloud_model_name("gpt-oss:120b-cloud") == "gpt-oss:120b"
    assert cloud_model_name("gemma4:cloud") == "gemma4"
    assert cloud_model_name("llama3.2") == "llama3.2"


def test_settings_never_show_the_key(monkeypatch):
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    s = Settings(api_key="sk-abc")
    assert "sk-abc" not in repr(s) and s.key_source() == "set (by %ollama config)"
    assert Settings().key_source() == "not set"
    monkeypatch.setenv("OLLAMA_NB_MODEL", "qwen3")
    assert Settings().resolved_model() == "qwen3" and Settings(model="x").resolved_model() == "x"
