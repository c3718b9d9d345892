#!/usr/bin/env python3
"""Generates portero.yaml(5) from docs/configuration.md, so the manual page and the reference are one text.

usage: packaging/man/portero-yaml.py [--date YYYY-MM-DD] [--version V] docs/configuration.md > portero.yaml.5

Every row of the "Keys" table becomes an entry with the key, its environment variable and flag (derived by the rule
the daemon uses: `a.b_c` is PORTERO_A_B_C and --a-b-c; secrets have no flag), its default, its values, what it does
and what a reload does with it. The other sections become prose. Exits 1 if the table is missing or malformed.
"""
import argparse
import re
import sys

SECRET_KEYS = {"jwt.secret"}


def environment_name(key):
    return "PORTERO_" + key.upper().replace(".", "_")


def flag_name(key):
    return "--" + key.replace(".", "-").replace("_", "-")


def roff_text(text):
    """Markdown inline text → roff: escapes first, then `code` and **bold** in bold, links as their text."""
    text = text.replace("\\", "\\e")
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"`([^`]*)`", lambda m: "\\fB" + m.group(1).replace("-", "\\-") + "\\fR", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", text)
    text = text.replace("…", "...").replace("—", "\\(em").replace("–", "\\(en").replace("≤", "<=")
    text = text.replace("→", "\\(->").replace("\u00a0", " ")
    return text


def line(text):
    """One roff text line; a line may not start with a control character."""
    text = roff_text(text)
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def sections(markdown):
    """{heading: [lines]} for the level-2 sections, plus the intro under the level-1 title."""
    result, current = {"": []}, ""
    for raw in markdown.splitlines():
        if raw.startswith("## "):
            current = raw[3:].strip()
            result[current] = []
        elif not raw.startswith("# "):
            result[current].append(raw)
    return result


def paragraphs(lines):
    """Markdown paragraphs, list items and tables → roff; tables become .TP entries of their first column."""
    out, buffer, table = [], [], []
    in_item = False

    def flush():
        if buffer:
            out.append(".PP")
            out.extend(line(text) for text in buffer)
            buffer.clear()
        if table:
            rows = [cells(row) for row in table if not re.match(r"^\|[\s|:-]+\|$", row)]
            header, body = rows[0], rows[1:]
            for row in body:
                out.append(".TP")
                out.append(line(row[0]))
                out.append(line("; ".join(f"{header[i]}: {row[i]}" for i in range(1, len(row)))))
            table.clear()

    for raw in lines:
        text = raw.strip()
        if text.startswith("|"):
            if buffer:
                flush()
            table.append(text)
            continue
        if table:
            flush()
        if not text:
            in_item = False
            flush()
        elif re.match(r"^(-|\d+\.) ", text):
            flush()
            out.append(".IP \\(bu 2" if text.startswith("-") else ".IP " + text.split(".")[0] + ". 4")
            buffer.append(re.sub(r"^(-|\d+\.) ", "", text))
            out.extend(line(t) for t in buffer)
            buffer.clear()
            in_item = True
        elif in_item and raw.startswith("  "):
            out.append(line(text))
        else:
            in_item = False
            buffer.append(text)
    flush()
    return out


def cells(row):
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def key_entries(lines):
    rows = [cells(row) for row in lines if row.startswith("|")]
    if len(rows) < 3 or [c.lower() for c in rows[0][:3]] != ["key", "default", "valid values"]:
        sys.exit("portero-yaml.py: no | key | default | valid values | … table under ## Keys")
    out, keys = [], []
    for row in rows[2:]:
        if len(row) != 5:
            sys.exit(f"portero-yaml.py: a row of the keys table has {len(row)} cells, not 5: {row}")
        key = row[0].strip("`")
        keys.append(key)
        flag = "no flag (a secret)" if key in SECRET_KEYS else f"flag `{flag_name(key)}`"
        out += [
            ".TP",
            f"\\fB{key}\\fR",
            line(f"Environment `{environment_name(key)}`; {flag}."),
            ".br",
            line(f"Default: {row[1]}."),
            ".br",
            line(f"Values: {row[2]}."),
            ".br",
            line(row[3][0].upper() + row[3][1:] + "."),
            ".br",
            line(f"On SIGHUP: {row[4]}."),
        ]
    trailing = [raw for raw in lines if raw.strip() and not raw.startswith("|")]
    return out, keys, trailing


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("markdown")
    parser.add_argument("--date", default="")
    parser.add_argument("--version", default="")
    arguments = parser.parse_args()
    with open(arguments.markdown, encoding="utf-8") as file:
        parts = sections(file.read())
    if "Keys" not in parts:
        sys.exit("portero-yaml.py: no ## Keys section")
    entries, keys, trailing = key_entries(parts["Keys"])
    source = f"portero {arguments.version}".strip()
    out = [
        f'.\\" Generated by packaging/man/portero-yaml.py from docs/configuration.md; edit that file, not this one.',
        f'.TH PORTERO.YAML 5 "{arguments.date}" "{source}" "File Formats Manual"',
        ".SH NAME",
        "portero.yaml \\- configuration of the portero authentication daemon",
        ".SH SYNOPSIS",
        "\\fI/etc/portero/portero.yaml\\fR",
        ".SH DESCRIPTION",
    ]
    out += paragraphs(parts[""])
    for heading in ["Sources", "Keys", "Reload (`SIGHUP`, `systemctl reload portero`)", "Secrets",
                    "Who runs it: defaults at a glance"]:
        if heading not in parts:
            sys.exit(f"portero-yaml.py: no ## {heading} section")
        out.append(".SH " + roff_text(heading).upper().replace("\\FB", "").replace("\\FR", ""))
        if heading == "Keys":
            out.append(".PP")
            out.append(f"Each of the {len(keys)} keys, with its environment variable, flag, default, values, meaning "
                       "and what a reload does with it.")
            out += entries
            out += paragraphs(trailing)
        else:
            out += paragraphs(parts[heading])
    out += [
        ".SH FILES",
        ".TP",
        "\\fI/etc/portero/portero.yaml\\fR",
        "The configuration file (a conffile of the package).",
        ".TP",
        "\\fI/etc/portero/jwt\\-secret\\fR",
        "The HS256 secret the packaged unit passes as the systemd credential \\fBjwt\\-secret\\fR.",
        ".TP",
        "\\fI/usr/share/doc/portero/README.md\\fR",
        "The manual: install, run, configure, integrate, operate, troubleshoot.",
        ".SH SEE ALSO",
        "\\fBportero\\fR(8), \\fBsystemd.exec\\fR(5), \\fBjournalctl\\fR(1)",
    ]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
