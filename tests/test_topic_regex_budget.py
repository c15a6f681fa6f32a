"""Topic regexes run under the operators' CPU budget: a busy machine never drops a topic."""

from __future__ import annotations

import logging

from bot.text.classify import classify, taxonomy_from_dict

# Polynomial backtracking without nested quantifiers (the config's vetting lets it through):
# on a long run of dashes with no "-x" it needs seconds of CPU.
SLOW_RULE = r"alarm.*-.*-.*-x"
SLOW_TEXT = "alarm " + "-" * 12_000 + " x"


class _KeptWaiting:
    """A compiled pattern whose first match times out without computing, as a descheduled thread's."""

    def __init__(self, compiled) -> None:
        self.compiled, self.timeouts = compiled, 0

    def finditer(self, text: str, *, timeout: float):
        if not self.timeouts:
            self.timeouts += 1
            raise TimeoutError("regex timed out")
        return self.compiled.finditer(text, timeout=timeout)


def _taxonomy(pattern: str):
    """Return a taxonomy of one topic decided by one regex."""
    return taxonomy_from_dict(
        {"topics": {"alerts": {"label": "Alerts", "regex": [pattern], "threshold": 1}}},
        path="test",
    )


def test_a_regex_kept_waiting_for_the_cpu_still_counts() -> None:
    taxonomy = _taxonomy(r"air[- ]raid alarms?")
    [topic] = taxonomy.topics
    [rule] = topic.rules
    waiting = _KeptWaiting(rule.compiled)
    object.__setattr__(rule, "built", waiting)  # what `compiled` returns
    found = classify(title="Air raid alarm in the capital", body="", taxonomy=taxonomy)
    assert waiting.timeouts == 1
    assert [m.topic for m in found] == ["alerts"]


def test_a_regex_that_burns_its_cpu_budget_counts_nothing_and_says_so(caplog) -> None:
    taxonomy = _taxonomy(SLOW_RULE)
    with caplog.at_level(logging.WARNING, logger="bot.text.classify"):
        found = classify(title="", body=SLOW_TEXT, taxonomy=taxonomy)
    assert found == ()
    [record] = caplog.records
    assert "topic regex" in record.getMessage() and "took over 0.05s" in record.getMessage()
