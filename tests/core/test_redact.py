"""harness.core.redact: secrets are masked line by line; leaks() reports what got through."""

from __future__ import annotations

from harness.core.redact import MASK, MIN_LEN, leaks, redact, secret_fragments

SSH_KEY = """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDx0jvbcRvD2HXLL6mYhNTAKbPq1+Zl1yNm0b3q0hX2xAAAAJjS6Gc00uhn
NAAAAAtzc2gtZWQyNTUxOQAAACDx0jvbcRvD2HXLL6mYhNTAKbPq1+Zl1yNm0b3q0hX2xA
-----END OPENSSH PRIVATE KEY-----
"""
KEY_LINES = [line for line in SSH_KEY.splitlines() if line]


def test_whole_multiline_secret_is_masked() -> None:
    text = f"deploy key:\n{SSH_KEY}done"
    masked = redact(text, [SSH_KEY])
    for line in KEY_LINES:
        assert line not in masked
    assert masked.startswith("deploy key:\n")
    assert masked.endswith("done")
    assert leaks(masked, [SSH_KEY]) == []


def test_each_line_of_a_multiline_secret_is_masked_on_its_own() -> None:
    # A log that re-wraps the key, or prints one line with a prefix, must not reveal any line.
    text = "\n".join(f"##[debug] {line} (line {i})" for i, line in enumerate(KEY_LINES))
    masked = redact(text, [SSH_KEY])
    for line in KEY_LINES:
        assert line not in masked
    assert masked.count(MASK) == len(KEY_LINES)
    assert "##[debug]" in masked
    assert "(line 2)" in masked


def test_short_fragments_are_left_alone() -> None:
    secret = "ab\nxyz\nlong-secret-line"
    text = "ab xyz long-secret-line tab"
    masked = redact(text, [secret])
    assert masked == f"ab xyz {MASK} tab"
    assert all(len(f) >= MIN_LEN for f in secret_fragments([secret]))
    assert "ab" not in secret_fragments([secret])
    assert "xyz" not in secret_fragments([secret])


def test_exactly_min_len_is_masked() -> None:
    assert redact("pin=abcd;", ["abcd"]) == f"pin={MASK};"
    assert redact("pin=abc;", ["abc"]) == "pin=abc;"


def test_longest_fragment_wins() -> None:
    masked = redact("token=abcdefgh", ["abcd", "abcdefgh"])
    assert masked == f"token={MASK}"


def test_surrounding_whitespace_of_lines_is_ignored() -> None:
    masked = redact("value: hunter22 end", ["   hunter22   \n"])
    assert masked == f"value: {MASK} end"


def test_no_secrets_leaves_text_unchanged() -> None:
    assert redact("nothing to hide", []) == "nothing to hide"
    assert leaks("nothing to hide", []) == []


def test_leaks_reports_fragments_found() -> None:
    text = f"log line with {KEY_LINES[1]} and more"
    found = leaks(text, [SSH_KEY])
    assert len(found) == 1
    assert KEY_LINES[1][:4] not in found[0]
    assert f"({len(KEY_LINES[1])} chars)" in found[0]
    assert KEY_LINES[1] not in found[0]


def test_leaks_reports_every_leaked_fragment() -> None:
    text = f"{KEY_LINES[0]}\n{KEY_LINES[2]}\n"
    found = leaks(text, [SSH_KEY])
    assert len(found) == 2
    assert leaks("clean", [SSH_KEY]) == []


def test_leak_report_does_not_itself_reveal_a_short_secret() -> None:
    # A leak report ends up in test output and reports; it must not contain the whole fragment.
    found = leaks("password=s3cr3t", ["s3cr3t"])
    assert len(found) == 1
    assert "s3cr3t" not in found[0]
