#!/usr/bin/env python3
"""Validate retentiond rules files against the JSON Schema.

Usage:
  check-schema.py SCHEMA FILE_OR_DIR...
      Validate every *.yaml / *.yml file named, or found directly in a named
      directory (not recursively, like retentiond).  Prints one line per
      problem, `FILE: PATH.IN.DOC: message`, then `schema: N files valid`.
      Exit 0 if every file is valid, 1 if any is not, 2 on usage errors.

  check-schema.py SCHEMA --expect-invalid FILE...
      Self-check of the schema: exit 1 if any given file is VALID (or cannot
      be read as YAML, which would prove nothing about the schema).  A file
      may contain a comment line `# expect-error: TEXT`; then some error of
      that file must contain TEXT, so that each fixture is rejected for the
      reason it was written for.

Files are read as YAML 1.2 (core schema), as editors do: `yes`/`no`/`on`/`off`
are strings and dates stay strings; mapping keys are always strings.  The rules
language forbids anchors, aliases and tags and YAML forbids duplicate keys:
those are reported too.
"""

import argparse
import difflib
import json
import os
import re
import sys

try:
    import yaml
except ImportError:
    sys.exit("check-schema: cannot import PyYAML (`pip install pyyaml`)")
try:
    import jsonschema
except ImportError:
    sys.exit("check-schema: cannot import jsonschema (`pip install jsonschema`)")


# --------------------------------------------------------------------------
# YAML loading

class LoadError(Exception):
    def __init__(self, message, mark=None):
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        super().__init__(where + message)


class RulesLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars and the rules-language limits."""

    # Compose: no aliases, anchors or explicit tags.
    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise LoadError(f"alias *{event.anchor} is not allowed in a rules file", event.start_mark)
        if getattr(event, "anchor", None):
            raise LoadError(f"anchor &{event.anchor} is not allowed in a rules file", event.start_mark)
        if getattr(event, "tag", None) and not isinstance(event, yaml.DocumentStartEvent):
            raise LoadError(f"tag {event.tag} is not allowed in a rules file", event.start_mark)
        return super().compose_node(parent, index)

    # Construct: string keys, no duplicates, no `<<` merging.
    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep)
        result = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise LoadError("a mapping key must be a plain scalar", key_node.start_mark)
            key = key_node.value
            if key in result:
                raise LoadError(f"duplicate key '{key}'", key_node.start_mark)
            result[key] = self.construct_object(value_node, deep=deep)
        return result

    def construct_core_bool(self, node):
        return self.construct_scalar(node).lower() == "true"

    def construct_core_int(self, node):
        value = self.construct_scalar(node)
        if value.startswith(("0o", "0x")):
            return int(value, 0)
        return int(value, 10)


RulesLoader.add_constructor("tag:yaml.org,2002:bool", RulesLoader.construct_core_bool)
RulesLoader.add_constructor("tag:yaml.org,2002:int", RulesLoader.construct_core_int)

# Replace the YAML 1.1 implicit resolvers (yes/no/on/off booleans, sexagesimal
# and octal numbers, timestamps, `<<` merge keys, `=`) with the YAML 1.2 core ones.
RulesLoader.yaml_implicit_resolvers = {}
for tag, pattern, first in [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", list("-+.0123456789")),
]:
    RulesLoader.add_implicit_resolver(tag, re.compile(pattern), first)


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return yaml.load(text, Loader=RulesLoader), text
    except LoadError:
        raise
    except yaml.MarkedYAMLError as e:
        raise LoadError(e.problem or str(e), e.problem_mark) from None
    except yaml.YAMLError as e:
        raise LoadError(str(e)) from None


# --------------------------------------------------------------------------
# Validation and messages

def doc_path(parts):
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(root)"


class Checker:
    def __init__(self, schema):
        self.schema = schema
        self.validator = jsonschema.Draft202012Validator(schema)

    def resolve(self, node):
        """Follow a local `$ref` ('#/$defs/x')."""
        while isinstance(node, dict) and "$ref" in node:
            target = self.schema
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def schema_chain(self, schema_path):
        """The schema objects along an error's schema path, root first."""
        node, chain = self.schema, [self.schema]
        for part in schema_path:
            if isinstance(node, dict) and part not in node and "$ref" in node:
                node = self.resolve(node)  # jsonschema leaves `$ref` out of the path
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
            chain.append(node)
        return chain

    def messages(self, error, data):
        """(path, message) pairs for one jsonschema error in document `data`."""
        path = list(error.absolute_path)
        chain = self.schema_chain(list(error.relative_schema_path))

        # Unknown keys: one message per key, at the key, with a suggestion.
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = list(error.schema.get("properties", {}))
            extra = [k for k in error.instance if k not in known]
            out = []
            for key in extra:
                hint = difflib.get_close_matches(str(key), known, n=1)
                msg = f"unknown key '{key}'"
                msg += f" (did you mean '{hint[0]}'?)" if hint else f" (allowed: {', '.join(known)})"
                out.append((doc_path(path + [key]), msg))
            if out:
                return out

        # A property whose schema is `false` (a key forbidden by a condition).  The
        # explanation is on the branch holding `properties`.  jsonschema's fast path
        # for `false` leaves the key out of both paths, so find it in the document.
        if error.schema is False:
            if error.relative_schema_path[-1] != "properties":  # a jsonschema that keeps the key
                path, chain = path[:-1], chain[:-1]
            branch, props = chain[-2], chain[-1]
            reason = branch.get("errorMessage") if isinstance(branch, dict) else None
            parent = data
            for part in path:
                parent = parent[part]
            keys = [k for k, v in props.items() if v is False and k in parent and parent[k] == error.instance]
            return [(doc_path(path + [k]), f"'{k}' is not allowed here" + (f": {reason}" if reason else ""))
                    for k in keys]

        # Rule ids (propertyNames): report at the offending key.
        if "propertyNames" in error.relative_schema_path:
            message = error.schema.get("errorMessage") or error.message
            return [(doc_path(path + [error.instance]), f"bad rule id '{error.instance}': {message}")]

        if isinstance(error.schema, dict) and error.schema.get("errorMessage"):
            message = error.schema["errorMessage"]
            if error.validator != "required":
                message += f" (got {json.dumps(error.instance, default=str)})"
            return [(doc_path(path), message)]

        # Otherwise jsonschema's message, plus the rule of the enclosing allOf entry.
        message = error.message
        for i in range(len(chain) - 1, 1, -1):
            if isinstance(chain[i - 1], list) and isinstance(chain[i], dict) and chain[i].get("description"):
                message += f" ({chain[i]['description']})"
                break
        return [(doc_path(path), message)]

    def check(self, data):
        if data is None:
            return [("(root)", "the file is empty")]
        out = []
        for error in self.validator.iter_errors(data):
            out.extend(self.messages(error, data))
        return sorted(set(out))


# --------------------------------------------------------------------------
# Command line

def collect(paths):
    files, problems = [], []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(os.path.join(p, n) for n in os.listdir(p)
                           if n.endswith((".yaml", ".yml")) and os.path.isfile(os.path.join(p, n)))
            if not found:
                print(f"check-schema: warning: no *.yaml or *.yml files in {p}", file=sys.stderr)
            files.extend(found)
        elif os.path.isfile(p):
            files.append(p)
        else:
            problems.append(p)
    return files, problems


def main(argv):
    ap = argparse.ArgumentParser(
        prog="check-schema.py",
        description="Validate retentiond rules files against the JSON Schema.")
    ap.add_argument("schema", help="the JSON Schema (schema/rules.schema.json)")
    ap.add_argument("paths", nargs="+", metavar="FILE_OR_DIR", help="rules files or directories of them")
    ap.add_argument("--expect-invalid", action="store_true",
                    help="self-check: fail if any given file is valid")
    args = ap.parse_intermixed_args(argv)

    try:
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError) as e:
        print(f"check-schema: cannot read schema {args.schema}: {e}", file=sys.stderr)
        return 2
    except jsonschema.SchemaError as e:
        print(f"check-schema: {args.schema} is not a valid JSON Schema: {e.message}", file=sys.stderr)
        return 2

    files, missing = collect(args.paths)
    if missing:
        for p in missing:
            print(f"check-schema: no such file or directory: {p}", file=sys.stderr)
        return 2

    checker = Checker(schema)
    failed = 0
    for path in files:
        try:
            data, text = load_yaml(path)
            problems = checker.check(data)
            load_error = None
        except (LoadError, OSError, UnicodeDecodeError) as e:
            problems, load_error, text = [], e, ""

        if not args.expect_invalid:
            if load_error:
                print(f"{path}: (yaml): {load_error}")
                failed += 1
            for where, message in problems:
                print(f"{path}: {where}: {message}")
            failed += bool(problems)
            continue

        # --expect-invalid
        expected = re.findall(r"^#\s*expect-error:\s*(.+?)\s*$", text, re.M)
        lines = [f"{where}: {message}" for where, message in problems]
        if load_error:
            print(f"{path}: FAIL: not readable as a rules file ({load_error}); it does not test the schema")
            failed += 1
        elif not problems:
            print(f"{path}: FAIL: VALID, but expected to be rejected")
            failed += 1
        elif any(not any(e in line for line in lines) for e in expected):
            print(f"{path}: FAIL: rejected, but not for the expected reason ({'; '.join(expected)}):")
            for line in lines:
                print(f"    {line}")
            failed += 1
        else:
            print(f"{path}: rejected as expected:")
            for line in lines:
                print(f"    {line}")

    n = len(files)
    if args.expect_invalid:
        print(f"schema: {n - failed} of {n} invalid files rejected as expected")
    else:
        summary = f"schema: {n - failed} files valid"
        if failed:
            summary += f", {failed} invalid"
        print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
