"""Checks generated Logstash pipelines with tools that are not obsgen's.

  python3 check.py parse FILE...   parse each file with logstash-pipeline-parser;
                                   print each file's tree as JSON, one per line
  python3 check.py lines < CASES   match sample lines with pygrok (a real grok
                                   implementation) and parse their timestamps
                                   with the date filter's formats

Exit 1 on the first failure, with what failed on stderr.
"""

import datetime
import json
import re
import sys


def parse(files):
    from logstash_pipeline_parser import Pipeline

    for name in files:
        with open(name, encoding="utf-8") as handle:
            text = handle.read()
        try:
            tree = Pipeline(text).parse()
        except Exception as error:  # the parser raises its own ParseError
            print(f"{name}: {error}", file=sys.stderr)
            sys.exit(1)
        print(json.dumps(tree, default=str))


# Logstash's ECS (v8) patterns of the formats obsgen parses with grok, for
# pygrok, which ships only the legacy ones. Field names are ECS paths.
ECS = {
    "HTTPD_USER": r"%{EMAILADDRESS}|%{USER}",
    "HTTPD_COMMONLOG": (
        r"%{IPORHOST:[source][address]} (?:-|%{HTTPD_USER:[apache][access][user][identity]}) "
        r"(?:-|%{HTTPD_USER:[user][name]}) \[%{HTTPDATE:timestamp}\] "
        r'"(?:%{WORD:[http][request][method]} %{NOTSPACE:[url][original]}'
        r'(?: HTTP/%{NUMBER:[http][version]})?|%{DATA})" '
        r"(?:-|%{INT:[http][response][status_code]}) (?:-|%{INT:[http][response][body][bytes]})"
    ),
    "HTTPD_COMBINEDLOG": (
        r'%{HTTPD_COMMONLOG} "(?:-|%{DATA:[http][request][referrer]})" '
        r'"(?:-|%{DATA:[user_agent][original]})"'
    ),
    "SYSLOGPROG": r"%{PROG:[process][name]}(?:\[%{POSINT:[process][pid]}\])?",
    "SYSLOGBASE2": (
        r"(?:%{SYSLOGTIMESTAMP:timestamp}|%{TIMESTAMP_ISO8601:timestamp})"
        r"(?: %{SYSLOGFACILITY})?(?: %{SYSLOGHOST:[host][hostname]})?(?: %{SYSLOGPROG}:)?"
    ),
    "SYSLOGLINE": r"%{SYSLOGBASE2} %{GREEDYDATA:message}",
}

FIELD = re.compile(r"%\{(\w+):((?:\[[\w@.-]+\])+|[\w@.-]+)((?::\w+)?)\}")


def flat(name):
    """`[a][b]` -> `a__b`: pygrok accepts only \\w+ field names."""
    return name.replace("][", "__").strip("[]").replace(".", "_DOT_").replace("-", "_DASH_")


def unflat(name):
    return name.replace("__", ".").replace("_DOT_", ".").replace("_DASH_", "-")


def for_pygrok(pattern):
    # pygrok names each field once: a second capture of the same field (the
    # two timestamp forms of SYSLOGBASE2) gets a numbered name.
    seen = {}

    def rename(match):
        field = flat(match.group(2))
        seen[field] = seen.get(field, 0) + 1
        if seen[field] > 1:
            field = f"{field}_ALT{seen[field]}"
        return "%{" + match.group(1) + ":" + field + "}"

    return FIELD.sub(rename, pattern)


JODA = [
    ("yyyy", "%Y"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"), ("d", "%d"),
    ("HH", "%H"), ("mm", "%M"), ("ss", "%S"), ("SSS", "%f"), ("Z", "%z"),
]


def joda_to_strptime(joda):
    out, i = "", 0
    while i < len(joda):
        for token, directive in JODA:
            if joda.startswith(token, i):
                out += directive
                i += len(token)
                break
        else:
            out += joda[i]
            i += 1
    return out


def parse_time(value, formats):
    for fmt in formats:
        try:
            if fmt == "ISO8601":
                return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if fmt in ("UNIX", "UNIX_MS"):
                return datetime.datetime.fromtimestamp(
                    float(value) / (1000 if fmt == "UNIX_MS" else 1), datetime.timezone.utc)
            return datetime.datetime.strptime(value, joda_to_strptime(fmt))
        except ValueError:
            continue
    return None


LOGFMT = re.compile(r'(?P<key>[^\s=]+)=(?:"(?P<quoted>[^"]*)"|(?P<plain>\S*))')


def lines(cases):
    from pygrok import Grok

    for case in cases:
        label = case["name"]
        if case["kind"] == "grok":
            definitions = dict(ECS)
            definitions.update(case.get("definitions", {}))
            custom = {name: for_pygrok(value) for name, value in definitions.items()}
            grok = Grok(for_pygrok(case["pattern"]), custom_patterns=custom)
            found = grok.match(case["line"])
            if found is None:
                fail(label, f"the pattern does not match {case['line']!r}")
            fields = {}
            for key, value in found.items():
                if value is None:
                    continue
                key = re.sub(r"_ALT\d+$", "", key)
                fields[unflat(key)] = value
        else:  # logfmt, as the kv filter reads it
            fields = {}
            for match in LOGFMT.finditer(case["line"]):
                value = match.group("quoted")
                fields[match.group("key")] = value if value is not None else match.group("plain")
        for key, value in case["expect"].items():
            if fields.get(key) != value:
                fail(label, f"field {key}: expected {value!r}, got {fields.get(key)!r} (all: {fields})")
        stamp = fields.get(case["timestamp_field"])
        if stamp is None:
            fail(label, f"no timestamp field {case['timestamp_field']!r} in {fields}")
        if parse_time(stamp, case["timestamp_formats"]) is None:
            fail(label, f"{stamp!r} matches none of the date formats {case['timestamp_formats']}")
        print(f"{label}: ok {json.dumps(fields, sort_keys=True)}")


def fail(label, message):
    print(f"{label}: {message}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1] == "parse":
        parse(sys.argv[2:])
    elif sys.argv[1] == "lines":
        lines(json.load(sys.stdin))
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
