"""JUnit XML, the test report every CI system reads.

One `<testsuite>` per spec (or per comparison), one `<testcase>` per scenario
(or per property); an unmet expectation is a `<failure>` with the
counterexample as its text, a search cut short is an `<error>`: neither
counts as a pass.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from checker.textsafe import xml_text


@dataclass
class Case:
    name: str
    classname: str
    time: float = 0.0
    failure: tuple[str, str, str] | None = None  # (type, message, text)
    error: tuple[str, str, str] | None = None
    skipped: str | None = None
    output: str = ""


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)


def junit_xml(suites: list[Suite]) -> str:
    """The report; spec text (names, messages, traces) passes through
    `xml_text`, so control characters cannot make the XML ill-formed."""
    x = xml_text
    root = ET.Element("testsuites", name="migcheck")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for s in suites:
        el = ET.SubElement(root, "testsuite", name=x(s.name))
        counts = {"tests": len(s.cases),
                  "failures": sum(c.failure is not None for c in s.cases),
                  "errors": sum(c.error is not None for c in s.cases),
                  "skipped": sum(c.skipped is not None for c in s.cases)}
        for k, v in counts.items():
            el.set(k, str(v))
            totals[k] += v
        el.set("time", f"{sum(c.time for c in s.cases):.3f}")
        for c in s.cases:
            ce = ET.SubElement(el, "testcase", name=x(c.name), classname=x(c.classname),
                               time=f"{c.time:.3f}")
            for tag, what in (("failure", c.failure), ("error", c.error)):
                if what is not None:
                    kind, message, text = what
                    sub = ET.SubElement(ce, tag, type=x(kind), message=x(message))
                    sub.text = x(text)
            if c.skipped is not None:
                ET.SubElement(ce, "skipped", message=x(c.skipped))
            if c.output:
                ET.SubElement(ce, "system-out").text = x(c.output)
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
