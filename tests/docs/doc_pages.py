"""Reading the vendor doc pages (fixtures/seeds/): their curl blocks, the JSON samples after
a "Sample Response" heading, seed 003's numbered Python sample, and the request a Python SDK
sample makes. Only the shapes the five pages use: the doc-example tests check that each
example stored in fixtures/doc-examples/ is the pages' own text."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

CURL_BLOCK = re.compile(
    r"curl --location (?:--request (?P<method>[A-Z]+) )?'https://api\.segmind\.com(?P<path>[^']+)'"
    r"(?P<rest>.*?)(?=\n\s*\n|\nSample Response|\n```)",
    re.S,
)


def curl_blocks(seed: str) -> list[dict[str, Any]]:
    """Each curl block of a page as (method, path, headers, content type, body or form)."""
    blocks = []
    for match in CURL_BLOCK.finditer(seed):
        rest = match["rest"]
        headers = dict(re.findall(r"--header '([^:']+): ([^']*)'", rest))
        form = dict(re.findall(r"--form '([^=']+)=\"([^\"]*)\"'", rest))
        body = None
        if "--data '" in rest:  # up to the block's last quote: the Kontext body holds "woman's"
            body = rest[rest.index("--data '") + len("--data '") : rest.rindex("'")]
        if form:
            content_type = "multipart/form-data"
        elif body is not None:
            content_type = headers.get("Content-Type", "application/x-www-form-urlencoded")
        else:
            content_type = None
        method = match["method"] or ("POST" if form or body is not None else "GET")
        blocks.append(
            {
                "method": method,
                "path": match["path"],
                "headers": headers,
                "content_type": content_type,
                "body_text": body,
                "form": form or None,
            }
        )
    return blocks


def json_samples(seed: str) -> list[Any]:
    """Every JSON value right after a 'Sample Response' (or 'application/json') heading."""
    samples = []
    decoder = json.JSONDecoder()
    for match in re.finditer(r"(?:Sample Response|application/json)\s*(?:```)?\s*", seed):
        start = match.end()
        if start < len(seed) and seed[start] in "[{":
            try:
                samples.append(decoder.raw_decode(seed[start:])[0])
            except ValueError:
                continue
    return samples


def python_sample_lines(seed: str) -> dict[int, str]:
    """The seed-003 Python sample by line number (the page glues its gutter to each line)."""
    region = seed.split("submit + poll\n", 1)[1].split("\nAPI Endpoint", 1)[0]
    numbered = (re.match(r"^ ?(\d{1,2})(.*)$", line) for line in region.splitlines())
    return {int(m[1]): m[2] for m in numbered if m}


def sdk_request(code: str) -> tuple[str, dict[str, Any]]:
    """(slug, JSON body) of the one `segmind.run` / `submit_async` call in a code sample."""
    tree = ast.parse(code)
    assigned = {
        target.id: ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value, ast.Dict)
    }
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"run", "submit_async"}
    ]
    assert len(calls) == 1, "one SDK call per example"
    slug = ast.literal_eval(calls[0].args[0])
    body: dict[str, Any] = {}
    for keyword in calls[0].keywords:
        if keyword.arg is None:  # **payload
            assert isinstance(keyword.value, ast.Name)
            body.update(assigned[keyword.value.id])
        else:
            body[keyword.arg] = ast.literal_eval(keyword.value)
    return slug, body
